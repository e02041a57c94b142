"""Tracing a function for ``compile``: one graph for every sample, or an error naming why not.

``compile(f)`` calls ``f`` once on placeholder inputs and records the graph it builds.
That graph is then run for every sample, so ``f`` must build the same graph whatever a
sample's numbers are. Python control flow cannot be recorded: an ``if`` on a sample's
number picks one branch while tracing, and replaying that branch for every sample would
give a wrong answer without a word. So while ``f`` is traced, every node computed from
a placeholder is marked *per-sample*, and asking for the number of such a node (a
comparison, ``bool()``, ``float()``, ``.data``) raises ``TracingError`` naming the line
of ``f`` that asked, as JAX's ``jit`` does.

Numbers that do not depend on the sample (the weights ``f`` reads from its closure, and
anything computed from them alone) may be read and compared: the trace depends on them,
so each read is kept as a *guard*, and the program traces ``f`` again at the first call
where a guard no longer holds (after an optimizer step moved a weight across a branch).

The marking costs the engine nothing when no function is traced: ``value.py`` keeps the
tracer in its thread-local recording flag, so ``apply`` tells the two cases apart with
one identity check.
"""

from __future__ import annotations

import functools
import linecache
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

from . import ops
from .value import Value, tracing

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class TracingError(TypeError):
    """A function traced by ``compile`` asked for the number of a per-sample value.

    Its graph would then depend on each sample's number, which one recorded graph cannot
    follow. The message names the line that asked and what to do instead.
    """


@dataclass(frozen=True)
class Guard:
    """A number the trace read from values that are the same for every sample: the trace
    holds while ``test`` of their current numbers still gives ``seen``."""

    nodes: tuple[Value, ...]
    test: Callable[..., object]
    seen: float  # the number read, or the comparison's outcome (a bool)

    def holds(self, numbers: Sequence[float]) -> bool:
        now = self.test(*numbers)
        # nan is the same reading as nan: a nan weight must not re-trace at every call
        return now == self.seen or (isinstance(now, float) and math.isnan(now) and math.isnan(self.seen))


class Tracer:
    """The state of one trace: which nodes are per-sample, and the guards read so far.

    ``value.py`` calls ``saw`` for each node recorded while tracing (``saw_leaf`` of the
    stand-in for each made with recording off) and ``read`` / ``compare`` / ``refuse``
    where user code asks for a number.
    """

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.per_sample: dict[Value, str] = {}  # node -> the input it comes from, for messages
        self.guards: list[Guard] = []
        self.not_recording = _NotRecording(self)

    def add_input(self, placeholder: Value) -> None:
        self.per_sample[placeholder] = placeholder.label

    def saw(self, node: Value, inputs: tuple[Value, ...]) -> None:
        """``node`` was just made from ``inputs``: it is per-sample if one of them is."""
        per_sample = self.per_sample
        for x in inputs:
            source = per_sample.get(x)
            if source is not None:
                per_sample[node] = source
                return

    def refuse(self, value: Value, action: str) -> None:
        """Raise if ``value`` is per-sample: ``action`` says what the user code did."""
        source = self.per_sample.get(value)
        if source is not None:
            self._fail(f"{action} a per-sample value ({_described(value, source)})")

    def read(self, value: Value) -> float:
        """``value.data`` in user code: refused for a per-sample value, else a guard."""
        self.refuse(value, "reads .data of")
        self.guards.append(Guard((value,), _same_number, value._data))
        return value._data

    def compare(self, relation: Callable, symbol: str, a: Value, b: Value | float) -> bool:
        """``a <relation> b`` in user code (``b`` a Value or a float)."""
        for side in (a, b):
            if isinstance(side, Value):
                self.refuse(side, f"compares (with {symbol})")
        if isinstance(b, Value):
            outcome = relation(a._data, b._data)
            self.guards.append(Guard((a, b), relation, outcome))
        else:
            outcome = relation(a._data, b)
            self.guards.append(Guard((a,), lambda x, number=b: relation(x, number), outcome))
        return outcome

    def rule_reads(self, value: Value) -> None:
        """A derivative rule chooses by ``value``'s number (relu, abs, ** ...), as a
        gradient taken inside the traced function builds its graph."""
        self.refuse(value, "differentiates a piecewise op (relu, abs, **, maximum, minimum, arctan2 ...) at")

    def _fail(self, what: str) -> None:
        where, source = _user_line()
        raise TracingError(
            f"{where} {what}, while compile traces {self.function_name}:{source}"
            "compile records one graph and runs it for every sample, so the graph cannot depend on a "
            "sample's number (a Python `if` would pick one branch for all of them). Choose per sample "
            "with ops instead (x.relu(), abs(x), autodiff.pick(values, index)), or call the function "
            "sample by sample without compile."
        )


class _NotRecording:
    """The tracer's stand-in for recording off (``no_grad`` inside the traced function):
    false, as recording off is, and shown each leaf an op makes.

    Such a leaf is a constant holding its number. Made from per-sample values, it would
    be one sample's number for all of them, so that raises; made from weights, the
    constant is guarded like a ``.data`` read (a new trace once they move)."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def __bool__(self) -> bool:
        return False

    def saw_leaf(self, leaf: Value, op: ops.Op, inputs: tuple[Value, ...]) -> None:
        """``leaf`` was just made by ``op`` from ``inputs``, recording off."""
        for x in inputs:
            self.tracer.refuse(x, "computes without recording (no_grad) from")
        self.tracer.guards.append(Guard(inputs, functools.partial(evaluate, op), leaf._data))


def evaluate(op: ops.Op, *numbers: float) -> float:
    """``op``'s float forward on ``numbers``, whatever its arity."""
    return op.forward(*numbers) if op.arity is not None else op.forward(numbers)


def trace(function: Callable[..., Value], names: Sequence[str]) -> tuple[Value, list[Value], list[Guard]]:
    """Call ``function`` on one placeholder per name; return its output, the placeholders
    and the guards its trace depends on."""
    name = getattr(function, "__name__", type(function).__name__)
    tracer = Tracer(name if name != "<lambda>" else "a lambda")
    placeholders = [Value(0.0, label=label) for label in names]
    for placeholder in placeholders:
        tracer.add_input(placeholder)
    with tracing(tracer):
        output = function(*placeholders)
    if not isinstance(output, Value):
        raise TypeError(f"compile traces a function that returns one Value; {name} returned a {type(output).__name__}")
    return output, placeholders, tracer.guards


def _same_number(x: float) -> float:
    return x


def _described(value: Value, source: str) -> str:
    if value.label == source and not value.parents:
        return f"the input {source!r}"
    return f"computed from the input {source!r}"


def _user_line() -> tuple[str, str]:
    """Where the user's code is: the innermost frame outside this package, as
    ("line N of FILE", "\\n    the source line") (the source empty when unknown)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "an unknown line", ""
    filename, line = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, line).strip()
    return f"line {line} of {filename} (in {frame.f_code.co_name})", (f"\n    {source}\n" if source else " ")
