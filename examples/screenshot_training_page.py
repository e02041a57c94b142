"""A screenshot of the demo's training page, for the README (docs/demo/training_page.png).

Run ./scripts/demo first (it writes out/training.html), then

    .venv/bin/python examples/screenshot_training_page.py [PAGE] [PNG]

It opens the page in headless Chromium (Debian's chromium and chromium-driver, as the
tests use), offline, picks a step early in training and the second layer's weight with the largest
gradient for the sample shown,
and saves the window as a PNG with a 256-colour palette, which keeps it small.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def offline_chromium(width: int, height: int) -> Any:
    """Headless Chromium (a selenium driver) with the network switched off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return browser


def screenshot(page: Path, png: Path, *, fraction: float = 0.15, width: int = 1320, height: int = 1240) -> Path:
    """Save ``page`` at ``fraction`` of its snapshots, one weight selected, as ``png``."""
    from PIL import Image

    browser = offline_chromium(width, height)
    try:
        browser.get(page.resolve().as_uri())
        browser.execute_script(  # the second layer's weight with the largest gradient for the sample
            "show(Math.round(arguments[0] * (COUNT - 1)));"
            "const b = backward(paramsAt(step), X[sample], Y[sample]), second = edges.filter(e => e.l === 2);"
            "const size = e => Math.abs(sampleGradient(b, e.l, e.j, e.i));"
            "const e = second.reduce((best, next) => (size(next) > size(best) ? next : best));"
            "select({kind: 'weight', l: e.l, j: e.j, i: e.i});", fraction)
        image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    finally:
        browser.quit()
    png.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    return png


if __name__ == "__main__":
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "out" / "training.html"
    png = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "demo" / "training_page.png"
    print(f"wrote {screenshot(page, png)}")
