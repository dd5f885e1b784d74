"""Offline batch denoising through the PyTorch models on a device: many recordings at once, the
GPU's use (``hushboard denoise --device cuda``).

The streaming effects (``hushboard.Denoise``) run one stream at a time through the C++ engines
on the CPU. Here every channel of every signal is one item of a batch: items are resampled to the
model's rate, sorted by length, grouped into batches (``batch_size`` items and at most
``max_batch_seconds`` of padded audio each), zero-padded to the longest item of their batch and
run through the model's offline forward (on CUDA: hushboard's CUDA kernels for the STFT, complex
convolutions, band split / mask and recurrences). The shipped denoisers are causal, so the
padding after an item changes nothing before its end except the last STFT frames (the iSTFT
overlap of frames past the end): the result equals the model's offline output of the item alone
up to float32 rounding away from the last ``n_fft`` samples.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["denoise_batch", "load_denoiser_model"]


def load_denoiser_model(model: str | os.PathLike = "default", *, sample_rate: float | None = None,
                        device: Any = "cpu"):
    """A shipped or saved neural denoiser (``DCCRN`` / ``BSRNN``, eval mode) on ``device``.

    Args:
        model: ``"default"`` (the shipped model ``hushboard.fx.model.default_model`` picks for
            ``sample_rate``), a shipped model's name, or a weights file (``*.safetensors``).
        sample_rate: the audio's rate (picks the default model; 16 kHz when None).
        device: ``"cpu"`` or ``"cuda"`` (the CPU with a ``RuntimeWarning`` when CUDA is
            unusable; see ``hushboard.backend.resolve_device``).
    """
    from hushboard.backend import resolve_device
    from hushboard.fx.model import MODELS, default_model, shipped_weights
    from hushboard.models._weights import model_kind

    dev = resolve_device(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name or a weights path (got {type(model).__name__})")
    name = os.fspath(model)
    if name == "default":
        name = default_model(16000 if sample_rate is None else sample_rate)
    shipped = shipped_weights()
    path = shipped.get(name)
    if path is None:
        if name in MODELS:
            raise ValueError(f"model {name!r} is a classic spectral denoiser: batch inference "
                             "runs the neural models (DCCRN / BSRNN); use the streaming path")
        if not name.endswith(".safetensors"):
            raise ValueError(f"unknown model {name!r}; available: default, "
                             f"{', '.join(sorted(shipped))} or a weights file (*.safetensors)")
        path = name
    kind = model_kind(path)  # a missing or unreadable file raises, naming it
    if kind == "DCCRN":
        from hushboard.models import DCCRN as cls
    elif kind == "BSRNN":
        from hushboard.models import BSRNN as cls
    else:
        raise ValueError(f"{path!r} holds no DCCRN or BSRNN model (metadata model={kind!r})")
    net = cls.load(path)
    stems = getattr(net.config, "stems", ("speech",))
    if len(stems) != 1 or getattr(net.config, "audio_channels", 1) != 1:
        raise ValueError(f"{path!r} is not a mono denoiser (stems {tuple(stems)}); separate "
                         "music with hushboard.separate")
    return net.to(dev).eval()


def _check_signals(signals: Any) -> list[np.ndarray]:
    if isinstance(signals, np.ndarray) or not isinstance(signals, Sequence) or not signals:
        raise TypeError("signals must be a non-empty list of arrays (samples,) or "
                        "(channels, samples)")
    out = []
    for i, s in enumerate(signals):
        a = np.asarray(s)
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(f"signals[{i}] must be float32 or float64 (got {a.dtype})")
        if a.ndim not in (1, 2) or a.shape[-1] == 0 or (a.ndim == 2 and a.shape[0] == 0):
            raise ValueError(f"signals[{i}] must have shape (samples,) or (channels, samples) "
                             f"with samples (got {a.shape})")
        if not np.isfinite(a).all():
            raise ValueError(f"signals[{i}] contains NaN or Inf")
        out.append(np.atleast_2d(a).astype(np.float32, copy=False))
    return out


def denoise_batch(signals: Sequence[np.ndarray], sample_rate: float, *,
                  model: Any = "default", device: Any = "cpu", batch_size: int = 16,
                  max_batch_seconds: float = 1200.0, precision: str = "float32",
                  progress: Callable[[float], None] | None = None) -> list[np.ndarray]:
    """Denoise many signals in batches through a neural model on ``device``.

    Args:
        signals: arrays ``(samples,)`` or ``(channels, samples)``, float32/float64, all at
            ``sample_rate``; every channel is denoised on its own.
        sample_rate: their rate in Hz; a rate other than the model's must be a whole number in
            [4000, 384000] (polyphase resampling there and back, delay compensated).
        model: ``"default"``, a shipped denoiser's name, a weights path, or a loaded
            ``DCCRN`` / ``BSRNN`` denoiser (used on its own device).
        device: where to run a model given by name (see ``load_denoiser_model``).
        batch_size: items (channels) per batch, >= 1.
        max_batch_seconds: padded audio per batch at most (memory bound; a longer item runs
            alone).
        precision: "float32", or "bfloat16" / "float16" to run the model's GEMMs and torch
            RNNs under ``torch.autocast`` (hushboard's fused ops stay float32; see
            ``hushboard.backend.precision_context``; measured error in bench/RESULTS.md).
        progress: called with the fraction of items done, or None.

    Returns:
        the denoised signals, float32, each shaped like its input.
    """
    import torch

    from hushboard.backend import check_precision, precision_context
    from hushboard.separation import _check_rate, _resample

    xs = _check_signals(signals)
    check_precision(precision)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1 (got {batch_size!r})")
    if not (isinstance(max_batch_seconds, (int, float)) and max_batch_seconds > 0):
        raise ValueError(f"max_batch_seconds must be > 0 (got {max_batch_seconds!r})")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable or None (got {type(progress).__name__})")
    net = model if isinstance(model, torch.nn.Module) else load_denoiser_model(
        model, sample_rate=sample_rate, device=device)
    rate_model = net.config.sample_rate
    rate = _check_rate(sample_rate, rate_model)
    dev = next(net.parameters()).device
    amp = precision_context(precision, dev)
    # items: (signal, channel) at the model's rate
    items = []
    for i, a in enumerate(xs):
        r = a if rate == rate_model else _resample(a, rate, rate_model)
        items.extend((i, c, r[c]) for c in range(a.shape[0]))
    order = sorted(range(len(items)), key=lambda k: -items[k][2].shape[-1])
    budget = max_batch_seconds * rate_model
    results: dict[int, np.ndarray] = {}
    pos = 0
    with torch.inference_mode():
        while pos < len(order):
            longest = items[order[pos]][2].shape[-1]
            n = 1
            while (pos + n < len(order) and n < batch_size
                   and (n + 1) * longest <= budget):
                n += 1
            group = order[pos:pos + n]
            x = torch.zeros((n, longest), dtype=torch.float32)
            for row, k in enumerate(group):
                y = items[k][2]
                x[row, : y.shape[-1]] = torch.from_numpy(np.ascontiguousarray(y))
            with amp:
                out = net(x.to(dev))
            out = out.float().cpu().numpy()
            for row, k in enumerate(group):
                results[k] = out[row, : items[k][2].shape[-1]]
            pos += n
            if progress is not None:
                progress(pos / len(order))
    denoised = []
    k = 0
    for a in xs:
        chans = []
        for _ in range(a.shape[0]):
            y = results[k]
            chans.append(y if rate == rate_model else _resample(y, rate_model, rate,
                                                                a.shape[-1]))
            k += 1
        y2 = np.stack(chans).astype(np.float32, copy=False)
        denoised.append(y2)
    return [d if np.asarray(s).ndim == 2 else d[0] for d, s in zip(denoised, signals)]


def throughput_line(audio_seconds: float, wall_seconds: float, device: Any) -> str:
    """``N min of audio in S s on DEVICE: X audio hours per device minute``."""
    rate = (audio_seconds / 3600.0) / (wall_seconds / 60.0) if wall_seconds > 0 else float("inf")
    return (f"{audio_seconds / 60:.1f} min of audio in {wall_seconds:.2f} s on {device}: "
            f"{rate:.2f} audio hours per device minute")


def clock() -> float:
    """A timer that waits for queued GPU work first (so device time is measured)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()
