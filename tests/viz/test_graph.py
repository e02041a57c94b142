"""draw_dot and render: structure, determinism, hostile labels, real rendering."""

import json
import re
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import graphviz
import pytest

import autodiff
import viz
from autodiff import Value
from viz.graph import LABEL_LIMIT, _plain
from viz.text import visible

ROOT = Path(__file__).resolve().parents[2]


def small_graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a.tanh()
    c.label = "c"
    c.backward()
    return c


def test_one_box_per_value_and_one_oval_per_op():
    source = viz.draw_dot(small_graph(), colour=False).source
    # a, b, a*b, tanh(a), c: five values; *, tanh, +: three ops; 2 + 1 + 2 into ops, 3 out
    assert source.count("shape=plaintext") == 5
    assert source.count("shape=ellipse") == 3
    assert source.count("->") == 8


def test_data_and_grad_are_shown():
    source = viz.draw_dot(small_graph()).source
    assert "data -6" in source and "grad 2" in source  # a*b = -6; dc/db = a = 2


def test_the_same_graph_gives_the_same_text():
    assert viz.draw_dot(small_graph()).source == viz.draw_dot(small_graph()).source


HOSTILE = ['quote " here', "{braces}", "a|b", "<b>bold</b>", "back\\slash", "new\nline",
           "nul\x00byte", "ünïcødé ✓", "&amp;", "]]>"]


@pytest.mark.parametrize("label", HOSTILE)
def test_any_label_renders_and_is_shown_as_written(label, tmp_path):
    v = Value(1.0, label=label)
    out = (v * 2.0).tanh()
    path = viz.render(out, tmp_path / "g.svg")
    svg = ElementTree.parse(path)
    texts = "".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    shown = label.replace("\n", "\\n").replace("\x00", "\\x00")
    assert shown.replace(" ", "") in texts.replace("\xa0", "").replace(" ", "")


