"""The ``hushboard`` command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

__all__ = ["main"]


def _cmd_info(args: argparse.Namespace) -> int:
    import torch

    from hushboard.backend import build_info

    info = build_info().as_dict()
    info["torch"] = torch.__version__
    info["torch_cuda"] = bool(torch.cuda.is_available())
    from hushboard.fx.model import shipped_weights

    from hushboard.fx.model import default_model

    info["models"] = ["wiener", "gate", *shipped_weights()]
    info["default_model"] = {"16000": default_model(16000), "48000": default_model(48000)}
    from hushboard.separation import DEFAULT_SEPARATOR, shipped_separators

    info["separators"] = list(shipped_separators())
    info["default_separator"] = (DEFAULT_SEPARATOR if DEFAULT_SEPARATOR in info["separators"]
                                 else None)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    gpu = ", ".join(info["cuda_devices"]) or "none usable"
    print(f"hushboard {info['version']}")
    print(f"  machine        {info['machine']}")
    print(f"  compiler       {info['compiler']}")
    print(f"  cpu simd       {info['cpu_simd']} (chosen at run time)")
    print(f"  cpu threads    {info['num_threads']} (HUSHBOARD_NUM_THREADS)")
    built = f"yes, archs {info['cuda_archs']}" if info["with_cuda"] else "no"
    print(f"  cuda compiled  {built}")
    print(f"  cuda devices   {gpu}")
    print(f"  torch          {info['torch']} (cuda available: {info['torch_cuda']})")
    if info["backend_override"]:
        print(f"  backend        {info['backend_override']} (HUSHBOARD_BACKEND)")
    print(f"  models         {', '.join(info['models'])}")
    d = info["default_model"]
    print(f"  default model  {d['16000']} (16 kHz streams), {d['48000']} (48 kHz streams)")
    sep, seps = info["default_separator"], info["separators"]
    if sep:
        print(f"  separator      {sep} (hushboard separate; as an effect: fx.Rebalance, "
              "--chain rebalance)")
    else:
        print(f"  separator      none shipped ({DEFAULT_SEPARATOR} expected"
              + (f"; others: {', '.join(seps)}" if seps else "")
              + "; hushboard separate --model FILE.safetensors)")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    """STFT round trip on a generated signal, checked against torch.stft/istft."""
    import numpy as np
    import torch

    from hushboard import ops

    sr, seconds = args.sample_rate, args.seconds
    t = np.arange(int(sr * seconds)) / sr
    rng = np.random.default_rng(0)
    sig = (0.5 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
           + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    x = torch.from_numpy(sig)[None].repeat(args.batch, 1)
    n_fft, hop = args.n_fft, args.hop_length
    w = torch.hann_window(n_fft)

    def timed(fn, reps=5):
        fn()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        return out, best

    spec, t_hb = timed(lambda: ops.stft(x, n_fft, hop, window=w))
    ref, t_torch = timed(lambda: torch.stft(x, n_fft, hop, window=w, return_complex=True))
    y, t_hbi = timed(lambda: ops.istft(spec, n_fft, hop, window=w, length=x.shape[-1]))
    err_fwd = float((spec - ref).abs().max() / ref.abs().max())
    err_rt = float((y - x).abs().max())
    print(f"signal: {args.batch} x {seconds:g} s at {sr} Hz, n_fft {n_fft}, hop {hop}, Hann")
    print(f"stft  vs torch.stft: max rel. error {err_fwd:.2e}; "
          f"{t_hb * 1e3:.2f} ms vs {t_torch * 1e3:.2f} ms ({t_torch / t_hb:.1f}x)")
    print(f"istft(stft(x)) - x: max abs. error {err_rt:.2e}; istft {t_hbi * 1e3:.2f} ms")
    ok = err_fwd < 1e-5 and err_rt < 1e-4
    print("round trip OK" if ok else "round trip FAILED")
    return 0 if ok else 1


def _progress_printer(label: str, enabled: bool = True):
    """A one-line progress bar on stderr (only when stderr is a terminal and ``enabled``)."""
    if not enabled or not sys.stderr.isatty():
        return None

    def show(fraction: float) -> None:
        filled = int(30 * fraction)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {100 * fraction:5.1f}%")
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


@contextlib.contextmanager
def _naming(src):
    """Errors about one input file's audio (NaN, wrong shape...) name that file, so a run over
    many files says which one stopped it."""
    try:
        yield
    except ValueError as exc:
        msg = str(exc)
        if str(src) in msg:
            raise
        raise ValueError(f"{src}: {msg}") from None


def _cmd_denoise(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hushboard.fx.spec import make_denoiser, parse_chain
    from hushboard.io import check_writable, process_file

    from hushboard.backend import resolve_device

    inputs = [Path(p) for p in args.inputs]
    out = Path(args.output)
    device = resolve_device(args.device, "--device")  # no GPU: a warning, then the CPU path
    if device.type == "cuda" and args.chain:
        raise ValueError("--chain runs on the CPU (pedalboard plugins); drop --device cuda or "
                         "--chain")
    if isinstance(args.batch_size, bool) or args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1 (got {args.batch_size})")
    make = (lambda: parse_chain(args.chain, args.model)) if args.chain else (
        lambda: make_denoiser(args.model))
    make()  # bad model or chain spec: fail before touching any file
    for p in inputs:
        if not p.is_file():
            raise OSError(f"no such file: {p}")
    if len(inputs) > 1 or out.is_dir() or args.output.endswith(os.sep):
        targets = [out / p.name for p in inputs]
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError("two inputs have the same file name; they would overwrite each other "
                             "in the output directory")
        for t in targets:  # each keeps its input's format: fail before any work
            check_writable(t, "output")
        out.mkdir(parents=True, exist_ok=True)
    else:
        check_writable(out, "-o")  # no or unknown extension: fail before any work
        if not out.parent.exists():
            raise OSError(f"output directory does not exist: {out.parent}")
        targets = [out]
    for src, dst in zip(inputs, targets):
        if src.resolve() == dst.resolve():
            raise OSError(f"refusing to overwrite the input {src}; choose another output")
    if device.type == "cuda":
        return _denoise_on_device(inputs, targets, args.model, device, args.batch_size,
                                  args.precision)
    if args.precision != "float32":
        print(f"hushboard denoise: warning: --precision {args.precision} applies to --device "
              "cuda; the CPU engines run float32", file=sys.stderr)
    for src, dst in zip(inputs, targets):
        t0 = time.perf_counter()
        with _naming(src):
            info = process_file(make(), src, dst, chunk_seconds=args.chunk_seconds,
                                progress=_progress_printer(src.name, not args.no_progress))
        dt = time.perf_counter() - t0
        rtf = dt / info["seconds"] if info["seconds"] else 0.0
        print(f"{src} -> {dst}: {info['seconds']:.1f} s, {info['channels']} ch, "
              f"{info['sample_rate']:g} Hz, {dt:.2f} s (real-time factor {rtf:.4f})")
    return 0


def _denoise_on_device(inputs, targets, model, device, batch_size: int,
                       precision: str = "float32") -> int:
    """``hushboard denoise --device cuda``: files grouped by sample rate, read batch_size files
    at a time, denoised in batches (``hushboard.batch.denoise_batch``), written with their
    input's rate and channels; one throughput line at the end."""
    from hushboard.batch import clock, denoise_batch, load_denoiser_model, throughput_line
    from hushboard.io import audio_info, output_bit_depth, read_audio, write_audio

    infos = [audio_info(p) for p in inputs]  # unreadable: OSError naming the file
    by_rate: dict[float, list[int]] = {}
    for k, info in enumerate(infos):
        by_rate.setdefault(info["sample_rate"], []).append(k)
    models = {}
    total_audio, t_start = 0.0, clock()
    for rate, ks in by_rate.items():
        net = models.get(rate)
        if net is None:
            net = models[rate] = load_denoiser_model(model, sample_rate=rate, device=device)
        for g in range(0, len(ks), batch_size):
            group = ks[g:g + batch_size]
            t0 = clock()
            audio = [read_audio(inputs[k])[0] for k in group]
            ys = denoise_batch(audio, rate, model=net, batch_size=batch_size,
                               precision=precision)
            for k, y in zip(group, ys):
                tmp = targets[k].with_name(f".{targets[k].stem}.partial-{os.getpid()}"
                                           f"{targets[k].suffix}")
                try:
                    write_audio(tmp, y, rate, bit_depth=output_bit_depth(tmp))
                    os.replace(tmp, targets[k])
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
            seconds = sum(infos[k]["seconds"] for k in group)
            total_audio += seconds
            dt = clock() - t0
            for k in group:
                print(f"{inputs[k]} -> {targets[k]}: {infos[k]['seconds']:.1f} s, "
                      f"{infos[k]['channels']} ch, {rate:g} Hz")
            print(f"  batch of {len(group)} file(s): {throughput_line(seconds, dt, device)}")
    print(f"{len(inputs)} file(s): {throughput_line(total_audio, clock() - t_start, device)}")
    return 0


