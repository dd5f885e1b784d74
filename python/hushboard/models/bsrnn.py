"""BSRNN: the band-split RNN (Luo & Yu, 2023) for speech enhancement and music separation, on
hushboard's STFT, band and RNN kernels.

Signal path: STFT -> **band split** (the complex spectrum cut into K sub-bands of unequal width;
per band a LayerNorm over its (bin, channel, real/imag) values and a linear map to N features)
-> L **dual-path** layers on the (time, band, N) tensor, each two residual blocks:

- time path: LayerNorm(N) -> RNN over time within each band (unidirectional when causal,
  bidirectional otherwise) -> Linear -> + input;
- band path: LayerNorm(N) -> bidirectional RNN over the K bands of one frame -> Linear -> + input;

-> **mask estimation** per stem: per band LayerNorm(N) -> Linear(N, hidden) -> tanh ->
Linear(hidden, 2 x band outputs) -> GLU, giving a complex mask (``mask_frames = 1``) or a complex
filter over the current and ``mask_frames - 1`` past frames per bin -> iSTFT.

Normalisation is per frame (LayerNorm over features) everywhere, not the paper's GroupNorm over
(features, time): per-frame statistics are what a causal model can stream. The band path looks
at all bands of the current frame only, so it keeps the model causal.

Training (gradients enabled) runs through ``torch.nn.LSTM``/``GRU`` and the pure-torch band
references; inference runs through the fused kernels (``hushboard.ops.band_split``,
``band_mask``, ``lstm_layer``, ``gru_layer``); both compute the same function. The causal
presets also stream frame by frame (``step``) and through the C++ engine
(``hushboard.fx.BSRNNDenoiser``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hushboard.models._weights import (
    check_state_dict,
    config_from_dict,
    config_from_metadata,
    read_weights_file,
)
from hushboard.ops import band_mask, band_split, get_window, gru_layer, istft, lstm_layer, stft
from hushboard.ops._band import band_mask_grouped, band_split_grouped
from hushboard.ops._fastpath import TensorCache, derived, eager_native
from hushboard.ops._native import _C, FORCE_REFERENCE
from hushboard.ops._rnn_train import lstm_train_layer

__all__ = [
    "BAND_LAYOUTS",
    "BSRNN",
    "BSRNN_CONFIGS",
    "BSRNNConfig",
    "music_band_layout",
    "overlap_add_plan",
]


def music_band_layout(sample_rate: int = 44100, n_fft: int = 2048) -> tuple[int, ...]:
    """The music band layout of the BSRNN paper: 100 Hz bands below 1 kHz, 250 Hz to 4 kHz,
    500 Hz to 8 kHz, 1 kHz to 16 kHz, 2 kHz to 20 kHz, the rest one band (41 bands at 44.1 kHz,
    n_fft 2048). Widths are whole bins, rounded down as in the paper's code."""
    n_bins = n_fft // 2 + 1
    bin_hz = sample_rate / n_fft
    widths: list[int] = []
    for bandwidth_hz, count in ((100, 10), (250, 12), (500, 8), (1000, 8), (2000, 2)):
        w = max(1, math.floor(bandwidth_hz / bin_hz))
        widths += [w] * count
    if sum(widths) >= n_bins:
        raise ValueError(f"n_fft {n_fft} at {sample_rate} Hz is too small for the music layout")
    return tuple(widths + [n_bins - sum(widths)])


BAND_LAYOUTS: dict[str, tuple[int, ...]] = {
    # BSRNN speech enhancement at 16 kHz, n_fft 512 (31.25 Hz bins): 31 bands, 257 bins
    "speech-16k": (2,) + (3,) * 10 + (8,) * 12 + (16,) * 7 + (17,),
    # fullband 48 kHz, n_fft 960 (50 Hz bins): 100 Hz bands to 1 kHz, 250 Hz to 4 kHz, 500 Hz to
    # 8 kHz, 2 kHz to 16 kHz, 4 kHz to 24 kHz: 36 bands, 481 bins
    "speech-48k": (2,) * 10 + (5,) * 12 + (10,) * 8 + (40,) * 4 + (80, 81),
    # the paper's music layout at 44.1 kHz, n_fft 2048: 41 bands, 1025 bins
    "music-44k": music_band_layout(44100, 2048),
}


