"""explain on nn models: every node nn computes is named, and the derivation of any
weight writes every factor from the loss down, each local derivative as its formula
with numbers. The numbers are checked against closed forms and finite differences
worked out here, in float64, not read from the engine."""

import math
import re

import numpy as np
import pytest

import autodiff
import nn
from autodiff import Value


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def with_weights(model, weights, biases):
    """weights[l][j][i]: neuron j of layer l+1 on its input i."""
    for layer, layer_w, layer_b in zip(model.layers, weights, biases):
        for neuron, w, b in zip(layer.neurons, layer_w, layer_b):
            for p, v in zip(neuron.w, w):
                p.data = v
            neuron.b.data = b
    return model


# ---- the 2-2-2 article (seed 002): inputs (0.2, 0.5), targets (0.2, 0.7), no biases ----

W_222 = [[[0.1, 0.3], [0.2, 0.1]], [[0.4, 0.1], [0.5, 0.3]]]
X_222, T_222 = [0.2, 0.5], [0.2, 0.7]


def net_222():
    model = nn.MLP(2, [2, 2], activation="sigmoid", out_activation="sigmoid", seed=0)
    return with_weights(model, W_222, [[0.0, 0.0], [0.0, 0.0]])


def error_222(model, x=X_222):
    y = model(x)
    return sum((0.5 * (t - yk) ** 2 for yk, t in zip(y, T_222)), start=Value(0.0))


def forward_222(w=W_222):
    """The article's forward pass by hand: hidden activations, outputs, error."""
    h = [sigmoid(sum(wi * xi for wi, xi in zip(w[0][j], X_222))) for j in range(2)]
    y = [sigmoid(sum(wi * hi for wi, hi in zip(w[1][k], h))) for k in range(2)]
    return h, y, sum(0.5 * (t - yk) ** 2 for yk, t in zip(y, T_222))


def finite_difference_222(layer, j, i, eps=1e-6):
    plus = [[[v + (eps if (l, jj, ii) == (layer, j, i) else 0) for ii, v in enumerate(row)]
             for jj, row in enumerate(layer_w)] for l, layer_w in enumerate(W_222)]
    minus = [[[v - (eps if (l, jj, ii) == (layer, j, i) else 0) for ii, v in enumerate(row)]
              for jj, row in enumerate(layer_w)] for l, layer_w in enumerate(W_222)]
    return (forward_222(plus)[2] - forward_222(minus)[2]) / (2 * eps)


def f(x):
    return f"{x:.5g}"


def g(x):
    """A factor after the first of a product: in parentheses when negative."""
    return f"({f(x)})" if x < 0 else f(x)


def test_nn_names_the_nodes_it_computes():
    model = net_222()
    y = model(X_222)
    assert [v.label for v in y] == ["a[2,0]", "a[2,1]"]
    z = y[0].parents[0]
    assert z.label == "z[2,0]" and z.op == "w·x+b"
    hidden = z.parents[2:4]
    assert [a.label for a in hidden] == ["a[1,0]", "a[1,1]"]
    assert [x.label for x in hidden[0].parents[0].parents[2:4]] == ["x[0]", "x[1]"]
    # a Value given as input keeps its label; a linear neuron has only z
    linear = nn.MLP(2, [3, 1], seed=0)
    out = linear([Value(1.0, label="mine"), 2.0])
    assert out.label == "z[2,0]" and out.parents[3].label == "a[1,0]"
    assert [p.label for p in out.parents[3].parents[0].parents[2:4]] == ["mine", "x[1]"]
    # a Layer alone and a Neuron alone name their nodes by what they know
    assert [v.label for v in nn.Layer(2, 2, activation="tanh", rng=0)([1.0, 2.0])] == ["a[0]", "a[1]"]
    assert nn.Neuron(2, activation="tanh", rng=0)([1.0, 2.0]).label == "a"
    # the parameters keep their dotted names, which the drawings group by
    assert model.layers[1].neurons[0].w[0].label == "layers.1.neurons.0.w.0"


