"""The 2-2-2 sigmoid network without biases, rebuilt weight by weight.

Inputs x = (0.2, 0.5), targets t = (0.2, 0.7), error E = 1/2 sum (t - y)^2, learning
rate 0.3. The engine computes every gradient; the article computed two by hand and
printed the second one wrong.

Run: ./scripts/demo sets things up; then .venv/bin/python examples/article_2_2_2.py
"""

from __future__ import annotations

import autodiff
import nn
from autodiff import Value

X, TARGETS, LEARNING_RATE = [0.2, 0.5], [0.2, 0.7], 0.3
# weights[i][j]: from unit i of one layer to unit j of the next, as the article lists them
HIDDEN_WEIGHTS = [[0.1, 0.2], [0.3, 0.1]]
OUTPUT_WEIGHTS = [[0.4, 0.5], [0.1, 0.3]]


def build() -> nn.MLP:
    """The article's network: an MLP whose biases are 0 and stay out of training.

    Its nodes keep the names nn gives them. The article's weight w^l_ij (layer l, from
    unit i to unit j, counting from 1 and 0) is nn's w[l+1,j,i-1]: the weight of neuron
    j of layer l+1 on its input i-1 (layers count from 1, neurons and inputs from 0).
    """
    model = nn.MLP(2, [2, 2], activation="sigmoid", out_activation="sigmoid", seed=0)
    for layer, weights in zip(model.layers, [HIDDEN_WEIGHTS, OUTPUT_WEIGHTS]):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = weights[i][j]
            neuron.b.data = 0.0
    return model


def forward(model: nn.MLP) -> tuple[list[Value], Value]:
    """The forward pass: nn names x[i], z[l,j], a[l,j]; the error is E."""
    outputs = model(X)
    E = error(outputs)
    E.label = "E"
    return outputs, E


def error(outputs: list[Value]) -> Value:
    return 0.5 * sum(((t - y) ** 2 for y, t in zip(outputs, TARGETS)), start=Value(0.0))


def run() -> dict[str, float]:
    model = build()
    outputs, E = forward(model)
    E.backward()
    hidden, output = model.layers
    w_hidden_to_output = output.neurons[0].w[0]  # w^1_10: hidden unit 1 -> output 1
    w_input_to_hidden = hidden.neurons[0].w[0]  # w^0_10: input 1 -> hidden unit 1
    return {
        "y1": outputs[0].data,
        "y2": outputs[1].data,
        "E": E.data,
        "dE/dw(hidden 1 -> output 1)": w_hidden_to_output.grad,
        "updated w(hidden 1 -> output 1)": w_hidden_to_output.data - LEARNING_RATE * w_hidden_to_output.grad,
        "dE/dw(input 1 -> hidden 1)": w_input_to_hidden.grad,
        "updated w(input 1 -> hidden 1)": w_input_to_hidden.data - LEARNING_RATE * w_input_to_hidden.grad,
    }


# What the article printed for the same quantities.
ARTICLE = {
    "y1": 0.57, "y2": 0.61, "E": 0.072,
    "dE/dw(hidden 1 -> output 1)": 0.049, "updated w(hidden 1 -> output 1)": 0.3853,
    "dE/dw(input 1 -> hidden 1)": 0.0034, "updated w(input 1 -> hidden 1)": 0.09897,
}


def derivations() -> tuple[autodiff.Explanation, autodiff.Explanation]:
    """The two derivations the article does by hand, written out by the engine."""
    model = build()
    _, E = forward(model)
    hidden, output = model.layers
    return autodiff.explain(E, output.neurons[0].w[0]), autodiff.explain(E, hidden.neurons[0].w[0])


def checked() -> list[str]:
    """The article's two hand-worked gradients checked by the engine (explain's
    ``claimed``): where one is wrong, the likely mistake in words."""
    model = build()
    _, E = forward(model)
    hidden, output = model.layers
    weights = [output.neurons[0].w[0], hidden.neurons[0].w[0]]
    claims = [ARTICLE["dE/dw(hidden 1 -> output 1)"], ARTICLE["dE/dw(input 1 -> hidden 1)"]]
    return [line for w, claim in zip(weights, claims) for line in autodiff.explain(E, w, claimed=claim).diagnosis]


def main() -> None:
    ours = run()
    print("2-2-2 sigmoid network, no biases: the engine beside the article")
    print(f"{'quantity':34} {'engine':>12} {'article':>10}")
    for name, value in ours.items():
        print(f"{name:34} {value:12.7g} {ARTICLE[name]:10.5g}")
    print("\nIn nn's names (layers count from 1, neurons and inputs from 0): the article's x1 is x[0],\n"
          "its w^1_10 (hidden 1 -> output 1) is w[2,0,0], its w^0_10 (input 1 -> hidden 1) is w[1,0,0].")
    for title, explanation in zip(["hidden 1 -> output 1", "input 1 -> hidden 1"], derivations()):
        print(f"\ndE/dw({title}), every factor:\n\n{explanation}")
    print("\nThe article's numbers, checked (its dE/dw(input 1 -> hidden 1) is wrong):")
    print("\n".join(checked()))


if __name__ == "__main__":
    main()
