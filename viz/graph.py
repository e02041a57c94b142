"""Drawing a computation graph: every ``Value`` with its label, data and grad.

``draw_dot`` builds a ``graphviz.Digraph`` (shown inline by Jupyter); ``render`` writes
it as .svg, .png, .pdf or .dot. Only ``Value``'s public fields are read.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path

import graphviz

from autodiff import Value, topological_order
from autodiff.files import write_atomically

FORMATS = (".svg", ".png", ".pdf", ".dot")
_CONTROL = {i: f"\\x{i:02x}" for i in range(32)} | {10: "\\n", 9: "\\t", 13: "\\r", 127: "\\x7f"}


class GraphvizNotFound(RuntimeError):
    """Graphviz's ``dot`` program, which lays out and renders graphs, is not installed."""


def draw_dot(root: Value, *, rankdir: str = "LR") -> graphviz.Digraph:
    """The graph of ``root``: a box per ``Value`` (label | data | grad), an oval per op.

    Edges go the way data flows. The same graph always gives the same DOT text.

    >>> from autodiff import Value
    >>> a = Value(2.0, label="a"); c = a * a; c.backward()
    >>> dot = draw_dot(c)
    >>> "grad 4" in dot.source and "*" in dot.source
    True
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
    )
    order = topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    for node in order:
        dot.node(ids[node], _record(node), shape="plaintext", tooltip=_tooltip(node))
        if node.parents:
            op_id = f"{ids[node]}_op"
            dot.node(op_id, node.op, shape="ellipse", width="0", height="0", margin="0.05")
            dot.edge(op_id, ids[node])
            for parent in node.parents:
                dot.edge(ids[parent], op_id)
    return dot


def render(root: Value, path: str | os.PathLike, *, rankdir: str = "LR", timeout: float = 60.0) -> Path:
    """Write the graph of ``root`` to ``path``; the suffix picks the format.

    ``.dot`` is the DOT text and needs nothing else; ``.svg``, ``.png`` and ``.pdf`` need
    Graphviz's ``dot`` program. Returns the path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format from {path.name!r}: use one of {', '.join(FORMATS)}")
    source = draw_dot(root, rankdir=rankdir).source
    if suffix == ".dot":
        write_atomically(path, source)
    else:
        write_atomically(path, run_dot(source, suffix[1:], timeout=timeout))
    return path


def run_dot(source: str, fmt: str, *, timeout: float = 60.0) -> bytes:
    """Lay out and render DOT text with Graphviz's ``dot``: the bytes of an ``fmt`` file."""
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFound(
            "rendering needs Graphviz's 'dot' program, which is not installed. Install it "
            "with 'sudo apt-get install graphviz' (Debian, Ubuntu), 'brew install graphviz' "
            "(macOS) or 'conda install graphviz'; meanwhile a '.dot' path writes the graph as text."
        )
    try:
        done = subprocess.run(
            [executable, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(
            f"Graphviz's dot did not finish within {timeout:g} s; pass a larger timeout, or "
            f"write a '.dot' file and lay it out separately"
        ) from None
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz's dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _record(node: Value) -> str:
    cells = [f"data {node.data:.4g}", f"grad {node.grad:.4g}"]
    if node.label:
        cells.insert(0, f"<b>{_escape(node.label)}</b>")
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"><tr>{row}</tr></table>>'


def _tooltip(node: Value) -> str:
    return f"data = {node.data!r}, grad = {node.grad!r}"


def _escape(text: str) -> str:
    """Any string as an HTML-like label shows it: control characters as their escapes."""
    return html.escape(text.translate(_CONTROL), quote=False).replace('"', "&quot;")
