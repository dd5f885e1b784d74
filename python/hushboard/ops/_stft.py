"""Fused STFT / iSTFT as ``torch.library`` custom ops, with NumPy support.

The ops follow ``torch.stft`` / ``torch.istft`` conventions. Each op's default body is the
pure-torch reference (any device); native kernels are registered for CPU (float32 SIMD, float64
scalar) and, when the extension was built with CUDA, for CUDA float32. Autograd goes through the
native adjoint kernels (``hushboard::stft_backward`` / ``hushboard::istft_backward``), which are
themselves differentiable, so double backward works too.

Non-finite input policy: ``stft``/``istft`` raise ``ValueError`` when the input holds NaN or Inf
(``check_finite=False`` skips the check and lets them propagate, as torch does).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hushboard.ops._fastpath import float32_under_autocast
from hushboard.ops._native import _C, FORCE_REFERENCE, register_native

__all__ = ["WINDOWS", "get_window", "istft", "stft", "stft_num_frames"]

_PAD_MODES = {"reflect": 0, "constant": 1}
_KINDS = {"complex": 0, "magnitude": 1, "compressed": 2}
_COMPLEX, _MAGNITUDE, _COMPRESSED = 0, 1, 2

WINDOWS = ("hann", "hamming", "rect", "sqrt_hann", "blackman")


def get_window(
    name: str, win_length: int, *, dtype: torch.dtype = torch.float32, device: Any = None
) -> Tensor:
    """A periodic analysis window by name.

    Args:
        name: one of ``WINDOWS`` ("hann", "hamming", "rect", "sqrt_hann", "blackman").
        win_length: window length in samples.
        dtype: floating dtype of the result.
        device: torch device of the result.

    Shape:
        ``(win_length,)``
    """
    if not isinstance(win_length, numbers.Integral) or win_length < 1:
        raise ValueError(f"win_length must be a positive integer (got {win_length!r})")
    kw = {"dtype": dtype, "device": device}
    if name == "hann":
        return torch.hann_window(win_length, **kw)
    if name == "hamming":
        return torch.hamming_window(win_length, **kw)
    if name == "blackman":
        return torch.blackman_window(win_length, **kw)
    if name == "rect":
        return torch.ones(win_length, **kw)
    if name == "sqrt_hann":
        return torch.hann_window(win_length, **kw).sqrt()
    raise ValueError(f"window must be one of {WINDOWS} or an array (got {name!r})")


# ---- shape helpers --------------------------------------------------------------------------
def stft_num_frames(length: int, n_fft: int, hop_length: int, center: bool = True) -> int:
    """Frames ``stft`` produces for a signal of ``length`` samples."""
    pad = n_fft // 2 if center else 0
    return 1 + (length + 2 * pad - n_fft) // hop_length


def _n_bins(n_fft: int, onesided: bool) -> int:
    return n_fft // 2 + 1 if onesided else n_fft


def _complex_of(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _real_of(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.complex128 else torch.float32


# ---- pure-torch references (default bodies) -------------------------------------------------
def _power_law(z: Tensor, power: float) -> Tensor:
    """``|z|^power * z/|z|`` (0 where z == 0)."""
    if power == 1.0:
        return z
    mag = z.abs()
    scale = torch.where(mag > 0, mag.pow(power - 1.0), torch.zeros_like(mag))
    return z * scale


def _power_law_vjp(z: Tensor, grad: Tensor, power: float) -> Tensor:
    """Gradient through ``w = |z|^power z/|z|`` (conjugate-Wirtinger convention, as torch)."""
    if power == 1.0:
        return grad
    mag = z.abs()
    nz = mag > 0
    s = torch.where(nz, mag.pow(power - 1.0), torch.zeros_like(mag))
    s_over_p = torch.where(nz, s / mag.clamp_min(1e-30).square(), torch.zeros_like(mag))
    dot = (z.conj() * grad).real
    return s * grad + (power - 1.0) * s_over_p * z * dot


def _stft_reference(
    x: Tensor, window: Tensor, n_fft: int, hop_length: int, center: bool, pad_mode: int,
    normalized: bool, onesided: bool, kind: int, power: float,
) -> Tensor:
    spec = torch.stft(
        x, n_fft, hop_length, n_fft, window, center=center,
        pad_mode="reflect" if pad_mode == 0 else "constant", normalized=normalized,
        onesided=onesided, return_complex=True,
    )
    if kind == _MAGNITUDE:
        return spec.abs()
    if kind == _COMPRESSED:
        return _power_law(spec, power)
    return spec


def _istft_reference(
    spec: Tensor, window: Tensor, n_fft: int, hop_length: int, center: bool, normalized: bool,
    onesided: bool, kind: int, power: float, length: int,
) -> Tensor:
    if kind == _COMPRESSED:
        spec = _power_law(spec, 1.0 / power)
    return torch.istft(
        spec, n_fft, hop_length, n_fft, window, center=center, normalized=normalized,
        onesided=onesided, length=length,
    )


# ---- custom ops -----------------------------------------------------------------------------
@torch.library.custom_op("hushboard::stft", mutates_args=())
def _stft_op(
    x: Tensor, window: Tensor, n_fft: int, hop_length: int, center: bool, pad_mode: int,
    normalized: bool, onesided: bool, kind: int, power: float,
) -> Tensor:
    return _stft_reference(
        x, window, n_fft, hop_length, center, pad_mode, normalized, onesided, kind, power
    )


@torch.library.custom_op("hushboard::stft_backward", mutates_args=())
def _stft_backward_op(
    grad: Tensor, window: Tensor, length: int, n_fft: int, hop_length: int, center: bool,
    pad_mode: int, normalized: bool, onesided: bool,
) -> Tensor:
    """Adjoint of the complex STFT: grad of the spectrum -> grad of the signal."""
    # torch.func.vjp, not torch.autograd.grad: an op's body runs below the autograd key, where
    # tensors created inside record no graph.
    x = torch.zeros(grad.shape[0], length, dtype=_real_of(grad.dtype), device=grad.device)
    _, vjp = torch.func.vjp(lambda v: _stft_reference(
        v, window, n_fft, hop_length, center, pad_mode, normalized, onesided, _COMPLEX, 1.0), x)
    return vjp(grad)[0]


@torch.library.custom_op("hushboard::istft", mutates_args=())
def _istft_op(
    spec: Tensor, window: Tensor, n_fft: int, hop_length: int, center: bool, normalized: bool,
    onesided: bool, kind: int, power: float, length: int,
) -> Tensor:
    return _istft_reference(
        spec, window, n_fft, hop_length, center, normalized, onesided, kind, power, length
    )


@torch.library.custom_op("hushboard::istft_backward", mutates_args=())
def _istft_backward_op(
    grad: Tensor, window: Tensor, n_frames: int, n_fft: int, hop_length: int, center: bool,
    normalized: bool, onesided: bool,
) -> Tensor:
    """Adjoint of the complex iSTFT: grad of the signal -> grad of the spectrum."""
    batch, length = grad.shape
    s = torch.zeros(batch, _n_bins(n_fft, onesided), n_frames, dtype=_complex_of(grad.dtype),
                    device=grad.device)
    _, vjp = torch.func.vjp(lambda v: _istft_reference(
        v, window, n_fft, hop_length, center, normalized, onesided, _COMPLEX, 1.0, length), s)
    return vjp(grad)[0]


# ---- fake (meta) implementations ------------------------------------------------------------
@_stft_op.register_fake
def _(x, window, n_fft, hop_length, center, pad_mode, normalized, onesided, kind, power):
    length = x.shape[-1]
    frames = stft_num_frames(length, n_fft, hop_length, center)
    dtype = x.dtype if kind == _MAGNITUDE else _complex_of(x.dtype)
    return x.new_empty((x.shape[0], _n_bins(n_fft, onesided), frames), dtype=dtype)


@_stft_backward_op.register_fake
def _(grad, window, length, n_fft, hop_length, center, pad_mode, normalized, onesided):
    return grad.new_empty((grad.shape[0], length), dtype=_real_of(grad.dtype))


@_istft_op.register_fake
def _(spec, window, n_fft, hop_length, center, normalized, onesided, kind, power, length):
    return spec.new_empty((spec.shape[0], length), dtype=_real_of(spec.dtype))


@_istft_backward_op.register_fake
def _(grad, window, n_frames, n_fft, hop_length, center, normalized, onesided):
    return grad.new_empty(
        (grad.shape[0], _n_bins(n_fft, onesided), n_frames), dtype=_complex_of(grad.dtype)
    )


# ---- native CPU kernels ---------------------------------------------------------------------
def _ptr(t: Tensor) -> int:
    return t.data_ptr()


_NP_DTYPES = {
    torch.float32: np.float32, torch.float64: np.float64,
    torch.complex64: np.complex64, torch.complex128: np.complex128,
}
_HUGE_BYTES = 4 << 20


def _empty_cpu(shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """An uninitialised CPU tensor. Large ones come from NumPy, which asks the kernel for
    transparent huge pages: the first write to a fresh multi-MB output then costs a few page
    faults instead of thousands (about 3x cheaper for a 40 MB spectrum)."""
    n = math.prod(shape) * (torch.finfo(dtype).bits // 8 if not dtype.is_complex
                            else 2 * torch.finfo(_real_of(dtype)).bits // 8)
    if n < _HUGE_BYTES:
        return torch.empty(shape, dtype=dtype)
    return torch.from_numpy(np.empty(shape, dtype=_NP_DTYPES[dtype]))




@register_native("hushboard::stft", "cpu")
def _stft_cpu(x, window, n_fft, hop_length, center, pad_mode, normalized, onesided, kind, power):
    x = x.contiguous()
    window = window.to(x.dtype).contiguous()
    batch, length = x.shape
    frames = _C.stft_num_frames(length, n_fft, hop_length, center, pad_mode)
    nb = _n_bins(n_fft, onesided)
    if kind == _MAGNITUDE:
        out = _empty_cpu((batch, nb, frames), x.dtype)
        raw = out
    else:
        out = _empty_cpu((batch, nb, frames), _complex_of(x.dtype))
        raw = torch.view_as_real(out)
    _C.stft_forward(
        _ptr(x), batch, length, _ptr(window), _ptr(raw), x.dtype == torch.float64, n_fft,
        hop_length, center, pad_mode, normalized, onesided, kind, power,
    )
    return out


@register_native("hushboard::stft_backward", "cpu")
def _stft_backward_cpu(grad, window, length, n_fft, hop_length, center, pad_mode, normalized,
                       onesided):
    grad = grad.resolve_conj().contiguous()
    real = _real_of(grad.dtype)
    window = window.to(real).contiguous()
    gx = _empty_cpu((grad.shape[0], length), real)
    _C.stft_backward(
        _ptr(torch.view_as_real(grad)), grad.shape[0], length, _ptr(window), _ptr(gx),
        real == torch.float64, n_fft, hop_length, center, pad_mode, normalized, onesided,
    )
    return gx


@register_native("hushboard::istft", "cpu")
def _istft_cpu(spec, window, n_fft, hop_length, center, normalized, onesided, kind, power,
               length):
    spec = spec.resolve_conj().contiguous()
    real = _real_of(spec.dtype)
    window = window.to(real).contiguous()
    batch, _, frames = spec.shape
    out = _empty_cpu((batch, length), real)
    _C.istft_forward(
        _ptr(torch.view_as_real(spec)), batch, frames, _ptr(window), _ptr(out), length,
        real == torch.float64, n_fft, hop_length, center, normalized, onesided, kind, power,
    )
    return out


@register_native("hushboard::istft_backward", "cpu")
def _istft_backward_cpu(grad, window, n_frames, n_fft, hop_length, center, normalized, onesided):
    grad = grad.contiguous()
    window = window.to(grad.dtype).contiguous()
    batch, length = grad.shape
    gs = _empty_cpu((batch, _n_bins(n_fft, onesided), n_frames), _complex_of(grad.dtype))
    _C.istft_backward(
        _ptr(grad), batch, n_frames, _ptr(window), _ptr(torch.view_as_real(gs)), length,
        grad.dtype == torch.float64, n_fft, hop_length, center, normalized, onesided,
    )
    return gs


# ---- native CUDA kernels (float32; others fall back to the reference) -----------------------
def _cuda_native(t: Tensor) -> bool:
    return bool(_C.WITH_CUDA) and t.dtype in (torch.float32, torch.complex64)


@register_native("hushboard::stft", "cuda")
def _stft_cuda(x, window, n_fft, hop_length, center, pad_mode, normalized, onesided, kind, power):
    if not _cuda_native(x):
        return _stft_reference(x, window, n_fft, hop_length, center, pad_mode, normalized,
                               onesided, kind, power)
    x = x.contiguous()
    window = window.to(x.dtype).contiguous()
    batch, length = x.shape
    frames = _C.stft_num_frames(length, n_fft, hop_length, center, pad_mode)
    nb = _n_bins(n_fft, onesided)
    if kind == _MAGNITUDE:
        out = torch.empty((batch, nb, frames), dtype=x.dtype, device=x.device)
        raw = out
    else:
        out = torch.empty((batch, nb, frames), dtype=torch.complex64, device=x.device)
        raw = torch.view_as_real(out)
    with torch.cuda.device(x.device):
        stream = torch.cuda.current_stream().cuda_stream
        _C.stft_forward_cuda(
            _ptr(x), batch, length, _ptr(window), _ptr(raw), stream, n_fft, hop_length, center,
            pad_mode, normalized, onesided, kind, power,
        )
    return out


@register_native("hushboard::istft", "cuda")
def _istft_cuda(spec, window, n_fft, hop_length, center, normalized, onesided, kind, power,
                length):
    if not _cuda_native(spec):
        return _istft_reference(spec, window, n_fft, hop_length, center, normalized, onesided,
                                kind, power, length)
    spec = spec.resolve_conj().contiguous()
    window = window.to(torch.float32).contiguous()
    batch, _, frames = spec.shape
    # NOLA is checked by the public istft on the host copy of the window
    out = torch.empty((batch, length), dtype=torch.float32, device=spec.device)
    with torch.cuda.device(spec.device):
        stream = torch.cuda.current_stream().cuda_stream
        _C.istft_forward_cuda(
            _ptr(torch.view_as_real(spec)), batch, frames, _ptr(window), _ptr(out), length,
            stream, n_fft, hop_length, center, normalized, onesided, kind, power,
        )
    return out


# ---- autograd -------------------------------------------------------------------------------
def _stft_setup(ctx, inputs, output):
    x, window, n_fft, hop_length, center, pad_mode, normalized, onesided, kind, power = inputs
    ctx.args = (n_fft, hop_length, center, pad_mode, normalized, onesided)
    ctx.kind, ctx.power, ctx.length = kind, power, x.shape[-1]
    ctx.save_for_backward(x, window)


def _stft_backward(ctx, grad):
    x, window = ctx.saved_tensors
    n_fft, hop_length, center, pad_mode, normalized, onesided = ctx.args
    if ctx.kind == _MAGNITUDE or (ctx.kind == _COMPRESSED and ctx.power != 1.0):
        spec = _stft_op(x, window, n_fft, hop_length, center, pad_mode, normalized, onesided,
                        _COMPLEX, 1.0)
        if ctx.kind == _MAGNITUDE:
            mag = spec.abs()
            grad = torch.where(mag > 0, grad / mag.clamp_min(1e-30), torch.zeros_like(mag)) * spec
        else:
            grad = _power_law_vjp(spec, grad, ctx.power)
    gx = _stft_backward_op(grad, window, ctx.length, n_fft, hop_length, center, pad_mode,
                           normalized, onesided)
    return gx, None, None, None, None, None, None, None, None, None


def _stft_bw_setup(ctx, inputs, output):
    grad, window, length, n_fft, hop_length, center, pad_mode, normalized, onesided = inputs
    ctx.args = (n_fft, hop_length, center, pad_mode, normalized, onesided)
    ctx.save_for_backward(window)


def _stft_bw_backward(ctx, gg):
    (window,) = ctx.saved_tensors
    n_fft, hop_length, center, pad_mode, normalized, onesided = ctx.args
    g = _stft_op(gg, window, n_fft, hop_length, center, pad_mode, normalized, onesided,
                 _COMPLEX, 1.0)
    return g, None, None, None, None, None, None, None, None


def _istft_setup(ctx, inputs, output):
    spec, window, n_fft, hop_length, center, normalized, onesided, kind, power, length = inputs
    ctx.args = (n_fft, hop_length, center, normalized, onesided)
    ctx.kind, ctx.power, ctx.frames = kind, power, spec.shape[-1]
    ctx.save_for_backward(spec, window)


def _istft_backward(ctx, grad):
    spec, window = ctx.saved_tensors
    n_fft, hop_length, center, normalized, onesided = ctx.args
    gs = _istft_backward_op(grad, window, ctx.frames, n_fft, hop_length, center, normalized,
                            onesided)
    if ctx.kind == _COMPRESSED and ctx.power != 1.0:
        gs = _power_law_vjp(spec, gs, 1.0 / ctx.power)
    return gs, None, None, None, None, None, None, None, None, None


def _istft_bw_setup(ctx, inputs, output):
    grad, window, n_frames, n_fft, hop_length, center, normalized, onesided = inputs
    ctx.args = (n_fft, hop_length, center, normalized, onesided)
    ctx.length = grad.shape[-1]
    ctx.save_for_backward(window)


def _istft_bw_backward(ctx, gg):
    (window,) = ctx.saved_tensors
    n_fft, hop_length, center, normalized, onesided = ctx.args
    g = _istft_op(gg, window, n_fft, hop_length, center, normalized, onesided, _COMPLEX, 1.0,
                  ctx.length)
    return g, None, None, None, None, None, None, None


_stft_op.register_autograd(_stft_backward, setup_context=_stft_setup)
_stft_backward_op.register_autograd(_stft_bw_backward, setup_context=_stft_bw_setup)
_istft_op.register_autograd(_istft_backward, setup_context=_istft_setup)
_istft_backward_op.register_autograd(_istft_bw_backward, setup_context=_istft_bw_setup)


# ---- public API -----------------------------------------------------------------------------
def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer (got {type(value).__name__} {value!r})")
    return int(value)


def _is_235_smooth(n: int) -> bool:
    for f in (2, 3, 5):
        while n % f == 0:
            n //= f
    return n == 1


def _resolve_frame_args(
    n_fft: Any, hop_length: Any, win_length: Any
) -> tuple[int, int, int]:
    n_fft = _as_int(n_fft, "n_fft")
    if n_fft < 2 or not _is_235_smooth(n_fft):
        raise ValueError(f"n_fft must be a product of 2, 3 and 5, at least 2 (got {n_fft})")
    win_length = n_fft if win_length is None else _as_int(win_length, "win_length")
    if not 1 <= win_length <= n_fft:
        raise ValueError(f"win_length must be in [1, n_fft={n_fft}] (got {win_length})")
    hop_length = max(win_length // 4, 1) if hop_length is None else _as_int(hop_length, "hop_length")
    if not 1 <= hop_length <= win_length:
        raise ValueError(f"hop_length must be in [1, win_length={win_length}] (got {hop_length})")
    return n_fft, hop_length, win_length


@functools.lru_cache(maxsize=64)
def _named_window(name: str, win_length: int, n_fft: int, dtype: torch.dtype, device: str) -> Tensor:
    w = get_window(name, win_length, dtype=dtype)
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        w = torch.nn.functional.pad(w, (left, n_fft - win_length - left))
    return w.contiguous().to(device)


def _resolve_window(
    window: Any, win_length: int, n_fft: int, dtype: torch.dtype, device: Any,
    check_finite: bool = True,
) -> Tensor:
    """The analysis window zero-padded centrally to n_fft, on `device` with `dtype`."""
    if window is None:
        window = "rect"
    if isinstance(window, str):
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS} or an array (got {window!r})")
        return _named_window(window, win_length, n_fft, dtype, str(torch.device(device)))
    w = torch.as_tensor(window)
    if w.is_complex() or not w.is_floating_point():
        raise TypeError(f"window must be a real floating array (got dtype {w.dtype})")
    if w.ndim != 1 or w.shape[0] != win_length:
        raise ValueError(
            f"window must be 1-D of length win_length={win_length} (got shape {tuple(w.shape)})"
        )
    w = w.to(dtype=dtype, device=device).contiguous()
    if check_finite:
        _check_finite(w, "window")
    if win_length < n_fft:  # centred zero padding, as torch.stft does
        left = (n_fft - win_length) // 2
        w = torch.nn.functional.pad(w, (left, n_fft - win_length - left))
    return w


def _check_finite(t: Tensor, name: str) -> None:
    if torch.compiler.is_compiling():
        return
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    if t.device.type == "cpu" and t.is_contiguous() and t.dtype in (torch.float32, torch.float64):
        ok = _C.all_finite(t.data_ptr(), t.numel(), t.dtype == torch.float64)
    else:
        ok = bool(torch.isfinite(t).all())
    if not ok:
        raise ValueError(f"{name} contains NaN or Inf")


def _to_tensor(a: Any, name: str, allowed: tuple[torch.dtype, ...]) -> tuple[Tensor, bool]:
    is_numpy = isinstance(a, np.ndarray)
    if is_numpy:
        if a.dtype.byteorder not in ("=", "|", "<" if np.little_endian else ">"):
            raise TypeError(f"{name} must be in native byte order")
        try:
            t = torch.from_numpy(np.ascontiguousarray(a))
        except TypeError as exc:
            raise TypeError(f"{name} has an unsupported dtype {a.dtype}") from exc
    elif isinstance(a, Tensor):
        t = a
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray (got {type(a).__name__})")
    if t.dtype not in allowed:
        names = ", ".join(str(d).replace("torch.", "") for d in allowed)
        got = str(a.dtype) if is_numpy else str(t.dtype).replace("torch.", "")
        raise TypeError(f"{name} must have dtype {names} (got {got})")
    return t, is_numpy


def _contiguous(t: Tensor) -> Tensor:
    """t.contiguous(), with large CPU copies placed in huge pages (see _empty_cpu)."""
    t = t.resolve_conj()
    if t.is_contiguous() or t.device.type != "cpu" or type(t) is not torch.Tensor:
        return t.contiguous()
    return _empty_cpu(tuple(t.shape), t.dtype).copy_(t)


def _native_direct(t: Tensor) -> bool:
    """Call the CPU kernel without the custom-op dispatcher (about 50 us less per call) when
    nothing needs the op: no autograd, no tracing, a plain CPU tensor."""
    return (
        not FORCE_REFERENCE
        and type(t) is torch.Tensor
        and t.device.type == "cpu"
        and not (t.requires_grad and torch.is_grad_enabled())
        and not torch.compiler.is_compiling()
    )


@float32_under_autocast
def stft(
    x: Tensor | np.ndarray,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | np.ndarray | str | None = None,
    *,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool = True,
    output: str = "complex",
    power: float = 1.0,
    check_finite: bool = True,
) -> Tensor | np.ndarray:
    """Fused short-time Fourier transform (framing, window, real FFT and post-op in one pass).

    Matches ``torch.stft(..., return_complex=True)`` for ``output="complex"``.

    Args:
        x: signal, float32 or float64, ``(time,)`` or ``(batch, time)``; a torch tensor (any
            device; native kernels on CPU and CUDA) or a NumPy array (result is NumPy too).
        n_fft: FFT size; any product of 2, 3 and 5 (256, 320, 400, 480, 512, 960, 1024, ...).
        hop_length: frame step in samples (default ``win_length // 4``).
        win_length: window length (default ``n_fft``); shorter windows are zero-padded centrally.
        window: array of ``win_length`` samples, a name from ``WINDOWS``, or None (rectangular,
            as torch).
        center: pad ``n_fft // 2`` samples on both sides so frame t is centred at ``t * hop``.
        pad_mode: "reflect" or "constant" (zeros) padding when ``center``.
        normalized: multiply by ``n_fft ** -0.5``.
        onesided: return bins ``0..n_fft//2`` (else all ``n_fft``).
        output: "complex" (X), "magnitude" (|X|) or "compressed" (``|X|**power * X/|X|``, the
            power-law compressed spectrum; 0 where X == 0).
        power: compression exponent for ``output="compressed"`` (> 0).
        check_finite: raise ValueError when ``x`` holds NaN or Inf.

    Returns:
        complex64/complex128 for "complex"/"compressed", real for "magnitude".

    Shape:
        ``(batch, n_bins, n_frames)`` (no batch axis for 1-D input), ``n_bins = n_fft//2 + 1``
        when onesided.
    """
    t, is_numpy = _to_tensor(x, "x", (torch.float32, torch.float64))
    if t.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D (time,) or 2-D (batch, time) (got shape {tuple(t.shape)})")
    if t.numel() == 0:
        raise ValueError(f"x must not be empty (got shape {tuple(t.shape)})")
    n_fft, hop_length, win_length = _resolve_frame_args(n_fft, hop_length, win_length)
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be 'reflect' or 'constant' (got {pad_mode!r})")
    if output not in _KINDS:
        raise ValueError(f"output must be 'complex', 'magnitude' or 'compressed' (got {output!r})")
    power = float(power)
    if not (math.isfinite(power) and power > 0):
        raise ValueError(f"power must be a finite number > 0 (got {power})")
    length = t.shape[-1]
    pad = n_fft // 2 if center else 0
    if center and pad_mode == "reflect" and length <= pad:
        raise ValueError(
            f"x is too short for reflect padding: length {length} must exceed n_fft//2 = {pad} "
            "(use pad_mode='constant')"
        )
    if length + 2 * pad < n_fft:
        raise ValueError(f"x is shorter than one frame: length {length} < n_fft {n_fft}"
                         + (" (center=False)" if not center else ""))
    if check_finite:
        t = _contiguous(t)
        _check_finite(t, "x")
    w = _resolve_window(window, win_length, n_fft, t.dtype, t.device, check_finite)
    batched = t.ndim == 2
    op = _stft_cpu if _native_direct(t) else _stft_op
    out = op(
        t if batched else t.unsqueeze(0), w, n_fft, hop_length, bool(center),
        _PAD_MODES[pad_mode], bool(normalized), bool(onesided), _KINDS[output], power,
    )
    if not batched:
        out = out.squeeze(0)
    return out.numpy() if is_numpy else out


@float32_under_autocast
def istft(
    spec: Tensor | np.ndarray,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | np.ndarray | str | None = None,
    *,
    center: bool = True,
    normalized: bool = False,
    onesided: bool = True,
    length: int | None = None,
    input: str = "complex",  # noqa: A002 - mirrors stft's `output`
    power: float = 1.0,
    check_finite: bool = True,
) -> Tensor | np.ndarray:
    """Fused inverse STFT (undo compression, inverse real FFT, window, overlap-add, envelope).

    Matches ``torch.istft`` for ``input="complex"``; with ``input="compressed"`` the spectrum is
    first decompressed (``|Y|**(1/power) * Y/|Y|``), inverting ``stft(output="compressed")``.
    A magnitude spectrum has no phase and cannot be inverted.

    Args:
        spec: complex64/complex128 spectrum, ``(n_bins, n_frames)`` or
            ``(batch, n_bins, n_frames)``; torch tensor or NumPy array.
        n_fft, hop_length, win_length, window, center, normalized, onesided: as in ``stft``.
        length: output length (default: ``hop * (n_frames - 1)`` with ``center``, else
            ``n_fft + hop * (n_frames - 1)``); longer outputs are zero-padded, as torch does.
        input: "complex" or "compressed".
        power: the compression exponent used by ``stft``.
        check_finite: raise ValueError when ``spec`` holds NaN or Inf.

    Raises:
        ValueError: the window fails the NOLA condition (its squared overlap-add vanishes).

    Shape:
        ``(batch, length)`` (``(length,)`` for 2-D input).
    """
    s, is_numpy = _to_tensor(spec, "spec", (torch.complex64, torch.complex128))
    if s.ndim not in (2, 3):
        raise ValueError(
            f"spec must be 2-D (n_bins, n_frames) or 3-D (batch, n_bins, n_frames) (got shape "
            f"{tuple(s.shape)})"
        )
    if s.numel() == 0:
        raise ValueError(f"spec must not be empty (got shape {tuple(s.shape)})")
    n_fft, hop_length, win_length = _resolve_frame_args(n_fft, hop_length, win_length)
    nb = _n_bins(n_fft, onesided)
    if s.shape[-2] != nb:
        raise ValueError(
            f"spec must have n_bins = {nb} for n_fft={n_fft}, onesided={onesided} (got "
            f"{s.shape[-2]})"
        )
    if input == "magnitude":
        raise ValueError("input='magnitude' cannot be inverted (no phase): pass a complex spectrum")
    if input not in ("complex", "compressed"):
        raise ValueError(f"input must be 'complex' or 'compressed' (got {input!r})")
    power = float(power)
    if not (math.isfinite(power) and power > 0):
        raise ValueError(f"power must be a finite number > 0 (got {power})")
    frames = s.shape[-1]
    full = n_fft + hop_length * (frames - 1)
    if length is None:
        length = full - 2 * (n_fft // 2) if center else full
    else:
        length = _as_int(length, "length")
    if length < 1:
        raise ValueError(f"length must be >= 1 (got {length})")
    if check_finite:
        s = _contiguous(s)
        _check_finite(s, "spec")
    w = _resolve_window(window, win_length, n_fft, _real_of(s.dtype), s.device, check_finite)
    if s.device.type == "cuda":  # NOLA on a host copy of the window (the CPU kernel checks it)
        wc = _resolve_window(window, win_length, n_fft, torch.float32, "cpu", False)
        _C.istft_check_nola(wc.data_ptr(), frames, length, wc.dtype == torch.float64, n_fft,
                            hop_length, bool(center))
    batched = s.ndim == 3
    op = _istft_cpu if _native_direct(s) else _istft_op
    out = op(
        s if batched else s.unsqueeze(0), w, n_fft, hop_length, bool(center), bool(normalized),
        bool(onesided), _KINDS[input], power, length,
    )
    if not batched:
        out = out.squeeze(0)
    return out.numpy() if is_numpy else out