@dataclass(frozen=True)
class BSRNNConfig:
    """Architecture of a BSRNN.

    Attributes:
        bands: band widths in STFT bins, low to high; they must sum to ``n_fft // 2 + 1``.
        feature_dim: N, the features per band.
        num_layers: dual-path layers.
        hidden_size: RNN units per direction.
        rnn: "lstm" or "gru".
        causal: unidirectional time path (streamable) or bidirectional (offline).
        mask_hidden: hidden width of each band's mask MLP.
        mask_frames: 1 for a complex mask, k > 1 for a complex filter over the current and k - 1
            past frames.
        stems: output names, one mask estimator each ("speech" for a denoiser; "vocals",
            "drums", "bass", "other" for music).
        audio_channels: channels modelled jointly (1 mono, 2 stereo music).
        sample_rate, n_fft, hop_length, window: the STFT (window length n_fft).
        eps: LayerNorm epsilon.
    """

    bands: tuple[int, ...] = BAND_LAYOUTS["speech-16k"]
    feature_dim: int = 64
    num_layers: int = 6
    hidden_size: int = 64
    rnn: str = "lstm"
    causal: bool = True
    mask_hidden: int = 256
    mask_frames: int = 1
    stems: tuple[str, ...] = ("speech",)
    audio_channels: int = 1
    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 128
    window: str = "sqrt_hann"
    eps: float = 1e-5

    def __post_init__(self) -> None:
        def pos_int(name: str, v: Any) -> None:
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int (got {v!r})")

        for name in ("feature_dim", "num_layers", "hidden_size", "mask_hidden", "mask_frames",
                     "audio_channels", "sample_rate", "n_fft", "hop_length"):
            pos_int(name, getattr(self, name))
        if not isinstance(self.bands, tuple) or not self.bands:
            raise ValueError(f"bands must be a non-empty tuple of ints (got {self.bands!r})")
        for w in self.bands:
            pos_int("every band width", w)
        if sum(self.bands) != self.n_bins:
            raise ValueError(f"bands must cover n_fft // 2 + 1 = {self.n_bins} bins "
                             f"(they sum to {sum(self.bands)})")
        if self.rnn not in ("lstm", "gru"):
            raise ValueError(f"rnn must be 'lstm' or 'gru' (got {self.rnn!r})")
        if not isinstance(self.causal, bool):
            raise ValueError(f"causal must be a bool (got {self.causal!r})")
        if (not isinstance(self.stems, tuple) or not self.stems
                or not all(isinstance(s, str) and s for s in self.stems)
                or len(set(self.stems)) != len(self.stems)):
            raise ValueError(f"stems must be a tuple of distinct names (got {self.stems!r})")
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length must be <= n_fft = {self.n_fft} "
                             f"(got {self.hop_length})")
        if not (isinstance(self.eps, float) and self.eps > 0):
            raise ValueError(f"eps must be a positive float (got {self.eps!r})")

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def num_bands(self) -> int:
        return len(self.bands)

    @property
    def band_in_dims(self) -> list[int]:
        """Band-split input features per band: (bins, channels, real/imag)."""
        return [w * self.audio_channels * 2 for w in self.bands]

    @property
    def band_out_dims(self) -> list[int]:
        """Mask outputs per band and stem: (bins, channels, taps, real/imag)."""
        return [w * self.audio_channels * self.mask_frames * 2 for w in self.bands]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BSRNNConfig:
        return config_from_dict(cls, d, "BSRNN")


_SPEECH_48K = dict(bands=BAND_LAYOUTS["speech-48k"], sample_rate=48000, n_fft=960,
                   hop_length=480)
_MUSIC_44K = dict(bands=BAND_LAYOUTS["music-44k"], sample_rate=44100, n_fft=2048, hop_length=512,
                  window="hann", causal=False, stems=("vocals", "drums", "bass", "other"),
                  audio_channels=2)
_LITE = dict(feature_dim=32, num_layers=4, hidden_size=32, mask_hidden=96)

BSRNN_CONFIGS: dict[str, BSRNNConfig] = {
    # the paper-sized causal speech model: N = 64, 6 layers, LSTM 64 over time, BLSTM 64 over
    # bands, mask MLP hidden 4N (1.47 M parameters)
    "bsrnn-speech-16k": BSRNNConfig(),
    "bsrnn-speech-16k-lite": BSRNNConfig(**_LITE),
    "bsrnn-speech-48k": BSRNNConfig(**_SPEECH_48K),
    "bsrnn-speech-48k-lite": BSRNNConfig(**_SPEECH_48K, **_LITE),
    # the paper's music separator (N = 128, 12 layers, BLSTM 256 over time and bands), stereo
    "bsrnn-music-44k": BSRNNConfig(**_MUSIC_44K, feature_dim=128, num_layers=12,
                                   hidden_size=256, mask_hidden=512),
    # the shipped separator's preset: N = 48, 4 layers, BLSTM 48; the mask MLPs (8200 outputs
    # per hidden unit and stem at 1025 stereo bins) dominate the size, so their hidden width is
    # 24 (1.6 M parameters, 6.3 MB). The shipped weights grew it to 6 layers (`--arch
    # num_layers=6`, 1.74 M parameters, 7.0 MB; their file records the config)
    "bsrnn-music-44k-lite": BSRNNConfig(**_MUSIC_44K, feature_dim=48, num_layers=4,
                                        hidden_size=48, mask_hidden=24),
    # a vocals specialist of the same width, as the BSRNN paper trains one model per target: it
    # splits a song into vocals and accompaniment (everything else), and a bag
    # ("VOCALS.safetensors+bsrnn-music-44k-lite", hushboard.separation) takes the vocals from it
    # and the other stems from the four-stem model (1.06 M parameters, 4.2 MB; no weights ship,
    # see the four-stem model's card)
    "bsrnn-music-44k-lite-vocals": BSRNNConfig(**{**_MUSIC_44K, "stems": ("vocals",
                                                                          "accompaniment")},
                                               feature_dim=48, num_layers=4, hidden_size=48,
                                               mask_hidden=24),
}


