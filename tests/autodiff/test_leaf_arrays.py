"""LeafArrays: leaves' numbers and gradients read and written as arrays, by whoever loops
over them (optimizers, compiled programs); the leaves stay plain Values."""

import copy
import gc
import weakref

import numpy as np
import pytest

import autodiff
import nn
from autodiff import LeafArrays, Value


def test_reads_see_the_scalar_engines_writes_and_writes_reach_it():
    w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    leaves = LeafArrays([w, b])
    w.data = 2
    assert leaves.read_data().tolist() == [2.0, -1.0]
    leaves.write_data(np.array([3.0, 4.0]))
    assert (w.data, b.data) == (3.0, 4.0) and type(b.data) is float and type(w._data) is float
    assert (w * 2.0).data == 6.0  # the scalar engine reads the new number
    out = np.zeros(2)
    assert leaves.read_data(out=out) is out and out.tolist() == [3.0, 4.0]
    assert type(w) is Value and w.label == "w"  # the same plain Value throughout


def test_gradients_accumulate_from_backward_and_from_add_grad_alike():
    w, b = Value(0.5), Value(-1.0)
    leaves = LeafArrays([w, b])
    out = w * w * 3.0 + b  # d/dw = 6 w = 3, d/db = 1
    out.backward()
    out.backward()
    assert leaves.read_grad().tolist() == [6.0, 2.0]
    leaves.add_grad([0.5, 0.25])
    assert (w.grad, b.grad) == (6.5, 2.25) and type(w.grad) is float
    assert autodiff.gradients(out, [w]) == (3.0,) and w.grad == 6.5  # gradients() leaves .grad alone
    leaves.zero_grad()
    assert (w.grad, b.grad) == (0.0, 0.0)


def test_leaves_are_read_and_written_in_their_order_and_a_repeated_leaf_counts_twice():
    a, b, c, d = (Value(float(i)) for i in range(1, 5))
    leaves = LeafArrays([d, c, a])
    assert leaves.read_data().tolist() == [4.0, 3.0, 1.0] and len(leaves) == 3
    leaves.write_data([40.0, 30.0, 10.0])
    assert [v.data for v in (a, b, c, d)] == [10.0, 2.0, 30.0, 40.0]
    twice = LeafArrays([b, a, b])
    twice.add_grad(np.array([1.0, 10.0, 100.0]))
    assert (a.grad, b.grad) == (10.0, 101.0)
    assert twice.read_data().tolist() == [2.0, 10.0, 2.0]


@pytest.mark.parametrize("call, message", [
    (lambda leaves: leaves.write_data([1.0]), "write_data needs 3 numbers, one per leaf"),
    (lambda leaves: leaves.add_grad(np.ones((3, 1))), "add_grad needs 3 numbers, one per leaf"),
])
def test_bad_writes_are_named_and_change_nothing(call, message):
    values = [Value(1.0), Value(2.0), Value(3.0)]
    with pytest.raises(ValueError, match=message):
        call(LeafArrays(values))
    assert [v.data for v in values] == [1.0, 2.0, 3.0] and [v.grad for v in values] == [0.0] * 3
    with pytest.raises(ValueError):  # not a number
        LeafArrays(values).write_data(["a", "b", "c"])
    with pytest.raises(TypeError, match="Value data must be a real number, got str"):
        values[0].data = "1"


def test_items_that_are_not_values_are_named():
    with pytest.raises(TypeError, match=r"leaves\[1\] must be a Value, got a float"):
        LeafArrays([Value(1.0), 2.0])


def test_a_models_parameters_are_read_in_parameter_order():
    model = nn.MLP(2, [4, 1], seed=0)
    params = model.parameters()
    np.testing.assert_array_equal(LeafArrays(params).read_data(), [p.data for p in params])


def test_a_model_copied_deeply_has_parameters_of_its_own():
    model = nn.MLP(2, [3, 1], seed=0)
    model.parameters()[0].grad = 0.5
    twin = copy.deepcopy(model)
    ours, theirs = model.parameters(), twin.parameters()
    assert [p.data for p in theirs] == [p.data for p in ours] and theirs[0].grad == 0.5
    assert [p.label for p in theirs] == [p.label for p in ours]
    theirs[0].data = 9.0  # the copy has its own numbers
    assert ours[0].data != 9.0
    leaf = copy.copy(ours[1])
    leaf.data = 7.0
    assert ours[1].data != 7.0


def test_a_model_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        model = nn.MLP(2, [3, 1], seed=0)
        nn.SGD(model.parameters(), lr=0.1)
        leaf = weakref.ref(model.parameters()[0])
        del model
        assert leaf() is None  # no cycle between the leaves and anything that loops over them
    finally:
        gc.enable()


def test_tied_parameters_count_once():
    class Tied(nn.Module):
        def __init__(self):
            self.a = Value(1.0)
            self.b = self.a

    model = Tied()
    assert [name for name, _ in model.named_parameters()] == ["a", "b"]
    assert model.parameters() == [model.a]
    model.a.grad = 1.0
    nn.SGD(model.parameters(), lr=0.5).step()  # an optimizer takes them: the tied one moves once
    assert model.b.data == 0.5


def test_no_value_changes_its_class():
    model = nn.MLP(2, [3, 1], seed=0)
    params = model.parameters()
    x = Value(0.0)
    program = autodiff.compile(model([x, x]), [x])
    opt = nn.Adam(params, lr=0.1)
    program(np.array([1.0, 2.0]))
    program.backward()
    opt.step()
    assert {type(p) for p in params} == {Value}
