"""Drawing a computation graph: every ``Value`` with its label, data and grad.

``draw_dot`` builds a ``graphviz.Digraph`` (shown inline by Jupyter, laid out in the
notebook itself where ``dot`` is missing); ``render`` writes it as .svg, .png, .pdf or
.dot. Only ``Value``'s public fields are read.
"""

from __future__ import annotations

import html
import math
import numbers
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from autodiff import Value
from autodiff.arguments import described, file_path, flag, one_of
from autodiff.files import write_atomically

from .colours import GradientScale
from .text import shortened, visible
from .view import Group, View, build_view, parent_module
from .web import inline_drawing

FORMATS = (".svg", ".png", ".pdf", ".dot")
# Graphviz refuses a quoted or HTML-like string longer than 16,381 bytes, and a drawing
# wider than 65,535 points (about 10,000 characters side by side): a picture shows at
# most LABEL_LIMIT characters of a string, and a tooltip at most TOOLTIP_LIMIT bytes.
LABEL_LIMIT = 200
TOOLTIP_LIMIT = 16_000


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
    a node in an SVG for its full-precision data and grad. Jupyter shows it with or
    without Graphviz's ``dot`` installed (``Diagram``).

    >>> from autodiff import Value
    >>> a = Value(2.0, label="a"); c = a * a; c.backward()
    >>> dot = draw_dot(c)
    >>> "grad 4" in dot.source and "*" in dot.source
    True
    """
    return Drawing.of(
        root,
        rankdir=rankdir,
        budget=budget,
        colour=colour,
        edge_width=edge_width,
        vanishing=vanishing,
        exploding=exploding,
    ).dot


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` that Jupyter shows even without Graphviz's ``dot``.

    With ``dot`` installed it shows as any Digraph (an SVG drawn by ``dot``); without
    it, as HTML that lays the graph out in the notebook itself (``viz.web``).

    >>> diagram = Diagram(); diagram.edge("a", "b")
    >>> sorted(diagram._repr_mimebundle_(include=["text/html"]))
    ['text/html']
    """

    def _repr_mimebundle_(self, include=None, exclude=None, **options) -> dict[str, str | bytes]:
        if include is None:  # what Jupyter asks for: the best this machine can draw
            include = ["image/svg+xml"] if shutil.which("dot") is not None else ["text/html"]
        include = set(include) - set(exclude or ())
        bundle = super()._repr_mimebundle_(include - {"text/html"}, **options)  # dot's formats
        if "text/html" in include:
            bundle["text/html"] = inline_drawing(self.source)
        return bundle


