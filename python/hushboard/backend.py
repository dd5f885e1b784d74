"""What the native extension was built with and what this machine offers."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass

from hushboard.ops._native import _C

__all__ = ["BuildInfo", "build_info", "get_num_threads", "set_num_threads", "cuda_available"]


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
