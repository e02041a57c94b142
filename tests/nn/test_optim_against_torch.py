"""Optimizers against PyTorch's: the same parameters after 200 steps, to 1e-9."""

import math

import pytest
import torch

import nn
from autodiff import Value

CONFIGS = [
    (nn.SGD, torch.optim.SGD, {"lr": 0.05}),
    (nn.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (nn.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (nn.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    (nn.Adam, torch.optim.Adam, {"lr": 0.01}),
    (nn.Adam, torch.optim.Adam, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (nn.AdamW, torch.optim.AdamW, {"lr": 0.01}),
    (nn.AdamW, torch.optim.AdamW, {"lr": 0.02, "weight_decay": 0.3}),
]


def loss_of(p, math_):
    # A non-quadratic function of three parameters, so that every buffer matters.
    return (p[0] - 1.5) ** 2 + math_.sin(p[1] * p[2]) + 0.1 * p[2] ** 4


@pytest.mark.parametrize("ours, theirs, options", CONFIGS)
def test_two_hundred_steps_match_pytorch(ours, theirs, options):
    start = [0.3, -1.2, 0.8]
    params = [Value(x) for x in start]
    opt = ours(params, **options)
    t = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    t_opt = theirs([t], **options)
    for _ in range(200):
        opt.zero_grad()
        loss = (params[0] - 1.5) ** 2 + (params[1] * params[2]).sin() + 0.1 * params[2] ** 4
        loss.backward()
        opt.step()
        t_opt.zero_grad()
        loss_of(t, torch).backward()
        t_opt.step()
    for p, expected in zip(params, t.tolist()):
        assert p.data == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("ours, _, options", CONFIGS)
def test_state_dict_resumes_training_exactly(ours, _, options):
    def train(steps, opt, params):
        for _ in range(steps):
            opt.zero_grad()
            ((params[0] - 1.0) ** 2 * params[1].exp()).backward()
            opt.step()

    straight = [Value(0.5), Value(-0.3)]
    train(20, ours(straight, **options), straight)
    resumed = [Value(0.5), Value(-0.3)]
    first = ours(resumed, **options)
    train(10, first, resumed)
    second = ours(resumed, **options)
    second.load_state_dict(first.state_dict())
    train(10, second, resumed)
    assert [p.data for p in resumed] == [p.data for p in straight]


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="lr must be"):
        nn.SGD([Value(1.0)], lr=-1)
    with pytest.raises(ValueError, match="no parameters"):
        nn.Adam([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value, got a float"):
        nn.SGD([1.0], lr=0.1)
    w = Value(1.0)
    with pytest.raises(ValueError, match="got parameter 1 \\(unlabelled\\) twice"):
        nn.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        nn.SGD([Value(1.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        nn.Adam([Value(1.0)], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="needs 1 numbers in 'exp_avg'"):
        nn.Adam([Value(1.0)]).load_state_dict({"steps": 3, "exp_avg": [], "exp_avg_sq": [0.0]})
    assert math.isfinite(nn.Adam([Value(1.0)]).lr)
