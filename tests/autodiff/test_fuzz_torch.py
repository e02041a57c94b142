"""The reference suite's fuzz: every op of the table composed two at a time, over IEEE edge
values, against PyTorch in float64, bit for bit; and ``compile`` against the scalar engine.

A case is one composition (``log(x ** 2)``, ``b / sqrt(a)``...) at one point of the edge
values; it compares the forward value and the gradient of every input. Equal means the
same bits: any nan matches any nan, and the sign of a zero counts.

Some differences cannot be removed without giving up the C library: PyTorch computes
exp, log, log1p, sin, cos, tanh, sqrt... with its vector math libraries (MKL, SLEEF), which
round the last bit differently from the C library now and then; and a few ops differ on
purpose. ``explanation`` names each kind, and docs/trust.md lists them; every other
difference fails the test. Run this file as a script to print the counts
(``PYTHONPATH=. python tests/autodiff/test_fuzz_torch.py -v`` also prints every case
that differs).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import autodiff
from autodiff import Value

inf, nan = math.inf, math.nan

EDGE = [0.0, -0.0, 5e-324, 2.2e-308, 1e308, -1e308, inf, -inf, nan,
        0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0]

UNARY: dict[str, tuple[Callable, Callable]] = {  # name: (ours on a Value, PyTorch's on a tensor)
    "neg": (lambda x: -x, torch.neg),
    "abs": (abs, torch.abs),
    "exp": (Value.exp, torch.exp),
    "log": (Value.log, torch.log),
    "log1p": (Value.log1p, torch.log1p),
    "sqrt": (Value.sqrt, torch.sqrt),
    "sin": (Value.sin, torch.sin),
    "cos": (Value.cos, torch.cos),
    "tanh": (Value.tanh, torch.tanh),
    "sigmoid": (Value.sigmoid, torch.sigmoid),
    "relu": (Value.relu, torch.relu),
    "softplus": (Value.softplus, F.softplus),
    "log_sigmoid": (Value.log_sigmoid, F.logsigmoid),
    **{f"pow{e:g}": (lambda x, e=e: x ** e, lambda t, e=e: t ** e) for e in (2, 0.5, -1, 3, 0)},
}


def _stack(*ts: torch.Tensor) -> torch.Tensor:
    return torch.stack(ts)


BINARY: dict[str, tuple[Callable, Callable]] = {
    "add": (lambda a, b: a + b, torch.add),
    "sub": (lambda a, b: a - b, torch.sub),
    "mul": (lambda a, b: a * b, torch.mul),
    "div": (lambda a, b: a / b, torch.div),
    "pow": (lambda a, b: a ** b, torch.pow),
    # the ops of any arity, on tuples of two
    "sum": (lambda a, b: autodiff.sum([a, b]), lambda a, b: _stack(a, b).sum(0)),
    "logsumexp": (lambda a, b: autodiff.logsumexp([a, b]), lambda a, b: torch.logsumexp(_stack(a, b), 0)),
    "dot": (lambda a, b: autodiff.dot([a, b], [b, a]), lambda a, b: (_stack(a, b) * _stack(b, a)).sum(0)),
}
COMMUTATIVE = {"add", "mul", "sum", "logsumexp", "dot"}


@dataclass(frozen=True)
class Composition:
    name: str
    arity: int  # how many inputs
    ours: Callable[..., Value]
    theirs: Callable[..., torch.Tensor]
    ops: tuple[str, str]  # the two ops, outer first


def compositions() -> list[Composition]:
    """f(g(x)) for every pair of unary ops; f(b(x, y)), b(f(x), y) and b(x, f(y)) for every
    unary f and binary b (the last only where the order of b's inputs matters)."""
    found = []
    for (f, (of, tf)), (g, (og, tg)) in itertools.product(UNARY.items(), repeat=2):
        found.append(Composition(f"{f}({g}(x))", 1, lambda x, of=of, og=og: of(og(x)),
                                 lambda x, tf=tf, tg=tg: tf(tg(x)), (f, g)))
    for (f, (of, tf)), (b, (ob, tb)) in itertools.product(UNARY.items(), BINARY.items()):
        found.append(Composition(f"{f}({b}(x, y))", 2, lambda x, y, of=of, ob=ob: of(ob(x, y)),
                                 lambda x, y, tf=tf, tb=tb: tf(tb(x, y)), (f, b)))
        found.append(Composition(f"{b}({f}(x), y)", 2, lambda x, y, of=of, ob=ob: ob(of(x), y),
                                 lambda x, y, tf=tf, tb=tb: tb(tf(x), y), (b, f)))
        if b not in COMMUTATIVE:
            found.append(Composition(f"{b}(x, {f}(y))", 2, lambda x, y, of=of, ob=ob: ob(x, of(y)),
                                     lambda x, y, tf=tf, tb=tb: tb(x, tf(y)), (b, f)))
    return found


# --- the three evaluations -----------------------------------------------------------------
def ours(composition: Composition, point: tuple[float, ...]) -> tuple[float, ...]:
    """The scalar engine: the value, then each input's .grad after one backward()."""
    leaves = [Value(x) for x in point]
    out = composition.ours(*leaves)
    out.backward()
    return (out.data, *(leaf.grad for leaf in leaves))


def theirs(composition: Composition, cases: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """PyTorch float64: the value, then each input's gradient, for every case, as PyTorch
    gives them for one number at a time (see ``chunk_for``), computed a chunk at a time."""
    chunk = chunk_for(composition)
    results = []
    for start in range(0, len(cases), chunk):
        columns = list(zip(*cases[start:start + chunk]))
        leaves = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in columns]
        out = composition.theirs(*leaves)
        grads = torch.autograd.grad(out, leaves, torch.ones_like(out), allow_unused=True)
        grads = [torch.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, grads)]
        results += zip(out.tolist(), *(g.tolist() for g in grads))
    return results


