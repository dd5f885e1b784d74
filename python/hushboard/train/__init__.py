"""Training hushboard's denoisers: losses, the loop, and the ``hushboard train`` command."""

from __future__ import annotations

from hushboard.train.loop import TrainConfig, build_model, train
from hushboard.train.losses import denoise_loss, mrstft_loss, si_snr_loss

__all__ = ["TrainConfig", "build_model", "denoise_loss", "mrstft_loss", "si_snr_loss", "train"]
