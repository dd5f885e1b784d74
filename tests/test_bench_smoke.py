"""Smoke test: the STFT benchmark runs end to end in --quick mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "bench_stft.py"
TABLE_HEADER = "| case "  # first cell of every results table's header row


def test_bench_stft_quick(tmp_path):
    out = tmp_path / "bench.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert TABLE_HEADER in proc.stdout
    assert "torch/hb" in proc.stdout
    assert "## Offline (cpu)" in proc.stdout
    assert "## Streaming, per hop" in proc.stdout
    report = out.read_text(encoding="utf-8")
    assert TABLE_HEADER in report and "hushboard STFT benchmark" in report


def test_bench_fx_quick(tmp_path):
    out = tmp_path / "fx.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_fx.py"), "--quick", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "pedalboard/Chain" in proc.stdout and "RTF offline" in proc.stdout
    assert "SpectralGate" in proc.stdout and "resample_poly" in proc.stdout
    assert "hushboard effects benchmark" in out.read_text(encoding="utf-8")


def test_bench_complex_conv_quick(tmp_path):
    out = tmp_path / "cc.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_complex_conv.py"), "--quick", "--out",
         str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert TABLE_HEADER in proc.stdout and "stacked/hb" in proc.stdout
    assert "enc total" in proc.stdout and "dec total" in proc.stdout
    assert "hushboard complex convolution benchmark" in out.read_text(encoding="utf-8")


def test_bench_dccrn_quick(tmp_path):
    out = tmp_path / "dccrn.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_dccrn.py"), "--quick",
         "--configs", "dccrn-lite", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "torch eager" in proc.stdout and "torch/engine" in proc.stdout
    assert "relative L2 error" in proc.stdout
    assert "hushboard DCCRN benchmark" in out.read_text(encoding="utf-8")


def test_bench_bsrnn_quick(tmp_path):
    out = tmp_path / "bsrnn.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_bsrnn.py"), "--quick",
         "--configs", "bsrnn-speech-16k-lite", "--offline-configs", "bsrnn-speech-16k-lite",
         "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    for text in ("band split", "band mask", "LSTM time step", "torch/engine", "relative L2"):
        assert text in proc.stdout
    assert "hushboard BSRNN benchmark" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", ["bench_band.py", "bench_rnn.py"])
def test_bench_bsrnn_kernels_quick(tmp_path, script):
    out = tmp_path / "k.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "torch" in proc.stdout and out.read_text(encoding="utf-8").startswith("# hushboard")


def test_bench_rnn_train_quick(tmp_path):
    out = tmp_path / "rt.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_rnn_train.py"), "--quick", "--out",
         str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert TABLE_HEADER in proc.stdout and "torch/hb" in proc.stdout
    assert "LSTM fwd+bwd time" in proc.stdout and "train step" in proc.stdout
    assert "hushboard LSTM training kernels" in out.read_text(encoding="utf-8")
