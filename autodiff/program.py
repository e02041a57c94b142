"""``compile``: record the graph of one sample once, then run it over a whole batch.

The user keeps writing scalar code; the program replays it with numpy, one array entry
per sample. The same op table serves: each op's ``batched`` forward, and its local
derivative rule evaluated on arrays (``ARRAY_MATH``). Three ideas make it fast:

- **levels**: every node is scheduled at one more than the deepest of its inputs, and
  all nodes of a level with the same op run as one numpy call (the 16 neurons of a
  layer become one call over a (16, N) array);
- **static parts once**: nodes that do not depend on the per-sample inputs (weights, an
  L2 term) are computed once per call, on floats, not once per sample;
- **no Python loop over samples**, forward or backward.

A graph is recorded as it ran for the values it was built with: a Python ``if`` on
``.data`` picks one branch for every sample, as with JAX's ``jit``. Graphs whose shape
depends on the data must be recompiled (or run sample by sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import ops
from .backward import topological_order
from .store import Leaves, in_store_order
from .value import Value


Rows = "np.ndarray | slice"  # the rows of some nodes: a slice where they lie side by side


@dataclass
class _Group:
    """Nodes of one level with one op, run as one numpy call."""

    op: ops.Op
    out: Rows  # (k,) rows
    inputs: list[Rows]  # per input position, the k rows it reads (fixed-arity ops)
    in_rows: np.ndarray  # (arity, k): every row read, for ops of any arity
    unique: list[bool]  # per input position: no row twice, so gradients add without collisions

    def forward(self, values: np.ndarray, static: np.ndarray) -> None:
        if self.op.arity is None:
            values[self.out] = self.op.batched(values[self.in_rows])
        else:
            values[self.out] = self.op.batched(*[values[rows] for rows in self.inputs])

    def backward(self, values: np.ndarray, grads: np.ndarray, static: np.ndarray, static_grads: np.ndarray,
                 careful: bool) -> None:
        out_grad, out = grads[self.out], values[self.out]
        if self.op.arity is None:  # a rule of any arity answers with one stacked array
            contributions = self.op.rule(ops.ARRAY_MATH, out, values[self.in_rows]) * out_grad
            _add_at(grads, self.in_rows.ravel(), contributions.reshape(self.in_rows.size, -1))
            return
        local = self.op.rule(ops.ARRAY_MATH, out, [values[rows] for rows in self.inputs])
        for rows, unique, d in zip(self.inputs, self.unique, local):
            if type(d) is float:  # a constant local gradient (+, -, neg): no array to multiply
                if d == 0.0 and self.op.blocks:
                    continue
                contribution = out_grad if d == 1.0 else d * out_grad
            else:
                contribution = d * out_grad
                if careful and self.op.blocks:  # stopped, not multiplied: 0 even where out_grad is inf
                    contribution = np.where(np.equal(d, 0.0), 0.0, contribution)
            if unique:
                grads[rows] += contribution
            else:
                _add_at(grads, rows, np.broadcast_to(contribution, out_grad.shape))


@dataclass
class _Layer:
    """Neurons of one level that read the same inputs with constant weights: w·x + b for
    all of them is one matrix product, as a hand-written numpy layer would do it."""

    out: Rows  # (k,) rows
    x_rows: Rows  # (n,): the inputs every neuron reads
    w_index: np.ndarray  # (k, n): where each weight sits among the static values
    b_index: np.ndarray | None  # (k,), or None for dot without a bias
    distinct: bool  # the inputs are n different rows

    def bind(self, static: np.ndarray, static_grads: np.ndarray) -> None:
        """Find the weights and biases in the program's static arrays: views where they
        lie evenly spaced (a model's weights do), so that no call gathers them."""
        self._w, self._w_grad = _view(static, self.w_index), _view(static_grads, self.w_index)
        if self.b_index is not None:
            self._b, self._b_grad = _view(static, self.b_index), _view(static_grads, self.b_index)

    def forward(self, values: np.ndarray, static: np.ndarray) -> None:
        self._weights = static[self.w_index] if self._w is None else self._w  # kept for backward
        out = self._weights @ values[self.x_rows]
        if self.b_index is not None:
            out += (static[self.b_index] if self._b is None else self._b)[:, None]
        values[self.out] = out

    def backward(self, values: np.ndarray, grads: np.ndarray, static: np.ndarray, static_grads: np.ndarray,
                 careful: bool) -> None:
        out_grad = grads[self.out]  # (k, N)
        _add_into(static_grads, self.w_index, self._w_grad, out_grad @ values[self.x_rows].T)
        if self.b_index is not None:
            _add_into(static_grads, self.b_index, self._b_grad, out_grad.sum(axis=1))
        x_grad = self._weights.T @ out_grad
        if self.distinct:
            grads[self.x_rows] += x_grad
        else:
            _add_at(grads, self.x_rows, x_grad)


def _add_into(vector: np.ndarray, index: np.ndarray, view: np.ndarray | None, amounts: np.ndarray) -> None:
    """vector[index] += amounts, adding twice where an index appears twice."""
    if view is not None:
        view += amounts
    else:
        _add_at(vector, index.ravel(), amounts.ravel())


def _add_at(target: np.ndarray, rows: Rows, amounts: np.ndarray) -> None:
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
    steps = [int(np.take(index, 1, axis=axis).flat[0]) - start if size > 1 else 0
             for axis, size in enumerate(index.shape)]
    grid = start + sum(np.arange(size).reshape([-1 if a == axis else 1 for a in range(index.ndim)]) * step
                       for axis, (size, step) in enumerate(zip(index.shape, steps)))
    if min(steps) < 0 or not np.array_equal(grid, index):
        return None
    itemsize = vector.strides[0]
    return np.lib.stride_tricks.as_strided(vector[start:], index.shape, [step * itemsize for step in steps])


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

    def __init__(self, output: Value, inputs: Sequence[Value]) -> None:
        if not isinstance(output, Value):
            raise TypeError(f"compile needs a Value as output, got {type(output).__name__}")
        self.order = topological_order(output)
        self.inputs = _check_inputs(inputs, set(self.order))
        dynamic = set(self.inputs)
        level: dict[Value, int] = {}
        for node in self.order:
            if node.parents and any(p in dynamic for p in node.parents):
                dynamic.add(node)
                level[node] = 1 + max(level.get(p, 0) for p in node.parents)
        # The static part: the leaves first, in store order (each store read in one call),
        # then the nodes computed from them alone.
        static_leaves = in_store_order(node for node in self.order if node not in dynamic and not node.parents)
        self._static_ops = [node for node in self.order if node not in dynamic and node.parents]
        self.static = static_leaves + self._static_ops
        self._leaves = Leaves(static_leaves)
        static_index = {node: i for i, node in enumerate(self.static)}
        # Kept from call to call: a layer's weights are views into them.
        self._static = np.empty((len(self.static), 1))
        self._static_grads = np.empty((len(self.static), 1))
        # Rows of the per-sample buffer: the inputs, every per-sample node, and the static
        # nodes that a batched step reads row-wise (a layer reads its weights elsewhere).
        row = _Rows()
        self._input_rows = [row[x] for x in self.inputs]
        self._steps = _schedule(level, row, static_index)
        for step in self._steps:
            if isinstance(step, _Layer):
                step.bind(self._static[:, 0], self._static_grads[:, 0])
        self._output_row = row[output]
        in_rows = [node for node in self.static if node in row]
        self._static_rows = np.array([row[node] for node in in_rows], dtype=np.intp)
        self._static_row_index = np.array([static_index[node] for node in in_rows], dtype=np.intp)
        self._row_count = len(row)
        # The static part runs on the same machinery, as a batch of one.
        static_level: dict[Value, int] = {}
        for node in self._static_ops:
            static_level[node] = 1 + max(static_level.get(p, 0) for p in node.parents)
        self._static_steps = _schedule(static_level, static_index, {})
        self._values: np.ndarray | None = None

    def __call__(self, *columns: np.ndarray | float) -> np.ndarray:
        """The output for every sample: one column (1-D array, or a number for all) per input."""
        columns, n = self._columns(columns)
        values = np.empty((self._row_count, n))
        static = self._static
        with np.errstate(all="ignore"):
            self._compute_static()
            values[self._static_rows] = static[self._static_row_index]
            for row, column in zip(self._input_rows, columns):
                values[row] = column
            for step in self._steps:
                step.forward(values, static[:, 0])
        self._values = values
        return values[self._output_row].copy()

    def backward(self, weights: np.ndarray | None = None) -> list[np.ndarray]:
        """Accumulate d sum(w_i out_i) / d leaf into ``.grad`` of every leaf that is not an
        input (w_i = 1/N by default: the mean), as ``Value.backward`` would, and return the
        per-sample gradients of each input, one array per input."""
        if self._values is None:
            raise RuntimeError("run the program on a batch before calling backward()")
        seed = self._weights(weights, self._values.shape[1])
        with np.errstate(all="ignore"):
            input_grads = self._backpropagate(seed, careful=False)
            leaf_grads = self._static_grads[:len(self._leaves), 0]
            if not (np.isfinite(leaf_grads).all() and np.isfinite(input_grads).all()):
                # An inf or nan gradient: where a blocking op (relu below 0) meets it, the
                # gradient must stop at 0 rather than become 0 × inf = nan. Checking every
                # step for it would slow every call; an infinite gradient always reaches a
                # leaf or an input, so it is found here, and the pass is run again with care.
                input_grads = self._backpropagate(seed, careful=True)
        self._leaves.add_grad(leaf_grads)
        return list(input_grads)

    def _backpropagate(self, seed: np.ndarray, careful: bool) -> np.ndarray:
        """The per-sample gradients of the inputs, (inputs, N); the static nodes' gradients,
        summed over the samples, go into ``self._static_grads``."""
        values, static, static_grads = self._values, self._static, self._static_grads
        grads = np.zeros(values.shape)
        grads[self._output_row] = seed
        static_grads.fill(0.0)
        for step in reversed(self._steps):
            step.backward(values, grads, static[:, 0], static_grads[:, 0], careful)
        # The static part ran once for all samples: its gradient is the sum over them.
        _add_at(static_grads, self._static_row_index, grads[self._static_rows].sum(axis=1, keepdims=True))
        for step in reversed(self._static_steps):
            step.backward(static, static_grads, None, None, careful)
        return grads[self._input_rows]

    def _compute_static(self) -> None:
        """Every static node's value, from the leaves' current data (weights may have moved).

        Computed nodes take their new values, so that the graph, drawn or differentiated,
        shows the weights of this call.
        """
        static = self._static
        self._leaves.data(out=static[:len(self._leaves), 0])
        for step in self._static_steps:
            step.forward(static, None)
        for node, value in zip(self._static_ops, static[len(self._leaves):, 0].tolist()):
            node._data = value

    def _columns(self, columns: tuple) -> tuple[list[np.ndarray | float], int]:
        names = ", ".join(x.label or f"input {i}" for i, x in enumerate(self.inputs))
        if len(columns) != len(self.inputs):
            raise ValueError(f"the program takes {len(self.inputs)} columns ({names}), got {len(columns)}")
        arrays, lengths = [], set()
        for i, column in enumerate(columns):
            what = f"column {i} ({self.inputs[i].label or f'input {i}'})"
            array = np.asarray(column)
            if array.dtype.kind not in "iuf":
                raise ValueError(f"{what} must hold real numbers, got dtype {array.dtype}")
            if array.ndim > 1:
                raise ValueError(f"{what} must be 1-D (one number per sample), got shape {array.shape}")
            if array.ndim == 1:
                lengths.add(len(array))
            arrays.append(array.astype(float))
        if len(lengths) > 1:
            raise ValueError(f"the columns have different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else 1
        if n == 0:
            raise ValueError("the batch is empty: the columns have no samples")
        return arrays, n

    @staticmethod
    def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
        if weights is None:
            return np.full(n, 1.0 / n)
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (n,):
            raise ValueError(f"weights must have one number per sample ({n}), got shape {weights.shape}")
        return weights

    def __repr__(self) -> str:
        return (f"<Program: {len(self.order)} nodes, {len(self.inputs)} inputs, "
                f"{len(self.static)} static, {len(self._steps)} batched steps>")


def compile(output: Value, inputs: Sequence[Value]) -> Program:  # noqa: A001 (autodiff.compile)
    """Record ``output``'s graph once, to run it over a batch: ``inputs`` are the leaves
    that take one value per sample; every other leaf is read from its ``.data`` at each
    call, so optimizer updates flow in without recompiling.

    >>> x = Value(0.0, label="x")
    >>> compile(x * x + 1.0, inputs=[x])(np.array([1.0, 2.0, 3.0])).tolist()
    [2.0, 5.0, 10.0]
    """
    return Program(output, inputs)


def _check_inputs(inputs: Sequence[Value], in_graph: set[Value]) -> list[Value]:
    inputs = [inputs] if isinstance(inputs, Value) else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"inputs[{i}] must be a Value, got {type(x).__name__}")
        if x.parents:
            raise ValueError(f"inputs[{i}] ({x.label or x.op}) is computed by an op; inputs must be leaves")
        if x not in in_graph:
            raise ValueError(f"inputs[{i}] ({x.label or 'unlabelled'}) is not in the output's graph")
    if len(set(inputs)) != len(inputs):
        raise ValueError("an input is given twice")
    return inputs


class _Rows(dict):
    """Row numbers handed out on first use: ``rows[node]``."""

    def __missing__(self, node: Value) -> int:
        self[node] = len(self)
        return self[node]


def _schedule(level: dict[Value, int], row: dict[Value, int], static: dict[Value, int]) -> list[_Group | _Layer]:
    """Group the per-sample nodes by (level, op, number of inputs), in level order; a
    group of neurons with constant weights and shared inputs becomes a matrix product."""
    buckets: dict[tuple, list[Value]] = {}
    for node, depth in level.items():  # dicts keep graph order: deterministic groups
        buckets.setdefault((depth, id(node._op), len(node.parents)), []).append(node)
    steps: list[_Group | _Layer] = []
    for _, nodes in sorted(buckets.items(), key=lambda item: item[0][0]):
        steps.append(_as_layer(nodes, row, static) or _as_group(nodes, row))
    return steps


def _as_group(nodes: list[Value], row: dict[Value, int]) -> _Group:
    in_rows = np.array([[row[p] for p in n.parents] for n in nodes], dtype=np.intp).T.copy()
    out = _rows([row[n] for n in nodes])
    return _Group(nodes[0]._op, out, [_rows(r) for r in in_rows], in_rows,
                  [len(set(r.tolist())) == len(r) for r in in_rows])


def _rows(rows: "list[int] | np.ndarray") -> Rows:
    """A slice when the rows are consecutive (a view, no copy), else an index array."""
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return slice(int(rows[0]), int(rows[0]) + len(rows))
    return rows


def _as_layer(nodes: list[Value], row: dict[Value, int], static: dict[Value, int]) -> _Layer | None:
    op = nodes[0]._op
    if op not in (ops.DOT, ops.LINEAR):
        return None
    n = len(nodes[0].parents) // 2
    xs = nodes[0].parents[n:2 * n]
    for node in nodes:
        weights, inputs = node.parents[:n], node.parents[n:2 * n]
        extra = node.parents[2 * n:]  # the bias
        if inputs != xs or not all(p in static for p in (*weights, *extra)):
            return None
    x_rows = [row[x] for x in xs]
    return _Layer(
        _rows([row[node] for node in nodes]),
        _rows(x_rows),
        np.array([[static[w] for w in node.parents[:n]] for node in nodes], dtype=np.intp),
        np.array([static[node.parents[-1]] for node in nodes], dtype=np.intp) if op is ops.LINEAR else None,
        len(set(x_rows)) == len(x_rows),
    )