def test_2_2_2_hidden_weight_every_factor_and_both_output_paths():
    model = net_222()
    E = error_222(model)
    E.label = "E"
    weight = model.layers[0].neurons[0].w[0]  # input 1 -> hidden 1, the article's w^0_10
    text = str(autodiff.explain(E, weight))
    lines = text.splitlines()
    h, y, _ = forward_222()
    dE_dy = [y[k] - T_222[k] for k in range(2)]
    dy_dz = [y[k] * (1 - y[k]) for k in range(2)]
    dE_dh = dE_dy[0] * dy_dz[0] * 0.4 + dE_dy[1] * dy_dz[1] * 0.5
    gradient = dE_dh * h[0] * (1 - h[0]) * 0.2
    assert gradient == pytest.approx(finite_difference_222(0, 0, 0), rel=1e-8)
    assert f(gradient) == "0.0012277"  # the article printed 0.0034: it multiplied by h, not x
    assert lines[:8] == [
        "dE/dw[1,0,0] = dE/da[1,0] · da[1,0]/dz[1,0] · dz[1,0]/dw[1,0,0]",
        f"             = {f(dE_dh)} × {f(h[0] * (1 - h[0]))} × 0.2 = 0.0012277",
        "dE/da[1,0] = dE/da[2,0] · da[2,0]/dz[2,0] · dz[2,0]/da[1,0] + dE/da[2,1] · da[2,1]/dz[2,1] · dz[2,1]/da[1,0]",
        f"           = ({f(dE_dy[0])} × {g(dy_dz[0])} × 0.4) + ({f(dE_dy[1])} × {g(dy_dz[1])} × 0.5) = {f(dE_dh)}",
        # each output path down from the error, the hand-written loss one op at a time:
        # E = u4 + u5, u4 = 0 + u3, u3 = 0.5 u2, u2 = u1², u1 = 0.2 - a[2,0], and so for a[2,1]
        "dE/da[2,0] = dE/du4 · du4/du3 · du3/du2 · du2/du1 · du1/da[2,0]",
        f"           = 1 × 1 × 0.5 × {g(-2 * dE_dy[0])} × (-1) = {f(dE_dy[0])}",
        "dE/da[2,1] = dE/du5 · du5/du7 · du7/du6 · du6/da[2,1]",
        f"           = 1 × 0.5 × {g(-2 * dE_dy[1])} × (-1) = {f(dE_dy[1])}",
    ]
    notes = lines[9:]
    assert "dz[1,0]/dw[1,0,0] = x[0] = 0.2, where z[1,0] = w[1,0,0]·x[0] + w[1,0,1]·x[1] + b[1,0]" in notes
    assert (f"da[1,0]/dz[1,0] = a[1,0](1 − a[1,0]) = {f(h[0])} × {f(1 - h[0])} = {f(h[0] * (1 - h[0]))}, "
            "where a[1,0] = sigmoid(z[1,0])") in notes
    assert "dz[2,1]/da[1,0] = w[2,1,0] = 0.5, where z[2,1] = w[2,1,0]·a[1,0] + w[2,1,1]·a[1,1] + b[2,1]" in notes
    assert f"du2/du1 = 2·u1 = 2 × {g(T_222[0] - y[0])} = {f(2 * (T_222[0] - y[0]))}, where u2 = u1**2" in notes
    assert "du1/da[2,0] = −1, where u1 = 0.2 - a[2,0]" in notes
    assert "w[1,0,0] is the parameter layers.0.neurons.0.w.0" in notes
    assert "through" not in text and "further derivatives" not in text  # nothing folded


def test_2_2_2_output_weight_every_factor():
    model = net_222()
    E = error_222(model)
    E.label = "E"
    text = str(autodiff.explain(E, model.layers[1].neurons[0].w[0]))  # hidden 1 -> output 1
    h, y, _ = forward_222()
    gradient = (y[0] - 0.2) * y[0] * (1 - y[0]) * h[0]
    assert gradient == pytest.approx(finite_difference_222(1, 0, 0), rel=1e-8)
    lines = text.splitlines()
    assert lines[:2] == ["dE/dw[2,0,0] = dE/da[2,0] · da[2,0]/dz[2,0] · dz[2,0]/dw[2,0,0]",
                         f"             = {f(y[0] - 0.2)} × {f(y[0] * (1 - y[0]))} × {f(h[0])} = {f(gradient)}"]
    assert lines[2] == "dE/da[2,0] = dE/du4 · du4/du3 · du3/du2 · du2/du1 · du1/da[2,0]"
    assert f"dz[2,0]/dw[2,0,0] = a[1,0] = {f(h[0])}, where z[2,0] = w[2,0,0]·a[1,0] + w[2,0,1]·a[1,1] + b[2,0]" in lines
    assert f"da[2,0]/dz[2,0] = a[2,0](1 − a[2,0]) = {f(y[0])} × {f(1 - y[0])} = {f(y[0] * (1 - y[0]))}, where a[2,0] = sigmoid(z[2,0])" in lines
    assert "through" not in text


