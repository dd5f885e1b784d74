"""CUDA STFT / iSTFT kernels: same semantics as the CPU path; error against a float64 truth at
most twice that of the float32 CPU kernels. Skipped without a GPU (HUSHBOARD_REQUIRE_CUDA=1 turns
the skip into a failure)."""

from __future__ import annotations

import pytest
import torch
from helpers import require_cuda
from helpers import noise, rel_err

from hushboard import ops

CONFIGS = [(512, 128, 512), (512, 100, 400), (480, 120, 480), (960, 480, 960), (2048, 512, 2048),
           (320, 80, 320), (375, 125, 375)]


@pytest.fixture(autouse=True)
def _cuda():
    require_cuda()


@pytest.mark.parametrize("n_fft,hop,win", CONFIGS)
@pytest.mark.parametrize("output,power", [("complex", 1.0), ("magnitude", 1.0), ("compressed", 0.3)])
@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "constant"), (False, "reflect")])
def test_cuda_stft_matches_truth(n_fft, hop, win, output, power, center, pad_mode):
    x = torch.from_numpy(noise(7, 3 * n_fft + 1001, seed=n_fft))
    w = ops.get_window("hann", win, dtype=torch.float64)
    truth = ops.stft(x.double(), n_fft, hop, win, window=w, center=center, pad_mode=pad_mode,
                     output=output, power=power)
    cpu = ops.stft(x, n_fft, hop, win, window=w.float(), center=center, pad_mode=pad_mode,
                   output=output, power=power)
    gpu = ops.stft(x.cuda(), n_fft, hop, win, window=w.float().cuda(), center=center,
                   pad_mode=pad_mode, output=output, power=power)
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("onesided", [True, False])
def test_cuda_stft_conventions(normalized, onesided):
    x = torch.from_numpy(noise(3, 6001))
    kw = dict(window="hamming", normalized=normalized, onesided=onesided)
    truth = ops.stft(x.double(), 480, 120, **kw)
    cpu = ops.stft(x, 480, 120, **kw)
    gpu = ops.stft(x.cuda(), 480, 120, **kw)
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("n_fft,hop,win", CONFIGS)
@pytest.mark.parametrize("input_,power", [("complex", 1.0), ("compressed", 0.3)])
@pytest.mark.parametrize("length_delta", [0, -37, 501])
def test_cuda_istft_matches_truth(n_fft, hop, win, input_, power, length_delta):
    spec = torch.randn(3, n_fft // 2 + 1, 37, dtype=torch.complex128)
    length = hop * 36 + length_delta
    kw = dict(window="sqrt_hann", input=input_, power=power, length=length)
    truth = ops.istft(spec, n_fft, hop, win, **kw)
    cpu = ops.istft(spec.to(torch.complex64), n_fft, hop, win, **kw)
    gpu = ops.istft(spec.to(torch.complex64).cuda(), n_fft, hop, win, **kw)
    assert gpu.device.type == "cuda" and gpu.shape == truth.shape
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_cuda_round_trip_and_autograd():
    x = torch.from_numpy(noise(4, 16000)).cuda().requires_grad_(True)
    spec = ops.stft(x, 512, 128, window="hann", output="compressed", power=0.3)
    y = ops.istft(spec, 512, 128, window="hann", input="compressed", power=0.3, length=16000)
    assert (y - x).abs().max().item() < 2e-5
    y.pow(2).sum().backward()  # backward runs through the reference adjoint on CUDA
    assert torch.allclose(x.grad, 2 * x.detach(), atol=1e-3)


def test_cuda_runs_on_the_current_stream():
    x = torch.from_numpy(noise(16, 48000)).cuda()
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        a = ops.stft(x, 960, 480, window="hann")
    s.synchronize()
    b = ops.stft(x, 960, 480, window="hann")
    assert torch.equal(a, b)


def test_cuda_istft_nola_error():
    with pytest.raises(ValueError, match="NOLA"):
        ops.istft(torch.ones(257, 10, dtype=torch.complex64, device="cuda"), 512, 128,
                  window="hann", center=False)
