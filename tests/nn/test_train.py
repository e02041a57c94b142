"""fit: it learns, it reports a history, it names bad data."""


import numpy as np
import pytest

import nn


def xor():
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [-1.0, 1.0, 1.0, -1.0]


def test_fit_learns_xor_and_returns_loss_and_accuracy_per_epoch():
    X, y = xor()
    model = nn.MLP(2, [8, 1], activation="tanh", seed=0)
    history = nn.fit(model, X, y, loss="hinge", epochs=150, progress=False)
    assert len(history["loss"]) == len(history["accuracy"]) == 150
    assert history["accuracy"][-1] == 1.0
    assert history["loss"][-1] < history["loss"][0]
    assert all((model(x).data > 0) == (t > 0) for x, t in zip(X, y))


def test_fit_is_reproducible_from_its_seed():
    X, y = xor()
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [4, 1], seed=1)
        runs.append(nn.fit(model, np.array(X), np.array(y), loss=nn.hinge_loss, epochs=5, batch_size=3, seed=4, progress=False))
    assert runs[0] == runs[1]


def test_the_recorded_loss_is_the_loss_of_the_batches():
    X, y = [[0.5], [1.5]], [1.0, 3.0]
    model = nn.MLP(1, [1], seed=0)
    start = model.state_dict()
    history = nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.0), epochs=1, progress=False)
    w, b = start["layers.0.neurons.0.w.0"], start["layers.0.neurons.0.b"]
    expected = ((w * 0.5 + b - 1.0) ** 2 + (w * 1.5 + b - 3.0) ** 2) / 2
    assert history["loss"] == [pytest.approx(expected, rel=1e-15)]
    assert "accuracy" not in history  # regression


def test_fit_with_l2_and_cross_entropy():
    X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    model = nn.MLP(2, [6, 3], seed=0)
    history = nn.fit(model, X, [0, 1, 2], loss="cross_entropy", l2=1e-4, epochs=200, progress=False)
    assert history["accuracy"][-1] == 1.0


def test_the_progress_bar_is_quiet_when_output_is_not_a_terminal(capsys):
    X, y = xor()
    nn.fit(nn.MLP(2, [2, 1], seed=0), X, y, epochs=3, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("X, y, message", [
    ([[0.0, 1.0]] * 3, [1.0, 1.0], "X has 3 samples but y has 2 targets"),
    ([[0.0, 1.0], [1.0]], [1.0, 1.0], "sample 1 of X has 1 features, but the model takes 2"),
    ([[0.0, 1.0, 2.0]], [1.0], "has 3 features, but the model takes 2"),
    ([], [], "at least one sample"),
    ([[0.0, "a"]], [1.0], "must be a real number, got str"),
])
def test_bad_data_is_named(X, y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        nn.fit(nn.MLP(2, [1], seed=0), X, y, progress=False)


def test_bad_options_are_named():
    X, y = xor()
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        nn.fit(nn.MLP(2, [1], seed=0), X, y, loss="l1")
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        nn.fit(nn.MLP(2, [1], seed=0), X, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        nn.fit(nn.MLP(2, [1], seed=0), X, y, batch_size=0)
