"""The demo: one neuron, forward and backward, with its graph drawn to out/.

Run it with ./scripts/demo, which sets everything up first.
"""

import sys
from pathlib import Path

import viz
from autodiff import Value

OUT = Path(__file__).resolve().parent.parent / "out"


def main(out: Path = OUT) -> None:
    # A neuron with two inputs: y = tanh(w1 x1 + w2 x2 + b), and a squared error.
    x1, x2 = Value(1.0, label="x1"), Value(-1.0, label="x2")
    w1, w2 = Value(0.5, label="w1"), Value(0.25, label="w2")
    b = Value(0.1, label="b")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    y = z.tanh()
    y.label = "y"
    loss = (y - 0.5) ** 2
    loss.label = "loss"
    loss.backward()

    print(f"forward:  z = {z.data:.6f}, y = tanh(z) = {y.data:.6f}, loss = (y - 0.5)^2 = {loss.data:.6f}")
    print("backward: d loss / d ...")
    for v in (w1, w2, b, x1, x2):
        print(f"  {v.label:>2} = {v.grad: .6f}")

    out.mkdir(parents=True, exist_ok=True)
    written = [viz.render(loss, out / "neuron.dot")]
    try:
        written += [viz.render(loss, out / "neuron.svg"), viz.render(loss, out / "neuron.png")]
    except viz.GraphvizNotFound as missing:
        print(f"note: {missing}")
    print("wrote " + ", ".join(map(str, written)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
