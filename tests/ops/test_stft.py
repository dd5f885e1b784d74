"""Fused STFT / iSTFT: parity with torch (float64 truth), round trip, autograd, opcheck,
torch.compile, NumPy, SIMD paths, threads, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import TOL_F32, noise, rel_err

from hushboard import ops
from hushboard.ops._native import _C

SIZES = [256, 320, 400, 480, 512, 960, 1024, 2048, 4096]
WINDOWS = ["hann", "hamming", "rect", "sqrt_hann"]


def torch_window(name: str, n: int, dtype=torch.float64) -> torch.Tensor:
    return ops.get_window(name, n, dtype=dtype)


def truth_stft(x, n_fft, hop, win, **kw):
    """float64 torch.stft."""
    return torch.stft(torch.as_tensor(x).double(), n_fft, hop, win.shape[0], win.double(),
                      return_complex=True, **kw)


# ---- forward parity -------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft", SIZES)
@pytest.mark.parametrize("hop_div", [2, 4])
def test_stft_matches_torch_sizes(n_fft, hop_div):
    x = torch.from_numpy(noise(7, 3 * n_fft + 1001, seed=n_fft))
    w = torch_window("hann", n_fft)
    got = ops.stft(x, n_fft, n_fft // hop_div, window=w.float())
    ref = truth_stft(x, n_fft, n_fft // hop_div, w)
    assert got.dtype == torch.complex64 and got.shape == ref.shape
    assert rel_err(got, ref) < TOL_F32["stft"]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("length", [16000, 16001, 4099])
def test_stft_windows_batches_lengths(window, batch, length):
    # the 16 kHz speech front end: win 400, hop 100, n_fft 512
    x = torch.from_numpy(noise(batch, length, seed=length))
    w = torch_window(window, 400)
    got = ops.stft(x, 512, 100, 400, window=w.float())
    ref = truth_stft(x, 512, 100, w, )
    assert got.shape == ref.shape
    assert rel_err(got, ref) < TOL_F32["stft"]


@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "constant"), (False, "reflect")])
@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("onesided", [True, False])
def test_stft_conventions(center, pad_mode, normalized, onesided):
    x = torch.from_numpy(noise(3, 5003))
    w = torch_window("hamming", 480)
    got = ops.stft(x, 480, 120, window=w.float(), center=center, pad_mode=pad_mode,
                   normalized=normalized, onesided=onesided)
    ref = truth_stft(x, 480, 120, w, center=center, pad_mode=pad_mode, normalized=normalized,
                     onesided=onesided)
    assert got.shape == ref.shape
    assert rel_err(got, ref) < TOL_F32["stft"]


@pytest.mark.parametrize("n_fft", [30, 250, 375, 405])  # small even, and odd sizes (scalar path)
def test_stft_other_smooth_sizes(n_fft):
    x = torch.from_numpy(noise(2, 3001))
    w = torch_window("hann", n_fft)
    got = ops.stft(x, n_fft, n_fft // 3, window=w.float())
    assert rel_err(got, truth_stft(x, n_fft, n_fft // 3, w)) < TOL_F32["stft"]


def test_stft_float64_is_exact():
    x = torch.randn(3, 4001, dtype=torch.float64)
    w = torch.hann_window(512, dtype=torch.float64)
    got = ops.stft(x, 512, 128, window=w)
    assert got.dtype == torch.complex128
    assert rel_err(got, truth_stft(x, 512, 128, w)) < 1e-13


@pytest.mark.parametrize("power", [0.3, 0.5, 1.0, 1.7])
def test_stft_compressed_and_magnitude(power):
    x = torch.from_numpy(noise(4, 8000))
    w = torch_window("hann", 512)
    ref = truth_stft(x, 512, 128, w)
    mag = ref.abs()
    ref_c = ref * torch.where(mag > 0, mag.pow(power - 1), torch.zeros_like(mag))
    # compression amplifies the float32 error of small bins: hold ours to at most twice the
    # error of the same pipeline in float32 torch (both against the float64 truth)
    spec32 = torch.stft(x, 512, 128, window=w.float(), return_complex=True)
    mag32 = spec32.abs()
    torch32 = spec32 * torch.where(mag32 > 0, mag32.pow(power - 1), torch.zeros_like(mag32))
    got = ops.stft(x, 512, 128, window=w.float(), output="compressed", power=power)
    assert rel_err(got, ref_c) <= 2 * max(rel_err(torch32, ref_c), TOL_F32["stft"] / 2)
    got_m = ops.stft(x, 512, 128, window=w.float(), output="magnitude")
    assert got_m.dtype == torch.float32
    assert rel_err(got_m, mag) < TOL_F32["stft"]


def test_compressed_zero_bins_are_zero():
    x = torch.zeros(1, 2048)
    got = ops.stft(x, 512, 128, window="hann", output="compressed", power=0.3)
    assert torch.count_nonzero(got) == 0 and torch.isfinite(torch.view_as_real(got)).all()


@pytest.mark.parametrize("scale", [1e-18, 1e-12, 1e12, 1e18])
@pytest.mark.parametrize("power", [0.3, 1.5])
def test_stft_compressed_tiny_and_huge_signals(scale, power):
    """|X|^2 leaves float32's range here; the kernel rescales instead of overflowing."""
    x = torch.from_numpy(noise(1, 4000)).double() * scale
    w = torch_window("hann", 512)
    ref = truth_stft(x, 512, 128, w)
    mag = ref.abs()
    ref_c = ref * mag.pow(power - 1)
    got = ops.stft(x.float(), 512, 128, window=w.float(), output="compressed", power=power)
    assert torch.isfinite(torch.view_as_real(got)).all()
    x1 = x / scale  # the same signal at unit scale gives the error budget
    ref1 = truth_stft(x1, 512, 128, w)
    got1 = ops.stft(x1.float(), 512, 128, window=w.float(), output="compressed", power=power)
    assert rel_err(got, ref_c) <= 2 * rel_err(got1, ref1 * ref1.abs().pow(power - 1)) + 1e-6


