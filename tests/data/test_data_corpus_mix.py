"""Corpus on disk (TTS + noise), mixing, the dataset and the test-set writer."""

from __future__ import annotations

import csv
import hashlib
import os
import wave
from pathlib import Path

import numpy as np
import pytest
import torch
from data_helpers import TINY, TINY_NOISE, require_tts
from hushboard.data import MixDataset, build_noise, build_speech, mix_at_snr, write_testset
from hushboard.data.corpus import read_manifest


def _digest(root: Path, sub: str) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted((root / sub).rglob("*.wav"))}


def test_speech_corpus_layout_and_splits(tiny_corpus):
    rows = read_manifest(tiny_corpus / "speech_manifest.csv")
    assert len(rows) == TINY["n_sentences"]
    assert {r["engine"] for r in rows} <= {"espeak-ng", "flite", "festival"}
    split_of = {}
    for r in rows:
        p = tiny_corpus / r["file"]
        assert p.is_file() and r["file"].startswith(f"speech/{r['split']}/")
        with wave.open(str(p)) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1
            assert abs(w.getnframes() / 16000 - float(r["duration_s"])) < 1e-3
        assert 0.5 < float(r["duration_s"]) < 15
        for key in ("sentence_id", "text", "voice", "speaker_group"):
            assert split_of.setdefault((key, r[key]), r["split"]) == r["split"], key
    assert {r["split"] for r in rows} == {"train", "valid", "test"}


def test_speech_deterministic_and_resumable(tiny_corpus, tmp_path):
    build_speech(tmp_path, progress=False, **TINY)
    assert _digest(tmp_path, "speech") == _digest(tiny_corpus, "speech")
    assert ((tmp_path / "speech_manifest.csv").read_bytes()
            == (tiny_corpus / "speech_manifest.csv").read_bytes())
    victim = sorted((tmp_path / "speech" / "train").glob("*.wav"))[0]
    victim.unlink()
    build_speech(tmp_path, progress=False, **TINY)  # resume: only the missing file is rendered
    assert _digest(tmp_path, "speech") == _digest(tiny_corpus, "speech")
    with pytest.raises(ValueError, match="out"):
        build_speech(tmp_path, progress=False, **{**TINY, "seed": 4})


def test_noise_corpus_labelled_and_deterministic(tiny_corpus, tmp_path):
    from hushboard.data.noise import NOISE_TYPES

    rows = read_manifest(tiny_corpus / "noise_manifest.csv")
    assert {r["type"] for r in rows} == set(NOISE_TYPES)
    assert len(rows) == len(NOISE_TYPES) * sum(TINY_NOISE["clips"])
    for r in rows:
        assert Path(r["file"]).name.startswith(r["type"] + "_")
        assert abs(float(r["duration_s"]) - TINY_NOISE["seconds"]) < 1e-3
    with pytest.raises(ValueError, match="babble"):  # no speech in tmp_path
        build_noise(tmp_path, progress=False, **TINY_NOISE)
    build_noise(tmp_path, progress=False, **{**TINY_NOISE, "types": ["music", "fan"]})
    mine = _digest(tmp_path, "noise")
    ref = _digest(tiny_corpus, "noise")
    assert mine and all(ref[k] == v for k, v in mine.items())


def test_real_noise_import(tiny_corpus, tmp_path):
    from hushboard.data._audio import write_wav

    src = tmp_path / "real"
    (src / "traffic").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(3):
        write_wav(src / "traffic" / f"t{k}.wav", 0.1 * rng.standard_normal(22050), 22050)
    write_wav(src / "loose.wav", 0.1 * rng.standard_normal(22050), 22050)
    out = tmp_path / "c"
    rows = build_noise(out, progress=False, clips=(1, 0, 0), seconds=1.0, types=["white"],
                       real_noise_dir=src)
    real = [r for r in rows if r["source"] != "generated"]
    assert sorted(r["type"] for r in real) == ["real", "traffic", "traffic", "traffic"]
    assert {r["split"] for r in real} <= {"train", "valid", "test"}
    assert all(abs(float(r["duration_s"]) - 1.0) < 1e-3 for r in real)  # resampled to 16 kHz


def test_mix_at_snr_exact():
    rng = np.random.default_rng(0)
    s, n = rng.standard_normal(1000), 3 * rng.standard_normal(1000)
    for snr in (-5.0, 0.0, 12.5, 20.0):
        mix, scaled = mix_at_snr(s, n, snr)
        assert np.allclose(mix - s, scaled)
        assert abs(10 * np.log10(np.sum(s**2) / np.sum(scaled**2)) - snr) < 1e-9
    with pytest.raises(ValueError, match="noise"):
        mix_at_snr(s, np.zeros(1000), 0.0)
    with pytest.raises(ValueError, match="equal length"):
        mix_at_snr(s, n[:10], 0.0)


def test_dataset_items_and_measured_snr(tiny_corpus):
    ds = MixDataset(tiny_corpus, "train", seconds=2.0, reverb_prob=0.0, return_meta=True)
    assert len(ds) == sum(r["split"] == "train"
                          for r in read_manifest(tiny_corpus / "speech_manifest.csv"))
    seen = set()
    for i in range(6):
        noisy, clean, meta = ds[i]
        assert noisy.dtype == clean.dtype == torch.float32
        assert noisy.shape == clean.shape == (32000,)
        assert float(noisy.abs().max()) <= 0.99 + 1e-6
        x, y = noisy.double().numpy(), clean.double().numpy()
        measured = 10 * np.log10(np.sum(y**2) / np.sum((x - y) ** 2))
        assert -5 <= meta["snr_db"] <= 20
        assert abs(measured - meta["snr_db"]) < 0.05, (measured, meta)
        seen.add(meta["noise_type"])
    assert len(seen) >= 2


