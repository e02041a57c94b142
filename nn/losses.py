"""Losses: each takes one prediction per sample and returns the mean over samples, one Value.

Targets are numbers, or ``Value``s where a compiled program feeds them per sample.

>>> from autodiff import Value
>>> mse_loss([Value(0.5), Value(2.0)], [1.0, 2.0]).data
0.125
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

import autodiff
from autodiff import Value
from autodiff.arguments import described, sized


def mse_loss(preds: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean of (p - t)²."""
    preds, targets = _pairs(preds, targets, "mse_loss")
    return _mean([(p - t) ** 2 for p, t in zip(preds, targets)])


def bce_loss(probs: Sequence[Value], targets: Sequence[float]) -> Value:
    """Binary cross-entropy of probabilities in [0, 1]; each log clamped at -100 as PyTorch.

    A probability outside [0, 1], or nan, raises ``ValueError`` naming the sample, as
    PyTorch's does (in a compiled program, when the program runs).

    >>> bce_loss([Value(0.5), Value(1.5)], [1.0, 1.0])
    Traceback (most recent call last):
    ValueError: bce_loss takes probabilities in [0, 1], got 1.5 for sample 1 (for scores, use bce_with_logits_loss)
    """
    probs, targets = _pairs(probs, targets, "bce_loss", targets_in=(0.0, 1.0))
    losses = []
    for i, (p, t) in enumerate(zip(probs, targets)):
        try:  # the op checks its numbers (compile traces this without reading them)
            losses.append(autodiff.binary_cross_entropy(p, t))
        except ValueError as error:
            if 0.0 <= p.data <= 1.0:  # the target, given as a Value, is the one outside
                raise ValueError(f"bce_loss, sample {i}: {error}") from None
            raise ValueError(
                f"bce_loss takes probabilities in [0, 1], got {p.data!r} for sample {i} "
                "(for scores, use bce_with_logits_loss)"
            ) from None
    return _mean(losses)


def bce_with_logits_loss(logits: Sequence[Value], targets: Sequence[float]) -> Value:
    """Binary cross-entropy of sigmoid(logit), computed as softplus(z) - t z: exact for any z."""
    logits, targets = _pairs(logits, targets, "bce_with_logits_loss", targets_in=(0.0, 1.0))
    return _mean([z.softplus() - t * z for z, t in zip(logits, targets)])


def hinge_loss(scores: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean of relu(1 - t s), targets -1 or +1."""
    scores, targets = _pairs(scores, targets, "hinge_loss")
    for i, t in enumerate(targets):
        if not isinstance(t, Value) and t not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss targets are -1 or +1, got {t!r} for sample {i}")
    return _mean([(1.0 - t * s).relu() for s, t in zip(scores, targets)])


def cross_entropy_loss(logits: Sequence[Sequence[Value]], targets: Sequence[int | Value]) -> Value:
    """Mean of logsumexp(logits) - logits[target]: one list of class logits and one class
    index per sample. Exact for logits of +-1000.

    A target may be a ``Value`` (a compiled program's per-sample input): its number is
    then checked to be a class index when the graph runs, at each call of a program.

    >>> logits, target = [Value(2.0), Value(0.0)], Value(0.0, label="class")
    >>> cross_entropy_loss([logits], [target]).data == cross_entropy_loss([logits], [0]).data
    True
    """
    rows = sized(logits, "logits", "cross_entropy_loss", "one list of class logits per sample", one_sample_fix=False)
    classes = sized(targets, "targets", "cross_entropy_loss", "one class index per sample")
    if len(rows) != len(classes):
        raise ValueError(f"cross_entropy_loss got {len(rows)} samples of logits but {len(classes)} targets")
    if len(rows) == 0:
        raise ValueError("cross_entropy_loss needs at least one sample")
    losses = []
    for i, (row, target) in enumerate(zip(rows, classes)):
        if isinstance(row, Value) or not hasattr(row, "__len__"):
            raise TypeError(
                f"cross_entropy_loss takes one list of class logits per sample; sample {i} is a {type(row).__name__}"
            )
        losses.append(autodiff.logsumexp(row) - _target_logit(row, target, i))
    return _mean(losses)


def _target_logit(row: Sequence[Value], target: int | Value, sample: int) -> Value:
    if isinstance(target, Value):  # known when the graph runs: a pick node checks it then
        try:
            return autodiff.pick(row, target)
        except ValueError as error:
            raise ValueError(f"cross_entropy_loss sample {sample}: {error}") from None
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) or not 0 <= target < len(row):
        raise ValueError(f"sample {sample}: target {target!r} is not a class index in 0..{len(row) - 1}")
    return row[int(target)]


def _pairs(preds, targets, who, targets_in=None):
    one_number = isinstance(targets, (Value, numbers.Real)) and not isinstance(targets, (bool, np.bool_))
    if isinstance(preds, Value):  # one sample, as a 0-d tensor and its target in PyTorch
        preds = [preds]
        targets = [targets] if one_number else targets
    preds = sized(preds, "the predictions", who, "one Value per sample", one_sample_fix=False)
    if one_number and len(preds) > 1:
        raise TypeError(
            f"{who}: targets must be a list, one number per sample, got {described(targets)} "
            f"for {len(preds)} predictions; the same target for each: "
            f"[{'t' if isinstance(targets, Value) else repr(targets)}] * {len(preds)}"
        )
    targets = sized(targets, "targets", who, "one number per sample")
    if len(preds) != len(targets):
        raise ValueError(f"{who} got {len(preds)} predictions but {len(targets)} targets")
    if len(preds) == 0:
        raise ValueError(f"{who} needs at least one sample")
    for i, p in enumerate(preds):
        if not isinstance(p, Value):
            raise TypeError(f"{who} takes one Value per sample; prediction {i} is {described(p)}")
    checked: list[float | Value] = []
    for i, t in enumerate(targets):
        if isinstance(t, Value):  # a per-sample input of a compiled program: known at run time
            checked.append(t)
            continue
        if isinstance(t, (list, tuple, np.ndarray)) and np.size(t) == 1:
            raise TypeError(
                f"{who}: targets must be one number per sample, got a column (target {i} is "
                f"{described(t)}); flatten it: [t[0] for t in targets], or np.ravel(targets)"
            )
        if isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"{who}: targets must be numbers or Values, one per sample; target {i} is {described(t)}")
        if targets_in and not targets_in[0] <= t <= targets_in[1]:
            raise ValueError(f"{who} targets lie in [{targets_in[0]:g}, {targets_in[1]:g}], got {t!r} for sample {i}")
        checked.append(float(t))
    return preds, checked


def _mean(losses: list[Value]) -> Value:
    if len(losses) == 1:  # the mean of one sample is itself: no sum or division nodes
        return losses[0]
    return autodiff.sum(losses) / len(losses)
