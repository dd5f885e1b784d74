"""Classic spectral denoisers as native streaming effects."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hushboard.fx.base import NativeEffect
from hushboard.ops._native import _C

__all__ = ["SpectralGate", "WienerDenoiser", "frame_size_for"]


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


class _SpectralEffect(NativeEffect):
    """Shared framing of the STFT-domain effects: Hann frames of ``frame_ms`` (rounded up to an
    FFT size), 75% overlap, latency ``n_fft - 1``."""

    def __init__(self, frame_ms: float) -> None:
        super().__init__()
        if not (math.isfinite(frame_ms) and 4.0 <= frame_ms <= 200.0):
            raise ValueError(f"frame_ms must be in [4, 200] (got {frame_ms})")
        self.frame_ms = float(frame_ms)

    def _nominal_latency(self, sample_rate: float) -> int:
        return frame_size_for(sample_rate, self.frame_ms) - 1

    def _framing(self, sample_rate: float) -> tuple[int, int]:
        if not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate must be in [8000, 192000] Hz (got {sample_rate:g})")
        n_fft = frame_size_for(sample_rate, self.frame_ms)
        return n_fft, n_fft // 4


class WienerDenoiser(_SpectralEffect):
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
        super().__init__(frame_ms)
        self._check_floor(gain_floor_db)
        if not 0.0 <= dd_alpha < 1.0:
            raise ValueError(f"dd_alpha must be in [0, 1) (got {dd_alpha})")
        if not (noise_time_const_s > 0 and min_window_s > 0):
            raise ValueError("noise_time_const_s and min_window_s must be > 0")
        if not presence_threshold > 1:
            raise ValueError(f"presence_threshold must be > 1 (got {presence_threshold})")
        self._gain_floor_db = float(gain_floor_db)
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

    def _build(self, sample_rate: float, channels: int):
        n_fft, hop = self._framing(sample_rate)
        return _C.WienerDenoiser(
            sample_rate, n_fft, hop, channels, self._gain_floor_db, self.dd_alpha,
            self.noise_time_const_s, self.min_window_s, self.presence_threshold,
        )

    def _params(self) -> dict[str, Any]:
        return {"gain_floor_db": self._gain_floor_db, "frame_ms": self.frame_ms,
                "dd_alpha": self.dd_alpha, "noise_time_const_s": self.noise_time_const_s,
                "min_window_s": self.min_window_s, "presence_threshold": self.presence_threshold}


class SpectralGate(_SpectralEffect):
    """Spectral gate (noise gate per frequency bin), streaming, in C++.

    The noise is described per bin by the mean and standard deviation of its level in dB, taken
    from ``noise_clip`` or learned from the first ``learn_ms`` of the stream (which passes
    unchanged meanwhile). Bins below ``mean + n_std * std`` are attenuated to
    ``attenuation_db``; the gate mask is smoothed over ``freq_smooth_hz`` and ``time_smooth_ms``
    so that it does not chatter. Latency ``n_fft - 1`` samples (about ``frame_ms``).

    Args:
        n_std: threshold above the noise mean, in noise standard deviations (may change while
            streaming).
        attenuation_db: gain of gated bins, <= 0 (may change while streaming).
        freq_smooth_hz: half width of the mask's smoothing across frequency.
        time_smooth_ms: release time of the mask (it opens at once and closes this smoothly).
        learn_ms: how much of the stream to learn the noise from when no clip is given.
        noise_clip: noise alone, at the stream's sample rate; 1-D or (channels, samples) (the
            channels are pooled).
        frame_ms: analysis frame length.
    """

    def __init__(
        self, *, n_std: float = 1.5, attenuation_db: float = -24.0, freq_smooth_hz: float = 60.0,
        time_smooth_ms: float = 40.0, learn_ms: float = 500.0, noise_clip: Any = None,
        frame_ms: float = 32.0,
    ) -> None:
        super().__init__(frame_ms)
        self._n_std = self._check_n_std(n_std)
        self._attenuation_db = self._check_attenuation(attenuation_db)
        if not (math.isfinite(freq_smooth_hz) and freq_smooth_hz >= 0):
            raise ValueError(f"freq_smooth_hz must be >= 0 (got {freq_smooth_hz})")
        if not (math.isfinite(time_smooth_ms) and time_smooth_ms >= 0):
            raise ValueError(f"time_smooth_ms must be >= 0 (got {time_smooth_ms})")
        if not (math.isfinite(learn_ms) and learn_ms > 0):
            raise ValueError(f"learn_ms must be > 0 (got {learn_ms})")
        self.freq_smooth_hz = float(freq_smooth_hz)
        self.time_smooth_ms = float(time_smooth_ms)
        self.learn_ms = float(learn_ms)
        self.noise_clip = None
        if noise_clip is not None:
            from hushboard.fx.base import as_audio

            clip, _ = as_audio(noise_clip)
            if clip.shape[1] == 0:
                raise ValueError("noise_clip must not be empty")
            self.noise_clip = clip

    @staticmethod
    def _check_n_std(v: float) -> float:
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"n_std must be a finite number >= 0 (got {v})")
        return float(v)

    @staticmethod
    def _check_attenuation(v: float) -> float:
        if not (math.isfinite(v) and v <= 0):
            raise ValueError(f"attenuation_db must be a finite number <= 0 (got {v})")
        return float(v)

    @property
    def n_std(self) -> float:
        return self._n_std

    @n_std.setter
    def n_std(self, v: float) -> None:
        self._n_std = self._check_n_std(v)
        if self._native is not None:
            self._native.set_n_std(self._n_std)

    @property
    def attenuation_db(self) -> float:
        return self._attenuation_db

    @attenuation_db.setter
    def attenuation_db(self, v: float) -> None:
        self._attenuation_db = self._check_attenuation(v)
        if self._native is not None:
            self._native.set_attenuation_db(self._attenuation_db)

    def noise_profile(self, sample_rate: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Mean and standard deviation per bin of the noise clip's level in dB (None without
        a clip); the same analysis as the gate's own."""
        if self.noise_clip is None:
            return None
        from hushboard.ops import stft

        n_fft, hop = self._framing(sample_rate)
        if self.noise_clip.shape[1] < n_fft // 2 + 1:
            raise ValueError(
                f"noise_clip is too short: {self.noise_clip.shape[1]} samples, at least "
                f"{n_fft // 2 + 1} needed at {sample_rate:g} Hz"
            )
        spec = stft(self.noise_clip, n_fft, hop, window="hann", pad_mode="constant")
        level = 10 * np.log10(np.abs(spec).astype(np.float64) ** 2 + 1e-20)
        level = np.moveaxis(level, 1, 0).reshape(level.shape[1], -1)  # (bins, channels*frames)
        return (level.mean(axis=1).astype(np.float32),
                level.std(axis=1, ddof=1 if level.shape[1] > 1 else 0).astype(np.float32))

    def _build(self, sample_rate: float, channels: int):
        n_fft, hop = self._framing(sample_rate)
        gate = _C.SpectralGate(sample_rate, n_fft, hop, channels, self._n_std,
                               self._attenuation_db, self.freq_smooth_hz, self.time_smooth_ms,
                               self.learn_ms)
        profile = self.noise_profile(sample_rate)
        if profile is not None:
            gate.set_profile(*profile)
        return gate

    def _params(self) -> dict[str, Any]:
        return {"n_std": self._n_std, "attenuation_db": self._attenuation_db,
                "freq_smooth_hz": self.freq_smooth_hz, "time_smooth_ms": self.time_smooth_ms,
                "learn_ms": self.learn_ms,
                "noise_clip": None if self.noise_clip is None else f"<{self.noise_clip.shape}>",
                "frame_ms": self.frame_ms}
