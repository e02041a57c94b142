"""The quiz page's template: ``backward_steps(..., quiz=True)`` fills it (see ``steps.py``).

Its placeholders are ``{{title}}`` (HTML-escaped), ``{{quiz}}`` (JSON safe inside a
script block), and ``{{graph}}``, ``{{layout}}`` and ``{{adopt}}`` as for the step-through
page: dot's checked drawing, or the DOT text and the renderer that lays it out in the
page, and the script's end that waits for the drawing. Every
text that comes from a label is set by the script with ``textContent``; the elements it
makes are its own.
"""

QUIZ_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backward pass quiz: {{title}}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
  [hidden] { display: none !important; }  /* also where a rule below sets display */
  #rules { max-width: 60em; line-height: 1.4; }
  #quiz { max-width: 60em; border: 1px solid #ccc; border-radius: 6px; padding: 0.8em 1em; margin-bottom: 1em; }
  #question { font-size: 1.2em; font-weight: bold; margin: 0.2em 0 0.4em; }
  #uses { margin: 0 0 0.6em; color: #444; }
  #answer-form { display: flex; gap: 0.6em; align-items: center; }
  #answer { font-size: 1.1em; width: 10em; padding: 0.2em 0.4em; }
  button { font-size: 1em; padding: 0.25em 0.8em; }
  #feedback { min-height: 1.4em; margin: 0.6em 0 0.4em; padding: 0.4em 0.6em; border-radius: 4px; }
  #feedback:empty { padding: 0; }
  #feedback.right { background: #e5f5e0; color: #1b7837; font-weight: bold; }
  #feedback.wrong { background: #fde0dd; color: #b2182b; font-weight: bold; }
  #feedback.revealed { background: #e8eef7; color: #2c4a7a; font-weight: bold; }
  #feedback.unread { background: #fff4d6; color: #7a5a00; }
  #chain { background: #f4f4f4; border-radius: 4px; padding: 0.6em 0.8em; margin-bottom: 0.6em; }
  #chain p { margin: 0.2em 0 0.5em; }
  #equation { font-family: Menlo, Consolas, monospace; }
  #chain table { border-collapse: collapse; }
  #chain th, #chain td { padding: 0.15em 0.7em; text-align: right; }
  #chain th { font-weight: normal; color: #555; border-bottom: 1px solid #bbb; }
  #chain td:first-child, #chain th:first-child { text-align: left; }
  #chain tr.sum td { border-top: 1px solid #bbb; font-weight: bold; }
  #score { font-weight: bold; margin: 0.4em 0 0; }
  #graph svg { max-width: 100%; height: auto; }
  .current polygon, .current ellipse, .current path { stroke: #e6550d; stroke-width: 3px; fill: #fdd0a2; }
  .uses polygon, .uses ellipse, .uses path { stroke: #3182bd; stroke-width: 2px; fill: #deebf7; }
  .done polygon, .done path { fill: #e5f5e0; }
  text.asked { fill: #e6550d; font-weight: bold; }
</style>
</head>
<body>
<h1>Backward pass quiz</h1>
<p id="rules">Every gradient is hidden but the output&rsquo;s: <span id="output-name"></span> has
gradient 1. The questions follow the engine&rsquo;s backward pass, from the output back to the
inputs: a node comes up once every node that uses it has its gradient on the graph, so its
own is the chain rule&rsquo;s sum over those nodes of their local derivative (from the data
shown) times their gradient. Right means within <span id="tolerance"></span>. Enter checks
an answer; &ldquo;reveal&rdquo; shows it, unscored.</p>
<div id="quiz">
  <p id="question"></p>
  <p id="uses"></p>
  <form id="answer-form" autocomplete="off">
    <label for="answer">gradient:</label>
    <input id="answer" type="text" inputmode="decimal" spellcheck="false" placeholder="e.g. -1.5 or 2e-3">
    <button id="check" type="submit">check</button>
    <button id="reveal" type="button">reveal</button>
  </form>
  <p id="feedback" aria-live="polite"></p>
  <div id="chain" hidden>
    <p id="chain-intro"></p>
    <p id="equation"></p>
    <table><thead><tr><th>passed back by</th><th>local derivative</th><th>&times; its gradient</th>
      <th>= share</th></tr></thead><tbody id="terms"></tbody></table>
  </div>
  <button id="continue" type="button" hidden>next question &rarr;</button>
  <p id="score"></p>
</div>
<div id="graph">{{graph}}</div>
<script type="application/json" id="quiz-data">{{quiz}}</script>{{layout}}
<script>
const quiz = JSON.parse(document.getElementById("quiz-data").textContent);
const questions = quiz.questions;
const element = id => document.getElementById(id);
const answerBox = element("answer");
const graph = element("graph");
const gradText = {};
function adopt() {  // the drawing is in the page: find its grad cells, paint the question
  graph.querySelectorAll("g.node").forEach(g => {
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("grad ")) { gradText[g.id] = t; }
    }
  });
  paint();
}
function format(x) {  // as Python's :.4g
  if (Number.isNaN(x)) { return "nan"; }
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : (x > 0 ? "inf" : "-inf");
}
function read(text) {  // the number typed, or null when it is none
  const t = text.trim().toLowerCase().replace(/^\u2212/, "-");  // a typographic minus too
  const sign = t.startsWith("-") ? -1 : 1;
  const digits = t.replace(/^[+-]/, "");
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(digits)) { return sign * Number(digits); }
  if (digits === "inf" || digits === "infinity") { return sign * Infinity; }
  return digits === "nan" ? NaN : null;
}
function isRight(guess, answer) {
  if (!Number.isFinite(answer)) { return Object.is(guess, answer); }  // inf, -inf or nan exactly
  return Math.abs(guess - answer) <= Math.max(quiz.tolerance.absolute, quiz.tolerance.relative * Math.abs(answer));
}
function setGrad(id, text) {
  if (gradText[id]) { gradText[id].textContent = "grad " + text; }
}
function mark(id, name) {
  for (const suffix of ["", "_op"]) {
    const g = element(id + suffix);
    if (g) { g.classList.add(name); }
  }
}
function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) { tr.className = className; }
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

