"""Import a folder of real speech (DNS Challenge, VCTK, LibriSpeech, your own) into a corpus.

Layouts recognised under the folder given:

- **clean only**: every audio file below it is clean speech (``clean/``, ``wav48/p225/...``,
  ``speaker/chapter/utt.flac`` ...).
- **clean + noisy pairs**: sub-folders whose names contain ``clean`` (``clean/``,
  ``clean_trainset_wav/`` ...) hold the speech; a sibling with ``clean`` replaced by ``noisy``
  (``noisy/``, ``noisy_trainset_wav/``) holds noisy versions under the same relative names. The
  clean side is imported as speech, and the residual ``noisy - clean`` of each pair of equal
  length is the *real noise* of that recording: it is written to ``<corpus>/real_noise/pairs/``,
  which :func:`hushboard.data.build_noise` imports as noise type ``pairs``.

**Speakers and splits.** The speaker of a file is the first group of ``speaker_pattern`` matched
against its path relative to the clean folder when given; otherwise ``reader_<id>`` in the name
(DNS/LibriVox), else the folder holding the file when it is nested (VCTK ``p225/``), else the
name's prefix before the first ``_`` or ``-`` (``p226_001.wav``). Speakers are shuffled with the
seed and split 10 % test, 10 % valid, 80 % train (at least one each from three speakers up), so
no speaker is in two splits. With fewer than three speakers, files are split instead (10/10/80)
and the result says so.

Each file is resampled to the corpus rate, trimmed of leading and trailing silence and set to
-23 dBFS RMS (as the TTS speech), and gets a row in ``speech_manifest.csv`` with engine ``real``,
voice = speaker, speaker group ``real:<speaker>`` and a sentence id from 10 000 000 up (unique,
apart from the TTS ids). Re-importing replaces the earlier real rows; ``build_speech`` keeps them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from hushboard.data import _audio
from hushboard.data.corpus import (
    _SPEECH_FIELDS,
    _SPEECH_LEVEL_DB,
    SPLITS,
    _check_int,
    _fractions,
    _progress,
    _settings_guard,
    _wav_seconds,
    _write_csv,
    read_manifest,
)

__all__ = ["REAL_SENTENCE_ID0", "find_real_speech", "import_real_speech"]

REAL_SENTENCE_ID0 = 10_000_000
_EXTS = {".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif"}


def _audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in _EXTS and p.is_file())


def find_real_speech(root: str | os.PathLike) -> list[tuple[Path, Path | None]]:
    """The ``(clean, noisy or None)`` files of a real-speech folder (see the module docstring).

    Raises:
        ValueError: no such folder, or no audio file in it.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"real_dir: {root} is not a folder")
    clean_dirs = sorted(d for d in root.iterdir() if d.is_dir() and "clean" in d.name.lower())
    pairs: list[tuple[Path, Path | None]] = []
    if clean_dirs:
        for cd in clean_dirs:
            i = cd.name.lower().index("clean")
            nd = cd.with_name(cd.name[:i] + "noisy" + cd.name[i + 5:])
            for f in _audio_files(cd):
                nf = nd / f.relative_to(cd)
                pairs.append((f, nf if nf.is_file() else None))
    else:
        pairs = [(f, None) for f in _audio_files(root)]
    if not pairs:
        raise ValueError(f"real_dir: no audio files ({', '.join(sorted(_EXTS))}) under {root}")
    return pairs


def _speaker(rel: Path, pattern: re.Pattern | None) -> str:
    s = rel.as_posix()
    if pattern is not None:
        m = pattern.search(s)
        if m is None:
            raise ValueError(f"speaker_pattern {pattern.pattern!r} does not match {s!r}")
        return m.group(1)
    m = re.search(r"reader_(\d+)", rel.name)
    if m:
        return f"reader{m.group(1)}"
    if len(rel.parts) > 1:
        return rel.parts[-2]
    return re.split(r"[_\-]", rel.stem, maxsplit=1)[0] or rel.stem


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", s)[:24] or "x"


