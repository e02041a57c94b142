"""Neurons, layers and multi-layer perceptrons, each built from ``autodiff.dot``.

A neuron computes activation(w·x + b); its w·x + b is one node of the graph, so a
drawing shows a neuron as one step and the backward pass visits it once. With
``fused=False`` the same model builds the graph of micrograd's lecture instead: one
``*`` per weight and a chain of ``+``, with the same numbers (see ``Neuron``).

Every node a model computes is labelled as the textbooks name it, so that ``explain``
and the drawings read like a derivation: in an MLP, neuron j of layer l computes
``z[l,j]`` (its w·x + b) and ``a[l,j]`` (its activation; a linear neuron has only
``z[l,j]``), with layers counted from 1 (the inputs are layer 0) and neurons and inputs
from 0, as Python counts them: ``model.layers[l - 1].neurons[j]``. Inputs the model
made from numbers are ``x[i]``. A Layer alone names its nodes ``z[j]``, ``a[j]``, a
Neuron alone ``z``, ``a``. ``explain`` writes the parameters' dotted names short in the
same scheme: ``layers.1.neurons.0.w.2`` is ``w[2,0,2]``. The label strings are made
once, when the model is built, so a forward pass only stores them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import autodiff  # noqa: F401 (the doctests use it)
from autodiff import Value, ops
from autodiff.arguments import described
from autodiff.value import apply

from . import torch_bridge
from .module import Module

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
INITS = ("pytorch", "he", "xavier")


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"the seed (rng) must be an int >= 0, a numpy Generator or None, got {described(rng)}")


def _check_activation(activation: str) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:  # str first: an array has no `in`
        if not isinstance(activation, str):
            raise ValueError(f"an activation is one of {', '.join(ACTIVATIONS)}, got {described(activation)}")
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def _positive(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def _check_fused(fused: Any) -> bool:
    if not isinstance(fused, bool):  # a string such as "no" would read as true
        raise TypeError(f"fused must be True or False, got {fused!r}")
    return fused


def _fused_of(parts: str) -> property:
    """``fused`` of a module made of ``parts`` (its neurons, its layers): true when every
    neuron builds one w·x+b node; setting it sets every part's."""

    def get(module: Any) -> bool:
        return all(part.fused for part in getattr(module, parts))

    def set_all(module: Any, fused: bool) -> None:
        fused = _check_fused(fused)
        for part in getattr(module, parts):
            part.fused = fused

    return property(get, set_all, doc="True when every neuron builds one w·x+b node (see ``Neuron``).")


def products_and_sums(w: Sequence[Value], x: Sequence[Value], b: Value) -> Value:
    """w·x + b as micrograd's lecture draws a neuron: one ``*`` per weight, then a chain
    of ``+``: ((w_1 x_1 + w_2 x_2) + ... + w_n x_n) + b.

    ``autodiff.dot`` adds in this order too, so the output and every gradient are the
    fused node's to the last bit (the exceptions: a zero's sign, when every product and b
    are -0.0, as ``dot`` starts its sum from 0.0; and from Python 3.12, whose ``sum``,
    which ``dot`` uses, compensates, the last bits).

    >>> w, x = [Value(-3.0), Value(1.0)], [Value(2.0), Value(0.0)]
    >>> z = products_and_sums(w, x, Value(6.5)); z.op, z.data
    ('+', 0.5)
    >>> z.data == autodiff.dot(w, x, Value(6.5)).data
    True
    """
    total = w[0] * x[0]
    for w_i, x_i in zip(w[1:], x[1:]):
        total = total + w_i * x_i
    return total + b


