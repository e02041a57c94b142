"""``backward_steps``: a page that steps through the backward pass node by node.

One self-contained HTML file (it opens from disk, with no network): the graph as an
SVG, a slider and previous / next buttons. Each step is one node the engine processes,
in the engine's own order: the node is highlighted, the gradient it passes to each
input is shown, and every gradient known so far is filled in. A big graph is drawn
within a node budget, as ``draw_dot`` draws it; the steps still cover every node.

A label is only ever text in the page: the template is filled in one pass with parts
escaped for where they go, the steps travel as JSON in a ``<script
type="application/json">`` that no string can end, and the page's script sets text
with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from autodiff import Value, input_gradients, local_gradients, topological_order
from autodiff.files import write_atomically

from .graph import Drawing, run_dot
from .text import visible


def steps_of(root: Value, drawing: Drawing | None = None) -> list[dict]:
    """The backward pass of ``root`` replayed: per step, the node processed, what it
    passed back, and each gradient that changed (by node id, as drawn).

    With the ``drawing`` the page shows, ``box`` is the id of the box the node is drawn
    in, and a node drawn only as part of a summary box is said to be in it.

    >>> from autodiff import Value
    >>> x = Value(3.0, label="x"); y = x * x
    >>> [step["text"] for step in steps_of(y)]
    ['Start: the output, the * node, has gradient 1.', 'The * node has gradient 1: x gets 3 × 1 = 3; x gets 3 × 1 = 3.']
    """
    order = drawing.view.order if drawing else topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    name = {node: _name(node) for node in order}
    grads: dict[Value, float] = {root: 1.0}
    steps = [_step(root, ids, f"Start: the output, {name[root]}, has gradient 1.", {ids[root]: 1.0}, drawing)]
    for node in reversed(order):
        if not node.parents:
            continue
        passed = []
        changed: dict[str, float] = {}
        # each share as the engine computes it (grad / x for log, a selected 0 for relu),
        # written as the local gradient times the node's gradient
        shares = input_gradients(node, grads[node])
        for parent, d, share in zip(node.parents, local_gradients(node), shares):
            grads[parent] = grads.get(parent, 0.0) + share
            changed[ids[parent]] = grads[parent]
            passed.append(f"{name[parent]} gets {d:.4g} × {grads[node]:.4g} = {share:.4g}")
        text = f"{_sentence_start(name[node])} has gradient {grads[node]:.4g}: " + "; ".join(passed) + "."
        steps.append(_step(node, ids, text, changed, drawing))
    return steps


def _step(node: Value, ids: dict[Value, str], text: str, changed: dict[str, float], drawing: Drawing | None) -> dict:
    step = {"node": ids[node], "text": text, "set": changed}
    if drawing is not None:
        step["box"] = drawing.box_id(node)
        box = drawing.view.shown[node]
        if box is not node:
            step["text"] += f" (This node is not drawn: it is one of the {len(box.members):,} nodes in the box “{visible(box.title)}”.)"
    return step


def _sentence_start(name: str) -> str:
    return "The" + name[3:] if name.startswith("the ") else name  # a label keeps its case


def _name(node: Value) -> str:
    if node.label:
        label = visible(node.label)
        return f"{label} ({node.op})" if node.parents else label
    return f"the {node.op} node" if node.parents else f"the constant {node.data:.4g}"


def backward_steps(root: Value, path: str | os.PathLike, *, rankdir: str = "LR", budget: int = 300,
                   timeout: float = 60.0) -> Path:
    """Write a page that steps through ``root``'s backward pass; returns its path.

    Needs Graphviz's ``dot`` to lay the graph out, which gets ``timeout`` seconds. The
    page steps through every node; the picture shows at most about ``budget`` boxes
    (as ``draw_dot`` does), and a step whose node is inside a summary box says so.
    Labels are only ever text in the page: its structure is fixed, whatever they hold.

    >>> import tempfile, pathlib
    >>> from autodiff import Value
    >>> x = Value(3.0, label="x"); y = x * x
    >>> page = backward_steps(y, pathlib.Path(tempfile.mkdtemp()) / "steps.html")
    >>> page.name
    'steps.html'
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps needs a Value, got {type(root).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"backward_steps writes an HTML page: give a path ending in .html, not {path.name!r}")
    drawing = Drawing.of(root, rankdir=rankdir, budget=budget, colour=False)
    svg = _drawing_only(run_dot(drawing.dot.source, "svg", timeout=timeout))
    page = _fill(_PAGE, {
        "title": html.escape(visible(root.label or "backward pass")),
        "svg": svg,
        "steps": _json_for_html(steps_of(root, drawing)),
    })
    write_atomically(path, page)
    return path


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def _fill(template: str, parts: dict[str, str]) -> str:
    """``template`` with each ``{{name}}`` in it replaced by ``parts[name]``, in one pass.

    Only the template is searched: a part that holds ``{{steps}}`` stays as it is.

    >>> _fill("<p>{{a}} {{b}}</p>", {"a": "{{b}}", "b": "x"})
    '<p>{{b}} x</p>'
    """
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


