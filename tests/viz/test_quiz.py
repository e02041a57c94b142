"""The quiz page (``backward_steps(..., quiz=True)``): its questions against the engine,
and a real browser answering right, wrong, garbage and "reveal"."""

import json
import math
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import autodiff
import viz
from autodiff import Value
from viz.steps import QUIZ_TOLERANCE, questions_of
from viz.text import visible

from .test_steps import (  # noqa: F401 (browser and layout are fixtures)
    HOSTILE_LABELS, PAGE_SHAPE, PNG, browser, every_label_at_once, layout, one_label_everywhere, open_page,
)


def expression():
    """a feeds two nodes (its gradient is a sum), x feeds one node twice, log divides."""
    a, b, x = Value(2.0, label="a"), Value(-3.0, label="b"), Value(0.5, label="x")
    out = a * b + a.tanh() + (x * x).log()
    out.label = "out"
    return a, b, x, out


def by_id(root):
    return {f"v{i}": node for i, node in enumerate(autodiff.topological_order(root))}


def test_each_answer_is_the_engines_gradient_and_comes_after_every_node_that_uses_it():
    a, b, x, out = expression()
    out.backward()
    nodes = by_id(out)
    questions = questions_of(out)
    assert [nodes[q["node"]] for q in questions] == list(reversed(autodiff.topological_order(out)))[1:]
    asked = {out}
    for q in questions:
        node = nodes[q["node"]]
        assert q["answer"] == node.grad  # the engine's own pass, to the last bit
        assert {nodes[t["by"]] for t in q["terms"]} <= asked  # every user already has its gradient
        assert math.fsum(t["share"] for t in q["terms"]) == pytest.approx(q["answer"], rel=1e-15)
        asked.add(node)
    # the leaves against closed forms: d/da = b + 1 - tanh(a)^2, d/db = a, d/dx (log x^2) = 2 / x
    answers = {nodes[q["node"]]: q["answer"] for q in questions}
    assert answers[a] == pytest.approx(-3.0 + 1 - math.tanh(2.0) ** 2, rel=1e-15)
    assert answers[b] == 2.0 and answers[x] == pytest.approx(4.0, rel=1e-15)
    (x_question,) = [q for q in questions if nodes[q["node"]] is x]
    assert [(t["local"], t["grad"]) for t in x_question["terms"]] == [(0.5, 4.0), (0.5, 4.0)]  # x * x: twice


def test_a_quiz_needs_every_node_drawn_and_something_to_ask(tmp_path):
    y = Value(0.5)
    for _ in range(40):
        y = y.tanh()
    with pytest.raises(ValueError, match="drawn summarised: pass a larger budget"):
        viz.backward_steps(y, tmp_path / "quiz.html", quiz=True, budget=10)
    with pytest.raises(ValueError, match="a lone number has no gradient"):
        viz.backward_steps(Value(1.0), tmp_path / "quiz.html", quiz=True)
    assert not (tmp_path / "quiz.html").exists()
    assert viz.backward_steps(y, tmp_path / "quiz.html", quiz=True).exists()  # within the budget: fine


def test_the_page_gives_no_gradient_away_before_it_is_asked(tmp_path, layout):
    a, b, x, out = expression()
    out.backward()  # gradients that the boxes and tooltips would otherwise show
    text = viz.backward_steps(out, tmp_path / "quiz.html", quiz=True).read_text()
    if layout == "dot":
        drawing = text[text.index("<svg"):text.index("</svg>")]
    else:  # the DOT text the page lays out
        drawing = json.loads(re.search(r'id="graph-data">(.*?)</script>', text, re.S).group(1))
    shown = re.findall(r"grad (=? ?[^<\"]*)", drawing)  # in a box: grad 2; in a tooltip: grad = 2.0
    assert sorted(shown) == ["= ?"] * 9 + ["?"] * 9  # in its box and its tooltip, for each of the 9 nodes
    assert a.grad != 0 and b.grad != 0 and x.grad != 0


def answer(browser, text):
    box = browser.find_element(By.ID, "answer")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def texts(browser, *ids):
    return [browser.find_element(By.ID, name).text for name in ids]


def chain_rows(browser):
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#terms tr")]


