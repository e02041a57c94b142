"""The numerics of every forward, on floats and on numpy arrays: IEEE 754 float64 as
PyTorch computes it. No function raises or warns for any input: overflow gives inf,
a pole ±inf, a domain error nan. The array forms serve ``compile``; the caller runs
them under ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import math
import operator
from typing import Callable

import numpy as np


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
log1p = _ieee(math.log1p, np.log1p)
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


def power_by_constant_array(x: np.ndarray, exponent: float) -> np.ndarray:
    if exponent == 0.5:
        return np.sqrt(x)
    if exponent == -0.5:
        return 1.0 / np.sqrt(x)
    return np.power(x, exponent)


def sigmoid(x: float) -> float:
    # Two forms so that exp() only ever sees a non-positive argument: no overflow,
    # and sigmoid(-1000) is exactly 0.0 rather than 1 / (1 + inf).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # nan lands here too, and stays nan
    return e / (1.0 + e)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact in both tails, softplus(1000) = 1000.
    if x != x:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def softplus_array(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def log_sigmoid(x: float) -> float:
    # log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|): log_sigmoid(-1000) = -1000, not -inf.
    if x != x:
        return x
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


def log_sigmoid_array(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def relu(x: float) -> float:
    return 0.0 if x <= 0 else x  # nan <= 0 is False: relu(nan) is nan


def relu_array(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # max(x, 0) keeps nan, as relu does; numpy leaves max(-0.0, 0.0) unspecified, and
    # adding 0.0 makes it 0.0 without changing any other number. Two calls, no copy.
    out = np.maximum(x, 0.0, out=out)
    return np.add(out, 0.0, out=out)


def logsumexp(xs: tuple[float, ...]) -> float:
    # log(sum(e^x)) = top + log(sum(e^(x - top))): no overflow, exact for logits of +-1000.
    top = max(xs)
    if any(x != x for x in xs):
        return math.nan
    if math.isinf(top):
        return top
    return top + math.log(sum(math.exp(x - top) for x in xs))


def logsumexp_array(stacked: np.ndarray) -> np.ndarray:
    top = stacked.max(axis=0)  # nan wins, as in the float form
    finite_top = np.where(np.isinf(top), 0.0, top)
    total = np.exp(stacked - finite_top).sum(axis=0)
    return np.where(np.isinf(top), top, finite_top + np.log(total))


def dot(xs: tuple[float, ...]) -> float:
    """w_1 x_1 + ... + w_n x_n for inputs w_1..w_n, x_1..x_n, summed left to right."""
    n = len(xs) // 2
    return sum(map(operator.mul, xs[:n], xs[n:]))


def dot_array(stacked: np.ndarray) -> np.ndarray:
    n = len(stacked) // 2
    return (stacked[:n] * stacked[n:2 * n]).sum(axis=0)  # rows added in order, as dot()
