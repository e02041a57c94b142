"""The ops of issue #14: tan, arcsin, arccos, arctan, sinh, cosh, log2, log10, expm1, floor,
ceil, sign, arctan2, hypot, maximum, minimum, % (and //, which %'s rule uses).

Each is checked against PyTorch float64 one number at a time, bit for bit, over IEEE edge
values and with incoming gradients of 1, -2.5 and inf; to the second order against
PyTorch and against central finite differences; in ``compile`` on both backends against
the scalar engine; and every place that lists the ops is checked to list them all.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import autodiff
from autodiff import TracingError, Value, fused, gradients, ops
from autodiff.local_derivatives import _RULES
from tests.reference import central_difference, close

inf, nan = math.inf, math.nan

UNARY = {  # op name: (ours on a Value, PyTorch's on a tensor, the plain-float function)
    "tan": (Value.tan, torch.tan, math.tan),
    "arcsin": (Value.arcsin, torch.asin, math.asin),
    "arccos": (Value.arccos, torch.acos, math.acos),
    "arctan": (Value.arctan, torch.atan, math.atan),
    "sinh": (Value.sinh, torch.sinh, math.sinh),
    "cosh": (Value.cosh, torch.cosh, math.cosh),
    "log2": (Value.log2, torch.log2, math.log2),
    "log10": (Value.log10, torch.log10, math.log10),
    "expm1": (Value.expm1, torch.expm1, math.expm1),
    "floor": (Value.floor, torch.floor, math.floor),
    "ceil": (Value.ceil, torch.ceil, math.ceil),
    "sign": (Value.sign, torch.sign, lambda x: math.copysign(1.0, x) if x else 0.0),
}
BINARY = {
    "arctan2": (autodiff.arctan2, torch.atan2, math.atan2),
    "hypot": (autodiff.hypot, torch.hypot, math.hypot),
    "maximum": (autodiff.maximum, torch.maximum, max),
    "minimum": (autodiff.minimum, torch.minimum, min),
    "%": (operator.mod, torch.remainder, operator.mod),
    "//": (operator.floordiv, lambda a, b: torch.div(a, b, rounding_mode="floor"), operator.floordiv),
}

# Where the C library (ours) and PyTorch's vector math round the last bit apart now and
# then (acos(0.5): 1.0471975511965979 here, ...976 there), as for exp and log
# (docs/trust.md): the forward, and what the rule computes from it, differ by a few units
# in the last place. Every other op, and every edge, is equal to the bit.
LAST_BITS = {"tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "log2", "log10", "expm1", "arctan2", "hypot", "exp", "sqrt"}

EDGE = [0.0, -0.0, 5e-324, 2.2e-308, 1e308, -1e308, inf, -inf, nan, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0,
        3.0, -3.0, 0.1, 7.5, 1 - 2 ** -53, -(1 - 2 ** -53), 1 + 2 ** -52, 710.0, -800.0]
SEEDS = [1.0, -2.5, inf]


def same_bits(a: float, b: float) -> bool:
    """Equal to the last bit, the sign of zero included; any nan matches any nan."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def last_bits(a: float, b: float) -> bool:
    return same_bits(a, b) or (math.isfinite(a) and math.isfinite(b) and (a > 0) == (b > 0)
                               and abs(a - b) <= 1e-13 * max(abs(a), abs(b)))


def ours(build, point, seed=1.0):
    leaves = [Value(x) for x in point]
    out = build(*leaves)
    out.backward(seed)
    return (out.data, *(leaf.grad for leaf in leaves))


