"""The one place that imports the compiled extension ``hushboard._C``."""

from __future__ import annotations

import os

try:
    from hushboard import _C  # type: ignore[attr-defined]
except ImportError as exc:  # pragma: no cover - only when the package was not built
    raise ImportError(
        "hushboard's native extension (hushboard._C) is missing: install the package with "
        "`pip install .` from the repository root so that the C++ kernels are built"
    ) from exc

__all__ = ["FORCE_REFERENCE", "_C", "register_native"]

# HUSHBOARD_BACKEND=reference leaves every op on its pure-torch default body.
FORCE_REFERENCE = os.environ.get("HUSHBOARD_BACKEND", "").lower() == "reference"


def register_native(op: str, device: str):
    """Decorator: register a native kernel of the custom op ``op`` for ``device`` (not under
    HUSHBOARD_BACKEND=reference)."""
    import torch

    def deco(fn):
        if not FORCE_REFERENCE:
            torch.library.register_kernel(op, device)(fn)
        return fn

    return deco
