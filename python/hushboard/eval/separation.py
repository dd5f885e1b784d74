"""``hushboard eval --task separation``: score music source separators and baselines on songs
with known stems.

Data layout (as ``hushboard data music`` writes it)::

    <split>/mix/<song>.flac               the mixture
    <split>/stems/<song>/<stem>.flac      one file per stem (vocals, drums, bass, other)

Mixtures are paired with stem folders by name; every mixture needs every evaluated stem, with
the mixture's sample rate, channel count and length. Each system (each separator model run
through ``hushboard.separation.separate``, then each baseline) separates every mixture, and
every stem estimate is scored against its reference with three measures from
``hushboard.metrics``:

* cSDR: the museval v4 SDR (SiSEC 2018) per 1-s chunk, median over the chunks of a song
  (``chunk_sdr``). As museval evaluates all targets of a song together, a chunk where *any*
  evaluated stem's reference or estimate is digital silence is left out for every stem. Over
  songs: the median, as SiSEC reports it.
* uSDR: the utterance-level SDR of the MDX/SDX challenges (``usdr``, delta 1e-7); over songs:
  the mean, over the songs where the stem is not silent throughout (NaN, left out, where it is:
  MUSDB's songs all have every stem, ours include instrumentals).
* SI-SDR: scale-invariant SDR (``si_snr`` on the whole stem, all channels with one gain);
  over songs: the mean. NaN (left out) where the reference stem is silent throughout.
* SI-SIR and SI-SAR: the SI-SDR's error split into the other evaluated stems leaking in and
  artefacts that no stem explains (``si_sdr_decomposition``; their errors add up to the
  SI-SDR's), and the leak of each other stem in dB under the stem's own part; over songs: the
  mean, leaks from stems silent throughout a song left out. They need two or more evaluated
  stems (NaN otherwise); with all four of a corpus song, whose stems sum to the mix, the span
  they project on holds the mix.
* ISR, SIR and SAR (with ``bss_eval=True``, ``--bss-eval``): museval's v4 images measures
  (``bss_eval_images``: 512-tap distortion filters fitted on the whole song, scored per 1-s
  chunk), so a leak through any filter counts as interference rather than artefact; the
  median over the cSDR's chunks, then the median over songs, as SiSEC reports them. A few
  seconds per song and system.

Baselines, measured in the same run:

* ``irm``: the oracle ideal ratio mask (``irm_oracle``), the usual upper-bound reference:
  power-ratio masks (sigsep's IRM2 oracle; ``irm_power=1`` gives IRM1, magnitude ratios)
  from the true stems, applied to the mixture.
* ``spectral``: a plain non-learned separator (``spectral_separate``): HPSS, a bass
  crossover and a centre-channel vocal mask.
* ``mix``: the mixture itself as every stem's estimate (the floor; not run by default).

With two or more models, each later one is also compared with the first song by song
(``paired_comparison``: songs higher and lower, mean per-song difference, sign test), since a
median over a dozen songs can move against the per-song evidence when the middle song changes.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hushboard.eval.runner import AUDIO_EXTENSIONS, _audio_files, _json_safe
from hushboard.metrics import (
    _si_decompose,
    _zero_mean_rows,
    bss_eval_images,
    chunk_sdr,
    si_snr,
    usdr,
)

__all__ = [
    "BASELINES", "DEFAULT_BASELINES", "DEFAULT_STEMS", "SeparationResult", "Song",
    "evaluate_separation", "find_songs", "format_separation_report", "irm_oracle",
    "paired_comparison", "sign_test", "spectral_separate",
]

DEFAULT_STEMS = ("vocals", "drums", "bass", "other")  # hushboard.separation.STEMS
BASELINES = ("irm", "spectral", "mix")
DEFAULT_BASELINES = ("irm", "spectral")
MEASURES = ("csdr", "usdr", "si_sdr", "si_sir", "si_sar", "isr", "sir", "sar")
BSS_MEASURES = ("isr", "sir", "sar")  # museval v4 images (bss_eval=True)


@dataclass
class Song:
    """One mixture and its reference stems (stem name -> file)."""

    name: str
    mix: Path
    stems: dict[str, Path]


@dataclass
class SeparationResult:
    """What ``evaluate_separation`` measured.

    Attributes:
        systems: system names in table order (models, then baselines).
        stems: stem names in column order.
        rows: one dict per (song, system, stem): song, system, stem, seconds, csdr, usdr,
            si_sdr, si_sir, si_sar, isr, sir, sar (NaN without ``bss_eval``), leak_db
            (``{other stem: dB}``) and chunks (the 1-s chunks that entered the cSDR).
        summary: ``{system: {stem or "mean": stats}}``, stats = n (songs with a finite cSDR),
            csdr (median over songs), usdr, si_sdr, si_sir, si_sar (means), isr, sir, sar
            (medians over songs), leak_db (per stem: ``{other stem: mean dB}``) and, when the
            ``irm`` baseline ran, csdr_gap_irm (this cSDR minus the oracle's; "mean" averages
            the stems' values).
        timing: ``{system: {"seconds": separation time, "rtf": real-time factor}}``.
        config: the run's settings and sizes.
        files: paths written (name -> path).
        paired: when two or more models ran, each later model against the first, song by
            song (``paired_comparison``): ``{model: {stem: stats}}``; else empty.
    """

    systems: list[str]
    stems: list[str]
    rows: list[dict[str, Any]]
    summary: dict[str, dict[str, dict[str, float]]]
    timing: dict[str, dict[str, float]]
    config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    paired: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


# -- inputs -------------------------------------------------------------------------------------
def _check_stems(stems: Sequence[str] | None) -> list[str]:
    if stems is None:
        return list(DEFAULT_STEMS)
    if isinstance(stems, str):
        stems = [stems]
    names = list(stems)
    bad = [s for s in names if s not in DEFAULT_STEMS]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(f"stems must be distinct names from {', '.join(DEFAULT_STEMS)} "
                         f"(got {names!r})")
    return names


def _listing(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def find_songs(mix_dir: str | os.PathLike, stems_dir: str | os.PathLike,
               stems: Sequence[str] | None = None) -> list[Song]:
    """Mixtures (``mix_dir/<song>.*``) matched by name with stem folders
    (``stems_dir/<song>/<stem>.*``); every mixture needs a folder holding every stem in
    ``stems`` (default: the four), and every folder its mixture."""
    wanted = _check_stems(stems)
    mix_dir, stems_dir = Path(mix_dir), Path(stems_dir)
    for arg, d in (("mix", mix_dir), ("stems", stems_dir)):
        if not d.is_dir():
            raise ValueError(f"--{arg} must be a directory (got {str(d)!r}, "
                             f"{'not a directory' if d.exists() else 'which does not exist'})")
    mixes = _audio_files(mix_dir)
    if not mixes:
        raise ValueError(f"--mix directory {str(mix_dir)!r} holds no audio files "
                         f"({', '.join(AUDIO_EXTENSIONS)})")
    folders = {p.name: p for p in sorted(stems_dir.iterdir())
               if p.is_dir() and not p.name.startswith(".")}
    only_mix = sorted(set(mixes) - set(folders))
    only_stems = sorted(set(folders) - set(mixes))
    if only_mix or only_stems:
        parts = []
        if only_mix:
            parts.append(f"in --mix without a folder in --stems: {_listing(only_mix)}")
        if only_stems:
            parts.append(f"in --stems without a mixture in --mix: {_listing(only_stems)}")
        raise ValueError("unmatched songs (mixtures are paired with stem folders by name): "
                         + "; ".join(parts))
    songs = []
    for name in sorted(mixes):
        files = _audio_files(folders[name])
        missing = [s for s in wanted if s not in files]
        if missing:
            raise ValueError(f"song {name!r}: {folders[name]} has no file for the stem(s) "
                             f"{', '.join(missing)} (found: {', '.join(files) or 'nothing'})")
        songs.append(Song(name, mixes[name], {s: files[s] for s in wanted}))
    return songs


def _load_song(song: Song) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    from hushboard.io import read_audio

    def read(path: Path, what: str) -> tuple[np.ndarray, float]:
        try:
            return read_audio(path)
        except Exception as exc:  # noqa: BLE001 - pedalboard raises several types
            raise OSError(f"cannot read the {what} of song {song.name!r} ({path}): "
                          f"{exc}") from None

    mix, sr = read(song.mix, "mixture")
    if sr != int(sr):
        raise ValueError(f"{song.name}: sample rate must be a whole number of Hz (got {sr})")
    if mix.shape[1] == 0:
        raise ValueError(f"{song.name}: the mixture is empty")
    refs = {}
    for stem, path in song.stems.items():
        ref, sr_s = read(path, f"{stem} stem")
        if sr_s != sr:
            raise ValueError(f"{song.name}: the {stem} stem is at {sr_s:g} Hz, the mixture at "
                             f"{sr:g} Hz; resample one of them")
        if ref.shape != mix.shape:
            raise ValueError(f"{song.name}: the {stem} stem has shape (channels, samples) "
                             f"{ref.shape}, the mixture {mix.shape}; they must be aligned")
        refs[stem] = ref.astype(np.float64)
    return mix.astype(np.float64), refs, int(sr)


# -- baselines ----------------------------------------------------------------------------------
def _stft(x: np.ndarray, n_fft: int, hop: int) -> Any:
    """(channels, samples) -> complex64 torch tensor (channels, bins, frames); Hann, centred."""
    import torch

    window = torch.hann_window(n_fft, dtype=torch.float32)
    return torch.stft(torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32), n_fft,
                      hop, window=window, center=True, pad_mode="constant",
                      return_complex=True)


def _istft(spec: Any, n_fft: int, hop: int, length: int) -> np.ndarray:
    import torch

    window = torch.hann_window(n_fft, dtype=torch.float32)
    y = torch.istft(spec, n_fft, hop, window=window, center=True, length=length)
    return y.numpy().astype(np.float64)


def _as_channels(audio: Any, name: str) -> tuple[np.ndarray, bool]:
    a = np.asarray(audio)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name} must hold real numbers (got dtype {a.dtype})")
    mono = a.ndim == 1
    a = a[None].astype(np.float64) if mono else a.astype(np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"{name} must be (samples,) or (channels, samples) and not empty "
                         f"(got shape {np.shape(audio)})")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or Inf")
    return a, mono


_IRM_EPS = float(np.finfo(np.float64).eps)  # sigsep's oracle: np.finfo(float).eps


def irm_oracle(mix: Any, references: dict[str, Any], sample_rate: float | None = None, *,
               power: float = 2.0, n_fft: int = 4096, hop_length: int = 1024
               ) -> dict[str, np.ndarray]:
    """The oracle ideal ratio mask: each stem's estimate is the mixture's STFT times
    ``|S_j|^power / (sum_k |S_k|^power + eps)``, per channel, inverted to the time domain.

    This is sigsep's IRM oracle (sigsep-mus-oracle ``IRM``: ``IRM2`` for ``power=2``, power
    ratios, the default, a Wiener-like mask and the stronger oracle on SDR; ``IRM1`` for
    ``power=1``, magnitude ratios): Hann-windowed STFT of ``n_fft`` 4096 and hop 1024 samples
    (93 ms / 23 ms at 44.1 kHz), centred with zero padding, float32 spectra, sigsep's
    ``eps = 2.2e-16`` (float64 machine epsilon) in the denominator;
    the inverse is the least-squares overlap-add (``torch.istft``). When the references do not
    add up to the mixture (a subset of the stems, or quantised files), the remainder
    ``mix - sum(references)`` is one more source in the denominator, so the masks keep
    measuring shares of the true mixture. It needs the true stems, so it is an upper-bound
    reference, not a separator.

    Args:
        mix: the mixture.
        references: stem name -> true stem, each shaped like ``mix``.
        sample_rate: unused (the STFT is in samples, as sigsep's); accepted for symmetry.
        power: 2 (power ratio) or 1 (magnitude ratio), any value > 0.
        n_fft: STFT size.
        hop_length: STFT hop.

    Returns:
        ``{stem: estimate}`` for every reference, float64, shaped like ``mix``.

    Shape:
        mix and each reference: ``(samples,)`` or ``(channels, samples)``.
    """
    x, mono = _as_channels(mix, "mix")
    if not references:
        raise ValueError("references must name at least one stem (got none)")
    if (isinstance(power, bool) or not isinstance(power, numbers.Real)
            or not (math.isfinite(power) and power > 0)):
        raise ValueError(f"power must be a number > 0 (got {power!r})")
    refs = {}
    for stem, r in references.items():
        a, _ = _as_channels(r, f"references[{stem!r}]")
        if a.shape != x.shape:
            raise ValueError(f"references[{stem!r}] must have the mixture's shape {x.shape} "
                             f"(got {a.shape})")
        refs[stem] = a
    n = x.shape[1]
    spec_x = _stft(x, n_fft, hop_length)
    rest = x - sum(refs.values())
    total = _stft(rest, n_fft, hop_length).abs() ** power + _IRM_EPS
    parts = {}
    for stem, a in refs.items():
        parts[stem] = _stft(a, n_fft, hop_length).abs() ** power
        total += parts[stem]
    out = {}
    for stem, p in parts.items():
        y = _istft(spec_x * (p / total), n_fft, hop_length, n)
        out[stem] = y[0] if mono else y
    return out


def _odd(v: float) -> int:
    k = max(1, round(v))
    return k if k % 2 else k + 1


def _raised_cosine(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, a half cosine in between."""
    t = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)


