"""A derivation's numbers as an expression: built from the graph as a learner works them
by hand, evaluated again with some parts changed, and written out (terminal or LaTeX).

A forward value is its op applied to its inputs (a neuron's w·x + b a sum of products,
unlabelled inputs written out in turn, as (0.8 − y)²). A gradient is the chain rule's
sum over paths of products of local derivatives, common factors outside the sum, the
output first:

    dE/dw = (dE/da2 · da2/dz2 · dz2/da1 + dE/da3 · da3/dz3 · dz3/da1) · da1/dz1 · dz1/dw

Unlabelled steps fold into one factor, except at an activation and its input, so that
each activation's derivative stays a factor of its own. Past MAX_LEAVES numbers, a
junction's derivative is one number, as the backward pass found it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import ops
from .backward import topological_order
from .explain import _children_on_paths, _for_latex, _for_terminal, _shown_label, local_of
from .local_derivatives import number
from .value import Value

MAX_LEAVES = 64  # numbers in one expression; past it, a junction's derivative is one number
ACTIVATIONS = ("sigmoid", "tanh", "relu", "id", "exp")  # each with a derivative a learner writes


@dataclass(frozen=True, eq=False)
class Leaf:
    """One number of an expression: the value of ``node`` or, with ``lower``, the
    derivative d node / d lower (``folded``: through unnamed nodes between them)."""

    value: float
    node: Value
    lower: Value | None = None
    folded: bool = False


@dataclass(frozen=True, eq=False)
class Sum:
    items: tuple


@dataclass(frozen=True, eq=False)
class Product:
    items: tuple


@dataclass(frozen=True, eq=False)
class Apply:
    """``node``'s op applied to ``items`` (an op with no sum or product form)."""

    node: Value
    items: tuple


Expr = Leaf | Sum | Product | Apply
Path = tuple[int, ...]


def forward_expression(node: Value, budget: list[int] | None = None) -> Expr:
    """``node`` as its op applied to its inputs: a neuron, a dot or a sum as a sum of
    products, a product as one, anything else as the op applied. An unlabelled input
    computed from others is written out the same way (up to MAX_LEAVES numbers), as
    (0.8 − y)² is written rather than named.

    >>> y = Value(0.75, label="y")
    >>> expr = forward_expression((0.8 - y) ** 2)
    >>> text_of(expr, Names()), numbers_of(expr, {})
    ('(0.8 − y)²', '(0.8 − 0.75)²')
    """
    budget = [MAX_LEAVES] if budget is None else budget
    budget[0] -= len(node.parents)
    items = tuple(
        forward_expression(p, budget) if p.parents and not p.label and budget[0] > 0 else Leaf(p.data, p)
        for p in node.parents
    )
    op = node.op
    if op in ("w·x+b", "dot"):
        n = len(items) // 2
        terms = tuple(Product((w, x)) for w, x in zip(items[:n], items[n : 2 * n]))
        return Sum(terms + items[2 * n :])
    if op in ("+", "sum"):
        return Sum(tuple(t for item in items for t in (item.items if isinstance(item, Sum) else (item,))))
    if op == "*":
        return _product(list(items))
    return Apply(node, items)


