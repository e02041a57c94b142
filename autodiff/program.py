"""``compile``: record the graph of one sample once, then run it over a whole batch.

The user keeps writing scalar code; the program replays it with numpy, one array entry
per sample. The same op table serves: each op's ``batched`` forward, and its local
derivative rule evaluated on arrays (``ARRAY_MATH``). Four ideas make it fast:

- **levels**: every node is scheduled at one more than the deepest of its inputs, and
  all nodes of a level with the same op run as one numpy call (the 16 neurons of a
  layer become one matrix product over a (16, N) array);
- **static parts once**: nodes that do not depend on the per-sample inputs (weights, an
  L2 term) are computed once per call, as a batch of one, not once per sample;
- **no Python loop over samples**, and one pass over the weights per call: their
  numbers are read into the program's own buffer, and their gradients added from it,
  with ``LeafArrays`` (in the order the steps first read them: a model's own order,
  layer by layer, which is the order a layer's matrix reads them in);
- **no copy that can be avoided**: buffers and the views of their rows are made once
  per batch size, a layer reads its weights as a view, and a gradient's first
  contribution is written where it goes rather than added to zeros.

For a small MLP the cost is mostly a fixed cost per numpy call, not the arithmetic: a
call and backward pass over one sample take about four fifths of the time they take
over 100.

Two forms. ``compile(f)`` traces a function (``tracing.py``): it sees every number the
function reads, refuses a branch on a sample's number with ``TracingError`` naming the
line, and traces again when a weight it branched on moves. ``compile(output, inputs)``
takes a graph already built, and cannot see how it was built: a Python ``if`` on
``.data`` taken while building it is replayed as the branch it took, for every sample.
"""

from __future__ import annotations

import functools
import inspect
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from . import ops
from .arguments import described, values_list
from .backward import topological_order, topological_order_of
from .leaves import LeafArrays, slice_if_consecutive
from .tracing import Guard, evaluate, trace
from .value import Value

if TYPE_CHECKING:
    from .torch_module import ProgramModule

Rows = np.ndarray | slice  # the rows of some nodes: a slice where they lie side by side
Call = Callable[[], object]


@dataclass
class _Group:
    """Nodes of one level with one op, run as one numpy call."""

    op: ops.Op
    out: slice  # (k,) rows: a level's nodes get rows side by side
    inputs: list[Rows]  # per input position, the k rows it reads (fixed-arity ops)
    in_rows: np.ndarray  # (arity, k): every row read, for ops of any arity
    unique: list[bool]  # per input position: no row twice, so gradients add without collisions

    def plan(self, written: set[int], written_static: set[int]) -> None:
        """Mark the inputs whose rows get their first gradient from this step, in backward
        order (``written``: the rows that have one already). Those rows are overwritten,
        not added to, saving an addition and a temporary array each. A group writes no
        static entries (``written_static``: a layer's weights); the static part's groups
        get the static entries as their ``written``."""
        self._overwrites: list[bool] = []
        if self.op.arity is None:  # an op of any arity adds its gradients with add.at
            written.update(_row_numbers(self.in_rows))
            return
        for rows, unique in zip(self.inputs, self.unique):
            numbers = _row_numbers(rows)
            self._overwrites.append(isinstance(numbers, range) and unique and written.isdisjoint(numbers))
            written.update(numbers)

    def _stacked(self, values: np.ndarray) -> np.ndarray:
        """The buffer an op of any arity reads its inputs from, (arity, k, N): filled by the
        forward pass, read again by the backward pass (made once per batch size)."""
        if getattr(self, "_stacked_for", None) is not values:
            self._stacked_for, self._stacked_buffer = values, np.empty((*self.in_rows.shape, values.shape[1]))
        return self._stacked_buffer

    def forward_calls(self, values: np.ndarray) -> list[Call]:
        out, batched, inputs = values[self.out], self.op.batched, self.inputs
        if self.op.arity is None:  # the inputs stacked, (arity, k, N), in a buffer of their own
            stacked = self._stacked(values)
            in_rows = self.in_rows
            gather = functools.partial(np.take, values, in_rows, axis=0, out=stacked)

            def gather_and_run() -> None:
                gather()
                np.copyto(out, batched(stacked))

            return [gather_and_run]
        if not all(isinstance(rows, slice) for rows in inputs):
            return [lambda: np.copyto(out, batched(*[values[rows] for rows in inputs]))]
        ins = [values[rows] for rows in inputs]
        if _writes_out(batched):  # straight into its rows
            return [functools.partial(batched, *ins, out=out)]
        return [lambda: np.copyto(out, batched(*ins))]

    def backward_calls(self, values: np.ndarray, grads: np.ndarray) -> list[Call]:
        op, out, out_grad = self.op, values[self.out], grads[self.out]
        if op.arity is None:  # a rule of any arity answers with one stacked array
            stacked, n = self._stacked(values), values.shape[1]
            # The rows in runs with no row twice: each run is added as one (a view where its
            # rows lie side by side), runs in order, as add.at would add them one by one.
            runs = [
                (slice(start, stop), _Sink(grads, slice_if_consecutive(rows), True, False))
                for start, stop, rows in _unique_runs(self.in_rows.ravel())
            ]

            def any_arity() -> None:
                contributions = op.grads(ops.ARRAY_MATH, out, out_grad, stacked).reshape(-1, n)
                for positions, sink in runs:
                    sink.take(contributions[positions])

            return [any_arity]
        inputs = self.inputs
        ins = [values[rows] for rows in inputs] if all(isinstance(rows, slice) for rows in inputs) else None
        sinks = [
            _Sink(grads, rows, unique, overwrite)
            for rows, unique, overwrite in zip(inputs, self.unique, self._overwrites)
        ]
        if op.input_grads is not None:  # the rule divides or selects: it takes out_grad itself

            def given_grad() -> None:
                now = ins if ins is not None else [values[rows] for rows in inputs]
                for amount, sink in zip(op.grads(ops.ARRAY_MATH, out, out_grad, now), sinks):
                    sink.take(amount)

            return [given_grad]
        if ins is not None:
            local = op.rule(ops.ARRAY_MATH, out, ins)  # probed once, on the step's own views
            if all(type(d) is float or any(d is view for view in (out, *ins)) for d in local):
                # A constant, or one of the views itself (x * y's gradient is y): bound for good.
                return [call for d, sink in zip(local, sinks) for call in sink.calls(d, out_grad)]

        def each_call() -> None:  # any other local gradient is computed at each call
            local = op.rule(ops.ARRAY_MATH, out, ins if ins is not None else [values[rows] for rows in inputs])
            for d, sink in zip(local, sinks):
                sink.receive(d, out_grad)

        return [each_call]


