"""museval's BSS-eval v4 images measures (SDR, ISR, SIR, SAR per 1-s chunk, 512-tap filters
fitted on the whole song): ``hushboard.metrics.bss_eval_images`` against museval's own
``museval.metrics.bss_eval`` on the same four stereo stems, timed round-robin in one process
(medians), with the largest difference between their values.

    python bench/bench_bss_eval.py [--quick] [--seconds 30] [--threads N] [--out FILE.md]

What differs: museval builds the Gram matrix of the delayed references with one full-length
FFT correlation per pair of channels and solves the 4096-square system (4 stems x 2 channels
x 512 delays) once per stem; hushboard sums short blockwise FFT correlations and factors the
matrix once (Cholesky) for all stems. ``hushboard eval --task separation --bss-eval`` pays this
per song and system. museval is a test extra (``pip install .[test]``); its package
``__init__`` needs ffmpeg, so its ``metrics.py`` is loaded on its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H
from hushboard.metrics import bss_eval_images

SR = 44100


def museval_metrics():
    """museval.metrics, or None when museval is not installed."""
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "metrics.py")
    mspec = importlib.util.spec_from_file_location("_museval_metrics", path)
    module = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(module)
    return module


def stems(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Four stereo stems with music-like spectra (a bass line, clicks, a vibrato voice, chords)
    and estimates made of each stem, a leak of the next and noise; speed only."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    bass = 0.3 * np.sin(2 * np.pi * 55 * t * (1 + 0.5 * (t % 2 > 1)))
    clicks = np.zeros_like(t)
    clicks[:: SR // 4] = 1.0
    drums = np.convolve(clicks, rng.standard_normal(300) * np.exp(-np.arange(300) / 50), "same")
    voice = 0.2 * np.sin(2 * np.pi * np.cumsum(220 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / SR)
    other = sum(0.05 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (262, 330, 392))
    # a noise floor 50 dB down, as in a recording: pure tones alone make the delayed references
    # nearly collinear (bss_eval_images then solves by LU, as museval always does)
    refs = np.stack([np.stack([s, 0.8 * s]) + 3e-3 * rng.standard_normal((2, t.size))
                     for s in (voice, drums, bass, other)])
    ests = 0.9 * refs + 0.1 * np.roll(refs, 1, axis=0) + 0.01 * rng.standard_normal(refs.shape)
    return refs, ests


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (a 4 s song)")
    p.add_argument("--seconds", type=float, default=30.0, help="song length (default 30)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/FFT threads are whatever the process has; this sets torch's and "
                        "hushboard's (default: leave them)")
    p.add_argument("--out", help="also write the Markdown report here")
    args = p.parse_args(argv)
    if args.threads:
        H.set_threads(args.threads)
    settings = H.Settings.make(args.quick)
    seconds = 4.0 if args.quick else args.seconds
    refs, ests = stems(seconds)
    mm = museval_metrics()

    def ours():
        return bss_eval_images(refs, ests, SR)

    cases = {"hushboard bss_eval_images": ours}
    diff = "museval is not installed: no comparison"
    if mm is not None:
        def theirs():
            return mm.bss_eval(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), window=SR,
                               hop=SR, compute_permutation=False, filters_len=512,
                               framewise_filters=False, bsseval_sources_version=False)

        cases["museval.metrics.bss_eval (v4)"] = theirs
        a, b = ours(), theirs()
        worst = max(float(np.nanmax(np.abs(a[m] - b[i])))
                    for i, m in enumerate(("sdr", "isr", "sir", "sar")))
        diff = f"largest difference between the two over SDR, ISR, SIR and SAR: {worst:.1e} dB"
    st = H.compare(cases, settings)
    base = st["hushboard bss_eval_images"].median
    rows = [[case, H.fmt_time(s.median, "ms"), f"{s.median / seconds:.3f}",
             f"{s.median / base:.2f}"] for case, s in st.items()]
    lines = ["# hushboard BSS-eval v4 benchmark", "", *H.header_lines(), "",
             f"## Four stereo stems of {seconds:g} s at 44.1 kHz (1-s chunks, 512 taps)", "",
             H.markdown_table(["case", "median (ms)", "s per s of audio", "vs hushboard"], rows),
             "", diff]
    H.write_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
