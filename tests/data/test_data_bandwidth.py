"""The synthetic upper band of band-limited TTS speech in fullband corpora."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hushboard.data.bandwidth import band_edge, extend_band

SR = 48000


def _band_db(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    f = np.fft.rfftfreq(x.size, 1 / sr)
    p = np.abs(np.fft.rfft(x)) ** 2
    return float(10 * np.log10(p[(f >= lo) & (f < hi)].sum() + 1e-30))


def _lowband_speechlike(seed: int = 0, seconds: float = 2.0, edge: float = 7200.0) -> np.ndarray:
    """Voiced harmonics plus fricative-like noise bursts in 4-7 kHz, nothing above ``edge``."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    voiced = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 30))
    bursts = (np.sin(2 * np.pi * 2 * t) > 0.6).astype(float)  # two "s" sounds a second
    fric = sosfiltfilt(butter(8, [4000, 6800], "bandpass", fs=SR, output="sos"),
                       rng.standard_normal(t.size)) * bursts
    x = 0.05 * voiced * (1 - bursts) + 0.3 * fric
    return sosfiltfilt(butter(12, edge, fs=SR, output="sos"), x).astype(np.float32)


def test_adds_an_upper_band_that_follows_the_fricatives_and_keeps_the_rest():
    x = _lowband_speechlike()
    y = extend_band(x, SR, 7200.0, np.random.default_rng(1))
    assert y.shape == x.shape and y.dtype == np.float32
    diff = (y - x).astype(np.float64)
    # below the edge: (almost) untouched; above: a band where there was none
    assert _band_db(diff, 0, 6000) < _band_db(x, 0, 6000) - 50
    assert _band_db(x, 9000, 24000) < _band_db(x, 4000, 7000) - 60
    assert _band_db(y, 9000, 24000) > _band_db(x, 4000, 7000) - 30
    # the band falls with frequency (6-15 dB per octave, from 3-12 dB below the edge level)
    lower, upper = _band_db(y, 8000, 11000), _band_db(y, 16000, 22000)
    assert upper < lower
    # its power follows the fricative bursts, not the voiced parts
    t = np.arange(x.size) / SR
    bursts = np.sin(2 * np.pi * 2 * t) > 0.7
    quiet = np.sin(2 * np.pi * 2 * t) < 0.4
    assert np.mean(diff[bursts] ** 2) > 30 * np.mean(diff[quiet] ** 2)


def test_deterministic_and_no_op_cases():
    x = _lowband_speechlike(seed=2, seconds=1.0)
    a = extend_band(x, SR, 7200.0, np.random.default_rng(5))
    np.testing.assert_array_equal(a, extend_band(x, SR, 7200.0, np.random.default_rng(5)))
    assert not np.array_equal(a, extend_band(x, SR, 7200.0, np.random.default_rng(6)))
    # already fullband, silent or too short: returned as it is
    np.testing.assert_array_equal(extend_band(x, SR, 0.96 * SR / 2, np.random.default_rng(0)), x)
    z = np.zeros(SR, np.float32)
    np.testing.assert_array_equal(extend_band(z, SR, 7200.0, np.random.default_rng(0)), z)
    short = x[:500]
    np.testing.assert_array_equal(extend_band(short, SR, 7200.0, np.random.default_rng(0)), short)
    assert band_edge(16000) == pytest.approx(7200.0)


def test_fullband_corpus_with_extended_band(tmp_path):
    from data_helpers import require_tts
    from hushboard.data import _audio, build_speech
    from hushboard.data.corpus import read_manifest

    require_tts()
    kw = {"n_sentences": 6, "sample_rate": SR, "seed": 3, "engines": ["flite", "festival"]}
    plain = build_speech(tmp_path / "plain", progress=False, **kw)
    ext = build_speech(tmp_path / "ext", progress=False, extend_band=True, **kw)
    assert [r["file"] for r in plain] == [r["file"] for r in ext]
    meta = json.loads((tmp_path / "ext" / "corpus.json").read_text())
    assert meta["speech"]["extend_band"] is True
    assert "extend_band" not in json.loads((tmp_path / "plain" / "corpus.json").read_text())["speech"]
    gains = []
    for rp, re_ in zip(plain, ext):
        a, sr = _audio.read_wav(tmp_path / "plain" / rp["file"])
        b, _ = _audio.read_wav(tmp_path / "ext" / re_["file"])
        assert sr == SR and a.size == b.size
        assert _audio.rms_db(b) == pytest.approx(-23.0, abs=0.3)
        # flite and festival render at 16 or 32 kHz: nothing above 16 kHz but the 16-bit
        # quantisation floor, until extended (a dull voice's band can stay near that floor)
        gains.append(_band_db(b, 16500, 22000) - _band_db(a, 16500, 22000))
        assert gains[-1] > -0.5
        assert _band_db(b, 16500, 22000) < _band_db(b, 0, 4000) - 30
    assert np.median(gains) > 10, gains
    # the same folder with other settings is refused
    with pytest.raises(ValueError, match="already holds speech"):
        build_speech(tmp_path / "ext", progress=False, **kw)
    assert len(read_manifest(tmp_path / "ext" / "speech_manifest.csv")) == 6
