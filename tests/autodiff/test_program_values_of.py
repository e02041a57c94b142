"""Program.values_of: the per-sample numbers of any node of a compiled graph."""

import numpy as np
import pytest

import autodiff
from autodiff import Value


def test_every_node_per_sample_as_the_scalar_engine_computes_it():
    x, w = Value(0.0, label="x"), Value(0.7, label="w")
    hidden = (w * x).tanh()
    scale = w * 2.0  # the same for every sample
    program = autodiff.compile(hidden * scale + x, inputs=[x])
    with pytest.raises(RuntimeError, match="run the program on a batch before reading its values"):
        program.values_of(hidden)
    xs = np.array([-1.5, 0.0, 2.0])
    program(xs)
    assert program.values_of(hidden).tolist() == [np.tanh(0.7 * v) for v in xs]
    assert program.values_of(scale).tolist() == [1.4] * 3
    assert program.values_of(w).tolist() == [0.7] * 3
    assert program.values_of(x).tolist() == xs.tolist()
    w.data = -0.2  # read again at the next call
    program(xs[:2])
    assert program.values_of(scale).tolist() == [-0.4] * 2
    with pytest.raises(ValueError, match="'stranger' is not a node of the program's graph"):
        program.values_of(Value(1.0, label="stranger"))


def test_a_traced_function_keeps_its_nodes_to_read_them():
    kept = {}

    def f(x):
        kept["square"] = x * x
        return kept["square"] + 1.0

    program = autodiff.compile(f)
    program(np.array([3.0, -0.5]))
    assert program.values_of(kept["square"]).tolist() == [9.0, 0.25]
