"""Quality of the spectral denoisers on generated noisy speech, with peers in the same run.

    python bench/quality_spectral.py [--clips 12] [--out bench/out/quality.md]

Needs espeak-ng (speech), and the `pesq` and `noisereduce` packages (pip). Clean speech: espeak-ng
sentences in several voices and speeds at 16 kHz; noise: white, pink, mains hum with
harmonics, a fan-like band and babble (other espeak-ng speech), each at 0, 5 and 10 dB SNR.
Methods: the noisy input, hushboard WienerDenoiser and SpectralGate (defaults), and
noisereduce.reduce_noise with its defaults. Reported: SI-SNR and wide-band PESQ (ITU-T P.862.2,
the `pesq` package), means and the change over the noisy input. Deterministic (fixed seeds).
This is the interim quality check of the host issue; `hushboard eval` replaces it later.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

from hushboard.fx import SpectralGate, WienerDenoiser  # noqa: E402
from hushboard.io import read_audio  # noqa: E402
from hushboard.metrics import si_snr  # noqa: E402

SR = 16000
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Please call me back when you have finished reading the report.",
    "A bright morning sun rose slowly over the quiet little harbour town.",
    "We will meet at the station at half past seven tomorrow evening.",
    "Turn the volume down a little, the neighbours are trying to sleep.",
    "Seven silver spoons were hidden beneath the old kitchen table.",
    "Can you hear the difference between the two recordings now?",
    "The engineer checked every cable twice before starting the test.",
]
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us+f3", "en-gb+f2"]
NOISES = ["white", "pink", "hum", "fan", "babble"]
SNRS = [0.0, 5.0, 10.0]


def speak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w",
                        str(wav), text], check=True, capture_output=True)
        x, sr = read_audio(wav)
    x = resample_poly(x[0], SR, int(sr)) if sr != SR else x[0]
    return (x / (np.abs(x).max() + 1e-9) * 0.5).astype(np.float32)


def make_noise(kind: str, n: int, rng: np.random.Generator, babble_src: list[np.ndarray]):
    t = np.arange(n) / SR
    if kind == "white":
        z = rng.standard_normal(n)
    elif kind == "pink":
        spec = np.fft.rfft(rng.standard_normal(n))
        spec[1:] /= np.sqrt(np.arange(1, spec.size))
        z = np.fft.irfft(spec, n)
    elif kind == "hum":
        f0 = rng.choice([50.0, 60.0])
        z = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h for h in range(1, 10))
        z = z + 0.05 * rng.standard_normal(n)
    elif kind == "fan":
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / SR)
        spec *= np.exp(-0.5 * ((f - rng.uniform(300, 1500)) / 300) ** 2) + 0.05
        z = np.fft.irfft(spec, n)
    else:  # babble: four other talkers
        z = np.zeros(n)
        for _ in range(4):
            s = babble_src[rng.integers(len(babble_src))]
            reps = np.tile(s, n // s.size + 2)
            off = rng.integers(s.size)
            z += reps[off:off + n]
    return (z / (np.std(z) + 1e-12)).astype(np.float32)


def wb_pesq(ref: np.ndarray, deg: np.ndarray) -> float:
    from pesq import pesq

    return float(pesq(SR, ref.astype(np.float64), deg.astype(np.float64), "wb"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clips", type=int, default=12, help="clean clips (each with every noise)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    import noisereduce

    rng = np.random.default_rng(2026)
    clips = []
    for i in range(args.clips):
        clips.append(speak(SENTENCES[i % len(SENTENCES)], VOICES[i % len(VOICES)],
                           int(rng.integers(130, 180)), int(rng.integers(30, 70))))
    babble = [speak(s, v, 160, 50) for s, v in zip(SENTENCES[::-1], VOICES * 2)]
    methods = {
        "noisy": lambda x: x,
        "hushboard WienerDenoiser": lambda x: WienerDenoiser().process(x, SR),
        "hushboard SpectralGate": lambda x: SpectralGate().process(x, SR),
        "noisereduce (defaults)": lambda x: noisereduce.reduce_noise(y=x, sr=SR).astype(np.float32),
    }
    rows = {m: {"si_snr": [], "pesq": [], "noise": []} for m in methods}
    t0 = time.perf_counter()
    for i, clean in enumerate(clips):
        lead = np.zeros(int(0.5 * SR), np.float32)  # half a second of noise alone first
        clean = np.concatenate([lead, clean, lead[: SR // 4]])
        for kind in NOISES:
            for snr_db in SNRS:
                noise = make_noise(kind, clean.size, rng, babble)
                gain = np.sqrt(np.mean(clean**2) / 10 ** (snr_db / 10))
                noisy = (clean + gain * noise).astype(np.float32)
                for name, fn in methods.items():
                    out = fn(noisy)
                    rows[name]["si_snr"].append(si_snr(clean, out))
                    rows[name]["pesq"].append(wb_pesq(clean, out))
                    rows[name]["noise"].append(kind)
    elapsed = time.perf_counter() - t0

    base = rows["noisy"]
    table = []
    for name, r in rows.items():
        s, q = np.array(r["si_snr"]), np.array(r["pesq"])
        ds, dq = s - np.array(base["si_snr"]), q - np.array(base["pesq"])
        table.append([name, f"{s.mean():.2f}", f"{ds.mean():+.2f}", f"{q.mean():.3f}",
                      f"{dq.mean():+.3f}"])
    per_noise = []
    for kind in NOISES:
        line = [kind]
        for name, r in rows.items():
            idx = [j for j, k in enumerate(r["noise"]) if k == kind]
            ds = np.mean([r["si_snr"][j] - base["si_snr"][j] for j in idx])
            dq = np.mean([r["pesq"][j] - base["pesq"][j] for j in idx])
            line.append(f"{ds:+.2f} / {dq:+.3f}")
        per_noise.append(line)
    n = len(base["si_snr"])
    lines = ["# Spectral denoisers: quality on generated noisy speech", "", *H.header_lines(), "",
             f"{len(clips)} espeak-ng clips x {len(NOISES)} noises x {len(SNRS)} SNRs = {n} "
             f"mixtures at {SR} Hz; {elapsed:.0f} s.", "",
             H.markdown_table(["method", "SI-SNR dB", "Δ SI-SNR", "WB-PESQ", "Δ WB-PESQ"], table),
             "", "Change over the noisy input by noise type (Δ SI-SNR dB / Δ WB-PESQ):", "",
             H.markdown_table(["noise", *rows.keys()], per_noise), ""]
    H.write_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
