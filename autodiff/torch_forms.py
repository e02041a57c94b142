"""Every op of the table in PyTorch: its forward on tensors, and its gradient by the
op's own rule, evaluated on tensors. ``to_torch`` builds its modules from these.

``TORCH_FORMS`` maps an op's name to its forward on tensors, with the numbers of the
op's numpy forward (``ieee.py``, ``ops.py``): mostly the torch function of the same
name. The gradient is not PyTorch's autograd formula but the op table's rule, run on
tensors through ``TORCH_MATH`` as ``compile`` runs it on arrays through
``ops.ARRAY_MATH``: one rule for every backend, so the module's gradients are the
program's, to the rounding of the forwards (PyTorch's own formulas differ in places:
its tanh backward fuses 1 - y * y into one rounding). ``apply_op`` is the two together,
a differentiable torch function (differentiable again: the rules are torch ops).

A form takes tensors of shape (k, N) (k nodes of one op, N samples; N may be 1 for a
node the same for every sample), one per input; an op of any arity takes one stacked
tensor of shape (arity, k, N), as its ``batched`` forward does.

>>> import torch
>>> form_of(ops.MUL)(torch.tensor([2.0]), torch.tensor([3.0])).item()
6.0
>>> x = torch.tensor([[-0.0, 2.0]], dtype=torch.float64, requires_grad=True)
>>> y = apply_op(ops.power_by(3.0), x); y.sum().backward(); x.grad.tolist()
[[0.0, 12.0]]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import SimpleNamespace

from . import ieee, ops
from .requires import import_torch

import_torch()  # where PyTorch is missing, the ImportError that says how to install it
import torch  # noqa: E402
from torch.nn import functional  # noqa: E402


def _log1p(x):
    # log1p(x) is x for |x| < 2^-54; PyTorch's vectorised log1p flushes subnormals to 0.
    return torch.where(x.abs() < 2.0**-60, x, torch.log1p(x))


def _softplus(x):
    # ieee.softplus_array: x + log1p(e^-x) above the threshold, where PyTorch returns x.
    return torch.where(x > ieee.SOFTPLUS_THRESHOLD, x + _log1p(torch.exp(-x)), _log1p(torch.exp(x)))


def _remainder(a, b):
    # ieee.remainder_array: fmod moved by b where the signs differ. PyTorch's vectorised
    # fmod gives nan where a / b overflows (a subnormal b): there a is first reduced
    # modulo b * 2^600, a multiple of b, which leaves fmod(a, b) as it was (fmod is exact).
    huge = torch.isinf(a / b) & torch.isfinite(a)
    r = torch.fmod(torch.where(huge, torch.fmod(a, b * 2.0**600), a), b)
    return torch.where((r != 0) & ((b < 0) != (r < 0)), r + b, r)


def _first_failing_sample(bad) -> tuple[int, int]:
    """(node, sample) of the first True entry of ``bad``, (k, N)."""
    node, sample = torch.nonzero(bad)[0].tolist()
    return node, sample


def _bce(p, t):
    p, t = torch.broadcast_tensors(p, t)
    outside = ~((p >= 0.0) & (p <= 1.0) & (t >= 0.0) & (t <= 1.0))  # nan fails too
    if outside.any():
        node, sample = _first_failing_sample(outside)
        raise ops.bce_range_error(sample, p[node, sample].item(), t[node, sample].item())
    return functional.binary_cross_entropy(p, t, reduction="none")


def _pick(stacked):
    index, n = stacked[-1], len(stacked) - 1
    whole = index.long()
    right = (whole == index) & (whole >= 0) & (whole < n)
    if not right.all():
        node, sample = _first_failing_sample(~right)
        raise ops.pick_index_error(sample, index[node, sample].item(), n)
    return torch.gather(stacked[:-1], 0, whole.unsqueeze(0)).squeeze(0)


def _dot(stacked):
    n = len(stacked) // 2
    return (stacked[:n] * stacked[n : 2 * n]).sum(0)


TORCH_FORMS: dict[str, Callable] = {
    "+": torch.add,
    "-": torch.sub,
    "*": torch.mul,
    "/": torch.div,
    "neg": torch.neg,
    "**": torch.pow,
    "exp": torch.exp,
    "log": torch.log,
    "log1p": _log1p,
    "sqrt": torch.sqrt,
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": _softplus,
    "log_sigmoid": functional.logsigmoid,
    "relu": torch.relu,  # relu(-0.0) is -0.0, as ieee.relu's
    "abs": torch.abs,
    "id": torch.clone,
    "sum": lambda stacked: stacked.sum(0),
    "dot": _dot,
    "w·x+b": lambda stacked: _dot(stacked[:-1]) + stacked[-1],
    "logsumexp": lambda stacked: torch.logsumexp(stacked, 0),
    "bce": _bce,
    "pick": _pick,
    "tan": torch.tan,
    "arcsin": torch.asin,
    "arccos": torch.acos,
    "arctan": torch.atan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "log2": torch.log2,
    "log10": torch.log10,
    "expm1": torch.expm1,
    "floor": torch.floor,
    "ceil": torch.ceil,
    "sign": torch.sign,
    "arctan2": torch.atan2,
    "hypot": torch.hypot,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "%": _remainder,
    "//": torch.floor_divide,
}
"""The torch form of each op, by the op's name (``x ** c`` for a constant c is
``form_of``'s: one op per exponent)."""


