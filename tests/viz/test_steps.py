"""The step-through page: its steps, its self-containment, and a real browser clicking it."""

import json
import math
import os
import re
import shutil
import stat

import pytest
from selenium.webdriver.common.by import By

import autodiff
import viz
from autodiff import Value
from viz.graph import LABEL_LIMIT, Drawing
from viz.steps import steps_of
from viz.text import shortened, visible
from viz.web import renderer_script
from tests.viz.test_view import mlp_loss
from tests.without_dot import hide_dot

PNG = b"\x89PNG\r\n\x1a\n"


def expression():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a.tanh()
    c.label = "c"
    return a, b, c


def test_steps_follow_the_engine_order_and_end_on_the_gradients():
    a, b, c = expression()
    steps = steps_of(c)
    assert len(steps) == 1 + 3  # the seed, then +, tanh and * (each op node once)
    assert steps[0]["set"] == {steps[0]["node"]: 1.0}
    final = {}
    for step in steps:
        final.update(step["set"])
    ids = {"a": "v0", "b": "v1"}  # graph order: a, b, a*b, tanh(a), c
    assert final[ids["a"]] == pytest.approx(-3.0 + 1 - math.tanh(2.0) ** 2, rel=1e-15)  # closed form
    assert final[ids["b"]] == 2.0


def test_the_page_ends_on_the_gradients_pytorch_gives_where_a_rule_divides_or_selects():
    # d/dx exp(log(x)) = 1 even at the smallest subnormal (grad / x, not grad * (1/x) = inf),
    # and relu passes 0 back from an infinite gradient: the page must show what PyTorch
    # (and the engine) give, not the product of the local factors.
    x = Value(5e-324, label="x")
    r = Value(-1.0, label="r")
    out = x.log().exp() + r.relu() * math.inf
    final = {}
    for step in steps_of(out):
        final.update(step["set"])
    order = autodiff.topological_order(out)
    assert final[f"v{order.index(x)}"] == 1.0
    assert final[f"v{order.index(r)}"] == 0.0


@pytest.fixture(params=["dot", "page"])
def layout(request, monkeypatch, tmp_path):
    """Who lays the graph out: Graphviz's dot when the page is written, or, with no dot
    on PATH, the page itself when it opens."""
    if request.param == "page":
        hide_dot(monkeypatch, tmp_path)
    return request.param


def test_the_page_is_self_contained(tmp_path, layout):
    path = viz.backward_steps(expression()[2], tmp_path / "steps.html")
    text = path.read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert '<script type="application/json" id="steps-data">[' in text
    if layout == "dot":
        assert text.count("<svg") == 1 and 'id="graph-data"' not in text and "autodiffRender = " not in text
    else:
        assert renderer_script() in text and text.count("<svg") == renderer_script().count("<svg")
        assert '<script type="application/json" id="graph-data">"digraph {' in text


def test_a_path_that_is_not_html_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ending in .html"):
        viz.backward_steps(expression()[2], tmp_path / "steps.svg")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver: ./scripts/test installs them")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,900"):
        options.add_argument(flag)
    options.binary_location = chromium
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.execute_cdp_cmd("Network.enable", {})
    session.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    yield session
    session.quit()


def open_page(browser, path):
    """Open a step page and wait until its graph is drawn (at once, or laid out by the page)."""
    browser.get(path.as_uri())
    drawn = browser.execute_async_script(
        "const done = arguments[0]; drawn.then(() => done('drawn'), error => done(String(error)))")
    assert drawn == "drawn"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched


def test_a_browser_clicks_through_every_step(browser, layout, tmp_path):
    a, b, c = expression()
    path = viz.backward_steps(c, tmp_path / "steps.html")
    steps = steps_of(c)
    open_page(browser, path)
    grad_of = lambda node_id: browser.execute_script(  # noqa: E731
        "return gradText[arguments[0]].textContent", node_id)
    assert browser.find_element(By.ID, "counter").text == f"step 0 of {len(steps) - 1}"
    assert grad_of("v0") == "grad ?"  # nothing known before the pass reaches a
    for k in range(1, len(steps)):
        browser.find_element(By.ID, "next").click()
        assert browser.find_element(By.ID, "counter").text == f"step {k} of {len(steps) - 1}"
        assert "current" in browser.find_element(By.ID, steps[k]["node"]).get_attribute("class")
        for node_id, value in steps[k]["set"].items():
            assert grad_of(node_id) == "grad " + browser.execute_script("return format(arguments[0])", value)
    assert grad_of("v0") == "grad -2.929" and grad_of("v1") == "grad 2"
    browser.find_element(By.ID, "previous").click()
    assert browser.find_element(By.ID, "counter").text == f"step {len(steps) - 2} of {len(steps) - 1}"
    screenshot = tmp_path / f"steps-{layout}.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(PNG)


