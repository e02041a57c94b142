"""autodiff.compile: the batched program equals the scalar graph, sample by sample."""


import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff
import nn
from autodiff import Value
from tests.autodiff.test_properties import KINKED, OPS


@st.composite
def programs(draw):
    """A DAG over per-sample inputs and shared parameters, each step any op of the table."""
    n_inputs, n_params = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = n_inputs + n_params + k
        steps.append((draw(st.sampled_from(sorted(OPS))), draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))))
    params = draw(st.lists(st.floats(-1.5, 1.5), min_size=n_params, max_size=n_params))
    return n_inputs, params, steps


def build(leaves, steps):
    nodes = list(leaves)
    for name, i, j in steps:
        nodes.append(OPS[name][0](nodes[i], nodes[j]))
    return autodiff.sum(nodes[len(leaves):]), nodes


@settings(max_examples=150, deadline=None)
@given(programs(), st.integers(1, 7), st.randoms(use_true_random=False), st.booleans())
def test_random_dags_compile_to_the_same_values_and_gradients(program, n, rng, traced):
    n_inputs, param_values, steps = program
    columns = [np.array([rng.uniform(-1.5, 1.5) for _ in range(n)]) for _ in range(n_inputs)]
    inputs = [Value(0.0, label=f"x{i}") for i in range(n_inputs)]
    params = [Value(p, label=f"p{i}") for i, p in enumerate(param_values)]
    out, _ = build(inputs + params, steps)
    used = [x for x in inputs if x in set(autodiff.topological_order(out))]
    assume(used)  # without per-sample inputs there is no batch (see the static-output test)
    if traced:  # the function form: the same code, traced; it takes every input
        compiled = autodiff.compile(lambda *xs: build(list(xs) + params, steps)[0], inputs=n_inputs)
        outputs = compiled(*columns)
        all_grads = compiled.backward()
        input_grads = [all_grads[inputs.index(x)] for x in used]
    else:
        compiled = autodiff.compile(out, used)
        outputs = compiled(*[columns[inputs.index(x)] for x in used])
        input_grads = compiled.backward()
    compiled_param_grads = [p.grad for p in params]

    expected_param_grads = [0.0] * len(params)
    for s in range(n):  # the scalar graph, one sample at a time, d mean / d leaf
        sample_inputs = [Value(c[s]) for c in columns]
        sample_params = [Value(p) for p in param_values]
        sample_out, nodes = build(sample_inputs + sample_params, steps)
        assert outputs[s] == pytest.approx(sample_out.data, rel=1e-12, abs=1e-12)
        for name, i, _ in steps:  # gradients across a kink may differ by the side taken
            if name in KINKED and abs(nodes[i].data) < 1e-9:
                return
        sample_out.backward(1.0 / n)
        for k, p in enumerate(sample_params):
            expected_param_grads[k] += p.grad
        for x, grads in zip(used, input_grads):
            assert grads[s] == pytest.approx(sample_inputs[inputs.index(x)].grad, rel=1e-9, abs=1e-12)
    assert compiled_param_grads == pytest.approx(expected_param_grads, rel=1e-9, abs=1e-12)


def moons_program(model):
    x0, x1, y = Value(0.0, label="x0"), Value(0.0, label="x1"), Value(0.0, label="y")
    params = model.parameters()
    loss = nn.hinge_loss([model([x0, x1])], [y]) + 1e-4 * autodiff.dot(params, params)
    return autodiff.compile(loss, inputs=[x0, x1, y])


