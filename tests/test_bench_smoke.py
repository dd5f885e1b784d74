"""Smoke tests: each benchmark runs end to end in --quick mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE_HEADER = "| case "  # first cell of every results table's header row


def _run_quick(script: str, out: Path, *args: str, timeout: int = 300) -> str:
    """Run ``bench/<script> --quick [args] --out OUT``; its stdout (the exit code must be 0)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", *args, "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_bench_stft_quick(tmp_path):
    out = tmp_path / "bench.md"
    stdout = _run_quick("bench_stft.py", out, timeout=180)
    assert TABLE_HEADER in stdout
    assert "torch/hb" in stdout
    assert "## Offline (cpu)" in stdout
    assert "## Streaming, per hop" in stdout
    report = out.read_text(encoding="utf-8")
    assert TABLE_HEADER in report and "hushboard STFT benchmark" in report


def test_bench_fx_quick(tmp_path):
    out = tmp_path / "fx.md"
    stdout = _run_quick("bench_fx.py", out, timeout=180)
    assert "pedalboard/Chain" in stdout and "RTF offline" in stdout
    assert "SpectralGate" in stdout and "resample_poly" in stdout
    assert "hushboard effects benchmark" in out.read_text(encoding="utf-8")


def test_bench_complex_conv_quick(tmp_path):
    out = tmp_path / "cc.md"
    stdout = _run_quick("bench_complex_conv.py", out, timeout=180)
    assert TABLE_HEADER in stdout and "stacked/hb" in stdout
    assert "enc total" in stdout and "dec total" in stdout
    assert "hushboard complex convolution benchmark" in out.read_text(encoding="utf-8")


def test_bench_dccrn_quick(tmp_path):
    out = tmp_path / "dccrn.md"
    stdout = _run_quick("bench_dccrn.py", out, "--configs", "dccrn-lite")
    assert "torch eager" in stdout and "torch/engine" in stdout
    assert "relative L2 error" in stdout
    assert "hushboard DCCRN benchmark" in out.read_text(encoding="utf-8")


def test_bench_bsrnn_quick(tmp_path):
    out = tmp_path / "bsrnn.md"
    stdout = _run_quick("bench_bsrnn.py", out, "--configs", "bsrnn-speech-16k-lite",
                        "--offline-configs", "bsrnn-speech-16k-lite:num_layers=2")
    for text in ("band split", "band mask", "LSTM time step", "torch/engine", "relative L2",
                 "bsrnn-speech-16k-lite:num_layers=2", "32/2/32"):
        assert text in stdout
    assert "hushboard BSRNN benchmark" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", ["bench_band.py", "bench_rnn.py"])
def test_bench_bsrnn_kernels_quick(tmp_path, script):
    out = tmp_path / "k.md"
    stdout = _run_quick(script, out)
    assert "torch" in stdout and out.read_text(encoding="utf-8").startswith("# hushboard")


def test_bench_rnn_train_quick(tmp_path):
    out = tmp_path / "rt.md"
    stdout = _run_quick("bench_rnn_train.py", out)
    assert TABLE_HEADER in stdout and "torch/hb" in stdout
    assert "LSTM fwd+bwd time" in stdout and "train step" in stdout
    assert "hushboard LSTM training kernels" in out.read_text(encoding="utf-8")


def test_bench_train_step_quick(tmp_path):
    out = tmp_path / "ts.md"
    stdout = _run_quick("bench_train_step.py", out)
    assert TABLE_HEADER in stdout and "per-band/grouped" in stdout and "concat/pieces" in stdout
    assert "bsrnn-music-44k-lite" in stdout and "bsrnn-speech-16k-lite" in stdout
    assert "grouped vs per-band" in out.read_text(encoding="utf-8")


def test_bench_separation_quick(tmp_path):
    out = tmp_path / "sep.md"
    stdout = _run_quick("bench_separation.py", out)
    for text in ("hushboard.separate", "--wiener", "torch eager", "spectral baseline", "RTF",
                 "max relative difference"):
        assert text in stdout
    assert "music separation benchmark" in out.read_text(encoding="utf-8")


def test_bench_cuda_quick_on_the_cpu(tmp_path):
    """bench_cuda.py's GPU cases run on the CPU (the script itself is checked; its figures
    need a GPU: see bench/RESULTS.md)."""
    out = tmp_path / "cuda.md"
    stdout = _run_quick("bench_cuda.py", out, "--device", "cpu", timeout=300)
    for section in ("## Complex conv", "## Band split / band mask", "## LSTM time path",
                    "## Streamed causal BSRNN"):
        assert section in stdout
    assert "four/hb" in stdout and "loop/hb" in stdout and "torch/hb" in stdout
    assert "hushboard CUDA kernels benchmark" in out.read_text(encoding="utf-8")


def test_bench_precision_quick(tmp_path):
    """bench_precision.py on two generated 16 kHz pairs (the 48 kHz and music sets absent)."""
    import numpy as np
    from hushboard.io import write_audio

    rng = np.random.default_rng(0)
    for sub in ("clean", "noisy"):
        (tmp_path / "ts" / sub).mkdir(parents=True)
    for i in range(2):
        t = np.arange(16000) / 16000
        clean = (0.3 * np.sin(2 * np.pi * 300 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.float32)
        noisy = clean + 0.05 * rng.standard_normal(t.size).astype(np.float32)
        write_audio(tmp_path / "ts" / "clean" / f"f{i}.wav", clean, 16000, bit_depth=32)
        write_audio(tmp_path / "ts" / "noisy" / f"f{i}.wav", noisy, 16000, bit_depth=32)
    out = tmp_path / "precision.md"
    stdout = _run_quick("bench_precision.py", out, "--testset16k", str(tmp_path / "ts"),
                        "--testset48k", str(tmp_path / "none"), "--music",
                        str(tmp_path / "none"), timeout=300)
    assert stdout.count("bsrnn-speech-16k-lite") >= 3
    report = out.read_text(encoding="utf-8")
    assert "bfloat16" in report and "float16" in report and "output SNR vs float32" in report


def test_bench_bss_eval_quick(tmp_path):
    out = tmp_path / "bss.md"
    stdout = _run_quick("bench_bss_eval.py", out, timeout=300)
    assert TABLE_HEADER in stdout and "hushboard bss_eval_images" in stdout
    # museval is a test extra: the comparison runs, and the two agree
    assert "museval.metrics.bss_eval (v4)" in stdout
    worst = float(stdout.split("SDR, ISR, SIR and SAR: ")[1].split(" dB")[0])
    assert worst < 1e-6
    assert "hushboard BSS-eval v4 benchmark" in out.read_text(encoding="utf-8")
