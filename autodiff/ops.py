"""The op table: every primitive once, its forward beside its local derivative rule.

A rule ``local_grads(m, out, *inputs)`` returns d out / d input for each input; the chain
rule multiplies each by the output's gradient. Where PyTorch computes an input's gradient
otherwise than as that product, the op has an ``input_grads(m, out, grad, *inputs)`` rule
instead, which returns the inputs' gradients from the output's ``grad``: PyTorch divides
(log: grad / x, which is finite where 1 / x overflows, for a subnormal x), selects (relu:
0 where it is off, whatever the incoming gradient, inf or nan included), or multiplies in
another order (sigmoid). Either rule is a pure function of its arguments, written against
a small math namespace ``m``, so that one rule serves every use:

- ``FLOAT_MATH`` (here): floats in, floats out: the fast first-order backward pass;
- ``ARRAY_MATH`` (here): numpy arrays, one entry per sample: ``compile``'s batches;
- the ``Value`` namespace (``value.py``): ``Value``s in, ``Value``s out, so that the
  gradient is itself a graph and can be differentiated again.

Inside a rule, ``+ - *`` and unary ``-`` are written as operators (floats, arrays and
``Value``s all have them); division and powers go through ``m.div``, ``m.pow`` (a
``Value`` exponent), ``m.pow_by_constant`` (a number) and ``m.floor_divide``, because
Python raises on ``1.0 / 0.0`` where IEEE 754 (and PyTorch) give ``inf``. Branches look at ``m.data(x)``
(the plain number) and choose with ``m.select``: derivatives of piecewise functions are
chosen by the data, never differentiated through.

Forward mode (``forward.py``) pushes tangents with the same rules: for one input, the
local derivative times the tangent, or an ``input_grads`` rule given the tangent as its
gradient (for one input that is the same linear map, in PyTorch's form). An op whose
PyTorch forward-mode formula is neither of these sums also has a ``tangent`` rule,
``tangent(m, out, tangents, *inputs)``, each tangent None where that input has none.

Each op has two forwards with the same numerics (``ieee.py``): ``forward`` on floats and
``batched`` on arrays of shape (k, N), one per input. An op of any arity (sum, dot)
takes its inputs as one sequence instead, in its forwards and in its rule: a tuple of
floats or Values, or one stacked array of shape (arity, k, N); its rule builds its
answer with ``m.concat``, ``m.ones``, ``m.each`` and ``m.positions``, so that on arrays
it is a few numpy calls however many inputs there are.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from . import ieee

FLOAT_MATH = SimpleNamespace()
"""The math namespace of the first-order pass: plain floats (filled below, once the
table's unary ops exist; every op binds its rule to it as it is made)."""
ARRAY_MATH: SimpleNamespace  # compile's math namespace, made below (sign's batched forward uses it)


@dataclass(frozen=True)
class Op:
    """One primitive: how graphs name it, its forwards, and its derivative rule (one of
    two forms, see the module doc).

    >>> MUL.forward(2.0, 3.0), MUL.local_grads(FLOAT_MATH, 6.0, 2.0, 3.0)
    (6.0, (3.0, 2.0))
    >>> LOG.input_grads(FLOAT_MATH, 0.0, 3.0, 1.0)   # grad / x
    (3.0,)
    """

    name: str
    arity: int | None  # how many inputs; None for any number (sum, dot)
    forward: Callable[..., float]
    batched: Callable[..., np.ndarray]
    local_grads: Callable[..., tuple] | None = None
    input_grads: Callable[..., tuple] | None = None
    exponent: float | None = None  # x ** exponent's constant (``power_by``), for backends that write source
    tangent: Callable[..., object] | None = None  # forward mode's rule, where PyTorch's form needs one
    # Set by __post_init__ (below), not given.
    float_local: Callable[..., tuple] | None = field(init=False, repr=False, compare=False)
    float_input_grads: Callable[..., tuple] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.local_grads is None) == (self.input_grads is None):
            raise TypeError(f"op {self.name!r} needs exactly one rule: local_grads or input_grads")
        # The rule bound to FLOAT_MATH, for backward()'s pass on floats: one call less per
        # node. ``float_local(out, *inputs)`` for a local_grads rule, else
        # ``float_input_grads(out, grad, *inputs)`` (fixed-arity ops; None for the others).
        fixed = self.arity is not None
        object.__setattr__(
            self,
            "float_local",
            (fixed and self.local_grads and functools.partial(self.local_grads, FLOAT_MATH)) or None,
        )
        object.__setattr__(
            self,
            "float_input_grads",
            (fixed and self.input_grads and functools.partial(self.input_grads, FLOAT_MATH)) or None,
        )

    def rule(self, m, out, inputs):
        """d out / d input for each of ``inputs`` (a sequence, whatever the arity: spread
        out for a unary or binary op, passed whole to an op of any arity). An
        ``input_grads`` rule answers for an incoming gradient of 1."""
        if self.local_grads is None:
            return self.grads(m, out, 1.0, inputs)
        return self.local_grads(m, out, *inputs) if self.arity is not None else self.local_grads(m, out, inputs)

    def grads(self, m, out, grad, inputs):
        """The gradient of each of ``inputs``, given the output's ``grad``: the op's
        ``input_grads`` rule, or each local derivative times ``grad``."""
        if self.input_grads is None:
            local = self.rule(m, out, inputs)
            if self.arity is None:  # a tuple, or one stacked array (m.each serves both)
                return m.each(lambda d: d * grad, local)
            return tuple(d * grad for d in local)
        if self.arity is None:
            return self.input_grads(m, out, grad, inputs)
        return self.input_grads(m, out, grad, *inputs)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def select(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (both already computed)."""
    return if_true if condition else if_false


# --- rules that take more than a line ---------------------------------------------------
def _pow_grads(m, out, grad, a, b):
    # As PyTorch: d/da is 0 where b == 0, whatever grad is (0 ** 0 has gradient 0, not
    # 0 * inf); d/db is grad times 0 where a == 0 and b >= 0 (the limit, not
    # out * log(0) = 0 * -inf), so an infinite grad still makes it nan there.
    a_, b_ = m.data(a), m.data(b)
    d_a = m.select(b_ == 0, 0.0, grad * (b * m.pow(a, b - 1.0)))
    d_b = grad * m.select((a_ == 0) & (b_ >= 0), 0.0, out * m.log(a))
    return d_a, d_b


def _softplus_grads(m, out, grad, x):
    # PyTorch's form up to its threshold: grad * e^x / (e^x + 1); above it the derivative of
    # our forward, sigmoid(x) (PyTorch's forward there is x, its gradient grad).
    z = m.exp(x)
    return (m.select(m.data(x) > ieee.SOFTPLUS_THRESHOLD, grad * m.sigmoid(x), m.div(grad * z, z + 1.0)),)


def _log_sigmoid_grads(m, out, x):
    # PyTorch's form: with z = e^-|x|, 1 - z / (1 + z) below 0 and z / (1 + z) above.
    # -|x| is chosen by the sign, not computed with abs: differentiated again (a second
    # derivative), abs would give 0 at x = 0, where log_sigmoid'' is -1/4.
    z = m.exp(m.select(m.data(x) < 0, x, -x))
    tail = m.div(z, 1.0 + z)
    return (m.select(m.data(x) < 0, 1.0 - tail, tail),)


def _sign(m, x):
    """sign(x) as PyTorch defines it for abs'(x): 0 at 0 and at nan."""
    x = m.data(x)
    return m.select(x > 0, 1.0, m.select(x < 0, -1.0, 0.0))


def _zero_grads(m, out, grad, x):
    # PyTorch's zeros_like(grad): 0 whatever the incoming gradient, inf and nan included
    # (floor, ceil and sign are flat between their steps; x ** 0 is flat everywhere).
    return (0.0,)


def _arctan2_grads(m, out, grad, y, x):
    # PyTorch's: grad * x / (y² + x²) and grad * -y / (y² + x²), each times the
    # reciprocal, taken as 0 where y² + x² is 0 (at the origin, and where both squares
    # underflow): the gradient there is grad * 0, not 0 * inf.
    squares = y * y + x * x
    reciprocal = m.select(m.data(squares) == 0, 0.0, m.div(1.0, squares))
    return grad * x * reciprocal, grad * -y * reciprocal


def _larger_grads(m, grad, a_, b_):
    """PyTorch's gradients of maximum(a, b) for the numbers ``a_`` and ``b_``: grad to
    the larger, 0 to the other, half each on a tie; where one is nan, grad to both."""
    share = m.select(a_ == b_, grad * 0.5, grad)  # grad * 0.5 is grad / 2, to the bit
    return m.select(a_ < b_, 0.0, share), m.select(a_ > b_, 0.0, share)


def _larger_tangent(m, t_a, t_b, a_, b_):
    """PyTorch's forward form of maximum(a, b) for the numbers ``a_`` and ``b_``:
    t_b + w (t_a - t_b), w being 1 where a is larger, 0 where b is (or one is nan), 1/2
    on a tie. A product, not a choice: an infinite tangent on the smaller input is nan."""
    w = m.select(a_ == b_, 0.5, m.select(a_ > b_, 1.0, 0.0))
    if t_b is None:
        return w * t_a
    if t_a is None:
        return t_b - w * t_b
    return t_b + w * (t_a - t_b)


def _arctan2_tangent(m, out, tangents, y, x):
    # PyTorch's forward form, (x t_y - y t_x) / (y² + x²), unguarded: nan at the origin.
    t_y, t_x = tangents
    if t_x is None:
        return m.div(x * t_y, y * y + x * x)
    if t_y is None:
        return m.div(-(y * t_x), y * y + x * x)
    return m.div(x * t_y - y * t_x, y * y + x * x)


def _dot_grads(m, out, xs):
    n = len(xs) // 2
    return m.concat(xs[n:], xs[:n])  # d/dw_i = x_i, d/dx_i = w_i


def _linear_grads(m, out, xs):
    n = len(xs) // 2
    return m.concat(xs[n : 2 * n], xs[:n], m.ones(xs, 1))  # ... and d/db = 1


def _clamp_log(m, log_x):
    """A log, but never below -100: PyTorch's binary cross-entropy clamps its logs so."""
    return m.select(m.data(log_x) < -100.0, -100.0, log_x)


def _bce(m, p, t):
    # log(1 - p) as log1p(-p), as PyTorch: exact for tiny p, where 1 - p rounds.
    return -(t * _clamp_log(m, m.log(p)) + (1.0 - t) * _clamp_log(m, m.log1p(-p)))


_BCE_EPSILON = 9.999999960041972e-13  # PyTorch's guard: 1e-12 as a float32, then widened


def _bce_grads(m, out, grad, p, t):
    # PyTorch's rule, which the clamp would otherwise turn into 0 * inf at p = 0 or 1:
    # d/dp = grad (p - t) / max(p (1 - p), epsilon); d/dt = -logit(p) grad, unclamped.
    p_ = m.data(p)
    guard = m.select(p_ * (1.0 - p_) < _BCE_EPSILON, _BCE_EPSILON, p * (1.0 - p))
    return m.div(grad * (p - t), guard), -m.log(m.div(p, 1.0 - p)) * grad


def _pick(xs):
    """xs[index] for xs = (x_0, ..., x_{n-1}, index): an index must name an entry."""
    index, n = xs[-1], len(xs) - 1
    if not (index.is_integer() and 0 <= index < n):
        raise ValueError(f"pick: the index is {index!r}, not an integer in 0..{n - 1}")
    return xs[int(index)]


def _pick_array(xs):
    """``_pick`` for every sample: xs stacked, (n + 1, k, N), indices in xs[-1]."""
    index, n = xs[-1], len(xs) - 1
    with np.errstate(invalid="ignore"):  # nan and inf have no integer: they fail the test below
        whole = index.astype(np.intp)
    right = (whole == index) & (whole >= 0) & (whole < n)
    if not right.all():
        node, sample = np.argwhere(~right)[0]
        raise pick_index_error(sample, index[node, sample].item(), n)
    # Entry (whole[j, s], j, s) of xs, by its position in xs's entries: one gather.
    return xs.reshape(n + 1, -1)[whole.ravel(), np.arange(index.size)].reshape(index.shape)


def _pick_grads(m, out, grad, xs):
    # grad for the entry picked, 0 for the others and for the index itself (at position
    # n, which an index never names): a choice, not a function of the index's number.
    index = m.data(xs[-1])
    return m.each(lambda position: m.select(position == index, grad, 0.0), m.positions(xs))


def _bce_forward(p, t):
    if not (0.0 <= p <= 1.0 and 0.0 <= t <= 1.0):  # nan fails too
        raise ValueError(f"binary cross-entropy takes a probability and a target in [0, 1], got {p!r} and {t!r}")
    return _bce(FLOAT_MATH, p, t)


def _bce_batched(p, t):
    # As PyTorch, a probability or target outside [0, 1] (or nan) is an error, not a nan
    # loss; in a compiled program it is found here, with the sample it came from.
    outside = ~((p >= 0.0) & (p <= 1.0) & (t >= 0.0) & (t <= 1.0))
    if outside.any():
        node, sample = np.argwhere(outside)[0]
        raise bce_range_error(sample, p[node, sample].item(), t[node, sample].item())
    return _bce(ARRAY_MATH, p, t)


# The errors of a batch that breaks an op's domain, wherever the batch runs (numpy here,
# PyTorch in torch_forms.py): they name the sample.
def pick_index_error(sample: int, index: float, n: int) -> ValueError:
    return ValueError(
        f"pick: sample {sample} has index {index!r}, "
        f"not an integer in 0..{n - 1} (a class index, as a cross-entropy target)"
    )


def bce_range_error(sample: int, p: float, t: float) -> ValueError:
    return ValueError(
        f"binary cross-entropy of sample {sample}: the probability is {p!r} "
        f"and the target {t!r}; both must lie in [0, 1]"
    )


def _div_tangent(m, out, tangents, a, b):
    # PyTorch's forward form, (t_a - t_b out) / b: one division, so that a tangent of 0 on
    # b adds no 0 * inf where out / b overflows (a tiny b) and t_a / b is finite.
    t_a, t_b = tangents
    if t_b is None:
        return m.div(t_a, b)
    if t_a is None:
        return m.div(-t_b * out, b)
    return m.div(t_a - t_b * out, b)


# --- the table ----------------------------------------------------------------------------
ADD = Op("+", 2, operator.add, np.add, lambda m, out, a, b: (1.0, 1.0))
SUB = Op("-", 2, operator.sub, np.subtract, lambda m, out, a, b: (1.0, -1.0))
MUL = Op("*", 2, operator.mul, np.multiply, lambda m, out, a, b: (b, a))
DIV = Op(
    "/",
    2,
    ieee.div,
    np.divide,
    input_grads=lambda m, out, grad, a, b: (m.div(grad, b), -grad * m.div(out, b)),
    tangent=_div_tangent,
)
NEG = Op("neg", 1, operator.neg, np.negative, lambda m, out, x: (-1.0,))
POW = Op("**", 2, ieee.power, np.power, input_grads=_pow_grads)
EXP = Op("exp", 1, ieee.exp, np.exp, lambda m, out, x: (out,))
LOG = Op("log", 1, ieee.log, np.log, input_grads=lambda m, out, grad, x: (m.div(grad, x),))
LOG1P = Op("log1p", 1, ieee.log1p, np.log1p, input_grads=lambda m, out, grad, x: (m.div(grad, x + 1.0),))
SQRT = Op("sqrt", 1, ieee.sqrt, np.sqrt, input_grads=lambda m, out, grad, x: (m.div(grad, 2.0 * out),))
SIN = Op("sin", 1, ieee.sin, np.sin, lambda m, out, x: (m.cos(x),))
COS = Op("cos", 1, ieee.cos, np.cos, lambda m, out, x: (-m.sin(x),))
TANH = Op("tanh", 1, ieee.tanh, np.tanh, lambda m, out, x: (1.0 - out * out,))
TAN = Op("tan", 1, ieee.tan, np.tan, lambda m, out, x: (1.0 + out * out,))
# arcsin' = 1 / sqrt(1 - x²), PyTorch's rsqrt: inf at +-1, nan outside [-1, 1].
ARCSIN = Op("arcsin", 1, ieee.arcsin, np.arcsin, lambda m, out, x: (m.pow_by_constant(1.0 - x * x, -0.5),))
ARCCOS = Op("arccos", 1, ieee.arccos, np.arccos, lambda m, out, x: (-m.pow_by_constant(1.0 - x * x, -0.5),))
ARCTAN = Op("arctan", 1, ieee.arctan, np.arctan, input_grads=lambda m, out, grad, x: (m.div(grad, x * x + 1.0),))
SINH = Op("sinh", 1, ieee.sinh, np.sinh, lambda m, out, x: (m.cosh(x),))
COSH = Op("cosh", 1, ieee.cosh, np.cosh, lambda m, out, x: (m.sinh(x),))
EXPM1 = Op("expm1", 1, ieee.expm1, np.expm1, lambda m, out, x: (out + 1.0,))
# PyTorch divides by x times its constants for log(2) and log(10), rounded once; its
# log(10) is the double just below the nearest one (math.log(10.0), 2.302585092994046).
_LN2, _LN10 = 0.6931471805599453, 2.3025850929940456
LOG2 = Op("log2", 1, ieee.log2, np.log2, input_grads=lambda m, out, grad, x: (m.div(grad, x * _LN2),))
LOG10 = Op("log10", 1, ieee.log10, np.log10, input_grads=lambda m, out, grad, x: (m.div(grad, x * _LN10),))
SIGMOID = Op(
    "sigmoid", 1, ieee.sigmoid, ieee.sigmoid_array, input_grads=lambda m, out, grad, x: (grad * (1.0 - out) * out,)
)
SOFTPLUS = Op("softplus", 1, ieee.softplus, ieee.softplus_array, input_grads=_softplus_grads)
LOG_SIGMOID = Op("log_sigmoid", 1, ieee.log_sigmoid, ieee.log_sigmoid_array, _log_sigmoid_grads)
# relu'(0) = 0 and abs'(0) = 0, as PyTorch. relu selects, by its output as PyTorch does: 0
# where it is off whatever the incoming gradient; nan passes the gradient through.
RELU = Op(
    "relu",
    1,
    ieee.relu,
    ieee.relu_array,
    input_grads=lambda m, out, grad, x: (m.select(m.data(out) <= 0, 0.0, grad),),
)
ABS = Op("abs", 1, abs, np.abs, lambda m, out, x: (_sign(m, x),))
SIGN = Op("sign", 1, lambda x: _sign(FLOAT_MATH, x), lambda x: _sign(ARRAY_MATH, x), input_grads=_zero_grads)
FLOOR = Op("floor", 1, ieee.floor, np.floor, input_grads=_zero_grads)
CEIL = Op("ceil", 1, ieee.ceil, np.ceil, input_grads=_zero_grads)
IDENTITY = Op("id", 1, float, np.positive, lambda m, out, x: (1.0,))
LEAF = Op("", 0, float, np.positive, lambda m, out: ())  # what a leaf reports as its op: none

# A whole sum or a whole neuron, w·x + b, as one node: fewer nodes, a faster backward
# pass, and a drawing that shows a neuron as one step.
SUM = Op("sum", None, sum, ieee.sum_rows, lambda m, out, xs: m.ones(xs, len(xs)))
DOT = Op("dot", None, ieee.dot, ieee.dot_array, _dot_grads)  # inputs: w_1..w_n, x_1..x_n
LINEAR = Op(  # inputs: w_1..w_n, x_1..x_n, b
    "w·x+b",
    None,
    lambda xs: ieee.dot(xs[:-1]) + xs[-1],
    lambda xs: ieee.dot_array(xs[:-1]) + xs[-1],
    _linear_grads,
)
# softmax_i = e^(x_i - logsumexp): the gradient of log-sum-exp, itself stable.
LOGSUMEXP = Op(
    "logsumexp",
    None,
    ieee.logsumexp,
    ieee.logsumexp_array,
    lambda m, out, xs: m.each(lambda x: m.exp(x - out), xs),
)
ARCTAN2 = Op(
    "arctan2", 2, ieee.arctan2, np.arctan2, input_grads=_arctan2_grads, tangent=_arctan2_tangent
)  # inputs: y, x
HYPOT = Op(
    "hypot",
    2,
    ieee.hypot,
    np.hypot,
    input_grads=lambda m, out, grad, a, b: (m.div(grad * a, out), m.div(grad * b, out)),  # nan at the origin
)
MAXIMUM = Op(
    "maximum",
    2,
    ieee.maximum,
    ieee.maximum_array,
    input_grads=lambda m, out, grad, a, b: _larger_grads(m, grad, m.data(a), m.data(b)),
    tangent=lambda m, out, tangents, a, b: _larger_tangent(m, tangents[0], tangents[1], m.data(a), m.data(b)),
)
MINIMUM = Op(
    "minimum",
    2,
    ieee.minimum,
    ieee.minimum_array,  # maximum's, each comparison turned round
    input_grads=lambda m, out, grad, a, b: _larger_grads(m, grad, m.data(b), m.data(a)),
    tangent=lambda m, out, tangents, a, b: _larger_tangent(m, tangents[0], tangents[1], m.data(b), m.data(a)),
)
# a // b, flat between its steps: gradient 0 for both, whatever the incoming one (PyTorch's).
FLOOR_DIVIDE = Op("//", 2, ieee.floor_divide, np.floor_divide, input_grads=lambda m, out, grad, a, b: (0.0, 0.0))
# a % b = a - b (a // b), with the sign of b (PyTorch's remainder): d/da = 1, d/db = -(a // b).
MOD = Op("%", 2, ieee.remainder, ieee.remainder_array, lambda m, out, a, b: (1.0, -m.floor_divide(a, b)))
BCE = Op("bce", 2, _bce_forward, _bce_batched, input_grads=_bce_grads)  # inputs: probability, target

# Entry ``index`` of a list, the index being a Value too (a class given per sample):
# inputs x_0..x_{n-1}, index. It selects, as PyTorch's indexing does: the entries not
# picked get 0 whatever the incoming gradient (inf included).
PICK = Op("pick", None, _pick, _pick_array, input_grads=_pick_grads)

UNARY_METHODS = {
    op.name: op
    for op in (
        EXP,
        LOG,
        LOG1P,
        SQRT,
        SIN,
        COS,
        TANH,
        SIGMOID,
        SOFTPLUS,
        LOG_SIGMOID,
        RELU,
        TAN,
        ARCSIN,
        ARCCOS,
        ARCTAN,
        SINH,
        COSH,
        LOG2,
        LOG10,
        EXPM1,
        FLOOR,
        CEIL,
        SIGN,
    )
}
"""The ops a ``Value`` offers as methods of the same name: ``x.exp()``, ``x.relu()``..."""


@functools.lru_cache(maxsize=256)
def power_by(exponent: float) -> Op:
    """The op ``x ** exponent`` for a constant exponent (no gradient for the exponent).

    One op per exponent, shared by every node that uses it, so nodes stay small.

    >>> power_by(2.0).name, power_by(2.0).forward(3.0)
    ('**2', 9.0)
    """

    def local_grads(m, out, x):
        return (exponent * m.pow_by_constant(x, exponent - 1.0),)

    return Op(
        f"**{exponent:g}",
        1,
        lambda x: ieee.power_by_constant(x, exponent),
        lambda x: ieee.power_by_constant_array(x, exponent),
        **({"input_grads": _zero_grads} if exponent == 0 else {"local_grads": local_grads}),
        exponent=exponent,
    )


def concat(*parts: tuple) -> tuple:
    """The parts one after another (tuples of floats or Values)."""
    return tuple(itertools.chain.from_iterable(parts))


def ones(like: tuple, count: int) -> tuple:
    return (1.0,) * count


def each(f: Callable, xs: tuple) -> tuple:
    return tuple(map(f, xs))


def positions(xs: tuple) -> range:
    """The position of each input: 0, 1, ..."""
    return range(len(xs))


SEQUENCES = {"concat": concat, "ones": ones, "each": each, "positions": positions}
"""How rules of any arity build their answers from tuples (floats and Values)."""

vars(FLOAT_MATH).update(
    data=lambda x: x,
    select=select,
    **SEQUENCES,
    div=ieee.div,
    pow=ieee.power,
    pow_by_constant=ieee.power_by_constant,
    floor_divide=ieee.floor_divide,
    **{name: op.forward for name, op in UNARY_METHODS.items()},
)

ARRAY_MATH = SimpleNamespace(
    data=lambda x: x,
    select=np.where,
    concat=lambda *parts: np.concatenate(parts),
    ones=lambda like, count: np.ones((count, *like.shape[1:])),
    each=lambda f, xs: f(xs),  # a stacked array: f applies to every input at once
    positions=lambda xs: np.arange(len(xs)).reshape(-1, *(1,) * (xs.ndim - 1)),
    div=np.divide,
    pow=np.power,
    pow_by_constant=ieee.power_by_constant_array,
    floor_divide=np.floor_divide,
    **{name: op.batched for name, op in UNARY_METHODS.items()},
)
"""The math namespace of compiled programs: numpy arrays, one entry per sample."""