class _Sink:
    """Where one input of a step sends its gradient: some rows of the gradient buffer."""

    def __init__(self, grads: np.ndarray, rows: Rows, unique: bool, overwrite: bool) -> None:
        self.grads, self.rows, self.unique = grads, rows, unique
        self.view = grads[rows] if isinstance(rows, slice) and unique else None
        # The first gradient these rows get, in backward order: written, not added to zeros.
        self.overwrite = overwrite and self.view is not None

    def receive(self, d: np.ndarray | float, out_grad: np.ndarray) -> None:
        """Take d × out_grad, the chain rule's product for these rows."""
        if self.overwrite:
            np.multiply(d, out_grad, out=self.view)
            return
        self.take(out_grad if type(d) is float and d == 1.0 else d * out_grad)

    def take(self, amount: np.ndarray | float) -> None:
        """Add ``amount`` to the rows (write it, where it is their first gradient)."""
        if self.overwrite:
            self.view[...] = amount  # type: ignore[index]  # a view: overwrite is only set with one (__init__)
        elif self.view is not None:
            self.view += amount
        elif self.unique:
            self.grads[self.rows] += amount
        else:
            _add_at(self.grads, self.rows, np.broadcast_to(amount, (len(self.rows), self.grads.shape[1])))  # type: ignore[arg-type]  # an array: a slice's rows are unique

    def calls(self, d: np.ndarray | float, out_grad: np.ndarray) -> list[Call]:
        """``receive`` for a d that stays what it is, as calls with their arrays bound
        (kept in step with ``receive``)."""
        if self.overwrite:
            return [functools.partial(np.multiply, d, out_grad, out=self.view)]
        if self.view is not None and type(d) is float and d == 1.0:
            return [functools.partial(np.add, self.view, out_grad, out=self.view)]
        return [functools.partial(self.receive, d, out_grad)]


