"""The progress bar of ``fit``: a widget in a notebook that has ipywidgets, text in one
that has not and in a terminal, none where the output is a log.

tqdm is imported here when a bar is made, never when ``nn`` is: ``tqdm.auto`` decides at
import, and in a notebook without ipywidgets it prints its "IProgress not found" warning
then, for a bar that would never show.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Kind = Literal["widget", "text", "none"]


def bar_kind(enabled: bool = True) -> Kind:
    """Which bar to show here: ``"widget"`` in a Jupyter kernel with ipywidgets, ``"text"``
    in a kernel without it or when stderr is a terminal, else ``"none"``.

    >>> bar_kind(enabled=False)
    'none'
    """
    if not enabled:
        return "none"
    if _in_jupyter_kernel():
        return "widget" if importlib.util.find_spec("ipywidgets") is not None else "text"
    return "text" if _is_terminal(sys.stderr) else "none"


def progress(iterable: Iterable[T], *, enabled: bool = True, **options: Any) -> Any:
    """A tqdm bar over ``iterable`` of the kind ``bar_kind`` chooses (``options``: tqdm's
    desc, unit, ...); where none shows, a disabled one, so ``set_postfix`` still works.

    >>> bar = progress(range(3), enabled=False); bar.set_postfix(loss=0.5); list(bar)
    [0, 1, 2]
    """
    kind = bar_kind(enabled)
    if kind == "widget":
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, disable=kind == "none", **options)


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code's notebooks), where
    stderr is not a terminal yet a bar shows; False in IPython at a terminal."""
    if "ipykernel" not in sys.modules:  # never import IPython just to ask
        return False
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False