# Below two vector widths of doubles, PyTorch's elementwise CPU kernels take their scalar
# path for every entry, as they do for a single number.
CHUNK = 7 if torch.backends.cpu.get_cpu_capability() == "AVX512" else 3


def chunk_for(composition: Composition) -> int:
    """How many cases PyTorch may take per call and still give each one's result alone.
    Only sigmoid, softplus and a ** b compute long tensors otherwise than one number
    (test_the_reference_is_pytorch_on_single_numbers checks it)."""
    return CHUNK if {"sigmoid", "softplus", "pow"} & set(composition.ops) else len(EDGE) ** 2


def pytorch_alone(composition: Composition, point: tuple[float, ...]) -> tuple[float, ...]:
    """PyTorch float64 on one case: 0-dimensional tensors, one call."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = composition.theirs(*leaves)
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return (out.item(), *(0.0 if g is None else g.item() for g in grads))


def compiled(composition: Composition, cases: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """``autodiff.compile`` of the composition's graph, run over every case as one batch."""
    leaves = [Value(0.75) for _ in range(composition.arity)]
    program = autodiff.compile(composition.ours(*leaves), inputs=leaves)
    values = program(*(np.array(column) for column in zip(*cases)))
    grads = program.backward(weights=np.ones(len(cases)))
    return list(zip(values.tolist(), *(g.tolist() for g in grads)))


# --- comparing ---------------------------------------------------------------------------
def same_bits(a: float, b: float) -> bool:
    """Equal to the last bit, the sign of zero included; any nan matches any nan."""
    return (a != a and b != b) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def near(a: float, b: float, rel: float = 1e-6) -> bool:
    """Both finite, non-zero, of one sign, and within ``rel``: last bits apart, amplified by
    what follows (1 - y * y, tanh's derivative, turns one bit of y near 1 into 1e-8)."""
    return (math.isfinite(a) and math.isfinite(b) and a != 0 and b != 0 and (a > 0) == (b > 0)
            and abs(a - b) <= rel * max(abs(a), abs(b)))


# The functions whose last bit PyTorch's vector math libraries (MKL, SLEEF) and numpy's
# SIMD loops round differently from the C library now and then. PyTorch's tanh gradient
# is also fused (1 - y * y rounded once, by a fused multiply-add).
TRANSCENDENTAL = {"exp", "log", "log1p", "sqrt", "pow0.5", "sin", "cos", "tanh", "sigmoid",
                  "softplus", "log_sigmoid", "logsumexp", "pow"}
