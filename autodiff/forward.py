"""Forward mode and matrices of derivatives, named and called as JAX's: ``jvp``,
``jacfwd``, ``jacrev`` (which ``jacobian`` is) and ``hessian``.

f is called once, on fresh leaves, and records its graph as usual. Forward mode then
walks that graph from the inputs to the outputs, giving each node a tangent made from
its inputs' tangents by the node's rule in the op table (``ops.py``): a local
derivative times the input's tangent, or, for an op with an ``input_grads`` rule, that
rule given the tangent in place of the gradient. For one input the two are the same
linear map, and the second is d out / d x · t in PyTorch's form (log: t / x; relu: 0
where it is off, whatever t), as PyTorch's own forward mode computes it. A node that
does not depend on the inputs has no tangent and is skipped, as PyTorch skips an
undefined tangent; an input given a tangent of 0 has one (0 · inf is nan, as there).

Arguments: each differentiated argument is a number, or a vector (a list, tuple or 1-D
numpy array of numbers), which f receives as a ``Value`` or a list of them. f returns
a ``Value`` or a number (a scalar), or a list or tuple of them (a vector).

``jvp`` returns numbers, or ``Value``s connected to the Values its result depends on
(an argument, or one f captures), exactly as ``grad`` does, so ``grad`` of a ``jvp``
and ``jvp`` of a ``grad`` differentiate again. The matrices are numpy arrays of
numbers, shaped as JAX's: the output's shape, then each argument's (twice for a
Hessian). Numbers carry no derivative, so they refuse a ``Value`` argument and a
variable of an enclosing ``grad``: a derivative taken through them would be 0.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ops
from .backward import gradients, topological_order_of
from .functional import (
    Argnums,
    _argument,
    _CallLeaf,
    _check_argnums,
    _check_function,
    _check_positions,
    _reaches_outside,
)
from .ops import Op
from .value import VALUE_MATH, Value, differentiating, leaves_marked, refuse_per_sample, to_float

Shape = tuple[int, ...]
Matrix = np.ndarray | tuple


# --- the public functions ------------------------------------------------------------------
def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J · tangents)``: f's value and its directional derivative along
    ``tangents``, in one forward pass (JAX's ``jvp``).

    ``primals`` holds f's arguments, ``tangents`` one tangent for each, of the same
    shape (a number, or a sequence as long as the argument). The results have f's
    output's shape: a number, or a tuple for a sequence.

    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))   # d/dx (x y) = y
    (12.0, 4.0)
    >>> jvp(lambda v: [v[0] * v[1], v[0].exp()], ([2.0, 5.0],), ([1.0, 0.0],))
    ((10.0, 7.38905609893065), (5.0, 7.38905609893065))
    """
    _check_function(f, "jvp")
    name = _name(f)
    primals, tangents = _arguments_tuple(primals, "primals", name), _arguments_tuple(tangents, "tangents", name)
    if len(tangents) != len(primals):
        raise ValueError(
            f"jvp got {len(primals)} primal(s) and {len(tangents)} tangent(s): give one tangent "
            f"for each argument of {name}, of the same shape"
        )
    shapes = [_shape(x, f"primals[{i}]") for i, x in enumerate(primals)]
    seeds_by_argument = [_tangent(t, shape, i) for i, (t, shape) in enumerate(zip(tangents, shapes))]
    with _called(f, primals, {}, tuple(range(len(primals))), name, "jvp") as call:
        connected = call.connected()
        seeds = {
            leaf: Value(t) if connected else t
            for leaves, ts in zip(call.inputs, seeds_by_argument)
            for leaf, t in zip(leaves, ts)
        }
        order = topological_order_of(call.outputs)
        if not connected:
            refuse_per_sample(order, "computes tangents as numbers (jvp) through")
        found = _push_forward(order, seeds, connected)
        outs = [out if connected else out._data for out in call.outputs]
        tans = [found.get(out, 0.0) for out in call.outputs]
        if connected:  # a tangent not computed from a Value is a number: a constant
            tans = [t if isinstance(t, Value) else Value(t) for t in tans]
    if call.out_shape == ():
        return outs[0], tans[0]
    return tuple(outs), tuple(tans)


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Matrix]:
    """A function giving f's Jacobian with respect to argument ``argnums`` by forward
    mode: one forward pass per input number, over the graph of one call of f.

    Shaped as JAX's: f's output shape, then the argument's; a tuple of such arrays for
    a tuple ``argnums``.

    >>> jacfwd(lambda v: [v[0] * v[1], v[1].sin()])([2.0, 0.0])
    array([[0., 2.],
           [0., 1.]])
    """
    positions = _check_argnums(argnums)

    def columns(call: _Call, leaves: list[Value]) -> np.ndarray:
        order = topological_order_of(call.outputs)
        refuse_per_sample(order, "computes a Jacobian (jacfwd) as numbers through")
        columns = [_tangents_along(order, leaves, j, call.outputs) for j in range(len(leaves))]
        return np.array(columns).reshape(len(leaves), len(call.outputs)).T

    return _matrix_function(f, argnums, positions, "jacfwd", columns, hessian=False)


