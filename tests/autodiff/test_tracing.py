"""compile(f): a traced function runs one graph for every sample, or says which line
stops it; comparisons on Values; branches on weights are re-checked at each call."""

import math
import threading

import numpy as np
import pytest

import autodiff
from autodiff import TracingError, Value
from tests.reference import central_difference


# --- comparisons -------------------------------------------------------------------------
def test_comparisons_give_a_bool_from_the_numbers_on_either_side():
    a, b = Value(1.5), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 2, a <= 1.5, a > 1, a >= np.float64(1.5)) == (True, True, True, True)
    assert (2 > a, 1.5 >= a, 1 < a, np.float64(1.0) < a, np.int64(2) <= a) == (True, True, True, True, False)
    assert sorted([b, a]) == [a, b] and max(a, b) is b
    nan = Value(math.nan)
    assert not (nan < 1 or nan > 1 or nan <= nan or nan >= 1.0)
    for result in (a < b, 2 > a, np.float64(1.0) < a):
        assert type(result) is bool
    # == stays identity, and Values hash by identity: equal numbers, two keys
    twin = Value(1.5)
    assert a != twin and not (a == twin) and len({a, twin}) == 2 and a == a


@pytest.mark.parametrize("other", ["1", None, [1.0], True, 1j, np.array([1.0, 2.0])])
def test_comparing_with_a_non_number_raises_type_error(other):
    v = Value(1.0)
    assert v > 0.5  # comparisons exist (the original Value had none) ...
    for compare in (lambda: v < other, lambda: other < v, lambda: v >= other, lambda: other >= v):
        with pytest.raises(TypeError):  # ... and a non-number is refused as Python does
            compare()


# --- what a traced function may not do with a per-sample value ----------------------------
W = Value(0.5, label="w")

# Each on one line, so that the line to name is the function's first line.
REFUSED = {
    "x > 0": lambda x: x * 2 if x > 0 else x * -3,
    "0 < x (reflected)": lambda x: x * 2 if 0 < x else x * -3,
    "computed <= another": lambda x, y: x if (x * 2).tanh() <= y else y,
    "weight >= computed": lambda x: x if W >= x + 1.0 else -x,
    ".data": lambda x: x * 2 if x.data > 0 else x * -3,
    ".data of a computed value": lambda x: Value((x * 3).data),
    "bool (if x)": lambda x: x * 2 if x else x,
    "bool (not)": lambda x: -x if not (x * 2) else x,
    "float": lambda x: Value(float(x)),
    "math.exp": lambda x: Value(math.exp(x)),
    "np.float64": lambda x: Value(np.float64(x)),
    "max": lambda x: max(x, 0.0) * 2,
    "abs of a .data": lambda x: x * abs(x.data),
    "item": lambda x: x * 2 if x.item() > 0 else x,
    "format": lambda x: Value(float(f"{x:.3f}")),
    "round": lambda x: x * round(x, 1),
    "detach": lambda x: x.detach() * x,
}


@pytest.mark.parametrize("name", REFUSED)
def test_asking_for_a_per_sample_number_while_tracing_raises_naming_the_line(name):
    f = REFUSED[name]
    with pytest.raises(TracingError) as caught:
        autodiff.compile(f)
    message = str(caught.value)
    assert isinstance(caught.value, TypeError)
    assert f"line {f.__code__.co_firstlineno} of {__file__}" in message
    assert f"    {REFUSED_SOURCE[name]}" in message  # the line itself, as the user wrote it
    assert "per-sample" in message and "relu" in message and "sample by sample" in message


with open(__file__, encoding="utf-8") as _source:
    _lines = _source.read().splitlines()
REFUSED_SOURCE = {name: _lines[f.__code__.co_firstlineno - 1].strip() for name, f in REFUSED.items()}


def test_the_line_named_is_the_users_even_deep_in_a_called_function():
    def helper(v):
        return v.data  # the line to name

    def f(x):
        return Value(helper(x * 2))

    with pytest.raises(TracingError, match=f"line {helper.__code__.co_firstlineno + 1} of .*in helper"):
        autodiff.compile(f)


def test_the_branch_of_the_issue_traced_and_rewritten_with_relu():
    x = Value(1.5, label="x")
    out = x * 2 if x.data > 0 else x * -3
    graph = autodiff.compile(out, inputs=[x])  # built with a branch: it cannot see it
    assert graph(np.array([1.5, -2 / 3])).tolist() == [3.0, -4 / 3]
    with pytest.raises(TracingError, match="reads .data of a per-sample value"):
        autodiff.compile(lambda x: x * 2 if x.data > 0 else x * -3)
    # The same function without a branch: 2x for x > 0, -3x below, derivative 2 and -3.
    program = autodiff.compile(lambda x: 2.0 * x.relu() + 3.0 * (-x).relu())
    assert program(np.array([1.5, -2 / 3])).tolist() == [3.0, 2.0]
    (dx,) = program.backward(weights=np.ones(2))
    assert dx.tolist() == [2.0, -3.0]


