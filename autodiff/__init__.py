"""autodiff: a scalar reverse-mode automatic differentiation engine.

>>> from autodiff import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b
>>> c.backward()
>>> a.grad, b.grad
(-3.0, 2.0)
"""

from .backward import gradients, input_gradients, local_gradients, topological_order
from .check import GradcheckError, gradcheck
from .explain import Explanation, explain
from .forward import hessian, jacfwd, jacobian, jacrev, jvp
from .functional import grad, value_and_grad
from .functions import (
    arctan2,
    binary_cross_entropy,
    dot,
    hypot,
    logsumexp,
    maximum,
    minimum,
    pick,
    sum as sum,  # noqa: A004 (as numpy.sum)
)
from .leaves import LeafArrays
from .program import Program, TracedProgram, compile as compile  # noqa: A004 (a builtin name, as numpy.sum is)
from .tracing import TracingError
from .value import Value, no_grad

# `sum` and `compile` stay out of __all__, so that `from autodiff import *` keeps the builtins.
__all__ = [
    "Explanation",
    "GradcheckError",
    "LeafArrays",
    "Program",
    "TracedProgram",
    "TracingError",
    "Value",
    "arctan2",
    "binary_cross_entropy",
    "dot",
    "explain",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hypot",
    "input_gradients",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "local_gradients",
    "logsumexp",
    "maximum",
    "minimum",
    "no_grad",
    "pick",
    "topological_order",
    "value_and_grad",
]
