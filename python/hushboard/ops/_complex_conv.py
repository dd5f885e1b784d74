"""Fused complex 2-D convolution / transposed convolution (DCCRN layout) as ``torch.library``
custom ops.

A complex feature map is either a real tensor ``(B, 2*C, F, T)`` whose channels ``[0, C)`` are
the real parts and ``[C, 2C)`` the imaginary parts, or a complex tensor ``(B, C, F, T)``. With
``W = Wr + i*Wi``: ``real = Wr*Xr - Wi*Xi + br``, ``imag = Wr*Xi + Wi*Xr + bi``.

The ops' default bodies are the pure-torch four-real-convolution references (any device). On CPU
float32 runs the fused native kernel (indirect GEMMs over a rearranged input, 3-multiplication
form; the packed-weight plan is cached per weight tensor and version);
float64 runs the native scalar reference. On CUDA float32 runs the fused CUDA kernel (one read
of the input for both output halves; csrc/cuda/complex_conv_cuda.cu), other dtypes the torch
reference on the GPU. ``HUSHBOARD_BACKEND=reference`` keeps the torch references.

Autograd (``register_autograd``): the input gradient of a complex convolution is the complex
transposed convolution of the output gradient with ``conj(W)`` (and vice versa), so it runs on
these same ops (differentiable again); weight gradients use ``torch.nn.grad.conv2d_weight`` on
the stacked real tensors (one call yields all four real blocks); bias gradients are sums.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor

from hushboard.ops._fastpath import TensorCache, float32_under_autocast
from hushboard.ops._native import _C, register_native

__all__ = ["complex_conv2d", "complex_conv_transpose2d"]

IntOrPair = Union[int, Sequence[int]]



# ---- shapes -----------------------------------------------------------------------------------
def _span(k: int, d: int) -> int:
    return d * (k - 1) + 1


def _conv_out(n: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    padded = n + lo + hi
    return 0 if padded < _span(k, d) else (padded - _span(k, d)) // s + 1


def _convt_out(n: int, k: int, s: int, d: int, lo: int, hi: int, op: int) -> int:
    return (n - 1) * s - lo - hi + _span(k, d) + op


# ---- pure-torch references (default bodies) ---------------------------------------------------
def _split(x: Tensor) -> tuple[Tensor, Tensor]:
    c = x.shape[1] // 2
    return x[:, :c], x[:, c:]


def _add_bias(re: Tensor, im: Tensor, br: Tensor | None, bi: Tensor | None) -> Tensor:
    if br is not None:
        re = re + br.view(1, -1, 1, 1)
    if bi is not None:
        im = im + bi.view(1, -1, 1, 1)
    return torch.cat([re, im], dim=1)


def _conv_reference(x, wr, wi, br, bi, stride, dilation, padding) -> Tensor:
    xr, xi = _split(F.pad(x, (padding[2], padding[3], padding[0], padding[1])))

    def conv(t, w):
        return F.conv2d(t, w, stride=tuple(stride), dilation=tuple(dilation))

    return _add_bias(conv(xr, wr) - conv(xi, wi), conv(xi, wr) + conv(xr, wi), br, bi)


def _convt_reference(x, wr, wi, br, bi, stride, dilation, padding, output_padding) -> Tensor:
    xr, xi = _split(x)

    def convt(t, w):
        return F.conv_transpose2d(t, w, stride=tuple(stride), dilation=tuple(dilation),
                                  output_padding=tuple(output_padding))

    y = _add_bias(convt(xr, wr) - convt(xi, wi), convt(xi, wr) + convt(xr, wi), br, bi)
    return y[:, :, padding[0]: y.shape[2] - padding[1], padding[2]: y.shape[3] - padding[3]]


# ---- custom ops -------------------------------------------------------------------------------
@torch.library.custom_op("hushboard::complex_conv2d", mutates_args=())
def _conv_op(
    x: Tensor, weight_real: Tensor, weight_imag: Tensor, bias_real: Tensor | None,
    bias_imag: Tensor | None, stride: list[int], dilation: list[int], padding: list[int],
) -> Tensor:
    return _conv_reference(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation,
                           padding)


@torch.library.custom_op("hushboard::complex_conv_transpose2d", mutates_args=())
def _convt_op(
    x: Tensor, weight_real: Tensor, weight_imag: Tensor, bias_real: Tensor | None,
    bias_imag: Tensor | None, stride: list[int], dilation: list[int], padding: list[int],
    output_padding: list[int],
) -> Tensor:
    return _convt_reference(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation,
                            padding, output_padding)


@_conv_op.register_fake
def _(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding):
    co, _, kf, kt = weight_real.shape
    fo = _conv_out(x.shape[2], kf, stride[0], dilation[0], padding[0], padding[1])
    to = _conv_out(x.shape[3], kt, stride[1], dilation[1], padding[2], padding[3])
    return x.new_empty((x.shape[0], 2 * co, fo, to))


@_convt_op.register_fake
def _(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding,
      output_padding):
    _, co, kf, kt = weight_real.shape
    fo = _convt_out(x.shape[2], kf, stride[0], dilation[0], padding[0], padding[1],
                    output_padding[0])
    to = _convt_out(x.shape[3], kt, stride[1], dilation[1], padding[2], padding[3],
                    output_padding[1])
    return x.new_empty((x.shape[0], 2 * co, fo, to))


# ---- native CPU kernels -----------------------------------------------------------------------
# Packed-weight plans of the float32 kernel, reused while the weight / bias tensors are the same
# objects, unmodified (``TensorCache``: an in-place update, e.g. an optimizer step, makes a new
# plan). Keyed per Python thread: a plan owns its scratch buffer.
_PLAN_CACHE = TensorCache(64, per_thread=True)


def _plan_for(transposed: bool, wr: Tensor, wi: Tensor, br: Tensor | None,
              bi: Tensor | None, stride, dilation, padding, output_padding):
    def arr(t):
        return None if t is None else t.detach().contiguous().numpy()

    def build():
        cls = _C.ComplexConvTranspose2dPlan if transposed else _C.ComplexConv2dPlan
        return cls(arr(wr), arr(wi), arr(br), arr(bi), stride=list(stride),
                   dilation=list(dilation), padding=list(padding),
                   output_padding=list(output_padding))

    key = (transposed, tuple(stride), tuple(dilation), tuple(padding), tuple(output_padding))
    return _PLAN_CACHE.get(key, (wr, wi, br, bi), build)


def _native_cpu(transposed: bool, x, wr, wi, br, bi, stride, dilation, padding, output_padding):
    if x.dtype not in (torch.float32, torch.float64):
        ref = _convt_reference if transposed else _conv_reference
        extra = (output_padding,) if transposed else ()
        return ref(x, wr, wi, br, bi, stride, dilation, padding, *extra)
    dt = x.dtype
    if (dt == torch.float32 and wr.dtype == dt and wi.dtype == dt
            and all(b is None or b.dtype == dt for b in (br, bi))):
        plan = _plan_for(transposed, wr, wi, br, bi, stride, dilation, padding, output_padding)
        b, _, f, t = x.shape
        fo, to = plan.out_size(f, t)
        cout = wr.shape[1] if transposed else wr.shape[0]
        cin = x.shape[1] // 2
        # threads only pay for problems of more than ~1 MFLOP
        flops = 6 * b * cout * cin * wr.shape[2] * wr.shape[3] * fo * to
        nt = _C.get_num_threads() if flops > (1 << 20) else 1
        y = plan.forward(x.detach().contiguous().numpy(), nt)
        return torch.from_numpy(y)
    x = x.contiguous()
    wr = wr.to(dt).contiguous()
    wi = wi.to(dt).contiguous()
    br = None if br is None else br.to(dt).contiguous()
    bi = None if bi is None else bi.to(dt).contiguous()
    b, c2, f, t = x.shape
    if transposed:
        cin, cout = wr.shape[0], wr.shape[1]
    else:
        cout, cin = wr.shape[0], wr.shape[1]
    kernel = (wr.shape[2], wr.shape[3])
    fo, to = _C.complex_conv_out_size(transposed, f, t, cin, cout, kernel, stride, dilation,
                                      padding, output_padding)
    y = torch.empty((b, 2 * cout, fo, to), dtype=dt)
    _C.complex_conv_forward(
        transposed, x.data_ptr(), b, f, t, wr.data_ptr(), wi.data_ptr(),
        0 if br is None else br.data_ptr(), 0 if bi is None else bi.data_ptr(), y.data_ptr(),
        dt == torch.float64, cin, cout, kernel, stride, dilation, padding, output_padding,
    )
    return y


@register_native("hushboard::complex_conv2d", "cpu")
def _conv_cpu(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding):
    return _native_cpu(False, x, weight_real, weight_imag, bias_real, bias_imag, stride,
                       dilation, padding, [0, 0])


@register_native("hushboard::complex_conv_transpose2d", "cpu")
def _convt_cpu(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding,
               output_padding):
    return _native_cpu(True, x, weight_real, weight_imag, bias_real, bias_imag, stride,
                       dilation, padding, output_padding)


# ---- native CUDA kernels (float32; other dtypes run the torch reference on the GPU) -----------
def _native_cuda(transposed: bool, x, wr, wi, br, bi, stride, dilation, padding, output_padding):
    dt = torch.float32
    if not (_C.WITH_CUDA and x.dtype == dt and wr.dtype == dt and wi.dtype == dt
            and all(b is None or b.dtype == dt for b in (br, bi))):
        ref = _convt_reference if transposed else _conv_reference
        extra = (output_padding,) if transposed else ()
        return ref(x, wr, wi, br, bi, stride, dilation, padding, *extra)
    x = x.contiguous()
    wr, wi = wr.contiguous(), wi.contiguous()
    br = None if br is None else br.contiguous()
    bi = None if bi is None else bi.contiguous()
    b, _, f, t = x.shape
    cin, cout = (wr.shape[0], wr.shape[1]) if transposed else (wr.shape[1], wr.shape[0])
    kernel = (wr.shape[2], wr.shape[3])
    fo, to = _C.complex_conv_out_size(transposed, f, t, cin, cout, kernel, stride, dilation,
                                      padding, output_padding)
    y = torch.empty((b, 2 * cout, fo, to), dtype=dt, device=x.device)
    if y.numel() == 0:
        return y
    with torch.cuda.device(x.device):
        _C.complex_conv_forward_cuda(
            transposed, x.data_ptr(), b, f, t, wr.data_ptr(), wi.data_ptr(),
            0 if br is None else br.data_ptr(), 0 if bi is None else bi.data_ptr(), y.data_ptr(),
            torch.cuda.current_stream().cuda_stream, cin, cout, kernel, stride, dilation,
            padding, output_padding,
        )
    return y


@register_native("hushboard::complex_conv2d", "cuda")
def _conv_cuda(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding):
    return _native_cuda(False, x, weight_real, weight_imag, bias_real, bias_imag, stride,
                        dilation, padding, [0, 0])


@register_native("hushboard::complex_conv_transpose2d", "cuda")
def _convt_cuda(x, weight_real, weight_imag, bias_real, bias_imag, stride, dilation, padding,
                output_padding):
    return _native_cuda(True, x, weight_real, weight_imag, bias_real, bias_imag, stride,
                        dilation, padding, output_padding)


# ---- autograd ---------------------------------------------------------------------------------
def _weight_blocks(g: Tensor, n_out: int, n_in: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    return g[:n_out, :n_in], g[:n_out, n_in:], g[n_out:, :n_in], g[n_out:, n_in:]


def _setup(ctx, inputs, output):
    """Both ops: (x, wr, wi, br, bi, stride, dilation, padding[, output_padding])."""
    x, wr, wi, br, bi, stride, dilation, padding = inputs[:8]
    ctx.args = (list(stride), list(dilation), list(padding))
    ctx.has_bias = (br is not None, bi is not None)
    ctx.save_for_backward(x, wr, wi)


def _conv_backward(ctx, grad):
    x, wr, wi = ctx.saved_tensors
    stride, dilation, padding = ctx.args
    co, ci, kf, kt = wr.shape
    gx = gwr = gwi = gbr = gbi = None
    if ctx.needs_input_grad[0]:
        # conv over the padded input covers (Fo-1)*s + span rows; the rest get zero gradient
        op = []
        for dim, (k, s, d, lo, hi) in enumerate(
            [(kf, stride[0], dilation[0], padding[0], padding[1]),
             (kt, stride[1], dilation[1], padding[2], padding[3])]
        ):
            n = x.shape[2 + dim]
            used = (grad.shape[2 + dim] - 1) * s + _span(k, d)
            op.append(n + lo + hi - used)
        gx = _convt_op(grad, wr, -wi, None, None, stride, dilation, padding, op)
    if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
        xp = F.pad(x, (padding[2], padding[3], padding[0], padding[1]))
        g = torch.nn.grad.conv2d_weight(xp, (2 * co, 2 * ci, kf, kt), grad, stride=stride,
                                        dilation=dilation)
        rr, ri, ir, ii = _weight_blocks(g, co, ci)
        gwr, gwi = rr + ii, ir - ri
    if ctx.has_bias[0]:
        gbr = grad[:, :co].sum(dim=(0, 2, 3))
    if ctx.has_bias[1]:
        gbi = grad[:, co:].sum(dim=(0, 2, 3))
    return gx, gwr, gwi, gbr, gbi, None, None, None


def _convt_backward(ctx, grad):
    x, wr, wi = ctx.saved_tensors
    stride, dilation, padding = ctx.args
    ci, co, kf, kt = wr.shape
    f, t = x.shape[2], x.shape[3]
    gx = gwr = gwi = gbr = gbi = None
    if ctx.needs_input_grad[0]:
        gx = _conv_op(grad, wr, -wi, None, None, stride, dilation, padding)[:, :, :f, :t]
    if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
        gp = F.pad(grad, (padding[2], padding[3], padding[0], padding[1]))
        fo = _conv_out(gp.shape[2], kf, stride[0], dilation[0], 0, 0)
        to = _conv_out(gp.shape[3], kt, stride[1], dilation[1], 0, 0)
        xe = F.pad(x, (0, to - t, 0, fo - f))  # output_padding >= stride: rows past the input
        g = torch.nn.grad.conv2d_weight(gp, (2 * ci, 2 * co, kf, kt), xe, stride=stride,
                                        dilation=dilation)
        rr, ri, ir, ii = _weight_blocks(g, ci, co)
        gwr, gwi = rr + ii, ri - ir
    if ctx.has_bias[0]:
        gbr = grad[:, :co].sum(dim=(0, 2, 3))
    if ctx.has_bias[1]:
        gbi = grad[:, co:].sum(dim=(0, 2, 3))
    return gx, gwr, gwi, gbr, gbi, None, None, None, None


torch.library.register_autograd("hushboard::complex_conv2d", _conv_backward,
                                setup_context=_setup)
torch.library.register_autograd("hushboard::complex_conv_transpose2d", _convt_backward,
                                setup_context=_setup)


# ---- argument handling ------------------------------------------------------------------------
def _pair(v: IntOrPair, name: str, *, minimum: int) -> list[int]:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        out = [int(v), int(v)]
    elif (isinstance(v, Sequence) and len(v) == 2
          and all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in v)):
        out = [int(i) for i in v]
    else:
        raise TypeError(f"{name} must be an int or a pair of ints (got {v!r})")
    if min(out) < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {v!r})")
    return out


def _padding4(v, name: str, causal: bool, causal_amount: int) -> list[int]:
    """int p -> (p, p, p, p) (with causal: (p, p) in F only); (pF, pT) -> (pF, pF, pT, pT);
    4 ints as given. causal=True moves all time padding/cropping to one side and requires the
    given time amounts to be 0."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        p = [int(v)] * 2 + ([0, 0] if causal else [int(v)] * 2)
    elif isinstance(v, Sequence) and len(v) in (2, 4) and all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in v
    ):
        p = [int(v[0]), int(v[0]), int(v[1]), int(v[1])] if len(v) == 2 else [int(i) for i in v]
    else:
        raise TypeError(f"{name} must be an int, a pair (pF, pT) or 4 ints "
                        f"(f_low, f_high, t_low, t_high) (got {v!r})")
    if min(p) < 0:
        raise ValueError(f"{name} must be non-negative (got {v!r})")
    if causal:
        if p[2] or p[3]:
            raise ValueError(f"{name} must have zero time entries with causal=True, which sets "
                             f"them itself (got {v!r})")
        p[2:] = causal_amount
    return p


