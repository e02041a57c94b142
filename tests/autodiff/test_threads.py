"""Threads: backward passes that share leaves lose nothing, and leave the collector alone.

Each pass below adds exactly 1.0 to every shared leaf's gradient (d (w * 1) / dw = 1),
so the expected sums are counts. Python switches threads every few microseconds here,
so that a read-add-write of a gradient split by another thread's write shows at once.
"""

import contextlib
import gc
import sys
import threading

import numpy as np

import autodiff
import nn
from autodiff import LeafArrays, Store, Value

THREADS, PASSES = 4, 400


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


def test_concurrent_passes_lose_no_gradient_whatever_the_leaf_is_stored_in():
    neuron = nn.Neuron(1, activation="linear", rng=0)  # its w and b live in a Store
    plain = Value(0.25)
    own_store = Value(-1.0)
    Store([own_store])

    def scalar_passes():
        for _ in range(PASSES):
            (neuron.w[0] * 1.0 + neuron.b + plain * 1.0 + own_store).backward()

    def compiled_passes():  # a compiled program of its own, on the same weights
        x = Value(0.0)
        program = autodiff.compile(neuron.w[0] * x + neuron.b + plain * x + own_store, inputs=[x])
        ones = np.ones(3)
        for _ in range(PASSES):
            program(ones)
            program.backward()  # the mean over 3 samples of d/dw (w x) = 1.0

    with switching_often():
        run_together(*[scalar_passes] * THREADS, *[compiled_passes] * THREADS)
    expected = float(2 * THREADS * PASSES)
    assert [neuron.w[0].grad, neuron.b.grad, plain.grad, own_store.grad] == [expected] * 4


def test_threads_training_one_model_add_every_pass_into_its_weights():
    model = nn.MLP(2, [3, 1], seed=0)
    params = model.parameters()
    once = autodiff.gradients(model([1.0, 2.0]), params)  # d out / d each weight, one pass

    def passes():
        for _ in range(PASSES // 4):
            model([1.0, 2.0]).backward()

    with switching_often():
        run_together(*[passes] * THREADS)
    totals = [0.0] * len(params)  # the same number added in any order: one sum, formed here in turn
    for _ in range(THREADS * (PASSES // 4)):
        totals = [total + g for total, g in zip(totals, once)]
    assert sum(g not in (0.0, 1.0) for g in once) >= 3
    assert [p.grad for p in params] == totals


def test_an_optimizer_reads_gradients_of_whole_passes_while_others_add_and_clear():
    neuron = nn.Neuron(2, activation="linear", rng=0)
    loose = Value(0.5)
    leaves = [*neuron.w, neuron.b, loose]
    seen = []

    class Recording(nn.SGD):
        def _update(self, p, grad):
            seen.append(grad.copy())
            return super()._update(p, grad)

    optimizer = Recording(leaves, lr=1e-6)
    done = threading.Event()

    def passes():
        for _ in range(PASSES):
            (neuron.w[0] * 1.0 + neuron.w[1] + neuron.b * 1.0 + loose).backward()

    def steps_and_clears():
        while not done.is_set():
            optimizer.step()
            seen.append(LeafArrays(leaves).read_grad())
            optimizer.zero_grad()

    def passes_then_stop():
        passes()
        done.set()

    with switching_often():
        run_together(passes, passes, passes_then_stop, steps_and_clears)
    assert len(seen) > 10
    torn = [grad.tolist() for grad in seen if len(set(grad.tolist())) != 1 or grad[0] != int(grad[0])]
    assert torn == []  # every leaf got every pass, or none of them did


def test_a_pass_leaves_a_user_threads_collector_setting_as_it_set_it():
    root = chain(3000)
    stop = threading.Event()
    turned_back_on = []

    def passes():
        while not stop.is_set():
            root.backward()

    def user():
        for _ in range(20):  # each time, passes run before and after the user's disable
            gc.enable()
            gc.disable()
            for _ in range(200):
                if gc.isenabled():
                    turned_back_on.append(True)
                    break
        stop.set()

    was_enabled = gc.isenabled()
    try:
        with switching_often():
            run_together(passes, user)
        assert not turned_back_on and not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


def test_the_collector_seen_from_another_thread_stays_on_during_passes():
    assert gc.isenabled()
    root = chain(3000)
    stop = threading.Event()
    seen_off = []

    def passes():
        for _ in range(30):
            root.backward()
        stop.set()

    def watcher():
        while not stop.is_set():
            if not gc.isenabled():
                seen_off.append(True)

    with switching_often():
        run_together(passes, watcher)
    assert seen_off == [] and gc.isenabled()


def chain(n):
    y = Value(0.5)
    for _ in range(n):
        y = y * 1.0
    return y
