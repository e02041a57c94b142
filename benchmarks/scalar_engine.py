"""The scalar engine against micrograd: time per node, backward's memory, the two-moons step.

    .venv/bin/python benchmarks/scalar_engine.py nodes [--sizes 1000 10000 ...]
    .venv/bin/python benchmarks/scalar_engine.py memory [--n 1000000]
    .venv/bin/python benchmarks/scalar_engine.py moons [--runs 3]

``nodes``: build and back-propagate a random DAG of + * tanh exp, and a chain of the same
ops, at each size; the engines run in turns in this one process (a full collection
before each run, untimed, so that neither pays for the other's garbage), and the table
gives medians in ns per node. micrograd keeps its collector on, as its users run it, and
its recursion limit is raised so that its recursive topological sort reaches every size.

``memory``: backward's peak memory above the graph, in bytes per node (tracemalloc).

``moons``: the two-moons step written as a micrograd user writes it (MLP 2-16-16-1, 100
samples, hinge loss plus ``1e-4 * sum(p * p for p in params)``, ``p.data -= lr * p.grad``),
each engine in a fresh process of its own, in turns; it prints each engine's range over
the runs, and micrograd's share of time in its collector.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))


try:
    import micrograd.engine
    import micrograd.nn
except ImportError:
    micrograd = None
else:
    def _micrograd_unary(name, forward, derivative):
        """An op micrograd 0.1.0 lacks, written as its lecture writes tanh and exp: a
        closure per node, as micrograd's relu."""
        def method(self):
            out = micrograd.engine.Value(forward(self.data), (self,), name)

            def _backward():
                self.grad += derivative(self.data, out.data) * out.grad
            out._backward = _backward
            return out
        setattr(micrograd.engine.Value, name, method)

    _micrograd_unary("tanh", math.tanh, lambda x, t: 1 - t * t)
    _micrograd_unary("exp", math.exp, lambda x, e: e)

ADD, MUL, TANH, EXP = range(4)


# --- the graphs ----------------------------------------------------------------------------
def dag_recipe(n: int, seed: int = 0) -> tuple[list[float], list[tuple[int, int, int]]]:
    """Leaves' numbers and, per op node, (op, i, j): its operands' positions among the nodes
    made before it. Each node takes the one before it (so the output depends on every
    node) and, for + and *, one picked at random among the 64 before; exp follows a tanh
    and * takes a bounded second operand (a leaf, tanh or exp), so no number overflows."""
    rng = random.Random(seed)
    leaves = [rng.uniform(-1, 1) for _ in range(16)]
    bounded = list(range(len(leaves)))
    recipe = []
    previous = ADD
    for k in range(len(leaves), n):
        op = rng.choice((ADD, MUL, TANH, EXP))
        if op == EXP and previous != TANH:
            op = TANH
        if op == MUL:
            j = bounded[max(0, len(bounded) - rng.randint(1, 64))]
        else:
            j = max(0, k - rng.randint(1, 64))
        recipe.append((op, k - 1, j))
        if op in (TANH, EXP):
            bounded.append(k)
        previous = op
    return leaves, recipe


def chain_recipe(n: int) -> tuple[list[float], list[tuple[int, int, int]]]:
    """A chain: x + c, * c, tanh, exp, again and again (c a leaf)."""
    recipe = []
    for k in range(2, n):
        op = (ADD, MUL, TANH, EXP)[k % 4]
        recipe.append((op, k - 1, 0))
    return [0.5, 0.25], recipe


def run(make, leaves: list[float], recipe: list[tuple[int, int, int]]) -> float:
    """Build the graph with ``make`` (the engine's Value), back-propagate from the last
    node; the first leaf's gradient."""
    nodes = [make(x) for x in leaves]
    append = nodes.append
    for op, i, j in recipe:
        if op == ADD:
            append(nodes[i] + nodes[j])
        elif op == MUL:
            append(nodes[i] * nodes[j])
        elif op == TANH:
            append(nodes[i].tanh())
        else:
            append(nodes[i].exp())
    nodes[-1].backward()
    return nodes[0].grad


def nodes_table(sizes: list[int], budget: float, baseline: str | None) -> None:
    from autodiff import Value

    sys.setrecursionlimit(10_000_000)  # micrograd's topological sort recurses once per level
    engines = {"ours": Value}
    if baseline:  # a copy of another checkout's autodiff, renamed: DIR/PACKAGE
        directory, package = baseline.rsplit("/", 1)
        sys.path.insert(0, directory)
        engines[package] = __import__(package).Value
    if micrograd is not None:
        engines["micrograd"] = micrograd.engine.Value
    print(f"{'graph':>6} {'nodes':>9} " + " ".join(f"{name:>10}" for name in engines) + "  ours/micrograd  (ns per node, medians)")
    ours_smallest = {}
    for kind, recipe_of in (("dag", dag_recipe), ("chain", chain_recipe)):
        for n in sizes:
            leaves, recipe = recipe_of(n)
            repeats = max(3, min(40, int(budget * 1e6 / n)))
            times: dict[str, list[float]] = {name: [] for name in engines}
            grads = {}
            names = list(engines)
            for round_ in range(repeats):
                for name in names[round_ % len(names):] + names[:round_ % len(names)]:  # each goes first in turn
                    make = engines[name]
                    gc.collect()
                    start = time.perf_counter()
                    grads[name] = run(make, leaves, recipe)
                    times[name].append(time.perf_counter() - start)
            gc.collect()
            if any(abs(g - grads["ours"]) > 1e-9 * abs(grads["ours"]) for g in grads.values()):
                raise SystemExit(f"{kind} {n}: the engines disagree: {grads}")
            ns = {name: statistics.median(t) / n * 1e9 for name, t in times.items()}
            # the ratio of the medians; and the median of each round's ratio (a slow spell of
            # a shared machine falls on both engines of a round alike)
            ratio = ns["ours"] / ns["micrograd"] if "micrograd" in ns else float("nan")
            per_round = (statistics.median(o / m for o, m in zip(times["ours"], times["micrograd"]))
                         if "micrograd" in ns else float("nan"))
            ours_smallest.setdefault(kind, ns["ours"])
            print(f"{kind:>6} {n:>9,} " + " ".join(f"{ns[name]:>10,.0f}" for name in engines)
                  + f"  {ratio:>6.2f}x ({per_round:.2f}x per round)   ours vs smallest: "
                  f"{ns['ours'] / ours_smallest[kind]:.2f}x", flush=True)


