"""Optional dependencies, imported where they are first needed, with an error that says
how to install them."""

from __future__ import annotations

from typing import Any


def import_torch() -> Any:
    """PyTorch, or an ImportError that says how to install it.

    >>> import_torch().__name__
    'torch'
    """
    try:
        import torch
    except ImportError:
        raise ImportError(
            "this needs PyTorch, which is not installed: pip install 'autodiff-scalar[torch]' (or pip install torch)"
        ) from None
    return torch
