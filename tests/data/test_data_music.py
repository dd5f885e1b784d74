"""The music stem generator: song plans, MIDI, soundfont splits, rendered stems, StemDataset."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from hushboard.data.music import (
    STEMS,
    TPQ,
    StemDataset,
    build_music,
    change_speed,
    find_soundfonts,
    plan_song,
    random_eq,
    song_midi,
    soundfont_splits,
    speed_input_length,
    speed_ratio,
)


def require_fluidsynth() -> None:
    from data_helpers import require_tts

    require_tts()  # fluidsynth + a GM soundfont (and the TTS engines festival sings with)


def test_plan_is_a_function_of_the_seed():
    a, b, c = plan_song(11, 20.0), plan_song(11, 20.0), plan_song(12, 20.0)
    assert a == b
    assert a != c
    # roles: drums on MIDI channel 10, a voice program for the vocals, basses low
    drums = [p for p in a.parts if p.stem == "drums"]
    assert len(drums) == 1 and drums[0].channel == 9
    for seed in range(30):
        plan = plan_song(seed, 20.0)
        assert plan.bars * 4 * 60 / plan.tempo_bpm >= 20.0
        assert sum(n for _, _, n in plan.sections) == plan.bars
        for p in plan.parts:
            assert p.stem in STEMS
            if p.stem == "vocals":
                assert p.program in (52, 53, 54, 85)
            if p.stem == "bass":
                assert max(n[2] for n in p.notes) <= 64
            assert all(0 <= n[2] <= 127 and 1 <= n[3] <= 127 and n[1] > 0 for n in p.notes)
    with pytest.raises(ValueError, match="seconds"):
        plan_song(1, 0.0)


def test_sung_vocals_only_with_festival():
    sung = [plan_song(s, 20.0, festival=True, sung_prob=1.0) for s in range(8)]
    assert any(p.sung for p in sung)
    for p in sung:
        assert not any(q.stem == "vocals" for q in p.parts)  # no MIDI voice beside the singer
        for start, notes in p.sung or []:
            assert notes[0][0] == start and all(isinstance(w, str) and w for *_, w in notes)
    assert not any(plan_song(s, 20.0, festival=False).sung for s in range(8))


def test_festival_crash_phrases_are_sung(tmp_path):
    """festival's singing mode segfaults on some phrases (one note; the second phrase of song
    train_00268 of the default corpus, the eighth of train_00481, which needs a longer rest)
    unless they start with a rest: the renderer sings every phrase, empty ones skipped, each
    starting on time."""
    import dataclasses

    from hushboard.data.music import SAMPLE_RATE, _has_festival_singing, _sing, _song_seed

    require_fluidsynth()
    if not _has_festival_singing():
        pytest.fail("festival is installed without its singing mode (singing-mode.scm)")
    plan = next(p for p in (plan_song(s, 10.0, festival=True, sung_prob=1.0) for s in range(20))
                if p.sung)
    start, notes = plan.sung[0]
    n = 10 * SAMPLE_RATE
    crashes = []
    for song, phrase in ((268, 1), (481, 7)):
        crash = plan_song(_song_seed(0, "train", song), 30.0, festival=True, sung_prob=0.5)
        at, words = crash.sung[phrase]
        crashes.append(dataclasses.replace(crash, sung=[(start, [(s - at + start, *r)
                                                                 for s, *r in words])]))
    for one in (dataclasses.replace(plan, sung=[(start, notes[:1]), (start + 8 * TPQ, [])]),
                *crashes):
        out = _sing(one, n, tmp_path, np.random.default_rng(0))
        assert out.shape == (2, n) and np.isfinite(out).all()
        i0 = int(round(start * one.seconds_per_tick() * SAMPLE_RATE))
        # the added rest is trimmed: the phrase starts on time (before it: FFT rounding)
        assert np.abs(out[:, :i0]).max() < 1e-6
        # and sounds from its start (within 50 ms; a sung "s" is quiet), its vowels within 1 s
        assert np.flatnonzero(np.abs(out).max(0) > 1e-3)[0] < i0 + SAMPLE_RATE // 20
        assert np.abs(out[:, i0:i0 + SAMPLE_RATE]).max() > 1e-1


def test_midi_per_stem():
    plan = plan_song(5, 10.0)
    for stem in STEMS:
        data = song_midi(plan, stem)
        if data is None:
            assert not any(p.stem == stem and p.notes for p in plan.parts)
            continue
        assert data[:4] == b"MThd" and data[14:18] == b"MTrk"
        fmt, ntrk, tpq = int.from_bytes(data[8:10], "big"), int.from_bytes(
            data[10:12], "big"), int.from_bytes(data[12:14], "big")
        assert (fmt, ntrk, tpq) == (0, 1, TPQ)
        length = int.from_bytes(data[18:22], "big")
        assert len(data) == 22 + length and data.endswith(b"\x00\xff\x2f\x00")
        n_on = sum(len(p.notes) for p in plan.parts if p.stem == stem)
        # every note-on status byte of the stem's channels (running status is not used)
        chans = {p.channel for p in plan.parts if p.stem == stem}
        ons = sum(data.count(bytes([0x90 | c])) for c in chans)
        assert ons >= n_on


def test_soundfont_split_rule():
    s = soundfont_splits(["A", "B", "TimGM6mb"])
    assert s == {"train": ["A", "B"], "valid": ["TimGM6mb"], "test": ["TimGM6mb"]}
    assert soundfont_splits(["A", "B"]) == {"train": ["A"], "valid": ["B"], "test": ["B"]}
    assert soundfont_splits(["A"]) == {"train": ["A"], "valid": ["A"], "test": ["A"]}
    assert soundfont_splits(["A", "B", "C"], ["A"])["train"] == ["B", "C"]
    with pytest.raises(ValueError, match="not among"):
        soundfont_splits(["A", "B"], ["Z"])
    with pytest.raises(ValueError, match="none is left"):
        soundfont_splits(["A", "B"], ["A", "B"])
    with pytest.raises(ValueError, match="no soundfont"):
        soundfont_splits([])


@pytest.fixture(scope="module")
def tiny_music(tmp_path_factory):
    require_fluidsynth()
    fonts = find_soundfonts()
    root = tmp_path_factory.mktemp("music")
    rows = build_music(root, songs=(3, 1, 1), seconds=4.0, seed=5, workers=2, progress=False)
    if any(p.endswith(".sf3") for p in fonts.values()):  # rendered from cached conversions
        from hushboard.data.soundfont import soundfont_cache_dir

        assert any(soundfont_cache_dir().glob("*.sf2"))
    return root, rows, fonts


def _read(path):
    from hushboard.io import read_audio

    a, sr = read_audio(path)
    assert sr == 44100
    return a


@pytest.mark.parametrize("kind", ["low", "peak", "high"])
@pytest.mark.parametrize("gain_db", [-6.0, 4.5])
def test_eq_sections_have_their_designed_response(kind, gain_db):
    from hushboard.data.music import _biquad
    from scipy.signal import sosfreqz

    sr, f0, q = 44100, 700.0, 1.3
    sos = _biquad(kind, f0, gain_db, q, sr)[None]
    assert sos[0, 3] == 1.0
    _, h = sosfreqz(sos, worN=[1e-3, f0, sr / 2 - 1e-3], fs=sr)
    db = 20 * np.log10(np.abs(h))
    dc, at_f0, nyq = db
    if kind == "peak":  # the gain at f0, flat far from it
        np.testing.assert_allclose([dc, at_f0, nyq], [0.0, gain_db, 0.0], atol=1e-6)
    elif kind == "low":  # the gain at DC, flat at Nyquist, half the gain (in dB) at f0
        np.testing.assert_allclose([dc, at_f0, nyq], [gain_db, gain_db / 2, 0.0], atol=1e-6)
    else:
        np.testing.assert_allclose([dc, at_f0, nyq], [0.0, gain_db / 2, gain_db], atol=1e-6)


def test_random_eq():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 44100)).astype(np.float32)
    x[1] = x[0]
    y = random_eq(x, np.random.default_rng(3))
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_array_equal(y[0], y[1])  # one equaliser for every channel
    np.testing.assert_array_equal(y, random_eq(x, np.random.default_rng(3)))  # a function of rng
    assert not np.allclose(y, random_eq(x, np.random.default_rng(4)), atol=1e-3)
    # three sections of at most ±6 dB: the spectrum moves, by at most 18 dB at any frequency
    ratio = np.abs(np.fft.rfft(y[0].astype(np.float64))[1000:20000]) / np.abs(
        np.fft.rfft(x[0].astype(np.float64))[1000:20000])
    db = 20 * np.log10(ratio)
    assert np.abs(db).max() <= 18.5 and np.abs(db).max() > 0.5
    flat = random_eq(x, np.random.default_rng(3), max_db=0.0)
    np.testing.assert_allclose(flat, x, atol=1e-5)


@pytest.mark.parametrize("semitones", [-2.0, -0.37, 0.0, 1.0, 1.9, 12.0])
def test_change_speed_plays_the_input_faster(semitones):
    p, q = speed_ratio(semitones)
    assert max(p, q) <= 64 and abs(p / q - 2 ** (semitones / 12)) < 2e-3
    n, sr = 3001, 44100.0
    need = speed_input_length(semitones, n)
    rng = np.random.default_rng(7)
    # a sum of tones well below the band edge, on two channels with their own phases
    f = np.array([110.0, 523.0, 1733.0, 4001.0])
    ph = rng.uniform(0, 2 * np.pi, (2, 4))

    def signal(t):  # t in input samples (float64)
        return np.sin(2 * np.pi * f[None, :, None] * t / sr + ph[:, :, None]).sum(1)

    x = signal(np.arange(need, dtype=np.float64))
    y = change_speed(x.astype(np.float32), semitones, n)
    assert y.shape == (2, n) and y.dtype == np.float32
    k0 = 256 * q // p  # the pad read before the stretch
    expected = signal((k0 + np.arange(n)) * p / q)
    np.testing.assert_allclose(y, expected, atol=2e-3 * np.abs(expected).max())
    # a short input ends in silence, never in an error
    short = change_speed(x[:, :need // 2].astype(np.float32), semitones, n)
    assert short.shape == (2, n) and np.abs(short[:, -50:]).max() < 1e-3


def test_change_speed_moves_the_pitch():
    sr, n = 44100, 44100
    x = np.sin(2 * np.pi * 440.0 * np.arange(speed_input_length(3.0, n)) / sr)[None]
    y = change_speed(x.astype(np.float32), 3.0, n)[0]
    peak = np.argmax(np.abs(np.fft.rfft(y * np.hanning(n)))) * sr / n
    assert abs(peak - 440.0 * 2 ** (3 / 12)) <= 1.0  # C5 from A4: 523.25 Hz


def test_change_speed_bad_arguments():
    x = np.zeros((2, 4000), np.float32)
    for bad in (float("nan"), float("inf"), 30.0):
        with pytest.raises(ValueError, match="semitones"):
            change_speed(x, bad, 100)
    with pytest.raises(ValueError, match="x must be"):
        change_speed(x[0], 1.0, 100)
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="n must be"):
            change_speed(x, 1.0, bad)


def test_rendered_songs_layout_sum_and_splits(tiny_music):
    root, rows, fonts = tiny_music
    meta = json.loads((root / "music.json").read_text())
    assert meta["stems"] == list(STEMS) and meta["sample_rate"] == 44100
    by_split = meta["soundfont_splits"]
    if len(fonts) > 1:  # the test split's timbres were never heard in training
        assert not set(by_split["train"]) & set(by_split["test"])
    names = {split: [r["song"] for r in rows if r["split"] == split] for split in by_split}
    assert [len(names[s]) for s in ("train", "valid", "test")] == [3, 1, 1]
    assert not set(names["train"]) & set(names["test"])
    for split in ("train", "valid", "test"):
        with open(root / split / "metadata.csv", newline="") as fh:
            meta_rows = list(csv.DictReader(fh))
        assert [r["song"] for r in meta_rows] == names[split]
        for r in meta_rows:
            assert r["soundfont"] in by_split[split]
    seeds = [r["seed"] for r in rows]
    assert len(set(seeds)) == len(seeds)
    for r in rows:
        mix = _read(root / r["split"] / "mix" / f"{r['song']}.flac")
        stems = [_read(root / r["split"] / "stems" / r["song"] / f"{s}.flac") for s in STEMS]
        assert mix.shape == (2, 4 * 44100) and all(s.shape == mix.shape for s in stems)
        assert np.abs(mix).max() <= 0.96
        # 24-bit files: the stems sum to the mix within four quantisation steps
        assert np.abs(sum(stems) - mix).max() < 4 * 2.0 ** -23
        playing = [s for s in stems if np.abs(s).max() > 1e-3]
        assert len(playing) >= 3  # drums, bass and other at least


def test_generation_is_deterministic(tiny_music, tmp_path):
    root, rows, _ = tiny_music
    again = build_music(tmp_path, songs=(1, 0, 0), seconds=4.0, seed=5, workers=1,
                        progress=False)
    assert again[0] == rows[0]
    for s in STEMS:
        a = _read(root / "train" / "stems" / "train_00000" / f"{s}.flac")
        b = _read(tmp_path / "train" / "stems" / "train_00000" / f"{s}.flac")
        np.testing.assert_array_equal(a, b)


def test_resume_keeps_finished_songs(tiny_music, tmp_path):
    root, _, _ = tiny_music
    shutil.copytree(root / "train", tmp_path / "train")
    mix = tmp_path / "train" / "mix" / "train_00000.flac"
    before = mix.stat().st_mtime_ns
    build_music(tmp_path, songs=(1, 0, 0), seconds=4.0, seed=5, workers=1, progress=False)
    assert mix.stat().st_mtime_ns == before


def test_mastering_keeps_every_stem_inside_full_scale():
    """Stems that cancel in the mix (a loud vocal against its inverse in "other") must not
    peak past full scale after the mix is normalised, or the 24-bit stem files clip and no
    longer sum to the mix; a song without cancellation keeps its scale."""
    from hushboard.data.music import SAMPLE_RATE, _master

    rng = np.random.default_rng(0)
    n = SAMPLE_RATE
    v = 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / SAMPLE_RATE) * np.ones((2, 1))
    quiet = 0.01 * rng.standard_normal((2, n))
    stems = {"vocals": v, "drums": quiet, "bass": 0 * v, "other": -0.9 * v}
    out = _master({k: x.astype(np.float32) for k, x in stems.items()}, np.random.default_rng(1))
    assert max(float(np.abs(x).max()) for x in out.values()) <= 0.99 + 1e-6
    mix = sum(out.values())
    assert 0 < float(np.abs(mix).max()) <= 0.95
    plain = {"vocals": v, "drums": quiet, "bass": 0 * v, "other": 0.3 * v[::-1]}
    a = _master({k: x.astype(np.float32) for k, x in plain.items()}, np.random.default_rng(1))
    assert 0.6 - 1e-6 <= float(np.abs(sum(a.values())).max()) <= 0.95 + 1e-6


def test_add_music_songs(tiny_music, tmp_path):
    from hushboard.data.music import add_music_songs, read_music_metadata

    root, rows, _ = tiny_music
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    meta = json.loads((tmp_path / "music.json").read_text())
    font = meta["soundfont_splits"]["train"][0]
    added = add_music_songs(tmp_path, 2, soundfonts=[meta["soundfonts"][font]], seed=9,
                            workers=1, progress=False)
    assert [r["song"] for r in added] == ["train_00003", "train_00004"]
    assert all(r["soundfont"] == font and r["seconds"] == 4.0 for r in added)
    train = read_music_metadata(tmp_path, "train")
    assert [r["song"] for r in train] == [f"train_{i:05d}" for i in range(5)]
    assert train[:3] == [{k: str(v) for k, v in r.items()} for r in rows[:3]]
    meta2 = json.loads((tmp_path / "music.json").read_text())
    assert meta2["added"] == [{"split": "train", "first": 3, "songs": 2, "seed": 9,
                               "soundfonts": {font: meta["soundfonts"][font]},
                               "sung_prob": meta["sung_prob"]}]
    assert len(StemDataset(tmp_path, "train", seconds=1.0).songs) == 5
    for r in added:  # rendered like any song: stems sum to the mix
        mix = _read(tmp_path / "train" / "mix" / f"{r['song']}.flac")
        stems = [_read(tmp_path / "train" / "stems" / r["song"] / f"{s}.flac") for s in STEMS]
        assert np.abs(sum(stems) - mix).max() < 4 * 2.0 ** -23 and np.abs(mix).max() > 0.1
    # rebuilding the base corpus keeps the appended songs; growing it into them is refused
    build_music(tmp_path, songs=(3, 1, 1), seconds=4.0, seed=5, workers=1, progress=False)
    assert [r["song"] for r in read_music_metadata(tmp_path, "train")][3:] == [
        "train_00003", "train_00004"]
    assert json.loads((tmp_path / "music.json").read_text())["added"] == meta2["added"]
    with pytest.raises(ValueError, match="appended from train_00003"):
        build_music(tmp_path, songs=(4, 1, 1), seconds=4.0, seed=5, workers=1, progress=False)
    # bad calls change nothing
    if meta["soundfont_split"]:
        held = meta["soundfont_splits"]["test"][0]
        with pytest.raises(ValueError, match="validation/test songs"):
            add_music_songs(tmp_path, 1, soundfonts=[meta["soundfonts"][held]])
    with pytest.raises(ValueError, match="at least one soundfont"):
        add_music_songs(tmp_path, 1, soundfonts=[])
    with pytest.raises(ValueError, match="train must be"):
        add_music_songs(tmp_path, 0, soundfonts=[meta["soundfonts"][font]])
    with pytest.raises(ValueError, match="no music corpus"):
        add_music_songs(tmp_path / "nothing", 1, soundfonts=[meta["soundfonts"][font]])
    assert len(read_music_metadata(tmp_path, "train")) == 5


def test_build_music_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="songs"):
        build_music(tmp_path, songs=(1, 1))
    with pytest.raises(ValueError, match="seconds"):
        build_music(tmp_path, songs=(1, 0, 0), seconds=0)
    with pytest.raises(ValueError, match="soundfont"):
        build_music(tmp_path, songs=(1, 0, 0), soundfonts=[str(tmp_path / "none.sf2")])


def test_stem_dataset(tiny_music):
    root, _, _ = tiny_music
    ds = StemDataset(root, "train", seconds=1.0, seed=2)
    ds_default = StemDataset(root, "train", seconds=1.0, seed=2)
    assert len(ds) == 3 * 4  # whole songs' worth of 1 s segments
    mix, stems = ds[0]
    assert mix.shape == (2, 44100) and stems.shape == (4, 2, 44100)
    assert mix.dtype == np.float32 and stems.dtype == np.float32
    np.testing.assert_allclose(stems.sum(0), mix, atol=1e-6)
    _, s2 = ds[0]
    np.testing.assert_array_equal(s2, stems)  # a function of (seed, split, epoch, index)
    ds.set_epoch(1)
    assert any(not np.array_equal(ds[i][1], StemDataset(root, "train", seconds=1.0, seed=2)[i][1])
               for i in range(4))
    valid = StemDataset(root, "valid", seconds=1.0, seed=2, items=3)
    valid.set_epoch(4)  # fixed: no epochs, no augmentation
    v0 = valid[0]
    valid.set_epoch(0)
    np.testing.assert_array_equal(valid[0][1], v0[1])
    # without remixing or gains, an item is one stretch of one song: its stem files' samples
    plain = StemDataset(root, "valid", seconds=1.0, seed=2, remix_prob=0.0, gain_db=0.0)
    mix, stems = plain[0]
    files = [_read(root / "valid" / "stems" / "valid_00000" / f"{s}.flac") for s in STEMS]
    j = int(np.argmax([np.abs(x).max() for x in stems]))
    probe = stems[j, 0, 2000:2016]
    hits = [k for k in range(files[j].shape[1] - 44100 + 1)
            if np.array_equal(files[j][0, k + 2000:k + 2016], probe)]
    assert any(all(np.array_equal(f[:, k:k + 44100], x) for f, x in zip(files, stems))
               for k in hits)
    with pytest.raises(IndexError):
        plain[len(plain)]
    # the equaliser: off by default (the same items as before it existed), a new item with it,
    # whose mix is still the sum of its stems; never on validation items
    eq = StemDataset(root, "train", seconds=1.0, seed=2, eq_prob=1.0)
    base = StemDataset(root, "train", seconds=1.0, seed=2, eq_prob=0.0)
    for i in range(3):
        np.testing.assert_array_equal(base[i][1], ds_default[i][1])
        mix_eq, stems_eq = eq[i]
        np.testing.assert_allclose(stems_eq.sum(0), mix_eq, atol=1e-6)
        assert not np.allclose(stems_eq, base[i][1], atol=1e-4)
    np.testing.assert_array_equal(
        StemDataset(root, "valid", seconds=1.0, seed=2, items=3, eq_prob=1.0)[0][1], v0[1])
    with pytest.raises(ValueError, match="eq_prob"):
        StemDataset(root, "train", eq_prob=1.5)
    # speed changes: off by default, a new item with them (stems as long as ever, the mix their
    # sum, each changed stem a resampled stretch of its file), never on validation items
    fast = StemDataset(root, "train", seconds=1.0, seed=2, speed_prob=1.0, speed_semitones=2.0)
    for i in range(3):
        mix_f, stems_f = fast[i]
        assert stems_f.shape == (4, 2, 44100) and stems_f.dtype == np.float32
        np.testing.assert_allclose(stems_f.sum(0), mix_f, atol=1e-6)
        assert not np.allclose(stems_f, ds_default[i][1], atol=1e-4)
        np.testing.assert_array_equal(fast[i][1], stems_f)
    np.testing.assert_array_equal(StemDataset(root, "train", seconds=1.0, seed=2,
                                              speed_prob=0.0)[1][1], ds_default[1][1])
    np.testing.assert_array_equal(StemDataset(root, "train", seconds=1.0, seed=2,
                                              speed_prob=1.0, speed_semitones=0.0)[1][1],
                                  ds_default[1][1])
    np.testing.assert_array_equal(
        StemDataset(root, "valid", seconds=1.0, seed=2, items=3, speed_prob=1.0)[0][1], v0[1])
    # speed_stems: only the stems named change speed; the others are the plain item's (up to
    # the channel swap, whose draw comes after the speed draws)
    kw = dict(seconds=1.0, seed=2, remix_prob=0.0, gain_db=0.0)
    plain_t = StemDataset(root, "train", **kw)
    drums_only = StemDataset(root, "train", speed_prob=1.0, speed_stems=("drums",), **kw)
    for i in range(3):
        a, b = plain_t[i][1], drums_only[i][1]
        for j, s in enumerate(STEMS):
            same = np.array_equal(b[j], a[j]) or np.array_equal(b[j], a[j, ::-1])
            assert same == (s != "drums") or (s == "drums" and np.abs(a[j]).max() == 0), (i, s)
    for kw, name in (({"speed_prob": -0.1}, "speed_prob"), ({"remix_prob": 2.0}, "remix_prob"),
                     ({"speed_semitones": 13.0}, "speed_semitones"),
                     ({"speed_stems": ("voice",)}, "speed_stems"), ({"speed_stems": ()},
                                                                    "speed_stems")):
        with pytest.raises(ValueError, match=name):
            StemDataset(root, "train", **kw)
    # targets: the same items, the stems picked and the rest summed as the accompaniment
    two = StemDataset(root, "train", seconds=1.0, seed=2, eq_prob=1.0,
                      targets=("vocals", "accompaniment"))
    three = StemDataset(root, "train", seconds=1.0, seed=2, eq_prob=1.0,
                        targets=("bass", "drums", "accompaniment"))
    for i in range(3):
        mix, stems = eq[i]
        mix2, pair = two[i]
        assert pair.shape == (2, 2, 44100) and pair.dtype == np.float32
        np.testing.assert_array_equal(mix2, mix)
        np.testing.assert_array_equal(pair[0], stems[0])
        np.testing.assert_allclose(pair[1], stems[1:].sum(0), atol=1e-6)
        np.testing.assert_allclose(pair.sum(0), mix, atol=1e-6)
        _, trio = three[i]
        np.testing.assert_array_equal(trio[0], stems[2])
        np.testing.assert_array_equal(trio[1], stems[1])
        np.testing.assert_allclose(trio[2], stems[0] + stems[3], atol=1e-6)
    for bad in ((), ("vocals", "vocals"), ("vocals", "piano"), ("speech",)):
        with pytest.raises(ValueError, match="targets"):
            StemDataset(root, "train", targets=bad)
    with pytest.raises(ValueError, match="split"):
        StemDataset(root, "dev")
    with pytest.raises(ValueError, match="no valid songs|no test songs|no train songs|missing"):
        StemDataset(root / "nowhere", "train")


def test_train_separator_end_to_end(tiny_music, tmp_path):
    """`hushboard train bsrnn-music-44k-lite` on the rendered songs: a separator log, an
    exported model that `hushboard.separate` runs."""
    from hushboard.cli import main
    from hushboard.models import BSRNN
    from hushboard.separation import separate

    root, _, _ = tiny_music
    out = tmp_path / "run"
    rc = main(["train", "bsrnn-music-44k-lite", "--data", str(root), "--out", str(out),
               "--steps", "2", "--batch-size", "2", "--segment-seconds", "0.5",
               "--valid-items", "2", "--valid-every", "2", "--checkpoint-every", "2",
               "--warmup-steps", "1", "--quiet"])
    assert rc == 0
    with open(out / "log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [2]
    assert {"valid_usdr", "valid_usdr_gain", *(f"valid_usdr_{s}" for s in STEMS)} <= set(rows[0])
    assert np.isfinite(float(rows[0]["valid_usdr"]))
    card = (out / "MODEL_CARD.md").read_text()
    assert "−SDR per stem" in card and "offline" in card and "training songs" in card
    model = BSRNN.load(out / "model.safetensors")
    assert model.config.stems == STEMS
    x = _read(root / "test" / "mix" / "test_00000.flac")[:, :44100]
    y = separate(x, 44100, model=str(out / "model.safetensors"))
    assert set(y) == set(STEMS) and all(v.shape == x.shape for v in y.values())


def test_train_cli_vocals_model(tiny_music, tmp_path):
    """The two-stem vocals preset trains on vocals and the sum of the other stems, starting
    from a four-stem separator's trunk and vocals head."""
    import csv

    from hushboard.cli import main
    from hushboard.models import BSRNN

    root, _, _ = tiny_music
    four = tmp_path / "four.safetensors"
    BSRNN("bsrnn-music-44k-lite").save(four)
    out = tmp_path / "run"
    assert main(["train", "bsrnn-music-44k-lite-vocals", "--data", str(root), "--out", str(out),
                 "--init", str(four), "--steps", "1", "--batch-size", "1",
                 "--segment-seconds", "0.5", "--valid-every", "1", "--checkpoint-every", "1",
                 "--valid-items", "1", "--warmup-steps", "1", "--mrstft-weight", "0",
                 "--stem-weights", "vocals=3", "--quiet"]) == 0
    with open(out / "log.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert np.isfinite(float(row["valid_usdr_accompaniment"]))
    assert BSRNN.load(out / "model.safetensors").config.stems == ("vocals", "accompaniment")
    card = (out / "MODEL_CARD.md").read_text()
    assert "stems vocals, accompaniment" in card and "by transfer" in card


def _shipped_separators():
    from hushboard.separation import shipped_separators

    return shipped_separators()


@pytest.mark.parametrize("name", sorted(_shipped_separators()))
def test_shipped_separator_beats_the_mix(name, tiny_music):
    """The shipped separator, by name, on held-out songs (the test split's soundfont was never
    heard in training): every stem's uSDR above the mixture's, and the mean well above."""
    import os

    from hushboard.metrics import usdr
    from hushboard.separation import separate

    path = _shipped_separators()[name]
    assert os.path.isfile(path[:-len(".safetensors")] + ".md"), "model card missing"
    assert os.path.getsize(path) <= 8 * 2 ** 20
    root, rows, _ = tiny_music
    gains = {s: [] for s in STEMS}
    for r in rows:
        if r["split"] == "train":
            continue
        mix = _read(root / r["split"] / "mix" / f"{r['song']}.flac")
        est = separate(mix, 44100, model=name)
        for s in STEMS:
            ref = _read(root / r["split"] / "stems" / r["song"] / f"{s}.flac")
            if np.abs(ref).max() < 1e-3:
                continue  # a silent stem (an instrumental song's vocals)
            gains[s].append(usdr(ref, est[s]) - usdr(ref, mix))
    mean = {s: float(np.mean(g)) for s, g in gains.items() if g}
    assert all(g > 0 for g in mean.values()), mean
    assert np.mean(list(mean.values())) > 3.0, mean


def test_train_cli_on_tiny_music_corpus(tiny_music, tmp_path):
    from hushboard.cli import main
    from hushboard.models import BSRNN

    root, _, _ = tiny_music
    out = tmp_path / "run"
    assert main(["train", "bsrnn-music-44k-lite", "--data", str(root), "--out", str(out),
                 "--steps", "1", "--batch-size", "1", "--segment-seconds", "0.5",
                 "--valid-every", "1", "--checkpoint-every", "1", "--valid-items", "1",
                 "--warmup-steps", "1", "--mrstft-weight", "0", "--eq-prob", "0.5",
                 "--speed-prob", "0.25", "--speed-semitones", "1.5", "--speed-stems",
                 "other,bass", "--quiet"]) == 0
    assert BSRNN.load(out / "model.safetensors").config.stems == STEMS
    card = (out / "MODEL_CARD.md").read_text()
    assert "3 training songs" in card and "random equaliser" in card and "50 %" in card
    assert "speed change of up to ±1.5 semitones" in card and "25 % of the bass, other" in card


def test_add_music_songs_interrupted(tiny_music, tmp_path, monkeypatch):
    """A call that dies mid-way (festival crashing, Ctrl-C) is finished by the same call; any
    other call is refused until then, so no song is recorded with a soundfont it was not
    rendered with."""
    from hushboard.data import music

    root, _, fonts = tiny_music
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    meta = json.loads((tmp_path / "music.json").read_text())
    font = meta["soundfont_splits"]["train"][0]
    real = music.render_song
    calls = []

    def dies_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("festival singing failed (-11)")
        return real(*args, **kwargs)

    monkeypatch.setattr(music, "render_song", dies_on_second)
    with pytest.raises(RuntimeError, match="festival"):
        music.add_music_songs(tmp_path, 2, soundfonts=[meta["soundfonts"][font]], seed=9,
                              workers=1, progress=False)
    monkeypatch.setattr(music, "render_song", real)
    done = (tmp_path / "train" / "mix" / "train_00003.flac").stat().st_mtime_ns
    assert len(music.read_music_metadata(tmp_path, "train")) == 3  # not recorded yet
    other = next((p for n, p in fonts.items()
                  if n != font and n not in meta["soundfont_splits"]["test"]), None)
    refused = [lambda: music.add_music_songs(tmp_path, 2, soundfonts=[meta["soundfonts"][font]],
                                             seed=10, workers=1, progress=False),
               lambda: music.add_music_songs(tmp_path, 3, soundfonts=[meta["soundfonts"][font]],
                                             seed=9, workers=1, progress=False),
               lambda: build_music(tmp_path, songs=(3, 1, 1), seconds=4.0, seed=5, workers=1,
                                   progress=False)]
    if other is not None:
        refused.append(lambda: music.add_music_songs(tmp_path, 2, soundfonts=[other], seed=9,
                                                     workers=1, progress=False))
    for call in refused:
        with pytest.raises(ValueError, match="interrupted .*train_00003.*same arguments"):
            call()
    rows = music.add_music_songs(tmp_path, 2, soundfonts=[meta["soundfonts"][font]], seed=9,
                                 workers=1, progress=False)
    assert [r["song"] for r in rows] == ["train_00003", "train_00004"]
    assert all(r["soundfont"] == font for r in rows)
    assert (tmp_path / "train" / "mix" / "train_00003.flac").stat().st_mtime_ns == done  # kept
    meta2 = json.loads((tmp_path / "music.json").read_text())
    assert "pending" not in meta2 and [a["first"] for a in meta2["added"]] == [3]
    assert len(music.read_music_metadata(tmp_path, "train")) == 5
