"""The digits workload: an MLP 64-32-10 (relu, then linear logits), cross-entropy with
the class index as a per-sample input, plain SGD on minibatches of 32.

Ours compiled (``nn.cross_entropy_loss`` with a ``Value`` target, which compiles to a
pick node) against the fastest plain numpy step we know: forward, softmax's gradient,
backward and update, no loss value. Data: scikit-learn's 8x8 digits (1,797 images,
pixels scaled to [0, 1]) when scikit-learn is installed, else a generated set of the
same shape.
"""

from __future__ import annotations

from timing import Step, by_scale, check_same, in_turns, measure_this_checkout

measure_this_checkout()  # its autodiff and nn

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
import nn  # noqa: E402
from autodiff import Value  # noqa: E402

BATCH = 32
LR = 0.1
CHECKED_STEPS = 3


def digits_data() -> tuple[np.ndarray, np.ndarray, str]:
    """Images (N x 64, in [0, 1]), labels (N, as floats: a compiled program's input),
    and where they come from."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, 1797)
        centers = rng.uniform(0, 1, (10, 64))
        images = np.clip(centers[labels] + rng.normal(0, 0.2, (1797, 64)), 0, 1)
        return images, labels.astype(float), "generated (scikit-learn not installed): 1,797 noisy 8x8 class centers"
    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(float), "scikit-learn's 8x8 digits, 1,797 images"


def batches(X: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """One epoch's minibatches in a fixed shuffled order: (images as 64 x B columns, labels)."""
    order = np.random.default_rng(0).permutation(len(y))
    return [(np.ascontiguousarray(X[order[i:i + BATCH]].T), y[order[i:i + BATCH]])
            for i in range(0, len(y) - BATCH + 1, BATCH)]


def ours_compiled(data, read_loss):
    model = nn.MLP(64, [32, 10], seed=0)
    pixels, label = [Value(0.0) for _ in range(64)], Value(0.0)
    program = autodiff.compile(nn.cross_entropy_loss([model(pixels)], [label]), pixels + [label])
    optimizer = nn.SGD(model.parameters(), lr=LR)
    position = [0]

    def step():
        columns, labels = data[position[0] % len(data)]
        position[0] += 1
        losses = program(*columns, labels)
        optimizer.zero_grad()
        program.backward()
        optimizer.step()
        return float(losses.mean()) if read_loss else None

    return Step(step)


def numpy_by_hand(data, read_loss):
    model = nn.MLP(64, [32, 10], seed=0)
    params = [array for layer in model.layers for array in
              (np.array([[w.data for w in n.w] for n in layer.neurons]), np.array([n.b.data for n in layer.neurons]))]
    position = [0]
    rows = np.arange(BATCH)

    def step():
        W1, b1, W2, b2 = params  # updated in place
        Xt, labels = data[position[0] % len(data)]
        position[0] += 1
        h = W1 @ Xt
        h += b1[:, None]
        np.maximum(h, 0, out=h)
        z = W2 @ h
        z += b2[:, None]
        z -= z.max(0)
        p = np.exp(z)
        p /= p.sum(0)
        target = labels.astype(np.intp)
        loss = float(-np.log(p[target, rows]).mean()) if read_loss else None
        p[target, rows] -= 1.0
        p /= BATCH
        dh = W2.T @ p
        dh *= h > 0
        W2 -= LR * (p @ h.T)
        b2 -= LR * p.sum(1)
        W1 -= LR * (dh @ Xt.T)
        b1 -= LR * dh.sum(1)
        return loss

    return Step(step)


ENGINES = {"ours, compiled + nn.SGD": ours_compiled, "numpy by hand (no loss)": numpy_by_hand}


def run(scale: str) -> dict[str, float]:
    X, y, source = digits_data()
    data = batches(X, y)[:by_scale(scale, None, None, 3)]
    print(f"\ndigits: MLP 64-32-10, cross-entropy (class index as a per-sample input), SGD on minibatches "
          f"of {BATCH}\n  data: {source}")
    losses = {}
    for name, make in ENGINES.items():
        step = make(data, True)
        losses[name] = [step.run() for _ in range(CHECKED_STEPS)]
    for k in range(CHECKED_STEPS):
        check_same(f"digits loss at step {k + 1}", {name: values[k] for name, values in losses.items()})
    timings = in_turns({name: make(data, False) for name, make in ENGINES.items()},
                       rounds=by_scale(scale, 25, 5, 1), block=len(data))
    for name, timing in timings.items():
        print(f"  {name:38} {timing}")
    return {name: timing.median for name, timing in timings.items()}