def crossfade(overlap: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """The fade-in over ``overlap`` samples of ``overlap_add_plan``'s chunks (the fade-out is
    its reverse; the two sum to 1)."""
    return torch.linspace(0, 1, overlap + 2, dtype=dtype)[1:-1]


def overlap_add_plan(n: int, chunk: int, overlap: int, dtype: torch.dtype = torch.float32
                     ) -> list[tuple[int, int, Tensor | None]]:
    """(start, end, cross-fade weights) of the chunks covering ``n`` samples (or frames):
    ``chunk`` long, ``overlap`` shared by neighbours, linear fades over the overlaps (they sum
    to 1 wherever two chunks meet). One chunk, weights None, when ``n <= chunk``."""
    if n <= chunk:
        return [(0, n, None)]
    step = chunk - overlap
    fade = crossfade(overlap, dtype)
    plan, start = [], 0
    while True:
        end = min(start + chunk, n)
        w = torch.ones(end - start, dtype=dtype)
        if start > 0 and overlap:
            w[:overlap] = fade
        if end < n and overlap:
            w[-overlap:] = torch.minimum(w[-overlap:], fade.flip(0))
        plan.append((start, end, w))
        if end == n:
            return plan
        start += step


# ---- modules ----------------------------------------------------------------------------------
class BandSplit(nn.Module):
    """Per-band LayerNorm + linear map of each band's values to ``feature_dim`` features (one
    grouped operation over unequal bands).

    Shape:
        ``(..., D)`` with D = sum(band_dims) -> ``(..., K, N)``.
    """

    def __init__(self, band_dims: list[int], feature_dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.band_dims = list(band_dims)
        self.eps = eps
        d, k = sum(band_dims), len(band_dims)
        self.gamma = nn.Parameter(torch.ones(d))
        self.beta = nn.Parameter(torch.zeros(d))
        self.weight = nn.Parameter(torch.empty(feature_dim, d))
        self.bias = nn.Parameter(torch.empty(k, feature_dim))
        with torch.no_grad():
            o = 0
            for j, w in enumerate(band_dims):  # nn.Linear's init per band
                bound = 1 / math.sqrt(w)
                self.weight[:, o:o + w].uniform_(-bound, bound)
                self.bias[j].uniform_(-bound, bound)
                o += w

    def forward(self, x: Tensor, fused: bool) -> Tensor:
        fn = band_split if fused else band_split_grouped
        return fn(x, self.band_dims, self.gamma, self.beta, self.weight, self.bias, eps=self.eps)


class BandMask(nn.Module):
    """Per-band mask MLP: LayerNorm(N) -> Linear(N, hidden) -> tanh -> Linear(hidden,
    2 x out) -> GLU (one grouped operation over unequal bands).

    Shape:
        ``(..., K, N)`` -> ``(..., Dout)`` with Dout = sum(out_dims).
    """

    def __init__(self, out_dims: list[int], feature_dim: int, hidden: int,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.out_dims = list(out_dims)
        self.eps = eps
        k, d = len(out_dims), sum(out_dims)
        self.gamma = nn.Parameter(torch.ones(k, feature_dim))
        self.beta = nn.Parameter(torch.zeros(k, feature_dim))
        b1, b2 = 1 / math.sqrt(feature_dim), 1 / math.sqrt(hidden)
        self.w1 = nn.Parameter(torch.empty(k, hidden, feature_dim).uniform_(-b1, b1))
        self.b1 = nn.Parameter(torch.empty(k, hidden).uniform_(-b1, b1))
        self.w2 = nn.Parameter(torch.empty(2 * d, hidden).uniform_(-b2, b2))
        self.b2 = nn.Parameter(torch.empty(2 * d).uniform_(-b2, b2))

    def forward(self, x: Tensor, fused: bool) -> Tensor:
        fn = band_mask if fused else band_mask_grouped
        return fn(x, self.out_dims, self.gamma, self.beta, self.w1, self.b1, self.w2, self.b2,
                  glu=True, eps=self.eps)

    def pieces(self, x: Tensor) -> list[Tensor]:
        """The autograd form's output as the runs of equal-width bands, in band order
        (``band_mask_grouped(..., concat=False)``): ``forward(x, False)`` is their
        concatenation on the last axis."""
        return band_mask_grouped(x, self.out_dims, self.gamma, self.beta, self.w1, self.b1,
                                 self.w2, self.b2, glu=True, eps=self.eps, concat=False)


def _rnn_module(kind: str, n: int, h: int, bidirectional: bool) -> nn.Module:
    cls = nn.LSTM if kind == "lstm" else nn.GRU
    return cls(n, h, batch_first=True, bidirectional=bidirectional)


def _train_lstm_native(rnn: nn.Module, x: Tensor) -> bool:
    """Whether the autograd path runs ``rnn`` on hushboard's LSTM training kernels
    (``hushboard.ops.lstm_train_layer``, with the module's own parameters): an nn.LSTM, grad
    mode on, CPU float32. ``HUSHBOARD_TRAIN_LSTM=torch`` (read at every call) or
    ``HUSHBOARD_BACKEND=reference`` keeps nn.LSTM."""
    if (not isinstance(rnn, nn.LSTM) or not torch.is_grad_enabled() or FORCE_REFERENCE
            or os.environ.get("HUSHBOARD_TRAIN_LSTM", "").lower() == "torch"):
        return False
    if rnn.num_layers != 1 or rnn.proj_size != 0 or not rnn.bias or not rnn.batch_first:
        return False
    return (x.is_cpu and x.dtype == torch.float32
            and all(p.is_cpu and p.dtype == torch.float32 for p in rnn.parameters()))


def _run_rnn(rnn: nn.Module, x: Tensor, fused: bool, state: Any = None,
             ) -> tuple[Tensor, Any]:
    """``rnn`` (one layer, maybe bidirectional) over ``x`` (S, L, N); ``state`` (unidirectional
    only) is (h, c) for an LSTM or h for a GRU, each (S, H)."""
    if not fused and _train_lstm_native(rnn, x):
        # training: each direction through the native LSTM forward / backward kernels
        outs, states = [], []
        h0, c0 = state if state is not None else (None, None)
        for sfx, reverse in (("", False), ("_reverse", True))[:2 if rnn.bidirectional else 1]:
            y, h, c = lstm_train_layer(
                x, getattr(rnn, f"weight_ih_l0{sfx}"), getattr(rnn, f"weight_hh_l0{sfx}"),
                getattr(rnn, f"bias_ih_l0{sfx}"), getattr(rnn, f"bias_hh_l0{sfx}"), h0, c0,
                reverse=reverse)
            outs.append(y)
            states.append((h, c))
        # the forward direction's final state, as the nn.LSTM branch below returns
        return (outs[0] if len(outs) == 1 else torch.cat(outs, -1)), states[0]
    if not fused:
        if state is None:
            y, st = rnn(x)
        else:
            y, st = rnn(x, tuple(s[None] for s in state) if isinstance(state, tuple)
                        else state[None])
        st = tuple(s[0] for s in st) if isinstance(st, tuple) else st[0]
        return y, st
    lstm = isinstance(rnn, nn.LSTM)
    outs = []
    for sfx, reverse in (("", False), ("_reverse", True))[:2 if rnn.bidirectional else 1]:
        w_ih, w_hh = getattr(rnn, f"weight_ih_l0{sfx}"), getattr(rnn, f"weight_hh_l0{sfx}")
        b_ih, b_hh = getattr(rnn, f"bias_ih_l0{sfx}"), getattr(rnn, f"bias_hh_l0{sfx}")
        if lstm:
            h0, c0 = state if state is not None else (None, None)
            bias = derived("lstm_bias", (b_ih, b_hh), torch.add)  # not summed per call
            y, h, c = lstm_layer(x, w_ih, w_hh, bias, h0, c0, reverse=reverse)
            st = (h, c)
        else:
            y, h = gru_layer(x, w_ih, w_hh, b_ih, b_hh, state, reverse=reverse)
            st = h
        outs.append(y)
    return (outs[0] if len(outs) == 1 else torch.cat(outs, -1)), st


class DualPathLayer(nn.Module):
    """Time path (RNN over frames within each band) then band path (bidirectional RNN over the
    bands of each frame), each LayerNorm -> RNN -> Linear -> residual.

    Shape:
        ``(B, T, K, N)`` -> ``(B, T, K, N)``.
    """

    def __init__(self, cfg: BSRNNConfig) -> None:
        super().__init__()
        n, h = cfg.feature_dim, cfg.hidden_size
        self.time_norm = nn.LayerNorm(n, eps=cfg.eps)
        self.time_rnn = _rnn_module(cfg.rnn, n, h, bidirectional=not cfg.causal)
        self.time_fc = nn.Linear(h if cfg.causal else 2 * h, n)
        self.band_norm = nn.LayerNorm(n, eps=cfg.eps)
        self.band_rnn = _rnn_module(cfg.rnn, n, h, bidirectional=True)
        self.band_fc = nn.Linear(2 * h, n)

    def forward(self, x: Tensor, fused: bool, state: Any = None) -> tuple[Tensor, Any]:
        b, t, k, n = x.shape
        z = self.time_norm(x).transpose(1, 2).reshape(b * k, t, n)
        z, state = _run_rnn(self.time_rnn, z, fused, state)
        x = x + self.time_fc(z).reshape(b, k, t, n).transpose(1, 2)
        z = self.band_norm(x).reshape(b * t, k, n)
        z, _ = _run_rnn(self.band_rnn, z, fused)
        return x + self.band_fc(z).reshape(b, t, k, n), state


class BSRNN(nn.Module):
    """Band-split RNN speech enhancer or music separator.

    Args:
        config: a ``BSRNNConfig`` or the name of one in ``BSRNN_CONFIGS``
            ("bsrnn-speech-16k[-lite]", "bsrnn-speech-48k[-lite]", "bsrnn-music-44k[-lite]").

    Shape:
        ``forward``: mono models take ``(time,)`` or ``(batch, time)``; models with
        ``audio_channels = C > 1`` take ``(C, time)`` or ``(batch, C, time)``. With one stem the
        output has the input's shape; with several a stems axis is inserted before the channel
        and time axes (``(batch, stems, C, time)``, ``(stems, time)``...). ``separate`` always
        returns ``(batch, stems, C, time)``.
    """

    def __init__(self, config: BSRNNConfig | str = "bsrnn-speech-16k") -> None:
        super().__init__()
        if isinstance(config, str):
            if config not in BSRNN_CONFIGS:
                raise ValueError(f"unknown BSRNN config {config!r}; available: "
                                 f"{', '.join(BSRNN_CONFIGS)}")
            config = BSRNN_CONFIGS[config]
        if not isinstance(config, BSRNNConfig):
            raise TypeError(f"config must be a BSRNNConfig or a preset name (got "
                            f"{type(config).__name__})")
        self.config = cfg = config
        self.band_split = BandSplit(cfg.band_in_dims, cfg.feature_dim, cfg.eps)
        self.layers = nn.ModuleList(DualPathLayer(cfg) for _ in range(cfg.num_layers))
        self.masks = nn.ModuleList(
            BandMask(cfg.band_out_dims, cfg.feature_dim, cfg.mask_hidden, cfg.eps)
            for _ in cfg.stems)
        self.register_buffer("window", get_window(cfg.window, cfg.n_fft), persistent=False)
        #: False runs inference on the torch modules too (nn.LSTM/GRU, per-band loops)
        self.use_kernels = True

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def _fused(self) -> bool:
        """Fused kernels when no gradient is needed; torch modules (autograd) otherwise, or
        always when ``use_kernels`` is False (the plain-PyTorch form benchmarks compare with)."""
        if not self.use_kernels:
            return False
        return not (torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()))

    # ---- spectra ------------------------------------------------------------------------------
    def _stft(self, x: Tensor) -> Tensor:
        c = self.config
        return stft(x, c.n_fft, c.hop_length, c.n_fft, self.window.to(x.dtype), center=True,
                    pad_mode="constant")

    def _istft(self, spec: Tensor, length: int) -> Tensor:
        c = self.config
        return istft(spec, c.n_fft, c.hop_length, c.n_fft, self.window.to(spec.real.dtype),
                     center=True, length=length)

    # ---- the network on spectra -----------------------------------------------------------------
    def features(self, spec: Tensor) -> Tensor:
        """Band-split input rows ``(B, T, F*C*2)`` (bin-major, then channel, then real/imag) of
        a complex spectrum ``(B, C, F, T)``."""
        b, c, f, t = spec.shape
        # permuting complex elements (8 bytes) is ~9x faster than their (re, im) float pairs
        return torch.view_as_real(spec.permute(0, 3, 2, 1).contiguous()).reshape(b, t, f * c * 2)

    def masks_of(self, spec: Tensor) -> Tensor:
        """Complex masks ``(B, stems, C, F, T, mask_frames)`` for a complex spectrum
        ``(B, C, F, T)``."""
        return torch.stack(self._mask_list(spec), 1)

    def _mask_list(self, spec: Tensor) -> list[Tensor]:
        """``masks_of`` as a list of the stems' masks ``(B, C, F, T, mask_frames)`` (not
        stacked: ``_separate`` uses each once)."""
        fused = self._fused()
        b, t = spec.shape[0], spec.shape[-1]
        net = self._network(spec) if fused else None
        if net is not None:  # the whole network in one native call
            m = torch.from_numpy(net.forward(self.features(spec).contiguous().numpy()))
            return [self._mask_tensor(m[s], b, t) for s in range(m.shape[0])]
        x = self.band_split(self.features(spec), fused)
        for layer in self.layers:
            x, _ = layer(x, fused)
        if fused:
            return [self._mask_tensor(m(x, fused), b, t) for m in self.masks]
        # autograd: each run of bands permuted straight into its place in the mask (one copy,
        # where concatenating the runs and then permuting the whole mask was two)
        return [self._mask_tensor_of_pieces(m.pieces(x), b, t) for m in self.masks]

    def _network(self, spec: Tensor):
        """The C++ network (``_C.BsrnnNetwork``: band split, dual-path layers and mask MLPs in
        one call, no Python per layer) for CPU float32 inference, rebuilt when a parameter
        changes; None where it does not apply (other devices or dtypes, tracing,
        HUSHBOARD_BACKEND=reference)."""
        if spec.dtype != torch.complex64 or not eager_native(self.window):
            return None
        params = list(self.parameters())
        if any(p.dtype != torch.float32 or not p.is_cpu for p in params):
            return None
        cfg = self.config

        def build():
            return _C.BsrnnNetwork(list(cfg.bands), cfg.audio_channels, cfg.feature_dim,
                                   cfg.num_layers, cfg.hidden_size, cfg.rnn == "gru",
                                   cfg.causal, cfg.mask_hidden, cfg.mask_frames,
                                   len(cfg.stems), cfg.eps, self.engine_weights())

        cache = self.__dict__.get("_net_cache")
        if cache is None:  # one entry per model: its network, rebuilt when a parameter changes
            cache = self.__dict__["_net_cache"] = TensorCache(1)
        return cache.get(("bsrnn",), tuple(params), build)

    def _mask_tensor(self, rows: Tensor, b: int, t: int) -> Tensor:
        cfg = self.config
        m = rows.reshape(b, t, cfg.n_bins, cfg.audio_channels, cfg.mask_frames, 2)
        return torch.view_as_complex(m).permute(0, 3, 2, 1, 4).contiguous()

    def _mask_tensor_of_pieces(self, pieces: list[Tensor], b: int, t: int) -> Tensor:
        """``_mask_tensor`` of the concatenation of ``pieces`` (runs of whole bins, in order)."""
        cfg = self.config
        parts = [torch.view_as_complex(p.reshape(b, t, -1, cfg.audio_channels,
                                                 cfg.mask_frames, 2)).permute(0, 3, 2, 1, 4)
                 for p in pieces]
        return parts[0].contiguous() if len(parts) == 1 else torch.cat(parts, 2)

    @staticmethod
    def apply_mask(spec: Tensor, mask: Tensor) -> Tensor:
        """``Y[..., t] = sum_j M[..., t, j] X[..., t - j]`` (X = 0 before the first frame).

        Shape:
            spec ``(B, C, F, T)``, mask ``(B, C, F, T, k)`` -> ``(B, C, F, T)``.
        """
        taps = mask.unbind(-1)  # (its backward is one stack; a select's zero-fills per tap)
        out = taps[0] * spec
        for j in range(1, len(taps)):
            past = torch.nn.functional.pad(spec, (j, 0))[..., :spec.shape[-1]]
            out = out + taps[j] * past
        return out

    # ---- audio in, audio out ------------------------------------------------------------------
    def _check_audio(self, audio: Tensor) -> tuple[Tensor, tuple[int, ...]]:
        if not isinstance(audio, Tensor) or not audio.is_floating_point():
            raise TypeError("audio must be a floating-point torch.Tensor")
        if audio.dtype != self.window.dtype:
            raise TypeError(f"audio has dtype {audio.dtype} but the model is "
                            f"{self.window.dtype} (convert one of them)")
        c = self.config.audio_channels
        if audio.numel() == 0:
            raise ValueError(f"audio is empty (shape {tuple(audio.shape)})")
        if c == 1:
            if audio.dim() not in (1, 2):
                raise ValueError(f"audio must be (time,) or (batch, time) for a mono model "
                                 f"(got {tuple(audio.shape)})")
            x = audio.reshape(-1, 1, audio.shape[-1])
        else:
            if audio.dim() not in (2, 3) or audio.shape[-2] != c:
                raise ValueError(f"audio must be ({c}, time) or (batch, {c}, time) "
                                 f"(got {tuple(audio.shape)})")
            x = audio.reshape(-1, c, audio.shape[-1])
        if not torch.isfinite(audio).all():
            raise ValueError("audio contains NaN or Inf")
        return x, tuple(audio.shape)

    def separate(self, audio: Tensor) -> Tensor:
        """All stems: ``(batch, stems, C, time)`` (see the class docstring for input shapes)."""
        x, _ = self._check_audio(audio)
        return self._separate(x)

    def _separate(self, x: Tensor) -> Tensor:
        b, c, n = x.shape
        spec = self._stft(x.reshape(b * c, n))
        spec = spec.reshape(b, c, *spec.shape[-2:])
        ys = torch.stack([self.apply_mask(spec, m) for m in self._mask_list(spec)], 1)
        s = ys.shape[1]
        y = self._istft(ys.reshape(b * s * c, *spec.shape[-2:]), n)
        return y.reshape(b, s, c, n)

    def forward(self, audio: Tensor) -> Tensor:
        y = self.separate(audio)
        shape = tuple(audio.shape)
        if len(self.config.stems) == 1:
            return y.reshape(shape)
        batched = audio.dim() == (3 if self.config.audio_channels > 1 else 2)
        lead = shape[:1] if batched else ()
        return y.reshape(*lead, len(self.config.stems), *shape[len(lead):])

    def chunk_samples(self, chunk_seconds: float, overlap_seconds: float) -> tuple[int, int]:
        """``separate_long``'s chunk and overlap in samples: whole hops, at least one hop per
        chunk, and an overlap at least a hop shorter than the chunk."""
        sr, hop = self.config.sample_rate, self.config.hop_length
        chunk = max(hop, round(chunk_seconds * sr / hop) * hop)
        return chunk, min(chunk - hop, round(overlap_seconds * sr / hop) * hop)

    @torch.no_grad()
    def separate_long(self, audio: Tensor, *, chunk_seconds: float = 10.0,
                      overlap_seconds: float = 1.0,
                      progress: Callable[[float], None] | None = None,
                      batch_chunks: int = 1) -> Tensor:
        """``separate`` in overlapping chunks with a linear cross-fade (overlap-add) so memory
        stays bounded for songs of any length. Each chunk starts the recurrences afresh, so the
        result differs from ``separate`` of the whole file near chunk starts (and, for a
        non-causal model, near chunk ends) by as much as the model's memory reaches; the
        cross-fades cover those seams. A file no longer than one chunk is ``separate``'s result.
        ``progress`` (if given) is called with the fraction of samples done after each chunk.
        ``batch_chunks`` chunks of equal length run as one batch (a GPU's use; on the CPU each
        chunk's result is the same either way).

        Shape:
            as ``separate``: ``(batch, stems, C, time)``.
        """
        x, _ = self._check_audio(audio)
        b, c, n = x.shape
        if not chunk_seconds > 0 or not 0 <= overlap_seconds < chunk_seconds:
            raise ValueError(f"need chunk_seconds > overlap_seconds >= 0 (got {chunk_seconds}, "
                             f"{overlap_seconds})")
        if isinstance(batch_chunks, bool) or not isinstance(batch_chunks, int) or batch_chunks < 1:
            raise ValueError(f"batch_chunks must be an int >= 1 (got {batch_chunks!r})")
        chunk, overlap = self.chunk_samples(chunk_seconds, overlap_seconds)
        plan = overlap_add_plan(n, chunk, overlap, x.dtype)
        if len(plan) == 1:
            out = self._separate(x)
            if progress is not None:
                progress(1.0)
            return out
        out = x.new_zeros(b, len(self.config.stems), c, n)
        weight = x.new_zeros(n)
        i = 0
        while i < len(plan):
            # a group of consecutive chunks of one length, as one batch
            j = i + 1
            size = plan[i][1] - plan[i][0]
            while j < len(plan) and j - i < batch_chunks and plan[j][1] - plan[j][0] == size:
                j += 1
            group = plan[i:j]
            xs = torch.cat([x[..., start:end] for start, end, _ in group], 0)
            ys = self._separate(xs)
            for g, (start, end, w) in enumerate(group):
                w = w.to(x.device)
                out[..., start:end] += ys[g * b:(g + 1) * b] * w
                weight[start:end] += w
            if progress is not None:
                progress(group[-1][1] / n)
            i = j
        return out / weight

    # ---- one frame at a time (causal models) ------------------------------------------------------
    def init_state(self, batch: int = 1) -> dict[str, Any]:
        """Silence: zero RNN state and no past frames."""
        return {"rnn": [None] * len(self.layers), "net": None, "past": None}

    @torch.no_grad()
    def step(self, frame: Tensor, state: dict[str, Any] | None = None
             ) -> tuple[Tensor, dict[str, Any]]:
        """Process one complex STFT frame ``(batch, C, bins)``; returns the masked frames
        ``(batch, stems, C, bins)`` and the new state (None starts from silence). Equal to the
        matching frame of the offline path (causal models only)."""
        cfg = self.config
        if not cfg.causal:
            raise ValueError(f"step needs a causal model (this {cfg.rnn} time path is "
                             "bidirectional)")
        if (not isinstance(frame, Tensor) or not frame.is_complex() or frame.dim() != 3
                or frame.shape[1:] != (cfg.audio_channels, cfg.n_bins)):
            raise ValueError(f"frame must be a complex tensor of shape (batch, "
                             f"{cfg.audio_channels}, {cfg.n_bins})")
        if state is None:
            state = self.init_state(frame.shape[0])
        fused = self._fused()
        spec = frame[..., None]  # (B, C, F, 1)
        b = frame.shape[0]
        net = self._network(spec) if fused else None
        if net is not None:  # one native call; its state is (B, state_floats)
            carried = state.get("net")
            if carried is None:
                carried = np.zeros((b, net.state_floats), np.float32)
            carried = carried.copy()
            rows = torch.from_numpy(net.forward(self.features(spec).contiguous().numpy(),
                                                carried))
            rnn: Any = None
            mask_rows = [rows[s] for s in range(rows.shape[0])]
        else:
            carried = None
            x = self.band_split(self.features(spec), fused)
            rnn = list(state["rnn"] or [None] * len(self.layers))
            for j, layer in enumerate(self.layers):
                x, rnn[j] = layer(x, fused, rnn[j])
            mask_rows = [m(x, fused) for m in self.masks]
        k = cfg.mask_frames
        past = state["past"]
        if past is None:
            past = frame.new_zeros(b, cfg.audio_channels, cfg.n_bins, max(k - 1, 0))
        hist = torch.cat([past, spec], -1)  # (B, C, F, k) oldest first
        outs = []
        for r in mask_rows:
            mask = self._mask_tensor(r, b, 1)[..., 0, :]  # (B, C, F, k)
            outs.append((mask * hist.flip(-1)).sum(-1))
        return torch.stack(outs, 1), {"rnn": rnn, "net": carried, "past": hist[..., 1:]}

    # ---- sizes ------------------------------------------------------------------------------------
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def macs_per_frame(self) -> int:
        """Real multiply-accumulates per STFT frame (band split, RNN input and recurrent
        products, the residual projections, mask MLPs; norms, activations and the STFT not
        counted)."""
        cfg = self.config
        n, h, k = cfg.feature_dim, cfg.hidden_size, cfg.num_bands
        gates = 4 if cfg.rnn == "lstm" else 3
        cell = gates * h * (n + h)
        time_dirs = 1 if cfg.causal else 2
        per_layer = k * (time_dirs * cell + time_dirs * h * n) + k * (2 * cell + 2 * h * n)
        split = sum(cfg.band_in_dims) * n
        mask = len(cfg.stems) * (k * n * cfg.mask_hidden
                                 + 2 * sum(cfg.band_out_dims) * cfg.mask_hidden)
        return cfg.num_layers * per_layer + split + mask

    def macs_per_second(self) -> float:
        return self.macs_per_frame() * self.config.sample_rate / self.config.hop_length

    # ---- weights ------------------------------------------------------------------------------------
    @torch.no_grad()
    def engine_weights(self) -> dict[str, Any]:
        """The inference weights as float32 NumPy arrays for the C++ engine (LSTM biases
        summed)."""
        import numpy as np

        def arr(t: Tensor) -> np.ndarray:
            return np.ascontiguousarray(t.detach().float().cpu().numpy())

        out: dict[str, Any] = {"window": arr(self.window)}
        bs = self.band_split
        out.update({"split.gamma": arr(bs.gamma), "split.beta": arr(bs.beta),
                    "split.w": arr(bs.weight), "split.b": arr(bs.bias)})

        def rnn(prefix: str, mod: nn.Module, sfx: str) -> None:
            w_ih, w_hh = getattr(mod, f"weight_ih_l0{sfx}"), getattr(mod, f"weight_hh_l0{sfx}")
            b_ih, b_hh = getattr(mod, f"bias_ih_l0{sfx}"), getattr(mod, f"bias_hh_l0{sfx}")
            out[f"{prefix}.w_ih"], out[f"{prefix}.w_hh"] = arr(w_ih), arr(w_hh)
            if isinstance(mod, nn.LSTM):
                out[f"{prefix}.b"] = arr(b_ih + b_hh)
            else:
                out[f"{prefix}.b_ih"], out[f"{prefix}.b_hh"] = arr(b_ih), arr(b_hh)

        for j, layer in enumerate(self.layers):
            p = f"layers.{j}"
            for name in ("time", "band"):
                norm, fc = getattr(layer, f"{name}_norm"), getattr(layer, f"{name}_fc")
                out[f"{p}.{name}_norm.g"], out[f"{p}.{name}_norm.b"] = (arr(norm.weight),
                                                                        arr(norm.bias))
                out[f"{p}.{name}_fc.w"], out[f"{p}.{name}_fc.b"] = arr(fc.weight), arr(fc.bias)
            rnn(f"{p}.time_rnn", layer.time_rnn, "")
            if layer.time_rnn.bidirectional:
                rnn(f"{p}.time_rnn_rev", layer.time_rnn, "_reverse")
            rnn(f"{p}.band_rnn", layer.band_rnn, "")
            rnn(f"{p}.band_rnn_rev", layer.band_rnn, "_reverse")
        for s, m in enumerate(self.masks):
            for name in ("gamma", "beta", "w1", "b1", "w2", "b2"):
                out[f"mask.{s}.{name}"] = arr(getattr(m, name))
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights and config as safetensors (config in the metadata)."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(tensors, os.fspath(path), metadata={
            "format": "pt", "model": "BSRNN", "config": json.dumps(self.config.to_dict())})

    @classmethod
    def load(cls, path: str | os.PathLike) -> BSRNN:
        """Read a model written by ``save``; a missing, unexpected, misshapen or non-finite
        tensor, or bad metadata, is a ``ValueError`` naming it and the file."""
        tensors, meta = read_weights_file(path, "BSRNN")
        config = config_from_metadata(BSRNNConfig, meta, path, "BSRNN")
        model = cls(config)
        model.load_weights(tensors, source=os.fspath(path))
        return model.eval()

    def load_weights(self, tensors: dict[str, Tensor], source: str = "weights") -> None:
        check_state_dict(self.state_dict(), tensors, source)
        self.load_state_dict(tensors)
