"""DCCRN as a streaming effect: the whole model runs in the C++ engine."""

from __future__ import annotations

import os
from typing import Any

from hushboard.fx.base import NativeEffect
from hushboard.ops._native import _C

__all__ = ["DCCRNDenoiser"]


class DCCRNDenoiser(NativeEffect):
    """A DCCRN denoiser streaming through the C++ engine (STFT, encoder, LSTM, decoder, mask
    and iSTFT with no Python per frame; the GIL is released while a block runs).

    The engine copies the model's inference weights (normalisation folded), so later changes to
    the PyTorch model do not reach it. At the model's sample rate the effect's output equals the
    model's offline output delayed by ``latency_samples = n_fft - 1`` (511 samples, 32 ms at
    16 kHz); at another rate the audio is resampled to the model's rate and back inside (the
    resampling filters add their delay).

    Args:
        model: a ``hushboard.models.DCCRN`` or the path of a safetensors file written by
            ``DCCRN.save``.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        from hushboard.models.dccrn import DCCRN

        if isinstance(model, (str, os.PathLike)):
            self.source = os.fspath(model)
            model = DCCRN.load(model)
        elif isinstance(model, DCCRN):
            self.source = "<model>"
        else:
            raise TypeError(f"model must be a DCCRN or a weights path (got {type(model).__name__})")
        self.config = model.config
        self._weights = model.engine_weights()

    @property
    def model_sample_rate(self) -> int:
        return self.config.sample_rate

    def _engine(self, channels: int):
        c = self.config
        return _C.DccrnEngine([ch // 2 for ch in c.channels], c.rnn == "complex", c.rnn_layers,
                              c.rnn_units, c.kernel_size[0], c.kernel_size[1], c.stride[0],
                              c.n_fft, c.hop_length, self._weights, channels)

    def _build(self, sample_rate: float, channels: int):
        rate = self.model_sample_rate
        if sample_rate == rate:
            return self._engine(channels)
        if sample_rate != int(sample_rate) or not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate must be a whole number of Hz in [8000, 192000] to "
                             f"resample to the model's {rate} Hz (got {sample_rate})")
        return _C.ResampledEffect(self._engine(channels), int(sample_rate), rate)

    def _nominal_latency(self, sample_rate: float) -> int:
        return self.config.n_fft - 1

    def _params(self) -> dict[str, Any]:
        return {"model": self.source, "channels": self.config.channels, "rnn": self.config.rnn}
