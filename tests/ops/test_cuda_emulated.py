"""The CUDA kernels' block bodies run on the host (csrc/cuda/emu.h: the same __host__ __device__
code, one OS thread per CUDA thread, real barriers, shared memory poisoned with NaN before every
block). This checks their indexing, shared-memory use and barrier placement against a float64
truth on machines without a GPU; the GPU tests (test_*_cuda.py) check the device build itself.

Needs a CUDA build of hushboard (nvcc present at install time): skipped otherwise, a failure
under HUSHBOARD_REQUIRE_CUDA_BUILD=1 (CI sets it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import noise, rel_err, require_cuda_build, rnn_params
from hushboard import ops
from hushboard.ops._native import _C

_PAD = {"reflect": 0, "constant": 1}
_KIND = {"complex": 0, "magnitude": 1, "compressed": 2}
SMEM_H100 = 227 * 1024
SMEM_SMALL = 48 * 1024  # forces fewer frames per block for large n_fft


@pytest.fixture(autouse=True)
def _cuda_build():
    require_cuda_build()


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


# ---- STFT / iSTFT ------------------------------------------------------------------------------
def _stft_emulated(x, window, n_fft, hop, *, center=True, pad_mode="reflect", normalized=False,
                   onesided=True, output="complex", power=1.0, smem=SMEM_H100, grid_y=65535):
    x = x.contiguous()
    window = window.float().contiguous()
    batch, length = x.shape
    frames = ops.stft_num_frames(length, n_fft, hop, center)
    bins = n_fft // 2 + 1 if onesided else n_fft
    if output == "magnitude":
        out = torch.empty((batch, bins, frames), dtype=torch.float32)
        raw = out
    else:
        out = torch.empty((batch, bins, frames), dtype=torch.complex64)
        raw = torch.view_as_real(out)
    _C.stft_forward_cuda_emulated(_ptr(x), batch, length, _ptr(window), _ptr(raw), smem, grid_y,
                                  n_fft, hop, center, _PAD[pad_mode], normalized, onesided,
                                  _KIND[output], power)
    return out


def _istft_emulated(spec, window, n_fft, hop, length, *, center=True, normalized=False,
                    onesided=True, input_="complex", power=1.0, smem=SMEM_H100, grid_y=65535):
    spec = spec.to(torch.complex64).contiguous()
    window = window.float().contiguous()
    batch, _, frames = spec.shape
    out = torch.empty((batch, length), dtype=torch.float32)
    _C.istft_forward_cuda_emulated(_ptr(torch.view_as_real(spec)), batch, frames, _ptr(window),
                                   _ptr(out), length, smem, grid_y, n_fft, hop, center,
                                   normalized, onesided, _KIND[input_], power)
    return out


STFT_CONFIGS = [(512, 128), (480, 120), (375, 125), (2048, 512), (320, 80)]


@pytest.mark.parametrize("n_fft,hop", STFT_CONFIGS)
@pytest.mark.parametrize("output,power", [("complex", 1.0), ("magnitude", 1.0),
                                          ("compressed", 0.3)])
def test_emulated_stft_matches_truth(n_fft, hop, output, power):
    x = torch.from_numpy(noise(3, 2 * n_fft + 777, seed=n_fft))
    w = ops.get_window("hann", n_fft, dtype=torch.float64)
    kw = dict(output=output, power=power)
    truth = ops.stft(x.double(), n_fft, hop, window=w, **kw)
    cpu = ops.stft(x, n_fft, hop, window=w.float(), **kw)
    emu = _stft_emulated(x, w, n_fft, hop, **kw, grid_y=2)  # 3 signals over 2 block rows
    assert emu.shape == cpu.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("center,pad_mode", [(True, "constant"), (False, "reflect")])
@pytest.mark.parametrize("normalized,onesided", [(True, True), (False, False)])
def test_emulated_stft_conventions(center, pad_mode, normalized, onesided):
    x = torch.from_numpy(noise(2, 3001, seed=3))
    w = ops.get_window("hamming", 400, dtype=torch.float64)
    kw = dict(center=center, pad_mode=pad_mode, normalized=normalized, onesided=onesided)
    truth = ops.stft(x.double(), 400, 100, window=w, **kw)
    cpu = ops.stft(x, 400, 100, window=w.float(), **kw)
    emu = _stft_emulated(x, w, 400, 100, **kw)
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_emulated_stft_small_shared_memory():
    """A 48 KiB device gets fewer frames per block for a 4096-point FFT: same result."""
    x = torch.from_numpy(noise(1, 3 * 4096 + 5, seed=9))
    w = ops.get_window("hann", 4096, dtype=torch.float64)
    truth = ops.stft(x.double(), 4096, 1024, window=w)
    big = _stft_emulated(x, w, 4096, 1024)
    small = _stft_emulated(x, w, 4096, 1024, smem=SMEM_SMALL)
    cpu = ops.stft(x, 4096, 1024, window=w.float())
    for emu in (big, small):
        assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("n_fft,hop", STFT_CONFIGS)
@pytest.mark.parametrize("input_,power", [("complex", 1.0), ("compressed", 0.3)])
@pytest.mark.parametrize("length_delta", [0, -37, 301])
def test_emulated_istft_matches_truth(n_fft, hop, input_, power, length_delta):
    spec = torch.randn(3, n_fft // 2 + 1, 13, dtype=torch.complex128,
                       generator=torch.Generator().manual_seed(n_fft))
    length = hop * 12 + length_delta
    w = ops.get_window("sqrt_hann", n_fft, dtype=torch.float64)
    kw = dict(input=input_, power=power, length=length)
    truth = ops.istft(spec, n_fft, hop, window=w, **kw)
    cpu = ops.istft(spec.to(torch.complex64), n_fft, hop, window=w.float(), **kw)
    emu = _istft_emulated(spec, w, n_fft, hop, length, input_=input_, power=power, grid_y=2)
    assert emu.shape == truth.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("normalized,onesided", [(True, True), (False, False)])
def test_emulated_istft_conventions(normalized, onesided):
    n_fft, hop = 480, 120
    bins = n_fft // 2 + 1 if onesided else n_fft
    x = torch.from_numpy(noise(2, 4000, seed=5)).double()
    w = ops.get_window("hann", n_fft, dtype=torch.float64)
    spec = ops.stft(x, n_fft, hop, window=w, normalized=normalized, onesided=onesided)
    assert spec.shape[1] == bins
    kw = dict(normalized=normalized, onesided=onesided, length=4000)
    truth = ops.istft(spec, n_fft, hop, window=w, **kw)
    cpu = ops.istft(spec.to(torch.complex64), n_fft, hop, window=w.float(), **kw)
    emu = _istft_emulated(spec, w, n_fft, hop, 4000, normalized=normalized, onesided=onesided)
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)
    assert rel_err(emu, x) < 1e-5  # and it inverts the analysis


# ---- complex convolution ----------------------------------------------------------------------
def _conv_emulated(transposed, x, wr, wi, br, bi, stride, dilation, padding, output_padding,
                   grid_z=65535):
    x, wr, wi = x.contiguous(), wr.contiguous(), wi.contiguous()
    b, _, f, t = x.shape
    cin, cout = (wr.shape[0], wr.shape[1]) if transposed else (wr.shape[1], wr.shape[0])
    kernel = (wr.shape[2], wr.shape[3])
    fo, to = _C.complex_conv_out_size(transposed, f, t, cin, cout, kernel, stride, dilation,
                                      padding, output_padding)
    y = torch.empty((b, 2 * cout, fo, to))
    _C.complex_conv_forward_cuda_emulated(
        transposed, _ptr(x), b, f, t, _ptr(wr), _ptr(wi), 0 if br is None else _ptr(br),
        0 if bi is None else _ptr(bi), _ptr(y), cin, cout, kernel, stride, dilation, padding,
        output_padding, grid_z)
    return y


# (cin, cout, kernel, stride, dilation, padding (f_lo, f_hi, t_lo, t_hi), F, T)
CONV_CASES = [
    (1, 16, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), 33, 9),      # DCCRN's first encoder layer
    (16, 32, (5, 2), (2, 1), (1, 1), (2, 2, 1, 0), 17, 7),     # a middle one
    (3, 5, (3, 3), (1, 1), (2, 1), (2, 2, 1, 1), 11, 13),      # odd sizes, dilation
    (7, 19, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 5, 6),       # pointwise, cout > one tile
    (40, 3, (2, 3), (3, 2), (1, 2), (1, 0, 4, 0), 14, 12),     # T stride and dilation
]
CONVT_CASES = [
    # (cin, cout, kernel, stride, dilation, crop, output_padding, F, T)
    (32, 16, (5, 2), (2, 1), (1, 1), (2, 2, 0, 1), (1, 0), 9, 7),   # DCCRN decoder layer
    (16, 1, (5, 2), (2, 1), (1, 1), (2, 2, 0, 1), (0, 0), 17, 5),
    (3, 5, (3, 3), (2, 3), (1, 2), (1, 0, 0, 2), (1, 1), 6, 5),
    (5, 18, (4, 1), (3, 1), (1, 1), (0, 0, 0, 0), (2, 0), 4, 3),
]


def _rand(*shape, seed):
    return torch.from_numpy(noise(*shape, seed=seed))


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_emulated_complex_conv_matches_truth(case, bias):
    cin, cout, k, s, d, p, f, t = case
    x = _rand(3, 2 * cin, f, t, seed=1)
    wr, wi = _rand(cout, cin, *k, seed=2), _rand(cout, cin, *k, seed=3)
    br, bi = (_rand(cout, seed=4), _rand(cout, seed=5)) if bias else (None, None)
    d64 = [None if v is None else v.double() for v in (x, wr, wi, br, bi)]
    truth = ops.complex_conv2d(*d64, stride=s, dilation=d, padding=p)
    cpu = ops.complex_conv2d(x, wr, wi, br, bi, stride=s, dilation=d, padding=p)
    emu = _conv_emulated(False, x, wr, wi, br, bi, list(s), list(d), list(p), [0, 0], grid_z=2)
    assert emu.shape == cpu.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("case", CONVT_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_emulated_complex_conv_transpose_matches_truth(case, bias):
    cin, cout, k, s, d, p, op, f, t = case
    x = _rand(3, 2 * cin, f, t, seed=6)
    wr, wi = _rand(cin, cout, *k, seed=7), _rand(cin, cout, *k, seed=8)
    br, bi = (_rand(cout, seed=9), _rand(cout, seed=10)) if bias else (None, None)
    d64 = [None if v is None else v.double() for v in (x, wr, wi, br, bi)]
    kw = dict(stride=s, dilation=d, padding=p, output_padding=op)
    truth = ops.complex_conv_transpose2d(*d64, **kw)
    cpu = ops.complex_conv_transpose2d(x, wr, wi, br, bi, **kw)
    emu = _conv_emulated(True, x, wr, wi, br, bi, list(s), list(d), list(p), list(op), grid_z=2)
    assert emu.shape == cpu.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_emulated_complex_conv_many_input_channels():
    """More input channels than one shared-memory chunk holds (several chunks per block)."""
    cin, cout, k = 300, 6, (5, 4)  # 16 * 20 * 8 B = 2.5 KiB per channel: a 12-channel chunk
    x = _rand(1, 2 * cin, 6, 5, seed=11)
    wr, wi = _rand(cout, cin, *k, seed=12), _rand(cout, cin, *k, seed=13)
    truth = ops.complex_conv2d(x.double(), wr.double(), wi.double(), padding=(2, 3, 3, 0))
    cpu = ops.complex_conv2d(x, wr, wi, padding=(2, 3, 3, 0))
    emu = _conv_emulated(False, x, wr, wi, None, None, [1, 1], [1, 1], [2, 3, 3, 0], [0, 0])
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_emulated_complex_conv_streaming_equals_offline():
    """Frame by frame (each call given only the frames its output needs) equals the whole
    causal convolution, bit for bit."""
    cin, cout, k = 4, 8, (3, 2)
    x = _rand(1, 2 * cin, 9, 12, seed=14)
    wr, wi = _rand(cout, cin, *k, seed=15), _rand(cout, cin, *k, seed=16)
    full = _conv_emulated(False, x, wr, wi, None, None, [1, 1], [1, 1], [1, 1, 1, 0], [0, 0])
    for t in range(12):
        # frame t needs frames t-1 and t; the first frame reads the causal zero padding
        win, pad = (x[..., :1], [1, 1, 1, 0]) if t == 0 else (x[..., t - 1: t + 1], [1, 1, 0, 0])
        step = _conv_emulated(False, win, wr, wi, None, None, [1, 1], [1, 1], pad, [0, 0])
        assert step.shape[-1] == 1
        np.testing.assert_array_equal(step[..., 0].numpy(), full[..., t].numpy())


def test_emulated_complex_conv_rejects_bad_parameters():
    x = torch.zeros(1, 2, 4, 4)
    w = torch.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="stride"):
        _conv_emulated(False, x, w, w, None, None, [0, 1], [1, 1], [0, 0, 0, 0], [0, 0])
    with pytest.raises(ValueError, match="output size"):
        _conv_emulated(False, torch.zeros(1, 2, 2, 2), w, w, None, None, [1, 1], [1, 1],
                       [0, 0, 0, 0], [0, 0])


# ---- band split / band mask (BSRNN) -----------------------------------------------------------
BSRNN_16K = [2] + [3] * 10 + [8] * 12 + [16] * 7 + [17]  # K = 31, D = 257


def _split_emulated(x, dims, gamma, beta, weight, bias, eps=1e-5):
    n, d = weight.shape
    x2 = x.reshape(-1, d).contiguous()
    y = torch.full((*x.shape[:-1], len(dims), n), float("nan"))
    wt = weight.t().contiguous()
    _C.band_split_cuda(True, list(dims), n, _ptr(gamma), _ptr(beta), _ptr(wt), _ptr(bias), eps,
                       _ptr(x2), x2.shape[0], d, _ptr(y))
    return y


def _mask_emulated(x, dims, gamma, beta, w1, b1, w2, b2, glu, eps=1e-5):
    k, hidden, n = w1.shape
    x2 = x.reshape(-1, k * n).contiguous()
    y = torch.full((*x.shape[:-2], sum(dims)), float("nan"))
    w1t, w2t = w1.transpose(1, 2).contiguous(), w2.t().contiguous()
    _C.band_mask_cuda(True, list(dims), n, hidden, glu, _ptr(gamma), _ptr(beta), _ptr(w1t),
                      _ptr(b1), _ptr(w2t), _ptr(b2), eps, _ptr(x2), x2.shape[0], _ptr(y),
                      sum(dims))
    return y


def _split_params(dims, n, seed):
    g = torch.Generator().manual_seed(seed)
    d = sum(dims)
    return (torch.randn(d, generator=g), torch.randn(d, generator=g),
            0.3 * torch.randn(n, d, generator=g), torch.randn(len(dims), n, generator=g))


def _mask_params(dims, n, hidden, glu, seed):
    g = torch.Generator().manual_seed(seed)
    k, m = len(dims), 2 if glu else 1
    return (torch.randn(k, n, generator=g), torch.randn(k, n, generator=g),
            n ** -0.5 * torch.randn(k, hidden, n, generator=g), torch.randn(k, hidden, generator=g),
            hidden ** -0.5 * torch.randn(m * sum(dims), hidden, generator=g),
            torch.randn(m * sum(dims), generator=g))


def _f64(ts):
    return [t.double() for t in ts]


@pytest.mark.parametrize("dims,n,lead", [
    (BSRNN_16K, 64, (13,)),              # rows over two 8-row tiles, the last one partial
    ([1, 2, 3, 40, 300], 13, (2, 3)),    # a 1-wide band, bands past one 32-term chunk
    ([5, 7], 130, (1,)),                 # N past the 128-thread block (threads own 2 outputs)
])
def test_emulated_band_split_matches_truth(dims, n, lead):
    p = _split_params(dims, n, seed=len(dims))
    x = torch.randn(*lead, sum(dims), generator=torch.Generator().manual_seed(1))
    truth = ops.band_split_reference(x.double(), dims, *_f64(p))
    cpu = ops.band_split(x, dims, *p)
    emu = _split_emulated(x, dims, *p)
    assert emu.shape == cpu.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


@pytest.mark.parametrize("glu", [True, False])
@pytest.mark.parametrize("dims,n,hidden,lead", [
    (BSRNN_16K, 32, 64, (11,)),
    ([1, 4, 33, 2], 20, 150, (2, 5)),    # hidden past the block: threads own 2 hidden units
    ([200], 8, 16, (3,)),                # one wide band: threads own 2 output bins
])
def test_emulated_band_mask_matches_truth(glu, dims, n, hidden, lead):
    p = _mask_params(dims, n, hidden, glu, seed=len(dims))
    x = torch.randn(*lead, len(dims), n, generator=torch.Generator().manual_seed(2))
    truth = ops.band_mask_reference(x.double(), dims, *_f64(p), glu=glu)
    cpu = ops.band_mask(x, dims, *p, glu=glu)
    emu = _mask_emulated(x, dims, *p, glu=glu)
    assert emu.shape == cpu.shape and not torch.isnan(emu).any()
    assert rel_err(emu, truth) <= 2 * max(rel_err(cpu, truth), 1e-7)


def test_emulated_band_rows_independent():
    """A row's result does not depend on the rows computed with it (streaming = offline)."""
    dims, n = BSRNN_16K, 16
    p = _split_params(dims, n, seed=3)
    x = torch.randn(19, sum(dims), generator=torch.Generator().manual_seed(4))
    full = _split_emulated(x, dims, *p)
    for s in (0, 7, 8, 18):
        np.testing.assert_array_equal(_split_emulated(x[s:s + 1], dims, *p)[0].numpy(),
                                      full[s].numpy())
    mp = _mask_params(dims, n, 24, True, seed=5)
    xm = torch.randn(10, len(dims), n, generator=torch.Generator().manual_seed(6))
    fullm = _mask_emulated(xm, dims, *mp, glu=True)
    for s in (0, 9):
        np.testing.assert_array_equal(_mask_emulated(xm[s:s + 1], dims, *mp, glu=True)[0].numpy(),
                                      fullm[s].numpy())