def test_writing_the_number_of_a_per_sample_value_raises():
    def f(x):
        x.data = 2.0  # each sample's own number is what a compiled program uses
        return x * 3.0

    with pytest.raises(TracingError, match="writes .data of a per-sample value"):
        autodiff.compile(f)


def test_no_grad_on_a_per_sample_value_raises():
    def f(x):
        with autodiff.no_grad():
            y = x * 2.0  # would be one sample's number, for all of them
        return y + x

    with pytest.raises(TracingError, match="no_grad"):
        autodiff.compile(f)


def test_a_derivative_inside_the_traced_function():
    # d/dx tanh(x) = 1 - tanh(x)^2, a smooth rule: traced and compiled per sample.
    program = autodiff.compile(lambda x: autodiff.grad(lambda y: y.tanh())(x))
    xs = np.array([-2.0, 0.0, 0.3, 4.0])
    np.testing.assert_allclose(program(xs), 1.0 - np.tanh(xs) ** 2, rtol=1e-14)
    # relu's rule chooses by the number: one choice for all samples would be wrong.
    with pytest.raises(TracingError, match="piecewise"):
        autodiff.compile(lambda x: autodiff.grad(lambda y: y.relu() * y)(x))


# --- what it may do: weights, read at each call -----------------------------------------
def test_a_traced_function_matches_closed_forms_and_reads_weights_at_each_call():
    w, b = Value(0.7, label="w"), Value(-0.2, label="b")

    def f(x, y):  # tanh(w x + b) y
        return (w * x + b).tanh() * y

    program = autodiff.compile(f)
    xs, ys = np.array([-1.0, 0.5, 2.0]), np.array([3.0, -1.0, 0.25])
    for _ in range(2):
        np.testing.assert_allclose(program(xs, ys), np.tanh(w.data * xs + b.data) * ys, rtol=1e-15)
        w.grad = b.grad = 0.0
        dx, dy = program.backward()
        scalar = lambda x, y, w_, b_: math.tanh(w_ * x + b_) * y  # noqa: E731
        for s, (x, y) in enumerate(zip(xs, ys)):
            point = [x, y, w.data, b.data]
            assert dx[s] == pytest.approx(central_difference(scalar, point, 0) / 3, rel=1e-7)
            assert dy[s] == pytest.approx(central_difference(scalar, point, 1) / 3, rel=1e-7)
        for i, leaf in ((2, w), (3, b)):
            expected = np.mean([central_difference(scalar, [x, y, w.data, b.data], i) for x, y in zip(xs, ys)])
            assert leaf.grad == pytest.approx(expected, rel=1e-7)
        w.data, b.data = -1.3, 0.4  # an optimizer step: the next call reads them
    assert program.traces == 1  # no branch, no new trace


def test_a_branch_on_a_weight_traces_again_when_it_flips():
    w = Value(2.0, label="w")
    calls = []

    def f(x):
        calls.append(1)
        return x * w if w > 0 else x * w * w  # w x, or w² x

    program = autodiff.compile(f)
    xs = np.array([1.0, -3.0])
    assert program(xs).tolist() == [2.0, -6.0]
    w.data = 0.5  # same branch: no new trace
    assert program(xs).tolist() == [0.5, -1.5] and program.traces == 1
    w.data = -0.5  # the other branch: traced again, then run
    assert program(xs).tolist() == [0.25, -0.75] and program.traces == 2 == len(calls)
    program.backward()
    assert w.grad == pytest.approx(np.mean(2 * w.data * xs), rel=1e-15)  # d(w² x)/dw = 2 w x
    assert program(xs).tolist() == [0.25, -0.75] and program.traces == 2


@pytest.mark.parametrize("read", ["a computed comparison", ".data", "no_grad", "a comparison with a Value"])
def test_every_number_read_from_weights_is_re_checked(read):
    w, v = Value(1.5, label="w"), Value(0.25, label="v")

    def f(x):
        if read == "a computed comparison":
            return x * 2.0 if w * w - 1.0 > 0 else x * 3.0  # 2x while |w| > 1
        if read == ".data":
            return x * Value(w.data)  # a constant made from a weight: w x
        if read == "no_grad":
            with autodiff.no_grad():
                scale = w * 1.0  # a constant made from a weight: w x
            return x * scale
        return x * 2.0 if w >= v else x * 3.0

    def expected(x):
        if read in (".data", "no_grad"):
            return w.data * x
        if read == "a computed comparison":
            return x * (2.0 if w.data * w.data - 1.0 > 0 else 3.0)
        return x * (2.0 if w.data >= v.data else 3.0)

    program = autodiff.compile(f)
    xs = np.array([1.0, -2.0])
    for new_w in (1.5, 0.1, -2.0, 0.1):
        w.data = new_w
        assert program(xs).tolist() == expected(xs).tolist(), new_w