let k = 0, answered = false;
const score = {right: 0, wrong: 0, revealed: 0};
function scoreText() {
  return score.right + " right, " + score.wrong + " wrong, " + score.revealed + " revealed";
}

function paint() {  // the graph for question k: what is known, what is asked, who uses it
  graph.querySelectorAll("g.node").forEach(g => g.classList.remove("current", "uses", "done"));
  graph.querySelectorAll("text.asked").forEach(t => t.classList.remove("asked"));
  for (const id in gradText) { setGrad(id, "?"); }
  setGrad(quiz.output, "1");
  mark(quiz.output, "done");
  const known = answered ? k + 1 : k;
  for (let i = 0; i < known; i++) {
    setGrad(questions[i].node, format(Number(questions[i].answer)));
    mark(questions[i].node, "done");
  }
  if (k === questions.length) { return; }
  const q = questions[k];
  mark(q.node, "current");
  if (gradText[q.node]) { gradText[q.node].classList.add("asked"); }
  for (const term of q.terms) { mark(term.by, "uses"); }
}

function ask(next) {
  k = next;
  answered = false;
  paint();
  element("feedback").textContent = "";
  element("feedback").className = "";
  element("chain").hidden = true;
  element("continue").hidden = true;
  if (k === questions.length) { return finish(); }
  const q = questions[k];
  const users = [];
  for (const term of q.terms) {
    const seen = users.find(u => u.id === term.by);
    if (seen) { seen.times += 1; } else { users.push({id: term.by, name: term.by_name, times: 1}); }
  }
  const named = users.map(u => u.name + (u.times > 1 ? " (as " + u.times + " of its inputs)" : ""));
  element("question").textContent = "Question " + (k + 1) + " of " + questions.length + ": what is the gradient of " + q.name + "?";
  element("uses").textContent = "It is used by " + (users.length === 1 ? "one node" : users.length + " nodes") +
    ", outlined in blue: " + named.join("; ") + ".";
  element("answer-form").hidden = element("uses").hidden = element("feedback").hidden = false;
  for (const id of ["answer", "check", "reveal"]) { element(id).disabled = false; }
  answerBox.value = "";
  answerBox.focus();
  element("score").textContent = "Score so far: " + scoreText() + ".";
}

