"""LSTM / GRU on CUDA (one GEMM for the input projections, then the fused persistent
recurrence): error against a float64 truth at most twice that of the float32 CPU kernel, for
BSRNN's time-path and band-path shapes; gradients; the final state. Skipped without a GPU
(HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure). The kernel's block body is also
checked on the host by test_cuda_emulated.py."""

from __future__ import annotations

import pytest
import torch
from helpers import rel_err, require_cuda, rnn_params
from hushboard import ops


@pytest.fixture(autouse=True)
def _cuda():
    require_cuda()


def _cuda_or_none(ts):
    return [None if t is None else t.cuda() for t in ts]


# time path: 31 bands x batch 4 over 300 frames; band path: 4 x 300 frames over 31 bands;
# a hidden size past the shared-memory limit (W_hh read through the cache)
@pytest.mark.parametrize("s,l,i,hidden", [(124, 300, 64, 64), (1200, 31, 64, 64),
                                          (5, 40, 48, 128), (3, 20, 16, 160)])
@pytest.mark.parametrize("gru", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cuda_rnn_matches_truth(s, l, i, hidden, gru, reverse):
    w_ih, w_hh, b_ih, b_hh = rnn_params(3 if gru else 4, i, hidden, seed=hidden)
    g = torch.Generator().manual_seed(s)
    x = torch.randn(s, l, i, generator=g)
    h0 = torch.randn(s, hidden, generator=g)
    c0 = torch.randn(s, hidden, generator=g)
    if gru:
        fn, args = ops.gru_layer, [x, w_ih, w_hh, b_ih, b_hh, h0]
    else:
        fn, args = ops.lstm_layer, [x, w_ih, w_hh, b_ih + b_hh, h0, c0]
    truth = fn(*[t.double() for t in args], reverse=reverse)
    cpu = fn(*args, reverse=reverse)
    gpu = fn(*_cuda_or_none(args), reverse=reverse)
    for gg, c, t in zip(gpu, cpu, truth):
        assert gg.device.type == "cuda" and gg.shape == c.shape
        assert rel_err(gg.cpu(), t) <= 2 * max(rel_err(c, t), 1e-7)


def test_cuda_rnn_no_steps_and_no_state():
    w_ih, w_hh, b_ih, b_hh = rnn_params(4, 3, 8, seed=0)
    x = torch.zeros(2, 0, 3, device="cuda")
    h0 = torch.randn(2, 8, device="cuda")
    y, h, c = ops.lstm_layer(x, w_ih.cuda(), w_hh.cuda(), (b_ih + b_hh).cuda(), h0, None)
    assert y.shape == (2, 0, 8) and torch.equal(h, h0) and not c.any()


def test_cuda_rnn_gradients_match_cpu():
    w_ih, w_hh, b_ih, b_hh = rnn_params(4, 5, 12, seed=1)
    x = torch.randn(3, 9, 5, generator=torch.Generator().manual_seed(2))
    grads = []
    for dev in ("cpu", "cuda"):
        ts = [t.to(dev).requires_grad_() for t in (x, w_ih, w_hh, b_ih)]
        y, h, c = ops.lstm_layer(ts[0], ts[1], ts[2], ts[3], None, None)
        (y.square().sum() + h.sum() + c.sum()).backward()
        grads.append([t.grad.cpu() for t in ts])
    for gc, gg in zip(*grads):
        assert rel_err(gg, gc) < 1e-5
