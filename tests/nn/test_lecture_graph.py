"""``fused=False``: the same model builds micrograd's lecture graph (one * per weight, a
chain of +) with the fused graph's numbers to the last bit."""

import math
import random
import sys

import numpy as np
import pytest
import torch

import autodiff
import nn
import viz
from autodiff import Value
from viz.view import modules

LECTURE_B = 6.8813735870195432  # micrograd's lecture: tanh(x1 w1 + x2 w2 + b) = 1/sqrt(2)


def lecture_neuron(fused):
    neuron = nn.Neuron(2, activation="tanh", fused=fused)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = -3.0, 1.0, LECTURE_B
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    o = neuron([x1, x2])
    o.backward()
    return neuron, x1, x2, o


def test_the_lecture_neuron_has_the_lectures_graph_and_gradients():
    neuron, x1, x2, o = lecture_neuron(fused=False)
    ops = [node.op for node in autodiff.topological_order(o) if node.parents]
    assert ops == ["*", "*", "+", "+", "tanh"]  # x1*w1, x2*w2, their sum, + b, tanh
    w1, w2 = neuron.w
    n = 2.0 * -3.0 + 0.0 * 1.0 + LECTURE_B
    do_dn = 1.0 - math.tanh(n) ** 2  # closed form: d tanh(n)/dn
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    assert [x1.grad, w1.grad, x2.grad, w2.grad, neuron.b.grad] == pytest.approx(
        [do_dn * -3.0, do_dn * 2.0, do_dn * 1.0, do_dn * 0.0, do_dn], rel=1e-15)
    assert [x1.grad, w1.grad, x2.grad, w2.grad] == pytest.approx([-1.5, 1.0, 0.5, 0.0], rel=1e-15, abs=1e-15)
    _, *fused = lecture_neuron(fused=True)
    assert [v.data for v in fused] + [v.grad for v in fused] == [v.data for v in (x1, x2, o)] + [
        v.grad for v in (x1, x2, o)]


def random_case(rng):
    nin = rng.randint(1, 4)
    nouts = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
    activation = rng.choice(["relu", "tanh", "sigmoid", "linear"])
    out_activation = rng.choice(["relu", "tanh", "sigmoid", "linear"])
    samples = [[rng.uniform(-3, 3) for _ in range(nin)] for _ in range(rng.randint(1, 4))]
    return dict(nin=nin, nouts=nouts, activation=activation, out_activation=out_activation), samples


def run(model, samples):
    """Forward and backward over ``samples``: every output, the loss, and every gradient
    (of the weights and of the inputs, made Values so they get gradients too)."""
    inputs = [[Value(x) for x in sample] for sample in samples]
    outputs = [model(xs) for xs in inputs]
    outputs = [o if isinstance(o, list) else [o] for o in outputs]
    loss = autodiff.sum([(o - 0.5) ** 2 for out in outputs for o in out])
    model.zero_grad()
    loss.backward()
    return {
        "data": [o.data for out in outputs for o in out] + [loss.data],
        "grad": [p.grad for p in model.parameters()] + [x.grad for xs in inputs for x in xs],
    }


def bits(numbers):
    return [float(x).hex() for x in numbers]  # equal to the last bit, zeros' signs included


def assert_same_numbers(got, expected):
    if sys.version_info < (3, 12):
        assert bits(got) == bits(expected)
    else:  # Python's sum, which dot uses, compensates from 3.12: the last bits may differ
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("seed", range(40))
def test_random_mlps_give_the_fused_numbers_to_the_last_bit(seed):
    rng = random.Random(seed)
    shape, samples = random_case(rng)
    fused = nn.MLP(**shape, seed=seed)
    lecture = nn.MLP(**shape, seed=seed, fused=False)
    switched = nn.MLP(**shape, seed=seed)
    switched.fused = False
    expected = run(fused, samples)
    for model in (lecture, switched):
        got = run(model, samples)
        assert_same_numbers(got["data"], expected["data"])
        assert_same_numbers(got["grad"], expected["grad"])


@pytest.mark.parametrize("seed", range(10))
def test_the_lecture_graphs_gradients_match_pytorch_float64(seed):
    rng = random.Random(seed)
    shape, samples = random_case(rng)
    model = nn.MLP(**shape, seed=seed, fused=False)
    ours = run(model, samples)
    twin = model.to_torch()
    x = torch.tensor(samples, dtype=torch.float64, requires_grad=True)
    loss = ((twin(x) - 0.5) ** 2).sum()
    loss.backward()
    theirs = [g for p in twin.parameters() for g in p.grad.reshape(-1).tolist()]
    # torch holds a layer's weights as a matrix then its biases; ours go neuron by neuron
    by_neuron = []
    at = 0
    for layer in model.layers:
        nout, nin = len(layer.neurons), layer.nin
        weights, biases = theirs[at:at + nout * nin], theirs[at + nout * nin:at + nout * nin + nout]
        at += nout * nin + nout
        for j in range(nout):
            by_neuron += weights[j * nin:(j + 1) * nin] + [biases[j]]
    assert ours["grad"] == pytest.approx(by_neuron + x.grad.reshape(-1).tolist(), rel=1e-9, abs=1e-12)
    assert ours["data"][-1] == pytest.approx(loss.item(), rel=1e-12)


