"""TrainingRecord: what it records (checked against PyTorch and the engine), how it thins,
and its page in a real browser, offline and without Graphviz's dot."""

import math
import os
import re
import time

import numpy as np
import pytest
import torch
from selenium.webdriver.common.by import By

import autodiff
import nn
import viz
from autodiff import Value
from autodiff.local_derivatives import number
from nn.train import LOSSES
from tests.viz.test_steps import HOSTILE_LABELS, browser  # noqa: F401  (the suite's Chromium, offline)
from tests.without_dot import hide_dot
from viz.text import visible

PNG = b"\x89PNG\r\n\x1a\n"


def moons(n=24, seed=1):
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, np.pi, n)
    upper = np.arange(n) < n // 2
    X = np.where(upper[:, None], np.stack([np.cos(angles), np.sin(angles)], 1),
                 np.stack([1 - np.cos(angles), 0.5 - np.sin(angles)], 1)) + rng.normal(0, 0.1, (n, 2))
    return X, np.where(upper, -1.0, 1.0)


def trained(epochs=12, loss="hinge", l2=1e-3, sizes=(5, 4, 1), activation="relu", out_activation="linear",
            targets=None, fused=True, **options):
    X, y = moons()
    if targets is not None:
        y = targets(y)
    model = nn.MLP(2, list(sizes), activation=activation, out_activation=out_activation, seed=3, fused=fused)
    rec = viz.TrainingRecord(model, X, y, loss=loss, l2=l2, **options)
    optimizer = nn.SGD(model.parameters(), lr=0.2, momentum=0.9)
    history = nn.fit(model, X, y, loss=loss, l2=l2, optimizer=optimizer, epochs=epochs, progress=False,
                     on_step=rec.record)
    return model, rec, history


def torch_gradient(model, params, X, y, l2):
    """The full-batch hinge loss + l2 gradient at ``params``, by PyTorch in float64."""
    copy = nn.MLP(2, model.nouts, activation=model.activation, out_activation=model.out_activation)
    copy.load_state_dict(dict(zip([n for n, _ in model.named_parameters()], params.tolist())))
    net = copy.to_torch()
    out = net(torch.tensor(X, dtype=torch.float64))[:, 0]
    loss = torch.relu(1 - torch.tensor(y) * out).mean() + l2 * sum((p ** 2).sum() for p in net.parameters())
    loss.backward()
    grads = {}  # back to nn's names: layers.l.neurons.j.w.i and .b
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for l, linear in enumerate(linears):
        for j in range(linear.out_features):
            for i in range(linear.in_features):
                grads[f"layers.{l}.neurons.{j}.w.{i}"] = linear.weight.grad[j, i].item()
            grads[f"layers.{l}.neurons.{j}.b"] = linear.bias.grad[j].item()
    return np.array([grads[name] for name, _ in model.named_parameters()])


def test_each_gradient_is_paired_with_the_weights_it_was_computed_at():
    model, rec, history = trained()
    assert len(rec) == 12 and rec.steps.tolist() == list(range(12))
    X, y = moons()
    for t in (0, 5, 11):
        expected = torch_gradient(model, rec.parameters[t], X, y, 1e-3)
        assert np.allclose(rec.gradients[t], expected, rtol=1e-10, atol=1e-14)
    # the first snapshot holds the starting weights, the loss and accuracy are fit's own
    assert np.array_equal(rec.parameters[0], [p.data for p in nn.MLP(2, [5, 4, 1], seed=3).parameters()])
    assert np.allclose(rec.losses, history["loss"], rtol=1e-12)
    assert np.array_equal(rec.accuracies, history["accuracy"])


def test_the_grid_holds_the_models_decision_function_at_each_step():
    model, rec, _ = trained(epochs=3)
    t = 2
    model.load_state_dict(dict(zip(rec.names, rec.parameters[t].tolist())))
    for r, c in [(0, 0), (7, 31), (39, 12)]:
        expected = model([rec.grid_x[c], rec.grid_y[r]]).data
        assert rec.grids[t, r, c] == pytest.approx(expected, rel=1e-6, abs=1e-6)  # stored as float32


def test_snapshots_are_thinned_evenly_and_bounded():
    model = nn.MLP(2, [3, 1], seed=0)
    rec = viz.TrainingRecord(model, [[0.0, 1.0]], [1.0], max_snapshots=8)
    for _ in range(37):
        rec.record()
    steps = rec.steps.tolist()
    assert len(rec) <= 8 and steps[0] == 0 and steps[-1] >= 36 - 8
    assert len(set(np.diff(steps))) == 1  # evenly spread
    tiny = viz.TrainingRecord(model, [[0.0, 1.0]], [1.0], max_bytes=1)
    assert tiny.capacity == 2


