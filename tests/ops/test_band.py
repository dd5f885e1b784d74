"""Band split / band mask (BSRNN): native float32 kernels against the float64 torch reference,
both SIMD paths, the vector tanh / sigmoid, plan (streaming) calls and threads bit for bit,
the C++ double reference, autograd, opcheck, fake tensors, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import rel_err
from hushboard import ops
from hushboard.ops import _band
from hushboard.ops._native import _C

# float32 against the float64 truth, max |err| / max |truth|; measured worst over the cases
# below and six seeds, either SIMD path: split 8.0e-7 (the LayerNorm of 2-wide bands amplifies
# input rounding; torch's float32 reference does the same), mask 5.1e-7; the vector tanh 3.2e-7
# and sigmoid 1.5e-7 elementwise relative. "grad": the float32 VJP (see its test).
TOL = {"split": 2e-6, "mask": 1.5e-6, "tanh": 5e-7, "sigmoid": 3e-7, "grad": 1e-5}

BSRNN_16K = [2] + [3] * 10 + [8] * 12 + [16] * 7 + [17]  # K = 31, D = 257


def rand(*shape, scale=1.0, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype) * scale


def f64(*ts):
    return [t.double() if isinstance(t, torch.Tensor) else t for t in ts]


def split_params(dims, n, dtype=torch.float32):
    d = sum(dims)
    return (rand(d, dtype=dtype), rand(d, dtype=dtype), rand(n, d, scale=0.3, dtype=dtype),
            rand(len(dims), n, dtype=dtype))


def mask_params(dims, n, hidden, glu, dtype=torch.float32):
    k, m = len(dims), 2 if glu else 1
    return (rand(k, n, dtype=dtype), rand(k, n, dtype=dtype),
            rand(k, hidden, n, scale=n ** -0.5, dtype=dtype), rand(k, hidden, dtype=dtype),
            rand(m * sum(dims), hidden, scale=hidden ** -0.5, dtype=dtype),
            rand(m * sum(dims), dtype=dtype))


def split_truth(x, dims, *p):
    return ops.band_split_reference(*f64(x, dims, *p))


def mask_truth(x, dims, *p, glu):
    return ops.band_mask_reference(*f64(x, dims, *p), glu=glu)


# band widths (1: LayerNorm of one value is beta; > 24: several k blocks), feature widths
# across the 8 / 24 column blocks, row counts across the 4-row blocks and 32-row chunks
SPLIT_CASES = [
    # dims, N, leading shape
    (BSRNN_16K, 64, (5,)),
    (BSRNN_16K, 32, (37,)),
    ([2, 3, 3, 8, 16, 17], 13, (2, 3)),
    ([1, 5, 30, 7], 24, (33,)),
    ([4], 40, (1,)),
    ([9, 1, 2], 8, (3, 1, 2)),
    ([6, 11, 27, 2], 20, (70,)),
]


@pytest.mark.parametrize("case", SPLIT_CASES)
def test_split_matches_reference(case):
    dims, n, lead = case
    x = rand(*lead, sum(dims), scale=2.0) + 0.5
    p = split_params(dims, n)
    y = ops.band_split(x, dims, *p)
    assert y.dtype == torch.float32 and y.shape == (*lead, len(dims), n)
    assert rel_err(y, split_truth(x, dims, *p)) < TOL["split"]


MASK_CASES = [
    # dims, N, Hm, glu, leading shape
    (BSRNN_16K, 64, 256, True, (3,)),
    (BSRNN_16K, 32, 64, False, (37,)),
    ([2, 3, 17, 20, 1], 13, 37, True, (2, 5)),
    ([2, 3, 17, 20, 1], 13, 37, False, (5,)),
    ([8, 12], 24, 50, True, (33,)),
    ([5], 7, 9, True, (1,)),
    ([30, 4, 9], 40, 24, False, (4, 1)),
]


@pytest.mark.parametrize("case", MASK_CASES)
def test_mask_matches_reference(case):
    dims, n, hidden, glu, lead = case
    x = rand(*lead, len(dims), n, scale=1.5) - 0.3
    p = mask_params(dims, n, hidden, glu)
    y = ops.band_mask(x, dims, *p, glu=glu)
    assert y.dtype == torch.float32 and y.shape == (*lead, sum(dims))
    assert rel_err(y, mask_truth(x, dims, *p, glu=glu)) < TOL["mask"]


def _grads_of(fn, leaves, gy_seed=0):
    y = fn(*leaves)
    gy = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(gy_seed))
    return y, torch.autograd.grad(y, leaves, gy)


@pytest.mark.parametrize("case", SPLIT_CASES)
def test_grouped_split_equals_the_per_band_reference(case):
    """The training form (runs of equal-width bands batched) computes the reference's values
    and gradients: float64 to rounding, float32 within the kernels' bar of the float64 truth."""
    dims, n, lead = case
    x = rand(*lead, sum(dims), scale=2.0, dtype=torch.float64) + 0.5
    leaves = [t.requires_grad_() for t in (x, *split_params(dims, n, torch.float64))]
    ya, ga = _grads_of(lambda x, *p: ops.band_split_reference(x, dims, *p), leaves)
    yb, gb = _grads_of(lambda x, *p: ops.band_split_grouped(x, dims, *p), leaves)
    assert yb.shape == ya.shape and rel_err(yb, ya) < 1e-13
    for a, b in zip(ga, gb):
        assert rel_err(b, a) < 1e-12
    y32 = ops.band_split_grouped(*(t.detach().float() for t in leaves[:1]), dims,
                                 *(t.detach().float() for t in leaves[1:]))
    assert y32.dtype == torch.float32 and rel_err(y32, ya) < TOL["split"]