# In a <script> block the HTML parser looks for "</script" and "<!--" only, and "&" and
# U+2028/2029 have meanings elsewhere: as JSON escapes, none of them is left (json_script).
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_for_html(data: object) -> str:
    """``data`` as JSON that can sit inside ``<script type="application/json">``."""
    return json.dumps(_finite_or_named(data), ensure_ascii=True, allow_nan=False).translate(_SCRIPT_SAFE)


def _finite_or_named(data: object) -> object:
    """JSON has no inf or nan: those become the strings JavaScript's ``Number()`` reads."""
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {key: _finite_or_named(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_finite_or_named(value) for value in data]
    return data


# What Graphviz draws with; anything else (script, image, foreignObject...) is refused.
_DRAWING_ELEMENTS = {"svg", "g", "title", "text", "tspan", "polygon", "polyline", "path", "ellipse", "circle",
                     "rect", "line", "a", "defs", "linearGradient", "radialGradient", "stop"}


def _drawing_only(svg: bytes) -> str:
    """Graphviz's SVG from its ``<svg`` element on, checked to be a drawing and nothing else.

    Labels were escaped when the DOT text was built, so the SVG holds them as text; this
    check makes sure of it before the SVG goes into the page as it is.
    """
    text = svg.decode("utf-8", "replace")
    start = text.find("<svg")
    if start < 0:
        raise RuntimeError(f"Graphviz's dot gave no SVG drawing; it wrote: {text[:200]!r}")
    try:
        elements = list(ElementTree.fromstring(text[start:]).iter())
    except ElementTree.ParseError as error:
        raise RuntimeError(f"Graphviz's dot gave an SVG drawing that does not parse: {error}") from None
    for element in elements:
        tag = element.tag.rpartition("}")[2]
        names = [name.rpartition("}")[2].lower() for name in element.attrib]
        if tag not in _DRAWING_ELEMENTS or any(name.startswith("on") or name == "href" for name in names):
            raise RuntimeError(f"Graphviz's SVG holds a <{tag}> element or attribute the page does not allow")
    return text[start:]


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backward pass: {{title}}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
  #controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 0.6em; }
  #controls input[type=range] { width: 20em; }
  #explain { min-height: 3em; background: #f4f4f4; padding: 0.6em; border-radius: 4px; }
  #graph svg { max-width: 100%; height: auto; }
  .current polygon, .current ellipse, .current path { stroke: #e6550d; stroke-width: 3px; fill: #fdd0a2; }
  .done polygon, .done path { fill: #e5f5e0; }
  .fresh text { fill: #e6550d; font-weight: bold; }
</style>
</head>
<body>
<h1>Backward pass, step by step</h1>
<div id="controls">
  <button id="previous">&larr; previous</button>
  <input id="slider" type="range" min="0" value="0">
  <button id="next">next &rarr;</button>
  <span id="counter"></span>
</div>
<p id="explain"></p>
<div id="graph">{{svg}}</div>
<script type="application/json" id="steps-data">{{steps}}</script>
<script>
const steps = JSON.parse(document.getElementById("steps-data").textContent);
const slider = document.getElementById("slider");
slider.max = steps.length - 1;
const gradText = {};
document.querySelectorAll("#graph g.node").forEach(g => {
  for (const t of g.querySelectorAll("text")) {
    if (t.textContent.startsWith("grad ")) { gradText[g.id] = t; }
  }
});
function format(x) {  // as Python's :.4g, which the step texts use
  if (Number.isNaN(x)) { return "nan"; }
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : (x > 0 ? "inf" : "-inf");
}
function show(k) {
  k = Math.max(0, Math.min(steps.length - 1, k));
  slider.value = k;
  for (const id in gradText) { gradText[id].textContent = "grad ?"; }
  document.querySelectorAll("#graph g.node").forEach(g => g.classList.remove("current", "done", "fresh"));
  for (let i = 0; i <= k; i++) {
    for (const id in steps[i].set) {
      if (gradText[id]) { gradText[id].textContent = "grad " + format(Number(steps[i].set[id])); }
    }
    const box = document.getElementById(steps[i].box);
    if (box && i < k) { box.classList.add("done"); }
  }
  const current = document.getElementById(steps[k].box);
  if (current) { current.classList.add("current"); }
  const op = document.getElementById(steps[k].node + "_op");
  if (op) { op.classList.add("current"); }
  for (const id in steps[k].set) {
    const g = document.getElementById(id);
    if (g && id !== steps[k].node) { g.classList.add("fresh"); }
  }
  document.getElementById("explain").textContent = steps[k].text;
  document.getElementById("counter").textContent = "step " + k + " of " + (steps.length - 1);
}
document.getElementById("previous").onclick = () => show(Number(slider.value) - 1);
document.getElementById("next").onclick = () => show(Number(slider.value) + 1);
slider.oninput = () => show(Number(slider.value));
document.addEventListener("keydown", e => {
  if (e.key === "ArrowRight") { show(Number(slider.value) + 1); }
  if (e.key === "ArrowLeft") { show(Number(slider.value) - 1); }
});
show(0);
</script>
</body>
</html>
"""
