"""Fused complex convolution / transposed convolution and sgemm: parity with the four-real-conv
torch reference (float64 truth), complex-tensor input, batch consistency, plan (streaming) calls,
SIMD paths, autograd, opcheck, fake tensors, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import noise, rel_err
from hushboard import ops
from hushboard.ops import _complex_conv as cc
from hushboard.ops._native import _C

TOL = 2e-6  # float32 fused kernels against the float64 truth: max |err| / max |truth|


def truth_conv(x, wr, wi, br, bi, stride, dilation, pad4):
    d = lambda t: None if t is None else t.double()
    return cc._conv_reference(x.double(), wr.double(), wi.double(), d(br), d(bi), stride,
                              dilation, pad4)


def truth_convt(x, wr, wi, br, bi, stride, dilation, crop4, op):
    d = lambda t: None if t is None else t.double()
    return cc._convt_reference(x.double(), wr.double(), wi.double(), d(br), d(bi), stride,
                               dilation, crop4, op)


def rand(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


CONV_CASES = [
    # B, Cin, Cout, F, T, kernel, stride, dilation, padding (4)
    (2, 3, 5, 17, 11, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0)),
    (1, 1, 8, 64, 23, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0)),
    (3, 4, 7, 9, 13, (3, 3), (1, 2), (2, 1), (1, 0, 2, 1)),
    (2, 6, 9, 11, 7, (2, 3), (3, 2), (1, 2), (0, 3, 4, 0)),
    (1, 13, 3, 5, 29, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_matches_reference(case, bias):
    b, ci, co, f, t, k, s, d, p = case
    x, wr, wi = rand(b, 2 * ci, f, t), rand(co, ci, *k), rand(co, ci, *k)
    br, bi = (rand(co), rand(co)) if bias else (None, None)
    got = ops.complex_conv2d(x, wr, wi, br, bi, stride=s, dilation=d, padding=p)
    ref = truth_conv(x, wr, wi, br, bi, s, d, p)
    assert got.dtype == torch.float32 and got.shape == ref.shape
    assert rel_err(got, ref) < TOL


CONVT_CASES = [
    # B, Cin, Cout, F, T, kernel, stride, dilation, crop (4), output_padding
    (2, 6, 5, 17, 11, (5, 2), (2, 1), (1, 1), (2, 2, 0, 1), (1, 0)),
    (3, 4, 7, 9, 13, (3, 3), (2, 2), (2, 1), (1, 0, 2, 1), (1, 0)),
    (1, 2, 3, 5, 6, (1, 1), (3, 2), (1, 1), (0, 0, 0, 0), (2, 1)),
    (2, 5, 1, 8, 9, (4, 2), (1, 3), (2, 2), (1, 3, 0, 2), (1, 1)),
]


@pytest.mark.parametrize("case", CONVT_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_matches_reference(case, bias):
    b, ci, co, f, t, k, s, d, p, op = case
    x, wr, wi = rand(b, 2 * ci, f, t), rand(ci, co, *k), rand(ci, co, *k)
    br, bi = (rand(co), rand(co)) if bias else (None, None)
    got = ops.complex_conv_transpose2d(x, wr, wi, br, bi, stride=s, dilation=d, padding=p,
                                       output_padding=op)
    ref = truth_convt(x, wr, wi, br, bi, s, d, p, op)
    assert got.shape == ref.shape
    assert rel_err(got, ref) < TOL


def test_dccrn_layers_causal():
    # encoder conv (5,2) stride (2,1) causal; decoder transposed conv, causal crop
    x = rand(2, 32, 32, 40)
    wr, wi, br, bi = rand(24, 16, 5, 2), rand(24, 16, 5, 2), rand(24), rand(24)
    y = ops.complex_conv2d(x, wr, wi, br, bi, stride=(2, 1), padding=(2, 0), causal=True)
    assert y.shape == (2, 48, 16, 40)
    assert rel_err(y, truth_conv(x, wr, wi, br, bi, [2, 1], [1, 1], [2, 2, 1, 0])) < TOL
    # causality: changing future frames leaves earlier outputs unchanged
    x2 = x.clone()
    x2[..., 30:] += 1.0
    y2 = ops.complex_conv2d(x2, wr, wi, br, bi, stride=(2, 1), padding=(2, 0), causal=True)
    assert torch.equal(y[..., :30], y2[..., :30]) and not torch.equal(y[..., 30:], y2[..., 30:])
    vr, vi = rand(24, 8, 5, 2), rand(24, 8, 5, 2)
    z = ops.complex_conv_transpose2d(y, vr, vi, stride=(2, 1), padding=(2, 0),
                                     output_padding=(1, 0), causal=True)
    assert z.shape == (2, 16, 32, 40)
    assert rel_err(z, truth_convt(y, vr, vi, None, None, [2, 1], [1, 1], [2, 2, 0, 1],
                                  [1, 0])) < TOL
    z2 = ops.complex_conv_transpose2d(y2, vr, vi, stride=(2, 1), padding=(2, 0),
                                      output_padding=(1, 0), causal=True)
    assert torch.equal(z[..., :30], z2[..., :30])


def test_float64_is_exact_reference():
    x, wr, wi = rand(2, 6, 9, 8, dtype=torch.float64), rand(4, 3, 3, 2, dtype=torch.float64), \
        rand(4, 3, 3, 2, dtype=torch.float64)
    got = ops.complex_conv2d(x, wr, wi, stride=(2, 1), padding=1)
    assert got.dtype == torch.float64
    assert rel_err(got, truth_conv(x, wr, wi, None, None, [2, 1], [1, 1], [1] * 4)) < 1e-13
    wt, wti = rand(3, 4, 3, 2, dtype=torch.float64), rand(3, 4, 3, 2, dtype=torch.float64)
    got = ops.complex_conv_transpose2d(x, wt, wti, stride=2, padding=1, output_padding=1)
    ref = truth_convt(x, wt, wti, None, None, [2, 2], [1, 1], [1] * 4, [1, 1])
    assert rel_err(got, ref) < 1e-13


def test_complex_tensor_input():
    xc = torch.complex(rand(2, 3, 10, 9), rand(2, 3, 10, 9))
    wr, wi, br, bi = rand(4, 3, 3, 2), rand(4, 3, 3, 2), rand(4), rand(4)
    y = ops.complex_conv2d(xc, wr, wi, br, bi, padding=1)
    assert y.dtype == torch.complex64 and y.shape == (2, 4, 10, 10)
    # against complex arithmetic directly
    w = torch.complex(wr, wi).to(torch.complex128)
    ref = F.conv2d(F.pad(xc.to(torch.complex128), (1, 1, 1, 1)), w) + \
        torch.complex(br, bi).to(torch.complex128).view(1, -1, 1, 1)
    assert rel_err(y, ref) < TOL
    yt = ops.complex_conv_transpose2d(y, rand(4, 2, 3, 2), rand(4, 2, 3, 2), stride=2)
    assert yt.dtype == torch.complex64 and yt.shape == (2, 2, 21, 20)


def test_batch_consistency_and_threads():
    x, wr, wi = rand(5, 16, 33, 41), rand(12, 8, 5, 2), rand(12, 8, 5, 2)
    full = ops.complex_conv2d(x, wr, wi, stride=(2, 1), padding=(2, 0), causal=True)
    for i in range(5):
        one = ops.complex_conv2d(x[i:i + 1], wr, wi, stride=(2, 1), padding=(2, 0), causal=True)
        assert torch.equal(one, full[i:i + 1])
    plan = _C.ComplexConv2dPlan(wr.numpy(), wi.numpy(), stride=(2, 1), padding=(2, 2, 1, 0))
    assert np.array_equal(plan.forward(x.numpy(), n_threads=2), full.numpy())
    assert np.array_equal(plan.forward(x.numpy(), n_threads=1), full.numpy())


def test_plan_streaming_frames_equal_offline():
    """One output frame per call (T = 2, no time padding) == the causal offline output."""
    x, wr, wi = rand(1, 16, 32, 12), rand(8, 8, 5, 2), rand(8, 8, 5, 2)
    br, bi = rand(8), rand(8)
    off = ops.complex_conv2d(x, wr, wi, br, bi, stride=(2, 1), padding=(2, 0), causal=True)
    plan = _C.ComplexConv2dPlan(wr.numpy(), wi.numpy(), br.numpy(), bi.numpy(), stride=(2, 1),
                                padding=(2, 2, 0, 0))
    assert plan.out_size(32, 2) == [16, 1]
    xp = F.pad(x, (1, 0)).numpy()
    frames = [plan.forward(np.ascontiguousarray(xp[..., t:t + 2])) for t in range(12)]
    got = np.concatenate(frames, axis=-1)
    assert np.allclose(got, off.numpy(), rtol=1e-5, atol=1e-5)
    # the transposed plan likewise
    wt, wti = rand(8, 4, 5, 2), rand(8, 4, 5, 2)
    z = ops.complex_conv_transpose2d(off, wt, wti, stride=(2, 1), padding=(2, 0),
                                     output_padding=(1, 0), causal=True)
    tplan = _C.ComplexConvTranspose2dPlan(wt.numpy(), wti.numpy(), stride=(2, 1),
                                          padding=(2, 2, 1, 1), output_padding=(1, 0))
    op_ = F.pad(off, (1, 0)).numpy()
    got = np.concatenate([tplan.forward(np.ascontiguousarray(op_[..., t:t + 2]))
                          for t in range(12)], axis=-1)
    assert np.allclose(got, z.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("simd", [True, False])
def test_portable_path(simd):
    _C.set_simd_enabled(simd)
    try:
        x, wr, wi = rand(2, 10, 19, 13), rand(7, 5, 3, 2), rand(7, 5, 3, 2)
        y = ops.complex_conv2d(x, wr, wi, stride=(2, 1), padding=(1, 1, 1, 0))
        assert rel_err(y, truth_conv(x, wr, wi, None, None, [2, 1], [1, 1], [1, 1, 1, 0])) < TOL
        wt = rand(5, 3, 3, 2)
        z = ops.complex_conv_transpose2d(x, wt, wt, stride=2, padding=1, output_padding=1)
        assert rel_err(z, truth_convt(x, wt, wt, None, None, [2, 2], [1, 1], [1] * 4,
                                      [1, 1])) < TOL
    finally:
        _C.set_simd_enabled(True)


# kernel paths: columns along T or along F (few columns: lanes over output channels when
# Cout >= 8), partial strips, strides / dilations in both axes, taps outside the input
@pytest.mark.parametrize("simd", [True, False])
@pytest.mark.parametrize("case", [
    # B, Cin, Cout, F, T, kernel, stride, dilation, pad4 / crop4, output_padding
    (1, 3, 9, 16, 2, (5, 2), (2, 1), (1, 1), (2, 2, 0, 0), (1, 0)),
    (2, 4, 33, 12, 3, (3, 2), (2, 1), (1, 1), (1, 1, 1, 0), (1, 0)),
    (1, 2, 8, 7, 1, (3, 1), (1, 1), (1, 1), (1, 1, 0, 0), (0, 0)),
    (1, 5, 13, 9, 41, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), (1, 0)),
    (2, 3, 6, 11, 30, (2, 3), (1, 2), (2, 1), (0, 1, 2, 1), (0, 1)),
    (1, 2, 12, 5, 27, (3, 3), (3, 3), (1, 2), (3, 0, 1, 2), (2, 2)),
    (1, 7, 1, 40, 2, (5, 2), (2, 1), (1, 1), (2, 2, 1, 1), (1, 0)),
])
def test_kernel_paths(simd, case):
    b, cin, cout, f, t, k, s, d, p, op = case
    _C.set_simd_enabled(simd)
    try:
        x, br, bi = rand(b, 2 * cin, f, t), rand(cout), rand(cout)
        wr, wi = rand(cout, cin, *k), rand(cout, cin, *k)
        y = ops.complex_conv2d(x, wr, wi, br, bi, stride=s, dilation=d, padding=p)
        assert rel_err(y, truth_conv(x, wr, wi, br, bi, s, d, p)) < TOL
        vr, vi = rand(cin, cout, *k), rand(cin, cout, *k)
        z = ops.complex_conv_transpose2d(x, vr, vi, br, bi, stride=s, dilation=d, padding=p,
                                         output_padding=op)
        assert rel_err(z, truth_convt(x, vr, vi, br, bi, s, d, p, op)) < TOL
    finally:
        _C.set_simd_enabled(True)


def test_plan_columns_bit_identical_across_chunkings():
    """The streaming engine relies on it: an output column does not depend on how many columns
    are computed in the same call (the kernel path and orientation may differ)."""
    for cin, cout, f in ((4, 32, 16), (8, 16, 8), (3, 9, 64), (16, 1, 32)):
        x = noise(1, 2 * cin, f, 33, seed=cin + cout)
        wr, wi, br, bi = (noise(cout, cin, 5, 2, seed=1), noise(cout, cin, 5, 2, seed=2),
                          noise(cout, seed=3), noise(cout, seed=4))
        plan = _C.ComplexConv2dPlan(wr, wi, br, bi, stride=(2, 1), padding=(2, 2, 0, 0))
        full = plan.forward(x)
        for t0 in (0, 7, 31):
            part = plan.forward(np.ascontiguousarray(x[..., t0:t0 + 2]))
            np.testing.assert_array_equal(part[..., 0], full[..., t0])
        tr, ti = noise(cin, cout, 5, 2, seed=5), noise(cin, cout, 5, 2, seed=6)
        tplan = _C.ComplexConvTranspose2dPlan(tr, ti, br, bi, stride=(2, 1),
                                              padding=(2, 2, 1, 1), output_padding=(1, 0))
        full = tplan.forward(x)
        for t0 in (0, 7, 31):
            part = tplan.forward(np.ascontiguousarray(x[..., t0:t0 + 2]))
            np.testing.assert_array_equal(part[..., 0], full[..., t0])


def test_plan_cache_follows_in_place_weight_updates():
    x, wr, wi = rand(1, 4, 9, 5), rand(3, 2, 3, 2), rand(3, 2, 3, 2)
    kw = {"stride": (2, 1), "padding": (1, 0), "causal": True}
    y1 = ops.complex_conv2d(x, wr, wi, **kw)
    with torch.no_grad():
        wr.mul_(-2.0)
    y2 = ops.complex_conv2d(x, wr, wi, **kw)
    assert rel_err(y2, truth_conv(x, wr, wi, None, None, [2, 1], [1, 1], [1, 1, 1, 0])) < TOL
    assert not torch.allclose(y1, y2)


# ---- sgemm ------------------------------------------------------------------------------------
@pytest.mark.parametrize("simd", [True, False])
@pytest.mark.parametrize("mnk", [(1, 1, 1), (5, 7, 3), (16, 1, 2600), (64, 128, 640),
                                 (512, 3, 100), (37, 29, 300), (100, 20, 513), (8, 200, 10),
                                 (130, 4, 77), (3, 300, 5)])
def test_sgemm_matches_numpy(simd, mnk):
    m, n, k = mnk
    _C.set_simd_enabled(simd)
    try:
        a, b = noise(m, k, seed=1), noise(k, n, seed=2)
        ref = a.astype(np.float64) @ b
        c = _C.sgemm(a, b)
        assert rel_err(c, ref) < 1e-6 * max(1.0, np.sqrt(k) / 8)
        c0 = noise(m, n, seed=3)
        c2 = _C.sgemm(a, b, c0.copy(), accumulate=True)
        assert rel_err(c2, ref + c0) < 1e-6 * max(1.0, np.sqrt(k) / 8)
    finally:
        _C.set_simd_enabled(True)


def test_sgemm_leading_dimensions():
    big_a, big_b, big_c = noise(20, 50, seed=4), noise(30, 70, seed=5), np.zeros((20, 90),
                                                                               np.float32)
    a, b, c = big_a[:, 3:33], big_b[:, 5:45], big_c[:, 7:47]
    out = _C.sgemm(a, b, c)
    assert rel_err(big_c[:, 7:47], a.astype(np.float64) @ b) < 1e-6
    assert np.all(big_c[:, :7] == 0) and np.all(big_c[:, 47:] == 0) and out.shape == (20, 40)


# ---- autograd, opcheck, fake ------------------------------------------------------------------
def test_gradcheck_conv():
    x = torch.randn(2, 4, 6, 5, dtype=torch.float64, requires_grad=True)
    wr = torch.randn(3, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    wi = torch.randn(3, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    br = torch.randn(3, dtype=torch.float64, requires_grad=True)
    bi = torch.randn(3, dtype=torch.float64, requires_grad=True)
    for kw in ({"stride": (2, 1), "padding": (1, 0), "causal": True},
               {"stride": (1, 2), "dilation": (2, 1), "padding": (0, 2, 1, 0)}):
        assert torch.autograd.gradcheck(
            lambda *a: ops.complex_conv2d(*a, **kw), (x, wr, wi, br, bi), fast_mode=True)


def test_gradcheck_conv_transpose():
    x = torch.randn(2, 4, 5, 4, dtype=torch.float64, requires_grad=True)
    wr = torch.randn(2, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    wi = torch.randn(2, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    br = torch.randn(3, dtype=torch.float64, requires_grad=True)
    for kw in ({"stride": (2, 1), "padding": (1, 0), "output_padding": (1, 0), "causal": True},
               {"stride": 2, "dilation": (1, 2), "padding": (0, 1, 1, 0),
                "output_padding": (0, 1)},
               {"stride": (1, 1), "dilation": (3, 1), "output_padding": (2, 0)}):
        assert torch.autograd.gradcheck(
            lambda *a: ops.complex_conv_transpose2d(*a, **kw), (x, wr, wi, br), fast_mode=True)


def test_float32_grad_matches_reference():
    x = torch.randn(2, 8, 12, 10, requires_grad=True)
    wr = torch.randn(5, 4, 5, 2, requires_grad=True)
    wi = torch.randn(5, 4, 5, 2, requires_grad=True)
    y = ops.complex_conv2d(x, wr, wi, stride=(2, 1), padding=(2, 0), causal=True)
    g = torch.randn_like(y)
    got = torch.autograd.grad(y, (x, wr, wi), g)
    x64, wr64, wi64 = (t.detach().double().requires_grad_() for t in (x, wr, wi))
    ref = truth_conv(x64, wr64, wi64, None, None, [2, 1], [1, 1], [2, 2, 1, 0])
    want = torch.autograd.grad(ref, (x64, wr64, wi64), g.double())
    for a, b in zip(got, want):
        assert rel_err(a, b) < 1e-5


def test_opcheck():
    args = (torch.randn(2, 4, 7, 5), torch.randn(3, 2, 3, 2), torch.randn(3, 2, 3, 2),
            torch.randn(3), None, [2, 1], [1, 1], [1, 1, 1, 0])
    torch.library.opcheck(torch.ops.hushboard.complex_conv2d.default, args)
    targs = (torch.randn(2, 4, 5, 4), torch.randn(2, 3, 3, 2), torch.randn(2, 3, 3, 2), None,
             torch.randn(3), [2, 1], [1, 1], [1, 1, 0, 1], [1, 0])
    torch.library.opcheck(torch.ops.hushboard.complex_conv_transpose2d.default, targs)


def test_fake_and_meta_shapes():
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        x, w = torch.empty(3, 8, 64, 161), torch.empty(6, 4, 5, 2)
        y = ops.complex_conv2d(x, w, w, stride=(2, 1), padding=(2, 0), causal=True)
        assert y.shape == (3, 12, 32, 161)
        wt = torch.empty(6, 2, 5, 2)
        z = ops.complex_conv_transpose2d(y, wt, wt, stride=(2, 1), padding=(2, 0),
                                         output_padding=(1, 0), causal=True)
        assert z.shape == (3, 4, 64, 161)
    xm, wm = torch.empty(1, 2, 9, 9, device="meta"), torch.empty(1, 1, 3, 3, device="meta")
    assert ops.complex_conv2d(xm, wm, wm, stride=2).shape == (1, 2, 4, 4)


# ---- bad input --------------------------------------------------------------------------------
def test_bad_inputs_name_the_argument():
    x, w = rand(1, 4, 8, 8), rand(3, 2, 3, 3)
    with pytest.raises(ValueError, match="x"):
        ops.complex_conv2d(rand(4, 8, 8), w, w)
    with pytest.raises(ValueError, match="even channel"):
        ops.complex_conv2d(rand(1, 5, 8, 8), w, w)
    with pytest.raises(ValueError, match="input channels"):
        ops.complex_conv2d(rand(1, 6, 8, 8), w, w)
    with pytest.raises(TypeError, match="x"):
        ops.complex_conv2d(x.half(), w, w)
    with pytest.raises(TypeError, match="weight_imag"):
        ops.complex_conv2d(x, w, w.double())
    with pytest.raises(ValueError, match="weight_imag"):
        ops.complex_conv2d(x, w, rand(3, 2, 3, 2))
    with pytest.raises(ValueError, match="bias_real"):
        ops.complex_conv2d(x, w, w, rand(4))
    with pytest.raises(ValueError, match="stride"):
        ops.complex_conv2d(x, w, w, stride=0)
    with pytest.raises(ValueError, match="dilation"):
        ops.complex_conv2d(x, w, w, dilation=(1, -1))
    with pytest.raises(ValueError, match="padding"):
        ops.complex_conv2d(x, w, w, padding=-1)
    with pytest.raises(ValueError, match="padding"):
        ops.complex_conv2d(x, w, w, padding=(1, 1), causal=True)
    with pytest.raises(TypeError, match="padding"):
        ops.complex_conv2d(x, w, w, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="output size"):
        ops.complex_conv2d(rand(1, 4, 2, 8), w, w)
    with pytest.raises(ValueError, match="output_padding"):
        ops.complex_conv_transpose2d(x, rand(2, 3, 3, 3), rand(2, 3, 3, 3), stride=2,
                                     output_padding=2)
    with pytest.raises(ValueError, match="output size"):
        ops.complex_conv_transpose2d(rand(1, 4, 1, 8), rand(2, 3, 1, 1), rand(2, 3, 1, 1),
                                     padding=(1, 0))
    # the native layer checks too (ValueError naming the parameter)
    with pytest.raises(ValueError, match="stride"):
        _C.ComplexConv2dPlan(w.numpy(), w.numpy(), stride=(0, 1))
    with pytest.raises(ValueError, match="padding"):
        _C.ComplexConv2dPlan(w.numpy(), w.numpy(), padding=(0, -1, 0, 0))
    plan = _C.ComplexConv2dPlan(w.numpy(), w.numpy())
    with pytest.raises(ValueError, match="x"):
        plan.forward(rand(1, 6, 8, 8).numpy())
    with pytest.raises(ValueError, match="output size"):
        plan.forward(rand(1, 4, 2, 8).numpy())
    with pytest.raises(TypeError):
        plan.forward(rand(1, 4, 8, 8).double().numpy())
    with pytest.raises(ValueError, match="b must have shape"):
        _C.sgemm(noise(3, 4), noise(5, 2))