@pytest.mark.parametrize("case", MASK_CASES)
def test_grouped_mask_equals_the_per_band_reference(case):
    dims, n, hidden, glu, lead = case
    x = rand(*lead, len(dims), n, scale=1.5, dtype=torch.float64) - 0.3
    leaves = [t.requires_grad_() for t in (x, *mask_params(dims, n, hidden, glu, torch.float64))]
    ya, ga = _grads_of(lambda x, *q: ops.band_mask_reference(x, dims, *q, glu=glu), leaves)
    yb, gb = _grads_of(lambda x, *q: ops.band_mask_grouped(x, dims, *q, glu=glu), leaves)
    assert yb.shape == ya.shape and rel_err(yb, ya) < 1e-13
    for a, b in zip(ga, gb):
        assert rel_err(b, a) < 1e-12
    y32 = ops.band_mask_grouped(leaves[0].detach().float(), dims,
                                *(t.detach().float() for t in leaves[1:]), glu=glu)
    assert y32.dtype == torch.float32 and rel_err(y32, ya) < TOL["mask"]


def test_grouped_runs():
    assert _band._runs((2, 3, 3, 3, 8, 8, 3)) == ((1, 2), (3, 3), (2, 8), (1, 3))
    assert _band._runs((5,)) == ((1, 5),)


@pytest.mark.parametrize("simd", [True, False])
def test_simd_paths(simd):
    _C.set_simd_enabled(simd)
    try:
        dims = [2, 3, 17, 20, 1, 8]
        x = rand(11, sum(dims))
        p = split_params(dims, 21)
        y = ops.band_split(x, dims, *p)
        assert rel_err(y, split_truth(x, dims, *p)) < TOL["split"]
        for glu in (True, False):
            q = mask_params(dims, 21, 45, glu)
            z = ops.band_mask(y, dims, *q, glu=glu)
            assert rel_err(z, mask_truth(y, dims, *q, glu=glu)) < TOL["mask"]
        t = torch.linspace(-12, 12, 4001)
        assert rel_err(torch.from_numpy(_C.band_tanh(t.numpy())), torch.tanh(t.double())) < \
            TOL["tanh"]
    finally:
        _C.set_simd_enabled(True)


