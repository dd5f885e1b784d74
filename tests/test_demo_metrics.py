"""`hushboard demo`, the metrics and the PNG writer."""

from __future__ import annotations

import re
import struct
import zlib

import numpy as np
import pytest

from hushboard.cli import main
from hushboard.metrics import si_snr, snr
from hushboard.plot import write_png


def test_demo_denoises_the_bundled_clip(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    before, after = map(float, re.search(r"SI-SNR\s+(-?[\d.]+) dB ->\s+(-?[\d.]+) dB", text).groups())
    assert after > before + 3
    for name in ("demo_noisy.wav", "demo_denoised.wav", "demo_spectrogram.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "demo_spectrogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_snr_and_si_snr_known_values():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(10000)
    n = rng.standard_normal(10000)
    n *= np.sqrt(np.sum(s**2) / np.sum(n**2)) / 10  # 20 dB below
    assert snr(s, s + n) == pytest.approx(20.0, abs=1e-9)
    s0 = s - s.mean()
    assert si_snr(s0, 3.0 * s0) > 100  # scale does not matter
    e = s0 + 0.1 * rng.standard_normal(10000)
    assert si_snr(s0, e) == pytest.approx(si_snr(s0, 0.5 * e), abs=1e-9)
    with pytest.raises(ValueError, match="same shape"):
        snr(s, s[:10])


def test_png_writer_round_trip(tmp_path):
    img = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    path = tmp_path / "x.png"
    write_png(path, img)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (5, 4)
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + idat_len])
    rows = [raw[i * 16 + 1:(i + 1) * 16] for i in range(4)]
    assert b"".join(rows) == img.tobytes()
    with pytest.raises(ValueError, match="height, width, 3"):
        write_png(path, np.zeros((4, 5)))
