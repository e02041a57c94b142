"""Draw one training step of a small MLP: every value and gradient, each neuron in a box.

The README's picture comes from here: python examples/draw_mlp.py docs/
"""

from __future__ import annotations

import sys
from pathlib import Path

import nn
import viz
from autodiff import Value

DOCS = Path(__file__).resolve().parent.parent / "docs"


def build() -> Value:
    """An MLP 2-3-2-1 (tanh) on one sample, its squared error, and the backward pass."""
    model = nn.MLP(2, [3, 2, 1], activation="tanh", seed=0)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    loss = nn.mse_loss([model(x)], [1.0])
    loss.label = "loss"
    loss.backward()
    return loss


def main(out: Path = DOCS) -> list[Path]:
    loss = build()
    out.mkdir(parents=True, exist_ok=True)
    written = [viz.render(loss, out / "mlp_graph.svg", edge_width=True), viz.render(loss, out / "mlp_graph.dot", edge_width=True)]
    print("wrote " + ", ".join(map(str, written)))
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
