"""grad and value_and_grad of functions that read Values from outside: closed forms.

Each function below is checked by two routes, against derivatives worked out by hand:
- a ``Value`` the test owns, differentiated with ``gradients(create_graph=True)`` (the
  route that lost the dependence when an inner ``grad`` returned a plain float);
- ``grad(grad(...))`` on floats (the captured variable is an outer grad's).
"""

import math
import threading

import pytest

from autodiff import Value, gradients, grad, no_grad, value_and_grad

POINTS = [-1.3, 0.4, 1.0, 2.5]


def through_a_value(fun, x0, order):
    """fun(x0) and its derivatives up to ``order``, differentiating a Value the caller owns."""
    x = Value(x0)
    y = fun(x)
    found = [y.data]
    for _ in range(order):
        (y,) = gradients(y, [x], create_graph=True)
        found.append(y.data)
    return found


def through_grad(fun, x0, order):
    """The same derivatives, from grad(grad(...(fun))) called with a float."""
    found, g = [fun(Value(x0)).data], fun
    for _ in range(order):
        g = grad(g)
        found.append(g(x0))
    return found


def assert_derivatives(fun, x0, expected):
    order = len(expected) - 1
    for route in (through_a_value, through_grad):
        assert route(fun, x0, order) == pytest.approx(expected, rel=1e-12, abs=1e-12), route.__name__


@pytest.mark.parametrize("x0", POINTS)
def test_enclosing_scope_ref(x0):
    # x * d/dy (x y) = x * x, whichever side of the product x stands on
    def fun(x):
        return x * grad(lambda y: x * y)(2.0)

    def fun_2(x):
        return x * grad(lambda y: y * x)(2.0)

    for f in (fun, fun_2):
        assert_derivatives(f, x0, [x0 * x0, 2 * x0, 2.0, 0.0])


def test_backward_through_a_grad_that_captures_the_variable():
    # the case of the issue: d/dx [x * d/dy (x y)] = 2x, not x
    x = Value(1.0)
    out = x * grad(lambda y: x * y)(2.0)
    out.backward()
    assert (out.data, x.grad) == (1.0, 2.0)


@pytest.mark.parametrize("x0", POINTS)
def test_third_derivative_through_a_closure(x0):
    # d/dy sin(x y) at y = 1 is x cos x
    def fun(x):
        return grad(lambda y: (x * y).sin())(1.0)

    c, s = math.cos(x0), math.sin(x0)
    assert_derivatives(fun, x0, [x0 * c, c - x0 * s, -2 * s - x0 * c, -3 * c + x0 * s])


@pytest.mark.parametrize("x0", POINTS)
def test_closures_three_levels_deep(x0):
    # inner: d/dz e^(x y z) at z = 1 is x y e^(x y); middle: its d/dy at y = 1 is
    # x e^x (1 + x). So fun = (x + x^2) e^x, fun' = (x^2 + 3x + 1) e^x,
    # fun'' = (x^2 + 5x + 4) e^x, fun''' = (x^2 + 7x + 9) e^x.
    def fun(x):
        def middle(y):
            return grad(lambda z: (x * y * z).exp())(1.0)

        return grad(middle)(1.0)

    e = math.exp(x0)
    expected = [(x0 + x0**2) * e, (x0**2 + 3 * x0 + 1) * e,
                (x0**2 + 5 * x0 + 4) * e, (x0**2 + 7 * x0 + 9) * e]
    assert_derivatives(fun, x0, expected)


@pytest.mark.parametrize("x0", POINTS)
def test_nested_higher_order(x0):
    # the gradient of a * b * x with respect to (a, b) at (2, 3) is (3x, 2x)
    def fun(x):
        da, db = grad(lambda a, b: a * b * x, argnums=(0, 1))(2.0, 3.0)
        return da.sin() + db.sin()

    s3, s2, c3, c2 = math.sin(3 * x0), math.sin(2 * x0), math.cos(3 * x0), math.cos(2 * x0)
    assert_derivatives(fun, x0, [s3 + s2, 3 * c3 + 2 * c2, -9 * s3 - 4 * s2, -27 * c3 - 8 * c2])


@pytest.mark.parametrize("x0", POINTS)
def test_a_function_that_calls_grad_of_a_closure_twice(x0):
    # inner(y) = d/dy (x y^2 + y) = 2 x y + 1: inner(1) * inner(2) = (2x + 1)(4x + 1)
    def twice(x):
        inner = grad(lambda y: x * y**2 + y)
        return inner(1.0) * inner(2.0)

    assert_derivatives(twice, x0, [(2 * x0 + 1) * (4 * x0 + 1), 16 * x0 + 6, 16.0, 0.0])

    # grad of grad of a closure: d2/dy2 sin(x y) at y = 1/2 is -x^2 sin(x / 2)
    def second(x):
        return grad(grad(lambda y: (x * y).sin()))(0.5)

    s, c = math.sin(x0 / 2), math.cos(x0 / 2)
    assert_derivatives(second, x0, [-x0 * x0 * s, -2 * x0 * s - x0 * x0 * c / 2])


def test_value_and_grad_keeps_value_and_gradient_connected():
    # value e^(x y) and gradient x e^(x y) at y = 2, with x = 0.5
    x = Value(0.5)
    value, gradient = value_and_grad(lambda y: (x * y).exp())(2.0)
    e = math.exp(1.0)
    assert (value.data, gradient.data) == pytest.approx((e, 0.5 * e), rel=1e-15)
    assert gradients(value, [x]) == pytest.approx((2 * e,), rel=1e-15)  # d/dx e^(2x)
    assert gradients(gradient, [x]) == pytest.approx((2 * e,), rel=1e-15)  # d/dx x e^(2x) = (1 + 2x) e^(2x)