def _cmd_separate(args: argparse.Namespace) -> int:
    """Split songs into stems: OUT/<song>/<stem>.<format>."""
    from pathlib import Path

    import numpy as np

    from hushboard.io import audio_info, output_bit_depth, read_audio, write_audio
    from hushboard.separation import load_separators, separate

    if not 0 <= args.shifts <= 16:
        raise ValueError(f"--shifts must be in [0, 16] (got {args.shifts})")
    if args.overlap_seconds is None:
        args.overlap_seconds = min(1.0, args.chunk_seconds / 4)
    if not args.chunk_seconds > 0 or not 0 <= args.overlap_seconds < args.chunk_seconds:
        raise ValueError(f"need --chunk-seconds > --overlap-seconds >= 0 (got "
                         f"{args.chunk_seconds:g}, {args.overlap_seconds:g})")
    from hushboard.backend import resolve_device
    from hushboard.batch import clock, throughput_line

    device = resolve_device(args.device, "--device")  # no GPU: a warning, then the CPU
    model = load_separators(args.model, device=device)  # no model: fail first
    available = model[-1].config.stems
    two = args.two_stems
    if two is not None:
        if args.stems is not None:
            raise ValueError("give --stems or --two-stems, not both")
        if two not in available:
            raise ValueError(f"--two-stems: unknown stem {two!r}; choose from "
                             f"{','.join(available)}")
        stems = (two, f"no_{two}")
    elif args.stems is None:
        stems = available
    else:
        stems = tuple(dict.fromkeys(s.strip() for s in args.stems.split(",") if s.strip()))
        unknown = [s for s in stems if s not in available]
        if not stems or unknown:
            got = ", ".join(map(repr, unknown)) if unknown else "none given"
            raise ValueError(f"--stems: unknown stem(s) {got}; choose from "
                             f"{','.join(available)}")
    inputs = [Path(p) for p in args.inputs]
    infos = []
    for p in inputs:
        info = audio_info(p)  # missing or unreadable: OSError naming it
        if info["channels"] not in (1, 2) or info["frames"] == 0:
            raise ValueError(f"{p}: separation needs mono or stereo audio with samples (got "
                             f"{info['channels']} channel(s), {info['frames']} frames)")
        infos.append(info)
    out = Path(args.output)
    dirs = [out / p.stem for p in inputs]
    if len({d.name for d in dirs}) != len(dirs):
        raise ValueError("two inputs have the same file name stem; their stems would overwrite "
                         "each other in the output directory")
    resolved_inputs = {p.resolve() for p in inputs}
    for d in dirs:
        for s in stems:
            if (d / f"{s}.{args.format}").resolve() in resolved_inputs:
                raise OSError(f"refusing to overwrite the input {d / f'{s}.{args.format}'}; "
                              "choose another output directory")
    out.mkdir(parents=True, exist_ok=True)
    t_start = clock()
    for src, dst, info in zip(inputs, dirs, infos):
        t0 = time.perf_counter()
        with _naming(src):
            audio, sr = read_audio(src)
            result = separate(audio, sr, model=model, stems=None if two else stems,
                              two_stems=two, wiener=args.wiener,
                              chunk_seconds=args.chunk_seconds,
                              overlap_seconds=args.overlap_seconds, device=device,
                              progress=_progress_printer(src.name, not args.no_progress),
                              precision=args.precision, flip=args.flip, shifts=args.shifts)
        dst.mkdir(exist_ok=True)
        clipped = 0
        for name, y in result.items():
            target = dst / f"{name}.{args.format}"
            tmp = target.with_name(f".{target.stem}.partial-{os.getpid()}{target.suffix}")
            depth = output_bit_depth(target)  # WAV: 32-bit float; FLAC: 24-bit PCM
            try:
                write_audio(tmp, y, sr, bit_depth=depth)
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            if depth != 32:
                clipped += int(np.count_nonzero(np.abs(y) > 1.0))
        dt = time.perf_counter() - t0
        seconds = info["seconds"]
        rtf = dt / seconds if seconds else 0.0
        print(f"{src} -> {dst}{os.sep} ({', '.join(result)}): {seconds:.1f} s, "
              f"{audio.shape[0]} ch, {sr:g} Hz, {dt:.2f} s (real-time factor {rtf:.4f})"
              + (", Wiener" if args.wiener else ""))
        if clipped:
            print(f"hushboard separate: warning: {clipped} sample(s) above full scale clipped "
                  f"in {dst}{os.sep}*.{args.format}; WAV output (32-bit float) keeps them",
                  file=sys.stderr)
    if len(inputs) > 1 or device.type == "cuda":
        total = sum(info["seconds"] for info in infos)
        print(f"{len(inputs)} song(s): {throughput_line(total, clock() - t_start, device)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Denoise the bundled clip; write before/after audio and a spectrogram picture."""
    import importlib.resources
    from pathlib import Path

    from hushboard.fx.spec import make_denoiser
    from hushboard.io import read_audio, write_audio
    from hushboard.metrics import si_snr, snr
    from hushboard.plot import spectrogram_png

    data = importlib.resources.files("hushboard") / "data"
    noisy, sr = read_audio(data / "demo_noisy.flac")
    clean, _ = read_audio(data / "demo_clean.flac")
    fx = make_denoiser(args.model)
    t0 = time.perf_counter()
    out = fx.process(noisy, sr)
    dt = time.perf_counter() - t0
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    write_audio(outdir / "demo_noisy.wav", noisy, sr)
    write_audio(outdir / "demo_denoised.wav", out, sr)
    spectrogram_png(outdir / "demo_spectrogram.png", [noisy[0], out[0]], sr)
    seconds = noisy.shape[1] / sr
    print(f"{fx!r}")
    print(f"clip: {seconds:.1f} s of speech (espeak-ng) with pink noise, mains hum and fan noise, "
          f"{sr:g} Hz")
    print(f"SNR     {snr(clean, noisy):5.1f} dB -> {snr(clean, out):5.1f} dB")
    print(f"SI-SNR  {si_snr(clean[0], noisy[0]):5.1f} dB -> {si_snr(clean[0], out[0]):5.1f} dB")
    print(f"time    {dt * 1e3:.1f} ms (real-time factor {dt / seconds:.4f}), latency "
          f"{fx.latency_samples} samples ({1e3 * fx.latency_samples / sr:.1f} ms) when streaming")
    print(f"wrote {outdir / 'demo_noisy.wav'}, {outdir / 'demo_denoised.wav'}, "
          f"{outdir / 'demo_spectrogram.png'} (top: noisy, bottom: denoised)")
    return 0


def _device(value: str | None):
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _cmd_live(args: argparse.Namespace) -> int:
    from hushboard import live
    from hushboard.fx.spec import make_denoiser, parse_chain

    if args.list_devices:
        print(live.list_devices())
        return 0
    effect = parse_chain(args.chain, args.model) if args.chain else make_denoiser(args.model)
    print(f"live: {effect!r}; Ctrl-C stops" + (f" (recording to {args.record})" if args.record
                                                else ""))
    stats = live.run(effect, duration=args.duration, sample_rate=args.samplerate,
                     block_size=args.blocksize, channels=args.channels,
                     input_device=_device(args.input), output_device=_device(args.output),
                     record=args.record)
    print(f"done: {stats.line()}")
    if stats.errors:
        print(f"hushboard live: {stats.callback_errors} block(s) failed: {stats.errors[0]}",
              file=sys.stderr)
        return 1
    return 0


MODEL_HELP = ("denoiser: default (the best shipped trained model for the audio's sample rate; "
              "see `hushboard info`), a shipped model by name, wiener, gate, or a DCCRN or BSRNN "
              "weights file (*.safetensors, run by the C++ engine at its own sample rate)")


def build_parser() -> argparse.ArgumentParser:
    from hushboard import __version__

    p = argparse.ArgumentParser(
        prog="hushboard",
        description="Neural speech denoising and source separation as low-latency audio effects.",
    )
    p.add_argument("--version", action="version", version=f"hushboard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    pi = sub.add_parser("info", help="version, build flags, SIMD path, threads and GPU")
    pi.add_argument("--json", action="store_true", help="print machine-readable JSON")
    pi.set_defaults(func=_cmd_info)
    pc = sub.add_parser("check", help="STFT round trip on a generated signal against torch")
    pc.add_argument("--sample-rate", type=int, default=16000)
    pc.add_argument("--seconds", type=float, default=10.0)
    pc.add_argument("--batch", type=int, default=4)
    pc.add_argument("--n-fft", type=int, default=512)
    pc.add_argument("--hop-length", type=int, default=128)
    pc.set_defaults(func=_cmd_check)
    pd = sub.add_parser("denoise", help="denoise audio files (WAV, FLAC, and what pedalboard.io reads)")
    pd.add_argument("inputs", nargs="+", metavar="IN", help="input audio files")
    pd.add_argument("-o", "--output", required=True, metavar="OUT_OR_DIR",
                    help="output file (one input) or directory")
    pd.add_argument("--model", default="default", help=MODEL_HELP)
    pd.add_argument("--chain", default=None, metavar="SPEC",
                    help="effects around the model, e.g. 'highpass:80,denoise,gain:3' "
                         "(items: denoise, wiener[:floor_db], gate[:n_std], gain:db, "
                         "highpass:hz, lowpass:hz, compressor[:thr_db[:ratio]], limiter[:thr_db], "
                         "rebalance[:vocals_db[:drums_db[:bass_db[:other_db]]]]: a song's "
                         "stems at these gains, -inf mutes, e.g. 'rebalance:-inf' for karaoke)")
    pd.add_argument("--chunk-seconds", type=float, default=10.0,
                    help="audio read and processed per step (memory bound)")
    pd.add_argument("--device", default="cpu", metavar="DEV",
                    help="cpu (default: the streaming C++ engines) or cuda (whole files in "
                         "batches through the model on the GPU; falls back to the CPU with a "
                         "warning when no GPU or no CUDA build)")
    pd.add_argument("--batch-size", type=int, default=16, metavar="N",
                    help="with --device cuda: files read at a time, and channels per batch "
                         "(default 16)")
    pd.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"],
                    help="with --device cuda: bfloat16/float16 run the model's GEMMs under "
                         "autocast (hushboard's fused ops stay float32); default float32")
    pd.add_argument("--no-progress", action="store_true",
                    help="no progress bar (shown only on a terminal anyway)")
    pd.set_defaults(func=_cmd_denoise)
    ps = sub.add_parser("separate", help="split songs into stems (vocals, drums, bass, other)")
    ps.add_argument("inputs", nargs="+", metavar="SONG", help="input audio files (mono/stereo)")
    ps.add_argument("-o", "--output", required=True, metavar="DIR",
                    help="output directory: writes DIR/<song>/<stem>.<format> at the song's "
                         "sample rate and channel count")
    ps.add_argument("--stems", default=None, metavar="LIST",
                    help="comma-separated stems to write (default: all the model's, "
                         "vocals,drums,bass,other)")
    ps.add_argument("--two-stems", default=None, metavar="STEM",
                    help="write STEM and no_STEM, the sum of the other stems (e.g. "
                         "--two-stems vocals: the vocals and the song without them)")
    ps.add_argument("--model", default="default",
                    help="separator: default (the shipped one; see `hushboard info`), a "
                         "shipped separator by name, or a BSRNN separator weights file "
                         "(*.safetensors); A+B is a bag: the stems of B, each from the first "
                         "of A, B that has it")
    ps.add_argument("--device", default="cpu", metavar="DEV",
                    help="cpu (default) or cuda (chunks in batches on the GPU; falls back to "
                         "the CPU with a warning when no GPU or no CUDA build)")
    ps.add_argument("--wiener", action="store_true",
                    help="multichannel Wiener post-filter over the stems (stems then sum to "
                         "the mix)")
    ps.add_argument("--format", default="wav", choices=["wav", "flac"],
                    help="wav: 32-bit float (no clipping); flac: 24-bit (clipped at full "
                         "scale)")
    ps.add_argument("--chunk-seconds", type=float, default=10.0,
                    help="audio separated per step (memory bound; default 10)")
    ps.add_argument("--overlap-seconds", type=float, default=None,
                    help="cross-fade between chunks (default 1, at most a quarter chunk)")
    ps.add_argument("--flip", action="store_true",
                    help="also separate the stereo mix with its channels swapped and average "
                         "(test-time augmentation: better stems, twice the time)")
    ps.add_argument("--shifts", type=int, default=0, metavar="N",
                    help="also separate N copies delayed by a fraction of a hop and average "
                         "(test-time augmentation: N + 1 times the time; default 0)")
    ps.add_argument("--no-progress", action="store_true",
                    help="no progress bar (shown only on a terminal anyway)")
    ps.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"],
                    help="bfloat16/float16 run the network's GEMMs under autocast (for a GPU; "
                         "hushboard's fused ops stay float32); default float32")
    ps.set_defaults(func=_cmd_separate)
    pm = sub.add_parser("demo", help="denoise the bundled noisy speech clip; write audio and a "
                                     "spectrogram")
    pm.add_argument("-o", "--output", default="hushboard-demo", metavar="DIR",
                    help="where to write (default: ./hushboard-demo)")
    pm.add_argument("--model", default="default", help=MODEL_HELP)
    pm.set_defaults(func=_cmd_demo)
    pl = sub.add_parser("live", help="denoise a microphone live (duplex audio through PortAudio)")
    pl.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    pl.add_argument("--input", default=None, metavar="DEV", help="input device (id or name)")
    pl.add_argument("--output", default=None, metavar="DEV", help="output device (id or name)")
    pl.add_argument("--model", default="default", help=MODEL_HELP)
    pl.add_argument("--chain", default=None, metavar="SPEC", help="as for `denoise`")
    pl.add_argument("--samplerate", type=float, default=None, help="default: the device's")
    pl.add_argument("--blocksize", type=int, default=256, help="frames per block (default 256)")
    pl.add_argument("--channels", type=int, default=1)
    pl.add_argument("--record", default=None, metavar="FILE", help="also write the output here")
    pl.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl-C)")
    pl.set_defaults(func=_cmd_live)
    from hushboard.eval.command import add_parser as _add_eval

    _add_eval(sub)  # hushboard eval: metrics against clean files, peers in the same run
    from hushboard.data.cli import add_data_parser

    add_data_parser(sub)  # hushboard data speech|noise|testset: the training corpus
    from hushboard.train.cli import add_train_parser

    add_train_parser(sub)  # hushboard train PRESET --data DIR --out DIR
    from hushboard.benchmark import add_bench_parser

    add_bench_parser(sub)  # hushboard bench: speed of a model here (CPU streaming, GPU)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError) as exc:
        print(f"hushboard {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