def as_inputs(x: Sequence[Value | float], nin: int, who: str) -> list[Value]:
    """``x`` as ``nin`` Values: numbers become constant leaves named x[i], once per call.

    >>> [v.label for v in as_inputs([0.5, Value(1.0, label="mine")], 2, "a model")]
    ['x[0]', 'mine']
    """
    if isinstance(x, (Value, str, bytes, dict)) or not hasattr(x, "__len__"):
        raise TypeError(f"{who} takes one sample, a list of {nin} numbers or Values, got {described(x)}")
    if (isinstance(x, np.ndarray) and x.ndim > 1) or (len(x) and isinstance(x[0], (list, tuple, np.ndarray))):
        shape = x.shape if isinstance(x, np.ndarray) else f"{len(x)} lists"
        raise TypeError(
            f"{who} takes one sample, a list of {nin} numbers or Values, got a batch ({shape}); "
            "call it on each sample: [model(x) for x in X] (nn.fit and autodiff.compile "
            "run whole batches)"
        )
    if len(x) != nin:
        raise ValueError(f"{who} takes {nin} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v, name) for v, name in zip(x, _input_names(nin))]


@functools.lru_cache(maxsize=64)
def _input_names(nin: int) -> tuple[str, ...]:
    return tuple(f"x[{i}]" for i in range(nin))


def _node_names(where: tuple[int, ...]) -> tuple[str, str]:
    """The labels of a neuron's w·x + b and activation: z[l,j], a[l,j] (z, a alone)."""
    index = f"[{','.join(map(str, where))}]" if where else ""
    return f"z{index}", f"a{index}"


class Neuron(Module):
    """activation(w·x + b).

    By default w·x + b is one node, ``w·x+b``. With ``fused=False`` it is built as
    micrograd's lecture builds it, one ``*`` per weight and a chain of ``+``
    (``products_and_sums``): the graph learners know, with the same data and gradients
    to the last bit. ``fused`` can be switched at any time; it changes the graphs the
    neuron builds from then on, never its weights or its model file.

    ``init`` picks the starting weights: ``"pytorch"`` (as ``torch.nn.Linear``: w and b
    uniform in ±1/sqrt(nin)), ``"he"`` (w normal with std sqrt(2/nin), b = 0, for relu)
    or ``"xavier"`` (w uniform in ±sqrt(6/(nin + fan_out)), b = 0).

    >>> n = Neuron(2, activation="linear", rng=0)
    >>> n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.0, 0.25
    >>> n([2.0, 3.0]).data
    -1.75
    >>> n.fused = False; z = n([2.0, 3.0]); z.op, z.data
    ('+', -1.75)
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        rng: np.random.Generator | int | None = None,
        *,
        init: str = "pytorch",
        fan_out: int = 1,
        fused: bool = True,
    ) -> None:
        nin = _positive(nin, "nin")
        self.fused = fused
        self.activation = _check_activation(activation)
        rng = _generator(rng)
        if not isinstance(init, str) or init not in INITS:  # str first: an array has no `in`
            if not isinstance(init, str):
                raise ValueError(f"init is one of {', '.join(INITS)}, got {described(init)}")
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if init == "pytorch":
            bound = 1 / math.sqrt(nin)
            w, b = rng.uniform(-bound, bound, nin), rng.uniform(-bound, bound)
        elif init == "he":
            w, b = rng.normal(0.0, math.sqrt(2 / nin), nin), 0.0
        else:  # xavier
            bound = math.sqrt(6 / (nin + _positive(fan_out, "fan_out")))
            w, b = rng.uniform(-bound, bound, nin), 0.0
        self.w = [Value(float(v)) for v in w]
        self.b = Value(float(b))
        self._name_nodes(())
        self.label_parameters()

    @property
    def nin(self) -> int:
        return len(self.w)

    @property
    def fused(self) -> bool:
        """True: w·x + b is one node; False: one ``*`` per weight and a chain of ``+``."""
        return self._fused

    @fused.setter
    def fused(self, fused: bool) -> None:
        self._fused = _check_fused(fused)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self.forward(as_inputs(x, self.nin, "this neuron"))

    def forward(self, x: list[Value]) -> Value:
        """The neuron on inputs already made Values (no checks: the hot path, so the
        w·x + b node is made as ``autodiff.dot`` makes it, without its checks)."""
        z = apply(ops.LINEAR, *self.w, *x, self.b) if self._fused else products_and_sums(self.w, x, self.b)
        z.label = self._z_label
        if self.activation == "linear":
            return z
        a = getattr(z, self.activation)()
        a.label = self._a_label
        return a

    def _name_nodes(self, where: tuple[int, ...]) -> None:
        """Name the nodes this neuron computes after its place: ``where`` is (layer,
        neuron) in an MLP, (neuron,) in a Layer, () alone."""
        self._z_label, self._a_label = _node_names(where)

    def architecture(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r}{_fused_text(self)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs.

    Called on a list, it returns a list of ``nout`` Values (one Value when ``nout`` is 1).
    ``fused`` is every neuron's (see ``Neuron``); setting it sets theirs.

    >>> layer = Layer(3, 2, activation="tanh", rng=0)
    >>> len(layer([1.0, 2.0, 3.0]))
    2
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        rng: np.random.Generator | int | None = None,
        *,
        init: str = "pytorch",
        fused: bool = True,
    ) -> None:
        nout = _positive(nout, "nout")
        rng = _generator(rng)
        self.neurons = [Neuron(nin, activation, rng, init=init, fan_out=nout, fused=fused) for _ in range(nout)]
        self._name_nodes(())
        self.label_parameters()

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    fused = _fused_of("neurons")

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = self.forward(as_inputs(x, self.nin, "this layer"))
        return out[0] if len(out) == 1 else out

    def forward(self, x: list[Value]) -> list[Value]:
        return [neuron.forward(x) for neuron in self.neurons]

    def _name_nodes(self, where: tuple[int, ...]) -> None:
        """Name each neuron's nodes after its place: ``where`` is (layer,) in an MLP."""
        for j, neuron in enumerate(self.neurons):
            neuron._name_nodes((*where, j))

    def architecture(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": len(self.neurons), "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self.neurons)}, activation={self.activation!r}{_fused_text(self)})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation``, the last layer ``out_activation``. ``seed`` makes
    the starting weights the same on every machine. ``fused=False`` builds micrograd's
    lecture graph, one ``*`` per weight and a chain of ``+`` (see ``Neuron``); setting
    ``model.fused`` switches every neuron of a model already made.

    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> model
    MLP(2, [16, 16, 1], activation='relu', out_activation='linear')  # 337 parameters
    >>> type(model([0.5, -1.0])).__name__
    'Value'
    >>> model.fused = False; model([0.5, -1.0]).op
    '+'
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        out_activation: str = "linear",
        seed: int | None = None,
        *,
        init: str = "pytorch",
        fused: bool = True,
    ) -> None:
        if isinstance(nouts, (str, bytes, dict)) or not isinstance(nouts, Sequence) or not nouts:
            fix = f"; for one layer: [{nouts}]" if isinstance(nouts, int) and not isinstance(nouts, bool) else ""
            raise ValueError(
                f"MLP: nouts must be a non-empty list of layer sizes, such as [16, 1], got {described(nouts)}{fix}"
            )
        rng = _generator(seed)
        sizes = [_positive(nin, "nin")] + [_positive(n, "each of nouts") for n in nouts]
        self.activation = _check_activation(activation)
        self.out_activation = _check_activation(out_activation)
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation if i < len(nouts) - 1 else out_activation,
                rng,
                init=init,
                fused=fused,
            )
            for i in range(len(nouts))
        ]
        for l, layer in enumerate(self.layers, start=1):
            layer._name_nodes((l,))
        self.label_parameters()

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        return [len(layer.neurons) for layer in self.layers]

    fused = _fused_of("layers")

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = as_inputs(x, self.nin, "this model")
        for layer in self.layers:
            out = layer.forward(out)
        return out[0] if len(out) == 1 else out

    def architecture(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "out_activation": self.out_activation,
        }

    def to_torch(self) -> Any:
        """This model as a ``torch.nn.Sequential`` (float64, the same weights)."""
        return torch_bridge.to_torch(self)

    @classmethod
    def from_torch(cls, sequential: Any) -> MLP:
        """An MLP with the layers and weights of a ``torch.nn.Sequential``."""
        return torch_bridge.from_torch(cls, sequential)

    def __repr__(self) -> str:
        a = self.architecture()
        return (
            f"MLP({a['nin']}, {a['nouts']}, activation={a['activation']!r}, "
            f"out_activation={a['out_activation']!r}{_fused_text(self)})  # {len(self.parameters())} parameters"
        )


def _fused_text(module: Neuron | Layer | MLP) -> str:
    return "" if module.fused else ", fused=False"
