"""The six-sample network: 3 inputs, 3 sigmoid hidden units, a linear output, trained by
full-batch gradient descent for 10,000 steps, on the engine and in plain numpy.

The article's numpy program starts from np.random.seed(1); so do both versions here,
and they end on the same weights to 1e-9: the engine's backward pass computes what the
hand-derived delta rule computes.

Run: ./scripts/demo sets things up; then .venv/bin/python examples/article_six_samples.py
"""

from __future__ import annotations

import numpy as np

import autodiff
import nn
from autodiff import Value

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]], dtype=float)
Y = np.array([0, 1, 0, 1, 1, 0], dtype=float)
HIDDEN, LEARNING_RATE, STEPS = 3, 0.1, 10_000


def initial_weights() -> tuple[np.ndarray, np.ndarray]:
    """As the article draws them: uniform in [-1, 1), row 0 holding the biases."""
    rng = np.random.RandomState(1)
    hidden = 2 * rng.random_sample((X.shape[1] + 1, HIDDEN)) - 1
    output = 2 * rng.random_sample((HIDDEN + 1, 1)) - 1
    return hidden, output


def train_numpy(steps: int = STEPS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The delta rule by hand: forward, errors, averaged gradients, update."""
    hidden_w, output_w = initial_weights()
    ones = np.ones((len(X), 1))
    for _ in range(steps):
        inputs = np.hstack([ones, X])
        hidden = np.hstack([ones, 1 / (1 + np.exp(-inputs @ hidden_w))])
        output = hidden @ output_w
        output_error = output - Y[:, None]  # dE/d output for E = 1/2 (output - y)^2
        hidden_error = hidden[:, 1:] * (1 - hidden[:, 1:]) * (output_error @ output_w.T[:, 1:])
        hidden_w -= LEARNING_RATE * (inputs[:, :, None] * hidden_error[:, None, :]).mean(axis=0)
        output_w -= LEARNING_RATE * (hidden[:, :, None] * output_error[:, None, :]).mean(axis=0)
    return hidden_w, output_w, output[:, 0]


def build() -> nn.MLP:
    hidden_w, output_w = initial_weights()
    model = nn.MLP(3, [HIDDEN, 1], activation="sigmoid", out_activation="linear", seed=0)
    for layer, weights in zip(model.layers, [hidden_w, output_w]):
        for j, neuron in enumerate(layer.neurons):
            neuron.b.data = weights[0, j]
            for i, w in enumerate(neuron.w):
                w.data = weights[i + 1, j]
    return model


def train_engine(steps: int = STEPS) -> tuple[nn.MLP, list[float]]:
    """The same training on the engine: E = mean of 1/2 (output - y)^2, plain SGD."""
    model = build()
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    samples, targets = X.tolist(), Y.tolist()
    for _ in range(steps):
        outputs = [model(x) for x in samples]
        loss = 0.5 * nn.mse_loss(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, [o.data for o in outputs]


def engine_weights(model: nn.MLP) -> tuple[np.ndarray, np.ndarray]:
    """The model's weights in the article's layout (row 0: biases)."""
    return tuple(
        np.array([[n.b.data for n in layer.neurons]] + [[n.w[i].data for n in layer.neurons] for i in range(layer.nin)])
        for layer in model.layers
    )


def first_step() -> tuple[float, autodiff.Explanation, float]:
    """The loss before training, the derivation of one output weight's gradient (the
    delta rule the article derives: the output error times the hidden activation,
    averaged over the samples), and that weight after the first step."""
    model = build()
    output = model.layers[1].neurons[0]
    for j, v in enumerate(output.w, start=1):
        v.label = f"v{j}"  # from hidden unit j to the output
    output.b.label = "c"
    weight = output.w[0]
    outputs = []
    for i, x in enumerate(X.tolist()):
        hidden = model.layers[0].forward([Value(v) for v in x])
        for j, h in enumerate(hidden, start=1):
            h.label = f"h{j}[{i}]"
        out = output.forward(hidden)
        out.label = f"out[{i}]"
        outputs.append(out)
    loss = 0.5 * nn.mse_loss(outputs, Y.tolist())
    loss.label = "E"
    loss.backward()
    return loss.data, autodiff.explain(loss, weight), weight.data - LEARNING_RATE * weight.grad


def main() -> None:
    loss, derivation, updated = first_step()
    print(f"Before training: E = mean of 1/2 (output - y)^2 = {loss:.6f}")
    print(f"\nThe first step's gradient of v1, the weight from hidden unit 1 to the output:\n\n{derivation}")
    print("\nThis is the article's delta rule for an output weight: the mean over the samples of the\n"
          "output error (out - y) times the activation the weight multiplies.")
    print(f"v1 after the first step: {updated:.6f}\n")
    model, outputs = train_engine()
    hidden_np, output_np, outputs_np = train_numpy()
    hidden_ad, output_ad = engine_weights(model)
    difference = max(np.abs(hidden_ad - hidden_np).max(), np.abs(output_ad - output_np).max())
    print(f"After {STEPS:,} steps of gradient descent (learning rate {LEARNING_RATE}):")
    print(f"{'sample':>8} {'target':>7} {'engine':>10} {'numpy':>10}")
    for i, (y, a, b) in enumerate(zip(Y, outputs, outputs_np)):
        print(f"{i:>8} {y:>7.0f} {a:>10.6f} {b:>10.6f}")
    print(f"largest difference between the engine's and numpy's weights: {difference:.2e}")


if __name__ == "__main__":
    main()