LAST_BITS = "last bits of a transcendental function"
SMALLEST_NORMAL = 2.2250738585072014e-308


def pytorch_flushes_log1p(x: float) -> bool:
    return torch.log1p(torch.tensor(x, dtype=torch.float64)).item() == 0.0


EXPLAINED: dict[str, Callable[[Composition, tuple], bool]] = {
    # PyTorch's log1p returns 0.0 for a subnormal x (log1p(x) is x there): the value, and
    # every value and gradient computed from it, differ.
    "PyTorch's log1p flushes a subnormal to 0": lambda c, point: (
        "log1p" in c.ops and any(0 < abs(x) < SMALLEST_NORMAL and pytorch_flushes_log1p(x) for x in point)),
    # Above 20, PyTorch's softplus returns x and gradient 1; ours keeps log1p(e^-x) and its
    # derivative (softplus(exp(3)) = 20.0855369251 where PyTorch gives 20.0855369232).
    "softplus above 20: ours is exact, PyTorch's is x": lambda c, point: "softplus" in c.ops,
}


def explanation(composition: Composition, point: tuple, a: tuple, b: tuple) -> str | None:
    """Why ``a`` (ours) and ``b`` (the reference) may differ at this case; None if they may not."""
    if all(map(same_bits, a, b)):
        return "same"
    if TRANSCENDENTAL & set(composition.ops) and all(same_bits(x, y) or near(x, y) for x, y in zip(a, b)):
        return LAST_BITS
    return next((reason for reason, applies in EXPLAINED.items() if applies(composition, point)), None)


# --- the fuzz --------------------------------------------------------------------------------
PAIRS_PER_COMPOSITION = 72  # of the 289 pairs of edge values: about 30,000 cases in all


def cases_of(composition: Composition) -> list[tuple[float, ...]]:
    """Every edge value for one input; for two, a sample of the pairs, drawn anew for
    each composition (seeded by its name, so that every run fuzzes the same cases)."""
    every = list(itertools.product(EDGE, repeat=composition.arity))
    if composition.arity == 1:
        return every
    return random.Random(composition.name).sample(every, PAIRS_PER_COMPOSITION)


@dataclass
class Fuzz:
    composition: Composition
    cases: list[tuple[float, ...]]
    ours: list[tuple[float, ...]]


@functools.lru_cache(maxsize=1)
def fuzzed() -> list[Fuzz]:
    """Every composition, its cases and the scalar engine's answers (made once per run)."""
    runs = []
    for composition in compositions():
        cases = cases_of(composition)
        runs.append(Fuzz(composition, cases, [ours(composition, point) for point in cases]))
    return runs


def tally(against: Callable[[Fuzz], list[tuple[float, ...]]]) -> dict[str, list]:
    """The cases by explanation (None: unexplained), ours against ``against``'s answers."""
    found: dict = {}
    for run in fuzzed():
        for point, a, b in zip(run.cases, run.ours, against(run)):
            reason = explanation(run.composition, point, a, b)
            found.setdefault(reason, []).append((run.composition.name, point, a, b))
    return found


def pytorch(run: Fuzz) -> list[tuple[float, ...]]:
    return theirs(run.composition, run.cases)


def compile_of(run: Fuzz) -> list[tuple[float, ...]]:
    return compiled(run.composition, run.cases)


def summary(found: dict[str, list]) -> str:
    return ", ".join(f"{reason or 'UNEXPLAINED'}: {len(rows)}" for reason, rows in found.items())


def test_compositions_of_two_ops_agree_with_pytorch_float64_to_the_last_bit():
    found = tally(pytorch)
    assert sum(map(len, found.values())) > 30_000, summary(found)
    assert None not in found, f"{summary(found)}\n" + "\n".join(map(str, found[None][:20]))


