"""``Denoise``: the effect denoising models plug into: the shipped neural models (the default
picked by the stream's sample rate), any DCCRN/BSRNN weights file, and the classic denoisers."""

from __future__ import annotations

import os
from typing import Any, Callable

from hushboard.fx.base import NativeEffect
from hushboard.fx.denoise import SpectralGate, WienerDenoiser
from hushboard.ops._native import _C

__all__ = ["DEFAULT", "DEFAULT_MODELS", "MODELS", "Denoise", "default_model", "shipped_weights"]


def shipped_weights() -> dict[str, str]:
    """The trained denoisers that ship inside the package: name -> weights file
    (``hushboard/weights/<name>.safetensors``, each with a ``<name>.md`` model card). Models
    with several stems (the music separators of ``hushboard.separation.shipped_separators``)
    are not denoisers and are left out; a file whose metadata cannot be read stays listed, so
    loading it reports what is wrong."""
    import importlib.resources

    from hushboard.models._weights import weights_stems

    root = importlib.resources.files("hushboard") / "weights"
    if not root.is_dir():
        return {}
    return {p.name[: -len(".safetensors")]: str(p) for p in sorted(root.iterdir(), key=str)
            if p.name.endswith(".safetensors") and len(weights_stems(str(p)) or ("?",)) == 1}

# The default model: among the shipped models, the first of this list whose lowest stream rate
# the stream reaches: the fullband model for streams of 32 kHz and up (a 16 kHz model would
# drop everything above 8 kHz; at 48 kHz its latency is 20 ms), the 16 kHz model below (and
# above when the fullband one is not shipped). Below 32 kHz a stream resampled to 48 kHz leaves
# the fullband model's top octaves empty, which it never saw in training (at 22.05 kHz it scored
# 2 dB under the 16 kHz model on the demo clip). Each is chosen for its quality on the held-out
# test split against its peers (see its model card).
DEFAULT = "default"
DEFAULT_MODELS: tuple[tuple[str, int], ...] = (
    ("bsrnn-speech-48k-lite", 32000),
    ("bsrnn-speech-16k-lite", 0),
)


def default_model(sample_rate: float) -> str:
    """The name of the model ``Denoise()`` (``--model default``) runs for a stream of
    ``sample_rate`` Hz: a shipped model of ``DEFAULT_MODELS``, or ``"wiener"`` when none ships."""
    shipped = shipped_weights()
    usable = [(n, lo) for n, lo in DEFAULT_MODELS if n in shipped]
    for name, lowest in usable:
        if sample_rate >= lowest:
            return name
    return usable[-1][0] if usable else "wiener"


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
        model: ``"default"`` (the best shipped model for the stream's sample rate, chosen when
            the stream starts: see ``default_model``), a shipped model's name (see
            ``shipped_weights``), a name from ``MODELS`` (the classic "wiener" and "gate"), or
            the path of a DCCRN or BSRNN weights file (``*.safetensors`` written by
            ``DCCRN.save`` / ``BSRNN.save``), which runs through its C++ engine at the model's
            sample rate.
        model_sample_rate: the model's own sample rate in Hz (a whole number), or None (a
            weights file brings its own). Not with ``"default"``.
    """

    def __init__(self, model: str = DEFAULT, *, model_sample_rate: int | None = None) -> None:
        super().__init__()
        self._auto: dict[str, NativeEffect] | None = None
        if isinstance(model, str) and model == DEFAULT:
            if model_sample_rate is not None:
                raise ValueError("model_sample_rate: the default model brings its own rate; "
                                 "name a model to set one")
            self.model, self.model_sample_rate = DEFAULT, None
            self._auto = {}  # chosen name -> its effect, made when a stream first needs it
            self._model, self._chosen = None, DEFAULT
            return
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
            raise ValueError(f"unknown model {model!r}; available: {DEFAULT}, "
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
        """The model's effect (its parameters can be changed while streaming). With the default
        model: the one chosen for the stream's rate, once a stream has started."""
        if self._model is None:
            raise RuntimeError("the default model is chosen by the stream's sample rate: "
                               "process audio first, or name a model")
        return self._model

    @property
    def chosen(self) -> str:
        """The model name in use: the one ``"default"`` picked for the current stream."""
        return os.fspath(self.model) if self._auto is None else self._chosen

    def _choose(self, sample_rate: float) -> tuple[NativeEffect, int | None, str]:
        """The effect, its model rate and its name for a stream of ``sample_rate``."""
        if self._auto is None:
            return self._model, self.model_sample_rate, self.chosen
        name = default_model(sample_rate)
        fx = self._auto.get(name)
        if fx is None:
            if name in MODELS:
                fx = self._auto[name] = MODELS[name]()
            else:
                from hushboard.fx.neural import effect_for_weights

                fx = self._auto[name] = effect_for_weights(shipped_weights()[name])
        return fx, getattr(fx, "model_sample_rate", None), name

    def _build(self, sample_rate: float, channels: int):
        if self._auto is not None:
            self._model, self.model_sample_rate, self._chosen = self._choose(sample_rate)
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
        fx, rate, _ = self._choose(sample_rate)
        return fx._nominal_latency(rate or sample_rate)

    def _params(self) -> dict[str, Any]:
        if self._auto is not None:
            return {"model": DEFAULT, **({"chosen": self._chosen} if self._model is not None else {})}
        return {"model": self.model, "model_sample_rate": self.model_sample_rate}
