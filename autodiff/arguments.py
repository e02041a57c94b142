"""Checks of public functions' arguments, each failing with an error that names the
argument, what it got, what it wants and, where there is one, the fix.

One place for the wording, so that every function says "got a float (1.5)" alike.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .value import Value


def described(x: object) -> str:
    """What ``x`` is, for an error message: its kind and, if short, its repr.

    >>> described(1.5), described([[1.0], [2.0]]), described(np.zeros((2, 3)))
    ('a float (1.5)', 'a list of 2 items ([[1.0], [2.0]])', 'a numpy array of shape (2, 3)')
    """
    if isinstance(x, np.ndarray):
        return f"a numpy array of shape {x.shape}"
    if isinstance(x, Value):  # not its number: inside a traced function, reading it is refused
        return "a Value"
    kind = type(x).__name__
    if _is_model(x):
        return f"a model ({kind})"
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    text = repr(x)
    if isinstance(x, (list, tuple)):
        size = f" of {len(x)} item{'s' if len(x) != 1 else ''}"
        return f"{article} {kind}{size}" + (f" ({text})" if len(text) <= 40 else "")
    return f"{article} {kind}" + (f" ({text})" if len(text) <= 40 else "")


def values_list(x: Any, name: str, who: str) -> list[Value]:
    """``x``, a list (or any iterable) of ``Value``s, as a list; else a ``TypeError``
    that says what it got and how to pass it.

    >>> values_list((Value(1.0),), "inputs", "gradients")
    [Value(data=1.0, grad=0.0)]
    >>> values_list(Value(1.0), "inputs", "f")
    Traceback (most recent call last):
    TypeError: f: inputs must be a list of Values, got one Value; wrap it in a list: [v]
    """
    if isinstance(x, Value):
        raise TypeError(f"{who}: {name} must be a list of Values, got one Value; wrap it in a list: [v]")
    if _is_model(x):
        raise TypeError(
            f"{who}: {name} must be a list of Values, got {described(x)}; pass model.parameters(), as in PyTorch"
        )
    if isinstance(x, (str, bytes, dict)) or not isinstance(x, Iterable):
        raise TypeError(f"{who}: {name} must be a list of Values, got {described(x)}")
    items = list(x)
    for i, item in enumerate(items):
        if not isinstance(item, Value):
            raise TypeError(f"{who}: {name}[{i}] must be a Value, got {described(item)}")
    return items


def sized(x: Any, name: str, who: str, wanted: str, *, one_sample_fix: bool = True) -> Sequence[Any] | np.ndarray:
    """``x`` if it is a list, tuple, array or other sequence (``wanted`` says of what; an
    iterator becomes a list); else a
    ``TypeError`` with the fix: a lone number or ``Value`` wrapped in a list (unless not
    ``one_sample_fix``), a column flattened, a model called on each sample.

    >>> sized(1.0, "targets", "mse_loss", "one number per sample")
    Traceback (most recent call last):
    TypeError: mse_loss: targets must be a list, one number per sample, got a float (1.0); for one sample, wrap it in a list: [1.0]
    """
    if isinstance(x, np.ndarray):
        if x.ndim >= 1:  # the caller checks the shape
            return x
    elif isinstance(x, Iterable) and not isinstance(x, (str, bytes, dict, Value)) and not _is_model(x):
        return x if isinstance(x, Sequence) else list(x)
    fix = ""
    if one_sample_fix and (isinstance(x, (Value, numbers.Real)) and not isinstance(x, (bool, np.bool_))):
        fix = f"; for one sample, wrap it in a list: [{'pred' if isinstance(x, Value) else repr(x)}]"
    elif isinstance(x, np.ndarray) and x.ndim == 2 and 1 in x.shape:
        fix = f"; it is a {'column' if x.shape[1] == 1 else 'row'}: flatten it with np.ravel({name.split()[-1]})"
    elif _is_model(x):
        fix = "; call the model on each sample: [model(x) for x in X]"
    raise TypeError(f"{who}: {name} must be a list, {wanted}, got {described(x)}{fix}")


def number_array(x: Any, name: str, who: str, ndim: int) -> np.ndarray:
    """``x`` as a float array of ``ndim`` dimensions (1: one number per sample; 2: one row
    of features per sample); else a ``ValueError`` with what it got, and for a column of
    targets, how to flatten it.

    >>> number_array([[1.0], [-1.0]], "y", "plot_decision_boundary", 1)
    Traceback (most recent call last):
    ValueError: plot_decision_boundary: y must be one number per sample, got an array of shape (2, 1); it is a column: flatten it with np.ravel(y)
    """
    wanted = "one number per sample" if ndim == 1 else "one row of numbers per sample"
    if isinstance(x, (str, bytes, dict)) or _is_model(x) or isinstance(x, Value):
        raise ValueError(f"{who}: {name} must be {wanted}, got {described(x)}")
    try:
        array = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: {name} must be {wanted}, got {described(x)}") from None
    if array.ndim != ndim:
        column = ndim == 1 and array.ndim == 2 and array.shape[1] == 1
        fix = f"; it is a column: flatten it with np.ravel({name})" if column else ""
        raise ValueError(f"{who}: {name} must be {wanted}, got an array of shape {array.shape}{fix}")
    return array


def file_path(path: Any, name: str, who: str) -> str | os.PathLike:
    """``path`` if it names a file (a ``str`` or ``pathlib.Path``); else a ``TypeError``.

    >>> file_path(3, "path", "save")
    Traceback (most recent call last):
    TypeError: save: path must be a file path (a str or pathlib.Path), got an int (3)
    """
    if isinstance(path, (str, os.PathLike)) and not isinstance(path, bytes):
        return path
    raise TypeError(f"{who}: {name} must be a file path (a str or pathlib.Path), got {described(path)}")


def one_of(x: Any, choices: Sequence[str], name: str, who: str) -> str:
    """``x`` if it is one of the strings ``choices``; else a ``ValueError`` listing them
    (an array or list is compared by nothing: no 'truth value is ambiguous').

    >>> one_of("LR", ("LR", "TB"), "rankdir", "draw_dot")
    'LR'
    """
    if isinstance(x, str) and x in choices:
        return x
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{who}: {name} must be one of {listed}, got {described(x)}")


def flag(x: Any, name: str, who: str) -> bool:
    """``x`` as a bool if it is True or False (numpy's too); else a ``TypeError``: an
    array or a string is not a yes or no.

    >>> flag(np.True_, "quiz", "backward_steps")
    True
    """
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    raise TypeError(f"{who}: {name} must be True or False, got {described(x)}")


def bounded_number(x: Any, name: str, who: str, *, above: float | None = None, at_least: float | None = None) -> float:
    """``x`` as a finite float above ``above`` or at least ``at_least``; else a
    ``ValueError`` that says which numbers it takes.

    >>> bounded_number(0, "eps", "gradcheck", above=0)
    Traceback (most recent call last):
    ValueError: gradcheck: eps must be a finite number > 0, got an int (0)
    """
    if not isinstance(x, (bool, np.bool_)) and isinstance(x, numbers.Real):
        value = float(x)
        if math.isfinite(value) and (above is None or value > above) and (at_least is None or value >= at_least):
            return value
    raise ValueError(f"{who}: {name} must be a finite number{_bound(above, at_least)}, got {described(x)}")


def bounded_int(x: Any, name: str, who: str, *, at_least: int) -> int:
    """``x`` as an int of at least ``at_least``; else a ``ValueError`` as ``bounded_number``'s.

    >>> bounded_int(np.int64(3), "steps", "explain", at_least=1)
    3
    """
    if not isinstance(x, (bool, np.bool_)) and isinstance(x, numbers.Integral) and operator.index(x) >= at_least:
        return operator.index(x)
    raise ValueError(f"{who}: {name} must be an int{_bound(None, at_least)}, got {described(x)}")


def _bound(above: float | None, at_least: float | None) -> str:
    return f" > {above:g}" if above is not None else f" >= {at_least:g}" if at_least is not None else ""


def _is_model(x: object) -> bool:
    # An nn Module, told by its methods: autodiff does not import nn.
    return callable(getattr(type(x), "parameters", None)) and callable(getattr(type(x), "named_parameters", None))
