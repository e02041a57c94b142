"""Plots of training: loss and accuracy curves, a classifier's decision boundary, and the
gradient-flow chart (mean and max |grad| per layer over the training steps).

They need matplotlib (the ``plots`` extra). Each returns a ``matplotlib.figure.Figure``
and, given a path, also writes it (the suffix picks the format), atomically.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autodiff import LeafArrays, Value, no_grad
from autodiff.arguments import bounded_int, bounded_number, described, file_path, number_array
from autodiff.files import write_atomically

from .view import module_of, parent_module


@functools.cache
def _inline(Figure: type) -> type:
    """A matplotlib Figure that Jupyter shows inline, without pyplot's global state."""

    class InlineFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return InlineFigure


def _figure(width: float = 6.4, height: float = 4.0) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'autodiff-scalar[plots]' (or pip install matplotlib)"
        ) from None
    return _inline(Figure)(figsize=(width, height), layout="constrained")


def _save(figure: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        path = Path(file_path(path, "path", "saving a plot"))
        buffer = io.BytesIO()
        figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", dpi=120)
        write_atomically(path, buffer.getvalue())
    return figure


def plot_history(history: dict[str, Sequence[float]], path: str | os.PathLike | None = None) -> Any:
    """Loss (and accuracy, when recorded) per epoch, from ``nn.fit``'s history.

    >>> figure = plot_history({"loss": [1.0, 0.5, 0.2], "accuracy": [0.5, 0.8, 1.0]})
    """
    if not isinstance(history, dict):
        raise TypeError(f"plot_history takes the history nn.fit returns (a dict of lists), got {described(history)}")
    if not history.get("loss"):
        raise ValueError("the history has no 'loss' values to plot")
    figure = _figure()
    loss_axes = figure.add_subplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    loss_axes.plot(epochs, history["loss"], color="#225ea8", label="loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss", color="#225ea8")
    if min(history["loss"]) > 0 and max(history["loss"]) / min(history["loss"]) > 100:
        loss_axes.set_yscale("log")
    if history.get("accuracy"):
        accuracy_axes = loss_axes.twinx()
        accuracy_axes.plot(epochs, history["accuracy"], color="#e6550d", label="accuracy")
        accuracy_axes.set_ylabel("training accuracy", color="#e6550d")
        accuracy_axes.set_ylim(0, 1.05)
    loss_axes.set_title("Training")
    return _save(figure, path)


def plot_decision_boundary(
    model: Callable[[list[float]], Value],
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    resolution: int = 100,
    threshold: float = 0.0,
) -> Any:
    """The regions where a 2-D classifier's output is above or below ``threshold``, with
    its data on top (coloured by label).

    >>> from autodiff import Value
    >>> figure = plot_decision_boundary(lambda p: Value(p[0] - p[1]), [[0, 1], [1, 0]], [-1, 1], resolution=20)
    """
    if not callable(model):
        raise TypeError(
            f"plot_decision_boundary: model must be a model or a function of one sample, got {described(model)}"
        )
    X = number_array(X, "X", "plot_decision_boundary", 2)
    resolution = bounded_int(resolution, "resolution", "plot_decision_boundary", at_least=2)
    threshold = bounded_number(threshold, "threshold", "plot_decision_boundary")
    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D samples, got X of shape {X.shape}")
    labels = number_array(y, "y", "plot_decision_boundary", 1)
    if len(labels) != len(X):
        raise ValueError(f"plot_decision_boundary: X has {len(X)} samples but y has {len(labels)} labels")
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xs, ys = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    with no_grad():  # a grid of forward passes needs no graph
        scores = np.array([[model([a, b]).data for a in xs] for b in ys])
    figure = _figure(5.5, 5.0)
    axes = figure.add_subplot()
    axes.contourf(xs, ys, scores > threshold, levels=[-0.5, 0.5, 1.5], colors=["#fdd0a2", "#c6dbef"], alpha=0.8)
    axes.contour(xs, ys, scores, levels=[threshold], colors="#525252", linewidths=1)
    above = labels > (0.0 if labels.min() < 0 else 0.5)  # labels -1/+1 or 0/1
    axes.scatter(X[~above, 0], X[~above, 1], c="#e6550d", edgecolors="black", linewidths=0.5, s=25)
    axes.scatter(X[above, 0], X[above, 1], c="#3182bd", edgecolors="black", linewidths=0.5, s=25)
    axes.set_title("Decision boundary")
    axes.set_aspect("equal")
    return _save(figure, path)


class GradientFlow:
    """Records mean and max |grad| per layer at each training step, and plots them.

    Layers are read from the parameters' dotted names (``layers.0.neurons.3.w.1`` is in
    ``layers.0``). Call ``record()`` after each backward pass, e.g. as ``nn.fit``'s
    ``on_step``; vanishing gradients show as curves that sink toward zero in the early
    layers.

    >>> import nn
    >>> model = nn.MLP(2, [4, 1], seed=0)
    >>> flow = GradientFlow(model)
    >>> model([1.0, 2.0]).backward(); flow.record()
    >>> sorted(flow.layers)
    ['layers.0', 'layers.1']
    """

    def __init__(self, model: Any) -> None:
        if not callable(getattr(model, "named_parameters", None)):
            raise TypeError(f"GradientFlow records an nn model (an nn.MLP, say), got {described(model)}")
        self.layers: dict[str, list[Value]] = {}
        for name, p in model.named_parameters():
            module = module_of(name)
            self.layers.setdefault(parent_module(module) or module or "model", []).append(p)
        self.mean: dict[str, list[float]] = {name: [] for name in self.layers}
        self.max: dict[str, list[float]] = {name: [] for name in self.layers}

    def record(self) -> None:
        """Note the current gradients."""
        for name, params in self.layers.items():
            try:
                grads = np.abs(LeafArrays(params).read_grad())
            except ValueError as error:
                raise ValueError(f"GradientFlow.record: in {name!r}, {error}; call record() after backward()") from None
            self.mean[name].append(float(grads.mean()))
            self.max[name].append(float(grads.max()))

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """Mean (solid) and max (dashed) |grad| per layer, over the recorded steps."""
        if not any(self.mean.values()):
            raise ValueError("nothing recorded yet: call record() after each backward pass")
        figure = _figure()
        axes = figure.add_subplot()
        colours = ["#225ea8", "#41b6c4", "#e6550d", "#31a354", "#756bb1", "#636363"]
        for i, name in enumerate(self.layers):
            colour = colours[i % len(colours)]
            steps = np.arange(1, len(self.mean[name]) + 1)
            axes.plot(steps, np.maximum(self.mean[name], 1e-300), color=colour, label=f"{name} mean")
            axes.plot(steps, np.maximum(self.max[name], 1e-300), color=colour, linestyle="--", label=f"{name} max")
        axes.set_yscale("log")
        axes.set_xlabel("training step")
        axes.set_ylabel("|grad| of the layer's parameters")
        axes.set_title("Gradient flow")
        axes.legend(fontsize=8, ncols=2)
        return _save(figure, path)
