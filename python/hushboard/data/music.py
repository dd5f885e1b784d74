"""Multi-track songs with exact stems, for training and testing the music separator.

The way Slakh2100 makes stem data: a generator writes a song as MIDI parts (tempo, key and
mode, a chord progression, sections with instruments entering and leaving, drum patterns with
fills, bass lines, accompaniment comping, a lead melody; humanised timing and velocities,
section dynamics) and fluidsynth renders each stem's parts separately with a General MIDI
soundfont, so the stems are exact and the mix is their sum.

Stems: ``vocals`` (a melody on the voice-like programs: choir aahs, voice oohs, synth voice;
or, where festival is installed, sung synthesised speech from festival's singing mode on the
same melody), ``drums`` (MIDI channel 10, one of the soundfont's kits), ``bass`` (the bass
programs) and ``other`` (piano, organ, guitars, strings, brass, pads, a lead instrument).

Mixing: each stem is rendered in stereo (MIDI pan per part, the soundfont's reverb and chorus
sends), levelled, given a random gain, summed; a light mastering stage (a slow compressor's
gain curve computed on the mix and applied to every stem, then one peak normalisation) keeps
the mix equal to the sum of the stems sample for sample.

Splits: by song (each song's seed is drawn from (seed, split, index)) and by soundfont: the
held-out soundfonts (default ``TimGM6mb``) render only the validation and test songs, the others
only the training songs, so test timbres were never heard in training. With a single soundfont
installed the soundfont split is impossible; ``music.json`` then says so.

On disk (``build_music(out)``)::

    out/music.json                       the generator's settings and the soundfonts per split
    out/<split>/mix/<song>.flac          44.1 kHz stereo, 24-bit
    out/<split>/stems/<song>/<stem>.flac the four stems; they sum to the mix
    out/<split>/metadata.csv             song, soundfont, tempo, key, programs, ...

``hushboard eval --task separation --mix out/test/mix --stems out/test/stems`` scores a
separator on the test split; :class:`StemDataset` feeds ``hushboard train`` with random
segments (and, for training, stems remixed across songs).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hushboard.data.corpus import SPLITS
from hushboard.data.noise import _vlq  # MIDI variable-length quantities

__all__ = [
    "ACCOMPANIMENT",
    "SAMPLE_RATE",
    "SOUNDFONTS",
    "STEMS",
    "SongPlan",
    "StemDataset",
    "add_music_songs",
    "build_music",
    "find_soundfonts",
    "plan_song",
    "random_eq",
    "render_song",
    "song_midi",
    "soundfont_splits",
]

STEMS = ("vocals", "drums", "bass", "other")
#: a training target of two-stem models: the sum of the corpus stems the model does not name
ACCOMPANIMENT = "accompaniment"
SAMPLE_RATE = 44100

# The General MIDI soundfonts Debian ships (package: file). FluidR3Mono is FluidR3 resampled to
# mono, so it trains beside FluidR3; TimGM6mb is the default held-out timbre; sf_GMbank is
# Csound's small GM bank (its file's name, as an explicit --soundfont path is named).
SOUNDFONTS: dict[str, tuple[str, ...]] = {
    "FluidR3_GM": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2"),
    "MuseScore_General": ("/usr/share/sounds/sf3/MuseScore_General.sf3",
                          "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
                          "/usr/share/sounds/sf2/MuseScore_General.sf2"),
    "FluidR3Mono_GM": ("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3",),
    "OPL3_FM": ("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2",),
    "sf_GMbank": ("/usr/share/sounds/sf2/sf_GMbank.sf2", "/usr/share/samples/sf_GMbank.sf2"),
    "TimGM6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2",),
}
HELD_OUT = ("TimGM6mb",)
DEBIAN_PACKAGES = ("fluid-soundfont-gm", "musescore-general-soundfont-small",
                   "fluidr3mono-gm-soundfont", "opl3-soundfont", "csound-soundfont",
                   "timgm6mb-soundfont")

TPQ = 480  # MIDI ticks per quarter note


def find_soundfonts() -> dict[str, str]:
    """Installed soundfonts: name -> path. ``$HUSHBOARD_SOUNDFONTS`` (paths separated by
    ``os.pathsep``) replaces the Debian list; each file's name (without extension) is its name."""
    env = os.environ.get("HUSHBOARD_SOUNDFONTS")
    if env:
        out = {}
        for p in env.split(os.pathsep):
            if p and Path(p).is_file():
                out[Path(p).stem] = p
        return out
    found = {}
    for name, paths in SOUNDFONTS.items():
        p = next((q for q in paths if Path(q).is_file()), None)
        if p is not None:
            found[name] = p
    return found


