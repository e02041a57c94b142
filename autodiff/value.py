"""``Value``: one number in a computation graph, with the gradient backward() gives it.

A ``Value`` holds data, not behaviour: its number, its gradient, a label, the op that
made it and that op's inputs (``parents``). How to differentiate lives in the op table
(``ops.py``); walking the graph lives in ``backward.py``. A node keeps no closure, so
graphs have no reference cycles and are freed by reference counting alone.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import threading
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import ops
from .ops import Op

Real = int | float | np.integer | np.floating
"""What a ``Value`` accepts as data, and what may stand beside one in an operator."""


def to_float(x: object, what: str = "Value data") -> float:
    """``x`` as a Python float, or a TypeError that names what ``x`` is.

    >>> to_float(3), to_float(np.float32(0.5))
    (3.0, 0.5)
    """
    if type(x) is float:
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{what} must be a real number, got bool ({x!r})")
    if isinstance(x, np.ndarray):
        if x.size != 1 or x.dtype.kind not in "iuf":
            raise TypeError(f"{what} must be a real number, got a numpy array of shape {x.shape} and dtype {x.dtype}")
        x = x.item()
    if isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:  # an int beyond float range rounds to infinity, as IEEE does
            return -math.inf if x < 0 else math.inf
    if isinstance(x, Value):
        raise TypeError(f"{what} must be a real number, got a Value (its number is v.data)")
    raise TypeError(f"{what} must be a real number, got {type(x).__name__} ({x!r:.40})")


# --- recording on or off, per thread -------------------------------------------------
class _GradMode(threading.local):
    # True or False; while compile traces a function, its tracer (true: recording on) or
    # the tracer's stand-in for recording off (false). Each thread starts recording,
    # whatever another thread does.
    recording: Any = True
    tracer: Any = None  # the tracer of the function compile is tracing in this thread, if any
    leaf_op: Op = ops.LEAF  # the op of a leaf made now: a grad call's marker (leaves_marked)
    differentiated: tuple = ()  # the arguments grad, jvp and the matrices differentiate now


_mode = _GradMode()
# How many recording, tracing and leaves_marked blocks are under way, in all threads.
# While none is, every thread records plainly: making a node or reading .data need not
# read the thread's _mode (a thread-local read is the slowest step of making a node).
_special_blocks = 0
_blocks_lock = threading.Lock()


@contextlib.contextmanager
def _special_block() -> Iterator[None]:
    """Count the block in ``_special_blocks`` while it runs."""
    global _special_blocks
    with _blocks_lock:
        _special_blocks += 1
    try:
        yield
    finally:
        with _blocks_lock:
            _special_blocks -= 1


@contextlib.contextmanager
def recording(enabled: bool) -> Iterator[None]:
    """Turn graph recording on or off in this thread for the ``with`` block."""
    previous, tracer = _mode.recording, _mode.tracer
    with _special_block():
        if tracer is None:
            _mode.recording = enabled
        else:  # tracing goes on, recording or not (see tracing.py)
            _mode.recording = tracer if enabled else tracer.not_recording
        try:
            yield
        finally:
            _mode.recording = previous


@contextlib.contextmanager
def tracing(tracer: object) -> Iterator[None]:
    """The block runs a function ``compile`` traces (``tracing.Tracer``): recorded, and
    every node made, number read and comparison is shown to ``tracer``."""
    if _mode.tracer is not None:
        raise RuntimeError(
            "compile cannot trace a function inside a function it is tracing; call compile outside the traced function"
        )
    previous = _mode.recording
    with _special_block():
        _mode.tracer = _mode.recording = tracer
        try:
            yield
        finally:
            _mode.tracer, _mode.recording = None, previous


@contextlib.contextmanager
def leaves_marked(marker: Op) -> Iterator[bool]:
    """Record in the block, and give every leaf made in it (by ``Value()``, or by an op
    under ``no_grad``) ``marker`` as its op: a leaf op like ``ops.LEAF`` that lets a grad
    call tell the leaves it made from the Values it captured. Yields whether recording
    was on before the block."""
    was_recording, previous_marker = _mode.recording, _mode.leaf_op
    with _special_block():
        # While compile traces a function, recording on is its tracer (see tracing.py).
        _mode.recording, _mode.leaf_op = _mode.tracer or True, marker
        try:
            yield bool(was_recording)  # off is False, or a traced function's stand-in for it
        finally:
            _mode.recording, _mode.leaf_op = was_recording, previous_marker


@contextlib.contextmanager
def differentiating(arguments: dict[Value, str]) -> Iterator[None]:
    """While f runs under grad, jvp, jacobian or hessian, ``float()``, ``int()``,
    ``round()`` and ``item()`` of a Value computed from one of ``arguments`` (f's
    differentiated arguments, each with how to name it) raise: the plain number would
    carry no derivative, and the result would silently miss that term (JAX refuses
    them too)."""
    previous = _mode.differentiated
    with _special_block():
        _mode.differentiated = (*previous, *arguments.items())
        try:
            yield
        finally:
            _mode.differentiated = previous


def _refuse_conversion(v: Value, conversion: str) -> None:
    """Raise if ``v`` is computed from an argument being differentiated (see above)."""
    names = dict(_mode.differentiated)
    if not names:
        return
    seen, stack = {v}, [v]
    while stack:
        node = stack.pop()
        if node in names:
            raise TypeError(
                f"{conversion} of a Value computed from {names[node]} gives "
                "a plain number, which carries no derivative: the result would silently miss that "
                "term. Use the Value's op instead (v.exp(), not math.exp(v); v * 2, not float(v) * 2); "
                "if you mean a constant there, take v.data or v.detach()"
            )
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)


def no_grad() -> contextlib.AbstractContextManager:
    """A context (thread-local) in which ops record no graph: results are leaves.

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.op, y.parents
    ('', ())
    """
    return recording(False)


# --- the node -------------------------------------------------------------------------
class Value:
    """A scalar in a computation graph.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a.tanh()
    >>> c.backward()
    >>> round(a.grad, 6), b.grad
    (-2.929349, 2.0)
    """

    # The inputs are kept inline, not in a tuple: a node of a unary or binary op (all but
    # sum and dot) costs no extra object. Ops of any arity keep their tuple in _a.
    # _pass is the backward pass's own entry for the node (backward.py), apart from grad.
    __slots__ = ("_data", "grad", "label", "_op", "_a", "_b", "_pass", "__weakref__")
    _a: Any  # a Value, or for an op of any arity the inputs' tuple, or None for a leaf
    _b: Any  # a Value for a binary op, else None
    _pass: Any
    __array_ufunc__ = None  # numpy defers to us: np.float64(2) * v calls v.__rmul__

    def __init__(self, data: Real, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self._data = data if type(data) is float else to_float(data)
        self.grad = 0.0
        self.label = label
        self._op = _mode.leaf_op if _special_blocks else ops.LEAF
        self._a = self._b = self._pass = None

    @property
    def data(self) -> float:
        """The number this node holds (always a Python float).

        Inside a function ``compile`` traces, reading it for a per-sample value raises
        ``TracingError`` (see ``tracing.py``); the engine itself reads ``_data``.
        """
        if _special_blocks:  # a global int: one cheap check when nothing is traced
            tracer = _mode.tracer
            if tracer is not None:
                return tracer.read(self)
        return self._data

    @data.setter
    def data(self, value: Real) -> None:
        if _special_blocks and _mode.tracer is not None:  # compile replays inputs' columns instead
            _mode.tracer.refuse(self, "writes .data of")
        self._data = value if type(value) is float else to_float(value)  # optimizers: the fast case

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that produced this node, in order; ``()`` for a leaf."""
        arity = self._op.arity
        if arity == 2:
            return (self._a, self._b)
        if arity == 1:
            return (self._a,)
        if arity == 0:
            return ()
        return self._a

    @property
    def op(self) -> str:
        """The name of the op that produced this node; ``""`` for a leaf."""
        return self._op.name

    def __repr__(self) -> str:
        extra = f", label={self.label!r}" if self.label else ""
        extra += f", op={self.op!r}" if self.parents else ""
        return f"Value(data={self._data!r}, grad={self.grad!r}{extra})"

    def backward(
        self,
        grad: Real = 1.0,
        *,
        gradient: Real | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Fill ``.grad`` of every node of this graph with d self / d node, times ``grad``.

        Leaves accumulate across calls; every other node holds this pass's gradient.
        PyTorch's keywords are understood: ``gradient`` is ``grad``; ``retain_graph`` changes
        nothing (the graph is always kept); ``create_graph=True`` is refused with the way
        to get derivatives as a graph.

        >>> x = Value(3.0); y = x * x; y.backward(); x.grad
        6.0
        >>> y.backward(gradient=0.5, retain_graph=True); x.grad
        9.0
        """
        from .backward import backward

        if create_graph:
            raise TypeError(
                "backward(create_graph=True): backward() writes numbers into .grad; for "
                "gradients as Values to differentiate again, use "
                "autodiff.gradients(output, inputs, create_graph=True) or autodiff.grad(f)"
            )
        if gradient is not None:
            if grad != 1.0:
                raise TypeError("backward() got both grad and gradient (PyTorch's name for it); give one")
            grad = gradient
        backward(self, grad)

    # operators: thin calls into the op table
    def __add__(self, other: Value | Real) -> Value:
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Real) -> Value:
        return _binary(ops.ADD, other, self)

    def __sub__(self, other: Value | Real) -> Value:
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Real) -> Value:
        return _binary(ops.SUB, other, self)

    def __mul__(self, other: Value | Real) -> Value:
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Real) -> Value:
        return _binary(ops.MUL, other, self)

    def __truediv__(self, other: Value | Real) -> Value:
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Real) -> Value:
        return _binary(ops.DIV, other, self)

    def __pow__(self, exponent: Value | Real) -> Value:
        if isinstance(exponent, Value):
            return _binary(ops.POW, self, exponent)
        exponent = _operand(ops.POW, exponent, self, exponent)._data
        return _unary(ops.power_by(exponent), self)

    def __rpow__(self, base: Real) -> Value:
        return _binary(ops.POW, base, self)

    def __mod__(self, other: Value | Real) -> Value:
        """``self % other`` with the sign of ``other``, as Python's ``%`` and PyTorch's
        ``remainder``: d/dself = 1, d/dother = -(self // other). A zero divisor gives nan.

        >>> (Value(-5.0) % 3).data, (Value(5.0) % -3).data, (Value(1.0) % 0).data
        (1.0, -1.0, nan)
        """
        return _binary(ops.MOD, self, other)

    def __rmod__(self, other: Real) -> Value:
        return _binary(ops.MOD, other, self)

    def __floordiv__(self, other: Value | Real) -> Value:
        """``self // other``, as Python's floor division (``1 // 0.1`` is 9.0); its
        gradient is 0 for both. A zero divisor gives self / 0 (inf, -inf or nan).

        >>> (Value(7.0) // 2).data, (Value(-7.0) // 2).data
        (3.0, -4.0)
        """
        return _binary(ops.FLOOR_DIVIDE, self, other)

    def __rfloordiv__(self, other: Real) -> Value:
        return _binary(ops.FLOOR_DIVIDE, other, self)

    def __neg__(self) -> Value:
        return _unary(ops.NEG, self)

    def __pos__(self) -> Value:
        """``+v`` is ``v`` itself, as ``+t`` is for a PyTorch tensor: no new node.

        >>> v = Value(2.0)
        >>> +v is v
        True
        """
        return self

    # Comparisons look at the numbers and give a Python bool, as in micrograd and PyTorch:
    # they take no part in the graph. == stays identity (Values are dict keys by identity).
    def __lt__(self, other: Value | Real) -> bool:
        return _compare(operator.lt, "<", self, other)

    def __le__(self, other: Value | Real) -> bool:
        return _compare(operator.le, "<=", self, other)

    def __gt__(self, other: Value | Real) -> bool:
        return _compare(operator.gt, ">", self, other)

    def __ge__(self, other: Value | Real) -> bool:
        return _compare(operator.ge, ">=", self, other)

    def __bool__(self) -> bool:
        # Any Value is true, as any object: only a traced per-sample value refuses, since
        # `if x:` would then pick one branch for every sample.
        tracer = _mode.tracer
        if tracer is not None:
            tracer.refuse(self, "asks for the truth value (bool) of")
        return True

    def item(self) -> float:
        """The number this node holds, as PyTorch's ``tensor.item()`` gives it: ``v.data``.

        >>> Value(2.5).item()
        2.5
        """
        if _special_blocks:
            _refuse_conversion(self, "item()")
        return self.data

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats the number, as for a float; with no spec, the repr.

        >>> f"{Value(2.0) / 3:.3f}"
        '0.667'
        """
        return format(self.data, spec) if spec else str(self)

    def __round__(self, ndigits: int | None = None) -> float:
        """``round(v, n)`` rounds the number, as for a float (a number, not a node).

        >>> round(Value(2.71828), 2)
        2.72
        """
        if _special_blocks:
            _refuse_conversion(self, "round()")
        return round(self.data, ndigits)

    def detach(self) -> Value:
        """A new leaf with this node's number and label and no history: gradients stop
        there (JAX's ``stop_gradient``, PyTorch's ``detach``).

        >>> x = Value(3.0)
        >>> y = (x * x).detach() * x  # 9 · x, as far as gradients go
        >>> y.backward(); x.grad
        9.0
        """
        return Value(self.data, self.label)

    def __float__(self) -> float:
        """``float(v)`` is the number, as PyTorch's ``float(t)`` of a 0-d tensor: a plain
        float, outside the graph. So ``math.exp(v)`` and ``np.array([v], dtype=float)``
        give numbers too (``v.exp()`` is the op); see the README's idioms.

        >>> float(Value(2.5)), math.exp(Value(0.0))
        (2.5, 1.0)
        """
        if _special_blocks:
            if _mode.tracer is not None:
                _mode.tracer.refuse(self, "converts to float")
            _refuse_conversion(self, "float()")
        return self._data

    def __int__(self) -> int:
        """``int(v)``: the number truncated toward zero, as ``int`` of a float or a 0-d tensor.

        >>> int(Value(-2.7))
        -2
        """
        if _special_blocks:
            if _mode.tracer is not None:
                _mode.tracer.refuse(self, "converts to int")
            _refuse_conversion(self, "int()")
        return int(self._data)

    def __abs__(self) -> Value:
        return _unary(ops.ABS, self)

    # methods: one per unary op of the table
    def exp(self) -> Value:
        """e ** self. ``Value(0.0).exp().data == 1.0``"""
        return _unary(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm: log(0) = -inf, log(-1) = nan. ``Value(1.0).log().data == 0.0``"""
        return _unary(ops.LOG, self)

    def log1p(self) -> Value:
        """log(1 + self), exact for tiny self: log1p(-1) = -inf. ``Value(0.0).log1p().data == 0.0``"""
        return _unary(ops.LOG1P, self)

    def sqrt(self) -> Value:
        """Square root: sqrt(-1) = nan, sqrt'(0) = inf. ``Value(4.0).sqrt().data == 2.0``"""
        return _unary(ops.SQRT, self)

    def sin(self) -> Value:
        """Sine (radians). ``Value(0.0).sin().data == 0.0``"""
        return _unary(ops.SIN, self)

    def cos(self) -> Value:
        """Cosine (radians). ``Value(0.0).cos().data == 1.0``"""
        return _unary(ops.COS, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent, exactly +-1 in the tails. ``Value(0.0).tanh().data == 0.0``"""
        return _unary(ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self), stable for any input. ``Value(0.0).sigmoid().data == 0.5``"""
        return _unary(ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(self, 0), with relu'(0) = 0. ``Value(-2.0).relu().data == 0.0``"""
        return _unary(ops.RELU, self)

    def softplus(self) -> Value:
        """log(1 + e ** self), exact in both tails. ``Value(1000.0).softplus().data == 1000.0``"""
        return _unary(ops.SOFTPLUS, self)

    def log_sigmoid(self) -> Value:
        """log(sigmoid(self)), exact in both tails. ``Value(-1000.0).log_sigmoid().data == -1000.0``"""
        return _unary(ops.LOG_SIGMOID, self)

    def tan(self) -> Value:
        """Tangent (radians). ``Value(0.0).tan().data == 0.0``"""
        return _unary(ops.TAN, self)

    def arcsin(self) -> Value:
        """Inverse sine: nan outside [-1, 1], an infinite gradient at +-1. ``Value(1.0).arcsin().data == math.pi / 2``"""
        return _unary(ops.ARCSIN, self)

    def arccos(self) -> Value:
        """Inverse cosine: nan outside [-1, 1], an infinite gradient at +-1. ``Value(1.0).arccos().data == 0.0``"""
        return _unary(ops.ARCCOS, self)

    def arctan(self) -> Value:
        """Inverse tangent. ``Value(math.inf).arctan().data == math.pi / 2``"""
        return _unary(ops.ARCTAN, self)

    def sinh(self) -> Value:
        """Hyperbolic sine. ``Value(0.0).sinh().data == 0.0``"""
        return _unary(ops.SINH, self)

    def cosh(self) -> Value:
        """Hyperbolic cosine. ``Value(0.0).cosh().data == 1.0``"""
        return _unary(ops.COSH, self)

    def log2(self) -> Value:
        """Base-2 logarithm: log2(0) = -inf. ``Value(8.0).log2().data == 3.0``"""
        return _unary(ops.LOG2, self)

    def log10(self) -> Value:
        """Base-10 logarithm: log10(0) = -inf. ``Value(1000.0).log10().data == 3.0``"""
        return _unary(ops.LOG10, self)

    def expm1(self) -> Value:
        """e ** self - 1, exact for tiny self. ``Value(1e-20).expm1().data == 1e-20``"""
        return _unary(ops.EXPM1, self)

    def floor(self) -> Value:
        """The largest whole number <= self, with gradient 0. ``Value(-2.5).floor().data == -3.0``"""
        return _unary(ops.FLOOR, self)

    def ceil(self) -> Value:
        """The smallest whole number >= self, with gradient 0. ``Value(-2.5).ceil().data == -2.0``"""
        return _unary(ops.CEIL, self)

    def sign(self) -> Value:
        """1, -1, or 0 (at +-0 and nan, as PyTorch), with gradient 0. ``Value(-3.0).sign().data == -1.0``"""
        return _unary(ops.SIGN, self)


# What a PyTorch user may type on a 0-d tensor that a Value has under another name, or
# not at all (the README's idioms block lists the decisions).
_ONE_NUMBER = "a Value is one number; v.item() or float(v) gives it"
_TORCH_EQUIVALENTS = {
    "tolist": _ONE_NUMBER,
    "numpy": _ONE_NUMBER,
    "shape": "a Value is one number (a 0-d tensor, in PyTorch's terms)",
    "requires_grad": "every Value gets a gradient from backward(); v.detach() or no_grad() makes "
    "numbers that take no part, and a parameter left out of the optimizer's list stays fixed",
    "requires_grad_": "every Value gets a gradient from backward(); nothing to switch on",
    "grad_fn": "v.op names the op that made v and v.parents are its inputs",
    "is_leaf": "a leaf has no parents: `not v.parents`",
    "retain_grad": "backward() fills .grad of every node of the graph already",
    "zero_": "to clear a gradient, set v.grad = 0.0 (or None), or call the optimizer's zero_grad()",
    "clone": "a Value's number is a float: Value(v.item()) is a copy outside the graph, v.detach() too",
    # PyTorch's method names for ops a Value has under numpy's name or as an operator
    "asin": "v.arcsin() (numpy's name)",
    "acos": "v.arccos() (numpy's name)",
    "atan": "v.arctan() (numpy's name)",
    "atan2": "autodiff.arctan2(y, x)",
    "abs": "abs(v)",
    "neg": "-v",
    "pow": "v ** p",
    "square": "v ** 2",
    "remainder": "v % d (PyTorch's remainder: the divisor's sign)",
    "floor_divide": "v // d",
    "maximum": "autodiff.maximum(a, b)",
    "minimum": "autodiff.minimum(a, b)",
    "clamp": "autodiff.maximum(v, low) and autodiff.minimum(v, high), or v.relu() for a floor of 0",
}


class _PyTorchName:
    """A name of PyTorch's tensors that a Value lacks: reading it raises AttributeError
    saying what to use. One of these per name, not a ``__getattr__``: CPython does not
    specialise attribute reads on a class that has one, which made every read of a
    node's slots (``_data``, ``grad``) about 3x slower, all over the engine."""

    def __init__(self, name: str, hint: str) -> None:
        self.name, self.hint = name, hint

    def __get__(self, node: Value | None, owner: type | None = None) -> object:
        if node is None:  # on the class itself (help(), doctest's finder): the descriptor
            return self
        raise AttributeError(f"'Value' object has no attribute {self.name!r}: {self.hint}")


for _name, _hint in _TORCH_EQUIVALENTS.items():
    setattr(Value, _name, _PyTorchName(_name, _hint))


# --- making nodes ---------------------------------------------------------------------
# Every op node is made by one of three functions: one input, two, or any number (sum,
# dot). Each takes the plain path (recording on, no trace, in every thread) with no
# call of its own; _made_otherwise handles the rest.
_new_value = object.__new__


def _unary(op: Op, x: Value) -> Value:
    node = _new_value(Value)
    node._data = op.forward(x._data)
    node.grad = 0.0
    node.label = ""
    node._pass = None
    if _special_blocks:
        return _made_otherwise(node, op, (x,), x, None)
    node._op = op
    node._a = x
    node._b = None
    return node


def _binary(op: Op, a: Value | Real, b: Value | Real) -> Value:
    # A number beside a Value becomes a constant leaf, as in micrograd.
    if not isinstance(a, Value):
        a = _operand(op, a, a, b)
    if not isinstance(b, Value):
        b = _operand(op, b, a, b)
    node = _new_value(Value)
    node._data = op.forward(a._data, b._data)
    node.grad = 0.0
    node.label = ""
    node._pass = None
    if _special_blocks:
        return _made_otherwise(node, op, (a, b), a, b)
    node._op = op
    node._a = a
    node._b = b
    return node


def apply(op: Op, *inputs: Value) -> Value:
    """A new node: ``op`` applied to ``inputs`` (recorded unless recording is off)."""
    if op.arity == 1:
        return _unary(op, *inputs)
    if op.arity == 2:
        return _binary(op, *inputs)
    node = _new_value(Value)
    node._data = op.forward(tuple([x._data for x in inputs]))
    node.grad = 0.0
    node.label = ""
    node._pass = None
    if _special_blocks:
        return _made_otherwise(node, op, inputs, inputs, None)
    node._op = op
    node._a = inputs  # the inputs' tuple: an op of any arity keeps it whole
    node._b = None
    return node


def _made_otherwise(node: Value, op: Op, inputs: tuple[Value, ...], a: object, b: object) -> Value:
    """``node``, with its number, finished in a thread that does not record plainly:
    a leaf where recording is off, and shown to the tracer where compile traces."""
    recording = _mode.recording
    if not recording:
        node._op = _mode.leaf_op
        node._a = node._b = None
        if recording is not False:  # compile is tracing a function, under no_grad
            recording.saw_leaf(node, op, inputs)
        return node
    node._op, node._a, node._b = op, a, b
    if recording is not True:  # compile is tracing a function: its tracer sees each node
        recording.saw(node, inputs)
    return node


def _operand(op: Op, x: object, a: object, b: object) -> Value:
    try:
        return Value(to_float(x))
    except TypeError:
        raise TypeError(
            f"unsupported operand type(s) for {op.name}: '{type(a).__name__}' and "
            f"'{type(b).__name__}' (a Value combines with real numbers and Values)"
        ) from None


def _compare(relation: Callable[[float, float], bool], symbol: str, a: Value, b: object) -> bool:
    if not isinstance(b, Value):
        try:
            b = to_float(b)
        except TypeError:
            return NotImplemented  # Python then tries b's side, and raises its TypeError
    if _special_blocks:
        tracer = _mode.tracer
        if tracer is not None:
            return tracer.compare(relation, symbol, a, b)
    return relation(a._data, b._data if isinstance(b, Value) else b)


def refuse_per_sample(nodes: Iterable[Value], action: str) -> None:
    """Inside a function ``compile`` traces, raise ``TracingError`` if one of ``nodes`` is
    per-sample: ``action`` (a gradient computed as numbers, say) would give every sample
    the number of the placeholder. Outside a trace, nothing."""
    tracer = _mode.tracer
    if tracer is not None:
        for node in nodes:
            tracer.refuse(node, action)


def _rule_data(v: Value) -> float:
    """The number a derivative rule branches on, in the higher-order pass. Inside a
    traced function a per-sample one is refused: the branch would be one for all samples."""
    tracer = _mode.tracer
    if tracer is not None:
        tracer.rule_reads(v)
    return v._data


VALUE_MATH = SimpleNamespace(
    data=_rule_data,
    select=ops.select,
    **ops.SEQUENCES,
    div=operator.truediv,
    pow=operator.pow,
    pow_by_constant=operator.pow,
    floor_divide=operator.floordiv,
    **{name: getattr(Value, name) for name in ops.UNARY_METHODS},
)
"""The math namespace of the higher-order pass: rules evaluated on ``Value``s."""
