"""``explain``: how the gradient of one node was computed, written out as by hand.

The chain rule along the graph, each local derivative named by its op and evaluated:

    dE/dw = dE/da · da/dz · dz/dw
          = 0.3669 × 0.2455 × 0.5424 = 0.04886

Where paths meet, the derivative is the sum over the node's children, each term
written the same way. Only the steps nearest the node are written out; further
derivatives appear as the number the backward pass found. A sum shows a few terms, a
product a few factors (the middle of a long chain is one factor), a note a few op
names: the text grows with ``steps``, not with the graph, and the work is linear in it.

A label is data. Each form escapes it once, for what reads it: the terminal text shows
control characters as escapes, the LaTeX holds it only as literal text, the Markdown
notes hold it only as text (see ``docs/trust.md``).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from .backward import _backpropagate, local_gradients, topological_order
from .value import Value

# How much one equation writes out. Past these, the rest is summarised (a count, an
# ellipsis, one folded factor), so the text grows with ``steps``, never with the graph.
MAX_TERMS = 8  # terms of one sum, one per child of the node being derived
MAX_FACTORS = 8  # factors of one product: the middle of a longer chain becomes one factor
MAX_LISTED = 8  # op names listed in a folded factor's note

# One step of a chain: (upper node, lower node, the unnamed nodes folded between them),
# and the factor of the chain rule it gives, with d upper / d lower third.
Step = tuple[Value, Value, list[Value]]
Factor = tuple[Value, Value, float, list[Value]]


@dataclass(repr=False)
class Explanation:
    """The derivation: ``str()`` and ``repr()`` for a terminal, Markdown with LaTeX for a notebook.

    Each field is already safe for its reader: ``lines`` and ``notes`` show control
    characters as escapes, ``latex`` holds every label as literal text only.
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


def explain(output: Value, node: Value | None = None, *, steps: int = 6, claimed: float | None = None) -> Explanation:
    """d output / d node as the textbooks derive it, with the engine's numbers.

    With ``claimed``, a number worked by hand is checked: where it differs, the likely
    mistake is named in words (``diagnosis.py``). Without ``node``, ``output``'s own
    forward value is derived from its inputs instead (and ``claimed`` checked against it).

    ``steps`` bounds how many derivatives are written out in full; a sum, a product and
    a list of ops are each shortened past a few items, so the text stays short however
    big the graph. Labels are shown as text, whatever they contain.

    >>> from autodiff import Value
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> z = w * x; z.label = "z"
    >>> a = z.tanh(); a.label = "a"
    >>> print(explain(a, w))
    da/dw = da/dz · dz/dw
          = 0.42 × 2 = 0.8399
    <BLANKLINE>
    da/dz = 0.42: a = tanh(z), derivative 1 − a²
    dz/dw = 2: z = w * x, derivative the other factor
    """
    if node is None:
        from .diagnosis import explain_value  # diagnosis builds on this module

        return explain_value(output, claimed)
    for name, v in (("output", output), ("node", node)):
        if not isinstance(v, Value):
            raise TypeError(f"explain needs Values; {name} is a {type(v).__name__}")
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


