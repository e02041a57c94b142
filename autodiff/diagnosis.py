"""Diagnosis: the likely mistake behind a learner's hand-worked number.

The number is rebuilt from the graph as an expression, as it is worked by hand
(``derivation.py``): a forward value as its op applied to its inputs, a gradient as the
chain rule's sum over paths of products of local derivatives. A claimed number the
expression does not give is tried against the same expression after one of the
mistakes learners make: a number replaced by another of the graph of the same kind (an
activation for the input a weight multiplies), a term (a path of the sum) left out, a
sign flipped, the wrong activation's derivative, a factor forgotten or counted twice,
two numbers swapped, the wrong op. Then after two of them, where the claim has digits
enough that a pair matching by chance is unlikely. The most plausible that give the
claimed number (fewest mistakes, numbers mixed up that sit nearest in the graph, the
closest) are said in words; when none does, the right derivation is shown.

Claimed numbers are rounded by hand, so a match allows one unit in the last digit given
(at most 5 %, at least 1 %). Every bound (leaves of an expression, numbers tried as
substitutes, pairs) keeps the search small whatever the graph: about a second at most.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from . import ops
from .backward import _backpropagate, topological_order
from .derivation import (
    ACTIVATIONS,
    Apply,
    Expr,
    GradientBuilder,
    Leaf,
    Names,
    Path,
    Product,
    Sum,
    Values,
    forward_expression,
    latex_of,
    nodes_of,
    number,
    numbers_of,
    text_of,
    walk,
)
from .explain import Explanation, _for_latex
from .value import Value

MAX_POOL = 60  # numbers of the graph tried as substitutes, the nearest first
MAX_DISTANCE = 8  # hops between nodes counted before a number counts as far
MAX_SHOWN = 3  # hypotheses written out: the best and two others
MAX_PAIRED = 200  # single mistakes combined two at a time: at most 20,000 pairs
MAX_CHANCE_MATCHES = 5  # pairs × relative tolerance: roughly the pairs that match by chance
MAX_COST = 2.0  # the least plausible single mistake tried (a substitution 3 hops away)


@dataclass
class Mistake:
    """A change of the expression, in words: subtrees replaced by numbers (None: left
    out), the result's sign flipped, and how plausible it is (lower: more)."""

    words: str
    changes: dict[Path, float | None]
    sign: float = 1.0
    cost: float = 1.0
    substitutes: bool = False  # a number replaced by another from the graph
    count: int = 1
    texts: dict[Path, str] = field(default_factory=dict)  # how a changed part is written

    def joined(self, other: Mistake) -> Mistake | None:
        """Both mistakes made together, or None where they touch the same part."""
        if self.sign < 0 and other.sign < 0:
            return None
        if any(p[: len(q)] == q or q[: len(p)] == p for p in self.changes for q in other.changes):
            return None
        return Mistake(
            f"{self.words}, and {other.words}",
            self.changes | other.changes,
            self.sign * other.sign,
            self.cost + other.cost,
            count=2,
            texts=self.texts | other.texts,
        )


# --- the public entry points -------------------------------------------------------------------


