"""On-the-fly mixing of corpus speech and noise: :class:`MixDataset` and a test-set writer.

Per item: speech of the split (an utterance, extended with further random utterances of the
split and short pauses until ``seconds`` is filled, then cropped), a random gentle EQ on it
(probability ``eq_prob``), a simulated room (probability ``reverb_prob``; the target is then the
early-reverb speech, see :mod:`hushboard.data.reverb`), a noise clip of the split (type drawn
uniformly among the split's types, then a clip and an offset; looped if short; its own random
EQ), scaled to a random SNR, and an overall level uniform in ``level_db`` dBFS RMS (scaled down
if the peak would pass 0.99). The SNR is measured against the speech as it is in the mixture
(reverberant if a room was applied). The same gain is applied to noisy and target.

Randomness: item ``i`` of epoch ``e`` uses the stream ``(seed, split, e, i)``. ``valid``/``test``
always use ``e = 0`` (fixed items); for ``train`` call :meth:`MixDataset.set_epoch` each epoch
(as with ``DistributedSampler``) to get fresh mixtures.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hushboard.data import _audio
from hushboard.data.corpus import SPLITS, read_manifest
from hushboard.data.reverb import random_room_ir, reverberate

__all__ = ["MixDataset", "mix_at_snr", "write_testset"]

try:  # torch is a hushboard dependency; keep this module importable without it for tooling
    from torch.utils.data import Dataset as _Base
except ImportError:  # pragma: no cover
    _Base = object


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Scale ``noise`` so that ``10 log10(sum speech^2 / sum noise^2) == snr_db``.

    Returns:
        ``(mixture, scaled_noise)``.

    Shape:
        speech, noise: (samples,) of equal length
    """
    s, n = np.asarray(speech, np.float64), np.asarray(noise, np.float64)
    if s.shape != n.shape or s.ndim != 1:
        raise ValueError(f"speech and noise must be 1-D of equal length (got {s.shape}, {n.shape})")
    ps, pn = np.sum(s**2), np.sum(n**2)
    if pn <= 0:
        raise ValueError("noise is silent; cannot set an SNR")
    if ps <= 0:
        raise ValueError("speech is silent; cannot set an SNR")
    n = n * np.sqrt(ps / (pn * 10 ** (snr_db / 10)))
    return s + n, n


def _range(name: str, v: Sequence[float], lo: float, hi: float) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (low, high) pair of numbers (got {v!r})") from None
    if not lo <= a <= b <= hi:
        raise ValueError(f"{name} must satisfy {lo} <= low <= high <= {hi} (got {v!r})")
    return a, b


