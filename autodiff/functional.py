"""Function transformations: ``grad`` and ``value_and_grad`` turn f into its derivative.

Numbers in, numbers out, unless the result depends on a ``Value`` from outside the call:
one passed as an argument, or one f captures (a variable of an enclosing ``grad``, a
leaf of the user's). Then the value and the derivative are ``Value``s, built as a graph
connected to it, so they can be differentiated again: ``grad(grad(f))`` is the second
derivative, and ``x * grad(lambda y: x * y)(2.0)`` has derivative ``2 * x``. Under
``no_grad`` nothing outside is connected: the results are numbers.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops
from .backward import gradients
from .ops import Op
from .value import Value, apply, leaves_marked, to_float

Argnums = int | Sequence[int]


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple]:
    """A function returning ``(f(*args, **kwargs), df/dargs[argnums])``.

    ``argnums`` (positions among the positional arguments) an int gives one derivative;
    a tuple gives a tuple of them. Keyword arguments go to f undifferentiated.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    >>> value_and_grad(lambda x, scale: scale * x ** 2)(3.0, scale=0.5)
    (4.5, 3.0)
    """
    positions = _check_argnums(argnums)
    name = getattr(f, "__name__", "f")

    @functools.wraps(f)
    def f_value_and_grad(*args: Any, **kwargs: Any) -> tuple:
        _check_positions(positions, args, kwargs, name)
        given_values = any(isinstance(x, Value) for x in (*args, *kwargs.values()))
        call = _CallLeaf.begin()
        with leaves_marked(call) as recording:
            values = [_argument(x, i in positions, f"argument {i} of {name}") for i, x in enumerate(args)]
            kwargs = {key: _argument(x, False, f"argument {key} of {name}") for key, x in kwargs.items()}
            out = f(*values, **kwargs)
            if not isinstance(out, Value):  # a number: f does not depend on its arguments
                out = Value(to_float(out, f"the result of {name}"))
            # Outside Values reach the result: keep it a graph connected to them, so the
            # caller (an enclosing grad, or backward()) differentiates through this call.
            connected = recording and (given_values or _reaches_outside([out], call))
            grads = gradients(out, [values[i] for i in positions], create_graph=connected)
        value = out if connected else out.data
        return value, grads[0] if isinstance(argnums, int) else grads

    return f_value_and_grad


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function computing the derivative of ``f`` with respect to argument ``argnums``.

    >>> grad(lambda x: x ** 3)(2.0)
    12.0
    >>> grad(grad(lambda x: x ** 3))(2.0)
    12.0
    >>> x = Value(1.5)  # captured: the derivative stays connected to it
    >>> y = x * grad(lambda t: x * t)(2.0); y.backward(); x.grad  # d/dx x**2
    3.0
    """
    f_value_and_grad = value_and_grad(f, argnums)

    @functools.wraps(f)
    def f_grad(*args: Any, **kwargs: Any) -> Any:
        return f_value_and_grad(*args, **kwargs)[1]

    return f_grad


# --- telling the leaves a call made from the Values it captured -----------------------
class _Calls(threading.local):
    def __init__(self) -> None:
        self.thread = object()  # stands for this thread: call counts of threads overlap
        self.begun = 0  # grad calls begun in this thread


_calls = _Calls()


class _CallLeaf(Op):
    """The op of every leaf made during one grad call: a leaf op like ``ops.LEAF`` (no
    name, no inputs) that also says which call, in which thread, made the leaf.

    >>> call = _CallLeaf.begin(); (call.name, call.arity)
    ('', 0)
    """

    __eq__ = object.__eq__  # each call's marker is its own: compared by identity
    thread: object
    number: int
    __hash__ = object.__hash__

    def __init__(self, thread: object, number: int) -> None:
        # Op is a frozen dataclass; filling the dict at once is also 3x faster than its
        # __init__, and a marker is made per call.
        self.__dict__.update(vars(ops.LEAF), thread=thread, number=number)

    @classmethod
    def begin(cls) -> _CallLeaf:
        """The marker of a call beginning now in this thread."""
        _calls.begun += 1
        return cls(_calls.thread, _calls.begun)

    def made(self, op: Op) -> bool:
        """Whether a leaf of op ``op`` was made during this call (or a call inside it,
        which began later in the same thread and has ended)."""
        return type(op) is _CallLeaf and op.thread is self.thread and op.number >= self.number


def _reaches_outside(outputs: Sequence[Value], call: _CallLeaf, *, enclosing_calls_only: bool = False) -> bool:
    """Whether the graph of ``outputs`` reaches a leaf not made during ``call``: a Value
    that f captured, or computed from captured ones. With ``enclosing_calls_only``, only
    a leaf made by an enclosing call counts (a variable of an outer ``grad``), not one
    of the user's own (a model's weight). Stops at the first one found."""
    seen = set(outputs)
    stack = list(seen)
    while stack:
        node = stack.pop()
        op = node._op
        if op.arity == 0:
            if not call.made(op) and (type(op) is _CallLeaf or not enclosing_calls_only):
                return True
            continue
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return False


# --- arguments ----------------------------------------------------------------------
def _argument(x: Any, differentiated: bool, what: str) -> Any:
    """What f receives: a fresh node for a differentiated argument, a constant for
    another float (so f can call ``.exp()`` on it), anything else (an int used as a
    count, a list, a model) as it is.

    The node is fresh even when ``x`` is already a ``Value`` (a nested ``grad``): the
    inner derivative of ``grad(lambda x: grad(lambda y: x * y)(x))`` must tell y apart
    from x, or the two levels' variables get confused.
    """
    if not differentiated:
        return Value(x) if isinstance(x, (float, np.floating)) else x
    if isinstance(x, Value):
        return apply(ops.IDENTITY, x)
    return Value(to_float(x, what))


def _check_positions(positions: tuple[int, ...], args: tuple, kwargs: dict, name: str) -> None:
    """Every differentiated argument is passed by position: argnums counts positions."""
    for i in positions:
        if i >= len(args):
            if kwargs:
                raise TypeError(
                    f"argnums differentiates positional argument {i} of {name}, but it got "
                    f"{len(args)} positional argument(s) and keyword argument(s) "
                    f"{', '.join(kwargs)}: pass differentiated arguments by position "
                    "(keyword arguments go to the function undifferentiated)"
                )
            raise ValueError(f"argnums asks for argument {i}, but {name} got {len(args)}")


def _check_argnums(argnums: Argnums) -> tuple[int, ...]:
    positions = (argnums,) if isinstance(argnums, int) else argnums
    if isinstance(positions, (str, bytes)) or not isinstance(positions, Sequence):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {type(argnums).__name__}")
    for i in positions:
        if not isinstance(i, int) or isinstance(i, bool) or i < 0:
            raise TypeError(f"argnums must hold non-negative ints, got {i!r}")
    return tuple(positions)
