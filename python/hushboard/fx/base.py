"""The effect interface (pedalboard's conventions) and the base of native effects."""

from __future__ import annotations

import abc
import math
import numbers
from typing import Any

import numpy as np

from hushboard.ops._native import _C

__all__ = ["Effect", "NativeEffect", "as_audio"]

MAX_CHANNELS = 64


def as_audio(audio: Any, channels_hint: int | None = None) -> tuple[np.ndarray, str]:
    """Validate audio and return it as C-contiguous float32 ``(channels, samples)`` plus its
    layout ("mono" for 1-D, "cf" channels-first, "cl" channels-last).

    2-D input is channels-first unless its first axis is clearly the time axis (longer than the
    second and than 64); ``channels_hint`` (the channel count of a running stream) settles the
    layout of later blocks, however short.
    """
    if not isinstance(audio, np.ndarray):
        raise TypeError(f"audio must be a numpy.ndarray (got {type(audio).__name__})")
    if audio.dtype not in (np.float32, np.float64):
        raise TypeError(f"audio must be float32 or float64 (got {audio.dtype})")
    if audio.ndim == 1:
        x, layout = audio[None, :], "mono"
    elif audio.ndim == 2:
        rows, cols = audio.shape
        if channels_hint is not None and rows != channels_hint and cols == channels_hint:
            channels_last = True
        elif channels_hint is not None and rows == channels_hint:
            channels_last = False
        else:  # the time axis is the longer one, and a block of <= 64 rows reads channels-first
            channels_last = rows > cols and rows > MAX_CHANNELS
        x, layout = (audio.T, "cl") if channels_last else (audio, "cf")
    else:
        raise ValueError(
            f"audio must be 1-D (samples,) or 2-D (channels, samples) (got shape {audio.shape})"
        )
    if x.shape[0] > MAX_CHANNELS:
        raise ValueError(f"audio has {x.shape[0]} channels; at most {MAX_CHANNELS} are supported")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size and not _C.all_finite(x.__array_interface__["data"][0], x.size, False):
        raise ValueError("audio contains NaN or Inf")
    return x, layout


def restore_layout(y: np.ndarray, layout: str) -> np.ndarray:
    if layout == "mono":
        return y[0]
    if layout == "cl":
        return np.ascontiguousarray(y.T)
    return y


def check_sample_rate(sample_rate: Any) -> float:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
        raise TypeError(f"sample_rate must be a number (got {type(sample_rate).__name__})")
    sr = float(sample_rate)
    if not (math.isfinite(sr) and sr > 0):
        raise ValueError(f"sample_rate must be a positive number of Hz (got {sample_rate})")
    return sr


def check_buffer_size(buffer_size: Any) -> int:
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, numbers.Integral):
        raise TypeError(f"buffer_size must be an integer (got {type(buffer_size).__name__})")
    if buffer_size < 1:
        raise ValueError(f"buffer_size must be >= 1 (got {buffer_size})")
    return int(buffer_size)