def test_simd_and_portable_paths_agree_with_cpp_reference():
    x = torch.from_numpy(noise(3, 7001))
    w = torch.hann_window(480)
    ref = torch.empty((3, 241, 1 + 7001 // 120 + 0), dtype=torch.complex64)
    frames = ops.stft_num_frames(7001, 480, 120)
    ref = torch.empty((3, 241, frames), dtype=torch.complex64)
    _C.stft_forward_reference(x.data_ptr(), 3, 7001, w.data_ptr(),
                              torch.view_as_real(ref).data_ptr(), 480, 120, True, 0, False, True,
                              0, 1.0)
    simd = ops.stft(x, 480, 120, window=w)
    try:
        _C.set_simd_enabled(False)
        assert _C.cpu_simd_path() == "generic"
        portable = ops.stft(x, 480, 120, window=w)
        portable_i = ops.istft(simd, 480, 120, window=w, length=7001)
    finally:
        _C.set_simd_enabled(True)
    assert rel_err(simd, ref) < TOL_F32["stft"]
    assert rel_err(portable, ref) < TOL_F32["stft"]
    assert rel_err(portable_i, ops.istft(simd, 480, 120, window=w, length=7001)) < 1e-6


def test_threads_do_not_change_results():
    x = torch.from_numpy(noise(5, 30011))
    w = torch.hann_window(512)
    n0 = _C.get_num_threads()
    try:
        _C.set_num_threads(1)
        a = ops.stft(x, 512, 128, window=w)
        ai = ops.istft(a, 512, 128, window=w)
        _C.set_num_threads(3)
        b = ops.stft(x, 512, 128, window=w)
        bi = ops.istft(a, 512, 128, window=w)
    finally:
        _C.set_num_threads(n0)
    assert torch.equal(a, b) and torch.equal(ai, bi)


def test_batch_consistency():
    x = torch.from_numpy(noise(6, 9000))
    whole = ops.stft(x, 512, 128, window="hann")
    for i in range(6):
        assert torch.equal(ops.stft(x[i], 512, 128, window="hann"), whole[i])


# ---- inverse ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft,hop", [(512, 128), (512, 256), (400, 100), (960, 480), (2048, 512), (320, 80)])
@pytest.mark.parametrize("window", ["hann", "sqrt_hann", "hamming"])
def test_istft_matches_torch(n_fft, hop, window):
    spec = torch.randn(3, n_fft // 2 + 1, 41, dtype=torch.complex128)
    w = torch_window(window, n_fft)
    ref = torch.istft(spec, n_fft, hop, window=w)
    got = ops.istft(spec.to(torch.complex64), n_fft, hop, window=w.float())
    assert got.shape == ref.shape and got.dtype == torch.float32
    assert rel_err(got, ref) < TOL_F32["istft"]


@pytest.mark.parametrize("length_delta", [-300, -1, 0, 1, 777])
@pytest.mark.parametrize("center", [True, False])
def test_istft_length_and_center(length_delta, center):
    n_fft, hop, frames = 512, 128, 30
    spec = torch.randn(2, 257, frames, dtype=torch.complex128)
    w = torch_window("hann", n_fft) + 0.05  # non-zero at the edges: NOLA holds without centering
    full = n_fft + hop * (frames - 1)
    length = (full - (n_fft if center else 0)) + length_delta
    ref = torch.istft(spec, n_fft, hop, window=w, center=center, length=length)
    got = ops.istft(spec.to(torch.complex64), n_fft, hop, window=w.float(), center=center,
                    length=length)
    assert got.shape == ref.shape
    assert rel_err(got, ref) < TOL_F32["istft"]


@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("onesided", [True, False])
def test_istft_normalized_onesided(normalized, onesided):
    n_fft = 480
    spec = truth_stft(torch.randn(2, 6000), n_fft, 120, torch.hann_window(n_fft).double(),
                      normalized=normalized, onesided=onesided)
    spec = spec + 0.1 * torch.randn_like(spec)
    w = torch.hann_window(n_fft, dtype=torch.float64)
    ref = torch.istft(spec, n_fft, 120, window=w, normalized=normalized, onesided=onesided)
    got = ops.istft(spec.to(torch.complex64), n_fft, 120, window=w.float(), normalized=normalized,
                    onesided=onesided)
    assert rel_err(got, ref) < TOL_F32["istft"]


@pytest.mark.parametrize("power", [0.3, 0.5, 1.0])
def test_round_trip_compressed(power):
    x = torch.from_numpy(noise(3, 16001))
    y = ops.stft(x, 512, 128, window="hann", output="compressed", power=power)
    back = ops.istft(y, 512, 128, window="hann", input="compressed", power=power, length=16001)
    assert (back - x).abs().max() < 2e-5


@pytest.mark.parametrize("n_fft,hop,win", [(512, 128, 512), (512, 100, 400), (960, 480, 960), (2048, 512, 2048), (375, 125, 375)])
def test_round_trip(n_fft, hop, win):
    x = torch.from_numpy(noise(7, 12345))
    spec = ops.stft(x, n_fft, hop, win, window="hann")
    back = ops.istft(spec, n_fft, hop, win, window="hann", length=12345)
    assert (back - x).abs().max() < 1e-5


def test_istft_float64():
    spec = torch.randn(2, 257, 20, dtype=torch.complex128)
    w = torch.hann_window(512, dtype=torch.float64)
    got = ops.istft(spec, 512, 128, window=w)
    assert got.dtype == torch.float64
    assert rel_err(got, torch.istft(spec, 512, 128, window=w)) < 1e-13


# ---- autograd ---------------------------------------------------------------------------------
@pytest.mark.parametrize("output,power", [("complex", 1.0), ("magnitude", 1.0), ("compressed", 0.3)])
@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "constant"), (False, "reflect")])
def test_stft_gradcheck(output, power, center, pad_mode):
    x = torch.randn(2, 61, dtype=torch.float64, requires_grad=True)
    w = torch.hann_window(16, dtype=torch.float64) + 0.1

    def f(x):
        y = ops.stft(x, 16, 4, window=w, center=center, pad_mode=pad_mode, output=output,
                     power=power)
        return torch.view_as_real(y) if y.is_complex() else y

    assert torch.autograd.gradcheck(f, (x,))


