"""``hushboard train PRESET --data DIR --out DIR``."""

from __future__ import annotations

import argparse
import math
import sys

__all__ = ["add_train_parser"]


def _cmd_train(args: argparse.Namespace) -> int:
    from hushboard.data.mix import MixDataset
    from hushboard.train.loop import TrainConfig, build_model, is_separator, train

    arch = parse_arch(args.arch) if args.arch is not None else None
    model = build_model(args.preset, arch)
    stem_weights = None
    if args.stem_weights is not None:
        if not is_separator(model):
            raise ValueError(f"--stem-weights applies to music separators, not {args.preset!r}")
        stem_weights = parse_stem_weights(args.stem_weights, model.config.stems)
    cfg = TrainConfig(model=args.preset, steps=args.steps, batch_size=args.batch_size,
                      segment_seconds=args.segment_seconds, lr=args.lr,
                      warmup_steps=min(args.warmup_steps, args.steps),
                      valid_every=args.valid_every, checkpoint_every=args.checkpoint_every,
                      valid_items=args.valid_items, seed=args.seed, device=args.device,
                      num_workers=args.workers, mrstft_weight=args.mrstft_weight,
                      stem_weights=stem_weights, arch=arch, sdr_floor=args.sdr_floor,
                      sdr_chunk_seconds=args.sdr_chunk_seconds)
    if is_separator(model):
        return _train_separator(args, cfg, model)
    sr = model.config.sample_rate
    train_set = MixDataset(args.data, "train", sample_rate=sr, seconds=args.segment_seconds,
                           seed=args.seed, second_noise_prob=args.second_noise_prob)
    valid_set = MixDataset(args.data, "valid", sample_rate=sr, seconds=args.segment_seconds,
                           seed=args.seed, items=args.valid_items)
    note = (f"`{args.data}` (hushboard data corpus): {len(train_set.speech)} training "
            f"utterances mixed on the fly at SNR {train_set.snr_db[0]:g}..{train_set.snr_db[1]:g}"
            f" dB with noise types {', '.join(sorted(train_set.noise_by_type))}"
            + (f" (a second type added to {100 * args.second_noise_prob:g} % of them)"
               if args.second_noise_prob else ""))
    result = train(cfg, train_set, valid_set, args.out, resume=args.resume,
                   progress=not args.quiet, data_note=note, init=args.init)
    print(f"hushboard train: {result['step']} steps; validation SI-SNR "
          f"{result.get('valid_si_snr', float('nan')):.2f} dB "
          f"(gain {result.get('valid_si_snr_gain', float('nan')):+.2f} dB); wrote "
          f"{result['weights']} and {result['card']}", file=sys.stderr)
    return 0


def parse_arch(text: str) -> dict[str, int | float | bool | str]:
    """``"num_layers=6,hidden_size=96"`` -> ``{"num_layers": 6, "hidden_size": 96}``: integers,
    then numbers, then true/false, else strings (``build_model`` checks them against the
    preset's fields)."""
    arch: dict[str, int | float | bool | str] = {}
    for item in text.split(","):
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not name or not value:
            raise ValueError(f"--arch: expected FIELD=VALUE items, e.g. num_layers=6 (got "
                             f"{item.strip()!r})")
        if name in arch:
            raise ValueError(f"--arch: {name} is given twice")
        parsed: int | float | bool | str
        try:
            parsed = int(value)
        except ValueError:
            try:
                parsed = float(value)
            except ValueError:
                parsed = {"true": True, "false": False}.get(value.lower(), value)
        arch[name] = parsed
    return arch


def parse_stem_weights(text: str, stems: tuple[str, ...]) -> tuple[float, ...]:
    """``"vocals=2,other=1.5"`` -> one weight per stem in ``stems`` order (1 where unnamed)."""
    weights = dict.fromkeys(stems, 1.0)
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in weights:
            raise ValueError(f"--stem-weights: expected STEM=WEIGHT items, STEM one of "
                             f"{', '.join(stems)} (got {item.strip()!r})")
        try:
            w = float(value)
        except ValueError:
            w = float("nan")
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"--stem-weights: {name}'s weight must be a positive number "
                             f"(got {value.strip()!r})")
        weights[name] = w
    return tuple(weights.values())


