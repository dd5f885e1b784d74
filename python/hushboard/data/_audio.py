"""Small audio helpers for the data pipeline: WAV I/O, resampling, trimming, levels, EQ."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

__all__ = [
    "normalize_rms",
    "random_eq",
    "read_any",
    "read_wav",
    "resample",
    "rms_db",
    "trim_silence",
    "write_wav",
]


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a PCM WAV file (8/16/24/32-bit integer) as mono float32.

    Returns:
        ``(audio, sample_rate)``; multi-channel files are averaged to mono.

    Shape:
        audio: (samples,)
    """
    with wave.open(str(path), "rb") as w:
        sr, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    if width == 1:
        a = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        a = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        a = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        a = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:  # pragma: no cover - wave rejects other widths
        raise ValueError(f"unsupported WAV sample width {width} in {path}")
    a = a.reshape(-1, ch).mean(axis=1) if ch > 1 else a
    return np.ascontiguousarray(a, np.float32), int(sr)


def read_any(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read WAV with :func:`read_wav`, anything else (FLAC, MP3, float WAV ...) through pedalboard.

    Shape:
        audio: (samples,) mono float32
    """
    p = Path(path)
    if p.suffix.lower() == ".wav":
        try:
            return read_wav(p)
        except (wave.Error, EOFError):
            pass  # float WAV and friends: let pedalboard try
    from hushboard.io import read_audio

    a, sr = read_audio(p)
    return np.ascontiguousarray(a.mean(axis=0), np.float32), int(round(sr))


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> None:
    """Write mono float audio as 16-bit PCM WAV, atomically (temporary name, then rename).

    The bytes depend only on the samples, so equal audio gives equal files.

    Shape:
        audio: (samples,)
    """
    a = np.asarray(audio, np.float64).reshape(-1)
    pcm = np.round(np.clip(a, -1.0, 32767.0 / 32768.0) * 32768.0).astype("<i2")
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (scipy ``resample_poly``, Kaiser window) between integer rates.

    Shape:
        audio: (samples,) -> (samples * sr_out / sr_in,)
    """
    if sr_in == sr_out:
        return np.asarray(audio, np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    y = resample_poly(np.asarray(audio, np.float64), int(sr_out) // g, int(sr_in) // g)
    return y.astype(np.float32)


def trim_silence(audio: np.ndarray, sample_rate: int, *, threshold_db: float = -45.0,
                 pad_seconds: float = 0.05) -> np.ndarray:
    """Cut leading and trailing silence.

    Frames of 10 ms whose RMS is more than ``threshold_db`` below the loudest frame count as
    silence; ``pad_seconds`` of the signal is kept on either side of the speech.

    Shape:
        audio: (samples,) -> (trimmed,)
    """
    a = np.asarray(audio, np.float32)
    hop = max(1, int(0.01 * sample_rate))
    n = a.size // hop
    if n == 0:
        return a
    frames = a[: n * hop].reshape(n, hop).astype(np.float64)
    e = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    active = np.flatnonzero(e > e.max() + threshold_db)
    pad = int(pad_seconds * sample_rate)
    start = max(0, active[0] * hop - pad)
    stop = min(a.size, (active[-1] + 1) * hop + pad)
    return a[start:stop]


def rms_db(audio: np.ndarray) -> float:
    """RMS level in dBFS (full scale sine = -3 dB)."""
    a = np.asarray(audio, np.float64)
    return float(10 * np.log10(np.mean(a**2) + 1e-20))


def normalize_rms(audio: np.ndarray, target_db: float = -23.0, *, peak: float = 0.97) -> np.ndarray:
    """Scale to ``target_db`` dBFS RMS, then down further if the peak would exceed ``peak``.

    Shape:
        audio: (samples,)
    """
    a = np.asarray(audio, np.float64)
    g = 10 ** ((target_db - rms_db(a)) / 20)
    m = np.max(np.abs(a)) * g
    if m > peak:
        g *= peak / m
    return (a * g).astype(np.float32)


def _biquad(kind: str, f0: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, ...]:
    """RBJ cookbook biquad coefficients (b, a)."""
    amp = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * q)
    if kind == "peak":
        b = [1 + alpha * amp, -2 * cw, 1 - alpha * amp]
        a = [1 + alpha / amp, -2 * cw, 1 - alpha / amp]
    elif kind in ("lowshelf", "highshelf"):
        s = 1.0 if kind == "lowshelf" else -1.0
        sq = 2 * np.sqrt(amp) * alpha
        b = [amp * ((amp + 1) - s * (amp - 1) * cw + sq), s * 2 * amp * ((amp - 1) - s * (amp + 1) * cw),
             amp * ((amp + 1) - s * (amp - 1) * cw - sq)]
        a = [(amp + 1) + s * (amp - 1) * cw + sq, -s * 2 * ((amp - 1) + s * (amp + 1) * cw),
             (amp + 1) + s * (amp - 1) * cw - sq]
    else:  # pragma: no cover - internal
        raise ValueError(f"kind must be peak, lowshelf or highshelf (got {kind!r})")
    b, a = np.asarray(b) / a[0], np.asarray(a) / a[0]
    return b, a


def random_eq(audio: np.ndarray, sample_rate: int, rng: np.random.Generator, *,
              max_gain_db: float = 6.0) -> tuple[np.ndarray, str]:
    """A random gentle EQ: low shelf, one peaking band and high shelf, each within
    ``+-max_gain_db``. Returns the filtered audio and a short description.

    Shape:
        audio: (samples,)
    """
    from scipy.signal import lfilter

    nyq = sample_rate / 2
    bands = [("lowshelf", rng.uniform(100, 400), rng.uniform(-max_gain_db, max_gain_db), 0.707),
             ("peak", rng.uniform(300, min(4000, 0.4 * nyq)), rng.uniform(-max_gain_db, max_gain_db),
              rng.uniform(0.5, 2.0)),
             ("highshelf", rng.uniform(min(2500, 0.3 * nyq), min(6000, 0.6 * nyq)),
              rng.uniform(-max_gain_db, max_gain_db), 0.707)]
    y = np.asarray(audio, np.float64)
    for kind, f0, g, q in bands:
        b, a = _biquad(kind, f0, g, q, sample_rate)
        y = lfilter(b, a, y)
    desc = ";".join(f"{k}@{f:.0f}Hz{g:+.1f}dB" for k, f, g, _ in bands)
    return y.astype(np.float32), desc