def test_micrograd_lecture_neuron():
    # o = tanh(x1 w1 + x2 w2 + b), labelled as in the lecture
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    do_dn = 1 - math.tanh(-6 + 6.8813735870195432) ** 2  # 0.5
    expected = {x1: do_dn * -3.0, w1: do_dn * 2.0, x2: do_dn * 1.0, w2: do_dn * 0.0}
    assert [expected[v] for v in (x1, w1, x2, w2)] == pytest.approx([-1.5, 1.0, 0.5, 0.0], abs=1e-12)
    for v, other in ((x1, w1), (w1, x1), (x2, w2), (w2, x2)):
        text = str(autodiff.explain(o, v))
        product = "x1*w1" if v in (x1, w1) else "x2*w2"
        lines = text.splitlines()
        assert lines[0] == f"do/d{v.label} = do/dn · dn/dx1*w1 + x2*w2 · dx1*w1 + x2*w2/d{product} · d{product}/d{v.label}"
        assert lines[1].endswith(f" × 1 × 1 × {g(other.data)} = {f(expected[v])}")
        assert f"do/dn = 1 − o² = 1 − {f(math.tanh(n.data))}² = {f(do_dn)}, where o = tanh(n)" in lines
        assert f"d{product}/d{v.label} = {other.label} = {f(other.data)}, where {product} = " in text


def test_micrograd_neuron_built_by_nn():
    neuron = with_weights(nn.MLP(2, [1], activation="tanh", out_activation="tanh", seed=0),
                          [[[-3.0, 1.0]]], [[6.8813735870195432]]).layers[0].neurons[0]
    o = neuron([2.0, 0.0])
    text = str(autodiff.explain(o, neuron.w[0]))
    assert text.splitlines()[:2] == ["da[1,0]/dw[1,0,0] = da[1,0]/dz[1,0] · dz[1,0]/dw[1,0,0]",
                                     "                  = 0.5 × 2 = 1"]
    assert "dz[1,0]/dw[1,0,0] = x[0] = 2, where z[1,0] = w[1,0,0]·x[0] + w[1,0,1]·x[1] + b[1,0]" in text
    assert "da[1,0]/dz[1,0] = 1 − a[1,0]² = 1 − 0.70711² = 0.5, where a[1,0] = tanh(z[1,0])" in text


def test_2_2_1_article_network_with_biases():
    # seed 003: input (0.5, 0.3), target 0.8, loss (0.8 - y)^2
    model = with_weights(nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid", seed=0),
                         [[[0.5, 0.2], [0.3, 0.4]], [[0.6, 0.7]]], [[0.1, 0.2], [0.3]])
    y = model([0.5, 0.3])
    loss = (0.8 - y) ** 2
    h = [sigmoid(0.5 * 0.5 + 0.3 * 0.2 + 0.1), sigmoid(0.5 * 0.3 + 0.3 * 0.4 + 0.2)]
    out = sigmoid(0.6 * h[0] + 0.7 * h[1] + 0.3)
    delta = -2 * (0.8 - out) * out * (1 - out)
    text = str(autodiff.explain(loss, model.layers[0].neurons[1].b))  # a hidden bias
    lines = text.splitlines()
    gradient = delta * 0.7 * h[1] * (1 - h[1])
    # one output: no paths meet, so one product from the loss's factor down to the bias
    assert lines[:2] == [
        "dout/db[1,1] = dout/da[2,0] · da[2,0]/dz[2,0] · dz[2,0]/da[1,1] · da[1,1]/dz[1,1] · dz[1,1]/db[1,1]",
        f"             = {f(-2 * (0.8 - out))} × {g(out * (1 - out))} × 0.7 × {g(h[1] * (1 - h[1]))} × 1 = {f(gradient)}"]
    assert "dz[1,1]/db[1,1] = 1, where z[1,1] = w[1,1,0]·x[0] + w[1,1,1]·x[1] + b[1,1]" in lines
    assert "dz[2,0]/da[1,1] = w[2,0,1] = 0.7, where z[2,0] = w[2,0,0]·a[1,0] + w[2,0,1]·a[1,1] + b[2,0]" in lines
    assert lines[2:4] == ["dout/da[2,0] = dout/du1 · du1/da[2,0]",
                          f"             = {f(2 * (0.8 - out))} × (-1) = {f(-2 * (0.8 - out))}"]
    assert f"dout/du1 = 2·u1 = 2 × {f(0.8 - out)} = {f(2 * (0.8 - out))}, where out = u1**2" in lines


