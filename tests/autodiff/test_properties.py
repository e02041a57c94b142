"""Property-based: random expression DAGs with shared subexpressions, every gradient
against central finite differences of the same DAG evaluated with plain ``math``."""

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value
from tests.reference import central_difference, close

# name: (on Values, on floats). Each is smooth wherever it is used; relu, abs, maximum
# and minimum are only used where their input keeps away from the kink (see `assume` below).
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "pow": (lambda a, b: (1 + a * a) ** b.tanh(), lambda a, b: (1 + a * a) ** math.tanh(b)),
    "square": (lambda a, b: a**2, lambda a, b: a**2),
    "rsub": (lambda a, b: 2.5 - a, lambda a, b: 2.5 - a),
    "rdiv": (lambda a, b: 1.0 / (2 + a * a), lambda a, b: 1.0 / (2 + a * a)),
    "rpow": (lambda a, b: 1.7 ** a.tanh(), lambda a, b: 1.7 ** math.tanh(a)),
    "neg": (lambda a, b: -a, lambda a, b: -a),
    "exp": (lambda a, b: a.tanh().exp(), lambda a, b: math.exp(math.tanh(a))),
    "log": (lambda a, b: (1 + a * a).log(), lambda a, b: math.log(1 + a * a)),
    "sqrt": (lambda a, b: (1 + a * a).sqrt(), lambda a, b: math.sqrt(1 + a * a)),
    "sin": (lambda a, b: a.sin(), lambda a, b: math.sin(a)),
    "cos": (lambda a, b: a.cos(), lambda a, b: math.cos(a)),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: math.tanh(a)),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: 1 / (1 + math.exp(-a))),
    "softplus": (lambda a, b: a.softplus(), lambda a, b: math.log1p(math.exp(a))),
    "log_sigmoid": (lambda a, b: a.log_sigmoid(), lambda a, b: -math.log1p(math.exp(-a))),
    "sum": (lambda a, b: autodiff.sum([a, b, a, 0.5]), lambda a, b: a + b + a + 0.5),
    "dot": (lambda a, b: autodiff.dot([a, b], [b, 0.5]), lambda a, b: a * b + b * 0.5),
    "linear": (lambda a, b: autodiff.dot([a, b], [a, 0.5], bias=b), lambda a, b: a * a + b * 0.5 + b),
    "tan": (lambda a, b: a.tanh().tan(), lambda a, b: math.tan(math.tanh(a))),
    "arcsin": (lambda a, b: (0.5 * a.tanh()).arcsin(), lambda a, b: math.asin(0.5 * math.tanh(a))),
    "arccos": (lambda a, b: (0.5 * a.tanh()).arccos(), lambda a, b: math.acos(0.5 * math.tanh(a))),
    "arctan": (lambda a, b: a.arctan(), lambda a, b: math.atan(a)),
    "sinh": (lambda a, b: a.tanh().sinh(), lambda a, b: math.sinh(math.tanh(a))),
    "cosh": (lambda a, b: a.tanh().cosh(), lambda a, b: math.cosh(math.tanh(a))),
    "log2": (lambda a, b: (1 + a * a).log2(), lambda a, b: math.log2(1 + a * a)),
    "log10": (lambda a, b: (1 + a * a).log10(), lambda a, b: math.log10(1 + a * a)),
    "expm1": (lambda a, b: a.tanh().expm1(), lambda a, b: math.expm1(math.tanh(a))),
    "arctan2": (lambda a, b: autodiff.arctan2(a, 1 + b * b), lambda a, b: math.atan2(a, 1 + b * b)),
    "hypot": (lambda a, b: autodiff.hypot(a, 1 + b * b), lambda a, b: math.hypot(a, 1 + b * b)),
    "maximum": (lambda a, b: autodiff.maximum(a, -a), lambda a, b: max(a, -a)),  # |a|: its tie at 0
    "minimum": (lambda a, b: autodiff.minimum(a, -a), lambda a, b: min(a, -a)),
    "relu": (lambda a, b: a.relu(), lambda a, b: max(a, 0.0)),
    "abs": (lambda a, b: abs(a), lambda a, b: abs(a)),
}
KINKED = {"relu", "abs", "maximum", "minimum"}


@st.composite
def programs(draw):
    """Leaves, then steps (op, i, j) each reading two earlier nodes (often the same ones)."""
    leaves = draw(st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4))
    steps = []
    for k in range(draw(st.integers(1, 14))):
        available = len(leaves) + k
        steps.append((
            draw(st.sampled_from(sorted(OPS))),
            draw(st.integers(0, available - 1)),
            draw(st.integers(0, available - 1)),
        ))
    return leaves, steps


def run(steps, nodes, pick):
    """Evaluate the program; the output is the sum of every computed node."""
    nodes = list(nodes)
    for name, i, j in steps:
        nodes.append(pick(OPS[name])(nodes[i], nodes[j]))
    total = nodes[-1]
    for node in nodes[len(nodes) - len(steps):-1]:
        total = total + node
    return total, nodes


@settings(max_examples=300, deadline=None)
@given(programs())
def test_random_dag_gradients_match_finite_differences(program):
    leaves, steps = program
    floats_out = lambda *xs: run(steps, xs, lambda op: op[1])[0]  # noqa: E731
    total, nodes = run(steps, leaves, lambda op: op[1])
    assume(all(abs(x) < 1e3 for x in nodes))
    for name, i, _ in steps:  # finite differences are meaningless across a kink
        assume(name not in KINKED or abs(nodes[i]) > 1e-3)

    variables = [Value(x) for x in leaves]
    out, _ = run(steps, variables, lambda op: op[0])
    out.backward()
    assert close(out.data, total, rel=1e-12, abs_=1e-12)
    for k, variable in enumerate(variables):
        expected = central_difference(floats_out, leaves, k)
        assert close(variable.grad, expected, rel=1e-5, abs_=1e-6), (k, variable.grad, expected)
