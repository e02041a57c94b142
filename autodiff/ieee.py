"""The numerics of every forward, on floats and on numpy arrays: IEEE 754 float64 as
PyTorch computes it. No function raises or warns for any input: overflow gives inf,
a pole ±inf, a domain error nan. The array forms serve ``compile``; the caller runs
them under ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

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
tan = _ieee(math.tan, np.tan)
arcsin = _ieee(math.asin, np.arcsin)
arccos = _ieee(math.acos, np.arccos)
arctan = math.atan  # never raises
sinh = _ieee(math.sinh, np.sinh)
cosh = _ieee(math.cosh, np.cosh)
log2 = _ieee(math.log2, np.log2)
log10 = _ieee(math.log10, np.log10)
expm1 = _ieee(math.expm1, np.expm1)
arctan2 = math.atan2  # never raises; C99's signed zeros and infinities, as PyTorch
hypot = _ieee(math.hypot, np.hypot)
fmod = _ieee(math.fmod, np.fmod)
# Python's a // b is PyTorch's floor division (both from fmod, exact where floor(a / b)
# rounds: 1 // 0.1 is 9); it raises only for b == 0, where both give a / b.
floor_divide = _ieee(operator.floordiv, np.divide)


def _rounded(whole: Callable[[float], int]) -> Callable[[float], float]:
    """floor or ceil as a float: inf and nan stay, and a zero keeps x's sign
    (ceil(-0.5) is -0.0, as IEEE's and PyTorch's)."""

    def function(x: float) -> float:
        if not math.isfinite(x):
            return x
        return float(whole(x)) or math.copysign(0.0, x)

    function.__name__ = whole.__name__
    return function


floor = _rounded(math.floor)
ceil = _rounded(math.ceil)


def remainder(a: float, b: float) -> float:
    """a % b with the sign of b, as PyTorch's remainder: fmod(a, b), moved by b when the
    signs differ. A zero keeps fmod's sign (remainder(-4, 2) is -0.0, where Python's %
    gives 0.0); a zero divisor gives nan, where Python raises.

    >>> remainder(-5.0, 3.0), remainder(5.0, -3.0), remainder(1.0, 0.0)
    (1.0, -1.0, nan)
    """
    r = fmod(a, b)
    return r + b if r != 0 and (b < 0) != (r < 0) else r


def remainder_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r = np.fmod(a, b)
    return np.where((r != 0) & ((b < 0) != (r < 0)), r + b, r)


def maximum(a: float, b: float) -> float:
    """The larger, as PyTorch's maximum: nan if either is nan, ``a`` on a tie (so that
    maximum(-0.0, 0.0) is -0.0)."""
    return b if a < b or math.isnan(b) else a


def minimum(a: float, b: float) -> float:
    """The smaller, as PyTorch's minimum: nan if either is nan, ``a`` on a tie."""
    return b if b < a or math.isnan(b) else a


# numpy's maximum and minimum give b on a tie: the sign of a zero would differ.
def maximum_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where((a < b) | np.isnan(b), b, a)


def minimum_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where((b < a) | np.isnan(b), b, a)


def power_by_constant(x: float, exponent: float) -> float:
    """``x ** exponent`` for a constant exponent, as PyTorch computes it.

    PyTorch computes the common exponents by products and quotients (x ** 3 is x * x * x,
    rounded twice, where C's pow rounds once) and x ** +-0.5 from sqrt(x) (nan at -inf,
    where pow gives inf). The same special cases give its numbers, to the last bit.

    >>> power_by_constant(3.0, 2.0), power_by_constant(-8.0, -1.0), power_by_constant(4.0, 0.5)
    (9.0, -0.125, 2.0)
    """
    if exponent == 2.0:
        return x * x
    if exponent == 3.0:
        return x * x * x
    if exponent == -1.0:
        return div(1.0, x)
    if exponent == -2.0:
        return div(1.0, x * x)
    if exponent == 0.5:
        return sqrt(x)
    if exponent == -0.5:
        return div(1.0, sqrt(x))
    return power(x, exponent)


_BY_PRODUCTS: dict[float, Callable[[np.ndarray], np.ndarray]] = {
    2.0: lambda x: x * x,
    3.0: lambda x: x * x * x,
    -1.0: lambda x: 1.0 / x,
    -2.0: lambda x: 1.0 / (x * x),
    0.5: np.sqrt,
    -0.5: lambda x: 1.0 / np.sqrt(x),
}


def power_by_constant_array(x: np.ndarray, exponent: float) -> np.ndarray:
    special = _BY_PRODUCTS.get(exponent)
    return special(x) if special is not None else np.power(x, exponent)


def sigmoid(x: float) -> float:
    # PyTorch's form, 1 / (1 + e^-x); nan stays nan.
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # e^-x is inf below -709: 1 / (1 + inf) is 0.0, as in PyTorch
        return 0.0


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


SOFTPLUS_THRESHOLD = 20.0
"""Where PyTorch's softplus stops computing and returns x (and gradient 1)."""


def softplus(x: float) -> float:
    # log(1 + e^x) as PyTorch computes it up to its threshold, 20; above, x + log1p(e^-x)
    # where PyTorch returns x: exact in the tail too (softplus(1000) is 1000). No overflow
    # either side; nan takes the first branch and stays nan.
    if x > SOFTPLUS_THRESHOLD:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def softplus_array(x: np.ndarray) -> np.ndarray:
    return np.where(x > SOFTPLUS_THRESHOLD, x + np.log1p(np.exp(-x)), np.log1p(np.exp(x)))


def log_sigmoid(x: float) -> float:
    # log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|): log_sigmoid(-1000) = -1000, not -inf.
    if x != x:
        return x
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


def log_sigmoid_array(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def relu(x: float) -> float:
    return 0.0 if x < 0 else x  # as PyTorch: relu(-0.0) is -0.0, relu(nan) is nan


def relu_array(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # Not np.maximum(x, 0.0): numpy's max(-0.0, 0.0) is 0.0, where PyTorch keeps -0.0.
    if out is None:
        return np.where(x < 0, 0.0, x)  # nan is not < 0: it stays
    np.copyto(out, x)
    np.putmask(out, x < 0, 0.0)
    return out


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
    if np.isfinite(top).all():  # the common case, in fewer calls: no top to set aside
        return top + np.log(np.exp(stacked - top).sum(axis=0))
    finite_top = np.where(np.isinf(top), 0.0, top)
    total = np.exp(stacked - finite_top).sum(axis=0)
    return np.where(np.isinf(top), top, finite_top + np.log(total))


def dot(xs: tuple[float, ...]) -> float:
    """w_1 x_1 + ... + w_n x_n for inputs w_1..w_n, x_1..x_n, summed left to right."""
    n = len(xs) // 2
    return sum(map(operator.mul, xs[:n], xs[n:]))  # from 0, as PyTorch: a sum of -0.0s is 0.0


def dot_array(stacked: np.ndarray) -> np.ndarray:
    n = len(stacked) // 2
    return sum_rows(stacked[:n] * stacked[n : 2 * n])


def sum_rows(stacked: np.ndarray) -> np.ndarray:
    """The rows added in order from 0.0, as ``sum`` and PyTorch add (numpy's sum starts
    from the first row, so that its sum of -0.0s is -0.0)."""
    return np.add.reduce(stacked, axis=0, initial=0.0)
