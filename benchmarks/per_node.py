"""Per-node cost of the scalar engines: build a graph, then back-propagate through it.

Two shapes, each at 1e3, 1e4, 1e5 and 1e6 nodes, from one seed, so every engine builds
the same graph:
- a random DAG of + * tanh exp: each node applies its op to the node before it and (for
  + and *) to a node drawn uniformly from all earlier ones, so the whole graph is one
  long path with random fan-out (exp only follows a tanh, which keeps numbers finite);
- a chain cycling through * + tanh exp with one constant leaf.

Engines: ours, micrograd 0.1.0 (with tanh and exp written as its own ops are, as in
its lecture, since 0.1.0 has neither; its recursion limit raised to what its
recursive topological sort needs) and, as an anchor, a minimal index-based tape in
pure Python. Each engine runs in a fresh process per round with its garbage collector
as users run it (on), the processes in turns.

Memory: tracemalloc, in a separate run (it slows allocation): the bytes the graph holds
per node once built, and the peak of what backward allocates above that, per node.

The garbage collector's share: each timed run also adds up the time the cyclic garbage
collector ran in it (``gc.callbacks``), printed beside the table. A node that is a Python
object is one more object the collector tracks, and CPython runs a full collection each
time the objects that outlived younger collections grow by a quarter, so building a
graph of n such nodes visits each about four times in full collections at 1e6 nodes and
not once at 1e3: this share is most of why ns per node grow with the graph.

CPU time: each timed run also reads the process's CPU time. On a loaded machine a run
of seconds (1e6 nodes) waits for a core many times and a run of a millisecond (1e3)
mostly not, so wall times grow with the graph on their own; the CPU times do not wait.

Run as a script, this module is the child process: a JSON request on stdin, JSON out.
"""

from __future__ import annotations

import gc
import json
import math
import random
import statistics
import sys
import time
import tracemalloc

SIZES = (1_000, 10_000, 100_000, 1_000_000)
LEAVES = 16
ADD, MUL, TANH, EXP = range(4)


def plan(shape: str, n: int, seed: int = 0) -> list[tuple[int, int]]:
    """The graph as (op, other operand's index) per node; leaves are indices 0..15."""
    rng = random.Random(seed)
    ops, after_tanh = [], False
    for k in range(n):
        if shape == "chain":
            op, other = k % 4, 0  # * + tanh exp, the constant leaf 0
            op = (MUL, ADD, TANH, EXP)[op]
        else:
            op, other = rng.randrange(4), rng.randrange(LEAVES + k)
            if op == EXP and not after_tanh:
                op = TANH
        ops.append((op, other))
        after_tanh = op == TANH
    return ops


def leaf_numbers(seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(LEAVES)]


# --- the engines, each building the plan with its own nodes --------------------------------
def build_values(value, steps):
    """Build the plan with a Value class that has tanh() and exp(); returns (output, leaves, nodes)."""
    leaves = [value(x) for x in leaf_numbers()]
    nodes = list(leaves)
    y = nodes[-1]
    for op, other in steps:
        if op == ADD:
            y = y + nodes[other]
        elif op == MUL:
            y = y * nodes[other]
        elif op == TANH:
            y = y.tanh()
        else:
            y = y.exp()
        nodes.append(y)
    return y, leaves, nodes


def micrograd_value():
    """micrograd's Value with tanh and exp, each written as micrograd writes its ops."""
    from micrograd.engine import Value

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    Value.tanh, Value.exp = tanh, exp
    return Value


class Tape:
    """The anchor: a minimal reverse-mode tape, nodes are indices into flat lists."""

    def __init__(self) -> None:
        self.data: list[float] = []
        self.ops: list[tuple[int, int, int]] = []  # (op, first operand, second operand)

    def push(self, number: float, op: int = -1, a: int = -1, b: int = -1) -> int:
        self.data.append(number)
        self.ops.append((op, a, b))
        return len(self.data) - 1

    def backward(self, out: int) -> list[float]:
        data, ops = self.data, self.ops
        grad = [0.0] * len(data)
        grad[out] = 1.0
        for k in range(out, -1, -1):
            op, a, b = ops[k]
            g = grad[k]
            if op == ADD:
                grad[a] += g
                grad[b] += g
            elif op == MUL:
                grad[a] += g * data[b]
                grad[b] += g * data[a]
            elif op == TANH:
                grad[a] += g * (1.0 - data[k] * data[k])
            elif op == EXP:
                grad[a] += g * data[k]
        return grad


