"""Audio effects with pedalboard's conventions: ``process(audio, sample_rate, buffer_size,
reset)``, ``reset()``, ``latency_samples``. Native effects run their block loop in C++."""

from __future__ import annotations

from hushboard.fx.base import Effect, NativeEffect
from hushboard.fx.bsrnn import BSRNNDenoiser
from hushboard.fx.chain import Chain
from hushboard.fx.dccrn import DCCRNDenoiser
from hushboard.fx.denoise import SpectralGate, WienerDenoiser
from hushboard.fx.gain import Gain
from hushboard.fx.model import Denoise
from hushboard.fx.rebalance import Rebalance

__all__ = [
    "BSRNNDenoiser", "Chain", "DCCRNDenoiser", "Denoise", "Effect", "Gain", "NativeEffect",
    "Rebalance", "SpectralGate", "WienerDenoiser",
]
