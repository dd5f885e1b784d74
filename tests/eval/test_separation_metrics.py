"""The music-separation metrics of hushboard.metrics: uSDR (MDX/SDX global SDR, delta 1e-7),
museval-style chunk SDR and its median (cSDR) on constructed signals with exact values, SI-SDR
(si_snr) on stereo stems, its split into SI-SIR and SI-SAR (si_sdr_decomposition) against exact
constructions and a float64 least-squares truth, agreement with museval's bss_eval v4 when
museval is installed, and argument errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hushboard.metrics import USDR_EPS, chunk_sdr, csdr, si_sdr_decomposition, si_snr, usdr

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


# -- SI-SDR split into interference and artefacts (Le Roux et al. 2019) ------------------------
def _orthonormal_stems(stems: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``stems + 1`` zero-mean signals of unit energy, exactly orthogonal (the last one is
    orthogonal to the others: an "artefact")."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, stems + 1))
    a -= a.mean(axis=0)
    q, _ = np.linalg.qr(a)
    return q.T.reshape(stems + 1, *shape)


@pytest.mark.parametrize("shape", [(2, 1001), (1777,)])
def test_si_sdr_decomposition_exact_on_orthogonal_stems(shape):
    q = _orthonormal_stems(4, shape, seed=3)
    refs = q[:4] * np.array([3.0, 1.0, 0.5, 2.0]).reshape(4, *([1] * len(shape)))
    artefact = q[4]
    est = 0.8 * refs[1] + 0.1 * refs[0] + 0.03 * refs[3] + 0.05 * artefact
    d = si_sdr_decomposition(refs, est, 1)
    target = 0.8**2 * 1.0
    leaks = np.array([0.1**2 * 9.0, np.nan, 0.0, 0.03**2 * 4.0])
    assert d["si_sir"] == pytest.approx(10 * np.log10(target / np.nansum(leaks)), abs=1e-9)
    assert d["si_sar"] == pytest.approx(10 * np.log10(target / 0.05**2), abs=1e-9)
    assert d["si_sdr"] == pytest.approx(
        10 * np.log10(target / (np.nansum(leaks) + 0.05**2)), abs=1e-9)
    assert np.isnan(d["leak_db"][1])
    assert d["leak_db"][0] == pytest.approx(10 * np.log10(leaks[0] / target), abs=1e-9)
    assert d["leak_db"][3] == pytest.approx(10 * np.log10(leaks[3] / target), abs=1e-9)
    assert d["leak_db"][2] < -200  # stem 2 does not leak


def test_si_sdr_decomposition_against_a_float64_least_squares_truth():
    """Correlated stereo stems of odd length, a gain, a DC offset and a filtered leak: the
    projection on every stem, done directly with lstsq on the flattened signals."""
    rng = np.random.default_rng(7)
    n = 2 * 3001
    base = rng.standard_normal((4, n))
    refs = base + 0.4 * base[[1, 2, 3, 0]]  # correlated stems
    refs = refs.reshape(4, 2, n // 2) + 0.2  # and not zero-mean
    est = (1.7 * refs[2] + 0.3 * np.roll(refs[0], 5, axis=-1) + 0.2 * refs[3]
           + 0.1 * rng.standard_normal(refs.shape[1:]) - 0.4)
    for target in range(4):
        d = si_sdr_decomposition(refs, est, target)
        r = refs.reshape(4, -1)
        r = r - r.mean(axis=1, keepdims=True)
        e = est.ravel() - est.mean()
        beta = np.linalg.lstsq(r.T, e, rcond=None)[0]
        proj = beta @ r
        alpha = (e @ r[target]) / (r[target] @ r[target])
        t = alpha * r[target]
        sir = 10 * np.log10(np.sum(t**2) / np.sum((proj - t) ** 2))
        sar = 10 * np.log10(np.sum(t**2) / np.sum((e - proj) ** 2))
        assert d["si_sir"] == pytest.approx(sir, abs=1e-6)
        assert d["si_sar"] == pytest.approx(sar, abs=1e-6)
        assert d["si_sdr"] == pytest.approx(si_snr(refs[target], est), abs=1e-9)
        # the two error terms are orthogonal, so they share the SI-SDR's error exactly
        assert 10 ** (-d["si_sdr"] / 10) == pytest.approx(
            10 ** (-d["si_sir"] / 10) + 10 ** (-d["si_sar"] / 10), rel=1e-9)
        for k in range(4):
            if k != target:
                want = 10 * np.log10(beta[k] ** 2 * np.sum(r[k] ** 2) / np.sum(t**2))
                assert d["leak_db"][k] == pytest.approx(want, abs=1e-6)
        # scale-invariant: a gain on the estimate changes nothing
        d2 = si_sdr_decomposition(refs, -3.0 * est, target)
        for key in ("si_sdr", "si_sir", "si_sar"):
            assert d2[key] == pytest.approx(d[key], abs=1e-9)


def test_si_sdr_decomposition_with_a_silent_stem_and_the_mixture():
    q = _orthonormal_stems(3, (2, 500), seed=5)
    refs = np.concatenate([q[:3], np.zeros((1, 2, 500))])  # stem 3: an instrumental's vocals
    est = 0.9 * refs[0] + 0.2 * refs[2] + 0.1 * q[3]
    d = si_sdr_decomposition(refs, est, 0)
    d3 = si_sdr_decomposition(refs[:3], est, 0)
    for key in ("si_sdr", "si_sir", "si_sar"):
        assert d[key] == pytest.approx(d3[key], abs=1e-9)
    assert d["leak_db"][3] < -200
    # the mixture as the estimate lies in the span: no artefact, every other stem leaks at 0 dB
    mix = si_sdr_decomposition(refs, refs.sum(axis=0), 0)
    assert mix["si_sar"] > 200
    assert mix["leak_db"][1] == pytest.approx(0.0, abs=1e-9)
    # an estimate with none of the target has no leak "relative to the target"
    assert np.isnan(si_sdr_decomposition(refs, refs[1], 0)["leak_db"]).all()
    assert np.isnan(si_sdr_decomposition(refs, np.zeros((2, 500)), 0)["leak_db"]).all()


@pytest.mark.parametrize(("args", "exc", "match"), [
    ((np.ones(10), np.ones(10), 0), ValueError, "references must be stacked"),
    ((np.ones((2, 10)), np.ones(11), 0), ValueError, "estimate must have one reference's shape"),
    ((np.ones((2, 10)), np.ones(10), 2), ValueError, "target must be in"),
    ((np.ones((2, 10)), np.ones(10), 1.0), TypeError, "target must be an integer"),
    ((np.ones((2, 10)), np.ones(10), True), TypeError, "target must be an integer"),
    ((np.ones((2, 10)), np.full(10, np.nan), 0), ValueError, "estimate contains NaN"),
    ((np.ones((2, 10)), np.arange(10.0), 0), ValueError, "silent"),
    ((np.zeros((2, 0)), np.zeros(0), 0), ValueError, "references must not be empty"),
])
def test_si_sdr_decomposition_bad_arguments(args, exc, match):
    with pytest.raises(exc, match=match):
        si_sdr_decomposition(*args)
