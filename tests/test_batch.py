"""Batch denoising through the PyTorch models (the GPU path of `hushboard denoise --device cuda`),
run here on the CPU: each item equals the model's offline output of that item alone, resampling
and shapes, argument checks, and the CLI's fallback to the CPU when no GPU is usable."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from helpers import tone_in_noise
from hushboard.batch import denoise_batch, load_denoiser_model, throughput_line
from hushboard.io import read_audio, write_audio

MODEL = "bsrnn-speech-16k-lite"


@pytest.fixture(scope="module")
def net():
    return load_denoiser_model(MODEL)


def _alone(net, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return net(torch.from_numpy(np.ascontiguousarray(x))[None])[0].numpy()


def test_batch_items_equal_the_model_alone(net):
    sigs = [tone_in_noise(1.0, seed=1), tone_in_noise(0.6, seed=2),
            tone_in_noise(0.8, seed=3, channels=2)]
    out = denoise_batch(sigs, 16000, model=net, batch_size=3)
    assert [o.shape for o in out] == [s.shape for s in sigs]
    assert all(o.dtype == np.float32 for o in out)
    n_fft = net.config.n_fft
    items = [sigs[0], sigs[1], sigs[2][0], sigs[2][1]]
    outs = [out[0], out[1], out[2][0], out[2][1]]
    for x, y in zip(items, outs):
        ref = _alone(net, x)
        head = slice(0, len(x) - n_fft)  # the zero padding after an item reaches its last frames
        scale = np.abs(ref).max()
        assert np.abs(y[head] - ref[head]).max() <= 1e-4 * scale
        assert np.abs(y - ref).max() <= 0.05 * scale
    # batches of one item (no padding): exactly the model alone
    one = denoise_batch(sigs, 16000, model=net, batch_size=1)
    for k, x in enumerate(items[:2]):
        np.testing.assert_array_equal(one[k], _alone(net, x))


def test_batch_memory_bound_and_resampling(net):
    sigs = [tone_in_noise(0.5, seed=4, sr=22050), tone_in_noise(0.7, seed=5, sr=22050)]
    # a budget below two items: each runs alone
    out = denoise_batch(sigs, 22050, model=net, max_batch_seconds=0.9)
    assert [o.shape for o in out] == [s.shape for s in sigs]
    both = denoise_batch(sigs, 22050, model=net)
    for a, b in zip(out, both):
        head = slice(0, a.shape[-1] - 2 * 22050 * net.config.n_fft // 16000)
        np.testing.assert_allclose(a[head], b[head], atol=1e-4 * np.abs(b).max())
    assert all(np.isfinite(o).all() and np.abs(o).max() > 0 for o in out)


def test_default_model_by_rate():
    assert load_denoiser_model("default", sample_rate=16000).config.sample_rate == 16000
    assert load_denoiser_model("default", sample_rate=48000).config.sample_rate == 48000


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(signals=[]), TypeError, "signals"),
    (dict(signals=np.zeros(100, np.float32)), TypeError, "signals"),
    (dict(signals=[np.zeros(100, np.int16)]), TypeError, r"signals\[0\]"),
    (dict(signals=[np.zeros((1, 0), np.float32)]), ValueError, r"signals\[0\]"),
    (dict(signals=[np.array([0.0, np.nan], np.float32)]), ValueError, "NaN"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(max_batch_seconds=0), ValueError, "max_batch_seconds"),
    (dict(sample_rate=12345.5), ValueError, "sample_rate"),
    (dict(model="wiener"), ValueError, "classic"),
    (dict(model="no-such-model"), ValueError, "unknown model"),
    (dict(model="missing.safetensors"), FileNotFoundError, "missing"),
    (dict(model="separator"), ValueError, "not a mono denoiser"),
    (dict(device="tpu"), ValueError, "device"),
    (dict(precision="half", model="no-such-model"), ValueError, "precision must be one of"),
    (dict(precision=None), ValueError, "precision"),
])
def test_bad_arguments(kwargs, exc, match):
    args = dict(signals=[np.zeros(1600, np.float32)], sample_rate=16000, model=MODEL)
    args.update(kwargs)
    if args["model"] == "separator":
        from hushboard.separation import shipped_separators

        args["model"] = shipped_separators()["bsrnn-music-44k-lite"]
    sig, rate = args.pop("signals"), args.pop("sample_rate")
    with pytest.raises(exc, match=match):
        denoise_batch(sig, rate, **args)


def test_half_precision_close_to_float32():
    """precision="bfloat16" runs the GEMMs under autocast (DCCRN's here: the shipped BSRNN's CPU
    inference is one native float32 call, which autocast leaves alone); the fused ops stay
    float32, so the output stays within 2 % of the float32 output's range."""
    from hushboard.models import DCCRN

    torch.manual_seed(0)
    dccrn = DCCRN("dccrn-lite").eval()
    sigs = [tone_in_noise(0.5, seed=9)]
    ref = denoise_batch(sigs, 16000, model=dccrn)[0]
    for precision in ("bfloat16", "float16"):
        got = denoise_batch(sigs, 16000, model=dccrn, precision=precision)[0]
        assert got.dtype == np.float32
        err = np.abs(got - ref).max()
        assert 0 < err <= 0.02 * np.abs(ref).max(), (precision, err)


