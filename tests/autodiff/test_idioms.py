"""What PyTorch users type on a 0-d tensor, on a Value: the number out of it, a gradient
set to None as "no gradient yet", and a hint for the names a Value does not have.
Each expected number is PyTorch's own answer on the same 0-d tensor, or a closed form."""

import math

import numpy as np
import pytest
import torch

import autodiff
import nn
import viz
from autodiff import Value


@pytest.mark.parametrize("number", [2.5, -2.7, 0.0, -0.0, 1e300, math.inf])
def test_float_and_int_give_what_they_give_for_a_0d_tensor(number):
    t = torch.tensor(number, dtype=torch.float64)  # (with requires_grad, PyTorch warns, and converts alike)
    v = Value(number)
    assert type(float(v)) is float and math.copysign(1, float(v)) == math.copysign(1, float(t))
    assert float(v) == float(t)
    if math.isfinite(number):
        assert type(int(v)) is int and int(v) == int(t)
    else:
        with pytest.raises(OverflowError):
            int(v)


def test_numpy_and_math_read_the_number_through_float_and_leave_the_graph():
    x = Value(0.5)
    y = x * x
    assert np.array([y, x], dtype=float).tolist() == [0.25, 0.5]
    assert np.float64(y) == 0.25 and math.exp(y) == math.exp(0.25)
    outside = math.exp(y) * x  # the graph of y is left behind: math.exp gave a number
    outside.backward()
    assert x.grad == math.exp(0.25)
    assert np.array([y]).dtype == object  # no dtype: numpy keeps the nodes themselves
    with pytest.raises(TypeError):
        np.exp(y)  # a ufunc is refused: Value.exp() is the op


@pytest.mark.parametrize("convert", [float, int, math.exp])
def test_conversions_to_a_number_are_refused_while_tracing(convert):
    with pytest.raises(autodiff.TracingError, match="converts to (float|int) a per-sample value"):
        autodiff.compile(lambda x: Value(convert(x)) * x)(np.array([1.0, 2.0]))


def test_a_gradient_set_to_none_starts_from_zero_in_backward_as_in_pytorch():
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (t * t).backward()
    t.grad = None
    (t * t * t).backward()
    x = Value(3.0)
    (x * x).backward()
    x.grad = None
    (x * x * x).backward()
    assert x.grad == t.grad.item() == 27.0


def test_a_gradient_set_to_none_starts_from_zero_in_a_compiled_programs_backward():
    w = Value(2.0, label="w")
    program = autodiff.compile(lambda x: w * x)
    program(np.array([1.0, 3.0]))
    w.grad = None
    program.backward()
    assert w.grad == 2.0  # d mean(w x) / dw = mean(x)


def test_an_optimizer_step_on_a_gradient_of_none_says_which_parameter_and_why():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    opt = nn.SGD([a, b], lr=0.1)
    (a * 3.0).backward()
    b.grad = None
    with pytest.raises(ValueError, match=r"SGD.step: parameter 1 \(b\) has no gradient yet.*backward\(\).*"
                                         r"out of the optimizer's list"):
        opt.step()
    assert (a.data, b.data, opt.steps) == (1.0, 2.0, 0)  # nothing moved


def test_an_optimizer_step_on_a_gradient_that_is_not_a_number_names_it():
    a = Value(1.0, label="a")
    a.grad = "half"
    with pytest.raises(ValueError, match=r"Adam.step: .grad of parameter 0 \(a\) must be a real number, got str"):
        nn.Adam([a]).step()


def test_zero_grad_clears_a_gradient_of_none_to_zero():
    model = nn.MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.grad = None
    nn.SGD(model.parameters(), lr=0.1).zero_grad()
    assert {p.grad for p in model.parameters()} == {0.0}


def test_a_drawing_shows_a_gradient_of_none_uncoloured_as_no_gradient_yet():
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.backward()
    x.grad = None
    source = viz.draw_dot(y, edge_width=True).source
    assert "grad None" in source and "grad = None (no gradient yet)" in source


def test_gradient_flow_names_the_parameter_without_a_gradient():
    model = nn.MLP(2, [2, 1], seed=0)
    flow = viz.GradientFlow(model)
    model.parameters()[1].grad = None
    with pytest.raises(ValueError, match=r"'layers.0'.*layers.0.neurons.0.w.1.*no gradient yet"):
        flow.record()


@pytest.mark.parametrize("name, hint", [
    ("numpy", r"v.item\(\)"), ("tolist", r"v.item\(\)"), ("requires_grad", "every Value gets a gradient"),
    ("grad_fn", "v.op"), ("is_leaf", "not v.parents"), ("zero_", "v.grad = 0.0"),
])
def test_a_pytorch_name_a_value_lacks_says_what_to_use(name, hint):
    with pytest.raises(AttributeError, match=f"no attribute '{name}': .*{hint}"):
        getattr(Value(1.0), name)


def test_other_missing_names_raise_the_plain_attribute_error():
    with pytest.raises(AttributeError, match=r"^'Value' object has no attribute 'nothing'$"):
        Value(1.0).nothing
    assert not hasattr(Value(1.0), "__array__")  # numpy must still see a Value as an object


def test_backward_understands_pytorchs_keywords():
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    square = t * t
    square.backward(gradient=torch.tensor(0.5, dtype=torch.float64), retain_graph=True)
    square.backward(gradient=torch.tensor(2.0, dtype=torch.float64))
    x = Value(3.0)
    y = x * x
    y.backward(gradient=0.5, retain_graph=True)
    y.backward(2.0)
    assert x.grad == t.grad.item() == 15.0


def test_backward_with_create_graph_says_how_to_get_a_graph_of_gradients():
    x = Value(3.0)
    with pytest.raises(TypeError, match=r"autodiff.gradients\(output, inputs, create_graph=True\) or autodiff.grad"):
        (x * x).backward(create_graph=True)
    assert x.grad == 0.0
    with pytest.raises(TypeError, match="both grad and gradient"):
        (x * x).backward(2.0, gradient=3.0)


def test_a_training_record_names_the_parameter_without_a_gradient_and_records_nothing():
    model = nn.MLP(2, [2, 1], seed=0)
    record = viz.TrainingRecord(model, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0], loss="hinge")
    model.parameters()[0].grad = None
    with pytest.raises(ValueError, match=r"TrainingRecord.record: leaf 0 \(layers.0.neurons.0.w.0\) has no gradient yet"):
        record.record()
    model.parameters()[0].grad = 0.0
    record.record()
    assert len(record) == 1 and record.steps.tolist() == [0]  # the refused call counted no step
