"""Build a training corpus on disk: TTS speech and noise, split by voice and by sentence.

Layout of a corpus directory::

    corpus.json                 settings (sample rate, seed, sentences, engines, split rule)
    speech/{train,valid,test}/s000123_<voice>.wav     16-bit mono, trimmed, -23 dBFS RMS
    speech_manifest.csv         file, split, engine, voice, speaker_group, sentence_id, text,
                                rate, pitch, duration_s
    noise/{train,valid,test}/<type>_0007.wav          16-bit mono, -25 dBFS RMS
    noise_manifest.csv          file, split, type, source, duration_s

**Split rule.** Voices are split by *speaker group* (a timbre: an espeak-ng variant across all
its accents, or one CMU speaker across flite and festival; see :mod:`hushboard.data.tts`). Within
each family (espeak, cmu) the groups of the whole catalogue are shuffled with the seed; the first
10 % (at least one) go to test, the next 10 % (at least one) to valid, the rest to train. Sentence
ids are shuffled with the seed the same way: 10 % test, 10 % valid, 80 % train. Every sentence is
spoken by one voice drawn from its own split (engine first, uniformly among the installed engines
with a voice in that split, then the voice), so no sentence and no voice variant (indeed no
timbre) occurs in two splits. Noise clips are generated per split from separate random streams;
babble is made only from the same split's speech.

Generation is resumable: every item's content depends only on (seed, its index), files are written
atomically, and existing files are skipped.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hushboard.data import _audio
from hushboard.data.text import generate_sentences
from hushboard.data.tts import Voice, all_voices, available_engines, render_many, voices_for

__all__ = [
    "SPLITS",
    "SpeechItem",
    "build_noise",
    "build_speech",
    "plan_speech",
    "read_manifest",
    "split_groups",
    "split_sentences",
]

SPLITS = ("train", "valid", "test")
_SPEECH_FIELDS = ("file", "split", "engine", "voice", "speaker_group", "sentence_id", "text",
                  "rate", "pitch", "duration_s")
_NOISE_FIELDS = ("file", "split", "type", "source", "duration_s")
_SPEECH_LEVEL_DB = -23.0


def _check_int(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int (got {type(v).__name__})")
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi} (got {v})")
    return int(v)


def _fractions(n: int) -> tuple[int, int]:
    """(n_test, n_valid) for n items: 10 % each, at least one each when n >= 3."""
    if n < 3:
        return (0, 0)
    k = max(1, int(round(0.1 * n)))
    return k, k


def split_groups(seed: int = 0) -> dict[str, str]:
    """Speaker group -> split, over the whole voice catalogue (independent of what is
    installed, so a corpus's split does not depend on the machine)."""
    groups = sorted({v.group for v in all_voices()})
    out: dict[str, str] = {}
    for fam in sorted({g.split(":")[0] for g in groups}):
        fg = [g for g in groups if g.split(":")[0] == fam]
        perm = np.random.default_rng([int(seed), 0x6A0]).permutation(len(fg))
        n_test, n_valid = _fractions(len(fg))
        for rank, i in enumerate(perm):
            out[fg[i]] = "test" if rank < n_test else "valid" if rank < n_test + n_valid else "train"
    return out


def split_sentences(n: int, seed: int = 0) -> list[str]:
    """The split of each sentence id ``0..n-1``."""
    perm = np.random.default_rng([int(seed), 0x5E7]).permutation(n)
    n_test, n_valid = _fractions(n)
    out = [""] * n
    for rank, i in enumerate(perm):
        out[i] = "test" if rank < n_test else "valid" if rank < n_test + n_valid else "train"
    return out


@dataclass(frozen=True)
class SpeechItem:
    """One planned utterance."""

    sentence_id: int
    text: str
    split: str
    voice: Voice
    rate: float
    pitch: float

    @property
    def file(self) -> str:
        """Path relative to the corpus directory."""
        return f"speech/{self.split}/s{self.sentence_id:06d}_{self.voice.slug}.wav"


def plan_speech(n_sentences: int, *, seed: int = 0,
                engines: Sequence[str] | None = None) -> list[SpeechItem]:
    """What :func:`build_speech` renders: one item per sentence, voice and prosody drawn from
    the seed (each sentence from its own random stream)."""
    n = _check_int("n_sentences", n_sentences, 1, 1_000_000)
    engines = list(available_engines() if engines is None else engines)
    if not engines:
        raise RuntimeError("no TTS engine found: install espeak-ng, flite or festival "
                           "(apt-get install espeak-ng flite festival festvox-kallpc16k)")
    voices = voices_for(engines)
    gsplit = split_groups(seed)
    by_split = {s: {e: [v for v in voices if v.engine == e and gsplit[v.group] == s]
                    for e in engines} for s in SPLITS}
    texts = generate_sentences(n, seed=seed)
    ssplit = split_sentences(n, seed)
    items = []
    for sid, (text, split) in enumerate(zip(texts, ssplit)):
        rng = np.random.default_rng([int(seed), 0x7E5, sid])
        pool = [vs for vs in by_split[split].values() if vs]
        if not pool:
            raise RuntimeError(f"no installed voice in split {split!r} (engines {engines})")
        vs = pool[int(rng.integers(len(pool)))]
        voice = vs[int(rng.integers(len(vs)))]
        items.append(SpeechItem(sid, text, split, voice, round(float(rng.uniform(0.8, 1.25)), 3),
                                round(float(rng.uniform(0.75, 1.35)), 3)))
    return items


def _settings_guard(out: Path, key: str, settings: dict) -> None:
    """Refuse to mix settings in one corpus directory (resume needs the same settings)."""
    path = out / "corpus.json"
    meta = json.loads(path.read_text()) if path.is_file() else {}
    if key in meta and meta[key] != settings:
        raise ValueError(f"out: {out} already holds {key} built with {meta[key]}; "
                         f"now asked for {settings}. Use the same settings or another directory")
    meta[key] = settings
    tmp = path.with_name("corpus.json.part")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _write_csv(path: Path, fields: Sequence[str], rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest CSV as dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _progress(total: int, desc: str, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="file", disable=not show)


def build_speech(out: str | os.PathLike, *, n_sentences: int = 1000, sample_rate: int = 16000,
                 seed: int = 0, engines: Sequence[str] | None = None, workers: int | None = None,
                 extend_band: bool = False, progress: bool = True) -> list[dict]:
    """Render the planned sentences into ``out/speech`` and write ``out/speech_manifest.csv``.

    Each utterance is rendered at the engine's rate, resampled to ``sample_rate`` (polyphase),
    trimmed of leading and trailing silence (-45 dB, 50 ms kept) and set to -23 dBFS RMS.
    Existing files are kept (resume).

    Args:
        out: corpus directory (created).
        n_sentences: number of distinct sentences (one utterance each).
        sample_rate: 8000..48000 Hz.
        seed: random seed (sentences, voices, prosody, splits).
        engines: TTS engines to use (default: all installed).
        workers: parallel render jobs (default: CPU count).
        extend_band: give speech rendered below ``sample_rate`` a synthetic upper band above
            its engine's band edge (:func:`hushboard.data.bandwidth.extend_band`), seeded per
            utterance; for fullband corpora, whose TTS voices end at 7-14 kHz.
        progress: show a tqdm bar.

    Returns:
        The manifest rows.
    """
    from hushboard.data.bandwidth import band_edge
    from hushboard.data.bandwidth import extend_band as _extend

    sr = _check_int("sample_rate", sample_rate, 8000, 48000)
    _check_int("seed", seed, 0, 2**63 - 1)
    out = Path(out)
    items = plan_speech(n_sentences, seed=seed, engines=engines)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"n_sentences": int(n_sentences), "sample_rate": sr, "seed": int(seed),
                "engines": sorted({i.voice.engine for i in items})}
    if extend_band:
        settings["extend_band"] = True  # absent when off: corpora built before it still match
    _settings_guard(out, "speech", settings)
    for s in SPLITS:
        (out / "speech" / s).mkdir(parents=True, exist_ok=True)
    todo = [it for it in items if not (out / it.file).is_file()]
    chunks: list[list[SpeechItem]] = []
    by_voice: dict[str, list[SpeechItem]] = {}
    for it in todo:
        by_voice.setdefault(it.voice.id, []).append(it)
    for vid in sorted(by_voice):
        lst = by_voice[vid]
        for k in range(0, len(lst), 25):
            chunks.append(lst[k:k + 25])

    def job(chunk: list[SpeechItem]) -> int:
        rendered = render_many(chunk[0].voice, [(i.text, i.rate, i.pitch) for i in chunk],
                               workdir=out)
        for it, (a, native) in zip(chunk, rendered):
            a = _audio.resample(a, native, sr)
            a = _audio.trim_silence(a, sr)
            if extend_band and band_edge(native) < 0.45 * sr:
                a = _extend(a, sr, band_edge(native),
                            np.random.default_rng([int(seed), it.sentence_id, 0xBA5D]))
            _audio.write_wav(out / it.file, _audio.normalize_rms(a, _SPEECH_LEVEL_DB), sr)
        return len(chunk)

    n_workers = workers or os.cpu_count() or 1
    with _progress(len(items), "speech", progress) as bar:
        bar.update(len(items) - len(todo))
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for done in pool.map(job, chunks):
                bar.update(done)
    rows = [{"file": it.file, "split": it.split, "engine": it.voice.engine,
             "voice": it.voice.name, "speaker_group": it.voice.group,
             "sentence_id": it.sentence_id, "text": it.text, "rate": f"{it.rate:.3f}",
             "pitch": f"{it.pitch:.3f}", "duration_s": f"{_wav_seconds(out / it.file):.4f}"}
            for it in items]
    man = out / "speech_manifest.csv"
    real = [r for r in read_manifest(man) if r["engine"] == "real"] if man.is_file() else []
    _write_csv(man, _SPEECH_FIELDS, rows + real)  # speech imported by import_real_speech stays
    return rows


def _real_noise_files(root: Path) -> list[tuple[Path, str]]:
    exts = {".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif"}
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in exts and p.is_file())
    out = []
    for p in files:
        rel = p.relative_to(root)
        out.append((p, rel.parts[0] if len(rel.parts) > 1 else "real"))
    return out