def _train_separator(args: argparse.Namespace, cfg, model) -> int:
    from hushboard.data.music import STEMS, StemDataset
    from hushboard.train.loop import train

    speed_stems = STEMS if args.speed_stems is None else tuple(
        t.strip() for t in args.speed_stems.split(",") if t.strip())
    train_set = StemDataset(args.data, "train", seconds=args.segment_seconds, seed=args.seed,
                            remix_prob=args.remix_prob, eq_prob=args.eq_prob,
                            speed_prob=args.speed_prob, speed_semitones=args.speed_semitones,
                            speed_stems=speed_stems,
                            targets=model.config.stems)
    valid_set = StemDataset(args.data, "valid", seconds=args.segment_seconds, seed=args.seed,
                            items=args.valid_items, targets=model.config.stems)
    note = (f"`{args.data}` (hushboard data music): {len(train_set.songs)} training songs "
            f"(stems {', '.join(model.config.stems)}), random {args.segment_seconds:g} s segments,"
            f" stems remixed across songs in {100 * args.remix_prob:g} % of them, ±3 dB stem "
            "gains" + (f", a random equaliser (±6 dB shelves and peak) on "
                       f"{100 * args.eq_prob:g} % of the stems" if args.eq_prob else "")
            + (f", a speed change of up to ±{args.speed_semitones:g} semitones (pitch and tempo "
               f"together) on {100 * args.speed_prob:g} % of the "
               + ("stems" if set(speed_stems) == set(STEMS) else
                  f"{', '.join(s for s in STEMS if s in speed_stems)} stems")
               if train_set.speed_prob else "")
            + ", channel swaps")
    result = train(cfg, train_set, valid_set, args.out, resume=args.resume,
                   progress=not args.quiet, data_note=note, init=args.init)
    print(f"hushboard train: {result['step']} steps; validation uSDR "
          f"{result.get('valid_usdr', float('nan')):.2f} dB (over the mix "
          f"{result.get('valid_usdr_gain', float('nan')):+.2f} dB); wrote "
          f"{result['weights']} and {result['card']}", file=sys.stderr)
    return 0


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a denoiser or separator preset on a `hushboard data` "
                       "corpus",
                       description="Train a DCCRN or BSRNN speech preset on a corpus built by "
                       "`hushboard data speech/noise` (mixtures made on the fly), or a BSRNN music "
                       "preset (bsrnn-music-44k-lite) on one built by `hushboard data music`, "
                       "with checkpoints, a CSV log, curves and an exported safetensors file plus "
                       "model card.")
    p.add_argument("preset", help="model preset, e.g. bsrnn-speech-16k-lite, dccrn-lite, "
                   "bsrnn-music-44k-lite")
    p.add_argument("--data", required=True, help="corpus folder (hushboard data speech/noise, "
                   "or hushboard data music for a music preset)")
    p.add_argument("--out", required=True, help="run folder (checkpoint, log, weights)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--segment-seconds", type=float, default=4.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-steps", type=int, default=500)
    p.add_argument("--mrstft-weight", type=float, default=1.0)
    p.add_argument("--valid-every", type=int, default=500)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--valid-items", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--second-noise-prob", type=float, default=0.0, metavar="P",
                   help="probability that a training mixture gets a second noise type, 0-10 dB "
                   "below the first (default 0)")
    p.add_argument("--remix-prob", type=float, default=0.5, metavar="P",
                   help="music separators: probability that a training segment's stems come "
                   "from different songs (default 0.5)")
    p.add_argument("--eq-prob", type=float, default=0.0, metavar="P",
                   help="music separators: probability that a training stem goes through a "
                   "random equaliser, a timbre augmentation (default 0)")
    p.add_argument("--speed-prob", type=float, default=0.0, metavar="P",
                   help="music separators: probability that a training stem is played faster or "
                   "slower, pitch and tempo together like a tape, a timbre augmentation "
                   "(default 0)")
    p.add_argument("--speed-semitones", type=float, default=2.0, metavar="S",
                   help="music separators: the largest speed change, in semitones (uniform in "
                   "±S; default 2)")
    p.add_argument("--speed-stems", default=None, metavar="STEM,...",
                   help="music separators: the corpus stems --speed-prob applies to, e.g. "
                   "drums,bass,other (default all)")
    p.add_argument("--stem-weights", default=None, metavar="STEM=W,...",
                   help="music separators: weights of the stems' SDR terms in the loss, e.g. "
                   "vocals=2,other=1.5 (unnamed stems 1; default all equal)")
    p.add_argument("--sdr-floor", choices=("mix", "fade"), default="mix",
                   help="music separators: the SDR loss's floor: 'mix' (the mix's energy 10 dB "
                   "down, for every stem; caps what the loss rewards at about 10 dB) or 'fade' "
                   "(that floor for silent stems, fading out as a stem plays: a cap of 27 dB "
                   "for such a stem; default mix)")
    p.add_argument("--sdr-chunk-seconds", type=float, default=None, metavar="S",
                   help="music separators: score the loss's SDR per S-second chunk and average "
                   "the chunks, as cSDR takes the median of 1 s chunks, so that quiet passages "
                   "count as much as loud ones (default: one SDR per segment)")
    p.add_argument("--arch", default=None, metavar="FIELD=VALUE,...",
                   help="change the preset's architecture, e.g. num_layers=6,hidden_size=96 "
                   "(any number, string or flag field of its config); with --init from the "
                   "preset's weights, a BSRNN with more layers, wider RNNs and/or a longer "
                   "complex filter (mask_frames) starts at their exact function")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint (model, optimizer, "
                   "step); the schedule is recomputed from this command's --steps and --lr, "
                   "so a larger --steps restarts the cosine higher and a smaller one steps it "
                   "down and ends sooner")
    p.add_argument("--init", default=None, metavar="FILE",
                   help="start from these weights: a model.safetensors of the same preset (all "
                   "tensors), or of another config of the same model (tensors of matching name "
                   "and shape are transferred, e.g. BSRNN 16 kHz dual-path layers into 48 kHz; "
                   "a BSRNN that differs only in a larger hidden_size, num_layers and/or "
                   "mask_frames starts at the smaller one's exact function, its new RNN units, "
                   "layers and filter taps learning from there)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
