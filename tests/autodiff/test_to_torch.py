"""Program.to_torch(): the module's outputs and gradients are the program's, to 1e-12 in
float64, for every op of the table, for traced functions and nn models, through training
with PyTorch's optimizer; and the weights come back into the Values."""

import multiprocessing
import socket
import sys

import numpy as np
import pytest
import torch

import autodiff
import nn
from autodiff import Value, ops
from autodiff.torch_forms import TORCH_FORMS, TORCH_MATH, form_of
from autodiff.value import apply
from tests.autodiff.test_fuzz_torch import cases_of, compositions, same_bits
from tests.autodiff.test_new_ops import SPECIAL, every_new_op
from tests.without_torch import hide_torch

RTOL, ATOL = 1e-12, 1e-15
RNG = np.random.default_rng(14)
N = 7


def table_ops() -> list[ops.Op]:
    """Every op of the table that a graph node can have (a leaf's op computes nothing):
    the module's Ops, and those it keeps in a dict, list or tuple."""
    found: dict[str, ops.Op] = {}
    for item in vars(ops).values():
        items = item.values() if isinstance(item, dict) else item if isinstance(item, (list, tuple)) else [item]
        found.update((op.name, op) for op in items if isinstance(op, ops.Op) and op.arity != 0)
    return list(found.values())


def assert_close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=RTOL, atol=ATOL)


def check_against_program(program, columns, module=None, seed=None):
    """The module's outputs, the gradients of their mean (or of sum(seed * out)) into its
    weights and into the columns: the program's, value for value."""
    module = program.to_torch() if module is None else module
    for node in program.order:
        if not node.parents:
            node.grad = 0.0
    expected = program(*columns)
    expected_input_grads = program.backward(seed)
    expected_weight_grads = [leaf.grad for leaf in module.leaves]
    tensors = [torch.tensor(np.asarray(c, dtype=float), requires_grad=True) for c in columns]
    out = module(*tensors)
    assert out.dtype == torch.float64 and out.shape == (len(expected),)
    assert_close(out.detach().numpy(), expected)
    if seed is None:
        out.mean().backward()
    else:
        (out * torch.tensor(seed)).sum().backward()
    weight_grads = module.weights.grad if module.leaves else torch.zeros(0)  # no weights: no gradient
    assert_close(weight_grads.numpy(), expected_weight_grads)
    for tensor, grads in zip(tensors, expected_input_grads):
        assert_close(tensor.grad.numpy() if tensor.grad is not None else np.zeros(len(expected)), grads)
    return module


def test_every_op_of_the_table_has_a_torch_form():
    for op in table_ops():
        assert callable(form_of(op)), op
    for exponent in (2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 0.0, 1.7):
        assert callable(form_of(ops.power_by(exponent)))
    with pytest.raises(NotImplementedError, match="'no such op' has no PyTorch form yet"):
        form_of(ops.Op("no such op", 1, float, np.positive, lambda m, out, x: (1.0,)))


def test_the_rules_math_on_tensors_has_every_function_it_has_on_arrays():
    assert set(vars(ops.ARRAY_MATH)) <= set(vars(TORCH_MATH))


FIXED_ARITY = [op for op in table_ops() if op.arity in (1, 2)]


@pytest.mark.parametrize("op", FIXED_ARITY, ids=lambda op: op.name)
def test_each_fixed_arity_op_gives_the_programs_outputs_and_gradients(op):
    # Numbers in (0.1, 0.9) lie in every op's domain (log, sqrt, arcsin, a probability).
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    a, b, c = Value(0.9, label="a"), Value(0.8, label="b"), Value(1.3, label="c")
    per_sample = apply(op, *(x * a, y * b)[: op.arity])
    static = apply(op, *(a, b)[: op.arity])  # weights alone: a step of width 1, broadcast
    program = autodiff.compile(per_sample * c + static * per_sample, inputs=[x, y][: op.arity])
    check_against_program(program, list(RNG.uniform(0.12, 0.98, (op.arity, N))))


@pytest.mark.parametrize("exponent", [2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 0.0, 1.0, 1.7, -3.0])
def test_powers_by_a_constant(exponent):
    x, w = Value(0.0, label="x"), Value(1.1, label="w")
    program = autodiff.compile((x * w) ** exponent + w**exponent, inputs=[x])
    check_against_program(program, [RNG.uniform(0.2, 3.0, N)])


