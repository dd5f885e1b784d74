"""LSTM / GRU layers (fused-gate kernels): parity with an explicit float64 per-step loop, torch's
nn.LSTM / nn.GRU conventions, both SIMD paths, batch and thread-count consistency (bit for bit),
strided input, the plan classes and their weight cache, activation accuracy, autograd, opcheck,
and bad input."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import rel_err
from hushboard import ops
from hushboard.ops import _rnn
from hushboard.ops._native import _C, FORCE_REFERENCE

# float32 kernels against the float64 truth: max |err| / max |truth| over (y, h_n[, c_n]).
# Measured up to ~9e-7 (torch.lstm / torch.gru in float32: up to ~6e-7) on these sizes.
TOL = {"lstm": 2e-6, "gru": 2e-6, "grad": 2e-5}
# activations against double precision, relative (measured: sigmoid 1.5e-7 both paths; tanh
# 2.7e-7 AVX2+FMA, 3.3e-7 portable)
TOL_ACT = {"sigmoid": 2.5e-7, "tanh": 5e-7}


# ---- float64 truth: explicit per-step loops (independent of torch.lstm / torch.gru) ---------
def lstm_truth(x, w_ih, w_hh, bias, h0=None, c0=None, reverse=False):
    x, w_ih, w_hh, bias = (t.double() for t in (x, w_ih, w_hh, bias))
    s, n, _ = x.shape
    hidden = w_hh.shape[1]
    h = torch.zeros(s, hidden, dtype=torch.float64) if h0 is None else h0.double()
    c = torch.zeros(s, hidden, dtype=torch.float64) if c0 is None else c0.double()
    y = torch.empty(s, n, hidden, dtype=torch.float64)
    for pos in range(n - 1, -1, -1) if reverse else range(n):
        g = x[:, pos] @ w_ih.T + h @ w_hh.T + bias
        i, f, gg, o = g.split(hidden, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
        h = torch.sigmoid(o) * torch.tanh(c)
        y[:, pos] = h
    return y, h, c


def gru_truth(x, w_ih, w_hh, b_ih, b_hh, h0=None, reverse=False):
    x, w_ih, w_hh, b_ih, b_hh = (t.double() for t in (x, w_ih, w_hh, b_ih, b_hh))
    s, n, _ = x.shape
    hidden = w_hh.shape[1]
    h = torch.zeros(s, hidden, dtype=torch.float64) if h0 is None else h0.double()
    y = torch.empty(s, n, hidden, dtype=torch.float64)
    for pos in range(n - 1, -1, -1) if reverse else range(n):
        gi = x[:, pos] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = torch.sigmoid(gi[:, :hidden] + gh[:, :hidden])
        z = torch.sigmoid(gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        nn_ = torch.tanh(gi[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
        h = (1 - z) * nn_ + z * h
        y[:, pos] = h
    return y, h


def lstm_weights(i, hidden, scale=1.0, dtype=torch.float32):
    k = scale / math.sqrt(hidden)
    return (torch.empty(4 * hidden, i, dtype=dtype).uniform_(-k, k),
            torch.empty(4 * hidden, hidden, dtype=dtype).uniform_(-k, k),
            torch.empty(4 * hidden, dtype=dtype).uniform_(-2 * k, 2 * k))


def gru_weights(i, hidden, scale=1.0, dtype=torch.float32):
    k = scale / math.sqrt(hidden)
    return (torch.empty(3 * hidden, i, dtype=dtype).uniform_(-k, k),
            torch.empty(3 * hidden, hidden, dtype=dtype).uniform_(-k, k),
            torch.empty(3 * hidden, dtype=dtype).uniform_(-k, k),
            torch.empty(3 * hidden, dtype=dtype).uniform_(-k, k))


# properties of the native kernel (HUSHBOARD_BACKEND=reference runs torch's reference instead)
native_only = pytest.mark.skipif(FORCE_REFERENCE, reason="HUSHBOARD_BACKEND=reference")


def max_err(got, truth) -> float:
    return max(rel_err(g, t) for g, t in zip(got, truth))


@pytest.fixture
def simd(request):
    """Parametrised SIMD path (True: run-time detection, False: portable); always restored."""
    _C.set_simd_enabled(request.param)
    yield request.param
    _C.set_simd_enabled(True)


CASES = [
    # S, L, I, H, weight scale
    (1, 1, 1, 1, 1.0),
    (3, 5, 7, 6, 3.0),
    (2, 9, 13, 17, 1.0),  # H not a multiple of the 8-unit panels
    (1, 31, 64, 64, 3.0),  # band path (one frame, 31 bands)
    (31, 1, 64, 64, 1.0),  # time path (31 bands, one frame)
    (5, 3, 2, 9, 3.0),
    (4, 6, 24, 40, 1.0),
    (300, 2, 3, 5, 1.0),  # more sequences than a projection chunk holds: one position per chunk
]


@pytest.mark.parametrize("simd", [True, False], indirect=True)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_lstm_matches_truth(simd, case, reverse, given_state):
    s, n, i, hidden, scale = case
    x = torch.randn(s, n, i)
    w = lstm_weights(i, hidden, scale)
    h0, c0 = (torch.randn(s, hidden), torch.randn(s, hidden)) if given_state else (None, None)
    got = ops.lstm_layer(x, *w, h0, c0, reverse=reverse)
    truth = lstm_truth(x, *w, h0, c0, reverse)
    assert [g.shape for g in got] == [t.shape for t in truth]
    assert all(g.dtype == torch.float32 for g in got)
    assert max_err(got, truth) < TOL["lstm"]


@pytest.mark.parametrize("simd", [True, False], indirect=True)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_gru_matches_truth(simd, case, reverse, given_state):
    s, n, i, hidden, scale = case
    x = torch.randn(s, n, i)
    w = gru_weights(i, hidden, scale)
    h0 = torch.randn(s, hidden) if given_state else None
    got = ops.gru_layer(x, *w, h0, reverse=reverse)
    truth = gru_truth(x, *w, h0, reverse)
    assert [g.shape for g in got] == [t.shape for t in truth]
    assert max_err(got, truth) < TOL["gru"]


def test_float64_runs_the_reference():
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    w = lstm_weights(3, 4, dtype=torch.float64)
    got = ops.lstm_layer(x, *w, reverse=True)
    assert all(g.dtype == torch.float64 for g in got)
    assert max_err(got, lstm_truth(x, *w, reverse=True)) < 1e-12
    gw = gru_weights(3, 4, dtype=torch.float64)
    got = ops.gru_layer(x, *gw)
    assert max_err(got, gru_truth(x, *gw)) < 1e-12


def test_matches_torch_modules_both_directions():
    """Weights of nn.LSTM / nn.GRU (bidirectional) give the modules' outputs."""
    i, hidden = 10, 12
    x = torch.randn(3, 7, i)
    lstm = torch.nn.LSTM(i, hidden, batch_first=True, bidirectional=True)
    gru = torch.nn.GRU(i, hidden, batch_first=True, bidirectional=True)
    with torch.no_grad():
        y_ref, (h_ref, c_ref) = lstm(x)
        g_ref, gh_ref = gru(x)
        for d, suffix in enumerate(["", "_reverse"]):
            p = {k: v for k, v in lstm.named_parameters()}
            y, h, c = ops.lstm_layer(
                x, p["weight_ih_l0" + suffix], p["weight_hh_l0" + suffix],
                p["bias_ih_l0" + suffix] + p["bias_hh_l0" + suffix], reverse=bool(d))
            assert rel_err(y, y_ref[..., d * hidden:(d + 1) * hidden]) < TOL["lstm"]
            assert rel_err(h, h_ref[d]) < TOL["lstm"] and rel_err(c, c_ref[d]) < TOL["lstm"]
            q = {k: v for k, v in gru.named_parameters()}
            y, h = ops.gru_layer(
                x, q["weight_ih_l0" + suffix], q["weight_hh_l0" + suffix],
                q["bias_ih_l0" + suffix], q["bias_hh_l0" + suffix], reverse=bool(d))
            assert rel_err(y, g_ref[..., d * hidden:(d + 1) * hidden]) < TOL["gru"]
            assert rel_err(h, gh_ref[d]) < TOL["gru"]


