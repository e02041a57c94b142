"""Function transformations: ``grad`` and ``value_and_grad`` turn f into its derivative.

Numbers in, numbers out. Called with ``Value``s (as happens when one ``grad`` is nested in
another), the derivative is built as a graph, so it can be differentiated again:
``grad(grad(f))`` is the second derivative.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, Union

import numpy as np

from . import ops
from .backward import gradients
from .value import Value, apply, differentiating, to_float

Argnums = Union[int, Sequence[int]]


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple]:
    """A function returning ``(f(*args), df/dargs[argnums])``.

    ``argnums`` an int gives one derivative; a tuple gives a tuple of them.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    positions = _check_argnums(argnums)
    name = getattr(f, "__name__", "f")

    @functools.wraps(f)
    def f_value_and_grad(*args: Any) -> tuple:
        for i in positions:
            if i >= len(args):
                raise ValueError(f"argnums asks for argument {i}, but {name} got {len(args)}")
        with differentiating() as inside_another_grad:
            # Inside another grad (f may use its variables, passed or captured), the
            # derivative must be a graph the outer grad can differentiate in turn.
            nested = inside_another_grad or any(isinstance(x, Value) for x in args)
            args = [_argument(x, i in positions, f"argument {i} of {name}") for i, x in enumerate(args)]
            out = f(*args)
            if not isinstance(out, Value):  # a number: f does not depend on its arguments
                out = Value(to_float(out, f"the result of {name}"))
            grads = gradients(out, [args[i] for i in positions], create_graph=nested)
        value = out if nested else out.data
        return value, grads[0] if isinstance(argnums, int) else grads

    return f_value_and_grad


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function computing the derivative of ``f`` with respect to argument ``argnums``.

    >>> grad(lambda x: x ** 3)(2.0)
    12.0
    >>> grad(grad(lambda x: x ** 3))(2.0)
    12.0
    """
    f_value_and_grad = value_and_grad(f, argnums)

    @functools.wraps(f)
    def f_grad(*args: Any) -> Any:
        return f_value_and_grad(*args)[1]

    return f_grad


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


def _check_argnums(argnums: Argnums) -> tuple[int, ...]:
    positions = (argnums,) if isinstance(argnums, int) else argnums
    if isinstance(positions, (str, bytes)) or not isinstance(positions, Sequence):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {type(argnums).__name__}")
    for i in positions:
        if not isinstance(i, int) or isinstance(i, bool) or i < 0:
            raise TypeError(f"argnums must hold non-negative ints, got {i!r}")
    return tuple(positions)
