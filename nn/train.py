"""``fit``: the training loop a user would otherwise write by hand, with a progress bar."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff
from autodiff.arguments import described, sized
from autodiff.value import to_float

from . import losses
from .fit_steps import CompiledSteps, ScalarSteps, first_line
from .module import Module
from .optim import Adam, Optimizer
from .progress import progress as progress_bar

LOSSES: dict[str, Callable] = {
    "mse": losses.mse_loss,
    "bce": losses.bce_loss,
    "bce_with_logits": losses.bce_with_logits_loss,
    "hinge": losses.hinge_loss,
    "cross_entropy": losses.cross_entropy_loss,
}

# How a prediction counts as right, per loss (regression with mse has no accuracy): on
# the predictions' numbers, (N,) or (classes, N), and the targets, (N,).
_CORRECT: dict[Callable, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    losses.hinge_loss: lambda score, t: (score > 0) == (t > 0),
    losses.bce_loss: lambda p, t: (p > 0.5) == (t > 0.5),
    losses.bce_with_logits_loss: lambda z, t: (z > 0) == (t > 0.5),
    losses.cross_entropy_loss: lambda logits, t: np.argmax(logits, axis=0) == t,  # the first of equal logits
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
    compiled: bool | str = "auto",
) -> dict[str, list[float]]:
    """Train ``model`` on samples ``X`` with targets ``y``; return the history per epoch.

    ``loss`` is a name (``"mse"``, ``"bce"``, ``"bce_with_logits"``, ``"hinge"``,
    ``"cross_entropy"``) or one of the loss functions. Each epoch visits the samples in
    an order drawn from ``seed``, ``batch_size`` at a time (all at once by default);
    ``l2`` adds ``l2 * sum(p²)`` to each batch's loss. The optimizer defaults to Adam
    with lr 0.01. The history has ``"loss"`` (the mean batch loss of each epoch) and,
    for classification losses, ``"accuracy"`` (on the epoch's training predictions).
    With ``progress``, a bar shows in a terminal (text) and in a notebook (a widget
    where ipywidgets is installed, text where not); never in a log.
    ``on_step``, if given, is called after each batch's backward pass and update (the
    gradients are still there: ``viz.GradientFlow(model).record`` fits).

    Each batch runs as one compiled program (``autodiff.compile`` of one sample's loss)
    where the model and loss allow it: tens to hundreds of times faster than a graph per
    sample, with the same history and the same ``.grad`` of every parameter to rounding
    (about 1e-15). That needs one of nn's losses (a mean over samples) and a model
    that ``compile`` can trace (no Python ``if`` on a sample's number). Otherwise
    ``compiled="auto"``, the default, trains with the scalar engine and warns once, in
    one line, why; ``compiled=True`` raises that error instead, and ``compiled=False``
    always uses the scalar engine, without a word. The model is traced once, so a
    forward that draws random numbers or keeps state needs ``compiled=False``.

    Training never destroys a model silently. Before the first update every option,
    weight, feature and target is checked (a finite number, of the kind the loss takes)
    and any fault raises ``ValueError`` naming the option, parameter or sample. A step whose loss,
    gradients or update are not finite raises ``FloatingPointError`` naming the epoch,
    batch and parameter, and leaves the weights and the optimizer's state as they were
    before that step. A step is applied whole or not at all, even on Ctrl-C.

    >>> from nn import MLP
    >>> model = MLP(1, [8, 1], seed=0)
    >>> history = fit(model, [[0.0], [1.0]], [0.0, 2.0], epochs=200, progress=False)
    >>> history["loss"][-1] < 1e-3
    True
    >>> fit(model, [[0.0], [float("nan")]], [0.0, 2.0])
    Traceback (most recent call last):
    ValueError: feature 0 of sample 1 is nan; fit needs finite features
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit trains an nn.Module (an nn.MLP, say), got {described(model)}")
    loss_fn = _loss(loss)
    epochs = _positive_int(epochs, "epochs")
    batch_size = None if batch_size is None else _positive_int(batch_size, "batch_size")
    l2 = _l2(l2)
    rng = np.random.default_rng(_seed(seed))
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True or False, got {progress!r}")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be a function or None, got {type(on_step).__name__}")
    if not (isinstance(compiled, bool) or (isinstance(compiled, str) and compiled == "auto")):
        raise ValueError(f"compiled must be True, False or 'auto', got {compiled!r}")
    optimizer = _optimizer(optimizer, model)
    _require_finite_weights(model)
    X, y = _samples(model, X, y, loss_fn)
    n = len(X)
    batch_size = n if batch_size is None else batch_size
    targets = np.array(y, dtype=float)
    batch_sizes = {min(batch_size, n - start) for start in range(0, n, batch_size)}  # the last may be smaller
    steps = _steps(model, loss_fn, l2, X, y, targets, batch_sizes, compiled)
    names = _names(model, optimizer.params)
    correct = _CORRECT.get(loss_fn)
    history: dict[str, list[float]] = {"loss": []}
    if correct:
        history["accuracy"] = []

    step = 0
    bar = progress_bar(range(epochs), enabled=progress, desc="training", unit="epoch")
    for epoch in bar:
        total, right = 0.0, 0
        order = rng.permutation(n)
        for batch_number, start in enumerate(range(0, n, batch_size)):
            step += 1
            where = f"epoch {epoch + 1}, batch {batch_number + 1} (step {step})"
            batch = order[start : start + batch_size]
            batch_loss = steps.forward(batch)
            if not math.isfinite(batch_loss):
                raise FloatingPointError(f"{where}: the loss is {batch_loss!r}{_UNCHANGED}")
            optimizer.zero_grad()
            steps.backward()
            _finite_step(optimizer, names, where)
            if on_step is not None:
                on_step()
            total += batch_loss * len(batch)
            if correct:
                right += int(np.count_nonzero(correct(steps.predictions(), targets[batch])))
        history["loss"].append(total / n)
        if correct:
            history["accuracy"].append(right / n)
        bar.set_postfix(loss=f"{history['loss'][-1]:.4g}", **({"accuracy": f"{right / n:.3f}"} if correct else {}))
    return history


def _steps(
    model: Module,
    loss_fn: Callable,
    l2: float,
    X: list[list[float]],
    y: list,
    targets: np.ndarray,
    batch_sizes: set[int],
    compiled: bool | str,
) -> ScalarSteps | CompiledSteps:
    """How each batch's loss and gradients are computed: compiled where asked and possible."""
    scalar = ScalarSteps(model, loss_fn, l2, X, y)
    if compiled is False:
        return scalar
    if not any(loss_fn is known for known in LOSSES.values()):
        why = (
            f"the loss {getattr(loss_fn, '__name__', type(loss_fn).__name__)!r} is not one of nn's, "
            "which fit knows to be means over samples"
        )
        if compiled is True:
            raise ValueError(f"compiled=True: {why}")
    else:
        try:
            return CompiledSteps(model, loss_fn, l2, np.array(X), targets, batch_sizes, scalar)
        except Exception as error:
            if compiled is True:
                raise
            why = f"compile says {first_line(error)}"
    warnings.warn(
        f"nn.fit trains with the scalar engine (slower): {why}. Pass compiled=False to train so without this note.",
        stacklevel=3,
    )
    return scalar


_UNCHANGED = "; the weights and the optimizer's state are as they were before this step"


def _finite_step(optimizer: Optimizer, names: list[str], where: str) -> None:
    """``optimizer.step()``, unless a gradient, a new weight or a new buffer would not be
    finite: then ``FloatingPointError`` names it, and nothing has changed."""
    grad, data, state = optimizer._proposal()
    _require_finite(grad, names, f"{where}: the gradient of {{name}} is {{value}}")
    _require_finite(data, names, f"{where}: the update would make {{name}} {{value}}")
    for buffer, values in state.items():
        _require_finite(values, names, f"{where}: the update would make the optimizer's {buffer} of {{name}} {{value}}")
    optimizer._commit(data, state)


def _require_finite(values: np.ndarray, names: list[str], message: str) -> None:
    if not np.isfinite(values).all():  # one numpy call: the common case costs nothing more
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FloatingPointError(message.format(name=names[i], value=values[i].item()) + _UNCHANGED)


def _names(model: Module, params: list[autodiff.Value]) -> list[str]:
    """The model's name for each of ``params`` (the optimizer's), for error messages."""
    by_id = {id(p): name for name, p in reversed(model.named_parameters())}  # a tied weight: its first name
    return [f"parameter {by_id[id(p)]!r}" for p in params]


def _loss(loss: str | Callable) -> Callable:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a loss function")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a function, got {type(loss).__name__}")
    return loss


