"""An import of PyTorch that fails, as where it is not installed."""

import builtins


def hide_torch(monkeypatch) -> None:
    """Make ``import torch`` raise ImportError for the test (modules that imported it
    already keep it: drop them from sys.modules with monkeypatch to import them again)."""
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
