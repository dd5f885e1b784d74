"""Test helpers: error measures and float32 tolerances."""

from __future__ import annotations

import numpy as np
import torch

# float32 kernels against a float64 truth: max |error| / max |truth|
TOL_F32 = {"stft": 2e-6, "istft": 2e-6, "grad": 5e-6}


def rel_err(a, b) -> float:
    a = torch.as_tensor(a)
    b = torch.as_tensor(b)
    a64 = a.to(torch.complex128 if a.is_complex() or b.is_complex() else torch.float64)
    b64 = b.to(a64.dtype)
    den = b64.abs().max().item()
    return (a64 - b64).abs().max().item() / (den if den > 0 else 1.0)


def noise(*shape, seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
