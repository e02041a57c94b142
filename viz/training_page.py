"""The page of a ``TrainingRecord``: one self-contained HTML file that replays training.

It holds the recorded numbers (base64 of little-endian float arrays, inside a
``<script type="application/json">``), the drawing of each neuron's computation as DOT
made by ``viz.graph`` (laid out in the page by ``viz.web``'s Graphviz in WebAssembly,
then filled with the numbers of the chosen step and sample), and the script in
``training_page.html``. Nothing is loaded from the network, and no text reaches the
page's markup: the script sets text with ``textContent`` only.

The page's script computes from the recorded parameters what it draws: the decision
function on the record's grid (the recorded grids are not sent: they would double the
page's size), and per-sample derivations: a forward pass, then the backward pass
written out as δ (dE/dz) per neuron. The tests check its numbers against the engine's
and the record's in a browser.
"""

from __future__ import annotations

import base64
import copy
import html
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

import autodiff
from autodiff import Value
from autodiff.local_derivatives import DIGITS

from .colours import EXPLODING, PALETTE, VANISHING
from .graph import Drawing
from .text import visible
from .view import build_view
from .web import fill, json_for_script, renderer_script

if TYPE_CHECKING:
    from .record import TrainingRecord

# Placeholder numbers as wide as any :.4g number gets, so that laid-out cells fit them all.
_WIDEST = -8.888e-88


def training_page(record: TrainingRecord, title: str) -> str:
    """The page's HTML for ``record``."""
    template = resources.files("viz").joinpath("training_page.html").read_text(encoding="utf-8")
    title = visible(str(title))  # what a reader could not see is shown as its escape
    return fill(
        template,
        {
            "title": html.escape(title),
            "data": json_for_script(page_data(record, title)),
            "renderer": renderer_script(),
        },
    )


def page_data(record: TrainingRecord, title: str = "Training") -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (big arrays as base64)."""
    model = record.model
    scale = record.gradient_scale()
    sizes = [model.nin] + model.nouts
    return {
        "title": str(title),
        "sizes": sizes,
        "activations": [layer.activation for layer in model.layers],
        "loss": record.loss,
        "l2": record.l2,
        "X": record.X.tolist(),
        "y": record.y.tolist(),
        "names": record.names,
        "index": [{"w": weights.tolist(), "b": biases.tolist()} for weights, biases, _ in record.layout],
        "threshold": record.threshold,
        "digits": DIGITS,
        "count": len(record),
        "steps": record.steps.tolist(),
        "losses": record.losses.tolist(),
        "accuracies": None if np.isnan(record.accuracies).all() else record.accuracies.tolist(),
        "parameters": _base64(record.parameters, "<f8"),
        "gradients": _base64(record.gradients, "<f8"),
        "gridX": record.grid_x.tolist() if record.resolution else None,
        "gridY": record.grid_y.tolist() if record.resolution else None,
        "scale": {
            "low": scale.low,
            "high": scale.high,
            "vanishing": scale.vanishing,
            "exploding": scale.exploding,
            "palette": PALETTE,
            "vanishingColours": VANISHING,
            "explodingColours": EXPLODING,
        },
        "neurons": neuron_drawings(record, scale),
    }


def _base64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def neuron_drawings(record: TrainingRecord, scale: Any) -> dict[str, dict[str, Any]]:
    """Per neuron ``"l,j"`` (layers from 1): the DOT of its computation as ``draw_dot``
    draws it, and what each drawn box holds, for the page to fill in: ``["w", l, j, i]``,
    ``["b", l, j]``, ``["in", l - 1, i]``, ``["z", l, j]``, ``["a", l, j]``, and for a
    neuron that is not fused (micrograd's lecture graph) ``["prod", l, j, i]`` (w·x of
    input i) and ``["partial", l, j, i]`` (the sum of the products up to input i).

    The graph is the neuron's own ``forward`` on stand-ins for its weights and inputs,
    labelled as the page names them, so it is drawn as that model draws it.

    >>> import nn
    >>> from viz.record import TrainingRecord
    >>> rec = TrainingRecord(nn.MLP(2, [3, 1], seed=0), [[0.0, 1.0]], [1.0])
    >>> sorted(neuron_drawings(rec, rec.gradient_scale()))
    ['1,0', '1,1', '1,2', '2,0']
    """
    sizes = [record.model.nin] + record.model.nouts
    drawings = {}
    for l, layer in enumerate(record.model.layers, start=1):
        for j, neuron in enumerate(layer.neurons):
            inputs = [Value(_WIDEST, label=f"x[{i}]" if l == 1 else f"a[{l - 1},{i}]") for i in range(sizes[l - 1])]
            stand_in = copy.copy(neuron)  # the neuron's rule (fused or not), on weights of our own
            stand_in.w = [Value(_WIDEST, label=f"w[{l},{j},{i}]") for i in range(sizes[l - 1])]
            stand_in.b = Value(_WIDEST, label=f"b[{l},{j}]")
            out = stand_in.forward(inputs)
            roles = _roles(out, inputs, stand_in, l, j)
            order = autodiff.topological_order(out)
            for node in order:
                node.data = node.grad = _WIDEST
                if roles[id(node)][0] in ("z", "a"):
                    node.label = f"{roles[id(node)][0]}[{l},{j}]"
            drawing = Drawing(build_view(out, 300), scale, edge_width=False)
            drawings[f"{l},{j}"] = {
                "dot": drawing.dot.source,
                "boxes": {drawing.box_id(node): roles[id(node)] for node in order},
            }
    return drawings


def _roles(out: Value, inputs: list[Value], neuron: Any, l: int, j: int) -> dict[int, list]:
    """What each node of one neuron's graph is, by id; an unknown node is an error (the
    page would show it with no numbers)."""
    roles: dict[int, list] = {id(v): ["in", l - 1, i] for i, v in enumerate(inputs)}
    roles |= {id(w): ["w", l, j, i] for i, w in enumerate(neuron.w)}
    roles[id(neuron.b)] = ["b", l, j]
    z = out if neuron.activation == "linear" else out.parents[0]
    roles[id(out)] = ["z", l, j] if out is z else ["a", l, j]
    roles[id(z)] = ["z", l, j]
    products = {}
    for node in autodiff.topological_order(out):
        if id(node) in roles:
            continue
        if node.op == "*" and len(node.parents) == 2 and id(node.parents[0]) in roles:
            i = roles[id(node.parents[0])][3]
            products[id(node)] = i
            roles[id(node)] = ["prod", l, j, i]
        elif node.op == "+" and len(node.parents) == 2 and id(node.parents[1]) in products:
            roles[id(node)] = ["partial", l, j, products[id(node.parents[1])]]
        else:
            raise RuntimeError(f"the drawing of neuron {l},{j} has a {node.op!r} node the page cannot fill in")
    return roles
