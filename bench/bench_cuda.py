"""hushboard's CUDA kernels vs their PyTorch forms (cuDNN / cuBLAS underneath): issue 7's cases.

    python bench/bench_cuda.py [--quick] [--device cuda|cpu] [--out FILE.md]

Every section times its cases interleaved in one process (CUDA events on the GPU, warm-up,
medians) and prints each case's floor beside it (FLOPs at the FP32 peak, or bytes at the
measured memory bandwidth, whichever is larger):

  complex conv   DCCRN-lite's encoder layers at batch 16 (1 s, 160 frames): hushboard's fused
                 kernel vs the four-call form (four F.conv2d, what a complex layer costs in
                 PyTorch) and the stacked form (one F.conv2d with the 2x2 block weight).
                 Target: >= 1.5x the four-call form.
  band split / mask   BSRNN-16k's 31 bands, N = 64, Hm = 256, GLU, rows = 16 x 1000 frames:
                 one grouped launch vs the per-band loop of LayerNorm + Linear. Target: >= 3x.
  LSTM time path  31 bands x batch 16 = 496 sequences of 1000 frames (10 s), I = H = 64 and
                 128: one GEMM + the fused recurrence vs cuDNN (torch.lstm). Target: >= 2x.
  streamed BSRNN  bsrnn-speech-16k-lite, one hop of audio for 1, 16 and 256 concurrent
                 streams through hushboard.serve.StreamServer (a CUDA graph per hop; also
                 eager), beside BSRNN.step on one frame with hushboard's ops and with plain
                 PyTorch. Targets: 256 streams <= 1 ms, 1 stream <= 0.2 ms.
The fused STFT has its own GPU section: bench_stft.py --device cuda.

--device cpu runs the same cases on the CPU (hushboard's CPU kernels, one thread): it checks
this script where no GPU is present (the smoke test); its numbers are not issue 7's.
--quick: smaller sizes and few repeats (seconds); not for numbers.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn.functional as F
from hushboard import ops
from hushboard.models import BSRNN

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

BANDS_16K = [2] + [3] * 10 + [8] * 12 + [16] * 7 + [17]


# ---- machine ------------------------------------------------------------------------------------
def machine(device: str, quick: bool) -> tuple[float, float, list[tuple[str, str]]]:
    """(FP32 FLOP/s peak, memory bandwidth bytes/s, header lines)."""
    if device == "cuda":
        return H.cuda_machine(quick)
    ghz, _ = H.cpu_ghz()
    peak = 32.0 * ghz * 1e9  # one core: 2 x 8-lane FMA per cycle
    bw = H.measure_bandwidth(64 if quick else 256)[1]
    return peak, bw, [("CPU (one thread)", (f"{H.cpu_model()}: {peak / 1e9:.0f} GFLOP/s peak, "
                                            f"{bw / 1e9:.1f} GB/s copy")),
                      ("NOTE", "the CPU run checks this script; issue 7's figures need a GPU")]


def floor(flops: float, nbytes: float, peak: float, bw: float) -> float:
    return max(flops / peak, nbytes / bw)


# ---- sections -----------------------------------------------------------------------------------
def complex_conv_section(dev, settings, peak, bw, quick, cuda):
    g = torch.Generator().manual_seed(0)
    batch, frames = (2, 20) if quick else (16, 160)
    chans = (1, 16, 32, 32, 64, 64, 64)[: 3 if quick else None]
    f_in = 256
    rows = []
    for li in range(len(chans) - 1):
        cin, cout = chans[li], chans[li + 1]
        x = torch.randn(batch, 2 * cin, f_in, frames, generator=g).to(dev)
        wr = (0.1 * torch.randn(cout, cin, 5, 2, generator=g)).to(dev)
        wi = (0.1 * torch.randn(cout, cin, 5, 2, generator=g)).to(dev)
        br, bi = torch.zeros(cout, device=dev), torch.zeros(cout, device=dev)
        pad = (2, 2, 1, 0)
        xp = F.pad(x, (1, 0, 2, 2))
        xr, xi = xp[:, :cin], xp[:, cin:]
        wblock = torch.cat([torch.cat([wr, -wi], 1), torch.cat([wi, wr], 1)], 0)
        bblock = torch.cat([br, bi])

        def four(xr=xr, xi=xi, wr=wr, wi=wi, br=br, bi=bi):
            def c(t, w):
                return F.conv2d(t, w, stride=(2, 1))
            re = c(xr, wr) - c(xi, wi) + br.view(1, -1, 1, 1)
            im = c(xi, wr) + c(xr, wi) + bi.view(1, -1, 1, 1)
            return torch.cat([re, im], 1)

        cases = {
            "hb": lambda x=x, wr=wr, wi=wi, br=br, bi=bi, pad=pad: ops.complex_conv2d(
                x, wr, wi, br, bi, stride=(2, 1), padding=pad),
            "four": four,
            "stacked": lambda xp=xp, w=wblock, b=bblock: F.conv2d(xp, w, b, stride=(2, 1)),
        }
        with torch.no_grad():
            ref = four()
            got = cases["hb"]()
            assert (got - ref).abs().max() <= 1e-4 * ref.abs().max()
            st = H.compare(cases, settings, cuda=cuda)
        fo = got.shape[2]
        flops = 8.0 * batch * cout * cin * 10 * fo * frames
        nbytes = 4.0 * (x.numel() + got.numel() + 2 * wr.numel())
        m = {k: v.median for k, v in st.items()}
        rows.append([f"enc{li + 1} {cin}->{cout}, F {f_in}->{fo}", batch,
                     H.fmt_time(m["hb"], "us"), H.fmt_time(m["four"], "us"),
                     H.fmt_time(m["stacked"], "us"), H.fmt_time(floor(flops, nbytes, peak, bw),
                                                                "us"),
                     f"{m['four'] / m['hb']:.2f}", f"{m['stacked'] / m['hb']:.2f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
        f_in = fo
    return ["", "## Complex conv (DCCRN-lite encoder, kernel 5x2, stride 2x1), us per call", "",
            H.markdown_table(["layer", "batch", "hushboard", "4 x conv2d", "stacked conv2d",
                              "floor", "four/hb (>= 1.5)", "stacked/hb"], rows)]


def band_section(dev, settings, peak, bw, quick, cuda):
    g = torch.Generator().manual_seed(1)
    k, d, n, hm = len(BANDS_16K), sum(BANDS_16K), 64, 256
    s = 64 if quick else 16 * 1000
    x = torch.randn(s, d, generator=g).to(dev)
    sp = [t.to(dev) for t in (torch.randn(d, generator=g), torch.randn(d, generator=g),
                              0.2 * torch.randn(n, d, generator=g), torch.randn(k, n, generator=g))]
    mk = [t.to(dev) for t in (torch.randn(k, n, generator=g), torch.randn(k, n, generator=g),
                              n ** -0.5 * torch.randn(k, hm, n, generator=g),
                              torch.randn(k, hm, generator=g),
                              hm ** -0.5 * torch.randn(2 * d, hm, generator=g),
                              torch.randn(2 * d, generator=g))]
    with torch.no_grad():
        y = ops.band_split(x, BANDS_16K, *sp)
        cases = {
            "split hb": lambda: ops.band_split(x, BANDS_16K, *sp),
            "split loop": lambda: ops.band_split_reference(x, BANDS_16K, *sp),
            "mask hb": lambda: ops.band_mask(y, BANDS_16K, *mk),
            "mask loop": lambda: ops.band_mask_reference(y, BANDS_16K, *mk),
        }
        for part in ("split", "mask"):
            a, b = cases[f"{part} hb"](), cases[f"{part} loop"]()
            assert (a - b).abs().max() <= 1e-4 * b.abs().max(), part
        st = H.compare(cases, settings, cuda=cuda)
    m = {kk: v.median for kk, v in st.items()}
    flops = {"split": 2.0 * s * d * n, "mask": 2.0 * s * (k * hm * n + 2 * d * hm)}
    nbytes = {"split": 4.0 * s * (d + k * n), "mask": 4.0 * s * (k * n + d)}
    rows = []
    for part in ("split", "mask"):
        rows.append([part, s, H.fmt_time(m[f"{part} hb"], "us"),
                     H.fmt_time(m[f"{part} loop"], "us"),
                     H.fmt_time(floor(flops[part], nbytes[part], peak, bw), "us"),
                     f"{m[f'{part} loop'] / m[f'{part} hb']:.2f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
    return ["", f"## Band split / band mask (K = {k}, N = {n}, Hm = {hm}, GLU), us per call", "",
            H.markdown_table(["layer", "rows", "hushboard (1 launch)", "per-band loop", "floor",
                              "loop/hb (>= 3)"], rows)]


def lstm_section(dev, settings, peak, bw, quick, cuda):
    g = torch.Generator().manual_seed(2)
    s, length = (31 * 2, 50) if quick else (31 * 16, 1000)
    rows = []
    for hidden in ((32,) if quick else (64, 128)):
        i = hidden
        x = torch.randn(s, length, i, generator=g).to(dev)
        k = hidden ** -0.5
        w_ih = (k * torch.randn(4 * hidden, i, generator=g)).to(dev)
        w_hh = (k * torch.randn(4 * hidden, hidden, generator=g)).to(dev)
        b = (0.1 * torch.randn(4 * hidden, generator=g)).to(dev)
        cases = {"hb": lambda x=x, w_ih=w_ih, w_hh=w_hh, b=b: ops.lstm_layer(x, w_ih, w_hh, b),
                 "torch": lambda x=x, w_ih=w_ih, w_hh=w_hh, b=b: ops.lstm_layer_reference(
                     x, w_ih, w_hh, b)}
        with torch.no_grad():
            a, r = cases["hb"](), cases["torch"]()
            assert (a[0] - r[0]).abs().max() <= 1e-3, "lstm mismatch"
            st = H.compare(cases, settings, cuda=cuda)
        m = {kk: v.median for kk, v in st.items()}
        flops = 2.0 * s * length * 4 * hidden * (i + hidden)
        nbytes = 4.0 * s * length * (i + hidden)
        rows.append([f"{s} seq x {length} frames, H = {hidden}", H.fmt_time(m["hb"], "ms"),
                     H.fmt_time(m["torch"], "ms"),
                     H.fmt_time(floor(flops, nbytes, peak, bw), "ms"),
                     f"{m['torch'] / m['hb']:.2f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
    return ["", "## LSTM time path (one direction), ms per call", "",
            H.markdown_table(["case", "hushboard", "torch.lstm (cuDNN on GPU)", "floor",
                              "torch/hb (>= 2)"], rows)]


def stream_section(dev, settings, quick, cuda):
    from hushboard.serve import StreamServer

    torch.manual_seed(3)
    net = BSRNN("bsrnn-speech-16k-lite").eval().to(dev)
    ref = BSRNN("bsrnn-speech-16k-lite").eval().to(dev)
    ref.load_state_dict(net.state_dict())
    ref.use_kernels = False  # plain PyTorch modules (cuDNN LSTM, per-band loops)
    bins, hop = net.config.n_bins, net.config.hop_length
    rows = []
    for streams in ((1, 4) if quick else (1, 16, 256)):
        frame = torch.randn(streams, 1, bins, dtype=torch.complex64).to(dev)
        audio = (0.1 * torch.randn(streams, hop)).to(dev)
        state = {"hb": net.init_state(streams), "torch": ref.init_state(streams)}
        servers = {"eager": StreamServer(net, streams, device=dev, graph=False)}
        if cuda:
            servers["graph"] = StreamServer(net, streams, device=dev, graph=True)

        def step(model, key, frame=frame, state=state):
            _, state[key] = model.step(frame, state[key])

        cases = {f"server {k}": (lambda srv=srv, audio=audio: srv.process(audio))
                 for k, srv in servers.items()}
        cases.update({"hb step": lambda: step(net, "hb"), "torch step": lambda: step(ref, "torch")})
        with torch.no_grad():
            st = H.compare(cases, settings, cuda=cuda)
        m = {k: v.median for k, v in st.items()}
        best = m.get("server graph", m["server eager"])
        rows.append([streams, H.fmt_time(m["server graph"], "us") if cuda else "-",
                     H.fmt_time(m["server eager"], "us"), H.fmt_time(m["hb step"], "us"),
                     H.fmt_time(m["torch step"], "us"), H.fmt_time(best / streams, "us"),
                     f"{m['torch step'] / best:.2f}"])
        print(" | ".join(map(str, rows[-1])), flush=True)
    return ["", ("## Streamed causal BSRNN (bsrnn-speech-16k-lite), one hop (8 ms) for all "
                 "streams, us"), "",
            ("`StreamServer` advances every stream by a hop, audio in and audio out (STFT, "
             "network, mask, iSTFT, overlap-add), as one CUDA graph replay (`graph`) or the "
             "same kernels launched one by one (`eager`). `hb step` and `torch step` are "
             "`BSRNN.step` on one STFT frame per stream (no STFT / iSTFT) with hushboard's ops "
             "and with the plain PyTorch modules. The input is already on the device."), "",
            H.markdown_table(["streams", "server graph", "server eager", "hb step", "torch step",
                              "best per stream", "torch step / best"], rows),
            "", "Targets: 256 streams <= 1000 us per hop; 1 stream <= 200 us."]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    if cuda and not (torch.cuda.is_available() and ops._native._C.WITH_CUDA):
        print("bench_cuda: no CUDA GPU or no CUDA build here; run with --device cpu to check "
              "the script", file=sys.stderr)
        return 2
    if not cuda:
        H.set_threads(1)
    dev = torch.device(args.device)
    settings = H.Settings.make(args.quick)
    peak, bw, extra = machine(args.device, args.quick)
    out = ["# hushboard CUDA kernels benchmark", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full"),
                           ("device", args.device), *extra])
    out += complex_conv_section(dev, settings, peak, bw, args.quick, cuda)
    out += band_section(dev, settings, peak, bw, args.quick, cuda)
    out += lstm_section(dev, settings, peak, bw, args.quick, cuda)
    out += stream_section(dev, settings, args.quick, cuda)
    H.write_report("\n".join(out), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
