"""hushboard fused complex convolutions vs their PyTorch forms, on DCCRN's layer shapes.

    python bench/bench_complex_conv.py [--quick] [--threads 1,2] [--batches 1,8] [--out FILE.md]

For each encoder conv (kernel (5,2), stride (2,1), F padding 2, causal in time; F 256 halving
per layer) and decoder transposed conv (kernel (5,2), stride (2,1), F crop (2,2), output
padding F 1, causal time crop; input channels doubled by the skip concat) of the "for-scale"
(complex channels 8,16,32,64,64,64) and "dccrn-cl" (16,32,64,128,128,128) configurations, over
1 s of 16 kHz audio (T = 161 frames), every case times interleaved in one process:
  four:    four real torch convs (F.conv2d / F.conv_transpose2d) + bias, concatenated,
  stacked: one real torch conv with the block weight [[Wr, -Wi], [Wi, Wr]] on the stacked input,
  fused:   hushboard.ops.complex_conv2d / complex_conv_transpose2d (float32, CPU).
Ratios > 1 mean hushboard is faster. OMP_WAIT_POLICY defaults to PASSIVE here (torch's idle
OpenMP workers would otherwise spin on the core the next case needs). The floor is the 3-multiplication FLOP count at the
machine's FMA peak (2 x 256-bit FMA per cycle per core at the /proc/cpuinfo clock).

--quick: 20 frames, batch 1, one thread, for-scale only (seconds); for smoke tests.
"""

from __future__ import annotations

import argparse
import os
import sys

# torch's OpenMP workers spin after each op by default, which steals the second core from the
# hushboard kernel timed right after it (interleaved timing); let them sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import hushboard.ops as hbo
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

CONFIGS = {"for-scale": [8, 16, 32, 64, 64, 64], "dccrn-cl": [16, 32, 64, 128, 128, 128]}
F0, K, S = 256, (5, 2), (2, 1)
TABLE_MARK = "| case "


def layers(chans: list[int]):
    """(kind, cin, cout, F_in) for the encoder then the decoder (complex channels)."""
    c = [1, *chans]
    enc = [("enc", c[i], c[i + 1], F0 >> i) for i in range(len(chans))]
    dec = [("dec", 2 * c[i], c[i - 1], F0 >> i) for i in range(len(chans), 0, -1)]
    return enc + dec


