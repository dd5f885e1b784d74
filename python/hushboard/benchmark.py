"""``hushboard bench``: how fast a model runs on this machine, the way users run it.

Denoisers: the streaming effect (``hushboard.Denoise``, the C++ engine) block by block, as
``hushboard live`` and a plugin host drive it (median and 99th-percentile time per block against
the block's duration, real-time factor), then offline (whole file). With ``device="cuda"``:
``hushboard.StreamServer`` (one CUDA graph per hop) for each number of concurrent streams, and
batch denoising throughput (``hushboard denoise --device cuda``). Separators: ``separate`` of a
stereo clip (real-time factor). The audio is generated (a modulated tone in noise), so the
figures depend only on the model, the machine and the settings.

The ``bench/`` scripts of the repository compare hushboard with PyTorch and peers; this command
measures hushboard alone, anywhere it is installed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["add_bench_parser", "run_bench"]


def _signal(seconds: float, sample_rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))
    x = tone[None] + 0.1 * rng.standard_normal((channels, t.size))
    return x.astype(np.float32)


def _stats(times: Sequence[float]) -> dict[str, float]:
    a = np.asarray(times, float)
    return {"median_s": float(np.median(a)), "p99_s": float(np.quantile(a, 0.99)),
            "max_s": float(a.max())}


def _bench_stream(name: str, sample_rate: int, seconds: float, block: int) -> dict[str, Any]:
    from hushboard.fx.model import Denoise

    fx = Denoise(name)
    x = _signal(seconds, sample_rate)
    n_blocks = x.shape[1] // block
    if n_blocks < 1:
        raise ValueError(f"--seconds {seconds:g} holds no block of {block} samples")
    fx.process(x[:, :block], sample_rate, reset=True)  # configure, warm the caches
    fx.reset()
    times = []
    for i in range(n_blocks):
        b = x[:, i * block:(i + 1) * block]
        t0 = time.perf_counter()
        fx.process(b, sample_rate, buffer_size=block, reset=False)
        times.append(time.perf_counter() - t0)
    dur = block / sample_rate
    st = _stats(times)
    t0 = time.perf_counter()
    fx.process(x, sample_rate)
    offline = time.perf_counter() - t0
    return {"model": fx.chosen, "latency_samples": int(fx.latency_samples), "block": block,
            "block_seconds": dur, **st, "rtf_stream": float(np.sum(times)) / (n_blocks * dur),
            "load_p99": st["p99_s"] / dur, "rtf_offline": offline / (x.shape[1] / sample_rate)}


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _bench_server(name: str, sample_rate: int, streams: int, dev, hops: int) -> dict[str, Any]:
    import torch

    from hushboard.serve import StreamServer

    srv = StreamServer(name, streams, device=dev, sample_rate=sample_rate)
    hop = srv.hop_length
    x = torch.from_numpy(_signal(hop / srv.sample_rate, srv.sample_rate, streams)).to(dev)
    for _ in range(5):
        srv.process(x)
    times = []
    for _ in range(hops):
        _sync(dev)
        t0 = time.perf_counter()
        srv.process(x)
        _sync(dev)
        times.append(time.perf_counter() - t0)
    st = _stats(times)
    hop_s = hop / srv.sample_rate
    return {"streams": streams, "graph": srv.graph, "hop": hop, "hop_seconds": hop_s, **st,
            "per_stream_s": st["median_s"] / streams, "duty": st["median_s"] / hop_s}


def _bench_batch(name: str, sample_rate: int, seconds: float, dev, items: int
                 ) -> dict[str, Any]:
    from hushboard.batch import clock, denoise_batch, load_denoiser_model

    net = load_denoiser_model(name, sample_rate=sample_rate, device=dev)
    sigs = [_signal(seconds, sample_rate, seed=i)[0] for i in range(items)]
    denoise_batch(sigs[:1], sample_rate, model=net)  # warm-up
    t0 = clock()
    denoise_batch(sigs, sample_rate, model=net, batch_size=items)
    dt = clock() - t0
    audio = seconds * items
    return {"items": items, "seconds_each": seconds, "wall_s": dt,
            "audio_hours_per_minute": (audio / 3600) / (dt / 60), "rtf": dt / audio}


def _bench_separator(name: str, seconds: float, dev) -> dict[str, Any]:
    from hushboard.separation import load_separator, separate

    net = load_separator(name, device=dev)
    sr = net.config.sample_rate
    x = _signal(seconds, sr, channels=2)
    separate(x[:, :sr], sr, model=net, device=dev)  # warm-up
    _sync(dev)
    t0 = time.perf_counter()
    separate(x, sr, model=net, device=dev)
    _sync(dev)
    dt = time.perf_counter() - t0
    return {"model": name, "seconds": seconds, "wall_s": dt, "rtf": dt / seconds}


def run_bench(model: str = "default", *, sample_rate: int = 16000, seconds: float = 10.0,
              block: int = 256, threads: int = 1, device: Any = "cpu",
              streams: Sequence[int] = (1, 16, 256), hops: int = 200,
              log=print) -> dict[str, Any]:
    """Measure ``model`` here (see the module docstring); returns the figures, and prints a
    line per measurement through ``log`` (None: quiet)."""
    import torch

    from hushboard.backend import get_num_threads, resolve_device, set_num_threads

    say = log or (lambda *_a, **_k: None)
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= 3600):
        raise ValueError(f"seconds must be in (0, 3600] (got {seconds!r})")
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= 65536:
        raise ValueError(f"block must be an int in [1, 65536] (got {block!r})")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1 (got {threads!r})")
    if not streams or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                          for s in streams):
        raise ValueError(f"streams must be positive ints (got {list(streams)!r})")
    dev = resolve_device(device)
    before = (get_num_threads(), torch.get_num_threads())
    set_num_threads(threads)
    torch.set_num_threads(threads)
    try:
        return _run(model, sample_rate, seconds, block, threads, dev, streams, hops, say)
    finally:
        set_num_threads(before[0])
        torch.set_num_threads(before[1])


def _run(model, sample_rate, seconds, block, threads, dev, streams, hops, say) -> dict[str, Any]:
    import torch

    from hushboard import __version__
    from hushboard.backend import build_info
    from hushboard.separation import shipped_separators

    info = build_info()
    out: dict[str, Any] = {"hushboard": __version__, "torch": torch.__version__,
                           "cpu_simd": info.cpu_simd, "threads": threads, "device": str(dev),
                           "gpu": info.cuda_devices[0] if dev.type == "cuda" else None}
    say(f"hushboard {__version__}, torch {torch.__version__}, CPU {info.cpu_simd}, "
        f"{threads} thread(s)" + (f", GPU {out['gpu']}" if out["gpu"] else ""))
    if model in shipped_separators() or model == "separator":
        name = next(iter(shipped_separators())) if model == "separator" else model
        r = out["separation"] = _bench_separator(name, seconds, dev)
        say(f"separate ({name}, {dev}): {seconds:g} s of stereo in {r['wall_s']:.2f} s, "
            f"real-time factor {r['rtf']:.4f}")
        return out
    from hushboard.fx.model import default_model

    name = default_model(sample_rate) if model == "default" else model
    r = out["stream"] = _bench_stream(name, sample_rate, seconds, block)
    ms = 1000.0 / sample_rate
    say(f"{name} streaming at {sample_rate} Hz, blocks of {block} ({r['block_seconds'] * 1e3:.1f}"
        f" ms), latency {r['latency_samples']} samples ({r['latency_samples'] * ms:.1f} ms):")
    say(f"  per block: median {r['median_s'] * 1e6:.0f} us, p99 {r['p99_s'] * 1e6:.0f} us, max "
        f"{r['max_s'] * 1e6:.0f} us ({100 * r['load_p99']:.1f} % of the block's time at p99)")
    say(f"  real-time factor {r['rtf_stream']:.4f} streaming, {r['rtf_offline']:.4f} offline")
    if dev.type == "cuda":
        from hushboard.fx.model import MODELS

        if name in MODELS:
            say(f"{name} is a classic spectral denoiser: it has no GPU path")
            return out
        out["server"] = []
        for n in streams:
            s = _bench_server(name, sample_rate, n, dev, hops)
            out["server"].append(s)
            say(f"StreamServer, {n} stream(s): median {s['median_s'] * 1e6:.0f} us per hop of "
                f"{s['hop_seconds'] * 1e3:.1f} ms ({s['per_stream_s'] * 1e6:.1f} us per stream, "
                f"{100 * s['duty']:.1f} % of real time), p99 {s['p99_s'] * 1e6:.0f} us, "
                f"graph {s['graph']}")
        b = out["batch"] = _bench_batch(name, sample_rate, seconds, dev, 16)
        say(f"batch denoising, 16 x {seconds:g} s: {b['wall_s']:.2f} s, "
            f"{b['audio_hours_per_minute']:.2f} audio hours per device minute")
    return out


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="how fast a model runs here (streaming, offline, GPU)",
                       description="How fast a model runs on this machine, the way users "
                                   "run it: streaming blocks and offline on the CPU; with "
                                   "--device cuda also the GPU stream server and batch "
                                   "throughput. --model separator times music separation.")
    p.add_argument("--model", default="default",
                   help="default (the shipped model for --sample-rate), a shipped denoiser or "
                        "separator by name, wiener, gate, or a weights file")
    p.add_argument("--sample-rate", type=int, default=16000, help="stream rate (default 16000)")
    p.add_argument("--seconds", type=float, default=10.0, help="audio per measurement (10)")
    p.add_argument("--block", type=int, default=256, help="streaming block size (256)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (1)")
    p.add_argument("--device", default="cpu", help="cpu, or cuda to add the GPU paths")
    p.add_argument("--streams", default="1,16,256",
                   help="with --device cuda: concurrent streams to time (1,16,256)")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    try:
        streams = [int(s) for s in args.streams.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--streams must be comma-separated ints (got {args.streams!r})") from None
    res = run_bench(args.model, sample_rate=args.sample_rate, seconds=args.seconds,
                    block=args.block, threads=args.threads, device=args.device, streams=streams)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=2)
    return 0
