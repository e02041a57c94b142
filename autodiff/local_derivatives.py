"""Each op's local derivative as a textbook writes it: a formula in the nodes' names,
then the same formula with their numbers put in.

``explain`` writes one line per factor of the chain rule from these, for example
``da/dz = a(1 − a) = 0.5987 × 0.4013 = 0.2403`` for ``a = sigmoid(z)`` or
``dz/dw = x = 0.2`` for ``z = w·x + b``. An op without a rule here is written by its
number alone. Names come in already shown as text; numbers are formatted here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .value import Value

# Significant digits of every number a derivation shows: five, so that the gradients
# the articles compute (0.0012277) are shown to the digit they are checked to.
DIGITS = 5


def number(x: float) -> str:
    """A number as a derivation shows it.

    >>> number(0.001227672), number(2.0), number(-0.36690)
    ('0.0012277', '2', '-0.3669')
    """
    return f"{x:.{DIGITS}g}"


def local_derivative(node: Value, position: int, name: Callable[[int], str], out: str) -> tuple[str, str]:
    """d node / d (its input at ``position``): the formula in names, and with numbers.

    ``name(i)`` is the name of input i as shown, ``out`` the node's own. For an op
    without a formula here (``pick``) both are empty: the caller
    shows the number alone.

    >>> from autodiff import Value
    >>> a = Value(0.4).sigmoid()
    >>> local_derivative(a, 0, lambda i: "z", "a")
    ('a(1 − a)', '0.59869 × 0.40131')
    """
    values = [p.data for p in node.parents]
    rule = _RULES.get(node.op)
    if rule is None and node.op.startswith("**"):  # a constant exponent, as in **2
        rule = _power_by_constant
    if rule is None:
        return "", ""
    return rule(node, position, name, out, values)


def _sum_rule(node, k, name, out, values):
    return "1", "1"


def _sub_rule(node, k, name, out, values):
    return ("1", "1") if k == 0 else ("−1", "−1")


def _mul_rule(node, k, name, out, values):
    return name(1 - k), number(values[1 - k])


def _div_rule(node, k, name, out, values):
    a, b = name(0), name(1)
    if k == 0:
        return f"1/{b}", f"1/{_grouped(values[1])}"
    return f"−{a}/{b}²", f"−{_grouped(values[0])}/{_grouped(values[1])}²"


def _pow_rule(node, k, name, out, values):
    a, b = name(0), name(1)
    if k == 0:
        return f"{b}·{a}^({b} − 1)", f"{number(values[1])} × {_grouped(values[0])}^{_grouped(values[1] - 1)}"
    return f"{out}·log {a}", f"{number(node.data)} × log {_grouped(values[0])}"


def _power_by_constant(node, k, name, out, values):
    exponent, x = float(node.op[2:]), name(0)
    if exponent == 2:
        return f"2·{x}", f"2 × {_grouped(values[0])}"
    return (f"{exponent:g}·{x}^{exponent - 1:g}", f"{exponent:g} × {_grouped(values[0])}^{exponent - 1:g}")


def _neuron_rule(node, k, name, out, values):
    """w·x + b (and dot): d/dw_i = x_i, d/dx_i = w_i, d/db = 1."""
    n = len(values) // 2
    if k >= 2 * n:
        return "1", "1"
    other = k + n if k < n else k - n
    return name(other), number(values[other])


def _unary(formula: str, numbers: Callable[[float, float], str]):
    """A rule of a one-input op: the formula with {out} and {x} for the names, and the
    numbers as a function of the output's and the input's numbers."""

    def rule(node, k, name, out, values):
        return formula.format(out=out, x=name(0)), numbers(node.data, values[0])

    return rule


def _grouped(x: float) -> str:
    """A number inside a formula: in parentheses when negative, so that 2 × (-0.3) reads right."""
    return f"({number(x)})" if x < 0 else number(x)


def _bce_rule(node, k, name, out, values):
    """Binary cross-entropy of a probability p and a target t (the engine guards p(1 − p)
    away from 0; the formula is the unguarded one)."""
    p, t = name(0), name(1)
    vp, vt = values
    if k == 0:
        return f"({p} − {t})/({p}(1 − {p}))", f"({number(vp)} − {number(vt)})/({number(vp)} × {number(1 - vp)})"
    return f"−log({p}/(1 − {p}))", f"−log({number(vp)}/{number(1 - vp)})"


def _logsumexp_rule(node, k, name, out, values):
    """d/dx_k of log(Σ e^x_i) is the softmax e^(x_k − out)."""
    return f"e^({name(k)} − {out})", f"e^({number(values[k])} − {_grouped(node.data)})"


def _relu_rule(node, k, name, out, values):
    # the numbers say the value and why: "0, as -0.68 ≤ 0" (the caller adds no "= 0")
    on = node.data > 0
    return f"1 if {name(0)} > 0, else 0", f"{1 if on else 0}, as {number(values[0])} {'>' if on else '≤'} 0"


def _arctan2_rule(node, k, name, out, values):
    """d/dy of arctan2(y, x) is x/(y² + x²); d/dx is −y/(y² + x²)."""
    y, x = name(0), name(1)
    squares = f"{_grouped(values[0])}² + {_grouped(values[1])}²"
    if k == 0:
        return f"{x}/({y}² + {x}²)", f"{_grouped(values[1])}/({squares})"
    return f"−{y}/({y}² + {x}²)", f"−{_grouped(values[0])}/({squares})"


def _hypot_rule(node, k, name, out, values):
    return f"{name(k)}/{out}", f"{_grouped(values[k])}/{number(node.data)}"


def _chosen(larger: bool):
    """maximum's rule (minimum's, for ``larger`` false): 1 for the input chosen, 0 for the
    other, ½ each on a tie; the numbers say which and why, as relu's do."""
    wins, loses = (">", "<") if larger else ("<", ">")

    def rule(node, k, name, out, values):
        me, other = values[k], values[1 - k]
        share, relation = (
            ("1", wins) if (me > other if larger else me < other) else (("½", "=") if me == other else ("0", loses))
        )
        if math.isnan(me) or math.isnan(other):  # nan: PyTorch passes the gradient to both
            share, relation = "1", "?"
        formula = f"1 if {name(k)} {wins} {name(1 - k)}, ½ if equal, else 0"
        return formula, f"{share}, as {number(me)} {relation} {number(other)}"

    return rule


