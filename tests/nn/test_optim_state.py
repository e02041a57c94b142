"""Optimizer state stays whole: load_state_dict checks everything before it changes
anything, and a step is applied whole or not at all, even when Ctrl-C lands inside it."""

import gc
import json
import signal
import sys
import threading

import numpy as np
import pytest

import nn
from autodiff import Value
from nn.optim import interrupts_held


def bits(x):
    """A float's exact bits (``-0.0`` and ``0.0`` differ), recursively through containers."""
    if isinstance(x, float):
        return x.hex()
    if isinstance(x, dict):
        return {k: bits(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [bits(v) for v in x]
    return x


def snapshot(params, opt):
    return bits([p.data for p in params]), bits(opt.state_dict())


def trained_adam(steps=3):
    params = [Value(0.5), Value(-0.3), Value(2.0)]
    opt = nn.Adam(params, lr=0.1)
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = 0.25 * (i + 1) - 0.1 * k
        opt.step()
    return params, opt


# --- load_state_dict --------------------------------------------------------------------

def adam_state(**changes):
    state = {"steps": 3, "exp_avg": [0.1, -0.2, 0.3], "exp_avg_sq": [0.01, 0.04, 0.09]}
    state.update(changes)
    return state


def without(key):
    state = adam_state()
    del state[key]
    return state


FAULTS = [
    ([("steps", 3)], "optimizer state is a dict"),
    (without("steps"), "has no 'steps'"),
    (without("exp_avg_sq"), "has no 'exp_avg_sq'"),
    (adam_state(momentum_buffer=[0.0, 0.0, 0.0]), "has 'momentum_buffer', which Adam does not keep"),
    (adam_state(steps=True), "'steps' must be an int, got bool"),
    (adam_state(steps=3.0), "'steps' must be an int, got float"),
    (adam_state(steps="3"), "'steps' must be an int, got str"),
    (adam_state(steps=None), "'steps' must be an int, got NoneType"),
    (adam_state(steps=-1), "'steps' must be a count of steps in \\[0, 2\\*\\*63\\), got -1"),
    (adam_state(steps=10**400), "'steps' must be a count of steps in \\[0, 2\\*\\*63\\), got an int of 1329 bits"),
    (adam_state(steps=2**63), "'steps' must be a count of steps in \\[0, 2\\*\\*63\\), got 9223372036854775808"),
    (adam_state(exp_avg="abc"), "'exp_avg' must be a list of 3 numbers, got str"),
    (adam_state(exp_avg={"0": 0.1}), "'exp_avg' must be a list of 3 numbers, got dict"),
    (adam_state(exp_avg=np.zeros((3, 1))), "'exp_avg' must be a list of 3 numbers, got ndarray"),
    (adam_state(exp_avg=[0.1, 0.2]), "needs 3 numbers in 'exp_avg', one per parameter, got 2"),
    (adam_state(exp_avg=[0.1, "0.2", 0.3]), "'exp_avg'\\[1\\] must be a number, got str"),
    (adam_state(exp_avg=[0.1, 0.2, None]), "'exp_avg'\\[2\\] must be a number, got NoneType"),
    (adam_state(exp_avg=[True, 0.2, 0.3]), "'exp_avg'\\[0\\] must be a number, got bool"),
    (adam_state(exp_avg=[0.1, [0.2], 0.3]), "'exp_avg'\\[1\\] must be a number, got list"),
    (adam_state(exp_avg=[0.1, float("nan"), 0.3]), "'exp_avg'\\[1\\] is nan; only finite numbers"),
    (adam_state(exp_avg_sq=[0.1, 0.2, float("inf")]), "'exp_avg_sq'\\[2\\] is inf; only finite numbers"),
    (adam_state(exp_avg=[-float("inf"), 0.2, 0.3]), "'exp_avg'\\[0\\] is -inf"),
    (adam_state(exp_avg_sq=[0.1, -1e-300, 0.3]), "'exp_avg_sq'\\[1\\] is -1e-300, but it is a mean of squares"),
    (adam_state(steps=0), "'steps' 0 but 'exp_avg'\\[0\\] is 0.1: an optimizer that has taken no step"),
    (adam_state(steps=0, exp_avg=[0.0, 0.0, 0.0]), "'steps' 0 but 'exp_avg_sq'\\[0\\] is 0.01"),
]


@pytest.mark.parametrize("state, message", FAULTS)
def test_each_fault_of_a_loaded_state_is_named_and_changes_nothing(state, message):
    params, opt = trained_adam()
    before = snapshot(params, opt)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    assert snapshot(params, opt) == before


def test_an_sgd_state_is_checked_too():
    params = [Value(1.0), Value(2.0)]
    opt = nn.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="'momentum_buffer'\\[1\\] is nan"):
        opt.load_state_dict({"steps": 4, "momentum_buffer": [0.5, float("nan")]})
    with pytest.raises(ValueError, match="has no 'momentum_buffer'"):
        opt.load_state_dict(adam_state())  # an Adam state in an SGD
    with pytest.raises(ValueError, match="'steps' 0 but 'momentum_buffer'\\[0\\] is 0.5"):
        opt.load_state_dict({"steps": 0, "momentum_buffer": [0.5, 0.0]})
    assert opt.state_dict() == {"steps": 0, "momentum_buffer": [0.0, 0.0]}


def test_a_momentum_buffer_may_be_negative():  # only means of squares may not
    opt = nn.SGD([Value(1.0)], lr=0.1, momentum=0.9)
    opt.load_state_dict({"steps": 2, "momentum_buffer": [-0.5]})
    assert opt.state_dict() == {"steps": 2, "momentum_buffer": [-0.5]}


def test_a_saved_state_loads_through_json_and_from_numpy():
    params, opt = trained_adam()
    state = json.loads(json.dumps(opt.state_dict()))
    for loaded in (state, {k: np.array(v) if k != "steps" else np.int64(v) for k, v in state.items()}):
        fresh = nn.Adam([Value(p.data) for p in params], lr=0.1)
        fresh.load_state_dict(loaded)
        assert bits(fresh.state_dict()) == bits(opt.state_dict())
        assert type(fresh.steps) is int


def test_a_loaded_state_is_a_copy():
    opt = nn.Adam([Value(1.0)], lr=0.1)
    state = {"steps": 1, "exp_avg": [0.5], "exp_avg_sq": [0.25]}
    opt.load_state_dict(state)
    state["exp_avg"][0] = 99.0
    assert opt.state_dict()["exp_avg"] == [0.5]


# --- a step computes first, then commits ------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda ps: nn.Adam(ps, lr=0.1),
    lambda ps: nn.AdamW(ps, lr=0.1, weight_decay=0.1),
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
], ids=["Adam", "AdamW", "SGD"])
def test_a_step_never_writes_into_the_buffers_it_read(make):
    params = [Value(0.5), Value(-0.3)]
    opt = make(params)
    for _ in range(2):
        params[0].grad, params[1].grad = 0.3, -0.7
        held = {name: (array, array.copy()) for name, array in opt.state.items()}
        opt.step()
        for name, (array, copy) in held.items():
            assert bits(array.tolist()) == bits(copy.tolist()), f"{name} was changed in place"


