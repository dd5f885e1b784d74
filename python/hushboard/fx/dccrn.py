"""DCCRN as a streaming effect: the whole model runs in the C++ engine."""

from __future__ import annotations

from typing import Any

from hushboard.fx.neural import EngineEffect
from hushboard.models.dccrn import DCCRN
from hushboard.ops._native import _C

__all__ = ["DCCRNDenoiser"]


class DCCRNDenoiser(EngineEffect):
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

    model_class = DCCRN

    def _engine(self, channels: int):
        c = self.config
        return _C.DccrnEngine([ch // 2 for ch in c.channels], c.rnn == "complex", c.rnn_layers,
                              c.rnn_units, c.kernel_size[0], c.kernel_size[1], c.stride[0],
                              c.n_fft, c.hop_length, self._weights, channels)

    def _params(self) -> dict[str, Any]:
        return {"model": self.source, "channels": self.config.channels, "rnn": self.config.rnn}
