"""``nn.fit`` on the two-moons example as examples/two_moons.py calls it: by default,
and with the scalar engine (``compiled=False``, where fit has that option)."""

from __future__ import annotations

import inspect
import warnings

from timing import Step, by_scale, check_same, in_turns, measure_this_checkout

measure_this_checkout()  # its autodiff, nn and examples

import nn  # noqa: E402

from two_moons import make_moons  # noqa: E402


def fit_epochs(epochs: int, **options) -> Step:
    X, y = make_moons(seed=0)

    def train():
        model = nn.MLP(2, [16, 16, 1], seed=0)
        optimizer = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a fallback note, printed once per fit
            return nn.fit(model, X, y, loss="hinge", l2=1e-4, optimizer=optimizer, epochs=epochs,
                          progress=False, **options)["loss"][-1]

    return Step(train)


def run(scale: str) -> dict[str, float]:
    epochs = by_scale(scale, 10, 3, 1)
    print(f"\nnn.fit, the two-moons example (the time of a call of {epochs} epochs; the targets divide by {epochs})")
    engines = {"nn.fit (default)": fit_epochs(epochs)}
    if "compiled" in inspect.signature(nn.fit).parameters:
        engines["nn.fit(compiled=False)"] = fit_epochs(epochs, compiled=False)
        losses = {name: step.run() for name, step in engines.items()}
        check_same("nn.fit's last loss", losses)
    else:
        print("  nn.fit has no compiled option in this checkout: it always trains with the scalar engine")
    timings = in_turns(engines, rounds=by_scale(scale, 3, 2, 1), block=1)
    for name, timing in timings.items():
        print(f"  {name:38} {timing}  per call of {epochs} epochs")
    return {name: timing.median / epochs for name, timing in timings.items()}
