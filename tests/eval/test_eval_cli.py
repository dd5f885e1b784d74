"""`hushboard eval` end to end on three tiny generated files, and its argument errors."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from eval_signals import add_noise, make_speechlike
from hushboard.cli import main
from hushboard.io import write_audio

SR = 16000


def _corpus(root, n: int = 3, seconds: float = 1.2, metadata: bool = True):
    clean_dir, noisy_dir = root / "clean", root / "noisy"
    clean_dir.mkdir()
    noisy_dir.mkdir()
    types = ["white", "white", "hum"]
    rows = []
    for i in range(n):
        clean = make_speechlike(SR, seconds, seed=10 + i)
        if types[i] == "hum":
            t = np.arange(clean.size) / SR
            hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6))
            noisy = clean + hum * np.sqrt(np.sum(clean**2) / np.sum(hum**2) / 10 ** 0.5)
        else:
            noisy = add_noise(clean, 5.0, seed=20 + i)
        write_audio(clean_dir / f"f{i}.wav", clean.astype(np.float32), SR)
        write_audio(noisy_dir / f"f{i}.wav", noisy.astype(np.float32), SR)
        rows.append([f"f{i}.wav", types[i], "5"])
    if metadata:
        with open(root / "metadata.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "noise_type", "snr_db"])
            w.writerows(rows)
    return clean_dir, noisy_dir


def test_eval_end_to_end(tmp_path, capsys):
    clean_dir, noisy_dir = _corpus(tmp_path)
    out = tmp_path / "out"
    rc = main(["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir), "--model", "gate",
               "--peers", "wiener", "--out", str(out), "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Per file" in text and "Overall (3 files" in text and "Δ over the noisy input" in text
    assert "Noise type 'white' (2 files" in text and "Noise type 'hum' (1 files" in text
    # the noisy row's Δ is exactly zero in every column, the wiener row is present
    delta = text.split("Δ over the noisy input")[1].split("\n\n")[0]
    noisy_line = next(ln for ln in delta.splitlines() if ln.startswith("noisy "))
    assert re.findall(r"[+-]\d+\.\d+ ±", noisy_line) and all(
        float(v[:-2]) == 0 for v in re.findall(r"[+-]\d+\.\d+ ±", noisy_line))
    assert any(ln.startswith("wiener ") for ln in delta.splitlines())
    for name in ("results.csv", "summary.csv", "results.json", "report.txt", "spectrograms.png"):
        assert (out / name).stat().st_size > 100, name
    assert (out / "spectrograms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    data = json.loads((out / "results.json").read_text())
    assert data["systems"] == ["noisy", "gate", "wiener"]
    assert len(data["per_file"]) == 9
    for m in ("si_snr", "snr", "sdr", "pesq_wb", "pesq_nb", "stoi", "estoi"):
        assert data["overall"]["noisy"][m]["delta"] == 0.0
        assert data["overall"]["noisy"][m]["n"] == 3
        assert np.isfinite(data["overall"]["wiener"][m]["mean"])
    # the JSON's numbers are the metrics of the files: recompute one
    row = next(r for r in data["per_file"] if r["file"] == "f0" and r["system"] == "noisy")
    from hushboard.io import read_audio
    from hushboard.metrics import pesq_wb, si_snr

    c, _ = read_audio(clean_dir / "f0.wav")
    n, _ = read_audio(noisy_dir / "f0.wav")
    assert row["si_snr"] == pytest.approx(si_snr(c[0], n[0]), abs=1e-6)
    assert row["pesq_wb"] == pytest.approx(pesq_wb(c[0], n[0], SR), abs=1e-6)
    assert row["noise_type"] == "white" and row["snr_db"] == 5.0
    # the Wiener denoiser beats white noise at 5 dB on SI-SNR
    white = data["by_noise_type"]["white"]
    assert white["wiener"]["si_snr"]["delta"] > 2
    assert set(data["by_noise_type"]) == {"white", "hum"}
    # the CI of 3 files is finite, of the single hum file undefined (null)
    assert data["overall"]["wiener"]["si_snr"]["ci95"] > 0
    assert data["by_noise_type"]["hum"]["wiener"]["si_snr"]["ci95"] is None

    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 9 and {r["system"] for r in rows} == {"noisy", "gate", "wiener"}
    assert float(rows[0]["si_snr"]) == pytest.approx(row["si_snr"], abs=1e-9)
    with open(out / "summary.csv", newline="") as f:
        summary = list(csv.DictReader(f))
    assert {r["noise_type"] for r in summary} == {"all", "white", "hum"}


def test_eval_without_metadata_and_metric_subset(tmp_path, capsys):
    clean_dir, noisy_dir = _corpus(tmp_path, n=2, metadata=False)
    rc = main(["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir), "--peers", "none",
               "--metrics", "si_snr,stoi", "--out", str(tmp_path / "o"), "--no-progress",
               "--plot-file", "f1.wav"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Noise type" not in text and "PESQ" not in text
    data = json.loads((tmp_path / "o" / "results.json").read_text())
    assert data["systems"] == ["noisy"] and data["metrics"] == ["si_snr", "stoi"]
    assert data["config"]["plot_file"] == "f1"


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err


def test_eval_bad_arguments(tmp_path, capsys):
    clean_dir, noisy_dir = _corpus(tmp_path, n=2, metadata=False)
    base = ["--out", str(tmp_path / "o"), "--no-progress", "--peers", "none"]
    err = _error(capsys, ["eval", "--clean", str(tmp_path / "nope"), "--noisy", str(noisy_dir),
                          *base])
    assert "--clean must be a directory" in err and "does not exist" in err
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir),
                          "--model", "unknown-model", *base])
    assert "unknown model 'unknown-model'" in err
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir),
                          "--out", str(tmp_path / "o"), "--peers", "wiener,bogus"])
    assert "unknown peer 'bogus'" in err
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir),
                          "--metrics", "si_snr,mos", *base])
    assert "--metrics must be names" in err
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir),
                          "--plot-file", "zzz", *base])
    assert "--plot-file 'zzz'" in err
    # an unmatched file on either side is named
    write_audio(noisy_dir / "extra.wav", np.zeros(SR, np.float32), SR)
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir), *base])
    assert "unmatched files" in err and "extra" in err
    (noisy_dir / "extra.wav").unlink()
    # different sample rates in a pair
    write_audio(noisy_dir / "f1.wav", make_speechlike(8000, 1.2).astype(np.float32), 8000)
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir), *base])
    assert "f1: different sample rates (clean 16000 Hz, noisy 8000 Hz)" in err
    # different lengths
    write_audio(noisy_dir / "f1.wav", np.zeros(SR // 2, np.float32), SR)
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir), *base])
    assert "f1: different lengths" in err
    # a metadata file without a 'file' column
    (tmp_path / "bad.csv").write_text("name,noise_type\nf0,white\n")
    err = _error(capsys, ["eval", "--clean", str(clean_dir), "--noisy", str(noisy_dir),
                          "--metadata", str(tmp_path / "bad.csv"), *base])
    assert "must have a 'file' column" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    err = _error(capsys, ["eval", "--clean", str(empty), "--noisy", str(noisy_dir), *base])
    assert "holds no audio files" in err
