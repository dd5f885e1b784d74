"""``hushboard eval``: score denoisers and peers on pairs of clean and noisy files.

Files are matched by name (the stem: ``a.wav`` in the clean folder pairs with ``a.wav`` or
``a.flac`` in the noisy one). A ``metadata.csv`` in the noisy folder, the clean folder or their
common parent (or one named with ``metadata=``) gives each file's noise type and SNR: columns
``file`` (a name or stem) and optionally ``noise_type`` and ``snr_db``; other columns are
ignored. Every system (the noisy input itself, each model, each peer) runs on every file,
offline and time-aligned; each metric compares it with the clean file. Multi-channel files are
scored on their channel mean.

Statistics: per system and metric, the mean over files with a 95% confidence interval
(Student's t on the per-file values), and Δ, the mean per-file difference from the noisy
input, with its own paired 95% interval. A metric that cannot score a file (PESQ on a file
without speech, say) is recorded as NaN, left out of the means, and counted in ``n``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hushboard.eval.systems import PEERS, EffectSystem, NoisySystem, System, make_peer
from hushboard.metrics import METRICS

__all__ = [
    "AUDIO_EXTENSIONS", "DEFAULT_METRICS", "EvalResult", "build_systems", "evaluate",
    "find_pairs", "format_report", "read_metadata",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".m4a")
DEFAULT_METRICS = ("si_snr", "snr", "sdr", "pesq_wb", "pesq_nb", "stoi", "estoi")


@dataclass
class Pair:
    """One clean/noisy file pair and its metadata."""

    name: str
    clean: Path
    noisy: Path
    noise_type: str | None = None
    snr_db: float | None = None


@dataclass
class EvalResult:
    """What ``evaluate`` measured.

    Attributes:
        systems: system names in table order (``noisy`` first).
        metrics: metric names in column order.
        rows: one dict per (file, system): file, noise_type, snr_db, system, seconds, rtf and
            one value per metric.
        overall: ``{system: {metric: stats}}``, stats = n, mean, ci95, delta, delta_ci95.
        by_noise_type: ``{noise_type: {system: {metric: stats}}}`` (empty without metadata).
        timing: ``{system: {"seconds": processing time, "rtf": real-time factor}}``.
        files: paths written (name -> path).
    """

    systems: list[str]
    metrics: list[str]
    rows: list[dict[str, Any]]
    overall: dict[str, dict[str, dict[str, float]]]
    by_noise_type: dict[str, dict[str, dict[str, dict[str, float]]]]
    timing: dict[str, dict[str, float]]
    config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


# -- inputs -------------------------------------------------------------------------------------
def _audio_files(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith("."):
            if p.stem in out:
                raise ValueError(f"two files in {folder} share the name {p.stem!r} "
                                 f"({out[p.stem].name}, {p.name})")
            out[p.stem] = p
    return out


def find_pairs(clean_dir: str | os.PathLike, noisy_dir: str | os.PathLike) -> list[Pair]:
    """Clean and noisy files matched by name (stem); every file must have its partner."""
    clean_dir, noisy_dir = Path(clean_dir), Path(noisy_dir)
    for arg, d in (("clean", clean_dir), ("noisy", noisy_dir)):
        if not d.is_dir():
            raise ValueError(f"--{arg} must be a directory of audio files (got {str(d)!r}, "
                             f"{'not a directory' if d.exists() else 'which does not exist'})")
    clean, noisy = _audio_files(clean_dir), _audio_files(noisy_dir)
    if not clean:
        raise ValueError(f"--clean directory {str(clean_dir)!r} holds no audio files "
                         f"({', '.join(AUDIO_EXTENSIONS)})")
    if not noisy:
        raise ValueError(f"--noisy directory {str(noisy_dir)!r} holds no audio files")
    only_clean = sorted(set(clean) - set(noisy))
    only_noisy = sorted(set(noisy) - set(clean))
    if only_clean or only_noisy:
        parts = []
        if only_noisy:
            parts.append(f"in --noisy without a clean file: {', '.join(only_noisy[:5])}"
                         + (f" and {len(only_noisy) - 5} more" if len(only_noisy) > 5 else ""))
        if only_clean:
            parts.append(f"in --clean without a noisy file: {', '.join(only_clean[:5])}"
                         + (f" and {len(only_clean) - 5} more" if len(only_clean) > 5 else ""))
        raise ValueError("unmatched files (clean and noisy files are paired by name): "
                         + "; ".join(parts))
    return [Pair(stem, clean[stem], noisy[stem]) for stem in sorted(clean)]


def _find_metadata(clean_dir: Path, noisy_dir: Path) -> Path | None:
    candidates = [noisy_dir / "metadata.csv", clean_dir / "metadata.csv"]
    if clean_dir.resolve().parent == noisy_dir.resolve().parent:
        candidates.append(noisy_dir.resolve().parent / "metadata.csv")
    return next((c for c in candidates if c.is_file()), None)


def read_metadata(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{stem: {"noise_type": str | None, "snr_db": float | None}}`` from a metadata CSV with
    a ``file`` column (file name or stem) and optional ``noise_type`` and ``snr_db``."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in (reader.fieldnames or [])]
        if "file" not in fields:
            raise ValueError(f"metadata {str(path)!r} must have a 'file' column "
                             f"(got columns {fields})")
        out: dict[str, dict[str, Any]] = {}
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            name = Path(row["file"]).name
            stem = Path(name).stem if Path(name).suffix.lower() in AUDIO_EXTENSIONS else name
            snr_text = row.get("snr_db", "")
            try:
                snr_db = float(snr_text) if snr_text else None
            except ValueError:
                raise ValueError(f"metadata {str(path)!r} line {line}: snr_db must be a number "
                                 f"(got {snr_text!r})") from None
            out[stem] = {"noise_type": row.get("noise_type") or None, "snr_db": snr_db}
    return out


def _load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray, int]:
    from hushboard.io import read_audio

    try:
        clean, sr_c = read_audio(pair.clean)
        noisy, sr_n = read_audio(pair.noisy)
    except Exception as exc:  # noqa: BLE001 - pedalboard raises several types
        raise OSError(f"cannot read the pair {pair.name!r}: {exc}") from None
    if sr_c != sr_n:
        raise ValueError(f"{pair.name}: different sample rates (clean {sr_c:g} Hz, noisy "
                         f"{sr_n:g} Hz); resample one of them")
    if sr_c != int(sr_c):
        raise ValueError(f"{pair.name}: sample rate must be a whole number of Hz (got {sr_c})")
    if clean.shape[0] != noisy.shape[0]:
        raise ValueError(f"{pair.name}: different channel counts (clean {clean.shape[0]}, "
                         f"noisy {noisy.shape[0]})")
    if clean.shape[1] != noisy.shape[1]:
        raise ValueError(f"{pair.name}: different lengths (clean {clean.shape[1]}, noisy "
                         f"{noisy.shape[1]} samples); the files must be aligned")
    if clean.shape[1] == 0:
        raise ValueError(f"{pair.name}: the files are empty")
    return (clean.astype(np.float64).mean(axis=0), noisy.astype(np.float64).mean(axis=0),
            int(sr_c))


# -- systems ------------------------------------------------------------------------------------
def _model_label(model: str) -> str:
    return Path(model).stem if str(model).endswith(".safetensors") else str(model)


def build_systems(models: Sequence[str] = (), peers: Sequence[str] | None = None, *,
                  log: Any = None) -> list[System]:
    """The noisy baseline, one ``EffectSystem(Denoise(model))`` per model, then the peers.

    Args:
        models: names accepted by ``hushboard.fx.Denoise`` (``default``, a shipped model,
            ``wiener``, ``gate``, a ``*.safetensors`` file).
        peers: names from ``PEERS``; ``None`` means all of them, and a peer whose package
            cannot be imported is then skipped with a message to ``log``; a peer asked for by
            name must load.
        log: a file for messages (default stderr).
    """
    from hushboard.fx.model import Denoise

    log = sys.stderr if log is None else log
    systems: list[System] = [NoisySystem()]
    names = {"noisy"}
    for m in models:
        label = _model_label(m)
        if label in names:
            raise ValueError(f"--model {m!r} is given twice (or clashes with {label!r})")
        systems.append(EffectSystem(Denoise(m), label))
        names.add(label)
    explicit = peers is not None
    for p in (list(PEERS) if peers is None else list(peers)):
        if p not in PEERS:
            raise ValueError(f"unknown peer {p!r} in --peers; available: {', '.join(PEERS)}")
        if p in names:
            continue  # e.g. --model wiener and the wiener peer: one row
        try:
            systems.append(make_peer(p))
        except ImportError as exc:
            if explicit:
                raise ValueError(f"peer {p!r} was requested but cannot load: {exc}") from None
            print(f"hushboard eval: skipping peer {p!r}: {exc}", file=log)
            continue
        names.add(p)
    return systems


# -- statistics ---------------------------------------------------------------------------------
def _ci95(values: np.ndarray) -> float:
    n = values.size
    if n < 2:
        return float("nan")
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))


def _stats(values: list[float], base: list[float]) -> dict[str, float]:
    v = np.asarray(values, np.float64)
    b = np.asarray(base, np.float64)
    ok = np.isfinite(v)
    both = ok & np.isfinite(b)
    d = v[both] - b[both]
    return {
        "n": int(ok.sum()),
        "mean": float(v[ok].mean()) if ok.any() else float("nan"),
        "ci95": _ci95(v[ok]),
        "delta": float(d.mean()) if d.size else float("nan"),
        "delta_ci95": _ci95(d),
    }


def _summarise(rows: list[dict[str, Any]], systems: list[str], metrics: list[str]
               ) -> dict[str, dict[str, dict[str, float]]]:
    by = {(r["file"], r["system"]): r for r in rows}
    files = sorted({r["file"] for r in rows})
    out: dict[str, dict[str, dict[str, float]]] = {}
    for s in systems:
        out[s] = {}
        for m in metrics:
            vals = [by[(f, s)][m] for f in files]
            base = [by[(f, "noisy")][m] for f in files]
            out[s][m] = _stats(vals, base)
    return out


# -- the run ------------------------------------------------------------------------------------
def evaluate(
    clean_dir: str | os.PathLike, noisy_dir: str | os.PathLike, *,
    models: Sequence[str] = (), peers: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None, out_dir: str | os.PathLike | None = None,
    metadata: str | os.PathLike | None = None, plot_file: str | None = None,
    progress: bool | None = None, log: Any = None,
) -> EvalResult:
    """Run every system on every file pair and score it.

    Args:
        clean_dir: folder of clean references.
        noisy_dir: folder of noisy inputs, paired with the clean files by name.
        models: hushboard models (see ``build_systems``).
        peers: peer names, or None for all that load.
        metrics: names from ``hushboard.metrics.METRICS`` (default: all).
        out_dir: where to write ``results.csv``, ``summary.csv``, ``results.json``,
            ``report.txt`` and ``spectrograms.png``; None writes nothing.
        metadata: a metadata CSV (default: ``metadata.csv`` beside the folders, if any).
        plot_file: the file (name or stem) shown in the spectrogram picture (default: the
            first).
        progress: show a tqdm bar (None: only on a terminal).
        log: a file for messages (default stderr).

    Returns:
        EvalResult.
    """
    metrics = list(DEFAULT_METRICS if metrics is None else metrics)
    bad = [m for m in metrics if m not in METRICS]
    if bad or not metrics:
        raise ValueError(f"--metrics must be names from {', '.join(METRICS)} (got {metrics})")
    clean_dir, noisy_dir = Path(clean_dir), Path(noisy_dir)
    pairs = find_pairs(clean_dir, noisy_dir)
    meta_path = Path(metadata) if metadata is not None else _find_metadata(clean_dir, noisy_dir)
    if metadata is not None and not meta_path.is_file():
        raise ValueError(f"--metadata file {str(meta_path)!r} does not exist")
    meta = read_metadata(meta_path) if meta_path is not None else {}
    for p in pairs:
        info = meta.get(p.name) or meta.get(p.noisy.name) or {}
        p.noise_type, p.snr_db = info.get("noise_type"), info.get("snr_db")
    plot_pair = pairs[0]
    if plot_file is not None:
        stem = Path(plot_file).stem
        match = [p for p in pairs if p.name == stem]
        if not match:
            raise ValueError(f"--plot-file {plot_file!r} is not one of the evaluated files")
        plot_pair = match[0]
    systems = build_systems(models, peers, log=log)
    names = [s.name for s in systems]
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    proc_time = dict.fromkeys(names, 0.0)
    audio_seconds = 0.0
    plot_signals: dict[str, np.ndarray] = {}
    plot_rate = 0
    bar = tqdm(total=len(pairs) * len(systems), desc="eval", unit="run", file=sys.stderr,
               disable=(None if progress is None else not progress), dynamic_ncols=True)
    try:
        for pair in pairs:
            clean, noisy, sr = _load_pair(pair)
            audio_seconds += clean.size / sr
            if pair is plot_pair:
                plot_signals["clean"], plot_rate = clean, sr
            for system in systems:
                bar.set_postfix_str(f"{pair.name} / {system.name}", refresh=False)
                t0 = time.perf_counter()
                est = system(noisy, sr)
                proc_time[system.name] += time.perf_counter() - t0
                row: dict[str, Any] = {"file": pair.name, "noise_type": pair.noise_type,
                                       "snr_db": pair.snr_db, "system": system.name,
                                       "seconds": clean.size / sr}
                for m in metrics:
                    try:
                        row[m] = float(METRICS[m][0](clean, est, sr))
                    except ValueError as exc:  # recorded as NaN, left out of the means
                        print(f"hushboard eval: {pair.name} / {system.name}: {m} is undefined "
                              f"({exc})", file=sys.stderr if log is None else log)
                        row[m] = float("nan")
                rows.append(row)
                if pair is plot_pair:
                    plot_signals[system.name] = est
                bar.update(1)
    finally:
        bar.close()

    overall = _summarise(rows, names, metrics)
    by_type: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    types = sorted({p.noise_type for p in pairs if p.noise_type})
    for nt in types:
        by_type[nt] = _summarise([r for r in rows if r["noise_type"] == nt], names, metrics)
    timing = {s: {"seconds": proc_time[s],
                  "rtf": proc_time[s] / audio_seconds if audio_seconds else float("nan")}
              for s in names}
    config = {"clean": str(clean_dir), "noisy": str(noisy_dir), "models": list(models),
              "peers": [s.name for s in systems[1 + len(models):]], "metrics": metrics,
              "metadata": str(meta_path) if meta_path else None, "files": len(pairs),
              "audio_seconds": audio_seconds, "plot_file": plot_pair.name}
    result = EvalResult(names, metrics, rows, overall, by_type, timing, config)
    if out is not None:
        _write_outputs(result, out, plot_signals, plot_rate, plot_pair.name)
    return result


# -- reports ------------------------------------------------------------------------------------
def _fmt(v: float, digits: int = 2, signed: bool = False) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _digits(metric: str) -> int:
    return 2 if metric in ("si_snr", "snr", "sdr", "pesq_wb", "pesq_nb") else 3


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(
        c.ljust(w) if i == 0 or (i == 1 and header[1] == "system") else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def format_report(result: EvalResult) -> str:
    """The per-file, overall, Δ and per-noise-type tables as text."""
    labels = [METRICS[m][1] for m in result.metrics]
    parts = []
    head = ["file", "system", *labels]
    body = [[r["file"], r["system"], *(_fmt(r[m], _digits(m)) for m in result.metrics)]
            for r in result.rows]
    parts.append("Per file\n" + _table(head, body))
    n_files = result.config.get("files", 0)
    head = ["system", *labels, "RTF"]
    body = [[s, *(f"{_fmt(st[m]['mean'], _digits(m))} ±{_fmt(st[m]['ci95'], _digits(m))}"
                  for m in result.metrics), _fmt(result.timing[s]["rtf"], 4)]
            for s, st in result.overall.items()]
    parts.append(f"Overall ({n_files} files; mean ±95% CI; RTF: processing time / audio)\n"
                 + _table(head, body))
    head = ["system", *(f"Δ{lbl}" for lbl in labels)]
    body = [[s, *(f"{_fmt(st[m]['delta'], _digits(m), True)} ±{_fmt(st[m]['delta_ci95'], _digits(m))}"
                  for m in result.metrics)] for s, st in result.overall.items()]
    parts.append("Δ over the noisy input (mean of per-file differences ±95% CI)\n"
                 + _table(head, body))
    for nt, summ in result.by_noise_type.items():
        n = next(iter(next(iter(summ.values())).values()))["n"]
        head = ["system", *labels]
        body = [[s, *(f"{_fmt(st[m]['mean'], _digits(m))} ({_fmt(st[m]['delta'], _digits(m), True)})"
                      for m in result.metrics)] for s, st in summ.items()]
        parts.append(f"Noise type {nt!r} ({n} files; mean (Δ over noisy))\n" + _table(head, body))
    return "\n\n".join(parts) + "\n"


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _write_outputs(result: EvalResult, out: Path, signals: dict[str, np.ndarray],
                   sample_rate: int, plot_name: str) -> None:
    cols = ["file", "noise_type", "snr_db", "system", "seconds", *result.metrics]
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in result.rows:
            w.writerow(["" if r[c] is None else r[c] for c in cols])
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["noise_type", "system", "metric", "n", "mean", "ci95", "delta", "delta_ci95",
                    "rtf"])
        groups = [("all", result.overall), *result.by_noise_type.items()]
        for group, summ in groups:
            for s, st in summ.items():
                for m in result.metrics:
                    v = st[m]
                    w.writerow([group, s, m, v["n"], v["mean"], v["ci95"], v["delta"],
                                v["delta_ci95"], result.timing[s]["rtf"]])
    payload = {"config": result.config, "systems": result.systems, "metrics": result.metrics,
               "overall": result.overall, "by_noise_type": result.by_noise_type,
               "timing": result.timing, "per_file": result.rows}
    (out / "results.json").write_text(json.dumps(_json_safe(payload), indent=2) + "\n",
                                      encoding="utf-8")
    (out / "report.txt").write_text(format_report(result), encoding="utf-8")
    scores = {r["system"]: r for r in result.rows if r["file"] == plot_name}
    _spectrogram_figure(out / "spectrograms.png", signals, sample_rate, plot_name, scores)
    result.files = {k: str(out / k) for k in ("results.csv", "summary.csv", "results.json",
                                                "report.txt", "spectrograms.png")}


def _spectrogram_figure(path: Path, signals: dict[str, np.ndarray], sample_rate: int,
                        title: str, scores: dict[str, dict[str, Any]]) -> None:
    """One log-magnitude spectrogram panel per signal (clean, noisy, each system), Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from scipy.signal import stft as _stft

    n_fft = 1 << max(8, round(math.log2(sample_rate * 0.032)))
    specs = {}
    for name, x in signals.items():
        f, t, z = _stft(x, fs=sample_rate, window="hann", nperseg=n_fft,
                        noverlap=3 * n_fft // 4)
        specs[name] = (f, t, 20 * np.log10(np.abs(z) + 1e-10))
    top = max(float(s[2].max()) for s in specs.values())
    fig = Figure(figsize=(10, 1.9 * len(specs) + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(specs), 1, sharex=True, squeeze=False)[:, 0]
    image = None
    for ax, (name, (f, t, db)) in zip(axes, specs.items()):
        image = ax.pcolormesh(t, f / 1000, db, vmin=top - 80, vmax=top, cmap="magma",
                              shading="auto", rasterized=True)
        label = name
        sc = scores.get(name)
        if sc is not None:
            extra = [f"{METRICS[m][1]} {sc[m]:.2f}" for m in ("si_snr", "pesq_wb", "stoi")
                     if m in sc and sc[m] is not None and math.isfinite(sc[m])]
            if extra:
                label += "  (" + ", ".join(extra) + ")"
        ax.set_title(label, fontsize=9, loc="left")
        ax.set_ylabel("kHz")
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(f"{title} at {sample_rate} Hz", fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=list(axes), label="dB", shrink=0.8)
    fig.savefig(path, dpi=90)
