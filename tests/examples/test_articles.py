"""The articles' networks: the engine's numbers against the right values, worked out
independently (by hand with math, or by the plain numpy delta rule)."""

import math
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=name)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_2_2_2_network_matches_the_hand_derivation():
    ours = load("article_2_2_2")["run"]()
    # by hand: forward, then the chain rule along each path
    a1, a2 = sigmoid(0.2 * 0.1 + 0.5 * 0.3), sigmoid(0.2 * 0.2 + 0.5 * 0.1)
    y1, y2 = sigmoid(a1 * 0.4 + a2 * 0.1), sigmoid(a1 * 0.5 + a2 * 0.3)
    delta1, delta2 = (y1 - 0.2) * y1 * (1 - y1), (y2 - 0.7) * y2 * (1 - y2)
    assert ours["E"] == pytest.approx(0.5 * ((0.2 - y1) ** 2 + (0.7 - y2) ** 2), rel=1e-14)
    assert ours["dE/dw(hidden 1 -> output 1)"] == pytest.approx(delta1 * a1, rel=1e-14)
    assert ours["dE/dw(input 1 -> hidden 1)"] == pytest.approx((delta1 * 0.4 + delta2 * 0.5) * a1 * (1 - a1) * 0.2, rel=1e-13)
    # the numbers the example promises
    assert round(ours["E"], 6) == 0.071783
    assert round(ours["dE/dw(hidden 1 -> output 1)"], 6) == 0.048861
    assert round(ours["updated w(hidden 1 -> output 1)"], 6) == 0.385342
    assert round(ours["dE/dw(input 1 -> hidden 1)"], 7) == 0.0012277


def test_2_2_1_network_matches_the_hand_derivation():
    ours = load("article_2_2_1")["run"]()
    h1, h2 = 0.5 * 0.5 + 0.3 * 0.2 + 0.1, 0.5 * 0.3 + 0.3 * 0.4 + 0.2
    assert (ours["hidden input 1"], ours["hidden input 2"]) == pytest.approx((0.41, 0.47), rel=1e-15)
    z = 0.6 * sigmoid(h1) + 0.7 * sigmoid(h2) + 0.3
    y = sigmoid(z)
    assert ours["output y"] == pytest.approx(y, rel=1e-15) and round(y, 6) == 0.748649
    delta2 = -2 * (0.8 - y) * y * (1 - y)
    assert ours["delta2 = dloss/d(output input)"] == pytest.approx(delta2, rel=1e-14)
    assert ours["delta1 (hidden 1)"] == pytest.approx(delta2 * 0.6 * sigmoid(h1) * (1 - sigmoid(h1)), rel=1e-14)
    assert ours["dloss/dW2[2]"] == pytest.approx(delta2 * sigmoid(h2), rel=1e-14)


def test_six_sample_network_matches_plain_numpy_after_ten_thousand_steps():
    example = load("article_six_samples")
    model, outputs = example["train_engine"]()
    hidden_np, output_np, outputs_np = example["train_numpy"]()
    hidden_ad, output_ad = example["engine_weights"](model)
    np.testing.assert_allclose(hidden_ad, hidden_np, rtol=0, atol=1e-9)
    np.testing.assert_allclose(output_ad, output_np, rtol=0, atol=1e-9)
    np.testing.assert_allclose(outputs, outputs_np, rtol=0, atol=1e-9)


def test_2_2_2_derivations_read_as_the_article_writes_them():
    first, second = (str(e).splitlines() for e in load("article_2_2_2")["derivations"]())
    # by hand: the forward pass, then each factor the article multiplies
    h = [sigmoid(0.2 * 0.1 + 0.5 * 0.3), sigmoid(0.2 * 0.2 + 0.5 * 0.1)]
    y = [sigmoid(h[0] * 0.4 + h[1] * 0.1), sigmoid(h[0] * 0.5 + h[1] * 0.3)]
    dE_dy = [y[0] - 0.2, y[1] - 0.7]
    assert first[:2] == ["dE/dw[2,0,0] = dE/da[2,0] · da[2,0]/dz[2,0] · dz[2,0]/dw[2,0,0]",
                         f"             = {dE_dy[0]:.5g} × {y[0] * (1 - y[0]):.5g} × {h[0]:.5g} = "
                         f"{dE_dy[0] * y[0] * (1 - y[0]) * h[0]:.5g}"]
    assert f"dz[2,0]/dw[2,0,0] = a[1,0] = {h[0]:.5g}, where z[2,0] = w[2,0,0]·a[1,0] + w[2,0,1]·a[1,1] + b[2,0]" in first
    assert second[0] == "dE/dw[1,0,0] = dE/da[1,0] · da[1,0]/dz[1,0] · dz[1,0]/dw[1,0,0]"
    assert second[1].endswith("× 0.2 = 0.0012277")  # the input x[0] = 0.2, not the activation
    assert "dz[1,0]/dw[1,0,0] = x[0] = 0.2, where z[1,0] = w[1,0,0]·x[0] + w[1,0,1]·x[1] + b[1,0]" in second


