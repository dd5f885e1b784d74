"""Clean speech from the TTS engines Debian ships: espeak-ng, flite and festival.

A :class:`Voice` is one voice variant of one engine (``espeak-ng:en-us+f3``, ``flite:slt``,
``festival:kal_diphone``). Each belongs to a *speaker group*: the timbre it shares with other
voices. All espeak-ng accents rendered with variant ``f3`` are group ``espeak:f3``; flite ``kal16``
and festival ``kal_diphone`` are built from the same recordings, as are flite ``slt`` and
festival ``cmu_us_slt_arctic_hts``, so each such pair is one group. Splits are made over groups
(see :mod:`hushboard.data.corpus`), so no timbre is heard in two splits.

Per utterance the speaking rate and (where the engine allows it) the pitch are varied; engines
render at their native rate (espeak-ng 22.05 kHz, flite and festival diphones 16 kHz, the HTS voice
32 kHz) and the audio is then resampled to the corpus rate (so 48 kHz corpora hold band-limited
speech: nothing above the engine's Nyquist frequency).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hushboard.data._audio import read_wav

__all__ = ["ENGINES", "Voice", "all_voices", "available_engines", "render", "render_many", "voices_for"]

ENGINES = ("espeak-ng", "flite", "festival")

_ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                   "en-gb-x-gbcwmd", "en-029")
_ESPEAK_VARIANTS = ("f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7",
                    "klatt", "klatt2", "klatt3", "klatt4", "Annie", "linda", "paul", "john",
                    "max", "david", "belinda", "adam")
_FLITE = (("kal16", "kal"), ("awb", "awb"), ("rms", "rms"), ("slt", "slt"))
_FESTIVAL = (("kal_diphone", "kal"), ("ked_diphone", "ked"), ("cmu_us_slt_arctic_hts", "slt"))


@dataclass(frozen=True)
class Voice:
    """One TTS voice variant.

    Attributes:
        engine: ``espeak-ng``, ``flite`` or ``festival``.
        name: the engine's voice name (espeak-ng: ``accent+variant``).
        group: the speaker group used for splitting (shared timbre).
    """

    engine: str
    name: str
    group: str

    @property
    def id(self) -> str:
        """``engine:name``, unique over all voices."""
        return f"{self.engine}:{self.name}"

    @property
    def slug(self) -> str:
        """A file-name-safe form of :attr:`id`."""
        return self.id.replace(":", "_").replace("+", "_").replace("-", "")


def all_voices() -> list[Voice]:
    """The whole catalogue (whether or not the engines are installed), in a fixed order."""
    v = [Voice("espeak-ng", f"{a}+{var}", f"espeak:{var}")
         for var in _ESPEAK_VARIANTS for a in _ESPEAK_ACCENTS]
    v += [Voice("flite", n, f"cmu:{g}") for n, g in _FLITE]
    v += [Voice("festival", n, f"cmu:{g}") for n, g in _FESTIVAL]
    return v


def _festival_voice_dirs() -> set[str]:
    found: set[str] = set()
    for root in ("/usr/share/festival/voices", "/usr/local/share/festival/voices"):
        p = Path(root)
        if p.is_dir():
            found.update(d.name for d in p.glob("*/*") if d.is_dir())
    return found


def available_engines() -> list[str]:
    """The engines whose binaries (and, for festival, at least one catalogued voice) exist."""
    out = []
    if shutil.which("espeak-ng"):
        out.append("espeak-ng")
    if shutil.which("flite"):
        out.append("flite")
    if shutil.which("festival") and _festival_voice_dirs() & {n for n, _ in _FESTIVAL}:
        out.append("festival")
    return out


def voices_for(engines: list[str] | tuple[str, ...]) -> list[Voice]:
    """Catalogued voices of the given engines (festival: only voices that are installed)."""
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        raise ValueError(f"engines must be among {ENGINES} (got {bad})")
    have = _festival_voice_dirs()
    return [v for v in all_voices() if v.engine in engines
            and (v.engine != "festival" or v.name in have)]


def _run(cmd: list[str], *, input_text: str | None = None) -> None:
    r = subprocess.run(cmd, input=input_text, capture_output=True, text=True, timeout=600,
                       check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[:500]}")


def _scm_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_many(voice: Voice, items: list[tuple[str, float, float]],
                workdir: str | os.PathLike | None = None) -> list[tuple[np.ndarray, int]]:
    """Render several utterances with one voice.

    Args:
        voice: the voice.
        items: ``(text, rate, pitch)`` per utterance: ``rate`` is the speaking-rate factor
            (1.0 = the engine's default, 1.2 = 20 % faster), ``pitch`` the pitch factor
            (1.0 = default; festival ignores it).
        workdir: where temporary WAV files go (default: a fresh temporary directory).

    Returns:
        ``(audio, native_sample_rate)`` per item, mono float32.
    """
    if voice.engine not in ENGINES:
        raise ValueError(f"voice.engine must be one of {ENGINES} (got {voice.engine!r})")
    for text, rate, pitch in items:
        if not text.strip():
            raise ValueError("items: empty text")
        if not (0.3 <= rate <= 3.0) or not (0.3 <= pitch <= 3.0):
            raise ValueError(f"items: rate and pitch must be in 0.3..3.0 (got {rate}, {pitch})")
    with tempfile.TemporaryDirectory(dir=workdir, prefix="hb-tts-") as tmp:
        paths = [Path(tmp) / f"u{i}.wav" for i in range(len(items))]
        if voice.engine == "espeak-ng":
            for (text, rate, pitch), p in zip(items, paths):
                _run(["espeak-ng", "-v", voice.name, "-s", str(int(round(175 * rate))),
                      "-p", str(int(np.clip(round(50 * pitch), 0, 99))), "-w", str(p), text])
        elif voice.engine == "flite":
            for (text, rate, pitch), p in zip(items, paths):
                f0 = {"slt": 170.0, "kal16": 105.0, "awb": 110.0, "rms": 105.0}.get(voice.name,
                                                                                   120.0)
                _run(["flite", "-voice", voice.name, "--setf", f"duration_stretch={1 / rate:.4f}",
                      "--setf", f"int_f0_target_mean={f0 * pitch:.2f}", "-t", text, "-o", str(p)])
        else:
            lines = [f"(voice_{voice.name})"]
            for (text, rate, _), p in zip(items, paths):
                lines.append(f"(Parameter.set 'Duration_Stretch {1 / rate:.4f})")
                lines.append(f"(utt.save.wave (utt.synth (Utterance Text {_scm_string(text)})) "
                             f"{_scm_string(str(p))} 'riff)")
            script = Path(tmp) / "render.scm"
            script.write_text("\n".join(lines) + "\n")
            _run(["festival", "-b", str(script)])
        out = []
        for p in paths:
            if not p.is_file():
                raise RuntimeError(f"{voice.engine} wrote no audio for voice {voice.name}")
            out.append(read_wav(p))
        return out


def render(voice: Voice, text: str, *, rate: float = 1.0, pitch: float = 1.0) -> tuple[np.ndarray,
                                                                                      int]:
    """Render one utterance; see :func:`render_many`.

    Shape:
        audio: (samples,) at the returned native sample rate
    """
    return render_many(voice, [(text, rate, pitch)])[0]
