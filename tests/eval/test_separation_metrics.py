"""The music-separation metrics of hushboard.metrics: uSDR (MDX/SDX global SDR, delta 1e-7),
museval-style chunk SDR and its median (cSDR) on constructed signals with exact values, SI-SDR
(si_snr) on stereo stems, its split into SI-SIR and SI-SAR (si_sdr_decomposition) against exact
constructions and a float64 least-squares truth, agreement with museval's bss_eval v4 when
museval is installed, and argument errors."""

from __future__ import annotations

import importlib.util

import hushboard.metrics
import numpy as np
import pytest
from hushboard.metrics import (
    USDR_EPS,
    bss_eval_images,
    chunk_sdr,
    csdr,
    si_sdr_decomposition,
    si_snr,
    usdr,
)

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


# -- BSS-eval v4 images: SDR, ISR, SIR, SAR per chunk ------------------------------------------
def _delayed(x: np.ndarray, length: int, flen: int) -> np.ndarray:
    """Columns ``(p, a)``: channel ``p`` of ``x`` (zero outside its samples) delayed by ``a``,
    over ``length`` samples."""
    cols = np.zeros((length, x.shape[0] * flen))
    for p in range(x.shape[0]):
        for a in range(flen):
            m = min(x.shape[1], length - a)
            cols[a:a + m, p * flen + a] = x[p, :m]
    return cols


def _dense_bss_eval(refs: np.ndarray, ests: np.ndarray, chunk: int, flen: int) -> dict:
    """The v4 images measures written out with explicit delayed-reference matrices and
    float64 least squares: filters fitted on the whole (zero-padded) signals, applied to each
    chunk's references."""
    k, c, n = refs.shape
    x = refs.reshape(k * c, n)
    whole = _delayed(x, n + flen - 1, flen)
    e_pad = np.zeros((n + flen - 1, k * c))
    e_pad[:n] = ests.reshape(k * c, n).T
    coef_all = np.linalg.lstsq(whole, e_pad, rcond=None)[0]
    coef_own = [np.linalg.lstsq(whole[:, j * c * flen:(j + 1) * c * flen],
                                e_pad[:, j * c:(j + 1) * c], rcond=None)[0] for j in range(k)]
    count = n // chunk
    out = {m: np.full((k, count), np.nan) for m in ("sdr", "isr", "sir", "sar")}
    for w in range(count):
        sl = slice(w * chunk, (w + 1) * chunk)
        a = _delayed(x[:, sl], chunk + flen - 1, flen)
        for j in range(k):
            s = np.zeros((chunk + flen - 1, c))
            s[:chunk] = refs[j][:, sl].T
            e = np.zeros_like(s)
            e[:chunk] = ests[j][:, sl].T
            p_all = a @ coef_all[:, j * c:(j + 1) * c]
            p_own = a[:, j * c * flen:(j + 1) * c * flen] @ coef_own[j]

            def db(num, den):
                return 10 * np.log10(np.sum(num**2) / np.sum(den**2))

            out["sdr"][j, w] = db(s, e - s)
            out["isr"][j, w] = db(s, p_own - s)
            out["sir"][j, w] = db(p_own, p_all - p_own)
            out["sar"][j, w] = db(p_all, e - p_all)
    return out


@pytest.mark.parametrize("batch", [1 << 22, 1])  # one batch of blocks, or one block each
def test_lag_correlations_against_numpy(monkeypatch, batch):
    monkeypatch.setattr(hushboard.metrics, "_CORR_BATCH", batch)
    rng = np.random.default_rng(2)
    z, x = rng.standard_normal((3, 5003)), rng.standard_normal((2, 5003))
    got = hushboard.metrics._lag_correlations(z, x, 7)
    assert got.shape == (3, 2, 13)
    for i in range(3):
        for p in range(2):
            # np.correlate(z, x, "full")[n - 1 + m] = sum_t z(t + m) x(t)
            want = np.correlate(z[i], x[p], "full")[5003 - 1 - 6: 5003 + 6]
            np.testing.assert_allclose(got[i, p], want, atol=1e-9)


