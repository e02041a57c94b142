"""Every op of the table: value and gradient against closed forms and finite differences.

The references are plain ``math`` functions and hand-derived derivatives, so neither
the value nor the gradient is checked against the engine itself.
"""

import math

import pytest

from autodiff import Value
from tests.reference import central_difference, close


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


# method name: (reference function, its derivative, points away from kinks and poles)
UNARY = {
    "exp": (math.exp, math.exp, [-3.0, -0.5, 0.0, 0.7, 4.0]),
    "log": (math.log, lambda x: 1 / x, [0.05, 0.5, 1.0, 2.5, 100.0]),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.01, 0.5, 1.0, 9.0, 123.0]),
    "sin": (math.sin, math.cos, [-2.0, -0.3, 0.0, 1.1, 5.0]),
    "cos": (math.cos, lambda x: -math.sin(x), [-2.0, -0.3, 0.0, 1.1, 5.0]),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-3.0, -0.4, 0.0, 0.9, 2.5]),
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), [-6.0, -1.0, 0.0, 0.5, 4.0]),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0, [-2.0, -0.1, 0.1, 3.0]),
    "softplus": (lambda x: math.log(1 + math.exp(x)), sigmoid, [-6.0, -1.0, 0.0, 0.5, 4.0]),
    "log_sigmoid": (lambda x: -math.log(1 + math.exp(-x)), lambda x: 1 - sigmoid(x), [-6.0, -1.0, 0.0, 2.0, 5.0]),
    "tan": (math.tan, lambda x: 1 / math.cos(x) ** 2, [-1.2, -0.3, 0.0, 0.7, 1.4]),
    "arcsin": (math.asin, lambda x: 1 / math.sqrt(1 - x * x), [-0.9, -0.3, 0.0, 0.5, 0.99]),
    "arccos": (math.acos, lambda x: -1 / math.sqrt(1 - x * x), [-0.9, -0.3, 0.0, 0.5, 0.99]),
    "arctan": (math.atan, lambda x: 1 / (1 + x * x), [-5.0, -0.5, 0.0, 0.8, 30.0]),
    "sinh": (math.sinh, math.cosh, [-3.0, -0.4, 0.0, 0.9, 2.5]),
    "cosh": (math.cosh, math.sinh, [-3.0, -0.4, 0.0, 0.9, 2.5]),
    "log2": (math.log2, lambda x: 1 / (x * math.log(2)), [0.05, 0.5, 1.0, 2.5, 100.0]),
    "log10": (math.log10, lambda x: 1 / (x * math.log(10)), [0.05, 0.5, 1.0, 2.5, 100.0]),
    "expm1": (math.expm1, math.exp, [-3.0, -1e-8, 0.0, 0.7, 4.0]),
    # steps: flat between them, gradient 0 (as PyTorch), points away from the steps
    "floor": (math.floor, lambda x: 0.0, [-2.5, -0.1, 0.3, 4.7]),
    "ceil": (math.ceil, lambda x: 0.0, [-2.5, -0.1, 0.3, 4.7]),
    "sign": (lambda x: math.copysign(1.0, x), lambda x: 0.0, [-2.5, -0.1, 0.3, 4.7]),
}

UNARY_CASES = [(name, x) for name, (_, _, points) in UNARY.items() for x in points]


@pytest.mark.parametrize("name, x", UNARY_CASES)
def test_unary_method_value_and_gradient(name, x):
    reference, derivative, _ = UNARY[name]
    v = Value(x)
    out = getattr(v, name)()
    out.backward()
    assert out.op == name and out.parents == (v,)
    assert close(out.data, reference(x), rel=1e-14, abs_=1e-15)
    assert close(v.grad, derivative(x), rel=1e-12, abs_=1e-14)
    assert close(v.grad, central_difference(reference, [x], 0), rel=1e-6, abs_=1e-8)


@pytest.mark.parametrize("x", [-2.5, -0.1, 0.3, 4.0])
def test_abs_and_neg(x):
    for build, reference, derivative in [
        (abs, abs, lambda x: math.copysign(1.0, x)),
        (lambda v: -v, lambda x: -x, lambda x: -1.0),
    ]:
        v = Value(x)
        out = build(v)
        out.backward()
        assert out.data == reference(x)
        assert v.grad == derivative(x)
        assert close(v.grad, central_difference(reference, [x], 0), rel=1e-6)


