"""Signal-level and perceptual quality measures of speech estimates.

* ``snr``, ``si_snr``: plain and scale-invariant signal-to-noise ratios (NumPy).
* ``sdr``: BSS-eval signal-to-distortion ratio for one source (the estimate is projected on
  the reference filtered by an FIR "distortion filter" of ``filter_length`` taps, as in
  mir_eval/museval ``bss_eval_sources``), written here in NumPy/SciPy.
* ``pesq_wb``, ``pesq_nb``: ITU-T P.862.2 wide-band PESQ at 16 kHz and P.862 narrow-band PESQ at
  8 kHz through the ``pesq`` package; other rates are resampled with a polyphase filter.
* ``stoi``, ``estoi``: short-time objective intelligibility and its extended form through
  ``pystoi`` (which resamples to 10 kHz itself).
* ``score``: several of the above at once, by name (``METRICS``).
* ``usdr``, ``chunk_sdr``, ``csdr``: the music-separation SDRs of one stem, multichannel:
  utterance-level SDR as in the Music/Sound Demixing Challenges (MDX 2021, SDX 2023) and the
  museval (BSS-eval v4, SiSEC 2018) SDR per 1-s chunk and its median. Scale-invariant SDR per
  stem is ``si_snr`` (the same formula as SI-SDR, Le Roux et al. 2019).
* ``si_sdr_decomposition``: where a stem estimate's error comes from: SI-SIR (the other
  stems leaking in, and how much of each) and SI-SAR (what no stem explains), Le Roux et al.
* ``bss_eval_images``: museval's BSS-eval v4 "images" measures of all stems per chunk (SDR,
  ISR, SIR, SAR, with 512-tap distortion filters fitted on the whole signals), as SiSEC 2018
  reports them.

All take the clean reference first and the estimate second. Inputs are 1-D (or, for ``snr``,
``si_snr``, ``sdr`` and the separation SDRs, any matching shape for SNR/SI-SNR/uSDR,
``(channels, samples)`` for cSDR, 1-D or ``(1, samples)`` for the others), finite, non-empty;
a bad argument raises ``ValueError``/``TypeError`` naming it.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "METRICS", "USDR_EPS", "bss_eval_images", "chunk_sdr", "csdr", "estoi", "pesq_nb",
    "pesq_wb", "resample", "score", "sdr", "si_sdr_decomposition", "si_snr", "snr", "stoi",
    "usdr",
]

_EPS = 1e-30
USDR_EPS = 1e-7  # the MDX/SDX challenges' "delta", added to both energies of uSDR


def _array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of samples (got {type(x).__name__})")
    a = np.asarray(x)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name} must hold real numbers (got dtype {a.dtype})")
    a = a.astype(np.float64, copy=False)
    if a.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or Inf")
    return a


def _pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    r = _array(reference, "reference")
    e = _array(estimate, "estimate")
    if r.shape != e.shape:
        raise ValueError(f"reference and estimate must have the same shape ({r.shape} vs {e.shape})")
    return r, e


def _mono_pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    r, e = _pair(reference, estimate)
    if r.ndim == 2 and r.shape[0] == 1:
        r, e = r[0], e[0]
    if r.ndim != 1:
        raise ValueError(f"reference and estimate must be 1-D or (1, samples) (got shape {r.shape})")
    return r, e


def _sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
        raise TypeError(f"sample_rate must be a number (got {type(sample_rate).__name__})")
    if not (math.isfinite(sample_rate) and sample_rate == int(sample_rate)
            and 4000 <= sample_rate <= 384000):
        raise ValueError(f"sample_rate must be a whole number of Hz in [4000, 384000] "
                         f"(got {sample_rate})")
    return int(sample_rate)


def snr(reference: Any, estimate: Any) -> float:
    """Signal-to-noise ratio in dB: ``10 log10(|s|^2 / |s - s_hat|^2)``.

    Shape:
        reference and estimate: any, the same.
    """
    r, e = _pair(reference, estimate)
    return float(10 * np.log10(max(np.sum(r**2), _EPS) / max(np.sum((r - e) ** 2), _EPS)))


def si_snr(reference: Any, estimate: Any) -> float:
    """Scale-invariant SNR in dB (Le Roux et al. 2019, "SDR - half-baked or well done?").

    Both signals are made zero-mean; the target is the estimate's projection on the reference
    and everything else is noise, so scaling the estimate does not change the value.

    Shape:
        reference and estimate: any, the same (flattened).
    """
    r, e = _pair(reference, estimate)
    r = r.ravel() - r.mean()
    e = e.ravel() - e.mean()
    target = np.dot(e, r) / max(np.dot(r, r), _EPS) * r
    return float(10 * np.log10(max(np.sum(target**2), _EPS) / max(np.sum((e - target) ** 2), _EPS)))


def _zero_mean_rows(x: np.ndarray) -> np.ndarray:
    x = x.reshape(x.shape[0], -1)
    return x - x.mean(axis=1, keepdims=True)


def _si_decompose(refs: np.ndarray, gram: np.ndarray, est: np.ndarray,
                  target: int) -> dict[str, Any]:
    """The decomposition of ``si_sdr_decomposition`` from zero-mean flattened ``refs``
    ``(K, n)``, their Gram matrix ``refs @ refs.T`` and a zero-mean flattened ``est``."""
    b = refs @ est  # <est, s_k>
    # Least squares on the span of the references; a silent (or duplicate) reference gets no
    # weight rather than an undefined one.
    beta = np.linalg.lstsq(gram, b, rcond=None)[0]
    alpha = b[target] / gram[target, target]
    proj = beta @ refs
    e_target = float(alpha**2 * gram[target, target])
    e_interf = float(np.sum((proj - alpha * refs[target]) ** 2))
    e_artif = float(np.sum((est - proj) ** 2))
    leak = beta**2 * np.diag(gram)  # the energy each reference's share of P est carries

    def db(num: float, den: float) -> float:
        return float(10 * np.log10(max(num, _EPS) / max(den, _EPS)))

    return {"si_sdr": db(e_target, e_interf + e_artif), "si_sir": db(e_target, e_interf),
            "si_sar": db(e_target, e_artif),
            "leak_db": np.array([db(v, e_target) if i != target and e_target > _EPS else np.nan
                                 for i, v in enumerate(leak)])}


def si_sdr_decomposition(references: Any, estimate: Any, target: int) -> dict[str, Any]:
    """Where a separated stem's error comes from: SI-SDR split into interference from the
    other stems (SI-SIR) and artefacts (SI-SAR), as in Le Roux et al. 2019 ("SDR - half-baked
    or well done?", section 3), plus the leak of each other stem.

    All signals are made zero-mean and flattened (every channel with one gain, as
    ``si_snr``). The estimate ``e`` is projected on the span of all the references,
    ``P e = sum_k beta_k s_k`` (least squares); with ``alpha = <e, s_t> / |s_t|^2`` the
    SI-SDR scale of the target ``s_t``::

        e_target = alpha s_t        e_interf = P e - e_target        e_artif = e - P e
        SI-SDR = 10 log10(|e_target|^2 / |e_interf + e_artif|^2)     (= si_snr)
        SI-SIR = 10 log10(|e_target|^2 / |e_interf|^2)
        SI-SAR = 10 log10(|e_target|^2 / |e_artif|^2)

    ``e_interf`` and ``e_artif`` are orthogonal, so ``10^(-SI-SDR/10) = 10^(-SI-SIR/10) +
    10^(-SI-SAR/10)``: the two ratios share the SI-SDR's error between them. ``leak_db[k]``
    is the energy of ``beta_k s_k``, the part of the estimate that is stem ``k``, relative to
    ``|e_target|^2`` (NaN at ``target``, and everywhere when the estimate holds none of the
    target; very negative for a stem that does not leak or is silent). An estimate inside the
    span has ``SI-SAR`` of about +300 dB (the floor of the energies, 1e-30).

    Args:
        references: the true stems, stacked: ``(stems, ...)``.
        estimate: the estimate of stem ``target``, shaped like one reference.
        target: which reference the estimate is of.

    Returns:
        ``{"si_sdr", "si_sir", "si_sar": float dB, "leak_db": float64 (stems,) dB}``.

    Shape:
        references: ``(stems, ...)``, each stem any shape; estimate: ``references.shape[1:]``.
    """
    refs = _array(references, "references")
    est = _array(estimate, "estimate")
    if refs.ndim < 2:
        raise ValueError(f"references must be stacked stems, (stems, samples...) "
                         f"(got shape {refs.shape})")
    if est.shape != refs.shape[1:]:
        raise ValueError(f"estimate must have one reference's shape {refs.shape[1:]} "
                         f"(got {est.shape})")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"target must be an integer (got {type(target).__name__})")
    if not 0 <= target < refs.shape[0]:
        raise ValueError(f"target must be in [0, {refs.shape[0]}) (got {target})")
    r = _zero_mean_rows(refs)
    e = est.ravel() - est.mean()
    if not np.any(r[target]):
        raise ValueError("references[target] is constant (silent); SI-SDR is undefined")
    return _si_decompose(r, r @ r.T, e, int(target))


def _next_pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(n)))


def _sdr_projection(r: np.ndarray, e: np.ndarray, filter_length: int) -> np.ndarray:
    """The least-squares projection of the zero-padded estimate on the span of the reference
    delayed by 0..filter_length-1 samples (mir_eval's ``_project`` for one source)."""
    n, flen = r.size, filter_length
    n_fft = _next_pow2(n + flen - 1)
    rf = np.fft.rfft(r, n_fft)
    ef = np.fft.rfft(e, n_fft)
    auto = np.fft.irfft(rf * np.conj(rf), n_fft)[:flen]  # <r(t), r(t - k)>, k = 0..flen-1
    cross = np.fft.irfft(ef * np.conj(rf), n_fft)[:flen]  # <e(t), r(t - k)>
    import scipy.linalg

    # The Gram matrix of the delayed references is symmetric Toeplitz: Levinson-Durbin solves
    # it in O(flen^2); an (almost) singular one falls back to least squares, as in mir_eval.
    gram = scipy.linalg.toeplitz(auto)
    try:
        coef = scipy.linalg.solve_toeplitz(auto, cross)
        ok = np.all(np.isfinite(coef)) and (np.linalg.norm(gram @ coef - cross)
                                            <= 1e-8 * max(np.linalg.norm(cross), _EPS))
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        ok = False
    if not ok:
        coef = np.linalg.lstsq(gram, cross, rcond=None)[0]
    return np.fft.irfft(np.fft.rfft(coef, n_fft) * rf, n_fft)[: n + flen - 1]


def sdr(reference: Any, estimate: Any, *, filter_length: int = 512) -> float:
    """BSS-eval signal-to-distortion ratio in dB for one source (Vincent et al. 2006).

    The estimate (zero-padded by ``filter_length - 1``) is split into the target, its
    least-squares projection on the reference passed through any FIR filter of
    ``filter_length`` taps (so a gain, a short delay or a spectral tilt is not an error), and
    the rest; ``SDR = 10 log10(|target|^2 / |estimate - target|^2)``. This is
    ``mir_eval.separation.bss_eval_sources`` (and museval's v3 SDR) for a single source, which
    has no interference term. A reference made only of a few sinusoids makes the projection
    ill-posed (the least-squares solution is used then).

    Args:
        reference: the clean signal.
        estimate: the signal to score.
        filter_length: distortion filter taps (512 as in mir_eval), at most the signal length.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``.
    """
    r, e = _mono_pair(reference, estimate)
    if isinstance(filter_length, bool) or not isinstance(filter_length, numbers.Integral):
        raise TypeError(f"filter_length must be an integer (got {type(filter_length).__name__})")
    if not 1 <= filter_length <= r.size:
        raise ValueError(f"filter_length must be in [1, {r.size}] (the signal length) "
                         f"(got {filter_length})")
    if not np.any(r):
        raise ValueError("reference is all zeros; SDR is undefined")
    target = _sdr_projection(r, e, int(filter_length))
    err = -target
    err[: e.size] += e
    return float(10 * np.log10(max(np.sum(target**2), _EPS) / max(np.sum(err**2), _EPS)))


def usdr(reference: Any, estimate: Any) -> float:
    """Utterance-level SDR in dB, as scored in the Music Demixing Challenge 2021 and the Sound
    Demixing Challenge 2023 ("global SDR"; uSDR in the BSRNN paper)::

        10 log10((sum(s^2) + 1e-7) / (sum((s - s_hat)^2) + 1e-7))

    summed over all channels and samples of one stem of one song, with ``delta = 1e-7`` added
    to both sums (``USDR_EPS``) exactly as in the challenges' evaluator, on float audio of full
    scale 1. No distortion filter and no chunking: it is the SNR of the whole stem, finite even
    for a perfect estimate (``10 log10((sum(s^2) + 1e-7) / 1e-7)``, some 120 dB for a 4-minute
    stereo stem at -20 dBFS RMS) and 0 dB for a silent reference with a silent estimate. The
    challenges average it over songs (and then over stems).

    Shape:
        reference and estimate: any, the same (e.g. ``(channels, samples)``).
    """
    r, e = _pair(reference, estimate)
    num = float(np.sum(r**2)) + USDR_EPS
    den = float(np.sum((r - e) ** 2)) + USDR_EPS
    return float(10 * np.log10(num / den))


def _chunk_length(sample_rate: Any, chunk_seconds: Any) -> int:
    sr = _sample_rate(sample_rate)
    if isinstance(chunk_seconds, bool) or not isinstance(chunk_seconds, numbers.Real):
        raise TypeError(f"chunk_seconds must be a number (got {type(chunk_seconds).__name__})")
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0 and int(chunk_seconds * sr) >= 1):
        raise ValueError(f"chunk_seconds must be > 0 and at least one sample long "
                         f"(got {chunk_seconds})")
    return int(chunk_seconds * sr)


def _multichannel_pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    r, e = _pair(reference, estimate)
    if r.ndim == 1:
        r, e = r[None], e[None]
    if r.ndim != 2:
        raise ValueError(f"reference and estimate must be (samples,) or (channels, samples) "
                         f"(got shape {r.shape})")
    return r, e


def chunk_sdr(reference: Any, estimate: Any, sample_rate: int, *,
              chunk_seconds: float = 1.0) -> np.ndarray:
    """The museval (BSS-eval v4) SDR of one stem in each chunk of ``chunk_seconds``, in dB.

    This is ``museval.evaluate`` / ``eval_mus_track`` (``mode="v4"``, ``win = hop = 1 s``)
    for one target: chunks of ``int(chunk_seconds * sample_rate)`` samples without overlap,
    ``floor(samples / chunk)`` of them (a trailing partial chunk is not scored; a signal
    shorter than one chunk is one chunk), and in each::

        SDR = 10 log10(sum(s^2) / sum((s_hat - s)^2))

    over the chunk's samples and channels. That is exactly museval's v4 SDR: museval's
    "images" decomposition (``bsseval_sources_version=False``, what SiSEC reports) splits the
    estimate into ``s_true + e_spat + e_interf + e_artif``, where ``s_true`` is the reference
    itself and the three errors, made with the time-invariant 512-tap multichannel distortion
    filters fitted on the whole track, add up to ``s_hat - s_true``; the SDR is
    ``|s_true|^2 / |e_spat + e_interf + e_artif|^2``, so the filters cancel out of it (they
    only shape ISR, SIR and SAR: ``bss_eval_images`` computes those). The values agree with museval
    to float rounding (tests/eval/test_separation_metrics.py checks this against museval
    when it is installed).

    A chunk whose reference or estimate is digital silence (every sample of every channel
    exactly 0) is NaN, as in museval, and a perfect chunk is ``+inf``. Two differences from
    museval remain, both outside this function's scope: museval scores all targets of a song
    together and marks a chunk NaN for every target when *any* target's reference or estimate
    is silent in it (``hushboard.eval.separation`` applies that joint rule); and museval calls
    a source silent when the sum over its channels is 0 at every sample, so an exactly
    anti-phase stereo chunk (left = -right) counts as silent there but not here.

    Args:
        reference: the true stem.
        estimate: the separated stem, aligned with it.
        sample_rate: in Hz (sets the chunk length).
        chunk_seconds: chunk length (1 s as in museval/SiSEC).

    Returns:
        float64 array, one SDR per chunk (NaN: silent chunk, inf: perfect chunk).

    Shape:
        reference and estimate: ``(samples,)`` or ``(channels, samples)`` (channels first,
        unlike museval's ``(samples, channels)``).
    """
    r, e = _multichannel_pair(reference, estimate)
    chunk = _chunk_length(sample_rate, chunk_seconds)
    n = r.shape[1]
    if chunk >= n:
        chunk, count = n, 1
    else:
        count = n // chunk
    r = r[:, : count * chunk].reshape(r.shape[0], count, chunk)
    e = e[:, : count * chunk].reshape(e.shape[0], count, chunk)
    num = np.sum(r**2, axis=(0, 2))
    den = np.sum((e - r) ** 2, axis=(0, 2))
    silent = ~np.any(r, axis=(0, 2)) | ~np.any(e, axis=(0, 2))
    with np.errstate(divide="ignore"):
        out = 10 * np.log10(num / np.where(den > 0, den, 1.0))
    out[den == 0] = np.inf
    out[silent] = np.nan
    return out


def csdr(reference: Any, estimate: Any, sample_rate: int, *,
         chunk_seconds: float = 1.0) -> float:
    """Chunk-level SDR in dB (cSDR in the BSRNN paper): the median over chunks of
    ``chunk_sdr``, skipping the silent (NaN) chunks, as museval's ``TrackStore`` aggregates a
    track (``np.nanmedian``). SiSEC 2018 then reports the median of this over songs.

    Returns NaN when no chunk can be scored (the reference or the estimate is digital silence
    throughout); a perfect estimate gives ``+inf``. See ``chunk_sdr`` for the definition and
    how it relates to museval.

    Args:
        reference: the true stem.
        estimate: the separated stem, aligned with it.
        sample_rate: in Hz.
        chunk_seconds: chunk length (1 s as in museval/SiSEC).

    Shape:
        reference and estimate: ``(samples,)`` or ``(channels, samples)``.
    """
    values = chunk_sdr(reference, estimate, sample_rate, chunk_seconds=chunk_seconds)
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else float("nan")


def _spd_solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``(gram + eps I)^-1 rhs`` as museval's distortion filters solve it (eps: float64's
    machine epsilon): by Cholesky, by LU where the matrix is not numerically positive definite
    (references with few degrees of freedom, such as pure tones, whose delays are nearly
    collinear), and by least squares on ``gram`` where it is singular, as museval falls back
    from ``solve``."""
    import scipy.linalg

    reg = gram + np.finfo(np.float64).eps * np.eye(gram.shape[0])
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(reg, check_finite=False), rhs,
                                      check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # ill-conditioned
            return scipy.linalg.solve(reg, rhs, check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


_CORR_BATCH = 1 << 22  # complex spectrum values per batch of _lag_correlations (64 MB)


def _lag_correlations(z: np.ndarray, x: np.ndarray, max_lag: int) -> np.ndarray:
    """``c[i, p, max_lag - 1 + m] = sum_t z_i(t + m) x_p(t)`` for ``|m| < max_lag`` (signals
    zero outside ``[0, n)``), float64 ``(Z, P, 2 max_lag - 1)``: blockwise FFT correlations,
    summed over blocks, so the cost is linear in ``n``, the transforms stay short and no
    padded copy of the signals is made."""
    nz, n = z.shape
    span = 2 * max_lag - 2
    n_fft = _next_pow2(max(4 * span, 1024))
    block = n_fft - span
    count = -(-n // block)
    acc = np.zeros((n_fft // 2 + 1, nz, x.shape[0]), np.complex128)
    group = max(1, _CORR_BATCH // (n_fft * nz))  # blocks per batch: ~64 MB of spectra
    for b0 in range(0, count, group):
        b1 = min(count, b0 + group)
        # z from max_lag - 1 samples before the batch to as many after it, zero outside
        lo, hi = b0 * block - (max_lag - 1), b1 * block + max_lag - 1
        seg = np.zeros((nz, hi - lo))
        seg[:, max(0, -lo): min(n, hi) - lo] = z[:, max(0, lo): min(n, hi)]
        zb = np.lib.stride_tricks.sliding_window_view(seg, block + span, axis=1)[:, ::block]
        xb = np.zeros((x.shape[0], (b1 - b0) * block))
        xb[:, : min(n, b1 * block) - b0 * block] = x[:, b0 * block: b1 * block]
        zf = np.fft.rfft(zb, n_fft)  # (Z, blocks, F): z over each block and its lags
        xf = np.fft.rfft(xb.reshape(x.shape[0], b1 - b0, block), n_fft)
        acc += np.matmul(zf.transpose(2, 0, 1), np.conj(xf).transpose(2, 1, 0))
    out = np.fft.irfft(acc.transpose(1, 2, 0), n_fft)  # (Z, P, n_fft)
    return out[..., : span + 1]


def bss_eval_images(references: Any, estimates: Any, sample_rate: int, *,
                    chunk_seconds: float = 1.0, filter_length: int = 512
                    ) -> dict[str, np.ndarray]:
    """museval's BSS-eval v4 "images" measures of every stem per chunk: SDR, ISR, SIR, SAR.

    This is what SiSEC 2018 reports (``museval.metrics.bss_eval`` with ``window = hop = 1 s``,
    ``filters_len=512``, ``framewise_filters=False``, ``bsseval_sources_version=False``),
    for stems in hushboard's channels-first layout. Every reference channel ``x_{k,c}`` and
    its delays by ``0 .. filter_length - 1`` samples span the space the estimates are
    projected on. The filters are fitted once on the whole signals (least squares on the
    Gram matrix of the delayed references, regularised by float64's epsilon as in museval):

    * ``P_all`` projects estimate ``j`` (each of its channels) on all the stems' channels
      and delays;
    * ``P_own`` projects it on stem ``j``'s own channels and delays only.

    Then, in each chunk of ``int(chunk_seconds * sample_rate)`` samples (no overlap; a
    trailing partial chunk is not scored; a signal shorter than one chunk is one chunk), the
    chunk of every reference is passed through those filters (zero-padded by
    ``filter_length - 1`` samples, as museval does), and with ``s`` the reference's chunk and
    ``e`` the estimate's::

        SDR = 10 log10(|s|^2 / |e - s|^2)                 (= chunk_sdr)
        ISR = 10 log10(|s|^2 / |P_own - s|^2)             image to spatial (filtering) distortion
        SIR = 10 log10(|P_own|^2 / |P_all - P_own|^2)      source to interference
        SAR = 10 log10(|P_all|^2 / |e - P_all|^2)          source to artefacts

    A zero denominator is ``+inf``. A chunk where any stem's reference or estimate is digital
    silence (every sample of every channel exactly 0) is NaN for every stem, museval's joint
    rule (museval tests the sum over channels, so an exactly anti-phase stereo chunk is
    silent there but not here); a stem silent throughout makes every chunk NaN (museval
    refuses such a signal). ``hushboard eval --task separation --bss-eval`` reports the
    medians over chunks of ISR, SIR and SAR beside the cSDR.

    Cost: one Cholesky factorisation of a ``(stems * channels * filter_length)``-square
    matrix (4096 for four stereo stems) plus FFT correlations, linear in the length: a few
    seconds for a 30-s song on two cores (museval solves it once per stem).

    Args:
        references: the true stems.
        estimates: the separated stems, aligned with them, in the same order.
        sample_rate: in Hz (sets the chunk length).
        chunk_seconds: chunk length (1 s as in museval/SiSEC).
        filter_length: distortion filter taps (512 as in museval), at most the signal length.

    Returns:
        ``{"sdr", "isr", "sir", "sar"}``: float64 ``(stems, chunks)`` arrays, dB.

    Shape:
        references and estimates: ``(stems, channels, samples)``, or ``(stems, samples)``
        for mono stems.
    """
    refs = _array(references, "references")
    ests = _array(estimates, "estimates")
    if refs.shape != ests.shape:
        raise ValueError(f"references and estimates must have the same shape "
                         f"({refs.shape} vs {ests.shape})")
    if refs.ndim == 2:
        refs, ests = refs[:, None], ests[:, None]
    if refs.ndim != 3:
        raise ValueError(f"references and estimates must be (stems, samples) or "
                         f"(stems, channels, samples) (got shape {refs.shape})")
    chunk = _chunk_length(sample_rate, chunk_seconds)
    n_src, n_ch, n = refs.shape
    if isinstance(filter_length, bool) or not isinstance(filter_length, numbers.Integral):
        raise TypeError(f"filter_length must be an integer (got {type(filter_length).__name__})")
    if not 1 <= filter_length <= n:
        raise ValueError(f"filter_length must be in [1, {n}] (the signal length) "
                         f"(got {filter_length})")
    flen = int(filter_length)
    if chunk >= n:
        chunk, count = n, 1
    else:
        count = n // chunk
    r = refs[..., : count * chunk].reshape(n_src, n_ch, count, chunk)
    e = ests[..., : count * chunk].reshape(n_src, n_ch, count, chunk)
    silent = (~np.any(r, axis=(1, 3)) | ~np.any(e, axis=(1, 3))).any(axis=0)  # (chunks,)
    out = {k: np.full((n_src, count), np.nan) for k in ("sdr", "isr", "sir", "sar")}
    if silent.all():
        return out

    def db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            v = 10 * np.log10(num / np.where(den > 0, den, 1.0))
        return np.where(den > 0, v, np.inf)

    # Gram matrix of the delayed reference channels and their correlations with the estimates:
    # row (p, a) is channel p = (stem, channel) delayed by a samples.
    P = n_src * n_ch
    x = refs.reshape(P, n)
    lags = np.arange(flen)
    # <x_p(t - a), x_q(t - b)> = c[p, q, b - a]
    c = _lag_correlations(x, x, flen)
    gram = c[:, :, (flen - 1) + lags[None, :] - lags[:, None]].transpose(0, 2, 1, 3)
    # d[(p, a), (j, c)] = <x_p(t - a), e_{j,c}(t)> = c[(j, c), p, a]
    d = _lag_correlations(ests.reshape(P, n), x, flen)[:, :, flen - 1:].transpose(1, 2, 0)
    size = P * flen
    coef_all = _spd_solve(gram.reshape(size, size), d.reshape(size, P)).reshape(P, flen, P)
    coef_own = np.empty((n_src, n_ch, flen, n_ch))
    own = n_ch * flen
    for j in range(n_src):
        rows = slice(j * n_ch, (j + 1) * n_ch)
        g = gram[rows, :, rows, :].reshape(own, own)
        coef_own[j] = _spd_solve(g, d[rows, :, rows].reshape(own, n_ch)).reshape(n_ch, flen,
                                                                                 n_ch)

    # Per chunk: the chunk of every reference through the filters, zero-padded by flen - 1.
    m = chunk + flen - 1
    m_fft = _next_pow2(m)
    h_all = np.fft.rfft(coef_all, m_fft, axis=1)  # (P in, F, P out = (stem, channel))
    h_own = np.fft.rfft(coef_own, m_fft, axis=2)  # (stem, ch in, F, ch out)
    h_all = np.ascontiguousarray(h_all.transpose(2, 0, 1))  # (out, in, F)
    h_own = np.ascontiguousarray(h_own.transpose(0, 3, 1, 2))  # (stem, ch out, ch in, F)

    def energy(v: np.ndarray) -> np.ndarray:  # per stem, over its channels and samples
        return np.sum(v.reshape(n_src, -1) ** 2, axis=1)

    for w in np.flatnonzero(~silent):
        rw = r[:, :, w].reshape(P, chunk)
        rwf = np.fft.rfft(rw, m_fft)
        p_all = np.fft.irfft(np.einsum("oif,if->of", h_all, rwf), m_fft)[:, :m]
        p_own = np.fft.irfft(np.einsum("jocf,jcf->jof", h_own, rwf.reshape(n_src, n_ch, -1)),
                             m_fft)[..., :m].reshape(P, m)
        spat = p_own.copy()  # P_own - s, s zero-padded by flen - 1
        spat[:, :chunk] -= rw
        artif = -p_all  # e - P_all, e zero-padded likewise
        artif[:, :chunk] += e[:, :, w].reshape(P, chunk)
        out["isr"][:, w] = db(energy(rw), energy(spat))
        out["sir"][:, w] = db(energy(p_own), energy(p_all - p_own))
        out["sar"][:, w] = db(energy(p_all), energy(artif))
    # the SDR needs no filters: it is chunk_sdr's, with the joint silence rule
    out["sdr"] = np.stack([chunk_sdr(refs[j], ests[j], sample_rate, chunk_seconds=chunk_seconds)
                           for j in range(n_src)])
    out["sdr"][:, silent] = np.nan
    return out


def resample(audio: Any, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``: a Kaiser-windowed FIR applied with
    its delay compensated, so the output stays aligned with the input).

    Shape:
        ``(..., samples)`` -> ``(..., ceil(samples * to_rate / from_rate))``, float64.
    """
    from scipy.signal import resample_poly

    a = _array(audio, "audio")
    f, t = _sample_rate(from_rate), _sample_rate(to_rate)
    if f == t:
        return a.copy()
    g = math.gcd(f, t)
    return resample_poly(a, t // g, f // g, axis=-1)


def _pesq(r: np.ndarray, e: np.ndarray, sample_rate: int, mode: str) -> float:
    try:
        from pesq import PesqError, pesq
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ImportError("PESQ needs the pesq package: pip install pesq") from exc
    rate = 16000 if mode == "wb" else 8000
    if sample_rate != rate:
        r, e = resample(r, sample_rate, rate), resample(e, sample_rate, rate)
    if r.size < rate // 4:
        raise ValueError(f"reference must be at least 0.25 s long for PESQ (got "
                         f"{r.size / rate:.3f} s)")
    try:
        return float(pesq(rate, r, e, mode))
    except PesqError as exc:  # e.g. no utterance found in a silent reference
        raise ValueError(f"PESQ ({mode}) cannot score this pair: {type(exc).__name__}: {exc}") from None


def pesq_wb(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Wide-band PESQ (ITU-T P.862.2) MOS-LQO, about 1.04 (bad) to 4.64 (identical).

    The signals are resampled to 16 kHz when ``sample_rate`` differs. PESQ wants speech with
    pauses; a silent reference raises ``ValueError``.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``, at least 0.25 s.
    """
    r, e = _mono_pair(reference, estimate)
    return _pesq(r, e, _sample_rate(sample_rate), "wb")


def pesq_nb(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Narrow-band PESQ (ITU-T P.862 with the P.862.1 MOS-LQO mapping), about 1.0 to 4.55.

    The signals are resampled to 8 kHz when ``sample_rate`` differs.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``, at least 0.25 s.
    """
    r, e = _mono_pair(reference, estimate)
    return _pesq(r, e, _sample_rate(sample_rate), "nb")


def _stoi(reference: Any, estimate: Any, sample_rate: int, extended: bool) -> float:
    try:
        from pystoi import stoi as _pystoi
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ImportError("STOI needs the pystoi package: pip install pystoi") from exc
    r, e = _mono_pair(reference, estimate)
    sr = _sample_rate(sample_rate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_pystoi(r, e, sr, extended=extended))
    for w in caught:
        if "Not enough STFT frames" in str(w.message):
            raise ValueError("reference has too little active speech for STOI (it needs about "
                             "30 frames of 25.6 ms above the silence threshold, ~0.4 s)")
    return value


def stoi(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), 0..1 (1: identical).

    Computed by ``pystoi`` at 10 kHz after removing silent frames of the reference.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``, about 0.4 s of speech at
        least.
    """
    return _stoi(reference, estimate, sample_rate, False)


def estoi(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Extended STOI (Jensen & Taal 2016), also robust to modulated noise; 1 for identical
    signals, lower (down to slightly negative) otherwise.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``.
    """
    return _stoi(reference, estimate, sample_rate, True)


# name -> (function(reference, estimate, sample_rate), label for tables); higher is better for all
METRICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray, int], float], str]] = {
    "si_snr": (lambda r, e, sr: si_snr(r, e), "SI-SNR"),
    "snr": (lambda r, e, sr: snr(r, e), "SNR"),
    "sdr": (lambda r, e, sr: sdr(r, e), "SDR"),
    "pesq_wb": (pesq_wb, "WB-PESQ"),
    "pesq_nb": (pesq_nb, "NB-PESQ"),
    "stoi": (stoi, "STOI"),
    "estoi": (estoi, "eSTOI"),
}


def score(reference: Any, estimate: Any, sample_rate: int,
          metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Several metrics at once.

    Args:
        reference: the clean signal.
        estimate: the signal to score, aligned with the reference.
        sample_rate: in Hz.
        metrics: names from ``METRICS`` (default: all of them).

    Returns:
        ``{name: value}`` in the order asked.

    Shape:
        reference and estimate: ``(samples,)`` or ``(1, samples)``.
    """
    names = list(METRICS) if metrics is None else list(metrics)
    unknown = [m for m in names if m not in METRICS]
    if unknown or not names:
        raise ValueError(f"metrics must be names from {', '.join(METRICS)} (got {names!r})")
    r, e = _mono_pair(reference, estimate)
    sr = _sample_rate(sample_rate)
    return {m: METRICS[m][0](r, e, sr) for m in names}