@dataclass
class _Layer:
    """Neurons of one level that read the same inputs with constant weights: w·x + b for
    all of them is one matrix product, as a hand-written numpy layer would do it."""

    out: slice  # (k,) rows
    x_rows: Rows  # (n,): the inputs every neuron reads
    w_index: np.ndarray  # (k, n): where each weight sits among the static values
    b_index: np.ndarray | None  # (k,), or None for dot without a bias
    distinct: bool  # the inputs are n different rows

    def bind(self, static: np.ndarray, static_grads: np.ndarray) -> None:
        """Find the weights and biases in the program's static arrays (one entry per
        static node): views where they lie evenly spaced (a model's weights do), so that
        no call gathers them."""
        self._static, self._static_grads = static, static_grads
        self._w, self._w_grad = _view(static, self.w_index), _view(static_grads, self.w_index)
        # Backward multiplies by the very weights this call's forward used: the view, or
        # what the forward gathered where there is none.
        self._weights_used = self._w
        self._b = self._b_grad = None
        if self.b_index is not None:
            self._b, self._b_grad = _view(static, self.b_index), _view(static_grads, self.b_index)

    def plan(self, written: set[int], written_static: set[int]) -> None:
        """As ``_Group.plan``: where this layer gives the first gradient, it writes it."""
        x_rows = _row_numbers(self.x_rows)
        self._overwrite_x = isinstance(x_rows, range) and self.distinct and written.isdisjoint(x_rows)
        written.update(x_rows)
        w = self.w_index.ravel().tolist()
        self._overwrite_w = self._w_grad is not None and written_static.isdisjoint(w)
        written_static.update(w)  # before the biases: a bias may be one of the weights
        b = [] if self.b_index is None else self.b_index.tolist()
        self._overwrite_b = self._b_grad is not None and written_static.isdisjoint(b)
        written_static.update(b)

    def forward_calls(self, values: np.ndarray) -> list[Call]:
        out, x_rows, static = values[self.out], self.x_rows, self._static
        if self._w is not None and isinstance(x_rows, slice):
            calls: list[Call] = [functools.partial(np.matmul, self._w, values[x_rows], out=out)]
        else:

            def product() -> None:
                self._weights_used = static[self.w_index] if self._w is None else self._w
                np.matmul(self._weights_used, values[x_rows], out=out)

            calls = [product]
        if self._b is not None:
            calls.append(functools.partial(np.add, out, self._b[:, None], out=out))
        elif self.b_index is not None:
            calls.append(lambda: np.add(out, static[self.b_index][:, None], out=out))
        return calls

    def backward_calls(self, values: np.ndarray, grads: np.ndarray) -> list[Call]:
        out_grad, x_rows, static_grads = grads[self.out], self.x_rows, self._static_grads  # (k, N)
        x = values[x_rows] if isinstance(x_rows, slice) else None
        calls: list[Call] = []
        if self._overwrite_w and x is not None:
            calls.append(functools.partial(np.matmul, out_grad, x.T, out=self._w_grad))
        else:
            calls.append(
                lambda: _add_into(
                    static_grads, self.w_index, self._w_grad, out_grad @ (x if x is not None else values[x_rows]).T
                )
            )
        if self._overwrite_b:
            calls.append(functools.partial(np.add.reduce, out_grad, axis=1, out=self._b_grad))
        elif self.b_index is not None:
            b_index = self.b_index
            calls.append(lambda: _add_into(static_grads, b_index, self._b_grad, np.add.reduce(out_grad, axis=1)))
        x_grad = _Sink(grads, x_rows, self.distinct, self._overwrite_x)
        if x_grad.overwrite and self._w is not None:
            calls.append(functools.partial(np.matmul, self._w.T, out_grad, out=x_grad.view))
        else:
            calls.append(lambda: x_grad.take(self._weights_used.T @ out_grad))  # type: ignore[union-attr]  # set by the forward pass (product) before any backward
        return calls


def _writes_out(batched: Callable) -> bool:
    """Whether a batched forward takes ``out=`` (every ufunc does, and some of ieee's)."""
    if isinstance(batched, np.ufunc):
        return True
    try:
        return "out" in inspect.signature(batched).parameters
    except (TypeError, ValueError):  # a callable without a signature: no
        return False


def _row_numbers(rows: Rows) -> range | list[int]:
    return range(rows.start, rows.stop) if isinstance(rows, slice) else rows.ravel().tolist()


