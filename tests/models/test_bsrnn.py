"""The BSRNN model: presets and configs, the fused-kernel path against the torch path,
causality, frame-by-frame streaming against offline, shapes of the separator, chunked
separation, weights files and bad input."""

from __future__ import annotations

import math

import pytest
import torch
from hushboard.models import BAND_LAYOUTS, BSRNN, BSRNN_CONFIGS, BSRNNConfig, music_band_layout

SMALL = dict(feature_dim=16, num_layers=2, hidden_size=12, mask_hidden=24)


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def noisy(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(*shape, generator=g)


def test_band_layouts():
    assert BAND_LAYOUTS["speech-16k"] == (2,) + (3,) * 10 + (8,) * 12 + (16,) * 7 + (17,)
    assert len(BAND_LAYOUTS["speech-16k"]) == 31 and sum(BAND_LAYOUTS["speech-16k"]) == 257
    assert len(BAND_LAYOUTS["speech-48k"]) == 36 and sum(BAND_LAYOUTS["speech-48k"]) == 481
    music = music_band_layout(44100, 2048)
    assert len(music) == 41 and sum(music) == 1025
    assert music[:10] == (4,) * 10 and music[10:22] == (11,) * 12 and music[22:30] == (23,) * 8


def test_presets_and_sizes():
    for name, cfg in BSRNN_CONFIGS.items():
        assert sum(cfg.bands) == cfg.n_fft // 2 + 1, name
    # the reference size: 31 bands, N = 64, 6 layers: 1.47 M parameters
    m = BSRNN("bsrnn-speech-16k")
    assert 1.40e6 < m.num_parameters() < 1.55e6
    lite = BSRNN("bsrnn-speech-16k-lite")
    assert lite.num_parameters() < m.num_parameters() / 4
    assert lite.macs_per_frame() < m.macs_per_frame()
    assert BSRNN("bsrnn-music-44k-lite").config.stems == ("vocals", "drums", "bass", "other")


def test_macs_per_frame_counts_every_product():
    cfg = BSRNNConfig(bands=(3, 6), n_fft=16, hop_length=4, feature_dim=4, num_layers=1,
                      hidden_size=5, mask_hidden=7)
    m = BSRNN(cfg)
    n, h, k = 4, 5, 2
    cell = 4 * h * (n + h)
    layer = k * (cell + h * n) + k * (2 * cell + 2 * h * n)
    split = 18 * n
    mask = k * n * 7 + 2 * 18 * 7
    assert m.macs_per_frame() == layer + split + mask
    assert m.macs_per_second() == pytest.approx(m.macs_per_frame() * 16000 / 4)


@pytest.mark.parametrize("bad, match", [
    (dict(bands=(2, 3)), "bands must cover"),
    (dict(rnn="tanh"), "rnn must be"),
    (dict(feature_dim=0), "feature_dim"),
    (dict(stems=("a", "a")), "stems"),
    (dict(hop_length=1024), "hop_length"),
    (dict(bands=(257, 0)), "band width"),
])
def test_bad_config(bad, match):
    with pytest.raises(ValueError, match=match):
        BSRNNConfig(**bad)
    with pytest.raises(ValueError, match="unknown BSRNN config"):
        BSRNN("bsrnn-nope")


CASES = {
    "lstm-causal": dict(SMALL),
    "gru-causal": dict(SMALL, rnn="gru"),
    "lstm-filter3": dict(SMALL, mask_frames=3),
    "gru-noncausal": dict(SMALL, rnn="gru", causal=False),
    # the separator's shape: stereo, several stems, bidirectional time path; N = 48 (six
    # 8-column strips in one residual block) and 2 * H = 56
    "lstm-stereo-stems-wide": dict(SMALL, feature_dim=48, hidden_size=28, causal=False,
                                   audio_channels=2, stems=("a", "b", "c")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fused_kernels_equal_torch_path(case):
    torch.manual_seed(0)
    cfg = BSRNNConfig(**CASES[case])
    model = BSRNN(cfg).eval()
    x = noisy(2, 4000, seed=1) if cfg.audio_channels == 1 else noisy(2, 2, 4000, seed=1)
    with torch.no_grad():
        fused = model(x)
    torch_path = model(x)  # gradients enabled: nn.LSTM/GRU and the band references
    assert torch_path.requires_grad and not fused.requires_grad
    stems = () if len(cfg.stems) == 1 else (len(cfg.stems),)
    assert fused.shape == (2, *stems, *x.shape[1:])
    assert rel_l2(fused, torch_path.detach()) < 1e-5


@pytest.mark.parametrize("case", ["lstm-filter3", "gru-noncausal"])
def test_per_layer_ops_path_equals_torch_path(case, monkeypatch):
    """Without the one-call native network (tracing, other devices) inference runs layer by
    layer on the custom ops; same function."""
    torch.manual_seed(0)
    model = BSRNN(BSRNNConfig(**CASES[case])).eval()
    x = noisy(2, 3000, seed=11)
    with torch.no_grad():
        net = model(x)
        monkeypatch.setattr(model, "_network", lambda spec: None)
        ops = model(x)
    assert rel_l2(ops, model(x).detach()) < 1e-5
    assert rel_l2(net, ops) < 1e-5
    if model.config.causal:
        spec = model._stft(x)[:, None]
        with torch.no_grad():
            offline = model.apply_mask(spec, model.masks_of(spec)[:, 0])
            state, frames = None, []
            for t in range(spec.shape[-1]):
                y, state = model.step(spec[..., t], state)
                frames.append(y[:, 0])
        assert rel_l2(torch.stack(frames, -1), offline) < 1e-5


def test_float64_model():
    torch.manual_seed(0)
    model = BSRNN(BSRNNConfig(**SMALL)).double().eval()
    x = noisy(3000, seed=2).double()
    with torch.no_grad():
        y = model(x)
    assert y.dtype == torch.float64 and y.shape == x.shape
    assert rel_l2(y, model(x).detach()) < 1e-12


@pytest.mark.parametrize("case", ["lstm-causal", "gru-causal", "lstm-filter3"])
def test_causal(case):
    torch.manual_seed(1)
    model = BSRNN(BSRNNConfig(**CASES[case])).eval()
    x = noisy(6000, seed=3)
    x2 = x.clone()
    x2[4000:] = noisy(2000, seed=4)
    with torch.no_grad():
        a, b = model(x), model(x2)
    # output sample i depends on input up to the end of the frames covering i (n_fft - 1 ahead)
    cut = 4000 - model.config.n_fft
    assert torch.equal(a[:cut], b[:cut])
    assert not torch.allclose(a[4000:], b[4000:])


def test_noncausal_step_rejected():
    model = BSRNN(BSRNNConfig(**CASES["gru-noncausal"])).eval()
    with pytest.raises(ValueError, match="causal"):
        model.step(torch.zeros(1, 1, 257, dtype=torch.complex64))


@pytest.mark.parametrize("case", ["lstm-causal", "gru-causal", "lstm-filter3"])
def test_step_equals_offline(case):
    torch.manual_seed(2)
    model = BSRNN(BSRNNConfig(**CASES[case])).eval()
    x = noisy(2, 3000, seed=5)
    spec = model._stft(x)[:, None]  # (B, 1, F, T)
    with torch.no_grad():
        masks = model.masks_of(spec)
        offline = model.apply_mask(spec, masks[:, 0])
        state, frames = None, []
        for t in range(spec.shape[-1]):
            y, state = model.step(spec[..., t], state)
            frames.append(y[:, 0])
    stepped = torch.stack(frames, -1)
    assert rel_l2(stepped, offline) < 1e-5


@pytest.mark.parametrize("preset", ["bsrnn-music-44k-lite", "bsrnn-speech-48k-lite"])
def test_autograd_masks_equal_the_fused_network(preset):
    """Training's autograd form (grouped band ops, the native LSTM training kernels, each
    stem's mask built from its runs of equal-width bands) gives the masks and the separated
    audio that inference's fused native network gives."""
    torch.manual_seed(4)
    model = BSRNN(preset).train()
    cfg = model.config
    g = torch.Generator().manual_seed(1)
    x = 0.1 * torch.randn(2, cfg.audio_channels, cfg.sample_rate // 5, generator=g)
    spec = model._stft(x.reshape(-1, x.shape[-1]))
    spec = spec.reshape(2, cfg.audio_channels, *spec.shape[-2:])
    with torch.no_grad():
        fused_masks = model.masks_of(spec)
        fused_out = model.separate(x.squeeze(1) if cfg.audio_channels == 1 else x)
    masks = model.masks_of(spec)
    out = model.separate(x.squeeze(1) if cfg.audio_channels == 1 else x)
    assert masks.requires_grad and out.requires_grad
    assert masks.shape == fused_masks.shape == (2, len(cfg.stems), cfg.audio_channels,
                                                cfg.n_bins, spec.shape[-1], cfg.mask_frames)
    assert rel_l2(masks.detach(), fused_masks) < 1e-5
    assert rel_l2(out.detach(), fused_out) < 1e-5


def test_stereo_multi_stem_shapes_and_mask_sum():
    torch.manual_seed(3)
    cfg = BSRNNConfig(bands=(8, 8, 17), n_fft=64, hop_length=16, sample_rate=8000,
                      audio_channels=2, stems=("a", "b", "c"), causal=False, **SMALL)
    model = BSRNN(cfg).eval()
    with torch.no_grad():
        one = model(noisy(2, 1000, seed=6))
        batch = model(noisy(3, 2, 1000, seed=6))
        sep = model.separate(noisy(2, 1000, seed=6))
    assert one.shape == (3, 2, 1000)
    assert batch.shape == (3, 3, 2, 1000)
    assert sep.shape == (1, 3, 2, 1000)
    assert torch.equal(sep[0], one)
    with pytest.raises(ValueError, match=r"\(2, time\)"):
        model(noisy(1000))


def test_separate_long():
    torch.manual_seed(4)
    cfg = BSRNNConfig(**CASES["gru-noncausal"])
    model = BSRNN(cfg).eval()
    x = noisy(16000 * 3, seed=7)
    with torch.no_grad():
        whole = model.separate(x)
        same = model.separate_long(x, chunk_seconds=5.0)
        chunked = model.separate_long(x, chunk_seconds=1.0, overlap_seconds=0.25)
        batched = model.separate_long(x, chunk_seconds=1.0, overlap_seconds=0.25,
                                      batch_chunks=2)
    assert torch.equal(same, whole)
    # chunks run as a batch (a GPU's use): the same result on the CPU, bit for bit
    assert torch.equal(batched, chunked)
    assert chunked.shape == whole.shape
    # far from the seams the chunks agree with the whole file to the model's memory
    err = (chunked - whole).abs()[..., 5000:11000]
    assert float(err.max() / whole.abs().max()) < 1e-2
    with pytest.raises(ValueError, match="chunk_seconds"):
        model.separate_long(x, chunk_seconds=1.0, overlap_seconds=1.0)
    with pytest.raises(ValueError, match="batch_chunks"):
        model.separate_long(x, chunk_seconds=1.0, overlap_seconds=0.25, batch_chunks=0)


def test_training_step_lowers_loss():
    torch.manual_seed(5)
    model = BSRNN(BSRNNConfig(**SMALL)).train()
    clean = noisy(4, 4000, seed=8)
    x = clean + 0.3 * noisy(4, 4000, seed=9)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss = ((model(x) - clean) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_weights_round_trip_and_errors(tmp_path):
    torch.manual_seed(6)
    model = BSRNN(BSRNNConfig(**SMALL, rnn="gru")).eval()
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = BSRNN.load(path)
    assert loaded.config == model.config
    x = noisy(2000, seed=10)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    sd = model.state_dict()
    bad = dict(sd)
    del bad["layers.1.band_fc.weight"]
    with pytest.raises(ValueError, match="missing tensor.*layers.1.band_fc.weight"):
        model.load_weights(bad)
    bad = dict(sd, **{"masks.0.w1": torch.zeros(3)})
    with pytest.raises(ValueError, match="'masks.0.w1' has shape"):
        model.load_weights(bad)
    nan = sd["band_split.weight"].clone()
    nan[0, 0] = math.nan
    with pytest.raises(ValueError, match="'band_split.weight' contains NaN"):
        model.load_weights(dict(sd, **{"band_split.weight": nan}))
    from hushboard.models import DCCRN
    DCCRN("dccrn-lite").save(tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match="does not hold a BSRNN"):
        BSRNN.load(tmp_path / "d.safetensors")
    with pytest.raises(FileNotFoundError):
        BSRNN.load(tmp_path / "none.safetensors")


def test_bad_audio():
    model = BSRNN(BSRNNConfig(**SMALL)).eval()
    with pytest.raises(TypeError, match="dtype"):
        model(noisy(1000).double())
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(1000, dtype=torch.int16))
    with pytest.raises(ValueError, match="empty"):
        model(torch.zeros(0))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        model(noisy(2, 2, 100))
    bad = noisy(1000)
    bad[10] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        model(bad)
    with pytest.raises(ValueError, match="frame must be"):
        model.step(torch.zeros(1, 257))
