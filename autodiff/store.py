"""Leaves whose numbers and gradients live side by side in numpy arrays.

A model's weights are leaf ``Value``s, each with its own ``data`` and ``grad``. Read one
at a time, the hundreds of weights of even a small MLP cost a Python loop per training
step, in the optimizer and in a compiled program alike. A ``Store`` keeps them in two
arrays instead, ``store.data`` and ``store.grad``, so that both read and write all of
them in one numpy call. A stored leaf's ``data`` and ``grad`` read and write its
entries there: one copy of each number.

A stored leaf stays the same object, with the same label and operators; only its class
changes, to one with no slots of its own: a leaf has no inputs, so it keeps its store
and its index where an op node keeps its inputs. Reading a number through the store
costs the scalar engine a property call per read (the README gives what that costs a
training step); in exchange nothing loops over the parameters in an optimizer or a
compiled step, and each number has one copy.

Threads: every write of leaves' gradients the engine makes (``backward``'s, a compiled
program's, ``LeafArrays``', a ``Store``'s setters) holds ``gradient_lock``, one lock for
the process, once per call. Two threads adding into the same leaf therefore never lose
an addition, whatever the leaf's storage. Reads take no lock.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import Iterable, Sequence

import numpy as np

from .value import Value, to_float

# Held while gradients are written into leaves (a read-add-write of a leaf's .grad is
# several steps, and other threads may run between them) and while many leaves' numbers
# are written as one. Reads do not take it: a KeyboardInterrupt raised by a trace
# function (a debugger; the interrupt tests) can land between a `with` block's last
# line and its release, and a lock left held would stop every other thread for good;
# so the lock is taken only where it must be (a step's writes hold Ctrl-C anyway).
# Reentrant: code run while it is held (a finaliser, a user's own `with gradient_lock:`
# around several calls) may take it again.
gradient_lock = threading.RLock()


class _StoredValue(Value):
    """A leaf in a ``Store``: ``_a`` is the store, ``_b`` the leaf's index in it."""

    __slots__ = ()

    @property
    def _data(self) -> float:  # every reader of a Value's number, the ops included, comes here
        return self._a._numbers.item(self._b)

    @_data.setter
    def _data(self, value: float) -> None:
        self._a._numbers[self._b] = value

    @property
    def grad(self) -> float:
        return self._a._grads.item(self._b)

    @grad.setter
    def grad(self, value: float) -> None:
        self._a._grads[self._b] = value if type(value) is float else to_float(value, "a gradient")

    def __copy__(self) -> Value:
        """A leaf of its own, in no store, with the same number, gradient and label."""
        twin = Value(self._data, self.label)
        twin.grad = self.grad
        return twin

    def __deepcopy__(self, memo: dict) -> Value:
        # Copying a model copies its parameters' store whole: the copies share a new store.
        if id(self) not in memo:
            copy.deepcopy(self._a, memo)
        return memo[id(self)]


