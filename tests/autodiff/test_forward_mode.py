"""jvp, jacfwd, jacrev (jacobian) and hessian against PyTorch's torch.func in float64, and
jvp against central finite differences.

Every op of the table is pushed forward at IEEE edge values (zeros of both signs,
subnormals, +-1e308, infinities, nan, negatives) as well as ordinary ones. Numbers agree
when equal (a zero of either sign), both nan, or within 1e-12 relative: PyTorch's
forward-mode formulas group some sums otherwise than ours, and its vector math libraries
round the last bit of a transcendental function differently now and then. The few
differences left are each named by ``explained`` with its reason; any other fails.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
import torch
import torch.func as tf

import autodiff
from autodiff import Value, grad, hessian, jacfwd, jacobian, jacrev, jvp, ops
from tests.autodiff import test_new_ops
from tests.autodiff.test_fuzz_torch import BINARY as FUZZ_BINARY, EDGE, UNARY as FUZZ_UNARY, pytorch_flushes_log1p
from tests.reference import close

# The ops and their PyTorch forms, as the first-order tests name them: (ours, PyTorch's).
UNARY = {**FUZZ_UNARY, **{name: (o, t) for name, (o, t, _) in test_new_ops.UNARY.items()}}
BINARY = {**FUZZ_BINARY, **{name: (o, t) for name, (o, t, _) in test_new_ops.BINARY.items()}}

F = torch.nn.functional
# PyTorch's forward mode loads its decompositions with torch.jit.script the first time,
# which warns that torch.jit.script is deprecated: PyTorch's own business, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def tensor(x):
    return torch.tensor(x, dtype=torch.float64)


def agree(a: float, b: float, rel: float = 1e-12) -> bool:
    return (
        a == b
        or (math.isnan(a) and math.isnan(b))
        or (math.isfinite(a - b) and abs(a - b) <= rel * max(abs(a), abs(b)))
    )


def agree_all(ours, theirs, rel: float = 1e-12, atol: float = 0.0) -> bool:
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return ours.shape == theirs.shape and all(
        agree(a, b, rel) or (math.isfinite(a - b) and abs(a - b) <= atol) for a, b in zip(ours.ravel(), theirs.ravel())
    )


def explained(name: str, point: tuple) -> str | None:
    """Why ours and PyTorch's jvp may differ at this op and point; None if they may not."""
    if "log1p" in name and any(0 < abs(x) < 2.3e-308 and pytorch_flushes_log1p(x) for x in point):
        return "PyTorch's log1p flushes a subnormal to 0"
    if name == "logsumexp" and all(abs(x) >= 1e308 for x in point):
        # PyTorch's forward mode works the softmax out anew, exp(x - max) / sum; its
        # reverse mode, as ours, takes exp(x - out), which is 1 where out rounds to x.
        return "logsumexp near 1e308: PyTorch's forward mode and its reverse mode differ"
    if name == "dot" and any(abs(x) >= 1e308 for x in point):
        return "products near 1e308 summed in another order overflow in one of them"
    return None


# --- every op pushed forward: jvp against torch.func.jvp -----------------------------------------
TANGENTS_1 = [1.0, -2.5, 0.0, math.inf]
TANGENTS_2 = [(0.75, -1.5), (1.0, 0.0), (0.0, 1.0), (math.inf, 1.0)]


@pytest.mark.parametrize("name", list(UNARY))
def test_jvp_of_each_one_input_op_agrees_with_torch(name):
    ours_f, torch_f = UNARY[name]
    for x, t in itertools.product(EDGE, TANGENTS_1):
        ours = jvp(ours_f, (x,), (t,))
        out, tangent = tf.jvp(torch_f, (tensor(x),), (tensor(t),))
        if not agree_all(ours, (out.item(), tangent.item())):
            assert explained(name, (x,)), (name, x, t, ours, (out.item(), tangent.item()))