@pytest.mark.parametrize("onesided,normalized", [(True, False), (False, True)])
def test_stft_gradcheck_onesided_normalized(onesided, normalized):
    x = torch.randn(1, 45, dtype=torch.float64, requires_grad=True)

    def f(x):
        return torch.view_as_real(ops.stft(x, 12, 3, window="hann", onesided=onesided,
                                           normalized=normalized))

    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("input_,power", [("complex", 1.0), ("compressed", 0.5)])
@pytest.mark.parametrize("center", [True, False])
def test_istft_gradcheck(input_, power, center):
    spec = torch.randn(2, 9, 11, dtype=torch.complex128, requires_grad=True)
    w = torch.hann_window(16, dtype=torch.float64) + 0.1

    def f(s):
        return ops.istft(s, 16, 4, window=w, center=center, input=input_, power=power)

    assert torch.autograd.gradcheck(f, (spec,))
    if input_ == "complex":
        assert torch.autograd.gradgradcheck(f, (spec,))


def test_float32_gradients_match_float64():
    """The SIMD adjoint kernels (float32) against the float64 ones."""
    x64 = torch.randn(3, 8001, dtype=torch.float64)
    w = torch.hann_window(512, dtype=torch.float64)
    for output, power in [("complex", 1.0), ("compressed", 0.3), ("magnitude", 1.0)]:
        grads = []
        for dt in (torch.float64, torch.float32):
            x = x64.detach().to(dt).clone().requires_grad_(True)
            y = ops.stft(x, 512, 128, 400, window=w[:400].to(dt), output=output, power=power)
            g = torch.Generator().manual_seed(1)
            gy = torch.randn(y.shape, dtype=torch.complex128 if y.is_complex() else torch.float64,
                             generator=g).to(y.dtype)
            (y.conj() * gy).real.sum().backward() if y.is_complex() else (y * gy).sum().backward()
            grads.append(x.grad)
        assert rel_err(grads[1], grads[0]) < TOL_F32["grad"] * (20 if output != "complex" else 1), output
    spec64 = torch.randn(2, 257, 50, dtype=torch.complex128)
    grads = []
    for dt in (torch.complex128, torch.complex64):
        s = spec64.detach().to(dt).clone().requires_grad_(True)
        y = ops.istft(s, 512, 128, window=torch.hann_window(512, dtype=s.real.dtype))
        (y * torch.linspace(-1, 1, y.shape[-1], dtype=y.dtype)).sum().backward()
        grads.append(s.grad)
    assert rel_err(grads[1], grads[0]) < TOL_F32["grad"]


