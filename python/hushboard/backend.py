"""What the native extension was built with and what this machine offers."""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from hushboard.ops._native import _C

__all__ = ["PRECISIONS", "BuildInfo", "build_info", "check_precision", "cuda_available",
           "get_num_threads",
           "precision_context", "resolve_device", "set_num_threads"]


@dataclass(frozen=True)
class BuildInfo:
    version: str
    with_cuda: bool
    cuda_archs: str
    cuda_devices: list[str]
    cpu_simd: str
    num_threads: int
    compiler: str
    machine: str
    backend_override: str

    def as_dict(self) -> dict:
        return asdict(self)


def cuda_available() -> bool:
    """True when the extension has CUDA kernels and a CUDA device is usable."""
    return bool(_C.WITH_CUDA) and _C.cuda_device_count() > 0


def build_info() -> BuildInfo:
    n = _C.cuda_device_count() if _C.WITH_CUDA else 0
    return BuildInfo(
        version=_C.__version__,
        with_cuda=bool(_C.WITH_CUDA),
        cuda_archs=_C.cuda_archs(),
        cuda_devices=[_C.cuda_device_name(i) for i in range(n)],
        cpu_simd=_C.cpu_simd_path(),
        num_threads=_C.get_num_threads(),
        compiler=_C.compiler(),
        machine=f"{platform.system()} {platform.machine()}",
        backend_override=os.environ.get("HUSHBOARD_BACKEND", ""),
    )


def get_num_threads() -> int:
    """Threads the CPU kernels use (HUSHBOARD_NUM_THREADS, else the core count)."""
    return _C.get_num_threads()


def set_num_threads(num_threads: int) -> None:
    """Set the threads the CPU kernels use (>= 1)."""
    _C.set_num_threads(int(num_threads))


def resolve_device(device: Any, name: str = "device"):
    """The ``torch.device`` to run on for ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a
    ``torch.device``).

    ``"cuda"`` falls back to the CPU with a ``RuntimeWarning`` that says why when hushboard was
    built without its CUDA kernels or torch sees no CUDA device. A CUDA index past the devices
    present, another device type, or a non-string raises (naming ``name``).
    """
    import torch

    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(f"{name} must be 'cpu' or 'cuda' (got {device!r}: {exc})") from None
    else:
        raise TypeError(f"{name} must be a string such as 'cpu' or 'cuda' (got "
                        f"{type(device).__name__})")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be 'cpu' or 'cuda' (got {device!r})")
    if dev.type != "cuda":
        return dev
    why = None
    if not _C.WITH_CUDA:
        why = "hushboard was built without its CUDA kernels (nvcc was not found at install time)"
    elif not torch.cuda.is_available():
        why = "torch sees no CUDA device on this machine"
    if why is not None:
        warnings.warn(f"{name}={str(device)!r}: {why}; running on the CPU instead",
                      RuntimeWarning, stacklevel=2)
        return torch.device("cpu")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name}={str(device)!r} but torch sees {torch.cuda.device_count()} "
                         "CUDA device(s)")
    return dev


#: ``precision`` names of the offline model paths (batch denoising, separation)
PRECISIONS = ("float32", "bfloat16", "float16")


def check_precision(precision: Any, name: str = "precision") -> str:
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"{name} must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    return precision


def precision_context(precision: Any, device: Any, name: str = "precision"):
    """A context in which a model runs at ``precision`` on ``device``: nothing for
    ``"float32"``; ``torch.autocast`` with that dtype for ``"bfloat16"`` / ``"float16"`` (the
    GEMMs and torch's RNNs in half precision; hushboard's fused ops, norms and the STFT stay
    float32). The half modes pay off on a GPU; on the CPU they are usually slower."""
    import contextlib

    import torch

    check_precision(precision, name)
    if precision == "float32":
        return contextlib.nullcontext()
    dev = torch.device(device)
    return torch.autocast(dev.type, dtype=getattr(torch, precision))