class Store:
    """Keep ``leaves`` (leaf ``Value``s) in two arrays, ``data`` and ``grad``: a leaf's
    ``.data`` and ``.grad`` are its entries there, so writing either writes the other.

    Each leaf stays the same ``Value``. Leaves already in a store move to this one when
    it takes all of that store's leaves (a layer takes over its neurons' stores); the
    store they leave can no longer be used. ``nn`` models store their parameters.

    >>> w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    >>> store = Store([w, b])
    >>> (w * 3.0 + b).backward()
    >>> store.grad.tolist()
    [3.0, 1.0]
    >>> store.data -= 0.125 * store.grad; w.data, b.data
    (0.125, -1.125)
    """

    # Slots: read on every stored leaf's access. The store holds its leaves weakly: they
    # hold it, and a model should go the moment its last reference does, with no cycle.
    __slots__ = ("_numbers", "_grads", "_moved_away", "_leaves")
    _moves = 0  # stores whose leaves moved to another, ever: LeafArrays layouts check against it

    def __init__(self, leaves: Iterable[Value]) -> None:
        with gradient_lock:  # no pass adds into a leaf between the copy of its grad and its move
            self._take(_checked_leaves(list(leaves)))

    def _take(self, leaves: list[Value]) -> None:
        """Copy the numbers and gradients of ``leaves`` in, and point each leaf here."""
        self._numbers = np.array([leaf._data for leaf in leaves], dtype=float)
        self._grads = np.array([leaf.grad for leaf in leaves], dtype=float)
        self._moved_away = False
        for index, leaf in enumerate(leaves):
            if type(leaf) is _StoredValue:
                if not leaf._a._moved_away:
                    leaf._a._moved_away = True
                    Store._moves += 1
            else:
                leaf.__class__ = _StoredValue
            leaf._a, leaf._b = self, index
        self._leaves = [weakref.ref(leaf) for leaf in leaves]

    @property
    def values(self) -> tuple[Value, ...]:
        """The stored leaves still alive, in store order."""
        return tuple(leaf for leaf in (ref() for ref in self._leaves) if leaf is not None)

    @property
    def data(self) -> np.ndarray:
        """The leaves' numbers (float64, one per leaf). Writing it writes into the array:
        ``store.data -= lr * store.grad`` updates every leaf."""
        self._check()
        return self._numbers

    @data.setter
    def data(self, numbers: np.ndarray | Sequence[float]) -> None:
        self._check()
        with gradient_lock:
            self._numbers[:] = numbers

    @property
    def grad(self) -> np.ndarray:
        """The leaves' gradients (float64, one per leaf): ``backward`` adds into them."""
        self._check()
        return self._grads

    @grad.setter
    def grad(self, gradients: np.ndarray | Sequence[float]) -> None:
        self._check()
        with gradient_lock:
            self._grads[:] = gradients

    def __deepcopy__(self, memo: dict) -> Store:
        """A new store of new leaves with the same numbers, gradients and labels."""
        twins = []
        for leaf in self.values:
            if id(leaf) not in memo:
                memo[id(leaf)] = copy.copy(leaf)
            twins.append(memo[id(leaf)])
        memo[id(self)] = twin = Store(twins)
        return twin

    def __len__(self) -> int:
        return len(self._numbers)

    def _check(self) -> None:
        if self._moved_away:
            raise RuntimeError("this Store's leaves have moved to another Store; use that one")

    def __repr__(self) -> str:
        return f"<Store of {len(self)} leaves{' (moved away)' if self._moved_away else ''}>"


def _checked_leaves(leaves: list[Value]) -> list[Value]:
    """``leaves``, or an error naming the first that a Store cannot take. Nothing has
    changed yet when it raises."""
    seen: set[int] = set()
    for i, leaf in enumerate(leaves):
        if type(leaf) not in (Value, _StoredValue):
            what = "a Value of a subclass" if isinstance(leaf, Value) else f"a {type(leaf).__name__}"
            raise TypeError(f"a Store holds Values; item {i} is {what}")
        if leaf.parents:
            raise ValueError(f"a Store holds leaves; item {i} ({leaf.label or leaf.op}) is computed by an op")
        if id(leaf) in seen:
            raise ValueError(f"a Store holds each leaf once; item {i} ({leaf.label or 'unlabelled'}) is given twice")
        seen.add(id(leaf))
    for old in {leaf._a for leaf in leaves if type(leaf) is _StoredValue}:
        if not all(id(leaf) in seen for leaf in old.values):
            raise ValueError(
                f"some of these leaves are in a Store of {len(old)}, and only a Store that takes "
                "all of them can take them over (store a model's whole parameters())"
            )
    return leaves


