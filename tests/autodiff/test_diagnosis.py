"""explain(..., claimed=x): a hand-worked number checked, its likely mistake named.

Every expected number is worked out here by hand (closed forms with math), never read
from the diagnosis itself.
"""

import html
import math
import time

import pytest

import autodiff
from autodiff import Value
from autodiff.diagnosis import tolerance


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def network_2_2_2():
    """The 2-2-2 article's network, labelled as the article names it: (E, w0_10)."""
    x = [Value(0.2, label="x1"), Value(0.5, label="x2")]
    layers = [[[0.1, 0.2], [0.3, 0.1]], [[0.4, 0.5], [0.1, 0.3]]]  # [i][j]: unit i -> unit j
    weights = {}
    for l, matrix in enumerate(layers):
        signal = []
        for j in range(2):
            ws = [Value(matrix[i][j], label=f"w{l}_{i + 1}{j}") for i in range(2)]
            weights.update({w.label: w for w in ws})
            z = autodiff.dot(ws, x)
            z.label = f"z{l + 1}{j}"
            a = z.sigmoid()
            a.label = f"a{l + 1}{j}"
            signal.append(a)
        x = signal
    E = 0.5 * ((0.2 - x[0]) ** 2 + (0.7 - x[1]) ** 2)
    E.label = "E"
    return E, weights["w0_10"]


def by_hand_2_2_2():
    """The 2-2-2 numbers by hand: the hidden activation, the two paths to it, its sum."""
    a10, a11 = sigmoid(0.2 * 0.1 + 0.5 * 0.3), sigmoid(0.2 * 0.2 + 0.5 * 0.1)
    y1, y2 = sigmoid(a10 * 0.4 + a11 * 0.1), sigmoid(a10 * 0.5 + a11 * 0.3)
    through_y1 = (y1 - 0.2) * y1 * (1 - y1) * 0.4  # dE/da10 along the path through z20
    through_y2 = (y2 - 0.7) * y2 * (1 - y2) * 0.5
    return {"a10": a10, "z10": 0.2 * 0.1 + 0.5 * 0.3, "paths": (through_y1, through_y2),
            "dE/dw": (through_y1 + through_y2) * a10 * (1 - a10) * 0.2}


def diagnosis(claimed):
    E, w = network_2_2_2()
    return autodiff.explain(E, w, claimed=claimed).diagnosis


def hidden_inputs_2_2_1():
    """The 2-2-1 article's hidden pre-activations, labelled: (h_in1, h_in2)."""
    x = [Value(0.5, label="x1"), Value(0.3, label="x2")]
    weights = [[0.5, 0.3], [0.2, 0.4]]  # [input i][hidden unit j]
    found = []
    for j, bias in enumerate([0.1, 0.2], start=1):
        ws = [Value(weights[i][j - 1], label=f"W1_{i + 1}{j}") for i in range(2)]
        h = autodiff.dot(ws, x, Value(bias, label=f"b1_{j}"))
        h.label = f"h_in{j}"
        found.append(h)
    return found


def test_the_2_2_2_articles_number_is_the_activation_used_for_the_input():
    hand = by_hand_2_2_2()
    lines = diagnosis(0.0034)
    assert lines[0].startswith(f"Your dE/dw0_10 = 0.0034; the engine finds {hand['dE/dw']:.5g}.")
    assert lines[0].endswith(f"The likely mistake: you used a10 = {hand['a10']:.5g} where dz10/dw0_10 "
                             "is the input x1 = 0.2.")
    with_mistake = hand["dE/dw"] / 0.2 * hand["a10"]
    assert f"× {hand['a10']:.5g} = {with_mistake:.5g}, which matches your 0.0034 (within ±0.0001," in lines[1]
    assert len(lines) <= 4  # the best, and at most two others as likely


def test_the_2_2_1_articles_first_hidden_input_left_out_the_bias():
    h1 = hidden_inputs_2_2_1()[0]
    text = str(autodiff.explain(h1, claimed=0.31))
    assert text.splitlines()[:2] == ["h_in1 = W1_11·x1 + W1_21·x2 + b1_1",
                                     f"      = 0.5 × 0.5 + 0.2 × 0.3 + 0.1 = {0.5 * 0.5 + 0.2 * 0.3 + 0.1:.5g}"]
    assert "The likely mistake: you left out the term b1_1 = 0.1." in text
    assert f"With it: 0.5 × 0.5 + 0.2 × 0.3 = {0.5 * 0.5 + 0.2 * 0.3:.5g}, which matches your 0.31" in text