def build_tape(steps, leaves: list[float] | None = None):
    """Build the plan on a tape (from these leaf numbers, or the benchmark's); returns it
    and the output's index."""
    tape = Tape()
    data, push = tape.data, tape.push
    for x in leaves or leaf_numbers():
        push(x)
    y = LEAVES - 1
    for op, other in steps:
        if op == ADD:
            y = push(data[y] + data[other], ADD, y, other)
        elif op == MUL:
            y = push(data[y] * data[other], MUL, y, other)
        elif op == TANH:
            y = push(math.tanh(data[y]), TANH, y)
        else:
            y = push(math.exp(data[y]), EXP, y)
    return tape, y


def engine_runner(engine: str, depth: int):
    """A function running build + backward of a plan; returns (output, d output / d leaf 0)."""
    if engine == "tape":
        def run(steps):
            tape, out = build_tape(steps)
            return tape.data[out], tape.backward(out)[0]
        return run
    if engine == "micrograd":
        value = micrograd_value()
        sys.setrecursionlimit(max(sys.getrecursionlimit(), depth + 1_000))  # its sort recurses once per level
    else:
        from autodiff import Value as value

    def run(steps):
        out, leaves, _ = build_values(value, steps)
        out.backward()
        return out.data, leaves[0].grad
    return run


class CollectorClock:
    """The seconds the cyclic garbage collector has run since ``reset`` (a ``gc.callbacks`` entry)."""

    def __init__(self) -> None:
        self.seconds = self._started = 0.0

    def reset(self) -> None:
        self.seconds = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def child(request: dict) -> dict:
    """Time each size's build + backward ``repeats`` times, and the collector's share of
    each run; measure memory if asked."""
    runner = engine_runner(request["engine"], max(request["sizes"]) + LEAVES)
    answer = {"ns_per_node": {}, "gc_ns_per_node": {}, "cpu_ns_per_node": {}, "result": {}, "failed": {}}
    collector = CollectorClock()
    gc.callbacks.append(collector)
    for size, repeats in zip(request["sizes"], request["repeats"]):
        steps = plan(request["shape"], size)
        times, collecting, working = [], [], []
        try:
            if size <= 10_000:  # one untimed run: the first touches cold memory and code
                runner(steps)
            for _ in range(repeats):
                gc.collect()  # the previous graph's garbage is no part of this one's time
                collector.reset()
                start, start_cpu = time.perf_counter(), time.process_time()
                result = runner(steps)
                times.append((time.perf_counter() - start) / size * 1e9)
                working.append((time.process_time() - start_cpu) / size * 1e9)
                collecting.append(collector.seconds / size * 1e9)
        except RecursionError as error:
            answer["failed"][size] = f"RecursionError ({error})"
            continue
        answer["ns_per_node"][size] = times
        answer["gc_ns_per_node"][size] = collecting
        answer["cpu_ns_per_node"][size] = working
        answer["result"][size] = result
    if request.get("memory"):
        answer["memory"] = memory(request["engine"], plan(request["shape"], request["memory"]))
    return answer


def memory(engine: str, steps) -> dict[str, float]:
    """Bytes per node: the built graph (without our list of its nodes), and the peak that
    backward allocates above it (gradients included), both as tracemalloc counts them."""
    n = len(steps)
    if engine == "micrograd":
        value = micrograd_value()
        sys.setrecursionlimit(max(sys.getrecursionlimit(), n + LEAVES + 1_000))
    elif engine == "ours":
        from autodiff import Value as value
    gc.collect()
    tracemalloc.start()
    if engine == "tape":
        tape, out = build_tape(steps)
        ours_list = 0

        def backward():
            tape.backward(out)
    else:
        out, _, nodes = build_values(value, steps)
        ours_list, backward = sys.getsizeof(nodes), out.backward
    graph = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"graph": (graph - ours_list) / n, "backward_peak": (peak - graph) / n}


# --- the parent: the section ------------------------------------------------------------------
ENGINES = ("ours", "micrograd", "tape")


