"""grad, value_and_grad, higher orders, no_grad, gradcheck: against closed forms."""

import math
import threading

import pytest

import autodiff
from autodiff import GradcheckError, Value, gradcheck, gradients, grad, no_grad, value_and_grad


def f(x):
    return x.sin() * x.exp()  # f' = e^x (sin + cos), f'' = 2 e^x cos, f''' = 2 e^x (cos - sin)


def test_grad_returns_floats():
    d = grad(f)(0.7)
    assert type(d) is float
    assert d == pytest.approx(math.exp(0.7) * (math.sin(0.7) + math.cos(0.7)), rel=1e-14)


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.0])
def test_second_and_third_derivatives_match_closed_forms(x):
    e, s, c = math.exp(x), math.sin(x), math.cos(x)
    assert grad(grad(f))(x) == pytest.approx(2 * e * c, rel=1e-13, abs=1e-14)
    assert grad(grad(grad(f)))(x) == pytest.approx(2 * e * (c - s), rel=1e-13, abs=1e-14)
    assert grad(grad(grad(grad(f))))(x) == pytest.approx(-4 * e * s, rel=1e-13, abs=1e-14)


def test_higher_derivatives_of_every_unary_op():
    # (name, x, f'', f''') from hand derivations
    t, s = math.tanh(0.4), 1 / (1 + math.exp(-0.4))
    cases = [
        ("exp", 0.4, math.exp(0.4), math.exp(0.4)),
        ("log", 0.4, -1 / 0.4**2, 2 / 0.4**3),
        ("sqrt", 0.4, -0.25 * 0.4**-1.5, 0.375 * 0.4**-2.5),
        ("sin", 0.4, -math.sin(0.4), -math.cos(0.4)),
        ("cos", 0.4, -math.cos(0.4), math.sin(0.4)),
        ("tanh", 0.4, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)),
        ("sigmoid", 0.4, s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)),
        ("softplus", 0.4, s * (1 - s), s * (1 - s) * (1 - 2 * s)),
        ("log_sigmoid", 0.4, -s * (1 - s), -s * (1 - s) * (1 - 2 * s)),
        ("relu", 0.4, 0.0, 0.0),
    ]
    for name, x, second, third in cases:
        method = lambda v, name=name: getattr(v, name)()
        assert grad(grad(method))(x) == pytest.approx(second, rel=1e-12, abs=1e-15), name
        assert grad(grad(grad(method)))(x) == pytest.approx(third, rel=1e-12, abs=1e-15), name


def test_higher_derivatives_of_powers_and_quotients():
    assert grad(grad(lambda x: x**5))(1.5) == pytest.approx(20 * 1.5**3, rel=1e-14)
    assert grad(grad(grad(lambda x: x**5)))(1.5) == pytest.approx(60 * 1.5**2, rel=1e-14)
    assert grad(grad(lambda x: 1 / x))(2.0) == pytest.approx(2 / 2.0**3, rel=1e-14)
    assert grad(grad(lambda x: 2.0**x))(1.5) == pytest.approx(math.log(2) ** 2 * 2**1.5, rel=1e-14)
    assert grad(grad(lambda x: x**x))(1.5) == pytest.approx(
        1.5**1.5 * ((math.log(1.5) + 1) ** 2 + 1 / 1.5), rel=1e-13
    )
    assert grad(grad(lambda x: abs(x) * x))(-2.0) == -2.0  # d2/dx2 (x|x|) = 2 sign(x)


def test_argnums_tuple_and_value_and_grad():
    h = lambda x, y, z: x * y.exp() + z  # noqa: E731
    value, (dx, dy) = value_and_grad(h, argnums=(0, 1))(2.0, 0.5, 10.0)
    assert value == 2 * math.exp(0.5) + 10
    assert (dx, dy) == (math.exp(0.5), 2 * math.exp(0.5))
    assert grad(h, argnums=2)(2.0, 0.5, 10.0) == 1.0


def test_mixed_partial_derivative():
    # d2/dxdy (x^2 y^3) = 6 x y^2
    d_dx = grad(lambda x, y: x**2 * y**3, argnums=0)
    assert grad(d_dx, argnums=1)(1.5, -2.0) == pytest.approx(6 * 1.5 * 4.0, rel=1e-14)


def test_nested_grad_keeps_the_levels_apart():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x; mixing the levels would give 4x
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0


