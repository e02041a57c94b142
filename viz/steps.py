"""``backward_steps``: a page that steps through the backward pass node by node.

One self-contained HTML file (it opens from disk, with no network): the graph as an
SVG, a slider and previous / next buttons. Each step is one node the engine processes,
in the engine's own order: the node is highlighted, the gradient it passes to each
input is shown, and every gradient known so far is filled in.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from autodiff import Value, local_gradients, topological_order
from autodiff.files import write_atomically

from .graph import draw_dot, run_dot


def steps_of(root: Value) -> list[dict]:
    """The backward pass of ``root`` replayed: per step, the node processed, what it
    passed back, and each gradient that changed (by node id, as drawn)."""
    order = topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    name = {node: _name(node) for node in order}
    grads: dict[Value, float] = {root: 1.0}
    steps = [{"node": ids[root], "text": f"Start: the output, {name[root]}, has gradient 1.", "set": {ids[root]: 1.0}}]
    for node in reversed(order):
        if not node.parents:
            continue
        local = local_gradients(node)
        passed = []
        changed: dict[str, float] = {}
        for parent, d in zip(node.parents, local):
            grads[parent] = grads.get(parent, 0.0) + d * grads[node]
            changed[ids[parent]] = grads[parent]
            passed.append(f"{name[parent]} gets {d:.4g} × {grads[node]:.4g} = {d * grads[node]:.4g}")
        steps.append({
            "node": ids[node],
            "text": f"{_sentence_start(name[node])} has gradient {grads[node]:.4g}: " + "; ".join(passed) + ".",
            "set": changed,
        })
    return steps


def _sentence_start(name: str) -> str:
    return "The" + name[3:] if name.startswith("the ") else name  # a label keeps its case


def _name(node: Value) -> str:
    if node.label:
        return f"{node.label} ({node.op})" if node.parents else node.label
    return f"the {node.op} node" if node.parents else f"the constant {node.data:.4g}"


def backward_steps(root: Value, path: str | os.PathLike, *, rankdir: str = "LR") -> Path:
    """Write a page that steps through ``root``'s backward pass; returns its path.

    Needs Graphviz's ``dot`` to lay the graph out.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps needs a Value, got {type(root).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"backward_steps writes an HTML page: give a path ending in .html, not {path.name!r}")
    svg = run_dot(draw_dot(root, rankdir=rankdir, colour=False, budget=10_000).source, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prologue: the SVG sits inside the page
    page = _PAGE.replace("{{title}}", html.escape(root.label or "backward pass"))
    page = page.replace("{{svg}}", svg).replace("{{steps}}", json.dumps(steps_of(root)).replace("</", "<\\/"))
    write_atomically(path, page)
    return path


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
  .current polygon, .current ellipse { stroke: #e6550d; stroke-width: 3px; fill: #fdd0a2; }
  .done polygon { fill: #e5f5e0; }
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
<script>
const steps = {{steps}};
const slider = document.getElementById("slider");
slider.max = steps.length - 1;
const gradText = {};
document.querySelectorAll("#graph g.node").forEach(g => {
  for (const t of g.querySelectorAll("text")) {
    if (t.textContent.startsWith("grad ")) { gradText[g.id] = t; }
  }
});
function format(x) { return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x); }
function show(k) {
  k = Math.max(0, Math.min(steps.length - 1, k));
  slider.value = k;
  for (const id in gradText) { gradText[id].textContent = "grad ?"; }
  document.querySelectorAll("#graph g.node").forEach(g => g.classList.remove("current", "done", "fresh"));
  for (let i = 0; i <= k; i++) {
    for (const id in steps[i].set) {
      if (gradText[id]) { gradText[id].textContent = "grad " + format(steps[i].set[id]); }
    }
    const node = document.getElementById(steps[i].node);
    if (node && i < k) { node.classList.add("done"); }
  }
  const current = document.getElementById(steps[k].node);
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
