"""hushboard kernels as PyTorch custom ops (``torch.ops.hushboard.*``) and NumPy functions."""

from __future__ import annotations

from hushboard.ops._band import (
    band_mask,
    band_mask_grouped,
    band_mask_reference,
    band_split,
    band_split_grouped,
    band_split_reference,
)
from hushboard.ops._complex_conv import complex_conv2d, complex_conv_transpose2d
from hushboard.ops._rnn import gru_layer, gru_layer_reference, lstm_layer, lstm_layer_reference
from hushboard.ops._rnn_train import lstm_train_layer
from hushboard.ops._stft import (
    WINDOWS,
    get_window,
    istft,
    stft,
    stft_num_frames,
)

__all__ = [
    "WINDOWS",
    "band_mask",
    "band_mask_grouped",
    "band_mask_reference",
    "band_split",
    "band_split_grouped",
    "band_split_reference",
    "complex_conv2d",
    "complex_conv_transpose2d",
    "get_window",
    "gru_layer",
    "gru_layer_reference",
    "istft",
    "lstm_layer",
    "lstm_layer_reference",
    "lstm_train_layer",
    "stft",
    "stft_num_frames",
]
