"""Every mistake issue 14 lists, and a wrong argument of each kind to the public
functions of autodiff, nn and viz, gets an error naming the argument, what it got, what
it wants and, where there is one, the fix."""

import os
import re

import numpy as np
import pytest

import autodiff
import nn
import viz
from autodiff import Value

X = [[0.0, 0.0], [1.0, 1.0]]


def model() -> nn.MLP:
    return nn.MLP(2, [3, 1], seed=0)


def message(error_type, call) -> str:
    with pytest.raises(error_type) as caught:
        call()
    return str(caught.value)


# --- the cases of the issue -------------------------------------------------------------
@pytest.mark.parametrize("column", [[[-1.0], [1.0]], np.array([[-1.0], [1.0]])])
def test_targets_given_as_a_column_to_fit_say_so_and_how_to_flatten(column):
    text = message(ValueError, lambda: nn.fit(model(), X, column, loss="hinge", epochs=1, progress=False))
    assert "y must be" in text and "column" in text and "np.ravel(y)" in text


def test_targets_given_as_a_column_to_a_loss_say_so_and_how_to_flatten():
    preds = [model()(x) for x in X]
    text = message(TypeError, lambda: nn.hinge_loss(preds, [[-1.0], [1.0]]))
    assert text.startswith("hinge_loss: targets must be one number per sample, got a column")
    assert "np.ravel(targets)" in text
    text = message(TypeError, lambda: nn.mse_loss(preds, np.array([[-1.0], [1.0]])))
    assert "got a column" in text and "np.ravel(targets)" in text


@pytest.mark.parametrize("batch", [X, np.array(X)])
def test_a_model_called_on_a_batch_says_it_takes_one_sample_and_how_to_call_it(batch):
    text = message(TypeError, lambda: model()(batch))
    assert "takes one sample, a list of 2 numbers or Values, got a batch" in text
    assert "[model(x) for x in X]" in text


def test_a_loss_of_one_prediction_and_one_number_is_one_sample_as_in_pytorch():
    m = model()
    pred = m(X[0])
    assert nn.hinge_loss(pred, 1.0).data == nn.hinge_loss([pred], [1.0]).data == max(0.0, 1.0 - pred.data)
    text = message(TypeError, lambda: nn.hinge_loss([pred, m(X[1])], 1.0))
    assert "targets must be a list, one number per sample, got a float (1.0) for 2 predictions" in text
    assert "[1.0] * 2" in text


def test_saving_into_a_missing_folder_names_the_folder_not_a_temporary_file(tmp_path):
    folder = tmp_path / "no such folder"
    with pytest.raises(FileNotFoundError) as caught:
        model().save(folder / "model.json")
    text = str(caught.value)
    assert "model.json" in text and "folder does not exist" in text and "os.makedirs" in text
    assert caught.value.filename == os.fspath(folder) and ".tmp" not in text
    assert not folder.exists()


def test_an_optimizer_given_the_model_says_to_pass_its_parameters():
    text = message(TypeError, lambda: nn.SGD(model()))
    assert text == "SGD: params must be a list of Values, got a model (MLP); pass model.parameters(), as in PyTorch"


def test_sgd_has_pytorchs_default_learning_rate():
    w = Value(1.0)
    w.grad = 1.0
    nn.SGD([w]).step()
    assert w.data == 1.0 - 1e-3


