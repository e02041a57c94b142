"""Every Python block of the README runs as written, in order, as a reader pastes them
into one session (in a fresh folder, since some write files)."""

import re
from pathlib import Path

import matplotlib

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_every_python_block_is_found():
    # a fence the pattern misreads would leave blocks untested without a failure
    openers = README.read_text(encoding="utf-8").count("\n```python\n")
    assert len(python_blocks()) == openers >= 5


def test_every_picture_the_readme_shows_is_in_the_repository():
    text = README.read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text) + re.findall(r'<img src="([^"]+)"', text)
    assert len(pictures) >= 6
    missing = [path for path in pictures if not (README.parent / path).is_file()]
    assert not missing, f"README.md shows pictures that are not in the repository: {missing}"


def test_every_readme_block_runs_in_order(tmp_path, monkeypatch):
    matplotlib.use("Agg")  # a block that plots must not look for a screen
    monkeypatch.chdir(tmp_path)
    session: dict = {"__name__": "__readme__"}
    for number, block in enumerate(python_blocks(), start=1):
        exec(compile(block, f"README.md, Python block {number}", "exec"), session)
