"""Bags of separators (``separate(model="A+B")``): each stem from the first model that has it,
e.g. the vocals from a vocals/accompaniment model and the other stems from a four-stem one; and
``two_stems``. Random-init models saved to temporary files stand in for trained ones."""

from __future__ import annotations

import dataclasses
import itertools
import shutil

import numpy as np
import pytest
import torch
from hushboard import separation as sep
from hushboard.cli import main
from hushboard.eval.separation import _model_label
from hushboard.io import read_audio, write_audio
from hushboard.models.bsrnn import BSRNN, BSRNN_CONFIGS
from hushboard.separation import (
    DEFAULT_SEPARATOR,
    STEMS,
    bag_parts,
    load_separator,
    load_separators,
    separate,
)

SR = 44100


def _saved(tmp_path_factory, preset: str, seed: int, name: str, **changes) -> str:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        cfg = dataclasses.replace(BSRNN_CONFIGS[preset], **changes)
        model = BSRNN(cfg)
    path = tmp_path_factory.mktemp("bag") / f"{name}.safetensors"
    model.save(path)
    return str(path)


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> str:
    return _saved(tmp_path_factory, "bsrnn-music-44k-lite", 0, "four")


@pytest.fixture(scope="module")
def vocals(tmp_path_factory) -> str:
    return _saved(tmp_path_factory, "bsrnn-music-44k-lite-vocals", 1, "vocals")


def song(seconds: float = 1.5, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    tones = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (98, 523, 2100))
    return (0.1 * tones[None] + 0.05 * rng.standard_normal((channels, t.size))).astype(np.float32)


def test_the_vocals_preset_is_a_two_stem_separator():
    cfg = BSRNN_CONFIGS["bsrnn-music-44k-lite-vocals"]
    four = BSRNN_CONFIGS["bsrnn-music-44k-lite"]
    assert cfg.stems == ("vocals", "accompaniment")
    # the same network as the four-stem model but for the number of mask heads
    assert dataclasses.replace(cfg, stems=four.stems) == four


def test_each_stem_comes_from_the_first_model_that_has_it(four, vocals):
    x = song()
    bag = separate(x, SR, model=f"{vocals}+{four}")
    alone = separate(x, SR, model=four)
    spec = separate(x, SR, model=vocals)
    assert list(bag) == list(STEMS) and list(spec) == ["vocals", "accompaniment"]
    np.testing.assert_array_equal(bag["vocals"], spec["vocals"])
    for s in ("drums", "bass", "other"):
        np.testing.assert_array_equal(bag[s], alone[s])
    assert not np.allclose(bag["vocals"], alone["vocals"])  # it did take the other model's
    # a list is the same bag; the options apply to every model in it
    as_list = separate(x, SR, model=[vocals, four], stems="vocals,bass", flip=True, shifts=1)
    np.testing.assert_array_equal(
        as_list["vocals"], separate(x, SR, model=vocals, stems="vocals", flip=True,
                                    shifts=1)["vocals"])
    np.testing.assert_array_equal(
        as_list["bass"], separate(x, SR, model=four, stems="bass", flip=True, shifts=1)["bass"])
    # loaded models in a list work too, and mono comes back mono
    xm = song(channels=1)
    got = separate(xm, SR, model=[load_separator(vocals), load_separator(four)], stems="vocals")
    np.testing.assert_array_equal(got["vocals"], separate(xm, SR, model=vocals)["vocals"])


def test_a_model_no_stem_is_taken_from_is_not_run(four, vocals, monkeypatch):
    calls = []
    real = BSRNN.separate_long

    def counting(self, *a, **k):
        calls.append(self.config.stems)
        return real(self, *a, **k)

    monkeypatch.setattr(BSRNN, "separate_long", counting)
    x = song(0.5)
    separate(x, SR, model=f"{vocals}+{four}", stems="drums,other")
    assert calls == [STEMS]
    calls.clear()
    separate(x, SR, model=f"{vocals}+{four}", stems="vocals")
    assert calls == [("vocals", "accompaniment")]
    calls.clear()
    # the Wiener filter works on all the stems, so every model runs, and they sum to the mix
    out = separate(x, SR, model=f"{vocals}+{four}", stems="vocals", wiener=True)
    assert calls == [("vocals", "accompaniment"), STEMS] and list(out) == ["vocals"]
    full = separate(x, SR, model=f"{vocals}+{four}", wiener=True)
    assert np.abs(sum(full.values()) - x).max() < 1e-4 * np.abs(x).max()


def test_progress_covers_every_model(four, vocals):
    seen = []
    separate(song(2.0), SR, model=f"{vocals}+{four}", chunk_seconds=1.0, overlap_seconds=0.25,
             progress=seen.append)
    assert seen[-1] == 1.0 and seen.count(1.0) == 1
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert any(0.4 < f < 0.6 for f in seen)  # the first of two models ends half-way


