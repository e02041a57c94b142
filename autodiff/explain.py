"""``explain``: how the gradient of one node was computed, written out as by hand.

The chain rule along the graph, each local derivative named by its op and evaluated:

    dE/dw = dE/da · da/dz · dz/dw
          = 0.3669 × 0.2455 × 0.5424 = 0.04886

Where paths meet, the derivative is the sum over the node's children, each term
written the same way. Only the steps nearest the node are written out; further
derivatives appear as the number the backward pass found, so a deep or wide graph
gives a short text, never one exponential in its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backward import _backpropagate, local_gradients, topological_order
from .value import Value


@dataclass
class Explanation:
    """The derivation: ``str()`` for a terminal, Markdown with LaTeX for a notebook."""

    lines: list[str]
    latex: list[str]
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines + ([""] + self.notes if self.notes else []))

    def _repr_markdown_(self) -> str:
        equations = "\n".join(f"$$ {line} $$" for line in self.latex)
        notes = "\n".join(f"- {_markdown(note)}" for note in self.notes)
        return equations + ("\n\n" + notes if notes else "")


def explain(output: Value, node: Value, *, steps: int = 6) -> Explanation:
    """d output / d node as the textbooks derive it, with the engine's numbers.

    ``steps`` bounds how many derivatives are written out in full.

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
    for name, v in (("output", output), ("node", node)):
        if not isinstance(v, Value):
            raise TypeError(f"explain needs Values; {name} is a {type(v).__name__}")
    order = topological_order(output)
    if node not in set(order):
        raise ValueError("the node is not in the output's graph: the output does not depend on it")
    grads = _backpropagate(output, 1.0, create_graph=False, wrt=[node])
    children = _children_on_paths(order, grads)
    return _Writer(output, grads, children, steps).derive(node)


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
    def __init__(self, output: Value, grads: dict, children: dict, steps: int) -> None:
        self.output, self.grads, self.children, self.steps = output, grads, children, steps
        self.names: dict[Value, str] = {output: output.label or "out"}
        self.shown: set[Value] = set()  # unlabelled nodes that must be named, not folded
        self.unnamed = 0  # how many unlabelled nodes have been given a name u1, u2, ...
        self.lines: list[str] = []
        self.latex: list[str] = []
        self.notes: list[str] = []
        self.noted: set[tuple[Value, Value]] = set()

    def derive(self, node: Value) -> Explanation:
        self.names.setdefault(node, node.label or "x")
        if node is self.output:
            name = self.name(node)
            return Explanation([f"d{name}/d{name} = 1"], [rf"\frac{{\partial {_tex_name(name)}}}{{\partial {_tex_name(name)}}} = 1"])
        queue, written = [node], set()
        while queue and len(written) < self.steps:
            current = queue.pop(0)
            if current in written or current is self.output:
                continue
            written.add(current)
            queue += self._write(current)
        if queue:
            rest = ", ".join(f"d{self.name(self.output)}/d{self.name(v)} = {_number(self.grads[v])}"
                             for v in dict.fromkeys(queue) if v not in written and v is not self.output)
            if rest:
                self.notes.append(f"further derivatives, as the backward pass found them: {rest}")
        return Explanation(self.lines, self.latex, self.notes)

    def _write(self, node: Value) -> list[Value]:
        """One equation for d output / d node; returns the derivatives it leaves to explain."""
        out = self.name(self.output)
        chains = self._chains(node)
        terms, numbers, later = [], [], []
        for factors in chains:
            first_note = len(self.notes)
            for upper, lower, value, folded in factors:
                self._note(upper, lower, value, folded)
            top = factors[-1][0]
            factors = factors[::-1]
            symbols = [f"d{self.name(u)}/d{self.name(l)}" for u, l, _, _ in factors]
            if symbols == [f"d{out}/d{self.name(node)}"]:  # the output's own partial derivative
                symbols = [f"∂{out}/∂{self.name(node)}"]
            values = [v for _, _, v, _ in factors]
            if top is not self.output:  # a junction: its own derivative comes in a later line
                symbols.insert(0, f"d{out}/d{self.name(top)}")
                values.insert(0, self.grads[top])
                later.append(top)
            terms.append(" · ".join(symbols))
            numbers.append(" × ".join(_number(v) for v in values))
            self.notes[first_note:] = reversed(self.notes[first_note:])  # in the equation's order
        left = f"d{out}/d{self.name(node)}"
        pad = " " * len(left)
        if len(terms) == 1:
            self.lines += [f"{left} = {terms[0]}", f"{pad} = {numbers[0]} = {_number(self.grads[node])}"]
        else:
            self.lines += [f"{left} = " + " + ".join(terms),
                           f"{pad} = " + " + ".join(f"({n})" for n in numbers) + f" = {_number(self.grads[node])}"]
        self.latex.append(_latex(left, terms, numbers, self.grads[node]))
        return later

    def _chains(self, node: Value) -> list[list[tuple]]:
        """Per child of ``node``, the factors from ``node`` up to the output or a junction.

        Unlabelled steps fold into one factor, unless folding would give two factors the
        same name (two paths through unnamed nodes to the same place): those are named.
        """
        while True:
            chains = []
            for child in self.children.get(node, []):
                factors = [self._step(child, node)]
                while factors[-1][0] is not self.output and len(self.children.get(factors[-1][0], [])) == 1:
                    upper = factors[-1][0]
                    factors.append(self._step(self.children[upper][0], upper))
                chains.append(factors)
            # the left-hand side counts as taken: a factor folded all the way from node to
            # output would read d output / d node, the very thing being derived
            pairs = [(self.output, node)] + [(u, lo) for factors in chains for u, lo, _, _ in factors]
            clashes = [f for factors in chains for f in factors if pairs.count((f[0], f[1])) > 1 and f[3]]
            if not clashes:
                return chains
            self.shown.update(folded[0] for *_, folded in clashes)

    def _named(self, node: Value) -> bool:
        """Whether a derivation names this node: labelled, the output, where paths meet,
        or unlabelled but needed to keep two factors apart."""
        return (bool(node.label) or node is self.output or node in self.shown
                or len(self.children.get(node, [])) != 1)

    def _step(self, child: Value, lower: Value) -> tuple[Value, Value, float, list[Value]]:
        """From ``lower`` up through ``child`` to the next named node: (that node, lower,
        d that node / d lower, the unnamed nodes folded on the way)."""
        steps = [(child, lower)]
        while not self._named(steps[-1][0]):
            upper = steps[-1][0]
            steps.append((self.children[upper][0], upper))
        value = 1.0
        for upper, below in steps:
            value *= self._local(upper, below)
        return steps[-1][0], lower, value, [upper for upper, _ in steps[:-1]]

    def _note(self, top: Value, lower: Value, value: float, folded: list[Value]) -> None:
        """Say once what a factor is: its op and derivative, or the ops folded into it."""
        if (top, lower) in self.noted:
            return
        self.noted.add((top, lower))
        factor = f"d{self.name(top)}/d{self.name(lower)} = {_number(value)}: "
        if not folded:
            factor += (f"{self.name(top)} = {self._formula(top)}, derivative "
                       f"{_derivative_text(top, self.name(top), [self.name(p) for p in top.parents])}")
        else:
            ops_on_way = [n.op for n in folded] + [top.op]
            factor += f"through {len(ops_on_way)} ops ({', '.join(ops_on_way)}), the product of their local derivatives"
        self.notes.append(factor)

    def _local(self, child: Value, parent: Value) -> float:
        """d child / d parent, evaluated with the op's rule (summed where parent is used twice)."""
        return sum(d for p, d in zip(child.parents, local_gradients(child)) if p is parent)

    def _formula(self, node: Value) -> str:
        names = [self.name(p) for p in node.parents]
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

    def name(self, node: Value) -> str:
        """The node's label; a constant's number; else u1, u2, ... in order of mention."""
        if node not in self.names:
            if node.label:
                self.names[node] = node.label
            elif not node.parents:
                self.names[node] = _number(node.data)
            else:
                self.unnamed += 1
                self.names[node] = f"u{self.unnamed}"
        return self.names[node]


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


def _latex(left: str, terms: list[str], numbers: list[str], result: float) -> str:
    def frac(symbol: str) -> str:
        top, bottom = symbol[1:].split("/" + symbol[0], 1)  # d out/d node, or ∂out/∂node
        return rf"\frac{{\partial {_tex_name(top)}}}{{\partial {_tex_name(bottom)}}}"

    lhs = frac(left)
    rhs = " + ".join(r" \cdot ".join(frac(s) for s in term.split(" · ")) for term in terms)
    values = " + ".join(n.replace("×", r"\times") for n in numbers)
    return f"{lhs} = {rhs} = {values} = {_number(result)}"


def _tex_name(name: str) -> str:
    return r"\mathrm{" + name.replace("_", r"\_").replace("·", r"\cdot ") + "}"


def _markdown(text: str) -> str:
    return text.replace("*", r"\*").replace("_", r"\_")
