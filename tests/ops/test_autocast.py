"""The fused ops inside torch.autocast: they run in float32 (half inputs cast up, autocast off
inside, so the torch math in their kernels stays float32 too), as autocast does with torch's
precision-sensitive ops. Outside autocast a half input is still refused. The models train and
run under bfloat16 autocast (the training loop's mode on CUDA). The CUDA cases skip without a
GPU (HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure)."""

from __future__ import annotations

import pytest
import torch
from helpers import require_cuda, rnn_params
from hushboard import ops
from hushboard.models import BSRNN, DCCRN


def _cases(dev: str):
    """(name, fn, float32 args, kwargs) for every public fused op."""
    g = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g).to(dev)

    dims = [3, 5, 4]
    w_ih, w_hh, b_ih, b_hh = (t.to(dev) for t in rnn_params(4, 6, 7, seed=1))
    gw_ih, gw_hh, gb_ih, gb_hh = (t.to(dev) for t in rnn_params(3, 6, 7, seed=2))
    win = torch.hann_window(32).to(dev)
    spec = ops.stft(r(2, 200), 32, 8, 32, win)
    return [
        ("stft", ops.stft, [r(2, 200), 32, 8, 32, win], {}),
        ("istft", ops.istft, [spec, 32, 8, 32, win], {"length": 200}),
        ("complex_conv2d", ops.complex_conv2d, [r(2, 6, 9, 7), r(4, 3, 3, 2), r(4, 3, 3, 2),
                                                r(4), r(4)], {"stride": (2, 1)}),
        ("complex_conv_transpose2d", ops.complex_conv_transpose2d,
         [r(2, 6, 5, 7), r(3, 4, 3, 2), r(3, 4, 3, 2), r(4), r(4)], {"stride": (2, 1)}),
        ("band_split", ops.band_split, [r(3, 4, 12), dims, r(12), r(12), r(8, 12), r(3, 8)],
         {}),
        ("band_mask", ops.band_mask, [r(3, 4, 3, 8), dims, r(3, 8), r(3, 8), r(3, 10, 8),
                                      r(3, 10), r(24, 10), r(24)], {"glu": True}),
        ("lstm_layer", ops.lstm_layer, [r(5, 9, 6), w_ih, w_hh, b_ih + b_hh, r(5, 7), r(5, 7)],
         {}),
        ("gru_layer", ops.gru_layer, [r(5, 9, 6), gw_ih, gw_hh, gb_ih, gb_hh, r(5, 7)], {}),
    ]


def _flat(out):
    return list(out) if isinstance(out, tuple) else [out]


def _check_float32_under_autocast(dev: str, half: torch.dtype):
    for name, fn, args, kwargs in _cases(dev):
        want = _flat(fn(*args, **kwargs))
        # half inputs (the activations autocast makes) and float32 weights, as in a model
        mixed = [a.to(half) if isinstance(a, torch.Tensor) and i == 0 and not a.is_complex()
                 else a for i, a in enumerate(args)]
        up = [a.float() if isinstance(a, torch.Tensor) and a.dtype == half else a
              for a in mixed]
        want_mixed = _flat(fn(*up, **kwargs))
        with torch.autocast(dev, dtype=half):
            got = _flat(fn(*mixed, **kwargs))
            got_f32 = _flat(fn(*args, **kwargs))
        for g, w in zip(got_f32, want):
            assert g.dtype == w.dtype, name
            torch.testing.assert_close(g, w, rtol=0, atol=0, msg=name)
        for g, w in zip(got, want_mixed):
            assert g.dtype == w.dtype, name
            torch.testing.assert_close(g, w, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("half", [torch.bfloat16, torch.float16])
def test_ops_run_float32_under_cpu_autocast(half):
    if half == torch.float16:
        try:
            with torch.autocast("cpu", dtype=torch.float16):
                pass
        except (RuntimeError, ValueError):
            pytest.skip("this torch has no float16 CPU autocast")
    _check_float32_under_autocast("cpu", half)


def test_half_input_outside_autocast_is_refused():
    x = torch.randn(2, 6, 9, 7, dtype=torch.bfloat16)
    w = torch.randn(4, 3, 3, 2)
    with pytest.raises(TypeError, match="x must be"):
        ops.complex_conv2d(x, w, w)


@pytest.mark.parametrize("preset", ["dccrn-lite", "bsrnn-speech-16k-lite"])
def test_models_train_and_run_under_bf16_autocast(preset):
    torch.manual_seed(0)
    model = (DCCRN if preset.startswith("dccrn") else BSRNN)(preset)
    x = 0.1 * torch.randn(2, 8000)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = model(x)
    y.float().square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all()
               for g in grads)
    model.eval()
    with torch.no_grad():
        ref = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = model(x)
    assert got.dtype == torch.float32
    # the GEMMs outside the fused ops run in bfloat16 (8 mantissa bits): within 2 % of the
    # output's range (measured ~0.4 % for dccrn-lite; 0 for BSRNN, whose CPU inference is one
    # native float32 call)
    assert float((got - ref).abs().max()) <= 0.02 * float(ref.abs().max())


def test_ops_run_float32_under_cuda_autocast():
    require_cuda()
    _check_float32_under_autocast("cuda", torch.bfloat16)
    _check_float32_under_autocast("cuda", torch.float16)


@pytest.mark.parametrize("preset", ["dccrn-lite", "bsrnn-speech-16k-lite"])
def test_models_under_cuda_autocast(preset):
    require_cuda()
    torch.manual_seed(0)
    model = (DCCRN if preset.startswith("dccrn") else BSRNN)(preset).eval().cuda()
    x = 0.1 * torch.randn(4, 16000, device="cuda")
    with torch.no_grad():
        ref = model(x)
        for half in (torch.bfloat16, torch.float16):
            with torch.autocast("cuda", dtype=half):
                got = model(x)
            assert got.dtype == torch.float32
            assert float((got - ref).abs().max()) <= 0.02 * float(ref.abs().max()), half
