"""Neural models: DCCRN (complex convolution recurrent network) and its complex layers."""

from __future__ import annotations

from hushboard.models.dccrn import CONFIGS, DCCRN, DCCRNConfig, si_snr_loss

__all__ = ["CONFIGS", "DCCRN", "DCCRNConfig", "si_snr_loss"]