def test_six_sample_network_names_each_sample_apart():
    # seed 004: 3 inputs, 3 sigmoid hidden units, a linear output, E = 1/2 mean (out - y)^2
    X = [[0, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]]
    Y = [0, 1, 0, 1, 1, 0]
    model = nn.MLP(3, [3, 1], activation="sigmoid", out_activation="linear", seed=4)
    outputs = [model(x) for x in X]
    E = 0.5 * nn.mse_loss(outputs, Y)
    E.label = "E"
    weight = model.layers[1].neurons[0].w[0]
    explanation = autodiff.explain(E, weight)
    lines = str(explanation).splitlines()
    # by hand: the delta rule, the mean over samples of (out - y) times hidden unit 0
    hidden_w = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    hidden_b = np.array([n.b.data for n in model.layers[0].neurons])
    v = np.array([w.data for w in model.layers[1].neurons[0].w])
    h = 1 / (1 + np.exp(-(np.array(X, float) @ hidden_w.T + hidden_b)))
    out = h @ v + model.layers[1].neurons[0].b.data
    errors = out - np.array(Y)
    assert lines[0] == "dE/dw[2,0,0] = " + " + ".join(
        f"dE/dz[2,0]{s} · dz[2,0]{s}/dw[2,0,0]" for s in ["", "#2", "#3", "#4", "#5", "#6"])
    assert lines[1].endswith(f" = {f(np.mean(errors * h[:, 0]))}")
    for k, s in enumerate(["", "#2", "#3", "#4", "#5", "#6"]):
        assert f"dz[2,0]{s}/dw[2,0,0] = a[1,0]{s} = {f(h[k, 0])}, where z[2,0]{s} = " in str(explanation)
        derivation = [i for i, line in enumerate(lines) if line.startswith(f"dE/dz[2,0]{s} = ")]
        assert len(derivation) == 1 and lines[derivation[0] + 1].endswith(f" = {f(errors[k] / 6)}")
    assert "through" not in str(explanation)


def test_a_big_model_is_bounded_and_folds_only_past_the_budget():
    lengths = []
    for batch in (32, 128):
        model = nn.MLP(2, [16, 16, 1], seed=0)
        rng = np.random.default_rng(0)
        loss = nn.mse_loss([model(x) for x in rng.normal(size=(batch, 2)).tolist()], rng.normal(size=batch).tolist())
        weight = model.layers[0].neurons[3].w[1]
        small = autodiff.explain(loss, weight, steps=2)
        big = autodiff.explain(loss, weight)
        assert len(small.lines) == 4 and "further derivatives" in str(small)
        loss.backward()
        assert small.lines[1].endswith(f" = {f(weight.grad)}") and big.lines[1].endswith(f" = {f(weight.grad)}")
        lengths.append(len(str(big)))
    # the text grows with the steps, not with the graph: four times the samples, the same length
    assert lengths[1] < 1.05 * lengths[0] and lengths[1] < 40_000


def test_the_latex_of_nn_names_is_literal_text():
    model = net_222()
    E = error_222(model)
    markdown = autodiff.explain(E, model.layers[0].neurons[0].w[0])._repr_markdown_()
    equations = [line for line in markdown.split("\n") if line.startswith("$$")]
    assert r"\frac{\partial \mathrm{out}}{\partial \mathrm{w\lbrack 1,0,0\rbrack }}" in equations[0]
    assert not any(re.search(r"[\[\]]", line) for line in equations)  # brackets only as \lbrack \rbrack


def test_paths_that_meet_again_stop_at_the_neuron_where_they_meet():
    # 2-3-3-1 tanh: the paths from a[1,0] through the three neurons of layer 2 meet at z[3,0]
    model = nn.MLP(2, [3, 3, 1], activation="tanh", seed=1)
    x, t = [0.3, -0.8], 0.25
    loss = (model(x) - t) ** 2
    loss.label = "E"
    lines = str(autodiff.explain(loss, model.layers[0].neurons[0].w[1])).splitlines()
    W = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
    B = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
    a1 = np.tanh(W[0] @ x + B[0])
    a2 = np.tanh(W[1] @ a1 + B[1])
    z3 = (W[2] @ a2 + B[2])[0]
    dE_dz3 = 2 * (z3 - t)
    terms = [dE_dz3 * W[2][0, k] * (1 - a2[k] ** 2) * W[1][k, 0] for k in range(3)]
    assert lines[2] == "dE/da[1,0] = " + " + ".join(
        f"dE/dz[3,0] · dz[3,0]/da[2,{k}] · da[2,{k}]/dz[2,{k}] · dz[2,{k}]/da[1,0]" for k in range(3))
    assert lines[3].endswith(f" = {f(sum(terms))}")
    assert lines[4:6] == ["dE/dz[3,0] = dE/du1 · du1/dz[3,0]", f"           = {f(dE_dz3)} × 1 = {f(dE_dz3)}"]
    assert lines[1].endswith(f" = {f(sum(terms) * (1 - a1[0] ** 2) * x[1])}")


def test_relu_writes_which_side_of_zero_its_input_is():
    model = with_weights(nn.MLP(1, [2, 1], seed=0), [[[1.0], [-1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    out = model([0.5])
    text = str(autodiff.explain(out, model.layers[0].neurons[1].w[0]))
    assert "da[1,1]/dz[1,1] = 1 if z[1,1] > 0, else 0 = 0, as -0.5 ≤ 0, where a[1,1] = relu(z[1,1])" in text
    text = str(autodiff.explain(out, model.layers[0].neurons[0].w[0]))
    assert "da[1,0]/dz[1,0] = 1 if z[1,0] > 0, else 0 = 1, as 0.5 > 0, where a[1,0] = relu(z[1,0])" in text
