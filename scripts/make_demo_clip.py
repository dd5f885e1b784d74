"""Make the demo clip bundled with the package (python/hushboard/data/demo_*.flac).

Needs espeak-ng (Debian: apt-get install espeak-ng). Run from the repository root:

    python scripts/make_demo_clip.py

The clean clip is espeak-ng speech; the noisy one adds pink noise, 50 Hz mains hum with
harmonics and a fan-like band of noise at about 5 dB SNR, after half a second of noise alone.
Deterministic for a given espeak-ng version.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from hushboard.io import read_audio, write_audio

OUT = Path(__file__).resolve().parents[1] / "python" / "hushboard" / "data"
TEXT = ("Hushboard removes the hiss and hum from your voice. "
        "Listen to the difference before and after.")


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), TEXT], check=True)
        speech, sr = read_audio(wav)
    speech = speech[0] / np.abs(speech).max() * 0.5
    lead = int(0.5 * sr)
    clean = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(lead // 2, np.float32)])
    rng = np.random.default_rng(2026)
    n = clean.size
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[1:] /= np.sqrt(np.arange(1, spec.size))  # pink
    pink = np.fft.irfft(spec, n)
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * 50 * h * t + h) / h for h in range(1, 8))
    fan_spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    fan_spec *= np.exp(-0.5 * ((f - 900) / 250) ** 2)  # a resonant band
    fan = np.fft.irfft(fan_spec, n)
    noise = pink / pink.std() + 0.6 * hum / hum.std() + 0.5 * fan / fan.std()
    speech_power = np.mean(speech**2)
    noise *= np.sqrt(speech_power / np.mean(noise**2) / 10 ** (5 / 10))
    OUT.mkdir(parents=True, exist_ok=True)
    write_audio(OUT / "demo_clean.flac", clean, sr)
    write_audio(OUT / "demo_noisy.flac", (clean + noise).astype(np.float32), sr)
    print(f"wrote {OUT}/demo_clean.flac and demo_noisy.flac: {n / sr:.1f} s at {sr:g} Hz")


if __name__ == "__main__":
    main()