def test_ops_of_any_arity_mixing_weights_and_samples():
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    w = [Value(v, label=f"w{i}") for i, v in enumerate([0.5, -1.2, 0.7])]
    total = autodiff.sum([x, w[0], y * w[1], 2.0])
    neuron = autodiff.dot(w, [x, y, x * y], bias=w[2])  # a weight read twice
    per_sample_weights = autodiff.dot([x, y], [w[0], x])  # not a layer: weights per sample
    spread = autodiff.logsumexp([x * w[0], y, w[1], neuron])
    program = autodiff.compile(total * neuron + spread - per_sample_weights + autodiff.logsumexp(w), inputs=[x, y])
    check_against_program(program, [RNG.normal(size=N), RNG.normal(size=N)])


@pytest.mark.parametrize("form", ["function", "graph"])
def test_cross_entropy_with_class_indices_and_bce(form):
    model = nn.MLP(2, [4, 3], activation="tanh", seed=3)

    def loss(x0, x1, t, p):
        logits = model([x0, x1])
        return nn.cross_entropy_loss([logits], [t]) + autodiff.binary_cross_entropy(logits[0].sigmoid(), p)

    names = ["x0", "x1", "t", "p"]
    if form == "function":
        program = autodiff.compile(loss)
    else:
        inputs = [Value(0.0, label=name) for name in names]
        program = autodiff.compile(loss(*inputs), inputs=inputs)
    columns = [RNG.normal(size=N), RNG.normal(size=N), RNG.integers(0, 3, N).astype(float), RNG.uniform(0, 1, N)]
    check_against_program(program, columns, seed=RNG.uniform(0.5, 2.0, N))


def test_edges_relu_softplus_bce_and_powers():
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    w = Value(1.0, label="w")
    graph = (
        (x * w).relu() + (x * w).softplus() + (x * w).log_sigmoid() + autodiff.sum([(x * w) ** y, x**0.0]) + abs(x * w)
    )
    program = autodiff.compile(graph, inputs=[x, y])
    xs = np.array([-0.0, 0.0, 20.0, np.nextafter(20.0, 30.0), 19.999, 800.0, -800.0, 2.0, 0.0, -1.5])
    ys = np.array([0.0, 2.0, 1.0, 1.0, 0.5, 1.0, 2.0, 0.0, 0.0, 3.0])
    module = check_against_program(program, [xs, ys])
    relu = autodiff.compile((x * w).relu(), inputs=[x]).to_torch()
    assert np.signbit(relu(np.array([-0.0])).detach().numpy()).tolist() == [True]  # relu(-0.0) is -0.0
    assert module(np.array([800.0]), 1.0).isfinite().all()
    p, t = Value(0.5, label="p"), Value(0.0, label="t")
    bce = autodiff.compile(autodiff.binary_cross_entropy(p * w, t), inputs=[p, t])  # log clamped at -100
    check_against_program(bce, [np.array([0.0, 1.0, 1e-50, 1.0 - 1e-16, 0.3]), np.array([1.0, 0.0, 1.0, 0.0, 0.3])])


def test_every_fuzzed_composition_of_two_ops_agrees_with_the_program():
    # test_fuzz_torch's 30,132 cases (edge values: ±0, subnormals, ±1e308, ±inf, nan...):
    # the same bits or within 1e-12, gradients included. Where the outputs themselves
    # differ in the last bit (numpy's tanh and PyTorch's), a gradient of 1 - tanh² near 1
    # magnifies that bit: there it need only agree to 1e-8.
    def agree(a, b, rel):
        return same_bits(a, b) or (np.isfinite(a) and np.isfinite(b) and abs(a - b) <= rel * max(abs(a), abs(b)))

    cases_seen, disagreeing = 0, []
    for composition in compositions():
        cases = cases_of(composition)
        leaves = [Value(0.75) for _ in range(composition.arity)]
        program = autodiff.compile(composition.ours(*leaves), inputs=leaves)
        columns = [np.array(column) for column in zip(*cases)]
        values, grads = program(*columns), program.backward(weights=np.ones(len(cases)))
        tensors = [torch.tensor(column, requires_grad=True) for column in columns]
        out = program.to_torch()(*tensors)
        out.backward(torch.ones_like(out))
        for i, case in enumerate(cases):
            cases_seen += 1
            tolerance = 1e-12 if same_bits(values[i], out[i].item()) else 1e-8
            if not (
                agree(values[i], out[i].item(), 1e-12)
                and all(agree(g[i], t.grad[i].item(), tolerance) for g, t in zip(grads, tensors))
            ):
                disagreeing.append((composition.name, case))
    assert cases_seen > 30_000
    assert not disagreeing, disagreeing[:10]


