"""The two-moons example reaches 100% training accuracy."""

import runpy
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two_moons.py"


def test_two_moons_reaches_full_training_accuracy():
    model, history, X, y = runpy.run_path(str(EXAMPLE), run_name="two_moons")["train"](progress=False)
    right = sum((model(list(x)).data > 0) == (t > 0) for x, t in zip(X, y))
    assert right == len(y) == 100
    assert history["accuracy"][-1] == 1.0


def test_two_moons_runs_as_a_script():
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True)
    assert "training accuracy 100%" in done.stdout
