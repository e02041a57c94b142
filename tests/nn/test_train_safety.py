"""fit never destroys a model silently: everything is checked before the first update, a
step that is not finite is refused with the model and optimizer as they were, and
Ctrl-C leaves a step whole or undone. bce_loss refuses probabilities outside [0, 1]."""

import gc
import math
import re
import signal
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import autodiff
import nn
from autodiff import Value
from tests.nn.test_optim_state import bits, run_traced

NAN, INF = float("nan"), float("inf")
# Losses of the tests' own, and a model that cannot be traced, train in the scalar
# engine after a note (test_train_compiled.py tests the note).
pytestmark = pytest.mark.filterwarnings("ignore:nn.fit trains with the scalar engine")


def state_of(model, opt):
    return bits(model.state_dict()), bits(opt.state_dict())


class Line(nn.Module):
    """A model that does not say how many inputs it takes: w·x + b over whatever it gets."""

    def __init__(self, n):
        self.w = [Value(0.1 * (i + 1)) for i in range(n)]
        self.b = Value(0.0)

    def __call__(self, x):
        return autodiff.dot(self.w, [Value(v) for v in x]) + self.b


def four_samples():
    return [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]], [1.0, 1.0, -1.0, -1.0]


def refused(error, match, X, y, model=None, **options):
    """Assert that fit raises before any update: no step taken, the model unchanged."""
    model = model or nn.MLP(2, [3, 1], seed=0)
    before = bits(model.state_dict())
    steps = []
    options = {"batch_size": 1, "progress": False, "on_step": lambda: steps.append(1)} | options
    with pytest.raises(error, match=match):  # batches of 1: a fault in any batch but the first
        nn.fit(model, X, y, **options)
    assert steps == [] and bits(model.state_dict()) == before


# --- checked before the first update ----------------------------------------------------

@pytest.mark.parametrize("X, match", [
    ([[0.0, 1.0], [1.0, 0.0], [1.0, NAN], [0.5, 0.5]], "feature 1 of sample 2 is nan; fit needs finite features"),
    ([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [INF, 0.5]], "feature 0 of sample 3 is inf"),
    (np.array([[0.0, 1.0], [1.0, -INF], [1.0, 1.0], [0.5, 0.5]]), "feature 1 of sample 1 is -inf"),
    (np.zeros((4, 2, 1)), "X must be 2-D, one row of features per sample, got shape \\(4, 2, 1\\)"),
    (np.zeros(4), "X must be 2-D"),
    ([[0.0, 1.0], [1.0, 0.0], [1.0, [1.0]], [0.5, 0.5]], "feature 1 of sample 2 is a list, not a number: X must be 2-D"),
    ([[0.0, 1.0], [1.0, 0.0], [1.0, np.array([1.0, 2.0])], [0.5, 0.5]], "feature 1 of sample 2 is a ndarray"),
])
def test_bad_features_are_named(X, match):
    refused(ValueError, match, X, [1.0, 1.0, -1.0, -1.0])


def test_a_model_with_a_weight_that_is_not_finite_is_refused():
    X, y = four_samples()
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1].neurons[0].b.data = NAN
    refused(ValueError, "parameter 'layers.1.neurons.0.b' of the model is nan before training", X, y, model=model)


def test_ragged_rows_are_named_for_a_model_that_does_not_give_its_width():
    X = [[0.0, 1.0], [1.0, 0.0], [1.0], [0.5, 0.5]]
    refused(ValueError, "sample 2 of X has 1 features, but sample 0 has 2", X, [1.0] * 4, model=Line(2))


@pytest.mark.parametrize("loss, y, match", [
    ("mse", [1.0, 1.0, NAN, 0.0], "the target of sample 2 is nan; fit needs finite targets"),
    ("mse", np.array([1.0, -INF, 0.0, 0.0]), "the target of sample 1 is -inf"),
    (nn.mse_loss, [1.0, 1.0, 0.0, INF], "the target of sample 3 is inf"),
    (lambda p, t: nn.mse_loss(p, t), [1.0, 1.0, 0.0, NAN], "the target of sample 3 is nan"),
    ("hinge", [1.0, 1.0, -1.0, 0.0], "hinge loss takes targets -1 or \\+1; the target of sample 3 is 0.0"),
    ("hinge", [1.0, NAN, -1.0, 1.0], "the target of sample 1 is nan"),
    ("bce", [1.0, 0.0, 1.5, 0.0], "bce loss takes targets in \\[0, 1\\]; the target of sample 2 is 1.5"),
    ("bce", [1.0, 0.0, 0.0, NAN], "the target of sample 3 is nan"),
    ("bce_with_logits", [1.0, -0.5, 1.0, 0.0], "bce_with_logits loss takes targets in \\[0, 1\\]; the target of sample 1"),
    ("mse", np.array([[1.0], [1.0], [0.0], [0.0]]), "y must be 1-D, one target per sample, got shape \\(4, 1\\)"),
])
def test_bad_targets_are_named(loss, y, match):
    X, _ = four_samples()
    out = "sigmoid" if loss == "bce" else "linear"
    refused(ValueError, match, X, y, model=nn.MLP(2, [3, 1], out_activation=out, seed=0), loss=loss)