class GradientBuilder:
    """d output / d node as an expression: from ``node`` up, each step a local
    derivative; unnamed nodes with one child folded into the step through them; where a
    node has several children, a sum over them.

    >>> from autodiff import gradients
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> z = w * x; z.label = "z"
    >>> a = z.tanh(); a.label = "a"
    >>> out = a * a + a; out.label = "out"
    >>> nodes = topological_order(out)  # d out / d node for every node of the graph
    >>> expr = GradientBuilder(out, dict(zip(nodes, gradients(out, nodes)))).build(w)
    >>> text_of(expr, Names())
    '(dout/d⟨* 1⟩ · d⟨* 1⟩/da + dout/da) · da/dz · dz/dw'
    """

    def __init__(self, output: Value, grads: dict) -> None:
        self.output, self.grads = output, grads
        self.children = _children_on_paths(topological_order(output), grads)
        self.shown: set[Value] = set()
        self.leaves = 0

    def build(self, node: Value) -> Expr:
        if node is self.output:
            return Leaf(1.0, node, node)
        expr = self._derivative(node)
        while isinstance(expr, Leaf) and expr.folded:  # one factor, d output / d node itself:
            self.shown.add(self.children[node][0])  # name the first step, so it says something
            self.leaves = 0
            expr = self._derivative(node)
        return expr

    def _derivative(self, node: Value) -> Expr:
        """d output / d node, output first as a learner writes it."""
        factors: list[Expr] = []
        while node is not self.output:
            children = self.children[node]
            if len(children) == 1 or self.leaves >= MAX_LEAVES:
                if len(children) > 1:  # the budget is spent: the backward pass's number
                    factors.append(Leaf(self.grads[node], self.output, node, folded=True))
                    break
                top, leaf = self._step(children[0], node)
                factors.append(leaf)
                node = top
                continue
            steps = self._steps(children, node)
            factors.append(Sum(tuple(self._through(top, leaf) for top, leaf in steps)))
            break
        return _product(factors[::-1])

    def _through(self, top: Value, leaf: Leaf) -> Expr:
        if top is self.output:
            return leaf
        return _product([self._derivative(top), leaf])

    def _steps(self, children: list[Value], node: Value) -> list[tuple[Value, Leaf]]:
        """One step per child; folds that would give two the same name are not folded."""
        while True:
            steps = [self._step(child, node) for child in children]
            tops = [top for top, _ in steps]
            clashes = [child for child, top in zip(children, tops) if tops.count(top) > 1 and child is not top]
            if not clashes:
                return steps
            self.shown.update(clashes)

    def _step(self, child: Value, lower: Value) -> tuple[Value, Leaf]:
        """From ``lower`` through ``child`` up to the next named node, as one leaf."""
        value, below, top, folded = local_of(child, lower), child, child, False
        while not self._named(top):
            top = self.children[top][0]
            value *= local_of(top, below)
            below, folded = top, True
        self.leaves += 1
        return top, Leaf(value, top, lower, folded)

    def _named(self, node: Value) -> bool:
        """Whether a factor stops at ``node``: labelled, the output, where paths part, or
        an activation or its input (so that its derivative is a factor of its own)."""
        children = self.children.get(node, [])
        return (
            bool(node.label)
            or node is self.output
            or node in self.shown
            or len(children) != 1
            or node.op in ACTIVATIONS
            or children[0].op in ACTIVATIONS
        )


def _product(factors: list[Expr]) -> Expr:
    """The factors as one product, nested products flattened."""
    flat = [f for factor in factors for f in (factor.items if isinstance(factor, Product) else (factor,))]
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


# --- evaluating and writing -----------------------------------------------------------------------


class Values:
    """The value of every part of an expression, kept, so that the expression with a
    few parts changed is worked out again only along the paths above the changes."""

    def __init__(self, expr: Expr) -> None:
        self.expr = expr
        self.original: dict[Path, float] = {}
        self.original[()] = self._value(expr, (), {}, None)

    def at(self, path: Path) -> float:
        return self.original[path]

    def changed(self, changes: dict[Path, float | None]) -> float:
        """The value with subtrees replaced by numbers (None: left out of its sum or product)."""
        above = {p[:k] for p in changes for k in range(len(p))}
        return self._value(self.expr, (), changes, above)

    def _value(self, expr: Expr, path: Path, changes: dict, above: set | None) -> float:
        if path in changes:
            changed = changes[path]
            return 0.0 if changed is None else changed  # a left-out factor is skipped below
        if above is not None and path not in above:
            return self.original[path]
        if isinstance(expr, Leaf):
            value = expr.value
        else:
            kept = [(i, self._value(item, path + (i,), changes, above)) for i, item in enumerate(expr.items)]
            if isinstance(expr, Sum):
                value = math.fsum(v for _, v in kept)
            elif isinstance(expr, Product):
                value = math.prod(v for i, v in kept if changes.get(path + (i,), 0.0) is not None)
            else:
                value = _apply(expr.node._op, [v for _, v in kept])
        if above is None:
            self.original[path] = value
        return value


def _apply(op: ops.Op, values: list[float]) -> float:
    try:
        return float(op.forward(values) if op.arity is None else op.forward(*values))
    except (ArithmeticError, ValueError):
        return math.nan


def text_of(expr: Expr, names: Names) -> str:
    """The expression in names, for a terminal."""
    return _render(expr, names.leaf, {}, (), times=" · ", latex=False)


def latex_of(expr: Expr, names: Names) -> str:
    """The expression in names, as LaTeX that holds every label as literal text."""

    def leaf(leaf: Leaf) -> str:
        if leaf.lower is None:
            return _for_latex(names.raw(leaf.node))
        return rf"\frac{{\partial {_for_latex(names.raw(leaf.node))}}}{{\partial {_for_latex(names.raw(leaf.lower))}}}"

    return _render(expr, leaf, {}, (), times=r" \cdot ", latex=True)


def numbers_of(expr: Expr, changes: dict, *, sign: float = 1.0, latex: bool = False, texts: dict | None = None) -> str:
    """The expression in numbers, with ``changes`` made: a left-out item is not written,
    a changed part as ``texts`` writes it, else as its number."""
    text = _render(
        expr,
        lambda leaf: _signed(leaf.value),
        changes,
        (),
        times=r" \times " if latex else " × ",
        latex=latex,
        texts=texts or {},
    )
    return f"−({text})" if sign < 0 else text