def import_real_speech(out: str | os.PathLike, real_dir: str | os.PathLike, *,
                       sample_rate: int | None = None, seed: int = 0,
                       speaker_pattern: str | None = None,
                       progress: bool = True) -> dict:
    """Import the real speech of ``real_dir`` into the corpus ``out`` (see the module docstring).

    Args:
        out: corpus directory (created if new).
        real_dir: the folder of real speech (clean only, or clean + noisy pairs).
        sample_rate: the corpus rate; default: that of the corpus's TTS speech, else 16000.
            It must equal the TTS speech's rate when the corpus has some.
        seed: seeds the speaker split.
        speaker_pattern: a regular expression with one group, searched in each file's path
            relative to its clean folder, giving the speaker.
        progress: show a tqdm bar.

    Returns:
        ``{"files", "speakers", "split_by", "pairs", "splits": {split: files}}``.
    """
    out = Path(out)
    _check_int("seed", seed, 0, 2**63 - 1)
    meta = json.loads((out / "corpus.json").read_text()) if (out / "corpus.json").is_file() else {}
    corpus_sr = meta.get("speech", {}).get("sample_rate")
    if sample_rate is None:
        sample_rate = corpus_sr or 16000
    sr = _check_int("sample_rate", sample_rate, 8000, 48000)
    if corpus_sr is not None and corpus_sr != sr:
        raise ValueError(f"sample_rate: the corpus speech is {corpus_sr} Hz, asked for {sr}")
    pattern = None
    if speaker_pattern is not None:
        try:
            pattern = re.compile(speaker_pattern)
        except re.error as e:
            raise ValueError(f"speaker_pattern: not a regular expression ({e})") from None
        if pattern.groups != 1:
            raise ValueError(f"speaker_pattern must have exactly one group "
                             f"(got {pattern.groups} in {speaker_pattern!r})")
    real = Path(real_dir)
    found = find_real_speech(real)
    clean_roots = [d for d in sorted(real.iterdir()) if d.is_dir() and "clean" in d.name.lower()]

    def rel_of(p: Path) -> Path:
        for d in clean_roots:
            if p.is_relative_to(d):
                return p.relative_to(d)
        return p.relative_to(real)

    speakers = [_speaker(rel_of(c), pattern) for c, _ in found]
    names = sorted(set(speakers))
    if len(names) >= 3:
        split_by = "speaker"
        perm = np.random.default_rng([int(seed), 0x4EA1]).permutation(len(names))
        n_test, n_valid = _fractions(len(names))
        by_name = {names[i]: ("test" if r < n_test else "valid" if r < n_test + n_valid
                              else "train") for r, i in enumerate(perm)}
        splits = [by_name[s] for s in speakers]
    else:
        split_by = "file"
        perm = np.random.default_rng([int(seed), 0x4EA2]).permutation(len(found))
        n_test, n_valid = _fractions(len(found))
        splits = [""] * len(found)
        for r, i in enumerate(perm):
            splits[i] = "test" if r < n_test else "valid" if r < n_test + n_valid else "train"
    out.mkdir(parents=True, exist_ok=True)
    _settings_guard(out, "real_speech", {"dir": os.fspath(real_dir), "sample_rate": sr,
                                         "seed": int(seed), "speaker_pattern": speaker_pattern})
    for s in SPLITS:
        (out / "speech" / s).mkdir(parents=True, exist_ok=True)
    pair_dir = out / "real_noise" / "pairs"
    rows, n_pairs = [], 0
    with _progress(len(found), "real speech", progress) as bar:
        for k, ((clean, noisy), spk, split) in enumerate(zip(found, speakers, splits)):
            rel = f"speech/{split}/r{k:06d}_{_slug(spk)}.wav"
            need_speech = not (out / rel).is_file()
            if need_speech or noisy is not None:
                a, fsr = _audio.read_any(clean)
            if need_speech:
                y = _audio.trim_silence(_audio.resample(a, fsr, sr), sr)
                if y.size == 0 or not np.any(y):
                    bar.update(1)
                    continue  # a silent file: nothing to learn from
                _audio.write_wav(out / rel, _audio.normalize_rms(y, _SPEECH_LEVEL_DB), sr)
            if noisy is not None:
                b, nsr = _audio.read_any(noisy)
                if nsr == fsr and abs(b.size - a.size) <= max(1, a.size // 100):
                    n = min(a.size, b.size)
                    resid = b[:n].astype(np.float64) - a[:n]
                    if np.any(resid):
                        pair_dir.mkdir(parents=True, exist_ok=True)
                        _audio.write_wav(pair_dir / f"p{k:06d}_{_slug(spk)}.wav",
                                         _audio.normalize_rms(
                                             _audio.resample(resid.astype(np.float32), fsr, sr),
                                             -25.0), sr)
                        n_pairs += 1
            rows.append({"file": rel, "split": split, "engine": "real", "voice": spk,
                         "speaker_group": f"real:{spk}", "sentence_id": REAL_SENTENCE_ID0 + k,
                         "text": "", "rate": "1.000", "pitch": "1.000",
                         "duration_s": f"{_wav_seconds(out / rel):.4f}"})
            bar.update(1)
    if not rows:
        raise ValueError(f"real_dir: every audio file under {real} is silent")
    man = out / "speech_manifest.csv"
    kept = [r for r in read_manifest(man) if r["engine"] != "real"] if man.is_file() else []
    _write_csv(man, _SPEECH_FIELDS, kept + rows)
    return {"files": len(rows), "speakers": len(names), "split_by": split_by, "pairs": n_pairs,
            "splits": {s: sum(r["split"] == s for r in rows) for s in SPLITS}}