@pytest.mark.parametrize("y, match", [
    ([0, 1, 2, 3], "ints in 0..2 \\(the model's 3 outputs\\); the target of sample 3 is 3"),
    ([0, -1, 2, 1], "the target of sample 1 is -1"),
    ([0, 1, 2.0, 1], "the target of sample 2 is 2.0"),
    ([0, 1, True, 1], "the target of sample 2 is True"),
    (np.array([0.0, 1.0, 2.0, 1.0]), "the target of sample 0 is 0.0"),
])
def test_cross_entropy_targets_are_class_indices_of_the_model(y, match):
    X, _ = four_samples()
    refused(ValueError, "cross_entropy takes class indices, .*" + match, X, y,
            model=nn.MLP(2, [3, 3], seed=0), loss="cross_entropy")


def test_cross_entropy_counts_the_classes_of_any_model():
    X, _ = four_samples()
    layer = nn.Layer(2, 2, activation="linear", rng=0)  # no `nouts`: fit runs it once to see
    refused(ValueError, "ints in 0..1 \\(the model's 2 outputs\\); the target of sample 3 is 2",
            X, [0, 1, 1, 2], model=layer, loss="cross_entropy")
    refused(ValueError, "cross_entropy needs a model with one output per class \\(2 or more\\); this one has 1",
            X, [0, 0, 0, 0], loss="cross_entropy")
    history = nn.fit(layer, X, np.array([0, 1, 1, 0]), loss="cross_entropy", epochs=2, progress=False)
    assert len(history["accuracy"]) == 2


@pytest.mark.parametrize("options, match", [
    ({"l2": -0.1}, "l2 must be a finite number >= 0, got -0.1"),
    ({"l2": NAN}, "l2 must be a finite number >= 0, got nan"),
    ({"l2": INF}, "l2 must be a finite number >= 0, got inf"),
    ({"l2": "0.1"}, "l2 must be"),
    ({"l2": True}, "l2 must be"),
    ({"epochs": 2.0}, "epochs must be a positive int, got 2.0"),
    ({"epochs": np.int64(0)}, "epochs must be a positive int"),
    ({"epochs": True}, "epochs must be a positive int"),
    ({"batch_size": 1.5}, "batch_size must be a positive int, got 1.5"),
    ({"batch_size": -2}, "batch_size must be a positive int"),
    ({"seed": -1}, "seed must be None or an int >= 0, got -1"),
    ({"seed": 1.5}, "seed must be None or an int >= 0, got 1.5"),
    ({"seed": "0"}, "seed must be"),
    ({"progress": "yes"}, "progress must be True or False, got 'yes'"),
    ({"progress": None}, "progress must be True or False"),
])
def test_bad_options_are_named(options, match):
    X, y = four_samples()
    refused(ValueError, match, X, y, **options)


def test_options_of_the_wrong_kind_are_type_errors():
    X, y = four_samples()
    refused(TypeError, "on_step must be a function or None, got int", X, y, on_step=3)
    refused(TypeError, "optimizer must be an nn optimizer \\(nn.SGD, nn.Adam, nn.AdamW\\) or None, got a str", X, y, optimizer="adam")
    refused(TypeError, "optimizer must be an nn optimizer", X, y,
            optimizer=torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    with pytest.raises(TypeError, match=r"fit trains an nn.Module \(an nn.MLP, say\), got a function"):
        nn.fit(lambda x: Value(x[0]), X, y, progress=False)


def test_an_optimizer_over_another_models_parameters_is_refused():
    X, y = four_samples()
    other = nn.MLP(2, [3, 1], seed=1)
    refused(ValueError, "the optimizer's parameter 0 \\(layers.0.neurons.0.w.0\\) is not a parameter of this model",
            X, y, optimizer=nn.SGD(other.parameters(), lr=0.1))


def test_an_optimizer_over_some_of_the_models_parameters_trains_only_those():
    X, y = four_samples()
    model = nn.MLP(2, [3, 1], seed=0)
    last = model.layers[-1].parameters()
    first = bits([p.data for p in model.layers[0].parameters()])
    nn.fit(model, X, y, optimizer=nn.SGD(last, lr=0.1), epochs=3, progress=False)
    assert bits([p.data for p in model.layers[0].parameters()]) == first


@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint8, int])
def test_numpy_integers_are_accepted_for_epochs_batch_size_and_seed(integer):
    X, y = four_samples()
    steps = []
    history = nn.fit(nn.MLP(2, [3, 1], seed=0), np.array(X), np.array(y), epochs=integer(3),
                     batch_size=integer(2), seed=integer(5), progress=False, on_step=lambda: steps.append(1))
    assert len(history["loss"]) == 3 and len(steps) == 6
    expected = nn.fit(nn.MLP(2, [3, 1], seed=0), X, y, epochs=3, batch_size=2, seed=5, progress=False)
    assert history == expected


