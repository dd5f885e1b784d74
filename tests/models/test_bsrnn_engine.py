"""The C++ BSRNN engine against the PyTorch model: same output (random weights; LSTM and GRU,
complex mask and complex filter, the 16 kHz and 48 kHz layouts), independent of block size,
per-channel state, reset, resampling, weights files, bad weights and unsupported models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hushboard.fx import BSRNNDenoiser
from hushboard.models import BSRNN, BSRNNConfig
from hushboard.models.bsrnn import BAND_LAYOUTS
from hushboard.ops._native import _C

from helpers import engine_offline, rel_l2, tone_in_noise

SR = 16000
SMALL = dict(feature_dim=16, num_layers=2, hidden_size=12, mask_hidden=24)


def randomise(model: BSRNN, seed: int = 0) -> BSRNN:
    """Non-trivial norm parameters, so that every weight the engine copies is exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith(("gamma", "beta")):
                p.add_(0.2 * torch.randn(p.shape, generator=g))
    return model.eval()


CASES = {
    "lstm": dict(SMALL),
    "gru": dict(SMALL, rnn="gru", feature_dim=13),  # N not a multiple of 8: the row tails
    "lstm-filter3": dict(SMALL, mask_frames=3),
    # N = 61: 8 strips of the residual projection, split 4 + 4 with a 5-wide tail; 2 * H = 40
    "wide": dict(SMALL, feature_dim=61, hidden_size=20),
    "48k": dict(SMALL, bands=BAND_LAYOUTS["speech-48k"], sample_rate=48000, n_fft=960,
                hop_length=480),
}


@pytest.mark.parametrize("case", list(CASES))
def test_engine_equals_model(case):
    torch.manual_seed(1)
    model = randomise(BSRNN(BSRNNConfig(**CASES[case])))
    sr = model.config.sample_rate
    x = tone_in_noise(2.0, seed=2, sr=sr)
    y = BSRNNDenoiser(model).process(x, sr)
    assert y.shape == x.shape and y.dtype == np.float32
    assert rel_l2(y, engine_offline(model, x)) < 1e-5


def test_engine_portable_path_equals_model():
    torch.manual_seed(15)
    model = randomise(BSRNN(BSRNNConfig(**CASES["lstm-filter3"])))
    x = tone_in_noise(1.0, seed=16)
    _C.set_simd_enabled(False)
    try:
        y = BSRNNDenoiser(model).process(x, SR)
    finally:
        _C.set_simd_enabled(True)
    assert rel_l2(y, engine_offline(model, x)) < 1e-5


def test_engine_equals_model_lite_preset():
    torch.manual_seed(3)
    model = randomise(BSRNN("bsrnn-speech-16k-lite"))
    x = tone_in_noise(2.0, seed=4)
    assert rel_l2(BSRNNDenoiser(model).process(x, SR), engine_offline(model, x)) < 1e-5


def test_block_size_independent_and_streaming():
    torch.manual_seed(5)
    fx = BSRNNDenoiser(randomise(BSRNN(BSRNNConfig(**CASES["lstm-filter3"]))))
    x = tone_in_noise(1.0, seed=6)
    whole = fx.process(x, SR, buffer_size=4096)
    for bs in (1, 37, 128, 333):
        y = fx.process(x, SR, buffer_size=bs)
        assert rel_l2(y, whole) < 1e-6, bs
    assert fx.latency_samples == 511
    fx.reset()
    cuts = [0, 7, 250, 251, 1900, 5000, x.size]
    parts = [fx.process(x[a:b], SR, reset=False) for a, b in zip(cuts[:-1], cuts[1:])]
    streamed = np.concatenate(parts)
    assert rel_l2(streamed[511:], whole[: x.size - 511]) < 1e-6


def test_channels_are_independent_and_reset_restarts():
    torch.manual_seed(7)
    fx = BSRNNDenoiser(randomise(BSRNN(BSRNNConfig(**CASES["gru"]))))
    x = tone_in_noise(0.8, seed=8, channels=2)
    both = fx.process(x, SR)
    for c in range(2):
        assert rel_l2(fx.process(x[c], SR), both[c]) < 1e-6
    fx.process(x[:, :3000], SR)
    fx.process(x[:, 3000:], SR, reset=False)
    fx.reset()
    assert rel_l2(fx.process(x, SR, reset=False)[:, 511:], both[:, :-511]) < 1e-6


def test_other_sample_rate_resamples():
    torch.manual_seed(9)
    fx = BSRNNDenoiser(randomise(BSRNN(BSRNNConfig(**SMALL))))
    x48 = tone_in_noise(0.5, seed=10, sr=48000)
    y = fx.process(x48, 48000)
    assert y.shape == x48.shape and np.isfinite(y).all()
    assert fx.latency_samples > 3 * 511  # the engine's delay at 48 kHz plus the filters'


def test_weights_file_round_trip(tmp_path):
    torch.manual_seed(11)
    model = randomise(BSRNN(BSRNNConfig(**SMALL)))
    path = tmp_path / "m.safetensors"
    model.save(path)
    x = tone_in_noise(0.5, seed=12)
    np.testing.assert_array_equal(BSRNNDenoiser(path).process(x, SR),
                                  BSRNNDenoiser(model).process(x, SR))