def _mod_rule(node, k, name, out, values):
    """a % b = a − b⌊a/b⌋: d/da = 1, d/db = −⌊a/b⌋ (Python's floor division)."""
    if k == 0:
        return "1", "1"
    return f"−⌊{name(0)}/{name(1)}⌋", f"−⌊{_grouped(values[0])}/{_grouped(values[1])}⌋"


def _flat(node, k, name, out, values):
    """floor, ceil, sign and //: flat between their steps, as PyTorch differentiates them."""
    return "0", "0"


_RULES: dict[str, Callable] = {
    "+": _sum_rule,
    "sum": _sum_rule,
    "id": _sum_rule,
    "-": _sub_rule,
    "*": _mul_rule,
    "/": _div_rule,
    "**": _pow_rule,
    "w·x+b": _neuron_rule,
    "dot": _neuron_rule,
    "neg": lambda node, k, name, out, values: ("−1", "−1"),
    "relu": _relu_rule,
    "bce": _bce_rule,
    "logsumexp": _logsumexp_rule,
    "sigmoid": _unary("{out}(1 − {out})", lambda a, x: f"{number(a)} × {number(1 - a)}"),
    "tanh": _unary("1 − {out}²", lambda a, x: f"1 − {_grouped(a)}²"),
    "exp": _unary("{out}", lambda a, x: number(a)),
    "log": _unary("1/{x}", lambda a, x: f"1/{_grouped(x)}"),
    "log1p": _unary("1/(1 + {x})", lambda a, x: f"1/(1 + {_grouped(x)})"),
    "sqrt": _unary("1/(2·{out})", lambda a, x: f"1/(2 × {number(a)})"),
    "sin": _unary("cos {x}", lambda a, x: f"cos {_grouped(x)}"),
    "cos": _unary("−sin {x}", lambda a, x: f"−sin {_grouped(x)}"),
    "softplus": _unary("sigmoid({x})", lambda a, x: f"sigmoid({number(x)})"),
    "log_sigmoid": _unary("1 − sigmoid({x})", lambda a, x: f"1 − sigmoid({number(x)})"),
    "abs": _unary("sign({x})", lambda a, x: f"sign({number(x)})"),
    "tan": _unary("1 + {out}²", lambda a, x: f"1 + {_grouped(a)}²"),
    "arcsin": _unary("1/√(1 − {x}²)", lambda a, x: f"1/√(1 − {_grouped(x)}²)"),
    "arccos": _unary("−1/√(1 − {x}²)", lambda a, x: f"−1/√(1 − {_grouped(x)}²)"),
    "arctan": _unary("1/(1 + {x}²)", lambda a, x: f"1/(1 + {_grouped(x)}²)"),
    "sinh": _unary("cosh {x}", lambda a, x: f"cosh {_grouped(x)}"),
    "cosh": _unary("sinh {x}", lambda a, x: f"sinh {_grouped(x)}"),
    "log2": _unary("1/({x}·ln 2)", lambda a, x: f"1/({_grouped(x)} × ln 2)"),
    "log10": _unary("1/({x}·ln 10)", lambda a, x: f"1/({_grouped(x)} × ln 10)"),
    "expm1": _unary("{out} + 1", lambda a, x: f"{number(a)} + 1"),
    "floor": _flat,
    "ceil": _flat,
    "sign": _flat,
    "//": _flat,
    "arctan2": _arctan2_rule,
    "hypot": _hypot_rule,
    "maximum": _chosen(True),
    "minimum": _chosen(False),
    "%": _mod_rule,
}


def positions(node: Value, parent: Value) -> Sequence[int]:
    """Where ``parent`` stands among ``node``'s inputs (twice in a * a)."""
    return [i for i, p in enumerate(node.parents) if p is parent]
