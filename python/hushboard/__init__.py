"""hushboard: neural speech denoising and source separation as low-latency audio effects.

The package is layered: ``hushboard.ops`` (fused kernels as torch custom ops and NumPy
functions), ``hushboard.streaming`` (stateful frame-by-frame transforms), and the command line
(``hushboard --help``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Chain", "Denoise", "Gain", "Rebalance", "SpectralGate", "StreamServer", "WienerDenoiser", "__version__",
           "backend", "fx", "ops", "separate", "streaming"]


def __getattr__(name: str):  # lazy: `import hushboard` stays cheap (torch loads on first use)
    import importlib

    if name in ("ops", "streaming", "backend", "fx"):
        return importlib.import_module(f"hushboard.{name}")
    if name in ("Chain", "Denoise", "Gain", "Rebalance", "SpectralGate", "WienerDenoiser"):
        return getattr(importlib.import_module("hushboard.fx"), name)
    if name == "StreamServer":
        return importlib.import_module("hushboard.serve").StreamServer
    if name == "separate":
        return importlib.import_module("hushboard.separation").separate
    raise AttributeError(f"module 'hushboard' has no attribute {name!r}")
