"""The notebook tour runs top to bottom in a real Jupyter kernel."""

import math
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.viz.test_steps import browser  # noqa: F401 (a fixture)
from tests.without_dot import hide_dot
from viz.web import renderer_script

TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour.ipynb"


def outputs_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts += [str(v) for v in output.get("data", {}).values()]
    return "\n".join(parts)


def test_the_tour_executes_and_shows_what_it_promises(tmp_path):
    notebook = nbformat.read(TOUR, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "dc/da = -2.929349, dc/db = 2.000000" in outputs_of(code[0])
    assert "<svg" in outputs_of(code[1])  # the graph, drawn inline
    assert "dc/da = dc/dab · dab/da + dc/dt · dt/da" in outputs_of(code[2])
    assert "\\frac{\\partial \\mathrm{c}}{\\partial \\mathrm{a}}" in outputs_of(code[2])  # Markdown for Jupyter
    derivation, checked = outputs_of(code[3]), outputs_of(code[4])
    assert f"= {hidden_weight_gradient():.5g}" in derivation  # the 2-2-2 article's hidden weight
    assert "dz[1,0]/dw[1,0,0] = x[0] = 0.2" in derivation
    assert "\\frac{\\partial \\mathrm{E}}" in derivation  # rendered as math in Jupyter
    assert "you used a[1,0] = 0.5424 where dz[1,0]/dw[1,0,0] is the input x[0] = 0.2" in checked
    assert "final training accuracy: 1.0" in outputs_of(code[5])
    assert all("image/png" in output.get("data", {}) for cell in code[6:] for output in cell.outputs[:1])


def hidden_weight_gradient() -> float:
    """dE/dw for the 2-2-2 network's weight from input 0 to hidden neuron 0, by hand."""
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    x, t = [0.2, 0.5], [0.2, 0.7]
    hidden_w, output_w = [[0.1, 0.3], [0.2, 0.1]], [[0.4, 0.1], [0.5, 0.3]]
    a1 = [sigmoid(sum(w * xi for w, xi in zip(row, x))) for row in hidden_w]
    a2 = [sigmoid(sum(w * ai for w, ai in zip(row, a1))) for row in output_w]
    delta2 = [(y - target) * y * (1 - y) for y, target in zip(a2, t)]
    return sum(d * row[0] for d, row in zip(delta2, output_w)) * a1[0] * (1 - a1[0]) * x[0]


def test_without_dot_the_tour_draws_its_graph_in_the_notebook(tmp_path, monkeypatch, browser):
    # The kernel gets a PATH with no dot on it and imports this checkout; the drawing
    # cell's output is HTML that lays the graph out, which a real browser then shows.
    hide_dot(monkeypatch, tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(TOUR.parents[1]))
    notebook = nbformat.read(TOUR, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    notebook.cells = code[:2]  # compose, then draw
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    (output,) = notebook.cells[1].outputs
    assert set(output["data"]) == {"text/html", "text/plain"}  # no SVG: dot is not there to draw one
    assert renderer_script() in output["data"]["text/html"]
    page = tmp_path / "output.html"
    page.write_text("<!DOCTYPE html><meta charset=utf-8><title>output</title>" + output["data"]["text/html"])
    browser.get(page.as_uri())
    shown = browser.execute_async_script("""
const done = arguments[0];
const look = () => {
  const svg = document.querySelector("div.autodiff-drawing svg");
  if (svg) { done(Array.from(svg.querySelectorAll("text"), t => t.textContent)); } else { setTimeout(look, 50); }
};
look();
""")
    assert {"a", "b", "c", "ab", "t", "grad -2.929", "grad 2"} <= set(shown)
