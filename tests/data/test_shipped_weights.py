"""The trained models shipped in hushboard/weights load by name, stream through their C++
engine, and improve the noisy input on held-out TTS mixtures (speakers and sentences of the
test split, every noise type)."""

from __future__ import annotations

import numpy as np
import pytest
from hushboard.fx.model import shipped_weights

SHIPPED = shipped_weights()


def _si_snr(ref: np.ndarray, est: np.ndarray) -> float:
    from hushboard.metrics import si_snr

    return si_snr(ref, est)


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    from hushboard.metrics import snr

    return snr(ref, est)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_improves_held_out_mixtures(name, tiny_corpus):
    import os

    from hushboard.data.mix import MixDataset
    from hushboard.fx import Denoise

    assert os.path.isfile(SHIPPED[name][:-len(".safetensors")] + ".md"), "model card missing"
    fx = Denoise(name)
    sr = fx.model_sample_rate
    data = MixDataset(tiny_corpus, "test", sample_rate=sr, seconds=3.0, seed=7, items=8,
                      snr_db=(0.0, 10.0))
    gains, snr_gains = [], []
    for i in range(len(data)):
        noisy, clean = (np.asarray(t) for t in data[i])
        out = fx.process(noisy, sr)
        assert out.shape == noisy.shape and np.isfinite(out).all()
        gains.append(_si_snr(clean, out) - _si_snr(clean, noisy))
        snr_gains.append(_snr(clean, out) - _snr(clean, noisy))
    # the streamed output (blocks of 160, latency-late) is the same signal
    fx.reset()
    noisy = np.asarray(data[0][0])
    blocks = [fx.process(noisy[i:i + 160], sr, reset=False) for i in range(0, noisy.size, 160)]
    lat = fx.latency_samples
    np.testing.assert_allclose(np.concatenate(blocks)[lat:], fx.process(noisy, sr)[:-lat],
                               atol=1e-5)
    assert np.mean(gains) > 1.0, f"mean SI-SNR gain {np.mean(gains):.2f} dB"
    # the plain SNR sees what SI-SNR cannot: an inverted or mis-scaled output
    assert np.mean(snr_gains) > 1.0, f"mean SNR gain {np.mean(snr_gains):.2f} dB"


def test_shipped_names_listed():
    from hushboard.fx import Denoise

    with pytest.raises(ValueError, match="available:.*wiener"):
        Denoise("no-such-model")
