"""Neural models: DCCRN (complex convolution recurrent network) and its complex layers; BSRNN
(band-split RNN) speech denoisers and music separator."""

from __future__ import annotations

from hushboard.models.bsrnn import (
    BAND_LAYOUTS,
    BSRNN,
    BSRNN_CONFIGS,
    BSRNNConfig,
    music_band_layout,
)
from hushboard.models.dccrn import CONFIGS, DCCRN, DCCRNConfig, si_snr_loss

__all__ = [
    "BAND_LAYOUTS",
    "BSRNN",
    "BSRNNConfig",
    "BSRNN_CONFIGS",
    "CONFIGS",
    "DCCRN",
    "DCCRNConfig",
    "music_band_layout",
    "si_snr_loss",
]
