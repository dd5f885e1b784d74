"""Band-split and band-mask layers of BSRNN (band-split dual-path RNN) as ``torch.library``
custom ops.

Bands ``k = 0..K-1`` have unequal widths ``d_k`` and offsets ``o_k`` (the sum of the previous
widths). LayerNorm here is ``(v - mean(v)) / sqrt(var_biased(v) + eps) * gamma + beta``.

* ``band_split``: ``y[..., k, :] = weight[:, o_k:o_k+d_k] @ LN_k(x[..., o_k:o_k+d_k]) + bias[k]``,
  each band normalised over its own ``d_k`` features.
* ``band_mask``: per band, ``z = LN(x[..., k, :])``, ``u = tanh(w1[k] @ z + b1[k])``,
  ``v = W2_k @ u + B2_k`` with ``W2_k = w2[m*p_k : m*(p_k+d_k)]`` (``m = 2`` with GLU, else 1),
  then ``y[..., p_k:p_k+d_k] = v[:d_k] * sigmoid(v[d_k:])`` (GLU) or ``tanh(v)``.

The ops' default bodies are the pure-torch references (any device, any floating dtype), one
band at a time, exported as ``band_split_reference`` / ``band_mask_reference``: the truth the
kernels are tested against. Training runs ``band_split_grouped`` / ``band_mask_grouped``, the
same computation batched over runs of equal-width bands, where autograd runs through plain torch
(the per-band form's backward zero-fills a copy of the whole input per band). On CPU, float32 runs the native kernels (weights packed once into a
plan, cached per weight tensor and version; rows split over threads for large inputs); float64
stays on the reference. On CUDA, float32 runs grouped kernels (all bands in one launch);
other dtypes the reference. ``HUSHBOARD_BACKEND=reference`` keeps the references everywhere. Plain
eager CPU float32 calls that need no gradient skip the op dispatch and call the kernel directly
(one frame costs a few microseconds instead of ~100); every other call goes through the op.
Autograd (``register_autograd``) recomputes the grouped form under ``torch.func.vjp``.

The native plans reject non-finite weights (``ValueError``); the references let them propagate.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from hushboard.ops._fastpath import TensorCache, derived, eager_native, float32_under_autocast
from hushboard.ops._native import _C, register_native

__all__ = ["band_mask", "band_mask_grouped", "band_mask_reference", "band_split",
           "band_split_grouped", "band_split_reference"]


# ---- pure-torch references (default bodies) ---------------------------------------------------
def band_split_reference(
    x: Tensor, band_dims: Sequence[int], gamma: Tensor, beta: Tensor, weight: Tensor,
    bias: Tensor, eps: float = 1e-5,
) -> Tensor:
    """Band split in plain torch ops (differentiable; no argument checks).

    Args:
        x: input features, last dimension ``D = sum(band_dims)``.
        band_dims: the K band widths.
        gamma, beta: LayerNorm scale and shift ``(D,)`` (band k uses its own slice).
        weight: ``(N, D)``; band k maps through ``weight[:, o_k:o_k+d_k]``.
        bias: ``(K, N)``.
        eps: LayerNorm epsilon.

    Shape:
        ``(..., D) -> (..., K, N)``
    """
    outs = []
    o = 0
    for k, d in enumerate(band_dims):
        z = F.layer_norm(x[..., o:o + d], (d,), gamma[o:o + d], beta[o:o + d], eps)
        outs.append(F.linear(z, weight[:, o:o + d], bias[k]))
        o += d
    return torch.stack(outs, dim=-2)


def band_mask_reference(
    x: Tensor, out_dims: Sequence[int], gamma: Tensor, beta: Tensor, w1: Tensor, b1: Tensor,
    w2: Tensor, b2: Tensor, glu: bool = True, eps: float = 1e-5,
) -> Tensor:
    """Band mask estimation in plain torch ops (differentiable; no argument checks).

    Args:
        x: band features ``(..., K, N)``.
        out_dims: the K output widths ``d_k`` (``Dout = sum(out_dims)``).
        gamma, beta: per-band LayerNorm scale and shift ``(K, N)``.
        w1, b1: first layer ``(K, Hm, N)`` and ``(K, Hm)``.
        w2, b2: second layer ``(m*Dout, Hm)`` and ``(m*Dout,)``, band k's rows
            ``[m*p_k, m*(p_k+d_k))`` (m = 2 with GLU: values, then gates).
        glu: GLU output (``value * sigmoid(gate)``) or ``tanh``.
        eps: LayerNorm epsilon.

    Shape:
        ``(..., K, N) -> (..., Dout)``
    """
    m = 2 if glu else 1
    n = x.shape[-1]
    outs = []
    p = 0
    for k, d in enumerate(out_dims):
        z = F.layer_norm(x[..., k, :], (n,), gamma[k], beta[k], eps)
        u = torch.tanh(F.linear(z, w1[k], b1[k]))
        v = F.linear(u, w2[m * p:m * (p + d)], b2[m * p:m * (p + d)])
        outs.append(v[..., :d] * torch.sigmoid(v[..., d:]) if glu else torch.tanh(v))
        p += d
    return torch.cat(outs, dim=-1)


# ---- grouped forms (training) -------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _runs(dims: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Maximal runs of consecutive equal widths: ``(count, width)`` pairs in band order."""
    runs: list[list[int]] = []
    for d in dims:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, d])
    return tuple((c, d) for c, d in runs)