def test_emulated_band_bad_arguments():
    p = _split_params([2, 3], 4, seed=0)
    with pytest.raises(ValueError, match="band widths"):
        _split_emulated(torch.zeros(1, 5), [5, 0], *p)
    with pytest.raises(ValueError, match="too wide"):
        _split_emulated(torch.zeros(1, 2000), [2000], torch.zeros(2000), torch.zeros(2000),
                        torch.zeros(4, 2000), torch.zeros(1, 4))


# ---- LSTM / GRU recurrence ----------------------------------------------------------------------
def _rnn_kernel_emulated(gru, gx, w_hh, b_hh, h0=None, c0=None, reverse=False,
                         smem=SMEM_H100):
    """The recurrence kernel alone over precomputed input projections gx (S, L, G*H)."""
    s, l, _ = gx.shape
    hidden = w_hh.shape[1]
    gx, wt = gx.contiguous(), w_hh.t().contiguous()
    y = torch.full((s, l, hidden), float("nan"))
    h_n = torch.full((s, hidden), float("nan"))
    c_n = None if gru else torch.full((s, hidden), float("nan"))

    def p(t):
        return 0 if t is None else _ptr(t)

    bh = b_hh.contiguous() if gru else None
    _C.rnn_forward_cuda(True, gru, _ptr(gx), _ptr(wt), p(bh), p(h0), p(c0), s, l, hidden,
                        reverse, _ptr(y), _ptr(h_n), p(c_n), 0, smem)
    return (y, h_n) if gru else (y, h_n, c_n)


