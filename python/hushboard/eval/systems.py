"""The systems ``hushboard eval`` scores: hushboard's effects and peers, run offline and aligned.

Every system is a ``System``: ``system(audio, sample_rate)`` takes 1-D float audio and returns
the denoised signal, float64, the same length and time-aligned with the input (each system's
delay compensated), so that metrics compare it sample for sample with the clean reference.

* ``EffectSystem``: any hushboard effect (``Denoise(model)``: ``wiener``, ``gate``, a DCCRN or
  BSRNN ``*.safetensors``); ``effect.process(audio, sample_rate)`` is already aligned.
* ``RNNoiseSystem``: RNNoise (xiph, through the ``pyrnnoise`` package's C library) at 48 kHz:
  the input is resampled to 48 kHz and back (polyphase, zero-phase), and its delay of
  ``RNNOISE_DELAY_48K`` samples is removed (measured with ``measure_delay``).
* ``NoiseReduceSystem``: ``noisereduce.reduce_noise`` in its non-stationary mode (the noise
  floor is tracked over time, no noise clip needed; the package's default).
"""

from __future__ import annotations

import abc
import ctypes
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hushboard.metrics import resample

__all__ = [
    "PEERS", "RNNOISE_DELAY_48K", "EffectSystem", "NoiseReduceSystem", "RNNoiseSystem", "System",
    "make_peer", "measure_delay",
]

#: RNNoise's input-to-output delay at 48 kHz in samples (20 ms: its 480-sample frame plus one
#: more frame of look-back in the 960-sample analysis window of rnnoise 0.2, as pyrnnoise
#: 0.4 ships it). Measured with ``measure_delay`` on a speech-like signal (GCC-PHAT peak at
#: 960); ``tests/eval/test_systems.py`` measures it again.
RNNOISE_DELAY_48K = 960


