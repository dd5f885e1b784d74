"""Signal-level quality measures (more arrive with the evaluation issue: SDR, PESQ, STOI)."""

from __future__ import annotations

import numpy as np

__all__ = ["si_snr", "snr"]


def _pair(reference, estimate) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(reference, np.float64)
    e = np.asarray(estimate, np.float64)
    if r.shape != e.shape:
        raise ValueError(f"reference and estimate must have the same shape ({r.shape} vs {e.shape})")
    if r.size == 0:
        raise ValueError("reference must not be empty")
    return r, e


def snr(reference, estimate) -> float:
    """Signal-to-noise ratio in dB: 10 log10(|s|^2 / |s - s_hat|^2)."""
    r, e = _pair(reference, estimate)
    return float(10 * np.log10(np.sum(r**2) / max(np.sum((r - e) ** 2), 1e-30)))


def si_snr(reference, estimate) -> float:
    """Scale-invariant SNR in dB (zero-mean signals; the estimate's projection on the
    reference is the target)."""
    r, e = _pair(reference, estimate)
    r = r - r.mean()
    e = e - e.mean()
    target = np.dot(e.ravel(), r.ravel()) / max(np.dot(r.ravel(), r.ravel()), 1e-30) * r
    return float(10 * np.log10(np.sum(target**2) / max(np.sum((e - target) ** 2), 1e-30)))
