"""``Program.to_torch()``: a compiled program as a ``torch.nn.Module``, to train with
PyTorch (on a GPU, or across machines with its distributed training).

The module runs the program's graph as the program does, level by level: the nodes of
one level with one op are one torch call on a (k, N) tensor (``torch_forms.py``), and a
layer of neurons that read the same inputs is one matrix product. Each node is a row of
some tensor: a column of the batch, a weight, or a row of an earlier step's output; a
step gathers its inputs' rows with a slice or an index per run of rows from one tensor.
Nodes that are the same for every sample (weights, and what is computed from them alone)
are rows of width 1, broadcast where they meet the batch, so their gradient is summed
over the samples before it flows on, as in the program.

The program's leaves that are not inputs are the module's weights: ``weights``, one
``torch.nn.Parameter`` vector in the order of ``leaves``; those left out by
``to_torch(parameters=...)`` are the buffer ``constants``. Each op's gradient is its
rule from the op table (``torch_forms.apply_op``); the gathers and the matrix products
are PyTorch's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import ops
from .arguments import values_list
from .leaves import LeafArrays, slice_if_consecutive
from .requires import import_torch
from .torch_forms import apply_op
from .value import Value

import_torch()  # where PyTorch is missing, the ImportError that says how to install it
import torch  # noqa: E402

if TYPE_CHECKING:
    from .program import Program

Tensor = torch.Tensor
Indices = dict[int, Tensor]  # the index tensors of the gathers on one device, by id of their array

# Where a node's number is: a row of one of the module's tensors. The first three are
# the batch's columns, the weights and the constants; each step adds its output.
_COLUMNS, _WEIGHTS, _CONSTANTS = 0, 1, 2


@dataclass
class _Gather:
    """The rows of some nodes, in order: runs of rows from one tensor each."""

    runs: list[tuple[int, slice | np.ndarray]]

    @classmethod
    def of(cls, places: Sequence[tuple[int, int]]) -> _Gather:
        runs: list[tuple[int, list[int]]] = []
        for source, row in places:
            if runs and runs[-1][0] == source:
                runs[-1][1].append(row)
            else:
                runs.append((source, [row]))
        return cls([(source, slice_if_consecutive(rows)) for source, rows in runs])

    def __call__(self, tensors: list[Tensor], indices: Indices) -> Tensor:
        """The rows, (count, width): width N if one of them is per-sample, else 1."""
        parts = [tensors[source][rows if isinstance(rows, slice) else indices[id(rows)]] for source, rows in self.runs]
        if len(parts) == 1:
            return parts[0]
        width = max(part.shape[1] for part in parts)
        return torch.cat([part.expand(-1, width) for part in parts])

    def index_arrays(self) -> list[np.ndarray]:
        return [rows for _, rows in self.runs if not isinstance(rows, slice)]


@dataclass
class _Step:
    """Nodes of one level with one op: one torch call (a layer: one matrix product)."""

    op: ops.Op
    inputs: list[_Gather]  # per input position; one gather of all (arity x k) rows for any arity
    count: int  # k, the nodes computed

    def __call__(self, tensors: list[Tensor], indices: Indices) -> Tensor:
        if self.op.arity is None:
            stacked = self.inputs[0](tensors, indices)
            return apply_op(self.op, stacked.reshape(-1, self.count, stacked.shape[1]))
        return apply_op(self.op, *[gather(tensors, indices) for gather in self.inputs])


@dataclass
class _LayerStep:
    """Neurons w·x (+ b) that read the same inputs with weights the same for every sample."""

    weights: _Gather  # k x n rows, neuron by neuron
    x: _Gather  # n rows
    bias: _Gather | None  # k rows
    count: int

    def __call__(self, tensors: list[Tensor], indices: Indices) -> Tensor:
        w = self.weights(tensors, indices).reshape(self.count, -1)
        out = w @ self.x(tensors, indices)
        return out if self.bias is None else out + self.bias(tensors, indices)

    @property
    def inputs(self) -> list[_Gather]:
        return [self.weights, self.x] + ([self.bias] if self.bias is not None else [])


class ProgramModule(torch.nn.Module):
    """A compiled program as a ``torch.nn.Module``: ``module(*columns)`` is the output
    for every sample, as ``program(*columns)``, as a tensor PyTorch differentiates.

    Made by ``program.to_torch()``. ``weights`` holds the numbers of ``leaves`` (float64,
    copied when the module is made), and the buffer ``constants`` those of
    ``constant_leaves``; ``copy_to_values()`` writes the weights back into the Values,
    ``copy_from_values()`` reads the Values' numbers into both again.

    >>> import numpy as np, autodiff
    >>> from autodiff import Value
    >>> x, w = Value(0.0, label="x"), Value(3.0, label="w")
    >>> module = autodiff.compile((w * x).tanh(), inputs=[x]).to_torch()
    >>> module(np.array([0.0, 0.5])).detach().numpy().round(6).tolist()
    [0.0, 0.905148]
    >>> module(np.array([0.0, 0.5])).mean().backward()
    >>> round(module.weights.grad.item(), 6)   # d mean / dw, as program.backward() gives w.grad
    0.045177
    """

    constants: Tensor  # a buffer

    def __init__(self, program: Program, parameters: Iterable[Value] | None = None) -> None:
        super().__init__()
        guards = getattr(program, "_guards", None)
        if guards:
            raise ValueError(
                f"to_torch: the traced function branches on weights ({len(guards)} comparison or "
                "number read), so its graph changes when they move, and a torch module holds one "
                "graph; write the branch with ops (relu, abs, pick, maximum) and compile again"
            )
        self.input_names = [x.label or f"input {i}" for i, x in enumerate(program.inputs)]
        order, inputs = program.order, program.inputs
        place: dict[Value, tuple[int, int]] = {x: (_COLUMNS, i) for i, x in enumerate(inputs)}
        static_leaves = [n for n in order if not n.parents and n not in place]
        trainable = _trainable(static_leaves, parameters)
        self.leaves = [leaf for leaf in static_leaves if leaf in trainable]
        self.constant_leaves = [leaf for leaf in static_leaves if leaf not in trainable]
        place.update((leaf, (_WEIGHTS, i)) for i, leaf in enumerate(self.leaves))
        place.update((leaf, (_CONSTANTS, i)) for i, leaf in enumerate(self.constant_leaves))
        self.weights = torch.nn.Parameter(torch.tensor([leaf._data for leaf in self.leaves], dtype=torch.float64))
        self.register_buffer(
            "constants", torch.tensor([leaf._data for leaf in self.constant_leaves], dtype=torch.float64)
        )
        self._steps = _plan(order, place, set(inputs))
        self._output = _Gather.of([place[program.order[-1]]])
        self._index_arrays = {
            id(rows): rows for step in self._steps for gather in step.inputs for rows in gather.index_arrays()
        }
        self._indices_on: dict[torch.device, Indices] = {}  # per device: the index tensors

    def forward(self, *columns: Tensor | np.ndarray | float) -> Tensor:
        """The output for every sample, shape (N,): one column (a 1-D tensor or array, or
        a number for every sample) per input of the program."""
        batch = self._batch(columns)
        tensors = [batch, self.weights[:, None], self.constants[:, None]]
        indices = self._indices(batch.device)
        for step in self._steps:
            tensors.append(step(tensors, indices))
        return self._output(tensors, indices)[0].expand(batch.shape[1])

    def copy_to_values(self) -> None:
        """Write the numbers of ``weights`` into the Values they came from, so that the
        program and the model written with Values go on with the weights torch trained."""
        LeafArrays(self.leaves).write_data(self.weights.detach().to("cpu", torch.float64).numpy())

    def copy_from_values(self) -> None:
        """Read the Values' numbers into ``weights`` and ``constants`` again (after they
        were changed): a constant is a leaf the program reads too, only not trained."""
        with torch.no_grad():
            self.weights.copy_(torch.from_numpy(LeafArrays(self.leaves).read_data()))
            self.constants.copy_(torch.from_numpy(LeafArrays(self.constant_leaves).read_data()))

    def _indices(self, device: torch.device) -> Indices:
        indices = self._indices_on.get(device)
        if indices is None:
            indices = {key: torch.from_numpy(rows).to(device, torch.long) for key, rows in self._index_arrays.items()}
            self._indices_on[device] = indices
        return indices

    def _batch(self, columns: tuple[Tensor | np.ndarray | float, ...]) -> Tensor:
        """The columns as one (inputs, N) tensor on the weights' device, in their dtype."""
        if len(columns) != len(self.input_names):
            raise ValueError(
                f"the module takes {len(self.input_names)} columns ({', '.join(self.input_names)}), got {len(columns)}"
            )
        like = self.weights
        tensors = []
        for i, column in enumerate(columns):
            if not isinstance(column, torch.Tensor):
                column = np.asarray(column)
                real = column.dtype.kind in "iuf"
            else:
                real = not (column.dtype == torch.bool or column.dtype.is_complex)
            if not real:
                raise ValueError(f"column {i} ({self.input_names[i]}) must hold real numbers, got dtype {column.dtype}")
            column = torch.as_tensor(column)
            if column.ndim > 1:
                raise ValueError(
                    f"column {i} ({self.input_names[i]}) must be 1-D (one number per "
                    f"sample), got shape {tuple(column.shape)}"
                )
            tensors.append(column.to(like.device, like.dtype))
        lengths = sorted({len(t) for t in tensors if t.ndim == 1})
        if len(lengths) > 1:
            raise ValueError(f"the columns have different lengths: {lengths}")
        n = lengths[0] if lengths else 1
        if n == 0:
            raise ValueError("the batch is empty: the columns have no samples")
        if not tensors:
            return like.new_empty((0, n))
        return torch.stack([t.expand(n) for t in tensors])


