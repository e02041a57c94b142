"""Reverse mode: walk the graph from the output back to its inputs, applying the chain rule.

For each node, last to first: ``gradient[parent] += local_grad * gradient[node]``, with
the local gradients given by the node's op (``ops.py``). The walks are iterative, so a
graph of any depth works. ``backward`` keeps each node's gradient in the node's own
``_pass`` entry until the pass is whole (no table of nodes: see ``_walk``); the other
passes (``gradients``, ``create_graph``) keep theirs in a dict. Neither creates a
reference between nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, cast, overload

from . import ops
from .arguments import values_list
from .leaves import gradient_lock
from .value import VALUE_MATH, Real, Value, recording, refuse_per_sample, to_float

_LEAF = ops.LEAF


def topological_order(root: Value) -> list[Value]:
    """Every node of ``root``'s graph once, each after all of its parents (inputs first).

    The order is deterministic: parents are visited in the order the op took them.

    >>> a = Value(1.0, label="a"); b = a * 2; c = b + a
    >>> [v.label or v.op for v in topological_order(c)]
    ['a', '', '*', '+']
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    with gradient_lock:
        order = _walk(root)
        for node in order:
            node._pass = None
    return order


def topological_order_of(nodes: Iterable[Value]) -> list[Value]:
    """Every node of the graphs of ``nodes`` once, each after its parents: the graphs'
    ``topological_order``s joined, a node shared between them kept at its first place.

    >>> a = Value(1.0, label="a"); b = a * 2; c = a + 1
    >>> [v.label or v.op for v in topological_order_of([b, c])]
    ['a', '', '*', '', '+']
    """
    seen: dict[Value, None] = {}
    for node in nodes:
        if node not in seen:
            seen.update(dict.fromkeys(topological_order(node)))
    return list(seen)


def _walk(root: Value) -> list[Value]:
    """``topological_order(root)``, leaving each node's ``_pass`` at -0.0, ready for a
    backward pass to add its gradient to (-0.0 + g is g, to the sign of a zero). The
    caller holds ``gradient_lock``: one walk or pass at a time uses ``_pass``.

    Depth first, without recursion: a node is pushed once to be opened (its parents
    pushed after it, the first on top) and is placed in the order when it comes up
    again, all its parents placed. Its ``_pass`` tells the two apart: ``opened``, a
    token of this walk; ``placed``, a -0.0 of this walk; anything else, it is new (a
    node reached again once placed is skipped). No table of nodes: a node's own entry
    is read where its inputs are, which keeps big graphs fast (a dict of a million
    nodes misses the cache at every lookup).
    """
    opened, placed = object(), float("-0.0")  # new objects: no other walk's entries are them
    order: list[Value] = []
    stack = [root]
    pop, push, place = stack.pop, stack.append, order.append
    while stack:
        node = pop()
        state = node._pass
        if state is placed:
            continue
        if state is opened:
            node._pass = placed
            place(node)
            continue
        a = node._a
        if a is None:  # a leaf: nothing to wait for
            node._pass = placed
            place(node)
            continue
        node._pass = opened
        push(node)
        b = node._b
        if b is not None:  # inputs kept inline (see Value): two, or one
            push(b)
            push(a)
        elif type(a) is tuple:
            stack.extend(reversed(a))
        else:
            push(a)
    return order


def local_gradients(node: Value) -> tuple[float, ...]:
    """d node / d parent for each of ``node``'s parents, in order, from its op's rule:
    the factors the chain rule multiplies (``()`` for a leaf).

    >>> a, b = Value(2.0), Value(5.0)
    >>> local_gradients(a * b)
    (5.0, 2.0)
    """
    if not isinstance(node, Value):
        raise TypeError(f"expected a Value, got {type(node).__name__}")
    inputs = tuple([p._data for p in node.parents])
    if not inputs:
        return ()
    refuse_per_sample((node, *node.parents), "computes local gradients as numbers at")
    return tuple(float(d) for d in node._op.rule(ops.FLOAT_MATH, node._data, inputs))