@native_only
@pytest.mark.parametrize("simd", [True, False], indirect=True)
@pytest.mark.parametrize("reverse", [False, True])
def test_batch_and_thread_consistency_bitwise(simd, reverse):
    """Each sequence equals its own S=1 run, and the result does not depend on the thread count
    (the problem is large enough to be split over threads)."""
    s, n, i, hidden = 8, 40, 32, 32  # > 4 MFLOP: the op path uses threads
    x = torch.randn(s, n, i)
    w, gw = lstm_weights(i, hidden), gru_weights(i, hidden)
    h0, c0 = torch.randn(s, hidden), torch.randn(s, hidden)
    threads = _C.get_num_threads()
    try:
        _C.set_num_threads(1)
        one = ops.lstm_layer(x, *w, h0, c0, reverse=reverse)
        g_one = ops.gru_layer(x, *gw, h0, reverse=reverse)
        _C.set_num_threads(3)  # three chunks of sequences whatever the core count
        many = ops.lstm_layer(x, *w, h0, c0, reverse=reverse)
        g_many = ops.gru_layer(x, *gw, h0, reverse=reverse)
    finally:
        _C.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(one, many))
    assert all(torch.equal(a, b) for a, b in zip(g_one, g_many))
    for k in (0, 3, 7):
        single = ops.lstm_layer(x[k:k + 1], *w, h0[k:k + 1], c0[k:k + 1], reverse=reverse)
        assert all(torch.equal(a[k:k + 1], b) for a, b in zip(one, single))
        g_single = ops.gru_layer(x[k:k + 1], *gw, h0[k:k + 1], reverse=reverse)
        assert all(torch.equal(a[k:k + 1], b) for a, b in zip(g_one, g_single))