def test_the_2_2_1_articles_second_hidden_input_swapped_the_weights_and_left_out_the_bias():
    h2 = hidden_inputs_2_2_1()[1]
    lines = autodiff.explain(h2, claimed=0.29).diagnosis
    assert lines[0].endswith("Likely, two mistakes together: you swapped W1_12 = 0.3 and W1_22 = 0.4, "
                             "and you left out the term b1_2 = 0.2.")
    assert f"0.4 × 0.5 + 0.3 × 0.3 = {0.4 * 0.5 + 0.3 * 0.3:.5g}, which matches your 0.29" in lines[1]


def test_a_flipped_sign():
    hand = by_hand_2_2_2()
    lines = diagnosis(-hand["dE/dw"])
    assert "The likely mistake: the sign is flipped." in lines[0]


def test_a_path_of_the_sum_left_out():
    hand = by_hand_2_2_2()
    through_y1, through_y2 = hand["paths"]
    only_first = through_y1 * hand["a10"] * (1 - hand["a10"]) * 0.2
    lines = diagnosis(only_first)
    assert lines[0].endswith("The likely mistake: you left out the term dE/da21 · da21/dz21 · dz21/da10 "
                             f"= {through_y2:.5g}.")


def test_the_derivative_of_the_wrong_activation():
    hand = by_hand_2_2_2()
    dE_da10, a10 = sum(hand["paths"]), hand["a10"]
    lines = diagnosis(dE_da10 * (1 - a10 * a10) * 0.2)
    assert lines[0].endswith(f"The likely mistake: for da10/dz10 you used 1 − a10² = {1 - a10 * a10:.5g} "
                             f"(tanh's derivative), where sigmoid's derivative is a10(1 − a10) = {a10 * (1 - a10):.5g}.")
    z10 = hand["z10"]
    lines = diagnosis(dE_da10 * z10 * (1 - z10) * 0.2)
    assert f"you used z10(1 − z10) = {z10 * (1 - z10):.5g} (sigmoid's derivative written with z10 in place of a10)" \
        in lines[0]


def test_a_forgotten_factor():
    hand = by_hand_2_2_2()
    lines = diagnosis(sum(hand["paths"]) * 0.2)
    a10 = hand["a10"]
    assert lines[0].endswith(f"The likely mistake: you left out the factor da10/dz10 = {a10 * (1 - a10):.5g}.")


def test_a_right_number_within_its_rounding_agrees():
    hand = by_hand_2_2_2()
    assert diagnosis(0.001228) == [f"Your dE/dw0_10 = 0.001228 agrees with the engine's {hand['dE/dw']:.7g} "
                                   "(within ±1.228e-05, 1 %)."]
    assert "agrees" in diagnosis(0.0012)[0]  # 0.0012277 is one unit of 0.0012's last digit away


def test_a_number_nothing_explains_gets_the_right_derivation():
    hand = by_hand_2_2_2()
    lines = diagnosis(7.5)
    assert lines[1].startswith("  No mistake looked for (")
    assert lines[-2:] == [
        "  dE/dw0_10 = (dE/da20 · da20/dz20 · dz20/da10 + dE/da21 · da21/dz21 · dz21/da10) · da10/dz10 · dz10/dw0_10",
        f"  {' ' * len('dE/dw0_10')} = " + lines[-1].split("= ", 1)[1]]
    assert lines[-1].endswith(f"× {hand['a10'] * (1 - hand['a10']):.5g} × 0.2 = {hand['dE/dw']:.5g}")


def test_a_wrong_op():
    a, b = Value(0.7, label="a"), Value(0.2, label="b")
    c = a - b
    c.label = "c"
    text = str(autodiff.explain(c, claimed=0.9))
    assert text.splitlines()[:2] == ["c = a − b", "  = 0.7 − 0.2 = 0.5"]
    assert "The likely mistake: you added where the graph subtracts." in text


def test_unlabelled_steps_are_split_at_the_activation_and_the_wrong_one_is_found():
    x = Value(1.5, label="x")
    t = (x * 0.5).tanh()
    t.label = "t"
    a = math.tanh(0.75)
    lines = autodiff.explain(t, x, claimed=a * (1 - a) * 0.5).diagnosis  # sigmoid's formula at tanh's output
    assert f"you used t(1 − t) = {a * (1 - a):.5g} (sigmoid's derivative), where tanh's derivative is " \
           f"1 − t² = {1 - a * a:.5g}" in lines[0]
    forward = autodiff.explain(t, claimed=sigmoid(0.75)).diagnosis
    assert forward[0].endswith("The likely mistake: you applied sigmoid where the graph applies tanh.")
    assert forward[1].startswith(f"  With it: sigmoid(0.75) = {sigmoid(0.75):.5g}")


def test_a_relu_taken_as_on_where_it_is_off():
    x = Value(1.5, label="x")
    r = (x - 2.0).relu()
    r.label = "r"
    lines = autodiff.explain(r, x, claimed=1.0).diagnosis  # relu is off at -0.5: the gradient is 0
    assert "The likely mistake: you left out the factor dr/d" in lines[0] and lines[0].endswith("= 0.")


