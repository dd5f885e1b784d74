"""The ``hushboard eval`` sub-command (parser and entry point; heavy imports are lazy)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def _names(text: str) -> list[str]:
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    return [t.strip() for t in text.split(",") if t.strip()]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``eval`` to a sub-parser set."""
    pe = sub.add_parser(
        "eval", help="score denoisers and peers (RNNoise, noisereduce, Wiener) on clean/noisy "
                     "file pairs: SI-SNR, SNR, SDR, PESQ, STOI",
        description="Pairs files by name between --clean and --noisy (a metadata.csv beside them "
                    "with columns file,noise_type,snr_db adds per-noise-type tables), runs the "
                    "noisy input, each --model and each peer on every file, prints per-file and "
                    "overall tables (mean, 95% CI, delta over noisy) and writes CSV, JSON and a "
                    "spectrogram PNG to --out.")
    pe.add_argument("--clean", required=True, metavar="DIR", help="clean reference files")
    pe.add_argument("--noisy", required=True, metavar="DIR", help="noisy files (same names)")
    pe.add_argument("--model", nargs="+", action="extend", default=[], metavar="M",
                    help="hushboard models to score: default (the shipped default for the "
                         "files' rate), a shipped model's name, wiener, gate, or DCCRN/BSRNN "
                         "*.safetensors (repeatable)")
    pe.add_argument("--peers", default=None, metavar="LIST",
                    help="comma-separated peers from rnnoise,noisereduce,wiener, or 'none' "
                         "(default: all that load; a peer named here must load)")
    pe.add_argument("--metrics", default=None, metavar="LIST",
                    help="comma-separated from si_snr,snr,sdr,pesq_wb,pesq_nb,stoi,estoi "
                         "(default: all)")
    pe.add_argument("--metadata", default=None, metavar="CSV",
                    help="metadata CSV (default: metadata.csv in --noisy, --clean or their parent)")
    pe.add_argument("--plot-file", default=None, metavar="NAME",
                    help="file shown in the spectrogram PNG (default: the first)")
    pe.add_argument("--out", default="hushboard-eval", metavar="DIR",
                    help="output folder (default: ./hushboard-eval)")
    pe.add_argument("--no-progress", action="store_true", help="no progress bar")
    pe.set_defaults(func=run)
    return pe


def run(args: argparse.Namespace) -> int:
    """Run ``hushboard eval`` from parsed arguments; prints the report."""
    import time

    from hushboard.eval.runner import evaluate, format_report

    t0 = time.perf_counter()
    result = evaluate(
        args.clean, args.noisy, models=args.model,
        peers=None if args.peers is None else _names(args.peers),
        metrics=None if args.metrics is None else _names(args.metrics),
        out_dir=args.out, metadata=args.metadata, plot_file=args.plot_file,
        progress=False if args.no_progress else None)
    print(format_report(result))
    print(f"{result.config['files']} files, {result.config['audio_seconds']:.1f} s of audio, "
          f"{len(result.systems)} systems, {time.perf_counter() - t0:.1f} s")
    print("wrote " + ", ".join(result.files.values()))
    return 0
