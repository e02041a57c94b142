"""Optimizers over a list of Values, each with the update rule of PyTorch's namesake.

Each reads ``p.grad`` and writes ``p.data``; ``state_dict`` / ``load_state_dict`` keep
the step count and per-parameter buffers so that training can resume.

A step is applied whole or not at all: the new numbers and buffers are computed without
changing anything, then written in one short block during which Ctrl-C waits (see
``interrupts_held``), so a KeyboardInterrupt never leaves weights and buffers from two
different steps.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the C module signal wraps (see interrupts_held): no stub
import contextlib
import math
import numbers
import signal
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

import autodiff
from autodiff import Value
from autodiff.arguments import bounded_number, described, flag, values_list


class Optimizer:
    """What SGD, Adam and AdamW share: the parameters, ``zero_grad``, saved state.

    An update is written once, on arrays: the numbers and gradients of all parameters
    are read into flat arrays (``autodiff.LeafArrays``), updated together with a few
    numpy calls, and written back; the buffers (momentum, Adam's averages) are the
    optimizer's own flat arrays.
    """

    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = values_list(params, "params", type(self).__name__)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if id(p) in seen:
                raise ValueError(
                    f"{type(self).__name__} got parameter {i} ({p.label or 'unlabelled'}) twice; "
                    "it would be updated twice"
                )
            seen.add(id(p))
        self._leaves = autodiff.LeafArrays(self.params)
        self.lr = _non_negative(lr, "lr")
        self.steps = 0
        self.state: dict[str, np.ndarray] = {name: np.zeros(len(self.params)) for name in self._buffers}

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's gradient to 0; with ``set_to_none``, to ``None`` ("no
        gradient yet", PyTorch's default; ours is 0 so that ``.grad`` reads as a number).
        A backward pass then starts those gradients from 0; ``step()`` before one refuses.

        >>> w = Value(1.0); w.grad = 2.0; opt = SGD([w], lr=0.1)
        >>> opt.zero_grad(set_to_none=True); print(w.grad)
        None
        """
        self._leaves.zero_grad(set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """The step count and every buffer, as plain numbers (JSON-ready)."""
        return {"steps": self.steps, **{name: values.tolist() for name, values in self.state.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from ``state_dict()``.

        Everything is checked before anything changes: the keys, ``steps`` (an int >= 0),
        each buffer (one finite number per parameter; ``exp_avg_sq``, a mean of squares,
        never negative), and that a state of 0 steps has all-zero buffers, as a fresh
        optimizer's. Any fault raises ``ValueError`` naming the key and index, and leaves
        the optimizer as it was.

        >>> opt = SGD([Value(1.0)], lr=0.1, momentum=0.9)
        >>> opt.load_state_dict({"steps": 1, "momentum_buffer": [float("nan")]})
        Traceback (most recent call last):
        ValueError: optimizer state 'momentum_buffer'[0] is nan; only finite numbers can be loaded
        >>> opt.steps
        0
        """
        steps, buffers = self._checked_state(state)
        with interrupts_held():
            self.steps, self.state = steps, buffers

    def step(self) -> None:
        """One update of every parameter, applied whole or not at all (see the module doc).

        An inf or nan gradient gives an inf or nan weight, as in PyTorch; ``nn.fit``
        refuses such a step instead.
        """
        _, data, state = self._proposal()
        self._commit(data, state)

    def _proposal(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The gradients read, and the new numbers and buffers a step would write: changes nothing."""
        try:
            grad = self._leaves.read_grad()
        except ValueError as error:
            missing = [i for i, p in enumerate(self.params) if p.grad is None]
            if not missing:
                raise ValueError(f"{type(self).__name__}.step: {error}".replace("leaf", "parameter")) from None
            p = self.params[missing[0]]
            raise ValueError(
                f"{type(self).__name__}.step: parameter {missing[0]} ({p.label or 'unlabelled'}) has no "
                f"gradient yet (its .grad is None{f', as have {len(missing) - 1} more' if len(missing) > 1 else ''}): "
                "run loss.backward() through it before step(). PyTorch's optimizers skip such a "
                "parameter; these update every parameter at every step (one shared step count), so "
                "leave a parameter you mean to freeze out of the optimizer's list"
            ) from None
        with np.errstate(all="ignore"):
            data, state = self._update(self._leaves.read_data(), grad)
        return grad, data, state

    def _commit(self, data: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Write a proposed step: numbers, buffers and step count together."""
        with interrupts_held():
            self._leaves.write_data(data)
            self.state = state
            self.steps += 1

    def _update(self, p: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The parameters' new numbers and the new buffers, from their numbers ``p`` and
        gradients ``grad`` (one entry per parameter) and ``self.state``, which it reads
        only: nothing changes until the step is committed. ``self.steps`` does not count
        this update yet."""
        raise NotImplementedError

    _never_negative: tuple[str, ...] = ()  # buffers that hold means of squares

    def _checked_state(self, state: Any) -> tuple[int, dict[str, np.ndarray]]:
        """``state`` as (steps, buffers), or a ``ValueError`` naming the first fault."""
        if not isinstance(state, Mapping):
            raise ValueError(f"optimizer state is a dict of 'steps' and buffers, got {type(state).__name__}")
        expected = ("steps", *self._buffers)
        for key in expected:
            if key not in state:
                raise ValueError(f"optimizer state has no {key!r}; {type(self).__name__} keeps {', '.join(expected)}")
        for key in state:
            if key not in expected:
                raise ValueError(
                    f"optimizer state has {key!r}, which {type(self).__name__} does not keep "
                    f"(it keeps {', '.join(expected)})"
                )
        steps = _step_count(state["steps"])
        buffers = {name: self._checked_buffer(name, state[name]) for name in self._buffers}
        if steps == 0:  # a fresh optimizer's buffers are zeros; anything else was not saved by one
            for name, values in buffers.items():
                nonzero = np.flatnonzero(values)
                if nonzero.size:
                    i = int(nonzero[0])
                    raise ValueError(
                        f"optimizer state has 'steps' 0 but {name!r}[{i}] is {values[i].item()!r}: "
                        "an optimizer that has taken no step has all-zero buffers"
                    )
        return steps, buffers

    def _checked_buffer(self, name: str, values: Any) -> np.ndarray:
        n = len(self.params)
        if isinstance(values, np.ndarray) and values.ndim == 1:
            values = values.tolist()
        if not isinstance(values, (list, tuple)):
            raise ValueError(f"optimizer state {name!r} must be a list of {n} numbers, got {type(values).__name__}")
        if len(values) != n:
            raise ValueError(f"optimizer state needs {n} numbers in {name!r}, one per parameter, got {len(values)}")
        for i, v in enumerate(values):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                raise ValueError(f"optimizer state {name!r}[{i}] must be a number, got {type(v).__name__}")
            if not math.isfinite(v):
                raise ValueError(f"optimizer state {name!r}[{i}] is {float(v)!r}; only finite numbers can be loaded")
            if name in self._never_negative and v < 0:
                raise ValueError(
                    f"optimizer state {name!r}[{i}] is {float(v)!r}, but it is a mean of squares: never negative"
                )
        return np.array(values, dtype=float)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    >>> w = Value(1.0); w.grad = 0.5
    >>> SGD([w], lr=0.1).step(); w.data
    0.95
    """

    _buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative(momentum, "momentum")
        self.dampening = bounded_number(dampening, "dampening", "SGD")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self.nesterov = flag(nesterov, "nesterov", "SGD")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening 0")

    def _update(self, p: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """p - lr * direction: the gradient after weight decay and momentum."""
        direction = grad + self.weight_decay * p if self.weight_decay else grad
        if not self.momentum:
            return p - self.lr * direction, self.state
        previous = self.state["momentum_buffer"]
        buffer = direction if self.steps == 0 else self.momentum * previous + (1 - self.dampening) * direction
        direction = direction + self.momentum * buffer if self.nesterov else buffer
        return p - self.lr * direction, {"momentum_buffer": buffer}


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), as ``torch.optim.Adam``.

    >>> w = Value(1.0); w.grad = 0.5
    >>> Adam([w], lr=0.1).step(); round(w.data, 6)
    0.9
    """

    _buffers = ("exp_avg", "exp_avg_sq")
    _never_negative = ("exp_avg_sq",)
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(
                f"{type(self).__name__}: betas must be a pair of numbers in [0, 1), such as "
                f"(0.9, 0.999), got {described(betas)}"
            )
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
                raise ValueError(f"{type(self).__name__}: {name} must be a number in [0, 1), got {described(beta)}")
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _non_negative(eps, "eps")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")

    def _update(self, p: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
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
        exp_avg = exp_avg + (1 - beta1) * (grad - exp_avg)  # new arrays: the old stay until the commit
        exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * grad * grad
        denominator = np.sqrt(exp_avg_sq) / correction2_sqrt + self.eps
        return p - step_size * (exp_avg / denominator), {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before each step.

    >>> w = Value(1.0); w.grad = 0.0
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step(); w.data
    0.95
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """A block that Ctrl-C does not cut in two: a SIGINT that arrives during it is held
    and delivered (to the handler there was before) as soon as the block ends.

    Python may raise KeyboardInterrupt between any two bytecodes, so writing several
    things that must agree (weights, buffers, a step count) is only safe while SIGINT
    waits. Signals reach only the main thread, so elsewhere this does nothing; nor does
    it where Python does not own the SIGINT handler.

    >>> with interrupts_held():
    ...     weights, steps = [0.5], 1
    """
    # _signal is the C module that signal wraps: the same calls without the wrapper's enum
    # conversions, which cost 10 µs a step, a tenth of a compiled training step.
    if threading.current_thread() is not threading.main_thread() or _signal.getsignal(signal.SIGINT) is None:
        yield
        return
    held: list[int] = []
    previous = _signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        _signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)


def _step_count(steps: Any) -> int:
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, numbers.Integral):
        raise ValueError(f"optimizer state 'steps' must be an int, got {type(steps).__name__}")
    if not 0 <= steps < 2**63:  # type: ignore[operator]  # numbers.Integral compares with int; its stub does not say so
        # (2**63: more than any run takes; from 2**1024 on, beta ** steps overflows)
        shown = steps if abs(int(steps)) < 2**64 else f"an int of {int(steps).bit_length()} bits"
        raise ValueError(f"optimizer state 'steps' must be a count of steps in [0, 2**63), got {shown}")
    return int(steps)


def _non_negative(x: float, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not x >= 0 or math.isinf(x):
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return float(x)