def test_2_2_2_articles_wrong_gradient_is_diagnosed():
    lines = load("article_2_2_2")["checked"]()
    assert lines[0].startswith("Your dE/dw[2,0,0] = 0.049 agrees")
    a1 = sigmoid(0.2 * 0.1 + 0.5 * 0.3)  # the hidden activation the article used for the input 0.2
    assert lines[1].endswith(f"The likely mistake: you used a[1,0] = {a1:.5g} where dz[1,0]/dw[1,0,0] is the input x[0] = 0.2.")


def test_2_2_1_articles_hidden_inputs_are_diagnosed():
    lines = load("article_2_2_1")["checked"]()
    assert lines[0].endswith("The likely mistake: you left out the term b[1,0] = 0.1.")
    assert lines[2].endswith("Likely, two mistakes together: you swapped w[1,1,0] = 0.3 and w[1,1,1] = 0.4, "
                             "and you left out the term b[1,1] = 0.2.")
    assert f"= {0.4 * 0.5 + 0.3 * 0.3:.5g}, which matches your 0.29" in lines[3]


def test_3_4_1_network_climbs_toward_its_label():
    example = load("article_3_4_1")
    predictions, explanation = example["train"]()
    assert all(b > a for a, b in zip(predictions, predictions[1:])) and predictions[-1] < 1
    # by hand, at the first step: dE/dw = (yhat - 1) · v4 · f4 (1 - f4) · x3 for cross-entropy
    model = example["build"]()
    x = example["X"]
    hidden = [sigmoid(sum(w.data * xi for w, xi in zip(n.w, x))) for n in model.layers[0].neurons]
    v = [w.data for w in model.layers[1].neurons[0].w]
    yhat = sigmoid(sum(vi * h for vi, h in zip(v, hidden)))
    assert predictions[0] == pytest.approx(yhat, rel=1e-14)
    expected = (yhat - 1.0) * v[3] * hidden[3] * (1 - hidden[3]) * x[2]
    assert str(explanation).splitlines()[1].endswith(f"= {expected:.5g}")


def test_six_sample_first_step_is_the_delta_rule():
    example = load("article_six_samples")
    loss, derivation, updated = example["first_step"]()
    hidden_w, output_w = example["initial_weights"]()
    X, Y = example["X"], example["Y"]
    hidden = 1 / (1 + np.exp(-(np.hstack([np.ones((6, 1)), X]) @ hidden_w)))
    out = np.hstack([np.ones((6, 1)), hidden]) @ output_w
    error = out[:, 0] - Y
    assert loss == pytest.approx(0.5 * np.mean(error**2), rel=1e-13)
    delta = np.mean(error * hidden[:, 0])  # the article's rule for the weight from hidden unit 1
    assert str(derivation).splitlines()[1].endswith(f"= {delta:.5g}")
    assert updated == pytest.approx(output_w[1, 0] - 0.1 * delta, rel=1e-13)


@pytest.mark.parametrize("name, expected", [
    ("article_2_2_2", "0.001227672"),
    ("article_2_2_1", "0.748649"),
    ("article_3_4_1", "climb toward the label"),
])
def test_articles_run_as_scripts_and_say_where_the_article_is_wrong(name, expected):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's packages, whatever is installed
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                          check=True, env=env)
    assert expected in done.stdout and ("wrong" in done.stdout or "differ" in done.stdout)
    if name != "article_3_4_1":  # the articles whose hand-worked numbers the engine checks
        assert "The likely mistake: you" in done.stdout
