"""IEEE 754 float64 numerics, as PyTorch gives them: one test per edge case.

No op raises, warns, or returns anything but a Python float, whatever float it gets.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import Value, ops

inf, nan = math.inf, math.nan


def value_and_grad(build, x):
    v = Value(x)
    out = build(v)
    out.backward()
    return out.data, v.grad


def test_relu_derivative_at_zero_is_zero():
    assert value_and_grad(lambda x: x.relu(), 0.0) == (0.0, 0.0)


def test_abs_derivative_at_zero_is_zero():
    assert value_and_grad(abs, 0.0) == (0.0, 0.0)


def test_sqrt_derivative_at_zero_is_infinite():
    assert value_and_grad(lambda x: x.sqrt(), 0.0) == (0.0, inf)


def test_zero_to_the_zero_is_one_with_gradient_zero():
    assert value_and_grad(lambda x: x**0, 0.0) == (1.0, 0.0)
    base, exponent = Value(0.0), Value(0.0)
    out = base**exponent
    out.backward()
    assert (out.data, base.grad, exponent.grad) == (1.0, 0.0, 0.0)


def test_negative_base_to_a_fractional_power_is_nan_not_complex():
    out = Value(-8.0) ** (1 / 3)
    assert type(out.data) is float and math.isnan(out.data)


def test_overflowing_power_is_infinity_not_a_huge_int():
    out = Value(10) ** 400
    assert type(out.data) is float and out.data == inf
    assert (Value(10) ** Value(400)).data == inf
    assert (10 ** Value(400)).data == inf


def test_division_by_zero_is_infinite_with_ieee_signs():
    assert (Value(1) / 0).data == inf
    assert (Value(-1) / 0).data == -inf
    assert (Value(1) / -0.0).data == -inf
    assert math.isnan((Value(0) / 0).data)


def test_division_by_zero_gradients_follow_pytorch():
    a, b = Value(1.0), Value(0.0)
    (a / b).backward()
    assert (a.grad, b.grad) == (inf, -inf)


def test_zero_to_a_negative_power_is_infinite():
    assert value_and_grad(lambda x: x**-1, 0.0) == (inf, -inf)


def test_log_of_zero_is_minus_infinity():
    assert value_and_grad(lambda x: x.log(), 0.0) == (-inf, inf)


def test_log_of_a_negative_number_is_nan():
    data, grad = value_and_grad(lambda x: x.log(), -1.0)
    assert math.isnan(data) and grad == -1.0


def test_sqrt_of_a_negative_number_is_nan():
    data, grad = value_and_grad(lambda x: x.sqrt(), -1.0)
    assert math.isnan(data) and math.isnan(grad)


def test_exp_overflows_to_infinity_and_underflows_to_zero():
    assert value_and_grad(lambda x: x.exp(), 1000.0) == (inf, inf)
    assert value_and_grad(lambda x: x.exp(), -1000.0) == (0.0, 0.0)


@pytest.mark.parametrize("x, expected", [(1000.0, 1.0), (-1000.0, 0.0), (1e308, 1.0), (-1e308, 0.0)])
def test_sigmoid_saturates_exactly_with_gradient_zero(x, expected):
    assert value_and_grad(lambda v: v.sigmoid(), x) == (expected, 0.0)


@pytest.mark.parametrize("x, expected", [(1000.0, 1.0), (-1000.0, -1.0), (1e308, 1.0), (-1e308, -1.0)])
def test_tanh_saturates_exactly_with_gradient_zero(x, expected):
    assert value_and_grad(lambda v: v.tanh(), x) == (expected, 0.0)


def test_softplus_is_exact_in_both_tails():
    assert value_and_grad(lambda x: x.softplus(), 1000.0) == (1000.0, 1.0)
    assert value_and_grad(lambda x: x.softplus(), -1000.0) == (0.0, 0.0)
    assert value_and_grad(lambda x: x.softplus(), 1e308) == (1e308, 1.0)


def test_log_sigmoid_is_exact_in_both_tails():
    assert value_and_grad(lambda x: x.log_sigmoid(), -1000.0) == (-1000.0, 1.0)
    assert value_and_grad(lambda x: x.log_sigmoid(), 1000.0) == (0.0, 0.0)
    assert value_and_grad(lambda x: x.log_sigmoid(), -1e308) == (-1e308, 1.0)


def test_nan_propagates_through_relu():
    assert math.isnan(Value(nan).relu().data)


@pytest.mark.parametrize("method", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "softplus", "log_sigmoid", "relu"])
def test_nan_propagates_through_every_method(method):
    assert math.isnan(getattr(Value(nan), method)().data)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1000.0, -1000.0, 1e308, -1e308, 5e-324, inf, -inf, nan]
UNARY = [
    lambda x: x.exp(), lambda x: x.log(), lambda x: x.sqrt(), lambda x: x.sin(), lambda x: x.cos(),
    lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.relu(), lambda x: x.softplus(),
    lambda x: x.log_sigmoid(), abs, lambda x: -x, lambda x: x**2, lambda x: x**0.5, lambda x: x**-1,
    lambda x: x**-2.5, lambda x: x**0, lambda x: x**400,
]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a**b]


def check_quiet_float(build, *xs):
    """Forward and backward run without exception or warning, giving Python floats."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        leaves = [Value(x) for x in xs]
        out = build(*leaves)
        out.backward()
    assert type(out.data) is float
    assert all(type(leaf.grad) is float for leaf in leaves)


