"""hushboard STFT / iSTFT vs their PyTorch forms.

    python bench/bench_stft.py [--quick] [--threads 1,2] [--device cpu|cuda] [--out FILE.md]

Every case times hushboard and its PyTorch form interleaved (round-robin, same process) and
prints the median time, the ratio torch time / hushboard time (> 1: hushboard is faster), and
the case's floor: max(memory floor, FFT FLOP floor), see the header of the output.

Offline cases (CPU, or CUDA with --device cuda): complex STFT, STFT + power-law compression
(power 0.3), magnitude, iSTFT, iSTFT with decompression. Streaming cases (CPU): per-hop
analysis (StftStream, compressed) and analysis + synthesis (StftRoundTrip) vs per-frame
torch.fft / numpy.fft loops in Python.

--quick: short signals, few repeats (seconds); for smoke tests, not for numbers.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass

import hushboard.ops as hbo
import numpy as np
import torch
from hushboard.backend import build_info
from hushboard.ops._native import _C
from hushboard.streaming import StftRoundTrip, StftStream

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H

POWER = 0.3
EPS = 1e-12
TABLE_MARK = "| case "  # start of every results table's header row (the smoke test looks for it)


# ---- configurations -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    sr: int
    n_fft: int
    hop: int
    win: int

    @property
    def label(self) -> str:
        w = f" win {self.win}" if self.win != self.n_fft else ""
        return f"{self.sr // 1000} kHz, n_fft {self.n_fft}{w} hop {self.hop}"

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1


OFFLINE = [
    Config(16000, 512, 128, 512),
    Config(16000, 512, 256, 512),
    Config(16000, 512, 100, 400),
    Config(48000, 960, 480, 960),
    Config(48000, 2048, 512, 2048),
]
STREAMING = [Config(16000, 512, 128, 512), Config(48000, 960, 480, 960)]
CPU_BATCHES = (1, 16)
CUDA_BATCHES = (16, 64)
QUICK_CPU_BATCHES = (1, 4)
QUICK_CUDA_BATCHES = (4, 16)


def batches_for(device: str, quick: bool) -> tuple[int, ...]:
    if device == "cuda":
        return QUICK_CUDA_BATCHES if quick else CUDA_BATCHES
    return QUICK_CPU_BATCHES if quick else CPU_BATCHES


# ---- floors -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Machine:
    bandwidth: dict[int, float]  # threads -> bytes/s (CPU); {0: bytes/s} for CUDA
    peak_per_thread: float  # flop/s (CPU: per thread; CUDA: whole device)
    cores: int
    cuda: bool = False

    def bw(self, threads: int) -> float:
        if self.cuda:
            return self.bandwidth[0]
        return self.bandwidth.get(threads, self.bandwidth[min(self.bandwidth)])

    def peak(self, threads: int) -> float:
        if self.cuda:
            return self.peak_per_thread
        return self.peak_per_thread * max(1, min(threads, self.cores))


def fft_flops(n: int, frames: int) -> float:
    """5 N log2 N / 2 flops per real FFT of size N (the usual split-radix-ish count)."""
    return frames * 2.5 * n * math.log2(n)


def floors(m: Machine, threads: int, nbytes: float, flops: float) -> tuple[float, float, float]:
    mem = nbytes / m.bw(threads)
    fl = flops / m.peak(threads)
    return mem, fl, max(mem, fl)


# ---- the PyTorch forms --------------------------------------------------------------------------
def torch_compress(X: torch.Tensor, power: float) -> torch.Tensor:
    mag = X.abs()
    return mag.pow(power) * X / mag.clamp_min(EPS)


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    d = (a - b).abs().max().item()
    s = b.abs().max().item()
    return d / s if s > 0 else d


def offline_cases(cfg: Config, batch: int, device: str, seconds: float, gen: torch.Generator):
    """[(case name, hushboard fn, torch fn, bytes, flops)] for one configuration."""
    length = round(seconds * cfg.sr)
    x = torch.randn(batch, length, generator=gen).to(device)
    w = torch.hann_window(cfg.win, device=device)
    n, hop, wl = cfg.n_fft, cfg.hop, cfg.win
    frames = hbo.stft_num_frames(length, n, hop)
    bins = cfg.bins
    sig_b = batch * length * 4
    cplx_b = batch * bins * frames * 8
    real_b = batch * bins * frames * 4
    fl = fft_flops(n, batch * frames)

    def t_stft():
        return torch.stft(x, n, hop, wl, w, return_complex=True)

    X_t = t_stft()  # torch.stft's own output: a frames-major (transposed) view
    X = X_t.contiguous()  # C-contiguous (batch, bins, frames), as hushboard.stft returns
    Y = hbo.stft(x, n, hop, wl, window=w, output="compressed", power=POWER)
    return [
        ("STFT complex",
         lambda: hbo.stft(x, n, hop, wl, window=w),
         t_stft, sig_b + cplx_b, fl),
        (f"STFT compressed (p={POWER})",
         lambda: hbo.stft(x, n, hop, wl, window=w, output="compressed", power=POWER),
         lambda: torch_compress(t_stft(), POWER), sig_b + cplx_b, fl),
        ("STFT magnitude",
         lambda: hbo.stft(x, n, hop, wl, window=w, output="magnitude"),
         lambda: t_stft().abs(), sig_b + real_b, fl),
        ("iSTFT",
         lambda: hbo.istft(X, n, hop, wl, window=w, length=length),
         lambda: torch.istft(X, n, hop, wl, w, length=length), cplx_b + sig_b, fl),
        ("iSTFT, torch.stft layout",
         lambda: hbo.istft(X_t, n, hop, wl, window=w, length=length),
         lambda: torch.istft(X_t, n, hop, wl, w, length=length), cplx_b + sig_b, fl),
        (f"iSTFT decompress (p={POWER})",
         lambda: hbo.istft(Y, n, hop, wl, window=w, length=length, input="compressed",
                           power=POWER),
         lambda: torch.istft(torch_compress(Y, 1.0 / POWER), n, hop, wl, w, length=length),
         cplx_b + sig_b, fl),
    ]


def run_offline(args, settings: H.Settings, m: Machine, seconds: float, progress) -> list[dict]:
    device = args.device
    cuda = device == "cuda"
    batches = batches_for(device, args.quick)
    thread_list = [0] if cuda else args.threads
    gen = torch.Generator().manual_seed(0)
    results = []
    for threads in thread_list:
        if not cuda:
            H.set_threads(threads)
        for cfg in OFFLINE:
            for batch in batches:
                if args.only and not any(s in cfg.label for s in args.only):
                    continue
                t0 = time.perf_counter()
                for name, hb_fn, th_fn, nbytes, flops in offline_cases(cfg, batch, device,
                                                                       seconds, gen):
                    err = rel_diff(hb_fn(), th_fn())  # the check call is the warm-up
                    st = H.compare({"hushboard": hb_fn, "torch": th_fn}, settings, warmup=0,
                                   cuda=cuda)
                    mem, fl, floor = floors(m, threads, nbytes, flops)
                    results.append({"case": name, "config": cfg.label, "batch": batch,
                                    "threads": threads, "hb": st["hushboard"],
                                    "th": st["torch"], "mem": mem, "flop": fl, "floor": floor,
                                    "err": err})
                where = "CUDA" if cuda else f"{threads} thread(s)"
                progress(f"{cfg.label}, batch {batch}, {where}: "
                         f"{time.perf_counter() - t0:.1f} s")
    return results


# ---- streaming ----------------------------------------------------------------------------------
class TorchAnalysis:
    """Per hop: shift the frame buffer, window, rfft, power-law compression (torch ops)."""

    def __init__(self, cfg: Config):
        self.hop = cfg.hop
        self.buf = torch.zeros(cfg.n_fft)
        self.win = torch.hann_window(cfg.n_fft)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        self.buf = torch.cat((self.buf[self.hop:], torch.from_numpy(h)))
        X = torch.fft.rfft(self.buf * self.win)
        mag = X.abs()
        return (mag.pow(POWER) * X / mag.clamp_min(EPS)).numpy()


class NumpyAnalysis:
    def __init__(self, cfg: Config):
        self.hop = cfg.hop
        self.buf = np.zeros(cfg.n_fft, dtype=np.float32)
        self.win = torch.hann_window(cfg.n_fft).numpy()

    def __call__(self, h: np.ndarray) -> np.ndarray:
        self.buf = np.concatenate((self.buf[self.hop:], h))
        X = np.fft.rfft(self.buf * self.win)
        mag = np.abs(X)
        return mag ** POWER * X / np.maximum(mag, EPS)


def _ola_envelope(win: np.ndarray, hop: int) -> np.ndarray:
    n = len(win)
    return np.array([sum(win[j + k] ** 2 for k in range(0, n - j, hop)) for j in range(hop)],
                    dtype=np.float32)


class TorchRoundTrip:
    """Per hop: analysis (as TorchAnalysis, uncompressed), irfft, synthesis window, overlap-add,
    divide by the steady-state window envelope, emit ``hop`` samples (delay n_fft - hop)."""

    def __init__(self, cfg: Config):
        self.hop, self.n = cfg.hop, cfg.n_fft
        self.buf = torch.zeros(cfg.n_fft)
        self.ola = torch.zeros(cfg.n_fft)
        self.zeros = torch.zeros(cfg.hop)
        self.win = torch.hann_window(cfg.n_fft)
        self.env = torch.from_numpy(_ola_envelope(self.win.numpy(), cfg.hop))

    def __call__(self, h: np.ndarray) -> np.ndarray:
        self.buf = torch.cat((self.buf[self.hop:], torch.from_numpy(h)))
        X = torch.fft.rfft(self.buf * self.win)
        y = torch.fft.irfft(X, n=self.n) * self.win
        self.ola += y
        out = self.ola[: self.hop] / self.env
        self.ola = torch.cat((self.ola[self.hop:], self.zeros))
        return out.numpy()


class NumpyRoundTrip:
    def __init__(self, cfg: Config):
        self.hop, self.n = cfg.hop, cfg.n_fft
        self.buf = np.zeros(cfg.n_fft, dtype=np.float32)
        self.ola = np.zeros(cfg.n_fft, dtype=np.float32)
        self.zeros = np.zeros(cfg.hop, dtype=np.float32)
        self.win = torch.hann_window(cfg.n_fft).numpy()
        self.env = _ola_envelope(self.win, cfg.hop)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        self.buf = np.concatenate((self.buf[self.hop:], h))
        X = np.fft.rfft(self.buf * self.win)
        y = np.fft.irfft(X, n=self.n) * self.win
        self.ola += y
        out = self.ola[: self.hop] / self.env
        self.ola = np.concatenate((self.ola[self.hop:], self.zeros))
        return out


def _check_streaming(cfg: Config, rng: np.random.Generator) -> tuple[float, float]:
    """Max relative differences: analysis frames (torch vs hushboard, after the buffer fills),
    and round trip reconstruction (torch form vs its delayed input, hushboard vs its delayed
    input)."""
    n, hop = cfg.n_fft, cfg.hop
    hops = 3 * n // hop + 4
    sig = rng.standard_normal(hops * hop).astype(np.float32)
    hb = StftStream(n, hop, window="hann", center=False, output="compressed", power=POWER)
    ta = TorchAnalysis(cfg)
    err_a = 0.0
    for k in range(hops):
        h = sig[k * hop:(k + 1) * hop]
        a, b = hb.process(h), ta(h)
        if (k + 1) * hop >= n:
            assert a.shape[-1] == 1, a.shape
            err_a = max(err_a, rel_diff(torch.from_numpy(a[:, 0]), torch.from_numpy(b)))
    err_r = 0.0
    for rt, delay in ((StftRoundTrip(n, hop), None), (TorchRoundTrip(cfg), n - hop),
                      (NumpyRoundTrip(cfg), n - hop)):
        delay = rt.latency_samples if delay is None else delay
        out = np.concatenate([rt(sig[k * hop:(k + 1) * hop]) for k in range(hops)])
        ref = sig[: len(sig) - delay]
        got = out[delay:]
        skip = n  # ramp-up
        err_r = max(err_r, float(np.abs(got[skip:] - ref[skip:]).max() / np.abs(ref).max()))
    return err_a, err_r


def run_streaming(args, settings: H.Settings, m: Machine, progress) -> list[dict]:
    threads = min(args.threads)
    H.set_threads(threads)
    rng = np.random.default_rng(0)
    results = []
    for cfg in STREAMING:
        if args.only and not any(s in cfg.label for s in args.only):
            continue
        t0 = time.perf_counter()
        n, hop = cfg.n_fft, cfg.hop
        err_a, err_r = _check_streaming(cfg, rng)
        h = rng.standard_normal(hop).astype(np.float32)

        hb_a = StftStream(n, hop, window="hann", output="compressed", power=POWER)
        hb_a.process(rng.standard_normal(2 * n).astype(np.float32))  # prime: 1 frame per hop
        assert hb_a.process(h).shape == (cfg.bins, 1)
        ta, na = TorchAnalysis(cfg), NumpyAnalysis(cfg)
        st = H.compare({"hushboard": lambda s=hb_a, h=h: s.process(h),
                        "torch": lambda f=ta, h=h: f(h), "numpy": lambda f=na, h=h: f(h)},
                       settings)
        nbytes = hop * 4 + cfg.bins * 8
        mem, fl, floor = floors(m, 1, nbytes, fft_flops(n, 1))
        # the same stream timed inside C++ (no Python per hop): what an engine or effect pays
        win = torch.hann_window(n).numpy()
        hops, rounds = (200, 3) if args.quick else (4000, 9)
        cpp_a = float(np.median(_C.stream_cost_ns(n, hop, win, 2, POWER, "analysis", hops, rounds)))
        cpp_r = float(np.median(_C.stream_cost_ns(n, hop, win, 0, 1.0, "roundtrip", hops, rounds)))
        results.append({"case": f"stream analysis, compressed (p={POWER})", "cpp_us": cpp_a / 1e3,
                        "config": cfg.label, "threads": threads, "hb": st["hushboard"],
                        "th": st["torch"], "np": st["numpy"], "mem": mem, "flop": fl,
                        "floor": floor, "err": err_a})

        hb_r = StftRoundTrip(n, hop)
        tr, nr = TorchRoundTrip(cfg), NumpyRoundTrip(cfg)
        st = H.compare({"hushboard": lambda s=hb_r, h=h: s.process(h),
                        "torch": lambda f=tr, h=h: f(h), "numpy": lambda f=nr, h=h: f(h)},
                       settings)
        mem, fl, floor = floors(m, 1, hop * 8, fft_flops(n, 2))
        results.append({"case": "stream analysis + synthesis", "config": cfg.label,
                        "cpp_us": cpp_r / 1e3,
                        "threads": threads, "hb": st["hushboard"], "th": st["torch"],
                        "np": st["numpy"], "mem": mem, "flop": fl, "floor": floor,
                        "err": err_r})
        progress(f"streaming {cfg.label}: {time.perf_counter() - t0:.1f} s")
    return results


# ---- tables -------------------------------------------------------------------------------------
def _spread(s: H.Stats, unit: str) -> str:
    return f"{H.fmt_time(s.median, unit)} ({H.fmt_time(s.p10, unit)}–{H.fmt_time(s.p90, unit)})"


def offline_table(rows: list[dict], cuda: bool) -> str:
    headers = ["case", "config", "batch", "threads", "hushboard ms (p10–p90)",
               "torch ms (p10–p90)", "torch/hb", "mem floor ms", "FLOP floor ms", "floor ms",
               "hb/floor", "torch/floor", "rel diff"]
    body = []
    for r in rows:
        hb, th = r["hb"].median, r["th"].median
        body.append([r["case"], r["config"], r["batch"], "GPU" if cuda else r["threads"],
                     _spread(r["hb"], "ms"), _spread(r["th"], "ms"), f"{th / hb:.2f}",
                     H.fmt_time(r["mem"]), H.fmt_time(r["flop"]), H.fmt_time(r["floor"]),
                     f"{hb / r['floor']:.1f}", f"{th / r['floor']:.1f}", f"{r['err']:.1e}"])
    return H.markdown_table(headers, body, "ll" + "r" * (len(headers) - 2))


def streaming_table(rows: list[dict]) -> str:
    headers = ["case", "config", "threads", "hushboard C++ µs/hop", "hushboard µs/hop (p10–p90)",
               "torch µs/hop (p10–p90)", "numpy µs/hop (p10–p90)", "torch/hb", "numpy/hb",
               "mem floor µs", "FLOP floor µs", "floor µs", "hb/floor", "rel diff"]
    body = []
    for r in rows:
        hb, th, nm = r["hb"].median, r["th"].median, r["np"].median
        body.append([r["case"], r["config"], r["threads"], f"{r['cpp_us']:.2f}",
                     _spread(r["hb"], "us"),
                     _spread(r["th"], "us"), _spread(r["np"], "us"), f"{th / hb:.2f}",
                     f"{nm / hb:.2f}", H.fmt_time(r["mem"], "us"), H.fmt_time(r["flop"], "us"),
                     H.fmt_time(r["floor"], "us"), f"{hb / r['floor']:.0f}", f"{r['err']:.1e}"])
    return H.markdown_table(headers, body, "ll" + "r" * (len(headers) - 2))


def summary_table(rows: list[dict]) -> str:
    """Per case: geometric-mean ratio torch/hb over configurations, its range, and how many
    configurations hushboard lost."""
    by_case: dict[str, list[float]] = {}
    for r in rows:
        by_case.setdefault(r["case"], []).append(r["th"].median / r["hb"].median)
    body = []
    for case, rs in by_case.items():
        g = math.exp(sum(math.log(v) for v in rs) / len(rs))
        body.append([case, len(rs), f"{g:.2f}", f"{min(rs):.2f}", f"{max(rs):.2f}",
                     sum(v < 1 for v in rs)])
    return H.markdown_table(["case", "runs", "torch/hb (geo-mean)", "min", "max",
                             "hb slower"], body)


# ---- main ---------------------------------------------------------------------------------------
def _parse_threads(s: str) -> list[int]:
    try:
        out = [int(v) for v in s.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads wants integers like 1,2 (got {s!r})")
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"--threads wants positive integers (got {s!r})")
    return out


def _cuda_machine(quick: bool) -> tuple[Machine, list[tuple[str, str]]]:
    peak, bw, extra = H.cuda_machine(quick)
    return Machine({0: bw}, peak, 1, cuda=True), extra


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short signals, few repeats")
    p.add_argument("--threads", type=_parse_threads, default=[1, 2],
                   help="comma-separated thread counts for the CPU cases (default 1,2)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--out", help="also write the Markdown report to this file")
    p.add_argument("--ghz", type=float, default=None,
                   help="clock for the FLOP floor (default: /proc/cpuinfo 'cpu MHz')")
    p.add_argument("--only", action="append", default=[],
                   help="run only configurations whose label contains this (repeatable), "
                        "e.g. --only '48 kHz'")
    p.add_argument("--no-streaming", action="store_true", help="skip the streaming cases")
    args = p.parse_args(argv)

    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def progress(msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    def write_out() -> None:
        if args.out:
            d = os.path.dirname(os.path.abspath(args.out))
            os.makedirs(d, exist_ok=True)
            with open(args.out, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")

    if args.device == "cuda" and not torch.cuda.is_available():
        emit("bench_stft: --device cuda: no CUDA device available to torch; skipping.")
        write_out()
        return 0

    settings = H.Settings.make(args.quick)
    seconds = 0.25 if args.quick else 10.0
    t_start = time.perf_counter()
    ghz, ghz_src = H.cpu_ghz()
    if args.ghz:
        ghz, ghz_src = args.ghz, "--ghz"
    cores = H.usable_cores()

    extra: list[tuple[str, str]] = [
        ("mode", ("QUICK (short signals, few repeats: not for numbers)" if args.quick
                  else "full") + f"; device {args.device}; signals {seconds:g} s, float32, "
                  "Hann window, center=True, reflect padding; batches "
                  + ", ".join(map(str, batches_for(args.device, args.quick)))),
        ("inputs", ("iSTFT rows give both the same spectrum: C-contiguous (batch, bins, "
                    "frames) as `hushboard.ops.stft` returns, except 'torch.stft layout': the "
                    "frames-major view that `torch.stft` returns")),
        ("timing", "hushboard and torch interleaved round-robin (starting case rotating); median "
                   f"and p10–p90 of {settings.repeats} to {settings.max_repeats} samples "
                   f"(>= {settings.min_time:g} s per case, or only {settings.min_repeats} "
                   f"once a case has taken {settings.max_time:g} s); offline cases: 1 untimed "
                   f"check/warm-up call each, streaming: {settings.warmup}; fast calls are "
                   f"repeated within a sample of ~{settings.sample_time * 1e3:g} ms; "
                   + ("CUDA events" if args.device == "cuda" else "time.perf_counter")),
        ("ratio", "torch/hb = torch median / hushboard median (> 1: hushboard faster)"),
    ]
    if args.device == "cpu":
        bw = H.measure_bandwidth(64 if args.quick else 256, args.threads,
                                 repeats=3 if args.quick else 5)
        peak1 = 32 * ghz * 1e9
        m = Machine(bw, peak1, cores)
        extra += [
            ("memory bandwidth (measured at start)", "; ".join(
                f"{k} thread{'s' if k > 1 else ''}: {v / 1e9:.1f} GB/s" for k, v in bw.items())
             + f" — copy of {64 if args.quick else 256} MB, (read + write) / time, best of "
               "runs; 1 thread `np.copyto`, n threads max(that, torch `copy_`)"),
            ("FLOP peak (assumed)", (f"{peak1 / 1e9:.1f} GFLOP/s per thread = 32 flop/cycle "
                                     f"(2 x 8-wide FP32 FMA, AVX2) x {ghz:.3f} GHz "
                                     f"({ghz_src}); n threads = min(n, {cores} cores) x that")),
        ]
    else:
        m, more = _cuda_machine(args.quick)
        extra += more
        if not build_info().with_cuda:
            extra.append(("WARNING", ("hushboard was built without CUDA: its CUDA calls run "
                                      "the pure-torch reference, so the hushboard column is "
                                      "torch")))
    extra += [
        ("floor", ("max(mem floor, FLOP floor). mem floor = (signal + spectrum bytes, each "
                   "read or written once) / bandwidth; FLOP floor = frames x 5 N log2 N / 2 / "
                   "peak (the FFTs only: windowing, compression, overlap-add not counted)")),
        ("rel diff", ("max |hushboard - torch| / max |torch| of one call (streaming round "
                      "trip: reconstruction error of the delayed input, worst of the three "
                      "forms)")),
    ]

    emit("# hushboard STFT benchmark")
    emit()
    for line in H.header_lines(extra):
        emit(line)
    emit()

    rows = run_offline(args, settings, m, seconds, progress)
    emit(f"## Offline ({args.device})")
    emit()
    emit(offline_table(rows, args.device == "cuda"))
    emit()
    if rows:
        emit("### Summary: torch/hb by case")
        emit()
        emit(summary_table(rows))
        emit()

    if args.device == "cpu" and not args.no_streaming:
        srows = run_streaming(args, settings, m, progress)
        emit("## Streaming, per hop (batch 1, one channel)")
        emit()
        emit("hushboard: `StftStream(output='compressed', power=0.3).process(hop)` and "
             "`StftRoundTrip.process(hop)` (NumPy in and out). torch / numpy: the same per frame "
             "in Python (shift buffer, window, `rfft` (+ abs/pow), `irfft`, synthesis window, "
             "overlap-add, envelope division).")
        emit()
        emit(streaming_table(srows))
        emit()

    emit(f"_total bench time {time.perf_counter() - t_start:.0f} s_")
    write_out()
    return 0


if __name__ == "__main__":
    sys.exit(main())
