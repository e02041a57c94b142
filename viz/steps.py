"""``backward_steps``: a page that steps through the backward pass node by node.

One self-contained HTML file (it opens from disk, with no network): the graph as an
SVG, a slider and previous / next buttons. Each step is one node the engine processes,
in the engine's own order: the node is highlighted, the gradient it passes to each
input is shown, and every gradient known so far is filled in. A big graph is drawn
within a node budget, as ``draw_dot`` draws it; the steps still cover every node.

A label is only ever text in the page: the template is filled in one pass with parts
escaped for where they go, the steps travel as JSON in a ``<script
type="application/json">`` that no string can end, and the page's script sets text
with ``textContent`` only. Without ``dot`` the DOT text travels the same way and the
page lays it out itself (``viz.web``), checking the drawing as ``dot``'s is checked.
"""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autodiff import Value, input_gradients, local_gradients, topological_order
from autodiff.arguments import described, file_path, flag
from autodiff.files import write_atomically

from .graph import Drawing, check_timeout, run_dot
from .quiz_page import QUIZ_PAGE
from .text import visible
from .view import Group
from .web import drawing_only, fill, json_for_script, renderer_script


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
    for node, passed in _replay(order, grads):
        changed = {ids[parent]: grads[parent] for parent, _, _ in passed}
        text = (
            f"{_sentence_start(name[node])} has gradient {grads[node]:.4g}: "
            + "; ".join(f"{name[parent]} gets {d:.4g} × {grads[node]:.4g} = {share:.4g}" for parent, d, share in passed)
            + "."
        )
        steps.append(_step(node, ids, text, changed, drawing))
    return steps


def questions_of(root: Value, drawing: Drawing | None = None) -> list[dict]:
    """The quiz on ``root``'s backward pass: one question per node but the output, in the
    engine's order (last node first), each with its gradient as the engine computes it and
    the chain rule's terms that make it up, one per use of the node.

    In that order a node comes up only once every node that uses it has its gradient:
    its own gradient is then final, and can be worked out from what the page shows.

    >>> from autodiff import Value
    >>> x = Value(3.0, label="x"); y = x * x
    >>> [(q["name"], q["answer"], [(t["local"], t["grad"], t["share"]) for t in q["terms"]]) for q in questions_of(y)]
    [('x', 6.0, [(3.0, 1.0, 3.0), (3.0, 1.0, 3.0)])]
    """
    order = drawing.view.order if drawing else topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    grads: dict[Value, float] = {root: 1.0}
    terms: dict[Value, list[dict]] = {node: [] for node in order}
    for node, passed in _replay(order, grads):
        for parent, d, share in passed:
            terms[parent].append(
                {"by": ids[node], "by_name": _name(node), "local": d, "grad": grads[node], "share": share}
            )
    return [
        {"node": ids[node], "name": _name(node), "answer": grads[node], "terms": terms[node]}
        for node in reversed(order)
        if node is not root
    ]


def _replay(order: list[Value], grads: dict[Value, float]) -> Iterator[tuple[Value, list[tuple[Value, float, float]]]]:
    """The engine's backward pass over ``order`` from the seed in ``grads``, in its order and
    with its arithmetic: adds each share to ``grads`` and yields each node it processes
    with (parent, local gradient, share) for each of its parents."""
    for node in reversed(order):
        if not node.parents:
            continue
        # each share as the engine computes it (grad / x for log, a selected 0 for relu),
        # written as the local gradient times the node's gradient
        passed = list(zip(node.parents, local_gradients(node), input_gradients(node, grads[node])))
        for parent, _, share in passed:
            grads[parent] = grads[parent] + share if parent in grads else share  # the engine's sum
        yield node, passed


def _step(node: Value, ids: dict[Value, str], text: str, changed: dict[str, float], drawing: Drawing | None) -> dict:
    step: dict[str, Any] = {"node": ids[node], "text": text, "set": changed}
    if drawing is not None:
        step["box"] = drawing.box_id(node)
        box = drawing.view.shown[node]
        if isinstance(box, Group):  # not the node itself
            step["text"] += (
                f" (This node is not drawn: it is one of the {len(box.members):,} nodes in the box “{visible(box.title)}”.)"
            )
    return step


def _sentence_start(name: str) -> str:
    return "The" + name[3:] if name.startswith("the ") else name  # a label keeps its case


def _name(node: Value) -> str:
    if node.label:
        label = visible(node.label)
        return f"{label} ({node.op})" if node.parents else label
    return f"the {node.op} node" if node.parents else f"the constant {node.data:.4g}"