def _prepare(x, weight_real, weight_imag, bias_real, bias_imag, transposed: bool):
    for name, t in (("x", x), ("weight_real", weight_real), ("weight_imag", weight_imag)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (got {type(t).__name__})")
    if x.dim() != 4:
        raise ValueError(f"x must be 4-D (batch, channels, F, T) (got shape {tuple(x.shape)})")
    is_complex = x.is_complex()
    if is_complex:
        if x.dtype not in (torch.complex64, torch.complex128):
            raise TypeError(f"x must be complex64 or complex128 (got {x.dtype})")
        xs = torch.cat([x.real, x.imag], dim=1)
    else:
        if x.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"x must be float32, float64 or complex (got {x.dtype})")
        if x.shape[1] % 2:
            raise ValueError("x must have an even channel count (real parts then imaginary "
                             f"parts) (got {x.shape[1]})")
        xs = x
    dt = xs.dtype
    if weight_real.dim() != 4:
        raise ValueError(f"weight_real must be 4-D (got shape {tuple(weight_real.shape)})")
    if weight_imag.shape != weight_real.shape:
        raise ValueError(f"weight_imag must have the shape of weight_real {tuple(weight_real.shape)}"
                         f" (got {tuple(weight_imag.shape)})")
    for name, t in (("weight_real", weight_real), ("weight_imag", weight_imag)):
        if t.dtype != dt:
            raise TypeError(f"{name} must have dtype {dt} like x (got {t.dtype})")
    cin = xs.shape[1] // 2
    w_in, w_out = ((weight_real.shape[0], weight_real.shape[1]) if transposed
                   else (weight_real.shape[1], weight_real.shape[0]))
    if w_in != cin:
        raise ValueError(f"x has {cin} complex input channels but weight_real expects {w_in}")
    for name, b in (("bias_real", bias_real), ("bias_imag", bias_imag)):
        if b is None:
            continue
        if not isinstance(b, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor or None (got {type(b).__name__})")
        if b.shape != (w_out,):
            raise ValueError(f"{name} must have shape ({w_out},) (got {tuple(b.shape)})")
        if b.dtype != dt:
            raise TypeError(f"{name} must have dtype {dt} like x (got {b.dtype})")
    return xs, is_complex, w_out


def _finish(y: Tensor, is_complex: bool, cout: int) -> Tensor:
    return torch.complex(y[:, :cout], y[:, cout:]) if is_complex else y


def _check_out(fo: int, to: int, shape) -> None:
    if fo < 1 or to < 1:
        raise ValueError(f"output size must be positive (got ({fo}, {to}) for input (F, T) = "
                         f"{tuple(shape[2:])})")


@float32_under_autocast
def complex_conv2d(
    x: Tensor, weight_real: Tensor, weight_imag: Tensor, bias_real: Tensor | None = None,
    bias_imag: Tensor | None = None, *, stride: IntOrPair = 1,
    padding: int | Sequence[int] = 0, dilation: IntOrPair = 1, causal: bool = False,
) -> Tensor:
    """Complex 2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``).

    Args:
        x: real ``(B, 2*Cin, F, T)`` (real parts, then imaginary parts) or complex
            ``(B, Cin, F, T)``.
        weight_real, weight_imag: ``(Cout, Cin, kF, kT)``, the dtype of x's real parts.
        bias_real, bias_imag: optional ``(Cout,)``.
        stride, dilation: int or ``(F, T)`` pair, >= 1.
        padding: zero padding: an int p (p on every side), a pair ``(pF, pT)`` or 4 ints
            ``(f_low, f_high, t_past, t_future)``.
        causal: pad time by ``dilation_t*(kT-1)`` in the past only (no look-ahead). The given
            time padding must then be 0 (an int padding then applies to F only).

    Returns:
        ``(B, 2*Cout, Fo, To)`` real, or ``(B, Cout, Fo, To)`` complex for complex x.

    Shape:
        ``Fo = (F + f_low + f_high - dF*(kF-1) - 1) // sF + 1`` (likewise To).
    """
    xs, is_complex, cout = _prepare(x, weight_real, weight_imag, bias_real, bias_imag, False)
    s = _pair(stride, "stride", minimum=1)
    d = _pair(dilation, "dilation", minimum=1)
    kf, kt = weight_real.shape[2], weight_real.shape[3]
    p = _padding4(padding, "padding", causal, [d[1] * (kt - 1), 0])
    _check_out(_conv_out(xs.shape[2], kf, s[0], d[0], p[0], p[1]),
               _conv_out(xs.shape[3], kt, s[1], d[1], p[2], p[3]), xs.shape)
    y = _conv_op(xs, weight_real, weight_imag, bias_real, bias_imag, s, d, p)
    return _finish(y, is_complex, cout)


@float32_under_autocast
def complex_conv_transpose2d(
    x: Tensor, weight_real: Tensor, weight_imag: Tensor, bias_real: Tensor | None = None,
    bias_imag: Tensor | None = None, *, stride: IntOrPair = 1,
    padding: int | Sequence[int] = 0, output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1, causal: bool = False,
) -> Tensor:
    """Complex 2-D transposed convolution (as ``torch.nn.functional.conv_transpose2d``).

    Args:
        x: real ``(B, 2*Cin, F, T)`` or complex ``(B, Cin, F, T)``.
        weight_real, weight_imag: ``(Cin, Cout, kF, kT)`` (ConvTranspose2d layout).
        bias_real, bias_imag: optional ``(Cout,)``.
        stride, dilation: int or ``(F, T)`` pair, >= 1.
        padding: amounts cropped from the full transposed output: an int p (torch's padding),
            a pair ``(pF, pT)`` or 4 ints ``(f_low, f_high, t_begin, t_end)``.
        output_padding: int or pair, each in ``[0, max(stride, dilation))`` (as torch).
        causal: crop ``dilation_t*(kT-1)`` frames at the end only, so output frame t depends
            on input frames <= t. The given time padding must then be 0 (an int padding then
            applies to F only).

    Returns:
        ``(B, 2*Cout, Fo, To)`` real, or ``(B, Cout, Fo, To)`` complex for complex x.

    Shape:
        ``Fo = (F-1)*sF - f_low - f_high + dF*(kF-1) + output_padding_f + 1`` (likewise To).
    """
    xs, is_complex, cout = _prepare(x, weight_real, weight_imag, bias_real, bias_imag, True)
    s = _pair(stride, "stride", minimum=1)
    d = _pair(dilation, "dilation", minimum=1)
    op = _pair(output_padding, "output_padding", minimum=0)
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
        raise ValueError(f"output_padding must be smaller than max(stride, dilation) per "
                         f"dimension (got {output_padding!r})")
    kf, kt = weight_real.shape[2], weight_real.shape[3]
    p = _padding4(padding, "padding", causal, [0, d[1] * (kt - 1)])
    _check_out(_convt_out(xs.shape[2], kf, s[0], d[0], p[0], p[1], op[0]),
               _convt_out(xs.shape[3], kt, s[1], d[1], p[2], p[3], op[1]), xs.shape)
    y = _convt_op(xs, weight_real, weight_imag, bias_real, bias_imag, s, d, p, op)
    return _finish(y, is_complex, cout)