def jacrev(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Matrix]:
    """A function giving f's Jacobian with respect to argument ``argnums`` by reverse
    mode: one backward pass per output number. Shaped as ``jacfwd``'s.

    >>> jacrev(lambda x, y: [x * y, x + y], argnums=(0, 1))(2.0, 3.0)
    (array([3., 1.]), array([2., 1.]))
    """
    return _by_reverse_mode(f, argnums, "jacrev")


def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Matrix]:
    """A function giving f's Jacobian: ``jacrev``, as JAX's ``jacobian`` is.

    >>> jacobian(lambda x, scale: [scale * x, x * x])(3.0, scale=2.0)
    array([2., 6.])
    """
    return _by_reverse_mode(f, argnums, "jacobian")


def _by_reverse_mode(f: Callable[..., Any], argnums: Argnums, kind: str) -> Callable[..., Matrix]:
    positions = _check_argnums(argnums)

    def rows(call: _Call, leaves: list[Value]) -> np.ndarray:
        # A row per output, its gradient alone (as grad gives it): see docs/trust.md.
        return np.array([gradients(out, leaves) for out in call.outputs]).reshape(len(call.outputs), len(leaves))

    return _matrix_function(f, argnums, positions, kind, rows, hessian=False)


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Matrix]:
    """A function giving f's matrix of second derivatives with respect to argument
    ``argnums``: the Jacobian of the gradient, forward mode over reverse (the gradient
    built as a graph by ``gradients(..., create_graph=True)``, then one forward pass
    per input number through it), as JAX's and ``torch.func``'s ``hessian``.

    Shaped as JAX's: f's output shape, then the argument's twice; for a tuple
    ``argnums``, a tuple of rows of blocks (``H[i][j]``: argument i, then j).

    >>> hessian(lambda v: v[0] ** 2 * v[1])([3.0, 2.0])
    array([[4., 6.],
           [6., 0.]])
    >>> float(hessian(lambda x: x.sin())(0.0))
    -0.0
    """
    positions = _check_argnums(argnums)

    def second_derivatives(call: _Call, leaves: list[Value]) -> np.ndarray:
        grads = [g for out in call.outputs for g in gradients(out, leaves, create_graph=True)]
        order = topological_order_of(grads)
        refuse_per_sample(order, "computes a Hessian as numbers through")
        columns = [_tangents_along(order, leaves, j, grads) for j in range(len(leaves))]
        return np.array(columns).reshape(len(leaves), len(call.outputs), len(leaves)).transpose(1, 2, 0)

    return _matrix_function(f, argnums, positions, "hessian", second_derivatives, hessian=True)


# --- forward mode on a recorded graph ---------------------------------------------------------
def _push_forward(order: list[Value], seeds: dict[Value, Any], connected: bool) -> dict[Value, Any]:
    """The tangent of every node of ``order`` (a topological order) that depends on
    one of ``seeds`` (the inputs' tangents), inputs first. ``connected``: the rules run
    on the nodes themselves, so each tangent is a ``Value`` (or a constant number)."""
    tangents = dict(seeds)
    for node in order:
        parents = node.parents
        if not parents or node in tangents:
            continue
        given = [tangents.get(p) for p in parents]
        if all(t is None for t in given):
            continue
        m: Any
        out: Any
        inputs: Any
        if connected:
            m, out, inputs = VALUE_MATH, node, parents
        else:
            m, out, inputs = ops.FLOAT_MATH, node._data, [p._data for p in parents]
        tangents[node] = _tangent_of(node._op, m, out, inputs, given)
    return tangents


def _tangent_of(op: Op, m: Any, out: Any, inputs: Sequence[Any], given: list[Any]) -> Any:
    """d out = Σ (d out / d input_i) · t_i over the inputs that have a tangent t_i.

    An ``input_grads`` rule takes t_i as its gradient, one call per input, and gives
    input i's term in PyTorch's form (for pick, n calls of n inputs each: a select may
    not be a product, since 0 · inf is nan); an op with a ``tangent`` rule has PyTorch's
    whole formula (see ops.py)."""
    if op.tangent is not None:
        return op.tangent(m, out, given, *inputs)
    if op.input_grads is None:
        terms = [d * t for d, t in zip(op.rule(m, out, inputs), given) if t is not None]
    else:
        terms = [op.grads(m, out, t, inputs)[i] for i, t in enumerate(given) if t is not None]
    return functools.reduce(operator.add, terms)