@pytest.mark.parametrize("simd", [True, False])
def test_vector_tanh_sigmoid_accuracy(simd):
    """Elementwise relative error over a dense grid, tiny values and the special values."""
    _C.set_simd_enabled(simd)
    try:
        x = np.concatenate([np.linspace(-30, 30, 600_001), np.geomspace(1e-30, 1.0, 2001),
                            -np.geomspace(1e-30, 1.0, 2001)]).astype(np.float32)
        x64 = x.astype(np.float64)
        t = _C.band_tanh(x).astype(np.float64)
        want = np.tanh(x64)
        assert np.max(np.abs(t - want) / np.abs(want).clip(1e-300)) < TOL["tanh"]
        xs = x[x > -80]  # beyond -87 the logistic underflows to subnormals (clamped)
        s = _C.band_sigmoid(xs).astype(np.float64)
        want = 1.0 / (1.0 + np.exp(-xs.astype(np.float64)))
        assert np.max(np.abs(s - want) / want) < TOL["sigmoid"]
        sp = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)
        ts, ss = _C.band_tanh(sp), _C.band_sigmoid(sp)
        assert ts[0] == 0 and ts[1] == 0 and abs(ts[2] - 1) < 3e-7 and abs(ts[3] + 1) < 3e-7
        assert np.isnan(ts[4]) and np.isnan(ss[4])
        assert ss[0] == 0.5 and ss[2] == 1.0 and 0 <= ss[3] < 1e-37
    finally:
        _C.set_simd_enabled(True)


def test_rows_independent_and_threads_bit_identical():
    """A row's result does not depend on S, on its neighbours, or on the thread count (the
    streaming engine and the threaded op path rely on it)."""
    dims, n, hidden = BSRNN_16K, 80, 100  # 80, 104 columns: blocks of 3, 2 and 1 strips
    x = rand(71, sum(dims))
    g, b, w, c = (t.numpy() for t in split_params(dims, n))
    sp = _C.BandSplitPlan(dims, g, b, w, c, 1e-5)
    full = sp.forward(x.numpy())
    assert full.shape == (71, len(dims), n)
    np.testing.assert_array_equal(sp.forward(x.numpy(), n_threads=2), full)
    for r0, r1 in ((0, 1), (5, 6), (30, 35), (64, 71), (3, 40)):
        np.testing.assert_array_equal(sp.forward(x[r0:r1].numpy()), full[r0:r1])
    q = [t.numpy() for t in mask_params(dims, n, hidden, True)]
    mp = _C.BandMaskPlan(dims, *q, glu=True, eps=1e-5)
    yfull = mp.forward(full)
    np.testing.assert_array_equal(mp.forward(full, n_threads=2), yfull)
    for r0, r1 in ((0, 1), (31, 33), (70, 71), (2, 39)):
        np.testing.assert_array_equal(mp.forward(np.ascontiguousarray(full[r0:r1])),
                                      yfull[r0:r1])
    # the op's threaded path (large inputs) equals the single-threaded plan
    big = rand(700, sum(dims))
    tp = [torch.from_numpy(a) for a in (g, b, w, c)]
    got = ops.band_split(big, dims, *tp)
    np.testing.assert_array_equal(got.numpy(), sp.forward(big.numpy()))
    tq = [torch.from_numpy(a) for a in q]
    np.testing.assert_array_equal(ops.band_mask(got, dims, *tq).numpy(), mp.forward(got.numpy()))