def band_split_grouped(
    x: Tensor, band_dims: Sequence[int], gamma: Tensor, beta: Tensor, weight: Tensor,
    bias: Tensor, eps: float = 1e-5,
) -> Tensor:
    """``band_split_reference`` computed per run of equal-width bands (one batched LayerNorm
    and one batched matmul per run instead of per band); differentiable, no argument checks.

    Same values as the reference up to float rounding. Training runs this form: autograd
    through the reference's per-band slices costs a zero-filled copy of the whole input per
    band in the backward pass; here the input is cut once (``split``, whose backward is one
    ``cat``).
    """
    runs = _runs(tuple(int(d) for d in band_dims))
    widths = [c * d for c, d in runs]
    xs = x.split(widths, dim=-1)
    gs, bs = gamma.split(widths), beta.split(widths)
    ws = weight.split(widths, dim=1)
    cs = bias.split([c for c, _ in runs])
    n = weight.shape[0]
    outs = []
    for (c, d), xi, g, b, w, ci in zip(runs, xs, gs, bs, ws, cs):
        z = F.layer_norm(xi.unflatten(-1, (c, d)), (d,), eps=eps) * g.view(c, d) + b.view(c, d)
        outs.append(torch.einsum("...cd,ncd->...cn", z, w.view(n, c, d)) + ci)
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-2)


def band_mask_grouped(
    x: Tensor, out_dims: Sequence[int], gamma: Tensor, beta: Tensor, w1: Tensor, b1: Tensor,
    w2: Tensor, b2: Tensor, glu: bool = True, eps: float = 1e-5, *, concat: bool = True,
) -> Tensor | list[Tensor]:
    """``band_mask_reference`` with the LayerNorm and the first layer batched over all bands
    and the second layer over each run of equal output widths; differentiable, no argument
    checks. Same values as the reference up to float rounding (see ``band_split_grouped``).
    ``concat=False`` returns the runs' outputs ``(..., bands_in_run * width)`` in band order
    instead of their concatenation (for a caller that copies them anyway: BSRNN's masks)."""
    m = 2 if glu else 1
    n = x.shape[-1]
    z = F.layer_norm(x, (n,), eps=eps) * gamma + beta
    u = torch.tanh(torch.einsum("...kn,khn->...kh", z, w1) + b1)
    runs = _runs(tuple(int(d) for d in out_dims))
    hidden = w1.shape[1]
    us = u.split([c for c, _ in runs], dim=-2)
    rows = [m * c * d for c, d in runs]
    outs = []
    for (c, d), ui, w, b in zip(runs, us, w2.split(rows), b2.split(rows)):
        v = torch.einsum("...ch,cjh->...cj", ui, w.view(c, m * d, hidden)) + b.view(c, m * d)
        y = v[..., :d] * torch.sigmoid(v[..., d:]) if glu else torch.tanh(v)
        outs.append(y.flatten(-2))
    if not concat:
        return outs
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)


# ---- custom ops -------------------------------------------------------------------------------
@torch.library.custom_op("hushboard::band_split", mutates_args=())
def _split_op(
    x: Tensor, band_dims: list[int], gamma: Tensor, beta: Tensor, weight: Tensor, bias: Tensor,
    eps: float,
) -> Tensor:
    return band_split_reference(x, band_dims, gamma, beta, weight, bias, eps)


