"""Side-by-side timings of autodiff and its peers, all measured in this one run.

    ./scripts/bench            (or: .venv/bin/python benchmarks/run.py [--quick])

Each workload checks that every engine computes the same loss (or output and
gradient) from the same weights, to 1e-9, and prints medians and the speed-up over
micrograd.
The two-moons engines are timed in turns, so that the machine's slow spells fall on
all of them alike.
Peers: micrograd 0.1.0, PyTorch with one 0-d tensor per scalar, PyTorch on batched
tensors (one thread), a hand-written numpy forward/backward, and autodiff, scalar and
compiled (batched).
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

import autodiff  # noqa: E402
from scalar_engine import micrograd_style_step  # noqa: E402
import nn  # noqa: E402
from autodiff import Value  # noqa: E402

try:
    import micrograd.engine
    import micrograd.nn
except ImportError:
    micrograd = None
try:
    import torch
except ImportError:
    torch = None

Row = tuple[str, "float | str"]  # engine, seconds (or why it has none)


# --- timing ----------------------------------------------------------------------------
def median_time_and_result(step: Callable[[], object], repeats: int, warmup: int = 2) -> tuple[float, object]:
    """The median seconds of ``repeats`` runs of ``step``, and what its last run returned."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def interleaved_medians(steps: dict[str, Callable[[], object]], rounds: int, block: int) -> dict[str, float]:
    """Median seconds per step of each engine, timed in turns: every round runs a block of
    steps of each engine in a row, so that a slow spell of the machine (a shared virtual
    machine has them) falls on all of them alike and the ratios stay fair. A block is
    long enough to be timed as a training loop runs, step after step of one engine: the
    first step after another engine's runs with that engine's data in the caches."""
    for step in steps.values():
        step(), step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(block):
                step()
            times[name].append((time.perf_counter() - start) / block)
    return {name: statistics.median(t) for name, t in times.items()}


def check_same(name: str, losses: dict[str, float]) -> None:
    reference = next(iter(losses.values()))
    for engine, loss in losses.items():
        if not math.isclose(loss, reference, rel_tol=1e-9, abs_tol=1e-12):
            raise SystemExit(f"{name}: {engine} computes loss {loss!r}, not {reference!r}: the engines disagree")


