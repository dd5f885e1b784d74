"""Importing folders of real speech (VCTK, VCTK-DEMAND pairs, DNS names) into a corpus."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from hushboard.data import _audio
from hushboard.data.corpus import read_manifest
from hushboard.data.real import REAL_SENTENCE_ID0, find_real_speech, import_real_speech


def _voice(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal with silence around it (stands in for a
    recording; the import code, not the audio, is under test)."""
    t = np.arange(int(sr * seconds)) / sr
    f0 = rng.uniform(90, 250)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    pad = np.zeros(int(0.3 * sr))
    return (0.1 * np.concatenate([pad, y, pad])).astype(np.float32)


def _write(path, audio, sr):
    path.parent.mkdir(parents=True, exist_ok=True)
    _audio.write_wav(path, audio, sr)


def _vctk(root, speakers=6, per=2, sr=44100, seed=0):
    rng = np.random.default_rng(seed)
    for s in range(speakers):
        for k in range(per):
            _write(root / "wav48" / f"p{225 + s}" / f"p{225 + s}_{k:03d}.wav",
                             _voice(rng, sr, 0.8), sr)
    return root


def test_vctk_layout_splits_by_speaker_and_is_idempotent(tmp_path):
    real = _vctk(tmp_path / "vctk")
    out = tmp_path / "corpus"
    r = import_real_speech(out, real, sample_rate=16000, seed=1, progress=False)
    assert r["files"] == 12 and r["speakers"] == 6 and r["split_by"] == "speaker"
    assert r["pairs"] == 0 and r["splits"]["test"] >= 2 and r["splits"]["valid"] >= 2
    rows = read_manifest(out / "speech_manifest.csv")
    assert len(rows) == 12 and {x["engine"] for x in rows} == {"real"}
    split_of = {}
    for x in rows:
        assert split_of.setdefault(x["voice"], x["split"]) == x["split"]  # speaker-disjoint
        assert x["speaker_group"] == f"real:{x['voice']}"
        assert int(x["sentence_id"]) >= REAL_SENTENCE_ID0
        a, sr = _audio.read_wav(out / x["file"])
        assert sr == 16000 and float(x["duration_s"]) == pytest.approx(a.size / sr, abs=1e-3)
        assert _audio.rms_db(a) == pytest.approx(-23.0, abs=0.3)
        assert a.size < 0.8 * 16000 + 0.2 * 16000  # leading/trailing silence trimmed
    assert set(split_of) == {f"p{225 + s}" for s in range(6)}
    assert len({x["sentence_id"] for x in rows}) == 12
    # the same import again: same rows, no duplicates
    import_real_speech(out, real, sample_rate=16000, seed=1, progress=False)
    assert read_manifest(out / "speech_manifest.csv") == rows
    # another seed on the same corpus is refused (the splits would change under its files)
    with pytest.raises(ValueError, match="already holds real_speech"):
        import_real_speech(out, real, sample_rate=16000, seed=2, progress=False)


def test_pairs_give_speech_and_real_noise(tmp_path):
    from hushboard.data import MixDataset, build_noise

    rng = np.random.default_rng(5)
    real = tmp_path / "demand"
    noises = {}
    for s in range(4):
        for k in range(2):
            name = f"p{230 + s}_{k:03d}.wav"
            clean = _voice(rng, 16000, 0.6)
            noise = (0.02 * rng.standard_normal(clean.size)).astype(np.float32)
            noises[name] = noise
            _write(real / "clean_trainset_wav" / name, clean, 16000)
            _write(real / "noisy_trainset_wav" / name, clean + noise, 16000)
    found = find_real_speech(real)
    assert len(found) == 8 and all(n is not None for _, n in found)
    out = tmp_path / "corpus"
    r = import_real_speech(out, real, progress=False)
    assert r["files"] == 8 and r["speakers"] == 4 and r["pairs"] == 8
    resid = sorted((out / "real_noise" / "pairs").glob("*.wav"))
    assert len(resid) == 8
    a, _ = _audio.read_wav(resid[0])
    src = noises[found[0][0].name]
    n = min(a.size, src.size)
    assert np.corrcoef(a[:n], src[:n])[0, 1] > 0.99  # the residual is the recording's noise
    rows = build_noise(out, clips=(1, 1, 1), seconds=1.0, types=["white"], progress=False)
    pairs = [x for x in rows if x["type"] == "pairs"]
    assert len(pairs) == 8 and {x["split"] for x in pairs} == {"train", "valid", "test"}
    ds = MixDataset(out, "train", seconds=0.5, return_meta=True)
    assert set(ds.noise_types) == {"pairs", "white"}
    noisy, clean, meta = ds[0]
    assert noisy.shape == clean.shape == (8000,) and meta["voice"].startswith("real:")