@pytest.mark.parametrize("model, options, message", [
    (nn.Layer(2, 1), {}, "records an nn.MLP"),
    (nn.MLP(2, [3, 2]), {}, "one output"),
    (nn.MLP(2, [3, 1]), {"loss": "cross_entropy"}, "takes loss"),
    (nn.MLP(2, [3, 1]), {"max_snapshots": 1}, "max_snapshots"),
    (nn.MLP(2, [3, 1]), {"l2": -1.0}, "l2"),
])
def test_what_the_recorder_cannot_record_is_refused(model, options, message):
    with pytest.raises((TypeError, ValueError), match=message):
        viz.TrainingRecord(model, [[0.0, 1.0]], [1.0], **options)


def test_the_page_is_self_contained_and_needs_something_recorded(tmp_path):
    rec = viz.TrainingRecord(nn.MLP(2, [3, 1], seed=0), [[0.0, 1.0]], [1.0])
    with pytest.raises(ValueError, match="nothing recorded"):
        rec.write(tmp_path / "page.html")
    _, rec, _ = trained(epochs=2)
    text = rec.write(tmp_path / "page.html").read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert "http://" not in text.replace("http://www.w3.org/", "") and "https://" not in text.split("<script>", 1)[0]
    with pytest.raises(ValueError, match="ending in .html"):
        rec.write(tmp_path / "page.svg")


# ---- in a browser ------------------------------------------------------------------------


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    hide_dot(monkeypatch, tmp_path)


def open_page(browser, path):
    browser.get(path.as_uri())
    assert browser.execute_script("return typeof show") == "function"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched


def move_slider(browser, k):
    browser.execute_script("slider.value = arguments[0]; slider.dispatchEvent(new Event('input'))", k)


def at_snapshot(model, rec, t):
    """The model with the weights of snapshot ``t``."""
    model.load_state_dict(dict(zip(rec.names, rec.parameters[t].tolist())))
    return model


def test_the_slider_visits_every_snapshot_and_play_runs_to_the_end(browser, no_dot, tmp_path):
    model, rec, _ = trained()
    open_page(browser, rec.write(tmp_path / "training.html"))
    counter = browser.find_element(By.ID, "counter")
    for k in range(len(rec)):
        move_slider(browser, k)
        assert counter.text.startswith(f"snapshot {k + 1} of {len(rec)} · step {rec.steps[k]} · loss {rec.losses[k]:.4g}")
        grid = browser.execute_script("return Array.from(gridValues(arguments[0]))", k)
        assert np.allclose(np.array(grid).reshape(rec.grids[k].shape), rec.grids[k], rtol=1e-5, atol=1e-6)
    move_slider(browser, 0)
    browser.find_element(By.ID, "play").click()
    deadline = time.monotonic() + 30
    while browser.execute_script("return playing") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert browser.execute_script("return step") == len(rec) - 1
    assert browser.find_element(By.ID, "play").text == "▶ play"
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue012")  # the left arrow key
    assert browser.execute_script("return step") == len(rec) - 2


def neuron_boxes(browser):
    return browser.execute_script(
        "return neuronView && neuronView.boxes.map(e => [e.role, e.data && e.data.textContent, e.grad && e.grad.textContent])")


