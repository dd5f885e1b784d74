"""Training losses: the denoisers' (SI-SNR and a multi-resolution STFT magnitude loss) and the
music separator's (per-stem SDR and the same spectral loss)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from hushboard.models.dccrn import si_snr_loss  # DCCRN's loss, shared

__all__ = ["MUSIC_RESOLUTIONS", "denoise_loss", "mrstft_loss", "sdr_loss", "separation_loss",
           "si_snr_loss"]


def mrstft_loss(estimate: Tensor, reference: Tensor,
                resolutions: Sequence[tuple[int, int]] = ((512, 128), (1024, 256), (256, 64)),
                eps: float = 1e-7) -> Tensor:
    """Multi-resolution STFT magnitude loss (Yamamoto et al., Parallel WaveGAN): per
    resolution, spectral convergence ``|| |Y| - |X| ||_F / || |X| ||_F`` plus the L1 distance of
    log magnitudes; the mean over resolutions (Hann windows, ``(n_fft, hop)`` pairs).

    Shape:
        ``(batch, time)`` or ``(time,)`` for both.
    """
    if estimate.shape != reference.shape:
        raise ValueError(f"estimate and reference shapes differ: {tuple(estimate.shape)} vs "
                         f"{tuple(reference.shape)}")
    total = estimate.new_zeros(())
    for n_fft, hop in resolutions:
        window = torch.hann_window(n_fft, device=estimate.device, dtype=estimate.dtype)

        def mag(x: Tensor) -> Tensor:
            spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)
            return torch.sqrt(spec.real ** 2 + spec.imag ** 2 + eps)

        y, x = mag(estimate), mag(reference)
        sc = torch.linalg.vector_norm(y - x) / (torch.linalg.vector_norm(x) + eps)
        logmag = (torch.log(y) - torch.log(x)).abs().mean()
        total = total + sc + logmag
    return total / len(resolutions)


def denoise_loss(estimate: Tensor, reference: Tensor, mrstft_weight: float = 1.0) -> Tensor:
    """The denoisers' training loss: ``si_snr_loss + mrstft_weight * mrstft_loss`` (SI-SNR
    alone is blind to overall level; the spectral term keeps level and fine structure)."""
    loss = si_snr_loss(estimate, reference)
    if mrstft_weight:
        loss = loss + mrstft_weight * mrstft_loss(estimate, reference)
    return loss


# STFT resolutions of the separator's spectral loss at 44.1 kHz (the denoisers' doubled)
MUSIC_RESOLUTIONS = ((2048, 512), (1024, 256), (512, 128))


def sdr_loss(estimate: Tensor, reference: Tensor, eps: Tensor | float,
             weights: Tensor | None = None) -> Tensor:
    """Negative SDR, ``-10 log10((sum r^2 + eps) / (sum (r - e)^2 + eps))`` over the last two
    axes (channels, time), averaged over the rest. ``eps`` (a float, or a tensor broadcasting
    over the leading axes) keeps a silent reference finite: there the loss is
    ``10 log10(1 + leak / eps)``, the leaked energy relative to ``eps``. ``weights``
    (broadcasting over the leading axes, e.g. one per stem) makes it a weighted mean, each
    term scaled by its weight over the weights' mean, so equal weights change nothing.

    Shape:
        ``(..., channels, time)`` for both; ``eps`` a float or ``(...)``.
    """
    if estimate.shape != reference.shape:
        raise ValueError(f"estimate and reference shapes differ: {tuple(estimate.shape)} vs "
                         f"{tuple(reference.shape)}")
    num = reference.pow(2).sum((-2, -1)) + eps
    den = (reference - estimate).pow(2).sum((-2, -1)) + eps
    sdr = 10 * torch.log10(num / den)
    if weights is not None:
        w = torch.broadcast_to(weights.to(sdr), sdr.shape)
        return -(sdr * w).sum() / w.sum()
    return -sdr.mean()


SDR_FLOORS = ("mix", "fade")


def _sdr_floor(reference: Tensor, mix: Tensor, silence_db: float, floor: str) -> Tensor:
    """``separation_loss``'s ``eps`` per item and stem, ``(batch, stems)``: the mix's energy
    ``silence_db`` down, shared by the stems, faded out by a playing stem's own energy for
    ``floor="fade"``."""
    eps = mix.pow(2).sum((-2, -1)) * 10 ** (silence_db / 10) / reference.shape[1] + 1e-8
    eps = eps[:, None]
    if floor == "fade":
        energy = reference.detach().pow(2).sum((-2, -1))
        eps = eps * (eps / (eps + energy)) ** 2 + 1e-3 * energy
    return eps


def separation_loss(estimate: Tensor, reference: Tensor, mix: Tensor,
                    mrstft_weight: float = 1.0, silence_db: float = -10.0,
                    stem_weights: Sequence[float] | None = None, floor: str = "mix",
                    chunk: int | None = None) -> Tensor:
    """The separator's training loss: per-stem negative SDR plus ``mrstft_weight`` times the
    multi-resolution STFT loss over all stems and channels. The SDR's ``eps`` is the mix's
    energy ``silence_db`` down, divided among the stems, so a stem that is silent in the
    segment costs 3 dB when the model leaks that much into it.

    ``eps`` balances two pulls: on a silent stem the loss grows like leak / eps, on a playing
    one like error / stem energy. At -30 dB the silent segments' pull was so much stronger that
    a trial run's vocals head learned to output nothing (vocals rest in intros, breaks and
    instrumental songs); at -10 dB (the default) a leak 20 dB under the mix pulls about as hard
    as a 20 dB error on a playing stem of a quarter of the mix's energy. The price is a cap on
    the SDR the loss still rewards: about 10 dB for such a stem (7 dB for a tenth of the mix).

    ``floor="fade"`` keeps that floor for silent stems and fades it out as a stem's energy
    ``E`` grows past it: ``eps = e * (e / (e + E))**2 + 1e-3 * E``, ``e`` the floor above. A
    silent stem costs what it did; a stem of a quarter of the mix's energy now has a cap of
    27 dB instead of 10 (one of a tenth: 20 dB instead of 7), and its gradient is no longer
    damped by ``error / (error + eps)``. On training segments, the shipped music separator
    (SDRs of 7 to 10 dB) had reached the ``"mix"`` floor: it damped the playing stems'
    gradients to 0.43-0.70 of an undamped SDR's, and capped their reward at 9-11 dB, under
    the oracle IRM's 11-12 dB.

    ``stem_weights`` (one positive number per stem, in the model's stem order) weights the
    stems' SDR terms, to spend more of a shared trunk on the stems that lag; the MR-STFT term
    stays unweighted. ``None`` or equal weights: the plain mean.

    ``chunk`` (samples) scores the SDR per chunk, as cSDR does (museval's 1 s windows), and
    averages the chunks: the segment's ``T`` samples are cut into ``max(1, T // chunk)``
    consecutive pieces of near-equal length (``torch.tensor_split``), each with its own floor
    from its own mix and stem energies. A segment-wide SDR weighs a chunk by its error energy,
    so a quiet passage counts for little however badly it is separated; per chunk, every
    chunk counts the same in dB, as in the median of chunk SDRs that cSDR reports. ``None``
    (the default): one SDR over the whole segment. The MR-STFT term is always segment-wide.

    Shape:
        estimate, reference ``(batch, stems, channels, time)``; mix ``(batch, channels, time)``.
    """
    if estimate.dim() != 4 or mix.dim() != 3 or mix.shape != estimate.shape[:1] + estimate.shape[2:]:
        raise ValueError(f"expected estimate (B, S, C, T) and mix (B, C, T) (got "
                         f"{tuple(estimate.shape)} and {tuple(mix.shape)})")
    if floor not in SDR_FLOORS:
        raise ValueError(f"floor must be one of {SDR_FLOORS} (got {floor!r})")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"chunk must be a positive number of samples or None (got {chunk!r})")
    weights = None
    if stem_weights is not None:
        weights = torch.as_tensor(tuple(stem_weights), dtype=estimate.dtype,
                                  device=estimate.device)
        if weights.shape != (estimate.shape[1],) or not bool(torch.all(weights > 0)) \
                or not bool(torch.all(torch.isfinite(weights))):
            raise ValueError(f"stem_weights must be {estimate.shape[1]} positive finite numbers, "
                             f"one per stem (got {tuple(stem_weights)})")
    pieces = 1 if chunk is None else max(1, estimate.shape[-1] // chunk)
    loss = estimate.new_zeros(())
    for est, ref, mx in zip(estimate.tensor_split(pieces, -1), reference.tensor_split(pieces, -1),
                            mix.tensor_split(pieces, -1), strict=True):
        loss = loss + sdr_loss(est, ref, _sdr_floor(ref, mx, silence_db, floor), weights)
    loss = loss / pieces
    if mrstft_weight:
        t = estimate.shape[-1]
        loss = loss + mrstft_weight * mrstft_loss(estimate.reshape(-1, t),
                                                  reference.reshape(-1, t), MUSIC_RESOLUTIONS)
    return loss