def pytorch(build, point, seed=1.0):
    """PyTorch float64 on one case: 0-dimensional tensors, one call."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = build(*leaves)
    grads = torch.autograd.grad(out, leaves, torch.tensor(seed, dtype=torch.float64), allow_unused=True)
    return (out.item(), *(0.0 if g is None else g.item() for g in grads))


def agree(names, point, seed, ours_build, their_build):
    mine, theirs = ours(ours_build, point, seed), pytorch(their_build, point, seed)
    equal = last_bits if set(names) & LAST_BITS else same_bits
    return all(map(equal, mine, theirs)), (names, point, seed, mine, theirs)


# --- first order, against PyTorch float64 ------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_each_one_input_op_is_pytorchs_on_every_edge_value_and_incoming_gradient(name):
    f, t, _ = UNARY[name]
    for x, seed in itertools.product(EDGE, SEEDS):
        ok, why = agree([name], (x,), seed, f, t)
        assert ok, why


@pytest.mark.parametrize("name", BINARY)
def test_each_two_input_op_is_pytorchs_on_every_pair_of_edge_values(name):
    f, t, _ = BINARY[name]
    for point, seed in itertools.product(itertools.product(EDGE, repeat=2), SEEDS):
        ok, why = agree([name], point, seed, f, t)
        assert ok, why


INNER = {"exp": (Value.exp, torch.exp), "sqrt": (Value.sqrt, torch.sqrt), "square": (lambda v: v * v, lambda t: t * t),
         **{name: (f, t) for name, (f, t, _) in UNARY.items()}}


@pytest.mark.parametrize("name", UNARY)
def test_each_one_input_op_composes_as_in_pytorch(name):
    # f(g(x)) for g among the new ops and a few old ones: the incoming gradient at f is
    # g's output's, so infinities, nan and signed zeros meet every rule
    f, t, _ = UNARY[name]
    for (inner, (g, tg)), x in itertools.product(INNER.items(), EDGE):
        ok, why = agree([name, inner], (x,), 1.0, lambda v, g=g: f(g(v)), lambda v, tg=tg: t(tg(v)))
        assert ok, why


@pytest.mark.parametrize("name", BINARY)
def test_each_two_input_op_composes_as_in_pytorch(name):
    f, t, _ = BINARY[name]
    for inner in ("exp", "tan", "sign", "square"):
        g, tg = INNER[inner]
        for point in itertools.product(EDGE[::2], repeat=2):
            for build, their in ((lambda a, b, g=g: g(f(a, b)), lambda a, b, tg=tg: tg(t(a, b))),
                                 (lambda a, b, g=g: f(g(a), b), lambda a, b, tg=tg: t(tg(a), b)),
                                 (lambda a, b, g=g: f(a, g(b)), lambda a, b, tg=tg: t(a, tg(b)))):
                ok, why = agree([name, inner], point, 1.0, build, their)
                assert ok, why


def test_the_rules_are_pytorchs_formulas_to_the_last_bit():
    # Where the forwards agree to the bit (and cosh and sinh, which sinh's and cosh's
    # rules compute), the gradients must too: the rule's constants and the order of its
    # products and quotients show in the last bit. Random points, incoming gradients not 1.
    rng = np.random.default_rng(3)
    inner = {"sinh": (torch.cosh, math.cosh), "cosh": (torch.sinh, math.sinh)}
    checked = 0
    for name, (f, t, _) in {**UNARY, **BINARY}.items():
        arity = 1 if name in UNARY else 2
        for _ in range(300):
            point = tuple(rng.uniform(-1, 1, arity) * (1 if name in ("arcsin", "arccos") else 6))
            seed = float(rng.uniform(-3, 3))
            if not same_bits(ours(f, point)[0], pytorch(t, point)[0]):
                continue
            if name in inner:
                (their_inner, our_inner) = inner[name]
                if not same_bits(their_inner(torch.tensor(point[0], dtype=torch.float64)).item(), our_inner(point[0])):
                    continue
            mine, theirs = ours(f, point, seed), pytorch(t, point, seed)
            assert all(map(same_bits, mine, theirs)), (name, point, seed, mine, theirs)
            checked += 1
    assert checked > 4000


def test_the_edges_the_issue_names():
    # arcsin and arccos at +-1: an infinite gradient; outside [-1, 1]: nan
    assert ours(Value.arcsin, (1.0,)) == (math.pi / 2, inf) and ours(Value.arcsin, (-1.0,))[1] == inf
    assert ours(Value.arccos, (1.0,)) == (0.0, -inf) and ours(Value.arccos, (-1.0,))[1] == -inf
    assert all(math.isnan(v) for v in ours(Value.arcsin, (1.5,)) + ours(Value.arccos, (-1.5,)))
    # arctan2 at the origin: C's signed angles; gradients 0 of PyTorch's signs, not nan
    angles = [ours(autodiff.arctan2, (y, x)) for y in (0.0, -0.0) for x in (0.0, -0.0)]
    assert all(map(same_bits, [a[0] for a in angles], [0.0, math.pi, -0.0, -math.pi]))
    assert all(map(same_bits, angles[0][1:], (0.0, -0.0)))
    assert ours(autodiff.arctan2, (inf, -inf))[0] == 3 * math.pi / 4
    # floor, ceil, sign: gradient 0 everywhere, under an infinite incoming gradient too
    for f in (Value.floor, Value.ceil, Value.sign):
        for x in (2.0, 0.0, -0.0, -2.5, nan, inf):
            assert same_bits(ours(f, (x,), inf)[1], 0.0)
    assert ours(Value.sign, (nan,))[0] == 0.0 and same_bits(ours(Value.ceil, (-0.5,))[0], -0.0)
    # maximum and minimum: half each on a tie; nan wins and passes the gradient to both
    assert ours(autodiff.maximum, (2.0, 2.0)) == (2.0, 0.5, 0.5) == ours(autodiff.minimum, (2.0, 2.0))
    assert ours(autodiff.maximum, (3.0, 2.0)) == (3.0, 1.0, 0.0) and ours(autodiff.minimum, (3.0, 2.0)) == (2.0, 0.0, 1.0)
    top = ours(autodiff.maximum, (nan, 2.0))
    assert math.isnan(top[0]) and top[1:] == (1.0, 1.0)
    # mod: d/da = 1, d/db = -(a // b); a zero divisor gives nan and an infinite d/db
    assert ours(operator.mod, (-5.0, 3.0)) == (1.0, 1.0, 2.0)
    assert ours(operator.mod, (5.0, -3.0)) == (-1.0, 1.0, 2.0)
    zero_divisor = ours(operator.mod, (1.0, 0.0))
    assert math.isnan(zero_divisor[0]) and zero_divisor[1:] == (1.0, -inf)
    assert ours(operator.mod, (-1.0, inf)) == (inf, 1.0, 1.0)
    assert same_bits(ours(operator.mod, (-4.0, 2.0))[0], -0.0)  # fmod's zero, as PyTorch (Python's % gives 0.0)


def test_mod_is_pythons_percent_wherever_python_answers():
    numbers = [-7.5, -3.0, -1.0, -0.25, 0.0, 0.1, 1.0, 2.5, 3.0, 1e300, inf, -inf]
    for a, b in itertools.product(numbers, repeat=2):
        if b != 0 and not math.isinf(a):
            assert (Value(a) % b).data == a % b and (a % Value(b)).data == a % b, (a, b)
            assert (Value(a) // Value(b)).data == a // b, (a, b)


# --- second order ---------------------------------------------------------------------------
def hessian_ours(build, point):
    leaves = [Value(x) for x in point]
    first = gradients(build(*leaves), leaves, create_graph=True)
    return [g.data for g in first], [list(gradients(g, leaves)) for g in first]


def hessian_torch(build, point):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    first = torch.autograd.grad(build(*leaves), leaves, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(leaves))
            continue
        second = torch.autograd.grad(g, leaves, retain_graph=True, allow_unused=True)
        rows.append([0.0 if h is None else h.item() for h in second])
    return [0.0 if g is None else g.item() for g in first], rows


def near(a: float, b: float, rel: float = 1e-10) -> bool:
    return same_bits(a, b) or a == b or abs(a - b) <= 1e-300 + rel * max(abs(a), abs(b))


# Finite points, ties and zeros included. Second derivatives part from PyTorch's where a
# rule selects: its constant 0 carries no graph, where PyTorch's masked 0 multiplies what
# lies behind it (0 × nan is nan under an infinite input; arctan2's second derivatives at
# the origin are nan there, 0 here), as for relu (docs/trust.md).
POINTS_2 = [(0.3, 1.7), (-0.4, 0.9), (2.5, -0.7), (-1.2, -3.1), (1.5, 1.5), (0.0, 2.0), (7.0, 2.0),
            (-0.0, -1.0), (-3.0, -3.0)]


@pytest.mark.parametrize("name", BINARY)
def test_the_hessian_of_each_two_input_op_is_pytorchs(name):
    f, t, _ = BINARY[name]
    for outer, (g, tg) in (("id", (lambda v: v, lambda v: v)), ("tan", INNER["tan"]), ("square", INNER["square"])):
        for point in POINTS_2:
            mine = hessian_ours(lambda a, b, g=g: g(f(a, b)) * a, point)
            theirs = hessian_torch(lambda a, b, tg=tg: tg(t(a, b)) * a, point)
            flat = [*mine[0], *itertools.chain(*mine[1])], [*theirs[0], *itertools.chain(*theirs[1])]
            assert all(map(near, *flat)), (name, outer, point, mine, theirs)


@pytest.mark.parametrize("name", UNARY)
def test_third_derivatives_of_each_one_input_op_are_pytorchs(name):
    f, t, _ = UNARY[name]
    for x in (-2.0, -0.7, 0.3, 0.9, 1.0, 2.2):
        v, tv = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
        y, ty = f(v), t(tv)
        for _ in range(3):
            (y,) = gradients(y, [v], create_graph=True)
            ty = torch.autograd.grad(ty, tv, create_graph=True)[0] if ty.requires_grad else torch.zeros(())
            assert near(y.data, ty.item(), 1e-12), (name, x, y.data, ty.item())


# --- against central finite differences in float64 ----------------------------------------
def second_difference(f, point, i, j, h=1e-4):
    """d² f / dx_i dx_j by central differences of the plain-float ``f``."""
    def at(di, dj):
        p = list(point)
        p[i] += di
        p[j] += dj
        return f(*p)
    if i == j:
        return (at(h, 0) - 2 * f(*point) + at(-h, 0)) / (h * h)
    return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)


# Interior points: away from the steps of floor, ceil, sign, % and //, the ties of
# maximum and minimum, and the edges of arcsin's domain.
SMOOTH_1 = [-2.3, -0.7, 0.35, 0.6, 1.3, 2.9]
SMOOTH_2 = [(0.3, 1.7), (-0.45, 0.9), (2.5, -0.7), (-1.2, -3.1), (7.3, 2.2)]


def domain(name, x):
    return {"arcsin": abs(x) < 1, "arccos": abs(x) < 1, "log2": x > 0, "log10": x > 0}.get(name, True)


@pytest.mark.parametrize("name", UNARY)
def test_first_and_second_derivatives_of_each_one_input_op_match_finite_differences(name):
    f, _, plain = UNARY[name]

    def reference(u):
        return plain(u) * u

    for x in (x for x in SMOOTH_1 if domain(name, x)):
        point = (x,)
        first, (second,) = hessian_ours(lambda v: f(v) * v, point)
        assert close(first[0], central_difference(reference, point, 0), rel=1e-6), (name, x)
        assert close(second[0], second_difference(reference, point, 0, 0), rel=1e-5, abs_=1e-5), (name, x)


@pytest.mark.parametrize("name", BINARY)
def test_first_and_second_derivatives_of_each_two_input_op_match_finite_differences(name):
    f, _, plain = BINARY[name]

    def reference(a, b):
        return plain(a, b) * a * b

    for point in SMOOTH_2:
        first, second = hessian_ours(lambda a, b: f(a, b) * a * b, point)
        for i in range(2):
            assert close(first[i], central_difference(reference, point, i), rel=1e-6), (name, point, i)
            for j in range(2):
                expected = second_difference(reference, point, i, j)
                assert close(second[i][j], expected, rel=1e-5, abs_=1e-5), (name, point, i, j)


# --- compile: both backends against the scalar engine --------------------------------------
SPECIAL = [0.0, -0.0, 1.5, -2.0, inf, -inf, nan, 1e-310, 800.0, -800.0, 0.5, -0.5, 1.0, -1.0, 0.1, 3.0]


def every_new_op(*xs):
    """Each op on inputs of its own, times an input: each input's gradient is one op's."""
    unary, binary = list(UNARY.values()), list(BINARY.values())
    nodes = [f(x) * x for (f, _, _), x in zip(unary, xs)]
    pairs = xs[len(unary):]
    nodes += [f(pairs[2 * i], pairs[2 * i + 1]) * pairs[2 * i] for i, (f, _, _) in enumerate(binary)]
    return autodiff.sum(nodes)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not fused.numba_available(), reason="numba is not installed (pip install 'autodiff[fast]')"))])
def test_compile_equals_the_scalar_engine_on_every_pair_of_corners(backend):
    x, y = np.repeat(SPECIAL, len(SPECIAL)), np.tile(SPECIAL, len(SPECIAL))
    columns = [x] * len(UNARY) + [x, y] * len(BINARY)
    program = autodiff.compile(every_new_op, inputs=len(columns), backend=backend)
    values = program(*columns)
    grads = program.backward(weights=np.ones(len(x)))
    for s in range(len(x)):
        expected = ours(every_new_op, [c[s] for c in columns])
        got = (values[s], *(g[s] for g in grads))
        assert all(same_bits(a, b) or near(a, b, 1e-12) for a, b in zip(got, expected)), (s, x[s], y[s])


def smooth_second_order(x, y):
    """A gradient taken inside the compiled function: its rules, differentiated again."""
    out = (x.tan() * y.arctan() + autodiff.hypot(x, y).log2() + x.arcsin() * y.sinh() + x % y
           + x.cosh().log10() * y.expm1() + x.arccos() * y.floor() + (x // y) * x.sign())
    gx, gy = gradients(out, [x, y], create_graph=True)
    return gx * gx + gy


@pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not fused.numba_available(), reason="numba is not installed (pip install 'autodiff[fast]')"))])
def test_compiled_second_order_equals_the_scalar_engine(backend):
    xs, ys = np.array([0.3, -0.2, 0.7, 0.05]), np.array([1.5, -2.0, 0.4, -0.3])
    program = autodiff.compile(smooth_second_order, inputs=2, backend=backend)
    values, grads = program(xs, ys), program.backward(weights=np.ones(len(xs)))
    for s, point in enumerate(zip(xs, ys)):
        expected = ours(smooth_second_order, point)
        assert all(near(a, b, 1e-12) for a, b in zip((values[s], grads[0][s], grads[1][s]), expected))


def test_a_rule_that_chooses_by_the_number_is_refused_inside_compile_with_a_reason():
    def tie_split(x, y):
        (gx,) = gradients(autodiff.maximum(x, y) * x, [x], create_graph=True)
        return gx
    with pytest.raises(TracingError, match="maximum"):
        autodiff.compile(tie_split, inputs=2)


# --- every place that lists the ops lists the new ones -------------------------------------
TABLE = [op for op in vars(ops).values() if isinstance(op, ops.Op) and op is not ops.LEAF]


def test_the_tests_cover_every_new_op_against_pytorch():
    new = {op.name for op in TABLE} - OLD_OPS
    assert new == set(UNARY) | set(BINARY)


OLD_OPS = {"+", "-", "*", "/", "neg", "**", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid",
           "softplus", "log_sigmoid", "relu", "abs", "id", "sum", "dot", "w·x+b", "logsumexp", "bce", "pick"}


def test_every_math_namespace_offers_what_every_other_does():
    # a rule may call any m.name: each of the four namespaces must have it
    from autodiff.value import VALUE_MATH
    names = [set(vars(m)) for m in (ops.FLOAT_MATH, ops.ARRAY_MATH, VALUE_MATH, fused.CODE_MATH)]
    assert all(n == names[0] for n in names), [sorted(n ^ names[0]) for n in names]


def test_every_one_input_op_is_a_value_method_of_its_name():
    for name, op in ops.UNARY_METHODS.items():
        assert getattr(Value(0.5), name)().op == name == op.name


def test_every_op_has_a_numba_forward_and_a_textbook_derivative():
    written_apart = {ops.SUM, ops.DOT, ops.LINEAR, ops.LOGSUMEXP, ops.PICK, ops.BCE}  # fused.py writes these itself
    assert [op.name for op in TABLE if op.name not in fused.FORWARDS and op not in written_apart] == []
    assert [op.name for op in TABLE if op.name not in _RULES] == ["pick"]  # an index: shown by its number


def test_the_readme_lists_every_op():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("The ops, each one entry"):].split("\n\n")[0]
    listed = set(re.findall(r"[\w*/%+-]+", paragraph))
    names = set(ops.UNARY_METHODS) | {"arctan2", "hypot", "maximum", "minimum", "%", "//", "abs", "**"}
    assert names <= listed, sorted(names - listed)


# --- explain, the public functions and their errors ----------------------------------------
def test_explain_writes_each_new_derivative_as_a_textbook_does():
    a, b = Value(0.5, label="a"), Value(-2.0, label="b")
    text = str(autodiff.explain(autodiff.maximum(a % b, autodiff.arctan2(a, b)).arcsin() + a.log2(), a))
    for formula in ("1/√(1 − u", "b/(a² + b²)", "1 if u", "a % b", "1/(a·ln 2)"):
        assert formula in text, (formula, text)


@pytest.mark.parametrize("function", [autodiff.arctan2, autodiff.hypot, autodiff.maximum, autodiff.minimum])
def test_the_two_input_functions_take_numbers_and_name_a_wrong_argument(function):
    assert function(1.0, 2).data == function(Value(1.0), Value(2.0)).data
    with pytest.raises(TypeError, match=rf"{function.__name__}'s argument \w+ must be a real number, got str"):
        function(1.0, "2")
    with pytest.raises(TypeError, match="unsupported operand"):
        Value(1.0) % "2"
