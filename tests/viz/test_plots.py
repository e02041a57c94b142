"""Training plots: they draw, they write files atomically, they name bad input."""

import builtins

import pytest

import nn
import viz
from autodiff import Value

PNG = b"\x89PNG\r\n\x1a\n"


def test_history_plot_writes_a_png(tmp_path):
    figure = viz.plot_history({"loss": [1.0, 0.4, 0.1], "accuracy": [0.5, 0.75, 1.0]}, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes().startswith(PNG)
    assert len(figure.axes) == 2  # loss and accuracy
    assert len(viz.plot_history({"loss": [1.0, 0.5]}).axes) == 1


def test_decision_boundary_colours_the_two_sides(tmp_path):
    figure = viz.plot_decision_boundary(lambda p: Value(p[0] - p[1]), [[0.0, 1.0], [1.0, 0.0]], [-1, 1],
                                        tmp_path / "b.svg", resolution=30)
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")
    axes = figure.axes[0]
    assert len(axes.collections) >= 3  # filled regions, the boundary line, the two classes of points


def test_gradient_flow_records_each_layer_per_step(tmp_path):
    model = nn.MLP(2, [4, 4, 1], seed=0)
    flow = viz.GradientFlow(model)
    nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0], loss="hinge", epochs=5, progress=False, on_step=flow.record)
    assert list(flow.layers) == ["layers.0", "layers.1", "layers.2"]
    assert all(len(flow.mean[name]) == len(flow.max[name]) == 5 for name in flow.layers)
    last = model.layers[2].parameters()
    assert flow.max["layers.2"][-1] == max(abs(p.grad) for p in last)
    flow.plot(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(PNG)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="no 'loss'"):
        viz.plot_history({})
    with pytest.raises(ValueError, match="2-D samples"):
        viz.plot_decision_boundary(lambda p: Value(0.0), [[1.0, 2.0, 3.0]], [1])
    with pytest.raises(ValueError, match="nothing recorded"):
        viz.GradientFlow(nn.MLP(2, [1], seed=0)).plot()


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"autodiff-scalar\[plots\]"):
        viz.plot_history({"loss": [1.0]})
