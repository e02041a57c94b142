"""The demo runs and writes its pictures."""

import math
import runpy
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def test_demo_prints_gradients_and_writes_the_graph(tmp_path, capsys):
    runpy.run_path(str(DEMO), run_name="demo")["main"](tmp_path)
    printed = capsys.readouterr().out
    # closed form: d/dw1 (tanh(z) - 0.5)^2 = 2 (y - 0.5)(1 - y^2) x1, z = 0.5 - 0.25 + 0.1
    y = math.tanh(0.35)
    assert f"w1 = {2 * (y - 0.5) * (1 - y * y) * 1.0: .6f}" in printed
    for suffix in ("dot", "svg", "png"):
        assert (tmp_path / f"neuron.{suffix}").stat().st_size > 0