@native_only
def test_streaming_chunks_equal_whole_sequence():
    """Running L positions in pieces, carrying (h, c), equals one call over all L."""
    s, n, i, hidden = 3, 11, 9, 16
    x = torch.randn(s, n, i)
    w, gw = lstm_weights(i, hidden), gru_weights(i, hidden)
    y, h, c = ops.lstm_layer(x, *w)
    gy, gh = ops.gru_layer(x, *gw)
    hs, cs, gs, parts, gparts = None, None, None, [], []
    for a, b in [(0, 1), (1, 5), (5, 6), (6, 11)]:
        yp, hs, cs = ops.lstm_layer(x[:, a:b], *w, hs, cs)
        gp, gs = ops.gru_layer(x[:, a:b], *gw, gs)
        parts.append(yp)
        gparts.append(gp)
    assert torch.equal(torch.cat(parts, 1), y) and torch.equal(hs, h) and torch.equal(cs, c)
    assert torch.equal(torch.cat(gparts, 1), gy) and torch.equal(gs, gh)


def test_strided_input_equals_contiguous():
    s, n, i, hidden = 4, 6, 10, 8
    big = torch.randn(2 * s, 3 * n, i + 3)
    x = big[::2, 1::3, 2:i + 2]  # strides along S, L (and unit stride along I)
    xt = torch.randn(s, i, n).transpose(1, 2)  # non-unit stride along I: copied
    w, gw = lstm_weights(i, hidden), gru_weights(i, hidden)
    for xs in (x, xt):
        assert not xs.is_contiguous()
        for a, b in zip(ops.lstm_layer(xs, *w), ops.lstm_layer(xs.contiguous(), *w)):
            assert torch.equal(a, b)
        for a, b in zip(ops.gru_layer(xs, *gw, reverse=True),
                        ops.gru_layer(xs.contiguous(), *gw, reverse=True)):
            assert torch.equal(a, b)