# Labels that try to become markup, script, a template placeholder or DOT, or to hide.
PAYLOAD = "document['title']='PWNED';window['pwned']=1;alert(1)"
HOSTILE_LABELS = [
    f"<script>{PAYLOAD}</script>",
    f'<img src=x onerror="{PAYLOAD}">',
    f"<img src=x onerror={PAYLOAD}>",
    f"</script><script>{PAYLOAD}</script>",
    "<!--<script>",
    "{{steps}}", "{{svg}}", "{{title}}", "{{steps}}{{svg}}{{title}}",
    "]]>",
    f"\"'><svg onload=\"{PAYLOAD}\">",
    "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "&#60;script&#62;",
    "line\u2028separator\u2029paragraph",
    "lone \ud800 surrogate", "\udfff", "high \ud83d end",
    "nul\x00 bell\x07 escape\x1b[31m del\x7f c1\x85",
    "new\nline\ttab\rreturn\x0cfeed",
    "<b>" + "long " * 4000 + "end",  # 20,006 characters
    "\u202eevil\u202c reversed \u2067isolate\u2069",  # bidi overrides (Trojan Source)
    f"</title><script>{PAYLOAD}</script>",
    f"</svg><img src=x onerror=\"{PAYLOAD}\">",
    f"<![CDATA[<img src=x onerror=\"{PAYLOAD}\">]]>",
    "\\u003c/script\\u003e",
    "javascript:alert(1)",
    '<x> node [image="/etc/hostname"] <y>',
    '<<table><tr><td><img src="/etc/hostname"/></td></tr></table>>',
    "\\N \\G \\l back\\slash\\",
    "${alert(1)} `x`",
    "__proto__",
    "\ufeffbom \ufffe \uffff",
    "<style>*{display:none}</style>",
    f"<svg><script>{PAYLOAD}</script></svg>",
    "<a href=\"javascript:alert(1)\">click</a>",
    f"--><script>{PAYLOAD}</script><!--",
    "<base href=\"http://example.invalid/\">",
    f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{PAYLOAD}\">",
    f"<img src=x onerror=\"{PAYLOAD}\">.0.w",  # a module name: the title of a box
    "quote \" apostrophe ' backtick `",
]


def every_label_at_once():
    """Every hostile label on a leaf and on an inner node."""
    terms = []
    for i, label in enumerate(HOSTILE_LABELS):
        inner = Value(0.1 * (i + 1), label=label).tanh()
        inner.label = HOSTILE_LABELS[-1 - i]
        terms.append(inner)
    root = autodiff.sum(terms)
    root.label = HOSTILE_LABELS[0]
    return root


def one_label_everywhere(label):
    """One hostile label on the root (the page's title) and on both inputs."""
    root = Value(2.0, label=label) * Value(-3.0, label=label)
    root.label = label
    return root


# What a page holds that no label may change, read after its script has run: as ``shape``.
PAGE_SHAPE = """
const active = [];
for (const element of document.querySelectorAll("*")) {
  for (const attribute of element.attributes) {
    const name = attribute.name.toLowerCase();
    if (name.startsWith("on") || name.endsWith("href") || name === "src") { active.push(element.tagName + " " + name); }
  }
}
const shape = {
  title: document.title, pwned: window.pwned === 1, alerts: window.caughtAlerts, active: active,
  head: Array.from(document.head.children, e => e.tagName),
  body: Array.from(document.body.children, e => e.tagName + "#" + e.id),
  graph: Array.from(document.getElementById("graph").children, e => e.tagName),
  foreign: document.querySelectorAll("img, iframe, object, embed, image, foreignObject, base, #graph script, body style").length,
};
"""

