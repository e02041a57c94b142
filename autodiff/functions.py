"""The ops offered as functions rather than methods: ``sum``, ``dot``, ``logsumexp`` over
many Values at once, each one node, ``pick`` (an entry chosen by a Value index),
``binary_cross_entropy``, and the ops of two inputs that are no operator: ``arctan2``,
``hypot``, ``maximum`` and ``minimum``.

One node for a whole neuron keeps graphs small and the backward pass fast, and a
drawing shows the neuron as the one step a learner thinks of.
"""

from __future__ import annotations

import itertools
import math  # noqa: F401 (the doctests use it)
from collections.abc import Iterable

from . import ops
from .value import Real, Value, apply, to_float


def sum(values: Iterable[Value | Real]) -> Value:  # noqa: A001 (autodiff.sum, as numpy.sum)
    """The sum of ``values`` as one node; every local gradient is 1.

    >>> import autodiff
    >>> autodiff.sum([Value(1.0), 2.0, Value(3.5)]).data
    6.5
    """
    inputs = _values(values, "sum")
    return apply(ops.SUM, *inputs) if inputs else Value(0.0)


def dot(weights: Iterable[Value | Real], inputs: Iterable[Value | Real], bias: Value | Real | None = None) -> Value:
    """w_1 x_1 + ... + w_n x_n (+ bias) as one node: a neuron before its activation.

    Local gradients: d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1.

    >>> import autodiff
    >>> autodiff.dot([Value(0.5), Value(-1.0)], [2.0, 3.0], bias=Value(0.25)).data
    -1.75
    """
    ws, xs = _values(weights, "dot weights"), _values(inputs, "dot inputs")
    if len(ws) != len(xs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(ws)} weights and {len(xs)} inputs")
    if bias is not None:
        return apply(ops.LINEAR, *ws, *xs, _values([bias], "dot bias")[0])
    return apply(ops.DOT, *ws, *xs) if ws else Value(0.0)


def logsumexp(values: Iterable[Value | Real]) -> Value:
    """log(e^x_1 + ... + e^x_n) as one node, exact even for values of +-1000.

    Its local gradients are the softmax of the values.

    >>> import autodiff
    >>> autodiff.logsumexp([1000.0, 1000.0]).data == 1000.0 + math.log(2.0)
    True
    """
    inputs = _values(values, "logsumexp")
    if not inputs:
        raise ValueError("logsumexp needs at least one value")
    return apply(ops.LOGSUMEXP, *inputs)


def pick(values: Iterable[Value | Real], index: Value | Real) -> Value:
    """``values[index]`` as one node, for an index that is itself a ``Value`` (a class
    given per sample to a compiled program): the gradient is 1 for the entry picked, 0
    for the others and for the index.

    An index that is not an integer in 0..n-1 raises ``ValueError``, here or, in a
    compiled program, at the call, naming the sample.

    >>> import autodiff
    >>> logits, target = [Value(0.5), Value(2.0), Value(-1.0)], Value(1.0)
    >>> picked = autodiff.pick(logits, target); picked.data
    2.0
    >>> picked.backward(); [v.grad for v in logits], target.grad
    ([0.0, 1.0, 0.0], 0.0)
    """
    inputs = _values(values, "pick")
    if not inputs:
        raise ValueError("pick needs at least one value")
    return apply(ops.PICK, *inputs, *_values([index], "pick index"))


def binary_cross_entropy(probability: Value | Real, target: Value | Real) -> Value:
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100, as PyTorch's BCELoss.

    >>> import autodiff
    >>> round(autodiff.binary_cross_entropy(Value(0.9), 1.0).data, 6)
    0.105361
    """
    p, t = _values([probability, target], "binary_cross_entropy")
    return apply(ops.BCE, p, t)


def arctan2(y: Value | Real, x: Value | Real) -> Value:
    """The angle of the point (x, y) in radians, in [-pi, pi], as numpy's and PyTorch's
    ``arctan2(y, x)``: signed zeros and infinities as C's atan2 (arctan2(0.0, -0.0) is
    pi). Gradients x / (x² + y²) for y and -y / (x² + y²) for x; 0 at the origin, as PyTorch.

    >>> import autodiff
    >>> y, x = Value(1.0), Value(-1.0)
    >>> angle = autodiff.arctan2(y, x); angle.data == 3 * math.pi / 4
    True
    >>> angle.backward(); y.grad, x.grad
    (-0.5, -0.5)
    """
    return _two_inputs(ops.ARCTAN2, y, x, ("y", "x"))


def hypot(a: Value | Real, b: Value | Real) -> Value:
    """sqrt(a² + b²) without overflow or underflow on the way (hypot(1e200, 1e200) is
    finite). Gradients a / hypot and b / hypot; nan at the origin, as PyTorch.

    >>> import autodiff
    >>> autodiff.hypot(Value(3.0), 4.0).data
    5.0
    """
    return _two_inputs(ops.HYPOT, a, b, ("a", "b"))


def maximum(a: Value | Real, b: Value | Real) -> Value:
    """The larger of ``a`` and ``b``, as PyTorch's ``maximum``: nan if either is nan. The
    gradient goes to the larger; on a tie each gets half, as PyTorch gives.

    >>> import autodiff
    >>> a, b = Value(2.0), Value(2.0)
    >>> top = autodiff.maximum(a, b); top.backward(); top.data, a.grad, b.grad
    (2.0, 0.5, 0.5)
    """
    return _two_inputs(ops.MAXIMUM, a, b, ("a", "b"))


def minimum(a: Value | Real, b: Value | Real) -> Value:
    """The smaller of ``a`` and ``b``, as PyTorch's ``minimum``: nan if either is nan. The
    gradient goes to the smaller; on a tie each gets half, as PyTorch gives.

    >>> import autodiff
    >>> autodiff.minimum(Value(-1.0), 3.0).data
    -1.0
    """
    return _two_inputs(ops.MINIMUM, a, b, ("a", "b"))


def _two_inputs(op: ops.Op, a: Value | Real, b: Value | Real, names: tuple[str, str]) -> Value:
    """``op`` on ``a`` and ``b``, a number becoming a constant leaf; anything else is a
    TypeError that names the argument."""
    if not isinstance(a, Value):
        a = Value(to_float(a, f"{op.name}'s argument {names[0]}"))
    if not isinstance(b, Value):
        b = Value(to_float(b, f"{op.name}'s argument {names[1]}"))
    return apply(op, a, b)


def _values(items: Iterable[Value | Real], what: str) -> tuple[Value, ...]:
    if isinstance(items, (Value, str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{what} must be an iterable of Values or numbers, got {type(items).__name__}")
    items = tuple(items)
    # map, not a generator: one C-level pass, on every neuron's hot path
    if all(map(isinstance, items, itertools.repeat(Value))):  # nothing to convert
        return items  # type: ignore[return-value]  # all Values: checked on the line above
    return tuple(x if isinstance(x, Value) else Value(to_float(x, f"{what}[{i}]")) for i, x in enumerate(items))


__all__ = ["arctan2", "binary_cross_entropy", "dot", "hypot", "logsumexp", "maximum", "minimum", "pick", "sum"]
