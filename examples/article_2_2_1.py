"""The 2-2-1 sigmoid network with biases, rebuilt weight by weight.

Input (0.5, 0.3), target 0.8, squared error (0.8 - y)^2, learning rate 0.1. The
article added its products wrongly in the first step, so every number after it is
off; the engine shows the right ones.

Run: ./scripts/demo sets things up; then .venv/bin/python examples/article_2_2_1.py
"""

from __future__ import annotations

import autodiff
import nn
from autodiff import Value

X, TARGET, LEARNING_RATE = [0.5, 0.3], 0.8, 0.1
HIDDEN_WEIGHTS = [[0.5, 0.3], [0.2, 0.4]]  # [input i][hidden unit j]
HIDDEN_BIASES = [0.1, 0.2]
OUTPUT_WEIGHTS, OUTPUT_BIAS = [0.6, 0.7], 0.3


def build() -> nn.MLP:
    """The article's network. Its nodes keep the names nn gives them: the article's W1_ij
    (input i to hidden unit j, from 1) is w[1,j-1,i-1], its W2_j is w[2,0,j-1], its b1_j
    is b[1,j-1] and b2 is b[2,0]; h_in_j and h_j are z[1,j-1] and a[1,j-1]; y is a[2,0]."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid", seed=0)
    hidden, output = model.layers
    for j, neuron in enumerate(hidden.neurons):
        for i, w in enumerate(neuron.w):
            w.data = HIDDEN_WEIGHTS[i][j]
        neuron.b.data = HIDDEN_BIASES[j]
    for w, value in zip(output.neurons[0].w, OUTPUT_WEIGHTS):
        w.data = value
    output.neurons[0].b.data = OUTPUT_BIAS
    return model


def forward(model: nn.MLP) -> tuple[list[Value], list[Value], Value, Value]:
    """The forward pass: (hidden inputs, hidden outputs, y, loss)."""
    hidden, output = model.layers
    hidden_out = hidden(X)  # the inputs, numbers, become x[0] and x[1]
    hidden_in = [h.parents[0] for h in hidden_out]  # each sigmoid's input: w·x + b
    y = output.forward(hidden_out)[0]
    loss = (TARGET - y) ** 2
    loss.label = "loss"
    return hidden_in, hidden_out, y, loss


def derivation() -> autodiff.Explanation:
    """The gradient of W2_1 (nn's w[2,0,0]) written out, as the article works it by hand."""
    model = build()
    loss = forward(model)[3]
    return autodiff.explain(loss, model.layers[1].neurons[0].w[0])


def run() -> dict[str, float]:
    model = build()
    hidden_in, hidden_out, y, loss = forward(model)
    output_in = y.parents[0]
    loss.backward()
    w2, b2 = model.layers[1].neurons[0].w, model.layers[1].neurons[0].b
    return {
        "hidden input 1": hidden_in[0].data, "hidden input 2": hidden_in[1].data,
        "hidden output 1": hidden_out[0].data, "hidden output 2": hidden_out[1].data,
        "output input": output_in.data, "output y": y.data, "loss": loss.data,
        "delta2 = dloss/d(output input)": output_in.grad,
        "delta1 (hidden 1)": hidden_in[0].grad, "delta1 (hidden 2)": hidden_in[1].grad,
        "dloss/dW2[1]": w2[0].grad, "dloss/dW2[2]": w2[1].grad, "dloss/db2": b2.grad,
        "updated W2[1]": w2[0].data - LEARNING_RATE * w2[0].grad,
    }


ARTICLE = {
    "hidden input 1": 0.31, "hidden input 2": 0.29, "hidden output 1": 0.57, "hidden output 2": 0.57,
    "output input": 0.71, "output y": 0.67, "loss": 0.017, "delta2 = dloss/d(output input)": -0.05,
    "delta1 (hidden 1)": -0.01, "delta1 (hidden 2)": -0.01,
    "dloss/dW2[1]": -0.03, "dloss/dW2[2]": -0.04, "dloss/db2": -0.05, "updated W2[1]": None,
}


def checked() -> list[str]:
    """The article's hidden inputs checked by the engine (explain's ``claimed``): where
    the article went wrong first, and the likely mistake in words."""
    hidden_in = forward(build())[0]
    claims = [ARTICLE["hidden input 1"], ARTICLE["hidden input 2"]]
    return [line for h, claim in zip(hidden_in, claims) for line in autodiff.explain(h, claimed=claim).diagnosis]


def main() -> None:
    ours = run()
    print("2-2-1 sigmoid network: the engine beside the article")
    print(f"{'quantity':32} {'engine':>12} {'article':>9}")
    for name, value in ours.items():
        printed = "-" if ARTICLE[name] is None else f"{ARTICLE[name]:g}"
        print(f"{name:32} {value:12.6f} {printed:>9}")
    print("\nIn nn's names (layers count from 1, neurons and inputs from 0) the article's W2_1 is\n"
          "w[2,0,0], its h1 is a[1,0] and its y is a[2,0].")
    print(f"\nThe gradient of W2_1, as the article derives it (it prints -0.03):\n\n{derivation()}")
    print("\nThe article's hidden inputs, checked:")
    print("\n".join(checked()))
    print(
        "\nThe article's hidden inputs are wrong: 0.5*0.5 + 0.3*0.2 + 0.1 = 0.41 and\n"
        "0.5*0.3 + 0.3*0.4 + 0.2 = 0.47, not 0.31 and 0.29. Its output input slips again: even\n"
        "from its own hidden outputs, 0.6*0.57 + 0.7*0.57 + 0.3 = 1.041, not 0.71. Everything\n"
        f"after inherits the slips: the output is {ours['output y']:.6f}, not 0.67, and the loss\n"
        "and gradients differ with it."
    )


if __name__ == "__main__":
    main()
