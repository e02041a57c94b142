"""draw_dot and render: structure, determinism, hostile labels, real rendering."""

import xml.etree.ElementTree as ElementTree

import pytest

import viz
from autodiff import Value


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
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; {y|z}\\n" in source
