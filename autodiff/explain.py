"""``explain``: how the gradient of one node was computed, written out as by hand.

The chain rule along the graph, every factor named, then every local derivative as
its formula with the numbers put in, as the backprop articles write it:

    dE/dw = dE/da · da/dz · dz/dw
          = 0.3669 × 0.24552 × 0.5424 = 0.048861
    ...
    da/dz = a(1 − a) = 0.5669 × 0.4331 = 0.24552, where a = sigmoid(z)
    dz/dw = h = 0.5424, where z = w·h + v·k + b

Numbers have five significant digits (``local_derivatives.DIGITS``); the rules that
write each op's derivative live in ``local_derivatives.py``.

Names. A node is written by its label; a label ``nn`` gives a parameter
(``layers.1.neurons.0.w.0``) is written short, ``w[2,0,0]``: layer 2 (layers count from
1, the inputs being layer 0), neuron 0, input 0, as ``nn`` names the neuron's nodes
``z[2,0]`` and ``a[2,0]``. A node without a label is named u1, u2, ... in the order the
derivation meets it, a constant by its number. Two nodes with the same name (one per
sample, say) are told apart as ``a[1,0]``, ``a[1,0]#2``, ...

Order. The first equation is d output / d node along the named nodes. Where paths
meet, the derivative is the sum over the node's children, each term written the same
way, and the meeting node's own derivative gets a later equation. A factor that passes
through unnamed nodes (a hand-written loss: -, **2, +, *) gets its own equation too,
one factor per op. Only when ``steps`` equations are written does the rest fold: a
further derivative appears as the number the backward pass found, a factor through
unnamed nodes as one number with its ops listed.

Bounds. A sum shows a few terms, a product a few factors (the middle of a long chain is
one factor), a note a few op names: the text grows with ``steps``, not with the graph,
and the work is linear in the graph.

A label is data. Each form escapes it once, for what reads it: the terminal text shows
control characters as escapes, the LaTeX holds it only as literal text, the Markdown
notes hold it only as text (see ``docs/trust.md``).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field

from .arguments import bounded_int, described
from .backward import _backpropagate, local_gradients, topological_order
from .local_derivatives import local_derivative, number, positions
from .value import Value

# How much one equation writes out. Past these, the rest is summarised (a count, an
# ellipsis, one folded factor), so the text grows with ``steps``, never with the graph.
MAX_TERMS = 8  # terms of one sum, one per child of the node being derived
MAX_FACTORS = 8  # factors of one product: the middle of a longer chain becomes one factor
MAX_LISTED = 8  # op names listed in a folded factor's note
STEPS = 12  # equations written by default: a small network's derivation, loss included

# One step of a chain: (upper node, lower node, the unnamed nodes folded between them),
# and the factor of the chain rule it gives, with d upper / d lower third.
Step = tuple[Value, Value, list[Value]]
Factor = tuple[Value, Value, float, list[Value]]

# nn's name of a parameter (a model's, a layer's or a neuron's), and how it is written.
_PARAMETER = re.compile(r"(?:layers\.(\d+)\.)?(?:neurons\.(\d+)\.)?(?:w\.(\d+)|b)")


@dataclass(repr=False)
class Explanation:
    """The derivation: ``str()`` and ``repr()`` for a terminal, Markdown with LaTeX for a notebook.

    ``lines`` are the chain rule's equations, ``notes`` the local derivatives (one line
    per factor) and what was left folded, ``latex`` the equations as LaTeX. Each field is
    already safe for its reader: ``lines`` and ``notes`` show control characters as
    escapes, ``latex`` holds every label as literal text only.
    """

    lines: list[str]
    latex: list[str]
    notes: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)  # a claimed number checked (diagnosis.py)

    def __str__(self) -> str:
        text = "\n".join(self.lines + ([""] + self.notes if self.notes else []))
        return "\n\n".join([text, "\n".join(self.diagnosis)]) if self.diagnosis else text

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        equations = "\n".join(f"$$ {line} $$" for line in self.latex)
        if not self.notes and not self.diagnosis:
            return equations
        notes = "\n".join(f"- {_for_markdown(note.strip())}" for note in self.notes + self.diagnosis)
        # The notes are text: the classes tell MathJax (2 and 3) to find no math in them,
        # so a label's dollar signs stay dollar signs.
        return f'{equations}\n\n<div class="tex2jax_ignore mathjax_ignore">\n\n{notes}\n\n</div>'


def explain(
    output: Value, node: Value | None = None, *, steps: int = STEPS, claimed: float | None = None
) -> Explanation:
    """d output / d node as the textbooks derive it, with the engine's numbers.

    With ``claimed``, a number worked by hand is checked: where it differs, the likely
    mistake is named in words (``diagnosis.py``). Without ``node``, ``output``'s own
    forward value is derived from its inputs instead (and ``claimed`` checked against it).

    ``steps`` bounds how many equations are written out in full; a sum, a product and a
    list of ops are each shortened past a few items, so the text stays short however
    big the graph. Labels are shown as text, whatever they contain.

    >>> from autodiff import Value
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> z = w * x; z.label = "z"
    >>> a = z.tanh(); a.label = "a"
    >>> print(explain(a, w))
    da/dw = da/dz · dz/dw
          = 0.41997 × 2 = 0.83995
    <BLANKLINE>
    da/dz = 1 − a² = 1 − 0.76159² = 0.41997, where a = tanh(z)
    dz/dw = x = 2, where z = w * x
    """
    if node is None:
        from .diagnosis import explain_value  # diagnosis builds on this module

        return explain_value(output, claimed)
    for name, v in (("output", output), ("node", node)):
        if not isinstance(v, Value):
            raise TypeError(f"explain needs Values; {name} is {described(v)}")
    steps = bounded_int(steps, "steps", "explain", at_least=1)
    order = topological_order(output)
    if node not in set(order):
        raise ValueError("the node is not in the output's graph: the output does not depend on it")
    grads = _backpropagate(output, 1.0, create_graph=False, wrt=[node])
    children = _children_on_paths(order, grads)
    explanation = _Writer(output, grads, children, steps).derive(node)
    if claimed is not None:
        from .diagnosis import diagnose_gradient

        explanation.diagnosis = diagnose_gradient(output, node, claimed)
    return explanation


def local_of(child: Value, parent: Value) -> float:
    """d child / d parent, evaluated with the op's rule: summed where parent is used twice
    (a * a), in the order the backward pass adds the two."""
    return sum(d for p, d in zip(child.parents, local_gradients(child)) if p is parent)


def _children_on_paths(order: list[Value], grads: dict[Value, float | Value]) -> dict[Value, list[Value]]:
    """For each node with a gradient, its children that lie on a path to the output."""
    children: dict[Value, list[Value]] = {}
    for node in order:
        if node in grads:
            for parent in dict.fromkeys(node.parents):  # a * a counts a once
                if parent in grads:
                    children.setdefault(parent, []).append(node)
    return children


class _Writer:
    """Writes the equations. Names are kept raw; each form escapes them for its reader
    where it writes them: ``text`` for the terminal, ``_fraction`` for LaTeX."""

    def __init__(self, output: Value, grads: dict, children: dict, steps: int) -> None:
        self.output, self.grads, self.children, self.steps = output, grads, children, steps
        self.names: dict[Value, str] = {}
        self.used: set[str] = set()  # names given, so that no two nodes share one
        self.taken: Counter[str] = Counter()  # how many nodes were given each base name
        self._give(output, _shown_label(output) or "out")
        self.shown: set[Value] = set()  # unlabelled nodes that must be named, not folded
        self.unnamed = 0  # how many unlabelled nodes have been given a name u1, u2, ...
        self.lines: list[str] = []
        self.latex: list[str] = []
        self.notes: list[str] = []
        self.noted: set[tuple[Value, Value]] = set()
        self.middles: set[tuple[Value, Value]] = set()  # the folded middles of long chains
        self.formulas: dict[Value, str] = {}  # a node with many parents is noted once per child

    def derive(self, node: Value) -> Explanation:
        if node not in self.names:
            self._give(node, _shown_label(node) or "x")
        if node is self.output:
            return Explanation([f"{self._symbol(node, node)} = 1"], [f"{self._fraction(node, node)} = 1"])
        # Equations in the order they are needed: d output / d node first, then the
        # derivatives it leaves, a junction's or a factor through unnamed nodes.
        queue: deque[Value | Factor] = deque([node])
        written: set = set()
        while queue and len(written) < self.steps:
            item = queue.popleft()
            key = item if isinstance(item, Value) else item[:2]
            if key in written or item is self.output:
                continue
            written.add(key)
            queue += self._write(item) if isinstance(item, Value) else self._expand(*item)
        self._note_the_rest([item for item in queue if (item if isinstance(item, Value) else item[:2]) not in written])
        if _shown_label(node) != _label(node):  # a parameter nn named: its full name once
            self.notes.append(f"{self.text(node)} is the parameter {_for_terminal(_label(node))}")
        return Explanation(self.lines, self.latex, self.notes)

    def _note_the_rest(self, rest: list) -> None:
        """What the budget left unwritten: folded factors by their ops, derivatives by number."""
        for item in rest:
            if not isinstance(item, Value):
                self._note_folded(*item)
        nodes = [v for v in dict.fromkeys(i for i in rest if isinstance(i, Value)) if v is not self.output]
        if nodes:
            found = ", ".join(f"{self._symbol(self.output, v)} = {number(self.grads[v])}" for v in nodes)
            self.notes.append(f"further derivatives, as the backward pass found them: {found}")

    def _write(self, node: Value) -> list:
        """One equation for d output / d node; returns the derivatives it leaves to explain."""
        chains, untold = self._chains(node)
        terms: list[list[tuple[Value, Value]]] = []
        numbers: list[list[float]] = []
        later: list = []
        for factors in chains:
            later += self._note_factors(factors, node)
            top = factors[-1][0]
            pairs = [(upper, lower) for upper, lower, _, _ in reversed(factors)]
            values = [value for _, _, value, _ in reversed(factors)]
            if top is not self.output:  # a junction: its own derivative comes in a later line
                pairs.insert(0, (self.output, top))
                values.insert(0, self.grads[top])
                later.append(top)
            terms.append(pairs)
            numbers.append(values)
        self._equation(self.output, node, terms, numbers, untold, self.grads[node])
        return later

    def _expand(self, top: Value, lower: Value, value: float, folded: list[Value]) -> list:
        """The equation of a factor through unnamed nodes: one factor per op, each unnamed
        node named (u1, u2, ... upward from ``lower``). Returns nothing left to explain:
        the middle of a very long chain stays one factor, noted by its ops."""
        steps = _shortened([(upper, below, []) for below, upper in zip([lower, *folded], [*folded, top])])
        if len(steps) < len(folded) + 1:
            self.middles.add(steps[3][:2])
        for upper, _, _ in steps[:-1]:
            self.name(upper)
        factors = [self._factor(*step) for step in steps]
        self._note_factors(factors, lower)
        pairs = [(upper, below) for upper, below, _, _ in reversed(factors)]
        values = [value for _, _, value, _ in reversed(factors)]
        self._equation(top, lower, [pairs], [values], 0, value)
        return []

    def _note_factors(self, factors: list[Factor], node: Value) -> list[Factor]:
        """Notes for a product's factors, in the equation's order (top down); returns the
        factors through unnamed nodes, each to get its own equation. ``node`` is the one
        the equation derives: a factor from it straight to the output is a partial."""
        notes, expand = [], []
        for top, lower, value, folded in factors:
            if folded and (top, lower) in self.middles:
                notes.append(self._note_folded(top, lower, value, folded, defer=True))
            elif folded:
                expand.append((top, lower, value, folded))
            else:
                notes.append(self._note_local(top, lower, value, partial=top is self.output and lower is node))
        self.notes += [note for note in reversed(notes) if note]
        return expand[::-1]

    def _equation(self, upper: Value, node: Value, terms: list, numbers: list, untold: int, result: float) -> None:
        self.lines += self._text_equation(upper, node, terms, numbers, untold, result)
        self.latex.append(self._latex_equation(upper, node, terms, numbers, untold, result))

    def _text_equation(
        self, upper: Value, node: Value, terms: list, numbers: list, untold: int, result: float
    ) -> list[str]:
        left = self._symbol(upper, node)
        pad = " " * len(left)
        # a factor straight from node to the output is the output's own partial derivative
        products = [
            " · ".join(self._symbol(u, lo, partial=u is self.output and lo is node) for u, lo in pairs)
            for pairs in terms
        ]
        values = [_product(factors) for factors in numbers]
        if len(terms) == 1 and not untold:
            return [f"{left} = {products[0]}", f"{pad} = {values[0]} = {number(result)}"]
        symbols, sums = " + ".join(products), " + ".join(f"({v})" for v in values)
        if untold:
            symbols, sums = f"{symbols} + … ({untold} more terms)", f"{sums} + …"
        return [f"{left} = {symbols}", f"{pad} = {sums} = {number(result)}"]

    def _latex_equation(self, upper: Value, node: Value, terms: list, numbers: list, untold: int, result: float) -> str:
        products = [r" \cdot ".join(self._fraction(u, lo) for u, lo in pairs) for pairs in terms]
        values = [_product(factors, r" \times ") for factors in numbers]
        if len(terms) > 1 or untold:
            values = [f"({v})" for v in values]
        more = [r"\cdots"] if untold else []
        return (
            f"{self._fraction(upper, node)} = {' + '.join(products + more)} = "
            f"{' + '.join(values + more)} = {number(result)}"
        )

    def _chains(self, node: Value) -> tuple[list[list[Factor]], int]:
        """Per child of ``node`` (the first few), the factors from ``node`` up to the output
        or a junction; and how many children are left untold.

        Where two of these paths meet again before the output (a neuron of the next layer
        but one), each stops there: the meeting node's derivative gets its own equation.
        Unlabelled steps fold into one factor, unless folding would give two factors the
        same name (two paths through unnamed nodes to the same place): those are named.
        """
        children = self.children.get(node, [])
        told = children if len(children) <= MAX_TERMS else children[: MAX_TERMS - 1]
        while True:
            chains = _stopped_where_they_meet([self._chain(child, node) for child in told], self.output)
            # the left-hand side counts as taken: a factor folded all the way from node to
            # output would read d output / d node, the very thing being derived
            taken = Counter([(self.output, node)] + [(u, lo) for steps in chains for u, lo, _ in steps])
            clashes = [f for factors in chains for f in factors if f[2] and taken[f[0], f[1]] > 1]
            if not clashes:
                factors = []
                for steps in chains:
                    shortened = _shortened(steps)
                    if len(shortened) < len(steps):
                        self.middles.add(shortened[3][:2])
                    factors.append([self._factor(*step) for step in shortened])
                return factors, len(children) - len(told)
            self.shown.update(folded[0] for *_, folded in clashes)

    def _chain(self, child: Value, node: Value) -> list[Step]:
        """The steps from ``node`` through ``child`` up to the output or a junction."""
        factors = [self._step(child, node)]
        while factors[-1][0] is not self.output and len(self.children.get(factors[-1][0], [])) == 1:
            upper = factors[-1][0]
            factors.append(self._step(self.children[upper][0], upper))
        return factors

    def _named(self, node: Value) -> bool:
        """Whether a derivation names this node: labelled, the output, where paths meet,
        or unlabelled but needed to keep two factors apart."""
        return bool(node.label) or node is self.output or node in self.shown or len(self.children.get(node, [])) != 1

    def _step(self, child: Value, lower: Value) -> Step:
        """From ``lower`` up through ``child`` to the next named node: (that node, lower,
        the unnamed nodes folded on the way)."""
        top, folded = child, []
        while not self._named(top):
            folded.append(top)
            top = self.children[top][0]
        return top, lower, folded

    def _factor(self, top: Value, lower: Value, folded: list[Value]) -> Factor:
        """The step with its value: the product of the local derivatives along it."""
        value, below = 1.0, lower
        for upper in (*folded, top):
            value *= local_of(upper, below)
            below = upper
        return top, lower, value, folded

    def _note_local(self, top: Value, lower: Value, value: float, *, partial: bool = False) -> str | None:
        """One local derivative, the first time it appears, as a textbook writes it:
        d top / d lower = its formula = the formula with numbers = the value, where top = ..."""
        if (top, lower) in self.noted:
            return None
        self.noted.add((top, lower))
        out = self.text(top)
        parts = [local_derivative(top, k, lambda i: self.text(top.parents[i]), out) for k in positions(top, lower)]
        formula = " + ".join(symbolic for symbolic, _ in parts)
        numbers = " + ".join(numeric for _, numeric in parts)
        said = [self._symbol(top, lower, partial=partial)]
        for part in (formula, numbers, number(value)):
            if part and part.replace("−", "-") != said[-1].replace("−", "-") and not said[-1].startswith(part + ","):
                said.append(part)
        rule = "" if all(symbolic for symbolic, _ in parts) else f", by {top.op}'s rule"
        return f"{' = '.join(said)}, where {out} = {self._formula(top)}{rule}"

    def _note_folded(
        self, top: Value, lower: Value, value: float, folded: list[Value], *, defer: bool = False
    ) -> str | None:
        """A factor left folded: its value and the ops it passes through."""
        if (top, lower) in self.noted:
            return None
        self.noted.add((top, lower))
        ops_on_way = [n.op for n in folded] + [top.op]
        note = (
            f"{self._symbol(top, lower)} = {number(value)}: through {len(ops_on_way)} ops "
            f"({_listed(ops_on_way)}), the product of their local derivatives"
        )
        if not defer:
            self.notes.append(note)
        return note

    def _formula(self, node: Value) -> str:
        """The node as its op applied to its inputs' names (every input is named, in order,
        so that u1, u2, ... follow the order of the inputs even where some are elided)."""
        if node not in self.formulas:
            self.formulas[node] = self._written_formula(node, [self.text(p) for p in node.parents])
        return self.formulas[node]

    def _written_formula(self, node: Value, names: list[str]) -> str:
        if node.op in ("+", "-", "*", "/", "**", "%", "//"):
            return f" {node.op} ".join(names)
        if node.op.startswith("**"):
            return f"{names[0]}{node.op}"
        if node.op in ("w·x+b", "dot"):
            n = len(names) // 2
            if n > 3:
                return f"{names[0]}·{names[n]} + … + {names[n - 1]}·{names[2 * n - 1]}" + (
                    " + " + names[-1] if len(names) % 2 else ""
                )
            return " + ".join(f"{w}·{x}" for w, x in zip(names[:n], names[n : 2 * n])) + (
                f" + {names[-1]}" if len(names) % 2 else ""
            )
        if len(names) > 4:
            return f"{node.op}({names[0]}, …, {names[-1]})"
        return f"{node.op}({', '.join(names)})"

    def _symbol(self, upper: Value, lower: Value, *, partial: bool = False) -> str:
        """d upper / d lower (∂ for the output's own partial derivative), for the terminal."""
        d = "∂" if partial else "d"
        return f"{d}{self.text(upper)}/{d}{self.text(lower)}"

    def _fraction(self, upper: Value, lower: Value) -> str:
        """d upper / d lower in LaTeX."""
        return rf"\frac{{\partial {_for_latex(self.name(upper))}}}{{\partial {_for_latex(self.name(lower))}}}"

    def text(self, node: Value) -> str:
        """The node's name as the terminal shows it."""
        return _for_terminal(self.name(node))

    def name(self, node: Value) -> str:
        """The node's label (nn's parameter names short); a constant's number; else u1,
        u2, ... in order of mention. A name a second node already has gets #2, #3, ..."""
        if node not in self.names:
            if node.label:
                self._give(node, _shown_label(node))
            elif not node.parents:
                self.names[node] = number(node.data)  # constants may share a name: it is their value
            else:
                self.unnamed += 1
                self._give(node, f"u{self.unnamed}")
        return self.names[node]

    def _give(self, node: Value, name: str) -> None:
        """Name ``node``: ``name``, or name#2, name#3, ... where another node has it."""
        self.taken[name] += 1
        given = name if self.taken[name] == 1 else f"{name}#{self.taken[name]}"
        while given in self.used:  # a label that reads like one of these, "x#2" itself
            self.taken[name] += 1
            given = f"{name}#{self.taken[name]}"
        self.used.add(given)
        self.names[node] = given


def _label(node: Value) -> str:
    """The node's label as a plain str: one assigned after construction is not checked."""
    label = node.label or ""
    if type(label) is str:
        return label
    return str.__str__(label) if isinstance(label, str) else str(label)


def _shown_label(node: Value) -> str:
    """The label as a derivation writes it: nn's parameter names short, w[l,j,i] and
    b[l,j] (layer l counted from 1), every other label as it is.

    >>> from autodiff import Value
    >>> _shown_label(Value(0.1, label="layers.1.neurons.0.w.2")), _shown_label(Value(0.0, label="b"))
    ('w[2,0,2]', 'b')
    """
    label = _label(node)
    match = _PARAMETER.fullmatch(label)
    if match is None or label == "b":
        return label
    layer, neuron, weight = match.groups()
    where = ([str(int(layer) + 1)] if layer is not None else []) + ([neuron] if neuron is not None else [])
    if weight is not None:
        return f"w[{','.join(where + [weight])}]"
    return f"b[{','.join(where)}]"


def _stopped_where_they_meet(chains: list[list[Step]], output: Value) -> list[list[Step]]:
    """Each chain cut after the first node another chain also reaches (the output aside)."""
    reached = Counter(top for steps in chains for top, _, _ in steps)
    return [
        steps[
            : next((i + 1 for i, (top, _, _) in enumerate(steps) if top is not output and reached[top] > 1), len(steps))
        ]
        for steps in chains
    ]


def _shortened(steps: list[Step]) -> list[Step]:
    """A chain of at most MAX_FACTORS steps: the middle of a longer one becomes one step
    (named by its ends, noted with the ops inside)."""
    if len(steps) <= MAX_FACTORS:
        return steps
    head, tail = 3, MAX_FACTORS - 4
    middle = steps[head:-tail]
    folded = [n for upper, _, inside in middle[:-1] for n in (*inside, upper)] + middle[-1][2]
    return steps[:head] + [(middle[-1][0], middle[0][1], folded)] + steps[-tail:]


def _product(factors: list[float], times: str = " × ") -> str:
    """The numbers of a product, a negative one after the first in parentheses: 2 × (-1)."""
    return times.join(number(v) if i == 0 or v >= 0 else f"({number(v)})" for i, v in enumerate(factors))


def _listed(items: list[str]) -> str:
    """The items joined with commas, the middle of a long list left out with its count."""
    if len(items) <= MAX_LISTED:
        return ", ".join(items)
    return ", ".join(items[:3] + [f"… {len(items) - 5} more …"] + items[-2:])


# How LaTeX shows each character of a label that TeX or Markdown would read as markup:
# escaped, or a command that draws it. ``:`` ``.`` ``@`` are braced, which draws them
# the same, so that no "https://", "www." or e-mail address appears for a Markdown
# renderer without math to turn into a link.
_LATEX_CHARACTER = {c: "\\" + c for c in "#$%&_{}"} | {
    "\\": r"\backslash ",
    "^": r"\hat{\ }",
    "~": r"\sim ",
    "<": r"\lt ",
    ">": r"\gt ",
    "|": r"\vert ",
    "*": r"\ast ",
    "[": r"\lbrack ",
    "]": r"\rbrack ",
    "`": r"\grave{\ }",
    " ": r"\ ",
    ":": "{:}",
    ".": "{.}",
    "@": "{@}",
    "·": r"\cdot ",
}


def _for_terminal(text: str) -> str:
    r"""``text`` for a terminal: every character that is not printable (control codes such
    as ESC, carriage return and backspace, bidi overrides, line separators, lone
    surrogates) written as its Python escape, so that it shows and does nothing.

    >>> print(_for_terminal("a\x1b[2Jb\u202ec\r"))
    a\x1b[2Jb\u202ec\r
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _for_latex(text: str) -> str:
    r"""``text`` as LaTeX math that can only be literal text: ``\mathrm{...}`` of what the
    terminal shows, with every character TeX (MathJax, KaTeX) or Markdown reads as markup
    escaped, so that no command starts, no group or math closes.

    >>> print(_for_latex("w_1 $$ \\def"))
    \mathrm{w\_1\ \$\$\ \backslash def}
    """
    return r"\mathrm{" + "".join(_LATEX_CHARACTER.get(c, c) for c in _for_terminal(text)) + "}"


def _for_markdown(text: str) -> str:
    """``text`` as Markdown that can only be text: what the terminal shows (one line),
    with every character Markdown, HTML or a math finder could read as markup written as
    a numeric character reference, which Markdown shows as the character and never
    reads as markup: no HTML, link, image, emphasis, code or math can start.

    >>> _for_markdown("<b>[x](y)</b>")
    '&#60;b&#62;&#91;x&#93;(y)&#60;/b&#62;'
    """
    return "".join(f"&#{ord(c)};" if c in _MARKDOWN_MARKUP else c for c in _for_terminal(text))


# What Markdown reads as markup in the middle of a line (HTML, entities, emphasis, code,
# links and images, GFM tables and strikethrough, math delimiters), with ``.`` ``:`` ``@``
# which start the links GFM makes of bare addresses (www., https:, e-mail).
_MARKDOWN_MARKUP = frozenset("<>&\\`*_[]!~|$#.:@")
