"""Second derivatives (gradients(create_graph=True), then again) against PyTorch float64.

The first-order fuzz (test_fuzz_torch.py) checks each rule's numbers; this checks that
the rules differentiate again to the right thing: a rule that chooses by the data must
choose with ``m.select``, never compute through an op (abs, relu) whose own derivative
would then enter the second order. The bar is a structural one, 1e-4 relative: PyTorch's
own double backward is not exact everywhere (for log_sigmoid(x ** 3) at 3 it is off by
4e-5 relative, where ours matches the closed form), and second derivatives through an
infinite first derivative (sqrt at 0) are not compared.
"""

import itertools
import math

import pytest
import torch

from autodiff import Value, gradients

F = torch.nn.functional
UNARY = {  # the engine's op and PyTorch's, on a Value and on a 0-d tensor
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "log1p": (lambda v: v.log1p(), torch.log1p),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt),
    "sin": (lambda v: v.sin(), torch.sin),
    "cos": (lambda v: v.cos(), torch.cos),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "softplus": (lambda v: v.softplus(), F.softplus),
    "log_sigmoid": (lambda v: v.log_sigmoid(), F.logsigmoid),
    "relu": (lambda v: v.relu(), torch.relu),
    "abs": (lambda v: abs(v), torch.abs),
    "**2": (lambda v: v ** 2, lambda t: t ** 2),
    "**3": (lambda v: v ** 3, lambda t: t ** 3),
    "**0.5": (lambda v: v ** 0.5, lambda t: t ** 0.5),
    "1/x": (lambda v: 1.0 / v, lambda t: 1.0 / t),
    "tan": (lambda v: v.tan(), torch.tan),
    "arcsin": (lambda v: v.arcsin(), torch.asin),
    "arccos": (lambda v: v.arccos(), torch.acos),
    "arctan": (lambda v: v.arctan(), torch.atan),
    "sinh": (lambda v: v.sinh(), torch.sinh),
    "cosh": (lambda v: v.cosh(), torch.cosh),
    "log2": (lambda v: v.log2(), torch.log2),
    "log10": (lambda v: v.log10(), torch.log10),
    "expm1": (lambda v: v.expm1(), torch.expm1),
    "floor": (lambda v: v.floor(), torch.floor),
    "ceil": (lambda v: v.ceil(), torch.ceil),
    "sign": (lambda v: v.sign(), torch.sign),
}
# Ordinary points, zero of both signs included; softplus stays below PyTorch's threshold
# of 20, past which it returns x itself (ours keeps the exact value: docs/trust.md).
POINTS = [-2.0, -0.5, -0.0, 0.0, 0.3, 1.0, 3.0]


def engine_second(f, x):
    v = Value(x)
    (g,) = gradients(f(v), [v], create_graph=True)
    (h,) = gradients(g, [v])
    return g.data, h


def torch_second(f, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(t), t, create_graph=True)
    h = torch.autograd.grad(g, t, allow_unused=True)[0] if g.requires_grad else None
    return g.item(), 0.0 if h is None else h.item()


def agree(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-12 + 1e-4 * max(abs(a), abs(b))


@pytest.mark.parametrize("outer, inner", list(itertools.product(UNARY, repeat=2)))
def test_second_derivatives_of_two_ops_agree_with_pytorch(outer, inner):
    (f_outer, t_outer), (f_inner, t_inner) = UNARY[outer], UNARY[inner]
    for x in POINTS:
        ours = engine_second(lambda v: f_outer(f_inner(v)), x)
        theirs = torch_second(lambda t: t_outer(t_inner(t)), x)
        if not math.isfinite(theirs[0]):
            continue
        assert agree(ours[0], theirs[0]) and agree(ours[1], theirs[1]), (f"{outer}({inner}(x)) at {x!r}", ours, theirs)


def test_log_sigmoid_bends_at_zero():
    # log_sigmoid'' = -sigmoid(x) sigmoid(-x): -1/4 at 0, a closed form
    assert engine_second(lambda v: v.log_sigmoid(), 0.0)[1] == -0.25
    assert engine_second(lambda v: v.log_sigmoid(), -0.0)[1] == -0.25
