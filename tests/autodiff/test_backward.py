"""The backward pass: order, depth, repeated passes, seeds, memory."""

import gc
import math
import weakref

import pytest

from autodiff import Value, gradients, topological_order


def test_gradient_of_a_shared_subexpression_sums_over_its_uses():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_topological_order_lists_each_node_once_after_its_parents():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[p] < position[node] for p in node.parents)
    assert order == [a, b, c, d, e]  # deterministic: parents in the order the op took them


def test_topological_order_rejects_a_non_value():
    with pytest.raises(TypeError, match="float"):
        topological_order(1.0)


def test_a_chain_of_a_million_ops_works():
    x, factor = Value(0.5), Value(1.0000001)
    y = x
    for _ in range(1_000_000):
        y = y * factor
    y.backward()
    # d/dx = 1.0000001 ** 1e6 = e^(1e6 * log1p(1e-7)); summation rounding stays far below 1e-6
    assert x.grad == pytest.approx(math.exp(1_000_000 * math.log1p(1e-7)), rel=1e-6)
    del y  # freeing a deep chain must not overflow the C stack either


def test_backward_twice_doubles_leaf_gradients_and_keeps_inner_gradients():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c.tanh()
    d.backward()
    first = (a.grad, b.grad, c.grad, d.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert (c.grad, d.grad) == (first[2], first[3])  # inner nodes show the latest pass alone


def test_backward_seed_scales_every_gradient():
    def grads(seed):
        a, b = Value(0.7), Value(-1.3)
        c = (a * b).sin()
        out = c + a.exp()
        out.backward(seed)
        return a.grad, b.grad, c.grad, out.grad

    unit = grads(1.0)
    assert grads(-4.0) == tuple(-4.0 * g for g in unit)  # a power of two scales exactly
    assert grads(-2.5) == pytest.approx(tuple(-2.5 * g for g in unit), rel=1e-15)


def test_backward_rejects_a_seed_that_is_not_a_number():
    with pytest.raises(TypeError, match="gradient passed to backward"):
        Value(1.0).backward("1")


def test_backward_on_a_leaf_accumulates_its_seed():
    x = Value(4.0)
    x.backward()
    x.backward(2.0)
    assert x.grad == 3.0


def test_a_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        a = Value(1.5)
        b = (a * 2.0).tanh() + a.exp()
        middle = weakref.ref(b.parents[0])
        out = weakref.ref(b)
        b.backward()
        del b
        assert middle() is None and out() is None  # no cycle kept them alive
        assert a.grad != 0.0
    finally:
        gc.enable()


def test_gradients_leaves_every_grad_untouched():
    a, b = Value(2.0), Value(5.0)
    c = a * b
    assert gradients(c, [a, b]) == (5.0, 2.0)
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)


def test_gradients_of_an_unused_input_is_zero():
    a, b = Value(2.0), Value(5.0)
    assert gradients(a * 3.0, [a, b]) == (3.0, 0.0)


def test_gradients_with_respect_to_an_inner_node():
    a = Value(2.0)
    c = a * 3.0
    d = c * c  # dd/dc = 2c = 12
    assert gradients(d, [c, a]) == (12.0, 36.0)


def test_gradients_of_the_output_itself_is_one():
    a = Value(2.0)
    assert gradients(a, [a]) == (1.0,)


def test_gradients_accepts_a_single_value():
    a = Value(2.0)
    assert gradients(a * a, a) == (4.0,)


def test_gradients_rejects_non_values():
    a = Value(2.0)
    with pytest.raises(TypeError, match="output must be a Value"):
        gradients(2.0, [a])
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, got a float \(2.0\)"):
        gradients(a * a, [a, 2.0])
