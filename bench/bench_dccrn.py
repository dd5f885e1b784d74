"""DCCRN end to end: the C++ streaming engine against the same model in PyTorch.

    python bench/bench_dccrn.py [--quick] [--configs dccrn-lite,dccrn-cl] [--compile]
                                [--out FILE.md]

Same weights everywhere (random; speed does not depend on training). One thread for torch and
hushboard. Cases, interleaved in one process:

* Offline, 10 s of 16 kHz audio:
  - "torch eager": the model in plain PyTorch (complex convolutions as four real convolutions,
    torch.stft / torch.istft);
  - "torch + hb ops": the same module on hushboard's fused STFT and complex convolution ops;
  - "torch.compile" (with --compile): the plain-PyTorch model compiled (inductor), when it
    compiles here;
  - "engine": ``DCCRNDenoiser.process`` (the C++ engine; frames reach it in chunks of up to 32,
    so the convolutions run 32 columns at a time; the LSTM steps frame by frame).
* Streaming, one 6.25 ms hop (100 samples) per call:
  - "torch step": ``DCCRN.step`` on one STFT frame in plain PyTorch (the STFT and iSTFT of the
    hop are not counted: the ratio favours torch);
  - "engine": one 100-sample block through the engine (STFT, network, iSTFT).
  Real-time factor = time per hop / 6.25 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H
import hushboard.models.complex_nn as cnn
import hushboard.models.dccrn as dccrn_mod
from hushboard.fx import DCCRNDenoiser
from hushboard.models import DCCRN

SR = 16000
HOP = 100


# ---- the plain-PyTorch forms of the ops the model uses ------------------------------------------
def _torch_conv(x, wr, wi, br=None, bi=None, *, stride, padding, dilation):
    fl, fh, tp, tf = padding
    xr, xi = F.pad(x, (tp, tf, fl, fh)).chunk(2, 1)

    def c(a, w):
        return F.conv2d(a, w, None, stride, 0, dilation)

    yr = c(xr, wr) - c(xi, wi)
    yi = c(xi, wr) + c(xr, wi)
    if br is not None:
        yr, yi = yr + br[:, None, None], yi + bi[:, None, None]
    return torch.cat([yr, yi], 1)


def _torch_convt(x, wr, wi, br=None, bi=None, *, stride, padding, output_padding, dilation):
    fl, fh, tb, te = padding
    xr, xi = x.chunk(2, 1)

    def c(a, w):
        y = F.conv_transpose2d(a, w, None, stride, 0, output_padding, 1, dilation)
        return y[..., fl:y.shape[-2] - fh, tb:y.shape[-1] - te]

    yr = c(xr, wr) - c(xi, wi)
    yi = c(xi, wr) + c(xr, wi)
    if br is not None:
        yr, yi = yr + br[:, None, None], yi + bi[:, None, None]
    return torch.cat([yr, yi], 1)


def _torch_stft(x, n_fft, hop, win, window, *, center, pad_mode):
    return torch.stft(x, n_fft, hop, win, window, center=center, pad_mode=pad_mode,
                      return_complex=True)


def _torch_istft(spec, n_fft, hop, win, window, *, center, length):
    return torch.istft(spec, n_fft, hop, win, window, center=center, length=length)


@contextlib.contextmanager
def plain_torch():
    """Run DCCRN modules on plain PyTorch ops (four real convolutions, torch.stft/istft)."""
    saved = (cnn.complex_conv2d, cnn.complex_conv_transpose2d, dccrn_mod.stft, dccrn_mod.istft)
    cnn.complex_conv2d, cnn.complex_conv_transpose2d = _torch_conv, _torch_convt
    dccrn_mod.stft, dccrn_mod.istft = _torch_stft, _torch_istft
    try:
        yield
    finally:
        (cnn.complex_conv2d, cnn.complex_conv_transpose2d, dccrn_mod.stft,
         dccrn_mod.istft) = saved


def _plain(fn):
    def run():
        with plain_torch():
            return fn()
    return run


# ---- cases ----------------------------------------------------------------------------------------
def offline_rows(settings: H.Settings, name: str, seconds: float, do_compile: bool):
    torch.manual_seed(0)
    model = DCCRN(name).eval()
    fx = DCCRNDenoiser(model)
    x = (0.1 * np.random.default_rng(0).standard_normal(int(SR * seconds))).astype(np.float32)
    xt = torch.from_numpy(x)[None]
    with torch.no_grad(), plain_torch():
        y_torch = model(xt)[0].numpy()
    y_engine = fx.process(x, SR)
    lat = model.config.n_fft - 1
    with torch.no_grad(), plain_torch():
        y_ref = model(torch.from_numpy(np.concatenate([x, np.zeros(lat, np.float32)]))[None])
    err = float(np.linalg.norm(y_engine - y_ref[0, :x.size].numpy())
                / np.linalg.norm(y_ref[0, :x.size].numpy()))
    del y_torch

    cases = {
        "torch eager": _plain(lambda: model(xt)),
        "torch + hb ops": lambda: model(xt),
        "engine": lambda: fx.process(x, SR),
    }
    compiled_note = ""
    if do_compile:
        try:
            with plain_torch():
                cm = torch.compile(model, dynamic=False)
                t0 = time.perf_counter()
                with torch.no_grad():
                    cm(xt)
                compiled_note = f"compiled in {time.perf_counter() - t0:.0f} s"
            cases["torch.compile"] = _plain(lambda: cm(xt))
        except Exception as e:  # report, do not fail the bench
            compiled_note = f"torch.compile failed: {type(e).__name__}: {str(e)[:120]}"
    with torch.no_grad():
        st = H.compare(cases, settings)
    eng = st["engine"].median
    rows = []
    for case, s in st.items():
        rows.append([name, case, H.fmt_time(s.median, "ms"), f"{s.median / seconds:.4f}",
                     f"{s.median / eng:.2f}"])
    return rows, err, compiled_note


def streaming_rows(settings: H.Settings, name: str):
    torch.manual_seed(0)
    model = DCCRN(name).eval()
    fx = DCCRNDenoiser(model)
    eng = fx._engine(1)
    block = (0.1 * np.random.default_rng(1).standard_normal((1, HOP))).astype(np.float32)
    frame = torch.randn(1, model.config.n_fft // 2 + 1, dtype=torch.complex64)
    state = {"s": None}

    def torch_step():
        with torch.no_grad(), plain_torch():
            _, state["s"] = model.step(frame, state["s"])

    st = H.compare({"torch step": torch_step, "engine": lambda: eng.process_block(block)},
                   settings)
    t, e = st["torch step"].median, st["engine"].median
    hop_s = HOP / SR
    return [name, H.fmt_time(t, "us"), H.fmt_time(e, "us"), f"{t / e:.1f}", f"{t / hop_s:.3f}",
            f"{e / hop_s:.4f}", f"{st['engine'].p90 / hop_s:.4f}"]


def size_rows(names):
    rows = []
    for name in names:
        m = DCCRN(name)
        rows.append([name, f"{m.num_parameters() / 1e6:.3f} M",
                     f"{m.macs_per_frame() / 1e6:.2f} M", f"{m.macs_per_second() / 1e9:.2f} G"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    p.add_argument("--configs", default="dccrn-lite,dccrn-cl")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (slow)")
    p.add_argument("--out", help="also write the Markdown report here")
    args = p.parse_args(argv)
    settings = H.Settings.make(args.quick)
    H.set_threads(1)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    seconds = 1.0 if args.quick else 10.0
    lines = ["# hushboard DCCRN benchmark", "", *H.header_lines(), ""]
    lines += ["## Model sizes", "",
              H.markdown_table(["config", "parameters", "MACs / frame", "MACs / s"],
                               size_rows(names)), ""]
    off, notes = [], []
    for name in names:
        rows, err, note = offline_rows(settings, name, seconds, args.compile and not args.quick)
        off += rows
        notes.append(f"- {name}: engine vs the PyTorch model, relative L2 error {err:.2e}"
                     + (f"; {note}" if note else ""))
    lines += [f"## Offline, {seconds:g} s of 16 kHz audio, 1 thread", "",
              H.markdown_table(["config", "case", "time", "RTF", "time / engine"], off), "",
              *notes, ""]
    lines += ["## Streaming, one 100-sample hop (6.25 ms) per call, 1 thread", "",
              H.markdown_table(["config", "torch step", "engine", "torch/engine", "RTF torch",
                                "RTF engine (median)", "RTF engine (p90)"],
                               [streaming_rows(settings, n) for n in names]), ""]
    H.write_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
