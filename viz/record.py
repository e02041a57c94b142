"""``TrainingRecord``: snapshots of an MLP as it trains, replayed in a page.

At each recorded step it keeps the loss and accuracy on the data, every parameter and
its gradient, and (for 2-D inputs) the decision function on a grid. It keeps at most
``max_snapshots`` of them: when full, it drops every other one and from then on
records every other step, so the snapshots stay evenly spread over the whole run.
``write`` turns them into a page (``viz.training_page``); in Jupyter the record shows
itself, and ``live()`` refreshes the view while training runs.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import autodiff
from autodiff import Value, no_grad
from autodiff.arguments import described, file_path, number_array

from .colours import GradientScale

# Losses the page can derive by hand for a single-output model.
PAGE_LOSSES = ("mse", "hinge", "bce", "bce_with_logits")

_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # exact and overflow-free
    "linear": lambda z: z,
}


def _recorded(array: str, doc: str) -> property:
    """A read-only view of the snapshots kept so far in one of a record's arrays (a copy)."""

    def read(record: TrainingRecord) -> np.ndarray:
        record._measure()
        return getattr(record, array)[: record._count].copy()

    return property(read, doc=doc)


class TrainingRecord:
    """Snapshots of an ``nn.MLP`` with one output as it trains on ``X``, ``y``.

    Call ``record()`` after each update: as ``nn.fit``'s ``on_step``, or in your own
    loop after ``optimizer.step()``. Each snapshot pairs a gradient with the weights it
    was computed at (the weights before that update, noted at the previous call), so
    snapshot ``t`` is the model after ``t`` updates and the gradient of update ``t+1``.
    ``loss`` (a name, as ``nn.fit`` takes it) and ``l2`` should be the training's, so
    that the recorded loss is the one minimised. Snapshots are thinned to at most
    ``max_snapshots``, and fewer when they would take more than ``max_bytes``.

    >>> import nn
    >>> model = nn.MLP(2, [4, 1], seed=0)
    >>> rec = TrainingRecord(model, [[0.0, 1.0], [1.0, 0.0]], [-1.0, 1.0], loss="hinge")
    >>> history = nn.fit(model, rec.X, rec.y, loss="hinge", epochs=5, progress=False, on_step=rec.record)
    >>> len(rec), rec.steps.tolist()
    (5, [0, 1, 2, 3, 4])
    """

    def __init__(
        self,
        model: Any,
        X: Sequence[Sequence[float]] | np.ndarray,
        y: Sequence[float] | np.ndarray,
        *,
        loss: str = "mse",
        l2: float = 0.0,
        max_snapshots: int = 200,
        max_bytes: int = 50_000_000,
        resolution: int = 40,
    ) -> None:
        import nn  # here, not at the top: importing viz stays light (nn.fit brings tqdm)

        if not isinstance(model, nn.MLP):
            raise TypeError(f"TrainingRecord records an nn.MLP, got {described(model)}")
        if model.nouts[-1] != 1:
            raise ValueError(f"TrainingRecord needs a model with one output, this one has {model.nouts[-1]}")
        if not isinstance(loss, str) or loss not in PAGE_LOSSES:  # str first: an array has no `in`
            raise ValueError(f"TrainingRecord takes loss {', '.join(map(repr, PAGE_LOSSES))}, got {described(loss)}")
        for name, value, least in (
            ("max_snapshots", max_snapshots, 2),
            ("resolution", resolution, 2),
            ("max_bytes", max_bytes, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(f"{name} must be an int of at least {least}, got {value!r}")
        if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not 0 <= l2 < float("inf"):
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.model, self.loss, self.l2 = model, loss, float(l2)
        self.X = number_array(X, "X", "TrainingRecord", 2).copy()
        self.y = number_array(y, "y", "TrainingRecord", 1).copy()
        if self.X.ndim != 2 or self.X.shape[1] != model.nin or len(self.X) != len(self.y) or not len(self.X):
            raise ValueError(
                f"X must be samples of {model.nin} features with one target each in y; got X of "
                f"shape {self.X.shape} and {len(self.y)} targets"
            )
        if not (np.isfinite(self.X).all() and np.isfinite(self.y).all()):
            raise ValueError("X and y must hold finite numbers")
        self.names = [name for name, _ in model.named_parameters()]
        self._params = model.parameters()
        self.layout = _mlp_layout(model, self.names)
        self._arrays = autodiff.LeafArrays(self._params)
        self.resolution = int(resolution) if model.nin == 2 else 0
        if self.resolution:
            low, high = self.X.min(axis=0) - 0.5, self.X.max(axis=0) + 0.5
            self.grid_x = np.linspace(low[0], high[0], self.resolution)
            self.grid_y = np.linspace(low[1], high[1], self.resolution)
            gx, gy = np.meshgrid(self.grid_x, self.grid_y)  # row r is grid_y[r]
            self._grid_points = np.stack([gx.ravel(), gy.ravel()], axis=1)
        size = len(self._params)
        snapshot_bytes = 2 * 8 * size + 4 * self.resolution**2 + 3 * 8
        self.capacity = int(min(max_snapshots, max(2, max_bytes // snapshot_bytes)))
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._loss = np.zeros(self.capacity)
        self._accuracy = np.zeros(self.capacity)
        self._parameters = np.zeros((self.capacity, size))
        self._gradients = np.zeros((self.capacity, size))
        self._grid = np.zeros((self.capacity, self.resolution, self.resolution), dtype=np.float32)
        self._measured = np.zeros(self.capacity, dtype=bool)  # loss, accuracy and grid computed
        self._count = 0
        self._stride = 1
        self._calls = 0
        self._before = self._arrays.read_data()
        self._live: Any = None

    # -- recording -------------------------------------------------------------------

    def record(self) -> None:
        """Note the gradient just computed, paired with the weights it was computed at.

        Call it after each update, every step (the weights before an update are the ones
        noted at the previous call).
        """
        step = self._calls
        kept = step % self._stride == 0
        if kept:  # read first: a gradient of None leaves the record as it was
            try:
                gradients = self._arrays.read_grad()
            except ValueError as error:
                raise ValueError(
                    f"TrainingRecord.record: {error}; call record() after backward() and "
                    "the update, as nn.fit's on_step does"
                ) from None
        self._calls += 1
        before, self._before = self._before, self._arrays.read_data()
        if not kept:
            return
        if self._count == self.capacity:
            self._thin()
        k = self._count
        self._steps[k] = step
        self._parameters[k] = before
        self._gradients[k] = gradients
        self._measured[k] = False  # measured when first read: training pays only for two copies
        self._count += 1
        if self._live is not None:
            self._live.snapshot_added()

    def _thin(self) -> None:
        """Keep every other snapshot, and record every other step from now on."""
        kept = slice(0, self._count, 2)
        n = len(range(self._count)[kept])
        for array in (
            self._steps,
            self._loss,
            self._accuracy,
            self._parameters,
            self._gradients,
            self._grid,
            self._measured,
        ):
            array[:n] = array[kept].copy()
        self._count, self._stride = n, self._stride * 2

    def _measure(self) -> None:
        """The loss, the accuracy and the decision grid of every snapshot not yet measured:
        functions of its parameters and the data, computed when first read, not while
        training, and never for snapshots thinned away before then."""
        for k in np.flatnonzero(~self._measured[: self._count]):
            parameters = self._parameters[k]
            self._loss[k], self._accuracy[k] = self._loss_and_accuracy(parameters)
            if self.resolution:
                self._grid[k] = self.decision(parameters, self._grid_points).reshape(self.resolution, self.resolution)
            self._measured[k] = True

    def decision(self, parameters: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The model's output on each row of ``X`` with the given parameters (numpy, float64).

        >>> import nn
        >>> model = nn.MLP(2, [3, 1], seed=0)
        >>> rec = TrainingRecord(model, [[0.5, 1.0]], [1.0])
        >>> bool(abs(rec.decision(rec.current(), rec.X)[0] - model([0.5, 1.0]).data) < 1e-12)
        True
        """
        a = np.asarray(X, dtype=float)
        for weights, biases, activation in self.layout:
            a = _ACTIVATIONS[activation](a @ parameters[weights].T + parameters[biases])
        return a[:, 0]

    @property
    def threshold(self) -> float:
        """Where the output divides the classes: 0.5 for probabilities or 0/1 targets, else 0."""
        return 0.5 if self.loss == "bce" or (self.loss == "mse" and self.y.min() >= 0) else 0.0

    def current(self) -> np.ndarray:
        """The model's parameters now, in the order of ``names``."""
        return self._arrays.read_data()

    def _loss_and_accuracy(self, parameters: np.ndarray) -> tuple[float, float]:
        """Loss (as nn.fit computes it on the whole data, l2 included) and accuracy."""
        # the loss and "is this prediction right" rules are nn.fit's own, kept in one place
        from nn.train import _CORRECT, LOSSES

        outputs = self.decision(parameters, self.X)
        loss_fn, correct = LOSSES[self.loss], _CORRECT.get(LOSSES[self.loss])
        with no_grad():
            preds = [Value(float(o)) for o in outputs]
            loss = loss_fn(preds, self.y.tolist()).data + self.l2 * float(parameters @ parameters)
        accuracy = float(np.mean(correct(outputs, self.y))) if correct else float("nan")
        return loss, accuracy

    # -- what was recorded -------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    steps = _recorded("_steps", "The step of each snapshot: the number of updates before it.")
    losses = _recorded("_loss", "The loss on the whole data per snapshot, l2 term included.")
    accuracies = _recorded("_accuracy", "Training accuracy per snapshot (nan for mse, which has none).")
    parameters = _recorded("_parameters", "Parameters per snapshot (rows), in the order of ``names``.")
    gradients = _recorded("_gradients", "The gradient at each snapshot's parameters, as the training computed it.")
    grids = _recorded("_grid", "The decision function per snapshot on ``grid_x`` × ``grid_y`` (row r is grid_y[r]).")

    def gradient_scale(self) -> GradientScale:
        """One colour scale for every recorded gradient, as the drawings colour them."""
        return GradientScale.fit(self._gradients[: self._count].ravel().tolist(), 1e-8, 1e3)

    # -- showing it ----------------------------------------------------------------------

    def page(self, title: str = "Training") -> str:
        """The self-contained HTML page of the recorded training."""
        from .training_page import training_page

        if not self._count:
            raise ValueError("nothing recorded yet: call record() after each update (nn.fit's on_step)")
        return training_page(self, title)

    def write(self, path: str | os.PathLike, title: str = "Training") -> Path:
        """Write the page to ``path`` (one self-contained .html file); returns the path."""
        from autodiff.files import write_atomically

        path = Path(file_path(path, "path", "TrainingRecord.write"))
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(
                f"TrainingRecord.write writes an HTML page: give a path ending in .html, not {path.name!r}"
            )
        write_atomically(path, self.page(title))
        return path

    def _repr_html_(self) -> str:
        """The page inline in Jupyter, in an iframe of its own (its ids and script stay inside)."""
        if not self._count:
            return "<p>TrainingRecord: nothing recorded yet.</p>"
        return (
            f'<div class="autodiff-training"><iframe srcdoc="{html.escape(self.page(), quote=True)}" '
            'style="width: 100%; height: 1000px; border: 1px solid #ddd" sandbox="allow-scripts"></iframe></div>'
        )

    def live(self, every: int = 10) -> None:
        """In Jupyter: show the view now, and refresh it every ``every`` snapshots while
        training runs (and once more with ``refresh()`` at the end)."""
        from IPython.display import HTML, display

        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        handle = display(HTML(self._repr_html_()), display_id=True)
        self._live = _Live(self, handle, every, HTML)

    def refresh(self) -> None:
        """Redraw the live view with every snapshot so far."""
        if self._live is not None:
            self._live.show()

    def __repr__(self) -> str:
        return f"TrainingRecord({len(self)} snapshots of {len(self._params)} parameters, every {self._stride} step(s))"


class _Live:
    def __init__(self, record: TrainingRecord, handle: Any, every: int, html_type: type) -> None:
        self.record, self.handle, self.every, self.html_type, self.added = record, handle, every, html_type, 0

    def snapshot_added(self) -> None:
        self.added += 1
        if self.added % self.every == 0:
            self.show()

    def show(self) -> None:
        self.handle.update(self.html_type(self.record._repr_html_()))


def _mlp_layout(model: Any, names: list[str]) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Per layer: the index of each weight (nout × nin) and bias in the parameter list,
    and the activation; checked against the names nn gives them."""
    index = {name: i for i, name in enumerate(names)}
    if len(index) != len(names) or len(model.parameters()) != len(names):
        raise ValueError("TrainingRecord needs a model whose parameters are all distinct (no tied weights)")
    layout = []
    for l, layer in enumerate(model.layers):
        prefix = f"layers.{l}.neurons"
        weights = np.array(
            [[index[f"{prefix}.{j}.w.{i}"] for i in range(layer.nin)] for j in range(len(layer.neurons))]
        )
        biases = np.array([index[f"{prefix}.{j}.b"] for j in range(len(layer.neurons))])
        layout.append((weights, biases, layer.activation))
    return layout
