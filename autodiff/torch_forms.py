"""Every op of the table written in PyTorch: the batched forward that ``to_torch`` runs,
differentiated by PyTorch's autograd.

``TORCH_FORMS`` maps an op's name to its torch form, whose numbers match the op's own
forwards (``ieee.py``, ``ops.py``) and whose autograd gradient matches the op's rule: the
op table's rules were written as PyTorch computes, so most forms are the torch function
of the same name. Where our forward differs from PyTorch's (softplus above its
threshold) the form is written out, each branch fed only numbers it is chosen for: a
``torch.where`` sends its unchosen branch a gradient of 0, which becomes nan where that
branch's derivative is infinite.

A form takes tensors of shape (k, N) (k nodes of one op, N samples; N may be 1 for a
node the same for every sample), one per input; an op of any arity takes one stacked
tensor of shape (arity, k, N), as its ``batched`` forward does.

>>> import torch
>>> form_of(ops.MUL)(torch.tensor([2.0]), torch.tensor([3.0])).item()
6.0
>>> form_of(ops.power_by(2.0))(torch.tensor([-3.0])).item()
9.0
"""

from __future__ import annotations

from typing import Callable

from . import ieee, ops
from .requires import import_torch

torch = import_torch()
functional = torch.nn.functional


def _softplus(x):
    # ieee.softplus: x + log1p(e^-x) above the threshold (PyTorch returns x there).
    high = x > ieee.SOFTPLUS_THRESHOLD
    upper = torch.where(high, x, ieee.SOFTPLUS_THRESHOLD)
    lower = torch.where(high, 0.0, x)
    return torch.where(high, upper + torch.log1p(torch.exp(-upper)), torch.log1p(torch.exp(lower)))


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
    whole = index.detach().long()
    right = (whole == index) & (whole >= 0) & (whole < n)
    if not right.all():
        node, sample = _first_failing_sample(~right)
        raise ops.pick_index_error(sample, index[node, sample].item(), n)
    # The index is a choice, not a number differentiated: it gets gradient 0, as in ops.py.
    return torch.gather(stacked[:-1], 0, whole.unsqueeze(0)).squeeze(0)


def _dot(stacked):
    n = len(stacked) // 2
    return (stacked[:n] * stacked[n:2 * n]).sum(0)


TORCH_FORMS: dict[str, Callable] = {
    "+": torch.add,
    "-": torch.sub,
    "*": torch.mul,
    "/": torch.div,
    "neg": torch.neg,
    "**": torch.pow,
    "exp": torch.exp,
    "log": torch.log,
    "log1p": torch.log1p,
    "sqrt": torch.sqrt,
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": _softplus,
    "log_sigmoid": functional.logsigmoid,
    "relu": torch.relu,  # relu(-0.0) is -0.0, and relu'(0) is 0, as in ops.py
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
    "%": torch.remainder,
}
"""The torch form of each op, by the op's name (``x ** c`` for a constant c is
``form_of``'s: one op per exponent)."""


def form_of(op: ops.Op) -> Callable:
    """The torch form of ``op``, or a ``NotImplementedError`` naming the op.

    ``x ** c`` is ``torch.pow(x, c)``: PyTorch computes c = 2, 3, -1, -2, 0.5 and -0.5 by
    products and square roots, as ``ieee.power_by_constant`` does after it.
    """
    if op.exponent is not None:
        exponent = op.exponent
        return lambda x: torch.pow(x, exponent)
    form = TORCH_FORMS.get(op.name)
    if form is None or op.arity == 0:
        raise NotImplementedError(f"the op {op.name!r} has no PyTorch form yet: add one to "
                                  "autodiff/torch_forms.py's TORCH_FORMS")
    return form
