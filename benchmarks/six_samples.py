"""The six-sample network of the backprop article (examples/article_six_samples.py):
10,000 steps of full-batch gradient descent, ours scalar and compiled beside numpy and
PyTorch. micrograd 0.1.0 has no sigmoid, so it sits this one out.
"""

from __future__ import annotations

import time

from timing import by_scale, check_same, measure_this_checkout

measure_this_checkout()  # its autodiff, nn and examples

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
import nn  # noqa: E402
from autodiff import Value  # noqa: E402

import article_six_samples as six  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def ours_scalar(steps: int) -> float:
    _, outputs = six.train_engine(steps)
    return float(0.5 * np.mean((np.array(outputs) - six.Y) ** 2))


def ours_compiled(steps: int) -> float:
    model = six.build()
    inputs, target = [Value(0.0) for _ in range(3)], Value(0.0)
    program = autodiff.compile(0.5 * (model(inputs) - target) ** 2, inputs + [target])
    optimizer = nn.SGD(model.parameters(), lr=six.LEARNING_RATE)
    columns = [six.X[:, i].copy() for i in range(3)] + [six.Y]
    for _ in range(steps):
        losses = program(*columns)
        optimizer.zero_grad()
        program.backward()
        optimizer.step()
    return float(losses.mean())


def numpy_by_hand(steps: int) -> float:
    return float(0.5 * np.mean((six.train_numpy(steps)[2] - six.Y) ** 2))


def torch_batched(steps: int) -> float:
    hidden, output = (torch.tensor(w, requires_grad=True) for w in six.initial_weights())
    x = torch.cat([torch.ones(len(six.X), 1, dtype=torch.float64), torch.tensor(six.X)], dim=1)
    y = torch.tensor(six.Y)[:, None]
    optimizer = torch.optim.SGD([hidden, output], lr=six.LEARNING_RATE)
    for _ in range(steps):
        h = torch.sigmoid(x @ hidden)
        out = torch.cat([torch.ones(len(h), 1, dtype=torch.float64), h], dim=1) @ output
        loss = 0.5 * ((out - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def run(scale: str) -> dict[str, float]:
    steps = by_scale(scale, six.STEPS, 1_000, 10)
    engines = {"ours, scalar": ours_scalar, "ours, compiled + nn.SGD": ours_compiled, "numpy by hand": numpy_by_hand}
    if torch is not None:
        engines["PyTorch, batched (1 thread)"] = torch_batched
    check_same("six-sample network, one step", {name: train(1) for name, train in engines.items()})
    seconds, losses = {}, {}
    for name, train in engines.items():
        start = time.perf_counter()
        losses[name] = train(steps)
        seconds[name] = time.perf_counter() - start
    check_same(f"six-sample network after {steps:,} steps", losses)
    print(f"\nsix-sample network, {steps:,} steps of full-batch gradient descent (one run each; "
          "micrograd 0.1.0 has no sigmoid)")
    for name, s in seconds.items():
        print(f"  {name:38} {s:8.2f} s")
    return {f"six {name}": s for name, s in seconds.items()}
