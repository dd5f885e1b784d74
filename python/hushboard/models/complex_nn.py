"""Complex-valued layers for DCCRN-style models, on the fused complex convolution ops.

A complex feature map is laid out as DCCRN does: a real tensor ``(batch, 2*C, F, T)`` whose
channels ``[0, C)`` hold the real parts and ``[C, 2C)`` the imaginary parts. Channel counts given
to these modules are *complex* channel counts (``C``).

Every layer that looks along time is causal when asked (no look-ahead) and has a ``step`` form:
it consumes one new frame, keeps a small cache of past frames, and returns exactly the frame the
offline ``forward`` would produce at that time. Normalisation layers use running statistics at
inference, so they are a fixed per-channel affine map (streaming-safe); ``inference_affine``
returns it for the C++ engines.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from hushboard.ops import complex_conv2d, complex_conv_transpose2d

__all__ = [
    "ComplexBatchNorm",
    "ComplexConv2d",
    "ComplexConvTranspose2d",
    "ComplexLSTM",
    "ComplexPReLU",
    "StackedBatchNorm",
    "complex_cat",
]

LSTMState = tuple[Tensor, Tensor]


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(e, int) for e in v):
        return (int(v[0]), int(v[1]))
    raise ValueError(f"{name} must be an int or a pair of ints (got {v!r})")


def _check_map(x: Tensor, channels: int, name: str = "x") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (got {type(x).__name__})")
    if x.dim() != 4 or x.shape[1] != 2 * channels:
        raise ValueError(f"{name} must have shape (batch, {2 * channels}, freq, time) "
                         f"(got {tuple(x.shape)})")


def complex_cat(tensors: list[Tensor], dim: int = 1) -> Tensor:
    """Concatenate stacked complex maps: real halves first, then imaginary halves."""
    reals, imags = zip(*(t.chunk(2, dim) for t in tensors))
    return torch.cat(list(reals) + list(imags), dim)


def _init_complex_(wr: Tensor, wi: Tensor, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    nn.init.uniform_(wr, -bound, bound)
    nn.init.uniform_(wi, -bound, bound)


class _ComplexConvBase(nn.Module):
    """Weights, bias and the causal one-frame ``step`` shared by the two convolutions; a
    subclass supplies ``_run(x, padding, time_output_padding)`` (its op; a time output padding
    of -1 keeps the layer's own)."""

    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int], padding: int | tuple[int, int],
                 dilation: int | tuple[int, int], causal: bool, bias: bool) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.causal = bool(causal)
        kf, kt = self.kernel_size
        io = (self.in_channels, self.out_channels)
        shape = (*(io[::-1] if not self.transposed else io), kf, kt)
        self.weight_real = nn.Parameter(torch.empty(shape))
        self.weight_imag = nn.Parameter(torch.empty(shape))
        if bias:
            self.bias_real = nn.Parameter(torch.zeros(self.out_channels))
            self.bias_imag = nn.Parameter(torch.zeros(self.out_channels))
        else:
            self.register_parameter("bias_real", None)
            self.register_parameter("bias_imag", None)
        _init_complex_(self.weight_real, self.weight_imag, self.in_channels * kf * kt)

    @property
    def past_frames(self) -> int:
        """Past input frames a causal output frame reads (the ``step`` cache length)."""
        return self.dilation[1] * (self.kernel_size[1] - 1)

    def forward(self, x: Tensor) -> Tensor:
        _check_map(x, self.in_channels)
        pf, pt = self.padding
        if not self.causal:
            return self._run(x, (pf, pf, pt, pt), -1)
        # conv: pad the past; transposed: crop the trailing frames
        past = self.past_frames
        return self._run(x, (pf, pf, 0, past) if self.transposed else (pf, pf, past, 0), -1)

    def step(self, x: Tensor, cache: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One new frame ``(batch, 2*in, F, 1)`` -> one output frame, and the updated cache
        (``past_frames`` input frames; None starts from silence)."""
        if not self.causal or self.stride[1] != 1:
            raise ValueError("step needs a causal layer with time stride 1")
        _check_map(x, self.in_channels)
        if x.shape[-1] != 1:
            raise ValueError(f"x must hold one frame (got {x.shape[-1]})")
        past = self.past_frames
        if cache is None:
            cache = x.new_zeros((*x.shape[:-1], past))
        window = torch.cat([cache, x], -1)
        pf = self.padding[0]
        # the window's one complete output frame: no time padding (conv), or the history
        # cropped from both ends (transposed)
        tp = past if self.transposed else 0
        return self._run(window, (pf, pf, tp, tp), 0), window[..., 1:]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"causal={self.causal}")


class ComplexConv2d(_ComplexConvBase):
    """Complex 2-D convolution over (freq, time): ``y = W * x + b`` with complex W, b.

    Args:
        in_channels: complex input channels.
        out_channels: complex output channels.
        kernel_size: ``(kF, kT)`` or an int.
        stride: ``(sF, sT)`` or an int; streaming (``step``) needs ``sT == 1``.
        padding: zero padding along frequency (both sides) and, when not causal, along time.
        dilation: ``(dF, dT)`` or an int.
        causal: pad time only in the past (``dT * (kT - 1)`` frames): output frame t depends on
            input frames up to t.
        bias: add a learned complex bias.

    Shape:
        ``(batch, 2*in_channels, F, T)`` -> ``(batch, 2*out_channels, F', T')``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, *, causal: bool = False,
                 bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         causal, bias)

    def _run(self, x, padding, time_output_padding):
        return complex_conv2d(x, self.weight_real, self.weight_imag, self.bias_real,
                              self.bias_imag, stride=self.stride, padding=padding,
                              dilation=self.dilation)