@torch.library.custom_op("hushboard::band_mask", mutates_args=())
def _mask_op(
    x: Tensor, out_dims: list[int], gamma: Tensor, beta: Tensor, w1: Tensor, b1: Tensor,
    w2: Tensor, b2: Tensor, glu: bool, eps: float,
) -> Tensor:
    return band_mask_reference(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps)


@_split_op.register_fake
def _(x, band_dims, gamma, beta, weight, bias, eps):
    return x.new_empty((*x.shape[:-1], len(band_dims), weight.shape[0]))


@_mask_op.register_fake
def _(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps):
    return x.new_empty((*x.shape[:-2], sum(out_dims)))


# ---- native CPU kernels -----------------------------------------------------------------------
# Packed-weight plans, reused while the weight tensors are the same objects, unmodified
# (``TensorCache``: an in-place update, e.g. an optimizer step, makes a new plan). Keyed per
# Python thread (a plan's single-threaded calls share its scratch buffer, under a lock).
_PLAN_CACHE = TensorCache(64, per_thread=True)
# rows x (multiply-adds per row) above which the rows are split over threads
_THREAD_MACS = 1 << 20
_HUGE_FLOATS = 1 << 20  # outputs from 4 MB on come from NumPy (huge pages)


def _cached_plan(kind: str, static: tuple, tensors: tuple[Tensor, ...], build):
    return _PLAN_CACHE.get((kind, static), tensors,
                           lambda: build(*(t.detach().contiguous().numpy() for t in tensors)))


def _empty_f32(shape: tuple[int, ...]) -> Tensor:
    """An uninitialised float32 CPU tensor; a large one from NumPy, which asks the kernel for
    transparent huge pages (the first write to a fresh 32 MB output then costs a few page
    faults instead of ~8000)."""
    if math.prod(shape) < _HUGE_FLOATS:
        return torch.empty(shape, dtype=torch.float32)
    return torch.from_numpy(np.empty(shape, dtype=np.float32))


def _all_f32(*ts: Tensor) -> bool:
    return all(t.dtype == torch.float32 for t in ts)


def _threads_for(rows: int, macs_per_row: int) -> int:
    return _C.get_num_threads() if rows * macs_per_row > _THREAD_MACS else 1


def _split_native(x, dims, gamma, beta, weight, bias, eps):
    """float32 CPU tensors -> the plan's kernel (rows with a row stride need no copy)."""
    plan = _cached_plan(
        "split", (tuple(dims), eps), (gamma, beta, weight, bias),
        lambda g, b, w, c: _C.BandSplitPlan(list(dims), g, b, w, c, eps))
    n_out, d = weight.shape
    x2 = x.reshape(-1, d)
    if x2.stride(1) != 1 or x2.stride(0) < d:
        x2 = x2.contiguous()
    rows = x2.shape[0]
    y = _empty_f32((*x.shape[:-1], len(dims), n_out))
    if rows:
        plan.forward_ptr(x2.data_ptr(), rows, x2.stride(0), y.data_ptr(),
                         _threads_for(rows, d * n_out))
    return y


def _mask_native(x, dims, gamma, beta, w1, b1, w2, b2, glu, eps):
    plan = _cached_plan(
        "mask", (tuple(dims), glu, eps), (gamma, beta, w1, b1, w2, b2),
        lambda *a: _C.BandMaskPlan(list(dims), *a, glu=glu, eps=eps))
    k, hidden, n = w1.shape
    x2 = x.reshape(-1, k * n)
    if not x2.is_contiguous():
        x2 = x2.contiguous()
    rows = x2.shape[0]
    dout = plan.out_features
    y = _empty_f32((*x.shape[:-2], dout))
    if rows:
        macs = k * hidden * n + w2.shape[0] * hidden
        plan.forward_ptr(x2.data_ptr(), rows, y.data_ptr(), dout, _threads_for(rows, macs))
    return y


@register_native("hushboard::band_split", "cpu")
def _split_cpu(x, band_dims, gamma, beta, weight, bias, eps):
    if not _all_f32(x, gamma, beta, weight, bias):
        return band_split_reference(x, band_dims, gamma, beta, weight, bias, eps)
    return _split_native(x, band_dims, gamma, beta, weight, bias, float(eps))


@register_native("hushboard::band_mask", "cpu")
def _mask_cpu(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps):
    if not _all_f32(x, gamma, beta, w1, b1, w2, b2):
        return band_mask_reference(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps)
    return _mask_native(x, out_dims, gamma, beta, w1, b1, w2, b2, bool(glu), float(eps))