def test_a_learner_answers_right_wrong_garbage_and_reveals(browser, layout, tmp_path):
    a, b, x, out = expression()
    out.backward()
    nodes = by_id(out)
    questions = questions_of(out)
    asked = [nodes[q["node"]] for q in questions]
    open_page(browser, viz.backward_steps(out, tmp_path / "quiz.html", quiz=True))
    fmt = lambda number: browser.execute_script("return format(arguments[0])", number)  # noqa: E731
    assert "within 1% of the gradient, or within 0.001 of it" in browser.find_element(By.ID, "rules").text
    n = len(questions)

    # right: the engine's gradient as a learner reads it, to 4 digits, and Enter
    first = asked[0]
    assert texts(browser, "question")[0] == f"Question 1 of {n}: what is the gradient of {questions[0]['name']}?"
    answer(browser, f"{first.grad:.4g}")
    assert browser.find_element(By.ID, "feedback").get_attribute("class") == "right"
    assert texts(browser, "feedback")[0] == f"Right! The gradient of {questions[0]['name']} is {fmt(first.grad)}."
    assert browser.execute_script("return gradText[arguments[0]].textContent", questions[0]["node"]) == \
        f"grad {fmt(first.grad)}"
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # the next button has the focus

    # the rest up to a: garbage is not scored; each other question revealed, then a right one
    assert texts(browser, "question")[0].startswith(f"Question 2 of {n}:")
    answer(browser, "1,5")
    assert browser.find_element(By.ID, "feedback").get_attribute("class") == "unread"
    assert "“1,5” is not a number" in texts(browser, "feedback")[0]
    assert texts(browser, "score")[0] == "Score so far: 1 right, 0 wrong, 0 revealed."
    browser.find_element(By.ID, "reveal").click()
    assert browser.find_element(By.ID, "feedback").get_attribute("class") == "revealed"
    assert browser.find_element(By.ID, "answer").get_attribute("disabled")  # no second try
    assert texts(browser, "score")[0] == "Score so far: 1 right, 0 wrong, 1 revealed."
    k = 2
    while asked[k - 1] is not a:
        browser.find_element(By.ID, "continue").click()
        k += 1
        if asked[k - 1] is not a:
            answer(browser, f"{asked[k - 1].grad:.4g}")

    # wrong, at a: marked wrong, and the chain rule shown term by term with the sum
    assert texts(browser, "question")[0] == f"Question {k} of {n}: what is the gradient of a?"
    # in the order the engine adds the shares: tanh(a) comes later in the graph, so first back
    assert texts(browser, "uses")[0] == "It is used by 2 nodes, outlined in blue: the tanh node; the * node."
    wrong = -a.grad  # the sign a learner may drop
    answer(browser, f"{wrong:.4g}")
    assert browser.find_element(By.ID, "feedback").get_attribute("class") == "wrong"
    assert texts(browser, "feedback")[0] == f"Not quite: you said {fmt(wrong)}; the gradient of a is {fmt(a.grad)}."
    tanh_local = 1 - math.tanh(2.0) ** 2  # closed forms: d tanh(a)/da, and d(a * b)/da = b
    assert chain_rows(browser) == [
        ["the tanh node", fmt(tanh_local), "1", fmt(tanh_local)],
        ["the * node", fmt(b.data), "1", fmt(b.data)],
        ["sum: the gradient of a", "", "", fmt(a.grad)],
    ]
    assert texts(browser, "equation")[0] == (f"gradient of a = {fmt(tanh_local)} × 1 + ({fmt(b.data)}) × 1 "
                                             f"= {fmt(tanh_local)} + ({fmt(b.data)}) = {fmt(a.grad)}")
    browser.save_screenshot(str(tmp_path / "quiz-wrong.png"))
    assert (tmp_path / "quiz-wrong.png").read_bytes().startswith(PNG)

    # the rest right, then the score
    while k < n:
        browser.find_element(By.ID, "continue").click()
        k += 1
        if asked[k - 1] is x:
            assert texts(browser, "uses")[0] == "It is used by one node, outlined in blue: the * node (as 2 of its inputs)."
        answer(browser, f"{asked[k - 1].grad:.4g}")
        assert browser.find_element(By.ID, "feedback").get_attribute("class") == "right", asked[k - 1].label
    browser.find_element(By.ID, "continue").click()
    assert texts(browser, "score")[0].startswith(f"Your score: {n - 2} of {n} right, 1 wrong, 1 revealed.")
    assert not browser.find_element(By.ID, "answer-form").is_displayed()
    shown = browser.execute_script("const out = {}; for (const id in gradText) { out[id] = gradText[id].textContent; } return out")
    assert shown == {node_id: f"grad {fmt(node.grad)}" for node_id, node in nodes.items()}
    browser.save_screenshot(str(tmp_path / "quiz-end.png"))
    assert (tmp_path / "quiz-end.png").read_bytes().startswith(PNG)


def test_the_page_reads_numbers_and_marks_them_as_it_says(browser, tmp_path):
    open_page(browser, viz.backward_steps(expression()[-1], tmp_path / "quiz.html", quiz=True))
    read = lambda text: browser.execute_script("const x = read(arguments[0]); return x === null ? null : String(x)", text)  # noqa: E731
    for text, number in [("-1.5", "-1.5"), ("1e-3", "0.001"), ("0.5e0", "0.5"), (" +2 ", "2"), ("\u22123", "-3"),
                         (".5", "0.5"), ("5.", "5"), ("-2.5E+2", "-250"), ("inf", "Infinity"), ("-Infinity", "-Infinity"),
                         ("nan", "NaN")]:
        assert read(text) == number, text
    for garbage in ["", "abc", "1,5", "1e", "--1", "0x10", "1 2", "1e5e5", "½", "1-", "e3", ".", "+-1"]:
        assert read(garbage) is None, garbage
    relative, absolute = QUIZ_TOLERANCE["relative"], QUIZ_TOLERANCE["absolute"]
    right = lambda guess, answer: browser.execute_script("return isRight(arguments[0], arguments[1])", guess, answer)  # noqa: E731
    for answer in (1.0, -250.0, 0.37):
        step = relative * abs(answer)
        assert right(answer + 0.99 * step, answer) and right(answer - 0.99 * step, answer)
        assert not right(answer + 1.01 * step, answer) and not right(-answer, answer)
    assert right(0.99 * absolute, 0.0) and right(1e-5 - 0.99 * absolute, 1e-5) and not right(1.01 * absolute, 0.0)


