"""Moving an MLP to PyTorch and back, weight for weight, in float64."""

from __future__ import annotations

from typing import Any

from autodiff.requires import import_torch

_ACTIVATION_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def to_torch(model: Any) -> Any:
    """A ``torch.nn.Sequential`` of float64 ``Linear`` layers and activations with the
    model's exact weights."""
    torch = import_torch()
    modules = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, len(layer.neurons), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(getattr(torch.nn, _ACTIVATION_MODULES[layer.activation])())
    return torch.nn.Sequential(*modules)


def from_torch(mlp_class: type, sequential: Any) -> Any:
    """An MLP with the weights of ``sequential``: Linear layers, each followed by at most
    one ReLU, Tanh or Sigmoid, every hidden layer with the same activation."""
    torch = import_torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(sequential).__name__}")
    names = {module: name for name, module in _ACTIVATION_MODULES.items()}
    layers: list[list[Any]] = []  # [linear, activation name]
    for i, module in enumerate(sequential):
        kind = type(module).__name__
        if isinstance(module, torch.nn.Linear):
            if layers and module.in_features != layers[-1][0].out_features:
                raise ValueError(
                    f"module {i}: Linear takes {module.in_features} inputs after a layer of {layers[-1][0].out_features}"
                )
            layers.append([module, "linear"])
        elif kind in names and layers and layers[-1][1] == "linear":
            layers[-1][1] = names[kind]
        elif isinstance(module, torch.nn.Identity):
            continue
        else:
            raise ValueError(
                f"module {i} ({kind}) is not supported: use Linear layers, each followed by at most one ReLU, Tanh or Sigmoid"
            )
    if not layers:
        raise ValueError("the Sequential holds no Linear layer")
    hidden = {activation for _, activation in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(f"every hidden layer must have the same activation, got {sorted(hidden)}")
    model = mlp_class(
        layers[0][0].in_features,
        [linear.out_features for linear, _ in layers],
        activation=hidden.pop() if hidden else "relu",
        out_activation=layers[-1][1],
    )
    for layer, (linear, _) in zip(model.layers, layers):
        if linear.bias is None:
            raise ValueError("every Linear layer needs a bias")
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist()
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b
    return model