# ---- native CUDA kernels (float32; all bands in one launch, see csrc/cuda/band_cuda.cu) --------
def _cuda_ok(*ts: Tensor) -> bool:
    return bool(_C.WITH_CUDA) and _all_f32(*ts)


def _split_cuda_native(x, dims, gamma, beta, weight, bias, eps):
    n_out, d = weight.shape
    x2 = x.reshape(-1, d)
    if x2.stride(1) != 1 or x2.stride(0) < d:
        x2 = x2.contiguous()
    rows = x2.shape[0]
    y = torch.empty((*x.shape[:-1], len(dims), n_out), dtype=torch.float32, device=x.device)
    if rows:
        g, b, c = gamma.contiguous(), beta.contiguous(), bias.contiguous()
        wt = derived("split_w_t", (weight,), lambda w: w.t().contiguous())
        with torch.cuda.device(x.device):
            _C.band_split_cuda(False, list(dims), n_out, g.data_ptr(), b.data_ptr(),
                               wt.data_ptr(), c.data_ptr(), eps, x2.data_ptr(), rows,
                               x2.stride(0), y.data_ptr(), torch.cuda.current_stream().cuda_stream)
    return y


def _mask_cuda_native(x, dims, gamma, beta, w1, b1, w2, b2, glu, eps):
    k, hidden, n = w1.shape
    x2 = x.reshape(-1, k * n).contiguous()
    rows = x2.shape[0]
    dout = sum(dims)
    y = torch.empty((*x.shape[:-2], dout), dtype=torch.float32, device=x.device)
    if rows:
        g, b, c1, c2 = gamma.contiguous(), beta.contiguous(), b1.contiguous(), b2.contiguous()
        w1t = derived("mask_w1_t", (w1,), lambda w: w.transpose(1, 2).contiguous())
        w2t = derived("mask_w2_t", (w2,), lambda w: w.t().contiguous())
        with torch.cuda.device(x.device):
            _C.band_mask_cuda(False, list(dims), n, hidden, glu, g.data_ptr(), b.data_ptr(),
                              w1t.data_ptr(), c1.data_ptr(), w2t.data_ptr(), c2.data_ptr(), eps,
                              x2.data_ptr(), rows, y.data_ptr(), dout,
                              torch.cuda.current_stream().cuda_stream)
    return y


@register_native("hushboard::band_split", "cuda")
def _split_cuda(x, band_dims, gamma, beta, weight, bias, eps):
    if not _cuda_ok(x, gamma, beta, weight, bias):
        return band_split_reference(x, band_dims, gamma, beta, weight, bias, eps)
    return _split_cuda_native(x, band_dims, gamma, beta, weight, bias, float(eps))


@register_native("hushboard::band_mask", "cuda")
def _mask_cuda(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps):
    if not _cuda_ok(x, gamma, beta, w1, b1, w2, b2):
        return band_mask_reference(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps)
    return _mask_cuda_native(x, out_dims, gamma, beta, w1, b1, w2, b2, bool(glu), float(eps))


# ---- autograd: the reference recomputed under torch.func.vjp ----------------------------------
def _vjp_backward(ctx, grad, reference):
    """Gradients of the tensor inputs that need one: the reference's VJP, recomputed from the
    saved inputs (``ctx.tensor_slots`` maps saved tensors to op argument positions)."""
    saved = ctx.saved_tensors
    need = [i for i in range(len(saved)) if ctx.needs_input_grad[ctx.tensor_slots[i]]]
    grads: list[Tensor | None] = [None] * len(ctx.needs_input_grad)
    if not need:
        return tuple(grads)

    def fn(*vary):
        args = list(saved)
        for i, v in zip(need, vary):
            args[i] = v
        return reference(args)

    _, vjp = torch.func.vjp(fn, *(saved[i] for i in need))
    for i, g in zip(need, vjp(grad)):
        grads[ctx.tensor_slots[i]] = g
    return tuple(grads)


def _split_setup(ctx, inputs, output):
    x, band_dims, gamma, beta, weight, bias, eps = inputs
    ctx.static = (list(band_dims), eps)
    ctx.tensor_slots = (0, 2, 3, 4, 5)
    ctx.save_for_backward(x, gamma, beta, weight, bias)