def test_dns_names_and_speaker_pattern(tmp_path):
    rng = np.random.default_rng(2)
    real = tmp_path / "dns"
    for reader in (11, 12, 13, 14):
        for k in range(2):
            _write(real / "clean" / f"book_{k:05d}_chp_0001_reader_{reader:05d}_{k}.wav",
                             _voice(rng, 16000, 0.5), 16000)
    r = import_real_speech(tmp_path / "c1", real, progress=False)
    assert r["speakers"] == 4
    voices = {x["voice"] for x in read_manifest(tmp_path / "c1" / "speech_manifest.csv")}
    assert voices == {"reader00011", "reader00012", "reader00013", "reader00014"}
    r = import_real_speech(tmp_path / "c2", real, speaker_pattern=r"chp_(\d+)", progress=False)
    assert r["speakers"] == 1 and r["split_by"] == "file" and r["files"] == 8
    with pytest.raises(ValueError, match="exactly one group"):
        import_real_speech(tmp_path / "c3", real, speaker_pattern=r"reader_\d+", progress=False)
    with pytest.raises(ValueError, match="not a regular expression"):
        import_real_speech(tmp_path / "c3", real, speaker_pattern=r"(", progress=False)
    with pytest.raises(ValueError, match="does not match"):
        import_real_speech(tmp_path / "c3", real, speaker_pattern=r"speaker(\d)", progress=False)


def test_bad_folders_and_rates(tmp_path):
    with pytest.raises(ValueError, match="real_dir: .* is not a folder"):
        import_real_speech(tmp_path / "c", tmp_path / "missing", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="real_dir: no audio files"):
        import_real_speech(tmp_path / "c", tmp_path / "empty", progress=False)
    real = _vctk(tmp_path / "vctk", speakers=3, per=1, sr=22050)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "corpus.json").write_text(json.dumps({"speech": {"sample_rate": 16000}}))
    with pytest.raises(ValueError, match="sample_rate: the corpus speech is 16000 Hz"):
        import_real_speech(tmp_path / "c", real, sample_rate=8000, progress=False)
    with pytest.raises(ValueError, match="sample_rate must be in"):
        import_real_speech(tmp_path / "d", real, sample_rate=1000, progress=False)
    assert not (tmp_path / "c" / "speech_manifest.csv").exists()  # nothing half-written


def test_tts_corpus_keeps_real_rows_and_cli(tiny_corpus, tmp_path):
    from data_helpers import TINY
    from hushboard.cli import main
    from hushboard.data import build_speech

    out = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, out)
    tts = read_manifest(out / "speech_manifest.csv")
    real = _vctk(tmp_path / "vctk", speakers=4, per=1, sr=22050)
    assert main(["data", "real-speech", str(real), "--out", str(out)]) == 0
    rows = read_manifest(out / "speech_manifest.csv")
    assert rows[:len(tts)] == tts and len(rows) == len(tts) + 4
    build_speech(out, progress=False, **TINY)  # a resumed TTS build keeps the real rows
    assert read_manifest(out / "speech_manifest.csv") == rows
    ids = [int(x["sentence_id"]) for x in rows]
    assert len(set(ids)) == len(ids)