def make_cases(kind: str, cin: int, cout: int, f: int, t: int, batch: int, g: torch.Generator):
    x = torch.randn(batch, 2 * cin, f, t, generator=g)
    shape = (cout, cin, *K) if kind == "enc" else (cin, cout, *K)
    wr, wi = torch.randn(*shape, generator=g) * 0.1, torch.randn(*shape, generator=g) * 0.1
    br, bi = torch.randn(cout, generator=g), torch.randn(cout, generator=g)
    bb = torch.cat([br, bi])
    if kind == "enc":
        wb = torch.cat([torch.cat([wr, -wi], 1), torch.cat([wi, wr], 1)], 0)

        def conv(a, w, b=None):
            return F.conv2d(F.pad(a, (1, 0, 2, 2)), w, b, stride=S)

        def fused():
            return hbo.complex_conv2d(x, wr, wi, br, bi, stride=S, padding=(2, 0), causal=True)
    else:
        wb = torch.cat([torch.cat([wr, wi], 1), torch.cat([-wi, wr], 1)], 0)

        def conv(a, w, b=None):
            return F.conv_transpose2d(a, w, b, stride=S, output_padding=(1, 0))[:, :, 2:-2, :-1]

        def fused():
            return hbo.complex_conv_transpose2d(x, wr, wi, br, bi, stride=S, padding=(2, 0),
                                                output_padding=(1, 0), causal=True)

    def four():
        xr, xi = x[:, :cin], x[:, cin:]
        re = conv(xr, wr) - conv(xi, wi) + br.view(1, -1, 1, 1)
        im = conv(xi, wr) + conv(xr, wi) + bi.view(1, -1, 1, 1)
        return torch.cat([re, im], 1)

    def stacked():
        return conv(x, wb, bb)

    ref = four()
    for fn in (stacked, fused):
        err = (fn() - ref).abs().max().item() / ref.abs().max().item()
        assert err < 1e-4, f"{kind} {cin}->{cout}: {fn.__name__} differs from four-call ({err})"
    fo, to = ref.shape[2], ref.shape[3]
    flops = 3 * 2 * batch * cout * cin * K[0] * K[1] * fo * to
    if kind == "dec":  # transposed: each input sample meets every tap once (cropped edges aside)
        flops = 3 * 2 * batch * cout * cin * K[0] * K[1] * f * t
    return {"four": four, "stacked": stacked, "fused": fused}, flops


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batches", default="1,8")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    threads = [1] if args.quick else [int(v) for v in args.threads.split(",")]
    batches = [1] if args.quick else [int(v) for v in args.batches.split(",")]
    configs = ["for-scale"] if args.quick else list(CONFIGS)
    t = 20 if args.quick else 161
    settings = H.Settings.make(args.quick)
    ghz, _ = H.cpu_ghz()
    peak = 32.0 * ghz * 1e9  # flops/s per core: 2 FMA x 8 lanes x 2
    out = ["# hushboard complex convolution benchmark", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full"),
                           ("frames", str(t)), ("FMA peak per core (floor)",
                                                f"{peak / 1e9:.1f} GFLOP/s")])
    g = torch.Generator().manual_seed(0)
    summary = []
    for cfg in configs:
        for nt in threads:
            H.set_threads(nt)
            for batch in batches:
                rows, sums = [], {}
                for kind, cin, cout, f in layers(CONFIGS[cfg]):
                    cases, flops = make_cases(kind, cin, cout, f, t, batch, g)
                    st = H.compare(cases, settings)
                    m = {k: v.median for k, v in st.items()}
                    floor = flops / (peak * nt)
                    for k, v in m.items():
                        sums[(kind, k)] = sums.get((kind, k), 0.0) + v
                    sums[(kind, "floor")] = sums.get((kind, "floor"), 0.0) + floor
                    rows.append([f"{kind} {2 * cin}->{2 * cout} F{f}", H.fmt_time(m["four"]),
                                 H.fmt_time(m["stacked"]), H.fmt_time(m["fused"]),
                                 H.fmt_time(floor), f"{m['four'] / m['fused']:.2f}",
                                 f"{m['stacked'] / m['fused']:.2f}"])
                for kind in ("enc", "dec"):
                    a, b, c = (sums[(kind, k)] for k in ("four", "stacked", "fused"))
                    rows.append([f"**{kind} total**", H.fmt_time(a), H.fmt_time(b),
                                 H.fmt_time(c), H.fmt_time(sums[(kind, "floor")]),
                                 f"{a / c:.2f}", f"{b / c:.2f}"])
                    summary.append([cfg, kind, batch, nt, H.fmt_time(a), H.fmt_time(b),
                                    H.fmt_time(c), H.fmt_time(sums[(kind, "floor")]),
                                    f"{a / c:.2f}", f"{b / c:.2f}"])
                out += ["", f"## {cfg}, batch {batch}, {nt} thread(s) (ms, median)", "",
                        H.markdown_table(["case (stacked channels)", "four", "stacked", "fused",
                                          "3-mult floor", "four/hb", "stacked/hb"], rows)]
                print("\n".join(out[-3:]), flush=True)
    out += ["", "## Summary (ms, median; ratios > 1: hushboard faster)", "",
            H.markdown_table(["case", "part", "batch", "threads", "four", "stacked", "fused",
                              "3-mult floor", "four/hb", "stacked/hb"], summary)]
    H.write_report("\n".join(out), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
