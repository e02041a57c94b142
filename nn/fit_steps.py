"""How ``fit`` computes a batch's loss and gradients: one graph per sample in the scalar
engine, or one compiled program run over the whole batch.

Both do the same three things for the training loop: ``forward(batch)`` gives the
batch's mean loss (``l2 * sum(p²)`` included), ``predictions()`` the model's outputs as
numbers, and ``backward()`` adds the gradients into every parameter's ``.grad``. The
compiled form is the same arithmetic in another order: its losses and gradients agree
with the scalar engine's to rounding (tests hold them to 1e-9; they differ near 1e-15).

>>> import numpy as np
>>> from nn import MLP, mse_loss
>>> model = MLP(1, [3, 1], seed=0)
>>> X, y = np.array([[0.5], [1.5]]), np.array([1.0, 3.0])
>>> scalar = ScalarSteps(model, mse_loss, 0.0, X.tolist(), y.tolist())
>>> compiled = CompiledSteps(model, mse_loss, 0.0, X, y, batch_sizes={2}, explain=scalar)
>>> abs(scalar.forward(np.arange(2)) - compiled.forward(np.arange(2))) < 1e-15
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autodiff
from autodiff import Value

from .module import Module


class ScalarSteps:
    """Each sample's graph built and differentiated by the scalar engine."""

    def __init__(self, model: Module, loss_fn: Callable, l2: float, X: list[list[float]], y: list) -> None:
        self.model, self.loss_fn, self.l2, self.X, self.y = model, loss_fn, l2, X, y
        self._params = model.parameters()

    def forward(self, batch: np.ndarray) -> float:
        self._preds = [self.model(self.X[i]) for i in batch]
        loss = self.loss_fn(self._preds, [self.y[i] for i in batch])
        if self.l2:
            loss = loss + self.l2 * autodiff.dot(self._params, self._params)
        self._loss = loss
        return loss.data

    def predictions(self) -> np.ndarray:
        """(N,) numbers, or (classes, N) where the model gives a list per sample."""
        if isinstance(self._preds[0], Value):
            return np.array([p.data for p in self._preds])
        return np.array([[v.data for v in row] for row in self._preds]).T

    def backward(self) -> None:
        self._loss.backward()


class CompiledSteps:
    """One sample's loss traced once per batch size (``autodiff.compile``) and run over
    each batch with numpy; the mean over the batch is differentiated.

    Tracing happens here, so that a model that cannot be compiled says so (the
    ``TracingError`` or other error of ``compile``) before training starts. A loss that
    refuses its numbers while the program runs (bce on a probability outside [0, 1])
    is run again through ``explain``, the scalar steps, so that the error names the
    sample as it always has.
    """

    def __init__(
        self,
        model: Module,
        loss_fn: Callable,
        l2: float,
        X: np.ndarray,
        y: np.ndarray,
        batch_sizes: set[int],
        explain: ScalarSteps,
    ) -> None:
        self._columns, self.y, self._explain = np.ascontiguousarray(X.T), y, explain  # a row per feature
        params = model.parameters()
        names = [f"x{j}" for j in range(X.shape[1])] + ["target"]
        self._programs = {n: _SampleLoss(model, loss_fn, l2, params, names) for n in batch_sizes}

    def forward(self, batch: np.ndarray) -> float:
        self._program = program = self._programs[len(batch)]
        try:
            losses = program(*self._columns[:, batch], self.y[batch])
        except ValueError:
            self._explain.forward(batch)  # raises the scalar engine's error, naming the sample
            raise
        return sum(losses.tolist()) / len(losses)  # summed in the scalar engine's order

    def predictions(self) -> np.ndarray:
        return self._program.predictions()

    def backward(self) -> None:
        self._program.backward()


class _SampleLoss:
    """A compiled program of one sample's loss that also keeps the model's outputs."""

    def __init__(self, model: Module, loss_fn: Callable, l2: float, params: list[Value], names: list[str]) -> None:
        self._out: Value | list[Value] = []  # the model's output(s) in the latest trace

        def sample_loss(*inputs: Value) -> Value:
            *features, target = inputs
            out = model(features)
            self._out = out
            loss = loss_fn([out], [target])
            return loss + l2 * autodiff.dot(params, params) if l2 else loss

        self.program = autodiff.compile(sample_loss, inputs=names)

    def __call__(self, *columns: np.ndarray) -> np.ndarray:
        return self.program(*columns)

    def predictions(self) -> np.ndarray:
        """As ``ScalarSteps.predictions``, for the last batch."""
        if isinstance(self._out, Value):
            return self.program.values_of(self._out)
        return np.array([self.program.values_of(node) for node in self._out])

    def backward(self) -> None:
        self.program.backward()


def first_line(error: BaseException) -> str:
    """An error in one line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0].rstrip(':') if lines else ''}"