def test_setting_fused_switches_every_neuron_and_only_takes_a_bool():
    model = nn.MLP(2, [3, 1], seed=0)
    assert model.fused and all(n.fused for layer in model.layers for n in layer.neurons)
    model.fused = False
    assert not model.fused and not any(n.fused for layer in model.layers for n in layer.neurons)
    assert "+" == model([1.0, 2.0]).op
    model.layers[0].fused = True
    assert model.layers[0].fused and not model.fused  # mixed: not every neuron fused
    ops = [node.op for node in autodiff.topological_order(model([1.0, 2.0]))]
    assert ops.count("w·x+b") == 3 and ops.count("*") == 3  # layer 0 fused, layer 1 not
    for bad in ("no", 0, None):
        with pytest.raises(TypeError, match="fused must be True or False"):
            model.fused = bad
        with pytest.raises(TypeError, match="fused must be True or False"):
            nn.MLP(2, [1], fused=bad)
    assert model.layers[0].fused and not model.layers[1].fused  # a refused value changes nothing


def test_the_mode_is_shown_but_never_saved(tmp_path):
    lecture = nn.MLP(2, [3, 1], seed=0, fused=False)
    fused = nn.MLP(2, [3, 1], seed=0)
    assert repr(lecture) == "MLP(2, [3, 1], activation='relu', out_activation='linear', fused=False)  # 13 parameters"
    assert repr(lecture.layers[0]) == "Layer(2, 3, activation='relu', fused=False)"
    assert repr(lecture.layers[0].neurons[0]) == "Neuron(2, activation='relu', fused=False)"
    assert lecture.named_parameters() != fused.named_parameters()  # different Values...
    assert [n for n, _ in lecture.named_parameters()] == [n for n, _ in fused.named_parameters()]
    assert lecture.state_dict() == fused.state_dict() and lecture.architecture() == fused.architecture()
    lecture.save(tmp_path / "a.json")
    fused.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    other = nn.MLP(2, [3, 1], seed=1)
    other.load(tmp_path / "a.json")
    assert other.state_dict() == lecture.state_dict() and other.fused


def test_a_compiled_lecture_model_computes_what_its_scalar_graph_does():
    model = nn.MLP(2, [4, 3, 1], activation="tanh", seed=3, fused=False)
    twin = nn.MLP(2, [4, 3, 1], activation="tanh", seed=3, fused=False)
    program = autodiff.compile(lambda a, b: (model([a, b]) - 0.5) ** 2)
    X = np.random.default_rng(0).normal(size=(6, 2))
    losses = program(X[:, 0], X[:, 1])
    model.zero_grad()
    program.backward()
    scalar = [(twin(list(x)) - 0.5) ** 2 for x in X]
    twin.zero_grad()
    (autodiff.sum(scalar) / len(scalar)).backward()
    # numpy's tanh may differ from math.tanh in the last bit, as in every compiled program
    assert losses.tolist() == pytest.approx([v.data for v in scalar], rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx([p.grad for p in twin.parameters()], rel=1e-12)


def test_each_neurons_products_and_sums_are_drawn_in_its_box():
    model = nn.MLP(2, [2, 1], activation="tanh", out_activation="tanh", seed=0, fused=False)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = nn.mse_loss([model(x)], [1.0])
    order = autodiff.topological_order(loss)
    module = modules(order)
    computed = {}
    for node in order:
        if node.parents and module[node]:
            computed.setdefault(module[node], []).append(node.op)
    # per neuron of 2 inputs: two products, their sum, + b, tanh; the loss outside them
    assert computed == {f"layers.{i}.neurons.{j}": ["*", "*", "+", "+", "tanh"] for i, j in [(0, 0), (0, 1), (1, 0)]}
    source = viz.draw_dot(loss).source
    assert source.count("cluster_") == 5  # layers.0, its two neurons, layers.1, its neuron


def test_backward_steps_walk_the_lecture_graph_with_the_engines_numbers():
    neuron, x1, x2, o = lecture_neuron(fused=False)
    steps = viz.steps.steps_of(o)
    assert len(steps) == 1 + 5  # the start, then one step per op node
    order = autodiff.topological_order(o)
    final = {}
    for step in steps:
        final.update(step["set"])
    assert [final[f"v{order.index(v)}"] for v in (x1, x2, *neuron.w, neuron.b)] == [
        v.grad for v in (x1, x2, *neuron.w, neuron.b)]


@pytest.mark.parametrize("b, same_sign", [(0.0, True), (-0.0, False)])
def test_a_zeros_sign_is_the_one_documented_difference(b, same_sign):
    # every product -0.0 (a negative weight times 0): dot's sum from 0.0 is +0.0, the
    # chain of + keeps -0.0, which + b turns into +0.0 unless b is -0.0 too
    outputs = []
    for fused in (True, False):
        neuron = nn.Neuron(2, activation="linear", fused=fused)
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = -1.0, -2.0, b
        x = [Value(0.0), Value(0.0)]
        z = neuron(x)
        z.backward()
        outputs.append((z.data, [v.grad for v in (*neuron.parameters(), *x)]))
    (fused_z, fused_grads), (lecture_z, lecture_grads) = outputs
    assert fused_z == lecture_z == 0.0 and math.copysign(1.0, fused_z) == 1.0
    assert (math.copysign(1.0, lecture_z) == 1.0) == same_sign
    assert bits(lecture_grads) == bits(fused_grads)
