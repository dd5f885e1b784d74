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
                     "file pairs: SI-SNR, SNR, SDR, PESQ, STOI; or, with --task separation, "
                     "music separators and baselines on songs with stems: cSDR, uSDR, SI-SDR, "
                     "SI-SIR, SI-SAR (and museval's ISR, SIR, SAR with --bss-eval)",
        description="--task denoise (the default): pairs files by name between --clean and "
                    "--noisy (a metadata.csv beside them with columns file,noise_type,snr_db "
                    "adds per-noise-type tables), runs the noisy input, each --model and each "
                    "peer on every file, prints per-file and overall tables (mean, 95% CI, "
                    "delta over noisy) and writes CSV, JSON and a spectrogram PNG to --out. "
                    "--task separation: pairs --mix/<song>.flac with --stems/<song>/<stem>.flac "
                    "(vocals, drums, bass, other), runs each --model separator and each "
                    "baseline (oracle IRM, spectral) on every song, prints per-song and "
                    "per-stem tables (cSDR: museval median over 1-s chunks, median over songs; "
                    "uSDR: MDX/SDX, mean; SI-SDR: mean) and writes CSV and JSON to --out.")
    pe.add_argument("--task", choices=("denoise", "separation"), default="denoise",
                    help="what to evaluate (default: denoise)")
    pe.add_argument("--clean", default=None, metavar="DIR",
                    help="denoise: clean reference files (required)")
    pe.add_argument("--noisy", default=None, metavar="DIR",
                    help="denoise: noisy files, same names (required)")
    pe.add_argument("--mix", default=None, metavar="DIR",
                    help="separation: mixtures <song>.flac (required)")
    pe.add_argument("--stems", default=None, metavar="DIR",
                    help="separation: one folder <song>/ per mixture holding vocals, drums, "
                         "bass and other (.flac or .wav) (required)")
    pe.add_argument("--model", nargs="+", action="extend", default=[], metavar="M",
                    help="models to score (repeatable). denoise: default (the shipped default "
                         "for the files' rate), a shipped model's name, wiener, gate, or "
                         "DCCRN/BSRNN *.safetensors. separation: separators for "
                         "hushboard.separation: default, a shipped separator's name, or a "
                         "BSRNN *.safetensors")
    pe.add_argument("--peers", default=None, metavar="LIST",
                    help="denoise: comma-separated peers from rnnoise,noisereduce,wiener, or "
                         "'none' (default: all that load; a peer named here must load)")
    pe.add_argument("--metrics", default=None, metavar="LIST",
                    help="denoise: comma-separated from si_snr,snr,sdr,pesq_wb,pesq_nb,stoi,"
                         "estoi (default: all)")
    pe.add_argument("--metadata", default=None, metavar="CSV",
                    help="denoise: metadata CSV (default: metadata.csv in --noisy, --clean or "
                         "their parent)")
    pe.add_argument("--plot-file", default=None, metavar="NAME",
                    help="denoise: file shown in the spectrogram PNG (default: the first)")
    pe.add_argument("--baselines", default=None, metavar="LIST",
                    help="separation: comma-separated from irm (oracle ideal ratio mask), "
                         "spectral (HPSS + bass crossover + centre vocals), mix (the mixture "
                         "as every stem), or 'none' (default: irm,spectral)")
    pe.add_argument("--targets", default=None, metavar="LIST",
                    help="separation: the stems to score, comma-separated from vocals,drums,"
                         "bass,other (default: all four)")
    pe.add_argument("--wiener", action="store_true",
                    help="separation: run the models with their multichannel Wiener "
                         "post-filter")
    pe.add_argument("--flip", action="store_true",
                    help="separation: the models also separate the channel-swapped mix and "
                         "average (test-time augmentation, twice the time)")
    pe.add_argument("--shifts", type=int, default=None, metavar="N",
                    help="separation: the models also separate N copies delayed by a "
                         "fraction of a hop and average (N + 1 times the time; default 0)")
    pe.add_argument("--bss-eval", action="store_true",
                    help="separation: also score museval's BSS-eval v4 ISR, SIR and SAR per "
                         "stem (512-tap filters fitted on the whole song; a few seconds per "
                         "song and system)")
    pe.add_argument("--irm-power", type=float, default=None, metavar="P",
                    help="separation: the irm baseline's mask exponent, 2 (power ratios, "
                         "IRM2; the default) or 1 (magnitude ratios, IRM1)")
    pe.add_argument("--device", default=None, metavar="DEV",
                    help="separation: where the models run (cpu, cuda; default cpu)")
    pe.add_argument("--out", default="hushboard-eval", metavar="DIR",
                    help="output folder (default: ./hushboard-eval)")
    pe.add_argument("--no-progress", action="store_true", help="no progress bar")
    pe.set_defaults(func=run)
    return pe


# options that belong to one task only (dest, flag): giving one to the other task is an error
_DENOISE_ONLY = (("clean", "--clean"), ("noisy", "--noisy"), ("peers", "--peers"),
                 ("metrics", "--metrics"), ("metadata", "--metadata"),
                 ("plot_file", "--plot-file"))
_SEPARATION_ONLY = (("mix", "--mix"), ("stems", "--stems"), ("baselines", "--baselines"),
                    ("targets", "--targets"), ("wiener", "--wiener"),
                    ("irm_power", "--irm-power"), ("device", "--device"), ("flip", "--flip"),
                    ("shifts", "--shifts"), ("bss_eval", "--bss-eval"))


def _check_task_arguments(args: argparse.Namespace) -> None:
    task = getattr(args, "task", "denoise")
    required = ("--clean", "--noisy") if task == "denoise" else ("--mix", "--stems")
    missing = [flag for flag in required if getattr(args, flag[2:]) is None]
    if missing:
        raise ValueError(f"--task {task} needs {' and '.join(required)}; missing: "
                         f"{', '.join(missing)}")
    foreign = _SEPARATION_ONLY if task == "denoise" else _DENOISE_ONLY
    given = [flag for dest, flag in foreign if getattr(args, dest, None) not in (None, False)]
    if given:
        other = "separation" if task == "denoise" else "denoise"
        raise ValueError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to "
                         f"--task {other} only (this is --task {task})")


def run(args: argparse.Namespace) -> int:
    """Run ``hushboard eval`` from parsed arguments; prints the report."""
    _check_task_arguments(args)
    if getattr(args, "task", "denoise") == "separation":
        return _run_separation(args)
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


def _run_separation(args: argparse.Namespace) -> int:
    import time

    from hushboard.eval.separation import evaluate_separation, format_separation_report

    t0 = time.perf_counter()
    result = evaluate_separation(
        args.mix, args.stems, models=args.model,
        baselines=None if args.baselines is None else _names(args.baselines),
        stems=None if args.targets is None else _names(args.targets),
        wiener=args.wiener, device=args.device or "cpu",
        irm_power=2.0 if args.irm_power is None else args.irm_power,
        out_dir=args.out, progress=False if args.no_progress else None,
        flip=args.flip, shifts=0 if args.shifts is None else args.shifts,
        bss_eval=args.bss_eval)
    print(format_separation_report(result))
    print(f"{result.config['songs']} songs, {result.config['audio_seconds']:.1f} s of audio, "
          f"{len(result.systems)} systems, {time.perf_counter() - t0:.1f} s")
    print("wrote " + ", ".join(result.files.values()))
    return 0
