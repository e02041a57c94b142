"""The notebook tour runs top to bottom in a real Jupyter kernel."""

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
    assert "final training accuracy: 1.0" in outputs_of(code[3])
    assert all("image/png" in output.get("data", {}) for cell in code[4:] for output in cell.outputs[:1])


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