def _positive_int(n: Any, name: str) -> int:
    """``n`` as an int >= 1; numpy integers count (``np.int64(5)`` from an array)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def _l2(l2: Any) -> float:
    if isinstance(l2, (bool, np.bool_)) or not isinstance(l2, numbers.Real) or not 0 <= l2 < math.inf:  # type: ignore[operator]  # numbers' ABCs compare with int at run time; their stubs do not say so
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return float(l2)


def _seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return int(seed)


def _optimizer(optimizer: Optimizer | None, model: Module) -> Optimizer:
    """The optimizer to train with: Adam by default; a given one must update only the
    model's parameters (it may leave some out, to keep them fixed)."""
    if optimizer is None:
        return Adam(model.parameters(), lr=0.01)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"fit: optimizer must be an nn optimizer (nn.SGD, nn.Adam, nn.AdamW) or None, got {described(optimizer)}"
        )
    own = {id(p) for p in model.parameters()}
    for i, p in enumerate(optimizer.params):
        if id(p) not in own:
            raise ValueError(
                f"the optimizer's parameter {i} ({p.label or 'unlabelled'}) is not a parameter of "
                "this model; build the optimizer from model.parameters()"
            )
    return optimizer


def _require_finite_weights(model: Module) -> None:
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"parameter {name!r} of the model is {p.data!r} before training; fit needs finite weights")


