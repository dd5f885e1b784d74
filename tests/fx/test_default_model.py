"""The default model: ``Denoise()`` and ``--model default`` run the best shipped model for the
stream's sample rate, through its C++ engine."""

from __future__ import annotations

import numpy as np
import pytest
from hushboard.fx import Denoise
from hushboard.fx import model as fx_model
from hushboard.fx.model import DEFAULT_MODELS, default_model, shipped_weights


def _speechlike(sr: int, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (0.2 * y + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_default_models_ship_and_are_chosen_by_rate():
    shipped = shipped_weights()
    names = [n for n, _ in DEFAULT_MODELS if n in shipped]
    assert names, "no default model ships"
    low = default_model(16000)
    assert low in shipped and shipped[low]  # a trained model, not the classic fallback
    for rate in (8000, 11025, 16000, 22050, 24000):
        assert default_model(rate) == low
    full = default_model(48000)
    for rate in (32000, 44100, 96000):
        assert default_model(rate) == full
    if "bsrnn-speech-48k-lite" in shipped:
        assert full == "bsrnn-speech-48k-lite"
    else:
        assert full == low


def test_default_falls_back_to_wiener_without_shipped_models(monkeypatch):
    monkeypatch.setattr(fx_model, "shipped_weights", lambda: {})
    assert default_model(16000) == default_model(48000) == "wiener"
    out = Denoise().process(_speechlike(16000), 16000)
    np.testing.assert_array_equal(out, Denoise("wiener").process(_speechlike(16000), 16000))


@pytest.mark.parametrize("sr", [16000, 48000, 44100])
def test_default_equals_the_chosen_model(sr):
    x = _speechlike(sr)
    fx = Denoise()
    assert repr(fx) == "Denoise(model='default')"
    with pytest.raises(RuntimeError, match="chosen by the stream's sample rate"):
        fx.inner
    assert fx.latency_samples == 0  # not configured yet
    out = fx.process(x, sr)
    name = default_model(sr)
    ref = Denoise(name)
    np.testing.assert_array_equal(out, ref.process(x, sr))
    assert fx.chosen == name and f"chosen={name!r}" in repr(fx)
    assert fx.latency_samples == ref.latency_samples > 0
    assert fx.inner.model_sample_rate == ref.model_sample_rate
    # streaming in blocks (1 sample, not a multiple of the hop, larger) equals the offline
    # call, latency-late
    lat = fx.latency_samples
    for block in (1, 97, 256):
        y = x[: sr // 10 + lat] if block == 1 else x
        fx.reset()
        blocks = [fx.process(y[i:i + block], sr, reset=False) for i in range(0, y.size, block)]
        np.testing.assert_allclose(np.concatenate(blocks)[lat:], out[:y.size - lat], atol=1e-5)


def test_default_follows_a_new_rate_and_rejects_a_fixed_rate():
    fx = Denoise()
    fx.process(_speechlike(16000), 16000)
    assert fx.chosen == default_model(16000)
    out = fx.process(_speechlike(48000), 48000)  # reset=True: a new stream, chosen again
    assert fx.chosen == default_model(48000) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="model_sample_rate: the default model"):
        Denoise(model_sample_rate=16000)


def test_cli_default_is_the_shipped_model(tmp_path, capsys):
    from hushboard.cli import main

    import importlib.resources

    from hushboard.io import read_audio

    _, clip_rate = read_audio(importlib.resources.files("hushboard") / "data" / "demo_noisy.flac")
    assert main(["demo", "-o", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert f"chosen='{default_model(clip_rate)}'" in out
    assert main(["info"]) == 0
    assert f"default model  {default_model(16000)} (16 kHz streams)" in capsys.readouterr().out