def test_the_newer_ops_agree_with_the_program_on_every_pair_of_corners():
    # test_new_ops's corners (±0, ±inf, nan, a subnormal, ±800...), every pair for the
    # two-input ops: each input's gradient is one op's.
    x, y = np.repeat(SPECIAL, len(SPECIAL)), np.tile(SPECIAL, len(SPECIAL))
    columns = [x] * 12 + [x, y] * 6
    program = autodiff.compile(every_new_op, inputs=len(columns))
    values, grads = program(*columns), program.backward(weights=np.ones(len(x)))
    tensors = [torch.tensor(column, requires_grad=True) for column in columns]
    out = program.to_torch()(*tensors)
    out.backward(torch.ones_like(out))
    for s in range(len(x)):
        got = (out[s].item(), *(t.grad[s].item() for t in tensors))
        expected = (values[s], *(g[s] for g in grads))
        assert all(same_bits(a, b) or abs(a - b) <= 1e-12 * max(abs(a), abs(b)) for a, b in zip(got, expected)), (
            x[s],
            y[s],
            got,
            expected,
        )


def test_second_derivatives_against_central_differences_of_the_program():
    x, t = Value(0.0, label="x"), Value(0.0, label="t")
    w = [Value(v, label=f"w{i}") for i, v in enumerate([0.7, -0.4, 1.3])]
    logits = [(x * w[0]).tanh(), (x * w[1]).sigmoid() * w[2], (x + w[2]).softplus().log()]
    program = autodiff.compile(autodiff.logsumexp(logits) - autodiff.pick(logits, t), inputs=[x, t])
    columns = [RNG.normal(size=N), RNG.integers(0, 3, N).astype(float)]
    module = program.to_torch()
    (gradient,) = torch.autograd.grad(module(*columns).mean(), module.weights, create_graph=True)
    hessian = np.array([torch.autograd.grad(g, module.weights, retain_graph=True)[0].numpy() for g in gradient])

    def program_gradient(numbers):
        for leaf, number in zip(module.leaves, numbers):
            leaf.data, leaf.grad = number, 0.0
        program(*columns)
        program.backward()
        return np.array([leaf.grad for leaf in module.leaves])

    at, h = module.weights.detach().numpy().copy(), 1e-5
    differences = np.array(
        [(program_gradient(at + h * e) - program_gradient(at - h * e)) / (2 * h) for e in np.eye(len(at))]
    )
    np.testing.assert_allclose(hessian, differences, rtol=1e-6, atol=1e-8)


def test_every_input_unused_or_the_output_an_input():
    x = Value(0.0, label="x")
    check_against_program(autodiff.compile(x, inputs=[x]), [RNG.normal(size=N)])
    w = Value(2.0, label="w")
    program = autodiff.compile(lambda a, b: a * w)  # b is not read
    check_against_program(program, [RNG.normal(size=N), RNG.normal(size=N)])


@pytest.mark.parametrize("fused", [True, False])
def test_a_traced_mlp_with_an_mse_loss(fused):
    model = nn.MLP(3, [8, 8, 1], activation="relu", seed=1, fused=fused)
    program = autodiff.compile(lambda a, b, c, t: nn.mse_loss(model([a, b, c]), [t]))
    assert isinstance(program, autodiff.TracedProgram)
    columns = [RNG.normal(size=40) for _ in range(4)]
    module = check_against_program(program, columns)
    assert len(module.leaves) == len(model.parameters())