# --- a step that is not finite is refused -----------------------------------------------

def fit_until(model, opt, loss, on_step=None):
    """Fit in batches of 2 and keep the state after every step; return it with the error."""
    X, y = four_samples()
    states = [state_of(model, opt)]

    def record():
        states.append(state_of(model, opt))
        if on_step:
            on_step(len(states) - 1)

    with pytest.raises(FloatingPointError) as error:
        nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=3, batch_size=2, progress=False, on_step=record)
    return states, str(error.value)


def failing_at(step, spoil):
    """A loss that is mse, spoiled by ``spoil`` at the ``step``-th call."""
    calls = []

    def loss(preds, targets):
        calls.append(1)
        value = nn.mse_loss(preds, targets)
        return spoil(value, preds) if len(calls) == step else value

    return loss


@pytest.mark.parametrize("make", [
    lambda ps: nn.Adam(ps, lr=0.01), lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9),
], ids=["Adam", "SGD"])
@pytest.mark.parametrize("spoil, match", [
    (lambda loss, preds: loss * NAN, "epoch 2, batch 1 \\(step 3\\): the loss is nan"),
    (lambda loss, preds: loss + INF, "epoch 2, batch 1 \\(step 3\\): the loss is inf"),
    # A finite loss whose gradient is not: d sqrt(0 * p) / dp = 0 * inf.
    (lambda loss, preds: loss + (preds[0] * 0.0 + 0.0).sqrt(),
     "epoch 2, batch 1 \\(step 3\\): the gradient of parameter 'layers.0.neurons.0.w.0' is nan"),
], ids=["nan-loss", "inf-loss", "nan-gradient"])
def test_a_step_that_is_not_finite_changes_nothing(make, spoil, match):
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    opt = make(model.parameters())
    states, message = fit_until(model, opt, failing_at(3, spoil))
    assert re.search(match, message)
    assert message.endswith("the weights and the optimizer's state are as they were before this step")
    assert len(states) == 3 and state_of(model, opt) == states[-1] and opt.steps == 2


def test_an_update_that_would_overflow_a_weight_changes_nothing():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)

    def huge_rate(step):  # the third step would take each weight to -+inf
        if step == 2:
            opt.lr = 1e308

    states, message = fit_until(model, opt, "mse", on_step=huge_rate)
    assert re.search("epoch 2, batch 1 \\(step 3\\): the update would make parameter '[^']+' -?inf", message)
    assert state_of(model, opt) == states[-1] and opt.steps == 2


def test_an_update_that_would_overflow_a_buffer_changes_nothing():
    # A gradient of 1e200 is finite; its square, Adam's second moment, is not.
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    opt = nn.Adam(model.parameters(), lr=0.01)
    states, message = fit_until(model, opt, failing_at(3, lambda loss, preds: loss * 1e200))
    assert re.search("step 3\\): the update would make the optimizer's exp_avg_sq of parameter '[^']+' inf", message)
    assert state_of(model, opt) == states[-1] and opt.steps == 2


# --- Ctrl-C during fit ------------------------------------------------------------------

def fresh():
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    return model, nn.Adam(model.parameters(), lr=0.05)


def short_fit(model, opt, **options):
    X, y = four_samples()
    nn.fit(model, X, y, optimizer=opt, epochs=2, batch_size=2, progress=False, **options)


def states_of_a_whole_run(**options):
    """The state before the first step and after each, of the run ``short_fit`` makes."""
    model, opt = fresh()
    states = [state_of(model, opt)]
    short_fit(model, opt, on_step=lambda: states.append(state_of(model, opt)), **options)
    return states


def interrupt_at_step(k):
    steps = []

    def on_step():
        steps.append(1)
        if len(steps) == k:
            raise KeyboardInterrupt

    return on_step


def test_ctrl_c_in_on_step_or_in_the_loss_leaves_whole_steps():
    states = states_of_a_whole_run()
    # A loss of one's own trains in the scalar engine: its states, bit for bit, are the
    # scalar engine's (the compiled program's differ in the last bits).
    scalar_states = states_of_a_whole_run(compiled=False)
    assert len(states) == 5  # 2 epochs of 2 batches
    for k in (1, 3):
        model, opt = fresh()
        with pytest.raises(KeyboardInterrupt):
            short_fit(model, opt, on_step=interrupt_at_step(k))
        assert state_of(model, opt) == states[k] and opt.steps == k  # on_step runs after the k-th step

        calls = []

        def loss(preds, targets):
            calls.append(1)
            if len(calls) == k + 1:
                raise KeyboardInterrupt
            return nn.mse_loss(preds, targets)

        model, opt = fresh()
        with pytest.raises(KeyboardInterrupt):
            short_fit(model, opt, loss=loss, compiled=False)
        assert state_of(model, opt) == scalar_states[k] and opt.steps == k  # the (k+1)-th never started


