"""zero_grad(set_to_none=True), the PyTorch habit: gradients become None ("no gradient
yet"), a backward pass starts them from 0, and a step before one refuses."""

import pytest

import nn
from autodiff import Value



def test_optimizer_and_model_set_gradients_to_none_and_backward_starts_from_zero():
    w, b = Value(0.5), Value(-1.0)
    opt = nn.SGD([w, b], lr=0.1)
    w.grad, b.grad = 7.0, 7.0
    opt.zero_grad(set_to_none=True)
    assert w.grad is None and b.grad is None
    loss = (w * 3.0 + b - 2.0) ** 2  # d/dw = 2 (3w + b - 2) 3, d/db = 2 (3w + b - 2)
    loss.backward()
    residual = 3.0 * 0.5 - 1.0 - 2.0
    assert w.grad == pytest.approx(6.0 * residual, rel=1e-15)
    assert b.grad == pytest.approx(2.0 * residual, rel=1e-15)


def test_a_step_before_any_backward_refuses_after_set_to_none():
    w = Value(0.5)
    opt = nn.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=True)
    with pytest.raises((TypeError, ValueError), match="grad"):
        opt.step()
    assert w.data == 0.5


def test_module_zero_grad_set_to_none_reaches_every_parameter():
    model = nn.MLP(2, [3, 1])
    for p in model.parameters():
        p.grad = 1.0
    model.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_set_to_none_must_be_a_bool():
    with pytest.raises(TypeError, match="set_to_none"):
        nn.SGD([Value(1.0)], lr=0.1).zero_grad(set_to_none="yes")