def _mixed_stems(k: int, c: int, n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Correlated, coloured stems and estimates made of filtered references, leaks and
    noise (none of them inside the span of the references)."""
    rng = np.random.default_rng(seed)
    refs = rng.standard_normal((k, c, n))
    refs[1] = np.cumsum(refs[1], axis=-1) * 0.05  # low-pass, so its delays are correlated
    if c > 1:
        refs[:, 1] += 0.5 * refs[:, 0]  # correlated channels
    ests = np.empty_like(refs)
    for j in range(k):
        ests[j] = (0.8 * np.roll(refs[j], 2, axis=-1) + 0.1 * refs[j]
                   + 0.3 * refs[(j + 1) % k][::-1] + 0.2 * rng.standard_normal((c, n)))
    return refs, ests


@pytest.mark.parametrize(("k", "c", "n", "chunk_seconds", "flen"),
                         [(3, 2, 1001, 0.075, 16), (2, 1, 777, 0.0625, 9), (4, 2, 650, 1.0, 7)])
def test_bss_eval_images_against_a_dense_float64_truth(k, c, n, chunk_seconds, flen):
    sr = 4000
    refs, ests = _mixed_stems(k, c, n)
    got = bss_eval_images(refs, ests, sr, chunk_seconds=chunk_seconds, filter_length=flen)
    chunk = min(int(chunk_seconds * sr), n)
    want = _dense_bss_eval(refs, ests, chunk, flen)
    for m in ("sdr", "isr", "sir", "sar"):
        assert got[m].shape == (k, n // chunk)
        assert np.all(np.isfinite(got[m]))
        np.testing.assert_allclose(got[m], want[m], atol=1e-7, err_msg=m)
    # the SDR is chunk_sdr's, exactly
    for j in range(k):
        np.testing.assert_array_equal(
            got["sdr"][j], chunk_sdr(refs[j], ests[j], sr, chunk_seconds=chunk_seconds))
    # mono stems may be (stems, samples)
    if c == 1:
        flat = bss_eval_images(refs[:, 0], ests[:, 0], sr, chunk_seconds=chunk_seconds,
                               filter_length=flen)
        for m in got:
            np.testing.assert_array_equal(flat[m], got[m])


def test_bss_eval_images_matches_museval_bss_eval_v4():
    mm = _museval_metrics()
    n = int(3.5 * SR)
    refs, ests = _mixed_stems(3, 2, n, seed=5)
    refs[2, :, SR:2 * SR] = 0.0  # a silent chunk in one stem: NaN for every stem
    got = bss_eval_images(refs, ests, SR)
    want = mm.bss_eval(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), window=SR, hop=SR,
                       compute_permutation=False, filters_len=512, framewise_filters=False,
                       bsseval_sources_version=False)
    for i, m in enumerate(("sdr", "isr", "sir", "sar")):
        assert got[m].shape == want[i].shape == (3, 3)
        assert np.isnan(got[m][:, 1]).all() and np.isnan(want[i][:, 1]).all()
        ok = ~np.isnan(want[i])
        np.testing.assert_allclose(got[m][ok], want[i][ok], atol=1e-8, err_msg=m)


def test_bss_eval_images_of_pure_tones_matches_museval(monkeypatch):
    """Pure tones have two degrees of freedom per channel, so the Gram matrix of their 512
    delays is numerically singular: Cholesky fails and the LU solve museval uses takes over."""
    mm = _museval_metrics()
    import scipy.linalg

    failures = []
    cho = scipy.linalg.cho_factor

    def spy(*args, **kwargs):
        try:
            return cho(*args, **kwargs)
        except np.linalg.LinAlgError:
            failures.append(1)
            raise

    monkeypatch.setattr(scipy.linalg, "cho_factor", spy)
    t = np.arange(3 * SR) / SR
    tones = [np.sin(2 * np.pi * f * t + ph) for f, ph in ((110, 0.3), (330, 1.0), (523, 2.0))]
    refs = np.stack([np.stack([s, 0.7 * s]) for s in tones])
    ests = (0.9 * refs + 0.1 * np.roll(refs, 1, axis=0)
            + 0.05 * np.random.default_rng(1).standard_normal(refs.shape))
    got = bss_eval_images(refs, ests, SR)
    assert failures
    want = mm.bss_eval(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), window=SR, hop=SR,
                       compute_permutation=False, filters_len=512, framewise_filters=False,
                       bsseval_sources_version=False)
    for i, m in enumerate(("sdr", "isr", "sir", "sar")):
        np.testing.assert_allclose(got[m], want[i], atol=1e-7, err_msg=m)


def test_bss_eval_images_on_known_leaks_and_noise():
    rng = np.random.default_rng(7)
    n = 4 * SR
    refs = rng.standard_normal((3, 2, n))
    ests = refs.copy()
    ests[0] = refs[0] + 0.1 * refs[1]  # a leak 20 dB under the stem: SIR 20, no artefacts
    ests[1] = refs[1] + _noise_at(refs[1], 15.0)  # noise 15 dB under: SAR about 15
    ests[2] = 0.5 * np.roll(refs[2], 7, axis=-1)  # a gain and a delay: only spatial distortion
    got = bss_eval_images(refs, ests, SR)
    assert got["sir"][0] == pytest.approx(np.full(4, 20.0), abs=0.3)
    assert np.all(got["sar"][0] > 100)
    # the span (3 stems x 2 channels x 512 delays, 3072 of the 32000 dimensions) takes in its
    # share of the noise, so the SAR is 10 log10(1 / (1 - 3072 / 32000)) dB above the SNR
    share = -10 * np.log10(1 - 3 * 2 * 512 / n)
    assert got["sar"][1] == pytest.approx(np.full(4, 15.0 + share), abs=0.2)
    assert np.all(got["sir"][1] > 25) and np.all(got["isr"][1] > 25)
    # the delayed, scaled copy is all filtering distortion: low SDR and ISR, no interference
    # or artefacts (up to the chunk edges: the first 7 samples come from the previous chunk)
    assert np.all(got["sdr"][2] < 3) and np.all(got["isr"][2] < 3)
    assert np.all(got["sir"][2] > 40) and np.all(got["sar"][2] > 25)


def test_bss_eval_images_silence():
    refs, ests = _mixed_stems(2, 2, 4 * SR, seed=9)
    ests[1, :, 2 * SR:3 * SR] = 0.0  # a silent estimate chunk: that chunk is NaN for both
    got = bss_eval_images(refs, ests, SR)
    for m in got:
        assert np.isnan(got[m][:, 2]).all() and np.isfinite(got[m][:, [0, 1, 3]]).all()
    refs[0] = 0.0  # a stem silent throughout: nothing can be scored, and no error
    got = bss_eval_images(refs, ests, SR)
    assert all(np.isnan(v).all() and v.shape == (2, 4) for v in got.values())


@pytest.mark.parametrize(("args", "kwargs", "exc", "match"), [
    ((np.ones((2, 2, 100)), np.ones((2, 2, 99)), SR), {}, ValueError, "same shape"),
    ((np.ones((2, 2, 2, 100)), np.ones((2, 2, 2, 100)), SR), {}, ValueError,
     r"\(stems, channels, samples\)"),
    ((np.ones(100), np.ones(100), SR), {}, ValueError, r"\(stems, samples\)"),
    ((np.ones((2, 100)), np.ones((2, 100)), SR), {"filter_length": 101}, ValueError,
     "filter_length must be in"),
    ((np.ones((2, 100)), np.ones((2, 100)), SR), {"filter_length": True}, TypeError,
     "filter_length"),
    ((np.ones((2, 100)), np.ones((2, 100)), SR), {"chunk_seconds": 0}, ValueError,
     "chunk_seconds"),
    ((np.ones((2, 100)), np.ones((2, 100)), 0), {}, ValueError, "sample_rate"),
    ((np.ones((2, 100)), np.full((2, 100), np.nan), SR), {}, ValueError, "estimates"),
    ((np.ones((2, 0)), np.ones((2, 0)), SR), {}, ValueError, "references"),
])
def test_bss_eval_images_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        bss_eval_images(*args, **kwargs)