@pytest.mark.parametrize("fused", [True, False])  # one w·x+b node, or micrograd's * and + nodes
def test_a_neuron_shows_its_computation_with_the_models_numbers_at_that_step(browser, no_dot, tmp_path, fused):
    model, rec, _ = trained(fused=fused)
    X, y = moons()
    open_page(browser, rec.write(tmp_path / "training.html"))
    t, s = 4, 7
    move_slider(browser, t)
    browser.execute_script("chooseSample(arguments[0])", s)
    browser.execute_script("return circles[2][1].circle").click()
    deadline = time.monotonic() + 60
    while not neuron_boxes(browser) and time.monotonic() < deadline:  # laid out in the page
        time.sleep(0.2)
    boxes = neuron_boxes(browser)
    assert boxes and browser.find_element(By.ID, "detail-title").text == "Neuron a[2,1]: its computation"
    # the engine on the same sample with the weights of that step: one backward pass
    at_snapshot(model, rec, t)
    hidden = model.layers[0].forward([Value(v) for v in X[s]])
    second = model.layers[1].forward(hidden)
    loss = nn.hinge_loss([model.layers[2].forward(second)[0]], [y[s]])
    model.zero_grad()
    loss.backward()
    neuron, a = model.layers[1].neurons[1], second[1]
    z = a.parents[0]
    expected = {("w", 2, 1, i): (w.data, w.grad) for i, w in enumerate(neuron.w)}
    expected |= {("b", 2, 1): (neuron.b.data, neuron.b.grad), ("z", 2, 1): (z.data, z.grad), ("a", 2, 1): (a.data, a.grad)}
    expected |= {("in", 1, i): (h.data, h.grad) for i, h in enumerate(hidden)}
    if not fused:  # each product w_i·x_i, and each sum of the products so far
        graph = autodiff.topological_order(z)
        for i, w in enumerate(neuron.w):
            (product,) = [n for n in graph if n.op == "*" and n.parents[0] is w]
            expected[("prod", 2, 1, i)] = (product.data, product.grad)
            if i > 0:
                (partial,) = [n for n in graph if n.op == "+" and n.parents[1] is product]
                expected[("partial", 2, 1, i)] = (partial.data, partial.grad)
    assert a.grad != 0.0  # a sample whose gradient reaches this neuron: the check means something
    assert len(boxes) == len(expected)
    # the colour scale spans the gradients shown, as draw_dot's does, and its legend says so
    logs = [math.log10(abs(g)) for _, g in expected.values() if 1e-8 <= abs(g) <= 1e3]
    legend = browser.execute_script("return neuronView.legend.map(t => t.textContent)")
    assert legend == [f"|grad| 1e{min(logs):.1f}", f"1e{max(logs):.1f}"]
    for role, data, grad in boxes:
        value, gradient = expected[tuple(role)]
        assert data == f"data {value + 0.0:.4g}", role
        assert grad == f"grad {gradient + 0.0:.4g}", role


def test_a_weight_shows_its_history_and_derivation_with_the_recorded_numbers(browser, no_dot, tmp_path):
    model, rec, _ = trained()
    X, y = moons()
    open_page(browser, rec.write(tmp_path / "training.html"))
    t, s, (l, j, i) = 6, 3, (1, 2, 0)  # layers from 1, as the page writes w[l,j,i]
    move_slider(browser, t)
    browser.execute_script("chooseSample(arguments[0])", s)
    browser.execute_script(  # a click on the line's hit area (lines cross: a real click may land on another)
        "edges.find(e => e.l === arguments[0] && e.j === arguments[1] && e.i === arguments[2])"
        ".hit.dispatchEvent(new MouseEvent('click', {bubbles: true}))", l, j, i)
    text = browser.find_element(By.ID, "derivation").text
    name = f"layers.{l - 1}.neurons.{j}.w.{i}"
    assert browser.find_element(By.ID, "detail-title").text == f"Weight w[{l},{j},{i}], the model's {name}"
    # one sample's derivative: the engine's, and explain's number for it
    at_snapshot(model, rec, t)
    weight = dict(model.named_parameters())[name]
    loss = nn.hinge_loss([model(list(X[s]))], [y[s]])
    model.zero_grad()
    loss.backward()
    page_value = browser.execute_script(
        "return sampleGradient(backward(paramsAt(arguments[0]), X[arguments[1]], Y[arguments[1]]), arguments[2], arguments[3], arguments[4])",
        t, s, l, j, i)
    assert page_value == pytest.approx(weight.grad, rel=1e-12, abs=1e-300)
    assert weight.grad != 0.0  # a sample whose gradient flows: the check means something
    assert f"= {number(weight.grad)}" in str(autodiff.explain(loss, weight))  # the derivations' digits
    assert f"dE/dw[{l},{j},{i}] = dE/da[{l},{j}] · da[{l},{j}]/dz[{l},{j}] · dz[{l},{j}]/dw[{l},{j},{i}]\n" in text
    # each factor is the engine's: dE/da of the neuron's output, relu's slope, the input
    hidden = model.layers[0].forward([Value(v) for v in X[s]])
    loss = nn.hinge_loss([model.layers[2].forward(model.layers[1].forward(hidden))[0]], [y[s]])
    model.zero_grad()
    loss.backward()
    factors = [hidden[j].grad, 1.0 if hidden[j].data > 0 else 0.0, X[s][i]]
    written = " × ".join(number(v) if k == 0 or v >= 0 else f"({number(v)})" for k, v in enumerate(factors))
    assert f"\n    = {written} = {number(weight.grad)}\n" in text
    # summed over the data it is the recorded batch gradient, which PyTorch confirms
    recorded = rec.gradients[t][rec.names.index(name)]
    assert recorded == pytest.approx(torch_gradient(model, rec.parameters[t], X, y, 1e-3)[rec.names.index(name)], rel=1e-10)
    assert f"recorded gradient at this step: {number(recorded)}  (the same" in text
    # and the small curves hold its value and gradient at every step
    curves = browser.execute_script("return Array.from(document.querySelectorAll('#weight-curves polyline'), p => p.getAttribute('points').split(' ').length)")
    assert curves == [len(rec), len(rec)]
    screenshot = tmp_path / "weight.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(PNG)


