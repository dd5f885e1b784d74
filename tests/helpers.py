"""Test helpers: error measures and float32 tolerances."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

# float32 kernels against a float64 truth: max |error| / max |truth|
TOL_F32 = {"stft": 2e-6, "istft": 2e-6, "grad": 5e-6}


def rel_err(a, b) -> float:
    a = torch.as_tensor(a)
    b = torch.as_tensor(b)
    a64 = a.to(torch.complex128 if a.is_complex() or b.is_complex() else torch.float64)
    b64 = b.to(a64.dtype)
    den = b64.abs().max().item()
    return (a64 - b64).abs().max().item() / (den if den > 0 else 1.0)


def noise(*shape, seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- model engines ------------------------------------------------------------------------------
def engine_offline(model, x: np.ndarray) -> np.ndarray:
    """A model's offline output for x followed by its engine's latency (n_fft - 1) of zeros
    (what the effect's offline process flushes), cut to len(x): what the engine must give."""
    lat = model.config.n_fft - 1
    xp = np.concatenate([x, np.zeros(lat, np.float32)])
    with torch.no_grad():
        return model(torch.from_numpy(xp)).numpy()[: len(x)]


def rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def tone_in_noise(seconds: float, seed: int = 0, channels: int = 1,
                  sr: int = 16000) -> np.ndarray:
    """A modulated 220 Hz tone plus white noise, float32 (time,) or (channels, time)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))
    x = tone + 0.1 * rng.standard_normal((channels, t.size))
    return x.astype(np.float32)[0] if channels == 1 else x.astype(np.float32)


def rnn_params(gates: int, input_size: int, hidden: int, seed: int) -> list[torch.Tensor]:
    """Random float32 (w_ih, w_hh, b_ih, b_hh) of an RNN layer with ``gates`` gates (LSTM 4,
    GRU 3), scaled like torch's initialisation."""
    g = torch.Generator().manual_seed(seed)
    k = hidden ** -0.5
    return [k * torch.randn(gates * hidden, input_size, generator=g),
            k * torch.randn(gates * hidden, hidden, generator=g),
            0.1 * torch.randn(gates * hidden, generator=g),
            0.1 * torch.randn(gates * hidden, generator=g)]


# ---- CUDA ---------------------------------------------------------------------------------------
def _cuda_ready() -> tuple[bool, str]:
    from hushboard.backend import build_info

    info = build_info()
    if not info.with_cuda:
        return False, "hushboard was built without CUDA"
    if not torch.cuda.is_available() or not info.cuda_devices:
        return False, "no CUDA GPU on this machine"
    return True, ""


def require_cuda_build() -> None:
    """Skip unless hushboard was built with its CUDA kernels (their host emulations need no GPU);
    a failure instead under HUSHBOARD_REQUIRE_CUDA_BUILD=1 (CI sets it where nvcc exists)."""
    from hushboard.ops._native import _C

    if _C.WITH_CUDA:
        return
    if os.environ.get("HUSHBOARD_REQUIRE_CUDA_BUILD") == "1":
        pytest.fail("HUSHBOARD_REQUIRE_CUDA_BUILD=1 but hushboard was built without CUDA")
    pytest.skip("hushboard was built without CUDA (no kernels to emulate)")


def require_cuda() -> None:
    ok, why = _cuda_ready()
    if ok:
        return
    if os.environ.get("HUSHBOARD_REQUIRE_CUDA") == "1":
        pytest.fail(f"HUSHBOARD_REQUIRE_CUDA=1 but {why}")
    pytest.skip(why)