def test_unsupported_models_rejected():
    with pytest.raises(ValueError, match="causal mono models with one stem"):
        BSRNNDenoiser(BSRNN(BSRNNConfig(**SMALL, causal=False)))
    with pytest.raises(ValueError, match="causal mono models with one stem"):
        BSRNNDenoiser(BSRNN(BSRNNConfig(**SMALL, stems=("a", "b"))))
    with pytest.raises(TypeError, match="BSRNN or a weights path"):
        BSRNNDenoiser(42)


def _engine(weights: dict, cfg: BSRNNConfig):
    return _C.BsrnnEngine(list(cfg.bands), cfg.feature_dim, cfg.num_layers, cfg.hidden_size,
                          cfg.rnn == "gru", cfg.mask_hidden, cfg.mask_frames, cfg.n_fft,
                          cfg.hop_length, cfg.eps, weights, 1)


def test_bad_weights_are_named():
    cfg = BSRNNConfig(**SMALL)
    w = BSRNN(cfg).engine_weights()
    _engine(w, cfg)  # the good set builds
    missing = dict(w)
    del missing["layers.1.band_rnn_rev.w_hh"]
    with pytest.raises(ValueError, match="missing tensor 'layers.1.band_rnn_rev.w_hh'"):
        _engine(missing, cfg)
    shaped = dict(w, **{"mask.0.w2": np.zeros((3, 3), np.float32)})
    with pytest.raises(ValueError, match=r"'mask.0.w2' has shape \(3, 3\), expected"):
        _engine(shaped, cfg)
    nan = dict(w)
    nan["split.w"] = w["split.w"].copy()
    nan["split.w"][0, 0] = np.nan
    with pytest.raises(ValueError, match="'split.w' has NaN or Inf"):
        _engine(nan, cfg)
    with pytest.raises(ValueError, match="float32"):
        _engine(dict(w, **{"split.b": w["split.b"].astype(np.float64)}), cfg)
    with pytest.raises(ValueError, match="bands must cover"):
        _C.BsrnnEngine([2, 3], 16, 2, 12, False, 24, 1, 512, 128, 1e-5, w, 1)


def test_weights_file_in_denoise_and_cli(tmp_path):
    """A saved BSRNN runs wherever a model name is accepted: Denoise, and the CLI."""
    from hushboard.cli import main
    from hushboard.fx import Denoise
    from hushboard.io import read_audio, write_audio

    torch.manual_seed(13)
    model = randomise(BSRNN(BSRNNConfig(**SMALL)))
    path = tmp_path / "b.safetensors"
    model.save(path)
    x = tone_in_noise(0.5, seed=14)
    den = Denoise(str(path))
    assert den.model_sample_rate == SR
    np.testing.assert_array_equal(den.process(x, SR), BSRNNDenoiser(model).process(x, SR))
    assert den.latency_samples == 511
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_audio(src, x[None], SR)
    assert main(["denoise", str(src), "-o", str(dst), "--model", str(path)]) == 0
    y, sr = read_audio(dst)
    assert sr == SR
    np.testing.assert_allclose(y[0], BSRNNDenoiser(model).process(x, SR), atol=1e-4)
    other = tmp_path / "o.safetensors"
    from safetensors.torch import save_file
    save_file({"a": torch.zeros(2)}, str(other), metadata={"model": "Demucs"})
    with pytest.raises(ValueError, match="holds no DCCRN or BSRNN"):
        Denoise(str(other))


def _network(cfg: BSRNNConfig, weights: dict, stems: int | None = None):
    return _C.BsrnnNetwork(list(cfg.bands), cfg.audio_channels, cfg.feature_dim, cfg.num_layers,
                           cfg.hidden_size, cfg.rnn == "gru", cfg.causal, cfg.mask_hidden,
                           cfg.mask_frames, len(cfg.stems) if stems is None else stems, cfg.eps,
                           weights)


def test_network_state_and_errors():
    """The one-call network: carried state equals one long call; bad shapes are named."""
    torch.manual_seed(17)
    cfg = BSRNNConfig(**SMALL)
    model = randomise(BSRNN(cfg))
    net = _network(cfg, model.engine_weights())
    x = np.random.default_rng(0).standard_normal((2, 10, net.in_features)).astype(np.float32)
    whole = net.forward(x)
    state = np.zeros((2, net.state_floats), np.float32)
    parts = np.concatenate([net.forward(np.ascontiguousarray(x[:, a:b]), state)
                            for a, b in ((0, 3), (3, 4), (4, 10))], axis=2)
    assert whole.shape == (1, 2, 10, net.out_features)
    assert np.abs(parts - whole).max() <= 1e-5 * np.abs(whole).max()
    with pytest.raises(ValueError, match="x must have shape"):
        net.forward(x[:, :, :5].copy())
    with pytest.raises(ValueError, match="state must have shape"):
        net.forward(x, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="more mask estimators"):
        _network(cfg, dict(model.engine_weights(), **{"mask.1.w1": np.zeros(1, np.float32)}))
    nc = BSRNNConfig(**SMALL, causal=False, stems=("a", "b"))
    ncnet = _network(nc, BSRNN(nc).engine_weights())
    assert ncnet.forward(x).shape == (2, 2, 10, ncnet.out_features) and ncnet.state_floats == 0
    with pytest.raises(ValueError, match="only a causal model"):
        ncnet.forward(x, np.zeros((2, 0), np.float32))