def test_the_two_moons_step_matches_the_scalar_graph_and_follows_weight_updates():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 2)), np.where(rng.random(20) > 0.5, 1.0, -1.0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    program = moons_program(model)
    twin = nn.MLP(2, [16, 16, 1], seed=0)
    opt, twin_opt = nn.SGD(model.parameters(), lr=0.1), nn.SGD(twin.parameters(), lr=0.1)
    for _ in range(3):  # updates between calls flow in without recompiling
        losses = program(X[:, 0], X[:, 1], Y)
        opt.zero_grad()
        program.backward()
        opt.step()
        params = twin.parameters()
        scalar = [nn.hinge_loss([twin(list(x))], [t]) + 1e-4 * autodiff.dot(params, params) for x, t in zip(X, Y)]
        np.testing.assert_allclose(losses, [v.data for v in scalar], rtol=1e-12)
        twin_opt.zero_grad()
        (autodiff.sum(scalar) / len(scalar)).backward()
        twin_opt.step()
        np.testing.assert_allclose([p.grad for p in model.parameters()], [p.grad for p in twin.parameters()], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("arrangement", [
    "loose", "a shared weight", "a bias that is a weight",
    "a weight twice in a neuron, and its bias",
])
def test_a_layer_reads_its_weights_wherever_they_lie(arrangement):
    rng = np.random.default_rng(1)
    xs = [Value(0.0, label=f"x{i}") for i in range(3)]
    W = [[Value(rng.normal()) for _ in range(3)] for _ in range(4)]
    B = [Value(rng.normal()) for _ in range(4)]
    if arrangement == "a shared weight":
        W[2][1] = W[0][0]
    elif arrangement == "a bias that is a weight":
        B[1] = W[1][2]
    elif arrangement == "a weight twice in a neuron, and its bias":
        W[0][2] = B[0] = W[0][1]
    params = list(dict.fromkeys([p for w, b in zip(W, B) for p in (*w, b)]))

    def graph(inputs):
        hidden = [autodiff.dot(w, inputs, b).tanh() for w, b in zip(W, B)]
        return autodiff.dot(W[3], hidden[:3], B[0]) * hidden[3]

    program = autodiff.compile(graph(xs), xs)
    assert any(type(step).__name__ == "_Layer" for step in program._steps)
    columns = rng.normal(size=(3, 5))
    outputs = program(*columns)
    input_grads = program.backward()
    compiled = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    for s in range(5):  # the scalar graph, sample by sample
        sample = [Value(c) for c in columns[:, s]]
        out = graph(sample)
        assert outputs[s] == pytest.approx(out.data, rel=1e-12)
        out.backward(1.0 / 5)
        assert [g[s] for g in input_grads] == pytest.approx([x.grad for x in sample], rel=1e-9)
    assert compiled == pytest.approx([p.grad for p in params], rel=1e-9)


def test_a_bias_that_is_also_a_weight_gets_both_gradients():
    x, y, w, v = Value(0.0), Value(0.0), Value(0.5), Value(0.7)
    program = autodiff.compile(autodiff.dot([w, v], [x, y], w), [x, y])  # w·x + v·y + w
    program(np.array([2.0, 4.0]), np.array([3.0, 5.0]))
    program.backward()
    assert (w.grad, v.grad) == (np.mean([2.0, 4.0]) + 1.0, np.mean([3.0, 5.0]))  # d/dw = x + 1


def test_arithmetic_in_the_same_order_is_equal_to_the_last_bit():
    x, y, c = Value(0.0), Value(0.0), Value(1.7)
    out = (x * c - y) / (x + 3.0) * y
    program = autodiff.compile(out, [x, y])
    xs, ys = np.linspace(-2, 2, 50), np.linspace(3, -1, 50)
    values = program(xs, ys)
    for a, b, v in zip(xs, ys, values):
        assert v == ((a * 1.7 - b) / (a + 3.0) * b)


def test_weights_choose_what_backward_differentiates():
    x, w = Value(0.0), Value(2.0)
    program = autodiff.compile(w * x * x, [x])
    program(np.array([1.0, 3.0]))
    (dx,) = program.backward(weights=np.array([1.0, 0.0]))
    assert dx.tolist() == [4.0, 0.0] and w.grad == 1.0


def test_a_number_broadcasts_as_a_column_and_a_static_output_is_repeated():
    x, y = Value(0.0), Value(0.0)
    assert autodiff.compile(x * y, [x, y])(np.array([1.0, 2.0]), 3.0).tolist() == [3.0, 6.0]
    c = Value(2.0)
    assert autodiff.compile(c * c + x * 0.0, [x])(np.zeros(3)).tolist() == [4.0, 4.0, 4.0]


@pytest.mark.parametrize("columns, message", [
    ((np.ones(3),), "takes 2 columns \\(x, y\\), got 1"),
    ((np.ones(3), np.ones(4)), "different lengths: \\[3, 4\\]"),
    ((np.array(["a", "b"]), np.ones(2)), "column 0 \\(x\\) must hold real numbers"),
    ((np.ones((2, 2)), np.ones(2)), "must be 1-D"),
    ((np.ones(0), np.ones(0)), "batch is empty"),
])
def test_bad_columns_raise_value_error(columns, message):
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    program = autodiff.compile(x * y, [x, y])
    with pytest.raises(ValueError, match=message):
        program(*columns)


def test_bad_compile_calls_are_named():
    x, y = Value(0.0), Value(0.0)
    with pytest.raises(ValueError, match="not in the output's graph"):
        autodiff.compile(x * 2.0, [x, y])
    with pytest.raises(ValueError, match="computed by an op"):
        autodiff.compile((x * 2.0) + 1.0, [x * 2.0])
    with pytest.raises(RuntimeError, match="run the program on a batch"):
        autodiff.compile(x * 2.0, [x]).backward()
    program = autodiff.compile(x * 2.0, [x])
    program(np.ones(2))
    with pytest.raises(ValueError, match="one number per sample"):
        program.backward(weights=np.ones(3))


def test_data_dependent_graphs_are_recorded_as_they_ran():
    # The graph form cannot see how its graph was built (its docs say so); the function
    # form refuses the branch (tests/autodiff/test_tracing.py).
    x = Value(-1.0)
    out = x * 2.0 if x.data > 0 else x * -1.0  # the branch taken while recording
    assert autodiff.compile(out, [x])(np.array([-1.0, 5.0])).tolist() == [1.0, -5.0]
    with pytest.raises(autodiff.TracingError, match="per-sample"):
        autodiff.compile(lambda x: x * 2.0 if x.data > 0 else x * -1.0)


def test_a_blocked_gradient_stays_zero_in_compiled_programs():
    x = Value(0.0)
    program = autodiff.compile(x.relu().sqrt(), [x])
    program(np.array([-1.0, 4.0]))
    (dx,) = program.backward(weights=np.ones(2))
    assert dx.tolist() == [0.0, 0.25]
