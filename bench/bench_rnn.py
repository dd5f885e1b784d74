"""hushboard LSTM / GRU layer kernels vs PyTorch, on the BSRNN call shapes.

    python bench/bench_rnn.py [--quick] [--hidden 64] [--cells lstm,gru] [--threads 1]
                              [--out FILE.md]

Cases (H = I = --hidden):
  band:    S = 1 sequence (one frame), L = 31 bands, forward then reverse (two layers),
  time:    S = 31 sequences (bands), L = 1 frame,
  offline: S = 31, L = 1250 frames (20 s at 16 kHz, hop 256).
Every case times, interleaved in one process (medians per call):
  hb plan:    the C++ plan through its pointer entry point (preallocated state and output, one
              thread, no torch dispatch): what the C++ BSRNN engine pays, plus ~1 us of pybind,
  hb op:      hushboard.ops.lstm_layer / gru_layer (torch custom op, CPU float32 native kernel;
              threads over sequences when the work is large),
  torch:      torch.lstm / torch.gru on the same shapes (what nn.LSTM / nn.GRU call),
  torch cell: nn.LSTMCell / nn.GRUCell stepped over L positions from Python.
Ratios > 1 mean the hushboard plan is faster. OMP_WAIT_POLICY defaults to PASSIVE (torch's idle
OpenMP workers would otherwise spin on the core the next case needs).

--quick: L = 50 for the offline case, few repeats (seconds); for smoke tests.
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

GATES = {"lstm": 4, "gru": 3}


def make_cases(cell: str, s: int, n: int, hidden: int, both: bool, g: torch.Generator,
               with_cell: bool):
    i = hidden
    k = hidden ** -0.5
    G = GATES[cell]

    def u(*shape):
        return (torch.rand(*shape, generator=g) * 2 - 1) * k

    x = torch.randn(s, n, i, generator=g)
    w_ih, w_hh, b_ih, b_hh = u(G * hidden, i), u(G * hidden, hidden), u(G * hidden), u(G * hidden)
    dirs = (False, True) if both else (False,)
    h = torch.zeros(s, hidden)
    c = torch.zeros(s, hidden)
    y = torch.empty(s, n, hidden)
    if cell == "lstm":
        bias = b_ih + b_hh
        plan = _C.LstmPlan(w_ih.numpy(), w_hh.numpy(), bias.numpy())
        module = torch.nn.LSTMCell(i, hidden)

        def hb_plan():
            for rev in dirs:
                h.zero_()
                c.zero_()
                plan.forward_ptr(x.data_ptr(), s, n, n * i, i, rev, h.data_ptr(), c.data_ptr(),
                                 y.data_ptr(), n * hidden, hidden, 1)

        def hb_op():
            for rev in dirs:
                hbo.lstm_layer(x, w_ih, w_hh, bias, reverse=rev)

        hx = (torch.zeros(1, s, hidden), torch.zeros(1, s, hidden))
        params = [w_ih, w_hh, b_ih, b_hh]

        def torch_layer():
            for rev in dirs:
                torch.lstm(x.flip(1) if rev else x, hx, params, True, 1, 0.0, False, False, True)
    else:
        plan = _C.GruPlan(w_ih.numpy(), w_hh.numpy(), b_ih.numpy(), b_hh.numpy())
        module = torch.nn.GRUCell(i, hidden)

        def hb_plan():
            for rev in dirs:
                h.zero_()
                plan.forward_ptr(x.data_ptr(), s, n, n * i, i, rev, h.data_ptr(), y.data_ptr(),
                                 n * hidden, hidden, 1)

        def hb_op():
            for rev in dirs:
                hbo.gru_layer(x, w_ih, w_hh, b_ih, b_hh, reverse=rev)

        hx1 = torch.zeros(1, s, hidden)
        params = [w_ih, w_hh, b_ih, b_hh]

        def torch_layer():
            for rev in dirs:
                torch.gru(x.flip(1) if rev else x, hx1, params, True, 1, 0.0, False, False, True)

    with torch.no_grad():
        module.weight_ih.copy_(w_ih)
        module.weight_hh.copy_(w_hh)
        module.bias_ih.copy_(b_ih)
        module.bias_hh.copy_(b_hh)

    def torch_cell():
        for rev in dirs:
            state = None
            for pos in range(n - 1, -1, -1) if rev else range(n):
                state = module(x[:, pos], state)

    cases = {"hb plan": hb_plan, "hb op": hb_op, "torch": torch_layer}
    if with_cell:
        cases["torch cell"] = torch_cell
    return cases


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--hidden", default="64", help="comma-separated H = I values")
    p.add_argument("--cells", default="lstm,gru")
    p.add_argument("--threads", default="1", help="comma-separated thread counts")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    settings = H.Settings.make(args.quick)
    offline_len = 50 if args.quick else 1250
    shapes = [("band (fwd+rev)", 1, 31, True), ("time", 31, 1, False),
              ("offline", 31, offline_len, False)]
    out = ["# hushboard RNN layers vs PyTorch", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full")])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for nt in (int(t) for t in args.threads.split(",")):
            H.set_threads(nt)
            rows = []
            for cell in args.cells.split(","):
                for hidden in (int(v) for v in args.hidden.split(",")):
                    for name, s, n, both in shapes:
                        cases = make_cases(cell, s, n, hidden, both, g, with_cell=True)
                        st = H.compare(cases, settings)
                        med = {k: v.median for k, v in st.items()}
                        rows.append([
                            f"{cell} {name}", f"S={s} L={n} H=I={hidden}",
                            *(H.fmt_time(med[k], "us") for k in cases),
                            f"{med['torch'] / med['hb plan']:.1f}",
                            f"{med['torch cell'] / med['hb plan']:.1f}",
                        ])
            out += ["", f"## {nt} thread(s) (torch and hushboard); median us per call", ""]
            out.append(H.markdown_table(
                ["case", "shape", "hb plan", "hb op", "torch", "torch cell", "torch/plan",
                 "cell/plan"], rows, align="ll" + "r" * 6))
    H.write_report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
