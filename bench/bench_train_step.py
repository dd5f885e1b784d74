"""BSRNN training on the CPU: the grouped band forms against the per-band ones.

    python bench/bench_train_step.py [--quick] [--configs A,B] [--threads 1] [--out FILE.md]

A step is what `hushboard train` does per batch: forward, the preset's loss (separation loss for
the music separator, SI-SNR + MR-STFT for the speech presets), backward, gradient clipping and an
AdamW update, on the batch shapes of the shipped runs (music: 4 x 3 s stereo at 44.1 kHz;
speech: 8 x 3 s mono). The band split and mask MLP run in autograd through either
  grouped:  hushboard.ops.band_split_grouped / band_mask_grouped (what training uses), or
  per-band: hushboard.ops.band_split_reference / band_mask_reference (one band at a time; what
            training used before), whose backward zero-fills a copy of the whole input per band.
Cases per preset, each pair timed interleaved in one process (medians):
  band split fwd+bwd, band mask fwd+bwd (one stem's MLP): the preset's modules on random input of
      the batch's shape (frames x bands x features), backward of a random output gradient;
  train step: the whole step, each form on its own copy of the model.
Ratios > 1 mean the grouped forms are faster.

A second table (separator presets) times the copies the autograd path avoids, the pair
interleaved in one process:
  mask heads fwd+bwd: every stem's mask MLP and its complex mask tensor (B, C, F, T, k), built
      from the runs of equal-width bands permuted straight into place (BandMask.pieces, what
      training uses) against the form training used before: the MLP's concatenated output
      permuted whole, the stems' masks stacked (two more copies, and their backward), backward
      of a random gradient.
Ratios > 1 mean the form training uses is faster. (Feeding a BLSTM's two directions to its
output Linear as two column blocks of the weight, without their concatenation, was measured
the same way on 2026-12-07: 1.00x on the time path and 0.98x on the band path, so training
concatenates them.)

--quick: 0.5 s of audio per item, few repeats; for smoke tests, not for numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

import hushboard.models.bsrnn as bsrnn_mod
import hushboard.ops as hbo
import torch
from hushboard.train.loop import build_model, is_separator
from hushboard.train.losses import denoise_loss, separation_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

BATCH = {"music": 4, "speech": 8}


@contextlib.contextmanager
def per_band_forms():
    """The models' autograd path on the per-band reference forms for the duration."""
    saved = bsrnn_mod.band_split_grouped, bsrnn_mod.band_mask_grouped
    bsrnn_mod.band_split_grouped = hbo.band_split_reference

    def mask_reference(*args, concat: bool = True, **kwargs):
        # BandMask.pieces asks for the runs of bands apart (concat=False): one run here
        y = hbo.band_mask_reference(*args, **kwargs)
        return y if concat else [y]

    bsrnn_mod.band_mask_grouped = mask_reference
    try:
        yield
    finally:
        bsrnn_mod.band_split_grouped, bsrnn_mod.band_mask_grouped = saved


def op_cases(model, batch: int, frames: int, g: torch.Generator):
    """fwd+bwd of the band split and of one mask MLP, grouped and per-band."""
    split, mask = model.band_split, model.masks[0]
    x = torch.randn(batch, frames, sum(split.band_dims), generator=g).requires_grad_()
    z = torch.randn(batch, frames, len(mask.out_dims), model.config.feature_dim,
                    generator=g).requires_grad_()
    gy = torch.randn(batch, frames, len(split.band_dims), model.config.feature_dim, generator=g)
    gm = torch.randn(batch, frames, sum(mask.out_dims), generator=g)
    return {
        "band split fwd+bwd": {
            "grouped": lambda: hbo.band_split_grouped(x, split.band_dims, split.gamma, split.beta,
                                                      split.weight, split.bias).backward(gy),
            "per-band": lambda: hbo.band_split_reference(x, split.band_dims, split.gamma,
                                                         split.beta, split.weight,
                                                         split.bias).backward(gy)},
        "band mask fwd+bwd": {
            "grouped": lambda: hbo.band_mask_grouped(z, mask.out_dims, mask.gamma, mask.beta,
                                                     mask.w1, mask.b1, mask.w2,
                                                     mask.b2).backward(gm),
            "per-band": lambda: hbo.band_mask_reference(z, mask.out_dims, mask.gamma,
                                                        mask.beta, mask.w1, mask.b1, mask.w2,
                                                        mask.b2).backward(gm)},
    }