# --- a sweep of wrong arguments ---------------------------------------------------------
y_node = Value(1.0, label="x") * 2.0
WRONG_KINDS = [
    # (call, error type, pattern that must be in the message)
    (lambda: autodiff.gradients(y_node, 3.0), TypeError, r"gradients: inputs must be a list of Values, got a float \(3.0\)"),
    (lambda: autodiff.gradients(y_node, model()), TypeError, r"got a model \(MLP\); pass model.parameters\(\)"),
    (lambda: autodiff.compile(y_node, 3), TypeError, r"compile: inputs must be a list of Values, got an int \(3\)"),
    (lambda: autodiff.compile(y_node, [], backend=np.zeros(2)), ValueError, r"backend is one of .*got a numpy array of shape \(2,\)"),
    (lambda: autodiff.LeafArrays(Value(1.0)), TypeError, r"LeafArrays: leaves must be a list of Values, got one Value; wrap it in a list"),
    (lambda: autodiff.LeafArrays([Value(1.0)]).write_data(["a"]), ValueError, r"write_data needs 1 numbers, one per leaf, got a list of 1 item \(\['a'\]\)"),
    (lambda: nn.mse_loss(None, [1.0]), TypeError, r"mse_loss: the predictions must be a list, one Value per sample, got a NoneType \(None\)"),
    (lambda: nn.mse_loss(model(), [1.0]), TypeError, r"call the model on each sample: \[model\(x\) for x in X\]"),
    (lambda: nn.cross_entropy_loss(3, [0]), TypeError, r"cross_entropy_loss: logits must be a list, one list of class logits per sample, got an int \(3\)$"),
    (lambda: nn.fit(model(), 3.0, [1.0], progress=False), TypeError, r"fit: X must be a list, one list of features per sample, got a float \(3.0\)"),
    (lambda: nn.fit(model(), X, None, progress=False), TypeError, r"fit: y must be a list, one target per sample, got a NoneType"),
    (lambda: nn.MLP(2, 3), ValueError, r"MLP: nouts must be a non-empty list of layer sizes, such as \[16, 1\], got an int \(3\); for one layer: \[3\]"),
    (lambda: nn.MLP(2, [3, 1], activation=np.zeros(2)), ValueError, r"an activation is one of relu, tanh, sigmoid, linear, got a numpy array"),
    (lambda: nn.MLP(2, [3, 1], seed=-1), TypeError, r"the seed \(rng\) must be an int >= 0, a numpy Generator or None, got an int \(-1\)"),
    (lambda: nn.Adam(model().parameters(), betas=0.9), ValueError, r"Adam: betas must be a pair of numbers in \[0, 1\), such as \(0.9, 0.999\), got a float \(0.9\)"),
    (lambda: model().save(None), TypeError, r"save: path must be a file path \(a str or pathlib.Path\), got a NoneType"),
    (lambda: model().load(3), TypeError, r"load: path must be a file path \(a str or pathlib.Path\), got an int \(3\)"),
    (lambda: viz.render(y_node, 1.5), TypeError, r"render: path must be a file path"),
    (lambda: viz.backward_steps(y_node, None), TypeError, r"backward_steps: path must be a file path"),
    (lambda: viz.draw_dot(model()), TypeError, r"drawing a graph needs a Value, got a model \(MLP\); draw what it computes: viz.draw_dot\(model\(x\)\)"),
    (lambda: viz.draw_dot(y_node, rankdir=np.zeros(2)), ValueError, r"draw_dot: rankdir must be one of 'LR', 'RL', 'TB', 'BT', got a numpy array"),
    (lambda: viz.draw_dot(y_node, vanishing=-1), ValueError, r"draw_dot: vanishing must be a number > 0 \(a \|grad\| threshold\), got an int \(-1\)"),
    (lambda: viz.GradientFlow([1.0]), TypeError, r"GradientFlow records an nn model \(an nn.MLP, say\), got a list of 1 item"),
    (lambda: viz.plot_history([0.5, 0.2]), TypeError, r"plot_history takes the history nn.fit returns \(a dict of lists\), got a list"),
    (lambda: viz.plot_decision_boundary(None, X, [1, -1]), TypeError, r"plot_decision_boundary: model must be a model or a function of one sample"),
    (lambda: viz.plot_decision_boundary(model(), X, [[1], [-1]]), ValueError, r"y must be one number per sample, got an array of shape \(2, 1\); it is a column: flatten it with np.ravel\(y\)"),
    (lambda: viz.plot_decision_boundary(model(), ["ab", "cd"], [1, -1]), ValueError, r"X must be one row of numbers per sample, got a list of 2 items"),
    (lambda: viz.TrainingRecord(model(), X, "ab", loss="hinge"), ValueError, r"TrainingRecord: y must be one number per sample, got a str"),
    (lambda: viz.TrainingRecord(model(), X, [1.0, -1.0], loss=np.zeros(2)), ValueError, r"TrainingRecord takes loss .*got a numpy array"),
    (lambda: viz.TrainingRecord(model(), X, [1.0, -1.0], loss="hinge").write(3), TypeError, r"TrainingRecord.write: path must be a file path"),
    (lambda: nn.MLP(2, [3, 1], init=None), ValueError, r"init is one of pytorch, he, xavier, got a NoneType \(None\)"),
    (lambda: nn.SGD(model().parameters(), nesterov="yes"), TypeError, r"SGD: nesterov must be True or False, got a str \('yes'\)"),
    (lambda: nn.SGD(model().parameters(), dampening=None), ValueError, r"SGD: dampening must be a finite number, got a NoneType"),
    (lambda: autodiff.gradcheck(lambda t: t * t, 1.0, eps="small"), ValueError, r"gradcheck: eps must be a finite number > 0, got a str"),
    (lambda: autodiff.gradcheck(lambda t: t * t, 1.0, atol=-1), ValueError, r"gradcheck: atol must be a finite number >= 0, got an int \(-1\)"),
    (lambda: autodiff.explain(y_node, y_node, steps="all"), ValueError, r"explain: steps must be an int >= 1, got a str \('all'\)"),
    (lambda: viz.draw_dot(y_node, colour=np.ones(2)), TypeError, r"draw_dot: colour must be True or False, got a numpy array"),
    (lambda: viz.backward_steps(y_node, "steps.html", quiz="yes"), TypeError, r"backward_steps: quiz must be True or False"),
    (lambda: viz.plot_decision_boundary(model(), X, [1, -1], resolution=None), ValueError, r"resolution must be an int >= 2, got a NoneType"),
]


@pytest.mark.parametrize("call, error, pattern", WRONG_KINDS, ids=[p[:50] for _, _, p in WRONG_KINDS])
def test_a_wrong_argument_is_named_with_what_it_got(call, error, pattern):
    assert re.search(pattern, message(error, call))


def test_values_of_names_what_it_takes():
    x = Value(0.0, label="x")
    program = autodiff.compile(x * x, inputs=[x])
    program(np.array([1.0]))
    assert message(TypeError, lambda: program.values_of("x")) == (
        "values_of takes a node of the program's graph (a Value), got a str ('x')")


def test_describing_a_value_never_reads_its_number_so_a_traced_function_gets_the_plain_error():
    # compile(model) passes the model one Value: the error must be about that, not a TracingError
    with pytest.raises(TypeError, match="this model takes one sample, a list of 2 numbers or Values, got a Value"):
        autodiff.compile(model())
