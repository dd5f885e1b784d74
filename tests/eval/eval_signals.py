"""Speech-like test signals for the metric and evaluation tests: voiced syllables (harmonics of
a gliding pitch under a formant-like envelope) separated by pauses, as PESQ and STOI expect."""

from __future__ import annotations

import numpy as np

__all__ = ["add_noise", "make_speechlike"]


def make_speechlike(sample_rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    """Deterministic syllable train, peak 0.3, silence at both ends."""
    rng = np.random.default_rng(seed)
    n = int(sample_rate * seconds)
    x = np.zeros(n)
    pos = int(0.08 * sample_rate)
    while pos < n - int(0.3 * sample_rate):
        length = int(rng.uniform(0.12, 0.28) * sample_rate)
        f0 = rng.uniform(100, 220)
        t = np.arange(length) / sample_rate
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * t)))
        phase /= sample_rate
        formant = rng.uniform(400, 1200)
        seg = sum(np.sin(k * phase) / k * np.exp(-(((k * f0 - formant) / 900) ** 2))
                  for k in range(1, 40) if k * f0 < sample_rate / 2.2)
        x[pos:pos + length] += seg * np.hanning(length)
        pos += length + int(rng.uniform(0.03, 0.12) * sample_rate)
    return 0.3 * x / np.abs(x).max()


def add_noise(clean: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    """clean + white noise scaled to exactly ``snr_db``."""
    noise = np.random.default_rng(seed).standard_normal(clean.size)
    noise *= np.sqrt(np.sum(clean**2) / np.sum(noise**2) / 10 ** (snr_db / 10))
    return clean + noise
