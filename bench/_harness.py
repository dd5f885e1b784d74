"""Small shared benchmark harness for hushboard's bench scripts.

* ``compare(cases)`` times several callables round-robin (one sample of each per round, the
  starting case rotating every round), so machine drift and background load hit every case
  alike; ``measure(fn)`` is the one-case form. Both return ``Stats`` (median, p10, p90 per call).
* Callables that work on CUDA tensors are timed with CUDA events (``cuda=True``); otherwise
  with ``time.perf_counter`` after a ``torch.cuda.synchronize()`` when CUDA is available.
* ``header_lines()`` describes the machine and the build; ``set_threads(n)`` sets both torch's
  and hushboard's thread counts; ``markdown_table()`` formats results.
* ``Settings.make(quick)``: ``Settings.full()``, or ``Settings.fast()`` (few repeats, for smoke
  tests; the bench scripts also shrink their sizes with --quick).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "Settings",
    "Stats",
    "Timer",
    "compare",
    "cpu_ghz",
    "cpu_model",
    "cuda_machine",
    "cuda_sync",
    "header_lines",
    "markdown_table",
    "measure",
    "measure_bandwidth",
    "set_threads",
    "write_report",
]


# ---- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """How long to time each group of cases.

    warmup: untimed calls of each case before timing.
    min_repeats: always at least this many timed samples (rounds) per case.
    repeats: this many rounds unless the cases have already run ``max_time`` each on average.
    max_repeats: at most this many rounds.
    min_time: keep going (past ``repeats``) until the cases have run this long each on average.
    max_time: stop (after ``min_repeats``) once the cases have run this long each on average,
        so that slow cases (seconds per call) keep the whole bench short.
    sample_time: a sample of a fast case repeats the call until it lasts about this long
        (per-call time = sample time / calls).
    """

    quick: bool
    warmup: int
    min_repeats: int
    repeats: int
    max_repeats: int
    min_time: float
    max_time: float
    sample_time: float

    @classmethod
    def full(cls) -> Settings:
        return cls(quick=False, warmup=1, min_repeats=3, repeats=5, max_repeats=40,
                   min_time=0.25, max_time=2.0, sample_time=2e-3)

    @classmethod
    def fast(cls) -> Settings:
        return cls(quick=True, warmup=0, min_repeats=3, repeats=3, max_repeats=3,
                   min_time=0.0, max_time=0.5, sample_time=2e-4)

    @classmethod
    def make(cls, quick: bool) -> Settings:
        return cls.fast() if quick else cls.full()


# ---- timing -----------------------------------------------------------------------------------
def cuda_sync() -> None:
    """Wait for queued CUDA work (no-op without CUDA)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class Timer:
    """Wall time of a block; with ``cuda=True`` CUDA-event time on the current stream.

    >>> with Timer() as t:
    ...     work()
    >>> t.elapsed  # seconds
    """

    def __init__(self, cuda: bool = False) -> None:
        self.cuda = bool(cuda) and torch.cuda.is_available()
        self.elapsed = math.nan

    def __enter__(self) -> Timer:  # noqa: PYI034 - Self needs Python 3.11
        if self.cuda:
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)
            self._start.record()
        else:
            cuda_sync()
            self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self._end.record()
            self._end.synchronize()
            self.elapsed = self._start.elapsed_time(self._end) * 1e-3
        else:
            cuda_sync()
            self.elapsed = time.perf_counter() - self._t0