def test_an_error_inside_the_update_changes_nothing(monkeypatch):
    params, opt = trained_adam()
    for p in params:
        p.grad = 0.5
    before = snapshot(params, opt)
    real_sqrt = np.sqrt

    def interrupted(*args, **kwargs):  # Adam takes the root after the averages are new
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "sqrt", interrupted)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    monkeypatch.setattr(np, "sqrt", real_sqrt)
    assert snapshot(params, opt) == before
    assert opt.steps == 3


def stepped(params_data, grads, make, warmup):
    params = [Value(x) for x in params_data]
    opt = make(params)
    for _ in range(warmup):
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
    for p, g in zip(params, grads):
        p.grad = g
    return params, opt


def run_traced(fn, stop_at=0):
    """Run ``fn`` with every bytecode traced and, at the ``stop_at``-th, deliver a real
    SIGINT: Python raises KeyboardInterrupt between bytecodes, so this tries any place.
    Return how many bytecodes ran, whether a KeyboardInterrupt came out, and where the
    signal was sent."""
    seen, where = 0, None

    def tracer(frame, event, arg):
        nonlocal seen, where
        frame.f_trace_opcodes = True
        if event == "opcode":
            seen += 1
            if seen == stop_at:
                where = f"{frame.f_code.co_name}, line {frame.f_lineno}"
                signal.raise_signal(signal.SIGINT)
        return tracer

    collecting = gc.isenabled()
    gc.disable()  # a collection could run other code's bytecodes and move the places
    sys.settrace(tracer)
    try:
        fn()
    except KeyboardInterrupt:
        return seen, True, where
    finally:
        sys.settrace(None)
        if collecting:
            gc.enable()
    return seen, False, where


@pytest.mark.parametrize("make", [
    lambda ps: nn.Adam(ps, lr=0.1),
    lambda ps: nn.Adam(ps, lr=0.1, weight_decay=0.01),
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
], ids=["Adam", "Adam-weight-decay", "SGD-momentum"])
def test_ctrl_c_at_every_bytecode_of_a_step_leaves_it_whole_or_undone(make):
    start, grads = [0.5, -0.3, 2.0, 0.1], [0.3, -0.7, 1.1, 0.0]
    params, opt = stepped(start, grads, make, warmup=2)
    before = snapshot(params, opt)
    length, _, _ = run_traced(opt.step)
    after = snapshot(params, opt)
    assert before != after and length > 100
    outcomes = {"undone": 0, "whole": 0, "not interrupted": 0}
    for stop_at in range(1, length + 1):
        params, opt = stepped(start, grads, make, warmup=2)
        _, interrupted, where = run_traced(opt.step, stop_at)
        state = snapshot(params, opt)
        assert state in (before, after), f"a SIGINT at bytecode {stop_at} ({where}) left a step half applied"
        assert opt.steps == (2 if state == before else 3), f"a SIGINT at bytecode {stop_at} ({where})"
        outcomes["not interrupted" if not interrupted else "undone" if state == before else "whole"] += 1
    assert outcomes["undone"] > 0 and outcomes["whole"] > 0  # signals held in the commit came after it
    assert outcomes["not interrupted"] == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupts_held_delivers_the_signal_after_the_block():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupts_held_gives_the_signal_to_the_handler_there_was():
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            assert received == []
        assert received == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_step_outside_the_main_thread_works():
    params, opt = trained_adam()
    errors = []

    def run():
        try:
            opt.step()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors == [] and opt.steps == 4
