"""The C++ DCCRN engine against the PyTorch model: same output (random weights, every rnn and
norm variant), independent of block size, per-channel state, reset, bad weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hushboard.fx import DCCRNDenoiser
from hushboard.models import DCCRN, DCCRNConfig
from hushboard.ops._native import _C

from helpers import engine_offline, rel_l2, tone_in_noise

SR = 16000
SMALL = dict(channels=(8, 16, 16, 32), rnn_layers=2, rnn_units=32)


def randomise(model: DCCRN, seed: int = 0) -> DCCRN:
    """Random running statistics and norm/PReLU parameters, so that folding them is tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            for name, buf in mod.named_buffers(recurse=False):
                if name in ("running_vrr", "running_vii", "running_var"):
                    buf.copy_(torch.rand(buf.shape, generator=g) * 0.7 + 0.3)
                elif name == "running_vri":
                    buf.copy_((torch.rand(buf.shape, generator=g) - 0.5) * 0.2)
                elif name.startswith("running_mean"):
                    buf.copy_(torch.randn(buf.shape, generator=g) * 0.5)
            for name, p in mod.named_parameters(recurse=False):
                if name.startswith(("gamma", "beta")) or (name in ("weight", "bias") and isinstance(
                        mod, (torch.nn.BatchNorm2d, torch.nn.PReLU))):
                    p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


@pytest.mark.parametrize("rnn", ["complex", "real"])
@pytest.mark.parametrize("norm", ["cbn", "bn", "none"])
def test_engine_equals_model(rnn, norm):
    torch.manual_seed(1)
    model = randomise(DCCRN(DCCRNConfig(rnn=rnn, norm=norm, **SMALL)))
    x = tone_in_noise(3.0, seed=2)
    y = DCCRNDenoiser(model).process(x, SR)
    ref = engine_offline(model, x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert rel_l2(y, ref) < 1e-5


def test_engine_equals_model_lite():
    torch.manual_seed(3)
    model = randomise(DCCRN("dccrn-lite"))
    x = tone_in_noise(3.0, seed=4)
    assert rel_l2(DCCRNDenoiser(model).process(x, SR), engine_offline(model, x)) < 1e-5


def test_block_size_independent_and_streaming():
    torch.manual_seed(5)
    fx = DCCRNDenoiser(randomise(DCCRN(DCCRNConfig(**SMALL))))
    x = tone_in_noise(1.0, seed=6)
    whole = fx.process(x, SR, buffer_size=4096)
    for bs in (1, 37, 100, 333):
        np.testing.assert_array_equal(fx.process(x, SR, buffer_size=bs), whole)
    # streaming calls of uneven sizes: latency_samples late, same samples
    assert fx.latency_samples == 511
    fx.reset()
    cuts = [0, 7, 250, 251, 1900, 5000, x.size]
    parts = [fx.process(x[a:b], SR, reset=False) for a, b in zip(cuts[:-1], cuts[1:])]
    streamed = np.concatenate(parts)
    np.testing.assert_array_equal(streamed[511:], whole[: x.size - 511])


def test_channels_are_independent_and_reset_restarts():
    torch.manual_seed(7)
    fx = DCCRNDenoiser(randomise(DCCRN(DCCRNConfig(rnn="real", **SMALL))))
    x = tone_in_noise(0.8, seed=8, channels=2)
    both = fx.process(x, SR)
    for c in range(2):
        np.testing.assert_array_equal(fx.process(x[c], SR), both[c])
    fx.process(x[:, :3000], SR)
    fx.process(x[:, 3000:], SR, reset=False)
    fx.reset()
    np.testing.assert_array_equal(fx.process(x, SR, reset=False)[:, 511:], both[:, :-511])


def test_other_sample_rate_resamples():
    torch.manual_seed(9)
    fx = DCCRNDenoiser(randomise(DCCRN(DCCRNConfig(**SMALL))))
    x = tone_in_noise(0.5, seed=10)
    x48 = np.interp(np.arange(x.size * 3) / 3, np.arange(x.size), x).astype(np.float32)
    y = fx.process(x48, 48000)
    assert y.shape == x48.shape and np.isfinite(y).all()
    assert fx.latency_samples > 3 * 511  # the engine's delay at 48 kHz plus the filters'


def test_weights_file_round_trip(tmp_path):
    torch.manual_seed(11)
    model = randomise(DCCRN(DCCRNConfig(**SMALL)))
    path = tmp_path / "m.safetensors"
    model.save(path)
    x = tone_in_noise(0.5, seed=12)
    np.testing.assert_array_equal(DCCRNDenoiser(path).process(x, SR),
                                  DCCRNDenoiser(model).process(x, SR))


def _engine(weights: dict, cfg: DCCRNConfig):
    return _C.DccrnEngine([c // 2 for c in cfg.channels], cfg.rnn == "complex", cfg.rnn_layers,
                          cfg.rnn_units, *cfg.kernel_size, cfg.stride[0], cfg.n_fft,
                          cfg.hop_length, weights, 1)


def test_bad_weights_are_named():
    cfg = DCCRNConfig(**SMALL)
    w = DCCRN(cfg).engine_weights()
    _engine(w, cfg)  # the good set builds
    missing = dict(w)
    del missing["enc.2.wr"]
    with pytest.raises(ValueError, match="missing tensor 'enc.2.wr'"):
        _engine(missing, cfg)
    shaped = dict(w, **{"rnn.1.i.w_hh": np.zeros((3, 3), np.float32)})
    with pytest.raises(ValueError, match=r"'rnn.1.i.w_hh' has shape \(3, 3\), expected"):
        _engine(shaped, cfg)
    bad = dict(w, **{"dec.0.norm_m": np.full_like(w["dec.0.norm_m"], np.nan)})
    with pytest.raises(ValueError, match="'dec.0.norm_m' has NaN"):
        _engine(bad, cfg)
    wrong_type = dict(w, **{"enc.0.br": w["enc.0.br"].astype(np.float64)})
    with pytest.raises(ValueError, match="'enc.0.br' must be a C-contiguous float32"):
        _engine(wrong_type, cfg)
    with pytest.raises(ValueError, match="missing tensor 'window'"):
        _engine({k: v for k, v in w.items() if k != "window"}, cfg)


def test_bad_model_argument():
    with pytest.raises(TypeError, match="model must be"):
        DCCRNDenoiser(42)
    with pytest.raises(FileNotFoundError):
        DCCRNDenoiser("no/such/file.safetensors")


def test_weights_file_as_denoise_model_and_cli(tmp_path):
    """A saved DCCRN runs wherever a model name is accepted: Denoise, and the CLI."""
    from hushboard.cli import main
    from hushboard.fx import Denoise
    from hushboard.io import read_audio, write_audio

    torch.manual_seed(13)
    model = randomise(DCCRN(DCCRNConfig(**SMALL)))
    path = tmp_path / "m.safetensors"
    model.save(path)
    x = tone_in_noise(0.5, seed=14)
    den = Denoise(str(path))
    assert den.model_sample_rate == SR
    np.testing.assert_array_equal(den.process(x, SR), DCCRNDenoiser(model).process(x, SR))
    assert den.latency_samples == 511
    with pytest.raises(ValueError, match="differs from the 16000 Hz"):
        Denoise(str(path), model_sample_rate=8000)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_audio(src, x[None], SR)
    assert main(["denoise", str(src), "-o", str(dst), "--model", str(path)]) == 0
    y, sr = read_audio(dst)
    assert sr == SR
    np.testing.assert_allclose(y[0], DCCRNDenoiser(model).process(x, SR), atol=1e-4)
