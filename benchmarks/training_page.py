"""The training page's costs: the recorder's overhead on the demo's run, the page's size
and how fast its slider redraws in Chromium, for 200 snapshots of the two-moons run.

    .venv/bin/python benchmarks/training_page.py [--runs 3]
    .venv/bin/python benchmarks/training_page.py --screenshot out/training.html docs/demo/training_page.png

The demo's fit (MLP 2-16-16-1, 100 full-batch steps) is timed (CPU time) with and
without a TrainingRecord, in turns, so that the machine's slow spells fall on both
alike; the time spent inside record() is timed too, the overhead measured directly, and
apart from it the one-off measuring of the kept snapshots (loss, accuracy, decision
grid), which a record does when they are first read (the page), not while training. The
page is made from a 200-step run (200 snapshots) and opened in headless Chromium,
offline; the slider is moved to every snapshot in a shuffled order, with nothing
selected, with a weight selected (its derivation recomputed at each step) and with a
neuron selected (its drawing refilled). Each move is timed twice: the script's own
work (the input handler), and until the next frame is drawn (which includes the wait
for the frame, up to 16.7 ms at 60 frames a second).

With ``--screenshot`` it only saves the README's picture of a page (the demo's).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import nn  # noqa: E402
import viz  # noqa: E402
from layout import chromium  # noqa: E402
from two_moons import L2, LOSS, make_moons, train  # noqa: E402

TITLE = "Two moons: an MLP 2-16-16-1 learning"


def fit_seconds(record: bool, epochs: int = 100) -> tuple[float, float]:
    """The demo's fit: its CPU time (this process's, so other programs' load counts
    less), and the CPU time spent inside the recorder."""
    X, y = make_moons(seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    inside = [0.0]
    on_step = None
    if record:
        recorder = viz.TrainingRecord(model, X, y, loss=LOSS, l2=L2)

        def on_step() -> None:
            start = time.process_time()
            recorder.record()
            inside[0] += time.process_time() - start

    start = time.process_time()
    train(model, X, y, epochs=epochs, progress=False, on_step=on_step)
    total = time.process_time() - start
    if record:  # the loss, accuracy and grid of each kept snapshot, measured when first read
        start = time.process_time()
        recorder.losses
        measured.append(time.process_time() - start)
    return total, inside[0]


measured: list[float] = []  # CPU seconds to measure a record's snapshots after its fit


def overhead(runs: int) -> None:
    plain, recorded, inside = [], [], []
    for k in range(runs):  # in turns, each going first in every other turn
        for record in ((False, True) if k % 2 == 0 else (True, False)):
            total, spent = fit_seconds(record)
            if record:
                recorded.append(total)
                inside.append(spent / (total - spent))
            else:
                plain.append(total)
    ratios = [r / p for p, r in zip(plain, recorded)]
    print(f"demo fit (100 steps), CPU time, {runs} runs each, in turns (each first in every other):")
    print(f"  without recording: median {statistics.median(plain):.2f} s, range {min(plain):.2f}-{max(plain):.2f} s")
    print(f"  with a TrainingRecord: median {statistics.median(recorded):.2f} s, range {min(recorded):.2f}-{max(recorded):.2f} s")
    print(f"  recorded / plain - 1: median {statistics.median(ratios) - 1:+.1%}, "
          f"range {min(ratios) - 1:+.1%} to {max(ratios) - 1:+.1%}")
    print(f"  time inside record() / the rest of the fit: median {statistics.median(inside):.1%}, "
          f"range {min(inside):.1%}-{max(inside):.1%}")
    print(f"  then, once, measuring the kept snapshots (loss, accuracy, grid) for the page: "
          f"median {statistics.median(measured):.2f} s, range {min(measured):.2f}-{max(measured):.2f} s")


def page(path: Path) -> viz.TrainingRecord:
    X, y = make_moons(seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    record = viz.TrainingRecord(model, X, y, loss=LOSS, l2=L2)
    train(model, X, y, epochs=200, progress=False, on_step=record.record)
    record.write(path, TITLE)
    return record


# Moves the slider to each of arguments[0] in turn; per move, the handler's time and the
# time until the next frame is drawn.
_MOVES = """
const moves = arguments[0], done = arguments[arguments.length - 1], handler = [], frame = [];
let k = 0;
function next() {
  if (k === moves.length) { done({handler, frame}); return; }
  const start = performance.now();
  slider.value = moves[k++];
  slider.dispatchEvent(new Event("input"));
  handler.push(performance.now() - start);
  requestAnimationFrame(() => setTimeout(() => { frame.push(performance.now() - start); next(); }, 0));
}
next();
"""


def summary(times: list[float]) -> str:
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    return f"median {statistics.median(times):.1f} ms, 95th percentile {p95:.1f} ms, range {min(times):.1f}-{max(times):.1f} ms"


def redraws(path: Path, count: int) -> None:
    browser = chromium(1400, 1000)
    try:
        start = time.perf_counter()
        browser.get(path.as_uri())
        print(f"page opened in {time.perf_counter() - start:.2f} s (load event; the neuron drawings lay out later)")
        browser.set_script_timeout(300)
        moves = np.random.default_rng(0).permutation(count).tolist()
        for label, setup in (
            ("nothing selected", "pause()"),
            ("a weight selected (w[1,3,0]: its derivation, summed over the 100 samples)",
             "select({kind: 'weight', l: 1, j: 3, i: 0})"),
            ("a neuron selected (a[2,5]: its drawing refilled)", "select({kind: 'neuron', l: 2, j: 5})"),
        ):
            browser.execute_script(setup)
            if "neuron" in setup:
                deadline = time.monotonic() + 60
                while not browser.execute_script("return neuronView !== null") and time.monotonic() < deadline:
                    time.sleep(0.1)
            result = browser.execute_async_script(_MOVES, moves)
            print(f"slider over all {count} snapshots, {label}:")
            print(f"  handler: {summary(result['handler'])}; to the next frame: {summary(result['frame'])}")
    finally:
        browser.quit()


def screenshot(page: Path, png: Path, *, fraction: float = 0.15, width: int = 1320, height: int = 1240) -> Path:
    """Save ``page`` at ``fraction`` of its snapshots, with the second layer's weight of
    the largest gradient for the sample shown selected, as a 256-colour ``png`` (small)."""
    from PIL import Image

    browser = chromium(width, height, "--hide-scrollbars")
    try:
        browser.get(page.resolve().as_uri())
        browser.execute_script(
            "show(Math.round(arguments[0] * (COUNT - 1)));"
            "const b = backward(paramsAt(step), X[sample], Y[sample]), second = edges.filter(e => e.l === 2);"
            "const size = e => Math.abs(sampleGradient(b, e.l, e.j, e.i));"
            "const e = second.reduce((best, next) => (size(next) > size(best) ? next : best));"
            "select({kind: 'weight', l: e.l, j: e.j, i: e.i});", fraction)
        image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    finally:
        browser.quit()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed fits with and without recording (default 3)")
    parser.add_argument("--screenshot", nargs=2, type=Path, metavar=("PAGE", "PNG"),
                        help="only save a screenshot of PAGE (the demo's out/training.html) as PNG, for the README")
    args = parser.parse_args()
    if args.screenshot:
        print(f"wrote {screenshot(*args.screenshot)}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "training.html"
        record = page(path)
        print(f"page of {len(record)} snapshots of the two-moons run (MLP 2-16-16-1, {len(record.names)} parameters): "
              f"{path.stat().st_size:,} bytes ({path.stat().st_size / 1e6:.2f} MB)")
        redraws(path, len(record))
    overhead(args.runs)


if __name__ == "__main__":
    main()
