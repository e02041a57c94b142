"""compile(..., backend="numba"): the same numbers as the numpy backend, every op and its
IEEE corner cases included, and the same errors. (Against PyTorch float64: the
cross-entropy tests of tests/nn/test_losses_compiled.py run on both backends.)"""

import math

import numpy as np
import pytest

import autodiff
import nn
from autodiff import Value, fused

numba_missing = pytest.mark.skipif(not fused.numba_available(),
                                   reason="numba is not installed (pip install 'autodiff-scalar[fast]')")

# Every sample a corner: zeros of both signs, infinities, nan, a subnormal, overflow.
SPECIAL = [0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan, 1e-310, 800.0, -800.0, 0.5, -0.5, 1.0]
ONE_INPUT = {
    "neg": lambda x: -x, "exp": Value.exp, "log": Value.log, "log1p": Value.log1p, "sqrt": Value.sqrt,
    "sin": Value.sin, "cos": Value.cos, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
    "softplus": Value.softplus, "log_sigmoid": Value.log_sigmoid, "relu": Value.relu, "abs": abs,
    "tan": Value.tan, "arcsin": Value.arcsin, "arccos": Value.arccos, "arctan": Value.arctan,
    "sinh": Value.sinh, "cosh": Value.cosh, "log2": Value.log2, "log10": Value.log10, "expm1": Value.expm1,
    "floor": Value.floor, "ceil": Value.ceil, "sign": Value.sign,
    **{f"**{c:g}": (lambda c: lambda x: x ** c)(c) for c in (2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 0.0, 1.7)},
}
TWO_INPUTS = {
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y,
    "**": lambda x, y: x ** y, "sum": lambda x, y: autodiff.sum([x, y, x]),
    "dot": lambda x, y: autodiff.dot([x, y], [y, x]), "linear": lambda x, y: autodiff.dot([x], [y], bias=x),
    "logsumexp": lambda x, y: autodiff.logsumexp([x, y, x * y]),
    "arctan2": autodiff.arctan2, "hypot": autodiff.hypot, "maximum": autodiff.maximum,
    "minimum": autodiff.minimum, "%": lambda x, y: x % y, "//": lambda x, y: x // y,
}


def both_backends(f, columns):
    """The numpy and numba programs of ``f`` run on ``columns``, then backward."""
    programs = [autodiff.compile(f, inputs=len(columns), backend=b) for b in ("numpy", "numba")]
    for program in programs:
        program(*columns)
        program.backward()
    return programs


def assert_same_numbers(a, b):
    """Equal to 1e-12 (a layer adds in another order), nan where nan, zeros of the same sign."""
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    zeros = a == 0
    assert (np.signbit(a[zeros]) == np.signbit(b[zeros])).all()


@numba_missing
def test_every_op_gives_the_numpy_backends_values_and_gradients_on_every_corner():
    x_column = np.repeat(SPECIAL, len(SPECIAL))  # every pair of corners
    y_column = np.tile(SPECIAL, len(SPECIAL))
    unary, binary = list(ONE_INPUT.values()), list(TWO_INPUTS.values())

    def every_op(*xs):  # each op on inputs of its own, so that each input's gradient is one op's
        nodes = [op(x) for op, x in zip(unary, xs)]
        pairs = xs[len(unary):]
        nodes += [op(pairs[2 * i], pairs[2 * i + 1]) for i, op in enumerate(binary)]
        return autodiff.sum(nodes)

    columns = [x_column] * len(unary) + [x_column, y_column] * len(binary)
    numpy_program, numba_program = both_backends(every_op, columns)
    # Every node's value and gradient, row by row (the two backends share one schedule).
    assert_same_numbers(numba_program._sample_values, numpy_program._sample_values)
    assert_same_numbers(numba_program._sample_grads, numpy_program._sample_grads)


@numba_missing
def test_the_two_moons_step_equals_the_numpy_backends():
    X2 = np.random.default_rng(0).normal(size=(40, 2))
    y2 = np.sign(X2[:, 0] * X2[:, 1]) + (X2[:, 0] == 0)
    histories = []
    for backend in ("numpy", "numba"):
        model = nn.MLP(2, [16, 16, 1], seed=0)
        params = model.parameters()
        program = autodiff.compile(
            lambda x0, x1, t: nn.hinge_loss([model([x0, x1])], [t]) + 1e-4 * autodiff.dot(params, params),
            backend=backend)
        opt = nn.SGD(params, lr=0.1, momentum=0.9)
        history = []
        for _ in range(5):
            history.append(program(X2[:, 0], X2[:, 1], y2).mean())
            opt.zero_grad()
            program.backward()
            history.append([p.grad for p in params])
            opt.step()
        histories.append(history + [[p.data for p in params]])
    for numpy_numbers, numba_numbers in zip(*histories):
        np.testing.assert_allclose(numba_numbers, numpy_numbers, rtol=1e-12, atol=1e-15)