def test_a_nan_weight_read_as_a_number_does_not_trace_again_at_each_call():
    w = Value(math.nan)
    program = autodiff.compile(lambda x: x * Value(w.data))
    for _ in range(3):
        assert np.isnan(program(np.ones(2))).all()
    assert program.traces == 1


# --- the signature --------------------------------------------------------------------------
def test_inputs_are_the_parameters_a_count_or_names():
    w = Value(3.0)

    def f(x, target, w=w):  # a default binds a weight: not an input
        return (x * w - target) ** 2

    program = autodiff.compile(f)
    assert program.input_names == ["x", "target"]
    assert program(np.array([1.0, 2.0]), np.array([0.0, 1.0])).tolist() == [9.0, 25.0]
    with pytest.raises(ValueError, match=r"takes 2 columns \(x, target\)"):
        program(np.ones(2))
    assert autodiff.compile(lambda *xs: xs[0] * xs[1], inputs=2).input_names == ["x0", "x1"]
    unused = autodiff.compile(lambda a, b: a * 2.0, inputs=["a", "b"])  # b unused: zero gradient
    assert unused(np.array([1.0]), np.array([5.0])).tolist() == [2.0]
    assert [g.tolist() for g in unused.backward()] == [[2.0], [0.0]]


@pytest.mark.parametrize("call, error, message", [
    (lambda: autodiff.compile(lambda *xs: xs[0]), TypeError, "inputs=n"),
    (lambda: autodiff.compile(lambda x: 2.0), TypeError, "returned a float"),
    (lambda: autodiff.compile(lambda x: x, inputs=0), ValueError, "at least one"),
    (lambda: autodiff.compile(lambda x: x, inputs="x"), TypeError, "a count or a list of names"),
    (lambda: autodiff.compile(lambda x: x, inputs=[Value(0.0)]), TypeError, "must be a name"),
    (lambda: autodiff.compile(Value(1.0)), TypeError, "name the leaves"),
    (lambda: autodiff.compile(3.0, inputs=[]), TypeError, "a Value .* or a function"),
])
def test_bad_compile_calls_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_tracing_is_per_thread_and_leaves_nothing_behind():
    seen_elsewhere = []

    def other_thread():  # not tracing: numbers and comparisons as usual
        v = Value(2.0) * 3.0
        seen_elsewhere.append((v.data, v > 5, v.parents != ()))

    def f(x):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        return x.data  # refused

    with pytest.raises(TracingError):
        autodiff.compile(f)
    assert seen_elsewhere == [(6.0, True, True)]
    a = Value(2.0) * 3.0  # after a failed trace: recording as before, numbers readable
    assert a.data == 6.0 and a > 5 and a.parents and bool(a)
    with autodiff.no_grad():
        assert not (Value(1.0) * 2.0).parents


def test_compile_inside_a_traced_function_is_refused():
    with pytest.raises(RuntimeError, match="inside a function it is tracing"):
        autodiff.compile(lambda x: autodiff.compile(lambda y: y * 2.0)(np.ones(1)) and x)


def backward_inside(x):
    y = x * x
    y.backward()  # fills x.grad with the placeholder's gradient: one number for all samples
    return x * x.grad


@pytest.mark.parametrize("f, what", [
    (lambda x: x * autodiff.gradients(x * x, [x])[0], "computes gradients as numbers"),
    (backward_inside, "computes gradients as numbers"),
    (lambda x: x * autodiff.local_gradients(x * x)[0], "computes local gradients as numbers"),
    (lambda x: x * autodiff.input_gradients(x * x, 1.0)[0], "computes input gradients as numbers"),
])
def test_gradients_as_numbers_of_a_per_sample_value_are_refused(f, what):
    # Each would be the placeholder's gradient (0 here), replayed for every sample.
    with pytest.raises(TracingError, match=what):
        autodiff.compile(f)


def test_gradients_as_graphs_inside_a_traced_function_are_per_sample():
    xs = np.array([1.0, -2.0, 3.0])
    by_grad = autodiff.compile(lambda x: x * autodiff.grad(lambda t: t * t)(x))
    by_graph = autodiff.compile(lambda x: x * autodiff.gradients(x * x, [x], create_graph=True)[0])
    for program in (by_grad, by_graph):
        assert program(xs).tolist() == (2 * xs ** 2).tolist()  # x · d(x²)/dx = 2x², a closed form