@native_only
def test_plan_classes_numpy_and_workspace():
    s, n, i, hidden = 3, 7, 5, 11
    x = torch.randn(s, n, i)
    w, gw = lstm_weights(i, hidden), gru_weights(i, hidden)
    h0, c0 = torch.randn(s, hidden), torch.randn(s, hidden)
    plan = _C.LstmPlan(*(t.numpy() for t in w))
    assert (plan.input_size, plan.hidden_size) == (i, hidden)
    got = plan.forward(x.numpy(), h0.numpy(), c0.numpy(), reverse=True)
    for g, r in zip(got, ops.lstm_layer(x, *w, h0, c0, reverse=True)):
        assert np.array_equal(g, r.numpy())
    gplan = _C.GruPlan(*(t.numpy() for t in gw))
    got = gplan.forward(x.numpy(), h0.numpy())
    for g, r in zip(got, ops.gru_layer(x, *gw, h0)):
        assert np.array_equal(g, r.numpy())
    # a workspace sized for the largest call serves every smaller one
    for p in (plan, gplan):
        sizes = [[p.workspace_floats(a, b) for b in (1, 2, 31, 32, 500, 2000)]
                 for a in (1, 2, 31, 300, 1000)]
        arr = np.array(sizes)
        assert (np.diff(arr, axis=0) >= 0).all() and (np.diff(arr, axis=1) >= 0).all()
        assert p.workspace_floats(0, 5) == 0
    # float64 / strided arrays are rejected, not silently copied
    with pytest.raises(TypeError):
        plan.forward(x.double().numpy())
    with pytest.raises(ValueError, match="x must have shape"):
        plan.forward(np.zeros((2, 3, i + 1), dtype=np.float32))
    with pytest.raises(ValueError, match="c0 must have shape"):
        plan.forward(x.numpy(), h0.numpy(), c0[:2].numpy())


@native_only
@pytest.mark.parametrize("reverse", [False, True])
def test_plan_pointer_entry_in_place(reverse):
    """forward_ptr with y = x (I == H, same strides) equals the out-of-place result: each
    position is read before it is written, across projection chunks too (S*L > 256 rows)."""
    s, n, hidden = 20, 30, 8
    x = torch.randn(s, n, hidden)
    w, gw = lstm_weights(hidden, hidden), gru_weights(hidden, hidden)
    h0, c0 = torch.randn(s, hidden), torch.randn(s, hidden)
    y, h_n, c_n = ops.lstm_layer(x, *w, h0, c0, reverse=reverse)
    gy, gh_n = ops.gru_layer(x, *gw, h0, reverse=reverse)
    plan = _C.LstmPlan(*(t.numpy() for t in w))
    buf, h, c = x.clone(), h0.clone(), c0.clone()
    plan.forward_ptr(buf.data_ptr(), s, n, n * hidden, hidden, reverse, h.data_ptr(),
                     c.data_ptr(), buf.data_ptr(), n * hidden, hidden)
    assert torch.equal(buf, y) and torch.equal(h, h_n) and torch.equal(c, c_n)
    gplan = _C.GruPlan(*(t.numpy() for t in gw))
    buf, h = x.clone(), h0.clone()
    gplan.forward_ptr(buf.data_ptr(), s, n, n * hidden, hidden, reverse, h.data_ptr(),
                      buf.data_ptr(), n * hidden, hidden)
    assert torch.equal(buf, gy) and torch.equal(h, gh_n)


@native_only
def test_plan_pointer_entry_strided_bidirectional():
    """Both directions write into halves of one (S, L, 2H) buffer from a position-major x
    (x element (s, l) at l*S*I + s*I): y_pos = 2H, y_seq = L*2H, x_seq = I, x_pos = S*I."""
    s, n, i, hidden = 3, 31, 6, 10
    x_lsi = torch.randn(n, s, i)
    x = x_lsi.transpose(0, 1)
    wf, wb = lstm_weights(i, hidden), lstm_weights(i, hidden)
    yf = ops.lstm_layer(x, *wf)[0]
    yb = ops.lstm_layer(x, *wb, reverse=True)[0]
    out = torch.full((s, n, 2 * hidden), float("nan"))
    for w, rev, off in ((wf, False, 0), (wb, True, hidden)):
        plan = _C.LstmPlan(*(t.numpy() for t in w))
        h, c = torch.zeros(s, hidden), torch.zeros(s, hidden)
        plan.forward_ptr(x_lsi.data_ptr(), s, n, i, s * i, rev, h.data_ptr(), c.data_ptr(),
                         out.data_ptr() + 4 * off, n * 2 * hidden, 2 * hidden)
    assert torch.equal(out, torch.cat([yf, yb], dim=2))


