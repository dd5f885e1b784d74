"""Noise generators and simulated rooms."""

from __future__ import annotations

import numpy as np
import pytest
from hushboard.data._audio import rms_db
from hushboard.data.noise import PROCEDURAL_TYPES, generate_noise, random_midi
from hushboard.data.reverb import measure_rt60, random_room_ir, reverberate, room_ir


@pytest.mark.parametrize("kind", sorted(PROCEDURAL_TYPES))
def test_procedural_noise_deterministic_and_levelled(kind):
    a = generate_noise(kind, 2.0, 16000, np.random.default_rng(5))
    b = generate_noise(kind, 2.0, 16000, np.random.default_rng(5))
    c = generate_noise(kind, 2.0, 16000, np.random.default_rng(6))
    assert a.shape == (32000,) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.max(np.abs(a)) <= 0.97 + 1e-6
    assert rms_db(a) <= -25.0 + 0.01


def _slope_db_per_octave(x: np.ndarray, sr: int) -> float:
    f = np.fft.rfftfreq(x.size, 1 / sr)
    p = np.abs(np.fft.rfft(x)) ** 2
    sel = (f > 100) & (f < 4000)
    return float(np.polyfit(np.log2(f[sel]), 10 * np.log10(p[sel]), 1)[0])


def test_noise_colours_and_hum():
    sr = 16000
    rng = np.random.default_rng(0)
    assert abs(_slope_db_per_octave(generate_noise("white", 8, sr, rng), sr)) < 0.5
    assert abs(_slope_db_per_octave(generate_noise("pink", 8, sr, rng), sr) + 3.01) < 0.5
    assert abs(_slope_db_per_octave(generate_noise("brown", 8, sr, rng), sr) + 6.02) < 0.5
    hum = generate_noise("hum", 4, sr, rng)
    f = np.fft.rfftfreq(hum.size, 1 / sr)
    peak = f[np.argmax(np.abs(np.fft.rfft(hum)) * (f < 200))]
    assert min(abs(peak - 50), abs(peak - 60)) < 0.5


def test_noise_bad_args():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind"):
        generate_noise("rain", 1.0, 16000, rng)
    with pytest.raises(ValueError, match="seconds"):
        generate_noise("white", 0.0, 16000, rng)
    with pytest.raises(TypeError, match="sample_rate"):
        generate_noise("white", 1.0, 16000.0, rng)


def test_midi_file_is_well_formed():
    b = random_midi(5.0, np.random.default_rng(1))
    assert b[:4] == b"MThd" and b[14:18] == b"MTrk"
    assert int.from_bytes(b[18:22], "big") == len(b) - 22
    assert b.endswith(b"\x00\xff\x2f\x00")
    assert b == random_midi(5.0, np.random.default_rng(1))


@pytest.mark.parametrize("rt60", [0.3, 0.6, 1.0])
def test_room_rt60_measured(rt60):
    rng = np.random.default_rng(0)
    ir = room_ir((6.0, 5.0, 3.0), (2.0, 1.5, 1.6), (4.2, 3.1, 1.2), rt60, 16000, rng)
    assert int(np.argmax(np.abs(ir.rir))) <= 1  # direct path at the start
    assert abs(measure_rt60(ir.rir, 16000) / rt60 - 1) < 0.25


def test_reverberate_early_target():
    rng = np.random.default_rng(1)
    ir = random_room_ir(16000, rng)
    x = rng.standard_normal(16000).astype(np.float32)
    wet, early = reverberate(x, ir)
    assert wet.shape == early.shape == x.shape
    # the early target is the first 50 ms of the response
    k = 800
    np.testing.assert_allclose(early[:k], np.convolve(x, ir.rir[:k])[:k], atol=1e-4)
    assert rms_db(wet - early) < rms_db(wet)


def test_room_bad_args():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="mic_m"):
        room_ir((4.0, 4.0, 3.0), (1.0, 1.0, 1.0), (5.0, 1.0, 1.0), 0.5, 16000, rng)
    with pytest.raises(ValueError, match="rt60"):
        room_ir((4.0, 4.0, 3.0), (1.0, 1.0, 1.0), (2.0, 1.0, 1.0), 9.0, 16000, rng)
    with pytest.raises(ValueError, match="rt60_range"):
        random_room_ir(16000, rng, rt60_range=(1.0, 0.2))
