"""Graphs laid out in the page (viz.web): the renderer, its checks, and notebook outputs."""

import hashlib
import html.parser
import json
from pathlib import Path

import graphviz
import pytest

import viz
from tests.viz.test_steps import PAYLOAD, browser, every_label_at_once, open_page  # noqa: F401 (a fixture)
from tests.without_dot import hide_dot
from viz.graph import Diagram
from viz.web import LIBRARY, inline_drawing, renderer_script

VENDOR = Path(viz.__file__).parent / "vendor"


def test_the_vendored_library_is_the_one_its_readme_names():
    digest = hashlib.sha256((Path(viz.__file__).parent / LIBRARY).read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in (VENDOR / "README.md").read_text()
    assert {p.name for p in VENDOR.glob("LICENSE-*.txt")} == {"LICENSE-viz-js.txt", "LICENSE-graphviz.txt",
                                                               "LICENSE-expat.txt"}


def test_the_renderer_can_sit_in_a_script_element():
    script = renderer_script()
    assert script is renderer_script()  # read once
    lowered = script.lower()
    assert "</script" not in lowered and "<!--" not in lowered
    assert "globalThis.autodiffRender = function (dotSource)" in script


class Elements(html.parser.HTMLParser):
    """The start tags a real HTML tokenizer finds, with their attributes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_a_fragment_keeps_any_dot_text_as_data():
    source = f'digraph {{ a [label="</script><script>{PAYLOAD}</script><!--"] }}'
    fragment = inline_drawing(source)
    parser = Elements()
    parser.feed(fragment)
    tags = [tag for tag, _ in parser.found]
    assert tags == ["div", "script", "script", "script"]
    data_id = parser.found[1][1]["id"]
    data = fragment.split(f'<script type="application/json" id="{data_id}">', 1)[1].split("</script>", 1)[0]
    assert json.loads(data) == source
    assert inline_drawing(source) != fragment  # each output its own ids
    with pytest.raises(TypeError, match="needs DOT text"):
        inline_drawing(b"digraph {}")


def test_with_dot_jupyter_gets_the_svg_graphviz_gives(tmp_path):
    diagram = viz.draw_dot(every_label_at_once())
    plain = graphviz.Digraph(body=diagram.body, graph_attr=diagram.graph_attr, node_attr=diagram.node_attr,
                             edge_attr=diagram.edge_attr)
    assert isinstance(diagram, Diagram) and isinstance(diagram, graphviz.Digraph)
    assert diagram._repr_mimebundle_() == plain._repr_mimebundle_()
    assert list(diagram._repr_mimebundle_()) == ["image/svg+xml"]
    asked = diagram._repr_mimebundle_(include=["text/html", "image/svg+xml"], exclude=["image/svg+xml"])
    assert list(asked) == ["text/html"]


def test_without_dot_jupyter_gets_html_that_lays_the_graph_out(tmp_path, monkeypatch):
    diagram = viz.draw_dot(every_label_at_once())
    hide_dot(monkeypatch, tmp_path)
    with pytest.raises(graphviz.ExecutableNotFound):  # what a plain Digraph does without dot
        graphviz.Digraph(body=diagram.body)._repr_mimebundle_()
    bundle = diagram._repr_mimebundle_()
    assert list(bundle) == ["text/html"]
    assert renderer_script() in bundle["text/html"] and json.dumps(diagram.source)[:50] in bundle["text/html"]
    assert diagram._repr_mimebundle_(include=[]) == {}


def blank_page(tmp_path, body="", before=""):
    page = tmp_path / "blank.html"
    page.write_text(f"<!DOCTYPE html><meta charset=utf-8><title>t</title>{before}"
                    f"<script>{renderer_script()}</script><div id=out></div>{body}")
    return page


LAY_OUT = """
const [source, done] = arguments;
autodiffRender(source).then(svg => {
  document.getElementById("out").replaceChildren(svg);
  const active = [];
  for (const element of document.querySelectorAll("#out *")) {
    for (const attribute of element.attributes) {
      const name = attribute.localName.toLowerCase();
      if (name.startsWith("on") || name === "href" || name === "src") { active.push(element.tagName + " " + name); }
    }
  }
  done({ok: svg instanceof SVGSVGElement && svg.ownerDocument === document, active: active,
        ids: Array.from(svg.querySelectorAll("g.node"), g => g.id),
        text: Array.from(svg.querySelectorAll("text"), t => t.textContent).join("")});
}, error => done({error: error.name + ": " + error.message}));
"""


def test_the_renderer_draws_hostile_labels_as_text_and_refuses_anything_else(browser, tmp_path):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "window.caughtAlerts = []; window.alert = m => window.caughtAlerts.push(String(m));"})
    browser.get(blank_page(tmp_path).as_uri())
    drawing = viz.graph.Drawing.of(every_label_at_once(), colour=False)
    result = browser.execute_async_script(LAY_OUT, drawing.dot.source)
    assert result["ok"] and result["active"] == [], result.get("error")
    boxes = [drawing.box_id(node) for node in drawing.view.order]
    ovals = [drawing.box_id(node) + "_op" for node in drawing.view.order if node.parents]
    assert sorted(result["ids"]) == sorted(boxes + ovals)
    assert "PWNED" in result["text"]  # as text, in a label
    # Graphviz itself would write links, images and markup for DOT that asks for them;
    # our DOT never does, and the renderer refuses them where they appear.
    for source, message in [
        ('digraph { a [URL="javascript:alert(1)"] }', "Error: Graphviz's SVG holds a <a> element or attribute"),
        ('digraph { a [label=<<table><tr><td href="x">b</td></tr></table>>] }', "Error: Graphviz's SVG holds a"),
        ("digraph { a -> }", "Error: Graphviz could not lay the graph out: syntax error"),
    ]:
        assert browser.execute_async_script(LAY_OUT, source)["error"].startswith(message)
    assert browser.execute_async_script(LAY_OUT, 42)["error"] == "TypeError: autodiffRender needs DOT text, got number"
    assert browser.execute_script("return [document.title, window.caughtAlerts]") == ["t", []]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_notebook_outputs_draw_in_place_even_beside_an_amd_loader(browser, tmp_path):
    # Two outputs in one page, each carrying the renderer; a RequireJS-like define() (the
    # classic notebook has one) must neither be called nor get in the way.
    amd = "<script>window.defined = 0; window.define = () => { window.defined += 1; }; define.amd = {};</script>"
    fragments = inline_drawing("digraph { a -> b }") + inline_drawing('digraph { c [id="c"] }')
    page = tmp_path / "outputs.html"
    page.write_text(f"<!DOCTYPE html><meta charset=utf-8><title>t</title>{amd}{fragments}")
    browser.get(page.as_uri())
    shown = browser.execute_async_script("""
const done = arguments[0];
const look = () => {
  const boxes = Array.from(document.querySelectorAll("div.autodiff-drawing"));
  if (boxes.every(box => box.querySelector("svg"))) {
    done({titles: boxes.map(box => Array.from(box.querySelectorAll("g.node title"), t => t.textContent)),
          defined: window.defined, viz: typeof window.Viz});
  } else { setTimeout(look, 50); }
};
look();
""")
    assert shown == {"titles": [["a", "b"], ["c"]], "defined": 0, "viz": "undefined"}
