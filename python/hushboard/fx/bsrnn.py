"""BSRNN as a streaming effect: the whole causal model runs in the C++ engine."""

from __future__ import annotations

from typing import Any

from hushboard.fx.neural import EngineEffect
from hushboard.models.bsrnn import BSRNN
from hushboard.ops._native import _C

__all__ = ["BSRNNDenoiser"]


class BSRNNDenoiser(EngineEffect):
    """A causal BSRNN denoiser streaming through the C++ engine: STFT, band split, the
    dual-path RNN layers, the band-wise mask MLP, mask (or complex filter) and iSTFT with no
    Python per frame; the GIL is released while a block runs. Each channel of the stream is
    denoised on its own (own state).

    The engine copies the model's weights, so later changes to the PyTorch model do not reach
    it. At the model's sample rate the effect's output equals the model's offline output delayed
    by ``latency_samples = n_fft - 1`` (511 samples at 16 kHz, 959 at 48 kHz); at another rate
    the audio is resampled to the model's rate and back inside.

    Args:
        model: a causal, mono, one-stem ``hushboard.models.BSRNN`` (the speech presets) or the
            path of a safetensors file written by ``BSRNN.save``.
    """

    model_class = BSRNN

    def _check_model(self, model: BSRNN) -> None:
        c = model.config
        if not c.causal or c.audio_channels != 1 or len(c.stems) != 1:
            raise ValueError("BSRNNDenoiser streams causal mono models with one stem (the "
                             "speech presets); run other models offline with model.separate "
                             f"(got causal={c.causal}, audio_channels={c.audio_channels}, "
                             f"stems={c.stems})")

    def _engine(self, channels: int):
        c = self.config
        return _C.BsrnnEngine(list(c.bands), c.feature_dim, c.num_layers, c.hidden_size,
                              c.rnn == "gru", c.mask_hidden, c.mask_frames, c.n_fft,
                              c.hop_length, c.eps, self._weights, channels)

    def _params(self) -> dict[str, Any]:
        c = self.config
        return {"model": self.source, "bands": len(c.bands), "feature_dim": c.feature_dim,
                "num_layers": c.num_layers, "rnn": c.rnn}