def backward_steps(
    root: Value,
    path: str | os.PathLike,
    *,
    rankdir: str = "LR",
    budget: int = 300,
    timeout: float = 60.0,
    quiz: bool = False,
) -> Path:
    """Write a page that steps through ``root``'s backward pass; returns its path.

    Where Graphviz's ``dot`` is installed it draws the graph, within ``timeout`` seconds;
    elsewhere the page carries Graphviz in WebAssembly and lays the graph out itself when
    it opens (about 1.3 MB more; no network either way). The page steps through every node; the picture shows at most about ``budget`` boxes
    (as ``draw_dot`` does), and a step whose node is inside a summary box says so.
    Labels are only ever text in the page: its structure is fixed, whatever they hold.

    With ``quiz`` the page asks instead: every gradient but the output's 1 is hidden
    (also any an earlier ``backward`` left), and the learner types the gradient of each
    node in turn (see ``questions_of`` for the order). An answer within 1% of the
    gradient, or within 0.001 of it, is right (the page says so); right or wrong, the
    page then shows the gradient and the chain rule that makes it, share by share. A
    "reveal" button shows it unscored, and the end gives the score ("7 of 9 right, 1
    wrong, 1 revealed"). A quiz needs every node drawn: a graph beyond ``budget`` is
    refused (ValueError), as is a lone number, which has no gradient to ask about.

    >>> import tempfile, pathlib
    >>> from autodiff import Value
    >>> x = Value(3.0, label="x"); y = x * x
    >>> page = backward_steps(y, pathlib.Path(tempfile.mkdtemp()) / "steps.html")
    >>> page.name
    'steps.html'
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"backward_steps needs a Value (the output whose backward pass it shows), got {described(root)}"
        )
    path = Path(file_path(path, "path", "backward_steps"))
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"backward_steps writes an HTML page: give a path ending in .html, not {path.name!r}")
    check_timeout(timeout)
    drawing = Drawing.of(
        root, rankdir=rankdir, budget=budget, colour=False, grads=not flag(quiz, "quiz", "backward_steps")
    )
    if quiz:
        template, data = QUIZ_PAGE, {"quiz": json_for_script(_quiz_data(root, drawing))}
    else:
        template, data = _PAGE, {"steps": json_for_script(steps_of(root, drawing))}
    if shutil.which("dot") is not None:  # as before: drawn now, the page shows it as it is
        graph, layout = drawing_only(run_dot(drawing.dot.source, "svg", timeout=timeout)), ""
    else:  # laid out by the page itself from the DOT text
        graph = "Laying the graph out…"
        layout = fill(_LAYOUT_IN_PAGE, {"source": json_for_script(drawing.dot.source), "renderer": renderer_script()})
    page = fill(
        template,
        {
            "title": html.escape(visible(root.label or "backward pass")),
            "graph": graph,
            "layout": layout,
            "adopt": _ADOPT_THE_DRAWING,
            **data,
        },
    )
    write_atomically(path, page)
    return path


# An answer counts as right within this of the gradient: the page states it. Wide enough
# for a number worked out from the 4 digits a box shows, narrow enough to catch a
# missing term or a wrong sign.
QUIZ_TOLERANCE = {"relative": 1e-2, "absolute": 1e-3}


def _quiz_data(root: Value, drawing: Drawing) -> dict:
    """What the quiz page's script reads: the questions and how they are marked."""
    if drawing.view.groups:
        raise ValueError(
            f"a quiz asks about every node, and this graph of {len(drawing.view.order):,} nodes "
            "is drawn summarised: pass a larger budget to backward_steps"
        )
    if not root.parents:
        raise ValueError(
            "a quiz needs an output computed from other values: a lone number has no gradient to ask about"
        )
    return {
        "output": drawing.box_id(root),
        "output_name": _name(root),
        "tolerance": QUIZ_TOLERANCE,
        "questions": questions_of(root, drawing),
    }


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
<div id="graph">{{graph}}</div>
<script type="application/json" id="steps-data">{{steps}}</script>{{layout}}
<script>
const steps = JSON.parse(document.getElementById("steps-data").textContent);
const slider = document.getElementById("slider");
slider.max = steps.length - 1;
const graph = document.getElementById("graph");
const gradText = {};
function adopt() {  // the drawing is in the page: find its grad cells, show the step again
  graph.querySelectorAll("g.node").forEach(g => {
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("grad ")) { gradText[g.id] = t; }
    }
  });
  show(Number(slider.value));
}
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
{{adopt}}
</script>
</body>
</html>
"""

# The end of each page's script (the page defines ``graph`` and ``adopt()``): dot's SVG is
# in the page already, or the page lays the DOT text out; then adopt() finds the drawing.
_ADOPT_THE_DRAWING = """// Drawn by dot when the page was written, or laid out here from the DOT text.
const graphData = document.getElementById("graph-data");
const drawn = graphData === null ? Promise.resolve(adopt())
  : autodiffRender(JSON.parse(graphData.textContent)).then(svg => { graph.replaceChildren(svg); adopt(); });
drawn.catch(error => { graph.textContent = "The graph could not be laid out here: " + error.message; });"""

# The DOT text as JSON data (no string in it can end the script) and the renderer.
_LAYOUT_IN_PAGE = """
<script type="application/json" id="graph-data">{{source}}</script>
<script id="renderer">{{renderer}}</script>"""