@pytest.mark.parametrize("build", range(len(UNARY)))
def test_no_unary_op_raises_or_warns_on_special_floats(build):
    for x in SPECIAL:
        check_quiet_float(UNARY[build], x)


@pytest.mark.parametrize("build", range(len(BINARY)))
def test_no_binary_op_raises_or_warns_on_special_floats(build):
    for a in SPECIAL:
        for b in SPECIAL:
            check_quiet_float(BINARY[build], a, b)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_no_op_raises_or_warns_on_any_floats(a, b):
    for build in UNARY:
        check_quiet_float(build, a)
    for build in BINARY:
        check_quiet_float(build, a, b)


def test_a_zero_relu_or_power_derivative_stops_even_an_infinite_gradient():
    # PyTorch selects rather than multiplies here: 0 × inf is 0, not nan
    assert value_and_grad(lambda x: x.relu().sqrt(), -1.0) == (0.0, 0.0)
    assert value_and_grad(lambda x: (x**0 - 1.0).log(), 3.0) == (-inf, 0.0)
    base, exponent = Value(3.0), Value(0.0)
    ((base**exponent) - 1.0).log().backward()
    assert base.grad == 0.0


def test_an_ordinary_product_still_gives_nan_for_zero_times_infinity():
    a, b = Value(0.0), Value(0.0)
    (a * b).sqrt().backward()  # d/da = b × sqrt'(0) = 0 × inf: nan, as in PyTorch
    assert math.isnan(a.grad)


