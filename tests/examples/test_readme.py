"""Every Python block of the README runs as written, in order, as a reader pastes them
into one session (in a fresh folder, since some write files)."""

import re
from pathlib import Path

import matplotlib

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


def test_every_readme_block_runs_in_order(tmp_path, monkeypatch):
    matplotlib.use("Agg")  # a block that plots must not look for a screen
    monkeypatch.chdir(tmp_path)
    session: dict = {"__name__": "__readme__"}
    for number, block in enumerate(python_blocks(), start=1):
        exec(compile(block, f"README.md, Python block {number}", "exec"), session)