def run(scale: str) -> dict[str, float]:
    """Print the table; return its figures for the targets."""
    from timing import by_scale, run_fresh

    try:
        import micrograd  # noqa: F401
        engines = ENGINES
    except ImportError:
        engines = ("ours", "tape")
    sizes = by_scale(scale, SIZES, SIZES[:3], (100, 300))
    repeats = [min(50, max(1, int(by_scale(scale, 2e5, 5e4, 300) // size))) for size in sizes]
    rounds = by_scale(scale, 2, 1, 1)
    print(f"\nper node: build + backward (ns per node; median and range over {rounds} fresh process(es) per engine,"
          " processes in turns)")
    figures: dict[str, float] = {}
    for shape in ("dag", "chain"):
        answers: dict[str, list[dict]] = {engine: [] for engine in engines}
        for round_ in range(rounds):
            for engine in engines:
                measure = round_ == 0 and engine != "micrograd"  # tracemalloc makes micrograd crawl
                request = {"engine": engine, "shape": shape, "sizes": sizes, "repeats": repeats,
                           "memory": sizes[-1] if measure else 0}
                answers[engine].append(run_fresh("per_node", request))
        figures |= _table(shape, sizes, answers)
    return figures


def _table(shape: str, sizes, answers: dict[str, list[dict]]) -> dict[str, float]:
    title = "random DAG of + * tanh exp" if shape == "dag" else "chain of * + tanh exp"
    print(f"  {title}")
    print(f"  {'nodes':>10} " + " ".join(f"{engine:>28}" for engine in answers) + f" {'ours/micrograd':>15}")
    figures: dict[str, float] = {}
    collectors: list[str] = []
    for size in sizes:
        key = str(size)
        cells, medians, results = [], {}, {}
        for engine, runs in answers.items():
            times = [t for answer in runs for t in answer["ns_per_node"].get(key, [])]
            if not times:
                failure = next(answer["failed"][key] for answer in runs if key in answer["failed"])
                cells.append(f"{'fails: ' + failure.split(' (')[0]:>28}")
                continue
            medians[engine] = statistics.median(times)
            results[engine] = runs[0]["result"][key]
            cells.append(f"{medians[engine]:>10,.0f} ({min(times):,.0f}-{max(times):,.0f})".rjust(28))
            figures[f"{shape} {engine} {size}"] = medians[engine]
        _check(f"{title}, {size:,} nodes", results)
        ratio = medians["ours"] / medians["micrograd"] if "micrograd" in medians else math.nan
        print(f"  {size:>10,} " + " ".join(cells) + f" {ratio:>14.2f}x")
        if "ours" in medians:
            figures[f"{shape} ours cpu {size}"] = statistics.median(
                t for answer in answers["ours"] for t in answer["cpu_ns_per_node"].get(key, []))
        collecting = {engine: _collector_share(runs, key) for engine, runs in answers.items()}
        for engine, share in collecting.items():
            if share is not None:
                figures[f"{shape} {engine} gc {size}"], figures[f"{shape} {engine} without gc {size}"] = share
        collectors.append(f"{size:,}: " + ", ".join(f"{engine} {share[0]:,.0f}" for engine, share in collecting.items()
                                                     if share is not None))
    print("  of which the cyclic garbage collector ran (ns per node, median): " + "; ".join(collectors))
    ours = answers["ours"][0]
    if "memory" in ours:
        for engine, runs in answers.items():
            if "memory" in runs[0]:
                m = runs[0]["memory"]
                figures[f"{shape} {engine} backward bytes"] = m["backward_peak"]
                print(f"  memory at {sizes[-1]:,} nodes, {engine}: graph {m['graph']:.0f} B/node, "
                      f"backward's peak above it {m['backward_peak']:.0f} B/node (tracemalloc)")
    return figures


def _collector_share(runs: list[dict], key: str) -> tuple[float, float] | None:
    """The median time the collector ran in a run, and the median of each run's time
    without it (ns per node), or None where the engine failed at this size."""
    pairs = [(t, g) for answer in runs for t, g in zip(answer["ns_per_node"].get(key, []),
                                                       answer["gc_ns_per_node"].get(key, []))]
    if not pairs:
        return None
    return statistics.median(g for _, g in pairs), statistics.median(t - g for t, g in pairs)


def _check(what: str, results: dict[str, list[float]]) -> None:
    """The engines agree on the output and on d output / d leaf 0, to 1e-9."""
    from timing import check_same

    for i, name in enumerate(("output", "d output / d leaf 0")):
        check_same(f"{what}: {name}", {engine: result[i] for engine, result in results.items()})


if __name__ == "__main__":
    json.dump(child(json.load(sys.stdin)), sys.stdout)