def memory(n: int) -> None:
    from autodiff import Value

    for kind, recipe_of in (("dag", dag_recipe), ("chain", chain_recipe)):
        leaves, recipe = recipe_of(n)
        nodes = [Value(x) for x in leaves]
        for op, i, j in recipe:
            nodes.append(nodes[i] + nodes[j] if op == ADD else nodes[i] * nodes[j] if op == MUL
                         else nodes[i].tanh() if op == TANH else nodes[i].exp())
        gc.collect()
        tracemalloc.start()
        nodes[-1].backward()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{kind:>6} {n:>9,} nodes: backward's peak {peak / n:6.1f} B per node above the graph")
        del nodes
        gc.collect()


# --- two moons, written as a micrograd user writes it --------------------------------------------
MOONS = Path("/tmp/scalar_engine_moons.json")  # the data and weights both engines start from


def write_moons() -> None:
    """Two moons and the starting weights of ``nn.MLP(2, [16, 16, 1], seed=0)``, as JSON:
    micrograd's process then imports nothing but micrograd, as its users' would."""
    import json

    import nn
    from two_moons import make_moons

    X, y = make_moons(seed=0)
    weights = [p.data for p in nn.MLP(2, [16, 16, 1], seed=0).parameters()]
    MOONS.write_text(json.dumps({"X": X.tolist(), "y": y.tolist(), "weights": weights}))


def moons_step(engine: str):
    """One step of two-moons training, micrograd style, for ``engine`` ("ours" or "micrograd")."""
    import json

    data = json.loads(MOONS.read_text())
    if engine == "ours":
        import nn
        from autodiff import Value as make

        model = nn.MLP(2, [16, 16, 1])
    else:
        make = micrograd.engine.Value
        model = micrograd.nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    for p, number in zip(params, data["weights"]):  # the same order: neuron by neuron, weights then bias
        p.data = number
    return micrograd_style_step(model, make, params, data["X"], data["y"], lr=0.01)


def micrograd_style_step(model, make, params, rows, targets, lr):
    """The two-moons step as a micrograd user writes it, for either engine (``make`` its
    Value): hinge loss, ``1e-4 * sum(p * p for p in params)``, ``p.data -= lr * p.grad``."""

    def step():
        scores = [model([make(v) for v in x]) for x in rows]
        losses = [(1 + -t * s).relu() for t, s in zip(targets, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return step


def moons_one(engine: str, steps: int) -> None:
    """Time ``steps`` steps in this process: prints the median and the fastest seconds
    per step, the collector's share of the time, and the first step's loss."""
    step = moons_step(engine)
    first_loss = step()
    spent = [0.0]
    started = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    times, total = [], 0.0
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    total = sum(times)
    gc.callbacks.remove(on_gc)
    print(statistics.median(times), min(times), spent[0] / total, first_loss)


def moons(runs: int) -> None:
    write_moons()
    results: dict[str, list[list[float]]] = {"ours": [], "micrograd": []}
    for _ in range(runs):
        for engine, steps in (("ours", 40), ("micrograd", 8)):
            out = subprocess.run([sys.executable, __file__, "moons-one", engine, str(steps)],
                                 capture_output=True, text=True, check=True).stdout.split()
            results[engine].append([float(x) for x in out])
    for engine, r in results.items():
        medians, fastest, shares = [x[0] for x in r], [x[1] for x in r], [x[2] for x in r]
        print(f"{engine:>10}: median step {min(medians) * 1e3:8.2f} to {max(medians) * 1e3:8.2f} ms, fastest "
              f"{min(fastest) * 1e3:8.2f} ms (collector {min(shares):.0%} to {max(shares):.0%} of the time)")
    ours, theirs = results["ours"], results["micrograd"]
    print("ours vs micrograd, run by run, median steps: "
          + ", ".join(f"{m[0] / o[0]:.1f}x" for o, m in zip(ours, theirs))
          + "; micrograd's fastest step vs our median: "
          + ", ".join(f"{m[1] / o[0]:.1f}x" for o, m in zip(ours, theirs)))
    print(f"first step's loss: ours {ours[0][3]!r}, micrograd {theirs[0][3]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("nodes", "memory", "moons", "moons-one"))
    parser.add_argument("args", nargs="*")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds-ish per engine per size (nodes)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", help="nodes: also time DIR/PACKAGE, a renamed copy of another autodiff")
    options = parser.parse_args()
    if options.what == "nodes":
        nodes_table(options.sizes, options.budget, options.baseline)
    elif options.what == "memory":
        memory(options.n)
    elif options.what == "moons":
        moons(options.runs)
    else:
        moons_one(options.args[0], int(options.args[1]))


if __name__ == "__main__":
    main()
