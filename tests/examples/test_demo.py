"""The demo: it trains, writes every picture and page, and explains a gradient."""

import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.py"
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_demo_writes_everything_it_promises(tmp_path):
    # the packages of this checkout, whatever an installed copy says
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(DEMO), str(tmp_path)], capture_output=True, text=True,
                          check=True, timeout=60, env=environment)
    assert "training accuracy 100%" in done.stdout
    for name in ("decision_boundary", "training", "gradient_flow", "neuron"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(PNG)
    assert "<svg" in (tmp_path / "neuron.svg").read_text()
    assert '<script type="application/json" id="steps-data">[' in (tmp_path / "backward_steps.html").read_text()
    # the explained gradient, by hand: d/dw1 (tanh(z) - 0.5)^2 = 2 (y - 0.5)(1 - y^2) x1
    y = math.tanh(0.5 - 0.25 + 0.1)
    explained = (tmp_path / "explain_w1.txt").read_text()
    assert explained.startswith("dloss/dw1 = ")
    assert f"= {2 * (y - 0.5) * (1 - y * y):.5g}" in explained
    assert "open backward_steps.html in a browser" in done.stdout
    page = (tmp_path / "training.html").read_text()
    assert '<script type="application/json" id="record-data">{' in page and "open training.html" in done.stdout
    assert len(page.encode()) < 5_000_000
