"""Drawing a computation graph: every ``Value`` with its label, data and grad.

``draw_dot`` builds a ``graphviz.Digraph`` (shown inline by Jupyter); ``render`` writes
it as .svg, .png, .pdf or .dot. Only ``Value``'s public fields are read.
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from autodiff import Value
from autodiff.files import write_atomically

from .colours import GradientScale
from .view import Group, View, build_view, parent_module

FORMATS = (".svg", ".png", ".pdf", ".dot")
_CONTROL = {i: f"\\x{i:02x}" for i in range(32)} | {10: "\\n", 9: "\\t", 13: "\\r", 127: "\\x7f"}


class GraphvizNotFound(RuntimeError):
    """Graphviz's ``dot`` program, which lays out and renders graphs, is not installed."""


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    budget: int = 300,
    colour: bool = True,
    edge_width: bool = False,
    vanishing: float = 1e-8,
    exploding: float = 1e3,
) -> graphviz.Digraph:
    """The graph of ``root``: a box per ``Value`` (label | data | grad), an oval per op.

    Edges go the way data flows; the same graph always gives the same DOT text. Each
    grad is coloured by its size on a log scale (a legend shows the range); vanishing
    gradients (below ``vanishing``) are grey, exploding ones (above ``exploding``, or
    inf or nan) red. With ``edge_width`` an edge is as thick as the gradient it carries
    back is large. Nodes that an ``nn`` module computed are drawn inside a box named
    after it; above ``budget`` nodes the drawing is summarised (see ``viz.view``). Hover
    a node in an SVG for its full-precision data and grad.

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
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 10:
        raise ValueError(f"budget must be an int of at least 10, got {budget!r}")
    view = build_view(root, budget)
    scale = GradientScale.fit((n.grad for n in view.order if view.shown[n] is n), vanishing, exploding)
    drawing = _Drawing(view, scale if colour else None, edge_width)
    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"arrowsize": "0.7"},
    )
    drawing.add_nodes(dot)
    drawing.add_edges(dot)
    if colour:
        dot.node("legend", scale.legend(), shape="plaintext")
    return dot


class _Drawing:
    """Turns a View into Graphviz nodes and edges, with stable ids in graph order."""

    def __init__(self, view: View, scale: GradientScale | None, edge_width: bool) -> None:
        self.view, self.scale, self.edge_width = view, scale, edge_width
        self.ids: dict[int, str] = {}
        for i, node in enumerate(view.order):
            if view.shown[node] is node:
                self.ids[id(node)] = f"v{i}"
        for k, group in enumerate(view.groups):
            self.ids[id(group)] = f"g{k}"

    def add_nodes(self, dot: graphviz.Digraph) -> None:
        members: dict[str, list[Value | Group]] = {}
        for node in self.view.order:
            if self.view.shown[node] is node:
                members.setdefault(self.view.module[node], []).append(node)
        for group in self.view.groups:
            home = parent_module(group.title) if group.key.startswith("module ") else ""
            members.setdefault(home if home in members else "", []).append(group)
        paths = set()
        for path in members:  # every module with something to show, and the modules around it
            while path:
                paths.add(path)
                path = parent_module(path)
        self._add_cluster(dot, "", members, sorted(paths))

    def _add_cluster(self, graph, path: str, members, paths: list[str]) -> None:
        for item in members.get(path, []):
            if isinstance(item, Group):
                self._add_group(graph, item)
            else:
                self._add_value(graph, item, path)
        inner = [p for p in paths if _enclosing(p, paths) == path]
        for sub in inner:
            with graph.subgraph(name=f"cluster_{self._cluster_id(sub)}") as cluster:
                cluster.attr(label=_escape_plain(sub), style="rounded", color="#9e9e9e", fontcolor="#616161")
                self._add_cluster(cluster, sub, members, paths)

    def _cluster_id(self, path: str) -> str:
        return path.replace(".", "_")

    def _add_value(self, graph, node: Value, cluster: str) -> None:
        node_id = self.ids[id(node)]
        label = node.label[len(cluster) + 1:] if cluster and node.label.startswith(cluster + ".") else node.label
        graph.node(node_id, _record(label, node.data, node.grad, self.scale), shape="plaintext",
                   tooltip=_tooltip(node), id=node_id)
        if node.parents:
            graph.node(f"{node_id}_op", node.op, shape="ellipse", width="0", height="0", margin="0.05", id=f"{node_id}_op")
            graph.edge(f"{node_id}_op", node_id, **self._edge_style(node.grad))

    def _add_group(self, graph, group: Group) -> None:
        outputs = self._outputs(group)
        lines = [f"<b>{_escape(group.title)}</b>", f"{len(group.members):,} nodes"]
        colour = ""
        if len(outputs) == 1:
            (out,) = outputs
            lines.append(f"output: data {out.data:.4g}, grad {out.grad:.4g}")
            if self.scale:
                colour = f' bgcolor="{self.scale.colours(out.grad)[0]}"'
        elif outputs:
            lines.append(f"{len(outputs)} outputs")
        cells = "".join(f"<tr><td{colour}>{line}</td></tr>" for line in lines[:1]) + "".join(
            f"<tr><td>{line}</td></tr>" for line in lines[1:]
        )
        graph.node(self.ids[id(group)], f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded">{cells}</table>>', shape="plaintext")

    def _outputs(self, group: Group) -> list[Value]:
        shown, outputs = self.view.shown, {}
        for node in self.view.order:
            for parent in node.parents:
                if shown[parent] is group and shown[node] is not group:
                    outputs[id(parent)] = parent
        root = self.view.order[-1]
        if shown[root] is group:
            outputs[id(root)] = root
        return list(outputs.values())

    def add_edges(self, dot: graphviz.Digraph) -> None:
        for source, into in self.view.edges():
            head = self.ids[id(into)]
            if isinstance(into, Value):
                head += "_op"
            grad = into.grad if isinstance(into, Value) else None
            dot.edge(self.ids[id(source)], head, **self._edge_style(grad))

    def _edge_style(self, grad: float | None) -> dict[str, str]:
        if not (self.edge_width and self.scale and grad is not None):
            return {}
        kind = self.scale.kind(grad)
        if kind != "ordinary":
            return {"penwidth": "4" if kind == "exploding" else "0.4", "color": self.scale.colours(grad)[0]}
        span = self.scale.high - self.scale.low
        position = 0.5 if span == 0 else (math.log10(abs(grad)) - self.scale.low) / span
        return {"penwidth": f"{0.6 + 3 * position:.2f}"}


def _enclosing(path: str, paths: list[str]) -> str:
    """The nearest module among ``paths`` that holds ``path`` ("" for the top)."""
    outer = parent_module(path)
    while outer and outer not in paths:
        outer = parent_module(outer)
    return outer


def render(root: Value, path: str | os.PathLike, *, timeout: float = 60.0, **options: Any) -> Path:
    """Write the graph of ``root`` to ``path``; the suffix picks the format.

    ``.dot`` is the DOT text and needs nothing else; ``.svg``, ``.png`` and ``.pdf`` need
    Graphviz's ``dot`` program, which gets ``timeout`` seconds. ``options`` go to
    ``draw_dot``. Returns the path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format from {path.name!r}: use one of {', '.join(FORMATS)}")
    source = draw_dot(root, **options).source
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


def _record(label: str, data: float, grad: float, scale: GradientScale | None) -> str:
    data, grad = data + 0.0, grad + 0.0  # -0.0 shows as 0
    grad_cell = f"grad {grad:.4g}"
    if scale is not None:
        background, text = scale.colours(grad)
        grad_cell = f'<td bgcolor="{background}"><font color="{text}">{grad_cell}</font></td>'
    else:
        grad_cell = f"<td>{grad_cell}</td>"
    cells = f"<td>data {data:.4g}</td>{grad_cell}"
    if label:
        cells = f"<td><b>{_escape(label)}</b></td>" + cells
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"><tr>{cells}</tr></table>>'


def _tooltip(node: Value) -> str:
    return f"data = {node.data!r}, grad = {node.grad!r}"


def _escape_plain(text: str) -> str:
    """A string as a plain (non-HTML) Graphviz label shows it."""
    return text.translate(_CONTROL).replace("\\", "\\\\")


def _escape(text: str) -> str:
    """Any string as an HTML-like label shows it: control characters as their escapes."""
    return html.escape(text.translate(_CONTROL), quote=False).replace('"', "&quot;")