@pytest.mark.parametrize("name", list(BINARY))
def test_jvp_of_each_two_input_op_agrees_with_torch(name):
    ours_f, torch_f = BINARY[name]
    for (x, y), (tx, ty) in itertools.product(itertools.product(EDGE, repeat=2), TANGENTS_2):
        ours = jvp(ours_f, (x, y), (tx, ty))
        out, tangent = tf.jvp(torch_f, (tensor(x), tensor(y)), (tensor(tx), tensor(ty)))
        if not agree_all(ours, (out.item(), tangent.item())):
            assert explained(name, (x, y)), (name, x, y, tx, ty, ours, (out.item(), tangent.item()))


# The ops on a vector, with the ops that take one: (ours, PyTorch's, the vector's length).
VECTOR = {
    "sum": (lambda v: autodiff.sum(v), lambda t: t.sum(), 4),
    "dot": (lambda v: autodiff.dot(v[:2], v[2:]), lambda t: t[:2] @ t[2:], 4),
    "w·x+b": (lambda v: autodiff.dot(v[:2], v[2:4], bias=v[4]), lambda t: t[:2] @ t[2:4] + t[4], 5),
    "logsumexp": (lambda v: autodiff.logsumexp(v), lambda t: torch.logsumexp(t, 0), 3),
    "pick": (lambda v: autodiff.pick(v[:3], 1.0), lambda t: t[1], 3),
    "bce": (lambda v: autodiff.binary_cross_entropy(v[0], v[1]), lambda t: F.binary_cross_entropy(t[0], t[1]), 2),
}
VECTOR_POINTS = {  # ordinary numbers, zeros, negatives, large; bce's two in [0, 1], its edges included
    4: [[0.5, -1.5, 2.0, 0.25], [0.0, -0.0, 0.0, 3.0], [-1e3, 2.0, 1e3, -3.0], [1e300, 1e10, -1e-300, 4.0]],
    5: [[0.5, -1.5, 2.0, 0.25, -1.0], [0.0, 0.0, -0.0, 0.0, 0.0], [-1e3, 2.0, 1e3, -3.0, 1e-3]],
    3: [[0.5, -1.5, 2.0], [0.0, -0.0, 0.0], [-1e3, 1e3, 999.0], [-50.0, -60.0, -1e4]],
    2: [[0.3, 1.0], [0.3, 0.0], [0.9, 0.25], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1e-12, 0.5], [0.5, 0.5]],
}


def vector_tangents(n: int) -> list[list[float]]:
    return [
        [1.0] * n,
        [(-1.0) ** j * (j + 0.5) for j in range(n)],
        [0.0] * (n - 1) + [1.0],
        [math.inf] + [1.0] * (n - 1),
    ]


@pytest.mark.parametrize("name", list(VECTOR))
def test_jvp_of_each_op_on_many_inputs_agrees_with_torch(name):
    ours_f, torch_f, n = VECTOR[name]
    for v, t in itertools.product(VECTOR_POINTS[n], vector_tangents(n)):
        ours = jvp(ours_f, (v,), (t,))
        out, tangent = tf.jvp(torch_f, (tensor(v),), (tensor(t),))
        if not agree_all(ours, (out.item(), tangent.item())):
            assert explained(name, tuple(v)), (name, v, t, ours, (out.item(), tangent.item()))


def test_every_op_of_the_table_is_pushed_forward_above():
    # The ops the catalogues above build, read from their graphs: a new op of the table
    # fails here until it is tested. "id" is what jvp makes of a Value argument (below).
    built = set()
    for ours_f, _ in UNARY.values():
        built |= {node._op for node in autodiff.topological_order(ours_f(Value(0.5)))}
    for ours_f, _ in BINARY.values():
        built |= {node._op for node in autodiff.topological_order(ours_f(Value(0.5), Value(0.25)))}
    for ours_f, _, n in VECTOR.values():
        built |= {node._op for node in autodiff.topological_order(ours_f([Value(0.25)] * n))}
    table = {op for op in vars(ops).values() if isinstance(op, ops.Op) and op.arity != 0}
    assert table - built == {ops.IDENTITY}


# --- jvp against central finite differences ------------------------------------------------------
def network(x, y, z):
    hidden = [autodiff.dot([0.3, -0.7, 1.1], [x, y, z], bias=0.1).tanh(), (x * y - z / 3.0).sigmoid()]
    return autodiff.logsumexp(hidden) + (x * x + 1.0).log() * z**3 + abs(y).sqrt() + (x - z).softplus()