def _samples(model: Module, X: Any, y: Any, loss_fn: Callable) -> tuple[list[list[float]], list]:
    """X as rows of finite floats and y as targets the loss accepts, or an error naming the sample."""
    rows = _features(model, X)
    if isinstance(y, np.ndarray) and y.ndim != 1:
        column = "; it is a column: flatten it with np.ravel(y)" if y.ndim == 2 and y.shape[1] == 1 else ""
        raise ValueError(f"fit: y must be 1-D, one target per sample, got shape {y.shape}{column}")
    y = (
        y.tolist()
        if isinstance(y, np.ndarray)
        else list(sized(y, "y", "fit", "one target per sample", one_sample_fix=False))
    )
    if y and isinstance(y[0], (list, tuple, np.ndarray)) and np.size(y[0]) == 1:
        raise ValueError(
            f"fit: y must be one target per sample, got a column (y[0] is {described(y[0])}); "
            "flatten it: [t[0] for t in y], or np.ravel(y)"
        )
    if len(rows) != len(y):
        raise ValueError(f"X has {len(rows)} samples but y has {len(y)} targets")
    if loss_fn is losses.cross_entropy_loss:
        return rows, _class_indices(y, _class_count(model, rows[0]))
    return rows, [_target(t, i, loss_fn) for i, t in enumerate(y)]


def _features(model: Module, X: Any) -> list[list[float]]:
    if isinstance(X, np.ndarray) and X.ndim != 2:
        raise ValueError(f"fit: X must be 2-D, one row of features per sample, got shape {X.shape}")
    X = list(sized(X, "X", "fit", "one list of features per sample", one_sample_fix=False))
    if not X:
        raise ValueError("fit needs at least one sample")
    width = getattr(model, "nin", None)
    expected = f"the model takes {width} inputs"
    rows = []
    for i, row in enumerate(X):
        if not hasattr(row, "__len__") or isinstance(row, str):
            raise TypeError(f"each sample of X is a list of features; sample {i} is a {type(row).__name__}")
        if width is None:  # a model that does not say: the first sample does
            width, expected = len(row), f"sample 0 has {len(row)}"
        if len(row) != width:
            raise ValueError(f"sample {i} of X has {len(row)} features, but {expected}")
        rows.append([_feature(v, i, j) for j, v in enumerate(row)])
    return rows


def _feature(v: Any, i: int, j: int) -> float:
    if hasattr(v, "__len__") and not isinstance(v, str):
        raise ValueError(f"feature {j} of sample {i} is a {type(v).__name__}, not a number: X must be 2-D")
    number = to_float(v, f"feature {j} of sample {i}")
    if not math.isfinite(number):
        raise ValueError(f"feature {j} of sample {i} is {number!r}; fit needs finite features")
    return number


# The targets each loss accepts; any other loss function gets finite numbers.
_TARGETS: dict[Callable, tuple[Callable[[float], bool], str]] = {
    losses.hinge_loss: (lambda t: t in (-1.0, 1.0), "hinge loss takes targets -1 or +1"),
    losses.bce_loss: (lambda t: 0.0 <= t <= 1.0, "bce loss takes targets in [0, 1]"),
    losses.bce_with_logits_loss: (lambda t: 0.0 <= t <= 1.0, "bce_with_logits loss takes targets in [0, 1]"),
}


def _target(t: Any, i: int, loss_fn: Callable) -> float:
    number = to_float(t, f"target {i}")
    if not math.isfinite(number):
        raise ValueError(f"the target of sample {i} is {number!r}; fit needs finite targets")
    accepts, rule = _TARGETS.get(loss_fn, (None, ""))
    if accepts is not None and not accepts(number):
        raise ValueError(f"{rule}; the target of sample {i} is {number!r}")
    return number


def _class_count(model: Module, first: list[float]) -> int:
    """How many class logits the model gives per sample (it is run once on ``first``
    where it does not say)."""
    nouts = getattr(model, "nouts", None)
    if nouts is not None:
        count = nouts[-1]
    else:
        with autodiff.no_grad():
            out = model(first)
        count = 1 if isinstance(out, autodiff.Value) else len(out)
    if count < 2:
        raise ValueError(f"cross_entropy needs a model with one output per class (2 or more); this one has {count}")
    return count


def _class_indices(y: list, classes: int) -> list[int]:
    for i, t in enumerate(y):
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral) or not 0 <= t < classes:  # type: ignore[operator]  # numbers' ABCs compare with int at run time; their stubs do not say so
            raise ValueError(
                f"cross_entropy takes class indices, ints in 0..{classes - 1} (the model's "
                f"{classes} outputs); the target of sample {i} is {t!r}"
            )
    return [int(t) for t in y]
