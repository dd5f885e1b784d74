"""SpectralGate: gates noise (learned or from a clip), block-size independent, streaming ==
offline, parameters change while streaming, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from test_wiener import snr_db, speech_like

from hushboard.fx import SpectralGate


def noisy(sample_rate: int, kind: str = "white", seconds: float = 4.0):
    clean = speech_like(sample_rate, seconds)
    noise = np.random.default_rng(1).standard_normal(clean.size)
    if kind == "pink":
        spec = np.fft.rfft(noise)
        spec[1:] /= np.sqrt(np.arange(1, spec.size))
        noise = np.fft.irfft(spec, clean.size)
    noise = (noise / noise.std() * 0.05).astype(np.float32)
    return clean, noise, clean + noise


@pytest.mark.parametrize("sample_rate", [8000, 16000, 48000])
@pytest.mark.parametrize("kind", ["white", "pink"])
def test_gate_improves_snr_with_defaults(sample_rate, kind):
    clean, noise, x = noisy(sample_rate, kind)
    learned = SpectralGate().process(x, sample_rate)
    from_clip = SpectralGate(noise_clip=noise[: sample_rate // 2]).process(x, sample_rate)
    before = snr_db(clean, x)
    assert snr_db(clean, learned) > before + 3.0
    assert snr_db(clean, from_clip) > before + 3.0


def test_learning_period_passes_audio_unchanged():
    sr = 16000
    _, _, x = noisy(sr)
    gate = SpectralGate(learn_ms=500.0)
    y = gate.process(x, sr)
    # frames learned from pass unchanged; the first frame after learning is centred at 500 ms
    n = int(0.5 * sr) - 512
    np.testing.assert_allclose(y[:n], x[:n], rtol=0, atol=1e-5)
    assert np.std(y[sr:]) < np.std(x[sr:])


@pytest.mark.parametrize("buffer_size", [1, 7, 64, 480, 512, 4096])
def test_block_size_independent(buffer_size):
    _, noise, x = noisy(16000, seconds=1.5)
    make = lambda: SpectralGate(noise_clip=noise[:4000])  # noqa: E731
    whole = make().process(x, 16000, buffer_size=x.size)
    np.testing.assert_array_equal(make().process(x, 16000, buffer_size=buffer_size), whole)


@pytest.mark.parametrize("block", [1, 129, 4096])
def test_streaming_equals_offline_delayed(block):
    _, _, x = noisy(16000, seconds=1.5)
    offline = SpectralGate(learn_ms=300).process(x, 16000)
    gate = SpectralGate(learn_ms=300)
    y = np.concatenate([gate.process(x[i:i + block], 16000, reset=False)
                        for i in range(0, x.size, block)])
    lat = gate.latency_samples
    np.testing.assert_allclose(y[lat:], offline[:-lat], rtol=0, atol=1e-6)


def test_parameters_change_while_streaming():
    sr = 16000
    _, _, x = noisy(sr, seconds=2.0)
    gate = SpectralGate()
    a = gate.process(x[:sr], sr, reset=False)
    gate.attenuation_db = 0.0  # gate fully open from the next frame on
    gate.n_std = 3.0
    b = gate.process(x[sr:], sr, reset=False)
    y = np.concatenate([a, b])
    assert np.isfinite(y).all()
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max()
    lat = gate.latency_samples
    tail = slice(sr + lat + 2048, 2 * sr)  # past the last frame that was gated
    np.testing.assert_allclose(y[tail], x[tail.start - lat:tail.stop - lat], rtol=0, atol=1e-5)
    assert "attenuation_db=0.0" in repr(gate)


def test_stereo_channels_independent():
    _, _, x = noisy(16000, seconds=1.5)
    y = np.random.default_rng(4).standard_normal(x.size).astype(np.float32) * 0.1
    out = SpectralGate().process(np.stack([x, y]), 16000)
    np.testing.assert_array_equal(out[0], SpectralGate().process(x, 16000))
    np.testing.assert_array_equal(out[1], SpectralGate().process(y, 16000))


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [({"n_std": -1.0}, ValueError, "n_std"), ({"attenuation_db": 6.0}, ValueError, "attenuation_db"),
     ({"freq_smooth_hz": -1.0}, ValueError, "freq_smooth_hz"),
     ({"time_smooth_ms": float("nan")}, ValueError, "time_smooth_ms"),
     ({"learn_ms": 0.0}, ValueError, "learn_ms"),
     ({"noise_clip": np.zeros(0, np.float32)}, ValueError, "noise_clip must not be empty"),
     ({"noise_clip": np.full(1000, np.nan, np.float32)}, ValueError, "NaN"),
     ({"noise_clip": [0.0] * 100}, TypeError, "numpy.ndarray")],
)
def test_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        SpectralGate(**kwargs)


def test_short_noise_clip_is_an_error_at_first_use():
    gate = SpectralGate(noise_clip=np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="noise_clip is too short"):
        gate.process(np.zeros(16000, np.float32), 16000)
