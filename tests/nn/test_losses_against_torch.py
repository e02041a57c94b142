"""Losses against PyTorch float64: values and gradients, including extreme inputs."""

import random

import pytest
import torch
import torch.nn.functional as F

import nn
from autodiff import Value


def near(a, b, rel=1e-9):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def compare(our_loss, torch_loss, predictions, targets, torch_targets=None):
    values = [Value(p) for p in predictions]
    loss = our_loss(values, targets)
    loss.backward()
    t = torch.tensor(predictions, dtype=torch.float64, requires_grad=True)
    expected = torch_loss(t, torch.tensor(targets if torch_targets is None else torch_targets, dtype=torch.float64))
    expected.backward()
    assert near(loss.data, expected.item()), (loss.data, expected.item())
    for v, g in zip(values, t.grad.tolist()):
        assert near(v.grad, g), (v.grad, g)


rng = random.Random(0)


def test_mse():
    compare(nn.mse_loss, F.mse_loss, [rng.uniform(-3, 3) for _ in range(9)], [rng.uniform(-3, 3) for _ in range(9)])


@pytest.mark.parametrize("probs", [
    [0.1, 0.5, 0.9, 0.3, 0.77],
    [0.0, 1.0, 1e-300, 1 - 1e-16, 0.5],  # the clamp at log = -100 and PyTorch's 1e-12 guard
])
def test_bce(probs):
    compare(nn.bce_loss, F.binary_cross_entropy, probs, [0.0, 1.0, 1.0, 0.0, 0.3])


@pytest.mark.parametrize("logits", [[-2.0, 0.0, 0.7, 3.0], [1000.0, -1000.0, 1000.0, -1000.0], [40.0, -40.0, 1e-3, 1e308]])
def test_bce_with_logits(logits):
    compare(nn.bce_with_logits_loss, F.binary_cross_entropy_with_logits, logits, [1.0, 0.0, 0.0, 1.0])


def test_bce_with_logits_is_exact_at_the_extremes():
    assert nn.bce_with_logits_loss([Value(1000.0), Value(-1000.0)], [1.0, 0.0]).data == 0.0
    assert nn.bce_with_logits_loss([Value(-1000.0)], [1.0]).data == 1000.0


def test_hinge():
    scores = [rng.uniform(-2, 2) for _ in range(8)]
    targets = [rng.choice([-1.0, 1.0]) for _ in range(8)]
    compare(nn.hinge_loss, lambda s, t: torch.relu(1 - t * s).mean(), scores, targets)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy(scale):
    logits = [[rng.uniform(-1, 1) * scale for _ in range(4)] for _ in range(5)]
    targets = [rng.randrange(4) for _ in range(5)]
    values = [[Value(x) for x in row] for row in logits]
    loss = nn.cross_entropy_loss(values, targets)
    loss.backward()
    t = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    expected = F.cross_entropy(t, torch.tensor(targets))
    expected.backward()
    assert near(loss.data, expected.item())
    for row, grads in zip(values, t.grad.tolist()):
        assert all(near(v.grad, g) for v, g in zip(row, grads))


@pytest.mark.parametrize("call, message", [
    (lambda: nn.mse_loss([Value(1.0)], [1.0, 2.0]), "1 predictions but 2 targets"),
    (lambda: nn.mse_loss([], []), "at least one sample"),
    (lambda: nn.mse_loss([1.0], [1.0]), "prediction 0 is a float"),
    (lambda: nn.hinge_loss([Value(1.0)], [0.0]), "targets are -1 or \\+1"),
    (lambda: nn.bce_loss([Value(0.5)], [2.0]), "targets lie in \\[0, 1\\]"),
    (lambda: nn.cross_entropy_loss([[Value(1.0), Value(2.0)]], [2]), "not a class index in 0..1"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_bce_of_tiny_probabilities_and_its_target_gradient():
    compare(nn.bce_loss, F.binary_cross_entropy, [1e-10, 1e-20, 0.3], [0.0, 0.0, 0.0])
    for p in (0.0, 0.3, 1.0):
        target = Value(0.5)
        nn.bce_loss([Value(p)], [target]).backward()
        t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        F.binary_cross_entropy(torch.tensor(p, dtype=torch.float64), t).backward()
        assert near(target.grad, t.grad.item()), (p, target.grad, t.grad.item())
