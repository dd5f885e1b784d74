"""`hushboard bench`: the figures it reports exist and are sane, the CLI writes them as JSON,
bad arguments are refused with a message naming them, and the thread settings are restored.
(Speed itself is not asserted: timings belong in bench/, not in tests.)"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
import torch
from hushboard.backend import cuda_available, get_num_threads
from hushboard.benchmark import run_bench


def test_denoiser_figures():
    threads = (get_num_threads(), torch.get_num_threads())
    r = run_bench("default", sample_rate=16000, seconds=1.0, block=160, threads=1, log=None)
    s = r["stream"]
    assert s["model"] == "bsrnn-speech-16k-lite" and s["latency_samples"] == 511
    assert s["block"] == 160 and s["block_seconds"] == pytest.approx(0.01)
    assert 0 < s["median_s"] <= s["p99_s"] <= s["max_s"]
    assert s["rtf_stream"] > 0 and s["rtf_offline"] > 0 and s["load_p99"] > 0
    assert r["threads"] == 1 and r["device"] == "cpu" and "server" not in r
    assert (get_num_threads(), torch.get_num_threads()) == threads


def test_classic_model_and_separator():
    r = run_bench("wiener", sample_rate=48000, seconds=0.5, block=480, log=None)
    assert r["stream"]["model"] == "wiener" and r["stream"]["latency_samples"] > 0
    r = run_bench("separator", seconds=1.0, log=None)
    assert r["separation"]["model"] == "bsrnn-music-44k-lite" and r["separation"]["rtf"] > 0
    assert "stream" not in r


@pytest.mark.parametrize("kwargs,match", [
    ({"seconds": 0}, "seconds"), ({"seconds": float("nan")}, "seconds"),
    ({"block": 0}, "block"), ({"block": 2.5}, "block"), ({"threads": 0}, "threads"),
    ({"streams": []}, "streams"), ({"streams": [0]}, "streams"),
    ({"device": "tpu"}, "device"), ({"seconds": 0.001, "block": 256}, "no block"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_bench(**{"log": None, **kwargs})


def test_cli_prints_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "hushboard", "bench", "--seconds", "1", "--json",
                        str(out)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert "real-time factor" in r.stdout and "per block" in r.stdout
    data = json.loads(out.read_text())
    assert data["stream"]["model"] == "bsrnn-speech-16k-lite"
    r = subprocess.run([sys.executable, "-m", "hushboard", "bench", "--streams", "1,x"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "--streams" in r.stderr


def test_cuda_without_a_gpu_measures_the_cpu():
    if cuda_available():
        pytest.skip("a GPU is present")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = run_bench(seconds=0.5, device="cuda", log=None)
    assert r["device"] == "cpu" and "server" not in r and "batch" not in r
    assert any(issubclass(i.category, RuntimeWarning) for i in w)


def test_gpu_paths():
    from helpers import require_cuda

    require_cuda()
    r = run_bench(seconds=2.0, device="cuda", streams=[1, 8], hops=20, log=None)
    assert [s["streams"] for s in r["server"]] == [1, 8]
    assert all(s["graph"] and s["median_s"] > 0 for s in r["server"])
    assert r["batch"]["audio_hours_per_minute"] > 0
