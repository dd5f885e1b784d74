"""hushboard.metrics against reference values: SNR/SI-SNR/SDR of constructed signals (exact
values), BSS-eval SDR against an explicit least-squares projection and mir_eval's numbers,
PESQ and STOI of identical and degraded speech-like signals, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hushboard.metrics import (
    METRICS,
    estoi,
    pesq_nb,
    pesq_wb,
    resample,
    score,
    sdr,
    si_snr,
    snr,
    stoi,
)
from scipy.signal import lfilter

SR = 16000


def _sine_and_noise(snr_db: float, n: int = 16000, seed: int = 0):
    """A 440 Hz sine and zero-mean white noise orthogonal to it, at exactly ``snr_db``."""
    t = np.arange(n) / SR
    s = np.sin(2 * np.pi * 440 * t)
    s -= s.mean()
    v = np.random.default_rng(seed).standard_normal(n)
    v -= v.mean()
    v -= np.dot(v, s) / np.dot(s, s) * s
    v *= np.sqrt(np.sum(s**2) / np.sum(v**2) / 10 ** (snr_db / 10))
    return s, v


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 12.5, 30.0])
def test_snr_and_si_snr_of_sine_plus_noise(snr_db):
    s, v = _sine_and_noise(snr_db)
    assert snr(s, s + v) == pytest.approx(snr_db, abs=1e-9)
    # the noise is orthogonal to the (zero-mean) sine, so SI-SNR is exactly the SNR ...
    assert si_snr(s, s + v) == pytest.approx(snr_db, abs=1e-9)
    # ... and any gain leaves it unchanged, while plain SNR moves
    assert si_snr(s, 3.0 * (s + v)) == pytest.approx(snr_db, abs=1e-9)
    assert snr(s, 3.0 * (s + v)) < min(snr_db, 0.0) - 5


def test_si_snr_of_scaled_copy_and_of_mean_offset():
    s, _ = _sine_and_noise(0.0)
    assert si_snr(s, 3.0 * s) > 100
    assert si_snr(s, s + 5.0) > 100  # a DC offset is removed first
    assert si_snr(s, -s) > 100  # a negative gain is a gain too
    # SNR of a scaled copy: 10 log10(1 / (1 - g)^2)
    assert snr(s, 0.5 * s) == pytest.approx(10 * np.log10(1 / 0.25), abs=1e-9)


def _delay_matrix(r: np.ndarray, flen: int) -> np.ndarray:
    """Columns: r delayed by 0..flen-1 samples, zero-padded to len(r) + flen - 1."""
    n = r.size
    a = np.zeros((n + flen - 1, flen))
    for k in range(flen):
        a[k:k + n, k] = r
    return a


def _sdr_explicit(r: np.ndarray, e: np.ndarray, flen: int) -> float:
    """BSS-eval SDR by an explicit least-squares projection (no FFT, no Toeplitz solver)."""
    a = _delay_matrix(r, flen)
    e_pad = np.concatenate([e, np.zeros(flen - 1)])
    target = a @ np.linalg.lstsq(a, e_pad, rcond=None)[0]
    return float(10 * np.log10(np.sum(target**2) / np.sum((e_pad - target) ** 2)))


def test_sdr_matches_explicit_projection_and_mir_eval():
    rng = np.random.default_rng(7)
    r = rng.standard_normal(3000)
    e = lfilter([1.0, 0.5, -0.25], [1.0], r) + 0.5 * rng.standard_normal(3000)
    # mir_eval 0.8 bss_eval_sources(r[None], e[None])[0][0] on these arrays: 7.981274701556979
    assert sdr(r, e) == pytest.approx(7.981274701556979, abs=1e-9)
    e2 = np.roll(r, 700) * 0.8 + 0.1 * rng.standard_normal(3000)
    # a circular shift of 700 > 512 taps is not explained by the filter: mir_eval -7.99065027329942
    assert sdr(r, e2) == pytest.approx(-7.99065027329942, abs=1e-9)
    for flen in (1, 16, 64):
        assert sdr(r[:800], e[:800], filter_length=flen) == pytest.approx(
            _sdr_explicit(r[:800], e[:800], flen), abs=1e-8)


def test_sdr_ignores_gain_delay_and_short_filters(speechlike):
    r = speechlike(SR, 1.0)  # ends in silence, so a delayed copy loses nothing
    delayed = np.concatenate([np.zeros(100), r[:-100]])
    assert np.all(r[-100:] == 0)
    assert snr(r, delayed) < 3  # plain SNR punishes the delay ...
    assert sdr(r, delayed) > 100  # ... the 512-tap distortion filter absorbs it
    assert sdr(r, 0.3 * r) > 100
    assert sdr(r, lfilter([0.6, -0.3, 0.1], [1.0], r)) > 100
    late = np.concatenate([np.zeros(600), r[:-600]])  # beyond 512 taps: an error again
    assert sdr(r, late) < 10  # (not -inf: the voiced syllables are partly periodic)


def test_sdr_equals_snr_for_noise_orthogonal_to_the_filtered_reference():
    """Hand-made case: noise orthogonal to every delayed copy (0..flen-1) of the reference is
    pure error, and the projection is the reference itself, so SDR = |r|^2/|v|^2 exactly."""
    rng = np.random.default_rng(3)
    n, flen = 1200, 32
    r = rng.standard_normal(n)
    a = _delay_matrix(r, flen)[:n]  # the estimate has no samples past n
    v = rng.standard_normal(n)
    v -= a @ np.linalg.lstsq(a, v, rcond=None)[0]
    for snr_db in (-3.0, 10.0):
        w = v * np.sqrt(np.sum(r**2) / np.sum(v**2) / 10 ** (snr_db / 10))
        assert sdr(r, r + w, filter_length=flen) == pytest.approx(snr_db, abs=1e-7)


def test_pesq_identical_and_degraded(speechlike, noisy_of):
    clean = speechlike(SR, 2.0)
    wb_same = pesq_wb(clean, clean, SR)
    nb_same = pesq_nb(clean, clean, SR)
    assert wb_same == pytest.approx(4.64, abs=0.01)  # the top of the P.862.2 scale
    assert nb_same == pytest.approx(4.55, abs=0.02)  # the top of the P.862.1 mapping
    wb = [pesq_wb(clean, noisy_of(clean, s), SR) for s in (20, 5)]
    nb = [pesq_nb(clean, noisy_of(clean, s), SR) for s in (20, 5)]
    assert wb_same > wb[0] > wb[1] >= 1.0
    assert nb_same > nb[0] > nb[1] >= 1.0


def test_pesq_resamples_other_rates(speechlike, noisy_of):
    clean = speechlike(22050, 1.5)
    assert pesq_wb(clean, clean, 22050) == pytest.approx(4.64, abs=0.01)
    noisy = noisy_of(clean, 10)
    # 22.05 kHz scored through resample_poly agrees with scoring the 16 kHz version
    direct = pesq_wb(resample(clean, 22050, 16000), resample(noisy, 22050, 16000), 16000)
    assert pesq_wb(clean, noisy, 22050) == pytest.approx(direct, abs=1e-6)
    assert pesq_nb(clean, noisy, 22050) < 4.0


def test_stoi_and_estoi(speechlike, noisy_of):
    clean = speechlike(SR, 2.0)
    assert stoi(clean, clean, SR) == pytest.approx(1.0, abs=1e-6)
    assert estoi(clean, clean, SR) == pytest.approx(1.0, abs=1e-6)
    s = [stoi(clean, noisy_of(clean, d), SR) for d in (10, 0, -10)]
    e = [estoi(clean, noisy_of(clean, d), SR) for d in (10, 0, -10)]
    assert 1.0 > s[0] > s[1] > s[2]
    assert 1.0 > e[0] > e[1] > e[2]
    assert e[1] < s[1]  # eSTOI is the stricter measure on white noise


def test_resample_keeps_a_sine_aligned():
    t = np.arange(4410) / 44100
    x = np.sin(2 * np.pi * 500 * t)
    y = resample(x, 44100, 16000)
    assert y.shape == (1600,)
    ref = np.sin(2 * np.pi * 500 * np.arange(1600) / 16000)
    assert np.max(np.abs(y[100:-100] - ref[100:-100])) < 1e-3
    assert np.array_equal(resample(x, 44100, 44100), x)


def test_score_names_and_order(speechlike, noisy_of):
    clean = speechlike(SR, 1.0)
    noisy = noisy_of(clean, 5)
    out = score(clean, noisy, SR, ["stoi", "si_snr"])
    assert list(out) == ["stoi", "si_snr"]
    assert out["si_snr"] == pytest.approx(si_snr(clean, noisy))
    assert set(METRICS) == {"si_snr", "snr", "sdr", "pesq_wb", "pesq_nb", "stoi", "estoi"}
    with pytest.raises(ValueError, match="metrics"):
        score(clean, noisy, SR, ["pesq"])
    # (1, samples) is accepted as mono
    assert score(clean[None], noisy[None], SR, ["snr"])["snr"] == pytest.approx(5.0, abs=1e-6)


def test_bad_arguments_are_named(speechlike):
    x = speechlike(SR, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        snr(x, x[:10])
    with pytest.raises(ValueError, match="reference must not be empty"):
        si_snr([], [])
    bad = x.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="estimate contains NaN"):
        sdr(x, bad)
    with pytest.raises(ValueError, match="reference contains NaN or Inf"):
        stoi(np.where(np.arange(x.size) == 3, np.inf, x), x, SR)
    with pytest.raises(TypeError, match="reference must be an array"):
        snr("abc", x)
    with pytest.raises(TypeError, match="estimate must hold real numbers"):
        si_snr(x, x.astype(complex))
    with pytest.raises(ValueError, match="sample_rate must be a whole number"):
        pesq_wb(x, x, 16000.5)
    with pytest.raises(ValueError, match="sample_rate must be a whole number"):
        stoi(x, x, 0)
    with pytest.raises(TypeError, match="sample_rate must be a number"):
        pesq_nb(x, x, "16000")
    with pytest.raises(TypeError, match="sample_rate must be a number"):
        pesq_nb(x, x, True)
    stereo = np.stack([x, x])
    with pytest.raises(ValueError, match=r"1-D or \(1, samples\)"):
        pesq_wb(stereo, stereo, SR)
    with pytest.raises(ValueError, match="filter_length must be in"):
        sdr(x[:100], x[:100])  # default 512 taps > 100 samples
    with pytest.raises(TypeError, match="filter_length must be an integer"):
        sdr(x, x, filter_length=2.5)
    with pytest.raises(ValueError, match="reference is all zeros"):
        sdr(np.zeros(1000), x[:1000])
    with pytest.raises(ValueError, match="at least 0.25 s"):
        pesq_wb(x[:2000], x[:2000], SR)
    with pytest.raises(ValueError, match="PESQ"):
        pesq_wb(np.zeros(SR), x, SR)  # no utterance in a silent reference
    with pytest.raises(ValueError, match="too little active speech"):
        stoi(x[:3000], x[:3000], SR)
