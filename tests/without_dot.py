"""A PATH on which Graphviz's ``dot`` cannot be found, everything else staying as it was."""

import os
import shutil
from pathlib import Path


def hide_dot(monkeypatch, scratch: Path) -> None:
    """Point PATH at copies of its directories that leave ``dot`` out (symlinks to the rest).

    Chromium's launcher and a Jupyter kernel still find what they run; ``shutil.which``,
    the graphviz package and subprocesses see no ``dot``.
    """
    directories = []
    for k, directory in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if directory and os.path.lexists(os.path.join(directory, "dot")):
            shadow = scratch / f"path-without-dot-{k}"
            shadow.mkdir(parents=True)
            for entry in os.scandir(directory):
                if entry.name != "dot":
                    (shadow / entry.name).symlink_to(entry.path)
            directory = str(shadow)
        directories.append(directory)
    monkeypatch.setenv("PATH", os.pathsep.join(directories))
    assert shutil.which("dot") is None