# --- the two-moons step ------------------------------------------------------------------
def moons_weights() -> tuple[list[list[list[float]]], list[list[float]]]:
    """The weights of nn.MLP(2, [16, 16, 1], seed=0), per layer: W (out x in) and b."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    return ([[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers],
            [[n.b.data for n in layer.neurons] for layer in model.layers])


def moons_ours_scalar(X, y, lr):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    opt = nn.SGD(params, lr=lr)
    rows, targets = X.tolist(), y.tolist()

    def step():
        loss = nn.hinge_loss([model(x) for x in rows], targets) + 1e-4 * autodiff.dot(params, params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    return step


def moons_ours_compiled(X, y, lr):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    x0, x1, t = Value(0.0), Value(0.0), Value(0.0)
    program = autodiff.compile(nn.hinge_loss([model([x0, x1])], [t]) + 1e-4 * autodiff.dot(params, params), [x0, x1, t])
    opt = nn.SGD(params, lr=lr)
    a, b = X[:, 0].copy(), X[:, 1].copy()

    def step():
        losses = program(a, b, y)
        opt.zero_grad()
        program.backward()
        opt.step()
        return float(losses.mean())

    return step


def moons_micrograd(X, y, lr):
    W, B = moons_weights()
    model = micrograd.nn.MLP(2, [16, 16, 1])
    for layer, w_rows, biases in zip(model.layers, W, B):
        for neuron, row, bias in zip(layer.neurons, w_rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    params = model.parameters()
    rows, targets = X.tolist(), y.tolist()
    return micrograd_style_step(model, micrograd.engine.Value, params, rows, targets, lr)


def moons_torch_scalar(X, y, lr):
    W, B = moons_weights()
    layers = [([[torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in row] for row in w],
               [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in b]) for w, b in zip(W, B)]
    params = [p for w, b in layers for row in w for p in row] + [p for _, b in layers for p in b]
    rows = [[torch.tensor(v, dtype=torch.float64) for v in x] for x in X.tolist()]
    targets = y.tolist()

    def forward(x):
        for i, (w, b) in enumerate(layers):
            x = [sum((wi * xi for wi, xi in zip(row, x)), bias) for row, bias in zip(w, b)]
            if i < len(layers) - 1:
                x = [torch.relu(v) for v in x]
        return x[0]

    def step():
        losses = [torch.relu(1 - t * forward(x)) for x, t in zip(rows, targets)]
        loss = sum(losses) / len(losses) + 1e-4 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss.item()

    return step


def moons_torch_batched(X, y, lr):
    W, B = moons_weights()
    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W]
    biases = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in B]
    params = weights + biases
    opt = torch.optim.SGD(params, lr=lr)
    tx, ty = torch.tensor(X), torch.tensor(y)

    def step():
        h = tx
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T + b
            if i < len(weights) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - ty * h[:, 0]).mean() + 1e-4 * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def moons_numpy(X, y, lr):
    W, B = moons_weights()
    W1, W2, W3 = (np.array(w) for w in W)
    b1, b2, b3 = (np.array(b) for b in B)
    params = [W1, b1, W2, b2, W3, b3]
    n = len(y)

    def step():
        h1 = X @ W1.T + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2.T + b2
        a2 = np.maximum(h2, 0)
        s = (a2 @ W3.T + b3)[:, 0]
        margin = 1 - y * s
        loss = np.maximum(margin, 0).mean() + 1e-4 * sum((p * p).sum() for p in params)
        ds = np.where(margin > 0, -y, 0.0) / n
        dh2 = (ds[:, None] * W3) * (h2 > 0)
        dh1 = (dh2 @ W2) * (h1 > 0)
        grads = [dh1.T @ X, dh1.sum(0), dh2.T @ a1, dh2.sum(0), ds[None, :] @ a2, ds.sum(keepdims=True)]
        for p, g in zip(params, grads):
            p -= lr * (g + 2e-4 * p)
        return float(loss)

    return step


def two_moons(quick: bool) -> list[Row]:
    from two_moons import make_moons

    X, y = make_moons(seed=0)
    makers = {"ours, scalar": moons_ours_scalar, "ours, compiled": moons_ours_compiled, "numpy by hand": moons_numpy}
    if torch is not None:
        makers |= {"PyTorch, batched (1 thread)": moons_torch_batched, "PyTorch, one tensor per scalar": moons_torch_scalar}
    if micrograd is not None:
        makers["micrograd 0.1.0"] = moons_micrograd
    check_same("two-moons step", {name: make(X, y, 0.0)() for name, make in makers.items()})
    batched = ("ours, compiled", "numpy by hand", "PyTorch, batched (1 thread)")
    fast = interleaved_medians({name: makers[name](X, y, 0.01) for name in batched if name in makers},
                               rounds=5 if quick else 30, block=100)
    slow = interleaved_medians({name: make(X, y, 0.01) for name, make in makers.items() if name not in batched},
                               rounds=2 if quick else 5, block=1)
    medians = fast | slow
    return [(name, medians[name]) for name in makers]


# --- the six-sample network, 10,000 steps ---------------------------------------------------
def six_samples(quick: bool) -> list[Row]:
    import article_six_samples as six

    steps = 1_000 if quick else six.STEPS
    engines: dict[str, Callable[[int], float]] = {
        "ours, scalar": lambda k: _six_ours(six, k),
        "ours, compiled": lambda k: _six_compiled(six, k),
        "numpy by hand": lambda k: float(0.5 * np.mean((six.train_numpy(k)[2] - six.Y) ** 2)),
    }
    if torch is not None:
        engines["PyTorch, batched (1 thread)"] = lambda k: _six_torch(six, k)
    check_same("six-sample network", {name: run(1) for name, run in engines.items()})
    timed = {name: median_time_and_result(lambda: run(steps), 1, warmup=0) for name, run in engines.items()}
    check_same(f"six-sample network after {steps:,} steps", {name: loss for name, (_, loss) in timed.items()})
    rows: list[Row] = [(name, seconds) for name, (seconds, _) in timed.items()]
    rows.append(("micrograd 0.1.0", "no sigmoid or exp in 0.1.0"))
    return rows


def _six_ours(six, steps):
    model, outputs = six.train_engine(steps)
    return float(0.5 * np.mean((np.array(outputs) - six.Y) ** 2))


def _six_compiled(six, steps):
    model = six.build()
    inputs = [Value(0.0) for _ in range(3)]
    target = Value(0.0)
    out = model(inputs)
    program = autodiff.compile(0.5 * (out - target) ** 2, inputs + [target])
    opt = nn.SGD(model.parameters(), lr=six.LEARNING_RATE)
    columns = [six.X[:, i].copy() for i in range(3)] + [six.Y]
    for _ in range(steps):
        losses = program(*columns)
        opt.zero_grad()
        program.backward()
        opt.step()
    return float(losses.mean())


def _six_torch(six, steps):
    hidden, output = (torch.tensor(w, requires_grad=True) for w in six.initial_weights())
    x = torch.cat([torch.ones(len(six.X), 1, dtype=torch.float64), torch.tensor(six.X)], dim=1)
    y = torch.tensor(six.Y)[:, None]
    opt = torch.optim.SGD([hidden, output], lr=six.LEARNING_RATE)
    for _ in range(steps):
        h = torch.sigmoid(x @ hidden)
        out = torch.cat([torch.ones(len(h), 1, dtype=torch.float64), h], dim=1) @ output
        loss = 0.5 * ((out - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


# --- deep and wide graphs --------------------------------------------------------------------
def chain(quick: bool) -> list[Row]:
    n = 100_000 if quick else 1_000_000

    def ours():
        x, factor = Value(1.0), Value(1.0 - 1e-7)
        y = x
        for _ in range(n):
            y = y * factor
        y.backward()
        return x.grad

    timed = {"ours, scalar": median_time_and_result(ours, 3, warmup=0)}
    if torch is not None:
        timed["PyTorch, one tensor per scalar"] = median_time_and_result(lambda: _torch_chain(n), 1, warmup=0)
    check_same("chain (d out / d x)", {name: grad for name, (_, grad) in timed.items()})
    rows: list[Row] = [(name, seconds) for name, (seconds, _) in timed.items()]
    if micrograd is not None:
        rows.insert(1, ("micrograd 0.1.0", _fails(lambda: _micrograd_chain(n))))  # second, as in every table
    return rows


def _micrograd_chain(n):
    x, factor = micrograd.engine.Value(1.0), micrograd.engine.Value(1.0 - 1e-7)
    y = x
    for _ in range(n):
        y = y * factor
    y.backward()


def _torch_chain(n):
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    factor = torch.tensor(1.0 - 1e-7, dtype=torch.float64)
    y = x
    for _ in range(n):
        y = y * factor
    y.backward()
    return x.grad.item()


def wide_sum(quick: bool) -> list[Row]:
    n = 100_000 if quick else 1_000_000
    values = np.random.default_rng(0).normal(size=n).tolist()

    def ours():
        leaves = [Value(v) for v in values]
        total = autodiff.sum(leaves)
        total.backward()
        return total.data, leaves[-1].grad

    def torch_sum():
        leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
        total = torch.stack(leaves).sum()
        total.backward()
        return total.item(), leaves[-1].grad.item()

    timed = {"ours, scalar (one sum node)": median_time_and_result(ours, 3, warmup=1)}
    if torch is not None:
        timed["PyTorch, one tensor per scalar"] = median_time_and_result(torch_sum, 1, warmup=0)
    check_same("sum (the total)", {name: result[0] for name, (_, result) in timed.items()})
    check_same("sum (d total / d leaf)", {name: result[1] for name, (_, result) in timed.items()})
    rows: list[Row] = [(name, seconds) for name, (seconds, _) in timed.items()]
    if micrograd is not None:
        rows.insert(1, ("micrograd 0.1.0",  # second, as in every table
                        _fails(lambda: sum(micrograd.engine.Value(v) for v in values).backward())))
    return rows


def _fails(run: Callable[[], object]) -> float | str:
    limit = sys.getrecursionlimit()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    except RecursionError:
        return f"fails: RecursionError (recursion limit {limit})"


# --- memory ----------------------------------------------------------------------------------
def bytes_per_node(make: Callable[[float], object], n: int = 100_000) -> float:
    a, b = make(2.0), make(3.0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    nodes = [a * b for _ in range(n)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    list_bytes = sys.getsizeof(nodes)
    del nodes
    return (after - before - list_bytes) / n


# --- report ----------------------------------------------------------------------------------
def table(title: str, rows: list[Row]) -> dict[str, float | str]:
    print(f"\n{title}")
    reference = dict(rows).get("micrograd 0.1.0")
    print(f"  {'engine':34} {'median':>12} {'vs micrograd':>14}")
    for name, seconds in rows:
        if isinstance(seconds, str):
            print(f"  {name:34} {seconds}")
            continue
        ratio = f"{reference / seconds:,.1f}x" if isinstance(reference, float) else "-"
        print(f"  {name:34} {_seconds(seconds):>12} {ratio:>14}")
    return dict(rows)


def _seconds(s: float) -> str:
    return f"{s * 1e3:,.3f} ms" if s < 1 else f"{s:,.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller graphs")
    quick = parser.parse_args().quick
    if torch is not None:
        torch.set_num_threads(1)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else "") + (", micrograd 0.1.0" if micrograd else ""))

    moons = table("two-moons step (MLP 2-16-16-1, 100 samples, hinge + 1e-4 L2, forward + backward + SGD)", two_moons(quick))
    table(f"six-sample network, {1_000 if quick else 10_000:,} steps of full-batch gradient descent", six_samples(quick))
    table(f"chain of {100_000 if quick else 1_000_000:,} multiplications, forward + backward", chain(quick))
    table(f"sum of {100_000 if quick else 1_000_000:,} leaves, forward + backward", wide_sum(quick))
    ours_bytes = bytes_per_node(Value)
    print("\nbytes per Value * Value node (tracemalloc, 100,000 nodes)")
    print(f"  {'ours':34} {ours_bytes:12.1f}")
    if micrograd is not None:
        print(f"  {'micrograd 0.1.0':34} {bytes_per_node(micrograd.engine.Value):12.1f}")

    print("\ntargets")
    scalar_speedup = moons["micrograd 0.1.0"] / moons["ours, scalar"] if micrograd else math.nan
    time_vs_numpy = moons["ours, compiled"] / moons["numpy by hand"]
    time_vs_torch = moons["ours, compiled"] / moons["PyTorch, batched (1 thread)"] if torch else math.nan
    checks = [(f"ours, scalar at least 20x micrograd on the two-moons step ({scalar_speedup:.1f}x)", scalar_speedup >= 20),
              ("at most 150 bytes per Value * Value node", ours_bytes <= 150),
              (f"ours, compiled within 2x of numpy by hand on the two-moons step ({time_vs_numpy:.2f}x its time)",
               time_vs_numpy <= 2),
              (f"ours, compiled faster than PyTorch batched on the two-moons step ({time_vs_torch:.2f}x its time)",
               time_vs_torch < 1)]
    for text, met in checks:
        print(f"  {'met    ' if met else 'NOT met'}  {text}")


if __name__ == "__main__":
    main()
