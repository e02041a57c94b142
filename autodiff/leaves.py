"""Leaves read and written as arrays, and the lock their gradients are written under.

Every ``Value`` keeps its own number and gradient (``_data`` and ``grad``, two slots):
the scalar engine reads them where they are. What loops over many leaves at once, an
optimizer or a compiled program, keeps flat numpy buffers of its own and moves numbers
between them and the leaves with ``LeafArrays``: one pass over the leaves per read or
write (a list comprehension over the slots, faster than ``map`` with a getter), and
no copy of a number that outlives the call. So nothing about how a loop lays its
buffers out is kept in a ``Value``, and no object ever changes its class.

Threads: every write of leaves' gradients the engine makes (``backward``'s, a compiled
program's, ``LeafArrays``') holds ``gradient_lock``, one lock for the process, once per
call. Two threads adding into the same leaf therefore never lose an addition. Writes of
many numbers hold ``numbers_lock``. Reads take no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

from .arguments import described, values_list
from .value import Value, to_float

# Held while gradients are written into leaves (a read-add-write of a leaf's .grad is
# several steps, and other threads may run between them), and by a backward pass
# throughout (it keeps its gradients in the nodes, see backward.py). Reads do not take it: a KeyboardInterrupt raised by a trace
# function (a debugger; the interrupt tests) can land between a `with` block's last
# line and its release, and a lock left held would stop every other thread for good;
# so the lock is taken only where it must be (a step's writes hold Ctrl-C anyway).
# Reentrant: code run while it is held (a finaliser, a user's own `with gradient_lock:`
# around several calls) may take it again.
gradient_lock = threading.RLock()
# Held while many leaves' numbers are written as one (an optimizer's step). A lock of its
# own: a backward pass writes no number, and an optimizer stepping in one thread must not
# wait for the passes of others, which hold gradient_lock most of the time.
numbers_lock = threading.RLock()


class LeafArrays:
    """A fixed list of leaf ``Value``s, whose numbers and gradients are read and written
    as arrays, in that order. Optimizers and compiled programs see their parameters
    through this. Reads return new arrays (or fill ``out``).

    >>> a, b, c = Value(1.0), Value(2.0), Value(3.0)
    >>> leaves = LeafArrays([c, a, b])
    >>> leaves.read_data().tolist()
    [3.0, 1.0, 2.0]
    >>> leaves.write_data([30.0, 10.0, 20.0]); a.data, c.data
    (10.0, 30.0)
    """

    def __init__(self, leaves: Iterable[Value]) -> None:
        self.values = tuple(values_list(leaves, "leaves", "LeafArrays"))

    def __len__(self) -> int:
        return len(self.values)

    def read_data(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every leaf's number, as a new array (or into ``out``)."""
        numbers = np.fromiter([leaf._data for leaf in self.values], float, len(self.values))  # the fastest read
        if out is None:
            return numbers
        out[:] = numbers
        return out

    def read_grad(self) -> np.ndarray:
        """Every leaf's gradient, as a new array (read without the lock: a pass another
        thread is writing meanwhile may be in some leaves' numbers and not yet in others').

        A leaf whose ``.grad`` is None (no gradient yet) or not a number raises
        ``ValueError`` naming it (numpy would read None as nan).
        """
        try:
            grads = np.fromiter([leaf.grad for leaf in self.values], float, len(self.values))
        except (TypeError, ValueError):
            grads = None
        if grads is None or np.isnan(grads).any():  # a nan may be a None read as nan
            for i, leaf in enumerate(self.values):
                if leaf.grad is None:
                    raise ValueError(
                        f"leaf {i} ({leaf.label or 'unlabelled'}) has no gradient yet "
                        "(its .grad is None): run backward() through it first, "
                        "or set its .grad to 0.0"
                    )
                if type(leaf.grad) is not float:
                    try:
                        to_float(leaf.grad, f".grad of leaf {i} ({leaf.label or 'unlabelled'})")
                    except TypeError as error:
                        raise ValueError(str(error)) from None
            if grads is None:  # every gradient reads as a number one by one, but not all at once
                raise ValueError("the leaves' gradients could not be read as numbers")
        return grads

    def write_data(self, data: np.ndarray | Sequence[float]) -> None:
        """Give every leaf its new number: ``data[i]`` to the i-th leaf."""
        numbers = self._one_per_leaf(data, "write_data").tolist()
        with numbers_lock:
            for leaf, number in zip(self.values, numbers):
                leaf._data = number

    def add_grad(self, grad: np.ndarray | Sequence[float]) -> None:
        """Add ``grad[i]`` to the i-th leaf's gradient (twice to a leaf given twice), all
        in one go for other threads."""
        amounts = self._one_per_leaf(grad, "add_grad").tolist()
        with gradient_lock:
            for leaf, amount in zip(self.values, amounts):
                current = leaf.grad  # None: no gradient yet, so this is the first
                leaf.grad = amount if current is None else current + amount

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every leaf's gradient to 0, or to ``None`` with ``set_to_none`` (between two
        backward passes of other threads, never within one)."""
        zero_grads(self.values, set_to_none)

    def _one_per_leaf(self, numbers: np.ndarray | Sequence[float], what: str) -> np.ndarray:
        try:
            numbers = np.asarray(numbers, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what} needs {len(self.values)} numbers, one per leaf, got {described(numbers)}"
            ) from None
        if numbers.shape != (len(self.values),):
            raise ValueError(f"{what} needs {len(self.values)} numbers, one per leaf, got shape {numbers.shape}")
        return numbers


def zero_grads(leaves: Iterable[Value], set_to_none: bool = False) -> None:
    """Set the gradient of every one of ``leaves`` (``Value``s) to 0 (to ``None``, "no
    gradient yet", with ``set_to_none``), between two backward passes of other threads,
    never within one: ``LeafArrays.zero_grad`` for leaves already known to be ``Value``s
    (a model's zero_grad, each step), without a check each.

    >>> a = Value(1.0); a.grad = 3.0; zero_grads([a]); a.grad
    0.0
    """
    if not isinstance(set_to_none, bool):
        raise TypeError(f"zero_grad's set_to_none must be True or False, got {set_to_none!r}")
    cleared = None if set_to_none else 0.0
    with gradient_lock:
        for leaf in leaves:
            # Value.grad is typed float, what every reader gets after a backward pass;
            # None ("no gradient yet") is the one other state, set by users and here.
            leaf.grad = cleared  # type: ignore[assignment]


def slice_if_consecutive(numbers: Sequence[int] | np.ndarray) -> slice | np.ndarray:
    """A slice when ``numbers`` run consecutively (indexing with it gives a view, not a
    copy), else an index array.

    >>> slice_if_consecutive([3, 4, 5]), slice_if_consecutive([3, 5]).tolist()
    (slice(3, 6, None), [3, 5])
    """
    numbers = np.asarray(numbers, dtype=np.intp)
    if len(numbers) and np.array_equal(numbers, np.arange(numbers[0], numbers[0] + len(numbers))):
        return slice(int(numbers[0]), int(numbers[0]) + len(numbers))
    return numbers
