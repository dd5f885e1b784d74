"""The one place that imports the compiled extension ``hushboard._C``."""

from __future__ import annotations

try:
    from hushboard import _C  # type: ignore[attr-defined]
except ImportError as exc:  # pragma: no cover - only when the package was not built
    raise ImportError(
        "hushboard's native extension (hushboard._C) is missing: install the package with "
        "`pip install .` from the repository root so that the C++ kernels are built"
    ) from exc

__all__ = ["_C"]
