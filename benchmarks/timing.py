"""How the benchmarks time things: engines in turns, ranges and medians, fresh processes.

A shared virtual machine has slow spells lasting seconds, so engines are timed in
turns (a block of steps of each, round after round) and every figure is printed as a
median with its range over the rounds: a ratio of medians measured in turns is what
the targets compare.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent  # the code measured is this checkout's, whatever is installed


def measure_this_checkout() -> None:
    """Import autodiff, nn and the examples from the checkout the benchmark sits in (a
    script's own folder, not the working directory, leads Python's path)."""
    for folder in (CHECKOUT / "examples", CHECKOUT):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


@dataclass(frozen=True)
class Timing:
    """Seconds per step over several rounds: the median and the range (min to max)."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def __str__(self) -> str:
        return f"{_short(self.median):>10}  ({_short(min(self.times))} to {_short(max(self.times))})"


def _short(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} us"
    return f"{seconds * 1e3:,.2f} ms" if seconds < 1 else f"{seconds:,.2f} s"


@dataclass(frozen=True)
class Step:
    """One engine's step, and what waits for its queued work (JAX dispatches ahead)."""

    run: Callable[[], object]
    sync: Callable[[], object] = lambda: None


def in_turns(steps: dict[str, Step], rounds: int, block: int) -> dict[str, Timing]:
    """Seconds per step of each engine, timed in turns: each round runs ``block`` steps of
    each engine in a row, as a training loop runs them, so slow spells fall on all alike."""
    for step in steps.values():
        step.run(), step.run(), step.sync()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(block):
                step.run()
            step.sync()
            times[name].append((time.perf_counter() - start) / block)
    return {name: Timing(tuple(t)) for name, t in times.items()}


def run_fresh(module: str, request: dict) -> dict:
    """Run ``benchmarks/<module>.py`` in a new Python process, as a user starts a script:
    the request goes in as JSON on stdin, the answer comes back as JSON on stdout. The
    child imports only what its engine needs, so no other library's objects weigh on
    its garbage collector."""
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(HERE / f"{module}.py")], input=json.dumps(request),
                          capture_output=True, text=True, check=False, env=os.environ | {"PYTHONPATH": path})
    if done.returncode != 0:
        raise RuntimeError(f"{module}.py failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def check_same(what: str, values: dict[str, float], tolerance: float = 1e-9) -> None:
    """Stop the benchmark if the engines do not compute the same number: a fast wrong
    answer is no result."""
    reference_name, reference = next(iter(values.items()))
    for engine, value in values.items():
        if not math.isclose(value, reference, rel_tol=tolerance, abs_tol=1e-12):
            raise SystemExit(f"{what}: {engine} computes {value!r} but {reference_name} {reference!r}: "
                             "the engines disagree")


SCALES = ("full", "quick", "smoke")  # smoke: tiny sizes, only to show a section runs


def by_scale(scale: str, full, quick, smoke):
    """The setting for this scale of run: the full benchmark, --quick, or the tests' smoke run."""
    return dict(zip(SCALES, (full, quick, smoke)))[scale]
