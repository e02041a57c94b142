"""The two-moons step as a micrograd user writes it, timed in a fresh process.

Run by benchmarks/moons.py (one process per run, engines in turns), never imported by
it: a JSON request on stdin names the engine, weights, data and step counts, and the
step times come back as JSON on stdout. Only the engine's own package is imported, so
the garbage collector sees what it sees in a user's script and no more.

The step is micrograd's own demo loop: ``sum(p*p for p in params)`` for the L2 term,
``model.zero_grad()``, ``loss.backward()``, then ``p.data -= lr * p.grad``. It is timed
with the garbage collector on, as users run it, then (for information) off.
"""

from __future__ import annotations

import gc
import json
import sys
import time


def micrograd_model(weights, biases):
    """micrograd's MLP 2-16-16-1 holding the given weights, its Value class."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, [16, 16, 1])
    for layer, rows, layer_biases in zip(model.layers, weights, biases):
        for neuron, row, bias in zip(layer.neurons, rows, layer_biases):
            for w, number in zip(neuron.w, row):
                w.data = number
            neuron.b.data = bias
    return model, Value


def ours_model(weights, biases):
    """nn.MLP(2, [16, 16, 1], seed=0), whose weights these are, and our Value class."""
    import nn
    from autodiff import Value

    model = nn.MLP(2, [16, 16, 1], seed=0)
    for layer, rows, layer_biases in zip(model.layers, weights, biases):
        for neuron, row, bias in zip(layer.neurons, rows, layer_biases):
            if [w.data for w in neuron.w] != row or neuron.b.data != bias:
                raise SystemExit("nn.MLP(seed=0) no longer holds the weights the benchmark was given")
    return model, Value


def micrograd_style_step(model, value, rows, targets, lr):
    """One full-batch step of hinge loss + 1e-4 L2, written as micrograd's demo writes it."""
    params = model.parameters()

    def step():
        inputs = [list(map(value, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -t * score).relu() for t, score in zip(targets, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return step


def timed(step, count):
    times, losses = [], []
    for _ in range(count):
        start = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - start)
    return times, losses


def main() -> None:
    request = json.load(sys.stdin)
    make = {"micrograd": micrograd_model, "ours": ours_model}[request["engine"]]
    model, value = make(request["weights"], request["biases"])
    step = micrograd_style_step(model, value, request["X"], request["y"], request["lr"])
    first, losses = timed(step, request["warmup"])
    gc_on, more = timed(step, request["steps"])
    gc.collect()
    gc.disable()
    gc_off, _ = timed(step, request["steps_gc_off"])
    gc.enable()
    json.dump({"gc_on": gc_on, "gc_off": gc_off, "first": first, "losses": losses + more}, sys.stdout)


if __name__ == "__main__":
    main()