# A SIGINT that lands in a __del__ (the progress bar's, as fit ends) is reported and
# dropped by Python; the model is whole all the same.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_anywhere_in_fit_leaves_whole_steps():
    """A real SIGINT, each time in a fresh run: at 50 places spread over a whole run, and
    at about 100 spread over the bytecodes the optimizer runs. The model and optimizer
    are always as some number of whole steps left them."""
    states = states_of_a_whole_run()
    model, opt = fresh()  # made outside the trace, here and below: the places stay put
    count, in_optimizer = 0, []

    def counting(frame, event, arg):
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
            if in_the_optimizer(frame):
                in_optimizer.append(count)
        return counting

    gc.disable()  # as run_traced does, so that the places match
    sys.settrace(counting)
    try:
        short_fit(model, opt)
    finally:
        sys.settrace(None)
        gc.enable()
    places = np.linspace(1, count, 50).astype(int).tolist() + in_optimizer[::max(1, len(in_optimizer) // 100)]
    seen_steps = set()
    for stop_at in places:
        model, opt = fresh()
        _, _, where = run_traced(lambda: short_fit(model, opt), stop_at)
        state = state_of(model, opt)
        assert state in states, f"a SIGINT at bytecode {stop_at} ({where}) of fit left a step half applied"
        assert opt.steps == states.index(state)
        seen_steps.add(opt.steps)
    assert len(in_optimizer) > 400 and seen_steps == {0, 1, 2, 3, 4}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def in_the_optimizer(frame):
    """Whether ``frame`` runs code of ``nn/optim.py``, or code called from there."""
    while frame is not None:
        if frame.f_code.co_filename == nn.optim.__file__:
            return True
        frame = frame.f_back
    return False


# --- bce_loss and probabilities outside [0, 1] ------------------------------------------

@pytest.mark.parametrize("bad", [1.5, -0.1, 1.0 + 2**-52, -1e-300, NAN, INF, -INF])
def test_bce_refuses_a_probability_outside_0_1_as_pytorch_does(bad):
    probs = [0.3, bad, 0.9]
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor(probs, dtype=torch.float64), torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match=f"bce_loss takes probabilities in \\[0, 1\\], got {bad!r} for sample 1"):
        nn.bce_loss([Value(p) for p in probs], [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="binary cross-entropy takes a probability and a target in \\[0, 1\\]"):
        autodiff.binary_cross_entropy(Value(bad), 1.0)


@pytest.mark.parametrize("edge", [0.0, -0.0, 1.0])
def test_bce_takes_the_ends_of_0_1_as_pytorch_does(edge):
    ours = nn.bce_loss([Value(edge), Value(0.5)], [1.0, 0.0]).data
    theirs = F.binary_cross_entropy(torch.tensor([edge, 0.5], dtype=torch.float64),
                                    torch.tensor([1.0, 0.0], dtype=torch.float64)).item()
    assert ours == theirs


def test_bce_in_a_compiled_program_refuses_a_probability_outside_0_1_at_run_time():
    x, t = Value(0.2, label="x"), Value(1.0, label="t")
    loss = nn.bce_loss([x * 2.0], [t])
    program = autodiff.compile(loss, [x, t])
    good = program(np.array([0.1, 0.4, 0.25]), np.array([1.0, 0.0, 1.0]))
    assert good.tolist() == [-math.log(0.2), -math.log1p(-0.8), -math.log(0.5)]
    with pytest.raises(ValueError, match="binary cross-entropy of sample 2: the probability is 1.2"):
        program(np.array([0.1, 0.4, 0.6]), np.array([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="of sample 0: the probability is nan"):
        program(np.array([NAN, 0.4]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="of sample 1: the probability is 0.8 and the target 2.0"):
        program(np.array([0.1, 0.4]), np.array([1.0, 2.0]))


def test_fit_with_bce_on_a_model_whose_outputs_leave_0_1_is_stopped_before_the_update():
    X, y = four_samples()
    model = nn.MLP(2, [3, 1], seed=0)  # a linear output: not a probability
    model.layers[-1].neurons[0].b.data = 5.0
    refused(ValueError, "bce_loss takes probabilities in \\[0, 1\\], got .* for sample", X, [1.0, 1.0, 0.0, 0.0],
            model=model, loss="bce", batch_size=4)