def test_cli_precision_on_the_cpu_warns(tmp_path):
    src = tmp_path / "in.wav"
    write_audio(src, tone_in_noise(0.3, seed=10), 16000, bit_depth=32)
    r = subprocess.run([sys.executable, "-m", "hushboard", "denoise", str(src), "-o",
                        str(tmp_path / "o.wav"), "--model", MODEL, "--precision", "bfloat16"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "--precision bfloat16 applies to --device cuda" in r.stderr
    r = subprocess.run([sys.executable, "-m", "hushboard", "denoise", str(src), "-o",
                        str(tmp_path / "o.wav"), "--precision", "int8"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--precision" in r.stderr


def test_throughput_line():
    line = throughput_line(3600.0, 60.0, "cuda:0")
    assert line == "60.0 min of audio in 60.00 s on cuda:0: 1.00 audio hours per device minute"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_device_cuda_falls_back_to_the_cpu(tmp_path):
    src = tmp_path / "in.wav"
    write_audio(src, tone_in_noise(0.5, seed=6), 16000, bit_depth=32)
    out = tmp_path / "out.wav"
    r = subprocess.run([sys.executable, "-m", "hushboard", "denoise", str(src), "-o", str(out),
                        "--model", MODEL, "--device", "cuda"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "running on the CPU instead" in r.stderr
    cpu = tmp_path / "cpu.wav"
    subprocess.run([sys.executable, "-m", "hushboard", "denoise", str(src), "-o", str(cpu),
                    "--model", MODEL], check=True, capture_output=True)
    np.testing.assert_array_equal(read_audio(out)[0], read_audio(cpu)[0])


def test_resolve_device_warns_and_rejects():
    from hushboard.backend import resolve_device

    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(TypeError, match="device"):
        resolve_device(0)
    with pytest.raises(ValueError, match="--device"):
        resolve_device("meta", "--device")
    if not torch.cuda.is_available():
        with pytest.warns(RuntimeWarning, match="running on the CPU"):
            assert resolve_device("cuda").type == "cpu"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert resolve_device("cuda").type == "cuda"


def test_batch_on_the_gpu_matches_the_cpu(net):
    """GPU batch inference (hushboard's CUDA kernels) against the CPU path; skipped without a
    GPU (HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure)."""
    from helpers import require_cuda

    require_cuda()
    sigs = [tone_in_noise(1.0, seed=7), tone_in_noise(0.7, seed=8, channels=2)]
    cpu = denoise_batch(sigs, 16000, model=net)
    gpu = denoise_batch(sigs, 16000, model=MODEL, device="cuda")
    for a, b in zip(gpu, cpu):
        np.testing.assert_allclose(a, b, atol=1e-4 * np.abs(b).max())
    for precision in ("bfloat16", "float16"):  # GEMMs in half precision, fused ops float32
        half = denoise_batch(sigs, 16000, model=MODEL, device="cuda", precision=precision)
        for a, b in zip(half, cpu):
            assert np.abs(a - b).max() <= 0.02 * np.abs(b).max(), precision
