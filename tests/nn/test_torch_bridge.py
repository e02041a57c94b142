"""to_torch and from_torch: identical weights, outputs agreeing to 1e-12 in float64."""

import builtins
import random

import pytest
import torch

import nn


@pytest.mark.parametrize("activation, out_activation", [("relu", "linear"), ("tanh", "sigmoid"), ("sigmoid", "tanh")])
def test_a_model_and_its_torch_twin_agree(activation, out_activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, out_activation=out_activation, seed=0)
    twin = model.to_torch()
    rng = random.Random(0)
    for _ in range(10):
        x = [rng.uniform(-2, 2) for _ in range(3)]
        ours = [v.data for v in model(x)]
        theirs = twin(torch.tensor(x, dtype=torch.float64)).tolist()
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    back = nn.MLP.from_torch(twin)
    assert back.architecture() == model.architecture()
    assert back.state_dict() == model.state_dict()


def test_from_torch_reads_a_torch_built_network():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    model = nn.MLP.from_torch(seq)
    x = [0.3, -0.8]
    assert model(x).data == pytest.approx(seq(torch.tensor(x, dtype=torch.float64)).item(), rel=1e-12)


def test_from_torch_names_what_it_cannot_read():
    with pytest.raises(ValueError, match="Dropout"):
        nn.MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))
    with pytest.raises(ValueError, match="same activation"):
        nn.MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2),
                                              torch.nn.Tanh(), torch.nn.Linear(2, 1)))
    with pytest.raises(TypeError, match="Sequential"):
        nn.MLP.from_torch(torch.nn.Linear(2, 2))


def test_without_torch_the_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match=r"pip install 'autodiff-scalar\[torch\]'"):
        nn.MLP(2, [1], seed=0).to_torch()
