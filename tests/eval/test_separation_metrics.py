"""The music-separation metrics of hushboard.metrics: uSDR (MDX/SDX global SDR, delta 1e-7),
museval-style chunk SDR and its median (cSDR) on constructed signals with exact values, SI-SDR
(si_snr) on stereo stems, agreement with museval's bss_eval v4 when museval is installed, and
argument errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hushboard.metrics import USDR_EPS, chunk_sdr, csdr, si_snr, usdr

SR = 8000


def _noise_at(ref: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """Noise whose energy is exactly ``sum(ref^2) / 10^(snr_db / 10)``."""
    v = np.random.default_rng(seed).standard_normal(ref.shape)
    return v * np.sqrt(np.sum(ref**2) / np.sum(v**2) / 10 ** (snr_db / 10))


def _stereo(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    s = np.sin(2 * np.pi * 220 * t) + 0.3 * rng.standard_normal(n)
    return np.stack([s, 0.7 * s + 0.2 * rng.standard_normal(n)])


def _museval_metrics():
    """museval.metrics (BSS-eval v4), which needs only NumPy/SciPy; museval's package
    __init__ also imports musdb, pandas and soundfile (and musdb's stempeg raises RuntimeError
    where ffmpeg is missing), so without them metrics.py is loaded from the installed package
    on its own."""
    try:
        from museval import metrics

        return metrics
    except (ImportError, RuntimeError):
        pass
    try:
        spec = importlib.util.find_spec("museval")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("museval is not installed (pip install museval)")
    path = f"{next(iter(spec.submodule_search_locations))}/metrics.py"
    mspec = importlib.util.spec_from_file_location("_museval_metrics", path)
    module = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(module)
    return module


# -- uSDR ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 9.5, 30.0])
def test_usdr_of_reference_plus_noise_is_the_snr(snr_db):
    ref = _stereo(3 * SR)
    assert usdr(ref, ref + _noise_at(ref, snr_db)) == pytest.approx(snr_db, abs=1e-6)


def test_usdr_definition_with_the_challenge_delta():
    assert USDR_EPS == 1e-7
    ref = _stereo(SR)
    energy = np.sum(ref**2)
    # a perfect estimate is finite: 10 log10((E + 1e-7) / 1e-7)
    assert usdr(ref, ref) == pytest.approx(10 * np.log10((energy + 1e-7) / 1e-7), abs=1e-9)
    assert 80 < usdr(ref, ref) < 200
    # silent reference and estimate: 0 dB; the delta matters for tiny energies
    assert usdr(np.zeros((2, 100)), np.zeros((2, 100))) == 0.0
    r = np.full(10, 1e-4)  # energy 1e-7
    e = np.zeros(10)
    assert usdr(r, e) == pytest.approx(10 * np.log10(2e-7 / 2e-7), abs=1e-9)
    assert usdr(r, 2 * r) == pytest.approx(0.0, abs=1e-9)


def test_usdr_scaling():
    ref = _stereo(SR)
    # not scale-invariant: a gain g is an error of (1 - g) ref
    assert usdr(ref, 0.5 * ref) == pytest.approx(10 * np.log10(1 / 0.25), abs=1e-6)
    assert usdr(ref, 2.0 * ref) == pytest.approx(0.0, abs=1e-6)
    # scaling reference and estimate together leaves it unchanged (far above the delta)
    est = ref + _noise_at(ref, 7.0)
    assert usdr(3 * ref, 3 * est) == pytest.approx(usdr(ref, est), abs=1e-6)
    # summed over channels: an error only in one channel counts against both channels' energy
    est = ref.copy()
    est[1] += _noise_at(ref, 10.0, seed=3)[1]
    want = 10 * np.log10(np.sum(ref**2) / np.sum((est - ref) ** 2))
    assert usdr(ref, est) == pytest.approx(want, abs=1e-6)


def test_si_sdr_of_stereo_stems_is_si_snr():
    ref = _stereo(2 * SR)
    noise = _noise_at(ref, 12.0, seed=5)
    # SI-SDR = SI-SNR: a gain on the estimate changes nothing, uSDR drops
    assert si_snr(ref, 0.25 * (ref + noise)) == pytest.approx(si_snr(ref, ref + noise), abs=1e-9)
    assert usdr(ref, 0.25 * (ref + noise)) < usdr(ref, ref + noise) - 5
    assert si_snr(ref, -2.0 * ref) > 100
    # one gain for both channels: a gain on one channel only is an error
    est = ref.copy()
    est[0] *= 0.5
    assert si_snr(ref, est) < 20


# -- chunk SDR / cSDR ---------------------------------------------------------------------------
def test_chunk_sdr_per_chunk_and_median():
    n = 5 * SR
    ref = _stereo(n)
    est = ref.copy()
    levels = [3.0, 10.0, -2.0, 25.0, 6.0]
    for k, snr_db in enumerate(levels):
        sl = slice(k * SR, (k + 1) * SR)
        est[:, sl] += _noise_at(ref[:, sl], snr_db, seed=k)
    got = chunk_sdr(ref, est, SR)
    assert got.shape == (5,)
    np.testing.assert_allclose(got, levels, atol=1e-6)
    assert csdr(ref, est, SR) == pytest.approx(6.0, abs=1e-6)
    # the median differs from the whole-signal value
    assert abs(usdr(ref, est) - 6.0) > 0.5
    # half-second chunks: ten of them, each pair at the same level up to noise
    assert chunk_sdr(ref, est, SR, chunk_seconds=0.5).shape == (10,)


def test_chunk_sdr_silent_chunks_are_skipped():
    n = 4 * SR
    ref = _stereo(n)
    est = ref + 0.0
    for k, snr_db in enumerate([1.0, 99.0, 4.0, 8.0]):
        sl = slice(k * SR, (k + 1) * SR)
        est[:, sl] += _noise_at(ref[:, sl], snr_db, seed=k)
    ref[:, SR:2 * SR] = 0.0  # the reference is silent in chunk 1 (the estimate is not)
    got = chunk_sdr(ref, est, SR)
    assert np.isnan(got[1]) and np.all(np.isfinite(got[[0, 2, 3]]))
    assert csdr(ref, est, SR) == pytest.approx(4.0, abs=1e-6)  # median of 1, 4, 8
    # a silent estimate chunk is skipped too (museval's rule)
    est2 = ref + _noise_at(ref, 5.0)
    est2[:, 2 * SR:3 * SR] = 0.0
    assert np.isnan(chunk_sdr(ref, est2, SR)[2])
    # silence is exact zeros: a tiny but nonzero chunk is scored
    ref3 = ref.copy()
    ref3[:, SR:2 * SR] = 1e-12
    assert np.isfinite(chunk_sdr(ref3, est, SR)[1])
    # nothing to score: NaN
    assert np.isnan(csdr(np.zeros((2, SR)), np.ones((2, SR)), SR))


def test_chunk_sdr_perfect_partial_and_short():
    ref = _stereo(int(2.5 * SR))
    est = ref.copy()
    est[:, :SR] += _noise_at(ref[:, :SR], 12.0)
    got = chunk_sdr(ref, est, SR)
    # two whole chunks; the trailing half second is not scored (museval's framing)
    assert got.shape == (2,)
    assert got[0] == pytest.approx(12.0, abs=1e-6) and got[1] == np.inf
    est[:, 2 * SR:] += 1.0  # an error in the unscored tail changes nothing
    np.testing.assert_array_equal(chunk_sdr(ref, est, SR), got)
    # shorter than a chunk: one chunk, the whole signal
    short = ref[:, : SR // 2]
    noisy = short + _noise_at(short, 4.0)
    assert chunk_sdr(short, noisy, SR).shape == (1,)
    assert csdr(short, noisy, SR) == pytest.approx(4.0, abs=1e-6)
    # 1-D is one channel
    assert csdr(short[0], noisy[0], SR) == pytest.approx(csdr(short[:1], noisy[:1], SR))
    # the chunk length is int(chunk_seconds * sample_rate)
    assert chunk_sdr(ref, est, SR, chunk_seconds=0.3).shape == (int(2.5 * SR) // 2400,)


def test_chunk_sdr_matches_museval_bss_eval_v4():
    mm = _museval_metrics()
    rng = np.random.default_rng(0)
    n = int(3.5 * SR)
    refs = rng.standard_normal((2, 2, n))
    refs[1, :, SR:2 * SR] = 0.0  # a silent chunk in source 1
    ests = np.empty_like(refs)
    ests[0] = 0.8 * np.roll(refs[0], 3, axis=-1) + 0.1 * rng.standard_normal((2, n))
    ests[1] = refs[1] + 0.3 * rng.standard_normal((2, n))
    # museval: (sources, samples, channels), windows and hops of one second, v4 filters
    sdr_mv = mm.bss_eval(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), window=SR, hop=SR,
                         compute_permutation=False, filters_len=512, framewise_filters=False,
                         bsseval_sources_version=False)[0]
    ours = np.stack([chunk_sdr(refs[j], ests[j], SR) for j in range(2)])
    assert sdr_mv.shape == ours.shape == (2, 3)
    # museval marks a chunk NaN for every source when any source is silent in it; per source,
    # our values equal museval's wherever museval scores the chunk
    assert np.isnan(sdr_mv[:, 1]).all() and np.isnan(ours[1, 1]) and np.isfinite(ours[0, 1])
    ok = np.isfinite(sdr_mv)
    np.testing.assert_allclose(ours[ok], sdr_mv[ok], atol=1e-9)
    # museval's track score is the nanmedian over chunks
    assert csdr(refs[1], ests[1], SR) == pytest.approx(np.nanmedian(sdr_mv[1]), abs=1e-9)


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [usdr, lambda r, e: csdr(r, e, SR),
                                lambda r, e: chunk_sdr(r, e, SR)])
def test_bad_inputs_name_the_argument(fn):
    ref = _stereo(SR)
    with pytest.raises(ValueError, match=r"same shape \(\(2, 8000\) vs \(2, 7999\)\)"):
        fn(ref, ref[:, :-1])
    bad = ref.copy()
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match="estimate contains NaN"):
        fn(ref, bad)
    with pytest.raises(ValueError, match="reference contains NaN"):
        fn(bad, ref)
    with pytest.raises(ValueError, match="reference must not be empty"):
        fn(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(TypeError, match="estimate must be an array"):
        fn(ref, None)


def test_chunk_sdr_bad_arguments():
    ref = _stereo(SR)
    with pytest.raises(ValueError, match=r"\(samples,\) or \(channels, samples\)"):
        chunk_sdr(ref[None], ref[None], SR)
    with pytest.raises(ValueError, match="chunk_seconds must be > 0"):
        csdr(ref, ref, SR, chunk_seconds=0)
    with pytest.raises(ValueError, match="chunk_seconds must be > 0"):
        csdr(ref, ref, SR, chunk_seconds=1e-6)
    with pytest.raises(TypeError, match="chunk_seconds must be a number"):
        csdr(ref, ref, SR, chunk_seconds="1")
    with pytest.raises(ValueError, match="sample_rate must be a whole number"):
        csdr(ref, ref, 100)