def test_dataset_fixed_valid_random_train(tiny_corpus):
    v1 = MixDataset(tiny_corpus, "valid", seconds=1.5, seed=2, reverb_prob=1.0)
    v2 = MixDataset(tiny_corpus, "valid", seconds=1.5, seed=2, reverb_prob=1.0)
    v2.set_epoch(5)
    for i in range(len(v1)):
        a, b = v1[i], v2[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    t = MixDataset(tiny_corpus, "train", seconds=1.5, seed=2)
    e0 = t[0][0].clone()
    assert torch.equal(e0, t[0][0])
    t.set_epoch(1)
    assert not torch.equal(e0, t[0][0])
    whole = MixDataset(tiny_corpus, "test", seconds=None, reverb_prob=0.0)
    assert len({whole[i][0].shape[0] for i in range(len(whole))}) == len(whole)


def test_dataset_second_noise(tiny_corpus):
    plain = MixDataset(tiny_corpus, "train", seconds=1.5, reverb_prob=0.0, return_meta=True)
    off = MixDataset(tiny_corpus, "train", seconds=1.5, reverb_prob=0.0, return_meta=True,
                     second_noise_prob=0.0)
    both = MixDataset(tiny_corpus, "train", seconds=1.5, reverb_prob=0.0, return_meta=True,
                      second_noise_prob=1.0)
    types = set(plain.noise_types)
    for i in range(6):
        a, b, c = plain[i], off[i], both[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # off: the same mixtures
        first, second = c[2]["noise_type"].split("+")
        assert first == a[2]["noise_type"] and second in types and second != first
        # the SNR is that of the speech against both noises together
        x, y = c[0].double().numpy(), c[1].double().numpy()
        measured = 10 * np.log10(np.sum(y**2) / np.sum((x - y) ** 2))
        assert abs(measured - c[2]["snr_db"]) < 0.05
    with pytest.raises(ValueError, match="second_noise_prob"):
        MixDataset(tiny_corpus, "train", second_noise_prob=-0.1)


@pytest.mark.parametrize("kw,exc,name", [
    ({"split": "dev"}, ValueError, "split"),
    ({"sample_rate": 16000.0}, TypeError, "sample_rate"),
    ({"seconds": 0.0}, ValueError, "seconds"),
    ({"snr_db": (20, -5)}, ValueError, "snr_db"),
    ({"snr_db": 5}, TypeError, "snr_db"),
    ({"reverb_prob": 1.5}, ValueError, "reverb_prob"),
    ({"noise_types": ["rain"]}, ValueError, "noise"),
    ({"items": 0}, ValueError, "items"),
])
def test_dataset_bad_args(tiny_corpus, kw, exc, name):
    kw = {"split": "train", **kw}
    with pytest.raises(exc, match=name):
        MixDataset(tiny_corpus, **kw)


def test_dataset_missing_corpus(tmp_path):
    with pytest.raises(ValueError, match="corpus_dir"):
        MixDataset(tmp_path, "train")


def test_testset_writer_layout(tiny_corpus, tmp_path):
    rows = write_testset(tiny_corpus, tmp_path / "a", n=5, seed=1, progress=False)
    a = tmp_path / "a"
    names = sorted(p.name for p in (a / "clean").glob("*.wav"))
    assert names == sorted(p.name for p in (a / "noisy").glob("*.wav")) == [r["file"] for r in rows]
    assert len(names) == 5
    with open(a / "metadata.csv", newline="") as f:
        meta = list(csv.DictReader(f))
    assert [m["file"] for m in meta] == names
    assert set(meta[0]) >= {"file", "noise_type", "snr_db", "voice", "rt60"}
    test_voices = {f"{r['engine']}:{r['voice']}" for r in read_manifest(
        tiny_corpus / "speech_manifest.csv") if r["split"] == "test"}
    assert {m["voice"] for m in meta} <= test_voices
    write_testset(tiny_corpus, tmp_path / "b", n=5, seed=1, progress=False)
    assert _digest(a, ".") == _digest(tmp_path / "b", ".")
    assert (a / "metadata.csv").read_bytes() == (tmp_path / "b" / "metadata.csv").read_bytes()
    with pytest.raises(ValueError, match="split"):
        write_testset(tiny_corpus, tmp_path / "c", split="train", progress=False)


def test_cli_data(tiny_corpus, tmp_path, capsys):
    from hushboard.cli import main

    assert main(["data", "testset", "--corpus", str(tiny_corpus), "--out", str(tmp_path / "t"),
                 "-n", "2"]) == 0
    assert "2 pairs" in capsys.readouterr().out
    assert len(os.listdir(tmp_path / "t" / "noisy")) == 2
    assert main(["data", "speech", "--out", str(tmp_path / "s"), "--sentences", "0"]) == 2
    assert "n_sentences" in capsys.readouterr().err
    assert main(["data", "noise", "--out", str(tmp_path / "s"), "--types", "rain"]) == 2
    assert "types" in capsys.readouterr().err


def test_require_tts_helper_runs():
    require_tts()  # present here, or skipped/failed with the reason