# One round trip: the slider through every step, and what the page holds afterwards.
READ_THE_PAGE = """
const seen = [];
for (let k = 0; k < steps.length; k++) {
  slider.value = k;
  slider.dispatchEvent(new Event("input"));
  seen.push([document.getElementById("counter").textContent, document.getElementById("explain").textContent]);
}
""" + PAGE_SHAPE + """
return Object.assign(shape, {
  seen: seen, svgText: Array.from(document.querySelectorAll("#graph text"), t => t.textContent).join(""),
});
"""


def squeeze(text):
    return "".join(text.split()).replace("\xa0", "")


def test_no_label_changes_the_page_in_a_real_browser(browser, layout, tmp_path):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "window.caughtAlerts = []; window.alert = m => window.caughtAlerts.push(String(m));"})
    tried = set()
    for k, root in enumerate([every_label_at_once(), *map(one_label_everywhere, HOSTILE_LABELS)]):
        page = read_the_page(browser, root, tmp_path / f"page{k}.html", layout)
        tried.add(root.label)
        labels = HOSTILE_LABELS if k == 0 else [root.label]
        shown = "".join(text for _, text in page["seen"])
        for label in labels:
            assert visible(label) in shown
            if "." not in label:  # a dotted label is split between a module box and its node
                assert squeeze(visible(shortened(label, LABEL_LIMIT))) in squeeze(page["svgText"]), label
    assert len(tried) == len(HOSTILE_LABELS) == 41


def read_the_page(browser, root, path, layout):
    """Open ``root``'s page, check that its structure is the template's and that its
    script ran through every step showing the expected texts; what it holds."""
    expected = [step["text"] for step in steps_of(root)]  # every node is drawn: no "not drawn" notes
    open_page(browser, viz.backward_steps(root, path))
    page = browser.execute_script(READ_THE_PAGE)
    assert page["title"] == re.sub(" +", " ", f"Backward pass: {visible(root.label)}").strip(), root.label
    assert not page["pwned"] and page["alerts"] == [], root.label
    assert page["head"] == ["META", "TITLE", "STYLE"], root.label
    in_page = ["SCRIPT#graph-data", "SCRIPT#renderer"] if layout == "page" else []
    assert page["body"] == ["H1#", "DIV#controls", "P#explain", "DIV#graph", "SCRIPT#steps-data", *in_page, "SCRIPT#"]
    assert page["graph"] == ["svg"] and page["foreign"] == 0 and page["active"] == [], root.label
    assert page["seen"] == [[f"step {i} of {len(expected) - 1}", text] for i, text in enumerate(expected)]
    return page


def test_infinite_and_nan_gradients_reach_the_page(browser, layout, tmp_path):
    # JSON has no inf or nan: the page must carry them some other way, and show them
    inf, nan = float("inf"), float("nan")
    q, s, u = Value(2.0, label="q"), Value(1.0, label="s"), Value(1.0, label="u")
    root = Value(inf) * q + Value(nan) * s + Value(-inf) * u  # gradients inf, nan, -inf
    open_page(browser, viz.backward_steps(root, tmp_path / "steps.html"))
    browser.execute_script("show(steps.length - 1)")
    grads = browser.execute_script("const out = {}; for (const id in gradText) { out[id] = gradText[id].textContent; } return out")
    order = autodiff.topological_order(root)
    assert {grads[f"v{order.index(node)}"] for node in (q, s, u)} == {"grad inf", "grad nan", "grad -inf"}


def test_a_six_thousand_node_chain_gets_every_step_and_a_small_drawing(browser, layout, tmp_path):
    y = Value(0.5, label="start")
    for _ in range(3000):
        y = y * 1.0001  # an op and a constant per link: 6,001 nodes
    y.label = "end"
    assert len(autodiff.topological_order(y)) == 6001
    path = viz.backward_steps(y, tmp_path / "chain.html")  # dot timed out after 60 s before
    text = path.read_text()
    steps = json.loads(re.search(r'<script type="application/json" id="steps-data">(.*?)</script>', text).group(1))
    assert len(steps) == 3001 and steps == json.loads(json.dumps(steps_of(y, Drawing.of(y, colour=False))))
    open_page(browser, path)
    drawn = set(browser.execute_script("return Array.from(document.querySelectorAll('#graph g.node'), g => g.id)"))
    assert len(drawn) < 30 and {step["box"] for step in steps} <= drawn
    hidden = [k for k, step in enumerate(steps) if step["box"] != step["node"]]
    assert len(hidden) == 2993  # all but three ops at each end of the chain (the output ends it)
    note = "(This node is not drawn: it is one of the 5,986 nodes in the box “⋯ 2,993 ops ⋯”.)"
    assert all(steps[k]["text"].endswith(note) for k in hidden)
    assert "⋯ 2,993 ops ⋯" in browser.find_element(By.ID, "graph").text
    browser.execute_script(f"show({hidden[0]})")
    assert "current" in browser.find_element(By.ID, steps[hidden[0]]["box"]).get_attribute("class")
    assert browser.find_element(By.ID, "counter").text == f"step {hidden[0]} of 3000"
    assert browser.find_element(By.ID, "explain").text.endswith(note)


