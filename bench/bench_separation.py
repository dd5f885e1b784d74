"""Music separation: a whole song through ``hushboard.separate`` against the same model in plain
PyTorch, and the non-learned baselines, on one thread (or on a GPU with ``--device cuda``).

    python bench/bench_separation.py [--quick] [--seconds 180] [--device cpu|cuda] [--out FILE.md]

The issue's targets: a 3-minute stereo song separated on one CPU thread in under a minute
(real-time factor <= 0.33), and on a GPU in under 2 seconds. Cases, interleaved round-robin in
one process (medians):

* ``hushboard.separate``: the shipped separator (random weights of the same preset where none
  ships; speed does not depend on training) in 10 s chunks with 1 s cross-fades; the network
  runs in one native call per chunk (band split, dual-path BLSTMs, mask MLPs), STFT and iSTFT on
  hushboard's kernels;
* the same with ``wiener=True`` (the multichannel Wiener post-filter);
* ``torch eager``: the same model and chunking with ``use_kernels = False`` (nn.LSTM, per-band
  PyTorch loops, torch.stft);
* the ``spectral`` baseline (HPSS + bass crossover + centre vocals) for scale.

With ``--device cuda`` the model lives on the GPU (chunks in batches of 8, ``separate``'s
default there) and each case is timed from the NumPy song to the NumPy stems (host copies
included): hushboard's kernels, the same under bfloat16 autocast, and torch eager on the GPU
(cuDNN LSTM, per-band loops, torch.stft); the CPU-only cases are left out.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H
from hushboard.eval.separation import spectral_separate
from hushboard.models import BSRNN
from hushboard.separation import DEFAULT_SEPARATOR, separate, shipped_separators

SR = 44100


def song(seconds: float) -> np.ndarray:
    """A stereo test signal with music-like spectra (chords, a bass line, clicks); speed only."""
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(0)
    x = 0.2 * np.sin(2 * np.pi * 55 * t * (1 + 0.5 * (t % 2 > 1)))
    for f in (220, 277, 330, 440):
        x = x + 0.05 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
    clicks = np.zeros_like(t)
    clicks[:: SR // 4] = 1.0
    x = x + np.convolve(clicks, rng.standard_normal(300) * np.exp(-np.arange(300) / 50), "same")
    stereo = np.stack([x, 0.8 * x + 0.02 * rng.standard_normal(t.size)])
    return (0.5 * stereo / np.abs(stereo).max()).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (a 6 s song)")
    p.add_argument("--seconds", type=float, default=180.0, help="song length (default 180)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cpu: one thread (default); cuda: the model on the GPU")
    p.add_argument("--out", help="also write the Markdown report here")
    args = p.parse_args(argv)
    settings = H.Settings.make(args.quick)
    gpu = args.device == "cuda"
    if gpu and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA GPU")
    if not gpu:
        H.set_threads(1)
    seconds = 6.0 if args.quick else args.seconds
    shipped = shipped_separators()
    if DEFAULT_SEPARATOR in shipped:
        model, which = BSRNN.load(shipped[DEFAULT_SEPARATOR]), f"shipped `{DEFAULT_SEPARATOR}`"
    else:
        torch.manual_seed(0)
        model, which = BSRNN(DEFAULT_SEPARATOR).eval(), f"random `{DEFAULT_SEPARATOR}`"
    model = model.to(args.device)
    x = song(seconds)
    chunk = 10.0 if not args.quick else 3.0

    def hb(wiener: bool = False, precision: str = "float32"):
        model.use_kernels = True
        return separate(x, SR, model=model, wiener=wiener, chunk_seconds=chunk,
                        device=args.device, precision=precision)

    def eager():
        model.use_kernels = False
        try:
            return separate(x, SR, model=model, chunk_seconds=chunk, device=args.device)
        finally:
            model.use_kernels = True

    a, b = hb(), eager()
    err = max(float(np.linalg.norm(a[s] - b[s]) / max(np.linalg.norm(b[s]), 1e-12)) for s in a)
    cases = {"hushboard.separate": hb, "hushboard.separate --wiener": lambda: hb(True)}
    if gpu:
        cases["hushboard.separate --precision bfloat16"] = lambda: hb(precision="bfloat16")
    cases["torch eager (same model)"] = eager
    if not gpu:
        cases["spectral baseline"] = lambda: spectral_separate(x, SR)
    st = H.compare(cases, settings)
    base = st["hushboard.separate"].median
    rows = [[case, H.fmt_time(s.median, "ms"), f"{s.median / seconds:.4f}",
             f"{s.median / base:.2f}"] for case, s in st.items()]
    where = f"on {torch.cuda.get_device_name()}" if gpu else "one thread"
    limit = 2.0 * seconds / 180 if gpu else 0.33 * seconds
    target = ("target: 3 min on a GPU in under 2 s" if gpu
              else "target: RTF <= 0.33 (3 min in under 1 min)")
    lines = ["# hushboard music separation benchmark", "", *H.header_lines(), "",
             f"## A {seconds:g} s stereo song at 44.1 kHz, {where} ({which}; chunks of "
             f"{chunk:g} s)", "",
             H.markdown_table(["case", "median (ms)", "RTF", "vs hushboard"], rows), "",
             f"hushboard kernels vs torch eager, max relative difference over stems: {err:.1e}",
             f"{target}: {'met' if base <= limit else 'missed'} "
             f"({base:.2f} s for {seconds:g} s)"]
    H.write_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