def test_plan_properties_and_batch_shapes():
    dims = [3, 5, 2]
    g, b, w, c = (t.numpy() for t in split_params(dims, 6))
    sp = _C.BandSplitPlan(dims, g, b, w, c)
    assert (sp.num_bands, sp.in_features, sp.out_features) == (3, 10, 6)
    assert sp.workspace_floats(1) == sp.workspace_floats(4000) > 0
    assert sp.forward(np.zeros((2, 0, 10), np.float32)).shape == (2, 0, 3, 6)
    y = sp.forward(rand(2, 3, 10).numpy())
    assert y.shape == (2, 3, 3, 6)
    q = [t.numpy() for t in mask_params(dims, 6, 11, False)]
    mp = _C.BandMaskPlan(dims, *q, glu=False)
    assert (mp.num_bands, mp.in_features, mp.hidden, mp.glu, mp.out_features) == \
        (3, 6, 11, False, 10)
    assert mp.forward(y).shape == (2, 3, 10)
    # the op: empty batches, non-contiguous input, a single frame
    tp = [torch.from_numpy(a) for a in (g, b, w, c)]
    assert ops.band_split(torch.zeros(0, 10), dims, *tp).shape == (0, 3, 6)
    xt = rand(10, 7).t()  # (7, 10), not contiguous
    assert rel_err(ops.band_split(xt, dims, *tp), split_truth(xt, dims, *tp)) < TOL["split"]
    tq = [torch.from_numpy(a) for a in q]
    assert ops.band_mask(torch.zeros(4, 0, 3, 6), dims, *tq, glu=False).shape == (4, 0, 10)
    xm = rand(6, 3, 2).permute(2, 1, 0)  # (2, 3, 6) strided
    assert rel_err(ops.band_mask(xm, dims, *tq, glu=False),
                   mask_truth(xm, dims, *tq, glu=False)) < TOL["mask"]


def test_cpp_double_reference_matches_torch():
    dims = [2, 3, 17, 1, 8]
    x = rand(4, sum(dims), dtype=torch.float64)
    p = split_params(dims, 9, torch.float64)
    y = _C.band_split_reference(dims, *(t.numpy() for t in p), 1e-5, x.numpy())
    assert rel_err(y, ops.band_split_reference(x, dims, *p)) < 1e-13
    for glu in (True, False):
        q = mask_params(dims, 9, 13, glu, torch.float64)
        z = _C.band_mask_reference(dims, *(t.numpy() for t in q), glu, 1e-5, y)
        want = ops.band_mask_reference(torch.from_numpy(y), dims, *q, glu=glu)
        assert rel_err(z, want) < 1e-13


def test_float64_runs_the_reference():
    dims = [2, 3, 4]
    x = rand(3, 9, dtype=torch.float64)
    p = split_params(dims, 5, torch.float64)
    assert torch.equal(ops.band_split(x, dims, *p), ops.band_split_reference(x, dims, *p))
    q = mask_params(dims, 5, 6, True, torch.float64)
    y = ops.band_split_reference(x, dims, *p)
    assert torch.equal(ops.band_mask(y, dims, *q), ops.band_mask_reference(y, dims, *q))


def test_plan_cache_follows_in_place_weight_updates():
    dims = [3, 4]
    x = rand(2, 7)
    g, b, w, c = split_params(dims, 5)
    y1 = ops.band_split(x, dims, g, b, w, c)
    with torch.no_grad():
        w.mul_(-2.0)
    y2 = ops.band_split(x, dims, g, b, w, c)
    assert rel_err(y2, split_truth(x, dims, g, b, w, c)) < TOL["split"]
    assert not torch.allclose(y1, y2)
    q = list(mask_params(dims, 5, 6, True))
    z1 = ops.band_mask(y2, dims, *q)
    with torch.no_grad():
        q[4].add_(1.0)
    z2 = ops.band_mask(y2, dims, *q)
    assert rel_err(z2, mask_truth(y2, dims, *q, glu=True)) < TOL["mask"]
    assert not torch.allclose(z1, z2)
    # weights made under inference mode (no version counter) still give the right answer
    with torch.inference_mode():
        wi = w.clone()
        y3 = ops.band_split(x, dims, g, b, wi, c)
        wi.mul_(0.5)
        y4 = ops.band_split(x, dims, g, b, wi, c)
    assert torch.equal(y3, y2) and rel_err(y4, split_truth(x, dims, g, b, wi, c)) < TOL["split"]


