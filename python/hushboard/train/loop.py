"""The training loop of hushboard's denoisers (DCCRN and BSRNN presets) and of its music
separator (the multi-stem BSRNN presets; items ``(mix, stems)`` from
:class:`hushboard.data.music.StemDataset`, loss per-stem SDR + MR-STFT, validation uSDR).

Steps, not epochs, drive it: step ``s`` draws batch ``s % batches_per_epoch`` of epoch
``s // batches_per_epoch`` from a permutation seeded by ``(seed, epoch)``, and the dataset mixes
each item from ``(seed, split, epoch, index)``; so a run resumed from a checkpoint (model,
optimiser, schedule, step) sees exactly the batches the uninterrupted run would have.

Per step: AdamW, linear warm-up then cosine decay, gradient clipping, bfloat16 autocast on CUDA
(full float32 on CPU). Every ``valid_every`` steps the fixed validation set is scored (loss,
SI-SNR and its gain over the noisy input) and a row goes to ``log.csv``; every
``checkpoint_every`` steps ``checkpoint.pt`` is rewritten. At the end the model is exported as
``model.safetensors`` with ``MODEL_CARD.md`` and ``curves.png``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from hushboard.train.losses import SDR_FLOORS, denoise_loss, separation_loss, si_snr_loss

__all__ = ["TrainConfig", "build_model", "init_weights", "is_separator", "train"]


@dataclass
class TrainConfig:
    """Options of a training run.

    Attributes:
        model: a preset name of ``hushboard.models.CONFIGS`` (DCCRN) or ``BSRNN_CONFIGS``.
        arch: overrides of scalar fields of the preset's config (``build_model``), e.g.
            ``{"num_layers": 6}``; ``None``: the preset as it is.
        steps: optimiser steps in total.
        batch_size: mixtures per step.
        segment_seconds: length of each training mixture.
        lr, weight_decay, warmup_steps, min_lr_ratio: AdamW and the schedule (linear warm-up,
            then cosine decay to ``lr * min_lr_ratio``).
        clip_grad: gradient norm clipping (0: off).
        mrstft_weight: weight of the multi-resolution STFT loss beside SI-SNR.
        stem_weights: separators only: one positive weight per stem (the model's stem order)
            for the per-stem SDR terms of the loss; ``None``: all equal.
        sdr_floor: separators only: the SDR loss's floor, ``"mix"`` (the mix's energy 10 dB
            down, for every stem) or ``"fade"`` (that floor for silent stems, fading out for
            playing ones), see :func:`hushboard.train.losses.separation_loss`.
        sdr_chunk_seconds: separators only: score the loss's SDR per chunk of this length and
            average the chunks (cSDR's 1 s, say), so that quiet passages count as much as loud
            ones; ``None``: one SDR per segment (``separation_loss``'s ``chunk``).
        valid_every, checkpoint_every: in steps.
        valid_items: mixtures in the fixed validation set.
        seed: seeds the model initialisation, the batch order and the mixtures.
        device: "cpu", "cuda" or "auto".
        num_workers: DataLoader worker processes.
    """

    model: str = "bsrnn-speech-16k-lite"
    steps: int = 20000
    batch_size: int = 8
    segment_seconds: float = 4.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 500
    min_lr_ratio: float = 0.05
    clip_grad: float = 5.0
    mrstft_weight: float = 1.0
    valid_every: int = 500
    checkpoint_every: int = 500
    valid_items: int = 64
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    stem_weights: tuple[float, ...] | None = None
    arch: dict[str, Any] | None = None
    sdr_floor: str = "mix"
    sdr_chunk_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "valid_every", "checkpoint_every", "valid_items"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int (got {v!r})")
        for name in ("warmup_steps", "num_workers", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative int (got {v!r})")
        if not self.lr > 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError("lr must be > 0 and min_lr_ratio in [0, 1]")
        if not self.segment_seconds > 0:
            raise ValueError(f"segment_seconds must be > 0 (got {self.segment_seconds})")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda' (got {self.device!r})")
        # an unknown preset or a bad arch: an error now, not after the data loads
        model = build_model(self.model, self.arch)
        if self.arch is not None:
            self.arch = dict(self.arch) or None
        if self.sdr_floor not in SDR_FLOORS:
            raise ValueError(f"sdr_floor must be one of {SDR_FLOORS} (got {self.sdr_floor!r})")
        if self.sdr_floor != "mix" and not is_separator(model):
            raise ValueError(f"sdr_floor applies to music separators, not {self.model!r}")
        if self.sdr_chunk_seconds is not None:
            c = self.sdr_chunk_seconds
            if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c) \
                    or not c > 0:
                raise ValueError(f"sdr_chunk_seconds must be a positive number of seconds or None "
                                 f"(got {c!r})")
            if not is_separator(model):
                raise ValueError(f"sdr_chunk_seconds applies to music separators, not "
                                 f"{self.model!r}")
            if round(c * model.config.sample_rate) < 1:
                raise ValueError(f"sdr_chunk_seconds is under one sample (got {c!r})")
            self.sdr_chunk_seconds = float(c)
        if self.stem_weights is not None:
            if not is_separator(model):
                raise ValueError(f"stem_weights apply to music separators, not {self.model!r}")
            stems = model.config.stems
            w = tuple(self.stem_weights)
            if len(w) != len(stems) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                    and x > 0 for x in w):
                raise ValueError(f"stem_weights must be {len(stems)} positive finite numbers, one "
                                 f"per stem ({', '.join(stems)}) (got {self.stem_weights!r})")
            self.stem_weights = tuple(float(x) for x in w)


def build_model(preset: str, arch: Mapping[str, Any] | None = None) -> nn.Module:
    """A fresh model of a DCCRN or BSRNN preset; ``arch`` overrides scalar fields of the
    preset's config (e.g. ``{"num_layers": 6, "hidden_size": 96}``), each with a value of the
    field's type, checked by the config."""
    from hushboard.models import BSRNN, BSRNN_CONFIGS, CONFIGS, DCCRN

    if preset in CONFIGS:
        return DCCRN(arch_config(CONFIGS[preset], arch, preset))
    if preset in BSRNN_CONFIGS:
        return BSRNN(arch_config(BSRNN_CONFIGS[preset], arch, preset))
    raise ValueError(f"unknown model preset {preset!r}; available: "
                     f"{', '.join([*CONFIGS, *BSRNN_CONFIGS])}")


def arch_config(config: Any, arch: Mapping[str, Any] | None, preset: str = "the preset") -> Any:
    """``config`` with the scalar fields named in ``arch`` replaced (ValueError/TypeError naming
    the field for an unknown or non-scalar field, a value of another type, or one the config
    rejects)."""
    if arch is None:
        return config
    if not isinstance(arch, Mapping):
        raise TypeError(f"arch must be a mapping of config fields to values (got "
                        f"{type(arch).__name__})")
    if not arch:
        return config
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name, value in arch.items():
        if name not in fields:
            raise ValueError(f"arch: {preset} has no config field {name!r}; fields: "
                             f"{', '.join(fields)}")
        old = fields[name]
        if not isinstance(old, (bool, int, float, str)):
            raise ValueError(f"arch: {name!r} is not a scalar field of {preset} (it holds "
                             f"{old!r}); only numbers, strings and flags can be set")
        ok = (isinstance(value, bool) if isinstance(old, bool) else
              isinstance(value, int) and not isinstance(value, bool) if isinstance(old, int) else
              isinstance(value, (int, float)) and not isinstance(value, bool)
              if isinstance(old, float) else isinstance(value, str))
        if not ok:
            raise TypeError(f"arch: {name} must be of type {type(old).__name__}, as {preset}'s "
                            f"{old!r} (got {value!r})")
    return dataclasses.replace(config, **{k: (float(v) if isinstance(fields[k], float) else v)
                                          for k, v in arch.items()})


def _arch_text(arch: Mapping[str, Any] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in arch.items()) if arch else "(none)"


def is_separator(model: nn.Module) -> bool:
    """A multi-stem model (music separation), trained on ``(mix, stems)`` items."""
    return len(getattr(getattr(model, "config", None), "stems", ("speech",))) > 1


def init_weights(model: nn.Module, path: str | os.PathLike) -> str:
    """Start ``model`` from the weights in ``path`` (a file written by ``model.save``).

    Same config: every tensor is loaded (fine-tuning). Another config of the same model class
    (e.g. a 16 kHz BSRNN into a 48 kHz one of equal width): the tensors whose name and shape
    match are copied (transfer; for BSRNN the dual-path layers) and the rest keep their fresh
    initialisation; a ``ValueError`` if nothing matches. A BSRNN that differs only in wider
    RNNs (``hidden_size``), more dual-path layers (``num_layers``) and/or a longer complex
    filter (``mask_frames``) starts at the smaller one's exact function (``_grow_bsrnn``).

    Returns:
        A one-line note of what was loaded, for the model card.
    """
    from hushboard.models._weights import config_from_metadata, read_weights_file

    kind = type(model).__name__
    tensors, meta = read_weights_file(path, kind)
    src = os.fspath(path)
    src_cfg = config_from_metadata(type(model.config), meta, path, kind)
    if src_cfg == model.config:
        model.load_weights(tensors, source=src)
        return f"initialised from `{src}` (all tensors)"
    own = model.state_dict()
    tensors = _heads_by_stem(tensors, src_cfg, model.config)
    grown = _grow_bsrnn(tensors, src_cfg, model.config, own)
    if grown:
        tensors = grown
    match = {k: v for k, v in tensors.items()
             if k in own and tuple(v.shape) == tuple(own[k].shape)
             and v.is_floating_point() == own[k].is_floating_point()}
    if not match:
        raise ValueError(f"init: {src!r} holds another {kind} config with no tensor of matching "
                         "name and shape")
    for k, v in match.items():
        if v.is_floating_point() and not v.isfinite().all():
            raise ValueError(f"init: tensor {k!r} of {src!r} contains NaN or Inf")
    with torch.no_grad():
        for k, v in match.items():
            own[k].copy_(v)
    n_own = sum(v.numel() for v in own.values())
    n_copied = sum(v.numel() for v in match.values())
    if grown:
        how = []
        if model.config.hidden_size != src_cfg.hidden_size:
            how.append(f"widening its RNNs from {src_cfg.hidden_size} to "
                       f"{model.config.hidden_size} units")
        if model.config.num_layers != src_cfg.num_layers:
            how.append(f"deepening it from {src_cfg.num_layers} to {model.config.num_layers} "
                       f"dual-path layers (the new ones last, as identities)")
        if model.config.mask_frames != src_cfg.mask_frames:
            how.append(f"lengthening its complex filter from {src_cfg.mask_frames} to "
                       f"{model.config.mask_frames} frames (the new taps at zero)")
        return (f"initialised from `{src}` by {' and '.join(how)} (the same function at step "
                f"0; {len(match)} of {len(own)} tensors from the source)")
    return (f"initialised from `{src}` by transfer: {len(match)} of {len(own)} tensors "
            f"({n_copied:,} of {n_own:,} values) copied, the rest freshly initialised")


def _heads_by_stem(tensors: dict[str, Tensor], src_cfg: Any, dst_cfg: Any) -> dict[str, Tensor]:
    """BSRNN mask heads (``masks.<i>.``) renumbered from the source's stem order to the
    destination's, by stem name; heads of stems the destination lacks are dropped (so a
    four-stem separator's vocals head starts a vocals/accompaniment model's vocals head, and its
    accompaniment head keeps a fresh initialisation)."""
    src, dst = getattr(src_cfg, "stems", None), getattr(dst_cfg, "stems", None)
    if not src or not dst or tuple(src) == tuple(dst):
        return tensors
    where = {name: j for j, name in enumerate(dst)}
    out = {}
    for k, v in tensors.items():
        head, dot, rest = k.partition(".")
        if head != "masks" or not dot:
            out[k] = v
            continue
        i, _, tail = rest.partition(".")
        if i.isdigit() and int(i) < len(src) and src[int(i)] in where:
            out[f"masks.{where[src[int(i)]]}.{tail}"] = v
    return out


def _grow_bsrnn(tensors: dict[str, Tensor], src_cfg: Any, dst_cfg: Any,
                own: dict[str, Tensor]) -> dict[str, Tensor] | None:
    """A BSRNN grown (wider RNNs, ``hidden_size`` H to H' >= H, more dual-path layers,
    ``num_layers`` L to L' >= L, and/or a longer complex filter, ``mask_frames`` k to k' >= k;
    everything else equal) so that it computes exactly the smaller one's function at step 0.
    Wider RNNs: ``_grow_rnn_hidden``. More layers: layers 0 to L - 1 are the source's, and the
    new ones come last, each an identity at first (its two residual branches' output layers,
    ``time_fc`` and ``band_fc``, are zero, weights and biases, as in zero-initialised residual
    branches), with fresh norms and RNNs that learn once those output layers move off zero,
    after the first step. Longer filter: ``_grow_mask_frames``. None when the configs differ in
    anything else, or the destination is smaller (the plain transfer by name and shape then
    applies)."""
    if type(src_cfg) is not type(dst_cfg):
        return None
    h0, h1 = getattr(src_cfg, "hidden_size", None), getattr(dst_cfg, "hidden_size", None)
    l0, l1 = getattr(src_cfg, "num_layers", None), getattr(dst_cfg, "num_layers", None)
    k0, k1 = getattr(src_cfg, "mask_frames", None), getattr(dst_cfg, "mask_frames", None)
    if (not all(isinstance(v, int) for v in (h0, h1, l0, l1, k0, k1)) or h1 < h0 or l1 < l0
            or k1 < k0 or (h1, l1, k1) == (h0, l0, k0)
            or getattr(dst_cfg, "rnn", None) not in ("lstm", "gru")
            or dataclasses.replace(src_cfg, hidden_size=h1, num_layers=l1,
                                   mask_frames=k1) != dst_cfg):
        return None
    if k1 > k0:
        tensors = _grow_mask_frames(tensors, src_cfg, k1, own)
        if tensors is None:
            return None
    if h1 > h0:
        out = _grow_rnn_hidden(tensors, h0, h1, 4 if dst_cfg.rnn == "lstm" else 3, own)
        if out is None:
            return None
    else:
        out = {k: v for k, v in tensors.items() if k in own}
    for k, dst in own.items():
        head, _, rest = k.partition(".")
        layer = rest.partition(".")[0]
        if head != "layers" or not layer.isdigit() or int(layer) < l0:
            continue
        new = dst.detach().clone()
        if "_fc." in k:
            new.zero_()
        out[k] = new
    return out


def _grow_mask_frames(tensors: dict[str, Tensor], src_cfg: Any, k1: int,
                      own: dict[str, Tensor]) -> dict[str, Tensor] | None:
    """The source's tensors for a BSRNN whose mask heads give a longer complex filter
    (``mask_frames`` k0 = ``src_cfg.mask_frames`` to k1 > k0 taps; k0 = 1 is a plain complex
    mask), so that it computes exactly the source's function at step 0: in each head's second
    layer (``w2``, ``b2``; per band its value rows, then its gate rows, each ordered bin,
    channel, tap, real/imaginary) the source's taps keep their rows, the new (older) taps'
    value rows are zero, weights and bias, so they add nothing, and their gate rows are copies
    of the oldest source tap's, so that their values learn at once from a working gate. The
    rest of the source's tensors pass unchanged. None for a head tensor of unexpected shape."""
    k0 = src_cfg.mask_frames
    rows = [2 * d for d in src_cfg.band_out_dims]  # per band: value rows, then gate rows
    out = dict(tensors)
    for name, v in tensors.items():
        head, _, leaf = name.rpartition(".")
        if not head.startswith("masks.") or leaf not in ("w2", "b2") or name not in own:
            continue
        if v.shape[0] != sum(rows) or own[name].shape[0] != v.shape[0] * k1 // k0:
            return None
        tail = tuple(v.shape[1:])
        pieces = []
        for band in v.split(rows):
            # (value/gate, bin x channel, tap, re/im, ...)
            old = band.reshape(2, -1, k0, 2, *tail)
            new = old.new_zeros(2, old.shape[1], k1, 2, *tail)
            new[:, :, :k0] = old
            new[1, :, k0:] = old[1, :, k0 - 1:k0]
            pieces.append(new.reshape(-1, *tail))
        out[name] = torch.cat(pieces)
    return out


def _grow_rnn_hidden(tensors: dict[str, Tensor], h0: int, h1: int, gates: int,
                     own: dict[str, Tensor]) -> dict[str, Tensor] | None:
    """The source's tensors for a BSRNN whose RNNs are wider (``hidden_size`` h0 to h1 > h0,
    ``gates`` 4 for LSTM, 3 for GRU), so that it computes exactly the narrower one's function
    at step 0, as zero-initialised residual branches do: each gate's old units keep their
    weights, the old units' recurrent weights from the new units and the output layers'
    columns for the new units are zero, and the new units keep their fresh random input and
    recurrent weights (so they learn once the output columns move off zero, after the first
    step). None for a tensor of unexpected shape."""
    out: dict[str, Tensor] = {}
    for k, v in tensors.items():
        if k not in own:
            continue
        dst = own[k]
        if tuple(v.shape) == tuple(dst.shape):  # (no RNN tensor: they all grow)
            out[k] = v
            continue
        new = dst.detach().clone()
        leaf = k.rsplit(".", 1)[-1]
        if "_rnn." in k and leaf.startswith(("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
            for g in range(gates):  # the gate blocks are stacked along dim 0
                rows = slice(g * h1, g * h1 + h0)
                src_rows = v[g * h0:(g + 1) * h0]
                if leaf.startswith("weight_hh"):
                    new[rows] = 0.0  # old units ignore the new ones ...
                    new[rows, :h0] = src_rows  # ... and keep their own recurrence
                else:
                    new[rows] = src_rows
        elif k.endswith("_fc.weight") and v.shape[0] == dst.shape[0]:
            # (N, D * H) -> (N, D * H'): each direction's old columns, zeros for the new units
            new.zero_()
            for d in range(v.shape[1] // h0):
                new[:, d * h1:d * h1 + h0] = v[:, d * h0:(d + 1) * h0]
        else:
            return None
        out[k] = new
    return out


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of ``step`` (0-based): linear warm-up, then cosine decay."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA device")
    return torch.device(name)


def _batches(n_items: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n_items, generator=g).tolist()
    return [perm[i:i + batch_size] for i in range(0, n_items - batch_size + 1, batch_size)]


def _collate(items: list) -> tuple[Tensor, Tensor]:
    noisy = torch.stack([torch.as_tensor(np.asarray(it[0])) for it in items])
    clean = torch.stack([torch.as_tensor(np.asarray(it[1])) for it in items])
    return noisy.float(), clean.float()


def _usdr(estimate: Tensor, reference: Tensor) -> Tensor:
    """Utterance-level SDR per (item, stem) as in the SDX challenges (eps 1e-7): the batched
    torch form of ``hushboard.metrics.usdr``."""
    num = reference.pow(2).sum((-2, -1)) + 1e-7
    return 10 * torch.log10(num / ((reference - estimate).pow(2).sum((-2, -1)) + 1e-7))


@torch.no_grad()
def evaluate_separation(model: nn.Module, items: list[tuple[Tensor, Tensor]],
                        device: torch.device, mrstft_weight: float,
                        stem_weights: tuple[float, ...] | None = None,
                        sdr_floor: str = "mix", sdr_chunk: int | None = None) -> dict[str, float]:
    """Mean loss over the items; uSDR per stem, averaged over the items where that stem plays
    (a stem whose energy in the segment is more than 50 dB under the mix's is silent there:
    its SDR is undefined, as museval skips silent chunks), the mean over stems, and its gain
    over the mix taken as every stem's estimate, on fixed (mix, stems) batches. The gain
    leaves out the items where a stem is the whole mix (everything else silent, by the same
    50 dB rule: the mix is then a perfect estimate, as for a two-stem model's accompaniment in
    an instrumental segment)."""
    was_training = model.training
    model.eval()
    stems = model.config.stems
    loss, n = 0.0, 0
    out = torch.zeros(len(stems), dtype=torch.float64)
    count = torch.zeros(len(stems), dtype=torch.float64)
    gain = torch.zeros(len(stems), dtype=torch.float64)
    gain_count = torch.zeros(len(stems), dtype=torch.float64)
    for mix, ref in items:
        mix, ref = mix.to(device), ref.to(device)
        est = model(mix)
        b = mix.shape[0]
        loss += float(separation_loss(est, ref, mix, mrstft_weight,
                                      stem_weights=stem_weights, floor=sdr_floor,
                                      chunk=sdr_chunk)) * b
        energy = mix.pow(2).sum((-2, -1))[:, None]
        plays = (ref.pow(2).sum((-2, -1)) > 1e-5 * energy).double()
        rest = ((mix[:, None] - ref).pow(2).sum((-2, -1)) > 1e-5 * energy).double()
        sdr_est = _usdr(est, ref).double()
        sdr_mix = _usdr(mix[:, None].expand_as(ref), ref).double()
        out += (sdr_est * plays).sum(0).cpu()
        count += plays.sum(0).cpu()
        gain += ((sdr_est - sdr_mix) * plays * rest).sum(0).cpu()
        gain_count += (plays * rest).sum(0).cpu()
        n += b
    model.train(was_training)
    per = out / count.clamp(min=1)
    row = {"valid_loss": loss / n, "valid_usdr": float(per.mean()),
           "valid_usdr_gain": float((gain / gain_count.clamp(min=1)).mean())}
    row.update({f"valid_usdr_{s}": float(per[j]) for j, s in enumerate(stems)})
    return row


def log_fields(model: nn.Module) -> list[str]:
    """The columns of ``log.csv`` for ``model``."""
    if is_separator(model):
        return ["step", "lr", "train_loss", "valid_loss", "valid_usdr", "valid_usdr_gain",
                *[f"valid_usdr_{s}" for s in model.config.stems], "seconds"]
    return LOG_FIELDS


@torch.no_grad()
def evaluate(model: nn.Module, items: list[tuple[Tensor, Tensor]], device: torch.device,
             mrstft_weight: float, stem_weights: tuple[float, ...] | None = None,
             sdr_floor: str = "mix", sdr_chunk: int | None = None) -> dict[str, float]:
    """Mean loss, SI-SNR of the output and of the noisy input over fixed (noisy, clean)
    batches (for a separator: :func:`evaluate_separation`, its loss weighted by
    ``stem_weights``, with the ``sdr_floor`` and per ``sdr_chunk`` samples)."""
    if is_separator(model):
        return evaluate_separation(model, items, device, mrstft_weight, stem_weights, sdr_floor,
                                   sdr_chunk)
    was_training = model.training
    model.eval()
    loss = out_snr = in_snr = 0.0
    n = 0
    for noisy, clean in items:
        noisy, clean = noisy.to(device), clean.to(device)
        est = model(noisy)
        b = noisy.shape[0]
        loss += float(denoise_loss(est, clean, mrstft_weight)) * b
        out_snr += -float(si_snr_loss(est, clean)) * b
        in_snr += -float(si_snr_loss(noisy, clean)) * b
        n += b
    model.train(was_training)
    return {"valid_loss": loss / n, "valid_si_snr": out_snr / n,
            "valid_si_snr_gain": (out_snr - in_snr) / n}


@torch.no_grad()
def fix_polarity(model: nn.Module, items: list[tuple[Tensor, Tensor]],
                 device: torch.device) -> bool:
    """Turn a denoiser's output right side up: when, summed over the fixed (noisy, clean)
    batches, its output is anti-correlated with the clean speech, flip its sign exactly
    (``model.flip_polarity()``, which a DCCRN has) and return True. The SI-SNR loss is blind to
    the sign, so training can settle on ``-clean``: it scores the same SI-SNR, PESQ and STOI,
    but a plain SNR near -6 dB, and it cancels the dry signal wherever the two are mixed."""
    if not hasattr(model, "flip_polarity") or is_separator(model):
        return False
    was_training = model.training
    model.eval()
    dot = 0.0
    for noisy, clean in items:
        dot += float((model(noisy.to(device)) * clean.to(device)).sum())
    model.train(was_training)
    if dot < 0:
        model.flip_polarity()
        return True
    return False


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


LOG_FIELDS = ["step", "lr", "train_loss", "valid_loss", "valid_si_snr", "valid_si_snr_gain",
              "seconds"]


def train(cfg: TrainConfig, train_set: Any, valid_set: Any, out_dir: str | os.PathLike, *,
          resume: bool = False, progress: bool = True, data_note: str = "",
          init: str | os.PathLike | None = None,
          on_log: Callable[[dict[str, float]], None] | None = None) -> dict[str, Any]:
    """Train ``cfg.model`` on ``train_set`` (items ``(noisy, clean)`` of equal length, or
    ``(mix (C, T), stems (S, C, T))`` for a separator; an optional ``set_epoch(epoch)`` is
    called per epoch), score it on ``valid_set``, write
    checkpoints, the CSV log and the exported model to ``out_dir``. ``init`` starts a new run
    from the weights of a file written by ``save`` (fine-tuning; the optimiser starts afresh).

    Returns:
        the last validation metrics, the step reached and the exported paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    device = _device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, cfg.arch).to(device).train()
    init_note = ""
    if init is not None and not resume:
        init_note = init_weights(model, init)
        model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = 0
    if resume:
        if not ckpt_path.is_file():
            raise ValueError(f"--resume: no checkpoint at {ckpt_path}")
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        if ck["config"]["model"] != cfg.model:
            raise ValueError(f"--resume: the checkpoint trains {ck['config']['model']!r}, not "
                             f"{cfg.model!r}")
        if (ck["config"].get("arch") or None) != cfg.arch:
            raise ValueError(f"--resume: the checkpoint trains {cfg.model!r} with --arch "
                             f"{_arch_text(ck['config'].get('arch'))}, not "
                             f"{_arch_text(cfg.arch)}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step = int(ck["step"])
    elif ckpt_path.exists():
        raise ValueError(f"{out} already holds a run (checkpoint.pt); pass resume=True "
                         "(--resume) or choose another output folder")
    fields = log_fields(model)
    separator = is_separator(model)
    if step == 0:
        with open(out / "log.csv", "w", newline="") as fh:
            csv.DictWriter(fh, fields).writeheader()
    (out / "train_config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2))

    n_items = len(train_set)
    per_epoch = n_items // cfg.batch_size
    if per_epoch < 1:
        raise ValueError(f"the training set has {n_items} items, fewer than one batch of "
                         f"{cfg.batch_size}")
    valid = [_collate([valid_set[i] for i in range(j, min(j + cfg.batch_size, len(valid_set)))])
             for j in range(0, min(cfg.valid_items, len(valid_set)), cfg.batch_size)]
    sdr_chunk = (None if cfg.sdr_chunk_seconds is None  # set only for separators (TrainConfig)
                 else round(cfg.sdr_chunk_seconds * model.config.sample_rate))
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else torch.autocast("cpu", enabled=False))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.model}", unit="step")
    t0 = time.perf_counter()
    running, running_n = 0.0, 0
    metrics: dict[str, float] = {}
    while step < cfg.steps:
        epoch, first = divmod(step, per_epoch)
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        batches = _batches(n_items, cfg.batch_size, cfg.seed, epoch)[first:]
        loader = torch.utils.data.DataLoader(train_set, batch_sampler=batches,
                                             num_workers=cfg.num_workers, collate_fn=_collate)
        for noisy, clean in loader:
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            noisy, clean = noisy.to(device), clean.to(device)
            with autocast:
                est = model(noisy)
            if separator:  # (mix, stems)
                loss = separation_loss(est.float(), clean, noisy, cfg.mrstft_weight,
                                       stem_weights=cfg.stem_weights, floor=cfg.sdr_floor,
                                       chunk=sdr_chunk)
            else:
                loss = denoise_loss(est.float(), clean, cfg.mrstft_weight)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss)} at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_grad:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
            opt.step()
            step += 1
            running += loss.item()
            running_n += 1
            if bar is not None:
                bar.update(1)
                key = "valid_usdr" if separator else "valid_si_snr"
                bar.set_postfix(loss=f"{loss.item():.3f}", **(
                    {key[6:]: f"{metrics[key]:.2f}"} if metrics else {}))
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                              "step": step, "config": dataclasses.asdict(cfg)}, ckpt_path)
            if step % cfg.valid_every == 0 or step == cfg.steps:
                metrics = evaluate(model, valid, device, cfg.mrstft_weight, cfg.stem_weights,
                                   cfg.sdr_floor, sdr_chunk)
                row = {"step": step, "lr": lr_at(step - 1, cfg),
                       "train_loss": running / max(running_n, 1), **metrics,
                       "seconds": time.perf_counter() - t0}
                running, running_n = 0.0, 0
                with open(out / "log.csv", "a", newline="") as fh:
                    csv.DictWriter(fh, fields).writerow(row)
                if on_log is not None:
                    on_log(row)
            if step >= cfg.steps:
                break
    if bar is not None:
        bar.close()
    if fix_polarity(model, valid, device):
        note = "output polarity flipped at the end (it had settled anti-correlated; SI-SNR " \
               "cannot see the sign)"
        data_note = f"{data_note}; {note}" if data_note else note
        print(f"hushboard train: {note}", file=sys.stderr)
    model = model.cpu().eval()
    weights = out / "model.safetensors"
    model.save(weights)
    plot_curves(out / "log.csv", out / "curves.png")
    if init_note and init_note not in data_note:
        data_note = f"{data_note}; {init_note}" if data_note else init_note
    write_card(model, cfg, out, metrics, data_note)
    return {"step": step, **metrics, "weights": str(weights), "card": str(out / "MODEL_CARD.md")}


def read_log(path: str | os.PathLike) -> list[dict[str, float]]:
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def plot_curves(log_csv: str | os.PathLike, png: str | os.PathLike) -> None:
    """Training and validation loss, and validation SI-SNR gain, against steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_log(log_csv)
    if not rows:
        return
    steps = [r["step"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(steps, [r["train_loss"] for r in rows], label="train")
    a.plot(steps, [r["valid_loss"] for r in rows], label="valid")
    a.set_xlabel("step")
    a.set_ylabel("loss (−SI-SNR + MR-STFT)")
    a.legend()
    if "valid_usdr" in rows[0]:  # a separator
        for key in [k for k in rows[0] if k.startswith("valid_usdr")]:
            if key != "valid_usdr_gain":
                b.plot(steps, [r[key] for r in rows], label=key[len("valid_usdr_"):] or "mean")
        b.legend()
        b.set_ylabel("validation uSDR (dB)")
        a.set_ylabel("loss (−SDR + MR-STFT)")
    else:
        b.plot(steps, [r["valid_si_snr_gain"] for r in rows])
        b.set_ylabel("validation ΔSI-SNR (dB)")
    b.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def write_card(model: nn.Module, cfg: TrainConfig, out: Path, metrics: dict[str, float],
               data_note: str) -> None:
    """MODEL_CARD.md: config, size, cost, latency, training run and validation figures."""
    mcfg = model.config
    latency_ms = (mcfg.n_fft - 1) / mcfg.sample_rate * 1e3
    lines = [
        f"# {cfg.model}" + (f" ({_arch_text(cfg.arch)})" if cfg.arch else ""), "",
        f"- architecture: {type(model).__name__}, config `{json.dumps(mcfg.to_dict())}`",
        f"- parameters: {model.num_parameters():,}",
        f"- MACs per second of audio: {model.macs_per_second() / 1e9:.3f} G",
        (f"- sample rate: {mcfg.sample_rate} Hz; algorithmic latency: {mcfg.n_fft - 1} samples "
         f"({latency_ms:.1f} ms)" if getattr(mcfg, "causal", True) else
         f"- sample rate: {mcfg.sample_rate} Hz; offline (bidirectional over time: chunks of a "
         "file, overlap-added)"),
        f"- training: {cfg.steps} steps of {cfg.batch_size} × {cfg.segment_seconds:g} s, AdamW "
        f"lr {cfg.lr:g} (warm-up {cfg.warmup_steps}, cosine), clip {cfg.clip_grad:g}, loss "
        f"{'−SDR per stem' if is_separator(model) else '−SI-SNR'}"
        + (" (stem weights " + ", ".join(f"{s} {w:g}" for s, w in zip(mcfg.stems, cfg.stem_weights))
           + ")" if cfg.stem_weights else "")
        + (f" (SDR floor {cfg.sdr_floor!r}" + (f", per {cfg.sdr_chunk_seconds:g} s chunk"
           if cfg.sdr_chunk_seconds is not None else "") + ")" if is_separator(model) else "")
        + f" + {cfg.mrstft_weight:g} × MR-STFT, seed {cfg.seed}",
        f"- training data: {data_note or '(not recorded)'}",
        "",
        "## Validation (the fixed validation mixtures of the training corpus)", "",
        "| metric | value |", "| --- | ---: |",
        *[f"| {k} | {v:.3f} |" for k, v in metrics.items()],
        "",
        "The held-out test table comes from `hushboard eval` (see the issue's model cards).",
    ]
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