@dataclass
class Stats:
    """Per-call times in seconds over the timed samples."""

    samples: list[float] = field(default_factory=list)
    number: int = 1  # calls per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def quantile(self, q: float) -> float:
        s = sorted(self.samples)
        if len(s) == 1:
            return s[0]
        pos = q * (len(s) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    @property
    def p10(self) -> float:
        return self.quantile(0.10)

    @property
    def p90(self) -> float:
        return self.quantile(0.90)

    def __repr__(self) -> str:
        return (f"Stats(median={self.median:.4g}s, p10={self.p10:.4g}s, p90={self.p90:.4g}s, "
                f"n={len(self.samples)}x{self.number})")


def _time_sample(fn: Callable[[], object], number: int, cuda: bool) -> float:
    with Timer(cuda) as t:
        for _ in range(number):
            fn()
    return t.elapsed / number


def compare(
    cases: dict[str, Callable[[], object]],
    settings: Settings | None = None,
    *,
    warmup: int | None = None,
    repeats: int | None = None,
    max_repeats: int | None = None,
    min_time: float | None = None,
    max_time: float | None = None,
    sample_time: float | None = None,
    cuda: bool = False,
) -> dict[str, Stats]:
    """Time the zero-argument callables in ``cases`` round-robin.

    Each round takes one sample of every case (the order rotates by one each round); rounds
    continue until there are ``repeats`` of them and the cases have run ``min_time`` seconds
    each on average, or ``max_repeats`` rounds; but after ``min_repeats`` rounds they stop
    once the cases have run ``max_time`` each on average. A fast case repeats its call within
    a sample (calibrated from one timed call after warm-up) so that a sample lasts about
    ``sample_time``; when every case runs once per sample, the calibration pass is the first
    round. Explicit keyword arguments override ``settings``.
    """
    s = settings or Settings.full()
    warmup = s.warmup if warmup is None else warmup
    repeats = s.repeats if repeats is None else repeats
    max_repeats = max(repeats, s.max_repeats if max_repeats is None else max_repeats)
    min_time = s.min_time if min_time is None else min_time
    max_time = s.max_time if max_time is None else max_time
    min_repeats = min(s.min_repeats, repeats)
    sample_time = s.sample_time if sample_time is None else sample_time

    names = list(cases)
    fns = [cases[n] for n in names]
    for _ in range(max(warmup, 0)):  # warm-up, also interleaved
        for fn in fns:
            fn()
    cuda_sync()
    # calibrate calls per sample from one timed call each
    numbers, first = [], []
    for fn in fns:
        t1 = max(_time_sample(fn, 1, cuda), 1e-9)
        first.append(t1)
        numbers.append(max(1, min(100_000, math.ceil(sample_time / t1))))
    stats = {n: Stats(number=k) for n, k in zip(names, numbers)}
    k = len(fns)
    spent = 0.0
    rounds = 0
    if all(v == 1 for v in numbers):  # the calibration pass was a round of single calls
        for name, t1 in zip(names, first):
            stats[name].samples.append(t1)
        spent, rounds = sum(first), 1

    def done() -> bool:
        if rounds >= max_repeats:
            return True
        if rounds < min_repeats:
            return False
        if spent >= max_time * k:
            return True
        return rounds >= repeats and spent >= min_time * k

    while not done():
        for j in range(k):
            i = (j + rounds) % k
            t = _time_sample(fns[i], numbers[i], cuda)
            stats[names[i]].samples.append(t)
            spent += t * numbers[i]
        rounds += 1
    return stats


def measure(
    fn: Callable[[], object],
    settings: Settings | None = None,
    *,
    warmup: int | None = None,
    repeats: int | None = None,
    min_time: float | None = None,
    max_time: float | None = None,
    max_repeats: int | None = None,
    sample_time: float | None = None,
    cuda: bool = False,
) -> Stats:
    """Time one callable (see ``compare``)."""
    return compare({"fn": fn}, settings, warmup=warmup, repeats=repeats, min_time=min_time,
                   max_time=max_time, max_repeats=max_repeats, sample_time=sample_time,
                   cuda=cuda)["fn"]


# ---- threads ----------------------------------------------------------------------------------
def set_threads(n: int) -> None:
    """Use ``n`` threads in torch's intra-op pool and in hushboard's CPU kernels."""
    from hushboard.backend import set_num_threads

    torch.set_num_threads(int(n))
    set_num_threads(int(n))


# ---- machine ----------------------------------------------------------------------------------
def cuda_machine(quick: bool) -> tuple[float, float, list[tuple[str, str]]]:
    """GPU 0's (FP32 FLOP/s peak, copy bandwidth in bytes/s, header lines): the bandwidth from a
    device-to-device ``copy_`` (read + write), the peak from the SM count x 128 FP32 lanes x 2
    (FMA) x the clock (the device's, else an H100's 1.755 GHz boost, said so)."""
    import subprocess

    props = torch.cuda.get_device_properties(0)
    n = (64 if quick else 512) * (1 << 20) // 4
    src = torch.ones(n, device="cuda")
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = math.inf
    for _ in range(5):
        with Timer(cuda=True) as t:
            dst.copy_(src)
        best = min(best, t.elapsed)
    bw = 2 * src.nbytes / best
    del src, dst
    clock_khz = getattr(props, "clock_rate", 0) or 0
    ghz = clock_khz / 1e6 if clock_khz else 1.755
    ghz_src = "device properties" if clock_khz else "assumed (H100 boost clock)"
    peak = props.multi_processor_count * 128 * 2 * ghz * 1e9
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=20, check=False)
        driver = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        driver = "? (no nvidia-smi)"
    return peak, bw, [
        ("GPU", (f"{props.name}, {props.multi_processor_count} SMs, "
                 f"{props.total_memory / 2**30:.0f} GiB; driver {driver}, CUDA (torch) "
                 f"{torch.version.cuda}")),
        ("GPU memory bandwidth (measured)",
         f"{bw / 1e9:.0f} GB/s, device-to-device `copy_` of {n * 4 >> 20} MB, read + write"),
        ("GPU FP32 peak (assumed)",
         (f"{peak / 1e12:.1f} TFLOP/s = {props.multi_processor_count} SMs x 128 FP32 lanes "
          f"x 2 (FMA) x {ghz:.3f} GHz ({ghz_src})")),
    ]



