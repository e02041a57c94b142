"""cross_entropy_loss with a per-sample target (a Value) compiles: the same values and
gradients as the scalar graph and as PyTorch float64, and a bad index raises naming the
sample. The op behind it, autodiff.pick, against a closed form and PyTorch."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import autodiff
import nn
from autodiff import Value
from autodiff.fused import numba_available

RNG = np.random.default_rng(7)
X = RNG.normal(size=(9, 2)) * 2.0
T = np.array([0, 2, 1, 1, 0, 2, 2, 0, 1])


def compiled(model, form, backend="numpy"):
    """The per-sample cross-entropy of ``model``'s 3 logits, compiled in either form."""
    if form == "function":
        return autodiff.compile(lambda x0, x1, t: nn.cross_entropy_loss([model([x0, x1])], [t]), backend=backend)
    x0, x1, t = Value(0.0, label="x0"), Value(0.0, label="x1"), Value(0.0, label="t")
    return autodiff.compile(nn.cross_entropy_loss([model([x0, x1])], [t]), inputs=[x0, x1, t], backend=backend)


BACKENDS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not numba_available(), reason="numba is not installed (pip install 'autodiff-scalar[fast]')"))]


def torch_reference(model, X, T):
    """Per-sample losses, d mean / d each weight (in model.parameters() order) and
    d mean / d features per sample, from PyTorch float64."""
    net = model.to_torch()
    features = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    losses = F.cross_entropy(net(features), torch.tensor(T), reduction="none")
    losses.mean().backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    weight_grads = []
    for linear in linears:  # nn's order: neuron by neuron, its weights then its bias
        for w_row, b in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()):
            weight_grads += [*w_row, b]
    return losses.detach().numpy(), np.array(weight_grads), features.grad.numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ["function", "graph"])
