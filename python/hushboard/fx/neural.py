"""Shared base of the neural denoisers whose whole model streams in a C++ engine."""

from __future__ import annotations

import abc
import os
from typing import Any

from hushboard.fx.base import NativeEffect
from hushboard.ops._native import _C

__all__ = ["EngineEffect", "effect_for_weights"]


class EngineEffect(NativeEffect):
    """A model streaming through a C++ engine (an ``hb::StftRoundTrip``) at the model's own
    sample rate; at another rate the audio is resampled to the model's rate and back inside (the
    resampling filters add their delay to ``latency_samples``).

    Subclasses set ``model_class`` (with ``load(path)``, ``config`` and ``engine_weights()``)
    and build the engine in ``_engine(channels)``.
    """

    model_class: type

    def __init__(self, model: Any) -> None:
        super().__init__()
        cls = self.model_class
        if isinstance(model, (str, os.PathLike)):
            self.source = os.fspath(model)
            model = cls.load(model)
        elif isinstance(model, cls):
            self.source = "<model>"
        else:
            raise TypeError(f"model must be a {cls.__name__} or a weights path (got "
                            f"{type(model).__name__})")
        self.config = model.config
        self._check_model(model)
        self._weights = model.engine_weights()

    def _check_model(self, model: Any) -> None:
        """Reject models the engine cannot run (ValueError)."""

    @property
    def model_sample_rate(self) -> int:
        return self.config.sample_rate

    @abc.abstractmethod
    def _engine(self, channels: int):
        """The engine at the model's rate for ``channels`` independent streams."""

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


def effect_for_weights(path: str | os.PathLike) -> EngineEffect:
    """The streaming effect of a weights file written by ``DCCRN.save`` or ``BSRNN.save`` (the
    model is named in the file's metadata)."""
    from hushboard.models._weights import model_kind

    path = os.fspath(path)
    kind = model_kind(path)
    if kind == "DCCRN":
        from hushboard.fx.dccrn import DCCRNDenoiser

        return DCCRNDenoiser(path)
    if kind == "BSRNN":
        from hushboard.fx.bsrnn import BSRNNDenoiser

        return BSRNNDenoiser(path)
    raise ValueError(f"{path!r} holds no DCCRN or BSRNN model (metadata model={kind!r})")