def test_a_forward_value_written_out_through_unlabelled_nodes():
    y = Value(0.75, label="y")
    loss = (0.8 - y) ** 2
    loss.label = "loss"
    assert str(autodiff.explain(loss)).splitlines() == ["loss = (0.8 − y)²", f"     = (0.8 − 0.75)² = {0.05 ** 2:.5g}"]
    leaf = str(autodiff.explain(y, claimed=0.75))
    assert leaf.startswith("y = 0.75: a leaf") and "agrees" in leaf


@pytest.mark.parametrize("claimed, error", [("0.3", TypeError), (True, TypeError), (None, None),
                                            (math.nan, ValueError), (math.inf, ValueError), ([1.0], TypeError)])
def test_a_claim_must_be_a_finite_number(claimed, error):
    E, w = network_2_2_2()
    if error is None:
        assert autodiff.explain(E, w, claimed=claimed).diagnosis == []
        return
    with pytest.raises(error, match="claimed"):
        autodiff.explain(E, w, claimed=claimed)
    with pytest.raises(error, match="claimed"):
        autodiff.explain(E, claimed=claimed)


def test_the_tolerance_is_the_last_digit_given_within_one_and_five_percent():
    assert tolerance(0.0034) == (pytest.approx(1e-4), "one unit in your last digit")
    assert tolerance(0.1 + 0.2)[1] == "1 %"
    assert tolerance(0.5) == (pytest.approx(0.025), "5 %")


def test_labels_stay_text_in_the_diagnosis():
    w, x = Value(0.5, label="w\x1b[2J<b>$x$</b>"), Value(2.0, label="[x](https://e.com)")
    z = w * x
    z.label = "z*_"
    explanation = autodiff.explain(z, w, claimed=-2.0)
    assert "\x1b" not in str(explanation) and "\\x1b[2J<b>$x$</b>" in str(explanation)
    notes = explanation._repr_markdown_().split('mathjax_ignore">', 1)[1]
    assert "<b>" not in notes and "$" not in notes and "](" not in notes and "*_" not in notes
    forward = autodiff.explain(z, claimed=3.0)._repr_markdown_()
    assert "<b>" not in forward and "$x$" not in forward.replace("$$", "")


def test_a_big_graph_is_searched_in_bounded_time_and_text():
    import nn

    model = nn.MLP(4, [16, 16, 1], activation="tanh", seed=1)
    loss = sum(((model([0.1 * i, -0.2, 0.3, 0.05 * i]) - 1.0) ** 2 for i in range(4)), start=Value(0.0))
    weight = model.layers[0].neurons[0].w[0]
    start = time.perf_counter()
    lines = autodiff.explain(loss, weight, claimed=12345.0).diagnosis
    assert time.perf_counter() - start < 10 and "No mistake looked for" in lines[1]
    assert len(lines) <= 5 and all(len(line) < 5000 for line in lines)


# ---- hostile labels: the diagnosis and the forward derivation escape them as explain does ----

from tests.autodiff.test_explain_safety import HOSTILE, assert_notes_are_text, check_latex, check_text, graph, shown  # noqa: E402


def check_notes_are_text(explanation, label):
    """The Markdown notes (explain's notes, then the diagnosis) decode to the terminal
    text, hold no markup, and make no element but the template's div."""
    markdown = explanation._repr_markdown_()
    notes = [line[2:] for line in markdown.split("\n") if line.startswith("- ")]
    assert [html.unescape(n) for n in notes] == [n.strip() for n in explanation.notes + explanation.diagnosis]
    assert any(shown(label) in html.unescape(n) for n in notes) or not label
    assert_notes_are_text(notes, markdown)


@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: ascii(s)[:40])
def test_hostile_labels_stay_text_in_the_diagnosis_and_the_forward_derivation(label):
    out, w = graph(label)
    for explanation in (autodiff.explain(out, w, claimed=-0.25), autodiff.explain(out, claimed=1.5)):
        check_text(str(explanation), label)
        if label:  # unlabelled, the nodes are named otherwise (by number, by op): not the reader's names
            check_latex(explanation._repr_markdown_(), label)
        check_notes_are_text(explanation, label)


def test_a_claimed_zero_matches_only_a_zero():
    # d(w·x)/dx = w: 0.05 by hand, so a learner's 0 is wrong, and no rounding makes it right
    w, x = Value(0.05, label="w"), Value(3.0, label="x")
    lines = autodiff.explain(w * x, x, claimed=0).diagnosis
    assert "agrees" not in lines[0] and "0.05" in lines[0]
    zero = Value(0.0, label="z")
    assert "agrees" in autodiff.explain(zero * x, x, claimed=0).diagnosis[0]