# the spectral baseline's constants (documented in spectral_separate)
_HPSS_TIME_S = 0.4
_HPSS_FREQ_HZ = 330.0
_BASS_XOVER_HZ = (150.0, 250.0)
_VOICE_BAND_HZ = (100.0, 200.0, 4000.0, 6000.0)
_CENTRE_POWER = 2.0


def spectral_separate(mix: Any, sample_rate: float, *, stems: Sequence[str] | None = None
                      ) -> dict[str, np.ndarray]:
    """A plain, non-learned four-stem separator (the ``spectral`` baseline).

    On the STFT of the mixture (Hann, ``n_fft`` the power of two nearest 93 ms, 4096 at
    44.1 kHz, hop ``n_fft/4``):

    1. HPSS (Fitzgerald 2010) on the channel-mean magnitude ``A``: ``H`` = ``A`` median
       filtered over time (about 0.4 s, 17 frames at 44.1 kHz), ``P`` = ``A`` median filtered
       over frequency (about 330 Hz, 31 bins); soft masks ``Mp = P^2 / (H^2 + P^2)``,
       ``Mh = 1 - Mp`` (shared by the channels, so the stereo image is kept).
    2. drums = ``Mp`` X.
    3. bass = ``Mh L(f)`` X, with ``L`` a raised-cosine low-pass crossover: 1 below 150 Hz,
       0 above 250 Hz (-6 dB at 200 Hz).
    4. Of the remaining harmonic part ``Mh (1 - L)`` X, vocals take the centre-panned share in
       the voice band: ``V = B(f) c^2`` with ``c = max(0, 2 |sum_ch X|^2 / (C sum_ch |X|^2)
       - 1)`` the inter-channel similarity (for stereo, ``2 Re(X_L conj X_R) / (|X_L|^2 +
       |X_R|^2)``, clipped at 0: 1 for a source mixed equally into both channels in phase, 0
       for a hard-panned or anti-phase one; 1 everywhere for mono, which has no spatial cue)
       and ``B`` a band-pass of raised-cosine edges, rising over 100-200 Hz and falling over
       4-6 kHz.
    5. other = the mixture minus the three stems above (in the time domain), so the four
       stems add up to the mixture (to float64 rounding).

    Args:
        mix: the mixture.
        sample_rate: in Hz (sets the STFT size, the filters and the bands).
        stems: the stems to return (default: all four).

    Returns:
        ``{stem: estimate}``, float64, shaped like ``mix``.

    Shape:
        mix: ``(samples,)`` or ``(channels, samples)``.
    """
    from scipy.ndimage import median_filter

    wanted = _check_stems(stems)
    x, mono = _as_channels(mix, "mix")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) or not (
            math.isfinite(sample_rate) and 4000 <= sample_rate <= 384000):
        raise ValueError(f"sample_rate must be a number of Hz in [4000, 384000] "
                         f"(got {sample_rate!r})")
    sr = float(sample_rate)
    n = x.shape[1]
    n_fft = 1 << max(6, round(math.log2(sr * 0.0929)))
    hop = n_fft // 4
    spec = _stft(x, n_fft, hop)  # (C, F, T)
    mag = spec.abs().numpy().astype(np.float64)
    a = mag.mean(axis=0)
    kt = _odd(_HPSS_TIME_S * sr / hop)
    kf = _odd(_HPSS_FREQ_HZ * n_fft / sr)
    h = median_filter(a, size=(1, kt), mode="reflect")
    p = median_filter(a, size=(kf, 1), mode="reflect")
    hp = h**2 + p**2
    m_p = np.divide(p**2, hp, out=np.zeros_like(hp), where=hp > 0)
    m_h = 1.0 - m_p
    f = np.arange(n_fft // 2 + 1) * sr / n_fft
    low = 1.0 - _raised_cosine(f, *_BASS_XOVER_HZ)
    lo1, lo2, hi1, hi2 = _VOICE_BAND_HZ
    band = _raised_cosine(f, lo1, lo2) * (1.0 - _raised_cosine(f, hi1, hi2))
    c = x.shape[0]
    if c == 1:
        centre = np.ones_like(a)
    else:
        s = spec.numpy()
        energy = np.sum(mag**2, axis=0)
        coherent = np.abs(s.sum(axis=0)) ** 2
        ratio = np.divide(coherent, c * energy, out=np.zeros_like(energy), where=energy > 0)
        centre = np.clip(2.0 * ratio - 1.0, 0.0, 1.0)
    v = band[:, None] * centre**_CENTRE_POWER
    masks = {"drums": m_p, "bass": m_h * low[:, None], "vocals": m_h * (1 - low)[:, None] * v}
    import torch

    est = {k: _istft(spec * torch.as_tensor(m, dtype=torch.float32), n_fft, hop, n)
           for k, m in masks.items()}
    est["other"] = x - est["drums"] - est["bass"] - est["vocals"]
    return {k: (est[k][0] if mono else est[k]) for k in wanted}


# -- systems ------------------------------------------------------------------------------------
@dataclass
class _System:
    name: str
    kind: str  # "model" or "baseline"
    run: Callable[[np.ndarray, int, dict[str, np.ndarray]], dict[str, np.ndarray]]


def _model_label(model: str) -> str:
    """A system's name: a weights file's stem; each model's for a bag ``A+B``."""
    m = str(model)
    parts = [m] if os.path.isfile(m) else m.split("+")
    return "+".join(Path(p).stem if p.endswith(".safetensors") else p for p in parts)


def _model_system(model: str, stems: list[str], wiener: bool, device: str,
                  flip: bool = False, shifts: int = 0) -> _System:
    def run(mix: np.ndarray, sr: int, refs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from hushboard.separation import separate

        return separate(mix.astype(np.float32), sr, model=model, stems=list(stems),
                        wiener=wiener, device=device, flip=flip, shifts=shifts)

    return _System(_model_label(model), "model", run)


def _baseline_system(name: str, stems: list[str], irm_power: float) -> _System:
    if name == "irm":
        def run(mix, sr, refs):
            return irm_oracle(mix, refs, sr, power=irm_power)
    elif name == "spectral":
        def run(mix, sr, refs):
            return spectral_separate(mix, sr, stems=stems)
    else:
        def run(mix, sr, refs):
            return {s: mix.copy() for s in stems}
    return _System(name, "baseline", run)


def _build_systems(models: Sequence[str], baselines: Sequence[str] | None, stems: list[str],
                   wiener: bool, device: str, irm_power: float, flip: bool = False,
                   shifts: int = 0) -> list[_System]:
    if isinstance(models, str):
        models = [models]
    names: set[str] = set()
    systems = []
    if models:
        try:
            import hushboard.separation  # noqa: F401
        except ImportError as exc:
            raise ValueError(f"separator models need hushboard.separation, which does not "
                             f"import here ({exc})") from None
    for m in models:
        label = _model_label(m)
        if label in names or label in BASELINES:
            raise ValueError(f"--model {m!r} is given twice or clashes with the name "
                             f"{label!r} of another system")
        names.add(label)
        systems.append(_model_system(m, stems, wiener, device, flip, shifts))
    for b in (DEFAULT_BASELINES if baselines is None else list(baselines)):
        if b not in BASELINES:
            raise ValueError(f"unknown baseline {b!r} in --baselines; available: "
                             f"{', '.join(BASELINES)} (or none)")
        if b in names:
            continue
        names.add(b)
        systems.append(_baseline_system(b, stems, irm_power))
    if not systems:
        raise ValueError("nothing to evaluate: give --model and/or --baselines")
    return systems


def _check_estimates(system: str, song: str, out: Any, stems: list[str],
                     shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    if not isinstance(out, dict):
        raise TypeError(f"{system} returned {type(out).__name__} for {song!r}, expected a "
                        f"dict of stems")
    missing = [s for s in stems if s not in out]
    if missing:
        raise ValueError(f"{system} returned no {', '.join(missing)} for {song!r} (got "
                         f"{', '.join(map(str, out)) or 'nothing'})")
    est = {}
    for s in stems:
        a = np.asarray(out[s], np.float64)
        if a.shape != shape:
            raise ValueError(f"{system} returned a {s} stem of shape {a.shape} for {song!r}, "
                             f"expected the mixture's {shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{system} returned NaN or Inf in the {s} stem of {song!r}")
        est[s] = a
    return est


# -- scoring ------------------------------------------------------------------------------------
def _score_song(refs: dict[str, np.ndarray], est: dict[str, np.ndarray], sr: int,
                stems: list[str], bss_eval: bool = False) -> dict[str, dict[str, float]]:
    """Per stem: cSDR with museval's joint silence rule, uSDR, SI-SDR, and SI-SIR, SI-SAR
    and the other stems' leaks (``si_sdr_decomposition``) when two or more stems are scored;
    with ``bss_eval``, museval's ISR, SIR and SAR (medians over the cSDR's chunks)."""
    chunks = np.stack([chunk_sdr(refs[s], est[s], sr) for s in stems])
    chunks[:, np.isnan(chunks).any(axis=0)] = np.nan  # museval: silent anywhere -> NaN for all
    references = np.stack([refs[s] for s in stems])
    images = {m: np.full(chunks.shape, np.nan) for m in BSS_MEASURES}
    if bss_eval and not np.isnan(chunks).all():
        images = bss_eval_images(references, np.stack([est[s] for s in stems]), sr)
    span = _zero_mean_rows(references)
    gram = span @ span.T
    playing = [bool(np.any(span[i])) for i in range(len(stems))]
    out = {}
    for i, s in enumerate(stems):
        ok = chunks[i][~np.isnan(chunks[i])]
        parts = {"si_sir": float("nan"), "si_sar": float("nan"),
                 "leak_db": {o: float("nan") for o in stems if o != s}}
        if len(stems) > 1 and playing[i]:
            e = est[s].ravel()
            d = _si_decompose(span, gram, e - e.mean(), i)
            parts = {"si_sir": d["si_sir"], "si_sar": d["si_sar"],
                     "leak_db": {o: float(d["leak_db"][k]) if playing[k] else float("nan")
                                 for k, o in enumerate(stems) if o != s}}
        out[s] = {
            "csdr": float(np.median(ok)) if ok.size else float("nan"),
            # a stem silent throughout (an instrumental song's vocals) has no SDR: the
            # challenge formula would score any leak into it at -70 dB or so
            "usdr": usdr(refs[s], est[s]) if np.any(refs[s]) else float("nan"),
            "si_sdr": si_snr(refs[s], est[s]) if np.any(refs[s]) else float("nan"),
            **parts,
            **{m: _nan_stat(images[m][i], np.median) for m in BSS_MEASURES},
            "chunks": int(ok.size),
        }
    return out


def _nan_stat(values: Sequence[float] | np.ndarray, fn: Callable[[np.ndarray], Any]) -> float:
    v = np.asarray(values, np.float64)
    v = v[~np.isnan(v)]
    return float(fn(v)) if v.size else float("nan")


def _summarise(rows: list[dict[str, Any]], systems: list[str], stems: list[str]
               ) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for sys_name in systems:
        out[sys_name] = {}
        for s in stems:
            sel = [r for r in rows if r["system"] == sys_name and r["stem"] == s]
            csdr_vals = [r["csdr"] for r in sel]
            out[sys_name][s] = {
                "n": int(sum(not math.isnan(v) for v in csdr_vals)),
                "csdr": _nan_stat(csdr_vals, np.median),
                "usdr": _nan_stat([r["usdr"] for r in sel], np.mean),
                "si_sdr": _nan_stat([r["si_sdr"] for r in sel], np.mean),
                "si_sir": _nan_stat([r["si_sir"] for r in sel], np.mean),
                "si_sar": _nan_stat([r["si_sar"] for r in sel], np.mean),
                **{m: _nan_stat([r[m] for r in sel], np.median) for m in BSS_MEASURES},
                "leak_db": {o: _nan_stat([r["leak_db"][o] for r in sel], np.mean)
                            for o in stems if o != s},
            }
        out[sys_name]["mean"] = {
            "n": min(out[sys_name][s]["n"] for s in stems),
            **{m: _nan_stat([out[sys_name][s][m] for s in stems], np.mean) for m in MEASURES},
        }
    if "irm" in systems:
        for sys_name in systems:
            for key in (*stems, "mean"):
                if key == "mean":
                    gaps = [out[sys_name][s]["csdr_gap_irm"] for s in stems]
                    out[sys_name][key]["csdr_gap_irm"] = _nan_stat(gaps, np.mean)
                else:
                    out[sys_name][key]["csdr_gap_irm"] = (out[sys_name][key]["csdr"]
                                                          - out["irm"][key]["csdr"])
    return out


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the probability, were either system equally likely to win
    each song, of a split at least as uneven as ``wins`` against ``losses`` (ties left out)."""
    for name, v in (("wins", wins), ("losses", losses)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name} must be a count >= 0 (got {v!r})")
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def paired_comparison(rows: list[dict[str, Any]], system: str, reference: str,
                      stems: Sequence[str]) -> dict[str, dict[str, float]]:
    """``system`` against ``reference`` song by song, per stem and for the stems' mean.

    A median over a dozen songs moves with whichever song lands in the middle, so two models
    close on it are compared on the songs both scored: per stem, the songs where ``system``'s
    cSDR is higher and lower, the mean and median of the per-song differences, a two-sided
    sign test on the split, and the mean difference of uSDR and SI-SDR. "mean" pools the
    stems' (song, stem) pairs.

    Returns:
        ``{stem or "mean": {"n", "higher", "lower", "csdr_diff_mean", "csdr_diff_median",
        "sign_p", "usdr_diff_mean", "si_sdr_diff_mean"}}`` (differences ``system - reference``
        in dB; NaN where no song has both).
    """
    by = {(r["song"], r["system"], r["stem"]): r for r in rows}
    songs = list(dict.fromkeys(r["song"] for r in rows))

    def diffs(stem_list: Sequence[str], measure: str) -> np.ndarray:
        return np.asarray([by[(g, system, s)][measure] - by[(g, reference, s)][measure]
                           for s in stem_list for g in songs
                           if (g, system, s) in by and (g, reference, s) in by], np.float64)

    out = {}
    for key, group in [*((s, [s]) for s in stems), ("mean", list(stems))]:
        c = diffs(group, "csdr")
        higher, lower = int((c > 0).sum()), int((c < 0).sum())
        out[key] = {
            "n": int((~np.isnan(c)).sum()), "higher": higher, "lower": lower,
            "csdr_diff_mean": _nan_stat(c, np.mean),
            "csdr_diff_median": _nan_stat(c, np.median),
            "sign_p": sign_test(higher, lower),
            "usdr_diff_mean": _nan_stat(diffs(group, "usdr"), np.mean),
            "si_sdr_diff_mean": _nan_stat(diffs(group, "si_sdr"), np.mean),
        }
    return out


# -- the run ------------------------------------------------------------------------------------
def evaluate_separation(
    mix_dir: str | os.PathLike, stems_dir: str | os.PathLike, *,
    models: Sequence[str] = (), baselines: Sequence[str] | None = None,
    stems: Sequence[str] | None = None, wiener: bool = False, device: str = "cpu",
    irm_power: float = 2.0, out_dir: str | os.PathLike | None = None,
    progress: bool | None = None, log: Any = None, flip: bool = False, shifts: int = 0,
    bss_eval: bool = False,
) -> SeparationResult:
    """Run every separator and baseline on every song and score each stem.

    Args:
        mix_dir: folder of mixtures (``<song>.flac``, ``.wav``, ...).
        stems_dir: folder of one sub-folder per song holding ``<stem>.flac`` (or ``.wav``...).
        models: separator models for ``hushboard.separation.separate``: ``default``, a
            shipped separator's name, or a BSRNN ``*.safetensors``.
        baselines: names from ``BASELINES`` (``irm``, ``spectral``, ``mix``); None means
            ``DEFAULT_BASELINES`` (irm and spectral), an empty list none.
        stems: the stems to score (default: vocals, drums, bass, other).
        wiener: passed to the models (multichannel Wiener post-filter).
        device: passed to the models (``cpu``, ``cuda``...).
        irm_power: the ``irm`` baseline's mask exponent (2: IRM2, 1: IRM1).
        flip, shifts: the models' test-time augmentation (see ``hushboard.separate``).
        bss_eval: also score museval's v4 ISR, SIR and SAR per stem
            (``hushboard.metrics.bss_eval_images``; a few seconds per song and system).
        out_dir: where to write ``separation_results.csv`` (per song, system and stem),
            ``separation_summary.csv``, ``separation_results.json`` and
            ``separation_report.txt``; None writes nothing.
        progress: show a tqdm bar (None: only on a terminal).
        log: a file for messages (default stderr).

    Returns:
        SeparationResult.
    """
    stems = _check_stems(stems)
    songs = find_songs(mix_dir, stems_dir, stems)
    if (isinstance(irm_power, bool) or not isinstance(irm_power, numbers.Real)
            or not (math.isfinite(irm_power) and irm_power > 0)):
        raise ValueError(f"--irm-power must be a number > 0 (got {irm_power!r})")
    if not isinstance(flip, bool):
        raise TypeError(f"flip must be a bool (got {type(flip).__name__})")
    if isinstance(shifts, bool) or not isinstance(shifts, int) or not 0 <= shifts <= 16:
        raise ValueError(f"--shifts must be an int in [0, 16] (got {shifts!r})")
    if not isinstance(bss_eval, bool):
        raise TypeError(f"bss_eval must be a bool (got {type(bss_eval).__name__})")
    systems = _build_systems(models, baselines, stems, bool(wiener), str(device),
                             float(irm_power), flip, shifts)
    names = [s.name for s in systems]
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    log = sys.stderr if log is None else log

    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    proc_time = dict.fromkeys(names, 0.0)
    audio_seconds = 0.0
    rate = None
    bar = tqdm(total=len(songs) * len(systems), desc="eval separation", unit="run",
               file=sys.stderr, disable=(None if progress is None else not progress),
               dynamic_ncols=True)
    try:
        for song in songs:
            mix, refs, sr = _load_song(song)
            rate = sr if rate is None else rate
            seconds = mix.shape[1] / sr
            audio_seconds += seconds
            for st in stems:
                if not np.any(refs[st]):
                    print(f"hushboard eval: {song.name}: the {st} stem is silent throughout; "
                          f"its cSDR, uSDR and SI-SDR are undefined (NaN) and, as in museval, no "
                          f"chunk of this song enters any stem's cSDR", file=log)
            for system in systems:
                bar.set_postfix_str(f"{song.name} / {system.name}", refresh=False)
                t0 = time.perf_counter()
                raw = system.run(mix, sr, refs)
                proc_time[system.name] += time.perf_counter() - t0
                est = _check_estimates(system.name, song.name, raw, stems, mix.shape)
                for st, values in _score_song(refs, est, sr, stems, bss_eval).items():
                    rows.append({"song": song.name, "system": system.name, "stem": st,
                                 "seconds": seconds, **values})
                bar.update(1)
    finally:
        bar.close()

    summary = _summarise(rows, names, stems)
    timing = {s: {"seconds": proc_time[s],
                  "rtf": proc_time[s] / audio_seconds if audio_seconds else float("nan")}
              for s in names}
    config = {"mix": str(mix_dir), "stems_dir": str(stems_dir), "stems": stems,
              "models": list(models), "baselines": [s.name for s in systems
                                                    if s.kind == "baseline"],
              "wiener": bool(wiener), "device": str(device), "irm_power": float(irm_power),
              "flip": flip, "shifts": shifts, "bss_eval": bss_eval,
              "songs": len(songs),
              "audio_seconds": audio_seconds, "sample_rate": rate,
              "csdr": "museval v4 SDR per 1-s chunk, median over chunks (chunks silent in "
                      "any stem skipped); median over songs",
              "usdr": "MDX/SDX global SDR, delta 1e-7; mean over songs",
              "si_sdr": "scale-invariant SDR of the whole stem; mean over songs",
              "si_sir_sar": "SI-SDR's error split into the other evaluated stems (SI-SIR) and "
                            "the rest (SI-SAR), Le Roux et al. 2019; mean over songs",
              **({"isr_sir_sar": "museval v4 images ISR, SIR, SAR (512-tap filters fitted "
                                 "on the whole song) per 1-s chunk, median over the cSDR's "
                                 "chunks; median over songs"} if bss_eval else {})}
    models_run = [s.name for s in systems if s.kind == "model"]
    paired = {m: paired_comparison(rows, m, models_run[0], stems) for m in models_run[1:]}
    result = SeparationResult(names, stems, rows, summary, timing, config, paired=paired)
    if out is not None:
        _write_outputs(result, out)
    return result


# -- reports ------------------------------------------------------------------------------------
def _fmt(v: Any, digits: int = 2, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def format_separation_report(result: SeparationResult) -> str:
    """The per-song table (cSDR and uSDR per stem), the per-system, per-stem summary
    (median cSDR, mean uSDR, SI-SDR, SI-SIR and SI-SAR over songs, and the cSDR gap to the IRM
    oracle when it ran), the leaks between stems, the paired comparison and the timing, as
    text."""
    stems = result.stems
    by = {(r["song"], r["system"], r["stem"]): r for r in result.rows}
    songs = list(dict.fromkeys(r["song"] for r in result.rows))
    parts = []
    head = ["song", "system", *(f"{s} cSDR" for s in stems), *(f"{s} uSDR" for s in stems)]
    body = [[song, sys_name,
             *(_fmt(by[(song, sys_name, s)]["csdr"]) for s in stems),
             *(_fmt(by[(song, sys_name, s)]["usdr"]) for s in stems)]
            for song in songs for sys_name in result.systems]
    parts.append("Per song (dB)\n" + _table(head, body, left=2))
    gap = "irm" in result.systems
    bss = bool(result.config.get("bss_eval"))
    head = ["system", "stem", "cSDR", "uSDR", "SI-SDR", "SI-SIR", "SI-SAR",
            *(["ISR", "SIR", "SAR"] if bss else []), *(["cSDR-IRM"] if gap else []), "n"]
    body = []
    for sys_name in result.systems:
        for key in (*stems, "mean"):
            st = result.summary[sys_name][key]
            body.append([sys_name, key, _fmt(st["csdr"]), _fmt(st["usdr"]), _fmt(st["si_sdr"]),
                         _fmt(st["si_sir"]), _fmt(st["si_sar"]),
                         *([_fmt(st[m]) for m in BSS_MEASURES] if bss else []),
                         *([_fmt(st["csdr_gap_irm"], signed=True)] if gap else []),
                         str(st["n"])])
    n = result.config.get("songs", len(songs))
    parts.append(f"Overall ({n} songs; cSDR: median over songs of the per-song median over "
                 f"1-s chunks (museval v4); uSDR: mean (MDX/SDX); SI-SDR, SI-SIR, SI-SAR: mean; dB"
                 + ("; ISR, SIR, SAR: museval v4 images, median over chunks, then songs"
                    if bss else "")
                 + ("; cSDR-IRM: gap to the oracle IRM" if gap else "") + ")\n"
                 + _table(head, body, left=2))
    if len(stems) > 1:
        head = ["system", "stem", *(f"from {o}" for o in stems)]
        body = [[sys_name, s, *("" if o == s else _fmt(result.summary[sys_name][s]["leak_db"][o])
                                for o in stems)]
                for sys_name in result.systems for s in stems]
        parts.append("Leaks (the part of each stem's estimate that is another stem, in dB under "
                     "the stem's own part; mean over songs where both play; the SI-SIR sums "
                     "them)\n" + _table(head, body, left=2))
    if result.paired:
        ref = result.systems[0]  # models come first; each later one is paired with the first
        head = ["system", "stem", "higher", "lower", "cSDR diff", "median", "sign p",
                "uSDR diff", "SI-SDR diff"]
        body = [[sys_name, key, str(st["higher"]), str(st["lower"]),
                 _fmt(st["csdr_diff_mean"], signed=True),
                 _fmt(st["csdr_diff_median"], signed=True),
                 "<0.001" if st["sign_p"] < 0.001 else _fmt(st["sign_p"], 3),
                 _fmt(st["usdr_diff_mean"], signed=True),
                 _fmt(st["si_sdr_diff_mean"], signed=True)]
                for sys_name, per in result.paired.items() for key, st in per.items()]
        parts.append(f"Paired against {ref}, song by song (higher / lower: songs whose cSDR is "
                     f"above / below {ref}'s; cSDR diff: mean per-song difference; sign p: "
                     f"two-sided sign test; mean: all (song, stem) pairs; dB)\n"
                     + _table(head, body, left=2))
    head = ["system", "seconds", "RTF"]
    body = [[s, _fmt(t["seconds"], 2), _fmt(t["rtf"], 4)] for s, t in result.timing.items()]
    parts.append("Timing (separation only; RTF: processing time / audio)\n" + _table(head, body))
    return "\n\n".join(parts) + "\n"


def _write_outputs(result: SeparationResult, out: Path) -> None:
    cols = ["song", "system", "stem", "seconds", "csdr", "usdr", "si_sdr", "si_sir", "si_sar",
            "isr", "sir", "sar", "chunks"]
    with open(out / "separation_results.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols + [f"leak_from_{o}" for o in result.stems])
        for r in result.rows:
            w.writerow([r[c] for c in cols]
                       + [r["leak_db"].get(o, "") for o in result.stems])
    with open(out / "separation_summary.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["system", "stem", "n", "csdr_median", "usdr_mean", "si_sdr_mean",
                    "si_sir_mean", "si_sar_mean", "isr_median", "sir_median", "sar_median",
                    "csdr_gap_irm", "rtf"])
        for sys_name, per in result.summary.items():
            for key, st in per.items():
                w.writerow([sys_name, key, st["n"], st["csdr"], st["usdr"], st["si_sdr"],
                            st["si_sir"], st["si_sar"], st["isr"], st["sir"], st["sar"],
                            st.get("csdr_gap_irm", ""),
                            result.timing[sys_name]["rtf"]])
    payload = {"config": result.config, "systems": result.systems, "stems": result.stems,
               "summary": result.summary, "timing": result.timing, "paired": result.paired,
               "per_song": result.rows}
    (out / "separation_results.json").write_text(json.dumps(_json_safe(payload), indent=2)
                                                 + "\n", encoding="utf-8")
    (out / "separation_report.txt").write_text(format_separation_report(result),
                                               encoding="utf-8")
    result.files = {k: str(out / k) for k in (
        "separation_results.csv", "separation_summary.csv", "separation_results.json",
        "separation_report.txt")}
