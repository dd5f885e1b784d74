"""What bfloat16 / float16 autocast costs the shipped models in accuracy (issue 7: "bf16/fp16
where accuracy allows, with the measured error").

    python bench/bench_precision.py [--testset16k DIR] [--testset48k DIR] [--music DIR]
                                    [-n N] [--quick] [--device cpu|cuda] [--out FILE.md]

Under ``precision="bfloat16"`` / ``"float16"`` (``hushboard.backend.precision_context``) the
models' GEMMs (nn.Linear, torch RNNs) run in half precision while hushboard's fused ops (STFT,
band split, mask MLP, LSTM/GRU recurrence, complex conv), the norms and the iSTFT stay float32.
For each model this prints the error of the half-precision output against the float32 output
(SNR, dB) and the task metric both ways: ΔSI-SNR over the noisy input for the denoisers on
pairs written by ``hushboard data testset``, cSDR per stem for the separator on mixes written by
``hushboard data music``.

On the CPU (no GPU here) the fused ops are forced to their torch reference form
(HUSHBOARD_BACKEND=reference, set by this script before hushboard loads) so the network runs op
by op, as on a GPU, rather than as one native float32 call; the half-precision GEMMs are the
CPU's (oneDNN), whose rounding matches the GPU's up to the accumulation order. On a GPU
(``--device cuda``) the CUDA kernels run as they are.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if "--device" not in sys.argv or sys.argv[sys.argv.index("--device") + 1] == "cpu":
    os.environ["HUSHBOARD_BACKEND"] = "reference"  # must precede the first hushboard import

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

PRECISIONS = ("float32", "bfloat16", "float16")


def _snr_db(ref: np.ndarray, est: np.ndarray) -> float:
    err = float(np.sum((ref - est) ** 2))
    return float("inf") if err == 0 else 10 * np.log10(float(np.sum(ref ** 2)) / err)


def _run(fn, x: torch.Tensor, precision: str, dev) -> np.ndarray:
    """fn(x on dev) at ``precision``, as a float32 array."""
    from hushboard.backend import precision_context

    with torch.inference_mode(), precision_context(precision, dev):
        return fn(x.to(dev)).float().cpu().numpy()


def denoiser_rows(name: str, testset: Path, n: int, dev) -> list[list[str]]:
    from hushboard import metrics as M
    from hushboard.fx.model import shipped_weights
    from hushboard.io import read_audio
    from hushboard.models import BSRNN

    net = BSRNN.load(shipped_weights()[name]).eval().to(dev)
    files = sorted((testset / "noisy").glob("*.wav"))[:n]
    if not files:
        raise SystemExit(f"bench_precision: no WAV files in {testset / 'noisy'} (make them with "
                         "`hushboard data testset`)")
    err = {p: [] for p in PRECISIONS[1:]}
    gain = {p: [] for p in PRECISIONS}
    for f in files:
        noisy, sr = read_audio(f)
        clean, _ = read_audio(testset / "clean" / f.name)
        if sr != net.sample_rate:
            raise SystemExit(f"bench_precision: {f} is at {sr:g} Hz, {name} runs at "
                             f"{net.sample_rate} Hz")
        x = torch.from_numpy(noisy[0])
        base = M.si_snr(clean[0], noisy[0])
        outs = {p: _run(net, x, p, dev) for p in PRECISIONS}
        for p in PRECISIONS:
            gain[p].append(M.si_snr(clean[0], outs[p]) - base)
            if p != "float32":
                err[p].append(_snr_db(outs["float32"], outs[p]))
    rows = []
    for p in PRECISIONS:
        e = "-" if p == "float32" else f"{np.median(err[p]):.1f} (min {np.min(err[p]):.1f})"
        d = np.mean(np.array(gain[p]) - np.array(gain["float32"]))
        rows.append([name, p, len(files), e, f"{np.mean(gain[p]):+.3f}",
                     "-" if p == "float32" else f"{d:+.3f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
    return rows


def separator_rows(music: Path, n: int, dev) -> list[list[str]]:
    from hushboard import metrics as M
    from hushboard.io import read_audio
    from hushboard.separation import load_separator

    net = load_separator("default", device=dev)
    stems = net.config.stems
    mixes = sorted((music / "mix").glob("*.flac"))[:n]
    if not mixes:
        raise SystemExit(f"bench_precision: no FLAC mixes in {music / 'mix'} (make them with "
                         "`hushboard data music`)")
    err = {p: [] for p in PRECISIONS[1:]}
    sdr = {p: [] for p in PRECISIONS}
    for f in mixes:
        mix, sr = read_audio(f)
        x = torch.from_numpy(mix)[None]
        outs = {p: _run(net.separate_long, x, p, dev)[0] for p in PRECISIONS}
        refs = [read_audio(music / "stems" / f.stem / f"{s}.flac")[0] for s in stems]
        for p in PRECISIONS:
            sdr[p].append([M.csdr(r, outs[p][k], sr) for k, r in enumerate(refs)])
            if p != "float32":
                err[p].append(_snr_db(outs["float32"], outs[p]))
    rows = []
    for p in PRECISIONS:
        s = np.nanmean(np.array(sdr[p], dtype=float), axis=0)
        base = np.nanmean(np.array(sdr["float32"], dtype=float), axis=0)
        e = "-" if p == "float32" else f"{np.median(err[p]):.1f} (min {np.min(err[p]):.1f})"
        rows.append(["bsrnn-music-44k-lite", p, len(mixes), e,
                     f"mean cSDR {np.nanmean(s):.3f}",
                     "-" if p == "float32" else f"{np.nanmean(s - base):+.3f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--testset16k", default="testset16k", type=Path)
    p.add_argument("--testset48k", default="testset48k", type=Path)
    p.add_argument("--music", default="corpus_music/test", type=Path)
    p.add_argument("-n", type=int, default=40, help="files per model (default 40; 8 mixes)")
    p.add_argument("--quick", action="store_true", help="2 files per model (checks the script)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.n = 2
    if args.n < 1:
        p.error("-n must be >= 1")
    from hushboard.backend import resolve_device

    dev = resolve_device(args.device, "--device")
    if dev.type == "cpu":
        H.set_threads(1)
    rows = []
    for name, ts in (("bsrnn-speech-16k-lite", args.testset16k),
                     ("bsrnn-speech-48k-lite", args.testset48k)):
        if ts.is_dir():
            rows += denoiser_rows(name, ts, args.n, dev)
        else:
            print(f"bench_precision: skipping {name}: no {ts}", file=sys.stderr)
    if args.music.is_dir():
        rows += separator_rows(args.music, max(1, args.n // 5), dev)
    else:
        print(f"bench_precision: skipping the separator: no {args.music}", file=sys.stderr)
    out = ["# Half-precision autocast: error against float32", ""]
    out += H.header_lines([("device", str(dev)),
                           ("fused ops", "torch reference (HUSHBOARD_BACKEND=reference)"
                            if dev.type == "cpu" else "hushboard CUDA kernels")])
    out += ["", H.markdown_table(["model", "precision", "files",
                                  "output SNR vs float32, dB (median, min)",
                                  "ΔSI-SNR / cSDR", "change vs float32"], rows)]
    H.write_report("\n".join(out), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