def test_eager_calls_skip_the_dispatch_and_match_the_op(monkeypatch):
    """Eager CPU float32 calls without autograd go to the kernel directly; the result is the
    op's, bit for bit. Calls that need autograd go through the op."""
    dims = [2, 3, 17, 8]
    x = rand(5, 30)
    p = [torch.nn.Parameter(t) for t in split_params(dims, 16)]
    q = [torch.nn.Parameter(t) for t in mask_params(dims, 16, 20, True)]
    with torch.no_grad():
        y_op = torch.ops.hushboard.band_split(x, dims, *p, 1e-5)
        z_op = torch.ops.hushboard.band_mask(y_op, dims, *q, True, 1e-5)

    def boom(*a, **k):
        raise AssertionError("dispatched")

    with monkeypatch.context() as mp:
        mp.setattr(_band, "_split_op", boom)
        mp.setattr(_band, "_mask_op", boom)
        with torch.no_grad():
            y = ops.band_split(x, dims, *p)
            z = ops.band_mask(y, dims, *q)
        assert torch.equal(y, y_op) and torch.equal(z, z_op)
        with pytest.raises(AssertionError, match="dispatched"):
            ops.band_split(x, dims, *p)  # parameters need gradients: autograd, via the op
        with (torch.no_grad(), torch.autograd.forward_ad.dual_level(),
              pytest.raises(AssertionError, match="dispatched")):
            ops.band_split(x, dims, *p)  # forward AD: via the op
    y = ops.band_split(x, dims, *p)
    assert y.requires_grad and torch.equal(y.detach(), y_op)


# ---- autograd, opcheck, fake ------------------------------------------------------------------
def test_gradcheck_split():
    dims = [2, 3, 1]
    x = rand(2, 6, dtype=torch.float64).requires_grad_()
    p = [t.requires_grad_() for t in split_params(dims, 3, torch.float64)]
    assert torch.autograd.gradcheck(lambda *a: ops.band_split(a[0], dims, *a[1:]), (x, *p))


@pytest.mark.parametrize("glu", [True, False])
def test_gradcheck_mask(glu):
    dims = [2, 1, 3]
    x = rand(2, 3, 4, dtype=torch.float64).requires_grad_()
    q = [t.requires_grad_() for t in mask_params(dims, 4, 5, glu, torch.float64)]
    assert torch.autograd.gradcheck(lambda *a: ops.band_mask(a[0], dims, *a[1:], glu=glu),
                                    (x, *q))


def test_float32_grads_match_reference():
    dims = [4, 5, 6]
    x = rand(4, 15).requires_grad_()
    p = [t.requires_grad_() for t in split_params(dims, 6)]
    q = [t.requires_grad_() for t in mask_params(dims, 6, 7, True)]
    y = ops.band_split(x, dims, *p)
    z = ops.band_mask(y, dims, *q)
    gz = torch.randn_like(z)
    got = torch.autograd.grad(z, (x, *p, *q), gz)

    def ref_grads(dtype):
        leaves = [t.detach().to(dtype).requires_grad_() for t in (x, *p, *q)]
        yr = ops.band_split_reference(leaves[0], dims, *leaves[1:5])
        zr = ops.band_mask_reference(yr, dims, *leaves[5:])
        return torch.autograd.grad(zr, leaves, gz.to(dtype))

    # the backward is the float32 reference's VJP: hold the op to twice the error of torch's
    # float32 autograd through the reference (the LayerNorm input gradient is ill-conditioned
    # for narrow bands)
    want, base = ref_grads(torch.float64), ref_grads(torch.float32)
    for a, r, b in zip(got, want, base):
        assert rel_err(a, r) < 2 * rel_err(b, r) + TOL["grad"]
    # only x needs a gradient
    xg = rand(3, 15).requires_grad_()
    (gx,) = torch.autograd.grad(ops.band_split(xg, dims, *(t.detach() for t in p)).sum(), xg)
    (gw,) = torch.autograd.grad(
        ops.band_split_reference(xg.double(), dims, *f64(*(t.detach() for t in p))).sum(), xg)
    assert rel_err(gx, gw) < TOL["grad"]


