"""Optimizers over a list of Values, each with the update rule of PyTorch's namesake.

Each reads ``p.grad`` and writes ``p.data``; ``state_dict`` / ``load_state_dict`` keep
the step count and per-parameter buffers so that training can resume.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

import autodiff
from autodiff import Value


class Optimizer:
    """What SGD, Adam and AdamW share: the parameters, ``zero_grad``, saved state.

    An update is written once, on arrays: the numbers and gradients of all parameters
    are read in one go (one numpy call for parameters in an ``autodiff.Store``, as an
    ``nn`` model's are), updated together, and written back.
    """

    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__} optimizes Values; parameter {i} is a {type(p).__name__}")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__} got parameter {i} ({p.label or 'unlabelled'}) twice; "
                                 "it would be updated twice")
            seen.add(id(p))
        self._leaves = autodiff.LeafArrays(self.params)
        self.lr = _non_negative(lr, "lr")
        self.steps = 0
        self.state: dict[str, np.ndarray] = {name: np.zeros(len(self.params)) for name in self._buffers}

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        self._leaves.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        """The step count and every buffer, as plain numbers (JSON-ready)."""
        return {"steps": self.steps, **{name: values.tolist() for name, values in self.state.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from ``state_dict()``; checked whole before anything changes."""
        steps = state.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"optimizer state needs a non-negative int 'steps', got {steps!r}")
        buffers = {}
        for name in self._buffers:
            values = state.get(name)
            if not isinstance(values, Sequence) or len(values) != len(self.params):
                raise ValueError(f"optimizer state needs {len(self.params)} numbers in {name!r}")
            buffers[name] = np.array([float(v) for v in values])
        self.steps, self.state = steps, buffers

    def step(self) -> None:
        """One update of every parameter."""
        with np.errstate(all="ignore"):  # an inf or nan gradient gives an inf or nan weight, as in PyTorch
            self._leaves.write_data(self._update(self._leaves.read_data(), self._leaves.read_grad()))
        self.steps += 1

    def _update(self, p: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The parameters' new numbers, from their numbers ``p`` and gradients ``grad``
        (one entry per parameter). Called before ``steps`` counts this update; advances
        the buffers in ``self.state``."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    >>> w = Value(1.0); w.grad = 0.5
    >>> SGD([w], lr=0.1).step(); w.data
    0.95
    """

    _buffers = ("momentum_buffer",)

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: float = 0.0, nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative(momentum, "momentum")
        self.dampening = float(dampening)
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self.nesterov = bool(nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening 0")

    def _update(self, p: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """p - lr * direction: the gradient after weight decay and momentum."""
        direction = grad + self.weight_decay * p if self.weight_decay else grad
        if self.momentum:
            buffer = self.state["momentum_buffer"]
            buffer[:] = direction if self.steps == 0 else self.momentum * buffer + (1 - self.dampening) * direction
            direction = direction + self.momentum * buffer if self.nesterov else buffer
        return p - self.lr * direction


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), as ``torch.optim.Adam``.

    >>> w = Value(1.0); w.grad = 0.5
    >>> Adam([w], lr=0.1).step(); round(w.data, 6)
    0.9
    """

    _buffers = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(
        self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _non_negative(eps, "eps")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def _update(self, p: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """One Adam update, in the order of operations PyTorch uses."""
        beta1, beta2 = self.betas
        t = self.steps + 1
        step_size = self.lr / (1 - beta1**t)
        correction2_sqrt = math.sqrt(1 - beta2**t)
        if self.weight_decay and self._decoupled:
            p = p * (1 - self.lr * self.weight_decay)
        elif self.weight_decay:
            grad = grad + self.weight_decay * p
        exp_avg, exp_avg_sq = self.state["exp_avg"], self.state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denominator = np.sqrt(exp_avg_sq) / correction2_sqrt + self.eps
        return p - step_size * (exp_avg / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before each step.

    >>> w = Value(1.0); w.grad = 0.0
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step(); w.data
    0.95
    """

    _decoupled = True

    def __init__(
        self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def _non_negative(x: float, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not x >= 0 or math.isinf(x):
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return float(x)
