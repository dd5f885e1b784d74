"""BSRNN: the band, RNN and mask kernels, and the whole model, against the same computation in
PyTorch.

    python bench/bench_bsrnn.py [--quick] [--configs bsrnn-speech-16k,bsrnn-speech-16k-lite,...]
                                [--offline-configs bsrnn-music-44k-lite,bsrnn-music-44k-lite:num_layers=6]
                                [--compile] [--out FILE.md]

A config is a preset name, optionally with ``:FIELD=VALUE`` overrides as ``hushboard train
--arch`` takes them (``bsrnn-music-44k-lite:num_layers=6`` is the shipped separator's shape).

Same random weights everywhere (speed does not depend on training); one thread for torch and
hushboard; every case interleaved with its baseline in one process (medians).

* Kernels (torch custom ops, float32), at the reference size (31 bands, N = 64, H = 64, mask
  hidden 256), for one frame (the streaming shape) and 10 s of frames (offline):
  - band split: ``hushboard.ops.band_split`` vs the per-band PyTorch loop (LayerNorm + Linear);
  - band mask: ``hushboard.ops.band_mask`` vs the per-band PyTorch loop (LayerNorm, Linear,
    tanh, Linear, GLU);
  - RNN: ``hushboard.ops.lstm_layer`` vs ``torch.lstm`` (what nn.LSTM runs): the time path of
    one frame (31 sequences, one step), the band path of one frame (one sequence over 31 bands,
    forward and reverse), the time path over 10 s (31 sequences x 1250 steps).
* Streaming, one hop per call: the C++ engine (STFT, network, iSTFT) vs ``BSRNN.step`` on one
  STFT frame in plain PyTorch (nn.LSTM/GRU, per-band loops; the STFT of the hop is not counted,
  which favours torch), and vs ``BSRNN.step`` on hushboard's kernels (the native network in one
  call per frame, the mask applied in torch).
* Offline, 10 s: ``BSRNN.forward`` on hushboard's kernels (STFT, the native network in one call,
  iSTFT) vs plain PyTorch (and torch.compile with --compile), and the streaming engine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H
from hushboard.fx import BSRNNDenoiser
from hushboard.models import BSRNN
from hushboard.models.bsrnn import BAND_LAYOUTS
from hushboard.ops import (
    band_mask,
    band_mask_reference,
    band_split,
    band_split_reference,
    lstm_layer,
)
from hushboard.train.cli import parse_arch
from hushboard.train.loop import build_model

DEFAULT_CONFIGS = "bsrnn-speech-16k,bsrnn-speech-16k-lite,bsrnn-speech-48k,bsrnn-speech-48k-lite"


# ---- kernels --------------------------------------------------------------------------------------
def kernel_rows(settings: H.Settings, frames_offline: int):
    g = torch.Generator().manual_seed(0)
    bands = list(BAND_LAYOUTS["speech-16k"])
    n, h, hm = 64, 64, 256
    din = [2 * w for w in bands]
    d, k = sum(din), len(bands)

    def r(*s):
        return 0.1 * torch.randn(*s, generator=g)

    split_w = (1 + r(d), r(d), r(n, d), r(k, n))
    mask_w = (1 + r(k, n), r(k, n), r(k, hm, n), r(k, hm), r(2 * d, hm), r(2 * d))
    w_ih, w_hh, b = r(4 * h, n), r(4 * h, h), r(4 * h)
    flat = [w_ih, w_hh, b, torch.zeros(4 * h)]
    rows = []

    def add(kernel: str, shape: str, ours, theirs, floor_macs: int):
        st = H.compare({"hushboard": ours, "torch": theirs}, settings)
        o, t = st["hushboard"].median, st["torch"].median
        rows.append([kernel, shape, H.fmt_time(o, "us"), H.fmt_time(t, "us"), f"{t / o:.2f}",
                     f"{2 * floor_macs / o / 1e9:.1f}"])

    for s, label in ((1, "1 frame"), (frames_offline, f"{frames_offline} frames")):
        x = r(s, d)
        add("band split", label, lambda: band_split(x, din, *split_w),
            lambda: band_split_reference(x, din, *split_w), s * d * n)
        z = r(s, k, n)
        add("band mask (GLU)", label, lambda: band_mask(z, din, *mask_w),
            lambda: band_mask_reference(z, din, *mask_w, glu=True), s * (k * n * hm + 2 * d * hm))

    def torch_lstm(xs, reverse=False):
        xs = xs.flip(1) if reverse else xs
        hx = (torch.zeros(1, xs.shape[0], h), torch.zeros(1, xs.shape[0], h))
        return torch.lstm(xs, hx, flat, True, 1, 0.0, False, False, True)

    cell = 4 * h * (n + h)
    xt = r(k, 1, n)
    h0, c0 = r(k, h), r(k, h)
    add("LSTM time step", f"{k} seq x 1 step", lambda: lstm_layer(xt, w_ih, w_hh, b, h0, c0),
        lambda: torch.lstm(xt, (h0[None], c0[None]), flat, True, 1, 0.0, False, False, True),
        k * cell)
    xb = r(1, k, n)
    add("BLSTM band path", f"1 seq x {k} bands x 2 dir",
        lambda: (lstm_layer(xb, w_ih, w_hh, b), lstm_layer(xb, w_ih, w_hh, b, reverse=True)),
        lambda: (torch_lstm(xb), torch_lstm(xb, True)), 2 * k * cell)
    xo = r(k, frames_offline, n)
    add("LSTM time path", f"{k} seq x {frames_offline} steps",
        lambda: lstm_layer(xo, w_ih, w_hh, b), lambda: torch_lstm(xo),
        k * frames_offline * cell)
    return rows


# ---- whole model ------------------------------------------------------------------------------------
def make_model(name: str) -> BSRNN:
    """``PRESET`` or ``PRESET:FIELD=VALUE[:FIELD=VALUE...]``, with random weights."""
    preset, _, arch = name.partition(":")
    return build_model(preset, parse_arch(arch.replace(":", ",")) if arch else None)


def streaming_row(settings: H.Settings, name: str):
    torch.manual_seed(0)
    model = make_model(name).eval()
    cfg = model.config
    fx = BSRNNDenoiser(model)
    eng = fx._engine(1)
    hop = cfg.hop_length
    block = (0.1 * np.random.default_rng(1).standard_normal((1, hop))).astype(np.float32)
    frame = torch.randn(1, 1, cfg.n_bins, dtype=torch.complex64)
    state = {"torch": None, "ops": None}

    def step(kind: str):
        model.use_kernels = kind == "ops"
        _, state[kind] = model.step(frame, state[kind])

    st = H.compare({"torch step": lambda: step("torch"), "hb step": lambda: step("ops"),
                    "engine": lambda: eng.process_block(block)}, settings)
    model.use_kernels = True
    t, o, e = (st[c].median for c in ("torch step", "hb step", "engine"))
    hop_s = hop / cfg.sample_rate
    return [name, H.fmt_time(t, "us"), H.fmt_time(o, "us"), H.fmt_time(e, "us"),
            f"{t / e:.1f}", f"{t / hop_s:.3f}", f"{e / hop_s:.4f}",
            f"{st['engine'].p90 / hop_s:.4f}"]


def offline_rows(settings: H.Settings, name: str, seconds: float, do_compile: bool):
    torch.manual_seed(0)
    model = make_model(name).eval()
    cfg = model.config
    sr = cfg.sample_rate
    c = cfg.audio_channels
    shape = (int(sr * seconds),) if c == 1 else (c, int(sr * seconds))
    x = (0.1 * np.random.default_rng(0).standard_normal(shape)).astype(np.float32)
    xt = torch.from_numpy(x)[None]

    def run(kernels: bool):
        model.use_kernels = kernels
        with torch.no_grad():
            return model(xt)

    err = float((run(True) - run(False)).norm() / run(False).norm())
    cases = {"torch eager": lambda: run(False), "hb kernels": lambda: run(True)}
    if cfg.causal:
        fx = BSRNNDenoiser(model)
        cases["engine"] = lambda: fx.process(x, sr)
    note = ""
    if do_compile:
        try:
            model.use_kernels = False
            cm = torch.compile(model, dynamic=False)
            t0 = time.perf_counter()
            with torch.no_grad():
                cm(xt)
            note = f"torch.compile: compiled in {time.perf_counter() - t0:.0f} s"

            def compiled():
                model.use_kernels = False
                with torch.no_grad():
                    return cm(xt)
            cases["torch.compile"] = compiled
        except Exception as e:  # report, do not fail the bench
            note = f"torch.compile failed: {type(e).__name__}: {str(e)[:120]}"
    st = H.compare(cases, settings)
    model.use_kernels = True
    base = st["hb kernels"].median
    rows = [[name, case, H.fmt_time(s.median, "ms"), f"{s.median / seconds:.4f}",
             f"{s.median / base:.2f}"] for case, s in st.items()]
    return rows, err, note


def size_rows(names):
    rows = []
    for name in names:
        m = make_model(name)
        c = m.config
        rows.append([name, f"{c.num_bands}", f"{c.feature_dim}/{c.num_layers}/{c.hidden_size}",
                     "causal" if c.causal else "offline",
                     f"{m.num_parameters() / 1e6:.3f} M", f"{m.macs_per_frame() / 1e6:.2f} M",
                     f"{m.macs_per_second() / 1e9:.2f} G",
                     f"{(c.n_fft - 1) / c.sample_rate * 1e3:.1f} ms" if c.causal else "-"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    p.add_argument("--configs", default=DEFAULT_CONFIGS)
    p.add_argument("--offline-configs", default="bsrnn-speech-16k,bsrnn-speech-16k-lite",
                   help="configs timed offline on 10 s (empty: none)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (slow)")
    p.add_argument("--out", help="also write the Markdown report here")
    args = p.parse_args(argv)
    settings = H.Settings.make(args.quick)
    H.set_threads(1)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    off_names = [n.strip() for n in args.offline_configs.split(",") if n.strip()]
    seconds = 1.0 if args.quick else 10.0
    lines = ["# hushboard BSRNN benchmark", "", *H.header_lines(), ""]
    lines += ["## Model sizes", "",
              H.markdown_table(["config", "bands", "N/layers/H", "time path", "parameters",
                                "MACs / frame", "MACs / s", "latency"],
                               size_rows(names + [n for n in off_names if n not in names])),
              ""]
    lines += ["## Kernels, 1 thread (31 bands, N = H = 64, mask hidden 256)", "",
              H.markdown_table(["kernel", "shape", "hushboard", "torch", "torch/hb",
                                "hb GFLOP/s"],
                               kernel_rows(settings, 125 if args.quick else 1250)), ""]
    lines += ["## Streaming, one hop per call, 1 thread", "",
              H.markdown_table(["config", "torch step", "hb step", "engine", "torch/engine",
                                "RTF torch", "RTF engine (median)", "RTF engine (p90)"],
                               [streaming_row(settings, n) for n in names]), ""]
    off, notes = [], []
    for name in off_names:
        rows, err, note = offline_rows(settings, name, seconds, args.compile and not args.quick)
        off += rows
        notes.append(f"- {name}: hb kernels vs torch eager, relative L2 {err:.2e}"
                     + (f"; {note}" if note else ""))
    if off:
        lines += [f"## Offline, {seconds:g} s, 1 thread", "",
                  H.markdown_table(["config", "case", "time", "RTF", "time / hb kernels"], off), "",
                  *notes, ""]
    H.write_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
