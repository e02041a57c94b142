"""explain: the chain rule written out, with numbers checked by hand."""

import math
import re

import pytest

import autodiff
from autodiff import Value


def neuron():
    w, x, b = Value(0.6, label="w"), Value(0.9, label="x"), Value(0.1, label="b")
    z = w * x + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    E = 0.5 * (a - 0.2) ** 2
    E.label = "E"
    return w, x, z, a, E


def test_one_path_is_one_product_with_every_factor_evaluated():
    w, x, z, a, E = neuron()
    text = str(autodiff.explain(E, w))
    s = 1 / (1 + math.exp(-(0.6 * 0.9 + 0.1)))
    factors = [s - 0.2, s * (1 - s), 0.9]  # by hand: dE/da, da/dz, dz/dw
    lines = text.splitlines()
    assert lines[0] == "dE/dw = dE/da · da/dz · dz/dw"
    assert lines[1].strip() == "= " + " × ".join(f"{f:.5g}" for f in factors) + f" = {math.prod(factors):.5g}"
    # the loss's factor through unnamed nodes, one op at a time: u1 = a - 0.2, u2 = u1², E = 0.5 u2
    assert lines[2:4] == ["dE/da = dE/du2 · du2/du1 · du1/da",
                          f"      = 0.5 × {2 * (s - 0.2):.5g} × 1 = {s - 0.2:.5g}"]
    # every local derivative as its formula, then with the numbers put in
    assert f"da/dz = a(1 − a) = {s:.5g} × {1 - s:.5g} = {s * (1 - s):.5g}, where a = sigmoid(z)" in lines
    assert f"du2/du1 = 2·u1 = 2 × {s - 0.2:.5g} = {2 * (s - 0.2):.5g}, where u2 = u1**2" in lines
    assert "du1/da = 1, where u1 = a - 0.2" in lines
    assert "du3/dw = x = 0.9, where u3 = w * x" in lines


def test_where_paths_meet_the_derivative_is_a_sum_over_the_children():
    x = Value(1.5, label="x")
    p = x * x
    p.label = "p"
    q = x.sin()
    q.label = "q"
    f = p + q
    f.label = "f"
    lines = str(autodiff.explain(f, x)).splitlines()
    assert lines[0] == "df/dx = df/dp · dp/dx + df/dq · dq/dx"
    assert lines[1].strip() == f"= (1 × 3) + (1 × {math.cos(1.5):.5g}) = {3 + math.cos(1.5):.5g}"
    assert "dp/dx = x + x = 1.5 + 1.5 = 3, where p = x * x" in lines  # x used twice: both terms
    assert f"dq/dx = cos x = cos 1.5 = {math.cos(1.5):.5g}, where q = sin(x)" in lines


def test_a_junction_inside_the_graph_is_explained_on_its_own_line():
    x = Value(0.5, label="x")
    h = x.tanh()
    h.label = "h"
    out = h * h + h.exp()
    out.label = "out"
    lines = str(autodiff.explain(out, x)).splitlines()
    assert lines[0] == "dout/dx = dout/dh · dh/dx"
    assert lines[2].startswith("dout/dh = ")  # h feeds three ops: its own sum
    t = math.tanh(0.5)
    assert lines[1].strip().endswith(f"= {(2 * t + math.exp(t)) * (1 - t * t):.5g}")
    assert f"dh/dx = 1 − h² = 1 − {t:.5g}² = {1 - t * t:.5g}, where h = tanh(x)" in lines


def test_deep_graphs_are_summarised_not_expanded():
    x = Value(0.3, label="x")
    y = x
    for i in range(200):  # a chain with a junction at every step
        y = y * y.cos() + y
        y.label = f"y{i}"
    explanation = autodiff.explain(y, x, steps=4)
    assert len(str(explanation).splitlines()) < 60
    assert "further derivatives, as the backward pass found them" in str(explanation)


def test_the_derivation_of_the_output_itself_and_markdown_form():
    w, x, z, a, E = neuron()
    assert str(autodiff.explain(E, E)) == "dE/dE = 1"
    markdown = autodiff.explain(E, w)._repr_markdown_()
    assert markdown.startswith("$$ \\frac{\\partial \\mathrm{E}}{\\partial \\mathrm{w}}")


def test_bad_arguments_are_named():
    w, x, z, a, E = neuron()
    with pytest.raises(ValueError, match="does not depend on it"):
        autodiff.explain(z, Value(1.0))
    with pytest.raises(TypeError, match="node is a float"):
        autodiff.explain(E, 1.0)


def test_local_gradients_are_the_factors_of_the_chain_rule():
    a, b = Value(2.0), Value(5.0)
    assert autodiff.local_gradients(a * b) == (5.0, 2.0)
    assert autodiff.local_gradients(a) == ()
    assert autodiff.local_gradients(autodiff.dot([a, b], [b, a], bias=1.0)) == (5.0, 2.0, 2.0, 5.0, 1.0)


