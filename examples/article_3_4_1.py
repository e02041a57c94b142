"""The 3-4-1 sigmoid network trained with binary cross-entropy, step by step.

The article gives its starting weights only in a figure, so this network starts from
seeded weights of its own (biases 0, as the article's), on one training example of
its own with label 1, and a learning rate of 0.5 as the article uses. What carries
over is the behaviour the article describes: each gradient step moves the prediction
toward the label (the article's run: 0.521, 0.648, 0.758, 0.836, 0.881, 0.908, 0.925).

Run: ./scripts/demo sets things up; then .venv/bin/python examples/article_3_4_1.py
"""

from __future__ import annotations

import autodiff
import nn
from autodiff import Value

X, LABEL, LEARNING_RATE, STEPS = [0.7, 0.2, 0.9], 1.0, 0.5, 6
ARTICLE_PREDICTIONS = [0.521, 0.648, 0.758, 0.836, 0.881, 0.908, 0.925]


def build() -> nn.MLP:
    """Seeded weights, biases 0; labelled as the article names them: w^l_jk is "wl_jk",
    the weight into unit j of layer l from unit k of the layer before."""
    model = nn.MLP(3, [4, 1], activation="sigmoid", out_activation="sigmoid", seed=7)
    for l, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            neuron.b.data = 0.0
            neuron.b.label = f"b{l}_{j}"
            for k, w in enumerate(neuron.w, start=1):
                w.label = f"w{l}_{j}{k}"
    return model


def train() -> tuple[list[float], autodiff.Explanation]:
    """Predictions before each step and after the last; the derivation of w¹₄₃ at step 1."""
    model = build()
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    predictions, explanation = [], None
    weight = model.layers[0].neurons[3].w[2]  # w¹₄₃: from input 3 to hidden unit 4
    for step in range(STEPS + 1):
        inputs = [Value(x, label=f"x{i + 1}") for i, x in enumerate(X)]
        hidden = model.layers[0].forward(inputs)
        for j, h in enumerate(hidden):
            h.label, h.parents[0].label = f"f{j + 1}", f"z1_{j + 1}"
        yhat = model.layers[1].forward(hidden)[0]
        yhat.label, yhat.parents[0].label = "yhat", "z2"
        predictions.append(yhat.data)
        if step == STEPS:
            break
        loss = nn.bce_loss([yhat], [LABEL])
        loss.label = "E"
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            explanation = autodiff.explain(loss, weight)
        optimizer.step()
    return predictions, explanation


def main() -> None:
    predictions, explanation = train()
    print("3-4-1 sigmoid network, binary cross-entropy, learning rate 0.5, one example with label 1")
    print(f"{'step':>5} {'prediction':>11} {'article':>8}")
    for step, p in enumerate(predictions):
        print(f"{step:>5} {p:>11.4f} {ARTICLE_PREDICTIONS[step]:>8.3f}")
    print(f"\nThe gradient of w1_43 at the first step, as the article derives it by hand:\n\n{explanation}")
    print("\nThe article's starting weights are only in a figure, so the numbers differ; both runs climb "
          "toward the label 1 at a slowing pace, as gradient descent on cross-entropy does.")


if __name__ == "__main__":
    main()
