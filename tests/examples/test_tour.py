"""The notebook tour runs top to bottom in a real Jupyter kernel."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

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