def test_hessian_vector_product_matches_the_closed_form():
    # f(x, y) = x^2 y + sin(x) y^3; H = [[2y - sin(x) y^3, 2x + 3 cos(x) y^2],
    #                                    [2x + 3 cos(x) y^2, 6 sin(x) y]]
    x, y = Value(0.8), Value(-1.1)
    out = x * x * y + x.sin() * y**3
    gx, gy = gradients(out, [x, y], create_graph=True)
    v = (0.3, -2.0)
    hv = gradients(gx * v[0] + gy * v[1], [x, y])
    xs, ys = 0.8, -1.1
    h = [[2 * ys - math.sin(xs) * ys**3, 2 * xs + 3 * math.cos(xs) * ys**2],
         [2 * xs + 3 * math.cos(xs) * ys**2, 6 * math.sin(xs) * ys]]
    expected = (h[0][0] * v[0] + h[0][1] * v[1], h[1][0] * v[0] + h[1][1] * v[1])
    assert hv == pytest.approx(expected, rel=1e-13)


def test_grad_of_a_function_that_ignores_its_argument_is_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(lambda x: Value(3.0))(1.0) == 0.0


def test_grad_rejects_bad_arguments_and_results():
    with pytest.raises(TypeError, match="argument 0 of <lambda> must be a real number, got str"):
        grad(lambda x: x)("a")
    with pytest.raises(TypeError, match="result of <lambda>"):
        grad(lambda x: [x])(1.0)
    with pytest.raises(TypeError, match="argnums"):
        grad(f, argnums="0")
    with pytest.raises(TypeError, match="argnums"):
        grad(f, argnums=(0, 1.5))
    with pytest.raises(ValueError, match="argnums asks for argument 2"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_grad_records_even_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0


def test_no_grad_records_no_graph_and_restores_recording():
    a = Value(2.0)
    with no_grad():
        b = a * 3 + 1
    assert (b.data, b.op, b.parents) == (7.0, "", ())
    c = a * 3
    assert c.parents[0] is a


def test_no_grad_is_thread_local():
    inside, other_thread_recorded = threading.Event(), []

    def worker():
        inside.wait()
        y = Value(1.0) * 2  # the main thread is inside no_grad at this moment
        other_thread_recorded.append(y.op == "*")

    thread = threading.Thread(target=worker)
    thread.start()
    with no_grad():
        inside.set()
        thread.join()
        main_recorded = (Value(1.0) * 2).op == "*"
    assert other_thread_recorded == [True] and main_recorded is False


def test_gradcheck_passes_on_correct_gradients():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, 0.3, -1.2)


def test_gradcheck_reports_a_wrong_gradient():
    def wrong(x):
        with no_grad():  # hides half of the function from the engine
            hidden = x * x
        return x * x + Value(hidden.data)

    # the true derivative at 0.5 is 2 * 0.5 twice over: 2.0; the engine sees only 1.0
    with pytest.raises(GradcheckError, match=r"input 0 \(= 0.5\): engine 1.0, finite differences 1.99999"):
        gradcheck(wrong, 0.5)


def test_gradcheck_names_a_labelled_input():
    def wrong(x, w):
        return x * w + Value(w.data) * 5.0

    with pytest.raises(GradcheckError, match=r"input 1 \(w\)"):
        gradcheck(wrong, 1.0, Value(2.0, label="w"))


def test_public_names():
    assert set(autodiff.__all__) >= {
        "Value", "gradients", "grad", "value_and_grad", "no_grad", "gradcheck",
        "GradcheckError", "topological_order",
    }


def test_nested_grad_through_a_captured_variable():
    # the inner function captures x from the outer grad instead of taking it as an argument
    assert grad(lambda x: grad(lambda y: x * y)(2.0))(3.0) == 1.0
    assert grad(lambda x: grad(lambda y: x * y * y)(2.0))(3.0) == 4.0


def test_int_arguments_that_are_not_differentiated_stay_ints():
    assert grad(lambda x, n: sum((x for _ in range(n)), start=Value(0.0)))(2.0, 3) == 3.0


def test_create_graph_records_even_inside_no_grad():
    x = Value(2.0)
    y = x**3
    with no_grad():
        (g,) = gradients(y, [x], create_graph=True)
    assert gradients(g, [x]) == (12.0,)  # d2/dx2 x^3 = 6x
