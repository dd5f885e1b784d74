"""LSTM training layer (hushboard.ops.lstm_train_layer, _C.LstmTrainPlan): forward output and
every gradient against a float64 torch.nn.LSTM reference (odd sizes, reverse, initial state given
or not, gradients through h_n / c_n), both SIMD paths, thread-count independence (bit for bit),
per-sequence independence, strided / partial output gradients, buffer reuse with a retained
graph, and a BSRNN training step on the new path against the nn.LSTM path."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import rel_err
from hushboard import ops
from hushboard.models import BSRNN
from hushboard.models import bsrnn as bsrnn_mod
from hushboard.ops._native import _C, FORCE_REFERENCE

# float32 kernel against the float64 truth: max |err| / max |truth| per tensor. Forward: one
# step is a sum of I + H products plus the activations (sigmoid 1.5e-7, tanh 3.3e-7 relative,
# tests/ops/test_rnn.py), carried through L steps by a contraction (f < 1): measured up to
# 5.1e-7 over these cases, both SIMD paths (torch's own float32 nn.LSTM: 2.5e-7; test_rnn.py
# uses 2e-6). Gradients add sums over S*L rows (dW, dbias) and the backward recursion through L
# steps: measured 8.9e-7 (torch float32: 7.3e-7); the bound (helpers.TOL_F32["grad"]) leaves a
# factor ~5 for other seeds.
TOL = {"fwd": 2e-6, "grad": 5e-6}

native_only = pytest.mark.skipif(FORCE_REFERENCE, reason="HUSHBOARD_BACKEND=reference")


@pytest.fixture
def simd(request):
    """Parametrised SIMD path (True: run-time detection, False: portable); always restored."""
    _C.set_simd_enabled(request.param)
    yield request.param
    _C.set_simd_enabled(True)


def make(s, n, i, hidden, given_state, scale=1.0, seed=0, dtype=torch.float64):
    """Leaf tensors x, w_ih, w_hh, b_ih, b_hh[, h0, c0] (float64) and output cotangents."""
    g = torch.Generator().manual_seed(seed)
    k = scale / math.sqrt(hidden)

    def u(*shape):
        return ((torch.rand(*shape, generator=g, dtype=dtype) * 2 - 1) * k).requires_grad_()

    ts = [torch.randn(s, n, i, generator=g, dtype=dtype).requires_grad_(),
          u(4 * hidden, i), u(4 * hidden, hidden), u(4 * hidden), u(4 * hidden)]
    if given_state:
        ts += [torch.randn(s, hidden, generator=g, dtype=dtype).requires_grad_() for _ in "hc"]
    cot = (torch.randn(s, n, hidden, generator=g, dtype=dtype),
           torch.randn(s, hidden, generator=g, dtype=dtype),
           torch.randn(s, hidden, generator=g, dtype=dtype))
    return ts, cot


def torch_lstm(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, reverse=False):
    """One direction of torch.nn.LSTM(batch_first=True) with the given parameters."""
    s, _, i = x.shape
    hidden = w_hh.shape[1]
    m = torch.nn.LSTM(i, hidden, batch_first=True).to(x.dtype)
    params = dict(weight_ih_l0=w_ih, weight_hh_l0=w_hh, bias_ih_l0=b_ih, bias_hh_l0=b_hh)
    xx = x.flip(1) if reverse else x
    state = None if h0 is None else (h0[None], c0[None])
    y, (h, c) = torch.func.functional_call(m, params, (xx, state))
    return (y.flip(1) if reverse else y), h[0], c[0]


def run_and_grad(fn, ts, cot, use_state_grads=True):
    y, h, c = fn(*ts[:5], *(ts[5:] if len(ts) > 5 else (None, None)))
    loss = (y * cot[0].to(y.dtype)).sum()
    if use_state_grads:
        loss = loss + (h * cot[1].to(y.dtype)).sum() + (c * cot[2].to(y.dtype)).sum()
    grads = torch.autograd.grad(loss, ts)
    return (y, h, c), grads


def as32(ts):
    return [t.detach().float().requires_grad_() for t in ts]


CASES = [
    # S, L, I, H, weight scale
    (1, 1, 1, 1, 1.0),
    (1, 7, 5, 3, 2.0),
    (3, 1, 9, 11, 1.0),
    (5, 13, 7, 6, 3.0),
    (11, 9, 13, 17, 1.0),  # H not a multiple of the 8-unit panels
    (19, 6, 33, 9, 1.0),  # more sequences than the minimum chunk count: chunks of 2 and 3
    (70, 5, 3, 21, 1.0),  # chunks of 8 and 9 sequences
]


@native_only
@pytest.mark.parametrize("simd", [True, False], indirect=True)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_matches_float64_nn_lstm(simd, case, reverse, given_state):
    s, n, i, hidden, scale = case
    ts, cot = make(s, n, i, hidden, given_state, scale)
    truth, gtruth = run_and_grad(lambda *a: torch_lstm(*a, reverse=reverse), ts, cot)
    t32 = as32(ts)
    got, ggot = run_and_grad(lambda *a: ops.lstm_train_layer(*a, reverse=reverse), t32, cot)
    assert [g.shape for g in got] == [t.shape for t in truth]
    assert all(g.dtype == torch.float32 for g in (*got, *ggot))
    for name, a, b in zip(("y", "h_n", "c_n"), got, truth):
        assert rel_err(a, b) < TOL["fwd"], name
    names = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0")
    for name, a, b in zip(names, ggot, gtruth):
        assert a.shape == b.shape, name
        assert rel_err(a, b) < TOL["grad"], name


@native_only
@pytest.mark.parametrize("reverse", [False, True])
def test_partial_and_strided_output_gradients(reverse):
    """Only h_n / c_n used (no gradient for y), and an expanded (stride 0) dy from y.sum()."""
    ts, _ = make(4, 6, 5, 10, True)
    t32 = as32(ts)
    for use in ("state", "ysum"):
        def loss_of(y, h, c):
            return h.sum() + 2 * c.sum() if use == "state" else y.sum()

        ref = torch.autograd.grad(loss_of(*torch_lstm(*ts, reverse=reverse)), ts)
        got = torch.autograd.grad(
            loss_of(*ops.lstm_train_layer(*t32, reverse=reverse)), t32)
        for a, b in zip(got, ref):
            assert rel_err(a, b) < TOL["grad"]


@native_only
@pytest.mark.parametrize("reverse", [False, True])
def test_thread_count_and_batch_independence(reverse):
    """All outputs and gradients are the same bit for bit for 1 and 3 threads (the problem is
    large enough to be split); a sequence's y, h_n, c_n, dx, dh0, dc0 equal its own S=1 run."""
    ts, cot = make(20, 40, 32, 32, True, seed=1, dtype=torch.float32)
    threads = _C.get_num_threads()
    try:
        _C.set_num_threads(1)
        one, gone = run_and_grad(lambda *a: ops.lstm_train_layer(*a, reverse=reverse), ts, cot)
        _C.set_num_threads(3)
        many, gmany = run_and_grad(lambda *a: ops.lstm_train_layer(*a, reverse=reverse), ts, cot)
    finally:
        _C.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip((*one, *gone), (*many, *gmany)))
    for k in (0, 7, 19):
        sub = [ts[0][k:k + 1].detach().requires_grad_(), *ts[1:5],
               *(t[k:k + 1].detach().requires_grad_() for t in ts[5:])]
        cot_k = tuple(c[k:k + 1] for c in cot)
        single, gsingle = run_and_grad(
            lambda *a: ops.lstm_train_layer(*a, reverse=reverse), sub, cot_k)
        assert all(torch.equal(a[k:k + 1], b) for a, b in zip(one, single))
        for idx in (0, 5, 6):  # dx, dh0, dc0
            assert torch.equal(gone[idx][k:k + 1], gsingle[idx])