COMPOSITES = [  # (f on Values, points where it is smooth)
    (network, [(0.4, -1.2, 0.9), (-2.0, 0.5, 1.5), (0.0, 3.0, -0.25)]),
    (lambda x, y: (x**y) * (y / x).sin() - x.exp().log1p().cos(), [(1.5, 2.5), (0.7, -1.3), (3.0, 0.5)]),
    (
        lambda x, y: autodiff.sum([x.relu() * y, (-x).log_sigmoid(), x**2.5, 1.0 / (y * y + x)]),
        [(0.8, 1.9), (2.0, -0.4), (1.1, 0.3)],
    ),
]


def central(f, point, direction, eps=1e-6):
    """(f(x + eps t) - f(x - eps t)) / (2 eps): f's forward values only, no derivative rule."""
    up = [Value(x + eps * t) for x, t in zip(point, direction)]
    down = [Value(x - eps * t) for x, t in zip(point, direction)]
    return (f(*up).data - f(*down).data) / (2 * eps)


@pytest.mark.parametrize("case", range(len(COMPOSITES)))
def test_jvp_agrees_with_central_differences(case):
    f, points = COMPOSITES[case]
    rng = random.Random(case)
    for point in points:
        for _ in range(4):
            direction = [rng.uniform(-1, 1) for _ in point]
            value, tangent = jvp(f, point, direction)
            assert value == f(*map(Value, point)).data
            assert close(tangent, central(f, point, direction), rel=1e-6, abs_=1e-8), (point, direction)


def test_jvp_is_linear_in_the_tangent_and_is_the_gradient_along_it():
    point, direction = (0.4, -1.2, 0.9), (0.3, -2.0, 1.25)
    _, tangent = jvp(network, point, direction)
    gradient = autodiff.grad(network, argnums=(0, 1, 2))(*point)
    assert tangent == pytest.approx(sum(g * t for g, t in zip(gradient, direction)), rel=1e-13)
    _, doubled = jvp(network, point, [2 * t for t in direction])
    assert doubled == pytest.approx(2 * tangent, rel=1e-14)


# --- Jacobians ------------------------------------------------------------------------------
def layer(v, w):
    """A vector of three from a vector v of two and weights w of six (a small layer); an
    argument not differentiated comes in as it was given, a list of floats."""
    return [
        autodiff.dot(w[0:2], v).tanh(),
        autodiff.dot(w[2:4], v, bias=w[5]).sigmoid(),
        v[0] * w[4] + autodiff.dot([v[1]], [v[1]]),
    ]


def torch_layer(v, w):
    return torch.stack([torch.tanh(w[0:2] @ v), torch.sigmoid(w[2:4] @ v + w[5]), v[0] * w[4] + v[1] * v[1]])


LAYER_POINTS = [
    ([0.3, -1.2], [0.5, -0.25, 1.5, 0.75, -2.0, 0.1]),
    ([0.0, 0.0], [0.0, -0.0, 1.0, 1.0, 0.0, 0.0]),
    ([-30.0, 5.0], [2.0, 1.0, -1.0, 3.0, 1e3, -1e3]),
]


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0)])
def test_jacobians_of_a_layer_agree_with_torch(argnums):
    for v, w in LAYER_POINTS:
        expected = tf.jacrev(torch_layer, argnums=argnums)(tensor(v), tensor(w))
        expected_fwd = tf.jacfwd(torch_layer, argnums=argnums)(tensor(v), tensor(w))
        for ours, theirs in (
            (jacrev(layer, argnums)(v, w), expected),
            (jacobian(layer, argnums)(v, w), expected),
            (jacfwd(layer, argnums)(v, w), expected_fwd),
        ):
            if isinstance(argnums, int):
                ours, theirs = (ours,), (theirs,)
            assert isinstance(ours, tuple) and len(ours) == len(theirs)
            for o, t in zip(ours, theirs):
                assert isinstance(o, np.ndarray) and o.dtype == np.float64
                assert agree_all(o, t.numpy()), (argnums, v, w, o, t)