def _split_backward(ctx, grad):
    band_dims, eps = ctx.static

    def ref(a):
        x, gamma, beta, weight, bias = a
        return band_split_grouped(x, band_dims, gamma, beta, weight, bias, eps)

    return _vjp_backward(ctx, grad, ref)


def _mask_setup(ctx, inputs, output):
    x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps = inputs
    ctx.static = (list(out_dims), glu, eps)
    ctx.tensor_slots = (0, 2, 3, 4, 5, 6, 7)
    ctx.save_for_backward(x, gamma, beta, w1, b1, w2, b2)


def _mask_backward(ctx, grad):
    out_dims, glu, eps = ctx.static

    def ref(a):
        x, gamma, beta, w1, b1, w2, b2 = a
        return band_mask_grouped(x, out_dims, gamma, beta, w1, b1, w2, b2, glu, eps)

    return _vjp_backward(ctx, grad, ref)


torch.library.register_autograd("hushboard::band_split", _split_backward,
                                setup_context=_split_setup)
torch.library.register_autograd("hushboard::band_mask", _mask_backward,
                                setup_context=_mask_setup)


# ---- argument handling ------------------------------------------------------------------------
_DIMS_OK: dict[tuple, None] = {}  # band widths already checked (a bounded memo)


def _dims(v, name: str) -> tuple[int, ...]:
    if type(v) in (list, tuple):
        t = tuple(v)
        if t in _DIMS_OK:
            return t
    out = _check_dims(v, name)
    if len(_DIMS_OK) < 256:
        _DIMS_OK[out] = None
    return out


def _check_dims(v, name: str) -> tuple[int, ...]:
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and all(type(i) is int for i in v):
        out = list(v)  # the common case, checked cheaply (streaming calls are per frame)
    elif not isinstance(v, Sequence) or isinstance(v, (str, bytes)) or not all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in v
    ):
        raise TypeError(f"{name} must be a sequence of ints (got {v!r})")
    else:
        out = [int(i) for i in v]
    if not out:
        raise ValueError(f"{name} must hold at least one band (got an empty sequence)")
    if min(out) < 1:
        raise ValueError(f"{name} must hold positive widths (got {out})")
    return tuple(out)


def _eps(eps) -> float:
    if type(eps) is float and 0.0 <= eps < float("inf"):
        return eps
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"eps must be a float (got {type(eps).__name__})")
    eps = float(eps)
    if not (eps >= 0.0 and eps < float("inf")):
        raise ValueError(f"eps must be finite and >= 0 (got {eps})")
    return eps


