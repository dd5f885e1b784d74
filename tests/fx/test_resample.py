"""Polyphase resampler and Denoise at a model rate different from the stream's."""

from __future__ import annotations

import numpy as np
import pytest
from test_wiener import snr_db, speech_like

from hushboard.fx import Denoise
from hushboard.ops._native import _C

RATES = [(48000, 16000), (16000, 48000), (44100, 16000), (16000, 44100), (22050, 16000), (8000, 8000)]


@pytest.mark.parametrize("rate_in,rate_out", RATES)
def test_resampler_matches_a_delayed_sine(rate_in, rate_out):
    t = np.arange(rate_in) / rate_in
    x = np.stack([np.sin(2 * np.pi * 1000 * t), np.cos(2 * np.pi * 700 * t)]).astype(np.float32)
    r = _C.Resampler(rate_in, rate_out, 2)
    y = r.push(x)
    assert abs(y.shape[1] - rate_out) <= 1
    tt = (np.arange(y.shape[1]) - r.delay_out) / rate_out
    ref = np.stack([np.sin(2 * np.pi * 1000 * tt), np.cos(2 * np.pi * 700 * tt)])
    inner = slice(int(0.02 * rate_out), y.shape[1] - int(0.02 * rate_out))
    assert np.abs(y[:, inner] - ref[:, inner]).max() < 1e-4


@pytest.mark.parametrize("rate_in,rate_out", RATES[:4])
def test_resampler_is_split_invariant(rate_in, rate_out):
    x = np.random.default_rng(0).standard_normal((1, rate_in // 2)).astype(np.float32)
    r = _C.Resampler(rate_in, rate_out, 1)
    whole = r.push(x)
    r.reset()
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, x.shape[1]), 50, replace=False))
    parts = [r.push(np.ascontiguousarray(p)) for p in np.split(x, cuts, axis=1)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_resampler_rejects_bad_rates():
    with pytest.raises(ValueError, match="positive"):
        _C.Resampler(0, 16000, 1)
    with pytest.raises(ValueError, match="too fine-grained"):
        _C.Resampler(48000, 47999, 1)


@pytest.mark.parametrize("stream_rate", [48000, 44100, 8000])
def test_denoise_at_the_model_rate(stream_rate):
    clean = speech_like(stream_rate, 3.0)
    noisy = clean + (0.05 * np.random.default_rng(2).standard_normal(clean.size)).astype(np.float32)
    fx = Denoise("wiener", model_sample_rate=16000)
    out = fx.process(noisy, stream_rate)
    assert out.shape == noisy.shape
    assert snr_db(clean, out) > snr_db(clean, noisy) + 3
    # the reported latency is the real one: the identity model (gain floor 0 dB) is a delay
    ident = Denoise("wiener", model_sample_rate=16000)
    ident.inner.gain_floor_db = 0.0
    y = ident.process(clean, stream_rate, reset=False)
    half = stream_rate // 2  # speech starts at 0.5 s
    template = clean[half:2 * half]
    lag = int(np.argmax(np.correlate(y[: 2 * stream_rate], template, mode="valid"))) - half
    assert abs(lag - ident.latency_samples) <= 1


@pytest.mark.parametrize("buffer_size", [1, 7, 480, 4096])
def test_denoise_resampled_is_block_size_independent(buffer_size):
    x = speech_like(48000, 1.0) + 0.05 * np.random.default_rng(3).standard_normal(48000).astype(np.float32)
    whole = Denoise("wiener", model_sample_rate=16000).process(x, 48000, buffer_size=x.size)
    np.testing.assert_array_equal(
        Denoise("wiener", model_sample_rate=16000).process(x, 48000, buffer_size=buffer_size), whole)


def test_denoise_streaming_equals_offline_and_bad_arguments():
    x = speech_like(48000, 1.0) + 0.05 * np.random.default_rng(4).standard_normal(48000).astype(np.float32)
    offline = Denoise("wiener", model_sample_rate=16000).process(x, 48000)
    fx = Denoise("wiener", model_sample_rate=16000)
    y = np.concatenate([fx.process(x[i:i + 333], 48000, reset=False) for i in range(0, x.size, 333)])
    lat = fx.latency_samples
    np.testing.assert_allclose(y[lat:], offline[:-lat], rtol=0, atol=1e-6)
    assert "model='wiener'" in repr(fx)
    with pytest.raises(ValueError, match="unknown model"):
        Denoise("rnnoise")
    with pytest.raises(ValueError, match="model_sample_rate"):
        Denoise("wiener", model_sample_rate=1000)
    with pytest.raises(ValueError, match="whole number"):
        Denoise("wiener", model_sample_rate=16000).process(x, 48000.5)
