"""nn: neurons, layers, MLPs, losses, optimizers and model files, on autodiff's Values.

>>> import nn
>>> model = nn.MLP(2, [8, 1], activation="tanh", seed=0)
>>> opt = nn.SGD(model.parameters(), lr=0.1)
>>> loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from .layers import MLP, Layer, Neuron
from .losses import bce_loss, bce_with_logits_loss, cross_entropy_loss, hinge_loss, mse_loss
from .module import Module
from .optim import SGD, Adam, AdamW, Optimizer
from .train import fit

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "Layer",
    "Module",
    "Neuron",
    "Optimizer",
    "bce_loss",
    "bce_with_logits_loss",
    "cross_entropy_loss",
    "fit",
    "hinge_loss",
    "mse_loss",
]