def test_backward_matches_torch_autograd():
    x = torch.randn(2, 3000, requires_grad=True)
    x_ref = x.detach().double().requires_grad_(True)
    w = torch.hann_window(400)
    y = ops.stft(x, 400, 100, window=w)
    y_ref = torch.stft(x_ref, 400, 100, window=w.double(), return_complex=True)
    gy = torch.randn(y_ref.shape, dtype=torch.complex128)
    (y_ref.conj() * gy).real.sum().backward()
    (y.conj() * gy.to(y.dtype)).real.sum().backward()
    assert rel_err(x.grad, x_ref.grad) < TOL_F32["grad"]


# ---- torch.library integration ----------------------------------------------------------------
def _op_args(dtype):
    x = torch.randn(2, 300, dtype=dtype)
    w = torch.hann_window(64, dtype=dtype)
    return x, w


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck(dtype):
    x, w = _op_args(dtype)
    cdt = torch.complex64 if dtype == torch.float32 else torch.complex128
    for kind, power in [(0, 1.0), (1, 1.0), (2, 0.5)]:
        torch.library.opcheck(torch.ops.hushboard.stft.default,
                              (x.requires_grad_(dtype == torch.float64), w, 64, 16, True, 0, False,
                               True, kind, power))
    spec = torch.randn(2, 33, 19, dtype=cdt, requires_grad=dtype == torch.float64)
    torch.library.opcheck(torch.ops.hushboard.istft.default,
                          (spec, w, 64, 16, True, False, True, 0, 1.0, 288))
    g = torch.randn(2, 33, 20, dtype=cdt)
    torch.library.opcheck(torch.ops.hushboard.stft_backward.default,
                          (g, w, 300, 64, 16, True, 0, False, True))
    torch.library.opcheck(torch.ops.hushboard.istft_backward.default,
                          (torch.randn(2, 288, dtype=dtype), w, 19, 64, 16, True, False, True))