@pytest.mark.parametrize("loss, activation, out_activation, targets", [
    ("mse", "tanh", "linear", None),
    ("bce", "sigmoid", "sigmoid", lambda y: (y > 0).astype(float)),
    ("bce_with_logits", "relu", "linear", lambda y: (y > 0).astype(float)),
])
def test_every_loss_and_activation_derives_as_the_engine(browser, tmp_path, loss, activation, out_activation, targets):
    model, rec, _ = trained(epochs=3, loss=loss, l2=0.0, activation=activation, out_activation=out_activation,
                            targets=targets)
    X, y = rec.X, rec.y
    open_page(browser, rec.write(tmp_path / "training.html"))
    t = 2
    at_snapshot(model, rec, t)
    for s in (0, 13):
        out = LOSSES[loss]([model(list(X[s]))], [y[s]])
        model.zero_grad()
        out.backward()
        page = browser.execute_script(
            "const b = backward(paramsAt(arguments[0]), X[arguments[1]], Y[arguments[1]]);"
            "return D.names.map((name, k) => { const m = /layers\\.(\\d+)\\.neurons\\.(\\d+)\\.(w\\.(\\d+)|b)/.exec(name);"
            "  return sampleGradient(b, Number(m[1]) + 1, Number(m[2]), m[4] === undefined ? 'b' : Number(m[4])); })",
            t, s)
        engine = [p.grad for _, p in model.named_parameters()]
        assert np.allclose(page, engine, rtol=1e-10, atol=1e-15)
    # full batch, no l2: the sum of the samples' derivatives is the recorded gradient
    browser.execute_script("select({kind: 'weight', l: 1, j: 0, i: 1})")
    assert "(the same: the training used all the data" in browser.find_element(By.ID, "derivation").text


def test_a_title_is_only_text(browser, tmp_path):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "window.caughtAlerts = []; window.alert = m => window.caughtAlerts.push(String(m));"})
    _, rec, _ = trained(epochs=2, sizes=(3, 1))
    for k, title in enumerate(HOSTILE_LABELS):
        open_page(browser, rec.write(tmp_path / f"training{k}.html", title=title))
        page = browser.execute_script(
            "return {h1: document.querySelector('h1').textContent, title: document.title, pwned: window.pwned === 1,"
            " alerts: window.caughtAlerts, body: Array.from(document.body.children, e => e.tagName + '#' + e.id),"
            " counter: document.getElementById('counter').textContent}")
        assert page["h1"] == visible(title) and page["title"] == re.sub(" +", " ", visible(title)).strip(), title
        assert not page["pwned"] and page["alerts"] == [], title
        assert page["body"] == ["H1#", "DIV#controls", "DIV#", "DIV#detail", "SCRIPT#record-data", "SCRIPT#", "SCRIPT#"], title
        assert page["counter"].startswith("snapshot 2 of 2"), title


# ---- in Jupyter ----------------------------------------------------------------------------

NOTEBOOK = [
    """import numpy as np, nn, viz
rng = np.random.default_rng(0)
X = rng.normal(size=(16, 2)); y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
model = nn.MLP(2, [4, 1], seed=0)
rec = viz.TrainingRecord(model, X, y, loss="hinge")
rec.live(every=2)
history = nn.fit(model, X, y, loss="hinge", epochs=6, progress=False, on_step=rec.record)""",
    "rec",
]


def test_a_notebook_shows_the_view_inline_and_follows_training_live(browser, monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setenv("PYTHONPATH", root)  # the kernel imports this checkout
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    live, shown = notebook.cells[0].outputs, notebook.cells[1].outputs
    # one display, refreshed in place as snapshots arrived: it ends with all six
    displays = [output for output in live if output.output_type == "display_data"]
    assert len(displays) == 1 and "&quot;count&quot;: 6," in displays[0].data["text/html"]
    assert not any("Warning" in output.get("text", "") for output in live)  # tqdm's "IProgress not found" too
    inline = shown[0].data["text/html"]
    assert inline.startswith('<div class="autodiff-training"><iframe srcdoc=') and "&quot;count&quot;: 6," in inline
    # the inline view works in a browser as the notebook shows it
    page = tmp_path / "notebook-output.html"
    page.write_text(f"<!DOCTYPE html><html><body>{inline}</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    assert browser.find_element(By.ID, "counter").text.startswith("snapshot 6 of 6 · step 5")
    move_slider(browser, 0)
    assert browser.find_element(By.ID, "counter").text.startswith("snapshot 1 of 6 · step 0")