def test_columns_as_the_program_takes_them():
    x, y, w = Value(0.0, label="x"), Value(0.0, label="y"), Value(3.0, label="w")
    program = autodiff.compile(x * w + y, inputs=[x, y])
    module = program.to_torch()
    assert module([1.0, 2.0], 0.5).tolist() == program([1.0, 2.0], 0.5).tolist() == [3.5, 6.5]
    assert module(np.array([1, 2]), torch.tensor(1.0)).tolist() == [4.0, 7.0]  # ints, a 0-d tensor
    assert module(2.0, 1.0).tolist() == [7.0]
    with pytest.raises(ValueError, match=r"takes 2 columns \(x, y\), got 1"):
        module([1.0])
    with pytest.raises(ValueError, match=r"column 1 \(y\) must be 1-D .* got shape \(2, 1\)"):
        module([1.0, 2.0], [[1.0], [2.0]])
    with pytest.raises(ValueError, match=r"different lengths: \[2, 3\]"):
        module([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must hold real numbers, got dtype <U1"):
        module(["a"], 1.0)
    with pytest.raises(ValueError, match=r"column 1 \(y\) must hold real numbers, got dtype torch.bool"):
        module([1.0], torch.tensor([True]))
    with pytest.raises(ValueError, match="the batch is empty"):
        module([], [])


def test_bad_samples_raise_naming_the_sample_as_the_program_does():
    logits, t = [Value(0.5), Value(-1.0)], Value(0.0, label="t")
    module = autodiff.compile(autodiff.pick(logits, t), inputs=[t]).to_torch()
    with pytest.raises(ValueError, match=r"pick: sample 2 has index 1.5, not an integer in 0..1"):
        module([0.0, 1.0, 1.5])
    with pytest.raises(ValueError, match=r"sample 0 has index 2.0"):
        module([2.0])
    p, target = Value(0.5, label="p"), Value(0.0, label="target")
    module = autodiff.compile(autodiff.binary_cross_entropy(p, target), inputs=[p, target]).to_torch()
    with pytest.raises(ValueError, match=r"binary cross-entropy of sample 1: the probability is nan"):
        module([0.5, float("nan")], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"sample 0: the probability is 0.5 and the target 1.5"):
        module([0.5], [1.5])


def test_a_traced_function_that_branches_on_a_weight_is_refused():
    w = Value(2.0, label="w")
    program = autodiff.compile(lambda x: x * w if w > 0 else -x * w)
    with pytest.raises(ValueError, match=r"branches on weights .* write the branch with ops"):
        program.to_torch()


def test_parameters_chooses_the_trainable_leaves():
    x, w = Value(0.0, label="x"), Value(3.0, label="w")
    program = autodiff.compile((x - 1.0) * w, inputs=[x])
    module = program.to_torch(parameters=[w])
    assert [p.shape for p in module.parameters()] == [(1,)]
    assert module.constants.tolist() == [1.0] and module.leaves == [w]
    check_against_program(program, [RNG.normal(size=N)], module=module)
    with pytest.raises(ValueError, match=r"parameters\[0\] \(x\) is not a leaf .* other than an input"):
        program.to_torch(parameters=[x])
    with pytest.raises(TypeError, match=r"to_torch: parameters\[1\] must be a Value, got a float \(1.0\)"):
        program.to_torch(parameters=[w, 1.0])
    with pytest.raises(
        TypeError, match=r"to_torch: parameters must be a list of Values, got one Value; wrap it in a list"
    ):
        program.to_torch(parameters=w)


def test_training_with_torch_sgd_matches_nn_sgd_and_copies_back():
    def make():
        model = nn.MLP(2, [6, 1], activation="tanh", seed=5)
        return model, autodiff.compile(lambda a, b, t: nn.mse_loss(model([a, b]), [t]))

    columns = [RNG.normal(size=32), RNG.normal(size=32), RNG.normal(size=32)]
    model, program = make()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        program(*columns)
        model.zero_grad()
        program.backward()
        opt.step()

    twin, twin_program = make()
    module = twin_program.to_torch(parameters=twin.parameters())
    torch_opt = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        torch_opt.zero_grad()
        module(*columns).mean().backward()
        torch_opt.step()
    trained = [p.data for p in model.parameters()]
    in_module_order = [trained[twin.parameters().index(leaf)] for leaf in module.leaves]
    assert_close(module.weights.detach().numpy(), in_module_order)
    assert [p.data for p in twin.parameters()] != trained  # the Values wait for the copy
    module.copy_to_values()
    assert_close([p.data for p in twin.parameters()], trained)
    assert_close(twin_program(*columns), program(*columns))
    for p in twin.parameters():
        p.data = 0.25
    module.copy_from_values()
    assert module.weights.tolist() == [0.25] * len(trained)


def test_copy_from_values_reads_the_constants_too():
    # A leaf left out of parameters= is a constant of the module, but still a Value the
    # program reads: after it changes, the module must compute what the program computes.
    x, w, c = Value(0.0, label="x"), Value(3.0, label="w"), Value(1.0, label="c")
    program = autodiff.compile((x - c) * w, inputs=[x])
    module = program.to_torch(parameters=[w])
    w.data, c.data = 2.0, -4.0
    module.copy_from_values()
    assert module.weights.tolist() == [2.0] and module.constants.tolist() == [-4.0]
    check_against_program(program, [RNG.normal(size=N)], module=module)


def _ddp_model():
    model = nn.MLP(2, [5, 1], activation="tanh", seed=4)
    return model, autodiff.compile(lambda a, b, t: nn.mse_loss(model([a, b]), [t]))


DDP_COLUMNS = list(np.random.default_rng(16).normal(size=(3, 16)))  # the same in every process


def _ddp_worker(rank: int, world: int, port: int, trained: multiprocessing.Queue) -> None:
    """One process of DistributedDataParallel training: its share of the batch."""
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        model, program = _ddp_model()
        ddp = torch.nn.parallel.DistributedDataParallel(program.to_torch(parameters=model.parameters()))
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
        share = [torch.tensor(column[rank::world]) for column in DDP_COLUMNS]
        for _ in range(3):
            opt.zero_grad()
            ddp(*share).mean().backward()  # DDP averages the processes' gradients
            opt.step()
        if rank == 0:
            ddp.module.copy_to_values()
            trained.put([p.data for p in model.parameters()])
    finally:
        torch.distributed.destroy_process_group()


def test_distributed_data_parallel_on_two_processes_trains_as_the_program(monkeypatch):
    # Two processes on this machine, talking over the loopback interface only. Started
    # fresh ("spawn"): a fork of the test process can inherit a lock another thread holds.
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    trained = context.Queue()
    workers = [context.Process(target=_ddp_worker, args=(rank, 2, port, trained), daemon=True) for rank in range(2)]
    for worker in workers:
        worker.start()
    try:
        weights = trained.get(timeout=120)
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():  # stuck: ended here, and the test fails below
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0, 0]
    model, program = _ddp_model()
    opt = nn.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # the whole batch at once: equal shares average to its mean
        program(*DDP_COLUMNS)
        model.zero_grad()
        program.backward()
        opt.step()
    assert_close(weights, [p.data for p in model.parameters()])


def test_the_module_in_float32():
    model = nn.MLP(2, [4, 1], seed=2)
    program = autodiff.compile(lambda a, b: model([a, b]))
    module = program.to_torch().to(torch.float32)
    columns = [RNG.normal(size=N), RNG.normal(size=N)]
    out = module(*columns)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.detach().numpy(), program(*columns), rtol=1e-5, atol=1e-6)


