"""Synthetic upper band for band-limited TTS speech in fullband (48 kHz) corpora.

The TTS voices render at 16 kHz (flite, festival diphones), 22.05 kHz (espeak-ng) or 32 kHz (the
HTS voice), so at 48 kHz their speech is silent above 8, 11 or 16 kHz. A fullband denoiser trained
on it learns that nothing above those edges is speech and removes the upper band of real speech
(sibilants, breath). ``extend_band`` gives such speech a plausible upper band, the way spectral
band replication does in audio codecs: noise that follows the power envelope of the top octave
below the edge (where the fricatives are), starting a random 3-12 dB below the level reached at the edge and
falling by a random 6-15 dB per octave (the upper band of speech is noise-like). Below the edge the audio is
untouched.

This is an approximation of real speech, not real speech: it teaches a model to keep energy above
the edge that follows the speech's own fricative envelope. Corpora built with it say so
(``corpus.json``: ``extend_band``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["band_edge", "extend_band"]

_NFFT = 1024


def band_edge(native_rate: float) -> float:
    """The frequency (Hz) up to which audio resampled from ``native_rate`` keeps its content:
    0.45 × the native rate (the resampling filter rolls off above)."""
    return 0.45 * float(native_rate)


def _stft(x: np.ndarray) -> np.ndarray:
    hop = _NFFT // 4
    w = np.hanning(_NFFT + 1)[:-1]
    pad = np.concatenate([np.zeros(_NFFT), x, np.zeros(_NFFT)])
    n = 1 + (pad.size - _NFFT) // hop
    idx = np.arange(_NFFT)[None, :] + hop * np.arange(n)[:, None]
    return np.fft.rfft(pad[idx] * w, axis=1)


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    hop = _NFFT // 4
    w = np.hanning(_NFFT + 1)[:-1]
    frames = np.fft.irfft(spec, _NFFT, axis=1) * w
    n = frames.shape[0]
    out = np.zeros(hop * (n - 1) + _NFFT)
    norm = np.zeros_like(out)
    for i in range(n):
        out[i * hop:i * hop + _NFFT] += frames[i]
        norm[i * hop:i * hop + _NFFT] += w * w
    out /= np.maximum(norm, 1e-8)
    return out[_NFFT:_NFFT + length]


def extend_band(audio: np.ndarray, sample_rate: int, edge_hz: float,
                rng: np.random.Generator, *, slope_db: tuple[float, float] = (-15.0, -6.0),
                edge_db: tuple[float, float] = (-12.0, -3.0)) -> np.ndarray:
    """``audio`` with a synthetic band from ``edge_hz`` up to Nyquist added (module docstring).

    Args:
        audio: mono speech, silent above ``edge_hz``.
        sample_rate: its rate in Hz.
        edge_hz: where its content ends; nothing is added when it is at or above 0.95 × Nyquist.
        rng: draws the slope and the phases.
        slope_db: range of the upper band's slope in dB per octave above the edge.
        edge_db: range of its level at the edge, in dB relative to the level just below.

    Shape:
        audio: (samples,) -> (samples,), float32
    """
    x = np.asarray(audio, np.float64).reshape(-1)
    nyq = sample_rate / 2
    if not 0 < edge_hz < 0.95 * nyq or x.size < _NFFT or not np.any(x):
        return x.astype(np.float32)
    spec = _stft(x)
    freqs = np.fft.rfftfreq(_NFFT, 1 / sample_rate)
    k_edge = int(np.searchsorted(freqs, edge_hz))
    k_lo = int(np.searchsorted(freqs, edge_hz / 2))
    power = np.abs(spec[:, k_lo:k_edge]) ** 2
    width = k_edge - k_lo
    if width < 4:
        return x.astype(np.float32)
    # the source octave's power envelope over time (mean 1) and the level reached at the edge
    env = power.mean(axis=1)
    env = np.sqrt(env / max(env.mean(), 1e-30))
    top = np.sqrt(power[:, -max(1, width // 10):].mean())
    slope = float(rng.uniform(*slope_db))
    top *= 10 ** (float(rng.uniform(*edge_db)) / 20)
    k = np.arange(k_edge, freqs.size)
    level = top * 10 ** (slope * np.log2(freqs[k] / edge_hz) / 20)
    level *= np.clip((k - k_edge + 1) / 4.0, 0, 1) * (freqs[k] < nyq * 0.995)
    noise = (rng.standard_normal((spec.shape[0], k.size))
             + 1j * rng.standard_normal((spec.shape[0], k.size))) / np.sqrt(2)
    ext = np.zeros_like(spec)
    ext[:, k] = env[:, None] * level[None, :] * noise
    return (x + _istft(ext, x.size)).astype(np.float32)
