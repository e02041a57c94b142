"""``gradcheck``: the engine's gradients against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable

from .arguments import bounded_number
from .backward import gradients
from .value import Real, Value, no_grad, to_float


class GradcheckError(AssertionError):
    """The engine's gradient and the finite-difference estimate disagree."""


def gradcheck(
    f: Callable[..., Value],
    *inputs: Real | Value,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> bool:
    """Check d f / d input for every input against (f(x + eps) - f(x - eps)) / (2 eps).

    ``f`` takes one ``Value`` per input and returns a ``Value``. Returns True when every
    gradient is within ``atol + rtol * |estimate|``; otherwise raises ``GradcheckError``
    naming the input, both values and their difference.

    >>> gradcheck(lambda x, y: (x * y).tanh(), 0.3, -1.2)
    True
    """
    eps = bounded_number(eps, "eps", "gradcheck", above=0)
    atol = bounded_number(atol, "atol", "gradcheck", at_least=0)
    rtol = bounded_number(rtol, "rtol", "gradcheck", at_least=0)
    points = [x.data if isinstance(x, Value) else to_float(x, f"input {i}") for i, x in enumerate(inputs)]
    names = [_name(x, i) for i, x in enumerate(inputs)]
    variables = [Value(x, label=name) for x, name in zip(points, names)]
    out = f(*variables)
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, got {type(out).__name__}")
    engine = gradients(out, variables)

    def f_at(i: int, shift: float) -> float:
        shifted = list(points)
        shifted[i] += shift
        with no_grad():
            return f(*map(Value, shifted)).data

    for i, analytic in enumerate(engine):
        numeric = (f_at(i, eps) - f_at(i, -eps)) / (2 * eps)
        if analytic == numeric:  # equal infinities included
            continue
        difference = abs(analytic - numeric)
        tolerance = atol + rtol * abs(numeric)
        if not difference <= tolerance:  # nan fails too
            raise GradcheckError(
                f"gradient of {names[i]} (= {points[i]!r}): engine {analytic!r}, "
                f"finite differences {numeric!r}, difference {difference:.3g} "
                f"exceeds tolerance {tolerance:.3g}"
            )
    return True


def _name(x: Real | Value, i: int) -> str:
    if isinstance(x, Value) and x.label:
        return f"input {i} ({x.label})"
    return f"input {i}"
