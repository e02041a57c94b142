"""The two-moons step (MLP 2-16-16-1, 100 samples, hinge loss + 1e-4 L2, plain SGD),
written each way a user writes it, beside its peers.

Ours four ways: as a micrograd user writes it (in its own process, beside micrograd in
its own), idiomatic (nn losses and an optimizer), compiled with an optimizer, and
compiled with a plain Python loop over the parameters. Peers: numpy by hand (the
fastest plain step: no loss it does not need), PyTorch on batched tensors (one
thread), and JAX's ``jit`` where JAX is installed.
"""

from __future__ import annotations

import importlib.util

import statistics
import time

from timing import Step, Timing, by_scale, check_same, in_turns, measure_this_checkout, run_fresh

measure_this_checkout()  # its autodiff, nn and examples

import numpy as np  # noqa: E402

import autodiff  # noqa: E402
import nn  # noqa: E402
from autodiff import Value  # noqa: E402

from two_moons import make_moons  # noqa: E402  (the demo's data)

LR = 0.1
L2 = 1e-4
CHECKED_STEPS = 2  # the engines' losses are compared over this many steps, updates included

try:
    import torch
except ImportError:
    torch = None
try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = None
try:
    import micrograd  # noqa: F401  (run in its own process; here only to know it is there)
except ImportError:
    micrograd = None


def moons_weights() -> tuple[list[list[list[float]]], list[list[float]]]:
    """The weights of nn.MLP(2, [16, 16, 1], seed=0), per layer: W (out x in) and b."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    return ([[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers],
            [[n.b.data for n in layer.neurons] for layer in model.layers])


# --- ours, in this process ---------------------------------------------------------------
def ours_idiomatic(X, y, read_loss):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    optimizer = nn.SGD(params, lr=LR)
    rows, targets = X.tolist(), y.tolist()

    def step():
        loss = nn.hinge_loss([model(x) for x in rows], targets) + L2 * autodiff.dot(params, params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.data

    return Step(step)


def compiled_program(model: nn.MLP, backend: str = "numpy"):
    """The two-moons loss of one sample, compiled: its inputs are x0, x1 and the target."""
    params = model.parameters()
    x0, x1, t = Value(0.0), Value(0.0), Value(0.0)
    loss = nn.hinge_loss([model([x0, x1])], [t]) + L2 * autodiff.dot(params, params)
    return autodiff.compile(loss, [x0, x1, t], backend=backend)


def ours_compiled_optimizer(X, y, read_loss, backend: str = "numpy"):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    program = compiled_program(model, backend)
    optimizer = nn.SGD(model.parameters(), lr=LR)
    a, b = X[:, 0].copy(), X[:, 1].copy()

    def step():
        losses = program(a, b, y)
        optimizer.zero_grad()
        program.backward()
        optimizer.step()
        return float(losses.mean()) if read_loss else None

    return Step(step)


def ours_compiled_loop(X, y, read_loss):
    """Compiled, updated as a reader of API.md might: a Python loop over the parameters."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    program = compiled_program(model)
    params = model.parameters()
    a, b = X[:, 0].copy(), X[:, 1].copy()

    def step():
        losses = program(a, b, y)
        model.zero_grad()
        program.backward()
        for p in params:
            p.data -= LR * p.grad
        return float(losses.mean()) if read_loss else None

    return Step(step)


def ours_numba(X, y, read_loss):
    """Compiled with the numba backend (one native loop per pass), updated by nn.SGD."""
    return ours_compiled_optimizer(X, y, read_loss, backend="numba")


# --- peers, in this process --------------------------------------------------------------
def numpy_by_hand(X, y, read_loss):
    """The fastest plain numpy step we know: forward, backward and update in place."""
    W, B = moons_weights()
    W1, W2, W3 = (np.array(w) for w in W)
    b1, b2, b3 = (np.array(b) for b in B)
    params = [W1, b1, W2, b2, W3, b3]
    Xt, n = X.T.copy(), len(y)

    def step():
        h1 = W1 @ Xt
        h1 += b1[:, None]
        a1 = np.maximum(h1, 0)
        h2 = W2 @ a1
        h2 += b2[:, None]
        a2 = np.maximum(h2, 0)
        s = W3[0] @ a2 + b3[0]
        margin = 1 - y * s
        loss = np.maximum(margin, 0).mean() + L2 * sum(float((p * p).sum()) for p in params) if read_loss else None
        ds = np.where(margin > 0, -y / n, 0.0)
        dh2 = np.outer(W3[0], ds)
        dh2 *= h2 > 0
        dh1 = W2.T @ dh2
        dh1 *= h1 > 0
        grads = (dh1 @ X, dh1.sum(1), dh2 @ a1.T, dh2.sum(1), (a2 @ ds)[None, :], ds.sum(keepdims=True))
        for p, g in zip(params, grads):
            p *= 1 - 2 * L2 * LR
            p -= LR * g
        return loss

    return Step(step)


