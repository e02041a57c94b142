"""``Module``: what every model shares: its parameters by name, their gradients, model files.

A module's parameters are found by walking its attributes in the order they were set:
a ``Value`` is a parameter, a ``Module`` is walked in turn, and a list or tuple is walked
item by item. That gives every parameter a stable dotted name such as
``layers.0.neurons.3.w.1``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping
from typing import Any

from autodiff import Value
from autodiff.arguments import file_path
from autodiff.leaves import zero_grads

from . import model_file


class Module:
    """The base of every model.

    >>> from nn import Neuron
    >>> n = Neuron(2, activation="tanh", rng=0)
    >>> [name for name, _ in n.named_parameters()]
    ['w.0', 'w.1', 'b']
    """

    __call__: Callable[..., Any]  # a model is called on one sample's inputs; each subclass says how

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a stable order."""
        found: list = []
        _walk(self, "", found)
        return found

    def parameters(self) -> list[Value]:
        """Every parameter once, in the order of ``named_parameters`` (a parameter set in
        two places, a tied weight, counts once: an optimizer updates it once)."""
        found: list = []
        _walk(self, None, found)  # no names made: a training loop may call this each step
        return list(dict.fromkeys(found))  # Values hash by identity

    def label_parameters(self) -> None:
        """Label every parameter with its dotted name, as graphs then show it.

        ``viz`` groups a drawing by these names: the nodes a neuron or a layer computes
        are drawn inside a box named after it.
        """
        for name, p in self.named_parameters():
            p.label = name

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's gradient to 0 (leaves accumulate across backward passes);
        with ``set_to_none``, to ``None``, as ``Optimizer.zero_grad`` does."""
        found: list[Value] = []
        _walk(self, None, found)  # a tied weight twice: set to 0 twice, no harm
        zero_grads(found, set_to_none)

    def state_dict(self) -> dict[str, float]:
        """Every parameter's number by name."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``state`` (names to numbers).

        Everything is checked first: every name present, no name unknown, every number
        finite. On any problem a ``ValueError`` names it and the model is left unchanged.
        """
        params = self.named_parameters()
        if not isinstance(state, Mapping):
            raise ValueError(f"a state dict maps parameter names to numbers, got {type(state).__name__}")
        missing = [name for name, _ in params if name not in state]
        if missing:
            raise ValueError(f"the state dict has no value for {_first(missing)}")
        known = {name for name, _ in params}
        unknown = [name for name in state if name not in known]
        if unknown:
            raise ValueError(f"the state dict has a value for {_first(unknown)}, which this model does not have")
        values = [(p, _finite(state[name], name)) for name, p in params]
        for p, number in values:
            p.data = number

    def architecture(self) -> dict[str, Any]:
        """What a model file records to check it is loaded into the same kind of model."""
        return {"type": type(self).__name__, "parameters": len(self.parameters())}

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to a JSON file, atomically: a failed save leaves the old file whole.

        Non-finite parameters are refused with ``ValueError``.
        """
        model_file.save(file_path(path, "path", "save"), self.architecture(), self.state_dict())

    def load(self, path: str | os.PathLike) -> None:
        """Load parameters saved by ``save``; on any problem a ``ValueError`` names it and
        the model is left unchanged. Only a regular file is read (a link to one is
        followed), of at most ``nn.model_file.size_limit`` bytes: 1 MiB plus 256 bytes
        per parameter."""
        path = file_path(path, "path", "load")
        self.load_state_dict(model_file.load(path, self.architecture(), len(self.named_parameters())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()  # {len(self.parameters())} parameters"


def _walk(holder: Module | list | tuple, prefix: str | None, found: list) -> None:
    """Append the parameters in ``holder`` to ``found`` in walking order: (dotted name,
    Value) pairs, or the Values alone where ``prefix`` is None (faster: no names made,
    as zero_grad walks the model at each step)."""
    if isinstance(holder, Module):  # its attributes, but those named _...
        for key, item in vars(holder).items():
            if key[:1] != "_":
                if isinstance(item, Value):
                    found.append(item if prefix is None else (f"{prefix}.{key}" if prefix else key, item))
                elif isinstance(item, (list, tuple, Module)):  # a str or a flag: no call
                    _walk(item, None if prefix is None else f"{prefix}.{key}" if prefix else key, found)
    elif prefix is None and set(map(type, holder)) == {Value}:  # a neuron's weights, added as one
        found.extend(holder)
    else:
        for i, item in enumerate(holder):
            if isinstance(item, Value):
                found.append(item if prefix is None else (f"{prefix}.{i}" if prefix else str(i), item))
            elif isinstance(item, (list, tuple, Module)):
                _walk(item, None if prefix is None else f"{prefix}.{i}" if prefix else str(i), found)


def _finite(number: Any, name: str) -> float:
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise ValueError(f"parameter {name!r} must be a number, got {type(number).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"parameter {name!r} is {number!r}; only finite numbers are accepted")
    return float(number)


def _first(names: list[str]) -> str:
    more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
    return f"{names[0]!r}{more}"
