"""hushboard LSTM training kernels (forward + backward) vs torch's nn.LSTM (oneDNN) on CPU.

    python bench/bench_rnn_train.py [--quick] [--hidden 32] [--threads 1,2] [--out FILE.md]

Cases (H = I = --hidden), fwd+bwd of one nn.LSTM call's work, the BSRNN training shapes of
bsrnn-speech-16k-lite (batch 8 x 3 s at 16 kHz: 375 frames, 31 bands):
  time: S = 8*31 = 248 sequences, L = 375 steps, one direction (causal),
  band: S = 8*375 = 3000 sequences, L = 31 steps, bidirectional (two directions, concatenated).
Each is timed, interleaved in one process (medians per call):
  hb:    hushboard.ops.lstm_train_layer per direction (+ torch.cat), then backward,
  torch: nn.LSTM forward, then backward.
Then one full training step of bsrnn-speech-16k-lite (forward, loss, backward, AdamW step) with
the native LSTM path and with HUSHBOARD_TRAIN_LSTM=torch (nn.LSTM), interleaved likewise.
Ratios > 1 mean hushboard is faster. OMP_WAIT_POLICY defaults to PASSIVE.

--quick: small shapes (S = 16 / 200, batch 1 x 0.5 s), few repeats (seconds); for smoke tests.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import hushboard.ops as hbo
import torch
from hushboard.models import BSRNN

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H


def layer_cases(s: int, n: int, hidden: int, both: bool, g: torch.Generator):
    m = torch.nn.LSTM(hidden, hidden, batch_first=True, bidirectional=both)
    x = torch.randn(s, n, hidden, generator=g).requires_grad_()
    gy = torch.randn(s, n, (2 if both else 1) * hidden, generator=g)
    dirs = (("", False), ("_reverse", True))[:2 if both else 1]

    def hb():
        ys = [hbo.lstm_train_layer(x, getattr(m, f"weight_ih_l0{sfx}"),
                                   getattr(m, f"weight_hh_l0{sfx}"),
                                   getattr(m, f"bias_ih_l0{sfx}"), getattr(m, f"bias_hh_l0{sfx}"),
                                   reverse=rev)[0] for sfx, rev in dirs]
        y = ys[0] if len(ys) == 1 else torch.cat(ys, -1)
        y.backward(gy)

    def torch_lstm():
        y, _ = m(x)
        y.backward(gy)

    return {"hb": hb, "torch": torch_lstm}


def step_cases(config: str, batch: int, seconds: float, g: torch.Generator):
    sr = 16000
    audio = 0.1 * torch.randn(batch, int(seconds * sr), generator=g)
    target = 0.1 * torch.randn(batch, int(seconds * sr), generator=g)
    cases = {}
    for name, mode in (("hb", ""), ("torch", "torch")):
        torch.manual_seed(0)
        model = BSRNN(config).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step(model=model, opt=opt, mode=mode):
            os.environ["HUSHBOARD_TRAIN_LSTM"] = mode
            opt.zero_grad(set_to_none=True)
            loss = (model(audio) - target).pow(2).mean()
            loss.backward()
            opt.step()

        cases[name] = step
    return cases


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--hidden", default="32", help="comma-separated H = I values")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--config", default="bsrnn-speech-16k-lite")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    settings = H.Settings.make(args.quick)
    if args.quick:
        shapes = [("time", 16, 50, False), ("band (fwd+rev)", 200, 31, True)]
        batch, seconds = 1, 0.5
    else:
        shapes = [("time", 248, 375, False), ("band (fwd+rev)", 3000, 31, True)]
        batch, seconds = 8, 3.0
    out = ["# hushboard LSTM training kernels vs PyTorch", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full")])
    g = torch.Generator().manual_seed(0)
    saved_env = os.environ.get("HUSHBOARD_TRAIN_LSTM")
    try:
        for nt in (int(t) for t in args.threads.split(",")):
            H.set_threads(nt)
            rows = []
            for hidden in (int(v) for v in args.hidden.split(",")):
                for name, s, n, both in shapes:
                    st = H.compare(layer_cases(s, n, hidden, both, g), settings)
                    med = {k: v.median for k, v in st.items()}
                    rows.append([f"LSTM fwd+bwd {name}", f"S={s} L={n} H=I={hidden}",
                                 H.fmt_time(med["hb"]), H.fmt_time(med["torch"]),
                                 f"{med['torch'] / med['hb']:.2f}"])
            st = H.compare(step_cases(args.config, batch, seconds, g), settings)
            med = {k: v.median for k, v in st.items()}
            rows.append([f"train step {args.config}", f"batch {batch} x {seconds:g} s, AdamW",
                         H.fmt_time(med["hb"]), H.fmt_time(med["torch"]),
                         f"{med['torch'] / med['hb']:.2f}"])
            out += ["", f"## {nt} thread(s) (torch and hushboard); median ms per call", ""]
            out.append(H.markdown_table(["case", "shape", "hb", "torch", "torch/hb"], rows,
                                        align="ll" + "r" * 3))
    finally:
        if saved_env is None:
            os.environ.pop("HUSHBOARD_TRAIN_LSTM", None)
        else:
            os.environ["HUSHBOARD_TRAIN_LSTM"] = saved_env
    H.write_report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