def _same_bits(a: float, b: float) -> bool:
    """Equal to the last bit, the sign of zero included; any nan matches any nan."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


BATCHED_UNARY = [*ops.UNARY_METHODS.values(), ops.NEG, ops.ABS, ops.IDENTITY,
                 *(ops.power_by(e) for e in (2.0, 0.5, -0.5, -1.0, -2.0, -2.5, 0.0, 3.0))]


# numpy's loops for these round the last bit otherwise than the C library now and then
# (numpy's arccos(0.5) is 1.0471975511965976, C's 1.0471975511965979; PyTorch's is
# numpy's): one unit in the last place apart, at a finite result, and nowhere else.
LAST_BIT_APART = {"arcsin", "arccos", "tan", "arctan", "sinh", "cosh", "log2", "log10", "expm1", "arctan2", "hypot"}


def _one_ulp_apart(a: float, b: float) -> bool:
    return math.isfinite(a) and a != 0 and abs(a - b) <= math.ulp(a)


@pytest.mark.parametrize("op", BATCHED_UNARY, ids=lambda op: op.name)
def test_each_batched_forward_equals_the_float_forward_to_the_last_bit(op):
    # compile runs the batched forward; it must agree with the scalar engine bit for bit
    with np.errstate(all="ignore"):
        batched = op.batched(np.array(SPECIAL)).tolist()
    apart = _one_ulp_apart if op.name in LAST_BIT_APART else (lambda a, b: False)
    assert all(_same_bits(b, op.forward(x)) or apart(b, op.forward(x)) for x, b in zip(SPECIAL, batched)), (
        SPECIAL, batched)


@pytest.mark.parametrize("op", [ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.POW, ops.ARCTAN2, ops.HYPOT, ops.MAXIMUM,
                                ops.MINIMUM, ops.MOD, ops.FLOOR_DIVIDE], ids=lambda op: op.name)
def test_each_batched_binary_forward_equals_the_float_forward_to_the_last_bit(op):
    a, b = (np.array(v) for v in zip(*[(x, y) for x in SPECIAL for y in SPECIAL]))
    with np.errstate(all="ignore"):
        batched = op.batched(a, b).tolist()
    apart = _one_ulp_apart if op.name in LAST_BIT_APART else (lambda a, b: False)
    assert all(_same_bits(r, op.forward(x, y)) or apart(r, op.forward(x, y))
               for x, y, r in zip(a.tolist(), b.tolist(), batched))


def _is_minus_zero(x: float) -> bool:
    return x == 0 and math.copysign(1.0, x) == -1.0


def test_relu_keeps_minus_zero_as_pytorch_does():
    # PyTorch's relu is max(x, 0) taken as "x unless x < 0": -0.0 stays -0.0
    assert _is_minus_zero(Value(-0.0).relu().data)
    batched, into = ops.RELU.batched(np.array([-0.0, -1.0, nan])), np.empty(3)
    ops.RELU.batched(np.array([-0.0, -1.0, nan]), out=into)
    for row in (batched, into):
        assert _is_minus_zero(row[0]) and row[1] == 0.0 and math.copysign(1.0, row[1]) == 1.0 and math.isnan(row[2])


@pytest.mark.parametrize("exponent, product", [(3.0, lambda x: x * x * x), (-2.0, lambda x: 1.0 / (x * x))])
def test_common_constant_powers_are_pytorchs_products(exponent, product):
    # PyTorch computes x ** 3 as x * x * x (two roundings), not C's pow (one): its bits
    xs = [1.2345, 0.7, 1.3, -1.7, 2.9]
    assert [(Value(x) ** exponent).data for x in xs] == [product(x) for x in xs]
    assert ops.power_by(exponent).batched(np.array(xs)).tolist() == [product(x) for x in xs]
    assert any(product(x) != math.pow(x, exponent) for x in xs)  # the points tell the two apart


def test_the_gradient_of_exp_of_log_at_the_smallest_subnormal_is_one():
    # d/dx exp(log(x)) = exp(log x) / x = 1; 1 / 5e-324 overflows, so the rule must divide
    assert value_and_grad(lambda x: x.log().exp(), 5e-324) == (5e-324, 1.0)


def test_division_divides_the_incoming_gradient():
    # d/da ((a / b) * 1e-300) = 1e-300 / b, finite for b = 5e-324 where 1 / b is inf
    a, b = Value(1.0), Value(5e-324)
    ((a / b) * 1e-300).backward()
    assert a.grad == 1e-300 / 5e-324 and math.isfinite(a.grad)


def test_a_leaf_gradient_keeps_the_sign_of_its_first_contribution():
    # d(x * y)/dx = y = -0.0: the leaf's .grad is -0.0, as PyTorch's, not 0.0 + -0.0 = 0.0
    x, y = Value(2.0), Value(-0.0)
    (x * y).backward()
    assert _is_minus_zero(x.grad)
    (x * y).backward()  # -0.0 + -0.0 is -0.0
    assert _is_minus_zero(x.grad)
    (x * Value(0.0)).backward()  # -0.0 + 0.0 is 0.0
    assert x.grad == 0.0 and not _is_minus_zero(x.grad)


def test_compile_keeps_the_sign_of_a_zero_gradient():
    from autodiff import compile as compile_graph

    x, y = Value(1.0), Value(1.0)
    program = compile_graph(x * y, inputs=[x, y])
    program(np.array([2.0, 2.0]), np.array([-0.0, 0.0]))
    dx, dy = program.backward(weights=np.ones(2))
    assert _is_minus_zero(dx[0]) and dx[1] == 0.0 and not _is_minus_zero(dx[1])  # d/dx = y
    assert dy.tolist() == [2.0, 2.0]


def test_an_op_has_exactly_one_derivative_rule():
    with pytest.raises(TypeError, match="exactly one rule"):
        ops.Op("twice", 1, lambda x: 2 * x, lambda x: 2 * x)
    with pytest.raises(TypeError, match="exactly one rule"):
        ops.Op("twice", 1, lambda x: 2 * x, lambda x: 2 * x, lambda m, out, x: (2.0,),
               input_grads=lambda m, out, grad, x: (2.0 * grad,))
