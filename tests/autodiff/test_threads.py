"""Threads: backward passes that share leaves lose nothing, and leave the collector alone.

Each pass below adds exactly 1.0 to every shared leaf's gradient (d (w * 1) / dw = 1),
so the expected sums are counts. Python switches threads every few microseconds here,
so that a read-add-write of a gradient split by another thread's write shows at once.
"""

import contextlib
import gc
import math
import sys
import threading
import time

import numpy as np
import pytest

import autodiff
import nn
from autodiff import Value

THREADS, PASSES = 4, 500


@contextlib.contextmanager
def collector_on():
    """The collector on for the block, then as it was."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


@contextlib.contextmanager
def switching_often():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_together(*jobs):
    """Start every job in a thread of its own, wait for all; re-raise the first error."""
    errors = []

    def guarded(job):
        try:
            job()
        except BaseException as error:  # noqa: BLE001 (handed to the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def shared_leaves(width):
    """A linear neuron's weights and bias (inputs of one w·x + b node), a leaf of a *
    node, a leaf of a + node; and d out / d leaf = 1.0 for each in ``out``."""
    neuron = nn.Neuron(width, activation="linear", rng=0)
    factor, term = Value(0.25), Value(-1.0)
    leaves = [*neuron.w, neuron.b, factor, term]
    return leaves, lambda xs: neuron(xs) + factor * xs[0] + term


def test_concurrent_passes_lose_no_gradient_whatever_op_reaches_the_leaf():
    leaves, out = shared_leaves(3)

    def passes():
        for _ in range(8 * PASSES):
            out([1.0, 1.0, 1.0]).backward()

    found = []

    def gradients_alongside():  # read no .grad, write none
        for _ in range(PASSES):
            found.extend(autodiff.gradients(out([1.0, 1.0, 1.0]), leaves))

    with collector_on(), switching_often():
        run_together(*[passes] * THREADS, gradients_alongside)
        assert gc.isenabled()  # as the passes found it
    assert [leaf.grad for leaf in leaves] == [float(THREADS * 8 * PASSES)] * len(leaves)
    assert found == [1.0] * (PASSES * len(leaves))


def test_compiled_passes_and_scalar_passes_together_lose_no_gradient():
    width = 20  # many leaves: each write is long, so other threads' writes meet it
    leaves, out = shared_leaves(width)

    def scalar_passes():
        for _ in range(PASSES):
            out([1.0] * width).backward()

    def compiled_passes():  # a compiled program of its own, on the same leaves
        xs = [Value(0.0) for _ in range(width)]
        program = autodiff.compile(out(xs), inputs=xs)
        ones = [np.ones(3)] * width
        for _ in range(PASSES):
            program(*ones)
            program.backward()  # the mean over 3 samples of d/dw (w * 1) = 1.0

    with switching_often():
        run_together(*[scalar_passes, compiled_passes] * (THREADS // 2))
    assert [leaf.grad for leaf in leaves] == [float(THREADS * PASSES)] * len(leaves)


def test_threads_training_one_model_add_every_pass_into_its_weights():
    model = nn.MLP(4, [8, 1], seed=0)
    x = [1.0, 2.0, -1.0, 0.5]
    params = model.parameters()
    once = autodiff.gradients(model(x), params)  # d out / d each weight, one pass

    def passes():
        for _ in range(PASSES):
            model(x).backward()

    with switching_often():
        run_together(*[passes] * THREADS)
    totals = [0.0] * len(params)  # the same number added in any order: one sum, formed here in turn
    for _ in range(THREADS * PASSES):
        totals = [total + g for total, g in zip(totals, once)]
    assert sum(g not in (0.0, 1.0) for g in once) >= 3
    assert [p.grad for p in params] == totals


def test_an_optimizer_stepping_meanwhile_loses_no_gradient_and_reads_whole_numbers():
    width = 20
    leaves, out = shared_leaves(width)
    seen = []

    class Recording(nn.SGD):  # keeps the gradients each step read
        def _update(self, p, grad):
            seen.append(grad.copy())
            return super()._update(p, grad)

    optimizer = Recording(leaves, lr=1e-6)  # d out / d leaf stays 1.0 whatever the weights
    done = threading.Event()

    def passes():
        for _ in range(PASSES):
            out([1.0] * width).backward()

    def steps():
        while not done.is_set():
            optimizer.step()

    def passes_then_stop():
        passes()
        done.set()

    with switching_often():
        run_together(passes, passes, passes_then_stop, steps)
    assert len(seen) > 10
    assert [leaf.grad for leaf in leaves] == [float(3 * PASSES)] * len(leaves)
    assert all(g == int(g) for grad in seen for g in grad.tolist())  # counts of passes, never torn


def test_a_pass_leaves_a_user_threads_collector_setting_as_it_set_it():
    root = chain(20_000)  # long passes: the user's gc.disable() falls within one
    passing, done = threading.Event(), threading.Event()
    turned_back_on = []

    def passes():
        passing.set()
        for _ in range(4):
            root.backward()
        done.set()

    def user():
        passing.wait()
        time.sleep(0.005)
        gc.disable()
        while not done.is_set():
            if gc.isenabled():
                turned_back_on.append(True)
                break

    with collector_on(), switching_often():
        run_together(passes, user)
        assert turned_back_on == [] and not gc.isenabled()


def test_the_collector_seen_from_another_thread_stays_on_during_passes():
    root = chain(1000)
    stop = threading.Event()
    seen_off = []

    def passes():
        for _ in range(10):
            root.backward()
        stop.set()

    def watcher():
        while not stop.is_set():
            if not gc.isenabled():
                seen_off.append(True)

    with collector_on(), switching_often():
        run_together(passes, watcher)
        assert seen_off == [] and gc.isenabled()


def chain(n):
    y = Value(0.5)
    for _ in range(n):
        y = y * 1.0
    return y


def test_a_program_run_by_one_thread_refuses_another_threads_backward():
    # A program holds one batch between a call and its backward: another thread's
    # backward would get this batch's gradients, silently. It is refused instead.
    x, w = Value(0.0, label="x"), Value(3.0, label="w")
    program = autodiff.compile(w * x, inputs=[x])
    program(np.array([1.0, 2.0]))
    errors = []

    def other():
        try:
            program.backward()
        except RuntimeError as error:
            errors.append(str(error))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert errors and "another thread" in errors[0]
    assert w.grad == 0.0  # nothing was added
    program.backward()
    assert w.grad == 1.5  # d mean(w x) / dw = mean(x), a closed form


def test_a_program_busy_in_one_thread_refuses_a_call_from_another():
    w = Value(1.0, label="w")
    entered, release, blocking = threading.Event(), threading.Event(), []

    def f(x):
        if blocking:  # the second trace waits, holding the program, until released
            entered.set()
            release.wait(10)
        return x * w if w > 0 else x * -w

    program = autodiff.compile(f)
    blocking.append(True)
    w.data = -1.0  # the branch on w flips: the next call traces f again, in the worker
    worker = threading.Thread(target=lambda: program(np.array([1.0])))
    worker.start()
    assert entered.wait(10)
    errors = []
    try:
        program(np.array([2.0]))
    except RuntimeError as error:
        errors.append(str(error))
    finally:
        release.set()
        worker.join()
    assert errors and "running in another thread" in errors[0]
    assert program(np.array([2.0])).tolist() == [2.0]  # free again: |w| x with w = -1


def test_threads_back_propagating_one_graph_share_its_nodes_and_lose_nothing():
    # Each pass keeps its gradients in the nodes' own entries: passes over the same
    # nodes at once must not see each other's (backward holds the lock throughout).
    x, w = Value(0.5), Value(-1.5)
    hidden = [(w * x + float(k)).tanh() for k in range(20)]
    out = autodiff.sum(hidden) * w
    # by hand: out = w · Σ tanh(w x + k), so d/dx = w² Σ sech², d/dw = Σ tanh + w x Σ sech²
    tanhs = [math.tanh(-1.5 * 0.5 + k) for k in range(20)]
    sech2 = sum(1 - t * t for t in tanhs)
    expected = (1.5 ** 2 * sech2, sum(tanhs) + -1.5 * 0.5 * sech2)

    def passes():
        for _ in range(PASSES // 5):
            out.backward()

    with switching_often():
        run_together(*[passes] * THREADS)
    count = THREADS * (PASSES // 5)
    assert (x.grad, w.grad) == pytest.approx((count * expected[0], count * expected[1]), rel=1e-12)
    out.backward()  # a computed node holds one whole pass's gradient, never a mix
    assert [h.grad for h in hidden] == [-1.5] * 20  # d out / d hidden_k = w, exactly
    assert all(node._pass is None for node in autodiff.topological_order(out))
