"""Gradient colours, module boxes, and the budget that keeps big graphs readable."""

import os
import re
import stat
import time

import pytest

import autodiff
import nn
import viz
from autodiff import Value
from viz.colours import EXPLODING, VANISHING
from viz.view import build_view, module_of, parent_module


def test_module_paths_come_from_parameter_names():
    assert module_of("layers.0.neurons.3.w.1") == "layers.0.neurons.3"
    assert module_of("layers.0.neurons.3.b") == "layers.0.neurons.3"
    assert module_of("w.0") == "" and module_of("x") == ""
    assert parent_module("layers.0.neurons.3") == "layers.0"
    assert parent_module("layers.0") == ""


def mlp_loss(nouts=(3, 1), samples=1):
    model = nn.MLP(2, list(nouts), activation="tanh", seed=0)
    xs = [[0.5 + i / 10, -1.0] for i in range(samples)]
    loss = nn.mse_loss([model(x) for x in xs], [1.0] * samples)
    loss.backward()
    return loss


def test_nodes_of_a_module_are_drawn_in_a_box_named_after_it():
    source = viz.draw_dot(mlp_loss()).source
    for name in ("layers.0", "layers.0.neurons.2", "layers.1.neurons.0"):
        assert re.search(rf'subgraph cluster_\d+ {{\s*[^\n]* label="{re.escape(name)}" ', source)
    # inside its box a parameter shows its short name
    assert "<b>w.1</b>" in source and "layers.0.neurons.0.w.1</b>" not in source


def test_gradients_are_coloured_and_the_extremes_marked():
    dead, alive = Value(-1.0), Value(2.0)
    out = dead.relu() + alive * 3.0
    huge = Value(1e6) * Value(1e4, label="big")
    total = out + huge + Value(0.0).log() * 0.0
    total.backward()
    source = viz.draw_dot(total).source
    assert f'bgcolor="{VANISHING[0]}"' in source  # dead relu: gradient 0
    assert f'bgcolor="{EXPLODING[0]}"' in source  # d/d(big) = 1e6, and nan from 0 * log(0)
    assert "vanishing: |grad| &lt; 1e-08" in source and "legend" in source
    assert "bgcolor" not in viz.draw_dot(total, colour=False).source


def test_edge_width_follows_the_gradient():
    source = viz.draw_dot(mlp_loss(), edge_width=True).source
    widths = [float(w) for w in re.findall(r"penwidth=([\d.]+)", source)]
    assert len(set(widths)) > 3


def dot_node_count(source):
    return len(re.findall(r"^\s*(v\d+|g\d+) \[", source, flags=re.M))


def test_a_graph_within_the_budget_is_drawn_whole():
    loss = mlp_loss()
    assert dot_node_count(viz.draw_dot(loss).source) == len(autodiff.topological_order(loss))


def test_above_the_budget_modules_collapse_into_summary_boxes():
    loss = mlp_loss(nouts=(16, 16, 1), samples=3)
    n = len(autodiff.topological_order(loss))
    source = viz.draw_dot(loss, budget=120).source
    assert n > 120 and dot_node_count(source) <= 120
    assert "<b>layers.1.neurons.5</b>" in source or "<b>layers.1</b>" in source
    assert re.search(r"[\d,]+ nodes", source)


def test_a_ten_thousand_node_graph_is_drawn_in_seconds_and_kept_small(tmp_path):
    loss = mlp_loss(nouts=(16, 16, 1), samples=150)
    assert len(autodiff.topological_order(loss)) > 10_000
    start = time.perf_counter()
    source = viz.draw_dot(loss).source
    assert time.perf_counter() - start < 10
    assert dot_node_count(source) <= 300
    start = time.perf_counter()
    viz.render(loss, tmp_path / "big.svg")
    assert time.perf_counter() - start < 30


def test_long_chains_keep_both_ends():
    x, factor = Value(0.5, label="start"), Value(1.0000001, label="factor")
    y = x
    for _ in range(100_000):
        y = y * factor
    y.label = "end"
    y.backward()
    source = viz.draw_dot(y).source
    assert "<b>start</b>" in source and "<b>end</b>" in source and "<b>factor</b>" in source
    assert "⋯ 99,993 ops ⋯" in source
    assert dot_node_count(source) < 20


def test_a_chain_with_a_constant_per_link_keeps_both_ends_too():
    y = Value(0.5, label="start")
    for _ in range(3000):
        y = y * 1.0001  # in graph order each link's constant sits between it and the last
    y.label = "end"
    source = viz.draw_dot(y).source
    assert "<b>start</b>" in source and "<b>end</b>" in source and "⋯ 2,993 ops ⋯" in source
    assert dot_node_count(source) < 20 and "more nodes" not in source


def test_the_budget_holds_even_without_modules_or_chains():
    leaves = [Value(float(i)) for i in range(2000)]
    out = autodiff.sum([a * b for a, b in zip(leaves, leaves[1:])])
    out.backward()
    view = build_view(out, 100)
    assert view.count() <= 100
    assert "more nodes" in viz.draw_dot(out, budget=100).source


def test_big_drawings_are_deterministic():
    assert viz.draw_dot(mlp_loss((16, 16, 1), 3), budget=50).source == viz.draw_dot(mlp_loss((16, 16, 1), 3), budget=50).source


def test_a_budget_below_ten_is_refused():
    with pytest.raises(ValueError, match="budget"):
        viz.draw_dot(Value(1.0), budget=3)


def test_a_slow_dot_hits_the_timeout_with_advice(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nsleep 5\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + "/bin:/usr/bin")
    with pytest.raises(TimeoutError, match="within 0.5 s.*larger timeout"):
        viz.render(mlp_loss(), tmp_path / "g.svg", timeout=0.5)
    assert not (tmp_path / "g.svg").exists()