def _children_on_paths(order: list[Value], grads: dict[Value, float]) -> dict[Value, list[Value]]:
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
        self.names: dict[Value, str] = {output: _label(output) or "out"}
        self.shown: set[Value] = set()  # unlabelled nodes that must be named, not folded
        self.unnamed = 0  # how many unlabelled nodes have been given a name u1, u2, ...
        self.lines: list[str] = []
        self.latex: list[str] = []
        self.notes: list[str] = []
        self.noted: set[tuple[Value, Value]] = set()
        self.formulas: dict[Value, str] = {}  # a node with many parents is noted once per child

    def derive(self, node: Value) -> Explanation:
        self.names.setdefault(node, _label(node) or "x")
        if node is self.output:
            return Explanation([f"{self._symbol(node, node)} = 1"], [f"{self._fraction(node, node)} = 1"])
        queue, written = deque([node]), set()
        while queue and len(written) < self.steps:
            current = queue.popleft()
            if current in written or current is self.output:
                continue
            written.add(current)
            queue += self._write(current)
        rest = [v for v in dict.fromkeys(queue) if v not in written and v is not self.output]
        if rest:
            found = ", ".join(f"{self._symbol(self.output, v)} = {_number(self.grads[v])}" for v in rest)
            self.notes.append(f"further derivatives, as the backward pass found them: {found}")
        return Explanation(self.lines, self.latex, self.notes)

    def _write(self, node: Value) -> list[Value]:
        """One equation for d output / d node; returns the derivatives it leaves to explain."""
        chains, untold = self._chains(node)
        terms: list[list[tuple[Value, Value]]] = []
        numbers: list[list[float]] = []
        later: list[Value] = []
        for factors in chains:
            notes = [self._note(*factor) for factor in factors]
            self.notes += [note for note in reversed(notes) if note]  # in the equation's order
            top = factors[-1][0]
            pairs = [(upper, lower) for upper, lower, _, _ in reversed(factors)]
            values = [value for _, _, value, _ in reversed(factors)]
            if top is not self.output:  # a junction: its own derivative comes in a later line
                pairs.insert(0, (self.output, top))
                values.insert(0, self.grads[top])
                later.append(top)
            terms.append(pairs)
            numbers.append(values)
        self.lines += self._text_equation(node, terms, numbers, untold)
        self.latex.append(self._latex_equation(node, terms, numbers, untold))
        return later

    def _text_equation(self, node: Value, terms: list, numbers: list, untold: int) -> list[str]:
        left = self._symbol(self.output, node)
        pad = " " * len(left)
        # a factor straight from node to the output is the output's own partial derivative
        products = [" · ".join(self._symbol(u, lo, partial=u is self.output and lo is node) for u, lo in pairs)
                    for pairs in terms]
        values = [" × ".join(_number(v) for v in factors) for factors in numbers]
        result = _number(self.grads[node])
        if len(terms) == 1 and not untold:
            return [f"{left} = {products[0]}", f"{pad} = {values[0]} = {result}"]
        symbols, values = " + ".join(products), " + ".join(f"({v})" for v in values)
        if untold:
            symbols, values = f"{symbols} + … ({untold} more terms)", f"{values} + …"
        return [f"{left} = {symbols}", f"{pad} = {values} = {result}"]

    def _latex_equation(self, node: Value, terms: list, numbers: list, untold: int) -> str:
        products = [r" \cdot ".join(self._fraction(u, lo) for u, lo in pairs) for pairs in terms]
        values = [r" \times ".join(_number(v) for v in factors) for factors in numbers]
        if len(terms) > 1 or untold:
            values = [f"({v})" for v in values]
        more = [r"\cdots"] if untold else []
        return (f"{self._fraction(self.output, node)} = {' + '.join(products + more)} = "
                f"{' + '.join(values + more)} = {_number(self.grads[node])}")

    def _chains(self, node: Value) -> tuple[list[list[Factor]], int]:
        """Per child of ``node`` (the first few), the factors from ``node`` up to the output
        or a junction; and how many children are left untold.

        Unlabelled steps fold into one factor, unless folding would give two factors the
        same name (two paths through unnamed nodes to the same place): those are named.
        """
        children = self.children.get(node, [])
        told = children if len(children) <= MAX_TERMS else children[:MAX_TERMS - 1]
        while True:
            chains = [self._chain(child, node) for child in told]
            # the left-hand side counts as taken: a factor folded all the way from node to
            # output would read d output / d node, the very thing being derived
            taken = Counter([(self.output, node)] + [(u, lo) for steps in chains for u, lo, _ in steps])
            clashes = [f for factors in chains for f in factors if f[2] and taken[f[0], f[1]] > 1]
            if not clashes:
                factors = [[self._factor(*step) for step in _shortened(steps)] for steps in chains]
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
        return (bool(node.label) or node is self.output or node in self.shown
                or len(self.children.get(node, [])) != 1)

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
            value *= self._local(upper, below)
            below = upper
        return top, lower, value, folded

    def _note(self, top: Value, lower: Value, value: float, folded: list[Value]) -> str | None:
        """What a factor is, the first time it appears: its op and derivative, or the ops
        folded into it."""
        if (top, lower) in self.noted:
            return None
        self.noted.add((top, lower))
        factor = f"{self._symbol(top, lower)} = {_number(value)}: "
        if not folded:
            name = self.text(top)
            return factor + (f"{name} = {self._formula(top)}, derivative "
                             f"{_derivative_text(top, name, [self.text(p) for p in top.parents[:1]])}")
        ops_on_way = [n.op for n in folded] + [top.op]
        return factor + f"through {len(ops_on_way)} ops ({_listed(ops_on_way)}), the product of their local derivatives"

    def _local(self, child: Value, parent: Value) -> float:
        """d child / d parent, evaluated with the op's rule (summed where parent is used twice)."""
        return sum(d for p, d in zip(child.parents, local_gradients(child)) if p is parent)

    def _formula(self, node: Value) -> str:
        """The node as its op applied to its inputs' names (every input is named, in order,
        so that u1, u2, ... follow the order of the inputs even where some are elided)."""
        if node not in self.formulas:
            self.formulas[node] = self._written_formula(node, [self.text(p) for p in node.parents])
        return self.formulas[node]

    def _written_formula(self, node: Value, names: list[str]) -> str:
        if node.op in ("+", "-", "*", "/", "**"):
            return f" {node.op} ".join(names)
        if node.op.startswith("**"):
            return f"{names[0]}{node.op}"
        if node.op in ("w·x+b", "dot"):
            n = len(names) // 2
            if n > 3:
                return f"{names[0]}·{names[n]} + … + {names[n - 1]}·{names[2 * n - 1]}" + (" + " + names[-1] if len(names) % 2 else "")
            return " + ".join(f"{w}·{x}" for w, x in zip(names[:n], names[n:2 * n])) + (f" + {names[-1]}" if len(names) % 2 else "")
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
        """The node's label; a constant's number; else u1, u2, ... in order of mention."""
        if node not in self.names:
            if node.label:
                self.names[node] = _label(node)
            elif not node.parents:
                self.names[node] = _number(node.data)
            else:
                self.unnamed += 1
                self.names[node] = f"u{self.unnamed}"
        return self.names[node]


