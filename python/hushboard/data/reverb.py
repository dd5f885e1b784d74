"""Room reverberation from simulated impulse responses (own image-source code, no dependency).

A shoebox room with uniform wall absorption set from the wanted RT60 by Sabine's formula. The
impulse response is *hybrid*: exact image sources (Allen & Berkley 1979, fractional delays by a
windowed sinc) for the first ``ism_ms`` milliseconds after the direct sound, then a Gaussian tail
decaying 60 dB per RT60 whose level joins the image-source part, low-passed like air absorption.
That is how room simulators keep the late, dense part cheap (pyroomacoustics' hybrid mode uses ray
tracing for it).

Training target: the **early-reverb speech**, i.e. the dry speech convolved with the first
``early_ms`` = 50 ms of the response after the direct path (direct sound + early reflections);
the model learns to remove the late reverberation and the noise. Both target and reverberant
speech are shifted so the direct path sits at sample 0 (no propagation delay).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RoomIR", "measure_rt60", "random_room_ir", "reverberate", "room_ir"]

_C = 343.0  # speed of sound, m/s


@dataclass(frozen=True)
class RoomIR:
    """A room impulse response with what made it.

    Attributes:
        rir: the response, direct path at sample 0, peak-normalised direct sound (~1).
        sample_rate: Hz.
        rt60: the design reverberation time in seconds.
        room_m: room size (x, y, z) in metres.
        distance_m: source-microphone distance in metres.
        absorption: the walls' energy absorption coefficient.
    """

    rir: np.ndarray
    sample_rate: int
    rt60: float
    room_m: tuple[float, float, float]
    distance_m: float
    absorption: float


def room_ir(room_m: tuple[float, float, float], source_m: tuple[float, float, float],
            mic_m: tuple[float, float, float], rt60: float, sample_rate: int,
            rng: np.random.Generator, *, ism_ms: float = 80.0) -> RoomIR:
    """The hybrid impulse response of one shoebox room.

    Args:
        room_m: room size in metres, each 1..50.
        source_m: source position inside the room.
        mic_m: microphone position inside the room.
        rt60: reverberation time in seconds (0.05..3).
        sample_rate: Hz.
        rng: random generator for the late tail.
        ism_ms: image-source part length after the direct sound, ms.

    Shape:
        rir: (ceil(1.2 * rt60 * sample_rate) + 1,) at least 0.1 s
    """
    L = np.asarray(room_m, np.float64)
    s, m = np.asarray(source_m, np.float64), np.asarray(mic_m, np.float64)
    if L.shape != (3,) or np.any(L < 1) or np.any(L > 50):
        raise ValueError(f"room_m must be 3 sizes in 1..50 m (got {room_m})")
    for name, p in (("source_m", s), ("mic_m", m)):
        if p.shape != (3,) or np.any(p <= 0) or np.any(p >= L):
            raise ValueError(f"{name} must lie inside the room {tuple(L)} (got {tuple(p)})")
    if not 0.05 <= rt60 <= 3.0:
        raise ValueError(f"rt60 must be in 0.05..3 s (got {rt60})")
    sr = int(sample_rate)
    V, S = float(np.prod(L)), 2.0 * (L[0] * L[1] + L[0] * L[2] + L[1] * L[2])
    alpha = float(np.clip(0.161 * V / (S * rt60), 0.01, 0.99))
    beta = np.sqrt(1.0 - alpha)
    d0 = float(np.linalg.norm(s - m))
    t_ism = d0 / _C + ism_ms / 1000
    order = int(np.ceil(_C * t_ism / (2 * L.min()))) + 1
    n = np.arange(-order, order + 1)
    # per axis: image coordinate and number of wall hits for (n, q)
    coords, hits = [], []
    for ax in range(3):
        c_ax, h_ax = [], []
        for q in (0, 1):
            c_ax.append((1 - 2 * q) * s[ax] + 2 * n * L[ax] - m[ax])
            h_ax.append(np.abs(n - q) + np.abs(n))
        coords.append(np.concatenate(c_ax))
        hits.append(np.concatenate(h_ax))
    dx, dy, dz = np.meshgrid(*coords, indexing="ij")
    hx, hy, hz = np.meshgrid(*hits, indexing="ij")
    dist = np.sqrt(dx**2 + dy**2 + dz**2).ravel()
    refl = (hx + hy + hz).ravel()
    keep = dist <= _C * t_ism
    dist, refl = dist[keep], refl[keep]
    gain = beta**refl / (4 * np.pi * dist) * (4 * np.pi * d0)  # direct sound ~ 1
    delay = (dist - d0) / _C * sr  # direct path at 0
    n_out = max(int(np.ceil(1.2 * rt60 * sr)) + 1, int(0.1 * sr))
    half = 16
    h = np.zeros(n_out + 2 * half + 1)
    base = np.floor(delay).astype(np.int64)
    frac = delay - base
    taps = np.arange(-half + 1, half + 1)
    win = 0.5 + 0.5 * np.cos(np.pi * taps / (half + 1))
    for k, w in zip(taps, win):
        idx = base + k + half
        ok = (idx >= 0) & (idx < h.size)
        np.add.at(h, idx[ok], gain[ok] * w * np.sinc(k - frac[ok]))
    h = h[half:half + n_out]
    # late tail: Gaussian, 60 dB per rt60, matched to the image-source energy before t_ism
    i_t = int(ism_ms / 1000 * sr)
    if i_t < n_out:
        win_len = max(int(0.02 * sr), 8)
        ref = h[max(i_t - win_len, 0):i_t]
        decay = 6.9078 / rt60
        t = np.arange(n_out) / sr
        env = np.exp(-decay * (t - i_t / sr))
        level = np.sqrt(np.mean(ref**2)) if ref.size else 0.0
        noise = rng.standard_normal(n_out)
        a = np.exp(-2 * np.pi * min(6000.0, 0.4 * sr) / sr)  # one-pole "air" low-pass
        from scipy.signal import lfilter

        noise = lfilter([1 - a], [1, -a], noise)
        noise /= np.std(noise[i_t:]) + 1e-12
        fade = np.clip((np.arange(n_out) - (i_t - win_len)) / win_len, 0.0, 1.0)
        h = h * (1 - fade) + level * env * noise * fade + h * fade * (np.arange(n_out) < i_t)
    return RoomIR(h.astype(np.float32), sr, float(rt60), tuple(float(x) for x in L), d0, alpha)


def random_room_ir(sample_rate: int, rng: np.random.Generator, *,
                   rt60_range: tuple[float, float] = (0.2, 1.0)) -> RoomIR:
    """A random room: 3-10 x 3-8 x 2.4-4 m, RT60 uniform in ``rt60_range``, source and
    microphone at least 0.5 m from the walls and 0.3-4 m apart."""
    lo, hi = rt60_range
    if not 0.05 <= lo <= hi <= 3.0:
        raise ValueError(f"rt60_range must satisfy 0.05 <= lo <= hi <= 3 (got {rt60_range})")
    L = np.array([rng.uniform(3, 10), rng.uniform(3, 8), rng.uniform(2.4, 4)])
    for _ in range(100):
        s = rng.uniform(0.5, L - 0.5)
        m = rng.uniform(0.5, L - 0.5)
        if 0.3 <= np.linalg.norm(s - m) <= 4.0:
            break
    return room_ir(tuple(L), tuple(s), tuple(m), float(rng.uniform(lo, hi)), sample_rate, rng)


def reverberate(speech: np.ndarray, ir: RoomIR, *, early_ms: float = 50.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Apply a room to dry speech.

    Returns:
        ``(reverberant, early)``: the speech through the whole response and through its first
        ``early_ms`` (the training target), both as long as ``speech``.

    Shape:
        speech: (samples,) -> two (samples,)
    """
    from scipy.signal import fftconvolve

    x = np.asarray(speech, np.float64)
    if x.ndim != 1:
        raise ValueError(f"speech must be 1-D (got shape {x.shape})")
    h = ir.rir.astype(np.float64)
    k = int(early_ms / 1000 * ir.sample_rate)
    return (fftconvolve(x, h)[: x.size].astype(np.float32),
            fftconvolve(x, h[:k])[: x.size].astype(np.float32))


def measure_rt60(rir: np.ndarray, sample_rate: int) -> float:
    """RT60 from the Schroeder backward integral, fitted on -5..-25 dB (T20 x 3)."""
    e = np.cumsum(np.asarray(rir, np.float64)[::-1] ** 2)[::-1]
    edc = 10 * np.log10(e / e[0] + 1e-30)
    i5, i25 = np.argmax(edc <= -5), np.argmax(edc <= -25)
    if i25 <= i5:
        raise ValueError("rir: decay does not reach -25 dB")
    t = np.arange(i5, i25) / sample_rate
    slope = np.polyfit(t, edc[i5:i25], 1)[0]
    return float(-60.0 / slope)