@native_only
def test_plan_cache_follows_in_place_weight_updates():
    s, n, i, hidden = 2, 4, 3, 5
    x = torch.randn(s, n, i)
    w = lstm_weights(i, hidden)
    _rnn._PLAN_CACHE.clear()
    ops.lstm_layer(x, *w)
    assert len(_rnn._PLAN_CACHE) == 1  # the native kernel ran (and cached its packed plan)
    ops.lstm_layer(x, *w)
    assert len(_rnn._PLAN_CACHE) == 1
    with torch.no_grad():
        w[1].mul_(-1.5)  # an optimizer-like in-place step
    got = ops.lstm_layer(x, *w)
    assert max_err(got, lstm_truth(x, *w)) < TOL["lstm"]
    # a bias computed afresh per call (b_ih + b_hh) reuses the plan while its values hold
    b_ih = w[2] / 2
    plan = _rnn._PLAN_CACHE.values()[0]
    ops.lstm_layer(x, w[0], w[1], b_ih + w[2] / 2)
    assert len(_rnn._PLAN_CACHE) == 1
    assert _rnn._PLAN_CACHE.values()[0] is plan
    b2 = w[2] + 0.25
    got = ops.lstm_layer(x, w[0], w[1], b2)
    assert len(_rnn._PLAN_CACHE) == 1
    assert max_err(got, lstm_truth(x, w[0], w[1], b2)) < TOL["lstm"]


def test_backend_reference_env():
    """HUSHBOARD_BACKEND=reference leaves the ops on torch's reference (no native plan)."""
    code = (
        "import torch; from hushboard import ops; from hushboard.ops import _rnn\n"
        "x = torch.randn(2, 5, 3); w = [torch.randn(16, 3), torch.randn(16, 4), torch.randn(16)]\n"
        "got = ops.lstm_layer(x, *w, reverse=True)\n"
        "ref = ops.lstm_layer_reference(x, *w, reverse=True)\n"
        "assert all(torch.equal(a, b) for a, b in zip(got, ref)) and not _rnn._PLAN_CACHE\n"
        "print('ok')\n"
    )
    env = dict(os.environ, HUSHBOARD_BACKEND="reference")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]


def test_inference_mode():
    """Inference tensors (no version counter) work, and in-place updates are still seen."""
    x = torch.randn(2, 3, 4)
    with torch.inference_mode():
        w = lstm_weights(4, 5)
        gw = gru_weights(4, 5)
        assert max_err(ops.lstm_layer(x, *w), lstm_truth(x, *w)) < TOL["lstm"]
        w[1].mul_(0.5)
        assert max_err(ops.lstm_layer(x, *w), lstm_truth(x, *w)) < TOL["lstm"]
        assert max_err(ops.gru_layer(x, *gw), gru_truth(x, *gw)) < TOL["gru"]


@pytest.mark.parametrize("simd", [True, False], indirect=True)
def test_activation_accuracy(simd):
    x = np.concatenate([
        np.linspace(-100.0, 100.0, 400_001),
        np.linspace(-1.0, 1.0, 200_001),
        np.ldexp(1.37, np.arange(-140, 0)), -np.ldexp(1.37, np.arange(-140, 0)),
    ]).astype(np.float32)
    x64 = x.astype(np.float64)
    for which, name, truth in ((0, "sigmoid", 1.0 / (1.0 + np.exp(-x64))),
                               (1, "tanh", np.tanh(x64))):
        y = _C.rnn_activation(which, x).astype(np.float64)
        big = np.abs(truth) > 1e-30
        rel = np.abs(y - truth)[big] / np.abs(truth[big])
        assert rel.max() < TOL_ACT[name], (name, rel.max())
        assert np.abs(y - truth).max() < TOL_ACT[name]
    special = np.array([-1e4, 1e4, -np.inf, np.inf, np.nan], np.float32)
    sig, th = _C.rnn_activation(0, special), _C.rnn_activation(1, special)
    assert sig[0] < 1e-37 and sig[2] < 1e-37 and sig[1] == sig[3] == 1.0 and np.isnan(sig[4])
    assert np.abs(th[:4] - [-1.0, 1.0, -1.0, 1.0]).max() < TOL_ACT["tanh"] and np.isnan(th[4])