def input_gradients(node: Value, grad: Real) -> tuple[float, ...]:
    """What each of ``node``'s parents receives from ``node`` in a backward pass where
    ``node``'s gradient is ``grad``: the chain rule's step exactly as the engine takes
    it (local gradient × grad, or PyTorch's form where that differs: log gives grad / x,
    finite where 1 / x overflows; relu gives 0 below 0 even for an infinite grad).

    >>> a, b = Value(2.0), Value(5.0)
    >>> input_gradients(a * b, 3.0)
    (15.0, 6.0)
    >>> input_gradients(Value(-1.0).relu(), float("inf"))
    (0.0,)
    """
    if not isinstance(node, Value):
        raise TypeError(f"expected a Value, got {type(node).__name__}")
    inputs = [p._data for p in node.parents]
    if not inputs:
        return ()
    refuse_per_sample((node, *node.parents), "computes input gradients as numbers at")
    grad = to_float(grad, "grad")
    return tuple(float(g) for g in node._op.grads(ops.FLOAT_MATH, node._data, grad, inputs))


def _backpropagate(
    root: Value, seed: float | Value, *, create_graph: bool, wrt: Iterable[Value] | None = None
) -> dict[Value, float | Value]:
    """d root / d node for every node on a path to ``wrt`` (every node when ``wrt`` is None).

    With ``create_graph`` the local rules run on the nodes themselves, so each gradient is
    a ``Value`` connected to the graph; otherwise they run on floats.
    """
    order = topological_order(root)
    if not create_graph:  # numbers, not a graph: inside a traced function, one sample's
        refuse_per_sample(
            order,
            "computes gradients as numbers (backward(), or gradients() "
            "without create_graph=True; autodiff.grad works) through",
        )
    needed = None if wrt is None else _depending_on(order, wrt)
    return propagate(order, {root: seed}, create_graph=create_graph, needed=needed)


def propagate(
    order: list[Value],
    grads: dict[Value, float | Value],
    *,
    create_graph: bool = False,
    needed: set[Value] | None = None,
) -> dict[Value, float | Value]:
    """The chain rule over ``order`` (a topological order), last node first.

    ``grads`` holds the gradients already known (the seeds); every node's gradient is
    added to it. Only nodes in ``needed`` are visited, when it is given.
    """
    for node in reversed(order):
        parents = node.parents
        grad = grads.get(node)
        if not parents or grad is None or (needed is not None and node not in needed):
            continue
        op = node._op
        out: float | Value
        inputs: Sequence[float | Value]
        if create_graph:
            m, out, inputs = VALUE_MATH, node, parents
        else:
            m, out, inputs = ops.FLOAT_MATH, node._data, [p._data for p in parents]
        # A local derivative is multiplied by grad here; an input_grads rule takes grad
        # itself (it divides or selects, as PyTorch does), see ops.py.
        multiply = op.input_grads is None
        results = op.rule(m, out, inputs) if multiply else op.grads(m, out, grad, inputs)
        for parent, contribution in zip(parents, results):
            if needed is not None and parent not in needed:
                continue
            if multiply:
                contribution = contribution * grad
            previous = grads.get(parent)
            grads[parent] = contribution if previous is None else previous + contribution
    return grads


def _depending_on(order: list[Value], wrt: Iterable[Value]) -> set[Value]:
    """The nodes of ``order`` that are in ``wrt`` or computed from one of them."""
    needed = set(wrt)
    for node in order:
        if node not in needed and any(parent in needed for parent in node.parents):
            needed.add(node)
    return needed


def backward(root: Value, grad: Real = 1.0) -> None:
    """``Value.backward``: d root / d node, times ``grad``, into every node's ``.grad``.

    Leaves accumulate (twice the call, twice the gradient); every other node is set to
    this pass's gradient, so a drawn graph always shows one consistent pass.

    The pass adds up each node's gradient apart from ``.grad`` (in the node's ``_pass``)
    and writes it once it is whole, which in reverse topological order is when the pass
    reaches the node. It holds ``gradient_lock`` throughout, so that passes in other
    threads sharing nodes with this one neither lose an addition nor interleave with it
    (with the GIL, Python code of two threads never runs at once anyway).
    """
    seed = to_float(grad, "the gradient passed to backward()")
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    with gradient_lock:
        order = _walk(root)
        try:
            refuse_per_sample(
                order,
                "computes gradients as numbers (backward(), or gradients() "
                "without create_graph=True; autodiff.grad works) through",
            )
        except BaseException:
            for node in order:
                node._pass = None
            raise
        root._pass = seed
        _chain_rule_on_floats(order)