class MixDataset(_Base):
    """Noisy/clean pairs mixed on the fly from a corpus built by ``hushboard data``.

    Args:
        corpus_dir: the corpus (``speech_manifest.csv``, ``noise_manifest.csv``).
        split: ``train``, ``valid`` or ``test``.
        sample_rate: output rate; the corpus is resampled if it differs.
        seconds: item length; ``None`` gives whole utterances (variable length, batch 1).
        seed: random seed.
        snr_db: SNR range (uniform), dB.
        reverb_prob: probability of a simulated room.
        eq_prob: probability of a random EQ on the speech, and separately on the noise.
        level_db: range of the mixture's RMS level, dBFS.
        items: items per epoch (default: the number of utterances in the split).
        noise_types: keep only these noise types (default: all in the corpus).
        second_noise_prob: probability that a second noise of another type is added to the
            first, 0-10 dB below it (the item's noise type is then ``"first+second"``).
        return_meta: also return a metadata dict (noise_type, snr_db, voice, speaker_group,
            sentence_id, text, rt60, gain_db).

    Shape:
        item: ``(noisy, clean)``, each float32 (samples,), or ``(noisy, clean, meta)``.
    """

    def __init__(self, corpus_dir: str | os.PathLike, split: str, *, sample_rate: int = 16000,
                 seconds: float | None = 4.0, seed: int = 0,
                 snr_db: Sequence[float] = (-5.0, 20.0), reverb_prob: float = 0.3,
                 eq_prob: float = 0.5, level_db: Sequence[float] = (-35.0, -15.0),
                 items: int | None = None, noise_types: Sequence[str] | None = None,
                 second_noise_prob: float = 0.0, return_meta: bool = False) -> None:
        self.root = Path(corpus_dir)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
            raise TypeError(f"sample_rate must be an int (got {type(sample_rate).__name__})")
        if not 8000 <= sample_rate <= 48000:
            raise ValueError(f"sample_rate must be in 8000..48000 (got {sample_rate})")
        if seconds is not None and not 0.1 <= float(seconds) <= 600:
            raise ValueError(f"seconds must be None or in 0.1..600 (got {seconds})")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int (got {seed!r})")
        for name, p in (("reverb_prob", reverb_prob), ("eq_prob", eq_prob),
                        ("second_noise_prob", second_noise_prob)):
            if not 0.0 <= float(p) <= 1.0:
                raise ValueError(f"{name} must be in 0..1 (got {p})")
        self.snr_db = _range("snr_db", snr_db, -30.0, 60.0)
        self.level_db = _range("level_db", level_db, -80.0, 0.0)
        for m in ("speech_manifest.csv", "noise_manifest.csv"):
            if not (self.root / m).is_file():
                raise ValueError(f"corpus_dir: {self.root / m} missing; build it with "
                                 "`hushboard data speech` and `hushboard data noise`")
        self.speech = [r for r in read_manifest(self.root / "speech_manifest.csv")
                       if r["split"] == split]
        noise = [r for r in read_manifest(self.root / "noise_manifest.csv") if r["split"] == split]
        if noise_types is not None:
            noise = [r for r in noise if r["type"] in set(noise_types)]
        if not self.speech:
            raise ValueError(f"corpus_dir: no speech in split {split!r}")
        if not noise:
            raise ValueError(f"corpus_dir: no noise in split {split!r}"
                             + (f" of types {list(noise_types)}" if noise_types else ""))
        self.noise_by_type: dict[str, list[dict]] = {}
        for r in noise:
            self.noise_by_type.setdefault(r["type"], []).append(r)
        self.noise_types = sorted(self.noise_by_type)
        if items is not None and (isinstance(items, bool) or int(items) != items or items < 1):
            raise ValueError(f"items must be a positive int (got {items!r})")
        self.split, self.sample_rate, self.seed = split, int(sample_rate), int(seed)
        self.seconds = None if seconds is None else float(seconds)
        self.reverb_prob, self.eq_prob = float(reverb_prob), float(eq_prob)
        self.second_noise_prob = float(second_noise_prob)
        self.items = len(self.speech) if items is None else int(items)
        self.return_meta = bool(return_meta)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the random mixtures of ``epoch`` (train only; valid/test stay fixed)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int (got {epoch!r})")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.items

    def _load(self, rel: str) -> np.ndarray:
        a, sr = _audio.read_wav(self.root / rel)
        return _audio.resample(a, sr, self.sample_rate)

    def _noise_crop(self, ntype: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples of a random clip of noise type ``ntype`` (looped when shorter)."""
        clips = self.noise_by_type[ntype]
        noise = self._load(clips[int(rng.integers(len(clips)))]["file"])
        if noise.size < n:
            noise = np.tile(noise, int(np.ceil(n / noise.size)) + 1)
        off = int(rng.integers(0, noise.size - n + 1))
        return noise[off:off + n]

    def mixture(self, index: int) -> tuple[np.ndarray, np.ndarray, dict]:
        """Item ``index`` as NumPy arrays plus its metadata (what ``__getitem__`` wraps)."""
        if not 0 <= index < self.items:
            raise IndexError(f"index {index} out of range for {self.items} items")
        sr = self.sample_rate
        ep = self.epoch if self.split == "train" else 0
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), ep, int(index)])
        first = self.speech[index % len(self.speech)] if ep == 0 else \
            self.speech[int(rng.integers(len(self.speech)))]
        speech = self._load(first["file"])
        if self.seconds is not None:
            n = int(round(self.seconds * sr))
            parts = [speech]
            total = speech.size
            while total < n + sr // 2:
                gap = np.zeros(int(rng.uniform(0.1, 0.6) * sr), np.float32)
                nxt = self._load(self.speech[int(rng.integers(len(self.speech)))]["file"])
                parts += [gap, nxt]
                total += gap.size + nxt.size
            speech = np.concatenate(parts)
            off = int(rng.integers(0, speech.size - n + 1))
            speech = speech[off:off + n]
        n = speech.size
        eq = ""
        if rng.random() < self.eq_prob:
            speech, eq = _audio.random_eq(speech, sr, rng)
        rt60 = 0.0
        if rng.random() < self.reverb_prob:
            ir = random_room_ir(sr, rng)
            wet, target = reverberate(speech, ir)
            rt60 = ir.rt60
        else:
            wet, target = speech, speech
        ntype = self.noise_types[int(rng.integers(len(self.noise_types)))]
        noise = self._noise_crop(ntype, n, rng)
        if rng.random() < self.eq_prob:
            noise, _ = _audio.random_eq(noise, sr, rng)
        if (self.second_noise_prob > 0 and len(self.noise_types) > 1
                and rng.random() < self.second_noise_prob):
            # no draw at all when off: mixtures (and test sets) made without it stay the same
            others = [t for t in self.noise_types if t != ntype]
            t2 = others[int(rng.integers(len(others)))]
            n2 = np.asarray(self._noise_crop(t2, n, rng), np.float64)
            n1 = np.asarray(noise, np.float64)
            e1, e2 = np.sum(n1**2), np.sum(n2**2)
            if e1 > 0 and e2 > 0:
                rel_db = float(rng.uniform(-10.0, 0.0))
                noise = n1 + n2 * np.sqrt(e1 / e2) * 10 ** (rel_db / 20)
                ntype = f"{ntype}+{t2}"
        snr = float(rng.uniform(*self.snr_db))
        wet64 = np.asarray(wet, np.float64)
        if np.sum(wet64**2) <= 1e-12 * n:  # a silent crop: nothing to set an SNR against
            wet64 = wet64 + 1e-6 * rng.standard_normal(n)
        noisy, _ = mix_at_snr(wet64, noise, snr)
        gain_db = float(rng.uniform(*self.level_db)) - _audio.rms_db(noisy)
        g = 10 ** (gain_db / 20)
        peak = max(np.max(np.abs(noisy)), np.max(np.abs(target))) * g
        if peak > 0.99:
            g *= 0.99 / peak
            gain_db = 20 * np.log10(g)
        meta = {"noise_type": ntype, "snr_db": snr, "voice": f"{first['engine']}:{first['voice']}",
                "speaker_group": first["speaker_group"], "sentence_id": int(first["sentence_id"]),
                "text": first["text"], "rt60": rt60, "eq": eq, "gain_db": float(gain_db)}
        return ((noisy * g).astype(np.float32), (np.asarray(target, np.float64) * g).astype(
            np.float32), meta)

    def __getitem__(self, index: int):
        import torch

        noisy, clean, meta = self.mixture(int(index))
        if self.return_meta:
            return torch.from_numpy(noisy), torch.from_numpy(clean), meta
        return torch.from_numpy(noisy), torch.from_numpy(clean)


_TEST_FIELDS = ("file", "noise_type", "snr_db", "voice", "speaker_group", "sentence_id", "text",
                "rt60", "gain_db")


def write_testset(corpus_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                  split: str = "test", n: int | None = None, sample_rate: int = 16000,
                  seconds: float | None = None, seed: int = 0, reverb_prob: float = 0.3,
                  progress: bool = True) -> list[dict]:
    """Write a fixed set of mixtures as ``out_dir/clean/*.wav``, ``out_dir/noisy/*.wav`` (same
    names) and ``out_dir/metadata.csv`` — the layout ``hushboard eval --clean --noisy`` reads.

    Args:
        corpus_dir: the corpus.
        split: which split to draw from (``test`` by default; ``valid`` also makes sense).
        n: number of mixtures (default: one per utterance of the split).
        sample_rate: Hz.
        seconds: fixed length, or ``None`` for whole utterances (default).
        seed: random seed (same seed, same files).
        reverb_prob: probability of a simulated room per mixture.
        progress: show a tqdm bar.

    Returns:
        The metadata rows.
    """
    if split == "train":
        raise ValueError("split: a fixed evaluation set must come from 'valid' or 'test'")
    ds = MixDataset(corpus_dir, split, sample_rate=sample_rate, seconds=seconds, seed=seed,
                    reverb_prob=reverb_prob, items=n)
    out = Path(out_dir)
    (out / "clean").mkdir(parents=True, exist_ok=True)
    (out / "noisy").mkdir(parents=True, exist_ok=True)
    from tqdm.auto import tqdm

    rows = []
    for i in tqdm(range(len(ds)), desc="testset", unit="file", disable=not progress):
        name = f"{split}_{i:05d}.wav"
        noisy, clean, meta = ds.mixture(i)
        if not ((out / "clean" / name).is_file() and (out / "noisy" / name).is_file()):
            _audio.write_wav(out / "clean" / name, clean, ds.sample_rate)
            _audio.write_wav(out / "noisy" / name, noisy, ds.sample_rate)
        rows.append({"file": name, "noise_type": meta["noise_type"],
                     "snr_db": f"{meta['snr_db']:.2f}", "voice": meta["voice"],
                     "speaker_group": meta["speaker_group"], "sentence_id": meta["sentence_id"],
                     "text": meta["text"], "rt60": f"{meta['rt60']:.3f}",
                     "gain_db": f"{meta['gain_db']:.2f}"})
    tmp = out / "metadata.csv.part"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(_TEST_FIELDS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out / "metadata.csv")
    return rows