def test_jacobian_shapes_are_jax_shapes():
    scalar_of_vector = jacobian(lambda v: v[0] * v[1] * v[2])([1.0, 2.0, 3.0])
    assert scalar_of_vector.shape == (3,) and scalar_of_vector.tolist() == [6.0, 3.0, 2.0]
    vector_of_scalar = jacobian(lambda x: [x, x * x, 2.0])(3.0)
    assert vector_of_scalar.shape == (3,) and vector_of_scalar.tolist() == [1.0, 6.0, 0.0]
    scalar_of_scalar = jacfwd(lambda x: x**3)(2.0)
    assert scalar_of_scalar.shape == () and float(scalar_of_scalar) == 12.0
    assert jacrev(lambda v: autodiff.sum(v))(np.array([1.0, 2.0])).tolist() == [1.0, 1.0]
    assert jacfwd(lambda v: [v[0], v[1]], argnums=0)(np.zeros(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert jacobian(lambda x, scale: scale * x * x)(3.0, scale=0.5).tolist() == 3.0  # keywords: undifferentiated
    empty = jacrev(lambda v, x: x * autodiff.sum(v), argnums=(0, 1))([], 2.0)
    assert empty[0].shape == (0,) and float(empty[1]) == 0.0


EDGE_OUTPUTS = [  # outputs with points where they are not differentiable: (ours, PyTorch's)
    (lambda v: v[0].relu() * v[1], lambda t: torch.relu(t[0]) * t[1]),
    (lambda v: abs(v[1]) + v[0].sqrt(), lambda t: torch.abs(t[1]) + torch.sqrt(t[0])),
    (lambda v: v[0] ** v[1], lambda t: t[0] ** t[1]),
    (lambda v: v[1] / v[0], lambda t: t[1] / t[0]),
]


def test_jacobians_of_edge_points_agree_with_torch():
    # Non-differentiable points take PyTorch's choice (relu'(0) = abs'(0) = 0, sqrt'(0) = inf).
    # Forward mode's basis tangents of 0 meet infinite local derivatives (0 * inf is nan),
    # as in torch.func.jacfwd. A row of jacrev is its output's gradient alone, as grad gives
    # it; torch.func.jacrev (and JAX's) pull each one-hot cotangent back through the whole
    # of f, where another output's sqrt'(0) = inf times its cotangent 0 is nan: so each row
    # is checked against PyTorch's Jacobian of that output alone.
    def ours(v):
        return [o(v) for o, _ in EDGE_OUTPUTS]

    def theirs(t):
        return torch.stack([f(t) for _, f in EDGE_OUTPUTS])

    for v in ([0.0, 0.0], [0.0, 2.0], [-0.0, -1.0], [4.0, 0.0], [0.0, 0.5], [1e-310, 3.0], [-2.0, 0.5]):
        rows = np.stack([tf.jacrev(f)(tensor(v)).numpy() for _, f in EDGE_OUTPUTS])
        assert agree_all(jacrev(ours)(v), rows), v
        assert agree_all(jacfwd(ours)(v), tf.jacfwd(theirs)(tensor(v)).numpy()), v


# --- Hessians --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(UNARY))
def test_hessian_of_each_one_input_op_agrees_with_torch(name):
    ours_f, torch_f = UNARY[name]
    for x in EDGE:
        ours = hessian(ours_f)(x)
        theirs = tf.hessian(torch_f)(tensor(x))
        assert ours.shape == () and ours.dtype == np.float64
        if not agree_all(ours, theirs.numpy(force=True), rel=1e-12):  # force: abs'' is a ZeroTensor
            assert explained(name, (x,)), (name, x, ours, theirs.item())


def torch_network(t):
    x, y, z = t
    hidden = torch.stack([torch.tanh(tensor([0.3, -0.7, 1.1]) @ t + 0.1), torch.sigmoid(x * y - z / 3.0)])
    return torch.logsumexp(hidden, 0) + torch.log(x * x + 1.0) * z**3 + torch.sqrt(torch.abs(y)) + F.softplus(x - z)


@pytest.mark.parametrize("point", [(0.4, -1.2, 0.9), (-2.0, 0.5, 1.5), (0.0, 3.0, -0.25), (10.0, -4.0, 2.0)])
def test_hessian_of_a_network_agrees_with_torch_and_is_symmetric(point):
    ours = hessian(lambda v: network(*v))(list(point))
    theirs = tf.hessian(torch_network)(tensor(point)).numpy()
    # An entry far below the others is a difference of much larger terms: both are right
    # to float64's precision of the whole matrix (at (10, -4, 2), entry (0, 1) is 1.13e-7
    # and ours and PyTorch's are each 3e-10 relative from the exact value).
    assert ours.shape == (3, 3) and agree_all(ours, theirs, rel=1e-12, atol=1e-14 * np.abs(theirs).max())
    assert np.allclose(ours, ours.T, rtol=1e-13, atol=0)  # mixed partials in either order


def test_hessian_by_argument_blocks_agree_with_torch():
    def ours(v, s):
        return (v[0] * v[1] * s).sin() + s**3 * v[0]

    def theirs(v, s):
        return torch.sin(v[0] * v[1] * s) + s**3 * v[0]

    v, s = [0.7, -1.3], 0.4
    blocks = hessian(ours, argnums=(0, 1))(v, s)
    expected = tf.hessian(theirs, argnums=(0, 1))(tensor(v), tensor(s))
    for i, j in itertools.product(range(2), repeat=2):
        assert agree_all(blocks[i][j], expected[i][j].numpy(), rel=1e-13), (i, j)
    assert agree_all(blocks[0][1], blocks[1][0], rel=1e-13)


def test_hessian_of_a_vector_function_is_one_per_output():
    h = hessian(lambda x, y: [x * x * y, (x + y).exp()], argnums=(0, 1))(1.0, 2.0)
    assert [[float(b[0]), float(b[1])] for row in h for b in row] == [
        [4.0, math.exp(3.0)],
        [2.0, math.exp(3.0)],
        [2.0, math.exp(3.0)],
        [0.0, math.exp(3.0)],
    ]


# --- nesting: results stay connected, as grad's -----------------------------------------------------
def test_grad_of_jvp_and_jvp_of_grad_are_second_derivatives():
    def f(x):
        return x.sin() * x.exp()

    def torch_f(t):
        return torch.sin(t) * torch.exp(t)

    x = 0.7
    torch_second = tf.hessian(torch_f)(tensor(x)).item()
    assert agree(grad(lambda y: jvp(f, (y,), (1.0,))[1])(x), torch_second, rel=1e-14)
    value, second = jvp(grad(f), (x,), (1.0,))  # forward over reverse
    assert agree(second, torch_second, rel=1e-14)
    assert agree(value, tf.grad(torch_f)(tensor(x)).item(), rel=1e-14)
    inner = jvp(lambda y: jvp(f, (y,), (1.0,))[1], (x,), (1.0,))[1]  # forward over forward
    assert agree(inner, torch_second, rel=1e-14)


def test_a_hessian_vector_product_by_jvp_of_grad_agrees_with_torch():
    point, direction = (0.4, -1.2, 0.9), (1.0, 0.5, -2.0)
    _, ours = jvp(lambda *v: grad(network, argnums=(0, 1, 2))(*v), point, direction)
    _, theirs = tf.jvp(tf.grad(torch_network), (tensor(point),), (tensor(direction),))
    assert agree_all(ours, theirs.numpy(), rel=1e-12)


def test_jvp_stays_connected_to_the_values_it_depends_on():
    w = Value(1.5)
    _, tangent = jvp(lambda x: w * x * x, (2.0,), (1.0,))  # tangent 2 w x
    assert isinstance(tangent, Value) and tangent.data == 6.0
    tangent.backward()
    assert w.grad == 4.0  # d/dw (2 w x) = 2x
    x = Value(2.0)
    _, tangent = jvp(lambda y: y**3, (x,), (1.0,))  # 3 x^2, built as a graph from x
    assert autodiff.gradients(tangent, [x]) == (12.0,)


def test_matrices_refuse_where_numbers_would_cut_a_derivative_off():
    with pytest.raises(TypeError, match="jacobian gives numbers, but argument 0 of <lambda> is a Value"):
        jacobian(lambda x: x * x)(Value(2.0))
    with pytest.raises(TypeError, match="hessian gives numbers, but <lambda> uses a variable of an enclosing grad"):
        grad(lambda x: float(hessian(lambda y: x * y * y)(1.0)))(2.0)
    w = Value(3.0)  # a weight of the user's own: the numbers are what is asked for
    assert jacfwd(lambda v: [w * v[0], v[1]])([1.0, 2.0]).tolist() == [[3.0, 0.0], [0.0, 1.0]]


# --- results and errors ---------------------------------------------------------------------
def test_jvp_results_have_the_outputs_shape():
    assert jvp(lambda x: x * 2.0, (3.0,), (1.0,)) == (6.0, 2.0)
    assert jvp(lambda x: 5.0, (3.0,), (1.0,)) == (5.0, 0.0)
    assert jvp(lambda x, y: (x, y, 1.0), (3.0, 4.0), (1.0, 2.0)) == ((3.0, 4.0, 1.0), (1.0, 2.0, 0.0))
    value, tangent = jvp(lambda x, n: x**n, (2.0, 3), (1.0, 0.0))
    assert (value, tangent) == (8.0, 12.0) and type(tangent) is float


def test_jvp_names_its_bad_inputs():
    with pytest.raises(ValueError, match=r"jvp got 2 primal\(s\) and 1 tangent\(s\): give one tangent for each"):
        jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(
        TypeError, match=r"primals must be a tuple or list .* got float \(for one argument x, write \(x,\)\)"
    ):
        jvp(lambda x: x, 1.0, (1.0,))
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number, got str"):
        jvp(lambda x: x, (1.0,), ("a",))
    with pytest.raises(
        TypeError, match=r"tangents\[0\] must be a sequence of 2 numbers, as primals\[0\] is, got a list of 3"
    ):
        jvp(lambda v: v[0], ([1.0, 2.0],), ([1.0, 2.0, 3.0],))
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a number, as primals\[0\] is, got a list of 1"):
        jvp(lambda x: x, (1.0,), ([1.0],))
    with pytest.raises(TypeError, match=r"primals\[0\] must be a number or a vector .* got dict"):
        jvp(lambda x: x, ({},), (1.0,))
    with pytest.raises(TypeError, match=r"entry 1 of primals\[0\] must be a real number, got bool"):
        jvp(lambda v: v[0], ([1.0, True],), ([1.0, 1.0],))


def test_results_that_are_not_values_or_numbers_are_named():
    with pytest.raises(
        TypeError, match="the result of <lambda> must be a Value, a number, or a list or tuple of them, got dict"
    ):
        jvp(lambda x: {"y": x}, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="entry 0 of the result of <lambda> must be a real number, got list"):
        jacobian(lambda x: [[x]])(1.0)
    with pytest.raises(TypeError, match="argnums"):
        hessian(lambda x: x, argnums="0")
    with pytest.raises(ValueError, match="argnums asks for argument 1, but <lambda> got 1"):
        jacfwd(lambda x: x, argnums=1)(1.0)


def test_jvp_inside_a_compiled_function_is_each_samples_derivative():
    def f(y):
        return y.sin() * y

    program = autodiff.compile(lambda x: jvp(f, (x,), (1.0,))[1])
    xs = [0.0, 0.5, -1.25]
    assert program(np.array(xs)).tolist() == [jvp(f, (x,), (1.0,))[1] for x in xs]
    with pytest.raises(autodiff.TracingError, match="per-sample value"):  # numbers of one sample: refused
        autodiff.compile(lambda x: float(jacfwd(lambda y: y * x)(2.0)) * x)


def test_a_value_inside_a_vector_argument_stays_connected():
    w = Value(2.0)
    _, tangent = jvp(lambda v: v[0] * v[1], ([w, 3.0],), ([1.0, 1.0],))  # 3 + w
    assert isinstance(tangent, Value) and tangent.data == 5.0
    assert autodiff.gradients(tangent, [w]) == (1.0,)
