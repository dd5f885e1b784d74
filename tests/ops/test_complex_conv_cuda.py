"""Fused complex convolution CUDA kernels: same semantics as the CPU path; error against a float64
truth at most twice that of the float32 CPU kernels; gradients through the same ops. Skipped
without a GPU (HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure). The kernels' block
bodies are also checked on the host by test_cuda_emulated.py."""

from __future__ import annotations

import pytest
import torch
from helpers import noise, rel_err, require_cuda
from hushboard import ops
from hushboard.models import DCCRN

CONV_CASES = [  # (B, cin, cout, kernel, stride, dilation, padding, F, T)
    (16, 1, 16, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), 257, 101),
    (16, 16, 32, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), 129, 101),
    (16, 64, 64, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), 17, 101),
    (3, 5, 7, (3, 3), (1, 2), (2, 1), (1, 2, 2, 0), 19, 23),
    (2, 300, 9, (5, 4), (1, 1), (1, 1), (2, 3, 3, 0), 6, 5),
]
CONVT_CASES = [  # (B, cin, cout, kernel, stride, dilation, crop, output_padding, F, T)
    (16, 64, 32, (5, 2), (2, 1), (1, 1), (2, 2, 0, 1), (0, 0), 33, 101),
    (16, 32, 1, (5, 2), (2, 1), (1, 1), (2, 2, 0, 1), (0, 0), 129, 101),
    (3, 5, 18, (3, 3), (2, 3), (1, 2), (1, 0, 0, 2), (1, 1), 6, 5),
]


@pytest.fixture(autouse=True)
def _cuda():
    require_cuda()


def _rand(*shape, seed):
    return torch.from_numpy(noise(*shape, seed=seed))


def _check(fn, tensors, **kw):
    truth = fn(*[None if t is None else t.double() for t in tensors], **kw)
    cpu = fn(*tensors, **kw)
    gpu = fn(*[None if t is None else t.cuda() for t in tensors], **kw)
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_cuda_conv_matches_truth(case, bias):
    b, cin, cout, k, s, d, p, f, t = case
    tensors = [_rand(b, 2 * cin, f, t, seed=1), _rand(cout, cin, *k, seed=2),
               _rand(cout, cin, *k, seed=3),
               _rand(cout, seed=4) if bias else None, _rand(cout, seed=5) if bias else None]
    _check(ops.complex_conv2d, tensors, stride=s, dilation=d, padding=p)


@pytest.mark.parametrize("case", CONVT_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_cuda_conv_transpose_matches_truth(case, bias):
    b, cin, cout, k, s, d, p, op, f, t = case
    tensors = [_rand(b, 2 * cin, f, t, seed=6), _rand(cin, cout, *k, seed=7),
               _rand(cin, cout, *k, seed=8),
               _rand(cout, seed=9) if bias else None, _rand(cout, seed=10) if bias else None]
    _check(ops.complex_conv_transpose2d, tensors, stride=s, dilation=d, padding=p,
           output_padding=op)


def test_cuda_complex_tensor_and_float64_fallback():
    x = torch.randn(2, 3, 9, 7, dtype=torch.complex64)
    wr, wi = torch.randn(4, 3, 3, 2), torch.randn(4, 3, 3, 2)
    cpu = ops.complex_conv2d(x, wr, wi, padding=1)
    gpu = ops.complex_conv2d(x.cuda(), wr.cuda(), wi.cuda(), padding=1)
    assert gpu.is_complex() and rel_err(gpu.cpu(), cpu) < 1e-5
    # float64 on the GPU runs the torch reference (cuDNN): same values
    g64 = ops.complex_conv2d(x.cdouble().cuda(), wr.double().cuda(), wi.double().cuda(), padding=1)
    assert g64.dtype == torch.complex128 and rel_err(g64.cpu(), cpu) < 1e-5


@pytest.mark.parametrize("transposed", [False, True])
def test_cuda_gradients_match_cpu(transposed):
    torch.manual_seed(0)
    fn = ops.complex_conv_transpose2d if transposed else ops.complex_conv2d
    x = torch.randn(3, 8, 11, 9, dtype=torch.float64)
    shape = (4, 6, 3, 2) if transposed else (6, 4, 3, 2)
    wr, wi = torch.randn(shape, dtype=torch.float64), torch.randn(shape, dtype=torch.float64)
    br, bi = torch.randn(shape[1 if transposed else 0], dtype=torch.float64), None
    kw = dict(stride=(2, 1), padding=(1, 1, 0, 1) if transposed else (1, 1, 1, 0))
    grads = []
    for dev, dt in (("cpu", torch.float64), ("cuda", torch.float32)):
        ts = [t.to(dev, dt).requires_grad_() for t in (x, wr, wi, br)]
        y = fn(ts[0], ts[1], ts[2], ts[3], bi, **kw)
        (y * torch.linspace(-1, 1, y.numel(), device=dev, dtype=dt).view_as(y)).sum().backward()
        grads.append([t.grad.cpu().double() for t in ts])
    for g64, g32 in zip(*grads):
        assert rel_err(g32, g64) < 1e-5


def test_cuda_dccrn_forward_matches_cpu():
    torch.manual_seed(1)
    model = DCCRN("dccrn-lite").eval()
    x = torch.from_numpy(noise(4, 16000, seed=3))
    with torch.no_grad():
        cpu = model(x)
        gpu = model.cuda()(x.cuda())
    assert rel_err(gpu.cpu(), cpu) < 1e-4