def test_two_paths_through_unnamed_nodes_keep_their_factors_apart():
    a = Value(3.0, label="a")
    y = (a * a) * a
    y.label = "y"
    lines = str(autodiff.explain(y, a)).splitlines()
    assert lines[0] == "dy/da = dy/du1 · du1/da + ∂y/∂a"
    assert lines[1].strip() == "= (3 × 6) + (9) = 27"
    assert "∂y/∂a = u1 = 9, where y = u1 * a" in lines  # the partial, not dy/da = 27
    x = Value(2.0)
    lines = str(autodiff.explain((x * x).exp(), x)).splitlines()
    assert lines[0] == "dout/dx = dout/du1 · du1/dx"  # not one factor folded onto itself


def test_repr_is_the_text():
    w, x, z, a, E = neuron()
    explanation = autodiff.explain(E, w)
    assert repr(explanation) == str(explanation)


def chain(n, *, labelled):
    """x times 1.0001, n times over: d/dx = 1.0001 ** n."""
    x = Value(1.0, label="x")
    y = x
    for i in range(n):
        y = y * 1.0001
        if labelled:
            y.label = f"y{i}"
    return x, y


def test_a_200k_node_unlabelled_chain_is_a_short_text_with_the_right_numbers():
    x, y = chain(200_000, labelled=False)
    explanation = autodiff.explain(y, x)
    text = str(explanation)
    assert len(text) < 1_000 and len(explanation._repr_markdown_()) < 2_000  # 600 KB before
    lines = text.splitlines()
    assert lines[0] == "dout/dx = dout/du1 · du1/dx"
    assert lines[1].strip() == f"= {1.0001 ** 199_999:.5g} × 1.0001 = {1.0001 ** 200_000:.5g}"
    # the factor through unnamed nodes, written one op at a time: 3 + 4 ends and a middle
    assert lines[2] == "dout/du1 = dout/du8 · du8/du7 · du7/du6 · du6/du5 · du5/du4 · du4/du3 · du3/du2 · du2/du1"
    assert lines[3].strip() == f"= {' × '.join(['1.0001'] * 4)} × {1.0001 ** 199_992:.5g} × {' × '.join(['1.0001'] * 3)} = {1.0001 ** 199_999:.5g}"
    assert "du8/du7 = 1.0001, where u8 = u7 * 1.0001" in lines
    assert "through 199992 ops (*, *, *, … 199987 more …, *, *)" in text


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_a_long_labelled_chain_is_explained_in_linear_work_and_a_short_text(n):
    x, y = chain(n, labelled=True)  # quadratic before: 8,000 nodes took 3 s and wrote 680 KB
    explanation = autodiff.explain(y, x)
    text = str(explanation)
    assert len(text) < 1_500 and len(explanation._repr_markdown_()) < 3_000
    lines = text.splitlines()
    last = n - 1
    # the first three and last four factors written out, the middle one factor
    symbols = ([f"dy{i}/dy{i - 1}" for i in range(last, last - 4, -1)] + [f"dy{last - 4}/dy2"]
               + ["dy2/dy1", "dy1/dy0", "dy0/dx"])
    assert lines[0] == f"dy{last}/dx = " + " · ".join(symbols)
    assert lines[1].strip() == f"= {' × '.join(['1.0001'] * 4)} × {1.0001 ** (n - 7):.5g} × {' × '.join(['1.0001'] * 3)} = {1.0001 ** n:.5g}"
    assert f"dy{last - 4}/dy2 = {1.0001 ** (n - 7):.5g}: through {n - 7} ops (*, *, *, … {n - 12} more …, *, *)" in text


@pytest.mark.parametrize("n", [1000, 5000])
def test_a_node_with_many_children_writes_a_few_terms_and_the_whole_sum(n):
    x = Value(2.0, label="x")
    out = sum(x * float(i) for i in range(n))
    explanation = autodiff.explain(out, x)
    lines = str(explanation).splitlines()
    assert lines[0].count(" · ") == 7 and lines[0].endswith(f" + … ({n - 7} more terms)")
    assert lines[1].endswith(f" + … = {sum(range(n)):.5g}")
    assert r"\cdots" in explanation._repr_markdown_()
    # each term's factor through the chain of + is one short equation: the same text
    # (but for the counts) for 1000 terms as for 5000
    assert len(str(explanation)) < 3_000 and sum(bool(re.match(r"dout/du\d+ = dout/", line)) for line in lines) == 7


def test_an_op_with_many_inputs_is_one_short_formula():
    x = Value(2.0, label="x")
    out = autodiff.sum([x * float(i % 7) for i in range(20_000)])
    text = str(autodiff.explain(out, x))
    assert "dout/du1 = 1, where out = sum(u1, …, u20000)" in text
    assert text.splitlines()[1].endswith(f"= {sum(i % 7 for i in range(20_000)):.5g}")
    assert len(text) < 2_000