class Drawing:
    """A View turned into Graphviz nodes and edges, with stable ids in graph order.

    ``dot`` is the ``graphviz.Digraph``; ``box_id(node)`` the id of the box a node is
    drawn in (its own, ``v<k>``, or its group's, ``g<k>``), which the SVG keeps.
    """

    @classmethod
    def of(
        cls,
        root: Value,
        *,
        rankdir: str = "LR",
        budget: int = 300,
        colour: bool = True,
        edge_width: bool = False,
        vanishing: float = 1e-8,
        exploding: float = 1e3,
        grads: bool = True,
    ) -> Drawing:
        """The drawing of ``root`` with ``draw_dot``'s options, checked. Without ``grads``
        every gradient is drawn as ``?``, in boxes and tooltips alike: for a page that
        must not give them away (the quiz), whatever an earlier ``backward`` left."""
        if not isinstance(root, Value):
            fix = (
                "; draw what it computes: viz.draw_dot(model(x))" if callable(getattr(root, "parameters", None)) else ""
            )
            raise TypeError(f"drawing a graph needs a Value, got {described(root)}{fix}")
        one_of(rankdir, ("LR", "RL", "TB", "BT"), "rankdir", "draw_dot")
        colour, edge_width, grads = (
            flag(colour, "colour", "draw_dot"),
            flag(edge_width, "edge_width", "draw_dot"),
            flag(grads, "grads", "draw_dot"),
        )
        for name, threshold in (("vanishing", vanishing), ("exploding", exploding)):
            if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold < math.inf:
                raise ValueError(
                    f"draw_dot: {name} must be a number > 0 (a |grad| threshold), got {described(threshold)}"
                )
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 10:
            raise ValueError(f"budget must be an int of at least 10, got {budget!r}")
        view = build_view(root, budget)
        for node in view.order:  # a drawing shows a gradient as a number, or None as "no gradient yet"
            if node.grad is not None and (isinstance(node.grad, bool) or not isinstance(node.grad, numbers.Real)):
                raise TypeError(
                    f"draw_dot: the node {node.label or node.op or 'leaf'!r} has grad {described(node.grad)}; "
                    "a gradient is a number, or None for no gradient yet"
                )
        scale = GradientScale.fit(
            (n.grad for n in view.order if view.shown[n] is n and n.grad is not None), vanishing, exploding
        )
        return cls(view, scale if colour and grads else None, edge_width, rankdir, grads)

    def __init__(
        self, view: View, scale: GradientScale | None, edge_width: bool, rankdir: str = "LR", grads: bool = True
    ) -> None:
        self.view, self.scale, self.edge_width, self.grads = view, scale, edge_width, grads
        self.ids: dict[int, str] = {}
        for i, node in enumerate(view.order):
            if view.shown[node] is node:
                self.ids[id(node)] = f"v{i}"
        for k, group in enumerate(view.groups):
            self.ids[id(group)] = f"g{k}"
        self.dot = Diagram(
            graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
            node_attr={"fontname": "Helvetica", "fontsize": "11"},
            edge_attr={"arrowsize": "0.7"},
        )
        self.add_nodes(self.dot)
        self.add_edges(self.dot)
        if scale is not None:
            self.dot.node("legend", scale.legend(), shape="plaintext")

    def box_id(self, node: Value) -> str:
        """The id of the box ``node`` is drawn in: its own, or the group's it is part of."""
        return self.ids[id(self.view.shown[node])]

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
            # numbered, not named after the module: a name is the user's text, an id is ours
            with graph.subgraph(name=f"cluster_{paths.index(sub)}") as cluster:
                cluster.attr(
                    label=_plain(shortened(sub, LABEL_LIMIT)),
                    style="rounded",
                    color="#9e9e9e",
                    fontcolor="#616161",
                    **_whole_text(sub),
                )
                self._add_cluster(cluster, sub, members, paths)

    def _add_value(self, graph, node: Value, cluster: str) -> None:
        node_id = self.ids[id(node)]
        label = _text(node.label)
        short = label[len(cluster) + 1 :] if cluster and label.startswith(cluster + ".") else label
        grad = _shown_grad(node) if self.grads else None
        graph.node(
            node_id,
            _record(short, node.data, grad, self.scale),
            shape="plaintext",
            tooltip=_tooltip(label, node.data, grad),
            id=node_id,
        )
        if node.parents:
            graph.node(
                f"{node_id}_op",
                _plain(node.op),
                shape="ellipse",
                width="0",
                height="0",
                margin="0.05",
                id=f"{node_id}_op",
            )
            graph.edge(f"{node_id}_op", node_id, **self._edge_style(grad))

    def _add_group(self, graph, group: Group) -> None:
        outputs = self._outputs(group)
        lines = [f"<b>{_html(shortened(group.title, LABEL_LIMIT))}</b>", f"{len(group.members):,} nodes"]
        colour = ""
        if len(outputs) == 1:
            (out,) = outputs
            grad = _shown_grad(out) if self.grads else "?"
            lines.append(f"output: data {out.data:.4g}, grad {grad if isinstance(grad, str) else format(grad, '.4g')}")
            if self.scale and not isinstance(grad, str):
                colour = f' bgcolor="{self.scale.colours(out.grad)[0]}"'
        elif outputs:
            lines.append(f"{len(outputs)} outputs")
        cells = "".join(f"<tr><td{colour}>{line}</td></tr>" for line in lines[:1]) + "".join(
            f"<tr><td>{line}</td></tr>" for line in lines[1:]
        )
        group_id = self.ids[id(group)]
        graph.node(
            group_id,
            f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded">{cells}</table>>',
            shape="plaintext",
            id=group_id,
            **_whole_text(group.title),
        )

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
            grad = _shown_grad(into) if isinstance(into, Value) else None
            dot.edge(self.ids[id(source)], head, **self._edge_style(grad))

    def _edge_style(self, grad: float | str | None) -> dict[str, str]:
        if not (self.edge_width and self.scale and isinstance(grad, float)):
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
    path = Path(file_path(path, "path", "render"))
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format from {path.name!r}: use one of {', '.join(FORMATS)}")
    source = draw_dot(root, **options).source
    if suffix == ".dot":
        write_atomically(path, source)
    else:
        write_atomically(path, run_dot(source, suffix[1:], timeout=timeout))
    return path