def _check_tensors(x: Tensor, checks: tuple[tuple[str, Tensor, tuple], ...]) -> None:
    """x: float32/float64 tensor; each (name, tensor, shape): a tensor of x's dtype and device
    with that shape."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor (got {type(x).__name__})")
    dtype = x.dtype
    if dtype is not torch.float32 and dtype is not torch.float64:
        raise TypeError(f"x must be float32 or float64 (got {dtype})")
    x_cpu = x.is_cpu
    for name, t, shape in checks:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (got {type(t).__name__})")
        if t.dtype is not dtype:
            raise TypeError(f"{name} must have dtype {dtype} like x (got {t.dtype})")
        if not (x_cpu and t.is_cpu) and t.device != x.device:
            raise ValueError(f"{name} must be on {x.device} like x (got {t.device})")
        if t.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (got {tuple(t.shape)})")


@float32_under_autocast
def band_split(
    x: Tensor, band_dims: Sequence[int], gamma: Tensor, beta: Tensor, weight: Tensor,
    bias: Tensor, *, eps: float = 1e-5,
) -> Tensor:
    """Band split: per-band LayerNorm, then the band's linear map to N features.

    ``y[..., k, :] = weight[:, o_k:o_k+d_k] @ LN_k(x[..., o_k:o_k+d_k]) + bias[k]`` where
    ``o_k`` is the sum of the widths before band k and ``LN_k`` normalises over the band's
    ``d_k`` features with ``gamma[o_k:o_k+d_k]`` / ``beta[o_k:o_k+d_k]``.

    Args:
        x: float32 or float64 features, last dimension ``D = sum(band_dims)``.
        band_dims: K positive band widths.
        gamma, beta: ``(D,)`` LayerNorm scale and shift.
        weight: ``(N, D)``.
        bias: ``(K, N)``.
        eps: LayerNorm epsilon (>= 0).

    Returns:
        ``(..., K, N)`` in x's dtype.

    Shape:
        ``(..., D) -> (..., K, N)``
    """
    dims = _dims(band_dims, "band_dims")
    eps = _eps(eps)
    if isinstance(x, Tensor) and x.dim() < 1:
        raise ValueError("x must have at least 1 dimension (..., D) (got a 0-d tensor)")
    if not isinstance(weight, Tensor):
        raise TypeError(f"weight must be a torch.Tensor (got {type(weight).__name__})")
    if weight.dim() != 2 or weight.shape[0] < 1:
        raise ValueError(f"weight must have shape (N, D) with N >= 1 (got {tuple(weight.shape)})")
    d, n = sum(dims), weight.shape[0]
    _check_tensors(x, (("gamma", gamma, (d,)), ("beta", beta, (d,)), ("weight", weight, (n, d)),
                       ("bias", bias, (len(dims), n))))
    if x.shape[-1] != d:
        raise ValueError(f"x must have last dimension D = sum(band_dims) = {d} "
                         f"(got shape {tuple(x.shape)})")
    if eager_native(x, gamma, beta, weight, bias):
        return _split_native(x, dims, gamma, beta, weight, bias, eps)
    return _split_op(x, list(dims), gamma, beta, weight, bias, eps)


@float32_under_autocast
def band_mask(
    x: Tensor, out_dims: Sequence[int], gamma: Tensor, beta: Tensor, w1: Tensor, b1: Tensor,
    w2: Tensor, b2: Tensor, *, glu: bool = True, eps: float = 1e-5,
) -> Tensor:
    """Band mask estimation: per band LayerNorm, a tanh MLP layer, and a GLU (or tanh) output.

    Per band k: ``z = LN(x[..., k, :])``, ``u = tanh(w1[k] @ z + b1[k])``,
    ``v = W2_k @ u + B2_k`` with ``W2_k = w2[m*p_k : m*(p_k+d_k)]`` (m = 2 with GLU, else 1)
    and ``p_k`` the sum of the previous output widths; then
    ``y[..., p_k:p_k+d_k] = v[:d_k] * sigmoid(v[d_k:])`` (GLU) or ``tanh(v)``.

    Args:
        x: float32 or float64 band features ``(..., K, N)``.
        out_dims: K positive output widths (``Dout = sum(out_dims)``).
        gamma, beta: ``(K, N)`` per-band LayerNorm scale and shift.
        w1: ``(K, Hm, N)``; b1: ``(K, Hm)``.
        w2: ``(m*Dout, Hm)``; b2: ``(m*Dout,)``.
        glu: GLU output (default) or tanh.
        eps: LayerNorm epsilon (>= 0).

    Returns:
        ``(..., Dout)`` in x's dtype.

    Shape:
        ``(..., K, N) -> (..., Dout)``
    """
    dims = _dims(out_dims, "out_dims")
    eps = _eps(eps)
    if not isinstance(glu, bool):
        raise TypeError(f"glu must be a bool (got {type(glu).__name__})")
    if isinstance(x, Tensor) and x.dim() < 2:
        raise ValueError(f"x must have shape (..., K, N) (got {tuple(x.shape)})")
    if not isinstance(w1, Tensor):
        raise TypeError(f"w1 must be a torch.Tensor (got {type(w1).__name__})")
    if w1.dim() != 3 or min(w1.shape) < 1:
        raise ValueError(f"w1 must have shape (K, Hm, N) with no empty dimension "
                         f"(got {tuple(w1.shape)})")
    k, hidden, n = w1.shape
    m = 2 if glu else 1
    mdout = m * sum(dims)
    if len(dims) != k:
        raise ValueError(f"out_dims must have K = {k} widths like w1 (got {len(dims)})")
    _check_tensors(x, (("gamma", gamma, (k, n)), ("beta", beta, (k, n)),
                       ("w1", w1, (k, hidden, n)), ("b1", b1, (k, hidden)),
                       ("w2", w2, (mdout, hidden)), ("b2", b2, (mdout,))))
    if tuple(x.shape[-2:]) != (k, n):
        raise ValueError(f"x must have shape (..., K={k}, N={n}) (got {tuple(x.shape)})")
    if eager_native(x, gamma, beta, w1, b1, w2, b2):
        return _mask_native(x, dims, gamma, beta, w1, b1, w2, b2, glu, eps)
    return _mask_op(x, list(dims), gamma, beta, w1, b1, w2, b2, glu, eps)
