"""The two-moons example reaches 100% training accuracy and draws its pictures."""

import runpy
import subprocess
import sys
from pathlib import Path

import nn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two_moons.py"
PNG = b"\x89PNG\r\n\x1a\n"


def test_two_moons_reaches_full_training_accuracy():
    example = runpy.run_path(str(EXAMPLE), run_name="two_moons")
    X, y = example["make_moons"](seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    history = example["train"](model, X, y, progress=False)
    right = sum((model(list(x)).data > 0) == (t > 0) for x, t in zip(X, y))
    assert right == len(y) == 100
    assert history["accuracy"][-1] == 1.0


def test_two_moons_runs_as_a_script_and_writes_its_pictures(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLE), str(tmp_path)], capture_output=True, text=True, check=True)
    assert "training accuracy 100%" in done.stdout
    for name in ("boundary", "training", "gradient_flow"):
        assert (tmp_path / f"two_moons_{name}.png").read_bytes().startswith(PNG)
