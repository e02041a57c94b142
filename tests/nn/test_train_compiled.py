"""fit trains through a compiled program by default: the same history, weights and
``.grad`` seen by ``on_step`` as the scalar engine gives (to 1e-9; in fact to rounding),
checked against PyTorch float64 too; a model or loss that cannot be compiled trains in
the scalar engine after a one-line warning, and ``compiled`` chooses."""

import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import autodiff
import nn
from autodiff import Value

RNG = np.random.default_rng(3)
X = RNG.normal(size=(11, 3))  # 11 samples: batches of 4 leave a last batch of 3
SIGNS = np.where(X[:, 0] + X[:, 1] * X[:, 2] > 0, 1.0, -1.0)
TARGETS = {
    "hinge": SIGNS,
    "mse": X[:, 0] - 2.0 * X[:, 1] ** 2,
    "bce": (SIGNS + 1) / 2,
    "bce_with_logits": (SIGNS + 1) / 2,
    "cross_entropy": (np.digitize(X[:, 0], [-0.5, 0.5])),  # classes 0, 1, 2 as ints
}
OPTIMIZERS = {
    "SGD": lambda ps: nn.SGD(ps, lr=0.1),
    "momentum": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": lambda ps: nn.Adam(ps, lr=0.02),
    "AdamW": lambda ps: nn.AdamW(ps, lr=0.02),
}


def model_for(loss, activation, seed=0):
    outs = 3 if loss == "cross_entropy" else 1
    out_activation = "sigmoid" if loss == "bce" else "linear"
    return nn.MLP(3, [5, 4, outs], activation=activation, out_activation=out_activation, seed=seed)


def run(loss, activation, compiled, optimizer="Adam", epochs=4, **options):
    """fit's history, the final weights and every parameter's .grad at each on_step."""
    model = model_for(loss, activation)
    grads = []
    history = nn.fit(model, X, TARGETS[loss], loss=loss, optimizer=OPTIMIZERS[optimizer](model.parameters()),
                     epochs=epochs, progress=False, compiled=compiled, seed=5,
                     on_step=lambda: grads.append([p.grad for p in model.parameters()]), **options)
    return history, [p.data for p in model.parameters()], np.array(grads)