def test_opcheck():
    dims = [2, 3, 1]
    args = (rand(2, 6), dims, *split_params(dims, 5), 1e-5)
    torch.library.opcheck(torch.ops.hushboard.band_split.default, args)
    for glu in (True, False):
        margs = (rand(2, 3, 5), dims, *mask_params(dims, 5, 4, glu), glu, 1e-5)
        torch.library.opcheck(torch.ops.hushboard.band_mask.default, margs)


def test_fake_and_meta_shapes():
    from torch._subclasses.fake_tensor import FakeTensorMode

    dims = BSRNN_16K
    with FakeTensorMode():
        x = torch.empty(2, 100, 257)
        y = ops.band_split(x, dims, *split_params(dims, 64))
        assert y.shape == (2, 100, 31, 64)
        z = ops.band_mask(y, dims, *mask_params(dims, 64, 128, True))
        assert z.shape == (2, 100, 257)
    m = lambda *s: torch.empty(*s, device="meta")
    assert ops.band_split(m(3, 10), [4, 6], m(10), m(10), m(8, 10), m(2, 8)).shape == (3, 2, 8)
    assert ops.band_mask(m(3, 2, 8), [4, 6], m(2, 8), m(2, 8), m(2, 5, 8), m(2, 5), m(10, 5),
                         m(10), glu=False).shape == (3, 10)


# ---- bad input --------------------------------------------------------------------------------
def test_bad_split_inputs_name_the_argument():
    dims = [2, 3]
    x = rand(4, 5)
    g, b, w, c = split_params(dims, 6)
    with pytest.raises(TypeError, match="x"):
        ops.band_split(x.half(), dims, g, b, w, c)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ops.band_split(x.numpy(), dims, g, b, w, c)
    with pytest.raises(TypeError, match="gamma"):
        ops.band_split(x, dims, g.double(), b, w, c)
    with pytest.raises(ValueError, match="beta"):
        ops.band_split(x, dims, g, b[:4], w, c)
    with pytest.raises(ValueError, match="bias"):
        ops.band_split(x, dims, g, b, w, c[:1])
    with pytest.raises(ValueError, match="weight"):
        ops.band_split(x, dims, g, b, w[:, :4], c)
    with pytest.raises(ValueError, match="weight"):
        ops.band_split(x, dims, g, b, torch.empty(0, 5), c)
    with pytest.raises(ValueError, match=r"D = sum\(band_dims\) = 5"):
        ops.band_split(rand(4, 6), dims, g, b, w, c)
    with pytest.raises(ValueError, match="band_dims"):
        ops.band_split(x, [], g, b, w, c)
    with pytest.raises(ValueError, match="band_dims"):
        ops.band_split(x, [5, 0], g, b, w, c)
    with pytest.raises(TypeError, match="band_dims"):
        ops.band_split(x, [2.0, 3], g, b, w, c)
    with pytest.raises(ValueError, match="eps"):
        ops.band_split(x, dims, g, b, w, c, eps=-1.0)
    with pytest.raises(ValueError, match="x"):
        ops.band_split(torch.tensor(1.0), dims, g, b, w, c)
    with pytest.raises(ValueError, match="bias must be on cpu"):
        ops.band_split(x, dims, g, b, w, c.to("meta"))
    # non-finite weights: rejected when the native plan is built
    wn = w.clone()
    wn[1, 2] = float("nan")
    with pytest.raises(ValueError, match="weight must be finite"):
        ops.band_split(x, dims, g, b, wn, c)
    # the native layer checks too
    with pytest.raises(ValueError, match="band_dims"):
        _C.BandSplitPlan([], g[:0].numpy(), b[:0].numpy(), w[:, :0].numpy(), c[:0].numpy())
    with pytest.raises(ValueError, match="bias"):
        _C.BandSplitPlan(dims, g.numpy(), b.numpy(), w.numpy(), c[:1].numpy())
    with pytest.raises(ValueError, match="eps"):
        _C.BandSplitPlan(dims, g.numpy(), b.numpy(), w.numpy(), c.numpy(), float("nan"))
    plan = _C.BandSplitPlan(dims, g.numpy(), b.numpy(), w.numpy(), c.numpy())
    with pytest.raises(ValueError, match="x must have shape"):
        plan.forward(rand(4, 6).numpy())
    with pytest.raises(TypeError):
        plan.forward(x.double().numpy())
    with pytest.raises(TypeError):
        plan.forward(rand(5, 4).numpy().T)  # strided: no silent copy
    with pytest.raises(ValueError, match="ldx"):
        plan.forward_ptr(x.data_ptr(), 4, 3, torch.empty(4, 2, 6).data_ptr())
    with pytest.raises(ValueError, match="n_threads"):
        plan.forward(x.numpy(), n_threads=0)