def _tangents_along(order: list[Value], leaves: list[Value], j: int, outputs: list[Value]) -> list[float]:
    """d output / d leaves[j] for each of ``outputs``: a forward pass with tangent 1 on
    leaf j and 0 on the others, as JAX's and torch.func's jacfwd push basis vectors."""
    seeds = dict.fromkeys(leaves, 0.0)
    seeds[leaves[j]] = 1.0
    found = _push_forward(order, seeds, connected=False)
    return [found.get(out, 0.0) for out in outputs]


# --- one call of f ---------------------------------------------------------------------
@dataclass
class _Call:
    """What one call of f made: the leaves of each differentiated argument (one for a
    number), and its outputs as Values (``out_shape`` () for a scalar, (m,) else)."""

    inputs: list[list[Value]]
    shapes: list[Shape]
    outputs: list[Value]
    out_shape: Shape
    marker: _CallLeaf
    recording: bool
    given_values: bool

    def connected(self) -> bool:
        """Whether the results must stay connected to Values from outside the call, as
        ``grad``'s do (functional.py)."""
        return self.recording and (self.given_values or _reaches_outside(self.outputs, self.marker))

    def inside_a_transformation(self) -> bool:
        """Whether the outputs depend on a Value argument or a variable of an enclosing
        ``grad`` (or jvp): a derivative through them would be taken."""
        return self.recording and (
            self.given_values or _reaches_outside(self.outputs, self.marker, enclosing_calls_only=True)
        )


@contextlib.contextmanager
def _called(
    f: Callable[..., Any], args: Sequence[Any], kwargs: dict, positions: tuple[int, ...], name: str, kind: str
) -> Iterator[_Call]:
    """Call f, the arguments at ``positions`` as fresh leaves, recording its graph; the
    block works on the graph while the call's leaves are still told apart (as grad's)."""
    given_values = any(_holds_a_value(x) for x in (*args, *kwargs.values()))
    marker = _CallLeaf.begin()
    with leaves_marked(marker) as recording:
        passed: list[Any] = []
        leaves: dict[int, list[Value]] = {}
        shapes: dict[int, Shape] = {}
        for i, x in enumerate(args):
            what = f"argument {i} of {name}"
            if i not in positions:
                passed.append(_argument(x, False, what))
                continue
            shapes[i] = _shape(x, what)
            if shapes[i] == ():
                leaves[i] = [_argument(x, True, what)]
                passed.append(leaves[i][0])
            else:
                leaves[i] = [_argument(xj, True, f"entry {j} of {what}") for j, xj in enumerate(x)]
                passed.append(list(leaves[i]))
        kwargs = {key: _argument(x, False, f"argument {key} of {name}") for key, x in kwargs.items()}
        differentiated = {
            leaf: f"{'argument' if shapes[i] == () else f'entry {j} of argument'} {i} of {name}, which {kind} differentiates,"
            for i, arguments in leaves.items()
            for j, leaf in enumerate(arguments)
        }
        with differentiating(differentiated):
            result = f(*passed, **kwargs)
        outputs, out_shape = _as_outputs(result, name)
        yield _Call(
            [leaves[i] for i in positions],
            [shapes[i] for i in positions],
            outputs,
            out_shape,
            marker,
            recording,
            given_values,
        )


def _matrix_function(
    f: Callable[..., Any],
    argnums: Argnums,
    positions: tuple[int, ...],
    kind: str,
    compute: Callable[[_Call, list[Value]], np.ndarray],
    hessian: bool,
) -> Callable[..., Matrix]:
    """The function jacfwd, jacrev or hessian return: call f, refuse where numbers would
    cut a derivative off, ``compute`` the flat matrix (outputs, inputs[, inputs]) and
    shape it as JAX does."""
    _check_function(f, kind)
    name = _name(f)

    @functools.wraps(f)
    def matrix(*args: Any, **kwargs: Any) -> Matrix:
        _check_positions(positions, args, kwargs, name)
        with _called(f, args, kwargs, positions, name, kind) as call:
            if call.inside_a_transformation():
                raise TypeError(_cut_off(kind, name, call, args))
            flat = compute(call, [leaf for leaves in call.inputs for leaf in leaves])
        return _shaped(flat, call, isinstance(argnums, int), hessian)

    return matrix


