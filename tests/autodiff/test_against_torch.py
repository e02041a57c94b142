"""The reference suite: values and gradients against PyTorch in float64.

Ordinary points must agree to 1e-9 relative; the IEEE edge points (zeros, infinities,
nan, huge and tiny numbers) must agree exactly, nan for nan.
"""

import math
import random

import pytest
import torch
import torch.nn.functional as F

import autodiff
from autodiff import Value, grad, gradients

UNARY = {
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: x.log(), torch.log),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt),
    "sin": (lambda x: x.sin(), torch.sin),
    "cos": (lambda x: x.cos(), torch.cos),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "relu": (lambda x: x.relu(), torch.relu),
    "softplus": (lambda x: x.softplus(), F.softplus),
    "log_sigmoid": (lambda x: x.log_sigmoid(), F.logsigmoid),
    "abs": (abs, torch.abs),
    "neg": (lambda x: -x, torch.neg),
    "square": (lambda x: x**2, lambda t: t**2),
    "cube": (lambda x: x**3, lambda t: t**3),
    "pow_half": (lambda x: x**0.5, lambda t: t**0.5),
    "pow_minus_half": (lambda x: x**-0.5, lambda t: t**-0.5),
    "pow_one_and_half": (lambda x: x**1.5, lambda t: t**1.5),
    "pow_minus_one": (lambda x: x**-1, lambda t: t**-1),
    "pow_zero": (lambda x: x**0, lambda t: t**0),
    "pow_fraction": (lambda x: x ** (1 / 3), lambda t: t ** (1 / 3)),
    "tan": (lambda x: x.tan(), torch.tan),
    "arcsin": (lambda x: x.arcsin(), torch.asin),
    "arccos": (lambda x: x.arccos(), torch.acos),
    "arctan": (lambda x: x.arctan(), torch.atan),
    "sinh": (lambda x: x.sinh(), torch.sinh),
    "cosh": (lambda x: x.cosh(), torch.cosh),
    "log2": (lambda x: x.log2(), torch.log2),
    "log10": (lambda x: x.log10(), torch.log10),
    "expm1": (lambda x: x.expm1(), torch.expm1),
    "floor": (lambda x: x.floor(), torch.floor),
    "ceil": (lambda x: x.ceil(), torch.ceil),
    "sign": (lambda x: x.sign(), torch.sign),
}
BINARY = {
    "add": (lambda a, b: a + b, torch.add),
    "sub": (lambda a, b: a - b, torch.sub),
    "mul": (lambda a, b: a * b, torch.mul),
    "div": (lambda a, b: a / b, torch.div),
    "pow": (lambda a, b: a**b, torch.pow),
    "arctan2": (autodiff.arctan2, torch.atan2),
    "hypot": (autodiff.hypot, torch.hypot),
    "maximum": (autodiff.maximum, torch.maximum),
    "minimum": (autodiff.minimum, torch.minimum),
    "mod": (lambda a, b: a % b, torch.remainder),
    "floordiv": (lambda a, b: a // b, lambda a, b: torch.div(a, b, rounding_mode="floor")),
}

rng = random.Random(0)
ORDINARY = [rng.uniform(-4, 4) for _ in range(12)] + [rng.uniform(0.01, 5) for _ in range(6)]
EDGE = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 1000.0, -1000.0, 1e308, -1e308, 5e-324,
        math.inf, -math.inf, math.nan]


def ours(build, *xs):
    leaves = [Value(x) for x in xs]
    out = build(*leaves)
    out.backward()
    return [out.data] + [leaf.grad for leaf in leaves]