def test_bad_mask_inputs_name_the_argument():
    dims = [2, 3]
    x = rand(4, 2, 6)
    q = list(mask_params(dims, 6, 7, True))
    with pytest.raises(TypeError, match="x"):
        ops.band_mask(x.to(torch.bfloat16), dims, *q)
    with pytest.raises(ValueError, match="x must have shape"):
        ops.band_mask(rand(4, 3, 6), dims, *q)
    with pytest.raises(ValueError, match="x must have shape"):
        ops.band_mask(rand(6), dims, *q)
    with pytest.raises(ValueError, match="out_dims"):
        ops.band_mask(x, [2, 3, 1], *q)
    with pytest.raises(ValueError, match="out_dims"):
        ops.band_mask(x, [-2, 3], *q)
    with pytest.raises(ValueError, match="w2"):  # glu needs 2*Dout rows
        ops.band_mask(x, dims, *q[:4], q[4][:5], q[5][:5])
    with pytest.raises(ValueError, match="w2"):
        ops.band_mask(x, dims, *q, glu=False)
    with pytest.raises(ValueError, match="b1"):
        ops.band_mask(x, dims, q[0], q[1], q[2], q[3][:, :6], q[4], q[5])
    with pytest.raises(TypeError, match="w1"):
        ops.band_mask(x, dims, q[0], q[1], q[2].double(), *q[3:])
    with pytest.raises(ValueError, match="w1"):
        ops.band_mask(x, dims, q[0], q[1], q[2][0], *q[3:])
    with pytest.raises(TypeError, match="glu"):
        ops.band_mask(x, dims, *q, glu=1)
    with pytest.raises(ValueError, match="gamma must be on cpu"):
        ops.band_mask(x, dims, q[0].to("meta"), *q[1:])
    bn = q[5].clone()
    bn[0] = float("inf")
    with pytest.raises(ValueError, match="b2 must be finite"):
        ops.band_mask(x, dims, *q[:5], bn)
    a = [t.numpy() for t in q]
    with pytest.raises(ValueError, match="out_dims"):
        _C.BandMaskPlan([2, 3, 1], *a)
    with pytest.raises(ValueError, match="w2"):
        _C.BandMaskPlan(dims, *a, glu=False)
    with pytest.raises(ValueError, match="out_dims"):
        _C.BandMaskPlan([0, 5], *a)
    plan = _C.BandMaskPlan(dims, *a)
    with pytest.raises(ValueError, match="x must have shape"):
        plan.forward(rand(4, 6).numpy())
    with pytest.raises(ValueError, match="ldy"):
        plan.forward_ptr(x.data_ptr(), 4, torch.empty(4, 5).data_ptr(), 4)
