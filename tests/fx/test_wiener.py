"""WienerDenoiser: denoises, block-size independent, streaming == offline, state per channel,
pedalboard layout rules, bad input leaves the state intact."""

from __future__ import annotations

import numpy as np
import pytest

from hushboard.fx import WienerDenoiser
from hushboard.fx.denoise import frame_size_for


def speech_like(sample_rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    """Voiced-speech stand-in: harmonics of a gliding f0 with a syllable-rate envelope, after
    half a second of silence (noise-only lead-in, as in a recording)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(h * phase) / h for h in range(1, 12) if h * 300 < sample_rate / 2)
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 2
    x = 0.3 * voiced * envelope
    x[t < 0.5] = 0
    return x.astype(np.float32)


def snr_db(clean: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(clean**2) / np.sum((clean - est) ** 2)))


@pytest.mark.parametrize("sample_rate", [8000, 16000, 48000])
@pytest.mark.parametrize("noise_kind", ["white", "pink"])
def test_improves_snr(sample_rate, noise_kind):
    clean = speech_like(sample_rate, 4.0)
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(clean.size)
    if noise_kind == "pink":  # 1/f power: integrate white noise in the frequency domain
        spec = np.fft.rfft(noise)
        spec[1:] /= np.sqrt(np.arange(1, spec.size))
        noise = np.fft.irfft(spec, clean.size)
    noise = (noise / noise.std() * 0.05).astype(np.float32)
    noisy = clean + noise
    out = WienerDenoiser().process(noisy, sample_rate)
    assert out.shape == noisy.shape and out.dtype == np.float32
    before, after = snr_db(clean, noisy), snr_db(clean, out)
    assert after > before + 3.0, (before, after)


@pytest.mark.parametrize("buffer_size", [1, 7, 64, 480, 512, 4096])
def test_block_size_independent(buffer_size):
    x = speech_like(16000, 1.5) + 0.05 * np.random.default_rng(2).standard_normal(24000).astype(np.float32)
    whole = WienerDenoiser().process(x, 16000, buffer_size=len(x))
    np.testing.assert_array_equal(WienerDenoiser().process(x, 16000, buffer_size=buffer_size), whole)


@pytest.mark.parametrize("block", [1, 7, 333, 4096])
def test_streaming_equals_offline_delayed(block):
    x = speech_like(16000, 1.0) + 0.05 * np.random.default_rng(3).standard_normal(16000).astype(np.float32)
    offline = WienerDenoiser().process(x, 16000)
    fx = WienerDenoiser()
    fx.reset()
    parts = [fx.process(x[i:i + block], 16000, reset=False) for i in range(0, len(x), block)]
    stream = np.concatenate(parts)
    lat = fx.latency_samples
    assert lat == frame_size_for(16000, 32.0) - 1 == 511
    assert stream.shape == x.shape
    np.testing.assert_allclose(stream[lat:], offline[:-lat], rtol=0, atol=1e-6)


def test_channels_are_independent_and_layouts_round_trip():
    a = speech_like(16000, 1.0, seed=4) + 0.05 * np.random.default_rng(5).standard_normal(16000).astype(np.float32)
    b = 0.1 * np.random.default_rng(6).standard_normal(16000).astype(np.float32)
    stereo = np.stack([a, b])
    out = WienerDenoiser().process(stereo, 16000)
    np.testing.assert_array_equal(out[0], WienerDenoiser().process(a, 16000))
    np.testing.assert_array_equal(out[1], WienerDenoiser().process(b, 16000))
    out_cl = WienerDenoiser().process(np.ascontiguousarray(stereo.T), 16000)  # (samples, channels)
    assert out_cl.shape == (16000, 2)
    np.testing.assert_array_equal(out_cl, out.T)
    out64 = WienerDenoiser().process(stereo.astype(np.float64), 16000)
    assert out64.dtype == np.float32


def test_gain_floor_change_mid_stream_is_smooth():
    sr = 16000
    x = speech_like(sr, 2.0) + 0.05 * np.random.default_rng(7).standard_normal(2 * sr).astype(np.float32)
    fx = WienerDenoiser(gain_floor_db=-30.0)
    first = fx.process(x[:sr], sr, reset=False)
    fx.gain_floor_db = -3.0
    second = fx.process(x[sr:], sr, reset=False)
    y = np.concatenate([first, second])
    assert np.isfinite(y).all()
    # the floor takes effect frame by frame through the overlap-add: no step larger than the
    # signal's own largest sample-to-sample change
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max()
    # and it did take effect: less suppression afterwards
    tail = slice(int(1.6 * sr), 2 * sr)
    ref = WienerDenoiser(gain_floor_db=-30.0).process(x, sr)
    assert np.std(y[tail]) > np.std(ref[tail])


def test_reset_and_repr():
    x = 0.1 * np.random.default_rng(8).standard_normal(8000).astype(np.float32)
    fx = WienerDenoiser(gain_floor_db=-12.0)
    a = fx.process(x, 16000, reset=False)
    fx.reset()
    b = fx.process(x, 16000, reset=False)
    np.testing.assert_array_equal(a, b)
    assert "gain_floor_db=-12.0" in repr(fx)
    assert WienerDenoiser().latency_samples == 0  # not configured yet
    assert fx.process(np.zeros(0, np.float32), 16000, reset=False).shape == (0,)


@pytest.mark.parametrize(
    "audio,sample_rate,exc,match",
    [
        (np.zeros(100, np.int16), 16000, TypeError, "float32 or float64"),
        ([0.0] * 100, 16000, TypeError, "numpy.ndarray"),
        (np.zeros((1, 2, 100), np.float32), 16000, ValueError, "1-D"),
        (np.full(100, np.nan, np.float32), 16000, ValueError, "NaN or Inf"),
        (np.zeros(100, np.float32), 0, ValueError, "sample_rate"),
        (np.zeros(100, np.float32), float("nan"), ValueError, "sample_rate"),
        (np.zeros(100, np.float32), "16k", TypeError, "sample_rate"),
        (np.zeros(100, np.float32), 4000, ValueError, r"\[8000, 192000\]"),
        (np.zeros((100, 100), np.float32), 16000, ValueError, "channels"),
    ],
)
def test_bad_input(audio, sample_rate, exc, match):
    with pytest.raises(exc, match=match):
        WienerDenoiser().process(audio, sample_rate)


def test_mid_stream_changes_are_errors_and_leave_state_intact():
    sr = 16000
    x = speech_like(sr, 1.0) + 0.05 * np.random.default_rng(9).standard_normal(sr).astype(np.float32)
    clean_run = WienerDenoiser().process(x, sr, reset=False)
    fx = WienerDenoiser()
    first = fx.process(x[:5000], sr, reset=False)
    with pytest.raises(ValueError, match="sample_rate changed mid-stream"):
        fx.process(x[5000:6000], 48000, reset=False)
    with pytest.raises(ValueError, match="channel count changed"):
        fx.process(np.zeros((2, 300), np.float32), sr, reset=False)
    with pytest.raises(ValueError, match="NaN"):
        fx.process(np.full(300, np.inf, np.float32), sr, reset=False)
    with pytest.raises(ValueError, match="gain_floor_db"):
        fx.gain_floor_db = 3.0
    rest = fx.process(x[5000:], sr, reset=False)
    np.testing.assert_array_equal(np.concatenate([first, rest]), clean_run)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"gain_floor_db": 1.0}, "gain_floor_db"), ({"frame_ms": 1.0}, "frame_ms"),
     ({"dd_alpha": 1.0}, "dd_alpha"), ({"min_window_s": 0.0}, "min_window_s"),
     ({"presence_threshold": 0.5}, "presence_threshold")],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WienerDenoiser(**kwargs)
