"""What laying graphs out in the page costs: renderer size, layout time, page size.

    .venv/bin/python benchmarks/layout.py [--shots DIR]

Draws the loss of a 2-16-16-1 MLP on one sample (as ``draw_dot`` draws it) and prints:
the size of the vendored renderer (Graphviz in WebAssembly); the time Graphviz's
``dot`` program takes to draw it (if installed); the time headless Chromium takes to
lay it out with ``window.autodiffRender`` (once the step page has compiled the
WebAssembly); the size of the step-through page written either way. Both as
``draw_dot`` draws it (neurons summarised, within its node budget) and every node.
With ``--shots`` it saves a screenshot of each page, to compare them by eye.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nn  # noqa: E402
import viz  # noqa: E402
from viz.graph import Drawing, run_dot  # noqa: E402
from viz.web import LIBRARY, renderer_script  # noqa: E402

# Resolves to the ms each of repeats + 1 calls took.
TIME_LAYOUT = """
const [source, repeats, done] = arguments;
const times = [];
(async () => {
  for (let k = 0; k <= repeats; k++) {
    const start = performance.now();
    await autodiffRender(source);
    times.push(performance.now() - start);
  }
  done(times);
})().catch(error => done(String(error)));
"""


def mlp_loss():
    model = nn.MLP(2, [16, 16, 1], activation="tanh", seed=0)
    loss = nn.mse_loss([model([0.5, -1.0])], [1.0])
    loss.backward()
    return loss


def chromium(width: int = 1400, height: int = 900, *flags: str):
    """Headless Chromium (a selenium driver) with the network switched off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", *flags):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return browser


def kilobytes(size: int) -> str:
    return f"{size / 1000:,.0f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, help="save a screenshot of each step page here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="layout-"))
    loss = mlp_loss()
    library = Path(viz.__file__).parent / LIBRARY
    print(f"renderer: {kilobytes(library.stat().st_size)} on disk, "
          f"{kilobytes(len(gzip.compress(library.read_bytes(), 9)))} gzipped, "
          f"{kilobytes(len(renderer_script().encode()))} inlined")
    has_dot = shutil.which("dot") is not None
    sources = {}
    for budget, name in [(300, "as draw_dot draws it"), (100_000, "every node")]:
        drawing = Drawing.of(loss, budget=budget, colour=False)
        sources[name] = drawing.dot.source
        print(f"2-16-16-1 MLP, one sample, {name}: {drawing.view.count():,} boxes, "
              f"DOT text {kilobytes(len(sources[name].encode()))}")
        if has_dot:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                run_dot(sources[name], "svg")
                times.append(time.perf_counter() - start)
            print(f"  dot program: {statistics.median(times) * 1000:,.0f} ms (median of 3)")
    pages = {}
    if has_dot:
        pages["dot"] = viz.backward_steps(loss, scratch / "dot.html")
    real_which = shutil.which  # the page's own layout is what backward_steps writes without dot
    shutil.which = lambda name, *rest, **options: None if name == "dot" else real_which(name, *rest, **options)
    try:
        pages["page"] = viz.backward_steps(loss, scratch / "page.html")
    finally:
        shutil.which = real_which
    for layout, page in pages.items():
        print(f"step page laid out by {layout}: {kilobytes(page.stat().st_size)}")

    browser = chromium()
    try:
        browser.get(pages["page"].as_uri())
        drawn_at = browser.execute_async_script(
            "const done = arguments[0]; drawn.then(() => done(performance.now()), error => done(String(error)))")
        print(f"Chromium, step page without dot: graph drawn {drawn_at:,.0f} ms after the page was asked for")
        for name, source in sources.items():
            times = browser.execute_async_script(TIME_LAYOUT, source, 3)
            if isinstance(times, str):
                raise RuntimeError(times)
            print(f"Chromium autodiffRender, {name}: {statistics.median(times):,.0f} ms (median of 4)")
        if args.shots:
            args.shots.mkdir(parents=True, exist_ok=True)
            for layout, page in pages.items():
                browser.get(page.as_uri())
                browser.execute_async_script("const done = arguments[0]; drawn.then(() => done(), done)")
                browser.execute_script("show(3)")
                browser.save_screenshot(str(args.shots / f"steps-{layout}.png"))
            print(f"screenshots: {args.shots}")
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
