"""Spectrogram pictures without a plotting library: a small PNG writer and a colour map."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["spectrogram_png", "write_png"]


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an (height, width, 3) uint8 image as PNG."""
    img = np.ascontiguousarray(rgb, np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"rgb must have shape (height, width, 3) (got {img.shape})")
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))  # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    Path(path).write_bytes(png)


def _colormap(v: np.ndarray) -> np.ndarray:
    """Dark blue -> purple -> orange -> pale yellow for v in [0, 1]."""
    stops = np.array([[0, 0, 4], [60, 15, 110], [180, 55, 120], [250, 140, 60], [252, 250, 190]],
                     np.float64)
    x = np.clip(v, 0, 1) * (len(stops) - 1)
    i = np.minimum(x.astype(int), len(stops) - 2)
    f = (x - i)[..., None]
    return (stops[i] * (1 - f) + stops[i + 1] * f).astype(np.uint8)


def spectrogram_png(path: str | Path, signals: list[np.ndarray], sample_rate: float,
                    *, n_fft: int = 512, dynamic_range_db: float = 80.0) -> None:
    """Stack the log-magnitude spectrograms of 1-D signals vertically (low frequencies at the
    bottom of each panel, a white line between panels) and save them as a PNG."""
    from hushboard.ops import stft

    specs = [20 * np.log10(np.abs(stft(np.asarray(s, np.float32), n_fft, n_fft // 4,
                                        window="hann")) + 1e-9) for s in signals]
    top = max(float(s.max()) for s in specs)
    panels = []
    for s in specs:
        v = (s - (top - dynamic_range_db)) / dynamic_range_db
        panels.append(_colormap(v[::-1]))
        panels.append(np.full((2, s.shape[1], 3), 255, np.uint8))
    write_png(path, np.concatenate(panels[:-1], axis=0))