def copy_cases(model, batch: int, frames: int, g: torch.Generator):
    """fwd+bwd of the mask heads, in the form training uses ("pieces") and with the copies it
    avoids ("concat")."""
    cfg = model.config
    k, n = len(model.masks[0].out_dims), cfg.feature_dim
    x = torch.randn(batch, frames, k, n, generator=g).requires_grad_()
    gm = torch.randn(batch, cfg.audio_channels, cfg.n_bins, frames, cfg.mask_frames, 2,
                     generator=g)

    def masks(pieces: bool):
        if pieces:
            ms = [model._mask_tensor_of_pieces(m.pieces(x), batch, frames) for m in model.masks]
        else:  # as before: each MLP's runs concatenated, permuted whole, the stems stacked
            ms = torch.stack([model._mask_tensor(m(x, False), batch, frames)
                              for m in model.masks], 1).unbind(1)
        sum((torch.view_as_real(m) * gm).sum() for m in ms).backward()

    return {"mask heads fwd+bwd (all stems)": {"pieces": lambda: masks(True),
                                               "concat": lambda: masks(False)}}


def step_cases(config: str, seconds: float, g: torch.Generator):
    torch.manual_seed(0)
    probe = build_model(config)
    sep = is_separator(probe)
    cfg = probe.config
    n = int(seconds * cfg.sample_rate)
    batch = BATCH["music" if sep else "speech"]
    if sep:
        stems = 0.1 * torch.randn(batch, len(cfg.stems), cfg.audio_channels, n, generator=g)
        mix, target = stems.sum(1), stems
    else:
        target = 0.1 * torch.randn(batch, n, generator=g)
        mix = target + 0.1 * torch.randn(batch, n, generator=g)
    steps = {}
    for name, forms in (("grouped", contextlib.nullcontext), ("per-band", per_band_forms)):
        model = build_model(config).train()
        model.load_state_dict(probe.state_dict())
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5)

        def step(model=model, opt=opt, forms=forms):
            with forms():
                est = model(mix)
                loss = (separation_loss(est, target, mix, 0.0) if sep
                        else denoise_loss(est, target))
                opt.zero_grad(set_to_none=True)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()

        steps[name] = step
    frames = n // cfg.hop_length + 1
    cases = op_cases(probe, batch, frames, g)
    cases["train step"] = steps
    shape = (f"batch {batch} x {seconds:g} s" + (f", {cfg.audio_channels} ch" if sep else "")
             + f" at {cfg.sample_rate / 1000:g} kHz")
    return cases, (copy_cases(probe, batch, frames, g) if sep else {}), shape


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--configs", default="bsrnn-music-44k-lite,bsrnn-speech-16k-lite")
    p.add_argument("--threads", default="1", help="comma-separated thread counts")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    settings = H.Settings.make(args.quick)
    seconds = 0.5 if args.quick else 3.0
    out = ["# BSRNN training step: grouped vs per-band band forms", ""]
    out += H.header_lines([("mode", "QUICK (not for numbers)" if args.quick else "full")])
    g = torch.Generator().manual_seed(0)
    for nt in (int(t) for t in args.threads.split(",")):
        H.set_threads(nt)
        rows, copy_rows = [], []
        for config in args.configs.split(","):
            groups, copies, shape = step_cases(config, seconds, g)
            for table, cases, (new, old) in ((rows, groups, ("grouped", "per-band")),
                                             (copy_rows, copies, ("pieces", "concat"))):
                for case, pair in cases.items():
                    st = H.compare(pair, settings, repeats=3 if args.quick else 7,
                                   max_time=0.5 if args.quick else 30.0)
                    med = {k: v.median for k, v in st.items()}
                    table.append([f"{config}: {case}", shape, H.fmt_time(med[new]),
                                  H.fmt_time(med[old]), f"{med[old] / med[new]:.2f}"])
        out += ["", f"## {nt} thread(s); median ms per call", ""]
        out.append(H.markdown_table(["case", "batch", "grouped", "per-band",
                                     "per-band/grouped"], rows, align="ll" + "r" * 3))
        if copy_rows:
            out += ["", f"### {nt} thread(s): the copies training avoids; median ms per call", ""]
            out.append(H.markdown_table(["case", "batch", "pieces", "concat", "concat/pieces"],
                                        copy_rows, align="ll" + "r" * 3))
    H.write_report("\n".join(out), args.out)


if __name__ == "__main__":
    main()
