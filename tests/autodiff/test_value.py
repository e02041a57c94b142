"""Value: construction, attributes, identity semantics, numpy interplay, bad input."""

import gc
import math
import weakref

import numpy as np
import pytest

from autodiff import Value


def test_data_is_stored_as_a_python_float():
    for raw in (2, 2.0, np.float32(2.0), np.float64(2.0), np.int64(2), np.array(2.0), np.array([2.0])):
        v = Value(raw)
        assert type(v.data) is float and v.data == 2.0


def test_a_new_value_is_a_leaf_with_zero_grad():
    v = Value(1.5, label="w")
    assert (v.data, v.grad, v.label, v.op, v.parents) == (1.5, 0.0, "w", "", ())


def test_an_op_result_records_its_op_and_parents_in_order():
    a, b = Value(2.0), Value(3.0)
    c = a - b
    assert c.op == "-" and c.parents == (a, b) and c.data == -1.0 and c.label == ""


def test_a_number_beside_a_value_becomes_a_constant_leaf():
    a = Value(2.0)
    c = 10 - a
    assert c.data == 8.0
    assert c.parents[1] is a and c.parents[0].data == 10.0 and c.parents[0].op == ""


def test_an_int_beyond_float_range_becomes_infinity():
    assert Value(10**400).data == math.inf
    assert Value(-(10**400)).data == -math.inf


def test_data_can_be_assigned_and_stays_a_float():
    v = Value(1.0)
    v.data = 3
    assert type(v.data) is float and v.data == 3.0
    with pytest.raises(TypeError, match="str"):
        v.data = "3"


def test_equality_and_hashing_are_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    assert len({a, b, a}) == 2
    assert {a: "a"}[a] == "a"


def test_supports_weak_references():
    v = Value(1.0)
    ref = weakref.ref(v)
    assert ref() is v
    del v
    gc.collect()
    assert ref() is None


def test_repr_shows_data_grad_label_and_op():
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(a * 3) == "Value(data=6.0, grad=0.0, op='*')"


@pytest.mark.parametrize(
    "bad, named",
    [("abc", "str"), (None, "NoneType"), (True, "bool"), (1 + 2j, "complex"), ([1, 2], "list"),
     (np.array([1.0, 2.0]), "shape \\(2,\\)"), (np.bool_(True), "bool"), (np.complex128(1j), "complex")],
)
def test_bad_data_raises_type_error_naming_the_type(bad, named):
    with pytest.raises(TypeError, match=named):
        Value(bad)


def test_a_value_is_not_accepted_as_data():
    with pytest.raises(TypeError, match="v.data"):
        Value(Value(1.0))


def test_a_label_must_be_a_string():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_an_operator_with_a_string_raises_type_error(op):
    with pytest.raises(TypeError, match="unsupported operand.*'Value' and 'str'"):
        eval(f"Value(1.0) {op} 'a'")
    with pytest.raises(TypeError, match="unsupported operand.*'str' and 'Value'"):
        eval(f"'a' {op} Value(1.0)")


def test_an_operator_with_a_bool_or_none_raises_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + True
    with pytest.raises(TypeError):
        None * Value(1.0)


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int32(2), np.int64(2)])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_numpy_scalars_work_on_either_side_of_every_operator(scalar, op):
    v = Value(3.0)
    expected_left = eval(f"3.0 {op} 2.0")
    expected_right = eval(f"2.0 {op} 3.0")
    left, right = eval(f"v {op} scalar"), eval(f"scalar {op} v")
    assert isinstance(left, Value) and left.data == expected_left
    assert isinstance(right, Value) and right.data == expected_right


def test_an_operator_with_a_numpy_array_raises_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + np.array([1.0, 2.0])
    with pytest.raises(TypeError):
        np.array([1.0, 2.0]) * Value(1.0)


def test_item_format_and_round_read_the_number_as_pytorch_and_python_do():
    loss = Value(2.0) / 3.0
    assert loss.item() == 2.0 / 3.0 and type(loss.item()) is float
    assert f"{loss:.3f}" == "0.667" and f"{loss:>8.2e}" == "6.67e-01"
    assert f"{loss}" == str(loss) == repr(loss)
    assert round(loss, 2) == 0.67 and round(Value(2.6)) == 3 and type(round(Value(2.6))) is int


def test_detach_gives_a_leaf_with_the_same_number_where_gradients_stop():
    x = Value(3.0, label="x")
    square = x * x
    frozen = square.detach()
    assert (frozen.data, frozen.parents, frozen.label) == (9.0, (), square.label)
    y = frozen * x + square  # d/dx: 9 (through the product, the square frozen) + 2x
    y.backward()
    assert x.grad == 9.0 + 2 * 3.0
    assert frozen.grad == 3.0  # a leaf of its own: d y / d frozen = x