def _unique_runs(rows: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """``rows`` cut into runs (start, stop, rows[start:stop]) in which no row appears
    twice: ``dot(w, w)`` reads each weight twice, as two runs.

    >>> [(start, stop) for start, stop, _ in _unique_runs(np.array([0, 1, 2, 0, 1, 2, 3]))]
    [(0, 3), (3, 7)]
    """
    runs, start, seen = [], 0, set[int]()
    for position, row in enumerate(rows.tolist()):
        if row in seen:
            runs.append((start, position, rows[start:position]))
            start, seen = position, set()
        seen.add(row)
    runs.append((start, len(rows), rows[start:]))
    return runs


def _add_into(vector: np.ndarray, index: np.ndarray, view: np.ndarray | None, amounts: np.ndarray) -> None:
    """vector[index] += amounts, adding twice where an index appears twice."""
    if view is not None:
        view += amounts
    else:
        _add_at(vector, index.ravel(), amounts.ravel())


def _add_at(target: np.ndarray, rows: np.ndarray, amounts: np.ndarray) -> None:
    """target[rows] += amounts, where a row may appear more than once. numpy's add.at is
    fast on 1-D arrays only: a batch of one (the static part) is added as one."""
    if target.ndim == 2 and target.shape[1] == 1:
        np.add.at(target[:, 0], rows, amounts.reshape(-1))
    else:
        np.add.at(target, rows, amounts)


def _view(vector: np.ndarray, index: np.ndarray) -> np.ndarray | None:
    """``vector[index]`` as a view (writing it writes ``vector``), when the positions in
    ``index`` (1-D or 2-D) are distinct and evenly spaced along each axis; else None."""
    flat = index.ravel()
    if flat.size == 0 or len(np.unique(flat)) != flat.size:
        return None
    start = int(flat[0])
    steps = [
        int(np.take(index, 1, axis=axis).flat[0]) - start if size > 1 else 0 for axis, size in enumerate(index.shape)
    ]
    grid = start + sum(
        np.arange(size).reshape([-1 if a == axis else 1 for a in range(index.ndim)]) * step
        for axis, (size, step) in enumerate(zip(index.shape, steps))
    )
    if min(steps) < 0 or not np.array_equal(grid, index):
        return None
    stride = vector.strides[0]  # bytes from one entry of vector to the next
    return np.lib.stride_tricks.as_strided(vector[start:], index.shape, [step * stride for step in steps])


class Program:
    """A per-sample graph, ready to run over a batch. Made by ``autodiff.compile``.

    >>> x, w = Value(0.0, label="x"), Value(3.0, label="w")
    >>> program = compile((w * x).tanh(), inputs=[x])
    >>> program(np.array([0.0, 0.5])).round(6).tolist()
    [0.0, 0.905148]
    >>> program.backward()[0].round(6).tolist()   # d mean / dx per sample
    [1.5, 0.27106]
    >>> round(w.grad, 6)                           # d mean / dw, into w.grad
    0.045177
    """

    def __init__(self, output: Value, inputs: Sequence[Value], backend: str = "numpy") -> None:
        if not isinstance(output, Value):
            raise TypeError(f"compile needs a Value as output, got {type(output).__name__}")
        self._busy = threading.Lock()  # held by a call or a backward pass: see _running
        self.backend = _check_backend(backend)
        self._build(output, inputs, every_input_used=True)

    def _build(self, output: Value, inputs: Sequence[Value], every_input_used: bool) -> None:
        self.order = topological_order(output)
        self.inputs = _check_inputs(inputs, set(self.order) if every_input_used else None)
        dynamic = set(self.inputs)
        level: dict[Value, int] = {}
        for node in self.order:
            if node.parents and any(p in dynamic for p in node.parents):
                dynamic.add(node)
                level[node] = 1 + max(level.get(p, 0) for p in node.parents)
        # The static part runs once per call, on the same machinery, as a batch of one. Its
        # leaves come first, in the order the per-sample steps first read them, level by
        # level, then the rest in graph order: an nn model's weights then lie layer by layer,
        # row by row, as the model lists them, so that a layer reads its matrix as a view and
        # an L2 term over model.parameters() reads one run. The nodes computed from them
        # alone follow, placed as they are scheduled, so that each step's nodes lie side by side.
        by_level = sorted(level, key=level.__getitem__)  # stable: graph order within a level
        static_leaves = list(
            dict.fromkeys(
                [p for node in by_level for p in node.parents if p not in dynamic and not p.parents]
                + [node for node in self.order if node not in dynamic and not node.parents]
            )
        )
        self._leaves = LeafArrays(static_leaves)
        static_index = _Rows((leaf, i) for i, leaf in enumerate(static_leaves))
        static_level: dict[Value, int] = {}
        for node in self.order:
            if node not in dynamic and node.parents:
                static_level[node] = 1 + max(static_level.get(p, 0) for p in node.parents)
        self._static_steps = _schedule(static_level, static_index, {})
        self.static = list(static_index)
        self._static_ops = self.static[len(static_leaves) :]
        # Kept from call to call: a layer's weights are views into them. The leaves'
        # entries come first, then the computed nodes'.
        self._static_values = np.empty((len(self.static), 1))
        self._static_grads = np.empty((len(self.static), 1))
        self._static_leaf_values = self._static_values[: len(static_leaves), 0]
        self._static_leaf_grads = self._static_grads[: len(static_leaves), 0]
        self._static_op_values = self._static_values[len(static_leaves) :, 0]
        # Rows of the per-sample buffer: the inputs, every per-sample node, and the static
        # nodes that a batched step reads row-wise (a layer reads its weights elsewhere).
        row = _Rows()
        self._input_rows = [row[x] for x in self.inputs]
        self._input_block = slice_if_consecutive(self._input_rows)
        self._steps = _schedule(level, row, static_index)
        for step in self._steps:
            if isinstance(step, _Layer):
                step.bind(self._static_values[:, 0], self._static_grads[:, 0])
        self._output_row = row[output]
        self._rows = row
        in_rows = [node for node in self.static if node in row]
        self._static_rows = np.array([row[node] for node in in_rows], dtype=np.intp)
        self._static_row_index = np.array([static_index[node] for node in in_rows], dtype=np.intp)
        # In backward order, which steps give rows their first gradient (see _Group.plan).
        written, written_static = {self._output_row}, set[int]()
        for step in reversed(self._steps):
            step.plan(written, written_static)
        written_static.update(self._static_row_index.tolist())
        for step in reversed(self._static_steps):  # the static part's rows are static entries
            step.plan(written_static, set())
        self._row_count = len(row)
        # Each pass is a list of numpy calls with their arrays bound; the per-sample ones are
        # made again when the batch size changes (with the buffers, (rows, N) each).
        # The numba backend runs the per-sample steps as two native loops (fused.py); the
        # numpy calls stay, to raise an op's error with its message.
        # (No per-sample step, no loop to write: numba's source would be an empty one.)
        self._fused = _fused_steps(self._steps) if self.backend == "numba" and self._steps else None
        self._static_forward = _forward_calls(self._static_steps, self._static_values)
        self._static_backward = _Backward(self._static_steps, self._static_values, self._static_grads)
        self._sample_values = self._sample_grads = np.empty((self._row_count, 0))
        # A program holds one batch, from a call to its backward: the thread whose call
        # filled the buffers (None while none is whole).
        self._ran_in: int | None = None

    def __call__(self, *columns: np.ndarray | float) -> np.ndarray:
        """The output for every sample: one column (1-D array, or a number for all) per input."""
        arrays, n, whole = self._columns(columns)
        with self._running(), np.errstate(all="ignore"):
            self._before_call()
            self._ran_in = None  # until this call's forward pass is whole: backward needs it
            if self._sample_values.shape[1] != n:
                # numba's loop runs sample by sample: each sample's rows side by side.
                shape = (self._row_count, n)
                order: Literal["C", "F"] = "F" if self._fused is not None else "C"
                values, grads = np.empty(shape, order=order), np.empty(shape, order=order)
                self._sample_values, self._sample_grads = values, grads
                self._forward = _forward_calls(self._steps, values)
                self._backward = _Backward(self._steps, values, grads)
            values = self._sample_values
            self._compute_static()
            values[self._static_rows] = self._static_values[self._static_row_index]
            if whole and isinstance(self._input_block, slice):  # rows side by side: one copy
                values[self._input_block] = arrays
            else:
                for row, column in zip(self._input_rows, arrays):
                    values[row] = column
            if self._fused is None or self._fused.forward(values, self._static_values[:, 0]):
                for call in self._forward:  # numpy's steps, or the ones that say what numba refused
                    call()
            self._ran_in = threading.get_ident()
            return values[self._output_row].copy()

    def values_of(self, node: Value) -> np.ndarray:
        """The number of ``node``, any node of the program's graph, for each sample of
        the last call (a copy). A traced function can keep the nodes it makes to read them.

        >>> x = Value(0.0, label="x")
        >>> square = x * x
        >>> program = compile(square + 1.0, inputs=[x])
        >>> program(np.array([1.0, 3.0])).tolist(), program.values_of(square).tolist()
        ([2.0, 10.0], [1.0, 9.0])
        """
        if not isinstance(node, Value):
            raise TypeError(f"values_of takes a node of the program's graph (a Value), got {described(node)}")
        with self._running():
            if self._ran_in is None:
                raise RuntimeError("run the program on a batch before reading its values")
            n = self._sample_values.shape[1]
            if node in self._rows:
                return self._sample_values[self._rows[node]].copy()
            if any(node is static for static in self.static):  # the same for every sample
                return np.full(n, node.data)
            raise ValueError(f"{repr(node.label) if node.label else 'this node'} is not a node of the program's graph")

    def backward(self, weights: np.ndarray | None = None) -> list[np.ndarray]:
        """Accumulate d sum(w_i out_i) / d leaf into ``.grad`` of every leaf that is not an
        input (w_i = 1/N by default: the mean), as ``Value.backward`` would, and return the
        per-sample gradients of each input, one array per input."""
        with self._running():
            if self._ran_in is None:
                raise RuntimeError("run the program on a batch before calling backward()")
            if self._ran_in != threading.get_ident():
                raise RuntimeError(
                    "this program's last batch was run by another thread, so its backward "
                    "pass would not be this thread's: compile one program per thread"
                )
            seed = self._seed(weights, self._sample_values.shape[1])
            with np.errstate(all="ignore"):
                input_grads = self._backpropagate(seed)
            self._leaves.add_grad(self._static_leaf_grads)
            return list(input_grads)

    def to_torch(self, parameters: Iterable[Value] | None = None) -> ProgramModule:
        """This program as a ``torch.nn.Module`` (PyTorch installed: ``pip install
        'autodiff-scalar[torch]'``), to train with PyTorch, on a GPU or across machines.

        ``module(*columns)`` gives the program's outputs, and PyTorch's backward pass its
        gradients, to rounding in float64. The leaves that are not inputs are the module's
        ``weights`` (one ``torch.nn.Parameter``, in the order of ``module.leaves``), their
        numbers copied now; ``parameters`` (say ``model.parameters()``) makes only those
        trainable, the others a buffer of constants. ``module.copy_to_values()`` writes
        the trained numbers back into the Values. A traced function that branches on
        weights is refused: a module holds one graph.

        >>> x, w = Value(0.0, label="x"), Value(3.0, label="w")
        >>> module = compile(w * x + 1.0, inputs=[x]).to_torch(parameters=[w])
        >>> module(np.array([1.0, 2.0])).tolist(), module.weights.tolist(), module.constants.tolist()
        ([4.0, 7.0], [3.0], [1.0])
        """
        from .torch_module import ProgramModule  # PyTorch is imported only here

        return ProgramModule(self, parameters)

    def _running(self) -> _Running:
        """The block has the program's buffers to itself, or a RuntimeError says another
        thread is using them (two batches in one set of buffers would mix silently)."""
        return _Running(self._busy)

    def _before_call(self) -> None:
        """What a call does first, with the buffers to itself (a traced program checks
        its guards here)."""

    def _backpropagate(self, seed: np.ndarray | float) -> np.ndarray:
        """The per-sample gradients of the inputs, (inputs, N); the static nodes' gradients,
        summed over the samples, go into ``self._static_grads``."""
        grads, static_grads = self._sample_grads, self._static_grads
        # -0.0, not 0.0: -0.0 + x is x for every x (0.0 + -0.0 is 0.0), so that a row's
        # gradient is its first contribution and then sums, to the sign of a zero, as in
        # the scalar engine and in PyTorch.
        grads.fill(-0.0)
        grads[self._output_row] = seed
        static_grads.fill(-0.0)
        if self._fused is not None:
            self._fused.backward(self._sample_values, grads, self._static_values[:, 0], static_grads[:, 0])
        else:
            for call in self._backward.calls():
                call()
        # The static part ran once for all samples: its gradient is the sum over them.
        static_grads[self._static_row_index, 0] += np.add.reduce(grads[self._static_rows], axis=1)
        for call in self._static_backward.calls():
            call()
        return grads[self._input_rows]

    def _compute_static(self) -> None:
        """Every static node's value, from the leaves' current data (an optimizer may have
        changed them since the last call).

        Computed nodes take their new values, so that the graph, drawn or differentiated,
        shows the weights of this call.
        """
        self._leaves.read_data(out=self._static_leaf_values)
        for call in self._static_forward:
            call()
        for node, value in zip(self._static_ops, self._static_op_values.tolist()):
            node._data = value

    def _columns(self, columns: tuple) -> tuple[list[np.ndarray] | tuple, int, bool]:
        """The columns as arrays, the batch size, and whether every column is a 1-D array
        of that size (which can be copied into the buffer as one block)."""
        if len(columns) != len(self.inputs):
            names = ", ".join(x.label or f"input {i}" for i, x in enumerate(self.inputs))
            raise ValueError(f"the program takes {len(self.inputs)} columns ({names}), got {len(columns)}")
        # The common case in three passes over the columns, not one Python loop with several
        # checks each (a 64-pixel image is 64 columns): arrays, all real, all 1-D of one length.
        if set(map(type, columns)) == {np.ndarray} and set(map(_ndim, columns)) == {1}:
            lengths = set(map(len, columns))
            if (
                len(lengths) == 1
                and (n := lengths.pop())
                and all(dtype.kind in "iuf" for dtype in set(map(_dtype, columns)))
            ):
                return columns, n, True
        arrays, lengths = [], set()
        for i, column in enumerate(columns):
            array = np.asarray(column)
            if array.dtype.kind not in "iuf" or array.ndim > 1:
                what = f"column {i} ({self.inputs[i].label or f'input {i}'})"
                if array.dtype.kind not in "iuf":
                    raise ValueError(f"{what} must hold real numbers, got dtype {array.dtype}")
                raise ValueError(f"{what} must be 1-D (one number per sample), got shape {array.shape}")
            if array.ndim == 1:
                lengths.add(array.shape[0])
            arrays.append(array)  # ints become floats as they are copied into the buffer
        if len(lengths) > 1:
            raise ValueError(f"the columns have different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else 1
        if n == 0:
            raise ValueError("the batch is empty: the columns have no samples")
        return arrays, n, False

    @staticmethod
    def _seed(weights: np.ndarray | None, n: int) -> np.ndarray | float:
        """d loss / d output for each sample: the weights, or 1/N for every one (the mean)."""
        if weights is None:
            return 1.0 / n
        try:
            weights = np.asarray(weights, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"weights must be numbers, one per sample ({n}), got {described(weights)}") from None
        if weights.shape != (n,):
            raise ValueError(f"weights must have one number per sample ({n}), got shape {weights.shape}")
        return weights

    def __repr__(self) -> str:
        return (
            f"<Program: {len(self.order)} nodes, {len(self.inputs)} inputs, "
            f"{len(self.static)} static, {len(self._steps)} batched steps>"
        )


_ndim, _dtype = operator.attrgetter("ndim"), operator.attrgetter("dtype")


class _Running:
    """``Program._running``'s block: a class, not a generator, as it runs twice a step."""

    __slots__ = ("lock",)

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        if not self.lock.acquire(blocking=False):
            raise RuntimeError(
                "this program is running in another thread; a program holds one batch "
                "at a time: compile one program per thread"
            )

    def __exit__(self, *exception: object) -> None:
        self.lock.release()


def _forward_calls(steps: list[_Group | _Layer], values: np.ndarray) -> list[Call]:
    return [call for step in steps for call in step.forward_calls(values)]


class _Backward:
    """A backward pass as calls: the steps last to first, made the first time they are needed."""

    def __init__(self, steps: list[_Group | _Layer], values: np.ndarray, grads: np.ndarray) -> None:
        self.steps, self.values, self.grads = steps, values, grads
        self._calls: list[Call] | None = None

    def calls(self) -> list[Call]:
        if self._calls is None:
            self._calls = [
                call for step in reversed(self.steps) for call in step.backward_calls(self.values, self.grads)
            ]
        return self._calls


class TracedProgram(Program):
    """A function traced into a ``Program``, traced again when the numbers it branched
    on change. Made by ``autodiff.compile(f)``; ``traces`` counts the traces so far.

    >>> w = Value(2.0, label="w")
    >>> program = compile(lambda x: x * w if w > 0 else x * -w)   # a branch on a weight
    >>> program(np.array([1.0, -3.0])).tolist()
    [2.0, -6.0]
    >>> w.data = -0.5   # the branch flips: the next call traces again
    >>> program(np.array([1.0, -3.0])).tolist(), program.traces
    ([0.5, -1.5], 2)
    """

    def __init__(
        self, function: Callable[..., Value], inputs: int | Sequence[str] | None = None, backend: str = "numpy"
    ) -> None:
        self.function = function
        self.input_names = _input_names(function, inputs)
        self.traces = 0
        self._busy = threading.Lock()
        self.backend = _check_backend(backend)
        self._trace()

    def _trace(self) -> None:
        output, placeholders, guards = trace(self.function, self.input_names)
        self._build(output, placeholders, every_input_used=False)
        self._guards: list[Guard] = guards
        self._guard_order = topological_order_of([node for guard in guards for node in guard.nodes])
        self.traces += 1

    def _before_call(self) -> None:
        if self._guards and not self._guards_hold():
            self._trace()

    def _guards_hold(self) -> bool:
        """Whether every number the trace read is still what it was: the nodes it read
        are computed again from the leaves' current numbers (weights an optimizer moved)."""
        numbers: dict[Value, float] = {}
        for node in self._guard_order:
            if node.parents:
                numbers[node] = evaluate(node._op, *[numbers[p] for p in node.parents])
            else:
                numbers[node] = node._data
        return all(guard.holds([numbers[node] for node in guard.nodes]) for guard in self._guards)


@overload
def compile(output: Value, inputs: Sequence[Value], backend: str = "numpy") -> Program: ...  # noqa: A001
@overload
def compile(  # noqa: A001
    output: Callable[..., Value], inputs: int | Sequence[str] | None = None, backend: str = "numpy"
) -> TracedProgram: ...
def compile(  # noqa: A001 (autodiff.compile)
    output: Value | Callable[..., Value],
    inputs: Sequence[Value] | int | Sequence[str] | None = None,
    backend: str = "numpy",
) -> Program:
    """A batched program, in one of two forms.

    ``compile(f)``, ``compile(f, inputs=3)`` or ``compile(f, inputs=["x", "y"])``: trace
    the function ``f``, which takes one ``Value`` per per-sample input (one per parameter
    without a default, or as ``inputs`` says) and returns a ``Value``. The weights it reads (an ``nn``
    model's, from its closure) are read at each call. While ``f`` is traced, a
    comparison, ``bool()``, ``float()`` or ``.data`` of a value computed from an input
    raises ``TracingError`` naming the line; on weights alone they are allowed, and a
    call after the weights moved across such a branch traces ``f`` again.

    ``compile(output, inputs=[x, ...])``: take a graph already built, ``inputs`` being
    the leaves that take one value per sample. It cannot see how the graph was built: a
    branch on ``.data`` taken while building it is replayed for every sample. Use it for
    graphs built without branches (or trace a function).

    Either way every other leaf is read from its ``.data`` at each call, so optimizer
    updates flow in without recompiling.

    ``backend="numba"`` (numba installed: ``pip install 'autodiff-scalar[fast]'``) runs each pass
    over the samples as one native loop instead of one numpy call per step: the same
    numbers to rounding, seconds to compile, once per program structure and process
    (``fused.py``). The default, ``"numpy"``, needs nothing more.

    >>> x = Value(0.0, label="x")
    >>> compile(x * x + 1.0, inputs=[x])(np.array([1.0, 2.0, 3.0])).tolist()
    [2.0, 5.0, 10.0]
    >>> compile(lambda x: 2.0 * x.relu() + 3.0 * (-x).relu())(np.array([1.5, -2.0])).tolist()
    [3.0, 6.0]
    """
    if isinstance(output, Value):
        if inputs is None:
            raise TypeError("compile(output, inputs): name the leaves that take one value per sample")
        return Program(output, inputs, backend)  # type: ignore[arg-type]  # Program checks them (_check_inputs)
    if callable(output):
        return TracedProgram(output, inputs, backend)  # type: ignore[arg-type]  # as does TracedProgram (_input_names)
    raise TypeError(f"compile takes a Value (a graph) or a function to trace, got {type(output).__name__}")


BACKENDS = ("numpy", "numba")
"""What ``compile(..., backend=)`` takes."""


def _check_backend(backend: str) -> str:
    if not isinstance(backend, str) or backend not in BACKENDS:  # str first: an array has no `in`
        raise ValueError(f"compile's backend is one of {', '.join(map(repr, BACKENDS))}, got {described(backend)}")
    if backend == "numba":
        from .fused import require_numba

        require_numba()
    return backend


def _fused_steps(steps: list[_Group | _Layer]):
    from .fused import Fused  # numba is imported only by programs that ask for it

    return Fused(steps)


def _input_names(function: Callable, inputs: int | Sequence[str] | None) -> list[str]:
    """The per-sample inputs' names: given, numbered, or ``function``'s parameters."""
    if inputs is None:
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            raise TypeError(
                "compile cannot read this function's parameters; say how many inputs it takes: compile(f, inputs=n)"
            ) from None
        # Parameters with defaults are not inputs: `lambda x, w=w: ...` binds a weight.
        names = [
            p.name
            for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        if any(p.kind is p.VAR_POSITIONAL for p in parameters) or not names:
            raise TypeError("compile cannot tell how many inputs this function takes; say so: compile(f, inputs=n)")
        return names
    if isinstance(inputs, int) and not isinstance(inputs, bool):
        if inputs < 1:
            raise ValueError(f"compile needs at least one per-sample input, got inputs={inputs}")
        return [f"x{i}" for i in range(inputs)]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError(f"to trace a function, inputs is a count or a list of names, got {inputs!r:.60}")
    names = list(inputs)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"inputs[{i}] must be a name (str) when tracing a function, got {type(name).__name__}")
    return names


def _check_inputs(inputs: Sequence[Value], in_graph: set[Value] | None) -> list[Value]:
    inputs = [inputs] if isinstance(inputs, Value) else values_list(inputs, "inputs", "compile")
    for i, x in enumerate(inputs):
        if x.parents:
            raise ValueError(f"inputs[{i}] ({x.label or x.op}) is computed by an op; inputs must be leaves")
        if in_graph is not None and x not in in_graph:
            raise ValueError(f"inputs[{i}] ({x.label or 'unlabelled'}) is not in the output's graph")
    if len(set(inputs)) != len(inputs):
        raise ValueError("an input is given twice")
    return inputs


class _Rows(dict):
    """Row numbers handed out on first use: ``rows[node]``."""

    def __missing__(self, node: Value) -> int:
        self[node] = len(self)
        return self[node]


def _schedule(level: dict[Value, int], row: dict[Value, int], static_index: dict[Value, int]) -> list[_Group | _Layer]:
    """Group the nodes of ``level`` by (level, op, number of inputs), in level order,
    giving them rows in ``row``. A group of neurons whose weights are in ``static_index``
    and whose inputs are shared becomes a matrix product (the static part passes ``{}``:
    it has no layers)."""
    buckets: dict[tuple, list[Value]] = {}
    for node, depth in level.items():  # dicts keep graph order: deterministic groups
        buckets.setdefault((depth, id(node._op), len(node.parents)), []).append(node)
    steps: list[_Group | _Layer] = []
    for _, nodes in sorted(buckets.items(), key=lambda item: item[0][0]):
        steps.append(_as_layer(nodes, row, static_index) or _as_group(nodes, row))
    return steps


def _new_rows(nodes: list[Value], row: dict[Value, int]) -> slice:
    """The rows of one level's nodes, handed out now, side by side: a slice, so that a
    step's output is written into the buffer through a view (an index array would copy)."""
    rows = slice_if_consecutive([row[node] for node in nodes])
    if not isinstance(rows, slice):
        raise RuntimeError("compile gave one level's nodes rows apart (a bug in autodiff: please report it)")
    return rows


def _as_group(nodes: list[Value], row: dict[Value, int]) -> _Group:
    in_rows = np.array([[row[p] for p in n.parents] for n in nodes], dtype=np.intp).T.copy()
    return _Group(
        nodes[0]._op,
        _new_rows(nodes, row),
        [slice_if_consecutive(r) for r in in_rows],
        in_rows,
        [len(set(r.tolist())) == len(r) for r in in_rows],
    )


def _as_layer(nodes: list[Value], row: dict[Value, int], static: dict[Value, int]) -> _Layer | None:
    op = nodes[0]._op
    if op not in (ops.DOT, ops.LINEAR):
        return None
    n = len(nodes[0].parents) // 2
    xs = nodes[0].parents[n : 2 * n]
    for node in nodes:
        weights, inputs = node.parents[:n], node.parents[n : 2 * n]
        extra = node.parents[2 * n :]  # the bias
        if inputs != xs or not all(p in static for p in (*weights, *extra)):
            return None
    x_rows = [row[x] for x in xs]
    return _Layer(
        _new_rows(nodes, row),
        slice_if_consecutive(x_rows),
        np.array([[static[w] for w in node.parents[:n]] for node in nodes], dtype=np.intp),
        np.array([static[node.parents[-1]] for node in nodes], dtype=np.intp) if op is ops.LINEAR else None,
        len(set(x_rows)) == len(x_rows),
    )