def theirs(build, *xs):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = build(*leaves)
    (*grads,) = torch.autograd.grad(out, leaves, allow_unused=True)
    return [out.item()] + [0.0 if g is None else g.item() for g in grads]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def near(a, b, rel=1e-9):
    return same(a, b) or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_agree_with_pytorch_at_ordinary_points(name):
    build, reference = UNARY[name]
    for x in ORDINARY:
        assert all(map(near, ours(build, x), theirs(reference, x))), (name, x)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_agree_with_pytorch_at_ordinary_points(name):
    build, reference = BINARY[name]
    for a in ORDINARY[::3]:
        for b in ORDINARY[1::3]:
            assert all(map(near, ours(build, a, b), theirs(reference, a, b))), (name, a, b)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_agree_with_pytorch_at_edge_points(name):
    build, reference = UNARY[name]
    for x in EDGE:
        mine, expected = ours(build, x), theirs(reference, x)
        assert all(map(near, mine, expected)), (name, x, mine, expected)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_agree_with_pytorch_at_edge_points(name):
    build, reference = BINARY[name]
    for a in EDGE:
        for b in EDGE:
            mine, expected = ours(build, a, b), theirs(reference, a, b)
            assert all(map(near, mine, expected)), (name, a, b, mine, expected)


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"relu", "abs"}))
def test_second_and_third_derivatives_agree_with_pytorch(name):
    build, reference = UNARY[name]
    for x in [0.3, 0.9, 2.2]:
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        d1 = derivative(reference(t), t)
        d2 = derivative(d1, t)
        d3 = derivative(d2, t)
        assert near(grad(grad(build))(x), d2.item()), (name, x)
        assert near(grad(grad(grad(build)))(x), d3.item()), (name, x)


def derivative(y, t):
    """dy/dt as a graph; zero where y is a constant (PyTorch then records no graph)."""
    if not y.requires_grad:
        return torch.zeros((), dtype=torch.float64)
    (d,) = torch.autograd.grad(y, t, create_graph=True)
    return d


def test_a_small_network_agrees_with_pytorch_including_its_hessian_vector_product():
    rng = random.Random(1)
    xs = [rng.uniform(-1, 1) for _ in range(3)]
    ws = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(4)]
    vs = [rng.uniform(-1, 1) for _ in range(4)]

    def network(x, w, v, tanh, sigmoid):
        hidden = [tanh(sum((wi * xi for wi, xi in zip(row, x)), start=0.0)) for row in w]
        return sigmoid(sum((vi * h for vi, h in zip(v, hidden)), start=0.0))

    x = [Value(a) for a in xs]
    out = network(x, ws, vs, lambda z: z.tanh(), lambda z: z.sigmoid())
    g = gradients(out, x, create_graph=True)
    direction = [0.5, -1.0, 2.0]
    hvp = gradients(sum((gi * d for gi, d in zip(g, direction)), start=Value(0.0)), x)

    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tw, tv = torch.tensor(ws, dtype=torch.float64), torch.tensor(vs, dtype=torch.float64)
    t_out = torch.sigmoid(tv @ torch.tanh(tw @ tx))
    (tg,) = torch.autograd.grad(t_out, tx, create_graph=True)
    (t_hvp,) = torch.autograd.grad(tg @ torch.tensor(direction, dtype=torch.float64), tx)

    assert near(out.data, t_out.item())
    assert all(map(near, [gi.data for gi in g], tg.tolist()))
    assert all(map(near, hvp, t_hvp.tolist()))


def test_dot_and_sum_agree_with_pytorch():
    rng = random.Random(2)
    w, x = [rng.uniform(-2, 2) for _ in range(7)], [rng.uniform(-2, 2) for _ in range(7)]
    b = rng.uniform(-1, 1)
    ws, xs, bias = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    out = autodiff.sum([autodiff.dot(ws, xs, bias=bias).tanh(), autodiff.dot(xs, xs)])
    out.backward()

    tw, tx = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w, x))
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    t_out = torch.tanh(tw @ tx + tb) + tx @ tx
    t_out.backward()
    assert near(out.data, t_out.item())
    assert all(map(near, [v.grad for v in ws], tw.grad.tolist()))
    assert all(map(near, [v.grad for v in xs], tx.grad.tolist()))
    assert near(bias.grad, tb.grad.item())