def test_bag_specs_and_errors(four, vocals, tmp_path_factory, tmp_path):
    assert bag_parts(f"{vocals}+{four}") == [vocals, four]
    assert bag_parts(four) == [four]
    # a file whose name contains "+" is one model
    plus = tmp_path / "a+b.safetensors"
    shutil.copyfile(four, plus)
    assert bag_parts(str(plus)) == [str(plus)]
    assert separate(song(0.3), SR, model=str(plus), stems="bass")["bass"].shape == (2, 13230)
    assert len(load_separators(four)) == 1
    with pytest.raises(ValueError, match="empty separator name"):
        bag_parts(f"{four}+")
    with pytest.raises(ValueError, match="empty list"):
        separate(song(0.3), SR, model=[])
    with pytest.raises(ValueError, match="load it with load_separators"):
        load_separator(f"{vocals}+{four}")
    other_hop = _saved(tmp_path_factory, "bsrnn-music-44k-lite-vocals", 2, "hop",
                       hop_length=256)
    with pytest.raises(ValueError, match="differ in hop_length"):
        separate(song(0.3), SR, model=f"{other_hop}+{four}")
    drums_only = _saved(tmp_path_factory, "bsrnn-music-44k-lite-vocals", 3, "drums",
                        stems=("kick", "rest"))
    with pytest.raises(ValueError, match="gives none of the last one's"):
        load_separators([drums_only, four])
    with pytest.raises(FileNotFoundError, match="no weights file"):
        separate(song(0.3), SR, model=f"{vocals}+{tmp_path / 'none.safetensors'}")
    assert _model_label(f"{vocals}+{four}") == "vocals+four"
    assert _model_label("default") == "default"


def test_default_inside_a_bag(four, vocals, monkeypatch):
    """"default" is the shipped separator, alone or as a model of a bag."""
    monkeypatch.setattr(sep, "shipped_separators", dict)
    with pytest.raises(ValueError, match="no default separator ships"):
        separate(song(0.3), SR, model=f"{vocals}+default")
    monkeypatch.setattr(sep, "shipped_separators", lambda: {DEFAULT_SEPARATOR: four})
    x = song(0.5)
    got = separate(x, SR, model=f"{vocals}+default")
    np.testing.assert_array_equal(got["vocals"], separate(x, SR, model=vocals)["vocals"])
    np.testing.assert_array_equal(got["bass"], separate(x, SR, model=four)["bass"])


def test_cli_separate_with_a_bag(four, vocals, tmp_path, capsys):
    src = tmp_path / "song.wav"
    x = song(1.0)
    write_audio(src, x, SR, bit_depth=32)
    out = tmp_path / "out"
    assert main(["separate", str(src), "-o", str(out), "--model", f"{vocals}+{four}",
                 "--stems", "vocals,drums"]) == 0
    want = separate(x, SR, model=f"{vocals}+{four}", stems="vocals,drums")
    for s in ("vocals", "drums"):
        y, sr = read_audio(out / "song" / f"{s}.wav")
        assert sr == SR
        np.testing.assert_allclose(y, want[s], atol=1e-6)
    # the vocals model alone: vocals and accompaniment (karaoke)
    assert main(["separate", str(src), "-o", str(out / "two"), "--model", vocals]) == 0
    assert sorted(p.name for p in (out / "two" / "song").iterdir()) == [
        "accompaniment.wav", "vocals.wav"]
    assert main(["separate", str(src), "-o", str(out), "--model", f"{vocals}+{four}",
                 "--stems", "accompaniment"]) == 2
    assert "unknown stem(s) 'accompaniment'" in capsys.readouterr().err


def test_two_stems(four, vocals, tmp_path, capsys):
    """two_stems="vocals": the vocals and no_vocals, the sum of the other stems (karaoke)."""
    x = song(1.0)
    full = separate(x, SR, model=four)
    two = separate(x, SR, model=four, two_stems="vocals")
    assert list(two) == ["vocals", "no_vocals"]
    np.testing.assert_array_equal(two["vocals"], full["vocals"])
    np.testing.assert_allclose(two["no_vocals"], full["drums"] + full["bass"] + full["other"],
                               atol=1e-6)
    drums = separate(x, SR, model=four, two_stems="drums")
    np.testing.assert_allclose(drums["no_drums"], full["vocals"] + full["bass"] + full["other"],
                               atol=1e-6)
    # with the Wiener filter the pair sums to the mix; mono stays mono; a bag works too
    w = separate(x, SR, model=f"{vocals}+{four}", two_stems="vocals", wiener=True)
    assert np.abs(w["vocals"] + w["no_vocals"] - x).max() < 1e-4 * np.abs(x).max()
    xm = song(1.0, channels=1)
    m = separate(xm, SR, model=four, two_stems="bass")
    assert m["bass"].shape == m["no_bass"].shape == xm.shape
    # a vocals/accompaniment model: no_vocals is its accompaniment
    pair = separate(x, SR, model=vocals)
    np.testing.assert_array_equal(separate(x, SR, model=vocals, two_stems="vocals")["no_vocals"],
                                  pair["accompaniment"])
    for kwargs, match in (({"two_stems": "piano"}, "two_stems must be one of"),
                          ({"two_stems": 1}, "two_stems must be one of"),
                          ({"two_stems": "vocals", "stems": "bass"}, "not both")):
        with pytest.raises(ValueError, match=match):
            separate(x, SR, model=four, **kwargs)
    # the command line
    src = tmp_path / "song.wav"
    write_audio(src, x, SR, bit_depth=32)
    assert main(["separate", str(src), "-o", str(tmp_path / "out"), "--model", four,
                 "--two-stems", "vocals"]) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "song").iterdir()) == [
        "no_vocals.wav", "vocals.wav"]
    y, _ = read_audio(tmp_path / "out" / "song" / "no_vocals.wav")
    np.testing.assert_allclose(y, two["no_vocals"], atol=1e-6)
    capsys.readouterr()
    for extra, message in ((["--two-stems", "piano"], "--two-stems: unknown stem 'piano'"),
                           (["--two-stems", "vocals", "--stems", "bass"], "not both")):
        assert main(["separate", str(src), "-o", str(tmp_path / "out"), "--model", four,
                     *extra]) == 2
        assert message in capsys.readouterr().err
