"""The demo: train a classifier, then look inside it, all written to out/.

1. Train an MLP 2-16-16-1 on two moons (hinge loss + L2), with a progress bar.
2. Draw its decision boundary, its training curves and the gradient flow per layer, and
   write training.html, a page that replays the training: boundary, network, gradients.
3. Draw one neuron's graph, every node coloured by the size of its gradient.
4. Write a page that steps through the backward pass of a small expression.
5. Explain one weight's gradient, the chain rule written out in numbers.

Run it with ./scripts/demo, which sets everything up first. It takes well under a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the two_moons example beside this file

import autodiff  # noqa: E402
import nn  # noqa: E402
import viz  # noqa: E402
from autodiff import Value, no_grad  # noqa: E402
from two_moons import L2, LOSS, make_moons, train  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "out"
TRAINING_TITLE = "Two moons: an MLP 2-16-16-1 learning"


def small_expression() -> tuple[Value, Value]:
    """One tanh neuron and its squared error, every node labelled: (loss, the weight w1)."""
    x1, x2 = Value(1.0, label="x1"), Value(-1.0, label="x2")
    w1, w2, b = Value(0.5, label="w1"), Value(0.25, label="w2"), Value(0.1, label="b")
    z = autodiff.dot([w1, w2], [x1, x2], bias=b)
    z.label = "z"
    y = z.tanh()
    y.label = "y"
    error = y - 0.5
    error.label = "e"
    loss = error**2
    loss.label = "loss"
    loss.backward()
    return loss, w1


def output_neuron_graph(model: nn.MLP, sample: list[float], target: float) -> Value:
    """The output neuron on one sample: its 16 inputs (the last hidden layer's values,
    taken as given) and its hinge loss, after the backward pass."""
    with no_grad():
        hidden = [float(v.data) for v in model.layers[1].forward(model.layers[0].forward([Value(x) for x in sample]))]
    inputs = [Value(h, label=f"h{i}") for i, h in enumerate(hidden)]
    score = model.layers[2].neurons[0].forward(inputs)
    score.label = "score"
    loss = (1.0 - target * score).relu()
    loss.label = "hinge"
    model.zero_grad()
    loss.backward()
    return loss


def main(out: Path = OUT, progress: bool = True) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    X, y = make_moons(seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    flow = viz.GradientFlow(model)
    record = viz.TrainingRecord(model, X, y, loss=LOSS, l2=L2)

    def on_step() -> None:
        flow.record()
        record.record()

    history = train(model, X, y, progress=progress, on_step=on_step)
    print(f"trained {model}: training accuracy {history['accuracy'][-1]:.0%}, loss {history['loss'][-1]:.4f}")
    written.append(record.write(out / "training.html", TRAINING_TITLE))
    viz.plot_decision_boundary(model, X, y, out / "decision_boundary.png")
    viz.plot_history(history, out / "training.png")
    flow.plot(out / "gradient_flow.png")
    written += [out / "decision_boundary.png", out / "training.png", out / "gradient_flow.png"]

    # the sample the trained model is least sure of, so that gradients flow
    with no_grad():
        margins = [t * model(list(x)).data for x, t in zip(X, y)]
    least_sure = min(range(len(margins)), key=margins.__getitem__)
    neuron = output_neuron_graph(model, list(X[least_sure]), y[least_sure])
    for suffix in (".svg", ".png"):
        try:
            written.append(viz.render(neuron, out / f"neuron{suffix}", edge_width=True))
        except viz.GraphvizNotFound as missing:
            written.append(viz.render(neuron, out / "neuron.dot"))
            print(f"note: {missing}")
            break

    loss, w1 = small_expression()
    try:
        written.append(viz.backward_steps(loss, out / "backward_steps.html"))
    except viz.GraphvizNotFound as missing:
        print(f"note: the step-through page needs Graphviz: {missing}")
    explanation = autodiff.explain(loss, w1)
    (out / "explain_w1.txt").write_text(f"{explanation}\n", encoding="utf-8")
    written.append(out / "explain_w1.txt")
    print(f"\nHow the gradient of w1 in loss = (tanh(w1 x1 + w2 x2 + b) - 0.5)² comes about:\n\n{explanation}\n")

    print("wrote:")
    for path in written:
        print(f"  {path}")
    print("Open the .png and .svg files in an image viewer or browser; open backward_steps.html in a "
          "browser and press the arrow keys to step through the backward pass; open training.html to "
          "replay the training (play, or drag the slider; click a neuron or a weight).")
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
