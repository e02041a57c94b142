"""fit's progress bar: no warning when nn is imported, in a notebook or not; a widget
where the notebook has ipywidgets, text where it has not or in a terminal."""

import importlib.util
import io
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import nn
from nn import progress

ROOT = Path(__file__).resolve().parents[2]


class ZMQInteractiveShell:  # the class name a Jupyter kernel's shell has
    pass


def fake_kernel(monkeypatch, ipywidgets: bool) -> None:
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: (
        (object() if ipywidgets else None) if name == "ipywidgets" else real_find_spec(name, *args)))


def test_a_kernel_without_ipywidgets_gets_a_text_bar(monkeypatch):
    fake_kernel(monkeypatch, ipywidgets=False)
    assert progress.bar_kind() == "text"
    assert type(progress.progress(range(2), file=io.StringIO())).__module__ == "tqdm.std"


def test_a_kernel_with_ipywidgets_gets_a_widget(monkeypatch):
    fake_kernel(monkeypatch, ipywidgets=True)
    assert progress.bar_kind() == "widget"


def test_ipython_in_a_terminal_is_no_kernel(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace()  # TerminalInteractiveShell, say
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress.bar_kind() == "none"


def test_a_terminal_gets_text_and_a_log_gets_none(monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    assert progress.bar_kind() == "text"
    assert progress.bar_kind(enabled=False) == "none"
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress.bar_kind() == "none"
    monkeypatch.setattr(sys, "stderr", None)  # pythonw: no stderr at all
    assert progress.bar_kind() == "none"


def test_fit_shows_the_bar_in_a_terminal_with_the_loss(monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    nn.fit(nn.MLP(1, [1], seed=0), [[0.0], [1.0]], [0.0, 1.0], loss="mse", epochs=3)
    assert "training" in terminal.getvalue() and "3/3" in terminal.getvalue() and "loss=" in terminal.getvalue()


def test_importing_nn_and_viz_warns_nothing_and_imports_no_tqdm():
    code = "import sys, nn, viz; assert 'tqdm' not in sys.modules, 'tqdm imported'"
    run = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0 and run.stderr == "", run.stderr


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is not None, reason="needs a kernel without ipywidgets")
def test_in_a_jupyter_kernel_without_ipywidgets_import_warns_nothing_and_fit_shows_text(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout
    cells = [
        # recorded, not raised: tqdm.auto catches its own warning raised as an error
        "import warnings\nwith warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n    import nn, viz\n"
        "from nn.progress import bar_kind\nprint(bar_kind(), [str(w.message) for w in caught])",
        "history = nn.fit(nn.MLP(1, [1], seed=0), [[0.0], [1.0]], [0.0, 1.0], loss='mse', epochs=3)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    imported, trained = notebook.cells[0].outputs, notebook.cells[1].outputs
    assert [(o.output_type, o.name, o.text) for o in imported] == [("stream", "stdout", "text []\n")]
    text = "".join(o.get("text", "") for o in trained)
    assert "training" in text and "3/3" in text and "Warning" not in text
