"""BSRNN band split / band mask CUDA kernels (all bands in one launch): error against a float64
truth at most twice that of the float32 CPU kernels; gradients and a whole BSRNN forward on the
GPU. Skipped without a GPU (HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure). The block
bodies are also checked on the host by test_cuda_emulated.py."""

from __future__ import annotations

import pytest
import torch
from helpers import noise, rel_err, require_cuda
from hushboard import ops
from hushboard.models import BSRNN

BSRNN_16K = [2] + [3] * 10 + [8] * 12 + [16] * 7 + [17]


@pytest.fixture(autouse=True)
def _cuda():
    require_cuda()


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _split_params(dims, n, seed):
    g, d = _gen(seed), sum(dims)
    return [torch.randn(d, generator=g), torch.randn(d, generator=g),
            0.3 * torch.randn(n, d, generator=g), torch.randn(len(dims), n, generator=g)]


def _mask_params(dims, n, hidden, glu, seed):
    g, k, m = _gen(seed), len(dims), 2 if glu else 1
    return [torch.randn(k, n, generator=g), torch.randn(k, n, generator=g),
            n ** -0.5 * torch.randn(k, hidden, n, generator=g),
            torch.randn(k, hidden, generator=g),
            hidden ** -0.5 * torch.randn(m * sum(dims), hidden, generator=g),
            torch.randn(m * sum(dims), generator=g)]


@pytest.mark.parametrize("dims,n,lead", [(BSRNN_16K, 64, (16, 251)), ([1, 2, 3, 40, 300], 13, (7,)),
                                         ([5, 7], 130, (3, 3))])
def test_cuda_band_split_matches_truth(dims, n, lead):
    p = _split_params(dims, n, seed=1)
    x = torch.randn(*lead, sum(dims), generator=_gen(2))
    truth = ops.band_split_reference(x.double(), dims, *[t.double() for t in p])
    cpu = ops.band_split(x, dims, *p)
    gpu = ops.band_split(x.cuda(), dims, *[t.cuda() for t in p])
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("glu", [True, False])
@pytest.mark.parametrize("dims,n,hidden,lead", [(BSRNN_16K, 64, 256, (16, 251)),
                                                ([1, 4, 33, 2], 20, 150, (9,))])
def test_cuda_band_mask_matches_truth(glu, dims, n, hidden, lead):
    p = _mask_params(dims, n, hidden, glu, seed=3)
    x = torch.randn(*lead, len(dims), n, generator=_gen(4))
    truth = ops.band_mask_reference(x.double(), dims, *[t.double() for t in p], glu=glu)
    cpu = ops.band_mask(x, dims, *p, glu=glu)
    gpu = ops.band_mask(x.cuda(), dims, *[t.cuda() for t in p], glu=glu)
    assert gpu.device.type == "cuda" and gpu.shape == cpu.shape
    assert rel_err(gpu.cpu(), truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_cuda_band_gradients_match_cpu():
    dims, n = [2, 3, 8, 17], 12
    p = _split_params(dims, n, seed=5)
    x = torch.randn(6, sum(dims), generator=_gen(6))
    grads = []
    for dev in ("cpu", "cuda"):
        ts = [t.to(dev).requires_grad_() for t in [x, *p]]
        ops.band_split(ts[0], dims, *ts[1:]).square().sum().backward()
        grads.append([t.grad.cpu() for t in ts])
    for gc, gg in zip(*grads):
        assert rel_err(gg, gc) < 1e-5


def test_cuda_bsrnn_forward_matches_cpu():
    torch.manual_seed(0)
    model = BSRNN("bsrnn-speech-16k-lite").eval()
    x = torch.from_numpy(noise(2, 16000, seed=1))
    with torch.no_grad():
        cpu = model(x)
        gpu = model.cuda()(x.cuda())
    assert rel_err(gpu.cpu(), cpu) < 1e-4