def torch_batched(X, y, read_loss):
    W, B = moons_weights()
    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W]
    biases = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in B]
    params = weights + biases
    optimizer = torch.optim.SGD(params, lr=LR)
    tx, ty = torch.tensor(X), torch.tensor(y)

    def step():
        h = tx
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T + b
            if i < len(weights) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - ty * h[:, 0]).mean() + L2 * sum((p * p).sum() for p in params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item() if read_loss else None

    return Step(step)


def _jax_loss(params, X, y):
    W1, b1, W2, b2, W3, b3 = params
    a1 = jnp.maximum(X @ W1.T + b1, 0)
    a2 = jnp.maximum(a1 @ W2.T + b2, 0)
    s = (a2 @ W3.T + b3)[:, 0]
    return jnp.maximum(1 - y * s, 0).mean() + L2 * sum((p * p).sum() for p in params)


def _jax_start(X, y):
    W, B = moons_weights()
    params = tuple(jnp.array(a) for pair in zip(W, B) for a in pair)
    return params, jnp.array(X), jnp.array(y)


def jax_jit(X, y, read_loss):
    """JAX's jit of the whole step; with ``read_loss`` the loss comes back to Python each
    step (as a training loop that logs it does), else the steps queue up asynchronously."""
    state = list(_jax_start(X, y))

    @jax.jit
    def update(params, X, y):
        loss, grads = jax.value_and_grad(_jax_loss)(params, X, y)
        return tuple(p - LR * g for p, g in zip(params, grads)), loss

    def step():
        state[0], loss = update(*state)
        return float(loss) if read_loss else None

    return Step(step, sync=lambda: state[0][0].block_until_ready())


XLA_LOOP_STEPS = 100


def jax_loop(X, y, read_loss):
    """XLA's own loop: ``XLA_LOOP_STEPS`` steps in one ``lax.fori_loop`` (no Python between
    steps): the speed of the computation itself, without any per-call cost."""
    params, jX, jy = _jax_start(X, y)
    grad = jax.grad(_jax_loss)

    @jax.jit
    def steps(params):
        def body(_, params):
            return tuple(p - LR * g for p, g in zip(params, grad(params, jX, jy)))
        return jax.lax.fori_loop(0, XLA_LOOP_STEPS, body, params)

    state = [params]

    def run():
        state[0] = steps(state[0])

    return Step(run, sync=lambda: state[0][0].block_until_ready())


# --- the section -------------------------------------------------------------------------
IN_PROCESS = {
    "ours, idiomatic (nn loss, SGD)": ours_idiomatic,
    "ours, compiled + nn.SGD": ours_compiled_optimizer,
    "ours, compiled + Python loop": ours_compiled_loop,
    "numpy by hand (no loss)": numpy_by_hand,
}
if importlib.util.find_spec("numba") is not None:
    IN_PROCESS["ours, compiled (numba) + nn.SGD"] = ours_numba
if torch is not None:
    IN_PROCESS["PyTorch, batched (1 thread)"] = torch_batched
if jax is not None:
    IN_PROCESS["JAX jit, loss read each step"] = jax_jit
    IN_PROCESS["JAX jit, loss not read"] = jax_jit
SCALAR = ("ours, idiomatic (nn loss, SGD)",)


def run(scale: str) -> dict[str, float]:
    """Print the section; return its figures (medians, seconds) for the targets."""
    X, y = make_moons(n=by_scale(scale, 100, 100, 10), seed=0)
    print(f"\ntwo-moons step (MLP 2-16-16-1, {len(y)} samples, hinge + 1e-4 L2, forward + backward + SGD)")
    fresh = micrograd_style(X, y, scale)
    _check_losses(X, y, fresh["losses"])

    makers = dict(IN_PROCESS)
    scalar = {name: makers.pop(name)(X, y, False) for name in SCALAR}
    batched = {name: make(X, y, name.endswith("read each step")) for name, make in makers.items()}
    if jax is not None:
        batched[f"JAX, {XLA_LOOP_STEPS} steps in one lax.fori_loop"] = jax_loop(X, y, False)
    timings = in_turns(batched, rounds=by_scale(scale, 25, 5, 1),
                       block=by_scale(scale, 100, 20, 2))
    loop_name = f"JAX, {XLA_LOOP_STEPS} steps in one lax.fori_loop"
    if loop_name in timings:
        timings[loop_name] = Timing(tuple(t / XLA_LOOP_STEPS for t in timings[loop_name].times))
    timings |= in_turns(scalar, rounds=by_scale(scale, 10, 3, 1), block=1)

    print(f"  in this process, in turns: {'median':>10}  (range over rounds)")
    for name, timing in timings.items():
        print(f"  {name:38} {timing}")
    if jax is None:
        print("  JAX: not installed (pip install jax jaxlib), so its rows are skipped")
    compile_seconds = compile_time(by_scale(scale, 15, 5, 1))
    print(f"  compiling the two-moons program: {compile_seconds * 1e3:.2f} ms (median; recording "
          f"the one-sample graph not included)")
    figures = {name: timing.median for name, timing in timings.items()}
    figures["compile"] = compile_seconds
    if "ours, compiled (numba) + nn.SGD" in IN_PROCESS:
        figures["numba compile"] = numba_compile_time(X, y, by_scale(scale, 3, 2, 1))
    figures |= {f"fresh {name}": value for name, value in fresh.items() if name != "losses"}
    return figures


def micrograd_style(X, y, scale: str) -> dict:
    """Ours and micrograd, each step written as micrograd's demo writes it, each engine in
    a fresh process per run, the processes in turns."""
    weights, biases = moons_weights()
    request = {"weights": weights, "biases": biases, "X": X.tolist(), "y": y.tolist(), "lr": LR, "warmup": 1}
    # steps timed with the collector on, then off; micrograd takes seconds a step
    engines = {"ours": by_scale(scale, (10, 5), (3, 2), (1, 1))}
    if micrograd is not None:
        engines["micrograd"] = by_scale(scale, (2, 1), (1, 1), (1, 1))
    runs = {engine: [] for engine in engines}
    for _ in range(by_scale(scale, 3, 2, 1)):
        for engine, (steps, steps_gc_off) in engines.items():
            runs[engine].append(run_fresh("moons_fresh", request | {"engine": engine, "steps": steps,
                                                                    "steps_gc_off": steps_gc_off}))
    print("  as a micrograd user writes it, each engine in a fresh process per run "
          f"(runs: {len(runs['ours'])}, processes in turns):")
    figures: dict = {"losses": {}}
    for engine, answers in runs.items():
        gc_on = [t for answer in answers for t in answer["gc_on"]]
        gc_off = [t for answer in answers for t in answer["gc_off"]]
        per_run = [statistics.median(answer["gc_on"]) for answer in answers]
        figures[f"{engine}, gc on"] = statistics.median(gc_on)
        figures[f"{engine}, gc off"] = statistics.median(gc_off)
        figures["losses"][f"{engine} (micrograd style)"] = answers[0]["losses"]
        print(f"  {engine + ', gc on (as users run it)':38} {Timing(tuple(gc_on))}  "
              f"per-run medians {min(per_run) * 1e3:,.1f} to {max(per_run) * 1e3:,.1f} ms")
        print(f"  {engine + ', gc off (information)':38} {Timing(tuple(gc_off))}  "
              f"the collector's share of a step: {1 - statistics.median(gc_off) / statistics.median(gc_on):.0%}")
    if micrograd is None:
        print("  micrograd: not installed (pip install micrograd==0.1.0), so its rows are skipped")
    return figures


def _check_losses(X, y, fresh_losses: dict[str, list[float]]) -> None:
    """Every engine, run from the same weights for a few steps, computes the same losses."""
    losses = {name: list(fresh[:CHECKED_STEPS]) for name, fresh in fresh_losses.items()}
    for name, make in IN_PROCESS.items():
        step = make(X, y, True)
        losses[name] = [step.run() for _ in range(CHECKED_STEPS)]
    for k in range(CHECKED_STEPS):
        check_same(f"two-moons loss at step {k + 1}", {name: values[k] for name, values in losses.items()
                                                       if values[k] is not None})


def numba_compile_time(X, y, runs: int) -> float:
    """Median seconds the numba backend takes to compile the two-moons program and run
    its first step, each run in a fresh process (numba keeps what it compiled)."""
    answers = [run_fresh("numba_compile", {"X": X.tolist(), "y": y.tolist()}) for _ in range(runs)]
    seconds = Timing(tuple(answer["compile"] for answer in answers))
    imports = statistics.median(answer["import"] for answer in answers)
    cpu = statistics.median(answer["cpu"] for answer in answers)
    print(f"  compiling it with the numba backend, first step included: {seconds}  "
          f"(CPU time {cpu:.2f} s; fresh processes: {runs}; importing numba before it: {imports:.2f} s)")
    return seconds.median


def compile_time(repeats: int) -> float:
    """Median seconds of ``autodiff.compile`` on the two-moons loss of one sample."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    times = []
    for _ in range(repeats):
        x0, x1, t = Value(0.0), Value(0.0), Value(0.0)
        loss = nn.hinge_loss([model([x0, x1])], [t]) + L2 * autodiff.dot(params, params)
        start = time.perf_counter()
        autodiff.compile(loss, [x0, x1, t])
        times.append(time.perf_counter() - start)
    return statistics.median(times)
