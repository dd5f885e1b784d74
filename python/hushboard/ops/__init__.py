"""hushboard kernels as PyTorch custom ops (``torch.ops.hushboard.*``) and NumPy functions."""

from __future__ import annotations

from hushboard.ops._stft import (
    WINDOWS,
    get_window,
    istft,
    stft,
    stft_num_frames,
)

__all__ = ["WINDOWS", "get_window", "istft", "stft", "stft_num_frames"]
