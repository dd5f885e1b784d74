"""Music source separation: split a song into stems (vocals, drums, bass, other) with a BSRNN
separator, optionally refined by a multichannel Wiener filter.

``separate(audio, sample_rate)`` runs the whole pipeline on a NumPy array: the audio is brought
to the model's sample rate and channel count (polyphase resampling, mono duplicated to stereo),
separated in overlapping chunks (``BSRNN.separate_long``'s chunking and linear cross-fades, so
memory stays bounded for songs of any length), optionally post-processed with ``wiener_filter``,
and brought back to the input's rate, length and channels. ``hushboard separate`` is the command
line over it.

Models: ``load_separator`` reads a shipped separator (a ``hushboard/weights/<name>.safetensors``
with more than one stem, see ``shipped_separators``) or any multi-stem BSRNN weights file
written by ``BSRNN.save``. Single-stem weights are speech denoisers
(``hushboard.fx.model.shipped_weights``) and are refused here; ``weights_stems`` is the test that
puts each weights file on one side or the other. A *bag* ``"A+B"`` (``load_separators``) returns
B's stems, each from the first of A, B that has it, as Demucs' fine-tuned bags take each source
from its specialist and the BSRNN paper trains one model per target: ``"VOCALS+default"``, with
VOCALS a ``bsrnn-music-44k-lite-vocals`` (vocals / accompaniment) weights file, takes the vocals
from it and drums, bass and other from the shipped four-stem model.

Wiener post-processing (``wiener_filter``) follows the multichannel Gaussian model of Nugraha,
Liutkus & Vincent (2016), as open-unmix/norbert use it: in the STFT domain each source j is
``y_j(f,t) ~ N_c(0, v_j(f,t) R_j(f))`` with a power spectral density ``v_j`` and an I x I spatial
covariance ``R_j`` (I = 2 for stereo), both fitted to the model's estimates, and each stem is
re-estimated as the posterior mean ``v_j R_j (sum_k v_k R_k)^-1 x`` given the mixture ``x``, so
the filtered stems sum to the mixture.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch loads on first use
    import torch

    from hushboard.models.bsrnn import BSRNN

__all__ = [
    "DEFAULT_SEPARATOR",
    "STEMS",
    "WIENER_SEGMENT_FRAMES",
    "bag_parts",
    "load_separator",
    "load_separators",
    "separate",
    "shipped_separators",
    "weights_stems",
    "wiener_filter",
]

#: the stems of the shipped separator, in its output order
STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
#: the separator ``model="default"`` loads (``hushboard/weights/<name>.safetensors``)
DEFAULT_SEPARATOR = "bsrnn-music-44k-lite"
#: STFT frames per Wiener segment (open-unmix's ``wiener_win_len``: 300 frames, 3.5 s at
#: 44.1 kHz with hop 512); the spatial covariances are estimated per segment
WIENER_SEGMENT_FRAMES = 300
#: STFT frames over which neighbouring Wiener segments cross-fade
WIENER_OVERLAP_FRAMES = 16
#: the Wiener regulariser relative to the segment's mean mixture power (see ``wiener_filter``)
WIENER_EPS = 1e-10

# Progress accounting: the Wiener pass costs about this much per sample relative to the network
_WIENER_COST = 0.6


# ---- which weights file is what -------------------------------------------------------------
def weights_stems(path: str | os.PathLike) -> tuple[str, ...] | None:
    """The output stems a weights file's metadata names (``("speech",)`` for a denoiser, several
    for a separator; None when unreadable): ``hushboard.models._weights.weights_stems``."""
    from hushboard.models._weights import weights_stems as stems_of

    return stems_of(path)


def _weights_root() -> Path | None:
    import importlib.resources

    root = importlib.resources.files("hushboard") / "weights"
    return root if root.is_dir() else None  # type: ignore[return-value]


def shipped_separators() -> dict[str, str]:
    """The trained separators that ship inside the package: name -> weights file, for each
    ``hushboard/weights/<name>.safetensors`` holding a model with more than one stem (the
    single-stem files there are the denoisers of ``hushboard.fx.model.shipped_weights``; each
    file is in exactly one of the two listings)."""
    root = _weights_root()
    if root is None:
        return {}
    out = {}
    for p in sorted(root.iterdir(), key=str):
        if p.name.endswith(".safetensors"):
            stems = weights_stems(str(p))
            if stems is not None and len(stems) > 1:
                out[p.name[: -len(".safetensors")]] = str(p)
    return out


# ---- models --------------------------------------------------------------------------------------
def _torch_device(device: Any) -> torch.device:
    """``device`` as a torch.device; "cuda" without a usable GPU or without hushboard's CUDA
    kernels falls back to the CPU with a warning (``hushboard.backend.resolve_device``)."""
    from hushboard.backend import resolve_device

    return resolve_device(device)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int, device: str) -> BSRNN:
    from hushboard.models.bsrnn import BSRNN

    model = BSRNN.load(path).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _not_a_separator(what: str, stems: tuple[str, ...]) -> ValueError:
    return ValueError(f"{what} is a denoiser (stems {list(stems)}), not a separator: "
                      "separation needs a model with several stems (use `hushboard denoise` / "
                      "Denoise(model=...) for this one)")


def load_separator(model: str | os.PathLike = "default", *, device: str = "cpu") -> BSRNN:
    """A separator model, ready for inference (eval mode, no gradients).

    The model is cached per (file, modification time, device): repeated calls return the same
    object, so do not modify it.

    Args:
        model: ``"default"`` (``DEFAULT_SEPARATOR``, when it ships), the name of a shipped
            separator (``shipped_separators()``), or the path of a multi-stem BSRNN weights
            file (``*.safetensors`` written by ``BSRNN.save``).
        device: ``"cpu"`` or ``"cuda"`` (``"cuda:N"``); without a usable GPU (or a build
            without CUDA) "cuda" runs on the CPU, with a ``RuntimeWarning``.

    Returns:
        the ``BSRNN`` on ``device``.

    Raises:
        ValueError: nothing ships for ``"default"``, an unknown name, a file that holds a
            denoiser or no valid BSRNN, or a CUDA index past the devices present.
        FileNotFoundError: a path that does not exist.
    """
    dev = _torch_device(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be 'default', a separator name or a weights path (got "
                        f"{type(model).__name__})")
    name = os.fspath(model)
    shipped = shipped_separators()
    if "+" in name and not os.path.isfile(name):
        raise ValueError(f"{name!r} is a bag of separators; load it with load_separators")
    if name == "default":
        if DEFAULT_SEPARATOR not in shipped:
            others = f" (shipped: {', '.join(shipped)})" if shipped else ""
            raise ValueError(f"no default separator ships with this hushboard: expected "
                             f"hushboard/weights/{DEFAULT_SEPARATOR}.safetensors{others}; pass "
                             "the path of a separator's weights file (*.safetensors)")
        path = shipped[DEFAULT_SEPARATOR]
    elif name in shipped:
        path = shipped[name]
    elif os.path.isfile(name) or name.endswith(".safetensors") or os.sep in name:
        path = name
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no weights file at {path!r}")
    else:
        from hushboard.fx.model import shipped_weights

        if name in shipped_weights():
            raise _not_a_separator(f"the shipped model {name!r}", ("speech",))
        raise ValueError(f"unknown separator {name!r}; expected 'default', a shipped separator "
                         f"({', '.join(shipped) or 'none ships'}) or a weights file "
                         "(*.safetensors)")
    stems = weights_stems(path)
    if stems is not None and len(stems) < 2:
        raise _not_a_separator(repr(path), stems)
    st = os.stat(path)
    loaded = _load_cached(os.path.abspath(path), st.st_mtime_ns, st.st_size, str(dev))
    if len(loaded.config.stems) < 2:  # unreadable metadata above, but a valid BSRNN after all
        raise _not_a_separator(repr(path), loaded.config.stems)
    return loaded


def bag_parts(model: Any) -> list[Any]:
    """The models of a separator spec: ``"A+B"`` (or ``["A", "B"]``) is a bag, each stem taken
    from the first of its models that has it; anything else is one model (``"default"`` among
    them, also inside a bag). An existing file whose name contains ``+`` is one model."""
    if isinstance(model, (list, tuple)):
        if not model:
            raise ValueError("model: an empty list of separators")
        parts = list(model)
    elif isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        parts = [name] if os.path.isfile(name) or "+" not in name else name.split("+")
    else:
        parts = [model]
    for p in parts:
        if isinstance(p, (str, os.PathLike)) and not os.fspath(p).strip():
            raise ValueError(f"model: an empty separator name in {model!r}")
    return parts


def _check_bag(nets: list[BSRNN], spec: Any) -> None:
    base = nets[-1].config
    for net in nets[:-1]:
        cfg = net.config
        for field in ("sample_rate", "audio_channels", "n_fft", "hop_length", "window"):
            if getattr(cfg, field) != getattr(base, field):
                raise ValueError(f"model {spec!r}: the bag's separators differ in {field} "
                                 f"({getattr(cfg, field)!r} and {getattr(base, field)!r})")
        if not set(cfg.stems) & set(base.stems):
            raise ValueError(f"model {spec!r}: a separator with stems {list(cfg.stems)} gives "
                             f"none of the last one's ({list(base.stems)})")


def load_separators(model: Any = "default", *, device: str = "cpu") -> list[BSRNN]:
    """The separators of ``model`` (see ``bag_parts``), loaded as ``load_separator`` does: one
    for a single model, several for a bag (checked to share rate, channels and STFT, and each
    to give at least one of the last model's stems)."""
    nets = [_model_on(m, device) for m in bag_parts(model)]
    _check_bag(nets, model)
    return nets


def _model_on(model: Any, device: Any) -> BSRNN:
    from hushboard.models.bsrnn import BSRNN

    if isinstance(model, BSRNN):
        if len(model.config.stems) < 2:
            raise _not_a_separator("the model", model.config.stems)
        dev = _torch_device(device)
        here = model.window.device
        if here.type == dev.type and (dev.index is None or here.index == dev.index):
            return model
        import copy

        return copy.deepcopy(model).to(dev)  # the caller's model stays where it is
    if isinstance(model, (str, os.PathLike)):
        return load_separator(model, device=device)
    raise TypeError(f"model must be 'default', a separator name, a weights path or a BSRNN "
                    f"(got {type(model).__name__})")


# ---- argument checks --------------------------------------------------------------------------
def _check_audio(audio: Any) -> np.ndarray:
    """(channels, samples) float array of 1 or 2 channels, finite, not empty."""
    if type(audio).__module__.startswith("torch"):
        import torch

        if isinstance(audio, torch.Tensor):
            audio = audio.detach().cpu().numpy()
    if not isinstance(audio, np.ndarray):
        raise TypeError(f"audio must be a NumPy array (or torch tensor) of samples (got "
                        f"{type(audio).__name__})")
    if audio.dtype not in (np.float32, np.float64):
        raise TypeError(f"audio must be float32 or float64 (got dtype {audio.dtype}); "
                        "convert integer PCM to float in [-1, 1] first")
    if audio.ndim not in (1, 2):
        raise ValueError(f"audio must be (samples,) or (channels, samples) (got shape "
                         f"{audio.shape})")
    a = audio[None] if audio.ndim == 1 else audio
    if a.shape[0] not in (1, 2):
        hint = ("; transpose (samples, channels) audio" if a.shape[1] in (1, 2)
                else "; mix it down to mono or stereo first")
        raise ValueError(f"audio must have 1 or 2 channels as (channels, samples) (got shape "
                         f"{audio.shape}{hint})")
    if a.shape[1] == 0:
        raise ValueError(f"audio is empty (shape {audio.shape})")
    if not np.isfinite(a).all():
        raise ValueError("audio contains NaN or Inf")
    return a


def _check_rate(sample_rate: Any, model_rate: int) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
        raise TypeError(f"sample_rate must be a number of Hz (got {type(sample_rate).__name__})")
    if not (math.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"sample_rate must be a positive number of Hz (got {sample_rate})")
    if sample_rate == model_rate:
        return model_rate
    if sample_rate != int(sample_rate) or not 4000 <= sample_rate <= 384000:
        raise ValueError(f"sample_rate must be a whole number of Hz in [4000, 384000] to "
                         f"resample to the model's {model_rate} Hz (got {sample_rate})")
    return int(sample_rate)


def _check_stems(stems: Any, available: tuple[str, ...]) -> tuple[str, ...]:
    if stems is None:
        return available
    if isinstance(stems, str):
        names = [s.strip() for s in stems.split(",") if s.strip()]
    elif isinstance(stems, Iterable):
        names = list(stems)
        bad = [s for s in names if not isinstance(s, str)]
        if bad:
            raise TypeError(f"stems must be names (strings) (got {bad[0]!r})")
    else:
        raise TypeError(f"stems must be None, a list of names or a comma-separated string (got "
                        f"{type(stems).__name__})")
    if not names:
        raise ValueError(f"stems is empty; choose from {', '.join(available)}")
    unknown = [s for s in names if s not in available]
    if unknown:
        raise ValueError(f"unknown stem(s) {', '.join(map(repr, unknown))}; the model has "
                         f"{', '.join(available)}")
    return tuple(dict.fromkeys(names))  # order kept, duplicates dropped


def _check_seconds(chunk_seconds: Any, overlap_seconds: Any) -> tuple[float, float]:
    for name, v in (("chunk_seconds", chunk_seconds), ("overlap_seconds", overlap_seconds)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise TypeError(f"{name} must be a finite number of seconds (got {v!r})")
    if not chunk_seconds > 0 or not 0 <= overlap_seconds < chunk_seconds:
        raise ValueError(f"need chunk_seconds > overlap_seconds >= 0 (got chunk_seconds "
                         f"{chunk_seconds}, overlap_seconds {overlap_seconds})")
    return float(chunk_seconds), float(overlap_seconds)


# ---- Wiener post-processing ----------------------------------------------------------------------
def _solve(c: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``C^-1 x`` for Hermitian positive definite ``c`` (..., I, I) and ``x`` (..., I); closed
    form for I = 1 and 2 (far faster than a batched LAPACK call on millions of 2 x 2 systems)."""
    import torch

    i = c.shape[-1]
    if i == 1:
        return x / c[..., 0]
    if i == 2:
        a, b, d = c[..., 0, 0], c[..., 0, 1], c[..., 1, 1]
        det = (a * d - b * b.conj()).real  # > 0: c is positive definite
        x0, x1 = x[..., 0], x[..., 1]
        return torch.stack([(d * x0 - b * x1) / det, (a * x1 - b.conj() * x0) / det], -1)
    return torch.linalg.solve(c, x.unsqueeze(-1)).squeeze(-1)


def _power(z: torch.Tensor) -> torch.Tensor:
    """``|z|^2`` without the square root of ``abs``."""
    import torch

    return torch.view_as_real(z).square().sum(-1)


def _wiener_em(x: torch.Tensor, y: torch.Tensor, iterations: int) -> torch.Tensor:
    """EM of the multichannel Gaussian model on one segment of frames (any channel count).

    Shape:
        x ``(B, I, F, T)`` mixture spectra, y ``(B, J, I, F, T)`` source estimates, complex
        -> ``(B, J, I, F, T)``.
    """
    import torch

    n_ch = x.shape[1]
    eps = WIENER_EPS * float(_power(x).mean()) + 1e-30
    eye = torch.eye(n_ch, dtype=x.dtype, device=x.device)
    xt = x.permute(0, 2, 3, 1)  # (B, F, T, I)
    for _ in range(iterations):
        v = _power(y).mean(2)  # (B, J, F, T): power spectral densities
        # spatial covariances R_j(f) = sum_t y_j y_j^H / (sum_t v_j + eps): (B, J, F, I, I)
        r = torch.einsum("bjift,bjkft->bjfik", y, y.conj())
        r = r / (v.sum(-1) + eps)[..., None, None]
        # mixture covariance sum_j v_j R_j + eps I, and z = its inverse applied to x
        cxx = torch.einsum("bjft,bjfik->bftik", v.to(x.dtype), r) + eps * eye
        z = _solve(cxx, xt)  # (B, F, T, I)
        # posterior means y_j = v_j R_j z
        y = torch.einsum("bjfik,bftk->bjift", r, z) * v[:, :, None].to(x.dtype)
    return y


def wiener_filter(mix: torch.Tensor, estimates: torch.Tensor, *, n_fft: int = 2048,
                  hop_length: int = 512, window: str = "hann", iterations: int = 1,
                  segment_frames: int = WIENER_SEGMENT_FRAMES,
                  progress: Callable[[float], None] | None = None) -> torch.Tensor:
    """Multichannel Wiener filtering of source estimates (open-unmix/norbert's EM post-filter,
    after Nugraha, Liutkus & Vincent, "Multichannel audio source separation with deep neural
    networks", IEEE/ACM TASLP 2016).

    In the STFT domain (``n_fft``, ``hop_length``, periodic ``window`` of length ``n_fft``,
    centred frames with zero padding: the music separator's STFT, 2048 / 512 / Hann), with
    mixture ``x(f,t)`` (I channels) and estimates ``y_j(f,t)`` of J sources, each iteration:

    - ``v_j(f,t) = (1/I) sum_i |y_ji(f,t)|^2`` (power spectral density);
    - ``R_j(f) = sum_t y_j y_j^H / (sum_t v_j + eps)`` (I x I spatial covariance);
    - ``C_x(f,t) = sum_j v_j R_j + eps I``;
    - ``y_j <- v_j R_j C_x^-1 x`` (posterior mean of source j given the mixture).

    As in norbert, the M step uses the posterior means only (the posterior covariance term of
    the exact EM is left out), and open-unmix runs one iteration. ``eps`` is ``WIENER_EPS``
    (1e-10) times the segment's mean mixture power ``|x|^2`` (plus 1e-30 so silence stays
    silent): far below any audible bin, scale-free, and enough to keep ``C_x`` invertible. The
    filtered stems sum to the mixture: ``sum_j y_j = x - eps C_x^-1 x``, so up to that and the
    STFT round trip (about 1e-6 relative).

    Memory stays bounded: the statistics are computed per segment of ``segment_frames`` frames
    (300 as open-unmix, 3.5 s at 44.1 kHz), each read with ``n_fft`` samples of context either
    side, neighbouring segments cross-faded over ``WIENER_OVERLAP_FRAMES`` frames; the EM runs
    in complex128.

    Args:
        mix: the mixture the estimates came from.
        estimates: the sources' time-domain estimates.
        n_fft, hop_length, window: the STFT.
        iterations: EM iterations (>= 1).
        segment_frames: frames per segment (>= 2 * ``WIENER_OVERLAP_FRAMES``).
        progress: called with the fraction done after each segment, or None.

    Returns:
        the filtered sources, float (mix's dtype), on mix's device.

    Shape:
        mix ``(B, I, samples)``, estimates ``(B, J, I, samples)`` -> ``(B, J, I, samples)``.
    """
    import torch

    from hushboard.models.bsrnn import overlap_add_plan
    from hushboard.ops import get_window, istft, stft

    if not isinstance(mix, torch.Tensor) or not isinstance(estimates, torch.Tensor):
        raise TypeError("mix and estimates must be torch tensors")
    if mix.dim() != 3 or estimates.dim() != 4 or estimates.shape[0] != mix.shape[0] or (
            estimates.shape[2:] != mix.shape[1:]):
        raise ValueError(f"need mix (B, I, samples) and estimates (B, J, I, samples) (got "
                         f"{tuple(mix.shape)} and {tuple(estimates.shape)})")
    if not mix.is_floating_point() or estimates.dtype != mix.dtype:
        raise TypeError(f"mix and estimates must be real floating point of one dtype (got "
                        f"{mix.dtype} and {estimates.dtype})")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an int >= 1 (got {iterations!r})")
    if (isinstance(segment_frames, bool) or not isinstance(segment_frames, int)
            or segment_frames < 2 * WIENER_OVERLAP_FRAMES):
        raise ValueError(f"segment_frames must be an int >= {2 * WIENER_OVERLAP_FRAMES} (got "
                         f"{segment_frames!r})")
    b, n_src, n_ch, n = estimates.shape
    win = get_window(window, n_fft, dtype=mix.dtype, device=mix.device)
    margin = -(-n_fft // hop_length) * hop_length  # context either side, whole hops
    plan = overlap_add_plan(n, segment_frames * hop_length,
                            WIENER_OVERLAP_FRAMES * hop_length, mix.dtype)
    out = estimates.new_zeros(estimates.shape)
    weight = mix.new_zeros(n)
    for k, (start, end, w) in enumerate(plan):
        lo, hi = max(0, start - margin), min(n, end + margin)
        spec = stft(torch.cat([mix[:, None, :, lo:hi], estimates[..., lo:hi]], 1).reshape(
            -1, hi - lo), n_fft, hop_length, n_fft, win, center=True, pad_mode="constant")
        spec = spec.to(torch.complex128).reshape(b, 1 + n_src, n_ch, *spec.shape[-2:])
        filtered = _wiener_em(spec[:, 0], spec[:, 1:], iterations)
        filtered = filtered.to(torch.complex128 if mix.dtype == torch.float64
                               else torch.complex64)
        y = istft(filtered.reshape(-1, *filtered.shape[-2:]), n_fft, hop_length, n_fft, win,
                  center=True, length=hi - lo).reshape(b, n_src, n_ch, hi - lo)
        y = y[..., start - lo:end - lo]
        if w is None:
            out[..., start:end] = y
            weight[start:end] = 1
        else:
            out[..., start:end] += y * w.to(y.device)
            weight[start:end] += w.to(weight.device)
        if progress is not None:
            progress((k + 1) / len(plan))
    return out / weight


# ---- separation ----------------------------------------------------------------------------------
def _resample(a: np.ndarray, from_rate: int, to_rate: int, length: int | None = None
              ) -> np.ndarray:
    """Polyphase resampling along the last axis, aligned with the input (delay compensated),
    float32, cut or zero-padded to ``length`` when given."""
    from hushboard.metrics import resample

    y = resample(a, from_rate, to_rate).astype(np.float32, copy=False)
    if length is not None:
        if y.shape[-1] >= length:
            y = y[..., :length]
        else:
            y = np.concatenate([y, np.zeros((*y.shape[:-1], length - y.shape[-1]), y.dtype)], -1)
    return y


def separate(audio: np.ndarray, sample_rate: float, *,
             model: str | BSRNN | list[str | BSRNN] = "default", stems=None,
             wiener: bool = False, chunk_seconds: float = 10.0, overlap_seconds: float = 1.0,
             device: str = "cpu", progress: Callable[[float], None] | None = None,
             batch_chunks: int | None = None, precision: str = "float32",
             flip: bool = False, shifts: int = 0,
             two_stems: str | None = None) -> dict[str, np.ndarray]:
    """Separate a song into stems.

    The audio is resampled to the model's rate (polyphase, aligned) when ``sample_rate``
    differs, mono is duplicated to a stereo model's two channels (each stem comes back as the
    mean of its two channels), then separated in chunks of ``chunk_seconds`` cross-faded over
    ``overlap_seconds`` (``BSRNN.separate_long``: each chunk restarts the recurrences; a file
    no longer than one chunk is separated whole), optionally Wiener-filtered (``wiener_filter``
    with one EM iteration, over all of the model's stems, whichever are returned), and
    resampled back to the input's rate and exact length.

    Args:
        audio: float32 or float64 samples, NumPy array or torch tensor.
        sample_rate: the audio's rate in Hz; a rate other than the model's must be a whole
            number in [4000, 384000].
        model: ``"default"``, a shipped separator's name, a weights path (see
            ``load_separator``) or a multi-stem ``BSRNN``; or a bag of them, ``"A+B"`` or a
            list (``load_separators``): the stems are the last model's, each taken from the
            first model that has it (so ``"vocals.safetensors+bsrnn-music-44k-lite"`` takes
            the vocals from a vocals/accompaniment model and the rest from the four-stem one),
            and a model no asked stem comes from is not run.
        stems: the stems to return (a list of names or a comma-separated string), None for all.
        wiener: multichannel Wiener post-filter; the filtered stems sum to the mixture (at the
            model's rate; at another rate, up to what the resampling drops above the lower
            Nyquist frequency).
        chunk_seconds, overlap_seconds: chunk length and cross-fade (memory bound).
        device: ``"cpu"`` or ``"cuda"`` (the CPU, with a ``RuntimeWarning``, when CUDA is
            unavailable).
        progress: called with the fraction done (0 to 1, ends with 1.0 once), or None.
        batch_chunks: chunks run as one batch (None: 8 on a GPU, 1 on the CPU, where the
            result is the same either way).
        precision: "float32", or "bfloat16" / "float16" to run the network's GEMMs under
            ``torch.autocast`` (hushboard's fused ops and the Wiener filter stay float32; see
            ``hushboard.backend.precision_context``).
        flip: test-time augmentation: also separate the mix with its two channels swapped
            (swapping the stems back) and average; twice the time, for a stereo model and a
            stereo input (a mono input duplicated to both channels gains nothing from it).
        shifts: test-time augmentation: also separate ``shifts`` copies of the mix delayed by
            ``k * hop_length / (shifts + 1)`` samples (k = 1..shifts; the STFT frames then fall
            elsewhere) and average; ``(shifts + 1)`` times the time (times 2 with ``flip``).
        two_stems: a stem name, e.g. ``"vocals"``: return that stem and ``"no_<stem>"``, the
            sum of all the other stems (karaoke: the song without its vocals), as Demucs'
            ``--two-stems``; with ``wiener`` the two sum to the mixture. Not with ``stems``.

    Returns:
        stem name -> float32 array shaped like ``audio``, in the order asked for.

    Raises:
        TypeError, ValueError: a bad argument (named in the message).

    Shape:
        audio ``(samples,)`` or ``(channels, samples)`` with 1 or 2 channels -> each stem the
        same shape.
    """
    import torch

    from hushboard.backend import check_precision, precision_context

    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable or None (got {type(progress).__name__})")
    check_precision(precision)
    for name, v in (("wiener", wiener), ("flip", flip)):
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool (got {type(v).__name__})")
    if isinstance(shifts, bool) or not isinstance(shifts, (int, np.integer)) or not (
            0 <= shifts <= 16):
        raise ValueError(f"shifts must be an int in [0, 16] (got {shifts!r})")
    shape = tuple(audio.shape) if hasattr(audio, "shape") else None
    a = _check_audio(audio)
    chunk_seconds, overlap_seconds = _check_seconds(chunk_seconds, overlap_seconds)
    nets = load_separators(model, device=device)
    net = nets[-1]
    cfg = net.config
    rate = _check_rate(sample_rate, cfg.sample_rate)
    if two_stems is not None:
        if stems is not None:
            raise ValueError("give stems or two_stems, not both")
        if not isinstance(two_stems, str) or two_stems not in cfg.stems:
            raise ValueError(f"two_stems must be one of the model's stems "
                             f"({', '.join(cfg.stems)}) (got {two_stems!r})")
    wanted = cfg.stems if two_stems is not None else _check_stems(stems, cfg.stems)
    # which model gives which stem (the first that has it); a model none is taken from is not
    # run (the Wiener filter needs every stem of the last model, the others only those asked)
    needed = cfg.stems if wiener else wanted
    source = {st: next(j for j, m in enumerate(nets) if st in m.config.stems) for st in needed}
    runs = sorted(set(source.values()))
    in_ch, n = a.shape
    model_ch = cfg.audio_channels
    if in_ch != model_ch and in_ch != 1 and model_ch != 1:
        raise ValueError(f"the model separates {model_ch}-channel audio; got {in_ch} channels")

    # to the model's rate, then (batch, model channels, samples)
    dtype = net.window.dtype
    x = a if rate == cfg.sample_rate else _resample(a, rate, cfg.sample_rate)
    if in_ch == model_ch:
        xb = x[None]
    elif in_ch == 1:  # mono into a multichannel model
        xb = np.repeat(x[None], model_ch, axis=1)
    else:  # several channels through a mono model: one batch item each
        xb = x[:, None]
    xb = torch.from_numpy(np.ascontiguousarray(xb)).to(dtype)

    # progress: the network's share by samples, the Wiener pass after it, 1.0 once at the end
    wiener_share = _WIENER_COST / (1 + _WIENER_COST) if wiener else 0.0

    def report(fraction: float) -> None:
        if progress is not None:
            progress(0.99 * fraction)

    # the network, in separate_long's chunks and cross-fades
    # (on the model's device; one copy back to the CPU at the end)
    dev = net.window.device
    if batch_chunks is None:
        batch_chunks = 8 if dev.type == "cuda" else 1
    # test-time augmentation: every (delay, channel order) pass, averaged
    swap = bool(flip) and model_ch == 2 and in_ch == 2
    delays = [k * cfg.hop_length // (shifts + 1) for k in range(shifts + 1)]
    passes = [(d, sw) for d in delays for sw in ((False, True) if swap else (False,))]
    total = len(passes) * len(runs)
    with torch.inference_mode():
        xd = xb.to(dev)
        parts: dict[str, torch.Tensor] = {}
        for r, j in enumerate(runs):
            m = nets[j]
            est = None
            for k, (delay, sw) in enumerate(passes):
                xp = xd.flip(1) if sw else xd
                if delay:
                    xp = torch.nn.functional.pad(xp, (delay, 0))
                done = r * len(passes) + k
                with precision_context(precision, dev):
                    y = m.separate_long(
                        xp, chunk_seconds=chunk_seconds, overlap_seconds=overlap_seconds,
                        progress=lambda f, d=done: report((1 - wiener_share) * (d + f) / total),
                        batch_chunks=batch_chunks).float()[..., delay:]
                y = y.flip(2) if sw else y
                est = y if est is None else est + y
            est = est / len(passes)
            for st, src in source.items():
                if src == j:
                    parts[st] = est[:, m.config.stems.index(st)]
        order = [st for st in cfg.stems if st in parts]
        est = torch.stack([parts[st] for st in order], 1)
        if wiener:
            est = wiener_filter(xd, est, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                window=cfg.window, iterations=1,
                                progress=lambda f: report(1 - wiener_share * (1 - f)))
        est = est.cpu()

    # back to the input's channels, rate and length
    index = [order.index(s) for s in wanted]
    est_np = est[:, index].numpy()  # (B, S, C, m)
    if two_stems is not None:  # the stem and the sum of the others
        j = wanted.index(two_stems)
        rest = np.delete(est_np, j, axis=1).sum(1, keepdims=True)
        est_np = np.concatenate([est_np[:, j:j + 1], rest], 1)
        wanted = (two_stems, f"no_{two_stems}")
    if in_ch == model_ch:
        ys = est_np[0]
    elif in_ch == 1:
        ys = est_np[0].mean(1, keepdims=True)
    else:
        ys = est_np[:, :, 0].transpose(1, 0, 2)
    out = {}
    for name, y in zip(wanted, ys):
        if rate != cfg.sample_rate:
            y = _resample(y, cfg.sample_rate, rate, length=n)
        y = np.ascontiguousarray(y, np.float32)
        out[name] = y.reshape(shape) if len(shape) == 1 else y
    if progress is not None:
        progress(1.0)
    return out