def _trainable(static_leaves: list[Value], parameters: Iterable[Value] | None) -> set[Value]:
    """The leaves that are weights: all, or those of ``parameters`` (each must be one)."""
    if parameters is None:
        return set(static_leaves)
    chosen = values_list(parameters, "parameters", "to_torch")
    known = set(static_leaves)
    for i, p in enumerate(chosen):
        if p not in known:
            raise ValueError(
                f"to_torch: parameters[{i}] ({p.label or 'unlabelled'}) is not a leaf of the "
                "program's graph other than an input; pass the weights the program reads"
            )
    return set(chosen)


def _plan(order: list[Value], place: dict[Value, tuple[int, int]], inputs: set[Value]) -> list[_Step | _LayerStep]:
    """The steps that compute every op node of ``order``, level by level, recording
    in ``place`` the row each node gets."""
    level: dict[Value, int] = {}
    per_sample = set(inputs)
    buckets: dict[tuple, list[Value]] = {}
    for node in order:
        parents = node.parents
        if not parents:
            continue
        level[node] = 1 + max(level.get(p, 0) for p in parents)
        if any(p in per_sample for p in parents):
            per_sample.add(node)
        key = (level[node], node in per_sample, id(node._op), len(parents))
        buckets.setdefault(key, []).append(node)
    steps: list[_Step | _LayerStep] = []
    for key in sorted(buckets, key=lambda key: key[:2]):
        nodes = buckets[key]
        steps.append(_layer(nodes, place, per_sample) or _step(nodes, place))
        source = _CONSTANTS + len(steps)
        place.update((node, (source, row)) for row, node in enumerate(nodes))
    return steps