def explain_value(node: Value, claimed: float | None = None) -> Explanation:
    """How ``node``'s forward value is computed from its inputs, with the numbers; with
    ``claimed``, whether that number is right and, if not, the likely mistake.

    >>> from autodiff import Value, dot
    >>> w, x, b = Value(0.5, label="w"), Value(0.4, label="x"), Value(0.3, label="b")
    >>> z = dot([w], [x], b); z.label = "z"
    >>> print(explain_value(z, claimed=0.2))
    z = w·x + b
      = 0.5 × 0.4 + 0.3 = 0.5
    <BLANKLINE>
    Your z = 0.2; the engine finds 0.5. The likely mistake: you left out the term b = 0.3.
      With it: 0.5 × 0.4 = 0.2, which matches your 0.2 (within ±0.01, 5 %).
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain needs a Value; node is a {type(node).__name__}")
    claimed = checked_claim(claimed)
    names = Names()
    name = names.text(node)
    if not node.parents:
        lines = [f"{name} = {number(node.data)}: a leaf, its value is given, not computed"]
        latex = [f"{_for_latex(names.raw(node))} = {number(node.data)}"]
        found = [] if claimed is None else _verdict(name, node.data, claimed, None, names, None, derivation_above=True)
        return Explanation(lines, latex, diagnosis=found)
    expr = forward_expression(node)
    lines = [f"{name} = {text_of(expr, names)}", f"{' ' * len(name)} = {numbers_of(expr, {})} = {number(node.data)}"]
    latex = [
        f"{_for_latex(names.raw(node))} = {latex_of(expr, names)} = "
        f"{numbers_of(expr, {}, latex=True)} = {number(node.data)}"
    ]
    found = (
        [] if claimed is None else _verdict(name, node.data, claimed, expr, names, _Graph(node), derivation_above=True)
    )
    return Explanation(lines, latex, diagnosis=found)


def diagnose_gradient(output: Value, node: Value, claimed: float) -> list[str]:
    """Whether ``claimed`` is d output / d node and, if not, the likely mistake, in a few
    lines of terminal text (labels escaped).

    >>> from autodiff import Value
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> z = w * x; z.label = "z"
    >>> a = z.sigmoid(); a.label = "a"
    >>> print("\\n".join(diagnose_gradient(a, w, 0.93)))
    Your da/dw = 0.93; the engine finds 0.39322. The likely mistake: for da/dz you used 1 − a² = 0.46555 (tanh's derivative), where sigmoid's derivative is a(1 − a) = 0.19661.
      With it: 0.46555 × 2 = 0.93111, which matches your 0.93 (within ±0.01, one unit in your last digit).
    """
    checked = checked_claim(claimed)
    if checked is None:
        raise TypeError("claimed must be a number, got None")
    names = Names()
    grads = _backpropagate(output, 1.0, create_graph=False, wrt=[node])
    expr = GradientBuilder(output, grads).build(node)
    symbol = f"d{names.text(output)}/d{names.text(node)}"
    return _verdict(symbol, float(grads[node]), checked, expr, names, _Graph(output))


def checked_claim(claimed: object) -> float | None:
    """``claimed`` as a float: a real number, finite; None stays None.

    >>> checked_claim(0.0034), checked_claim(None)
    (0.0034, None)
    """
    if claimed is None:
        return None
    if isinstance(claimed, bool) or not isinstance(claimed, numbers.Real):
        raise TypeError(f"claimed must be a number, got a {type(claimed).__name__}")
    value = float(claimed)
    if not math.isfinite(value):
        raise ValueError(f"claimed must be a finite number, got {value!r}")
    return value


ZERO_TOLERANCE = 1e-12  # how far from a claimed 0 a number still matches


def tolerance(claimed: float) -> tuple[float, str]:
    """How far from ``claimed`` a number still matches, and why: one unit in the last
    digit given (a hand-worked number is rounded, its intermediate steps too), at most
    5 % and at least 1 % of the number.

    >>> tolerance(0.0034)
    (0.0001, 'one unit in your last digit')
    >>> tolerance(0.30000000000000004)[1]
    '1 %'
    >>> tolerance(0.0)[0]
    1e-12
    """
    if claimed == 0:  # 0 has no last digit to read a rounding from: only a zero matches
        return ZERO_TOLERANCE, "as 0 has no digits to round from"
    unit = float(Decimal(10) ** Decimal(repr(abs(claimed))).as_tuple().exponent)  # type: ignore[operator]  # an int, not 'n' or 'F': claimed is finite (checked_claim)
    size = abs(claimed)
    if unit < 0.01 * size:
        return 0.01 * size, "1 %"
    if unit > 0.05 * size:
        return 0.05 * size, "5 %"
    return unit, "one unit in your last digit"


# --- the verdict --------------------------------------------------------------------------------


def _verdict(
    symbol: str,
    right: float,
    claimed: float,
    expr: Expr | None,
    names: Names,
    graph: _Graph | None,
    *,
    derivation_above: bool = False,
) -> list[str]:
    """The lines that say whether ``claimed`` is ``right`` and, if not, why."""
    tol, why = tolerance(claimed)
    within = f"within ±{tol:.4g}, {why}"
    given = repr(claimed)  # as the learner wrote it, every digit
    if abs(right - claimed) <= tol:
        return [f"Your {symbol} = {given} agrees with the engine's {right:.7g} ({within})."]
    head = f"Your {symbol} = {given}; the engine finds {number(right)}."
    found = [] if expr is None or graph is None else _explaining(expr, claimed, tol, names, graph)
    if not found or expr is None:
        tried = (
            "a number replaced by another of the graph, a term left out, a sign flipped, the wrong "
            "activation's derivative, a factor forgotten or counted twice, two numbers swapped, the wrong op"
        )
        lines = [head, f"  No mistake looked for ({tried}), alone or two together, gives {claimed:g} ({within})."]
        if derivation_above:
            lines.append("  The right derivation is above.")
        elif expr is not None:
            lines += [
                "  The right derivation:",
                f"  {symbol} = {text_of(expr, names)}",
                f"  {' ' * len(symbol)} = {numbers_of(expr, {})} = {number(right)}",
            ]
        return lines
    best, value = found[0]
    what = "The likely mistake" if best.count == 1 else "Likely, two mistakes together"
    with_it = numbers_of(expr, best.changes, sign=best.sign, texts=best.texts)
    lines = [
        f"{head} {what}: {best.words}.",
        f"  With {'them' if best.count > 1 else 'it'}: {with_it} = {number(value)}, "
        f"which matches your {given} ({within}).",
    ]
    others = [(m, v) for m, v in found[1:MAX_SHOWN] if m.cost <= best.cost]  # as likely
    lines += [f"  Also gives {number(v)}: {m.words}." for m, v in others]
    return lines


def _explaining(expr: Expr, claimed: float, tol: float, names: Names, graph: _Graph) -> list[tuple[Mistake, float]]:
    """The mistakes that turn ``expr`` into ``claimed``, the most plausible first: single
    mistakes, else two together (at most one of them a substitution)."""
    values = Values(expr)
    singles = _Mistakes(expr, values, names, graph).all()
    found = _matching(values, singles, claimed, tol)
    if not found:  # the likeliest few hundred single mistakes, two at a time
        paired = sorted(singles, key=lambda m: m.cost)[:MAX_PAIRED]
        pairs = [
            joined
            for first, second in combinations(paired, 2)
            if not (first.substitutes and second.substitutes)
            and (joined := first.joined(second))
            and joined.cost <= MAX_COST + 1
        ]
        # With few digits claimed and many pairs, some pair matches by chance, and says
        # nothing: pairs are tried only where the expected count of chance matches is small
        # (never for a claimed 0, which many pairs reach exactly, a relu or a factor left out).
        if claimed and len(pairs) * tol / abs(claimed) <= MAX_CHANCE_MATCHES:
            found = _matching(values, pairs, claimed, tol)
    return found


def _matching(values: Values, mistakes: list[Mistake], claimed: float, tol: float) -> list[tuple[Mistake, float]]:
    found, seen = [], set()
    for m in mistakes:
        value = m.sign * values.changed(m.changes)
        if abs(value - claimed) <= tol and m.words not in seen:
            seen.add(m.words)
            found.append((m, value))
    found.sort(key=lambda mv: (mv[0].cost, abs(mv[1] - claimed)))
    return found


# --- the mistakes -----------------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    return ops.SIGMOID.forward(x)


# Each activation's derivative as a learner writes it, from the input z and the output a.
DERIVATIVE_FORMULAS = {
    "sigmoid": ("{a}(1 − {a})", lambda z, a: a * (1 - a)),
    "tanh": ("1 − {a}²", lambda z, a: 1 - a * a),
    "relu": ("1 if {z} > 0 else 0", lambda z, a: 1.0 if z > 0 else 0.0),
}
# The right formula at the wrong point: written at the input z where the output a
# belongs, or the derivative of σ or tanh taken at a as if a were the input.
WRONG_POINT = {
    "sigmoid": [
        ("{z}(1 − {z})", "sigmoid's derivative written with {z} in place of {a}", lambda z, a: z * (1 - z)),
        (
            "σ({a})(1 − σ({a}))",
            "sigmoid's derivative taken at {a}, not at {z}",
            lambda z, a: _sigmoid(a) * (1 - _sigmoid(a)),
        ),
    ],
    "tanh": [
        ("1 − {z}²", "tanh's derivative written with {z} in place of {a}", lambda z, a: 1 - z * z),
        ("1 − tanh({a})²", "tanh's derivative taken at {a}, not at {z}", lambda z, a: 1 - math.tanh(a) ** 2),
    ],
    "relu": [],
}
FORGOTTEN_DERIVATIVE = ("{a}", "the activation itself, not its derivative", lambda z, a: a)
ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
}
DOING = {
    "+": ("added", "adds"),
    "-": ("subtracted", "subtracts"),
    "*": ("multiplied", "multiplies"),
    "/": ("divided", "divides"),
}


class _Mistakes:
    """Every single mistake of one expression, each with its words."""

    def __init__(self, expr: Expr, values: Values, names: Names, graph: _Graph) -> None:
        self.expr, self.values, self.names, self.graph = expr, values, names, graph
        self.found: list[Mistake] = [Mistake("the sign is flipped", {}, sign=-1.0)]

    def all(self) -> list[Mistake]:
        pool = self._pool()
        for path, expr, parent in walk(self.expr):
            self._of_item(path, expr, parent)
            if isinstance(expr, Leaf):
                self._substitutions(path, expr, pool)
                self._wrong_derivative(path, expr)
            if isinstance(expr, Apply):
                self._wrong_op(path, expr)
            if isinstance(expr, Sum):
                self._swaps(path, expr)
        return self.found

    def _of_item(self, path: Path, expr: Expr, parent: Expr | None) -> None:
        """An item of a sum left out or with the wrong sign; a factor forgotten or twice."""
        value = self.values.at(path)
        words = f"{text_of(expr, self.names)} = {number(value)}"
        if isinstance(parent, Sum) and value != 0:
            self.found.append(Mistake(f"you left out the term {words}", {path: None}))
            self.found.append(Mistake(f"the term {words} has the wrong sign", {path: -value}))
        if isinstance(parent, Product) and value != 1:
            self.found.append(Mistake(f"you left out the factor {words}", {path: None}))
            if value not in (0.0, -1.0):
                self.found.append(Mistake(f"you counted the factor {words} twice", {path: value * value}, cost=1.5))

    def _pool(self) -> list[Leaf]:
        """The graph's named numbers and the expression's own derivatives, nearest first,
        one per value."""
        distance = self.graph.hops(nodes_of(self.expr))
        candidates = sorted(distance, key=distance.__getitem__)
        values = [Leaf(n.data, n) for n in candidates if (n.label or not n.parents) and n is not self.graph.root]
        derivatives = [e for _, e, _ in walk(self.expr) if isinstance(e, Leaf) and e.lower is not None]
        pool, seen = [], set()
        for leaf in values[:MAX_POOL] + derivatives:
            if leaf.value not in seen and math.isfinite(leaf.value):
                seen.add(leaf.value)
                pool.append(leaf)
        return pool

    def _substitutions(self, path: Path, leaf: Leaf, pool: list[Leaf]) -> None:
        """The number replaced by another of the graph of the same kind (a weight for a
        weight, an activation for the input a weight multiplies, a derivative for a
        derivative), the nearer the likelier. Numbers of other kinds are not tried: with
        them, some number would match almost any claim by chance."""
        partner = _partner(leaf)
        meaning = (
            f"{self.names.leaf(leaf)} is {partner[0]} {self.names.text(partner[1])} = {number(leaf.value)}"
            if partner
            else f"{self.names.leaf(leaf)} is {number(leaf.value)}"
        )
        kind = self._kind(leaf, partner)
        ends = [n for n in (leaf.node, leaf.lower) if n is not None]
        for other in pool:
            if other.value == leaf.value or not kind & self._kind(other, _partner(other)):
                continue
            hops = self.graph.hops(ends).get(other.node, MAX_DISTANCE)
            cost = 1.0 + 0.5 * max(0, hops - 1)
            if cost <= MAX_COST:
                self.found.append(
                    Mistake(
                        f"you used {self.names.leaf(other)} = {number(other.value)} where {meaning}",
                        {path: other.value},
                        cost=cost,
                        substitutes=True,
                    )
                )

    def _kind(self, leaf: Leaf, partner: tuple[str, Value] | None) -> set[str]:
        """What a number is used as: a derivative that is a node's value (dz/dw = x) is of
        that node's kind; any other derivative is a derivative."""
        if partner:
            return self.graph.roles(partner[1])
        return {"derivative"} if leaf.lower is not None else self.graph.roles(leaf.node)

    def _wrong_derivative(self, path: Path, leaf: Leaf) -> None:
        """The derivative of another activation, or this one's at the wrong point."""
        node, lower = leaf.node, leaf.lower
        if lower is None or leaf.folded or node.op not in DERIVATIVE_FORMULAS or node.parents[0] is not lower:
            return
        z, a = lower.data, node.data
        names = {"z": self.names.text(lower), "a": self.names.text(node)}
        right = DERIVATIVE_FORMULAS[node.op][0].format(**names)
        # relu's 1 (or 0) for a smooth activation is a forgotten factor: said as such already
        others = [
            (form, f"{op}'s derivative", f)
            for op, (form, f) in DERIVATIVE_FORMULAS.items()
            if op not in (node.op, "relu")
        ]
        for form, why, formula in others + WRONG_POINT[node.op] + [FORGOTTEN_DERIVATIVE]:
            value = formula(z, a)
            if value != leaf.value:
                self.found.append(
                    Mistake(
                        f"for {self.names.leaf(leaf)} you used {form.format(**names)} = {number(value)} "
                        f"({why.format(**names)}), where {node.op}'s derivative is {right} = {number(leaf.value)}",
                        {path: value},
                    )
                )

    def _wrong_op(self, path: Path, expr: Apply) -> None:
        """Another activation, or another arithmetic op, on the same inputs; two inputs
        swapped where the order matters."""
        values = [self.values.at(path + (i,)) for i in range(len(expr.items))]
        written = [number(v) for v in values]
        op, right = expr.node.op, self.values.at(path)
        if op in ACTIVATIONS and len(values) == 1:
            for other in ACTIVATIONS:
                value = values[0] if other == "id" else ops.UNARY_METHODS.get(other, ops.EXP).forward(values[0])
                what = "left out the activation" if other == "id" else f"applied {other}"
                if other != op and value != right:
                    self.found.append(
                        Mistake(
                            f"you {what} where the graph applies {op}",
                            {path: value},
                            texts={path: written[0] if other == "id" else f"{other}({written[0]})"},
                        )
                    )
        if op in ARITHMETIC and len(values) == 2:
            for other, f in ARITHMETIC.items():
                if other != op and f(*values) != right:
                    words = f"you {DOING[other][0]} where the graph {DOING[op][1]}"
                    symbol = {"-": "−", "*": "×"}.get(other, other)
                    self.found.append(
                        Mistake(words, {path: f(*values)}, texts={path: f"{written[0]} {symbol} {written[1]}"})
                    )
            if op in ("-", "/") and values[0] != values[1]:
                swapped = ARITHMETIC[op](values[1], values[0])
                self.found.append(
                    Mistake(
                        f"you swapped the two sides of {op}",
                        {path: swapped},
                        texts={path: f"{written[1]} {'−' if op == '-' else op} {written[0]}"},
                    )
                )

    def _swaps(self, path: Path, expr: Sum) -> None:
        """Two numbers swapped between terms of the same form (w_1·x_1 + w_2·x_2: the
        weights, or the inputs)."""
        products = [(i, item) for i, item in enumerate(expr.items) if isinstance(item, Product)]
        for (i, p), (j, q) in combinations(products, 2):
            if len(p.items) != len(q.items):
                continue
            for k, (u, v) in enumerate(zip(p.items, q.items)):
                if isinstance(u, Leaf) and isinstance(v, Leaf) and u.value != v.value:
                    self.found.append(
                        Mistake(
                            f"you swapped {self.names.leaf(u)} = {number(u.value)} and {self.names.leaf(v)} = "
                            f"{number(v.value)}",
                            {path + (i, k): v.value, path + (j, k): u.value},
                        )
                    )


def _partner(leaf: Leaf) -> tuple[str, Value] | None:
    """For d z / d w where z is a product or a neuron: what the derivative is, the other
    side of w's product (("the input", x) for a weight w, ("the weight", w) for an input)."""
    node, lower = leaf.node, leaf.lower
    if lower is None or leaf.folded or node.op not in ("w·x+b", "dot", "*"):
        return None
    parents = node.parents
    n = len(parents) // 2
    if node.op == "*":
        if parents[0] is parents[1]:  # a * a: no other factor
            return None
        return "the other factor", parents[1] if parents[0] is lower else parents[0]
    places = [i for i, p in enumerate(parents) if p is lower]
    if len(places) != 1 or places[0] >= 2 * n:  # used twice, or the bias: no one partner
        return None
    i = places[0]
    return ("the input", parents[n + i]) if i < n else ("the weight", parents[i - n])


class _Graph:
    """The graph's nodes with their neighbours (edges taken both ways), to tell how
    near one number sits to another: a learner mixes up numbers that sit close."""

    def __init__(self, root: Value) -> None:
        self.root = root
        self.neighbours: dict[Value, list[Value]] = {n: list(n.parents) for n in topological_order(root)}
        self.children: dict[Value, list[Value]] = {}
        for n in list(self.neighbours):
            for p in n.parents:
                self.neighbours[p].append(n)
                self.children.setdefault(p, []).append(n)
        self.cache: dict[tuple[Value, ...], dict[Value, int]] = {}

    def roles(self, node: Value) -> set[str]:
        """What ``node`` is used as by its children: a weight, an input or a bias of a
        neuron, the input of an activation, an operand of an op."""
        found = set()
        for child in self.children.get(node, []):
            parents, op = child.parents, child.op
            n = len(parents) // 2
            for i, p in enumerate(parents):
                if p is node:
                    if op in ("w·x+b", "dot"):
                        found.add("weight" if i < n else "input" if i < 2 * n else "bias")
                    else:
                        found.add("activation input" if op in ACTIVATIONS else f"operand of {op}")
        return found or {"result"}

    def hops(self, sources: list[Value]) -> dict[Value, int]:
        """Hops from the nearest of ``sources`` to each node, up to MAX_DISTANCE."""
        key = tuple(dict.fromkeys(sources))
        if key not in self.cache:
            distance = {s: 0 for s in key if s in self.neighbours}
            queue = deque(distance)
            while queue:
                n = queue.popleft()
                if distance[n] < MAX_DISTANCE:
                    for m in self.neighbours[n]:
                        if m not in distance:
                            distance[m] = distance[n] + 1
                            queue.append(m)
            self.cache[key] = distance
        return self.cache[key]
