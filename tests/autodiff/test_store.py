"""Store and LeafArrays: leaves whose numbers and gradients are also read and written as arrays."""

import numpy as np
import pytest

import autodiff
import nn
from autodiff import LeafArrays, Store, Value


def test_a_stored_leaf_is_the_same_value_and_its_number_lives_in_the_store():
    w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    store = Store([w, b])
    assert isinstance(w, Value) and w.label == "w" and store.values == (w, b)
    w.data = 2  # the Value's setter writes the array
    assert w.data == 2.0 and type(w.data) is float and store.data.tolist() == [2.0, -1.0]
    store.data[:] = [3.0, 4.0]  # and the Values read what the store holds
    assert (w.data, b.data) == (3.0, 4.0) and type(b.data) is float
    assert (w * 2.0).data == 6.0  # the scalar engine reads the new number
    numbers = store.data
    store.data = np.zeros(2)  # written into the array, never replacing it
    assert store.data is numbers and w.data == 0.0


def test_gradients_live_in_the_store_and_accumulate_as_on_any_leaf():
    w, b = Value(0.5), Value(-1.0)
    store = Store([w, b])
    out = w * w * 3.0 + b  # d/dw = 6 w = 3, d/db = 1
    out.backward()
    out.backward()
    assert store.grad.tolist() == [6.0, 2.0] and (w.grad, b.grad) == (6.0, 2.0)
    w.grad = 0.25
    assert store.grad[0] == 0.25
    store.grad[1] = 7.0
    assert b.grad == 7.0 and type(b.grad) is float
    assert autodiff.gradients(out, [w]) == (3.0,) and w.grad == 0.25  # gradients() leaves .grad alone


def test_a_store_taking_all_of_another_stores_leaves_moves_them():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    first = Store([a, b])
    second = Store([c, a, b])
    a.grad = 5.0
    assert second.data.tolist() == [3.0, 1.0, 2.0] and second.grad.tolist() == [0.0, 5.0, 0.0]
    with pytest.raises(RuntimeError, match="moved to another Store"):
        first.data
    with pytest.raises(RuntimeError, match="moved to another Store"):
        first.grad
    assert "moved away" in repr(first)


@pytest.mark.parametrize("leaves, error, message", [
    (lambda: [Value(1.0), 2.0], TypeError, "item 1 is a float"),
    (lambda: [Value(1.0) * 2.0], ValueError, "item 0 .* is computed by an op"),
    (lambda: [Value(1.0)] * 2, ValueError, "item 1 \\(unlabelled\\) is given twice"),
])
def test_bad_leaves_are_named(leaves, error, message):
    with pytest.raises(error, match=message):
        Store(leaves())


def test_a_store_cannot_take_only_part_of_another():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="in a Store of 13, and only a Store that takes all of them"):
        Store(model.parameters()[:2])


def test_bad_writes_are_named():
    w = Value(1.0)
    store = Store([w])
    with pytest.raises(ValueError):  # numpy names the problem: shapes that do not broadcast
        store.data[:] = [1.0, 2.0]
    with pytest.raises(ValueError):  # or a string that is not a number
        store.data[:] = ["a"]
    with pytest.raises(TypeError, match="Value data must be a real number, got str"):
        w.data = "1"
    with pytest.raises(TypeError, match="a gradient must be a real number, got str"):
        w.grad = "1"
    assert w.data == 1.0 and store.data.tolist() == [1.0]


def test_leaves_read_and_write_stores_and_loose_leaves_in_their_order():
    a, b, c, d = (Value(float(i)) for i in range(1, 5))
    Store([a, b, c])
    leaves = LeafArrays([d, c, a])
    assert leaves.read_data().tolist() == [4.0, 3.0, 1.0]
    leaves.write_data([40.0, 30.0, 10.0])
    assert [v.data for v in (a, b, c, d)] == [10.0, 2.0, 30.0, 40.0]
    leaves.add_grad(np.array([1.0, 2.0, 3.0]))
    leaves.add_grad(np.array([1.0, 2.0, 3.0]))
    assert [v.grad for v in (a, b, c, d)] == [6.0, 0.0, 4.0, 2.0]
    assert leaves.read_grad().tolist() == [2.0, 4.0, 6.0]
    leaves.zero_grad()
    assert [v.grad for v in (a, c, d)] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="write_data needs 3 numbers, one per leaf"):
        leaves.write_data([1.0])


def test_leaves_follow_their_values_to_a_new_store_and_count_a_repeated_leaf_twice():
    a, b = Value(1.0), Value(2.0)
    Store([a, b])
    leaves = LeafArrays([b, a, b])
    Store([b, a])  # the layout LeafArrays knew is gone: it finds the new one
    leaves.add_grad(np.array([1.0, 10.0, 100.0]))
    assert (a.grad, b.grad) == (10.0, 101.0)
    assert leaves.read_data().tolist() == [2.0, 1.0, 2.0]


def test_in_store_order_groups_each_stores_leaves_in_store_order():
    a, b, c, d, e = (Value(0.0) for _ in range(5))
    Store([c, a])
    Store([d, b])
    assert autodiff.store.in_store_order([e, a, b, c, d]) == [c, a, d, b, e]


def test_nn_models_keep_their_parameters_in_one_store_in_parameter_order():
    model = nn.MLP(2, [4, 1], seed=0)
    params = model.parameters()
    leaves = LeafArrays(params)
    assert len(leaves._stored) == 1 and leaves._loose.size == 0  # one store, read in one call
    np.testing.assert_array_equal(leaves.read_data(), [p.data for p in params])


def test_a_model_copied_deeply_gets_its_own_store_and_a_shallow_copy_of_a_leaf_is_loose():
    import copy

    model = nn.MLP(2, [3, 1], seed=0)
    model.parameters()[0].grad = 0.5
    twin = copy.deepcopy(model)
    ours, theirs = model.parameters(), twin.parameters()
    assert [p.data for p in theirs] == [p.data for p in ours] and theirs[0].grad == 0.5
    assert [p.label for p in theirs] == [p.label for p in ours]
    theirs[0].data = 9.0  # the copy has its own numbers
    assert ours[0].data != 9.0 and LeafArrays(theirs)._loose.size == 0  # and one store of its own
    leaf = copy.copy(ours[1])
    assert leaf.data == ours[1].data and LeafArrays([leaf])._loose.size == 1


def test_a_model_is_freed_by_reference_counting_alone():
    import gc
    import weakref

    gc.disable()
    try:
        model = nn.MLP(2, [3, 1], seed=0)
        leaf = weakref.ref(model.parameters()[0])
        del model
        assert leaf() is None  # no cycle between the leaves and their store
    finally:
        gc.enable()


def test_a_store_refuses_a_subclass_before_changing_anything():
    class Special(Value):
        pass

    a = Value(1.0)
    with pytest.raises(TypeError, match="item 1 is a Value of a subclass"):
        Store([a, Special(2.0)])
    assert type(a) is Value
    Store([a])  # a is untouched and can still be stored


def test_store_arrays_can_be_written_whole():
    w, b = Value(1.0), Value(2.0)
    store = Store([w, b])
    store.grad = [0.5, 0.25]
    store.data -= store.grad  # in place: every leaf sees it
    assert (w.data, b.data, w.grad) == (0.5, 1.75, 0.5) and len(store) == 2


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