def test_the_reference_is_pytorch_on_single_numbers():
    # The fuzz runs PyTorch on many numbers per call, for speed; each must be what PyTorch
    # gives for that number alone (its CPU kernels take other paths for long tensors).
    rng = random.Random(0)
    for run in rng.sample(fuzzed(), 150):
        many = pytorch(run)
        for i in rng.sample(range(len(run.cases)), 4):
            alone = pytorch_alone(run.composition, run.cases[i])
            assert all(map(same_bits, alone, many[i])), (run.composition.name, run.cases[i], alone, many[i])


def test_compile_agrees_with_the_scalar_engine_on_every_fuzzed_case():
    # compile runs the ops' batched forwards and their rules on arrays; numpy's exp, log,
    # tanh... part from the C library's in the last bit, and nothing else may differ.
    found = tally(compile_of)
    assert set(found) <= {"same", LAST_BITS}, f"{summary(found)}\n" + "\n".join(
        str(row) for reason in set(found) - {"same", LAST_BITS} for row in found[reason][:10])


def inner_values(name: str, x: float, t: torch.Tensor, out: float, tout: torch.Tensor) -> tuple[float, float]:
    """What PyTorch's gradient of ``name`` computes from besides the incoming gradient (cos
    for sin, e^-|x| for log_sigmoid, else the output), PyTorch's then ours."""
    if name == "sin":
        return torch.cos(t).item(), math.cos(x)
    if name == "cos":
        return torch.sin(t).item(), math.sin(x)
    if name == "log_sigmoid":  # the buffer PyTorch's forward keeps for its backward
        return torch.ops.aten.log_sigmoid_forward(t)[1].item(), math.exp(-abs(x))
    return tout.item(), out


def test_the_rules_are_pytorchs_formulas_to_the_last_bit():
    # At ordinary points, with an incoming gradient that is not 1: the order of a rule's
    # products and quotients shows in the last bit. Where PyTorch's forward (or the
    # cos or sin its gradient uses) parts from the C library's, the rule cannot be checked
    # alone: those points are skipped, and are few.
    rng = random.Random(1)
    xs = [rng.uniform(-4, 4) for _ in range(300)] + [rng.uniform(0.01, 30) for _ in range(100)]
    seeds = [rng.uniform(-3, 3) for _ in xs]
    checked = 0
    for name, (our_op, their_op) in UNARY.items():
        if name == "tanh":  # PyTorch fuses 1 - y * y: documented, and last bits apart
            continue
        for x, seed in zip(xs, seeds):
            leaf, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
            out, tout = our_op(leaf), their_op(t)
            (tgrad,) = torch.autograd.grad(tout, [t], torch.tensor(seed, dtype=torch.float64))
            inner, ours_inner = inner_values(name, x, t, out.data, tout)
            if not (same_bits(out.data, tout.item()) and same_bits(inner, ours_inner)):
                continue
            out.backward(seed)
            assert same_bits(out.data, tout.item()) and same_bits(leaf.grad, tgrad.item()), (name, x, seed)
            checked += 1
    assert checked > 4000


# --- the cases issue #10 names, each against PyTorch float64 --------------------------------
def engine_answer(build: Callable, point: tuple[float, ...]) -> tuple[float, ...]:
    leaves = [Value(x) for x in point]
    out = build(*leaves)
    out.backward()
    return (out.data, *(leaf.grad for leaf in leaves))


def pytorch_answer(build: Callable, point: tuple[float, ...]) -> tuple[float, ...]:
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = build(*leaves)
    out.backward()
    return (out.item(), *(leaf.grad.item() for leaf in leaves))


def softplus(x: Value | torch.Tensor) -> Value | torch.Tensor:
    return x.softplus() if isinstance(x, Value) else F.softplus(x)


def bce(p: Value | torch.Tensor, t: Value | torch.Tensor) -> Value | torch.Tensor:
    return autodiff.binary_cross_entropy(p, t) if isinstance(p, Value) else F.binary_cross_entropy(p, t)