def check_timeout(timeout: object) -> None:
    """Refuse a ``timeout`` for ``dot`` that is not a positive, finite number of seconds."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def run_dot(source: str, fmt: str, *, timeout: float = 60.0) -> bytes:
    """Lay out and render DOT text with Graphviz's ``dot``: the bytes of an ``fmt`` file."""
    check_timeout(timeout)
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFound(
            "rendering needs Graphviz's 'dot' program, which is not installed. Install it "
            "with 'sudo apt-get install graphviz' (Debian, Ubuntu), 'brew install graphviz' "
            "(macOS) or 'conda install graphviz'; meanwhile a '.dot' path writes the graph as text, "
            "and draw_dot in Jupyter and backward_steps lay graphs out in the browser without it."
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
    messages = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz's dot failed: {messages}")
    if not done.stdout:
        raise RuntimeError(f"Graphviz's dot wrote no {fmt} output{': ' + messages if messages else ''}")
    return done.stdout


def _shown_grad(node: Value) -> float | str:
    """The gradient a drawing shows: the number, or ``NO_GRADIENT`` where ``.grad`` is None."""
    return NO_GRADIENT if node.grad is None else node.grad


NO_GRADIENT = "None"
"""What a drawing shows for a ``.grad`` set to None (no gradient yet), uncoloured."""


def _record(label: str, data: float, grad: float | str | None, scale: GradientScale | None) -> str:
    """``grad``: a number, coloured by ``scale``; a text shown as it is; None: ``?`` (hidden)."""
    data = data + 0.0  # -0.0 shows as 0
    grad_cell = "grad ?" if grad is None else f"grad {grad}" if isinstance(grad, str) else f"grad {grad + 0.0:.4g}"
    if scale is not None and grad is not None and not isinstance(grad, str):
        background, text = scale.colours(grad)
        grad_cell = f'<td bgcolor="{background}"><font color="{text}">{grad_cell}</font></td>'
    elif grad is None:  # room for the widest gradient (grad -1.234e-05), for the page that fills it in
        grad_cell = f'<td width="90">{grad_cell}</td>'
    else:
        grad_cell = f"<td>{grad_cell}</td>"
    cells = f"<td>data {data:.4g}</td>{grad_cell}"
    if label:
        cells = f"<td><b>{_html(shortened(label, LABEL_LIMIT))}</b></td>" + cells
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"><tr>{cells}</tr></table>>'


def _tooltip(label: str, data: float, grad: float | str | None) -> str:
    shown = "?" if grad is None else f"{grad} (no gradient yet)" if isinstance(grad, str) else repr(grad)
    numbers = f"data = {data!r}, grad = {shown}"
    if len(label) <= LABEL_LIMIT:
        return _plain(numbers)
    return _plain(f"{_fitted(label, TOOLTIP_LIMIT - 200)}: {numbers}")  # 200: room for the numbers


def _whole_text(text: str) -> dict[str, str]:
    """A tooltip with the whole of a text the picture shortens; none for a short one."""
    return {"tooltip": _plain(_fitted(text, TOOLTIP_LIMIT))} if len(text) > LABEL_LIMIT else {}


def _fitted(text: str, limit: int) -> str:
    """As much of ``text`` as stays within ``limit`` bytes once escaped and quoted."""
    size = 0
    for end, character in enumerate(text):
        size += len(_plain(character).encode("utf-8")) + (character == '"')  # graphviz adds \ before "
        if size > limit - 40:  # 40: room for the note saying how much was left out
            return shortened(text, end)
    return text


def _text(label: object) -> str:
    return label if isinstance(label, str) else str(label)  # a label set after the fact may be anything


def _plain(text: str) -> str:
    r"""Any string as a quoted DOT string (label, tooltip) shows it, and only as text.

    Invisible characters become escapes (``viz.text.visible``); ``&`` is escaped because
    Graphviz reads entities in plain labels too, and ``\`` because it starts Graphviz's
    own escapes (``\N``, ``\l``). ``graphviz.escape`` marks the result as never
    HTML-like (else a text like ``<a> b <c>`` would be pasted into the DOT unquoted); the
    graphviz package then quotes it, putting a backslash before each ``"``.

    >>> print(_plain('x\\.w & "y"\x01'))
    x\\.w &amp; "y"\\x01
    """
    return graphviz.escape(visible(text).replace("&", "&amp;"))


def _html(text: str) -> str:
    r"""Any string as text inside an HTML-like DOT label: never markup, whatever it holds.

    Graphviz expands its escapes (``\N`` for the node's name) in these labels too.

    >>> print(_html('<b>"x" & \\N</b>'))
    &lt;b&gt;&quot;x&quot; &amp; \\N&lt;/b&gt;
    """
    return html.escape(visible(text), quote=False).replace('"', "&quot;").replace("\\", "\\\\")
