"""Effects and chains: per-block overhead against pedalboard, and real-time factors.

    python bench/bench_fx.py [--quick] [--out FILE.md]

* Per-block overhead, streaming (``reset=False``), 48 kHz stereo: a chain of three gain stages
  as ``hushboard.Chain`` (Python ``process`` per block), as the native ``EffectChain`` loop
  that a live callback runs (one C++ call per block), and as ``pedalboard.Pedalboard`` of three
  ``pedalboard.Gain``; interleaved in one process.
* Real-time factor (processing time / audio duration) of ``WienerDenoiser`` and ``SpectralGate``
  on one thread, 10 s of noisy audio at 16 and 48 kHz, offline (``reset=True``) and streamed in
  256-sample blocks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

import pedalboard  # noqa: E402

from hushboard.fx import Chain, Gain, SpectralGate, WienerDenoiser  # noqa: E402
from hushboard.ops._native import _C  # noqa: E402

SR = 48000


def block_overhead(settings: H.Settings, blocks: list[int]) -> list[list[str]]:
    rows = []
    rng = np.random.default_rng(0)
    for n in blocks:
        x = (0.1 * rng.standard_normal((2, n))).astype(np.float32)
        hb = Chain([Gain(-1.0), Gain(-2.0), Gain(3.0)])
        hb.process(x, SR, reset=False)  # configure
        native = _C.EffectChain(2)
        natives = [_C.Gain(g, 2) for g in (-1.0, -2.0, 3.0)]
        for g in natives:
            native.append(g)
        out = np.empty_like(x)
        pb = pedalboard.Pedalboard([pedalboard.Gain(-1.0), pedalboard.Gain(-2.0),
                                    pedalboard.Gain(3.0)])
        pb.process(x, SR, reset=False)
        st = H.compare({
            "chain": lambda: hb.process(x, SR, reset=False),
            "native": lambda: native.process_into(x, out, 0),
            "pedalboard": lambda: pb.process(x, SR, reset=False),
        }, settings)
        c, nat, p = (st[k].median for k in ("chain", "native", "pedalboard"))
        rows.append([n, H.fmt_time(c, "us"), H.fmt_time(nat, "us"), H.fmt_time(p, "us"),
                     f"{p / c:.2f}", f"{p / nat:.2f}"])
    return rows


def noisy(sr: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(sr * seconds)) / sr
    speech = 0.3 * np.sin(2 * np.pi * 180 * t) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    return (speech + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def denoiser_rtf(settings: H.Settings, seconds: float) -> list[list[str]]:
    rows = []
    for cls, sr in [(c, r) for c in (WienerDenoiser, SpectralGate) for r in (16000, 48000)]:
        x = noisy(sr, seconds)
        fx = cls()
        stream = cls()

        def streamed():
            stream.reset()
            for i in range(0, x.size, 256):
                stream.process(x[i:i + 256], sr, reset=False)

        stream.process(x[:256], sr, reset=False)
        st = H.compare({"offline": lambda: fx.process(x, sr), "stream": streamed}, settings)
        off, strm = st["offline"].median, st["stream"].median
        rows.append([cls.__name__, sr, f"{seconds:g}", H.fmt_time(off, "ms"), f"{off / seconds:.4f}",
                     H.fmt_time(strm, "ms"), f"{strm / seconds:.4f}"])
    return rows


def resampler_rows(settings: H.Settings, seconds: float) -> list[list[str]]:
    """hushboard's streaming polyphase resampler against scipy.signal.resample_poly (offline,
    the usual peer) on the same 10 s stereo signal."""
    from scipy.signal import resample_poly

    rows = []
    rng = np.random.default_rng(5)
    for a, b in [(48000, 16000), (16000, 48000), (44100, 16000)]:
        x = (0.1 * rng.standard_normal((2, int(a * seconds)))).astype(np.float32)
        r = _C.Resampler(a, b, 2)

        def hb_run():
            r.reset()
            return r.push(x)

        g = np.gcd(a, b)
        st = H.compare({"hushboard": hb_run,
                        "scipy": lambda: resample_poly(x, b // g, a // g, axis=1)}, settings)
        h, sc = st["hushboard"].median, st["scipy"].median
        rows.append([f"{a} -> {b}", H.fmt_time(h, "ms"), H.fmt_time(sc, "ms"), f"{sc / h:.2f}",
                     f"{h / seconds:.4f}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    p.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = p.parse_args(argv)
    settings = H.Settings.make(args.quick)
    H.set_threads(1)
    lines = ["# hushboard effects benchmark", "", *H.header_lines(), ""]
    blocks = [128] if args.quick else [64, 128, 256, 512, 1024]
    lines += ["## Per-block cost of a 3-stage gain chain, 48 kHz stereo, streaming", "",
              H.markdown_table(["block", "hushboard.Chain µs", "native EffectChain µs",
                                "pedalboard µs", "pedalboard/Chain", "pedalboard/native"],
                               block_overhead(settings, blocks)), ""]
    seconds = 1.0 if args.quick else 10.0
    lines += ["## Denoiser real-time factors, 1 thread (mono)", "",
              H.markdown_table(["denoiser", "sample rate", "seconds", "offline ms", "RTF offline",
                                "256-sample blocks ms", "RTF streamed"],
                               denoiser_rtf(settings, seconds)), ""]
    lines += ["## Polyphase resampler (streaming, C++) vs scipy.signal.resample_poly, stereo, "
              "1 thread", "",
              H.markdown_table(["rates", "hushboard ms", "scipy ms", "scipy/hb", "RTF hushboard"],
                               resampler_rows(settings, seconds)), ""]
    H.write_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