def _chain_rule_on_floats(order: list[Value]) -> None:
    """``propagate`` on floats over every node of ``order``, each gradient added into the
    nodes' ``_pass`` (``_walk``'s) and written into ``.grad`` when whole: backward()'s
    loop, with each op's rule bound to floats (``Op.float_local``)."""
    for node in reversed(order):
        grad = node._pass
        node._pass = None
        a = node._a
        if a is None:  # a leaf: the first gradient as it is (-0.0 too), then sums, as PyTorch's .grad
            node.grad = node.grad + grad if node.grad else grad
            continue
        node.grad = grad  # a computed node holds this pass's gradient alone
        op = node._op
        b = node._b
        if b is not None:
            if op.float_local is not None:
                d_a, d_b = op.float_local(node._data, a._data, b._data)
                a._pass += d_a * grad
                b._pass += d_b * grad
            else:
                g_a, g_b = op.float_input_grads(node._data, grad, a._data, b._data)  # type: ignore[misc]  # not None: an op without one rule has the other (Op.__post_init__)
                a._pass += g_a
                b._pass += g_b
        elif op.arity == 1:
            if op.float_local is not None:
                a._pass += op.float_local(node._data, a._data)[0] * grad
            else:
                a._pass += op.float_input_grads(node._data, grad, a._data)[0]  # type: ignore[misc]  # not None: an op without one rule has the other (Op.__post_init__)
        elif op.local_grads is not None:  # any arity: a is the inputs' tuple
            for parent, d in zip(a, op.local_grads(ops.FLOAT_MATH, node._data, [p._data for p in a])):
                parent._pass += d * grad
        else:
            for parent, g in zip(a, op.input_grads(ops.FLOAT_MATH, node._data, grad, [p._data for p in a])):  # type: ignore[misc]  # not None: an op without one rule has the other (Op.__post_init__)
                parent._pass += g


@overload
def gradients(
    output: Value, inputs: Value | Iterable[Value], *, create_graph: Literal[False] = False
) -> tuple[float, ...]: ...
@overload
def gradients(output: Value, inputs: Value | Iterable[Value], *, create_graph: Literal[True]) -> tuple[Value, ...]: ...
@overload
def gradients(
    output: Value, inputs: Value | Iterable[Value], *, create_graph: bool
) -> tuple[float, ...] | tuple[Value, ...]: ...
def gradients(
    output: Value, inputs: Value | Iterable[Value], *, create_graph: bool = False
) -> tuple[float, ...] | tuple[Value, ...]:
    """d output / d input for each of ``inputs``, leaving every ``.grad`` untouched.

    With ``create_graph=True`` each gradient is a ``Value`` in the graph, so it can be
    differentiated again. An input the output does not depend on has gradient 0.

    >>> x = Value(3.0); y = x ** 3
    >>> gradients(y, [x])
    (27.0,)
    >>> (dy,) = gradients(y, [x], create_graph=True); gradients(dy, [x])
    (18.0,)
    """
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got {type(output).__name__}")
    inputs = (inputs,) if isinstance(inputs, Value) else tuple(values_list(inputs, "inputs", "gradients"))
    if not create_graph:
        grads = _backpropagate(output, 1.0, create_graph=False, wrt=inputs)
        return cast("tuple[float, ...]", tuple(grads.get(x, 0.0) for x in inputs))  # floats: create_graph is off
    with recording(True):  # the gradient graph is recorded even inside no_grad
        grads = _backpropagate(output, Value(1.0), create_graph=True, wrt=inputs)
        found = [grads.get(x, 0.0) for x in inputs]
        return tuple(g if isinstance(g, Value) else Value(g) for g in found)