class System(abc.ABC):
    """A named denoiser run offline on a whole signal; the output is aligned with the input.

    Subclasses implement ``_run(audio, sample_rate) -> np.ndarray`` on 1-D float64 audio.
    """

    name: str = "system"

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Denoise ``audio``.

        Shape:
            ``(samples,)`` -> ``(samples,)``, float64.
        """
        x = np.asarray(audio, np.float64)
        if x.ndim != 1:
            raise ValueError(f"audio must be 1-D (got shape {x.shape})")
        y = np.asarray(self._run(x, int(sample_rate)), np.float64).reshape(-1)
        if y.size != x.size:
            raise RuntimeError(f"{self.name} returned {y.size} samples for {x.size}")
        return y

    @abc.abstractmethod
    def _run(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """The system's output for 1-D float64 ``audio`` at ``sample_rate``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class NoisySystem(System):
    """The noisy input itself (the baseline every Δ is taken over)."""

    name = "noisy"

    def _run(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return audio


class EffectSystem(System):
    """A hushboard effect run offline (``process(audio, sample_rate)``, latency compensated).

    Args:
        effect: an ``hushboard.fx`` effect, or a factory returning one (called once).
        name: the row label.
    """

    def __init__(self, effect: Any, name: str) -> None:
        self.effect = effect() if callable(effect) and not hasattr(effect, "process") else effect
        if not hasattr(self.effect, "process"):
            raise TypeError(f"effect must have a process(audio, sample_rate) method "
                            f"(got {type(self.effect).__name__})")
        self.name = name

    def _run(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.effect.process(audio.astype(np.float32), sample_rate, reset=True)


def _rnnoise_lib():
    try:
        from pyrnnoise import rnnoise as rn  # the package's ctypes binding of librnnoise
    except Exception as exc:  # ImportError, or OSError when its shared library is missing
        raise ImportError(f"the RNNoise peer needs the pyrnnoise package (pip install "
                          f"pyrnnoise): {type(exc).__name__}: {exc}") from exc
    return rn


class RNNoiseSystem(System):
    """RNNoise at 48 kHz with its delay compensated.

    The audio is resampled to 48 kHz (``scipy.signal.resample_poly``, zero-phase), scaled to
    the 16-bit range RNNoise expects, run frame by frame (480 samples) through
    ``rnnoise_process_frame`` of the library pyrnnoise bundles, shifted back by
    ``RNNOISE_DELAY_48K`` samples (the tail flushed with zeros) and resampled to the input
    rate. pyrnnoise's own wrapper is bypassed because it rounds to int16 and wraps loud samples.
    """

    name = "rnnoise"
    RATE = 48000

    def __init__(self, delay_samples: int = RNNOISE_DELAY_48K) -> None:
        self._rn = _rnnoise_lib()
        self.frame = int(self._rn.FRAME_SIZE)
        self.delay_samples = int(delay_samples)

    def process_48k(self, audio_48k: np.ndarray, *, compensate: bool = True) -> np.ndarray:
        """Run RNNoise on 48 kHz float audio (full scale ±1); with ``compensate`` the output is
        aligned with the input, otherwise it is RNNoise's raw, delayed output.

        Shape:
            ``(samples,)`` -> ``(samples,)``, float64.
        """
        x = np.asarray(audio_48k, np.float64)
        n = x.size
        pad = self.delay_samples if compensate else 0
        total = self.frame * math.ceil((n + pad) / self.frame)
        buf = np.zeros(total, np.float32)
        buf[:n] = x * 32768.0
        lib = self._rn.lib
        state = lib.rnnoise_create(None)
        if not state:
            raise RuntimeError("rnnoise_create failed")
        ptr_t = ctypes.POINTER(ctypes.c_float)
        try:
            for i in range(0, total, self.frame):
                p = buf[i:i + self.frame].ctypes.data_as(ptr_t)
                lib.rnnoise_process_frame(state, p, p)  # in place
        finally:
            lib.rnnoise_destroy(state)
        return buf[pad:pad + n].astype(np.float64) / 32768.0

    def _run(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        x48 = resample(audio, sample_rate, self.RATE) if sample_rate != self.RATE else audio
        y48 = self.process_48k(x48)
        y = resample(y48, self.RATE, sample_rate) if sample_rate != self.RATE else y48
        return _fit(y, audio.size)


class NoiseReduceSystem(System):
    """``noisereduce`` (spectral gating, Sainburg 2020), non-stationary mode.

    Non-stationary: the noise threshold follows a smoothed running estimate of each frequency's
    level (``time_constant_s`` = 2 s), so no noise clip is needed and slowly changing noise is
    tracked; stationary mode would take one threshold from the whole clip. Its STFT is centred,
    so the output is aligned with the input (checked in the tests).
    """

    name = "noisereduce"

    def __init__(self, *, stationary: bool = False) -> None:
        try:
            import noisereduce
        except Exception as exc:
            raise ImportError(f"the noisereduce peer needs the noisereduce package (pip install "
                              f"noisereduce): {type(exc).__name__}: {exc}") from exc
        self._nr = noisereduce
        self.stationary = bool(stationary)

    def _run(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        y = self._nr.reduce_noise(y=audio.astype(np.float32), sr=sample_rate,
                                  stationary=self.stationary, n_jobs=1)
        return _fit(np.asarray(y, np.float64), audio.size)


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to exactly ``n`` samples (resampling may leave one more or less)."""
    if y.size >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - y.size)])


def _wiener() -> System:
    from hushboard.fx.model import Denoise

    return EffectSystem(Denoise("wiener"), "wiener")


#: peer name -> factory (raises ImportError when its package is missing)
PEERS: dict[str, Callable[[], System]] = {
    "rnnoise": RNNoiseSystem,
    "noisereduce": NoiseReduceSystem,
    "wiener": _wiener,
}


def make_peer(name: str) -> System:
    """A peer system by name (``PEERS``)."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; available: {', '.join(PEERS)}")
    return PEERS[name]()


def measure_delay(x: np.ndarray, y: np.ndarray, max_lag: int) -> int:
    """The lag (in samples, ``0..max_lag``) by which ``y`` trails ``x``, from the peak of the
    phase-transform-weighted cross-correlation (GCC-PHAT), robust to the filtering a denoiser
    applies.

    Shape:
        x and y: ``(samples,)``, the same length.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length (got {x.shape}, {y.shape})")
    if not 0 <= max_lag < x.size:
        raise ValueError(f"max_lag must be in [0, {x.size}) (got {max_lag})")
    n = 1 << math.ceil(math.log2(2 * x.size))
    cross = np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n))
    g = np.fft.irfft(cross / (np.abs(cross) + 1e-12), n)
    return int(np.argmax(g[: max_lag + 1]))