def soundfont_splits(names: list[str] | tuple[str, ...],
                     held_out: list[str] | tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Which soundfonts render which split: the held-out ones (default: ``TimGM6mb`` if
    present, else the last name) render validation and test songs, the rest training songs.
    One soundfont renders every split (no soundfont split is possible).

    Raises:
        ValueError: no soundfont, a held-out name that is not in ``names``, or every soundfont
            held out.
    """
    names = list(dict.fromkeys(names))
    if not names:
        raise ValueError("no soundfont: install one (apt-get install "
                         + " ".join(DEBIAN_PACKAGES) + ") or set HUSHBOARD_SOUNDFONTS")
    if len(names) == 1:
        return {s: names[:] for s in SPLITS}
    if held_out is None:
        held = [n for n in HELD_OUT if n in names] or names[-1:]
    else:
        held = list(dict.fromkeys(held_out))
        bad = [h for h in held if h not in names]
        if bad:
            raise ValueError(f"held_out soundfonts {bad} are not among the soundfonts {names}")
    train = [n for n in names if n not in held]
    if not train:
        raise ValueError(f"held_out holds every soundfont ({names}); none is left for training")
    return {"train": train, "valid": held[:], "test": held[:]}


# ---------------------------------------------------------------------------- the song plan
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# chord progressions as scale degrees (0-based), one chord per bar
PROGRESSIONS_MAJOR = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (1, 4, 0, 0), (0, 3, 0, 4),
                      (5, 3, 0, 4), (0, 0, 3, 4), (0, 2, 3, 4), (3, 4, 2, 5))
PROGRESSIONS_MINOR = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4),
                      (0, 2, 5, 4))
# General MIDI programs (0-based) per role
VOICE_PROGRAMS = (52, 53, 54, 85)  # choir aahs, voice oohs, synth voice, lead 6 (voice)
BASS_PROGRAMS = (32, 33, 34, 35, 36, 37, 38, 39, 43, 58)  # basses, contrabass, tuba
OTHER_CHORD_PROGRAMS = (0, 1, 2, 4, 5, 6, 16, 17, 18, 19, 24, 25, 26, 27, 28, 29, 30, 46, 48, 49,
                        50, 51, 61, 88, 89, 90, 91, 92, 94, 95)
OTHER_LEAD_PROGRAMS = (11, 12, 13, 40, 41, 56, 57, 60, 64, 65, 66, 68, 71, 73, 74, 80, 81, 82, 104,
                       105, 108)
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)  # standard, room, power, electronic, TR-808, jazz, brush
# words a voice can sing on one note each (festival's singing mode)
SUNG_WORDS = (
    "love", "night", "day", "heart", "light", "go", "home", "sun", "rain", "time", "way",
    "know", "see", "you", "me", "we", "fly", "high", "sky", "dream", "free", "run", "stay",
    "true", "blue", "gold", "road", "sea", "wind", "fire", "song", "sing", "dance", "hold",
    "near", "far", "one", "soul", "star", "moon", "fall", "rise", "cold", "warm", "new", "old",
    "mind", "hand", "eyes", "voice", "shine", "call", "back", "down", "find", "lost", "still",
    "hope", "say", "hear", "feel", "wait", "now", "here", "there", "all", "my", "your", "our",
    "the", "and", "in", "on", "to", "with", "for", "through", "bright", "dark", "slow", "deep",
    "long", "wide", "green", "town", "street", "door", "song", "word", "sound", "round",
    "ground", "gone", "come", "stand", "land", "sand", "sail", "rail", "dawn", "yeah", "oh",
    "la", "hey", "no", "so", "show", "glow", "grow",
)


@dataclass
class Part:
    """One MIDI part of a stem: a channel, a program and its notes (ticks)."""

    stem: str
    channel: int
    program: int
    pan: int  # MIDI CC10, 0..127
    volume: int  # MIDI CC7
    reverb: int  # CC91 send
    chorus: int  # CC93 send
    notes: list[tuple[int, int, int, int]] = field(default_factory=list)  # start, dur, pitch, vel


@dataclass
class SongPlan:
    """A whole song: everything needed to render it (a pure function of its seed)."""

    seed: int
    tempo_bpm: float
    key: int  # pitch class of the tonic
    mode: str  # "major" or "minor"
    bars: int
    progression: tuple[int, ...]
    sections: list[tuple[str, int, int]]  # (name, first bar, bars)
    parts: list[Part]
    # sung phrases: (start, [(start, duration, pitch, word), ...]) in ticks, or None
    sung: list[tuple[int, list[tuple[int, int, int, str]]]] | None
    sung_voice: str | None
    gains_db: dict[str, float]

    def seconds_per_tick(self) -> float:
        return 60.0 / self.tempo_bpm / TPQ

    def programs(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {s: [] for s in STEMS}
        for p in self.parts:
            out[p.stem].append(p.program)
        return out


def _section_layout(rng: np.random.Generator, bars: int) -> list[tuple[str, int, int]]:
    """Intro, verses, choruses, a bridge, an outro: (name, first bar, bars) covering ``bars``."""
    out: list[tuple[str, int, int]] = []
    b = 0
    intro = int(rng.choice([0, 2, 4]))
    if intro:
        out.append(("intro", 0, intro))
        b = intro
    cycle = ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]
    i = 0
    while b < bars:
        name = cycle[i % len(cycle)]
        n = min(int(rng.choice([4, 8])) if name != "bridge" else 4, bars - b)
        if bars - b - n < 2 and bars - b - n > 0:
            n = bars - b
        out.append((name, b, n))
        b += n
        i += 1
    if len(out) > 2 and out[-1][2] <= 4 and rng.random() < 0.5:
        name, first, n = out[-1]
        out[-1] = ("outro", first, n)
    return out


def plan_song(seed: int, seconds: float, *, festival: bool = False,
              sung_prob: float = 0.5) -> SongPlan:
    """Compose a song of about ``seconds`` (the render is cut or padded to exactly that).

    Args:
        seed: the song's seed; equal seeds give equal songs.
        seconds: length.
        festival: festival's singing mode is available (``sung_prob`` of the songs then get
            sung speech as their vocals instead of a voice program).
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0 (got {seconds})")
    rng = np.random.default_rng(seed)
    tempo = float(rng.uniform(72, 160))
    key = int(rng.integers(12))
    mode = "major" if rng.random() < 0.6 else "minor"
    scale = MAJOR if mode == "major" else MINOR
    progs = PROGRESSIONS_MAJOR if mode == "major" else PROGRESSIONS_MINOR
    progression = tuple(int(d) for d in progs[int(rng.integers(len(progs)))])
    bar_ticks = 4 * TPQ
    bars = int(np.ceil(seconds * tempo / 60 / 4)) + 1
    sections = _section_layout(rng, bars)
    swing = rng.random() < 0.2
    jitter = float(rng.uniform(0.004, 0.015))  # timing humanisation, seconds (s.d.)
    tick_s = 60.0 / tempo / TPQ

    def hum(t: int) -> int:  # humanised onset
        return max(0, t + int(round(rng.normal(0, jitter) / tick_s)))

    def vel(base: float, spread: float = 10) -> int:
        return int(np.clip(round(base + rng.normal(0, spread)), 1, 127))

    def pitch_of(degree: int, octave: int) -> int:
        return 12 * (octave + 1) + key + scale[degree % 7] + 12 * (degree // 7)

    def chord_of(bar: int) -> int:
        return progression[bar % len(progression)]

    dyn = {"intro": 0.75, "verse": 0.85, "chorus": 1.0, "bridge": 0.8, "outro": 0.7}
    section_of = [""] * bars
    for name, first, n in sections:
        for b in range(first, first + n):
            section_of[b] = name
    # who plays where: drums and bass rest in some intros/bridges, vocals rest in intro and in
    # some bars (phrasing), instrumental songs have no vocals at all
    has_vocals = rng.random() > 0.12
    parts: list[Part] = []
    pan = lambda centre, spread: int(np.clip(round(centre + rng.uniform(-spread, spread)), 0, 127))

    # ---- drums
    kit = int(rng.choice(DRUM_KITS))
    drums = Part("drums", 9, kit, 64, vel(105, 8), int(rng.integers(10, 50)), 0)
    style = str(rng.choice(["rock", "four", "half", "break", "shuffle", "sparse"]))
    has_drums = rng.random() > 0.05
    for bar in range(bars):
        sec = section_of[bar]
        if not has_drums or (sec == "intro" and rng.random() < 0.4) or (
                sec == "bridge" and rng.random() < 0.25):
            continue
        t0 = bar * bar_ticks
        d = dyn[sec]
        eighth = TPQ // 2
        fill = (bar + 1) % 4 == 0 and rng.random() < 0.5
        for e in range(8):
            t = t0 + e * eighth + (eighth // 3 if swing and e % 2 else 0)
            if fill and e >= 4:
                for s in range(2):
                    drums.notes.append((hum(t + s * eighth // 2), eighth // 2,
                                        int(rng.choice([38, 45, 47, 48, 50, 41])), vel(95 * d)))
                continue
            hat = 46 if (sec == "chorus" and e % 2 == 1 and rng.random() < 0.2) else (
                51 if sec == "bridge" else 42)
            if style != "sparse" or e % 2 == 0:
                drums.notes.append((hum(t), eighth // 2, hat, vel((70 if e % 2 else 85) * d)))
            kick = {"rock": e in (0, 4) or (e == 5 and rng.random() < 0.3),
                    "four": e % 2 == 0, "half": e == 0 or (e == 3 and rng.random() < 0.4),
                    "break": e in (0, 3, 5) or (e == 7 and rng.random() < 0.3),
                    "shuffle": e in (0, 4, 6), "sparse": e == 0}[style]
            snare = {"rock": e in (2, 6), "four": e in (2, 6), "half": e == 4,
                     "break": e in (2, 6) or (e == 7 and rng.random() < 0.2),
                     "shuffle": e in (2, 6), "sparse": e == 4}[style]
            if kick:
                drums.notes.append((hum(t), eighth // 2, int(rng.choice([35, 36])), vel(110 * d)))
            if snare:
                drums.notes.append((hum(t), eighth // 2, int(rng.choice([38, 40, 37]))
                                    if rng.random() < 0.15 else 38, vel(100 * d)))
        if bar == 0 or (bar > 0 and section_of[bar - 1] != sec):
            drums.notes.append((hum(t0), TPQ, 49, vel(100 * d)))
    parts.append(drums)

    # ---- bass
    bass = Part("bass", 1, int(rng.choice(BASS_PROGRAMS)), pan(64, 6), vel(105, 10),
                int(rng.integers(0, 30)), int(rng.integers(0, 20)))
    bstyle = str(rng.choice(["roots", "root5", "octaves", "walking", "synco"]))
    for bar in range(bars):
        sec = section_of[bar]
        if sec == "intro" and rng.random() < 0.5:
            continue
        t0, deg = bar * bar_ticks, chord_of(bar)
        d = dyn[sec]
        root = pitch_of(deg, 1)
        while root > 52:
            root -= 12
        while root < 28:
            root += 12
        if bstyle == "roots":
            for b in range(4):
                bass.notes.append((hum(t0 + b * TPQ), TPQ - 30, root, vel(95 * d)))
        elif bstyle == "root5":
            for b in range(4):
                p = root + (7 if b % 2 else 0)
                bass.notes.append((hum(t0 + b * TPQ), TPQ - 40, p, vel(95 * d)))
        elif bstyle == "octaves":
            for e in range(8):
                bass.notes.append((hum(t0 + e * TPQ // 2), TPQ // 2 - 20,
                                   root + (12 if e % 2 else 0), vel(90 * d)))
        elif bstyle == "walking":
            nxt = pitch_of(chord_of(bar + 1), 1)
            steps = [root, root + scale[2] - scale[0], root + 7, nxt - 1 if nxt > root else nxt + 1]
            for b, p in enumerate(steps):
                bass.notes.append((hum(t0 + b * TPQ), TPQ - 30, int(np.clip(p, 24, 60)),
                                   vel(90 * d)))
        else:
            for t, dur in ((0, 3 * TPQ // 2), (3 * TPQ // 2, TPQ // 2), (2 * TPQ, TPQ),
                           (3 * TPQ + TPQ // 2, TPQ // 2)):
                bass.notes.append((hum(t0 + t), dur - 20, root if t < 3 * TPQ else root + 7,
                                   vel(95 * d)))
    parts.append(bass)

    # ---- other: accompaniment (one or two comping parts) and an optional lead
    n_comp = 1 if rng.random() < 0.5 else 2
    for c in range(n_comp):
        comp = Part("other", 2 + c, int(rng.choice(OTHER_CHORD_PROGRAMS)),
                    pan(64 + (-30 if c == 0 else 30), 20), vel(90, 12), int(rng.integers(20, 80)),
                    int(rng.integers(0, 40)))
        cstyle = str(rng.choice(["block", "pulse", "arp", "strum", "hold"]))
        octave = int(rng.choice([3, 4])) if c == 0 else 4
        for bar in range(bars):
            sec = section_of[bar]
            t0, deg = bar * bar_ticks, chord_of(bar)
            d = dyn[sec]
            tones = [pitch_of(deg + k, octave) for k in (0, 2, 4)]
            if rng.random() < 0.3:
                tones.append(pitch_of(deg + 6, octave))
            if cstyle in ("block", "hold"):
                dur = bar_ticks if cstyle == "hold" else 2 * TPQ
                for t in range(0, bar_ticks, dur):
                    for p in tones:
                        comp.notes.append((hum(t0 + t), dur - 30, p, vel(70 * d)))
            elif cstyle == "pulse":
                for e in range(8):
                    if e % 2 == 0 or rng.random() < 0.5:
                        for p in tones:
                            comp.notes.append((hum(t0 + e * TPQ // 2), TPQ // 2 - 40, p,
                                               vel(65 * d)))
            elif cstyle == "arp":
                seq = tones + tones[-2:0:-1]
                for e in range(8):
                    comp.notes.append((hum(t0 + e * TPQ // 2), TPQ // 2 - 10,
                                       seq[e % len(seq)] + 12 * (e // len(seq) % 2), vel(70 * d)))
            else:  # strum: chord tones spread by a few ms, on a rhythm
                for t in (0, TPQ, 3 * TPQ // 2, 5 * TPQ // 2, 3 * TPQ):
                    for k, p in enumerate(tones):
                        comp.notes.append((hum(t0 + t + k * 12), TPQ - 30, p, vel(72 * d)))
        parts.append(comp)
    lead_bars: set[int] = set()
    if rng.random() < 0.5:
        lead = Part("other", 4, int(rng.choice(OTHER_LEAD_PROGRAMS)), pan(64, 40), vel(90, 10),
                    int(rng.integers(20, 70)), int(rng.integers(0, 30)))
        for name, first, n in sections:
            if name not in ("intro", "bridge", "outro") and rng.random() > 0.3:
                continue
            for bar in range(first, first + n):
                lead_bars.add(bar)
                _melody(rng, lead.notes, bar * bar_ticks, chord_of(bar), pitch_of, 5, dyn[name],
                        hum, vel, rest_prob=0.25)
        parts.append(lead)

    # ---- vocals: a melody on a voice program, or sung speech
    sung: list[tuple[int, list[tuple[int, int, int, str]]]] | None = None
    sung_voice = None
    gains = {"vocals": float(rng.uniform(-1, 4)), "drums": float(rng.uniform(-3, 2)),
             "bass": float(rng.uniform(-4, 1)), "other": float(rng.uniform(-4, 1))}
    if has_vocals:
        use_sung = festival and rng.random() < sung_prob
        octave = 3 if use_sung else int(rng.choice([4, 5]))
        vnotes: list[tuple[int, int, int, int]] = []
        for name, first, n in sections:
            if name == "intro":
                continue
            for bar in range(first, first + n):
                if bar in lead_bars and rng.random() < 0.7:
                    continue
                if (bar - first) % 4 == 3 and rng.random() < 0.6:  # breath at phrase ends
                    continue
                _melody(rng, vnotes, bar * bar_ticks, chord_of(bar), pitch_of, octave, dyn[name],
                        hum, vel, rest_prob=0.15, long_notes=True)
        if use_sung:
            sung_voice = str(rng.choice(["kal_diphone", "ked_diphone"]))
            phrases: list[tuple[int, list[tuple[int, int, int, str]]]] = []
            cur: list[tuple[int, int, int, str]] = []
            for s, dur, p, _v in vnotes:
                if cur and s - (cur[-1][0] + cur[-1][1]) > TPQ // 2:
                    phrases.append((cur[0][0], cur))
                    cur = []
                cur.append((s, dur, int(np.clip(p, 43, 69)), str(rng.choice(SUNG_WORDS))))
            if cur:
                phrases.append((cur[0][0], cur))
            sung = phrases
        else:
            voice = Part("vocals", 5, int(rng.choice(VOICE_PROGRAMS)), pan(64, 12), vel(100, 10),
                         int(rng.integers(30, 80)), int(rng.integers(0, 40)))
            voice.notes = vnotes
            parts.append(voice)
    return SongPlan(seed=seed, tempo_bpm=tempo, key=key, mode=mode, bars=bars,
                    progression=progression, sections=sections, parts=parts, sung=sung,
                    sung_voice=sung_voice, gains_db=gains)


def _melody(rng: np.random.Generator, notes: list, t0: int, chord: int,
            pitch_of: Callable[[int, int], int], octave: int, d: float,
            hum: Callable[[int], int], vel: Callable[..., int], *, rest_prob: float,
            long_notes: bool = False) -> None:
    """One bar of melody: chord tones on strong beats, steps between, some rests."""
    t = 0
    deg = chord + int(rng.choice([0, 2, 4]))
    choices = [TPQ, TPQ // 2, 2 * TPQ, 3 * TPQ // 2] if long_notes else [TPQ // 2, TPQ, TPQ // 4,
                                                                         2 * TPQ]
    probs = [0.4, 0.3, 0.2, 0.1] if long_notes else [0.4, 0.3, 0.15, 0.15]
    while t < 4 * TPQ:
        dur = int(min(rng.choice(choices, p=probs), 4 * TPQ - t))
        if rng.random() > rest_prob:
            notes.append((hum(t0 + t), max(30, dur - 30), pitch_of(deg, octave), vel(90 * d, 12)))
        step = int(rng.choice([-2, -1, -1, 0, 1, 1, 2]))
        deg = int(np.clip(deg + step, chord - 3, chord + 8))
        if t % TPQ == 0 and rng.random() < 0.5:  # lean towards chord tones on beats
            deg = chord + int(rng.choice([0, 2, 4, 7]))
        t += dur


# ---------------------------------------------------------------------------- MIDI + rendering
def song_midi(plan: SongPlan, stem: str) -> bytes | None:
    """A Standard MIDI File (format 0) with ``stem``'s parts of the song, or None when the
    stem has no MIDI part (no notes, or vocals sung by festival)."""
    parts = [p for p in plan.parts if p.stem == stem and p.notes]
    if not parts:
        return None
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message)
    for p in parts:
        ch = p.channel
        if ch == 9:
            events.append((0, 0, bytes([0xB0 | ch, 0, 1])))  # bank select: kits (GS)
        events.append((0, 1, bytes([0xC0 | ch, p.program])))
        for cc, v in ((7, p.volume), (10, p.pan), (91, p.reverb), (93, p.chorus)):
            events.append((0, 2, bytes([0xB0 | ch, cc, int(np.clip(v, 0, 127))])))
        for start, dur, pitch, v in p.notes:
            pitch = int(np.clip(pitch, 0, 127))
            events.append((start + 2, 4, bytes([0x90 | ch, pitch, int(np.clip(v, 1, 127))])))
            events.append((start + 2 + max(dur, 10), 3, bytes([0x80 | ch, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))  # at one tick: setup, note-offs, then note-ons
    tempo = int(round(60e6 / plan.tempo_bpm))
    track = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big"))
    last = 0
    for tick, _, msg in events:
        track += _vlq(tick - last) + msg
        last = tick
    track += b"\x00\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, TPQ) + b"MTrk"
            + struct.pack(">I", len(track)) + bytes(track))


def _fluidsynth(midi: bytes, soundfont: str, n: int, tmp: Path, name: str) -> np.ndarray:
    from hushboard.io import read_audio

    mid, wav = tmp / f"{name}.mid", tmp / f"{name}.wav"
    mid.write_bytes(midi)
    r = subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SAMPLE_RATE),
                        "-T", "wav", "-O", "float", "-F", str(wav), soundfont, str(mid)],
                       capture_output=True, text=True, timeout=900, check=False)
    if r.returncode != 0 or not wav.is_file():
        raise RuntimeError(f"fluidsynth failed on {soundfont} ({r.returncode}): "
                           f"{r.stderr.strip()[:500]}")
    a, sr = read_audio(wav)
    if int(round(sr)) != SAMPLE_RATE or a.shape[0] != 2:
        raise RuntimeError(f"fluidsynth wrote {a.shape[0]} channels at {sr} Hz; expected stereo "
                           f"at {SAMPLE_RATE}")
    return _fit(a, n)


def _fit(a: np.ndarray, n: int) -> np.ndarray:
    a = a[:, :n]
    if a.shape[1] < n:
        a = np.pad(a, ((0, 0), (0, n - a.shape[1])))
    return np.ascontiguousarray(a, np.float32)


def _sing(plan: SongPlan, n: int, tmp: Path, rng: np.random.Generator) -> np.ndarray:
    """The sung phrases through festival's singing mode, placed at their bar times, panned."""
    from hushboard.data._audio import read_wav, resample

    out = np.zeros(n, np.float32)
    tick_s = plan.seconds_per_tick()
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    for k, (start, notes) in enumerate(plan.sung or []):
        if not notes:
            continue
        head = ['<?xml version="1.0"?>',
                '<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" '
                '"Singing.v0_1.dtd" []>',
                # festival's singing mode takes BPM / 50 beats a second: scale to the tempo
                f'<SINGING BPM="{plan.tempo_bpm * 50 / 60:.3f}">']
        body = []
        t = start
        for s, dur, pitch, word in notes:
            if s > t:
                body.append(f'<REST BEATS="{(s - t) / TPQ:.3f}"></REST>')
            name = f"{names[pitch % 12]}{pitch // 12 - 1}"
            body.append(f'<DURATION BEATS="{dur / TPQ:.3f}"><PITCH NOTE="{name}">{word}'
                        f"</PITCH></DURATION>")
            t = s + dur
        xml, wav = tmp / f"sing{k}.xml", tmp / f"sing{k}.wav"
        # festival 2.5's singing mode segfaults on some phrases (one note; some runs of
        # repeated pitches) unless they start with a rest: such a phrase is sung again after
        # a half-beat rest, then a one- and a two-beat rest (song train_00481 needs one beat),
        # which the trimming below removes (phrases that sing as they are keep their exact
        # earlier rendering)
        for lead in ([], *([f'<REST BEATS="{b}"></REST>'] for b in ("0.5", "1", "2"))):
            wav.unlink(missing_ok=True)
            xml.write_text("\n".join(head + lead + body + ["</SINGING>"]) + "\n")
            r = subprocess.run(["text2wave", "-mode", "singing", str(xml), "-o", str(wav),
                                "-eval", f"(voice_{plan.sung_voice})"], capture_output=True,
                               text=True, timeout=300, check=False)
            if r.returncode == 0 and wav.is_file():
                break
        else:
            raise RuntimeError(f"festival singing failed ({r.returncode}): "
                               f"{r.stderr.strip()[:500]}")
        a, sr = read_wav(wav)
        a = resample(a, sr, SAMPLE_RATE)
        nz = np.flatnonzero(np.abs(a) > 1e-3)
        if nz.size == 0:
            continue
        a = a[nz[0]:]
        i0 = int(round(start * tick_s * SAMPLE_RATE))
        if i0 >= n:
            break
        m = min(a.size, n - i0)
        out[i0:i0 + m] += a[:m]
    # a little room (short exponential reverb tail, seeded) and a position near the centre
    ir_n = int(0.25 * SAMPLE_RATE)
    ir = rng.standard_normal(ir_n).astype(np.float32) * np.exp(
        -np.arange(ir_n) / (0.05 * SAMPLE_RATE)).astype(np.float32)
    ir *= 0.25 / np.sqrt(np.sum(ir ** 2))
    ir[0] = 1.0
    from scipy.signal import fftconvolve

    wet = fftconvolve(out, ir)[:n].astype(np.float32)
    p = float(rng.uniform(-0.2, 0.2))
    left, right = np.sqrt(0.5 - p / 2), np.sqrt(0.5 + p / 2)
    return np.stack([wet * left, wet * right]).astype(np.float32)


def _master(stems: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A slow compressor's gain curve computed on the mix and applied to every stem, then one
    peak normalisation: the mastered stems still sum to the mastered mix. The normalisation
    puts the mix's peak at 0.6-0.95, lowered where a stem would otherwise pass 0.99 (stems
    that partly cancel in the mix can peak above it): every stem and the mix stay inside full
    scale, so the 24-bit files still sum exactly."""
    mix = sum(stems.values())
    env_n = int(0.05 * SAMPLE_RATE)
    power = np.mean(mix.astype(np.float64) ** 2, axis=0)
    k = np.ones(env_n) / env_n
    env = np.sqrt(np.convolve(power, k, mode="same")) + 1e-9
    level_db = 20 * np.log10(env)
    thr = np.percentile(level_db, 80) - float(rng.uniform(0, 6))
    ratio = float(rng.uniform(1.5, 3.0))
    gain_db = np.minimum(0.0, (thr - level_db) * (1 - 1 / ratio))
    # release smoothing (one-pole, 200 ms) on the dB curve
    a = np.exp(-1.0 / (0.2 * SAMPLE_RATE / env_n))
    g = gain_db[::env_n]
    sm = np.empty_like(g)
    acc = 0.0
    for i, v in enumerate(g):
        acc = min(v, a * acc + (1 - a) * v)
        sm[i] = acc
    gain = 10 ** (np.interp(np.arange(mix.shape[1]), np.arange(g.size) * env_n, sm) / 20)
    out = {s: (x * gain).astype(np.float32) for s, x in stems.items()}
    mix = sum(out.values())
    peak = float(np.max(np.abs(mix))) + 1e-9
    scale = float(rng.uniform(0.6, 0.95)) / peak
    stem_peak = max(float(np.max(np.abs(x))) for x in out.values())
    if stem_peak * scale > 1.0:  # (a scale that clips nothing is kept: same songs as before)
        scale = 0.99 / stem_peak
    return {s: (x * scale).astype(np.float32) for s, x in out.items()}


def render_song(plan: SongPlan, soundfont: str, seconds: float) -> dict[str, np.ndarray]:
    """Render the four stems of a planned song with ``soundfont`` (fluidsynth; festival for
    sung vocals), level them, apply the plan's stem gains and the mastering. An ``.sf3`` is
    rendered from its cached ``.sf2`` conversion (``hushboard.data.soundfont.as_sf2``): the same
    audio, without fluidsynth decoding every sample at each of the four loads.

    Returns:
        stem -> float32 ``(2, round(seconds * 44100))``; the mix is the sum of the stems.
    """
    if not shutil.which("fluidsynth"):
        raise RuntimeError("the music generator needs fluidsynth (apt-get install fluidsynth)")
    from hushboard.data.soundfont import as_sf2

    soundfont = as_sf2(soundfont)
    n = int(round(seconds * SAMPLE_RATE))
    rng = np.random.default_rng([plan.seed, 7])
    stems: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="hb-song-") as tmpd:
        tmp = Path(tmpd)
        for stem in STEMS:
            midi = song_midi(plan, stem)
            if stem == "vocals" and plan.sung:
                stems[stem] = _sing(plan, n, tmp, rng)
            elif midi is None:
                stems[stem] = np.zeros((2, n), np.float32)
            else:
                stems[stem] = _fluidsynth(midi, soundfont, n, tmp, stem)
    for s, x in stems.items():  # level each stem to -20 dBFS RMS (where it plays), then gain
        active = np.abs(x).max(axis=0) > 1e-4
        if active.any():
            rms = float(np.sqrt(np.mean(x[:, active] ** 2)))
            x *= 10 ** ((-20 + plan.gains_db[s]) / 20) / max(rms, 1e-9)
    return _master(stems, rng)


# ---------------------------------------------------------------------------- the corpus
def _song_seed(seed: int, split: str, index: int) -> int:
    return int(np.random.default_rng([seed, SPLITS.index(split), index, 0x5EED]).integers(2 ** 62))


def _has_festival_singing() -> bool:
    return bool(shutil.which("text2wave")) and any(
        Path(d, "singing-mode.scm").is_file() for d in ("/usr/share/festival",
                                                        "/usr/lib/festival"))


META_FIELDS = ["song", "split", "soundfont", "seconds", "tempo_bpm", "key", "mode", "sections",
               "vocals", "programs", "gains_db", "seed"]


def build_music(out: str | os.PathLike, *, songs: tuple[int, int, int] = (100, 8, 16),
                seconds: float = 30.0, seed: int = 0,
                soundfonts: list[str] | None = None, held_out: list[str] | None = None,
                sung_prob: float = 0.5, workers: int | None = None,
                progress: bool | None = None) -> list[dict[str, Any]]:
    """Generate, render and write the songs of the three splits (resumable: songs already on
    disk are kept; training songs appended by ``add_music_songs`` stay). See the module
    docstring for the layout.

    Args:
        out: corpus folder.
        songs: songs in (train, valid, test).
        seconds: length of each song.
        seed: the corpus seed.
        soundfonts: soundfont paths, ``.sf2`` or ``.sf3`` (default: every installed Debian GM
            soundfont); a file's stem is its name. An ``.sf3`` renders from its ``.sf2``
            conversion, made once into ``hushboard.data.soundfont.soundfont_cache_dir()``.
        held_out: soundfont names that render only validation and test songs (default
            ``TimGM6mb`` if present, else the last one).
        sung_prob: the share of songs with vocals sung by festival (when installed).
        workers: parallel renders (default: CPUs).

    Returns:
        The metadata rows of every song.
    """
    if len(songs) != 3 or any(not isinstance(k, int) or k < 0 for k in songs):
        raise ValueError(f"songs must be three counts >= 0 (train, valid, test) (got {songs})")
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0 (got {seconds})")
    if not 0 <= sung_prob <= 1:
        raise ValueError(f"sung_prob must be in [0, 1] (got {sung_prob})")
    found = _soundfont_paths(soundfonts) if soundfonts else find_soundfonts()
    by_split = soundfont_splits(list(found), held_out)
    root = Path(out)
    jobs = []
    for split, count in zip(SPLITS, songs):
        for i in range(count):
            fonts = by_split[split]
            jobs.append((split, f"{split}_{i:05d}", _song_seed(seed, split, i),
                         fonts[i % len(fonts)]))
    festival = _has_festival_singing()
    root.mkdir(parents=True, exist_ok=True)
    old = _read_json(root / "music.json")
    settings = {
        "sample_rate": SAMPLE_RATE, "stems": list(STEMS), "seconds": seconds, "seed": seed,
        "songs": dict(zip(SPLITS, songs)), "soundfonts": found, "soundfont_splits": by_split,
        "soundfont_split": len(found) > 1, "festival_singing": festival,
        "sung_prob": sung_prob}
    if old.get("pending"):
        raise ValueError(_pending_message(out, old["pending"]))
    added: list[dict[str, str]] = []
    if old.get("added"):  # songs that add_music_songs appended stay part of the corpus
        first = min(int(a["first"]) for a in old["added"])
        if songs[0] > first:
            raise ValueError(f"songs: {out} has training songs appended from train_{first:05d} "
                             f"on (add_music_songs); build at most {first} training songs "
                             "here, or append more with add_music_songs")
        settings["added"] = old["added"]
        added = [r for r in read_music_metadata(root, "train") if int(r["song"][6:]) >= first]
    (root / "music.json").write_text(json.dumps(settings, indent=2) + "\n")
    rows = _render_jobs(root, jobs, found, seconds, festival, sung_prob, workers, progress)
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        if part or (split == "train" and added):
            _write_metadata(root, split, part + (added if split == "train" else []))
    return rows


def _pending_message(out: str | os.PathLike, pending: dict[str, Any]) -> str:
    first = int(pending["first"])
    return (f"{out}: an add_music_songs call was interrupted ({pending['songs']} training songs "
            f"from train_{first:05d} with the soundfonts {sorted(pending['soundfonts'])}, seed "
            f"{pending['seed']}, sung_prob {pending['sung_prob']}); run it again with the same "
            "arguments to finish it first")


def add_music_songs(out: str | os.PathLike, train: int, *, soundfonts: list[str],
                    seed: int | None = None, sung_prob: float | None = None,
                    workers: int | None = None,
                    progress: bool | None = None) -> list[dict[str, Any]]:
    """Append ``train`` training songs to an existing corpus, rendered with ``soundfonts``
    (for instance a soundfont the corpus did not have: more timbres to learn from). The songs
    continue the training split's numbering (``train_<n>``), take their seeds from ``(seed,
    "train", n)`` (``seed`` defaults to the corpus's; new numbers, so new songs), their
    length and, by default, ``sung_prob`` from the corpus, and are recorded under ``"added"``
    in ``music.json``. An interrupted call is resumed by running it again with the same
    arguments (the songs already rendered are kept; until then any other call is refused); a
    call that finished appends ``train`` more songs when run again.

    Raises:
        ValueError: no corpus at ``out``, ``train`` < 1, no soundfont, a soundfont that
            renders the corpus's validation or test songs (it would leak the held-out timbre),
            or an interrupted earlier call with other arguments.
    """
    root = Path(out)
    meta = _read_json(root / "music.json")
    if not meta:
        raise ValueError(f"no music corpus at {out} (missing music.json); run "
                         "`hushboard data music --out DIR` first")
    if isinstance(train, bool) or not isinstance(train, int) or train < 1:
        raise ValueError(f"train must be a number of songs >= 1 (got {train!r})")
    if not soundfonts:
        raise ValueError("soundfonts: name at least one soundfont file to render the songs with")
    found = _soundfont_paths(soundfonts)
    held = set(meta["soundfont_splits"]["valid"]) | set(meta["soundfont_splits"]["test"])
    if meta.get("soundfont_split") and held & set(found):
        raise ValueError(f"soundfonts: {sorted(held & set(found))} render(s) this corpus's "
                         "validation/test songs; training songs must use other soundfonts")
    sung_prob = meta["sung_prob"] if sung_prob is None else sung_prob
    seed = int(meta["seed"]) if seed is None else seed
    if not 0 <= sung_prob <= 1:
        raise ValueError(f"sung_prob must be in [0, 1] (got {sung_prob})")
    seconds = float(meta["seconds"])
    have = read_music_metadata(root, "train")
    first = len(have)
    names = list(found)
    jobs = [("train", f"train_{first + i:05d}", _song_seed(seed, "train", first + i),
             names[i % len(names)]) for i in range(train)]
    call = {"split": "train", "first": first, "songs": train, "seed": seed,
            "soundfonts": found, "sung_prob": sung_prob}
    # an interrupted call leaves songs on disk that are not in the metadata yet; finishing it
    # with other arguments would record them wrongly (another soundfont), so it is refused
    if meta.get("pending") not in (None, call):
        raise ValueError(_pending_message(out, meta["pending"]))
    meta["pending"] = call
    (root / "music.json").write_text(json.dumps(meta, indent=2) + "\n")
    festival = _has_festival_singing()
    rows = _render_jobs(root, jobs, found, seconds, festival, sung_prob, workers, progress)
    _write_metadata(root, "train", have + rows)
    meta.setdefault("added", []).append(meta.pop("pending"))
    meta["soundfonts"].update(found)
    meta["soundfont_splits"]["train"] = list(dict.fromkeys(
        meta["soundfont_splits"]["train"] + names))
    (root / "music.json").write_text(json.dumps(meta, indent=2) + "\n")
    return rows


def _soundfont_paths(paths: list[str]) -> dict[str, str]:
    found = {}
    for p in paths:
        if not Path(p).is_file():
            raise ValueError(f"soundfont {p!r} does not exist")
        found[Path(p).stem] = str(p)
    return found


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_metadata(root: Path, split: str, rows: list[dict[str, Any]]) -> None:
    with open(root / split / "metadata.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, META_FIELDS)
        w.writeheader()
        w.writerows(rows)


def _render_jobs(root: Path, jobs: list[tuple[str, str, int, str]], found: dict[str, str],
                 seconds: float, festival: bool, sung_prob: float, workers: int | None,
                 progress: bool | None) -> list[dict[str, Any]]:
    """Render ``(split, song, seed, soundfont name)`` jobs in parallel (songs whose mix is
    already on disk are kept); their metadata rows, in order."""
    from hushboard.data.soundfont import as_sf2
    from hushboard.io import write_audio

    for path in found.values():  # .sf3 -> cached .sf2, once, before the parallel renders
        as_sf2(path)

    def one(job: tuple[str, str, int, str]) -> dict[str, Any]:
        split, name, sd, font = job
        plan = plan_song(sd, seconds, festival=festival, sung_prob=sung_prob)
        row = {"song": name, "split": split, "soundfont": font, "seconds": seconds,
               "tempo_bpm": round(plan.tempo_bpm, 2), "key": plan.key, "mode": plan.mode,
               "sections": " ".join(f"{s}:{n}" for s, _, n in plan.sections),
               "vocals": ("sung:" + str(plan.sung_voice)) if plan.sung else (
                   "program" if any(p.stem == "vocals" for p in plan.parts) else "none"),
               "programs": json.dumps(plan.programs(), separators=(",", ":")),
               "gains_db": json.dumps({k: round(v, 2) for k, v in plan.gains_db.items()},
                                      separators=(",", ":")),
               "seed": sd}
        mix_path = root / split / "mix" / f"{name}.flac"
        if mix_path.is_file():
            return row
        stems = render_song(plan, found[font], seconds)
        sdir = root / split / "stems" / name
        sdir.mkdir(parents=True, exist_ok=True)
        for s, x in stems.items():
            write_audio(sdir / f"{s}.flac", x, SAMPLE_RATE, bit_depth=24)
        mix_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mix_path.with_name(mix_path.stem + ".part.flac")
        write_audio(tmp, sum(stems.values()), SAMPLE_RATE, bit_depth=24)
        os.replace(tmp, mix_path)  # the mix last: its presence marks a finished song
        return row

    bar = None
    if progress or (progress is None and sys.stderr.isatty()):
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="songs", unit="song")
    rows: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as ex:
        for row in ex.map(one, jobs):
            rows.append(row)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return rows


def read_music_metadata(corpus: str | os.PathLike, split: str) -> list[dict[str, str]]:
    path = Path(corpus) / split / "metadata.csv"
    if not path.is_file():
        raise ValueError(f"no {split} songs in {corpus} (missing {path}); run "
                         "`hushboard data music --out DIR` first")
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------- training items
def _biquad(kind: str, f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """One second-order section (b0, b1, b2, 1, a1, a2) of the RBJ audio-EQ cookbook:
    ``kind`` is "low" (shelf), "high" (shelf) or "peak"."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    cw, alpha = np.cos(w), np.sin(w) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a, -2 * cw, 1 - alpha * a]
        d = [1 + alpha / a, -2 * cw, 1 - alpha / a]
    else:
        sq = 2 * np.sqrt(a) * alpha
        s = 1 if kind == "low" else -1  # the high shelf is the low shelf's mirror
        b = [a * ((a + 1) - s * (a - 1) * cw + sq), s * 2 * a * ((a - 1) - s * (a + 1) * cw),
             a * ((a + 1) - s * (a - 1) * cw - sq)]
        d = [(a + 1) + s * (a - 1) * cw + sq, -s * 2 * ((a - 1) + s * (a + 1) * cw),
             (a + 1) + s * (a - 1) * cw - sq]
    return np.array(b + d, np.float64) / d[0]


def random_eq(x: np.ndarray, rng: np.random.Generator, *, sample_rate: int = SAMPLE_RATE,
              max_db: float = 6.0) -> np.ndarray:
    """``x`` (channels, T) through a random equaliser, the same on every channel: a low shelf
    (60-400 Hz), a peak (150 Hz-8 kHz, Q 0.5-2) and a high shelf (2-10 kHz), each of gain
    uniform in ±``max_db`` dB. A timbre augmentation: an instrument of one soundfont sounds a
    little like the same instrument of another."""
    from scipy.signal import sosfilt

    lo, pk, hi = rng.uniform(-max_db, max_db, 3)
    sos = np.stack([
        _biquad("low", float(np.exp(rng.uniform(np.log(60), np.log(400)))), lo, 0.7071,
                sample_rate),
        _biquad("peak", float(np.exp(rng.uniform(np.log(150), np.log(8000)))), pk,
                float(rng.uniform(0.5, 2.0)), sample_rate),
        _biquad("high", float(np.exp(rng.uniform(np.log(2000), np.log(10000)))), hi, 0.7071,
                sample_rate)])
    return sosfilt(sos, x, axis=-1).astype(np.float32)


_SPEED_PAD = 256  # input samples read beyond each end of a speed-changed stem, then dropped


def speed_ratio(semitones: float) -> tuple[int, int]:
    """The playback speed ``2 ** (semitones / 12)`` as a ratio ``(p, q)`` of integers up to 64,
    so that :func:`change_speed` is one polyphase resampling."""
    from fractions import Fraction

    if not (math.isfinite(float(semitones)) and abs(float(semitones)) <= 24.0):
        raise ValueError(f"semitones must be a finite number in [-24, 24] (got {semitones})")
    r = Fraction(2.0 ** (float(semitones) / 12.0)).limit_denominator(64)
    return r.numerator, r.denominator


def change_speed(x: np.ndarray, semitones: float, n: int) -> np.ndarray:
    """``x`` played ``semitones`` faster, as a tape: pitch and tempo change together.

    ``x`` (channels, T) holds the stretch to play with :data:`_SPEED_PAD` samples before it;
    it should hold at least ``speed_input_length(semitones, n)`` samples (shorter ends in
    silence). Returns ``n`` samples (float32): output sample ``k`` is ``x`` at input time
    ``(k0 + k) * p / q`` with ``k0 = floor(_SPEED_PAD * q / p)`` (so the output starts within
    one input sample of the pad's end), band-limited by resample_poly's anti-aliasing filter.
    """
    from scipy.signal import resample_poly

    if x.ndim != 2:
        raise ValueError(f"x must be (channels, samples) (got shape {x.shape})")
    p, q = speed_ratio(semitones)
    need = speed_input_length(semitones, n)
    if x.shape[1] < need:
        x = np.pad(x, ((0, 0), (0, need - x.shape[1])))
    y = resample_poly(x[:, :need].astype(np.float64), q, p, axis=-1)
    k0 = _SPEED_PAD * q // p
    return _fit(y[:, k0:], n)


def speed_input_length(semitones: float, n: int) -> int:
    """Input samples :func:`change_speed` reads for ``n`` output samples (both pads included)."""
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"n must be a positive number of samples (got {n!r})")
    p, q = speed_ratio(semitones)
    return 2 * _SPEED_PAD + -(-n * p // q) + 1


class StemDataset:
    """Random stereo segments ``(mix (2, T), stems (4, 2, T))`` of a music corpus.

    Item ``i`` of epoch ``e`` is drawn from ``(seed, split, e, i)``: a song and an offset; for
    training, with probability ``remix_prob`` every stem comes from a different random song
    and offset (new mixtures from old stems, as Demucs trains), with probability ``speed_prob``
    a stem named in ``speed_stems`` (default all) is played faster or slower by up to
    ``speed_semitones`` (uniform in semitones; pitch, formants and tempo move together,
    :func:`change_speed`: new timbres from old samples), each
    stem gets a random gain of ±``gain_db`` dB, with probability ``eq_prob`` a random equaliser
    (:func:`random_eq`), and the channels are swapped half the time. The mix is always the sum
    of the returned stems. Validation items are fixed (epoch 0, no augmentation). ``eq_prob=0``
    and ``speed_prob=0`` (the defaults) draw exactly the items of the versions before them.

    ``targets`` picks the returned stems, in order: corpus stems, and ``"accompaniment"`` for
    the sum of the corpus stems not named (a two-stem vocals model trains on
    ``("vocals", "accompaniment")``); the items drawn do not depend on it.
    """

    def __init__(self, corpus: str | os.PathLike, split: str = "train", *,
                 seconds: float = 3.0, seed: int = 0, items: int | None = None,
                 remix_prob: float = 0.5, gain_db: float = 3.0, eq_prob: float = 0.0,
                 speed_prob: float = 0.0, speed_semitones: float = 2.0,
                 speed_stems: tuple[str, ...] = STEMS,
                 targets: tuple[str, ...] = STEMS) -> None:
        targets = tuple(targets)
        if (not targets or len(set(targets)) != len(targets)
                or not all(t in STEMS or t == ACCOMPANIMENT for t in targets)):
            raise ValueError(f"targets must be distinct names from {', '.join(STEMS)} or "
                             f"{ACCOMPANIMENT!r} (got {targets!r})")
        for name, v in (("remix_prob", remix_prob), ("eq_prob", eq_prob),
                        ("speed_prob", speed_prob)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1] (got {v})")
        speed_stems = tuple(speed_stems)
        if not speed_stems or not all(t in STEMS for t in speed_stems):
            raise ValueError(f"speed_stems must be names from {', '.join(STEMS)} "
                             f"(got {speed_stems!r})")
        if not 0.0 <= speed_semitones <= 12.0:
            raise ValueError(f"speed_semitones must be in [0, 12] (got {speed_semitones})")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0 (got {seconds})")
        self.root = Path(corpus)
        self.split = split
        self.songs = [r["song"] for r in read_music_metadata(corpus, split)
                      if (self.root / split / "mix" / f"{r['song']}.flac").is_file()]
        if not self.songs:
            raise ValueError(f"no rendered {split} songs in {corpus}")
        from pedalboard.io import AudioFile

        with AudioFile(str(self.root / split / "mix" / f"{self.songs[0]}.flac")) as f:
            if int(round(f.samplerate)) != SAMPLE_RATE or f.num_channels != 2:
                raise ValueError(f"{corpus} is not a 44.1 kHz stereo music corpus")
        self.frames = {s: self._frames(s) for s in self.songs}
        self.seconds = float(seconds)
        self.n = int(round(seconds * SAMPLE_RATE))
        self.seed = seed
        self.train = split == "train"
        self.remix_prob = remix_prob if self.train else 0.0
        self.gain_db = gain_db if self.train else 0.0
        self.eq_prob = eq_prob if self.train else 0.0
        self.speed_prob = speed_prob if self.train and speed_semitones > 0 else 0.0
        self.speed_semitones = float(speed_semitones)
        self.speed_stems = frozenset(speed_stems)
        total = sum(self.frames.values())
        self.items = items if items is not None else max(1, int(total // self.n))
        self.targets = targets
        self.epoch = 0

    def _frames(self, song: str) -> int:
        from pedalboard.io import AudioFile

        with AudioFile(str(self.root / self.split / "mix" / f"{song}.flac")) as f:
            return int(f.frames)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch) if self.train else 0

    def __len__(self) -> int:
        return self.items

    def _read(self, song: str, stem: str, start: int, n: int | None = None) -> np.ndarray:
        """``n`` (default the segment's) samples from ``start``; a negative start reads
        silence before the song."""
        from pedalboard.io import AudioFile

        n = self.n if n is None else n
        lead = max(0, -start)
        with AudioFile(str(self.root / self.split / "stems" / song / f"{stem}.flac")) as f:
            f.seek(start + lead)
            a = f.read(n - lead)
        return _fit(np.pad(a, ((0, 0), (lead, 0))), n)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < self.items:
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), self.epoch, i])
        base = self.songs[int(rng.integers(len(self.songs)))] if self.train else self.songs[
            i % len(self.songs)]
        remix = rng.random() < self.remix_prob
        out = []
        start = int(rng.integers(0, max(1, self.frames[base] - self.n + 1)))
        for stem in STEMS:
            song = base
            if remix:  # each stem from its own song and offset
                song = self.songs[int(rng.integers(len(self.songs)))]
                start = int(rng.integers(0, max(1, self.frames[song] - self.n + 1)))
            if (self.speed_prob and stem in self.speed_stems
                    and rng.random() < self.speed_prob):
                st = float(rng.uniform(-self.speed_semitones, self.speed_semitones))
                x = change_speed(self._read(song, stem, start - _SPEED_PAD,
                                            speed_input_length(st, self.n)), st, self.n)
            else:
                x = self._read(song, stem, start)
            if self.gain_db:
                x *= np.float32(10 ** (rng.uniform(-self.gain_db, self.gain_db) / 20))
            if self.eq_prob and rng.random() < self.eq_prob:
                x = random_eq(x, rng)
            out.append(x)
        stems = np.stack(out)
        if self.train and rng.random() < 0.5:
            stems = stems[:, ::-1].copy()
        mix = stems.sum(axis=0)
        if self.targets != STEMS:
            parts = {s: stems[j] for j, s in enumerate(STEMS)}
            named = set(self.targets)
            stems = np.stack([parts[t] if t != ACCOMPANIMENT else
                              sum(x for s, x in parts.items() if s not in named)
                              for t in self.targets])
        return mix, stems

