"""The training loop: losses, schedule, a tiny run that lowers the loss and exports a model the
engine runs, and a resumed run equal to an uninterrupted one."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest
import torch
from hushboard.train import TrainConfig, mrstft_loss, si_snr_loss, train
from hushboard.train.loop import lr_at

SR = 16000


class Tones(torch.utils.data.Dataset):
    """Harmonic tones with vibrato in white noise: a stand-in corpus that isolates the loop
    (the real corpus is tested with hushboard.data)."""

    def __init__(self, n: int, seconds: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        t = np.arange(int(SR * seconds)) / SR
        self.items = []
        for _ in range(n):
            f0 = rng.uniform(110, 260)
            phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / SR
            clean = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
            noisy = clean + rng.uniform(0.05, 0.2) * rng.standard_normal(t.size)
            self.items.append((noisy.astype(np.float32), clean.astype(np.float32)))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def test_losses():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8000, generator=g)
    n = 0.3 * torch.randn(2, 8000, generator=g)
    assert float(si_snr_loss(x, x)) < -60
    assert float(si_snr_loss(x + n, x)) == pytest.approx(-10 * np.log10(1 / 0.09), abs=0.3)
    assert float(mrstft_loss(x, x)) < 1e-5
    assert float(mrstft_loss(x + n, x)) > float(mrstft_loss(x + 0.1 * n, x)) > 0
    with pytest.raises(ValueError, match="shapes differ"):
        mrstft_loss(x, x[:, :100])


def test_schedule_and_config():
    cfg = TrainConfig(model="bsrnn-speech-16k-lite", steps=100, warmup_steps=10, lr=1e-3,
                      min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(1e-4)
    assert lr_at(9, cfg) == pytest.approx(1e-3)
    assert lr_at(99, cfg) == pytest.approx(1e-4, rel=1e-2)
    assert lr_at(55, cfg) < lr_at(20, cfg)
    with pytest.raises(ValueError, match="unknown model preset"):
        TrainConfig(model="unet")
    TrainConfig(model="bsrnn-music-44k-lite")  # the separator trains too
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


def _cfg(**kw) -> TrainConfig:
    base = dict(model="bsrnn-speech-16k-lite", steps=12, batch_size=2, segment_seconds=0.5,
                lr=3e-3, warmup_steps=2, valid_every=6, checkpoint_every=6, valid_items=4,
                seed=3)
    return TrainConfig(**{**base, **kw})


def test_tiny_run_lowers_loss_and_exports(tmp_path):
    from hushboard.fx import BSRNNDenoiser
    from hushboard.models import BSRNN

    data = Tones(4, 0.5, seed=1)
    logs = []
    result = train(_cfg(), data, data, tmp_path, progress=False, data_note="4 tones",
                   on_log=logs.append)
    assert result["step"] == 12 and len(logs) == 2
    with open(tmp_path / "log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [6, 12]
    # before any training the model's validation loss on the same tones
    torch.manual_seed(3)
    from hushboard.train.loop import _collate, build_model, evaluate
    fresh = evaluate(build_model("bsrnn-speech-16k-lite"), [_collate([data[i] for i in range(4)])],
                     torch.device("cpu"), 1.0)
    assert logs[-1]["valid_loss"] < fresh["valid_loss"] - 1.0
    assert (tmp_path / "curves.png").stat().st_size > 1000
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "4 tones" in card and "parameters" in card and "latency" in card
    model = BSRNN.load(result["weights"])
    x = data[0][0]
    y = BSRNNDenoiser(model).process(x, SR)
    lat = model.config.n_fft - 1
    with torch.no_grad():
        ref = model(torch.from_numpy(np.concatenate([x, np.zeros(lat, np.float32)])))[:x.size]
    assert np.linalg.norm(y - ref.numpy()) / np.linalg.norm(ref.numpy()) < 1e-5
    with pytest.raises(ValueError, match="already holds a run"):
        train(_cfg(), data, data, tmp_path, progress=False)


class _Stop(Exception):
    """Interrupts a run from its log callback, as a killed process would."""


def _stop_at_3(row):
    if row["step"] == 3:
        raise _Stop


def test_resume_equals_uninterrupted_run(tmp_path):
    data = Tones(6, 0.5, seed=2)
    cfg = _cfg(model="dccrn-lite", steps=6, valid_every=3, checkpoint_every=3)
    straight = train(cfg, data, data, tmp_path / "a", progress=False)

    with pytest.raises(_Stop):
        train(cfg, data, data, tmp_path / "b", progress=False, on_log=_stop_at_3)
    resumed = train(cfg, data, data, tmp_path / "b", resume=True, progress=False)
    assert resumed["step"] == 6
    from safetensors.torch import load_file
    a = load_file(straight["weights"])
    b = load_file(resumed["weights"])
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="no checkpoint"):
        train(cfg, data, data, tmp_path / "c", resume=True, progress=False)


def test_resume_with_fewer_steps_recomputes_the_schedule(tmp_path):
    """--resume --steps N (N smaller than the run began with) anneals over the new N steps."""
    data = Tones(6, 0.5, seed=2)
    cfg = _cfg(model="dccrn-lite", steps=12, valid_every=3, checkpoint_every=3, warmup_steps=1)

    with pytest.raises(_Stop):
        train(cfg, data, data, tmp_path, progress=False, on_log=_stop_at_3)
    short = dataclasses.replace(cfg, steps=6)
    assert train(short, data, data, tmp_path, resume=True, progress=False)["step"] == 6
    with open(tmp_path / "log.csv") as fh:
        lrs = {int(r["step"]): float(r["lr"]) for r in csv.DictReader(fh)}
    assert sorted(lrs) == [3, 6]
    assert lrs[3] == pytest.approx(lr_at(2, cfg))
    assert lrs[6] == pytest.approx(lr_at(5, short))
    assert lr_at(5, short) < lr_at(5, cfg)  # the shorter schedule is further down its cosine


def test_init_from_weights(tmp_path):
    data = Tones(4, 0.5, seed=4)
    first = train(_cfg(steps=2, valid_every=2, checkpoint_every=2), data, data, tmp_path / "a",
                  progress=False)
    seen = {}

    def grab(row):
        seen.update(row)

    # lr ~ 0: the fine-tuned run stays at the initial weights, so its validation equals the
    # first run's final validation
    tiny_lr = _cfg(steps=1, valid_every=1, checkpoint_every=1, lr=1e-12, warmup_steps=0)
    train(tiny_lr, data, data, tmp_path / "b", progress=False, init=first["weights"],
          on_log=grab)
    assert seen["valid_loss"] == pytest.approx(first["valid_loss"], rel=1e-5)
    # another config of equal width: the dual-path layers transfer, the band-specific
    # tensors keep their fresh initialisation, and the card says so
    out = train(_cfg(model="bsrnn-speech-48k-lite", steps=1, lr=1e-12, warmup_steps=0),
                data, data, tmp_path / "c", progress=False, init=first["weights"])
    assert "by transfer" in open(out["card"]).read()


def test_init_weights_transfer(tmp_path):
    import dataclasses

    from hushboard.models import BSRNN, DCCRN, BSRNN_CONFIGS
    from hushboard.train.loop import init_weights

    torch.manual_seed(0)
    src = BSRNN("bsrnn-speech-16k-lite")
    with torch.no_grad():
        for p in src.parameters():
            p.add_(torch.rand_like(p))  # distinct from any fresh initialisation
    src.save(tmp_path / "src.safetensors")
    dst = BSRNN("bsrnn-speech-48k-lite")
    fresh = {k: v.clone() for k, v in dst.state_dict().items()}
    note = init_weights(dst, tmp_path / "src.safetensors")
    a, b = src.state_dict(), dst.state_dict()
    same = [k for k in b if k in a and a[k].shape == b[k].shape]
    assert any(".time_" in k or "layers." in k for k in same), same[:5]
    assert all(torch.equal(a[k], b[k]) for k in same)
    kept = [k for k in b if k not in same]
    assert kept and all(torch.equal(fresh[k], b[k]) for k in kept)
    assert f"{len(same)} of {len(b)} tensors" in note
    # same config: everything loads
    dst16 = BSRNN("bsrnn-speech-16k-lite")
    assert "all tensors" in init_weights(dst16, tmp_path / "src.safetensors")
    assert all(torch.equal(a[k], v) for k, v in dst16.state_dict().items())
    # nothing in common, another model class, a file with NaN
    other = BSRNN(dataclasses.replace(BSRNN_CONFIGS["bsrnn-speech-48k-lite"], feature_dim=24,
                                      hidden_size=20, mask_hidden=40))
    with pytest.raises(ValueError, match="no tensor of matching"):
        init_weights(other, tmp_path / "src.safetensors")
    with pytest.raises(ValueError, match="does not hold a DCCRN"):
        init_weights(DCCRN("dccrn-lite"), tmp_path / "src.safetensors")
    bad = {k: v.clone() for k, v in a.items()}
    key = same[0]
    bad[key].view(-1)[0] = float("nan")
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(str(tmp_path / "src.safetensors"), framework="pt") as fh:
        meta = fh.metadata()
    save_file(bad, str(tmp_path / "nan.safetensors"), metadata=meta)
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(ValueError, match="NaN or Inf"):
        init_weights(BSRNN("bsrnn-speech-48k-lite"), tmp_path / "nan.safetensors")
    assert all(torch.equal(before[k], v) for k, v in dst.state_dict().items())


def _grown_from_small(tmp_path, preset, rnn, seed, src_frames=1, **bigger):
    """A small BSRNN of ``preset`` (hidden 12, 2 layers, ``src_frames`` filter taps; perturbed
    weights) saved to ``src.safetensors``, and a model with the ``bigger`` config fields
    initialised from it, checked to compute the small one's function through the kernels and
    the torch modules.
    Returns (base config, small model, grown model, init note, input)."""
    import dataclasses

    from hushboard.models import BSRNN, BSRNN_CONFIGS
    from hushboard.train.loop import init_weights

    torch.manual_seed(seed)
    base = dataclasses.replace(BSRNN_CONFIGS[preset], rnn=rnn, hidden_size=12, feature_dim=16,
                               mask_hidden=8, num_layers=2, mask_frames=src_frames)
    src = BSRNN(base).eval()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(0.1 * torch.randn_like(p))
    src.save(tmp_path / "src.safetensors")
    dst = BSRNN(dataclasses.replace(base, **bigger)).eval()
    note = init_weights(dst, tmp_path / "src.safetensors")
    n_in = base.audio_channels
    x = 0.3 * torch.randn(2, n_in, base.sample_rate // 4) if n_in > 1 else \
        0.3 * torch.randn(2, base.sample_rate // 4)
    for kernels in (True, False):
        src.use_kernels = dst.use_kernels = kernels
        with torch.no_grad():
            a, b = src(x), dst(x)
        assert a.abs().max() > 1e-3
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4)
    return base, src, dst, note, x


@pytest.mark.parametrize("preset,rnn", [("bsrnn-speech-16k-lite", "lstm"),
                                        ("bsrnn-speech-16k-lite", "gru"),
                                        ("bsrnn-music-44k-lite", "lstm")])
def test_init_widens_rnns(tmp_path, preset, rnn):
    """A narrower model's weights start a model with wider RNNs (more ``hidden_size``, all else
    equal) at exactly the narrower one's function, through the kernels and the torch modules,
    causal (one-way time RNN) and bidirectional; the new units then learn."""
    import dataclasses

    from hushboard.models import BSRNN
    from hushboard.train.loop import init_weights

    base, src, dst, note, x = _grown_from_small(tmp_path, preset, rnn, 1, hidden_size=19)
    assert "widening its RNNs from 12 to 19 units" in note
    # the old units' weights are the source's, gate block by gate block
    gates = 4 if rnn == "lstm" else 3
    s, d = src.state_dict(), dst.state_dict()
    for g in range(gates):
        torch.testing.assert_close(d["layers.1.band_rnn.weight_hh_l0"][g * 19:g * 19 + 12, :12],
                                   s["layers.1.band_rnn.weight_hh_l0"][g * 12:(g + 1) * 12],
                                   rtol=0, atol=0)
    assert torch.count_nonzero(d["layers.0.band_fc.weight"][:, 12:19]) == 0
    # the new units learn: the output columns for them get a gradient at once
    dst.train()
    dst.use_kernels = False
    dst(x).square().mean().backward()
    assert dst.layers[0].band_fc.weight.grad[:, 12:19].abs().sum() > 0
    # anything else changed as well, or a narrower destination: no widening (plain transfer)
    for cfg in (dataclasses.replace(base, hidden_size=19, feature_dim=20),
                dataclasses.replace(base, hidden_size=8)):
        note = init_weights(BSRNN(cfg), tmp_path / "src.safetensors")
        assert "widening" not in note and "by transfer" in note


@pytest.mark.parametrize("preset,rnn,hidden", [("bsrnn-speech-16k-lite", "lstm", 12),
                                               ("bsrnn-speech-16k-lite", "gru", 17),
                                               ("bsrnn-music-44k-lite", "lstm", 12),
                                               ("bsrnn-music-44k-lite", "lstm", 19)])
def test_init_deepens(tmp_path, preset, rnn, hidden):
    """A model's weights start one with more dual-path layers (and, at once, wider RNNs when
    ``hidden`` grows) at exactly its function: the source's layers first, the new ones last as
    identities (zero residual output layers) whose RNNs then learn; causal and bidirectional,
    through the kernels and the torch modules."""
    import dataclasses

    from hushboard.models import BSRNN
    from hushboard.train.loop import init_weights

    base, src, dst, note, x = _grown_from_small(tmp_path, preset, rnn, 2, num_layers=3,
                                                hidden_size=hidden)
    assert "deepening it from 2 to 3 dual-path layers" in note
    assert ("widening its RNNs from 12 to 19 units" in note) == (hidden == 19)
    s, d = src.state_dict(), dst.state_dict()
    for k in ("band_split.weight", "masks.0.w2", "layers.1.time_norm.weight"):
        assert torch.equal(d[k], s[k])
    for k in ("time_fc.weight", "time_fc.bias", "band_fc.weight", "band_fc.bias"):
        assert torch.count_nonzero(d[f"layers.2.{k}"]) == 0
    # the new layer's RNNs are fresh (not zero), and its output layers learn at once
    assert d["layers.2.band_rnn.weight_ih_l0"].abs().sum() > 0
    dst.train()
    dst.use_kernels = False
    dst(x).square().mean().backward()
    assert dst.layers[2].time_fc.weight.grad.abs().sum() > 0
    assert dst.layers[2].band_fc.weight.grad.abs().sum() > 0
    # a shallower destination, or another change beside the depth: no growth (plain transfer)
    for cfg in (dataclasses.replace(base, num_layers=1),
                dataclasses.replace(base, num_layers=3, mask_hidden=9),
                dataclasses.replace(base, num_layers=3, hidden_size=8)):
        note = init_weights(BSRNN(cfg), tmp_path / "src.safetensors")
        assert "deepening" not in note and "by transfer" in note


@pytest.mark.parametrize("preset,src_frames,frames,more", [
    ("bsrnn-music-44k-lite", 1, 2, {}),
    ("bsrnn-speech-16k-lite", 2, 4, {}),
    ("bsrnn-speech-16k-lite", 1, 3, {"num_layers": 3, "hidden_size": 17}),
])
def test_init_lengthens_filter(tmp_path, preset, src_frames, frames, more):
    """A model's weights start one whose mask heads give a longer complex filter
    (``mask_frames``; from a plain mask, or from a shorter filter; alone or with wider and
    deeper RNNs) at exactly its function: the source's taps give the same masks, the new
    (older) taps are zero, and they learn at once; a shorter destination is a plain transfer."""
    import dataclasses

    from hushboard.models import BSRNN
    from hushboard.train.loop import init_weights

    base, src, dst, note, x = _grown_from_small(tmp_path, preset, "lstm", 3,
                                                src_frames=src_frames, mask_frames=frames,
                                                **more)
    assert (f"lengthening its complex filter from {src_frames} to {frames} frames (the new "
            "taps at zero)") in note
    assert ("deepening" in note) == bool(more)
    src.use_kernels = dst.use_kernels = False
    c = base.audio_channels
    spec = src._stft(x.reshape(-1, x.shape[-1]))
    spec = spec.reshape(-1, c, *spec.shape[-2:])
    with torch.no_grad():
        old, new = src.masks_of(spec), dst.masks_of(spec)
    assert old.shape[-1] == src_frames and new.shape[-1] == frames
    assert old.abs().amax() > 1e-2
    torch.testing.assert_close(new[..., :src_frames], old, atol=1e-6, rtol=1e-5)
    assert torch.count_nonzero(new[..., src_frames:]) == 0
    # exactly the new taps' value rows are zero (per band, bins x channels x new taps x re/im),
    # and they get a gradient at once: all but the imaginary parts at DC and Nyquist, which
    # the inverse STFT of a real signal drops (no tap of a fresh model learns those either)
    w2 = dst.masks[0].w2
    zero = w2.detach().abs().sum(1) == 0
    new_taps = frames - src_frames
    assert int(zero.sum()) == sum(base.bands) * c * new_taps * 2
    dst.train()
    dst(x).square().mean().backward()
    assert int((w2.grad[zero].abs().sum(1) == 0).sum()) == 2 * c * new_taps
    # a shorter filter, or another change beside it: no growth (plain transfer)
    for cfg in (dataclasses.replace(base, mask_frames=max(1, src_frames - 1)),
                dataclasses.replace(base, mask_frames=frames, mask_hidden=9)):
        if cfg.mask_frames == src_frames:
            continue
        note = init_weights(BSRNN(cfg), tmp_path / "src.safetensors")
        assert "lengthening" not in note and "by transfer" in note


def test_fix_polarity_turns_an_inverted_denoiser_right_side_up():
    from hushboard.models import DCCRN
    from hushboard.train.loop import fix_polarity

    torch.manual_seed(0)
    model = DCCRN("dccrn-lite").train()
    noisy = torch.randn(2, 4000) * 0.1
    with torch.no_grad():
        y = model.eval()(noisy)
    model.train()
    dev = torch.device("cpu")
    # a reference the output matches: nothing to fix, the model and its mode are untouched
    assert not fix_polarity(model, [(noisy, y.clone())], dev) and model.training
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(noisy), y)
    # a reference of the other sign: the output is flipped, exactly
    assert fix_polarity(model, [(noisy[:1], -y[:1]), (noisy[1:], -y[1:])], dev)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(noisy), -y, rtol=1e-5, atol=1e-7)
    # a model without flip_polarity (BSRNN) is left alone
    from hushboard.models import BSRNN

    bsrnn = BSRNN("bsrnn-speech-16k-lite").eval()
    x = torch.randn(1, 4000) * 0.1
    with torch.no_grad():
        assert not fix_polarity(bsrnn, [(x, -bsrnn(x))], dev)