def _signed(x: float) -> str:
    """A number inside an expression: a negative one in parentheses, 0.5 × (-2)."""
    return number(x) if not x < 0 else f"({number(x)})"


def _render(expr: Expr, leaf, changes: dict, path: Path, *, times: str, latex: bool, texts: dict | None = None) -> str:
    """The expression written out: each leaf by ``leaf``, a changed part as ``texts``
    writes it or as its number, a left-out item not at all."""
    texts = texts or {}
    if path in texts:
        return texts[path]
    if path in changes:
        return _signed(changes[path])
    if isinstance(expr, Leaf):
        return leaf(expr)
    kept = [(i, item) for i, item in enumerate(expr.items) if changes.get(path + (i,), 0.0) is not None]
    items = [
        (_render(item, leaf, changes, path + (i,), times=times, latex=latex, texts=texts), item) for i, item in kept
    ]
    if isinstance(expr, Sum):
        return " + ".join(t for t, _ in items) or "0"
    if isinstance(expr, Product):
        if not latex and times == " · " and all(isinstance(i, Leaf) and i.lower is None for _, i in kept):
            times = "·"  # w·x, as a neuron's sum is written; a chain of derivatives spaced out
        return times.join(_parenthesised(t, latex) if isinstance(i, Sum) else t for t, i in items) or "1"
    return _applied(expr.node.op, items, latex)


def _is_operator(op: str) -> bool:
    """Whether the op is written between or around its operands (a − b, x²), not as f(x)."""
    return op in ("-", "/", "**", "neg", "%", "//") or op.startswith("**")


_MOD_SYMBOL = {False: "%", True: r"\bmod"}


def _parenthesised(text: str, latex: bool) -> str:
    return rf"\left({text}\right)" if latex else f"({text})"


def _applied(op: str, items: list[tuple[str, Expr]], latex: bool) -> str:
    """The op applied to its (already written) inputs, as it is written by hand: an
    operator's compound operands in parentheses, a function's arguments as they are."""
    if not _is_operator(op):
        args = ", ".join(t for t, _ in items)
        return rf"{_for_latex(op)}\left({args}\right)" if latex else f"{op}({args})"
    texts = [
        t if isinstance(e, Leaf) or (isinstance(e, Apply) and not _is_operator(e.node.op)) else _parenthesised(t, latex)
        for t, e in items
    ]
    if op in ("-", "/") and len(texts) == 2:
        return f"{texts[0]} {'−' if op == '-' and not latex else op} {texts[1]}"
    if op == "%" and len(texts) == 2:
        return f"{texts[0]} {_MOD_SYMBOL[latex]} {texts[1]}"
    if op == "//" and len(texts) == 2:
        return rf"\left\lfloor {texts[0]} / {texts[1]} \right\rfloor" if latex else f"{texts[0]} // {texts[1]}"
    if op.startswith("**") and len(texts) == 1:
        power = op[2:]
        if latex:
            return f"{texts[0]}^{{{power}}}"
        return texts[0] + ("²" if power == "2" else f"^{power}")
    if op == "**" and len(texts) == 2:
        return f"{texts[0]}^{{{texts[1]}}}" if latex else f"{texts[0]}^{texts[1]}"
    return f"-{texts[0]}" if latex else f"−{texts[0]}"  # neg


class Names:
    """Each node's name: its label as ``explain`` shows it (nn's parameters short, as
    w[1,0,0]); a leaf's number; else its op and a count (⟨tanh 1⟩)."""

    def __init__(self) -> None:
        self.names: dict[Value, str] = {}
        self.unnamed = 0

    def raw(self, node: Value) -> str:
        if node not in self.names:
            self.names[node] = _shown_label(node) or (number(node.data) if not node.parents else self._fallback(node))
        return self.names[node]

    def _fallback(self, node: Value) -> str:
        self.unnamed += 1
        return f"⟨{node.op} {self.unnamed}⟩"

    def text(self, node: Value) -> str:
        return _for_terminal(self.raw(node))

    def leaf(self, leaf: Leaf) -> str:
        if leaf.lower is None:
            return self.text(leaf.node)
        return f"d{self.text(leaf.node)}/d{self.text(leaf.lower)}"


def walk(expr: Expr, path: Path = (), parent: Expr | None = None):
    """Every subtree with its path and its parent, top first."""
    yield path, expr, parent
    if not isinstance(expr, Leaf):
        for i, item in enumerate(expr.items):
            yield from walk(item, path + (i,), expr)


def nodes_of(expr: Expr) -> list[Value]:
    return [n for _, e, _ in walk(expr) if isinstance(e, Leaf) for n in (e.node, e.lower) if n is not None]
