"""The numba backend of ``compile``: a program's per-sample steps as one native loop.

``compile(f, backend="numba")`` builds the same ``Program`` as the numpy backend (the same
levels, layers, static part and buffers) and then writes its per-sample forward and
backward passes as Python source, one loop over the samples each, which numba compiles to
machine code. numpy runs a step as one call per op over the whole batch, and for a small
network the cost of those calls is most of the time; one native loop has none.

One rule per op serves here too: the derivative rules of the op table are evaluated on
``Code``, numbers that write themselves as source text (``CODE_MATH``), so that the
generated backward pass is the rule the scalar engine and numpy use, written out. Only
the forwards, an expression per op, live here (``FORWARDS``), with the numerics of
``ieee.py``: numba's math gives IEEE results (inf, nan) where Python's raises, and the
division runs with numpy's error model (1.0 / 0.0 is inf). The source holds op names and
numbers only, never a label or other user text.

The numbers equal the numpy backend's to rounding: a layer's sums are added in the
scalar engine's order here, in BLAS's order there. An op that checks its numbers (a
class index, a probability) stops the loop at the first sample that fails; the numpy
steps then run on the batch and raise their error, with its message.

numba is optional (``pip install 'autodiff-scalar[fast]'``): ``numba_available()`` says whether it
is installed, and ``backend="numba"`` without it raises ``ImportError`` saying so.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import ieee, ops


def numba_available() -> bool:
    """Whether numba is installed, so that ``compile(..., backend="numba")`` can run.

    >>> isinstance(numba_available(), bool)
    True
    """
    return importlib.util.find_spec("numba") is not None


# --- numbers that write themselves as source ------------------------------------------------
class Code:
    """An expression of the generated source; arithmetic on it writes more source.

    >>> x = Code("x")
    >>> str(1.0 - x * x), str(CODE_MATH.select(x < 0, 0.0, x))
    ('(1.0 - (x * x))', '(0.0 if (x < 0.0) else x)')
    """

    __slots__ = ("text",)
    __hash__ = None  # type: ignore[assignment]  # equality writes source: a Code is no key

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _binary(self, symbol: str, other, reflected: bool = False) -> Code:
        left, right = (literal(other), self.text) if reflected else (self.text, literal(other))
        return Code(f"({left} {symbol} {right})")

    def __add__(self, other):
        return self._binary("+", other)

    def __radd__(self, other):
        return self._binary("+", other, True)

    def __sub__(self, other):
        return self._binary("-", other)

    def __rsub__(self, other):
        return self._binary("-", other, True)

    def __mul__(self, other):
        return self._binary("*", other)

    def __rmul__(self, other):
        return self._binary("*", other, True)

    def __neg__(self):
        return Code(f"(-{self.text})")

    def __lt__(self, other):
        return self._binary("<", other)

    def __le__(self, other):
        return self._binary("<=", other)

    def __gt__(self, other):
        return self._binary(">", other)

    def __ge__(self, other):
        return self._binary(">=", other)

    def __eq__(self, other):
        return self._binary("==", other)

    def __ne__(self, other):
        return self._binary("!=", other)

    def __and__(self, other):
        return self._binary("and", other)

    def __rand__(self, other):
        return self._binary("and", other, True)


def literal(x: Code | float | int) -> str:
    """Source for a number or an expression (inf and nan by name: they have no literal).

    >>> literal(0.5), literal(-math.inf), literal(Code("x"))
    ('0.5', '(-math.inf)', 'x')
    """
    if isinstance(x, Code):
        return x.text
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"no source for {x!r}")
    x = float(x)
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "(-math.inf)"
    return repr(x) if x >= 0 else f"({x!r})"


# --- the forwards, an expression each (their numerics: ieee.py) -----------------------------
FORWARDS: dict[str, str] = {
    "+": "({0} + {1})",
    "-": "({0} - {1})",
    "*": "({0} * {1})",
    "/": "({0} / {1})",
    "neg": "(-{0})",
    "**": "({0} ** {1})",
    "exp": "math.exp({0})",
    "log": "math.log({0})",
    "log1p": "math.log1p({0})",
    "sqrt": "math.sqrt({0})",
    "sin": "math.sin({0})",
    "cos": "math.cos({0})",
    "tanh": "math.tanh({0})",
    "sigmoid": "(1.0 / (1.0 + math.exp(-{0})))",
    "softplus": f"({{0}} + math.log1p(math.exp(-{{0}})) if {{0}} > {ieee.SOFTPLUS_THRESHOLD!r} "
    "else math.log1p(math.exp({0})))",
    "log_sigmoid": "({0} if {0} != {0} else ({0} if {0} < 0.0 else 0.0) - math.log1p(math.exp(-abs({0}))))",
    "relu": "(0.0 if {0} < 0 else {0})",  # relu(-0.0) is -0.0 and relu(nan) nan, as in PyTorch
    "abs": "abs({0})",
    "id": "(+{0})",
    "tan": "math.tan({0})",
    "arcsin": "math.asin({0})",
    "arccos": "math.acos({0})",
    "arctan": "math.atan({0})",
    "sinh": "math.sinh({0})",
    "cosh": "math.cosh({0})",
    "log2": "math.log2({0})",
    "log10": "math.log10({0})",
    "expm1": "math.expm1({0})",
    "floor": "np.floor({0})",
    "ceil": "np.ceil({0})",  # numba's math.floor gives an int: no inf, no nan
    "sign": "(1.0 if {0} > 0.0 else (-1.0 if {0} < 0.0 else 0.0))",  # 0 at -0.0 and nan, as PyTorch
    "arctan2": "math.atan2({0}, {1})",
    "hypot": "math.hypot({0}, {1})",
    "maximum": "({1} if ({0} < {1} or {1} != {1}) else {0})",  # nan wins; a tie gives {0}
    "minimum": "({1} if ({1} < {0} or {1} != {1}) else {0})",
    "//": "({0} // {1})",  # numba's floor division is Python's; a zero divisor gives {0} / 0
    # PyTorch's remainder: fmod moved by the divisor where the signs differ (numba has no math.fmod)
    "%": "(np.fmod({0}, {1}) + {1} if (np.fmod({0}, {1}) != 0.0 and ({1} < 0.0) != (np.fmod({0}, {1}) < 0.0)) "
    "else np.fmod({0}, {1}))",
}
"""Each op of fixed arity as an expression, ``{0}`` and ``{1}`` its inputs (a name or a
read: naming one twice costs nothing); ``power_by`` ops and bce apart."""


def _power_by_constant(x: str, exponent: float) -> str:
    """``ieee.power_by_constant`` as source: the same products and quotients."""
    special = {
        2.0: f"({x} * {x})",
        3.0: f"({x} * {x} * {x})",
        -1.0: f"(1.0 / {x})",
        -2.0: f"(1.0 / ({x} * {x}))",
        0.5: f"math.sqrt({x})",
        -0.5: f"(1.0 / math.sqrt({x}))",
    }
    return special.get(exponent, f"({x} ** {literal(exponent)})")


def _written(op_name: str) -> Callable[..., Code]:
    return lambda *xs: Code(FORWARDS[op_name].format(*map(literal, xs)))


CODE_MATH = SimpleNamespace(
    data=lambda x: x,
    select=lambda condition, if_true, if_false: Code(
        f"({literal(if_true)} if {literal(condition)} else {literal(if_false)})"
    ),
    **ops.SEQUENCES,
    div=_written("/"),
    pow=_written("**"),
    pow_by_constant=lambda x, exponent: Code(_power_by_constant(literal(x), exponent)),
    floor_divide=_written("//"),
    **{name: _written(name) for name in ops.UNARY_METHODS},
)
"""The math namespace that writes source: the op table's rules, evaluated on ``Code``."""


