"""Every section of ./scripts/bench runs, at tiny sizes (nothing here is timed or compared
with a time), and its checks would catch engines that disagree."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import per_node  # noqa: E402
import run  # noqa: E402
from timing import check_same  # noqa: E402


def test_every_section_runs_and_prints_its_targets(capsys):
    figures = run.main(["--smoke"])
    out = capsys.readouterr().out
    for title in ("two-moons step", "per node", "digits", "nn.fit", "six-sample network", "targets (issue #13"):
        assert title in out
    assert "ours, compiled + nn.SGD" in figures and "digits numpy by hand (no loss)" in figures
    if importlib.util.find_spec("numba") is not None:  # its compile time, from a fresh process
        assert figures["numba compile"] > 0 and "compiling two-moons (first step included" in out
    assert all(line.split()[0] in ("met", "MISSED", "info") for line in out.split("targets (issue #13")[1].splitlines()[1:]
               if line.startswith("  "))


def test_disagreeing_engines_stop_the_benchmark():
    check_same("agree", {"a": 1.0, "b": 1.0 + 1e-12})
    with pytest.raises(SystemExit, match="b computes 1.001"):
        check_same("differ", {"a": 1.0, "b": 1.001})


@pytest.mark.parametrize("shape", ["dag", "chain"])
def test_the_tape_anchor_differentiates_its_graph(shape):
    """The anchor's gradient against central finite differences in float64."""
    steps = per_node.plan(shape, 60)
    tape, out = per_node.build_tape(steps)
    grads = tape.backward(out)
    leaves = per_node.leaf_numbers()

    def output(shifted: int, by: float) -> float:
        numbers = list(leaves)
        numbers[shifted] += by
        shifted_tape, out = per_node.build_tape(steps, numbers)
        return shifted_tape.data[out]

    for leaf in range(per_node.LEAVES):
        h = 1e-6
        numeric = (output(leaf, h) - output(leaf, -h)) / (2 * h)
        assert math.isclose(grads[leaf], numeric, rel_tol=1e-5, abs_tol=1e-7), leaf
