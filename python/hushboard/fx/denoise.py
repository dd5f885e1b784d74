"""Classic spectral denoisers as native streaming effects."""

from __future__ import annotations

import math
from typing import Any

from hushboard.fx.base import NativeEffect
from hushboard.ops._native import _C

__all__ = ["WienerDenoiser", "frame_size_for"]


def _smooth(n: int) -> bool:
    for f in (2, 3, 5):
        while n % f == 0:
            n //= f
    return n == 1


def frame_size_for(sample_rate: float, frame_ms: float) -> int:
    """The smallest FFT size of at least ``frame_ms`` at ``sample_rate`` that the one-frame
    streaming path handles (a multiple of 16 whose factors are 2, 3 and 5, at least 128)."""
    n = max(128, 16 * math.ceil(sample_rate * frame_ms / 1000.0 / 16))
    while not _smooth(n):
        n += 16
    return n


class WienerDenoiser(NativeEffect):
    """Wiener-gain noise suppression, streaming, in C++.

    The noise power spectrum is tracked by MCRA (minima-controlled recursive averaging: spectral
    minima over a sliding window decide where speech is absent, and the noise estimate follows
    the signal there), the a-priori SNR by the decision-directed rule, and the gain
    ``xi / (1 + xi)`` is limited below by ``gain_floor_db``. Hann analysis/synthesis with 75%
    overlap; latency ``n_fft - 1`` samples (about ``frame_ms``).

    Args:
        gain_floor_db: lowest gain per bin (<= 0 dB); may be changed while streaming.
        frame_ms: analysis frame length in milliseconds (rounded up to an FFT size).
        dd_alpha: decision-directed smoothing (0..1, higher: less musical noise, more lag).
        noise_time_const_s: time constant of the noise estimate where speech is absent.
        min_window_s: minimum-statistics search window in seconds.
        presence_threshold: smoothed power over its minimum above which speech is present.
    """

    def __init__(
        self, *, gain_floor_db: float = -20.0, frame_ms: float = 32.0, dd_alpha: float = 0.98,
        noise_time_const_s: float = 0.2, min_window_s: float = 1.0,
        presence_threshold: float = 5.0,
    ) -> None:
        super().__init__()
        if not (math.isfinite(frame_ms) and 4.0 <= frame_ms <= 200.0):
            raise ValueError(f"frame_ms must be in [4, 200] (got {frame_ms})")
        self._check_floor(gain_floor_db)
        if not 0.0 <= dd_alpha < 1.0:
            raise ValueError(f"dd_alpha must be in [0, 1) (got {dd_alpha})")
        if not (noise_time_const_s > 0 and min_window_s > 0):
            raise ValueError("noise_time_const_s and min_window_s must be > 0")
        if not presence_threshold > 1:
            raise ValueError(f"presence_threshold must be > 1 (got {presence_threshold})")
        self._gain_floor_db = float(gain_floor_db)
        self.frame_ms = float(frame_ms)
        self.dd_alpha = float(dd_alpha)
        self.noise_time_const_s = float(noise_time_const_s)
        self.min_window_s = float(min_window_s)
        self.presence_threshold = float(presence_threshold)

    @staticmethod
    def _check_floor(db: float) -> None:
        if not (math.isfinite(db) and db <= 0):
            raise ValueError(f"gain_floor_db must be a finite number <= 0 (got {db})")

    @property
    def gain_floor_db(self) -> float:
        return self._gain_floor_db

    @gain_floor_db.setter
    def gain_floor_db(self, db: float) -> None:
        self._check_floor(db)
        self._gain_floor_db = float(db)
        if self._native is not None:
            self._native.set_gain_floor_db(self._gain_floor_db)

    def _latency_for(self, sample_rate: float) -> int:
        return frame_size_for(sample_rate, self.frame_ms) - 1

    def _build(self, sample_rate: float, channels: int):
        if not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate must be in [8000, 192000] Hz (got {sample_rate:g})")
        n_fft = frame_size_for(sample_rate, self.frame_ms)
        return _C.WienerDenoiser(
            sample_rate, n_fft, n_fft // 4, channels, self._gain_floor_db, self.dd_alpha,
            self.noise_time_const_s, self.min_window_s, self.presence_threshold,
        )

    def _params(self) -> dict[str, Any]:
        return {"gain_floor_db": self._gain_floor_db, "frame_ms": self.frame_ms,
                "dd_alpha": self.dd_alpha, "noise_time_const_s": self.noise_time_const_s,
                "min_window_s": self.min_window_s, "presence_threshold": self.presence_threshold}