def _label(node: Value) -> str:
    """The node's label as a plain str: one assigned after construction is not checked."""
    label = node.label or ""
    if type(label) is str:
        return label
    return str.__str__(label) if isinstance(label, str) else str(label)


def _shortened(steps: list[Step]) -> list[Step]:
    """A chain of at most MAX_FACTORS steps: the middle of a longer one becomes one step
    (named by its ends, noted with the ops inside)."""
    if len(steps) <= MAX_FACTORS:
        return steps
    head, tail = 3, MAX_FACTORS - 4
    middle = steps[head:-tail]
    folded = [n for upper, _, inside in middle[:-1] for n in (*inside, upper)] + middle[-1][2]
    return steps[:head] + [(middle[-1][0], middle[0][1], folded)] + steps[-tail:]


def _listed(items: list[str]) -> str:
    """The items joined with commas, the middle of a long list left out with its count."""
    if len(items) <= MAX_LISTED:
        return ", ".join(items)
    return ", ".join(items[:3] + [f"… {len(items) - 5} more …"] + items[-2:])


def _derivative_text(node: Value, name: str, inputs: list[str]) -> str:
    """The op's derivative in words, with the node's own names put in."""
    x = inputs[0] if inputs else "x"
    if node.op.startswith("**") and node.op != "**":  # a constant exponent, as in **2
        k = float(node.op[2:])
        return f"2·{x}" if k == 2 else f"{k:g}·{x}^{k - 1:g}"
    return DERIVATIVES.get(node.op, "by its rule").format(out=name, x=x)


# The derivative of each op in words, for the notes under a derivation ({out}: the
# node's name, {x}: its first input's).
DERIVATIVES = {
    "+": "1", "-": "1 for the first term, −1 for the second", "*": "the other factor",
    "/": "1/b for a, −a/b² for b", "neg": "−1", "exp": "{out} itself", "log": "1/{x}",
    "sqrt": "1/(2·{out})", "sin": "cos {x}", "cos": "−sin {x}", "tanh": "1 − {out}²",
    "sigmoid": "{out}(1 − {out})", "softplus": "sigmoid({x})", "log_sigmoid": "1 − sigmoid({x})",
    "relu": "1 where {x} > 0, else 0", "abs": "sign({x})", "id": "1", "sum": "1 for every term",
    "dot": "x_i for w_i and w_i for x_i", "w·x+b": "the input x_i for w_i, w_i for x_i, 1 for b",
    "logsumexp": "softmax of the inputs", "bce": "(p − t)/(p(1 − p)) for p",
    "**": "b·a^(b − 1) for the base a, a^b·log a for the exponent b",
}


def _number(x: float) -> str:
    return f"{x:.4g}"


# How LaTeX shows each character of a label that TeX or Markdown would read as markup:
# escaped, or a command that draws it. ``:`` ``.`` ``@`` are braced, which draws them
# the same, so that no "https://", "www." or e-mail address appears for a Markdown
# renderer without math to turn into a link.
_LATEX_CHARACTER = {c: "\\" + c for c in "#$%&_{}"} | {
    "\\": r"\backslash ", "^": r"\hat{\ }", "~": r"\sim ", "<": r"\lt ", ">": r"\gt ",
    "|": r"\vert ", "*": r"\ast ", "[": r"\lbrack ", "]": r"\rbrack ", "`": r"\grave{\ }",
    " ": r"\ ", ":": "{:}", ".": "{.}", "@": "{@}", "·": r"\cdot ",
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