def test_torch_compile_traces_the_ops():
    w = torch.hann_window(512)

    def f(x):
        s = ops.stft(x, 512, 128, window=w, output="compressed", power=0.3, check_finite=False)
        return ops.istft(s * 0.5, 512, 128, window=w, input="compressed", power=0.3,
                         length=x.shape[-1], check_finite=False)

    x = torch.randn(2, 8000)
    compiled = torch.compile(f, backend="aot_eager", fullgraph=True)
    assert rel_err(compiled(x), f(x)) < 1e-6


def test_reference_backend_env_forces_pure_torch():
    code = (
        "import torch; from hushboard import ops; x = torch.randn(2, 4000); "
        "a = ops.stft(x, 512, 128, window='hann'); "
        "b = torch.stft(x, 512, 128, window=torch.hann_window(512), return_complex=True); "
        "assert torch.equal(a, b), 'not the torch path'; print('ok')"
    )
    env = dict(os.environ, HUSHBOARD_BACKEND="reference")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


# ---- NumPy ------------------------------------------------------------------------------------
def test_numpy_in_numpy_out():
    x = noise(2, 5000)
    spec = ops.stft(x, 512, 128, window="hann")
    assert isinstance(spec, np.ndarray) and spec.dtype == np.complex64
    ref = ops.stft(torch.from_numpy(x), 512, 128, window="hann").numpy()
    np.testing.assert_array_equal(spec, ref)
    back = ops.istft(spec, 512, 128, window="hann", length=5000)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_allclose(back, x, atol=1e-5)
    one = ops.stft(x[0].astype(np.float64), 512, 128, window="hann", output="magnitude")
    assert one.dtype == np.float64 and one.shape == (257, 1 + 5000 // 128)


# ---- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"x": torch.zeros(100, dtype=torch.int16)}, TypeError, "x must have dtype"),
        ({"x": torch.zeros(1000, dtype=torch.float16)}, TypeError, "x must have dtype"),
        ({"x": np.zeros(1000, dtype=np.int32)}, TypeError, "x must have dtype"),
        ({"x": [0.0] * 1000}, TypeError, "x must be a torch.Tensor"),
        ({"x": torch.zeros(2, 2, 1000)}, ValueError, "x must be 1-D"),
        ({"x": torch.zeros(0)}, ValueError, "x must not be empty"),
        ({"x": torch.tensor([0.0, float("nan")] * 600)}, ValueError, "x contains NaN or Inf"),
        ({"x": torch.tensor([0.0, float("inf")] * 600)}, ValueError, "x contains NaN or Inf"),
        ({"x": torch.zeros(300), "center": False}, ValueError, "shorter than one frame"),
        ({"x": torch.zeros(200)}, ValueError, "too short for reflect padding"),
        ({"hop_length": 0}, ValueError, "hop_length"),
        ({"hop_length": 600}, ValueError, "hop_length"),
        ({"hop_length": 300, "win_length": 256}, ValueError, "hop_length"),
        ({"hop_length": 1.5}, TypeError, "hop_length"),
        ({"window": torch.ones(500)}, ValueError, "window must be 1-D of length"),
        ({"window": "kaiser"}, ValueError, "window must be one of"),
        ({"window": torch.ones(512, dtype=torch.int32)}, TypeError, "window must be a real"),
        ({"n_fft": 509}, ValueError, "n_fft must be a product of 2, 3 and 5"),
        ({"n_fft": 1}, ValueError, "n_fft"),
        ({"win_length": 600}, ValueError, "win_length"),
        ({"output": "phase"}, ValueError, "output must be"),
        ({"output": "compressed", "power": 0.0}, ValueError, "power"),
        ({"output": "compressed", "power": float("nan")}, ValueError, "power"),
        ({"pad_mode": "circular"}, ValueError, "pad_mode"),
    ],
)
def test_stft_bad_input(kwargs, exc, match):
    args = {"x": torch.zeros(2000), "n_fft": 512, "hop_length": 128, "window": "hann"}
    args.update(kwargs)
    x = args.pop("x")
    with pytest.raises(exc, match=match):
        ops.stft(x, **args)


