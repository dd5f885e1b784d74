"""``Denoise``: the effect denoising models plug into (classic ones now, neural ones later)."""

from __future__ import annotations

import os
from typing import Any, Callable

from hushboard.fx.base import NativeEffect
from hushboard.fx.denoise import SpectralGate, WienerDenoiser
from hushboard.ops._native import _C

__all__ = ["MODELS", "Denoise", "shipped_weights"]


def shipped_weights() -> dict[str, str]:
    """The trained models that ship inside the package: name -> weights file
    (``hushboard/weights/<name>.safetensors``, each with a ``<name>.md`` model card)."""
    import importlib.resources

    root = importlib.resources.files("hushboard") / "weights"
    if not root.is_dir():
        return {}
    return {p.name[: -len(".safetensors")]: str(p) for p in sorted(root.iterdir(), key=str)
            if p.name.endswith(".safetensors")}

# name -> factory of a native effect. A model that only works at one sample rate is run at that
# rate through Denoise(model_sample_rate=...).
MODELS: dict[str, Callable[[], NativeEffect]] = {
    "wiener": WienerDenoiser,
    "gate": SpectralGate,
}


class Denoise(NativeEffect):
    """A denoising model as a streaming effect.

    The model runs at ``model_sample_rate`` when one is given (the rate a neural model was
    trained at); when the stream's rate differs, the audio is resampled to the model's rate and
    back inside, with polyphase filters in C++, and ``latency_samples`` includes both filters.
    Without one, the model runs at the stream's rate (the classic models work at any rate).

    Args:
        model: a name from ``MODELS`` ("wiener" is the default until neural models ship), or
            the path of a DCCRN or BSRNN weights file (``*.safetensors`` written by
            ``DCCRN.save`` / ``BSRNN.save``), which runs through its C++ engine at the model's
            sample rate.
        model_sample_rate: the model's own sample rate in Hz (a whole number), or None (a
            weights file brings its own).
    """

    def __init__(self, model: str = "wiener", *, model_sample_rate: int | None = None) -> None:
        super().__init__()
        neural = None
        shipped = shipped_weights()
        path = shipped.get(model) if isinstance(model, str) else None
        if path is None and isinstance(model, (str, os.PathLike)) and os.fspath(model).endswith(
                ".safetensors"):
            path = model = os.fspath(model)
        if path is not None:
            from hushboard.fx.neural import effect_for_weights

            neural = effect_for_weights(path)
            if model_sample_rate is None:
                model_sample_rate = neural.model_sample_rate
            elif model_sample_rate != neural.model_sample_rate:
                raise ValueError(f"model_sample_rate {model_sample_rate} differs from the "
                                 f"{neural.model_sample_rate} Hz of {model!r}")
        elif model not in MODELS:
            raise ValueError(f"unknown model {model!r}; available: "
                             f"{', '.join(sorted([*MODELS, *shipped]))} "
                             "or a DCCRN/BSRNN weights file (*.safetensors)")
        if model_sample_rate is not None and (
            isinstance(model_sample_rate, bool) or int(model_sample_rate) != model_sample_rate
            or not 8000 <= model_sample_rate <= 192000
        ):
            raise ValueError("model_sample_rate must be a whole number of Hz in [8000, 192000] "
                             f"(got {model_sample_rate!r})")
        self.model = model
        self.model_sample_rate = None if model_sample_rate is None else int(model_sample_rate)
        self._model = neural if neural is not None else MODELS[model]()

    @property
    def inner(self) -> NativeEffect:
        """The model's effect (its parameters can be changed while streaming)."""
        return self._model

    def _build(self, sample_rate: float, channels: int):
        rate = self.model_sample_rate
        if rate is None or rate == sample_rate:
            self._model._configure(sample_rate, channels)
            self._model._sample_rate, self._model._channels = sample_rate, channels
            return self._model._native
        if sample_rate != int(sample_rate):
            raise ValueError(f"sample_rate must be a whole number of Hz to resample to the "
                             f"model's {rate} Hz (got {sample_rate})")
        self._model._configure(float(rate), channels)
        self._model._sample_rate, self._model._channels = float(rate), channels
        return _C.ResampledEffect(self._model._native, int(sample_rate), rate)

    def _nominal_latency(self, sample_rate: float) -> int:
        return self._model._nominal_latency(self.model_sample_rate or sample_rate)

    def _params(self) -> dict[str, Any]:
        return {"model": self.model, "model_sample_rate": self.model_sample_rate}
