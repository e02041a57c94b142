"""The README's graph: the example draws it, and the committed copy is what it draws."""

import runpy
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_picture_is_what_the_example_draws(tmp_path):
    runpy.run_path(str(ROOT / "examples" / "draw_mlp.py"), run_name="draw_mlp")["main"](tmp_path)
    # The DOT text is deterministic; the SVG is dot's layout of it (which depends on the
    # Graphviz version), so the DOT text is what must match.
    assert (tmp_path / "mlp_graph.dot").read_text() == (ROOT / "docs" / "mlp_graph.dot").read_text()
    svg = ElementTree.parse(ROOT / "docs" / "mlp_graph.svg")
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "layers.0.neurons.2" in texts and "loss" in texts