def _step(nodes: list[Value], place: dict[Value, tuple[int, int]]) -> _Step:
    op = nodes[0]._op
    if op.arity is None:
        rows = [place[p] for position in range(len(nodes[0].parents)) for p in (n.parents[position] for n in nodes)]
        return _Step(op, [_Gather.of(rows)], len(nodes))
    return _Step(
        op, [_Gather.of([place[n.parents[position]] for n in nodes]) for position in range(op.arity)], len(nodes)
    )


def _layer(nodes: list[Value], place: dict[Value, tuple[int, int]], per_sample: set[Value]) -> _LayerStep | None:
    """The nodes as one matrix product, if they are neurons reading the same per-sample
    inputs with weights (and biases) the same for every sample."""
    op = nodes[0]._op
    if op not in (ops.DOT, ops.LINEAR) or nodes[0] not in per_sample:
        return None
    n = len(nodes[0].parents) // 2
    xs = nodes[0].parents[n : 2 * n]
    if any(
        node.parents[n : 2 * n] != xs or any(p in per_sample for p in (*node.parents[:n], *node.parents[2 * n :]))
        for node in nodes
    ):
        return None
    weights = _Gather.of([place[w] for node in nodes for w in node.parents[:n]])
    bias = _Gather.of([place[node.parents[-1]] for node in nodes]) if op is ops.LINEAR else None
    return _LayerStep(weights, _Gather.of([place[x] for x in xs]), bias, len(nodes))
