"""``fit``: the training loop a user would otherwise write by hand, with a progress bar."""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

import autodiff

from . import losses
from .module import Module
from .optim import Adam, Optimizer

LOSSES: dict[str, Callable] = {
    "mse": losses.mse_loss,
    "bce": losses.bce_loss,
    "bce_with_logits": losses.bce_with_logits_loss,
    "hinge": losses.hinge_loss,
    "cross_entropy": losses.cross_entropy_loss,
}

# How a prediction counts as right, per loss (regression with mse has no accuracy).
_CORRECT: dict[Callable, Callable[[Any, float], bool]] = {
    losses.hinge_loss: lambda score, t: (score.data > 0) == (t > 0),
    losses.bce_loss: lambda p, t: (p.data > 0.5) == (t > 0.5),
    losses.bce_with_logits_loss: lambda z, t: (z.data > 0) == (t > 0.5),
    # a target may be a Value (cross_entropy_loss takes one): compare its number, not the object
    losses.cross_entropy_loss: lambda row, t: int(np.argmax([v.data for v in row])) == getattr(t, "data", t),
}


def fit(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    loss: str | Callable = "mse",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    l2: float = 0.0,
    seed: int | None = 0,
    progress: bool = True,
    on_step: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` on samples ``X`` with targets ``y``; return the history per epoch.

    ``loss`` is a name (``"mse"``, ``"bce"``, ``"bce_with_logits"``, ``"hinge"``,
    ``"cross_entropy"``) or one of the loss functions. Each epoch visits the samples in
    an order drawn from ``seed``, ``batch_size`` at a time (all at once by default);
    ``l2`` adds ``l2 * sum(p²)`` to each batch's loss. The optimizer defaults to Adam
    with lr 0.01. The history has ``"loss"`` (the mean batch loss of each epoch) and,
    for classification losses, ``"accuracy"`` (on the epoch's training predictions).
    The progress bar shows only when ``progress`` and the output is a terminal.
    ``on_step``, if given, is called after each batch's backward pass and update (the
    gradients are still there: ``viz.GradientFlow(model).record`` fits).

    >>> from nn import MLP
    >>> model = MLP(1, [8, 1], seed=0)
    >>> history = fit(model, [[0.0], [1.0]], [0.0, 2.0], epochs=200, progress=False)
    >>> history["loss"][-1] < 1e-3
    True
    """
    loss_fn = _loss(loss)
    X, y = _samples(model, X, y, loss_fn)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    n = len(X)
    batch_size = n if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    params = model.parameters()
    optimizer = optimizer if optimizer is not None else Adam(params, lr=0.01)
    rng = np.random.default_rng(seed)
    correct = _CORRECT.get(loss_fn)
    history: dict[str, list[float]] = {"loss": []} | ({"accuracy": []} if correct else {})

    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not (progress and sys.stderr.isatty()))
    for _ in bar:
        total, right = 0.0, 0
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            preds = [model(X[i]) for i in batch]
            targets = [y[i] for i in batch]
            batch_loss = loss_fn(preds, targets)
            if l2:
                batch_loss = batch_loss + l2 * autodiff.dot(params, params)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            if on_step is not None:
                on_step()
            total += batch_loss.data * len(batch)
            if correct:
                right += sum(correct(p, t) for p, t in zip(preds, targets))
        history["loss"].append(total / n)
        if correct:
            history["accuracy"].append(right / n)
        bar.set_postfix(loss=f"{history['loss'][-1]:.4g}", **({"accuracy": f"{right / n:.3f}"} if correct else {}))
    return history


def _loss(loss: str | Callable) -> Callable:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a loss function")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a function, got {type(loss).__name__}")
    return loss


def _samples(model: Module, X: Any, y: Any, loss_fn: Callable) -> tuple[list[list[float]], list]:
    X, y = list(X), list(np.asarray(y).tolist()) if isinstance(y, np.ndarray) else list(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} targets")
    if not X:
        raise ValueError("fit needs at least one sample")
    nin = getattr(model, "nin", None)
    rows = []
    for i, row in enumerate(X):
        if not hasattr(row, "__len__") or isinstance(row, str):
            raise TypeError(f"each sample of X is a list of features; sample {i} is a {type(row).__name__}")
        if nin is not None and len(row) != nin:
            raise ValueError(f"sample {i} of X has {len(row)} features, but the model takes {nin} inputs")
        rows.append([autodiff.Value(v).data for v in row])
    if loss_fn is not losses.cross_entropy_loss:
        y = [autodiff.Value(t).data for t in y]
    return rows, y