def test_gradcheck_float64():
    d = {"dtype": torch.float64, "requires_grad": True}
    x = torch.randn(2, 3, 4, **d)
    w = [t.requires_grad_() for t in lstm_weights(4, 3, dtype=torch.float64)]
    h0, c0 = torch.randn(2, 3, **d), torch.randn(2, 3, **d)
    assert torch.autograd.gradcheck(
        lambda *a: ops.lstm_layer(*a, reverse=True), (x, *w, h0, c0))
    assert torch.autograd.gradcheck(lambda *a: ops.lstm_layer(*a), (x, *w))  # no state given
    gw = [t.requires_grad_() for t in gru_weights(4, 3, dtype=torch.float64)]
    assert torch.autograd.gradcheck(lambda *a: ops.gru_layer(*a, reverse=True), (x, *gw, h0))
    assert torch.autograd.gradcheck(lambda *a: ops.gru_layer(*a), (x, *gw))
    # double backward (the backward is the reference under torch.func.vjp, differentiable)
    assert torch.autograd.gradgradcheck(lambda *a: ops.lstm_layer(*a, reverse=True), (x, *w))
    assert torch.autograd.gradgradcheck(lambda *a: ops.gru_layer(*a), (x, *gw, h0))


def test_float32_native_forward_with_gradients():
    """The float32 forward runs the native kernel; gradients match the float64 truth."""
    s, n, i, hidden = 3, 6, 5, 7
    x = torch.randn(s, n, i, requires_grad=True)
    w = [t.requires_grad_() for t in lstm_weights(i, hidden)]
    h0 = torch.randn(s, hidden, requires_grad=True)
    y, h, c = ops.lstm_layer(x, *w, h0, None, reverse=True)
    (y.square().sum() + h.sum() + 2 * c.sum()).backward()
    x64 = x.detach().double().requires_grad_()
    w64 = [t.detach().double().requires_grad_() for t in w]
    h64 = h0.detach().double().requires_grad_()
    y2, h2, c2 = lstm_truth(x64, *w64, h64, None, True)
    (y2.square().sum() + h2.sum() + 2 * c2.sum()).backward()
    for a, b in zip([x, *w, h0], [x64, *w64, h64]):
        assert rel_err(a.grad, b.grad) < TOL["grad"]
    gw = [t.requires_grad_() for t in gru_weights(i, hidden)]
    x.grad = None
    y, h = ops.gru_layer(x, *gw)
    (y.sum() + h.square().sum()).backward()
    gw64 = [t.detach().double().requires_grad_() for t in gw]
    x64.grad = None
    y2, h2 = gru_truth(x64, *gw64)
    (y2.sum() + h2.square().sum()).backward()
    for a, b in zip([x, *gw], [x64, *gw64]):
        assert rel_err(a.grad, b.grad) < TOL["grad"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck(dtype):
    x = torch.randn(2, 3, 4, dtype=dtype, requires_grad=True)
    w = lstm_weights(4, 5, dtype=dtype)
    h0 = torch.randn(2, 5, dtype=dtype)
    torch.library.opcheck(_rnn._lstm_op, (x, *w, h0, None, True))
    gw = gru_weights(4, 5, dtype=dtype)
    torch.library.opcheck(_rnn._gru_op, (x, *gw, None, False))


def test_device(device):
    """The ops run on every device (CUDA: the torch reference body) and match the reference."""
    x = torch.randn(2, 5, 3, device=device)
    w = [t.to(device) for t in lstm_weights(3, 4)]
    gw = [t.to(device) for t in gru_weights(3, 4)]
    for got, ref in ((ops.lstm_layer(x, *w, reverse=True),
                      ops.lstm_layer_reference(x, *w, reverse=True)),
                     (ops.gru_layer(x, *gw), ops.gru_layer_reference(x, *gw))):
        for g, r in zip(got, ref):
            assert g.device == x.device
            assert rel_err(g.cpu(), r.cpu()) < TOL["lstm"]


# ---- bad input ------------------------------------------------------------------------------
def test_bad_input():
    x = torch.randn(2, 3, 4)
    w_ih, w_hh, b = lstm_weights(4, 5)
    gw = gru_weights(4, 5)
    h = torch.zeros(2, 5)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ops.lstm_layer(x.numpy(), w_ih, w_hh, b)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        ops.lstm_layer(x.int(), w_ih, w_hh, b)
    with pytest.raises(TypeError, match="w_hh must have dtype torch.float32"):
        ops.lstm_layer(x, w_ih, w_hh.double(), b)
    with pytest.raises(TypeError, match="bias must have dtype"):
        ops.lstm_layer(x, w_ih, w_hh, b.double())
    with pytest.raises(TypeError, match="h0 must be a torch.Tensor or None"):
        ops.lstm_layer(x, w_ih, w_hh, b, h.numpy())
    with pytest.raises(ValueError, match="x must be 3-D"):
        ops.lstm_layer(x[0], w_ih, w_hh, b)
    for empty in (x[:0], x[:, :0], x[..., :0]):
        with pytest.raises(ValueError, match="S, L, I >= 1"):
            ops.lstm_layer(empty, w_ih, w_hh, b)
    with pytest.raises(ValueError, match=r"w_hh must have shape \(4\*H, H\)"):
        ops.lstm_layer(x, w_ih, w_hh[:, :4], b)
    with pytest.raises(ValueError, match=r"w_ih must have shape \(20, 4\)"):
        ops.lstm_layer(x, w_ih[:, :3], w_hh, b)
    with pytest.raises(ValueError, match=r"bias must have shape \(20,\)"):
        ops.lstm_layer(x, w_ih, w_hh, b[:5])
    with pytest.raises(ValueError, match=r"c0 must have shape \(2, 5\)"):
        ops.lstm_layer(x, w_ih, w_hh, b, h, h[:1])
    with pytest.raises(ValueError, match=r"w_hh must have shape \(3\*H, H\)"):
        ops.gru_layer(x, w_ih, w_hh, gw[2], gw[3])
    with pytest.raises(ValueError, match=r"b_hh must have shape \(15,\)"):
        ops.gru_layer(x, gw[0], gw[1], gw[2], gw[3][:-1])
    with pytest.raises(ValueError, match="h0 must be 2-D"):
        ops.gru_layer(x, *gw, h[None])
    with pytest.raises(ValueError, match="w_hh must be on meta like x"):
        ops.lstm_layer(x.to("meta"), w_ih, w_hh, b)


def test_nan_input_propagates():
    """A NaN in x poisons that sequence from its position on (as torch), not the others."""
    x = torch.randn(3, 6, 4)
    x[1, 2, 0] = float("nan")
    w, gw = lstm_weights(4, 5), gru_weights(4, 5)
    for y, h in ((ops.lstm_layer(x, *w)[0], ops.lstm_layer(x, *w)[1]), ops.gru_layer(x, *gw)):
        assert y[1, 2:].isnan().all() and h[1].isnan().all()
        assert not y[1, :2].isnan().any() and not y[[0, 2]].isnan().any()


@native_only
def test_non_finite_weights_rejected():
    x = torch.randn(2, 3, 4)
    w_ih, w_hh, b = lstm_weights(4, 5)
    w_hh[3, 2] = float("nan")
    with pytest.raises(ValueError, match="w_hh must be finite"):
        ops.lstm_layer(x, w_ih, w_hh, b)
    gw = list(gru_weights(4, 5))
    gw[3][0] = float("inf")
    with pytest.raises(ValueError, match="b_hh must be finite"):
        ops.gru_layer(x, *gw)
