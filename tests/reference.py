"""Independent references for gradient tests: central finite differences in float64."""

from __future__ import annotations

from typing import Callable, Sequence


def central_difference(f: Callable[..., float], point: Sequence[float], i: int, eps: float = 1e-6) -> float:
    """d f / d x_i at ``point``, as (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

    ``f`` takes and returns plain floats, so the estimate never goes through the engine's
    derivative rules.
    """
    up, down = list(point), list(point)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


def close(actual: float, expected: float, rel: float = 1e-6, abs_: float = 1e-8) -> bool:
    """|actual - expected| <= abs_ + rel * |expected|, with equal infinities equal."""
    return actual == expected or abs(actual - expected) <= abs_ + rel * abs(expected)