class Effect(abc.ABC):
    """A streaming audio effect with pedalboard's calling conventions.

    ``process(audio, sample_rate, buffer_size=8192, reset=True)`` takes float32/float64 audio,
    1-D or 2-D (channels-first or channels-last) and returns float32 in the same layout:

    * ``reset=True`` (offline): the effect starts from a clean state and the output is aligned
      with the input (its latency is compensated and the tail flushed);
    * ``reset=False`` (streaming): state carries over between calls; each call returns exactly
      as many samples as it was given, ``latency_samples`` late. The sample rate and channel
      count must then stay the same.

    Output does not depend on ``buffer_size`` or on how a stream is split into calls.
    Subclasses implement ``_configure(sample_rate, channels)`` (build or reset state) and
    ``_stream(block, buffer_size)``.

    ``realtime`` says whether the effect can run in a live audio callback (every block costs
    about the same and nothing is computed in bursts); ``hushboard.live`` refuses effects
    where it is False.
    """

    realtime: bool = True

    def __init__(self) -> None:
        self._sample_rate: float | None = None
        self._channels: int | None = None
        self._fast = None  # a native block function for the streaming fast path, if any

    # -- subclass hooks ---------------------------------------------------------------------
    @abc.abstractmethod
    def _configure(self, sample_rate: float, channels: int) -> None:
        """Build (or rebuild) the state for a sample rate and channel count."""

    @abc.abstractmethod
    def _stream(self, block: np.ndarray, buffer_size: int) -> np.ndarray:
        """Stream a C-contiguous float32 (channels, n) block; return (channels, n)."""

    def _latency_for(self, sample_rate: float) -> int:
        """Latency at a sample rate (before the effect has been configured)."""
        return 0

    def _reset_state(self) -> None:
        pass

    # -- public API -------------------------------------------------------------------------
    @property
    def latency_samples(self) -> int:
        """Delay of the streaming output, in samples at the current sample rate (0 before the
        first call)."""
        return self._latency_for(self._sample_rate) if self._sample_rate else 0

    def reset(self) -> None:
        """Clear all internal state (the stream starts over)."""
        if self._sample_rate is not None:
            self._reset_state()

    def process(
        self, audio: np.ndarray, sample_rate: float, buffer_size: int = 8192, reset: bool = True
    ) -> np.ndarray:
        """Process audio; see the class docstring for the offline and streaming modes.

        Shape:
            ``(samples,)``, ``(channels, samples)`` or ``(samples, channels)``; the output has
            the input's shape and layout, float32.
        """
        fast = self._fast
        if (fast is not None and not reset and sample_rate == self._sample_rate
                and type(buffer_size) is int and buffer_size >= 1):
            # streaming a plain float32 block through a native effect: one C++ call
            out = fast(audio)
            if out is not None:
                return out
        sr = check_sample_rate(sample_rate)
        bs = check_buffer_size(buffer_size)
        x, layout = as_audio(audio, None if reset else self._channels)
        channels = x.shape[0]
        if channels == 0:
            raise ValueError("audio must have at least one channel")
        configured = self._sample_rate is not None
        if not reset and configured:
            if sr != self._sample_rate:
                raise ValueError(
                    f"sample_rate changed mid-stream from {self._sample_rate:g} to {sr:g} Hz; "
                    "call reset() or process(..., reset=True)"
                )
            if channels != self._channels:
                raise ValueError(
                    f"channel count changed mid-stream from {self._channels} to {channels}; "
                    "call reset() or process(..., reset=True)"
                )
        if not configured or sr != self._sample_rate or channels != self._channels:
            self._configure(sr, channels)
            self._sample_rate, self._channels = sr, channels
        elif reset:
            self._reset_state()
        if x.shape[1] == 0:
            return restore_layout(x.copy(), layout)
        if reset:
            lat = self.latency_samples
            padded = np.concatenate([x, np.zeros((channels, lat), np.float32)], axis=1) if lat else x
            y = self._stream(np.ascontiguousarray(padded), bs)[:, lat:]
        else:
            y = self._stream(x, bs)
        return restore_layout(np.ascontiguousarray(y), layout)

    __call__ = process

    def _params(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


class NativeEffect(Effect):
    """An effect whose state and block loop live in C++ (an ``hb::Effect``): ``_build`` returns
    the native object for a sample rate and channel count; blocks run with the GIL released and
    without allocation per block."""

    def __init__(self) -> None:
        super().__init__()
        self._native = None

    @abc.abstractmethod
    def _build(self, sample_rate: float, channels: int):
        """The native (hb::Effect) object for a sample rate and channel count."""

    def _configure(self, sample_rate: float, channels: int) -> None:
        self._native = self._build(sample_rate, channels)
        self._fast = self._native.process_block

    def _latency_for(self, sample_rate: float) -> int:
        if self._native is not None and self._sample_rate == sample_rate:
            return int(self._native.latency_samples)
        return self._nominal_latency(sample_rate)

    def _nominal_latency(self, sample_rate: float) -> int:
        """Latency at a sample rate before the native object exists."""
        return 0

    def _reset_state(self) -> None:
        self._native.reset()

    def _stream(self, block: np.ndarray, buffer_size: int) -> np.ndarray:
        out = np.empty_like(block)
        self._native.process_into(block, out, buffer_size)
        return out