# What a quiz page holds after its script has revealed every answer.
REVEAL_ALL = """
const seen = [];
for (let i = 0; i < questions.length; i++) {
  seen.push(document.getElementById("question").textContent + " " + document.getElementById("uses").textContent);
  document.getElementById("reveal").click();
  seen.push(document.getElementById("feedback").textContent + " " + document.getElementById("chain").textContent);
  document.getElementById("continue").click();
}
""" + PAGE_SHAPE + """
return Object.assign(shape, {
  seen: seen, score: document.getElementById("score").textContent,
  quiz: Array.from(document.querySelectorAll("#quiz *"), e => e.tagName + "#" + e.id).filter(t => !/^T[RD]#$/.test(t)),
  rows: Array.from(document.querySelectorAll("#terms *"), e => e.tagName + "#" + e.id + e.children.length),
});
"""

# The quiz box's elements, in order, rows of the chain rule's table aside.
QUIZ_ELEMENTS = ["P#question", "P#uses", "FORM#answer-form", "LABEL#", "INPUT#answer", "BUTTON#check",
                 "BUTTON#reveal", "P#feedback", "DIV#chain", "P#chain-intro", "P#equation", "TABLE#", "THEAD#",
                 "TH#", "TH#", "TH#", "TH#", "TBODY#terms", "BUTTON#continue", "P#score"]


def test_no_label_changes_the_quiz_page_in_a_real_browser(browser, layout, tmp_path):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "window.caughtAlerts = []; window.alert = m => window.caughtAlerts.push(String(m));"})
    labels = [*HOSTILE_LABELS, "{{quiz}}{{graph}}{{layout}}{{adopt}}"]  # this page's placeholders too
    for k, root in enumerate([every_label_at_once(), *map(one_label_everywhere, labels)]):
        n = len(autodiff.topological_order(root)) - 1
        open_page(browser, viz.backward_steps(root, tmp_path / f"quiz{k}.html", quiz=True))
        page = browser.execute_script(REVEAL_ALL)
        assert page["title"] == re.sub(" +", " ", f"Backward pass quiz: {visible(root.label)}").strip(), root.label
        assert not page["pwned"] and page["alerts"] == [] and page["active"] == [], root.label
        assert page["head"] == ["META", "TITLE", "STYLE"], root.label
        in_page = ["SCRIPT#graph-data", "SCRIPT#renderer"] if layout == "page" else []
        assert page["body"] == ["H1#", "P#rules", "DIV#quiz", "DIV#graph", "SCRIPT#quiz-data", *in_page, "SCRIPT#"]
        assert page["quiz"] == QUIZ_ELEMENTS and set(page["rows"]) == {"TR#4", "TD#0"}, root.label
        assert page["graph"] == ["svg"] and page["foreign"] == 0, root.label
        assert page["score"].startswith(f"Your score: 0 of {n} right, 0 wrong, {n} revealed."), root.label
        shown = " ".join(page["seen"])
        for label in HOSTILE_LABELS if k == 0 else [root.label]:
            assert visible(label) in shown, label


def test_infinite_and_nan_gradients_are_asked_and_marked(browser, tmp_path):
    inf, nan = float("inf"), float("nan")
    q, s, u = Value(2.0, label="q"), Value(1.0, label="s"), Value(1.0, label="u")
    root = Value(inf) * q + Value(nan) * s + Value(-inf) * u
    root.backward()
    nodes = by_id(root)
    position = {nodes[question["node"]]: k for k, question in enumerate(questions_of(root))}
    open_page(browser, viz.backward_steps(root, tmp_path / "quiz.html", quiz=True))
    for node, right, wrong in [(q, "inf", "-inf"), (s, "NaN", "1e308"), (u, "-Infinity", "inf")]:
        for typed, outcome in [(right, "right"), (wrong, "wrong")]:
            browser.execute_script("ask(arguments[0])", position[node])
            answer(browser, typed)
            assert browser.find_element(By.ID, "feedback").get_attribute("class") == outcome, (node.label, typed)
        assert texts(browser, "feedback")[0].endswith(f"the gradient of {node.label} is {node.grad}.")  # inf, nan, -inf
