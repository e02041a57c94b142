"""viz: pictures of computation graphs, with every value and gradient labelled.

>>> from autodiff import Value
>>> import viz
>>> x = Value(3.0, label="x"); y = (x * x).tanh(); y.backward()
>>> dot = viz.draw_dot(y)  # a graphviz.Digraph: shown inline in Jupyter
"""

from .graph import GraphvizNotFound, draw_dot, render
from .plots import GradientFlow, plot_decision_boundary, plot_history
from .record import TrainingRecord
from .steps import backward_steps

__all__ = [
    "GradientFlow",
    "GraphvizNotFound",
    "backward_steps",
    "draw_dot",
    "plot_decision_boundary",
    "plot_history",
    "render",
    "TrainingRecord",
]
