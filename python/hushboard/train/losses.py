"""Training losses for the denoisers: SI-SNR and a multi-resolution STFT magnitude loss."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from hushboard.models.dccrn import si_snr_loss  # DCCRN's loss, shared

__all__ = ["denoise_loss", "mrstft_loss", "si_snr_loss"]


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