# Every node's id, class and texts, and the clusters' texts, in document order.
READ_THE_DRAWING = """
const texts = g => Array.from(g.querySelectorAll("text"), t => t.textContent);
return {
  nodes: Array.from(document.querySelectorAll("#graph g.node"), g => [g.id, texts(g)]),
  clusters: Array.from(document.querySelectorAll("#graph g.cluster"), texts),
  edges: document.querySelectorAll("#graph g.edge").length,
};
"""


@pytest.mark.parametrize("budget, boxes", [(300, "clusters"), (40, "summaries")])
def test_the_page_lays_out_the_drawing_dot_draws(browser, tmp_path, monkeypatch, budget, boxes):
    # A network drawn in module boxes, or with its neurons collapsed into summaries (ids
    # g<k>): without dot the page must show the same boxes, with the ids the steps use.
    loss = mlp_loss((4, 4, 1))
    drawn = {}
    for layout in ("dot", "page"):
        if layout == "page":
            hide_dot(monkeypatch, tmp_path)
        open_page(browser, viz.backward_steps(loss, tmp_path / f"{layout}.html", budget=budget))
        drawn[layout] = browser.execute_script(READ_THE_DRAWING)
        browser.save_screenshot(str(tmp_path / f"{layout}.png"))
    ids = [node_id for node_id, _ in drawn["dot"]["nodes"]]
    if boxes == "clusters":
        order = autodiff.topological_order(loss)
        assert len(ids) == len(order) + sum(1 for node in order if node.parents)  # a box per value, an oval per op
        assert len(drawn["dot"]["clusters"]) == 1 + 4 + 1 + 4 + 1 + 1  # each layer and each neuron
    else:
        assert sorted(i for i in ids if i.startswith("g")) == sorted(f"g{k}" for k in range(9))  # one per neuron
    assert drawn["page"] == drawn["dot"]
    steps = steps_of(loss, Drawing.of(loss, budget=budget, colour=False))
    assert {step["box"] for step in steps} <= set(ids)


def fake_dot(tmp_path, monkeypatch, script):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + script + "\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + "/bin:/usr/bin")


def test_backward_steps_passes_its_timeout_to_dot(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "sleep 5")
    with pytest.raises(TimeoutError, match="within 0.5 s.*larger timeout"):
        viz.backward_steps(expression()[2], tmp_path / "steps.html", timeout=0.5)
    assert not (tmp_path / "steps.html").exists()


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), "60", True])
def test_a_timeout_that_is_not_a_positive_number_is_refused(tmp_path, layout, timeout):
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        viz.backward_steps(expression()[2], tmp_path / "steps.html", timeout=timeout)


@pytest.mark.parametrize("script, message", [
    ("cat > /dev/null", "dot wrote no svg output"),
    ("cat > /dev/null; echo 'Warning: out of memory' >&2", "dot wrote no svg output: Warning: out of memory"),
    ("cat > /dev/null; echo 'not a drawing'", "dot gave no SVG drawing"),
    ("cat > /dev/null; echo '<svg><g'", "does not parse"),
    ("cat > /dev/null; echo '<svg><script>alert(1)</script></svg>'", "<script>"),
    ("cat > /dev/null; echo '<svg><g onload=\"alert(1)\"/></svg>'", "<g>"),
])
def test_a_dot_that_gives_no_drawing_is_reported(tmp_path, monkeypatch, script, message):
    fake_dot(tmp_path, monkeypatch, script)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        viz.backward_steps(expression()[2], tmp_path / "steps.html")
    assert not (tmp_path / "steps.html").exists()
