"""Drawings in web pages, laid out by the page itself: no ``dot`` program, no network.

``renderer_script()`` is JavaScript to inline in a page's ``<script>``. It holds
Graphviz compiled to WebAssembly (Viz.js, vendored in ``viz/vendor``) and defines one
function::

    window.autodiffRender(dotSource: string) -> Promise<SVGSVGElement>

which lays DOT text out with Graphviz's own ``dot`` layout and resolves to an
``<svg>`` element of the calling document, not yet inserted; it rejects with an
``Error`` if Graphviz cannot lay the text out or draws anything but a drawing. The
first call compiles the WebAssembly (about a second); later calls reuse it. Defining
the renderer twice in one page (two notebook outputs) keeps the first.

``inline_drawing(source)`` is an HTML fragment that draws DOT text where it stands
(a notebook output). The helpers a page needs to hold user text safely live here too:
``fill`` (one-pass template), ``json_for_script`` and ``drawing_only`` (the SVG check).
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
import xml.etree.ElementTree as ElementTree
from importlib import resources

# What Graphviz draws with; anything else (script, image, foreignObject...) is refused,
# as is any attribute named on... (an event handler) or href (a link, a resource). The
# server-side check (drawing_only) and the in-page one (renderer_script) share the list.
DRAWING_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "title",
        "text",
        "tspan",
        "polygon",
        "polyline",
        "path",
        "ellipse",
        "circle",
        "rect",
        "line",
        "a",
        "defs",
        "linearGradient",
        "radialGradient",
        "stop",
    }
)

LIBRARY = "vendor/viz-global.js"  # Viz.js 3.31.0: see viz/vendor/README.md

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def fill(template: str, parts: dict[str, str]) -> str:
    """``template`` with each ``{{name}}`` in it replaced by ``parts[name]``, in one pass.

    Only the template is searched: a part that holds ``{{steps}}`` stays as it is.

    >>> fill("<p>{{a}} {{b}}</p>", {"a": "{{b}}", "b": "x"})
    '<p>{{b}} x</p>'
    """
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


# In a <script> block the HTML parser looks for "</script" and "<!--" only, and "&" and
# U+2028/2029 have meanings elsewhere: as JSON escapes, none of them is left (json_script).
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_for_script(data: object) -> str:
    """``data`` as JSON that can sit inside ``<script type="application/json">``.

    >>> print(json_for_script({"label": "</script><b>", "grad": float("inf")}))
    {"label": "\\u003c/script\\u003e\\u003cb\\u003e", "grad": "Infinity"}
    """
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


def drawing_only(svg: bytes) -> str:
    """Graphviz's SVG from its ``<svg`` element on, checked to be a drawing and nothing else.

    Labels were escaped when the DOT text was built, so the SVG holds them as text; this
    check makes sure of it before the SVG goes into a page as it is.

    >>> drawing_only(b'<?xml version="1.0"?><svg><g id="v0"><text>x</text></g></svg>')
    '<svg><g id="v0"><text>x</text></g></svg>'
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
        if tag not in DRAWING_ELEMENTS or any(name.startswith("on") or name == "href" for name in names):
            raise RuntimeError(f"Graphviz's SVG holds a <{tag}> element or attribute the page does not allow")
    return text[start:]


@functools.cache
def renderer_script() -> str:
    """The JavaScript that defines ``window.autodiffRender``, to put inside ``<script>``.

    About 1.3 MB (Graphviz in WebAssembly); read from the package once per process.

    >>> script = renderer_script()
    >>> "globalThis.autodiffRender = " in script and "</script" not in script.lower()
    True
    """
    library = resources.files("viz").joinpath(LIBRARY).read_text(encoding="utf-8")
    lowered = library.lower()
    if "</script" in lowered or "<!--" in lowered:  # would end or confuse the <script> it goes in
        raise RuntimeError(f"viz/{LIBRARY} cannot be inlined in a <script>: see viz/vendor/README.md")
    return fill(_RENDERER, {"library": library, "allowed": json.dumps(sorted(DRAWING_ELEMENTS))})


def inline_drawing(source: str) -> str:
    """An HTML fragment that lays out and shows the DOT text ``source`` where it stands.

    For a notebook output: it carries the renderer, so it needs neither ``dot`` nor the
    network, only a page that runs its scripts (a trusted notebook). Until the drawing is
    ready, or where scripts do not run, the fragment says why there is no drawing yet.

    >>> fragment = inline_drawing('digraph { a -> b }')
    >>> fragment.startswith('<div class="autodiff-drawing"') and '"digraph { a -\\\\u003e b }"' in fragment
    True
    """
    if not isinstance(source, str):
        raise TypeError(f"inline_drawing needs DOT text, got {type(source).__name__}")
    # ids of our own making: several drawings (or the same one twice) can share a page
    return fill(
        _FRAGMENT,
        {
            "id": f"autodiff-drawing-{uuid.uuid4().hex}",
            "source": json_for_script(source),
            "renderer": renderer_script(),
        },
    )


# The SVG comes from Graphviz, never from user text: labels were escaped for DOT when
# the source was built (viz/graph.py), so Graphviz writes them as text. DOMParser reads
# it as XML into a separate, inert document (no script there runs, nothing loads), and
# it is refused unless every element is one Graphviz draws with and no attribute is an
# event handler or link; only then is it imported into the page, as an element: no
# string goes through innerHTML. Viz.js gets its own exports object, so it defines no
# global and leaves a page's AMD loader alone (Jupyter's RequireJS refuses anonymous
# modules).
_RENDERER = """(function () {
"use strict";
if (typeof globalThis.autodiffRender === "function") { return; }
const viz = {};
(function (exports, module, define) {
{{library}}
}).call(globalThis, viz, {exports: viz}, undefined);
const allowed = new Set({{allowed}});
const svgSpace = "http://www.w3.org/2000/svg";
function checked(svg) {
  for (const element of [svg, ...svg.querySelectorAll("*")]) {
    const names = Array.from(element.attributes, a => a.localName.toLowerCase());
    if (element.namespaceURI !== svgSpace || !allowed.has(element.localName)
        || names.some(name => name.startsWith("on") || name === "href")) {
      throw new Error("Graphviz's SVG holds a <" + element.localName + "> element or attribute the page does not allow");
    }
  }
  return svg;
}
let graphviz = null;
globalThis.autodiffRender = function (dotSource) {
  if (typeof dotSource !== "string") {
    return Promise.reject(new TypeError("autodiffRender needs DOT text, got " + typeof dotSource));
  }
  graphviz = graphviz || viz.instance();
  return graphviz.then(instance => {
    const result = instance.render(dotSource, {format: "svg", engine: "dot"});
    if (result.status !== "success") {
      throw new Error("Graphviz could not lay the graph out: " + result.errors.map(e => e.message).join(" "));
    }
    const parsed = new DOMParser().parseFromString(result.output, "image/svg+xml");
    return document.importNode(checked(parsed.documentElement), true);
  });
};
})();
"""

_FRAGMENT = """<div class="autodiff-drawing" id="{{id}}">The drawing is laid out by this output's script; \
if it does not appear, trust the notebook, or install Graphviz's dot.</div>
<script type="application/json" id="{{id}}-source">{{source}}</script>
<script>{{renderer}}</script>
<script>
(function () {
  const box = document.getElementById("{{id}}");
  const source = JSON.parse(document.getElementById("{{id}}-source").textContent);
  autodiffRender(source).then(svg => box.replaceChildren(svg),
                              error => { box.textContent = "No drawing: " + error.message; });
})();
</script>
"""