# operator: (reference, d/da, d/db, (a, b) points)
BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
    "-": (lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
    "*": (lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    "/": (lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    "**": (lambda a, b: a**b, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * math.log(a)),
}
POINTS = [(1.5, 2.0), (0.3, -1.7), (2.0, 0.5), (4.0, 3.0), (0.9, 0.0)]
# division by zero is not a point for finite differences: test_numerics covers it
BINARY_CASES = [(op, a, b) for op in BINARY for a, b in POINTS if not (op == "/" and b == 0)]


def apply_operator(op, a, b):
    return eval(f"a {op} b")


@pytest.mark.parametrize("op, a, b", BINARY_CASES)
@pytest.mark.parametrize("sides", ["Value op Value", "Value op number", "number op Value"])
def test_binary_operator_value_and_gradients(op, a, b, sides):
    reference, d_a, d_b = BINARY[op]
    va, vb = Value(a), Value(b)
    left = va if sides != "number op Value" else a
    right = vb if sides != "Value op number" else b
    out = apply_operator(op, left, right)
    assert isinstance(out, Value)
    assert close(out.data, reference(a, b), rel=1e-15, abs_=0.0)
    out.backward()
    if sides != "number op Value":
        assert close(va.grad, d_a(a, b), rel=1e-12, abs_=1e-14)
        assert close(va.grad, central_difference(reference, [a, b], 0), rel=1e-6)
    if sides != "Value op number":
        assert close(vb.grad, d_b(a, b), rel=1e-12, abs_=1e-14)
        assert close(vb.grad, central_difference(reference, [a, b], 1), rel=1e-6)


def test_sum_is_one_node_with_unit_local_gradients():
    import autodiff

    xs = [Value(v) for v in (1.5, -2.0, 4.25)]
    out = autodiff.sum([xs[0], xs[1], 3.0, xs[2], xs[0]])  # xs[0] twice
    out.backward()
    assert out.op == "sum" and len(out.parents) == 5
    assert out.data == 1.5 - 2.0 + 3.0 + 4.25 + 1.5
    assert [x.grad for x in xs] == [2.0, 1.0, 1.0]


def test_dot_with_and_without_bias_against_closed_forms_and_finite_differences():
    import autodiff

    w, x, b = [0.5, -1.25, 2.0], [3.0, 0.4, -0.7], 0.3
    reference = lambda *v: sum(v[i] * v[3 + i] for i in range(3)) + v[6]  # noqa: E731
    ws, xs, bias = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    out = autodiff.dot(ws, xs, bias=bias)
    out.backward()
    assert out.op == "w·x+b" and out.parents == (*ws, *xs, bias)
    assert close(out.data, reference(*w, *x, b), rel=1e-15)
    point = [*w, *x, b]
    for i, v in enumerate([*ws, *xs, bias]):
        assert v.grad == ([*x, *w, 1.0][i])  # closed form: d/dw = x, d/dx = w, d/db = 1
        assert close(v.grad, central_difference(reference, point, i), rel=1e-6)
    plain = autodiff.dot(ws, xs)
    assert plain.op == "dot" and close(plain.data, reference(*w, *x, 0.0), rel=1e-15)


def test_dot_of_a_vector_with_itself_gives_twice_the_vector():
    import autodiff

    ws = [Value(v) for v in (1.0, -3.0)]
    autodiff.dot(ws, ws).backward()
    assert [w.grad for w in ws] == [2.0, -6.0]


def test_second_derivative_through_dot():
    import autodiff
    from autodiff import grad

    # d2/dx2 (x * x + 3x)·... through dot([x, x], [x, 3]) = x^2 + 3x: second derivative 2
    assert grad(grad(lambda x: autodiff.dot([x, x], [x, 3.0])))(1.7) == 2.0


def test_empty_sum_and_dot_are_zero():
    import autodiff

    assert autodiff.sum([]).data == 0.0 and autodiff.dot([], []).data == 0.0
    assert autodiff.dot([], [], bias=Value(2.0)).data == 2.0


def test_sum_and_dot_reject_bad_input():
    import autodiff

    with pytest.raises(ValueError, match="2 weights and 3 inputs"):
        autodiff.dot([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"dot inputs\[1\] must be a real number, got str"):
        autodiff.dot([1.0, 2.0], [1.0, "x"])
    with pytest.raises(TypeError, match="iterable"):
        autodiff.sum(Value(1.0))
    with pytest.raises(TypeError, match="iterable"):
        autodiff.sum("abc")