class ComplexConvTranspose2d(_ComplexConvBase):
    """Complex 2-D transposed convolution over (freq, time).

    Args:
        in_channels: complex input channels.
        out_channels: complex output channels.
        kernel_size: ``(kF, kT)`` or an int.
        stride: ``(sF, sT)``; streaming needs ``sT == 1``.
        padding: amount cropped from both ends of the full output along frequency (and time when
            not causal), as in ``torch.nn.ConvTranspose2d``.
        output_padding: extra samples at the high end, ``(oF, oT)``.
        dilation: ``(dF, dT)``.
        causal: crop the ``dT * (kT - 1)`` trailing frames instead of padding time: output frame
            t depends on input frames up to t, and ``T' == T``.
        bias: add a learned complex bias.

    Shape:
        ``(batch, 2*in_channels, F, T)`` -> ``(batch, 2*out_channels, F', T')``.
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                 *, causal: bool = False, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         causal, bias)
        self.output_padding = _pair(output_padding, "output_padding")
        if self.causal and (self.stride[1] != 1 or self.output_padding[1] != 0):
            raise ValueError("a causal transposed convolution needs time stride 1 and time "
                             "output_padding 0")

    def _run(self, x, padding, time_output_padding):
        op = self.output_padding
        if time_output_padding >= 0:
            op = (op[0], time_output_padding)
        return complex_conv_transpose2d(
            x, self.weight_real, self.weight_imag, self.bias_real, self.bias_imag,
            stride=self.stride, padding=padding, output_padding=op, dilation=self.dilation)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output_padding={self.output_padding}"


class ComplexBatchNorm(nn.Module):
    """Complex batch normalisation (Trabelsi et al., 2018), as in the DCCRN paper.

    Training whitens each complex channel with the inverse square root of its 2x2 covariance
    over (batch, F, T), then applies a learned 2x2 scale (``gamma_rr, gamma_ri, gamma_ii``) and a
    complex shift. Inference uses running statistics, so it is a fixed affine map per channel
    (``inference_affine``): causal and streaming-safe.

    Shape:
        ``(batch, 2*C, F, T)`` -> same.
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        if not (isinstance(momentum, (int, float)) and 0.0 < momentum <= 1.0):
            raise ValueError(f"momentum must be a number in (0, 1] (got {momentum!r})")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        c = self.num_features
        self.gamma_rr = nn.Parameter(torch.full((c,), 1 / math.sqrt(2)))
        self.gamma_ii = nn.Parameter(torch.full((c,), 1 / math.sqrt(2)))
        self.gamma_ri = nn.Parameter(torch.zeros(c))
        self.beta_r = nn.Parameter(torch.zeros(c))
        self.beta_i = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean_r", torch.zeros(c))
        self.register_buffer("running_mean_i", torch.zeros(c))
        self.register_buffer("running_vrr", torch.ones(c) / 2)
        self.register_buffer("running_vii", torch.ones(c) / 2)
        self.register_buffer("running_vri", torch.zeros(c))

    @staticmethod
    def _inv_sqrt(vrr: Tensor, vri: Tensor, vii: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        s = torch.sqrt(vrr * vii - vri * vri)
        t = torch.sqrt(vrr + vii + 2 * s)
        inv = 1.0 / (s * t)
        return (vii + s) * inv, -vri * inv, (vrr + s) * inv

    def _stats(self, xr: Tensor, xi: Tensor) -> tuple[Tensor, ...]:
        dims = (0, 2, 3)
        mr, mi = xr.mean(dims), xi.mean(dims)
        cr, ci = xr - mr[:, None, None], xi - mi[:, None, None]
        vrr = (cr * cr).mean(dims) + self.eps
        vii = (ci * ci).mean(dims) + self.eps
        vri = (cr * ci).mean(dims)
        return mr, mi, vrr, vri, vii

    def inference_affine(self) -> tuple[Tensor, Tensor]:
        """``(M, b)`` with ``M (C, 2, 2)``, ``b (C, 2)``: ``[yr, yi] = M @ [xr, xi] + b``."""
        wrr, wri, wii = self._inv_sqrt(self.running_vrr, self.running_vri, self.running_vii)
        g = torch.stack([torch.stack([self.gamma_rr, self.gamma_ri], -1),
                         torch.stack([self.gamma_ri, self.gamma_ii], -1)], -2)
        w = torch.stack([torch.stack([wrr, wri], -1), torch.stack([wri, wii], -1)], -2)
        m = g @ w
        mean = torch.stack([self.running_mean_r, self.running_mean_i], -1)
        b = torch.stack([self.beta_r, self.beta_i], -1) - (m @ mean[..., None])[..., 0]
        return m, b

    def forward(self, x: Tensor) -> Tensor:
        _check_map(x, self.num_features)
        xr, xi = x.chunk(2, 1)
        if self.training:
            mr, mi, vrr, vri, vii = self._stats(xr, xi)
            with torch.no_grad():
                k = self.momentum
                for buf, v in ((self.running_mean_r, mr), (self.running_mean_i, mi),
                               (self.running_vrr, vrr), (self.running_vri, vri),
                               (self.running_vii, vii)):
                    buf.lerp_(v.detach().to(buf.dtype), k)
            wrr, wri, wii = self._inv_sqrt(vrr, vri, vii)
            cr, ci = xr - mr[:, None, None], xi - mi[:, None, None]
            w = lambda v: v[:, None, None]
            nr = w(wrr) * cr + w(wri) * ci
            ni = w(wri) * cr + w(wii) * ci
            yr = w(self.gamma_rr) * nr + w(self.gamma_ri) * ni + w(self.beta_r)
            yi = w(self.gamma_ri) * nr + w(self.gamma_ii) * ni + w(self.beta_i)
            return torch.cat([yr, yi], 1)
        m, b = self.inference_affine()
        m, b = m.to(x.dtype), b.to(x.dtype)
        e = lambda v: v[:, None, None]
        yr = e(m[:, 0, 0]) * xr + e(m[:, 0, 1]) * xi + e(b[:, 0])
        yi = e(m[:, 1, 0]) * xr + e(m[:, 1, 1]) * xi + e(b[:, 1])
        return torch.cat([yr, yi], 1)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class StackedBatchNorm(nn.BatchNorm2d):
    """Real batch normalisation over the stacked ``2*C`` channels (the public DCCRN code's
    default); ``num_features`` is the complex channel count."""

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(2 * int(num_features), eps=eps, momentum=momentum)

    def inference_affine(self) -> tuple[Tensor, Tensor]:
        """``(M, b)`` as ``ComplexBatchNorm.inference_affine`` (M is diagonal here)."""
        scale = self.weight / torch.sqrt(self.running_var + self.eps)
        shift = self.bias - self.running_mean * scale
        c = self.num_features // 2
        m = torch.zeros(c, 2, 2, dtype=scale.dtype, device=scale.device)
        m[:, 0, 0], m[:, 1, 1] = scale[:c], scale[c:]
        return m, torch.stack([shift[:c], shift[c:]], -1)


class ComplexPReLU(nn.Module):
    """PReLU applied to the real and the imaginary parts, each with its own learned slope."""

    def __init__(self, init: float = 0.25) -> None:
        super().__init__()
        self.real = nn.PReLU(init=init)
        self.imag = nn.PReLU(init=init)

    def forward(self, x: Tensor) -> Tensor:
        xr, xi = x.chunk(2, 1)
        return torch.cat([self.real(xr), self.imag(xi)], 1)


class ComplexLSTM(nn.Module):
    """Complex LSTM layer of DCCRN-CL: two real LSTMs ``L_r``, ``L_i`` and

        real = L_r(x_r) - L_i(x_i),   imag = L_r(x_i) + L_i(x_r),

    each of the four runs with its own state; an optional projection (a real linear map per
    part) follows. Causal by construction.

    Args:
        input_size: features per part (real or imaginary).
        hidden_size: hidden units per part.
        projection_size: output features per part of the projection, or None for none.

    Shape:
        ``x_r, x_i (batch, T, input_size)`` -> ``(batch, T, projection_size or hidden_size)`` x 2.
    """

    def __init__(self, input_size: int, hidden_size: int,
                 projection_size: int | None = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.lstm_r = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.lstm_i = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.proj_r = self.proj_i = None
        if projection_size is not None:
            self.proj_r = nn.Linear(hidden_size, projection_size)
            self.proj_i = nn.Linear(hidden_size, projection_size)

    def forward(self, xr: Tensor, xi: Tensor,
                state: tuple[LSTMState, LSTMState] | None = None
                ) -> tuple[Tensor, Tensor, tuple[LSTMState, LSTMState]]:
        """``state``: the (h, c) of ``L_r`` and of ``L_i``, each over the doubled batch (real
        input rows first, then imaginary)."""
        b = xr.shape[0]
        both = torch.cat([xr, xi], 0)
        sr, si = (None, None) if state is None else state
        out_r, sr = self.lstm_r(both, sr)
        out_i, si = self.lstm_i(both, si)
        real = out_r[:b] - out_i[b:]
        imag = out_r[b:] + out_i[:b]
        if self.proj_r is not None:
            real, imag = self.proj_r(real), self.proj_i(imag)
        return real, imag, (sr, si)