EXTRA_FORMS = {  # the ops' numpy namesakes, for the forms of ops the table may not have yet
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "log2": np.log2,
    "log10": np.log10,
    "expm1": np.expm1,
    "floor": np.floor,
    "ceil": np.ceil,
    "sign": np.sign,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "%": np.mod,
    "//": np.floor_divide,
}


@pytest.mark.parametrize("name", sorted(EXTRA_FORMS))
def test_the_forms_of_the_newer_ops_compute_their_numpy_namesakes(name):
    numpy_form = EXTRA_FORMS[name]
    a, b = RNG.uniform(-0.95, 0.95, (2, N)), RNG.uniform(-3.0, 3.0, (2, N))
    inputs = (a, b)[: numpy_form.nin]
    with np.errstate(invalid="ignore"):  # the logs of negative numbers: nan, as in torch
        assert_close(TORCH_FORMS[name](*map(torch.tensor, inputs)).numpy(), numpy_form(*inputs))


def test_without_torch_the_error_names_the_extra(monkeypatch):
    for module in ("autodiff.torch_module", "autodiff.torch_forms"):
        monkeypatch.delitem(sys.modules, module)
    hide_torch(monkeypatch)
    x = Value(0.0, label="x")
    with pytest.raises(ImportError, match=r"pip install 'autodiff-scalar\[torch\]'"):
        autodiff.compile(x * 2.0, inputs=[x]).to_torch()