def _cut_off(kind: str, name: str, call: _Call, args: Sequence[Any]) -> str:
    """Why a matrix of numbers is refused here, and what to do instead."""
    valued = [i for i, x in enumerate(args) if _holds_a_value(x)]
    why = (
        f"argument {valued[0]} of {name} is a Value"
        if valued
        else f"{name} uses a variable of an enclosing grad or jvp"
    )
    return (
        f"{kind} gives numbers, but {why}: a derivative taken through the numbers would "
        "silently be 0. Pass plain numbers (v.data) if the numbers are what you want; to "
        "differentiate further use autodiff.grad or autodiff.jvp, whose results stay "
        "connected (a Hessian-vector product is jvp(grad(f), (x,), (v,)))"
    )


def _shaped(flat: np.ndarray, call: _Call, one_argument: bool, hessian: bool) -> Matrix:
    """``flat`` (outputs, inputs[, inputs]) as JAX shapes it: the output's shape, then
    each argument's; blocks per argument, a tuple (of rows, for a Hessian) for a tuple
    argnums."""
    ends = np.cumsum([0] + [len(leaves) for leaves in call.inputs])
    spans = [(slice(a, b), shape) for a, b, shape in zip(ends[:-1], ends[1:], call.shapes)]

    def block(*parts: tuple[slice, Shape]) -> np.ndarray:
        piece = flat[(slice(None),) + tuple(s for s, _ in parts)]
        return piece.reshape(call.out_shape + tuple(d for _, shape in parts for d in shape))

    if not hessian:
        blocks: Matrix = tuple(block(span) for span in spans)
    else:
        blocks = tuple(tuple(block(row, column) for column in spans) for row in spans)
    if one_argument:
        return blocks[0][0] if hessian else blocks[0]
    return blocks


# --- checking what goes in and comes out ---------------------------------------------------
def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", "f")


def _is_vector(x: Any) -> bool:
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim == 1)


def _holds_a_value(x: Any) -> bool:
    return isinstance(x, Value) or (_is_vector(x) and any(isinstance(xj, Value) for xj in x))


def _shape(x: Any, what: str) -> Shape:
    """() for a number (or Value), (n,) for a vector; a TypeError for anything else."""
    if isinstance(x, (Value, numbers.Real)) and not isinstance(x, (bool, np.bool_)):
        return ()
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return ()
    if _is_vector(x):
        for j, xj in enumerate(x):
            if not isinstance(xj, Value):
                to_float(xj, f"entry {j} of {what}")
        return (len(x),)
    shown = f"a numpy array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
    raise TypeError(f"{what} must be a number or a vector (a list, tuple or 1-D array of numbers), got {shown}")


def _arguments_tuple(xs: Any, what: str, name: str) -> tuple:
    if not isinstance(xs, (list, tuple)):
        raise TypeError(
            f"{what} must be a tuple or list with one entry per argument of {name}, got "
            f"{type(xs).__name__} (for one argument x, write (x,))"
        )
    return tuple(xs)


def _tangent(t: Any, shape: Shape, i: int) -> list[float]:
    """Argument i's tangent as a list of numbers (one for a number), checked against the
    argument's shape."""
    what = f"tangents[{i}]"
    if shape == ():
        if _is_vector(t):
            raise TypeError(f"{what} must be a number, as primals[{i}] is, got a {type(t).__name__} of {len(t)}")
        return [to_float(t, what)]
    if not _is_vector(t) or len(t) != shape[0]:
        got = f"a {type(t).__name__} of {len(t)}" if _is_vector(t) else type(t).__name__
        raise TypeError(f"{what} must be a sequence of {shape[0]} numbers, as primals[{i}] is, got {got}")
    return [to_float(tj, f"entry {j} of {what}") for j, tj in enumerate(t)]


def _as_outputs(out: Any, name: str) -> tuple[list[Value], Shape]:
    """f's result as Values (a number as a constant) and its shape: () or (m,)."""
    if isinstance(out, Value):
        return [out], ()
    if _is_vector(out):
        return [
            o if isinstance(o, Value) else Value(to_float(o, f"entry {j} of the result of {name}"))
            for j, o in enumerate(out)
        ], (len(out),)
    if isinstance(out, (numbers.Real, np.ndarray)) and not isinstance(out, (bool, np.bool_)):
        return [Value(to_float(out, f"the result of {name}"))], ()
    raise TypeError(
        f"the result of {name} must be a Value, a number, or a list or tuple of them, got {type(out).__name__}"
    )