def form_of(op: ops.Op) -> Callable:
    """The forward of ``op`` on tensors, or a ``NotImplementedError`` naming the op.

    ``x ** c`` is ``torch.pow(x, c)``: PyTorch computes c = 2, 3, -1, -2, 0.5 and -0.5 by
    products and square roots, as ``ieee.power_by_constant`` does after it.
    """
    if op.exponent is not None:
        exponent = op.exponent
        return lambda x: torch.pow(x, exponent)
    form = TORCH_FORMS.get(op.name)
    if form is None or op.arity == 0:
        raise NotImplementedError(
            f"the op {op.name!r} has no PyTorch form yet: add one to autodiff/torch_forms.py's TORCH_FORMS"
        )
    return form


TORCH_MATH = SimpleNamespace(
    data=lambda x: x.detach() if isinstance(x, torch.Tensor) else x,  # rules choose by it, not through it
    select=torch.where,
    concat=lambda *parts: torch.cat(parts),
    ones=lambda like, count: like.new_ones((count, *like.shape[1:])),
    each=lambda f, xs: f(xs),  # a stacked tensor: f applies to every input at once
    positions=lambda xs: torch.arange(len(xs), device=xs.device).reshape(-1, *(1,) * (xs.ndim - 1)),
    div=operator.truediv,  # IEEE on tensors: 1 / 0 is inf
    pow=torch.pow,
    pow_by_constant=torch.pow,
    floor_divide=torch.floor_divide,
    **{name: form_of(op) for name, op in ops.UNARY_METHODS.items()},
)
"""The math namespace of the op table's rules on tensors (``ops.ARRAY_MATH``'s twin)."""


class _Op(torch.autograd.Function):
    """An op of the table: its torch form forward, its rule backward."""

    @staticmethod
    def forward(op, form, *inputs):
        return form(*inputs)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.op = inputs[0]
        ctx.save_for_backward(*inputs[2:], output)

    @staticmethod
    def backward(ctx, grad):
        *inputs, out = ctx.saved_tensors
        op = ctx.op
        if op.arity is None:  # one stacked input, one stacked gradient
            grads = [op.grads(TORCH_MATH, out, grad, inputs[0])]
        else:
            grads = op.grads(TORCH_MATH, out, grad, inputs)
        return (None, None, *map(_fitted, grads, inputs))


def _fitted(grad, x):
    """``grad`` as a gradient of ``x``: a number made a tensor, and summed over the
    samples where ``x`` is the same for every sample (width 1, broadcast)."""
    if not isinstance(grad, torch.Tensor):
        return torch.full_like(x, grad)
    if grad.shape != x.shape:
        grad = grad.sum_to_size(x.shape)
    return grad.to(x.dtype)


def apply_op(op: ops.Op, *inputs):
    """``op`` on tensors (one stacked tensor for an op of any arity), differentiable by
    PyTorch with the op's own rule."""
    return _Op.apply(op, form_of(op), *inputs)
