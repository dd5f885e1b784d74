"""Frame-by-frame STFT, iSTFT and analysis-synthesis round trip with their state in C++.

Feed any number of samples (1 to many) and get what is complete so far. Concatenated
streaming output equals the offline transform (``hushboard.ops.stft`` / ``istft``) to float32
rounding for every block size:

* ``StftStream`` frames equal ``stft(x, center=True, pad_mode="constant")`` (or ``center=False``).
* ``IstftStream`` returns ``hop_length`` samples per frame; its output is the offline ``istft``
  output delayed by ``latency_samples`` (``n_fft // 2`` with ``center``, else 0).
* ``StftRoundTrip`` returns exactly as many samples as it is fed; with nothing done to the
  spectrum the output is the input delayed by ``latency_samples = n_fft - 1``.

The per-block work runs in C++ with the GIL released and without allocation; the Python
wrappers validate input and allocate the returned arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hushboard.ops._native import _C
from hushboard.ops._stft import _KINDS, _resolve_frame_args, _resolve_window

__all__ = ["IstftStream", "StftRoundTrip", "StftStream"]


def _window_array(window: Any, win_length: int, n_fft: int) -> np.ndarray:
    import torch

    w = _resolve_window(window, win_length, n_fft, torch.float32, "cpu")
    return np.ascontiguousarray(w.numpy(), dtype=np.float32)


def _check_channels(channels: Any) -> int:
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ValueError(f"channels must be a positive integer (got {channels!r})")
    return int(channels)


def _as_block(x: Any, channels: int, name: str = "x") -> tuple[np.ndarray, bool]:
    """Validate a (channels, n) or 1-D block; return C-contiguous float32 and whether it was 1-D."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray (got {type(x).__name__})")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64 (got {x.dtype})")
    one_d = x.ndim == 1
    if one_d:
        if channels != 1:
            raise ValueError(f"{name} is 1-D but the stream has {channels} channels")
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] != channels:
        raise ValueError(f"{name} must have shape ({channels}, samples) (got {x.shape})")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.size and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return x, one_d


class _Base:
    def _setup(self, n_fft, hop_length, win_length, window, channels):
        self.n_fft, self.hop_length, self.win_length = _resolve_frame_args(
            n_fft, hop_length, win_length
        )
        if self.n_fft % 2:
            raise ValueError(f"streaming needs an even n_fft (got {self.n_fft})")
        self.channels = _check_channels(channels)
        self.window = _window_array(window, self.win_length, self.n_fft)


class StftStream(_Base):
    """Streaming STFT: samples in, completed frames out.

    Args:
        n_fft, hop_length, win_length: as ``hushboard.ops.stft`` (even n_fft).
        window: array, name (default "hann") or None (rectangular).
        channels: independent channels (rows of the input).
        center: start with ``n_fft // 2`` zeros (frames match ``stft(center=True,
            pad_mode="constant")``); False matches ``center=False``.
        normalized, onesided, output, power: as ``hushboard.ops.stft``.

    Shape:
        ``process``: ``(channels, n)`` -> ``(channels, n_bins, frames)``; 1-D in, 2-D out.
    """

    def __init__(
        self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
        window: Any = "hann", *, channels: int = 1, center: bool = True,
        normalized: bool = False, onesided: bool = True, output: str = "complex",
        power: float = 1.0,
    ) -> None:
        self._setup(n_fft, hop_length, win_length, window, channels)
        if output not in _KINDS:
            raise ValueError(f"output must be 'complex', 'magnitude' or 'compressed' (got {output!r})")
        self.center, self.output, self.power = bool(center), output, float(power)
        self._s = _C.StftStreamer(
            self.n_fft, self.hop_length, self.window, self.channels, self.center,
            bool(normalized), bool(onesided), _KINDS[output], self.power,
        )
        self.n_bins = self._s.n_bins

    def frames_for(self, n_samples: int) -> int:
        """Frames that ``process`` of ``n_samples`` more samples will return."""
        return self._s.frames_for(int(n_samples))

    def process(self, x: np.ndarray) -> np.ndarray:
        block, one_d = _as_block(x, self.channels)
        out = self._s.push(block)
        return out[0] if one_d else out

    __call__ = process

    def reset(self) -> None:
        """Forget all input: back to the state after construction."""
        self._s.reset()

    def __repr__(self) -> str:
        return (f"StftStream(n_fft={self.n_fft}, hop_length={self.hop_length}, "
                f"win_length={self.win_length}, channels={self.channels}, center={self.center}, "
                f"output={self.output!r})")