def _cpuinfo() -> list[dict[str, str]]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    procs = []
    for block in text.strip().split("\n\n"):
        d = {}
        for line in block.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                d[k.strip()] = v.strip()
        if d:
            procs.append(d)
    return procs


def cpu_model() -> str:
    for p in _cpuinfo():
        if "model name" in p:
            return p["model name"]
    return platform.processor() or platform.machine()


def cpu_ghz() -> tuple[float, str]:
    """(GHz, where it came from): the mean 'cpu MHz' of /proc/cpuinfo, else 'nominal' 2.5."""
    mhz = []
    for p in _cpuinfo():
        try:
            mhz.append(float(p["cpu MHz"]))
        except (KeyError, ValueError):
            pass
    if mhz:
        return sum(mhz) / len(mhz) / 1e3, "/proc/cpuinfo 'cpu MHz' (mean over cores)"
    return 2.5, "assumed (no 'cpu MHz' in /proc/cpuinfo)"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def measure_bandwidth(mbytes: int = 256, threads: Iterable[int] = (1,), repeats: int = 5
                      ) -> dict[int, float]:
    """Copy bandwidth in bytes/s (read + write counted once each: 2 x size / time).

    1 thread: ``np.copyto`` of ``mbytes`` MB; n > 1 threads: the better of that and torch's
    ``Tensor.copy_`` with ``n`` intra-op threads. Best of ``repeats``.
    """
    n = mbytes * (1 << 20) // 4
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # fault the pages in
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    bw1 = 2 * src.nbytes / best
    out = {}
    prev = torch.get_num_threads()
    ts, td = torch.from_numpy(src), torch.from_numpy(dst)
    try:
        for k in sorted({int(t) for t in threads}):
            if k <= 1:
                out[k] = bw1
                continue
            torch.set_num_threads(k)
            td.copy_(ts)
            bt = math.inf
            for _ in range(repeats):
                t0 = time.perf_counter()
                td.copy_(ts)
                bt = min(bt, time.perf_counter() - t0)
            out[k] = max(bw1, 2 * src.nbytes / bt)
    finally:
        torch.set_num_threads(prev)
    return out


def header_lines(extra: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Markdown bullet lines: date, machine, versions, hushboard build info, then ``extra``."""
    import hushboard
    from hushboard.backend import build_info

    bi = build_info()
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            load_s = " ".join(f.read().split()[:3])
    except OSError:
        load_s = "n/a"
    ghz, ghz_src = cpu_ghz()
    gpu = f"yes: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no"
    rows: list[tuple[str, str]] = [
        ("date", _dt.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("machine", f"{platform.node()} ({bi.machine})"),
        ("CPU", (f"{cpu_model()}, {os.cpu_count()} logical cores ({usable_cores()} usable), "
                 f"{ghz:.3f} GHz from {ghz_src}")),
        ("load average (1/5/15 min) at start", load_s),
        ("python", sys.version.split()[0]),
        ("torch", (f"{torch.__version__} (CPU capability "
                   f"{torch.backends.cpu.get_cpu_capability()}, "
                   f"MKL {'yes' if torch.backends.mkl.is_available() else 'no'}, CUDA {gpu})")),
        ("numpy", np.__version__),
        ("hushboard", (f"{hushboard.__version__}, SIMD path {bi.cpu_simd}, {bi.num_threads} "
                       f"threads by default, compiler {bi.compiler}")),
        ("hushboard CUDA", (f"compiled, archs {bi.cuda_archs or '?'}, devices "
                            f"{', '.join(bi.cuda_devices) or 'none'}") if bi.with_cuda
         else "not compiled"),
    ]
    if bi.backend_override:
        rows.append(("HUSHBOARD_BACKEND", bi.backend_override))
    rows.extend(extra)
    return [f"- **{k}**: {v}" for k, v in rows]


# ---- output -----------------------------------------------------------------------------------
def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                   align: str | None = None) -> str:
    """A GitHub Markdown table. ``align``: one char per column, 'l' or 'r' (default: first
    column left, the rest right)."""
    if align is None:
        align = "l" + "r" * (len(headers) - 1)
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(r):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)]
        return "| " + " | ".join(parts) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
                         for w, a in zip(widths, align)) + "|"
    return "\n".join([fmt(cells[0]), sep] + [fmt(r) for r in cells[1:]])


def fmt_time(seconds: float, unit: str = "ms") -> str:
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6}[unit]
    v = seconds * scale
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v:.2g}"


def write_report(text: str, out=None) -> None:
    """Print a Markdown report and, when ``out`` (a path) is given, write it there too."""
    from pathlib import Path

    print(text)
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