NAMED = {  # name: (the function, for a Value and for a tensor alike), the point
    # a zero local derivative times an infinite gradient: nan, as PyTorch multiplies here
    "log(x ** 2) at 0": (lambda x: (x ** 2).log(), (0.0,)),
    "log(x ** 3) at 0": (lambda x: (x ** 3).log(), (0.0,)),
    "log(x * x) at 0": (lambda x: (x * x).log(), (0.0,)),
    # ... but PyTorch selects for x ** 0 and 0 ** y, and for relu below 0
    "log(x ** 0 - 1) at 3": (lambda x: (x ** 0 - 1.0).log(), (3.0,)),
    "log(a ** b - 1) at (0, 0)": (lambda a, b: (a ** b - 1.0).log(), (0.0, 0.0)),
    "log(a ** b - 1) at (3, 0)": (lambda a, b: (a ** b - 1.0).log(), (3.0, 0.0)),
    "-(a ** b) at (0, 0)": (lambda a, b: -(a ** b), (0.0, 0.0)),
    "sqrt(relu(x)) at -1": (lambda x: x.relu().sqrt(), (-1.0,)),
    # gradients divided, not multiplied by 1 / x, which overflows for a subnormal x
    "exp(log(x)) at 5e-324": (lambda x: x.log().exp(), (5e-324,)),
    "exp(log(x)) at 2.2e-308": (lambda x: x.log().exp(), (2.2e-308,)),
    "(a / b) * 1e-300 at b = 5e-324": (lambda a, b: (a / b) * 1e-300, (1.0, 5e-324)),
    "sqrt(x) * 1e-300 at 5e-324": (lambda x: x.sqrt() * 1e-300, (5e-324,)),
    # the sign of zero
    "relu(x) at -0.0": (lambda x: x.relu(), (-0.0,)),
    "relu(x) * y at (-0.0, -2)": (lambda x, y: x.relu() * y, (-0.0, -2.0)),
    "x * y at (2, -0.0): a leaf's gradient -0.0": (lambda x, y: x * y, (2.0, -0.0)),
    "exp(x) * y at (-inf, 3)": (lambda x, y: x.exp() * y, (-math.inf, 3.0)),
    # products in PyTorch's order
    "sigmoid(x) * 3 at 1.7": (lambda x: x.sigmoid() * 3.0, (1.7,)),
    "softplus(x) * 3 at 1.3": (lambda x: softplus(x) * 3.0, (1.3,)),
    "x ** 3 at 1.2345": (lambda x: x ** 3, (1.2345,)),
    "x ** -2 at 0.7": (lambda x: x ** -2, (0.7,)),
    "binary_cross_entropy(p, t) * 3 at (0.3, 0.8)": (lambda p, t: bce(p, t) * 3.0, (0.3, 0.8)),
    "binary_cross_entropy(p, t) * 3 at (0.9, 0.25)": (lambda p, t: bce(p, t) * 3.0, (0.9, 0.25)),
    "binary_cross_entropy(p, t) at (0, 1)": (bce, (0.0, 1.0)),
    "binary_cross_entropy(p, t) at (1, 0.5)": (bce, (1.0, 0.5)),
}


@pytest.mark.parametrize("name", NAMED)
def test_the_cases_issue_10_names_agree_with_pytorch(name):
    build, point = NAMED[name]
    mine, reference = engine_answer(build, point), pytorch_answer(build, point)
    assert all(map(same_bits, mine, reference)), (mine, reference)


def test_a_leaf_gradient_of_minus_zero_stays_minus_zero_across_backward_calls():
    x, y = Value(2.0), Value(-0.0)
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, -0.0))
    for _ in range(2):  # PyTorch keeps the first gradient, then adds: -0.0 + -0.0 is -0.0
        (x * y).backward()
        (tx * ty).backward()
        assert same_bits(x.grad, tx.grad.item()) and same_bits(y.grad, ty.grad.item())
    assert math.copysign(1.0, x.grad) == -1.0


if __name__ == "__main__":
    for what, against in (("PyTorch", pytorch), ("compile", compile_of)):
        found = tally(against)
        print(f"against {what}: {sum(map(len, found.values()))} cases; {summary(found)}")
        if "-v" in sys.argv:
            for reason, rows in found.items():
                if reason != "same":
                    for row in rows:
                        print(reason, row)