@native_only
def test_retained_graph_and_buffer_reuse():
    """A second backward through a retained graph, after other calls have reused the pooled
    buffers, recomputes the saved gates and gives the same gradients."""
    ts, cot = make(6, 9, 7, 12, True, dtype=torch.float32)
    y, h, c = ops.lstm_train_layer(*ts)
    loss = (y * cot[0]).sum() + (h * cot[1]).sum()
    first = torch.autograd.grad(loss, ts, retain_graph=True)
    for _ in range(3):  # take the pooled buffers (same sizes) for other layers' forwards
        other, _ = make(6, 9, 7, 12, False, seed=5, dtype=torch.float32)
        ops.lstm_train_layer(*other)[0].sum().backward()
    second = torch.autograd.grad(loss, ts)
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_float64_and_reference_fallback():
    """float64 goes through torch.lstm with autograd (the reference path)."""
    ts, cot = make(3, 5, 4, 6, True)
    truth, gtruth = run_and_grad(torch_lstm, ts, cot)
    got, ggot = run_and_grad(ops.lstm_train_layer, ts, cot)
    for a, b in zip((*got, *ggot), (*truth, *gtruth)):
        assert rel_err(a, b) < 1e-12


def test_bad_input():
    ts, _ = make(2, 3, 4, 5, False, dtype=torch.float32)
    with pytest.raises(ValueError):
        ops.lstm_train_layer(ts[0], ts[1][:, :3], *ts[2:])
    with pytest.raises(ValueError):
        ops.lstm_train_layer(*ts[:3], ts[3][:7], ts[4])
    with pytest.raises(TypeError):
        ops.lstm_train_layer(ts[0].double(), *ts[1:])