def assert_same_training(compiled, scalar):
    (history, weights, grads), (history_s, weights_s, grads_s) = compiled, scalar
    assert history.keys() == history_s.keys()
    np.testing.assert_allclose(history["loss"], history_s["loss"], rtol=1e-9, atol=0)
    if "accuracy" in history:
        assert history["accuracy"] == history_s["accuracy"]
    assert grads.shape == grads_s.shape and grads.shape[0] > 1
    np.testing.assert_allclose(grads, grads_s, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(weights, weights_s, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("loss", list(TARGETS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_every_loss_and_activation_trains_as_in_the_scalar_engine(loss, activation):
    options = {"batch_size": 4, "l2": 1e-3}  # a last batch of 3, and the L2 term
    assert_same_training(run(loss, activation, True, **options), run(loss, activation, False, **options))


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 1, 4, 11, 50])
def test_every_optimizer_and_batch_size_trains_as_in_the_scalar_engine(optimizer, batch_size):
    options = {"batch_size": batch_size, "optimizer": optimizer}
    assert_same_training(run("hinge", "relu", True, **options), run("hinge", "relu", False, **options))


def test_the_default_is_compiled_and_silent(monkeypatch):
    expected = run("cross_entropy", "tanh", False, batch_size=4)

    def no_scalar_steps(self, batch):
        raise AssertionError("a batch ran through the scalar engine")

    monkeypatch.setattr(nn.fit_steps.ScalarSteps, "forward", no_scalar_steps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback note
        assert_same_training(run("cross_entropy", "tanh", "auto", batch_size=4), expected)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_the_gradients_on_step_sees_are_pytorchs(loss):
    """One full-batch step with L2: each parameter's .grad against PyTorch float64."""
    model = model_for(loss, "tanh", seed=2)
    net = model.to_torch()
    features = torch.tensor(X)
    out = net(features)
    if loss == "mse":
        data_loss = ((out[:, 0] - torch.tensor(TARGETS["mse"])) ** 2).mean()
    else:
        data_loss = F.cross_entropy(out, torch.tensor(TARGETS["cross_entropy"]))
    l2 = 0.01
    (data_loss + l2 * sum((p * p).sum() for p in net.parameters())).backward()
    expected = []
    for linear in (m for m in net if isinstance(m, torch.nn.Linear)):  # nn's order: a neuron's weights, its bias
        for w_row, b in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()):
            expected += [*w_row, b]
    seen = []
    nn.fit(model, X, TARGETS[loss], loss=loss, l2=l2, epochs=1, progress=False, compiled=True,
           optimizer=nn.SGD(model.parameters(), lr=0.0),
           on_step=lambda: seen.append([p.grad for p in model.parameters()]))
    np.testing.assert_allclose(seen[0], expected, rtol=1e-12, atol=1e-15)


class SignGate(nn.Module):
    """A model whose forward branches on a sample's number: it cannot be traced."""

    def __init__(self):
        self.w = Value(0.5, label="w")

    def __call__(self, x):
        x = x[0] if isinstance(x[0], Value) else Value(x[0])
        return x * self.w if x > 0 else x * -self.w


def test_a_model_that_cannot_be_traced_trains_in_the_scalar_engine_after_a_one_line_note():
    Xs, ys = [[1.0], [-2.0], [0.5]], [1.0, 3.0, 0.0]
    with pytest.warns(UserWarning) as caught:
        history = nn.fit(SignGate(), Xs, ys, epochs=3, progress=False)
    (note,) = [str(w.message) for w in caught]
    assert "\n" not in note
    assert note.startswith("nn.fit trains with the scalar engine (slower): compile says TracingError: ")
    assert "compares (with >)" in note and note.endswith("Pass compiled=False to train so without this note.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.fit(SignGate(), Xs, ys, epochs=3, progress=False, compiled=False) == history
    with pytest.raises(autodiff.TracingError, match="compares \\(with >\\) a per-sample value"):
        nn.fit(SignGate(), Xs, ys, epochs=3, progress=False, compiled=True)


def test_a_loss_of_ones_own_trains_in_the_scalar_engine_after_a_one_line_note():
    def squares(preds, targets):
        return autodiff.sum([(p - t) ** 2 for p, t in zip(preds, targets)])  # a sum, not a mean

    model = nn.MLP(3, [4, 1], seed=0)
    with pytest.warns(UserWarning, match="^nn.fit trains with the scalar engine \\(slower\\): the loss 'squares' "
                                         "is not one of nn's, which fit knows to be means over samples"):
        history = nn.fit(model, X, TARGETS["mse"], loss=squares, epochs=2, progress=False)
    model = nn.MLP(3, [4, 1], seed=0)
    assert nn.fit(model, X, TARGETS["mse"], loss=squares, epochs=2, progress=False, compiled=False) == history
    with pytest.raises(ValueError, match="compiled=True: the loss 'squares' is not one of nn's"):
        nn.fit(model, X, TARGETS["mse"], loss=squares, epochs=2, progress=False, compiled=True)


def test_a_loss_that_refuses_a_number_while_the_program_runs_names_the_sample_as_the_scalar_engine_does():
    Xs, ys = [[0.0, 0.0], [1.0, 1.0], [0.0, 0.1]], [1.0, 0.0, 1.0]
    messages = []
    for compiled in (True, False):
        model = nn.MLP(2, [1], seed=0)  # a linear output: 0.5 at the origin, where compile traces
        model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 0.6, 0.5
        model.layers[0].neurons[0].b.data = 0.5
        before = model.state_dict()
        with pytest.raises(ValueError) as error:
            nn.fit(model, Xs, ys, loss="bce", progress=False, compiled=compiled)
        messages.append(str(error.value))
        assert model.state_dict() == before
    assert messages[0] == messages[1]  # the sample's place in its (shuffled) batch
    assert re.fullmatch("bce_loss takes probabilities in \\[0, 1\\], got 1.6 for sample [0-2] "
                        "\\(for scores, use bce_with_logits_loss\\)", messages[0])


@pytest.mark.parametrize("compiled", ["yes", 1, None, np.bool_(True)])
def test_compiled_is_true_false_or_auto(compiled):
    with pytest.raises(ValueError, match="compiled must be True, False or 'auto', got"):
        nn.fit(nn.MLP(1, [1], seed=0), [[0.0]], [0.0], progress=False, compiled=compiled)


def test_a_weight_the_trace_branched_on_traces_again_when_an_update_moves_it():
    class Flip(nn.Module):
        """y = w x, or -w x once w turns negative: a branch on a weight, not on a sample."""

        def __init__(self):
            self.w = Value(0.05, label="w")

        def __call__(self, x):
            return x[0] * self.w if self.w > 0 else x[0] * -self.w

    Xs, ys = [[1.0], [2.0]], [-1.0, -2.0]
    histories = []
    for compiled in (True, False):
        model = Flip()
        weights = []
        histories.append(nn.fit(model, Xs, ys, optimizer=nn.SGD(model.parameters(), lr=0.1), epochs=6,
                                progress=False, compiled=compiled, on_step=lambda: weights.append(model.w.data)))
        assert min(weights) < 0 < max(weights)  # across the branch, both ways
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-12)


def test_a_compiled_step_that_is_not_finite_changes_nothing_and_says_so_as_the_scalar_engine_does():
    messages = []
    for compiled in (True, False):
        model = nn.MLP(3, [2, 1], seed=0)
        opt = nn.Adam(model.parameters(), lr=0.01)
        seen = []

        def blow_up():  # after the first step: the output neuron's bias makes every (p - t)² overflow
            seen.append(1)
            model.layers[1].neurons[0].b.data = 1e200

        with pytest.raises(FloatingPointError) as error:
            nn.fit(model, X, TARGETS["mse"], optimizer=opt, batch_size=4, progress=False, compiled=compiled,
                   on_step=blow_up)
        messages.append(str(error.value))
        assert seen == [1] and opt.steps == 1 and model.layers[1].neurons[0].b.data == 1e200
    assert messages[0] == messages[1] == ("epoch 1, batch 2 (step 2): the loss is inf; the weights and the "
                                          "optimizer's state are as they were before this step")


def test_parameters_left_out_of_the_optimizer_gather_gradients_as_in_the_scalar_engine():
    """Not zeroed by the optimizer, their .grad adds up step after step, in both engines."""
    runs = []
    for compiled in (True, False):
        model = model_for("mse", "tanh")
        grads = []
        nn.fit(model, X, TARGETS["mse"], optimizer=nn.SGD(model.parameters()[:7], lr=0.1), epochs=3, batch_size=4,
               progress=False, compiled=compiled, on_step=lambda: grads.append([p.grad for p in model.parameters()]))
        runs.append(np.array(grads))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-9, atol=1e-13)
    assert abs(runs[0][-1, -1]) > abs(runs[0][0, -1])  # the output bias, left out: its gradients added up