function settle(outcome, guess) {
  const q = questions[k];
  const answer = Number(q.answer);
  answered = true;
  score[outcome] += 1;
  for (const id of ["answer", "check", "reveal"]) { element(id).disabled = true; }
  const said = {
    right: "Right! The gradient of " + q.name + " is " + format(answer) + ".",
    wrong: "Not quite: you said " + format(guess) + "; the gradient of " + q.name + " is " + format(answer) + ".",
    revealed: "Revealed, not scored: the gradient of " + q.name + " is " + format(answer) + ".",
  };
  element("feedback").textContent = said[outcome];
  element("feedback").className = outcome;
  showChain(q);
  paint();
  element("continue").textContent = k + 1 < questions.length ? "next question \u2192" : "see your score \u2192";
  element("continue").hidden = false;
  element("continue").focus();
  element("score").textContent = "Score so far: " + scoreText() + ".";
}

function showChain(q) {
  const several = q.terms.length > 1;
  element("chain-intro").textContent = "The chain rule for " + q.name + ": each node that uses it passes back its " +
    "local derivative with respect to " + q.name + " times its own gradient" +
    (several ? "; the gradient of " + q.name + " is the sum of these shares." : ", and that share is the gradient of " + q.name + ".");
  const inner = x => { const text = format(Number(x)); return text.startsWith("-") ? "(" + text + ")" : text; };
  const first = x => format(Number(x));  // a leading minus needs no brackets
  const products = q.terms.map((t, i) => (i ? inner : first)(t.local) + " \u00d7 " + inner(t.grad));
  const shares = q.terms.map((t, i) => (i ? inner : first)(t.share));
  element("equation").textContent = "gradient of " + q.name + " = " + products.join(" + ") +
    (several ? " = " + shares.join(" + ") : "") + " = " + format(Number(q.answer));
  const body = element("terms");
  body.replaceChildren();
  for (const t of q.terms) {
    body.appendChild(row([t.by_name, format(Number(t.local)), format(Number(t.grad)), format(Number(t.share))]));
  }
  if (several) { body.appendChild(row(["sum: the gradient of " + q.name, "", "", format(Number(q.answer))], "sum")); }
  element("chain").hidden = false;
}

function finish() {
  element("question").textContent = "Done: every gradient is on the graph.";
  element("uses").hidden = element("feedback").hidden = true;
  element("answer-form").hidden = true;
  element("score").textContent = "Your score: " + score.right + " of " + questions.length + " right, " +
    score.wrong + " wrong, " + score.revealed + " revealed. Reload the page to try again.";
}

element("output-name").textContent = quiz.output_name;
element("tolerance").textContent = (100 * quiz.tolerance.relative) + "% of the gradient, or within " +
  quiz.tolerance.absolute + " of it (the larger)";
element("answer-form").addEventListener("submit", event => {
  event.preventDefault();
  if (answered) { return; }
  const guess = read(answerBox.value);
  if (guess === null) {
    element("feedback").textContent = answerBox.value.trim() === "" ? "Type a number first, or press reveal." :
      "\u201c" + answerBox.value.trim() + "\u201d is not a number this page reads: type one like -1.5, 0.25 or 1e-3 (not scored).";
    element("feedback").className = "unread";
    answerBox.focus();
    return;
  }
  settle(isRight(guess, Number(questions[k].answer)) ? "right" : "wrong", guess);
});
element("reveal").onclick = () => { if (!answered) { settle("revealed"); } };
element("continue").onclick = () => ask(k + 1);
ask(0);
{{adopt}}
</script>
</body>
</html>
"""
