"""DCCRN: the deep complex convolution recurrent network for speech enhancement (Hu et al.,
Interspeech 2020), causal and streamable, on hushboard's fused STFT and complex convolutions.

Signal path (16 kHz): STFT (n_fft 512, window 400 sqrt-Hann, hop 100) -> drop the DC bin ->
complex encoder (kernel (5, 2), stride (2, 1), causal in time; each layer conv -> norm ->
PReLU) -> complex LSTM (DCCRN-CL) or real LSTM (DCCRN-R) over time -> complex decoder (transposed
convs with skip connections) -> complex ratio mask, mode E -> iSTFT.

Mask mode E: ``Y = |X| tanh(|M|) exp(i(angle X + angle M))``, computed as
``Y = X * M * tanh(|M|) / |M|``.

Offline ``forward`` and the hop-by-hop ``step`` agree to float rounding; the C++ engine
(``hushboard.fx.DCCRNDenoiser``) runs the same computation without Python per frame.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from hushboard.models._weights import (
    check_state_dict,
    config_from_dict,
    config_from_metadata,
    read_weights_file,
)
from hushboard.models.complex_nn import (
    ComplexBatchNorm,
    ComplexConv2d,
    ComplexConvTranspose2d,
    ComplexLSTM,
    ComplexPReLU,
    StackedBatchNorm,
    complex_cat,
)
from hushboard.ops import get_window, istft, stft

__all__ = ["CONFIGS", "DCCRN", "DCCRNConfig", "si_snr_loss"]


@dataclass(frozen=True)
class DCCRNConfig:
    """Architecture of a DCCRN.

    Attributes:
        channels: encoder output channels per layer, counted as DCCRN does (real and imaginary
            channels together: 32 means 16 complex channels).
        rnn: "complex" (DCCRN-CL) or "real" (DCCRN-R).
        rnn_layers: recurrent layers.
        rnn_units: recurrent units (complex: split in half between the parts, as in DCCRN).
        norm: "cbn" (complex batch norm, the paper), "bn" (real batch norm over the stacked
            channels, the public code's default) or "none".
        kernel_size, stride: encoder/decoder kernel and stride over (freq, time).
        sample_rate, n_fft, win_length, hop_length, window: the STFT.
    """

    channels: tuple[int, ...] = (32, 64, 128, 256, 256, 256)
    rnn: str = "complex"
    rnn_layers: int = 2
    rnn_units: int = 256
    norm: str = "cbn"
    kernel_size: tuple[int, int] = (5, 2)
    stride: tuple[int, int] = (2, 1)
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 100
    window: str = "sqrt_hann"

    def __post_init__(self) -> None:
        for name in ("kernel_size", "stride"):
            v = getattr(self, name)
            if not (isinstance(v, tuple) and len(v) == 2
                    and all(isinstance(e, int) and not isinstance(e, bool) and e >= 1 for e in v)):
                raise ValueError(f"{name} must be a pair of positive ints (got {v!r})")
        if self.kernel_size[0] % 2 == 0:
            raise ValueError(f"kernel_size[0] must be odd (same-size padding along frequency; "
                             f"got {self.kernel_size[0]})")
        if not (isinstance(self.channels, tuple) and all(isinstance(c, int) for c in self.channels)):
            raise ValueError(f"channels must be a tuple of ints (got {self.channels!r})")
        if not 1 <= self.win_length <= self.n_fft:
            raise ValueError(f"win_length must be in [1, n_fft={self.n_fft}] "
                             f"(got {self.win_length})")
        if not 1 <= self.hop_length <= self.win_length:
            raise ValueError(f"hop_length must be in [1, win_length={self.win_length}] "
                             f"(got {self.hop_length})")
        if not self.channels or any(c < 2 or c % 2 for c in self.channels):
            raise ValueError(f"channels must be even counts > 0 (got {self.channels})")
        if self.rnn not in ("complex", "real"):
            raise ValueError(f"rnn must be 'complex' or 'real' (got {self.rnn!r})")
        if self.norm not in ("cbn", "bn", "none"):
            raise ValueError(f"norm must be 'cbn', 'bn' or 'none' (got {self.norm!r})")
        if self.rnn_layers < 1 or self.rnn_units < 2 or (self.rnn == "complex"
                                                        and self.rnn_units % 2):
            raise ValueError("rnn_layers must be >= 1 and rnn_units >= 2 (even for complex)")
        if self.stride[1] != 1:
            raise ValueError("a streamable DCCRN needs time stride 1")
        bins = self.n_fft // 2
        if bins % (self.stride[0] ** len(self.channels)):
            raise ValueError(f"n_fft/2 = {bins} must be divisible by stride^layers")

    @property
    def freq_bins(self) -> int:
        """Bins the network sees (the DC bin is dropped)."""
        return self.n_fft // 2

    @property
    def bottleneck_freq(self) -> int:
        return self.freq_bins // self.stride[0] ** len(self.channels)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DCCRNConfig:
        return config_from_dict(cls, d, "DCCRN")


CONFIGS: dict[str, DCCRNConfig] = {
    # the paper's DCCRN-CL: ~3.7 M parameters
    "dccrn-cl": DCCRNConfig(),
    # the paper's DCCRN-R: a real LSTM over the stacked real/imaginary features
    "dccrn-r": DCCRNConfig(rnn="real"),
    # one CPU core, a few percent of it: small convolutions, one real LSTM layer; 0.41 M
    # parameters, 4.8 M MACs per frame (0.76 GMAC/s); real-time factor ~0.04 in the C++ engine
    "dccrn-lite": DCCRNConfig(channels=(16, 32, 32, 64, 64, 64), rnn="real", rnn_layers=1,
                              rnn_units=128),
}


def si_snr_loss(estimate: Tensor, reference: Tensor, eps: float = 1e-8) -> Tensor:
    """Negative scale-invariant SNR in dB, averaged over the batch (DCCRN's training loss).

    Shape:
        ``(batch, time)`` or ``(time,)`` for both.
    """
    if estimate.shape != reference.shape:
        raise ValueError(f"estimate and reference shapes differ: {tuple(estimate.shape)} vs "
                         f"{tuple(reference.shape)}")
    est = estimate - estimate.mean(-1, keepdim=True)
    ref = reference - reference.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / ((ref * ref).sum(-1, keepdim=True) + eps) * ref
    noise = est - proj
    ratio = (proj * proj).sum(-1) / ((noise * noise).sum(-1) + eps)
    return -(10 * torch.log10(ratio + eps)).mean()


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "cbn":
        return ComplexBatchNorm(channels)
    if kind == "bn":
        return StackedBatchNorm(channels)
    return nn.Identity()


class _EncoderLayer(nn.Module):
    def __init__(self, cin: int, cout: int, cfg: DCCRNConfig) -> None:
        super().__init__()
        kf = cfg.kernel_size[0]
        self.conv = ComplexConv2d(cin, cout, cfg.kernel_size, cfg.stride, (kf // 2, 0),
                                  causal=True)
        self.norm = _norm(cfg.norm, cout)
        self.act = ComplexPReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))

    def step(self, x: Tensor, cache: Tensor | None) -> tuple[Tensor, Tensor]:
        y, cache = self.conv.step(x, cache)
        return self.act(self.norm(y)), cache


class _DecoderLayer(nn.Module):
    def __init__(self, cin: int, cout: int, cfg: DCCRNConfig, last: bool) -> None:
        super().__init__()
        kf = cfg.kernel_size[0]
        self.conv = ComplexConvTranspose2d(cin, cout, cfg.kernel_size, cfg.stride, (kf // 2, 0),
                                           (cfg.stride[0] - 1, 0), causal=True)
        self.last = last
        self.norm = nn.Identity() if last else _norm(cfg.norm, cout)
        self.act = nn.Identity() if last else ComplexPReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))

    def step(self, x: Tensor, cache: Tensor | None) -> tuple[Tensor, Tensor]:
        y, cache = self.conv.step(x, cache)
        return self.act(self.norm(y)), cache


class DCCRN(nn.Module):
    """Causal DCCRN speech enhancer.

    Args:
        config: a ``DCCRNConfig`` or the name of one in ``CONFIGS``
            ("dccrn-cl", "dccrn-r", "dccrn-lite").

    Shape:
        ``forward``: noisy ``(batch, time)`` or ``(time,)`` float32 at ``sample_rate`` ->
        enhanced, same shape.
    """

    def __init__(self, config: DCCRNConfig | str = "dccrn-cl") -> None:
        super().__init__()
        if isinstance(config, str):
            if config not in CONFIGS:
                raise ValueError(f"unknown DCCRN config {config!r}; available: "
                                 f"{', '.join(CONFIGS)}")
            config = CONFIGS[config]
        self.config = cfg = config
        complex_ch = [c // 2 for c in cfg.channels]
        ins = [1] + complex_ch[:-1]
        self.encoder = nn.ModuleList(_EncoderLayer(i, o, cfg) for i, o in zip(ins, complex_ch))
        n = len(complex_ch)
        self.decoder = nn.ModuleList(
            _DecoderLayer(2 * complex_ch[n - 1 - k], ins[n - 1 - k], cfg, last=k == n - 1)
            for k in range(n))
        feat = complex_ch[-1] * cfg.bottleneck_freq  # features per part
        if cfg.rnn == "complex":
            half = cfg.rnn_units // 2
            self.rnn = nn.ModuleList(
                ComplexLSTM(feat if k == 0 else half, half,
                            feat if k == cfg.rnn_layers - 1 else None)
                for k in range(cfg.rnn_layers))
        else:
            self.rnn = nn.LSTM(2 * feat, cfg.rnn_units, cfg.rnn_layers, batch_first=True)
            self.rnn_proj = nn.Linear(cfg.rnn_units, 2 * feat)
        self.register_buffer("window", get_window(cfg.window, cfg.win_length), persistent=False)

    # ---- spectra ------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def _stft(self, x: Tensor) -> Tensor:
        c = self.config
        return stft(x, c.n_fft, c.hop_length, c.win_length, self.window.to(x.dtype),
                    center=True, pad_mode="constant")

    def _istft(self, spec: Tensor, length: int) -> Tensor:
        c = self.config
        return istft(spec, c.n_fft, c.hop_length, c.win_length, self.window.to(spec.real.dtype),
                     center=True, length=length)

    @staticmethod
    def apply_mask(spec: Tensor, mask: Tensor) -> Tensor:
        """Mask mode E on complex ``spec`` with a stacked mask ``(batch, 2, bins-1, T)`` (no DC:
        the DC bin is zeroed)."""
        mr, mi = mask[:, 0], mask[:, 1]
        mag = torch.sqrt(mr * mr + mi * mi + 1e-16)
        scale = torch.tanh(mag) / mag
        m = torch.complex(mr * scale, mi * scale)
        out = spec[:, 1:] * m
        return torch.cat([torch.zeros_like(spec[:, :1]), out], 1)

    # ---- network on the spectrum --------------------------------------------------------------
    def _to_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b, c2, f, t = x.shape
        xr, xi = x.chunk(2, 1)
        return (xr.permute(0, 3, 1, 2).reshape(b, t, c2 // 2 * f),
                xi.permute(0, 3, 1, 2).reshape(b, t, c2 // 2 * f))

    @staticmethod
    def _from_features(fr: Tensor, fi: Tensor, c: int, f: int) -> Tensor:
        b, t, _ = fr.shape
        return torch.cat([fr.reshape(b, t, c, f).permute(0, 2, 3, 1),
                          fi.reshape(b, t, c, f).permute(0, 2, 3, 1)], 1)

    def _rnn(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        c, f = x.shape[1] // 2, x.shape[2]
        fr, fi = self._to_features(x)
        if self.config.rnn == "complex":
            states = [None] * len(self.rnn) if state is None else list(state)
            for k, layer in enumerate(self.rnn):
                fr, fi, states[k] = layer(fr, fi, states[k])
            state = states
        else:
            out, state = self.rnn(torch.cat([fr, fi], -1), state)
            fr, fi = self.rnn_proj(out).chunk(2, -1)
        return self._from_features(fr, fi, c, f), state

    def mask(self, spec: Tensor) -> Tensor:
        """The stacked complex mask ``(batch, 2, bins-1, T)`` for a complex spectrum
        ``(batch, bins, T)``."""
        x = torch.stack([spec.real[:, 1:], spec.imag[:, 1:]], 1)
        skips = []
        for layer in self.encoder:
            x = layer(x)
            skips.append(x)
        x, _ = self._rnn(x)
        for layer, skip in zip(self.decoder, reversed(skips)):
            x = layer(complex_cat([x, skip]))
        return x

    def forward(self, noisy: Tensor) -> Tensor:
        if not isinstance(noisy, Tensor) or not noisy.is_floating_point():
            raise TypeError("noisy must be a floating-point torch.Tensor")
        if noisy.dtype != self.window.dtype:
            raise TypeError(f"noisy has dtype {noisy.dtype} but the model is "
                            f"{self.window.dtype} (convert one of them)")
        one_d = noisy.dim() == 1
        x = noisy[None] if one_d else noisy
        if x.dim() != 2:
            raise ValueError(f"noisy must be (time,) or (batch, time) (got {tuple(noisy.shape)})")
        spec = self._stft(x)
        y = self._istft(self.apply_mask(spec, self.mask(spec)), x.shape[-1])
        return y[0] if one_d else y

    @torch.no_grad()
    def flip_polarity(self) -> None:
        """Negate the model's output, exactly: the last decoder layer's weights and biases change
        sign, so its mask ``M`` becomes ``-M``, which in mask mode E has the same magnitude and a
        phase turned by pi, and the enhanced signal becomes ``-y``. SI-SNR (the training loss)
        cannot see the sign, so a DCCRN trained from scratch may end with its output inverted;
        the training loop calls this when the output is anti-correlated with the clean speech
        (``hushboard.train.loop.fix_polarity``)."""
        for p in self.decoder[-1].conv.parameters():
            p.neg_()

    # ---- one frame at a time --------------------------------------------------------------------
    def step(self, frame: Tensor, state: dict[str, Any] | None = None
             ) -> tuple[Tensor, dict[str, Any]]:
        """Enhance one complex STFT frame ``(batch, bins)``; returns the masked frame and the new
        state (None starts from silence). Equal to the matching frame of the offline path."""
        bins = self.config.n_fft // 2 + 1
        if not isinstance(frame, Tensor) or not frame.is_complex() or frame.dim() != 2 \
                or frame.shape[1] != bins:
            raise ValueError(f"frame must be a complex tensor of shape (batch, {bins})")
        if self.training:
            raise RuntimeError("step runs the model in eval mode (call .eval() first): batch "
                               "statistics of one frame are not the offline model's")
        if state is None:
            state = {"enc": [None] * len(self.encoder), "dec": [None] * len(self.decoder),
                     "rnn": None}
        x = torch.stack([frame.real[:, 1:], frame.imag[:, 1:]], 1)[..., None]
        skips, enc, dec = [], list(state["enc"]), list(state["dec"])
        for k, layer in enumerate(self.encoder):
            x, enc[k] = layer.step(x, enc[k])
            skips.append(x)
        x, rnn = self._rnn(x, state["rnn"])
        for k, (layer, skip) in enumerate(zip(self.decoder, reversed(skips))):
            x, dec[k] = layer.step(complex_cat([x, skip]), dec[k])
        out = self.apply_mask(frame[..., None], x)[..., 0]
        return out, {"enc": enc, "dec": dec, "rnn": rnn}

    # ---- sizes ----------------------------------------------------------------------------------
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def macs_per_frame(self) -> int:
        """Real multiply-accumulates per STFT frame (4 per complex MAC in the convolutions, the
        LSTMs' gates and projections; norms, activations and the STFT not counted)."""
        cfg, total = self.config, 0
        f = cfg.freq_bins
        kf, kt = cfg.kernel_size
        for layer in self.encoder:
            f //= cfg.stride[0]
            total += 4 * layer.conv.in_channels * layer.conv.out_channels * kf * kt * f
        for layer in self.decoder:
            f *= cfg.stride[0]
            total += 4 * layer.conv.in_channels * layer.conv.out_channels * kf * kt * f // (
                cfg.stride[0])
        if cfg.rnn == "complex":
            for layer in self.rnn:
                for lstm in (layer.lstm_r, layer.lstm_i):
                    total += 2 * 4 * lstm.hidden_size * (lstm.input_size + lstm.hidden_size)
                if layer.proj_r is not None:
                    total += 2 * layer.proj_r.in_features * layer.proj_r.out_features
        else:
            for k in range(cfg.rnn_layers):
                i = self.rnn.input_size if k == 0 else cfg.rnn_units
                total += 4 * cfg.rnn_units * (i + cfg.rnn_units)
            total += self.rnn_proj.in_features * self.rnn_proj.out_features
        return total

    def macs_per_second(self) -> float:
        return self.macs_per_frame() * self.config.sample_rate / self.config.hop_length

    # ---- weights --------------------------------------------------------------------------------
    @torch.no_grad()
    def engine_weights(self) -> dict[str, Any]:
        """The inference-time weights as float32 NumPy arrays for the C++ engine: normalisation
        folded to a 2x2 affine map per complex channel, LSTM biases summed."""
        import numpy as np

        def arr(t: Tensor) -> np.ndarray:
            return np.ascontiguousarray(t.detach().float().cpu().numpy())

        out: dict[str, Any] = {"window": arr(self._padded_window())}

        def layer(prefix: str, mod: nn.Module) -> None:
            conv = mod.conv
            c = conv.out_channels
            out[f"{prefix}.wr"], out[f"{prefix}.wi"] = arr(conv.weight_real), arr(conv.weight_imag)
            out[f"{prefix}.br"], out[f"{prefix}.bi"] = arr(conv.bias_real), arr(conv.bias_imag)
            if isinstance(mod.norm, nn.Identity):
                m, b = torch.eye(2).expand(c, 2, 2), torch.zeros(c, 2)
            else:
                m, b = mod.norm.inference_affine()
            out[f"{prefix}.norm_m"], out[f"{prefix}.norm_b"] = arr(m), arr(b)
            if isinstance(mod.act, ComplexPReLU):
                out[f"{prefix}.prelu"] = arr(torch.cat([mod.act.real.weight, mod.act.imag.weight]))
            else:
                out[f"{prefix}.prelu"] = arr(torch.ones(2))

        for k, mod in enumerate(self.encoder):
            layer(f"enc.{k}", mod)
        for k, mod in enumerate(self.decoder):
            layer(f"dec.{k}", mod)

        def lstm(prefix: str, mod: nn.LSTM, k: int = 0) -> None:
            out[f"{prefix}.w_ih"] = arr(getattr(mod, f"weight_ih_l{k}"))
            out[f"{prefix}.w_hh"] = arr(getattr(mod, f"weight_hh_l{k}"))
            out[f"{prefix}.b"] = arr(getattr(mod, f"bias_ih_l{k}") + getattr(mod, f"bias_hh_l{k}"))

        if self.config.rnn == "complex":
            for k, mod in enumerate(self.rnn):
                lstm(f"rnn.{k}.r", mod.lstm_r)
                lstm(f"rnn.{k}.i", mod.lstm_i)
                if mod.proj_r is not None:
                    out[f"rnn.{k}.proj_r.w"], out[f"rnn.{k}.proj_r.b"] = (
                        arr(mod.proj_r.weight), arr(mod.proj_r.bias))
                    out[f"rnn.{k}.proj_i.w"], out[f"rnn.{k}.proj_i.b"] = (
                        arr(mod.proj_i.weight), arr(mod.proj_i.bias))
        else:
            for k in range(self.config.rnn_layers):
                lstm(f"rnn.{k}", self.rnn, k)
            out["rnn_proj.w"], out["rnn_proj.b"] = arr(self.rnn_proj.weight), arr(self.rnn_proj.bias)
        return out

    def _padded_window(self) -> Tensor:
        c = self.config
        left = (c.n_fft - c.win_length) // 2
        return torch.nn.functional.pad(self.window, (left, c.n_fft - c.win_length - left))

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights and config as safetensors (config in the metadata)."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(tensors, os.fspath(path), metadata={
            "format": "pt", "model": "DCCRN", "config": json.dumps(self.config.to_dict())})

    @classmethod
    def load(cls, path: str | os.PathLike) -> DCCRN:
        """Read a model written by ``save``; a missing, unexpected or misshapen tensor is a
        ``ValueError`` naming it."""
        tensors, meta = read_weights_file(path, "DCCRN")
        path = os.fspath(path)
        config = config_from_metadata(DCCRNConfig, meta, path, "DCCRN")
        model = cls(config)
        model.load_weights(tensors, source=path)
        return model.eval()

    def load_weights(self, tensors: dict[str, Tensor], source: str = "weights") -> None:
        check_state_dict(self.state_dict(), tensors, source)
        self.load_state_dict(tensors)
