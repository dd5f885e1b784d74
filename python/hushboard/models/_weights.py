"""Reading and checking safetensors weight files shared by the models."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Any, TypeVar

from torch import Tensor

T = TypeVar("T")

__all__ = ["check_state_dict", "config_from_dict", "config_from_metadata", "model_kind",
           "read_weights_file", "weights_stems"]


def model_kind(path: str | os.PathLike) -> str | None:
    """The model a weights file names in its metadata ("DCCRN", "BSRNN", or None).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a readable safetensors file.
    """
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no weights file at {path!r}")
    try:
        with safe_open(path, framework="pt") as fh:
            return (fh.metadata() or {}).get("model")
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"{path!r} is not a readable safetensors file: {e}") from e


def read_weights_file(path: str | os.PathLike, model: str) -> tuple[dict[str, Tensor],
                                                                  dict[str, str]]:
    """The tensors and metadata of a safetensors file that must hold a ``model`` ("DCCRN",
    "BSRNN") with a JSON ``config`` in its metadata."""
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no weights file at {path!r}")
    try:
        with safe_open(path, framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"{path!r} is not a readable safetensors file: {e}") from e
    if meta.get("model") != model or "config" not in meta:
        raise ValueError(f"{path!r} does not hold a {model} (metadata {meta!r})")
    return tensors, meta


def check_state_dict(expected: dict[str, Tensor], tensors: dict[str, Tensor],
                     source: str) -> None:
    """A ``ValueError`` naming the first missing, unexpected, misshapen, wrongly typed or
    non-finite tensor of ``tensors`` against a model's ``state_dict()``."""
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        raise ValueError(f"{source}: missing tensor(s) {missing[:5]}"
                         + (" ..." if len(missing) > 5 else ""))
    if unexpected:
        raise ValueError(f"{source}: unexpected tensor(s) {unexpected[:5]}"
                         + (" ..." if len(unexpected) > 5 else ""))
    for k, v in expected.items():
        if tensors[k].is_floating_point() != v.is_floating_point():
            raise ValueError(f"{source}: tensor {k!r} has dtype {tensors[k].dtype}, "
                             f"expected {v.dtype}")
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise ValueError(f"{source}: tensor {k!r} has shape {tuple(tensors[k].shape)}, "
                             f"expected {tuple(v.shape)}")
        if tensors[k].is_floating_point() and not tensors[k].float().isfinite().all():
            raise ValueError(f"{source}: tensor {k!r} contains NaN or Inf")


def config_from_dict(cls: type[T], d: dict[str, Any], model: str) -> T:
    """A config dataclass from its ``to_dict()`` form (JSON lists back to tuples); unknown keys
    are a ``ValueError`` naming them."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {model} config keys: {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def config_from_metadata(cls: type[T], meta: dict[str, str], path: str | os.PathLike,
                         model: str) -> T:
    """The config stored as JSON in a weights file's metadata; a ``ValueError`` naming the file
    when it is not a valid config."""
    try:
        d = json.loads(meta["config"])
        if not isinstance(d, dict):
            raise ValueError(f"expected a JSON object, got {type(d).__name__}")
        return config_from_dict(cls, d, model)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{os.fspath(path)!r}: bad {model} config metadata: {e}") from e


@functools.lru_cache(maxsize=64)
def _stems_of_file(path: str, mtime_ns: int, size: int) -> tuple[str, ...] | None:
    try:
        from safetensors import safe_open

        with safe_open(path, framework="np") as fh:
            meta = fh.metadata() or {}
    except Exception:  # unreadable: not ours to judge here; loading reports it
        return None
    model = meta.get("model")
    if model == "DCCRN":
        return ("speech",)  # DCCRN is always a one-output denoiser
    if model != "BSRNN":
        return None
    try:
        stems = json.loads(meta["config"]).get("stems", ["speech"])
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(stems, list) or not stems or not all(isinstance(s, str) for s in stems):
        return None
    return tuple(stems)


def weights_stems(path: str | os.PathLike) -> tuple[str, ...] | None:
    """The output stems of a weights file, read from its safetensors metadata only (no tensors
    are loaded): ``("speech",)`` for a denoiser (any DCCRN, a one-stem BSRNN), several names
    for a separator; None when the file is unreadable or holds no hushboard model (it is then
    left to the loader to report). Cached on (path, modification time, size)."""
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError:
        return None
    return _stems_of_file(os.path.abspath(p), st.st_mtime_ns, st.st_size)