def test_stft_nan_allowed_when_unchecked():
    x = torch.zeros(2000)
    x[1000] = float("nan")
    y = ops.stft(x, 512, 128, window="hann", check_finite=False)
    assert torch.isnan(y.real).any()


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"spec": torch.zeros(257, 10)}, TypeError, "spec must have dtype"),
        ({"spec": torch.zeros(258, 10, dtype=torch.complex64)}, ValueError, "n_bins = 257"),
        ({"spec": torch.zeros(1, 1, 257, 10, dtype=torch.complex64)}, ValueError, "spec must be 2-D"),
        ({"spec": torch.zeros(257, 0, dtype=torch.complex64)}, ValueError, "must not be empty"),
        ({"spec": torch.full((257, 10), complex(float("nan"), 0), dtype=torch.complex64)},
         ValueError, "spec contains NaN"),
        ({"input": "magnitude"}, ValueError, "cannot be inverted"),
        ({"length": 0}, ValueError, "length must be >= 1"),
        ({"window": "rect", "hop_length": 512, "win_length": 256}, ValueError, "hop_length"),
        ({"window": torch.zeros(512)}, ValueError, "NOLA"),
        ({"window": "hann", "center": False}, ValueError, "NOLA"),
    ],
)
def test_istft_bad_input(kwargs, exc, match):
    args = {"spec": torch.ones(257, 10, dtype=torch.complex64), "n_fft": 512, "hop_length": 128,
            "window": "hann"}
    args.update(kwargs)
    spec = args.pop("spec")
    with pytest.raises(exc, match=match):
        ops.istft(spec, **args)


def _stft_sum_in_child(_):
    # NumPy in and out: torch's own intra-op pool is not fork-safe here, ours must be
    x = np.ones((4, 20000), np.float32)
    return float(np.abs(ops.stft(x, 512, 128, window="hann")).sum())


def test_thread_pool_survives_fork():
    """A forked child (DataLoader workers, multiprocessing) must not wait on the parent's pool."""
    import multiprocessing as mp

    n0 = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        parent = _stft_sum_in_child(0)  # the pool exists in the parent before the fork
        with mp.get_context("fork").Pool(2) as pool:
            results = pool.map_async(_stft_sum_in_child, range(2)).get(timeout=120)
    finally:
        _C.set_num_threads(n0)
    assert results == [parent, parent]


def test_concurrent_calls_from_python_threads():
    import concurrent.futures as cf

    x = torch.from_numpy(noise(4, 30000))
    ref = ops.stft(x, 512, 128, window="hann")
    with cf.ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: ops.stft(x, 512, 128, window="hann"), range(8)))
    assert all(torch.equal(o, ref) for o in outs)


def test_reference_backend_backward():
    """With HUSHBOARD_BACKEND=reference the ops run their pure-torch bodies; their backward ops
    must still produce gradients (the body runs below the autograd key)."""
    code = (
        "import torch; from hushboard import ops\n"
        "w = ops.get_window('hann', 64, dtype=torch.float64)\n"
        "x = torch.randn(2, 300, dtype=torch.float64, requires_grad=True)\n"
        "ops.stft(x, 64, 16, window=w).abs().sum().backward()\n"
        "x2 = x.detach().clone().requires_grad_()\n"
        "torch.stft(x2, 64, 16, window=w, return_complex=True).abs().sum().backward()\n"
        "assert torch.allclose(x.grad, x2.grad, atol=1e-10), 'stft grad'\n"
        "s = torch.randn(1, 33, 20, dtype=torch.complex128, requires_grad=True)\n"
        "ops.istft(s, 64, 16, window=w).square().sum().backward()\n"
        "s2 = s.detach().clone().requires_grad_()\n"
        "torch.istft(s2, 64, 16, window=w).square().sum().backward()\n"
        "assert torch.allclose(s.grad, s2.grad, atol=1e-10), 'istft grad'\n"
        "print('ok')\n"
    )
    env = dict(os.environ, HUSHBOARD_BACKEND="reference")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]