def test_captured_leaves_and_graphs_stay_connected():
    w = Value(3.0)
    g = grad(lambda t: w * t**2)(2.0)  # 2 w t = 4w
    assert isinstance(g, Value) and g.data == 12.0
    g.backward()
    assert w.grad == 4.0

    u = w.exp()  # captured: a node computed from w
    assert gradients(grad(lambda t: u * t)(5.0), [w]) == pytest.approx((math.exp(3.0),), rel=1e-15)

    # a Value reached through a container argument, which is passed as it is
    g = grad(lambda t, weights: weights[0] * t + weights[1] * t * t)(2.0, [w, u])
    assert gradients(g, [w]) == pytest.approx((1 + 4 * math.exp(3.0),), rel=1e-15)  # d/dw (w + 4 e^w)


def test_a_value_made_by_an_earlier_call_is_captured_like_any_other():
    made = []

    def keeps_a_leaf(t):
        made.append(Value(2.0))
        return t * made[0]

    assert grad(keeps_a_leaf)(1.0) == 2.0  # the leaf was made inside: a constant there
    g = grad(lambda t: made[0] * t * t)(3.0)  # a later call captures it: 6 w
    assert gradients(g, made) == (6.0,)


def test_results_are_numbers_unless_an_outside_value_reaches_them():
    assert type(grad(lambda x: x**3)(2.0)) is float and grad(lambda x: x**3)(2.0) == 12.0
    assert type(grad(lambda x: x * 2)(3.0)) is float and grad(lambda x: x * 2)(3.0) == 2.0
    assert grad(lambda x: x * Value(2.0))(3.0) == 2.0  # a leaf made inside f is a constant

    def uses_no_grad_inside(x):
        with no_grad():
            scale = x * 2  # a leaf, made inside f
        return x * scale

    assert grad(uses_no_grad_inside)(3.0) == 6.0

    inner_results = []

    def outer(x):
        inner = grad(lambda y: y * y)(3.0)  # reads nothing from outside
        inner_results.append(inner)
        return x * inner

    assert grad(outer)(2.0) == 6.0
    assert inner_results == [6.0] and type(inner_results[0]) is float

    w = Value(1.5)
    assert isinstance(grad(lambda x: x * w)(3.0), Value)
    assert isinstance(value_and_grad(lambda x: x * 2)(w)[0], Value)  # a Value argument


def test_no_grad_keeps_closures_disconnected():
    w = Value(1.5)
    with no_grad():
        assert grad(lambda t: w * t)(2.0) == 1.5
        assert value_and_grad(lambda t: t * t)(Value(3.0)) == (9.0, 6.0)  # numbers, not a graph

    def half_hidden(x):
        with no_grad():
            hidden = grad(lambda y: x * y)(2.0)  # x, as a number
        return x + hidden

    assert grad(half_hidden)(3.0) == 1.0  # d/dx (x + constant)


def test_keyword_arguments_go_to_the_function():
    assert grad(lambda x, scale: scale * x**2)(3.0, scale=0.5) == 3.0
    assert value_and_grad(lambda x, *, scale: scale * x**2)(3.0, scale=0.5) == (4.5, 3.0)
    assert grad(lambda x, *, bias: x * bias.exp())(1.0, bias=0.0) == 1.0  # a float: a constant Value
    assert grad(lambda x, n: x * n, argnums=0)(2.0, n=3) == 3.0  # an int stays as it is
    assert grad(lambda x, y, z: x * y * z, argnums=1)(2.0, 3.0, z=5.0) == 10.0

    w = Value(2.0)
    g = grad(lambda x, w: w * x * x)(3.0, w=w)  # 2 w x, connected to w
    assert gradients(g, [w]) == (6.0,)


def test_a_differentiated_argument_passed_by_keyword_is_a_type_error():
    def f(x, y):
        return x * y

    message = (r"positional argument 0 of f, but it got 0 positional argument\(s\) and keyword "
               r"argument\(s\) x, y: pass differentiated arguments by position")
    with pytest.raises(TypeError, match=message):
        grad(f)(x=1.0, y=2.0)
    with pytest.raises(TypeError, match="positional argument 1 of f"):
        value_and_grad(f, argnums=(0, 1))(1.0, y=2.0)


def test_threads_keep_their_calls_apart():
    # two threads differentiating through closures at once; each must get 2x
    start, wrong = threading.Barrier(2), []

    def work(x0):
        start.wait()
        for _ in range(200):
            x = Value(x0)
            (derivative,) = gradients(x * grad(lambda y: x * y)(2.0), [x])
            if derivative != 2 * x0:
                wrong.append((x0, derivative))

    threads = [threading.Thread(target=work, args=(x0,)) for x0 in (1.5, -0.5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_value_made_in_another_threads_call_is_outside():
    # both threads' first calls have the same number; the leaf is still the other's
    made = []

    def keeps_a_leaf(t):
        made.append(Value(3.0))
        return t

    def capture():
        made.append(grad(lambda t: made[0] * t)(2.0))

    for target in (lambda: grad(keeps_a_leaf)(1.0), capture):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    w, g = made
    assert isinstance(g, Value) and gradients(g, [w]) == (1.0,)
