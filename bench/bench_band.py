"""hushboard band split / band mask (BSRNN) vs the pure-torch reference loops.

    python bench/bench_band.py [--quick] [--threads 1,2] [--rows 1,4000] [--out FILE.md]

BSRNN at 16 kHz: K = 31 bands (widths [2, 3x10, 8x12, 16x7, 17], D = Dout = 257 bins),
N = 64 features, mask MLP hidden Hm = 256, GLU. For S rows (S = 1: one streaming frame;
S = 4000: batch x frames offline) every case times interleaved in one process:
  ref:      hushboard.ops.band_*_reference (a loop over bands of F.layer_norm / F.linear),
  op:       hushboard.ops.band_split / band_mask (eager float32 CPU, no autograd: the kernel
            called directly, rows over threads above ~1 MMAC),
  dispatch: torch.ops.hushboard.band_* (the same kernel through the custom op's dispatch),
  plan:     the C++ plan's forward through its pointer entry point (what an engine pays).
Ratios > 1 mean hushboard is faster. The floor is the multiply-add count at the FMA peak
(2 x 8-lane FMA per cycle per core at the /proc/cpuinfo clock).

--quick: S = 1 and 64, one thread, few repeats (seconds); for smoke tests.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import hushboard.ops as hbo
import torch
from hushboard.ops._native import _C

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

DIMS = [2] + [3] * 10 + [8] * 12 + [16] * 7 + [17]
K, D, N, HM = len(DIMS), sum(DIMS), 64, 256


def make(g: torch.Generator):
    def r(*s, scale=1.0):
        return torch.randn(*s, generator=g) * scale

    split = (r(D), r(D), r(N, D, scale=0.2), r(K, N))
    mask = (r(K, N), r(K, N), r(K, HM, N, scale=N ** -0.5), r(K, HM),
            r(2 * D, HM, scale=HM ** -0.5), r(2 * D))
    return split, mask


def make_cases(x, sp_w, mk_w, split_plan, mask_plan, nt: int, macs: dict) -> dict:
    S = x.shape[0]
    y = hbo.band_split(x, DIMS, *sp_w)
    ys, z = torch.empty(S, K, N), torch.empty(S, D)
    pt = nt if S * macs["split"] > (1 << 20) else 1
    mt = nt if S * macs["mask"] > (1 << 20) else 1
    ref_y = hbo.band_split_reference(x, DIMS, *sp_w)
    ref_z = hbo.band_mask_reference(y, DIMS, *mk_w)
    assert (hbo.band_split(x, DIMS, *sp_w) - ref_y).abs().max() < 1e-4 * ref_y.abs().max()
    assert (hbo.band_mask(y, DIMS, *mk_w) - ref_z).abs().max() < 1e-4 * ref_z.abs().max()
    return {
        "split ref": lambda: hbo.band_split_reference(x, DIMS, *sp_w),
        "split op": lambda: hbo.band_split(x, DIMS, *sp_w),
        "split dispatch": lambda: torch.ops.hushboard.band_split(x, DIMS, *sp_w, 1e-5),
        "split plan": lambda: split_plan.forward_ptr(x.data_ptr(), S, D, ys.data_ptr(), pt),
        "mask ref": lambda: hbo.band_mask_reference(y, DIMS, *mk_w),
        "mask op": lambda: hbo.band_mask(y, DIMS, *mk_w),
        "mask dispatch": lambda: torch.ops.hushboard.band_mask(y, DIMS, *mk_w, True, 1e-5),
        "mask plan": lambda: mask_plan.forward_ptr(y.data_ptr(), S, z.data_ptr(), D, mt),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rows", default="1,4000")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    threads = [1] if args.quick else [int(v) for v in args.threads.split(",")]
    rows_list = [1, 64] if args.quick else [int(v) for v in args.rows.split(",")]
    settings = H.Settings.make(args.quick)
    ghz, _ = H.cpu_ghz()
    peak = 16.0 * ghz * 1e9  # multiply-adds/s per core
    g = torch.Generator().manual_seed(0)
    sp_w, mk_w = make(g)
    split_plan = _C.BandSplitPlan(DIMS, *(t.numpy() for t in sp_w), 1e-5)
    mask_plan = _C.BandMaskPlan(DIMS, *(t.numpy() for t in mk_w), glu=True, eps=1e-5)
    macs = {"split": D * N, "mask": K * HM * N + 2 * D * HM}
    out = ["# hushboard band split / band mask benchmark", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full"),
                           ("config", f"K={K}, D={D}, N={N}, Hm={HM}, GLU"),
                           ("FMA peak per core (floor)", f"{peak / 1e9:.1f} GMAC/s")])
    rows_out = []
    for nt in threads:
        H.set_threads(nt)
        for S in rows_list:
            x = torch.randn(S, D, generator=g)
            cases = make_cases(x, sp_w, mk_w, split_plan, mask_plan, nt, macs)
            with torch.no_grad():
                st = H.compare(cases, settings)
            m = {k: v.median for k, v in st.items()}
            for part in ("split", "mask"):
                floor = S * macs[part] / (peak * nt)
                rows_out.append([part, S, nt, H.fmt_time(m[f"{part} ref"], "us"),
                                 H.fmt_time(m[f"{part} op"], "us"),
                                 H.fmt_time(m[f"{part} dispatch"], "us"),
                                 H.fmt_time(m[f"{part} plan"], "us"), H.fmt_time(floor, "us"),
                                 f"{m[f'{part} ref'] / m[f'{part} op']:.1f}",
                                 f"{m[f'{part} ref'] / m[f'{part} plan']:.1f}"])
            print("\n".join(" | ".join(str(c) for c in r) for r in rows_out[-2:]), flush=True)
    out += ["", "## Median time per call (us); ratios > 1: hushboard faster", "",
            H.markdown_table(["layer", "rows S", "threads", "torch ref", "op", "op dispatch",
                              "C++ plan", "FMA floor", "ref/op", "ref/plan"], rows_out)]
    H.write_report("\n".join(out), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