def test_render_writes_png_and_pdf(tmp_path):
    root = small_graph()
    assert viz.render(root, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert viz.render(root, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_render_refuses_an_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="g.jpeg"):
        viz.render(small_graph(), tmp_path / "g.jpeg")


def test_missing_dot_says_how_to_install_and_dot_text_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz"):
        viz.render(small_graph(), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    assert viz.render(small_graph(), tmp_path / "g.dot").read_text().startswith("digraph")


def test_jupyter_shows_the_drawing_inline_as_svg():
    bundle = viz.draw_dot(small_graph())._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_hostile_labels_are_escaped_in_the_dot_text():
    v = Value(1.0, label='<b>"x"</b> & {y|z}\n')
    source = viz.draw_dot(v * 2.0).source
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; {y|z}\\\\n" in source  # \\ is one backslash to Graphviz


SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


def drawn(root, tmp_path):
    """Render ``root`` with the real dot: the parsed SVG, and the DOT text as dot parsed it."""
    source = viz.draw_dot(root).source
    svg = ElementTree.parse(viz.render(root, tmp_path / "g.svg"))
    parsed = json.loads(subprocess.run(["dot", "-Tjson0"], input=source.encode("utf-8"), capture_output=True,
                                       check=True).stdout)
    return svg, parsed


def svg_texts(svg):
    return "".join(t.text or "" for t in svg.iter(f"{SVG}text")).replace("\xa0", " ")


def dot_injections(image):
    return [
        f'<x> node [image="{image}"] <y>.w',  # a module box takes its title from this label
        f'<x> node [image="{image}"] <y>',
        f'<<table><tr><td><img src="{image}"/></td></tr></table>>.w',
        f'<<table><tr><td><img src="{image}"/></td></tr></table>>',
        f'"] ; evil [image="{image}" label="',
        f'\\"]; evil [image="{image}"]; x [label=\\"',
        f'}}; node [image="{image}"]; subgraph {{',
    ]


def test_a_label_cannot_inject_dot_or_read_a_local_file(tmp_path):
    image = tmp_path / "secret.png"
    image.write_bytes((ROOT / "docs" / "demo" / "training.png").read_bytes())  # a real image, there to be read
    labels = dot_injections(image)
    leaves = [Value(float(i), label=label) for i, label in enumerate(labels)]
    products = [leaf * leaf for leaf in leaves]
    for product, label in zip(products, reversed(labels)):
        product.label = label
    root = autodiff.sum(products)
    root.label = labels[0]
    svg, parsed = drawn(root, tmp_path)
    assert not list(svg.iter(f"{SVG}image")) and "secret.png" not in "".join(
        str(v) for o in parsed["objects"] for k, v in o.items() if k != "label" and k != "tooltip")
    assert all("image" not in item for item in [parsed, *parsed["objects"]])
    nodes = [o["name"] for o in parsed["objects"] if "nodes" not in o]  # subgraphs list their nodes
    order = autodiff.topological_order(root)
    ops = [f"v{i}_op" for i, node in enumerate(order) if node.parents]
    assert sorted(nodes) == sorted([f"v{i}" for i in range(len(order))] + ops + ["legend"])  # one box per Value
    texts = svg_texts(svg)
    for label in labels:
        assert label.rpartition(".w")[0] in texts if label.endswith(".w") else label in texts


def test_module_and_summary_box_titles_are_text(tmp_path):
    image = tmp_path / "secret.png"
    image.write_bytes((ROOT / "docs" / "demo" / "training.png").read_bytes())
    module = f'<x> node [image="{image}"] <y>'
    leaves = [Value(float(i), label=f"{module}.w.{i}") for i in range(20)]
    root = autodiff.sum([leaf * leaf for leaf in leaves])
    source = viz.draw_dot(root, budget=10).source
    assert "41 nodes" in source  # the module (its leaves, products and their sum) in one box, titled by its name
    svg = ElementTree.fromstring(subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                                                check=True).stdout)
    assert not list(svg.iter(f"{SVG}image")) and module in svg_texts(svg)


def test_two_modules_whose_names_differ_only_in_dots_get_two_boxes():
    a, b = Value(1.0, label="a.b.0.w"), Value(2.0, label="a_b.0.w")
    source = viz.draw_dot(a * b).source
    assert len(set(re.findall(r"subgraph (\w+)", source))) == 3  # a, a.b.0 and a_b.0
    assert 'label="a.b.0"' in source and 'label="a_b.0"' in source


@pytest.mark.parametrize("label, shown", [
    ("x\\.w", ["x\\", "w"]),  # module "x\", parameter "w"
    ("\\N \\G \\E \\T \\H \\L \\l end\\", ["\\N \\G \\E \\T \\H \\L \\l end\\"]),
    ("&amp; &#65; &lt;.w", ["&amp; &#65; &lt;", "w"]),  # Graphviz reads entities in plain labels too
    ("\ud800 lone \udfff", ["\\ud800 lone \\udfff"]),
    ("c\x01\x1b[31m\x7f\x85\u2028\u202eevil", ["c\\x01\\x1b[31m\\x7f\\x85\\u2028\\u202eevil"]),
    ("\ufffe\uffff.0.w", ["\\ufffe\\uffff.0", "w"]),
])
def test_backslashes_entities_surrogates_and_controls_show_as_written(label, shown, tmp_path):
    root = Value(2.0, label=label) * 3.0
    root.label = label
    texts = svg_texts(drawn(root, tmp_path)[0])
    for part in shown:
        assert part in texts
    assert viz.render(root, tmp_path / "g.dot").read_bytes().decode("utf-8")  # valid UTF-8, no crash
    assert viz.render(root, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def tooltips(svg):
    return [a.get(XLINK_TITLE) for a in svg.iter(f"{SVG}a")]


@pytest.mark.parametrize("label", [
    "\"quote\\back" * 2_000,  # 22,000 characters, 36,000 bytes once escaped
    "x" * 16_382,
    "<b>&" * 1_250,  # 5,000 characters: the whole label fits in the tooltip
    "\x01" * 20_000,  # shown as \x01: 100,000 bytes once escaped
    "é" * 9_000 + ".w",  # a module name past the limit too
])
def test_a_label_past_graphviz_limit_is_shortened_and_whole_in_the_tooltip(label, tmp_path):
    root = Value(1.0, label=label) * Value(2.0, label=label)
    root.label = label
    svg, _ = drawn(root, tmp_path)
    texts = svg_texts(svg)
    head = visible(label)[:LABEL_LIMIT]
    assert head in texts and "more characters)" in texts and len(texts) < 3 * 6 * LABEL_LIMIT
    whole = [t for t in tooltips(svg) if t and t.startswith(head)]
    assert whole  # the tooltip holds the label: all of it where it fits, else as much as fits
    for tip in whole:  # shown as written: quotes, backslashes, escapes
        assert tip.partition(": data = ")[0] in (visible(label), visible(label.rpartition(".")[0])) or (
            tip.startswith(visible(label)[:2_000]) and "more characters)" in tip)
    if len(visible(label).encode()) < 15_000:
        assert any(visible(label) in t for t in whole)


def test_the_graphviz_package_quotes_our_escaped_text_as_text():
    # what the package does on its own: a <...> string goes into the DOT unquoted, as HTML
    assert graphviz.quoting.quote('<x> node [image="f"] <y>') == '<x> node [image="f"] <y>'
    # what draw_dot gives it: marked as no HTML, backslashes doubled; the package adds \ before "
    assert graphviz.quoting.quote(_plain('<x> "y" \\')) == '"<x> \\"y\\" \\\\"'


@pytest.mark.parametrize("colour", [True, False])
def test_a_gradient_that_is_no_number_is_refused_by_name_never_drawn_as_text(colour):
    # The drawing writes a gradient into an HTML-like label: only a number (or None, "no
    # gradient yet") may reach it, so markup set as .grad is an error, not part of the graph.
    w = Value(1.0, label="w")
    w.grad = '</td></tr></table>> shape=box label=<x'
    with pytest.raises(TypeError, match="node 'w' has grad a str"):
        viz.draw_dot(w * 2.0, colour=colour)