def build_noise(out: str | os.PathLike, *, clips: tuple[int, int, int] = (24, 4, 4),
                seconds: float = 10.0, sample_rate: int = 16000, seed: int = 0,
                types: Sequence[str] | None = None, real_noise_dir: str | os.PathLike | None = None,
                progress: bool = True) -> list[dict]:
    """Generate labelled noise clips into ``out/noise`` and write ``out/noise_manifest.csv``.

    Args:
        out: corpus directory. ``babble`` reads ``out/speech_manifest.csv`` (build speech first,
            at the same sample rate).
        clips: clips per type for (train, valid, test).
        seconds: clip length.
        sample_rate: Hz.
        seed: random seed; clip k of type t in split s depends only on (seed, t, s, k).
        types: noise types (default: all of :data:`~hushboard.data.noise.NOISE_TYPES`).
        real_noise_dir: a folder of real noise recordings (any depth; the first sub-folder
            names the type, files directly inside are type ``real``), assigned to splits by
            file (10 % test, 10 % valid, seeded), resampled to ``sample_rate`` and set to
            -25 dBFS RMS. ``out/real_noise`` (the residuals of clean + noisy pairs written by
            :func:`hushboard.data.real.import_real_speech`) is imported the same way when present.
        progress: show a tqdm bar.

    Returns:
        The manifest rows.
    """
    from hushboard.data.noise import NOISE_TYPES, babble, generate_noise, music

    sr = _check_int("sample_rate", sample_rate, 8000, 48000)
    _check_int("seed", seed, 0, 2**63 - 1)
    if len(clips) != 3:
        raise ValueError(f"clips must be 3 counts (train, valid, test) (got {clips})")
    for c in clips:
        _check_int("clips", c, 0, 100_000)
    if not 0.5 <= seconds <= 600:
        raise ValueError(f"seconds must be in 0.5..600 (got {seconds})")
    types = list(NOISE_TYPES if types is None else types)
    bad = [t for t in types if t not in NOISE_TYPES]
    if bad:
        raise ValueError(f"types must be among {NOISE_TYPES} (got {bad})")
    out = Path(out)
    speech: dict[str, list[np.ndarray]] = {}
    if "babble" in types:
        man = out / "speech_manifest.csv"
        if not man.is_file():
            raise ValueError(f"out: babble needs the corpus speech first ({man} missing); run "
                             "`hushboard data speech` or leave babble out of types")
        rows = read_manifest(man)
        for r in rows:
            a, fsr = _audio.read_wav(out / r["file"])
            if fsr != sr:
                raise ValueError(f"sample_rate: corpus speech is {fsr} Hz, noise asked for {sr}")
            speech.setdefault(r["split"], []).append(a)
    out.mkdir(parents=True, exist_ok=True)
    _settings_guard(out, "noise", {"clips": list(clips), "seconds": float(seconds),
                                   "sample_rate": sr, "seed": int(seed), "types": types})
    jobs = []
    for s_i, split in enumerate(SPLITS):
        (out / "noise" / split).mkdir(parents=True, exist_ok=True)
        for t in types:
            for k in range(clips[s_i]):
                jobs.append((split, s_i, t, k))

    def job(j) -> dict:
        split, s_i, t, k = j
        rel = f"noise/{split}/{t}_{k:04d}.wav"
        if not (out / rel).is_file():
            rng = np.random.default_rng([int(seed), NOISE_TYPES.index(t), s_i, k])
            if t == "babble":
                pool = speech.get(split) or [a for v in speech.values() for a in v]
                y = babble(pool, seconds, sr, rng)
            elif t == "music":
                y = music(seconds, sr, rng)
            else:
                y = generate_noise(t, seconds, sr, rng)
            _audio.write_wav(out / rel, y, sr)
        return {"file": rel, "split": split, "type": t, "source": "generated",
                "duration_s": f"{_wav_seconds(out / rel):.4f}"}

    rows: list[dict] = []
    real = _real_noise_files(Path(real_noise_dir)) if real_noise_dir is not None else []
    if real_noise_dir is not None and not real:
        raise ValueError(f"real_noise_dir: no audio files under {real_noise_dir}")
    if (out / "real_noise").is_dir():
        real += _real_noise_files(out / "real_noise")
    with _progress(len(jobs) + len(real), "noise", progress) as bar:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for row in pool.map(job, jobs):
                rows.append(row)
                bar.update(1)
        rsplit = split_sentences(len(real), seed + 1) if real else []
        for (p, label), split in zip(real, rsplit):
            rel = f"noise/{split}/real_{label}_{p.stem}.wav".replace(" ", "_")
            if not (out / rel).is_file():
                a, fsr = _audio.read_any(p)
                _audio.write_wav(out / rel, _audio.normalize_rms(_audio.resample(a, fsr, sr),
                                                                 -25.0), sr)
            rows.append({"file": rel, "split": split, "type": label, "source": str(p),
                         "duration_s": f"{_wav_seconds(out / rel):.4f}"})
            bar.update(1)
    _write_csv(out / "noise_manifest.csv", _NOISE_FIELDS, rows)
    return rows
