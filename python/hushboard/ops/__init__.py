"""hushboard kernels as PyTorch custom ops (``torch.ops.hushboard.*``) and NumPy functions."""

from __future__ import annotations

from hushboard.ops._complex_conv import complex_conv2d, complex_conv_transpose2d
from hushboard.ops._stft import (
    WINDOWS,
    get_window,
    istft,
    stft,
    stft_num_frames,
)

__all__ = [
    "WINDOWS",
    "complex_conv2d",
    "complex_conv_transpose2d",
    "get_window",
    "istft",
    "stft",
    "stft_num_frames",
]