class LeafArrays:
    """A fixed list of leaf ``Value``s, whose numbers and gradients are read and written
    as arrays, in that order.

    Where the leaves lie in a ``Store`` (in store order, a whole store at best) each
    read or write is one numpy call; other leaves are read one at a time. Optimizers and
    compiled programs see their parameters through this. Reads return new arrays.

    >>> a, b, c = Value(1.0), Value(2.0), Value(3.0)
    >>> store = Store([a, b])
    >>> leaves = LeafArrays([c, a, b])
    >>> leaves.read_data().tolist()
    [3.0, 1.0, 2.0]
    >>> leaves.write_data([30.0, 10.0, 20.0]); a.data, c.data
    (10.0, 30.0)
    """

    def __init__(self, leaves: Iterable[Value]) -> None:
        self.values = tuple(leaves)
        for i, leaf in enumerate(self.values):
            if not isinstance(leaf, Value):
                raise TypeError(f"item {i} is a {type(leaf).__name__}, not a Value")
        self._layout()

    def _layout(self) -> None:
        """Group the leaves by store: (store, positions here, indices there), slices where
        they run in order; and the positions of leaves in no store."""
        by_store: dict[Store, tuple[list[int], list[int]]] = {}
        loose: list[int] = []
        for position, leaf in enumerate(self.values):
            if type(leaf) is _StoredValue:
                positions, indices = by_store.setdefault(leaf._a, ([], []))
                positions.append(position)
                indices.append(leaf._b)
            else:
                loose.append(position)
        self._stored = [(store, slice_if_consecutive(p), slice_if_consecutive(i)) for store, (p, i) in by_store.items()]
        self._moves_seen = Store._moves
        self._loose = np.array(loose, dtype=np.intp)
        self._loose_values = [self.values[i] for i in loose]
        # A leaf given twice gets its gradient twice: added one at a time, not as one write.
        self._unique = len({id(leaf) for leaf in self.values}) == len(self.values)

    def _groups(self) -> list[tuple[Store, slice | np.ndarray, slice | np.ndarray]]:
        """The stores with the leaves' positions here and there, laid out again if some
        store's leaves have moved since (a store taken over by a parent module's)."""
        if self._moves_seen != Store._moves:
            if any(store._moved_away for store, _, _ in self._stored):
                self._layout()
            self._moves_seen = Store._moves
        return self._stored

    def __len__(self) -> int:
        return len(self.values)

    def read_data(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every leaf's number, as a new array (or into ``out``)."""
        out = np.empty(len(self.values)) if out is None else out
        for store, positions, indices in self._groups():
            out[positions] = store._numbers[indices]
        if self._loose_values:
            out[self._loose] = [leaf._data for leaf in self._loose_values]
        return out

    def read_grad(self) -> np.ndarray:
        """Every leaf's gradient, as a new array (read without the lock: a pass another
        thread is writing meanwhile may be in some leaves' numbers and not yet in others')."""
        out = np.empty(len(self.values))
        for store, positions, indices in self._groups():
            out[positions] = store._grads[indices]
        if self._loose_values:
            out[self._loose] = [leaf.grad for leaf in self._loose_values]
        return out

    def write_data(self, data: np.ndarray | Sequence[float]) -> None:
        """Give every leaf its new number: ``data[i]`` to the i-th leaf."""
        data = self._one_per_leaf(data, "write_data")
        with gradient_lock:
            for store, positions, indices in self._groups():
                store._numbers[indices] = data[positions]
            if self._loose_values:
                for leaf, number in zip(self._loose_values, data[self._loose].tolist()):
                    leaf._data = number

    def add_grad(self, grad: np.ndarray | Sequence[float]) -> None:
        """Add ``grad[i]`` to the i-th leaf's gradient, all in one go for other threads."""
        grad = self._one_per_leaf(grad, "add_grad")
        with gradient_lock:
            if not self._unique:
                for leaf, g in zip(self.values, grad.tolist()):
                    leaf.grad += g
                return
            for store, positions, indices in self._groups():
                store._grads[indices] += grad[positions]
            if self._loose_values:
                for leaf, g in zip(self._loose_values, grad[self._loose].tolist()):
                    leaf.grad += g

    def zero_grad(self) -> None:
        """Set every leaf's gradient to 0 (between two backward passes of other threads,
        never within one)."""
        with gradient_lock:
            for store, _, indices in self._groups():
                store._grads[indices] = 0.0
            for leaf in self._loose_values:
                leaf.grad = 0.0

    def _one_per_leaf(self, numbers: np.ndarray | Sequence[float], what: str) -> np.ndarray:
        numbers = np.asarray(numbers, dtype=float)
        if numbers.shape != (len(self.values),):
            raise ValueError(f"{what} needs {len(self.values)} numbers, one per leaf, got shape {numbers.shape}")
        return numbers


def in_store_order(leaves: Iterable[Value]) -> list[Value]:
    """``leaves`` sorted so that ``LeafArrays`` reads them in as few numpy calls as it
    can: those of each store together, in store order (first the store met first), then
    the others in their given order.

    >>> a, b, c = Value(1.0), Value(2.0), Value(3.0)
    >>> _ = Store([b, a])
    >>> [v.data for v in in_store_order([c, a, b])]
    [2.0, 1.0, 3.0]
    """
    leaves = list(leaves)
    stores: dict[Store, int] = {}
    for leaf in leaves:
        if type(leaf) is _StoredValue:
            stores.setdefault(leaf._a, len(stores))
    loose = len(stores)

    def place(item: tuple[int, Value]) -> tuple[int, int]:
        position, leaf = item
        return (stores[leaf._a], leaf._b) if type(leaf) is _StoredValue else (loose, position)

    return [leaf for _, leaf in sorted(enumerate(leaves), key=place)]


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