@numba_missing
@pytest.mark.parametrize("f, columns, message", [
    (lambda x, t: autodiff.pick([x, 2.0 * x], t), [[1.0, 2.0, 3.0], [0.0, 1.0, 2.5]],
     "pick: sample 2 has index 2.5, not an integer in 0..1"),
    (lambda p, t: autodiff.binary_cross_entropy(p, t), [[0.5, 1.5], [1.0, 0.0]],
     "binary cross-entropy of sample 1: the probability is 1.5"),
])
def test_numbers_an_op_refuses_raise_the_numpy_backends_error(f, columns, message):
    program = autodiff.compile(f, backend="numba")
    with pytest.raises(ValueError, match=message):
        program(*map(np.array, columns))
    with pytest.raises(RuntimeError, match="run the program"):  # no half-computed batch to use
        program.backward()
    good = [column[:1] for column in columns]
    np.testing.assert_allclose(program(*map(np.array, good)), autodiff.compile(f)(*map(np.array, good)))


@numba_missing
def test_a_traced_program_traces_again_with_its_backend():
    w = Value(2.0, label="w")
    program = autodiff.compile(lambda x: x * w if w > 0 else (x * -w).exp(), backend="numba")
    assert program(np.array([1.0, -3.0])).tolist() == [2.0, -6.0]
    w.data = -0.5
    np.testing.assert_allclose(program(np.array([1.0, -3.0])), np.exp([0.5, -1.5]), rtol=1e-15)
    assert program.traces == 2 and program.backend == "numba"


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="compile's backend is one of 'numpy', 'numba', got a str \\('jax'\\)"):
        autodiff.compile(lambda x: x * 2.0, backend="jax")


def test_without_numba_the_numba_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(fused, "numba_available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install 'autodiff-scalar\[fast\]'"):
        autodiff.compile(lambda x: x * 2.0, backend="numba")
    assert autodiff.compile(lambda x: x * 2.0)(np.array([1.5])).tolist() == [3.0]  # numpy needs nothing more


@numba_missing
def test_numba_gradients_on_ordinary_numbers_match_central_differences():
    # an independent reference: f written again in plain floats, differenced in float64
    w, b = Value(0.7), Value(-0.3)

    def f(x, y):
        return (w * x + b).tanh() * y + (x * y).sigmoid() + (x * x + 1.0).log()

    def by_hand(x, y, w=0.7, b=-0.3):
        return math.tanh(w * x + b) * y + 1 / (1 + math.exp(-x * y)) + math.log(x * x + 1.0)

    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=40), rng.normal(size=40)
    program = autodiff.compile(f, inputs=2, backend="numba")
    values = program(xs, ys)
    dx, dy = program.backward(np.ones(len(xs)))  # d sum(out) / d each input: one per sample
    h = 1e-6
    for i, (x, y) in enumerate(zip(xs, ys)):
        assert values[i] == pytest.approx(by_hand(x, y), rel=1e-12)
        assert dx[i] == pytest.approx((by_hand(x + h, y) - by_hand(x - h, y)) / (2 * h), rel=1e-6, abs=1e-8)
        assert dy[i] == pytest.approx((by_hand(x, y + h) - by_hand(x, y - h)) / (2 * h), rel=1e-6, abs=1e-8)
    dw = sum((by_hand(x, y, w=0.7 + h) - by_hand(x, y, w=0.7 - h)) / (2 * h) for x, y in zip(xs, ys))
    db = sum((by_hand(x, y, b=-0.3 + h) - by_hand(x, y, b=-0.3 - h)) / (2 * h) for x, y in zip(xs, ys))
    assert (w.grad, b.grad) == (pytest.approx(dw, rel=1e-6), pytest.approx(db, rel=1e-6))



W_NO_STEPS = Value(1.5, label="w")


@numba_missing
@pytest.mark.parametrize(
    "f, out, dx, dw",
    [
        (lambda x: x, [0.5, -2.0], [0.5, 0.5], 0.0),  # d mean / dx is 1/N per sample
        (lambda x: W_NO_STEPS * W_NO_STEPS + 1.0, [3.25, 3.25], [0.0, 0.0], 3.0),  # d/dw (w² + 1) = 2w
    ],
    ids=["the input", "weights only"],
)
def test_a_program_with_no_per_sample_step_runs_on_numba_as_on_numpy(f, out, dx, dw):
    # Nothing to loop over per sample (the output is an input, or reads no input): numba's
    # source had an empty loop, an IndentationError from inside compile. Closed forms above.
    for backend in ("numpy", "numba"):
        W_NO_STEPS.grad = 0.0
        program = autodiff.compile(f, inputs=1, backend=backend)
        assert program(np.array([0.5, -2.0])).tolist() == out
        assert program.backward()[0].tolist() == dx and W_NO_STEPS.grad == dw