# --- writing a program's passes --------------------------------------------------------------
class _Writer:
    """Source lines and the index arrays they read (one int array, ``ix``, at offsets)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indices: list[np.ndarray] = []
        self.size = 0
        self.names = 0
        self.layers: dict[int, str] = {}
        self.gather: list[str] = []  # before the loop over samples: weights, their gradients
        self.grads_in: list[str] = []
        self.grads_out: list[str] = []  # after it

    def index(self, numbers: np.ndarray | Sequence[int] | slice) -> int:
        """Store ``numbers`` in ``ix``; their offset there."""
        if isinstance(numbers, slice):
            numbers = np.arange(numbers.start, numbers.stop)
        numbers = np.asarray(numbers, dtype=np.int64).ravel()
        offset = self.size
        self.indices.append(numbers)
        self.size += numbers.size
        return offset

    def rows(self, numbers: np.ndarray | Sequence[int] | slice) -> Callable[[str], str]:
        """Source for entry ``j`` of ``numbers``: ``start + j`` where they run
        consecutively (no index to load), else a read of ``ix``."""
        if not isinstance(numbers, slice):
            numbers = np.asarray(numbers, dtype=np.int64).ravel()
            if numbers.size and np.array_equal(numbers, np.arange(numbers[0], numbers[0] + numbers.size)):
                numbers = slice(int(numbers[0]), int(numbers[0]) + numbers.size)
        if isinstance(numbers, slice):
            return lambda j: f"{numbers.start} + {j}"
        offset = self.index(numbers)
        return lambda j: f"ix[{offset} + {j}]"

    def weights(self, layer) -> str:
        """The name of ``layer``'s weights, k x n in one array, row by row (``_b``: its
        biases), read from the static values before the loop over samples; their gradients,
        ``d`` + the name, start at -0.0 and are added into the static gradients after it.
        (Flat arrays and plain loops: numba compiles them fastest.)"""
        if id(layer) not in self.layers:
            name = f"w{len(self.layers)}"
            self.layers[id(layer)] = name
            for suffix, index in (("", layer.w_index), ("_b", layer.b_index)):
                if index is not None:
                    at, size = self.index(index), index.size
                    self.gather += [
                        f"{name}{suffix} = np.empty({size})",
                        f"for q in range({size}):",
                        f"    {name}{suffix}[q] = sv[ix[{at} + q]]",
                    ]
                    self.grads_in += [
                        f"d{name}{suffix} = np.empty({size})",
                        f"for q in range({size}):",
                        f"    d{name}{suffix}[q] = -0.0",
                    ]
                    self.grads_out += [f"for q in range({size}):", f"    sg[ix[{at} + q]] += d{name}{suffix}[q]"]
        return self.layers[id(layer)]

    def loop(self, depth: int, j: str, k: int) -> int:
        """Open ``for j in range(k)``; the depth its body's lines take one deeper than.
        One node needs no loop (numba compiles straight code faster): j is 0."""
        if k == 1:
            self.line(depth, f"{j} = 0")
            return depth - 1
        self.line(depth, f"for {j} in range({k}):")
        return depth

    def name(self, stem: str) -> str:
        self.names += 1
        return f"{stem}{self.names}"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)


def _forward_of(op: ops.Op, inputs: list[str]) -> str:
    if op.name in FORWARDS:
        return FORWARDS[op.name].format(*inputs)
    if op.exponent is not None:
        return _power_by_constant(inputs[0], op.exponent)
    raise NotImplementedError(f"the numba backend has no forward for op {op.name!r}")


def _write_group_forward(w: _Writer, group, depth: int) -> None:
    op, (arity, k) = group.op, group.in_rows.shape
    rows = [w.rows(position) for position in group.in_rows]  # input a of node j: rows[a](j)
    out = w.rows(group.out)
    j = w.name("j")
    depth = w.loop(depth, j, k)
    xs = [f"v[{rows[a](j)}, s]" for a in range(arity)]
    target = f"v[{out(j)}, s]"
    if op is ops.SUM:
        w.line(depth + 1, f"{target} = {' + '.join(['0.0', *xs])}")
    elif op in (ops.DOT, ops.LINEAR):
        n = len(xs) // 2
        products = [f"{xs[i]} * {xs[n + i]}" for i in range(n)]
        bias = f" + {xs[-1]}" if op is ops.LINEAR else ""
        w.line(depth + 1, f"{target} = ({' + '.join(['0.0', *products])}){bias}")
    elif op is ops.LOGSUMEXP:
        top, total = w.name("top"), w.name("total")
        w.line(depth + 1, f"{top} = {xs[0]}")
        for x in xs[1:]:  # nan wins, as numpy's max
            w.line(depth + 1, f"{top} = {x} if ({x} > {top} or {x} != {x}) else {top}")
        w.line(depth + 1, f"if {top} != {top} or math.isinf({top}):")
        w.line(depth + 2, f"{target} = {top}")
        w.line(depth + 1, "else:")
        w.line(depth + 2, f"{total} = {' + '.join(f'math.exp({x} - {top})' for x in xs)}")
        w.line(depth + 2, f"{target} = {top} + math.log({total})")
    elif op is ops.PICK:
        index = w.name("index")
        w.line(depth + 1, f"{index} = {xs[-1]}")
        w.line(depth + 1, f"if not (0.0 <= {index} < {arity - 1}.0 and {index} == int({index})):")
        w.line(depth + 2, "return s + 1")  # the numpy steps raise the error, with its message
        every = w.index(group.in_rows)  # position-major: input a of node j at a * k + j
        w.line(depth + 1, f"{target} = v[ix[{every} + int({index}) * {k} + {j}], s]")
    elif op is ops.BCE:
        p, t = w.name("p"), w.name("t")
        w.line(depth + 1, f"{p} = {xs[0]}")
        w.line(depth + 1, f"{t} = {xs[1]}")
        w.line(depth + 1, f"if not (0.0 <= {p} <= 1.0 and 0.0 <= {t} <= 1.0):")
        w.line(depth + 2, "return s + 1")
        logs = [w.name("log") for _ in range(2)]  # each clamped at -100, as PyTorch's
        w.line(depth + 1, f"{logs[0]} = math.log({p})")
        w.line(depth + 1, f"{logs[1]} = math.log1p(-{p})")
        for log in logs:
            w.line(depth + 1, f"{log} = -100.0 if {log} < -100.0 else {log}")
        w.line(depth + 1, f"{target} = -({t} * {logs[0]} + (1.0 - {t}) * {logs[1]})")
    elif op.arity is None:
        raise NotImplementedError(f"the numba backend has no forward for op {op.name!r}")
    else:
        w.line(depth + 1, f"{target} = {_forward_of(op, xs)}")


def _write_group_backward(w: _Writer, group, depth: int) -> None:
    op, (arity, k) = group.op, group.in_rows.shape
    rows = [w.rows(position) for position in group.in_rows]
    out = w.rows(group.out)
    j = w.name("j")
    depth = w.loop(depth, j, k)
    names = [w.name("x") for _ in range(arity)]
    o, gr = w.name("o"), w.name("g")
    amounts = [literal(amount) for amount in op.grads(CODE_MATH, Code(o), Code(gr), [Code(x) for x in names])]
    used = set(re.findall(r"[a-z]+\d+", " ".join(amounts)))  # read only what the rule uses
    reads = [(name, f"v[{rows[a](j)}, s]") for a, name in enumerate(names)] + [
        (o, f"v[{out(j)}, s]"),
        (gr, f"g[{out(j)}, s]"),
    ]
    for name, read in reads:
        if name in used:
            w.line(depth + 1, f"{name} = {read}")
    for a, amount in enumerate(amounts):
        w.line(depth + 1, f"g[{rows[a](j)}, s] += {amount}")


def _layer_names(w: _Writer, layer) -> tuple:
    """A layer's sizes (k neurons of n inputs), the name of its weights, where its
    inputs and outputs are, and two fresh loop variables."""
    k, n = layer.w_index.shape
    return k, n, w.weights(layer), w.rows(layer.x_rows), w.rows(layer.out), w.name("j"), w.name("i")


def _write_layer_forward(w: _Writer, layer, depth: int) -> None:
    k, n, weights, xs, out, j, i = _layer_names(w, layer)
    total = w.name("total")
    w.line(depth, f"for {j} in range({k}):")
    w.line(depth + 1, f"{total} = 0.0")
    w.line(depth + 1, f"for {i} in range({n}):")
    w.line(depth + 2, f"{total} += {weights}[{j} * {n} + {i}] * v[{xs(i)}, s]")
    if layer.b_index is not None:
        w.line(depth + 1, f"{total} += {weights}_b[{j}]")
    w.line(depth + 1, f"v[{out(j)}, s] = {total}")


def _write_layer_backward(w: _Writer, layer, depth: int) -> None:
    k, n, weights, xs, out, j, i = _layer_names(w, layer)
    gr = w.name("g")
    w.line(depth, f"for {j} in range({k}):")
    w.line(depth + 1, f"{gr} = g[{out(j)}, s]")
    if layer.b_index is not None:
        w.line(depth + 1, f"d{weights}_b[{j}] += {gr}")
    w.line(depth + 1, f"for {i} in range({n}):")
    w.line(depth + 2, f"d{weights}[{j} * {n} + {i}] += {gr} * v[{xs(i)}, s]")
    w.line(depth + 2, f"g[{xs(i)}, s] += {weights}[{j} * {n} + {i}] * {gr}")


def write_source(steps: Sequence) -> tuple[str, np.ndarray]:
    """The source of ``forward(v, sv, ix)`` and ``backward(v, g, sv, sg, ix)`` for a
    program's per-sample steps (``_Group`` and ``_Layer``), and the ``ix`` they read.

    ``v`` and ``g`` are the per-sample values and gradients, (rows, N); ``sv`` and ``sg``
    the static part's (one entry per static node). ``forward`` returns 0, or 1 + the first
    sample whose numbers an op refused. ``backward`` adds into ``g`` and ``sg``.
    """
    from .program import _Layer  # the steps' kinds (program imports this module lazily)

    w = _Writer()
    for step in steps:
        (_write_layer_forward if isinstance(step, _Layer) else _write_group_forward)(w, step, 2)
    forward, w.lines = w.lines, []
    for step in reversed(steps):
        (_write_layer_backward if isinstance(step, _Layer) else _write_group_backward)(w, step, 2)
    backward = w.lines
    indent = ["    " + line for line in w.gather]
    source = "\n".join(
        [
            "def forward(v, sv, ix):",
            *indent,
            "    for s in range(v.shape[1]):",
            *forward,
            "    return 0",
            "",
            "def backward(v, g, sv, sg, ix):",
            *indent,
            *("    " + line for line in w.grads_in),
            "    for s in range(v.shape[1]):",
            *backward,
            *("    " + line for line in w.grads_out),
            "    return 0",
            "",
        ]
    )
    ix = np.concatenate(w.indices) if w.indices else np.zeros(0, dtype=np.int64)
    return source, ix


def require_numba() -> None:
    """Raise ``ImportError``, saying how to install it, where numba is missing."""
    if not numba_available():
        raise ImportError(
            "compile(..., backend='numba') needs numba: pip install 'autodiff-scalar[fast]' (or pip install numba)"
        )


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> tuple[Callable, Callable]:
    """The passes ``source`` defines, compiled: a program traced again, or another of the
    same structure, reuses them (the index array is an argument, not part of the source)."""
    import numba

    namespace: dict[str, Any] = {"math": math, "np": np}
    exec(source, namespace)  # noqa: S102 (op names and numbers from the op table only)
    jit = numba.njit(error_model="numpy", boundscheck=False)
    return jit(namespace["forward"]), jit(namespace["backward"])


class Fused:
    """A program's per-sample passes, compiled by numba: ``forward(values, static)``
    and ``backward(values, grads, static, static_grads)`` run every sample in one call."""

    def __init__(self, steps: Sequence) -> None:
        require_numba()
        self.source, self._ix = write_source(steps)
        self._forward, self._backward = _compiled(self.source)

    def forward(self, values: np.ndarray, static: np.ndarray) -> int:
        """0, or 1 + the first sample an op refused (the caller raises its error)."""
        return self._forward(values, static, self._ix)

    def backward(self, values: np.ndarray, grads: np.ndarray, static: np.ndarray, static_grads: np.ndarray) -> None:
        self._backward(values, grads, static, static_grads, self._ix)
