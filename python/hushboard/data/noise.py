"""Noise for training: procedural generators, babble from TTS speech and fluidsynth music.

Every generator takes ``(seconds, sample_rate, rng)`` and returns mono float32 at -25 dBFS RMS
(peak kept under 0.97). :data:`NOISE_TYPES` names them; the noise corpus labels every clip with
its type. ``babble`` needs speech clips and ``music`` needs ``fluidsynth`` and a General MIDI
soundfont (Debian: ``fluidsynth``, ``fluid-soundfont-gm``).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hushboard.data._audio import normalize_rms, read_wav, resample

__all__ = [
    "NOISE_TYPES",
    "PROCEDURAL_TYPES",
    "babble",
    "find_soundfont",
    "generate_noise",
    "music",
    "random_midi",
]

_LEVEL_DB = -25.0


def _check(seconds: float, sample_rate: int) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise TypeError(f"sample_rate must be an int (got {type(sample_rate).__name__})")
    if not 8000 <= sample_rate <= 192000:
        raise ValueError(f"sample_rate must be in 8000..192000 (got {sample_rate})")
    if not (0 < seconds <= 3600):
        raise ValueError(f"seconds must be in (0, 3600] (got {seconds})")
    return int(round(seconds * sample_rate))


def _colored(n: int, sr: int, rng: np.random.Generator, exponent: float,
             f_min_hz: float = 20.0) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**exponent above ``f_min_hz`` (flat below)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / sr), f_min_hz)
    spec *= f ** (-exponent / 2)
    spec[0] = 0.0
    return np.fft.irfft(spec, n)


def _white(n, sr, rng):
    return rng.standard_normal(n)


def _pink(n, sr, rng):
    return _colored(n, sr, rng, 1.0)


def _brown(n, sr, rng):
    return _colored(n, sr, rng, 2.0)


def _hum(n, sr, rng):
    """Mains hum: 50 or 60 Hz (+-0.3 Hz) with decaying harmonics, a little buzz and hiss."""
    f0 = (50.0 if rng.random() < 0.5 else 60.0) + rng.uniform(-0.3, 0.3)
    t = np.arange(n) / sr
    y = np.zeros(n)
    n_harm = int(rng.integers(4, 16))
    for k in range(1, n_harm + 1):
        if k * f0 >= 0.45 * sr:
            break
        amp = rng.uniform(0.3, 1.0) / k ** rng.uniform(0.5, 1.5) * (1.5 if k % 2 else 1.0)
        y += amp * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    return y + 10 ** (rng.uniform(-50, -30) / 20) * rng.standard_normal(n) * np.std(y)


def _fan(n, sr, rng):
    """Fan / HVAC: low-passed broadband noise, slow level drift, blade-pass tones."""
    from scipy.signal import butter, sosfilt

    cut = rng.uniform(300, 3000)
    sos = butter(2, cut, btype="low", fs=sr, output="sos")
    y = sosfilt(sos, _colored(n, sr, rng, rng.uniform(0.0, 1.0)))
    y /= np.std(y) + 1e-12
    t = np.arange(n) / sr
    y *= 1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 6.28))
    bpf = rng.uniform(10, 40) * int(rng.integers(3, 8))  # rotation rate x number of blades
    for k in range(1, int(rng.integers(2, 6)) + 1):
        if k * bpf < 0.45 * sr:
            y += rng.uniform(0.05, 0.4) / k * np.sin(2 * np.pi * k * bpf * t + rng.uniform(0, 6.28))
    return y


def _clicks(n, sr, rng):
    """Keyboard-like clicks: typing bursts of short resonant transients, press and release."""
    from scipy.signal import butter, sosfilt

    y = 1e-3 * rng.standard_normal(n)
    t = rng.uniform(0, 0.3)
    seconds = n / sr
    while t < seconds:
        burst_end = t + rng.uniform(0.5, 3.0)
        rate = rng.uniform(4, 12)
        while t < min(burst_end, seconds):
            for lag, level in ((0.0, 1.0), (rng.uniform(0.05, 0.12), rng.uniform(0.2, 0.6))):
                i0 = int((t + lag) * sr)
                m = int(rng.uniform(0.002, 0.008) * sr)
                if i0 + m >= n:
                    continue
                fc = rng.uniform(1000, min(6000, 0.28 * sr))
                sos = butter(2, [fc / 1.5, fc * 1.5], btype="band", fs=sr, output="sos")
                env = np.exp(-np.arange(m) / (m / 4))
                y[i0:i0 + m] += level * rng.uniform(0.3, 1) * sosfilt(sos, rng.standard_normal(m)) * env
            t += rng.exponential(1 / rate)
        t += rng.uniform(0.3, 2.0)
    return y


def _bursts(n, sr, rng):
    """Non-stationary bursts: filtered noise events (thumps, whooshes, rattles) of random
    onset, length, envelope and colour, over a quiet floor."""
    from scipy.signal import butter, sosfilt

    y = 10 ** (rng.uniform(-40, -25) / 20) * _colored(n, sr, rng, 1.0)
    y /= max(np.std(y), 1e-12) / 10 ** (rng.uniform(-40, -25) / 20)
    t = rng.uniform(0, 0.5)
    while t < n / sr:
        m = int(rng.uniform(0.05, 1.0) * sr)
        i0 = int(t * sr)
        m = min(m, n - i0)
        if m < 16:
            break
        lo = rng.uniform(40, 0.2 * sr)
        hi = min(lo * rng.uniform(1.5, 20), 0.45 * sr)
        sos = butter(2, [lo, hi], btype="band", fs=sr, output="sos")
        ev = sosfilt(sos, rng.standard_normal(m))
        ev /= np.std(ev) + 1e-12
        shape = rng.integers(3)
        x = np.linspace(0, 1, m)
        env = (np.exp(-x * rng.uniform(3, 20)) if shape == 0 else np.sin(np.pi * x) ** 2
               if shape == 1 else (1 - np.abs(2 * x - 1)) ** 0.5)
        y[i0:i0 + m] += 10 ** (rng.uniform(-12, 0) / 20) * ev * env
        t += m / sr + rng.exponential(0.6)
    return y


PROCEDURAL_TYPES: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "white": _white, "pink": _pink, "brown": _brown, "hum": _hum, "fan": _fan,
    "clicks": _clicks, "bursts": _bursts,
}
NOISE_TYPES = (*PROCEDURAL_TYPES, "babble", "music")


def generate_noise(kind: str, seconds: float, sample_rate: int,
                   rng: np.random.Generator) -> np.ndarray:
    """One procedural noise clip.

    Args:
        kind: one of :data:`PROCEDURAL_TYPES`.
        seconds: length.
        sample_rate: Hz.
        rng: the random generator (the clip is a function of its state).

    Returns:
        float32 at -25 dBFS RMS.

    Shape:
        out: (round(seconds * sample_rate),)
    """
    if kind not in PROCEDURAL_TYPES:
        raise ValueError(f"kind must be one of {sorted(PROCEDURAL_TYPES)} (got {kind!r})")
    n = _check(seconds, sample_rate)
    return normalize_rms(PROCEDURAL_TYPES[kind](n, int(sample_rate), rng), _LEVEL_DB)


def babble(speech: Sequence[np.ndarray], seconds: float, sample_rate: int,
           rng: np.random.Generator, *, talkers: tuple[int, int] = (3, 7)) -> np.ndarray:
    """Babble: several talkers at once, each a chain of random utterances at random levels.

    Args:
        speech: utterances at ``sample_rate`` (other speech of the same split).
        seconds: length.
        sample_rate: Hz.
        rng: random generator.
        talkers: inclusive range of the number of simultaneous talkers.

    Shape:
        out: (round(seconds * sample_rate),)
    """
    n = _check(seconds, sample_rate)
    if len(speech) == 0:
        raise ValueError("speech: babble needs at least one utterance")
    y = np.zeros(n)
    for _ in range(int(rng.integers(talkers[0], talkers[1] + 1))):
        track = np.zeros(n)
        pos = int(rng.integers(-n // 4, n // 4))
        while pos < n:
            u = np.asarray(speech[int(rng.integers(len(speech)))], np.float64)
            a, b = max(pos, 0), min(pos + u.size, n)
            if b > a:
                track[a:b] += u[a - pos:b - pos]
            pos += u.size + int(rng.uniform(0.05, 0.4) * sample_rate)
        y += 10 ** (rng.uniform(-6, 0) / 20) * track
    return normalize_rms(y, _LEVEL_DB)


# ---------------------------------------------------------------- music: MIDI + fluidsynth
def _vlq(v: int) -> bytes:
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def random_midi(seconds: float, rng: np.random.Generator) -> bytes:
    """A random Standard MIDI File (format 0): drums, bass, chords and a melody over a chord
    progression in a random key, tempo and General MIDI instruments.

    Returns:
        The file's bytes.
    """
    tpq = 480
    bpm = float(rng.uniform(70, 150))
    beats = int(np.ceil(seconds * bpm / 60)) + 4
    root = 48 + int(rng.integers(12))
    scale = [0, 2, 4, 5, 7, 9, 11] if rng.random() < 0.6 else [0, 2, 3, 5, 7, 8, 10]
    degrees = [int(d) for d in rng.choice([0, 3, 4, 5, 1], size=4)]
    events: list[tuple[int, bytes]] = []  # (tick, message)
    progs = {0: int(rng.choice([0, 4, 16, 24, 48, 88])), 1: int(rng.integers(32, 40)),
             2: int(rng.choice([0, 11, 40, 56, 65, 73, 80, 104]))}
    for ch, prog in progs.items():
        events.append((0, bytes([0xC0 | ch, prog])))

    def note(ch: int, pitch: int, start: int, dur: int, vel: int) -> None:
        pitch = int(np.clip(pitch, 0, 127))
        events.append((start, bytes([0x90 | ch, pitch, vel])))
        events.append((start + dur, bytes([0x80 | ch, pitch, 0])))

    def deg(d: int, octave: int = 0) -> int:
        return root + scale[d % 7] + 12 * (d // 7 + octave)

    drums = rng.random() < 0.7
    for bar in range(beats // 4 + 1):
        d = degrees[bar % 4]
        t0 = bar * 4 * tpq
        for k in (0, 2, 4):  # chord
            note(0, deg(d + k), t0, 4 * tpq - 20, int(rng.integers(50, 80)))
        for b in range(4):  # bass
            note(1, deg(d, -1), t0 + b * tpq, tpq - 40, int(rng.integers(70, 100)))
        t = 0
        while t < 4 * tpq:  # melody
            dur = int(rng.choice([tpq // 2, tpq, tpq // 4, 2 * tpq]))
            if rng.random() < 0.8:
                note(2, deg(d + int(rng.integers(0, 8)), 1), t0 + t, dur - 10,
                     int(rng.integers(60, 110)))
            t += dur
        if drums:
            for e in range(8):
                note(9, 42, t0 + e * tpq // 2, tpq // 4, 60)
                if e in (0, 4) or (e == 6 and rng.random() < 0.3):
                    note(9, 36, t0 + e * tpq // 2, tpq // 4, 100)
                if e in (2, 6):
                    note(9, 38, t0 + e * tpq // 2, tpq // 4, 90)
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))  # note-offs first at a tick
    tempo = int(round(60e6 / bpm))
    track = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big"))
    last = 0
    for tick, msg in events:
        track += _vlq(tick - last) + msg
        last = tick
    track += b"\x00\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + b"MTrk" + struct.pack(">I", len(track))
            + bytes(track))


_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
               "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2")


def find_soundfont() -> str | None:
    """``$HUSHBOARD_SOUNDFONT`` or the first General MIDI soundfont Debian installs, else None."""
    env = os.environ.get("HUSHBOARD_SOUNDFONT")
    if env:
        return env if Path(env).is_file() else None
    return next((p for p in _SOUNDFONTS if Path(p).is_file()), None)


def music(seconds: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Random music: :func:`random_midi` rendered by fluidsynth with a GM soundfont.

    Shape:
        out: (round(seconds * sample_rate),)
    """
    n = _check(seconds, sample_rate)
    sf = find_soundfont()
    if not shutil.which("fluidsynth") or sf is None:
        raise RuntimeError("music needs fluidsynth and a General MIDI soundfont "
                           "(apt-get install fluidsynth fluid-soundfont-gm)")
    render_sr = 44100 if sample_rate > 22050 else 22050
    with tempfile.TemporaryDirectory(prefix="hb-midi-") as tmp:
        mid, wav = Path(tmp) / "m.mid", Path(tmp) / "m.wav"
        mid.write_bytes(random_midi(seconds, rng))
        r = subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(render_sr),
                            "-T", "wav", "-O", "s16", "-F", str(wav), sf, str(mid)],
                           capture_output=True, text=True, timeout=600, check=False)
        if r.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed ({r.returncode}): {r.stderr.strip()[:500]}")
        a, sr = read_wav(wav)
    a = resample(a, sr, int(sample_rate))
    start = int(0.2 * sample_rate)  # skip the attack of the first bar
    a = a[start:start + n]
    if a.size < n:
        a = np.pad(a, (0, n - a.size))
    return normalize_rms(a, _LEVEL_DB)