class IstftStream(_Base):
    """Streaming inverse STFT: frames in, ``hop_length`` samples out per frame.

    The output equals the offline ``istft`` output delayed by ``latency_samples``.

    Shape:
        ``process``: ``(channels, n_bins, frames)`` complex -> ``(channels, frames * hop)``;
        2-D in, 1-D out.
    """

    def __init__(
        self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
        window: Any = "hann", *, channels: int = 1, center: bool = True,
        normalized: bool = False, onesided: bool = True, input: str = "complex",  # noqa: A002
        power: float = 1.0,
    ) -> None:
        self._setup(n_fft, hop_length, win_length, window, channels)
        if input not in ("complex", "compressed"):
            raise ValueError(f"input must be 'complex' or 'compressed' (got {input!r})")
        self.center = bool(center)
        self._s = _C.IstftStreamer(
            self.n_fft, self.hop_length, self.window, self.channels, self.center,
            bool(normalized), bool(onesided), _KINDS[input], float(power),
        )
        self.n_bins = self.n_fft // 2 + 1 if onesided else self.n_fft

    @property
    def latency_samples(self) -> int:
        return self._s.latency_samples

    def process(self, spec: np.ndarray) -> np.ndarray:
        if not isinstance(spec, np.ndarray):
            raise TypeError(f"spec must be a numpy.ndarray (got {type(spec).__name__})")
        if spec.dtype not in (np.complex64, np.complex128):
            raise TypeError(f"spec must be complex64 or complex128 (got {spec.dtype})")
        two_d = spec.ndim == 2
        if two_d:
            if self.channels != 1:
                raise ValueError(f"spec is 2-D but the stream has {self.channels} channels")
            spec = spec[None]
        if spec.ndim != 3 or spec.shape[:2] != (self.channels, self.n_bins):
            raise ValueError(
                f"spec must have shape ({self.channels}, {self.n_bins}, frames) (got {spec.shape})"
            )
        spec = np.ascontiguousarray(spec, dtype=np.complex64)
        if spec.size and not np.isfinite(spec).all():
            raise ValueError("spec contains NaN or Inf")
        out = self._s.push(spec)
        return out[0] if two_d else out

    __call__ = process

    def reset(self) -> None:
        self._s.reset()

    def __repr__(self) -> str:
        return (f"IstftStream(n_fft={self.n_fft}, hop_length={self.hop_length}, "
                f"channels={self.channels}, center={self.center})")


class StftRoundTrip(_Base):
    """Analysis + synthesis, samples in and the same number out, ``n_fft - 1`` samples late.

    The base of spectral effects; on its own it reconstructs its input (to float32 rounding).

    Shape:
        ``process``: ``(channels, n)`` -> ``(channels, n)``; 1-D in, 1-D out.
    """

    def __init__(
        self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
        window: Any = "hann", *, channels: int = 1, normalized: bool = False,
    ) -> None:
        self._setup(n_fft, hop_length, win_length, window, channels)
        self._s = _C.StftRoundTrip(self.n_fft, self.hop_length, self.window, self.channels,
                                   bool(normalized), 0, 1.0)

    @property
    def latency_samples(self) -> int:
        return self._s.latency_samples

    def process(self, x: np.ndarray) -> np.ndarray:
        block, one_d = _as_block(x, self.channels)
        out = np.empty_like(block)
        self._s.process_into(block, out)
        return out[0] if one_d else out

    __call__ = process

    def reset(self) -> None:
        self._s.reset()

    def __repr__(self) -> str:
        return (f"StftRoundTrip(n_fft={self.n_fft}, hop_length={self.hop_length}, "
                f"channels={self.channels}, latency_samples={self.latency_samples})")