# ---- BSRNN training step ----------------------------------------------------------------------
def _train_step(model, audio, target):
    model.zero_grad(set_to_none=True)
    loss = (model(audio) - target).pow(2).mean()
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@native_only
@pytest.mark.parametrize("preset", ["bsrnn-speech-16k-lite", "bsrnn-music-44k-lite"])
def test_bsrnn_training_step_matches_nn_lstm(monkeypatch, preset):
    """loss + backward: the native LSTM path (used: counted) equals the nn.LSTM path. Both are
    float32 with different summation orders, and the differences pass through 4 dual-path
    layers, the masks and the iSTFT: measured loss 1e-7 and gradients up to ~1e-5 relative (L2
    per parameter); bound 1e-4. The music preset (stereo, four stems, bidirectional time path)
    also takes the native path's two directions into the layers' linear maps unconcatenated,
    and its masks from the runs of equal-width bands (``BandMask.pieces``)."""
    torch.manual_seed(0)
    model = BSRNN(preset).train()
    cfg = model.config
    g = torch.Generator().manual_seed(3)
    shape = (2, cfg.sample_rate // 2) if cfg.audio_channels == 1 else (
        1, cfg.audio_channels, cfg.sample_rate // 4)
    audio = 0.1 * torch.randn(*shape, generator=g)
    target = 0.1 * torch.randn(*model(audio).shape, generator=g)
    calls = []
    real = bsrnn_mod.lstm_train_layer

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(bsrnn_mod, "lstm_train_layer", spy)
    monkeypatch.setenv("HUSHBOARD_TRAIN_LSTM", "torch")
    loss_t, grads_t = _train_step(model, audio, target)
    assert not calls
    monkeypatch.delenv("HUSHBOARD_TRAIN_LSTM")
    loss_h, grads_h = _train_step(model, audio, target)
    layers = model.config.num_layers
    # time (1 direction when causal) + band (2 directions)
    assert len(calls) == (3 if cfg.causal else 4) * layers
    assert abs(loss_h - loss_t) / abs(loss_t) < 1e-4
    assert grads_h.keys() == grads_t.keys()
    for name in grads_t:
        err = float((grads_h[name] - grads_t[name]).norm() / grads_t[name].norm())
        assert err < 1e-4, name
    # inference (no grad) is untouched: the fused path, no training kernel
    calls.clear()
    with torch.no_grad():
        model(audio)
    assert not calls
