"""Neuron, Layer, MLP: names, seeding, initialisation, calls, errors."""

import math

import numpy as np
import pytest

import nn
from autodiff import Value


def test_named_parameters_are_stable_dotted_names():
    model = nn.MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == len(set(names)) == 3 * 3 + 4
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_the_same_seed_gives_the_same_weights_and_another_seed_others():
    a, b, c = (nn.MLP(2, [16, 16, 1], seed=s).state_dict() for s in (7, 7, 8))
    assert a == b and a != c


def test_the_seeded_weights_are_the_same_on_every_machine():
    # PCG64 and numpy's uniform are platform-independent: these numbers are fixed.
    rng = np.random.default_rng(0)
    expected = rng.uniform(-1 / math.sqrt(2), 1 / math.sqrt(2), 2)
    assert [w.data for w in nn.MLP(2, [1], seed=0).layers[0].neurons[0].w] == list(expected)


def test_default_initialisation_is_uniform_within_one_over_sqrt_nin():
    model = nn.MLP(64, [32], seed=1)
    values = np.array([p.data for p in model.parameters()])
    bound = 1 / math.sqrt(64)
    assert np.all(np.abs(values) <= bound)
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)  # std of U(-a, a)


def test_he_and_xavier_initialisations():
    he = nn.Layer(200, 50, rng=0, init="he")
    w = np.array([[v.data for v in n.w] for n in he.neurons])
    assert w.std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    assert all(n.b.data == 0.0 for n in he.neurons)
    xavier = nn.Layer(100, 50, rng=0, init="xavier")
    w = np.array([[v.data for v in n.w] for n in xavier.neurons])
    assert np.abs(w).max() <= math.sqrt(6 / 150)


def test_a_neuron_computes_its_activation_of_w_dot_x_plus_b():
    for activation, f in [("relu", lambda z: max(z, 0)), ("tanh", math.tanh),
                          ("sigmoid", lambda z: 1 / (1 + math.exp(-z))), ("linear", lambda z: z)]:
        n = nn.Neuron(2, activation=activation, rng=0)
        n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.5, 0.25
        assert n([2.0, 0.4]).data == pytest.approx(f(0.5 * 2.0 - 1.5 * 0.4 + 0.25), rel=1e-15)


def test_model_outputs_a_value_for_one_output_and_a_list_otherwise():
    assert isinstance(nn.MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = nn.MLP(2, [4, 3], seed=0)([1.0, Value(2.0)])
    assert isinstance(out, list) and len(out) == 3 and all(isinstance(v, Value) for v in out)


def test_calling_with_the_wrong_number_of_inputs_names_both_counts():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        nn.MLP(2, [4, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="list of 2"):
        nn.MLP(2, [4, 1], seed=0)(1.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "gelu"}, "unknown activation 'gelu'"),
    ({"out_activation": "softmax"}, "unknown activation 'softmax'"),
    ({"init": "zeros"}, "unknown init 'zeros'"),
])
def test_bad_configuration_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP(2, [4, 1], seed=0, **kwargs)


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="nin must be a positive int"):
        nn.MLP(0, [1])
    with pytest.raises(ValueError, match="nouts must be a non-empty list"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match="each of nouts"):
        nn.MLP(2, [4, 0])


def test_weights_can_be_assigned():
    model = nn.MLP(2, [1], activation="linear", seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, 0.25, -1.0
    assert model([2.0, 4.0]).data == 1.0


def test_reprs_are_readable():
    assert repr(nn.MLP(2, [16, 16, 1], seed=0)) == (
        "MLP(2, [16, 16, 1], activation='relu', out_activation='linear')  # 337 parameters"
    )
    assert repr(nn.Layer(3, 2, activation="tanh", rng=0)) == "Layer(3, 2, activation='tanh')"
    assert repr(nn.Neuron(3, rng=0)) == "Neuron(3, activation='relu')"


def test_zero_grad_and_state_dict_round_trip():
    model = nn.MLP(2, [3, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    other = nn.MLP(2, [3, 1], seed=5)
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("layers.0.neurons.0.b"), "no value for 'layers.0.neurons.0.b'"),
    (lambda d: d.update({"layers.9.w": 1.0}), "value for 'layers.9.w', which this model does not have"),
    (lambda d: d.update({"layers.0.neurons.0.b": float("nan")}), "only finite numbers"),
    (lambda d: d.update({"layers.0.neurons.0.b": "0.5"}), "must be a number, got str"),
])
def test_load_state_dict_checks_everything_and_leaves_the_model_unchanged(change, message):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = nn.MLP(2, [3, 1], seed=1).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before
