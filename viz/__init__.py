"""viz: pictures of computation graphs, with every value and gradient labelled.

>>> from autodiff import Value
>>> import viz
>>> x = Value(3.0, label="x"); y = (x * x).tanh(); y.backward()
>>> dot = viz.draw_dot(y)  # a graphviz.Digraph: shown inline in Jupyter
"""

from .graph import GraphvizNotFound, draw_dot, render

__all__ = ["GraphvizNotFound", "draw_dot", "render"]
