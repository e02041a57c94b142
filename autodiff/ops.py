"""The op table: every primitive once, its forward on floats beside its local derivative.

A rule ``local_grads(m, out, *inputs)`` returns d out / d input for each input. It is a
pure function of the inputs and the output, written against a small math namespace
``m`` so that one rule serves every order of differentiation:

- ``FLOAT_MATH`` (here): floats in, floats out: the fast first-order backward pass;
- the ``Value`` namespace (``value.py``): ``Value``s in, ``Value``s out, so that the
  gradient is itself a graph and can be differentiated again.

Inside a rule, ``+ - *`` and unary ``-`` are written as operators (floats and ``Value``s
both have them); division and powers go through ``m.div`` and ``m.pow``, because Python
raises on ``1.0 / 0.0`` where IEEE 754 (and PyTorch) give ``inf`` (``m.pow`` for a
``Value`` exponent, ``m.pow_by_constant`` for a number). Branches look at
``m.data(x)`` (the plain number) and choose with ``m.select``: derivatives of
piecewise functions are chosen by the data, never differentiated through.

Every forward follows IEEE 754 float64 as PyTorch does: no op raises or warns for any
float input; overflow gives ``inf``, a domain error gives ``nan``.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np


# --- IEEE 754 float functions -------------------------------------------------------
def _ieee(fast: Callable[..., float], exact: Callable) -> Callable[..., float]:
    """``fast`` (Python's math) where it returns; numpy's C semantics where it raises.

    Python's ``math`` raises on overflow, poles and domain errors; numpy's ufuncs give
    the IEEE result (inf, -inf, nan) instead. The exceptional path is rare, so the common
    case keeps the speed of ``math``.
    """

    def function(*xs: float) -> float:
        try:
            return fast(*xs)
        except (ValueError, OverflowError, ZeroDivisionError):
            with np.errstate(all="ignore"):
                return float(exact(*map(np.float64, xs)))

    function.__name__ = exact.__name__
    return function


div = _ieee(operator.truediv, np.divide)
power = _ieee(math.pow, np.power)
exp = _ieee(math.exp, np.exp)
log = _ieee(math.log, np.log)
sqrt = _ieee(math.sqrt, np.sqrt)
sin = _ieee(math.sin, np.sin)
cos = _ieee(math.cos, np.cos)
tanh = math.tanh  # never raises; exactly +-1 in the tails


def power_by_constant(x: float, exponent: float) -> float:
    """``x ** exponent`` for a constant exponent, as PyTorch computes it.

    PyTorch takes x ** 0.5 as sqrt(x) and x ** -0.5 as 1 / sqrt(x); they part from C's
    pow only at -inf, where they give nan.
    """
    if exponent == 0.5:
        return sqrt(x)
    if exponent == -0.5:
        return div(1.0, sqrt(x))
    return power(x, exponent)


def sigmoid(x: float) -> float:
    # Two forms so that exp() only ever sees a non-positive argument: no overflow,
    # and sigmoid(-1000) is exactly 0.0 rather than 1 / (1 + inf).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # nan lands here too, and stays nan
    return e / (1.0 + e)


def softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact in both tails, softplus(1000) = 1000.
    if x != x:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def log_sigmoid(x: float) -> float:
    # log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|): log_sigmoid(-1000) = -1000, not -inf.
    if x != x:
        return x
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


def relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # nan <= 0 is False: relu(nan) is nan


# --- the math namespace for floats ----------------------------------------------------
def select(condition: bool, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (both already computed)."""
    return if_true if condition else if_false


def _sign(m, x):
    """sign(x) as PyTorch defines it for abs'(x): 0 at 0 and at nan."""
    x = m.data(x)
    return m.select(x > 0, 1.0, m.select(x < 0, -1.0, 0.0))


# --- the table ------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One primitive: how graphs name it, its forward, and its local derivative rule.

    >>> MUL.forward(2.0, 3.0), MUL.local_grads(FLOAT_MATH, 6.0, 2.0, 3.0)
    (6.0, (3.0, 2.0))
    """

    name: str
    arity: int | None  # how many inputs; None for any number (sum, dot)
    forward: Callable[..., float]
    local_grads: Callable[..., tuple]

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _pow_grads(m, out, a, b):
    # As PyTorch: d/da is 0 where b == 0 (so 0 ** 0 has gradient 0, not 0 * inf), and
    # d/db is 0 where a == 0 and b >= 0 (the limit, not out * log(0) = 0 * -inf).
    a_, b_ = m.data(a), m.data(b)
    d_a = m.select(b_ == 0, 0.0, b * m.pow(a, b - 1.0))
    d_b = m.select((a_ == 0) & (b_ >= 0), 0.0, out * m.log(a))
    return d_a, d_b


ADD = Op("+", 2, operator.add, lambda m, out, a, b: (1.0, 1.0))
SUB = Op("-", 2, operator.sub, lambda m, out, a, b: (1.0, -1.0))
MUL = Op("*", 2, operator.mul, lambda m, out, a, b: (b, a))
DIV = Op("/", 2, div, lambda m, out, a, b: (m.div(1.0, b), -m.div(out, b)))
NEG = Op("neg", 1, operator.neg, lambda m, out, x: (-1.0,))
POW = Op("**", 2, power, _pow_grads)
EXP = Op("exp", 1, exp, lambda m, out, x: (out,))
LOG = Op("log", 1, log, lambda m, out, x: (m.div(1.0, x),))
SQRT = Op("sqrt", 1, sqrt, lambda m, out, x: (m.div(0.5, out),))
SIN = Op("sin", 1, sin, lambda m, out, x: (m.cos(x),))
COS = Op("cos", 1, cos, lambda m, out, x: (-m.sin(x),))
TANH = Op("tanh", 1, tanh, lambda m, out, x: (1.0 - out * out,))
SIGMOID = Op("sigmoid", 1, sigmoid, lambda m, out, x: (out * (1.0 - out),))
SOFTPLUS = Op("softplus", 1, softplus, lambda m, out, x: (m.sigmoid(x),))
LOG_SIGMOID = Op("log_sigmoid", 1, log_sigmoid, lambda m, out, x: (m.sigmoid(-x),))
# relu'(0) = 0 and abs'(0) = 0, as PyTorch; relu' passes nan through as PyTorch does.
RELU = Op("relu", 1, relu, lambda m, out, x: (m.select(m.data(x) <= 0, 0.0, 1.0),))
ABS = Op("abs", 1, abs, lambda m, out, x: (_sign(m, x),))
IDENTITY = Op("id", 1, float, lambda m, out, x: (1.0,))
LEAF = Op("", 0, float, lambda m, out: ())  # what a leaf reports as its op: none



def _dot(*inputs: float) -> float:
    n = len(inputs) // 2
    return sum(map(operator.mul, inputs[:n], inputs[n:]))


def _dot_grads(m, out, *inputs):
    n = len(inputs) // 2
    return inputs[n:] + inputs[:n]  # d/dw_i = x_i, d/dx_i = w_i


# A whole sum or a whole neuron, w·x + b, as one node: fewer nodes, a faster backward
# pass, and a drawing that shows a neuron as one step.
SUM = Op("sum", None, lambda *inputs: sum(inputs), lambda m, out, *inputs: (1.0,) * len(inputs))
DOT = Op("dot", None, _dot, _dot_grads)  # inputs: w_1..w_n, x_1..x_n
LINEAR = Op(  # inputs: w_1..w_n, x_1..x_n, b
    "w·x+b", None,
    lambda *inputs: _dot(*inputs[:-1]) + inputs[-1],
    lambda m, out, *inputs: _dot_grads(m, out, *inputs[:-1]) + (1.0,),
)



def logsumexp(*xs: float) -> float:
    # log(sum(e^x)) = top + log(sum(e^(x - top))): no overflow, exact for logits of +-1000.
    top = max(xs)
    if any(x != x for x in xs) or math.isinf(top):
        return math.nan if any(x != x for x in xs) else top
    return top + math.log(sum(math.exp(x - top) for x in xs))


def _clamped_log(m, x):
    """log(x), but never below -100: PyTorch's binary cross-entropy clamps its logs so."""
    log_x = m.log(x)
    return m.select(m.data(log_x) < -100.0, -100.0, log_x)


def _bce(p: float, t: float) -> float:
    return -(t * _clamped_log(FLOAT_MATH, p) + (1.0 - t) * _clamped_log(FLOAT_MATH, 1.0 - p))


_BCE_EPSILON = 9.999999960041972e-13  # PyTorch's guard: 1e-12 as a float32, then widened


def _bce_grads(m, out, p, t):
    # PyTorch's rule, which the clamp would otherwise turn into 0 * inf at p = 0 or 1:
    # d/dp = (p - t) / max(p (1 - p), epsilon).
    p_ = m.data(p)
    guard = m.select(p_ * (1.0 - p_) < _BCE_EPSILON, _BCE_EPSILON, p * (1.0 - p))
    d_p = m.div(p - t, guard)
    d_t = _clamped_log(m, 1.0 - p) - _clamped_log(m, p)
    return d_p, d_t


# softmax_i = e^(x_i - logsumexp): the gradient of log-sum-exp, itself stable.
LOGSUMEXP = Op("logsumexp", None, logsumexp, lambda m, out, *xs: tuple(m.exp(x - out) for x in xs))
BCE = Op("bce", 2, _bce, _bce_grads)  # inputs: probability, target

UNARY_METHODS = {
    op.name: op
    for op in (EXP, LOG, SQRT, SIN, COS, TANH, SIGMOID, SOFTPLUS, LOG_SIGMOID, RELU)
}
"""The ops a ``Value`` offers as methods of the same name: ``x.exp()``, ``x.relu()``..."""


@functools.lru_cache(maxsize=256)
def power_by(exponent: float) -> Op:
    """The op ``x ** exponent`` for a constant exponent (no gradient for the exponent).

    One op per exponent, shared by every node that uses it, so nodes stay small.

    >>> power_by(2.0).name, power_by(2.0).forward(3.0)
    ('**2', 9.0)
    """
    shown = f"{exponent:g}"

    def local_grads(m, out, x):
        if exponent == 0:  # as PyTorch: x ** 0 has gradient 0 everywhere, even at 0
            return (0.0,)
        return (exponent * m.pow_by_constant(x, exponent - 1.0),)

    return Op(f"**{shown}", 1, lambda x: power_by_constant(x, exponent), local_grads)


FLOAT_MATH = SimpleNamespace(
    data=lambda x: x,
    select=select,
    div=div,
    pow=power,
    pow_by_constant=power_by_constant,
    **{name: op.forward for name, op in UNARY_METHODS.items()},
)
"""The math namespace of the first-order pass: plain floats."""