def test_a_compiled_cross_entropy_matches_pytorch_and_the_scalar_graph(form, backend):
    model = nn.MLP(2, [5, 3], activation="tanh", seed=3)
    program = compiled(model, form, backend)
    assert [p.label for p in model.parameters()][:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                                                         "layers.0.neurons.0.b"]
    opt = nn.SGD(model.parameters(), lr=0.5)
    for _ in range(2):  # and again after an update: the weights are read at each call
        losses = program(X[:, 0], X[:, 1], T)
        model.zero_grad()
        dx0, dx1, dt = program.backward()
        expected_losses, expected_weight_grads, expected_feature_grads = torch_reference(model, X, T)
        np.testing.assert_allclose(losses, expected_losses, rtol=1e-12)
        np.testing.assert_allclose([p.grad for p in model.parameters()], expected_weight_grads, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(np.stack([dx0, dx1], axis=1), expected_feature_grads, rtol=1e-12, atol=1e-15)
        assert dt.tolist() == [0.0] * len(T)  # an index has no gradient

        compiled_grads = [p.grad for p in model.parameters()]
        model.zero_grad()  # the scalar graph with integer targets, as before compile
        scalar = nn.cross_entropy_loss([model(list(x)) for x in X], [int(t) for t in T])
        scalar.backward()
        per_sample = [nn.cross_entropy_loss([model(list(x))], [int(t)]).data for x, t in zip(X, T)]
        np.testing.assert_allclose(losses, per_sample, rtol=1e-12)
        np.testing.assert_allclose(compiled_grads, [p.grad for p in model.parameters()], rtol=1e-12, atol=1e-15)
        opt.step()


@pytest.mark.parametrize("form", ["function", "graph"])
@pytest.mark.parametrize("bad, shown", [(1.5, "1.5"), (3.0, "3.0"), (-1.0, "-1.0"), (math.nan, "nan"),
                                        (math.inf, "inf")])
def test_a_bad_target_at_run_time_raises_naming_the_sample(form, bad, shown):
    model = nn.MLP(2, [3], seed=0)
    program = compiled(model, form)
    good = program(X[:, 0], X[:, 1], T)
    targets = T.astype(float)
    targets[4] = bad
    with pytest.raises(ValueError, match=f"sample 4 has index {shown}, not an integer in 0..2"):
        program(X[:, 0], X[:, 1], targets)
    with pytest.raises(RuntimeError, match="run the program"):  # no half-computed batch to use
        program.backward()
    assert program(X[:, 0], X[:, 1], T).tolist() == good.tolist()  # a good batch still runs


def test_a_value_target_without_compile_gives_the_integer_targets_result():
    rows = [[Value(v) for v in row] for row in RNG.normal(size=(4, 3))]
    targets = [2, 0, 1, 1]
    by_int = nn.cross_entropy_loss(rows, targets)
    by_int.backward()
    int_grads = [[v.grad for v in row] for row in rows]
    for row in rows:
        for v in row:
            v.grad = 0.0
    target_values = [Value(float(t)) for t in targets]
    by_value = nn.cross_entropy_loss(rows, target_values)
    by_value.backward()
    assert by_value.data == by_int.data
    assert [[v.grad for v in row] for row in rows] == int_grads
    assert [t.grad for t in target_values] == [0.0] * 4
    with pytest.raises(ValueError, match="cross_entropy_loss sample 1: .*index is 3.0, not an integer in 0..2"):
        nn.cross_entropy_loss(rows[:2], [Value(0.0), Value(3.0)])


def test_pick_against_a_closed_form_and_pytorch():
    xs = [Value(v) for v in (0.5, -2.0, 7.25)]
    index = Value(2.0)
    out = autodiff.pick(xs, index) * autodiff.pick(xs, Value(0.0))  # x2 · x0
    out.backward()
    assert out.data == 7.25 * 0.5
    assert [x.grad for x in xs] == [7.25, 0.0, 0.5] and index.grad == 0.0
    # An infinite gradient stops at the entries not picked, as PyTorch's indexing does.
    for compile_it in (False, True):
        z = [Value(0.0), Value(4.0)]
        t = Value(0.0, label="t")
        root = autodiff.pick(z, t).sqrt()  # d/dz0 = inf at 0
        if compile_it:
            program = autodiff.compile(root, inputs=[t])
            program(np.array([0.0]))
            program.backward()
        else:
            root.backward()
        reference = torch.tensor([0.0, 4.0], dtype=torch.float64, requires_grad=True)
        reference[0].sqrt().backward()
        assert [v.grad for v in z] == reference.grad.tolist() == [math.inf, 0.0]


def test_pick_refuses_a_bad_index_when_built():
    for bad in (0.5, 3.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="not an integer in 0..2"):
            autodiff.pick([1.0, 2.0, 3.0], Value(bad))
    with pytest.raises(ValueError, match="at least one"):
        autodiff.pick([], 0.0)


TORCH_LOSSES = {  # per sample, from PyTorch float64: the reference for every loss of nn.fit
    "mse": lambda out, t: (out - t) ** 2,
    "bce": lambda out, t: F.binary_cross_entropy(out, t, reduction="none"),
    "bce_with_logits": lambda out, t: F.binary_cross_entropy_with_logits(out, t, reduction="none"),
    "hinge": lambda out, t: torch.relu(1 - t * out),
    "cross_entropy": lambda out, t: F.cross_entropy(out, t.long(), reduction="none"),
}


@pytest.mark.parametrize("name", sorted(TORCH_LOSSES))
def test_every_loss_of_fit_compiles_from_a_traced_function(name):
    loss_fn = nn.train.LOSSES[name]
    classes = 3 if name == "cross_entropy" else 1
    model = nn.MLP(2, [4, classes], activation="tanh", seed=1,
                   out_activation="sigmoid" if name == "bce" else "linear")
    targets = {"mse": RNG.normal(size=9), "bce": RNG.random(9), "bce_with_logits": (T > 0).astype(float),
               "hinge": np.where(T > 0, 1.0, -1.0), "cross_entropy": T.astype(float)}[name]
    program = autodiff.compile(lambda x0, x1, t: loss_fn([model([x0, x1])], [t]))
    losses = program(X[:, 0], X[:, 1], targets)
    program.backward()

    net = model.to_torch()
    out = net(torch.tensor(X, dtype=torch.float64))
    expected = TORCH_LOSSES[name](out if classes > 1 else out[:, 0], torch.tensor(targets, dtype=torch.float64))
    expected.mean().backward()
    np.testing.assert_allclose(losses, expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    torch_grads = [g for linear in net if isinstance(linear, torch.nn.Linear)
                   for w_row, b in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()) for g in (*w_row, b)]
    np.testing.assert_allclose([p.grad for p in model.parameters()], torch_grads, rtol=1e-12, atol=1e-15)