def _projections(gru, x, w_ih, b_ih, b_hh):
    s, l, i = x.shape
    b_in = b_ih if gru else b_ih + b_hh
    return torch.addmm(b_in, x.reshape(s * l, i), w_ih.t()).view(s, l, -1)


def _rnn_emulated(gru, x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, reverse=False,
                  smem=SMEM_H100):
    """What the CUDA op does: one float32 GEMM for the input projections, then the kernel."""
    return _rnn_kernel_emulated(gru, _projections(gru, x, w_ih, b_ih, b_hh), w_hh, b_hh, h0, c0,
                                reverse, smem)


@pytest.mark.parametrize("gru", [False, True])
@pytest.mark.parametrize("s,l,i,hidden", [(11, 9, 7, 24), (3, 17, 33, 40), (9, 5, 5, 70)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("state", [False, True])
def test_emulated_rnn_matches_truth(gru, s, l, i, hidden, reverse, state):
    w_ih, w_hh, b_ih, b_hh = rnn_params(3 if gru else 4, i, hidden, seed=hidden)
    g = torch.Generator().manual_seed(s)
    x = torch.randn(s, l, i, generator=g)
    h0 = torch.randn(s, hidden, generator=g) if state else None
    c0 = torch.randn(s, hidden, generator=g) if state and not gru else None
    if gru:
        args = (x, w_ih, w_hh, b_ih, b_hh, h0)
        truth = ops.gru_layer(*[None if t is None else t.double() for t in args], reverse=reverse)
        cpu = ops.gru_layer(*args, reverse=reverse)
    else:
        args = (x, w_ih, w_hh, b_ih + b_hh, h0, c0)
        truth = ops.lstm_layer(*[None if t is None else t.double() for t in args],
                               reverse=reverse)
        cpu = ops.lstm_layer(*args, reverse=reverse)
    emu = _rnn_emulated(gru, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse)
    for e, c, t in zip(emu, cpu, truth):
        assert e.shape == c.shape and not torch.isnan(e).any()
        assert rel_err(e, t) <= 2 * max(rel_err(c, t), 1e-7)


@pytest.mark.parametrize("gru", [False, True])
def test_emulated_rnn_weights_from_global_memory(gru):
    """A device without room for W_hh in shared memory reads it through the cache: same bits."""
    w_ih, w_hh, b_ih, b_hh = rnn_params(3 if gru else 4, 6, 40, seed=1)
    x = torch.randn(10, 6, 6, generator=torch.Generator().manual_seed(2))
    on_chip = _rnn_emulated(gru, x, w_ih, w_hh, b_ih, b_hh)
    global_ = _rnn_emulated(gru, x, w_ih, w_hh, b_ih, b_hh, smem=2 * 8 * 40 * 4)
    for a, b in zip(on_chip, global_):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("gru", [False, True])
def test_emulated_rnn_streaming_equals_offline(gru):
    """The recurrence one position per call, state carried, equals the whole sequence bit for
    bit (the streaming engines' use), and a sequence's result does not depend on the others.
    (The input projections come from one GEMM here: a BLAS may round differently per shape.)"""
    w_ih, w_hh, b_ih, b_hh = rnn_params(3 if gru else 4, 5, 16, seed=3)
    x = torch.randn(9, 7, 5, generator=torch.Generator().manual_seed(4))
    gx = _projections(gru, x, w_ih, b_ih, b_hh)
    full = _rnn_kernel_emulated(gru, gx, w_hh, b_hh)
    h = torch.zeros(9, 16)
    c = None if gru else torch.zeros(9, 16)
    for t in range(7):
        out = _rnn_kernel_emulated(gru, gx[:, t:t + 1], w_hh, b_hh, h, c)
        np.testing.assert_array_equal(out[0][:, 0].numpy(), full[0][:, t].numpy())
        h = out[1]
        c = None if gru else out[2]
    np.testing.assert_array_equal(h.numpy(), full[1].numpy())
    one = _rnn_kernel_emulated(gru, gx[4:5], w_hh, b_hh)
    np.testing.assert_array_equal(one[0][0].numpy(), full[0][4].numpy())


def test_emulated_rnn_bad_arguments():
    w_ih, w_hh, b_ih, b_hh = rnn_params(4, 3, 4, seed=0)
    x = torch.zeros(2, 3, 3)
    with pytest.raises(ValueError, match="shared memory"):
        _rnn_emulated(False, x, w_ih, w_hh, b_ih, b_hh, smem=16)
    with pytest.raises(ValueError, match="b_hh"):
        gx = torch.zeros(2, 3, 12)
        _C.rnn_forward_cuda(True, True, _ptr(gx), _ptr(w_hh), 0, 0, 0, 2, 3, 4, False,
                            _ptr(torch.zeros(2, 3, 4)), _ptr(torch.zeros(2, 4)), 0, 0, 65536)
