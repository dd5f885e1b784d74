"""The training loop on a separator: loss, validation uSDR, export (synthetic stems)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from hushboard.train.loop import TrainConfig, build_model, evaluate, is_separator, train
from hushboard.train.losses import sdr_loss, separation_loss

SR = 44100


class Stems:
    """Items (mix (2, T), stems (4, 2, T)): a low sine 'bass', clicks 'drums', a vibrato tone
    'vocals' and a chord 'other', with random pitches, levels and pans."""

    def __init__(self, n: int, seconds: float, seed: int) -> None:
        self.items = []
        rng = np.random.default_rng(seed)
        t = np.arange(int(seconds * SR)) / SR
        for _ in range(n):
            f0 = rng.uniform(50, 110)
            bass = 0.3 * np.sin(2 * np.pi * f0 * t)
            drums = np.zeros_like(t)
            for k in rng.integers(0, t.size - 400, 6):
                drums[k:k + 400] += rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
            fv = rng.uniform(300, 600)
            vocals = 0.2 * np.sin(2 * np.pi * fv * t + 3 * np.sin(2 * np.pi * 5 * t))
            other = sum(0.1 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t) for _ in range(3))
            pans = rng.uniform(0.3, 0.7, 4)
            stems = np.stack([np.stack([np.sqrt(1 - p) * x, np.sqrt(p) * x])
                              for x, p in zip((vocals, drums, bass, other), pans)])
            stems = stems.astype(np.float32)
            self.items.append((stems.sum(0), stems))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


def test_losses():
    ref = torch.randn(2, 4, 2, 4096)
    noise = torch.randn_like(ref)
    noise *= ref.norm(dim=(-2, -1), keepdim=True) / noise.norm(dim=(-2, -1), keepdim=True)
    # estimate = reference + noise 20 dB down: the loss is -20 dB
    assert float(sdr_loss(ref + 0.1 * noise, ref, 0.0)) == pytest.approx(-20.0, abs=1e-3)
    silent = torch.zeros(1, 1, 2, 1000)
    leak = torch.full_like(silent, 1e-2)  # energy 0.2: the loss is 10 log10(1 + 0.2 / eps)
    assert float(sdr_loss(leak, silent, 0.2)) == pytest.approx(10 * np.log10(2), abs=1e-4)
    mix = ref.sum(1)
    # a perfect estimate reaches the cap set by eps (the mix 10 dB down, shared by 4 stems):
    # 10 log10(1 + E_stem / (E_mix / 40)): 10.4 dB for 4 independent stems of equal energy
    perfect = float(separation_loss(ref, ref, mix, 0.0))
    assert -10.7 < perfect < -10.1
    assert float(separation_loss(ref, ref, mix, 0.0, silence_db=-30)) == pytest.approx(
        -10 * np.log10(1001), abs=0.2)
    assert float(separation_loss(ref, ref, mix, 1.0)) == pytest.approx(perfect, abs=0.01)
    # the mix as every stem's estimate: SDR 10 log10((E + eps) / (3 E + eps)), eps = E / 10
    assert float(separation_loss(mix[:, None].expand_as(ref), ref, mix, 0.0)) == pytest.approx(
        -10 * np.log10(1.1 / 3.1), abs=0.2)
    with pytest.raises(ValueError, match="expected estimate"):
        separation_loss(ref, ref, ref)
    with pytest.raises(ValueError, match="shapes differ"):
        sdr_loss(ref, ref[..., :10], 1.0)


def _floor_reference(estimate, reference, mix, floor, weights=None):
    """separation_loss without MR-STFT (and unchunked), in float64 from its documented
    formula; ``weights``: one per stem."""
    est, ref, mx = (t.double() for t in (estimate, reference, mix))
    e = mx.pow(2).sum((-2, -1))[:, None] * 0.1 / ref.shape[1] + 1e-8
    energy = ref.pow(2).sum((-2, -1))
    if floor == "fade":
        e = e * (e / (e + energy)) ** 2 + 1e-3 * energy
    sdr = 10 * torch.log10((energy + e) / ((ref - est).pow(2).sum((-2, -1)) + e))
    w = torch.ones(sdr.shape[1], dtype=torch.float64) if weights is None else \
        torch.tensor(weights, dtype=torch.float64)
    return -(sdr * w).sum() / (w.sum() * sdr.shape[0])


def test_fading_floor_keeps_silence_and_lifts_the_cap():
    g = torch.Generator().manual_seed(3)
    ref = torch.randn(3, 4, 2, 1531, generator=g) * torch.tensor([1.0, 0.5, 0.2, 0.05])[:, None, None]
    ref[0, 1] = 0.0  # a silent stem
    ref[2, 3] = 0.0
    mix = ref.sum(1)
    est = ref + 0.05 * torch.randn(ref.shape, generator=g)
    for floor in ("mix", "fade"):  # random data, odd length, batch: against the float64 formula
        torch.testing.assert_close(separation_loss(est, ref, mix, 0.0, floor=floor).double(),
                                   _floor_reference(est, ref, mix, floor), rtol=1e-5, atol=1e-5)
    # a silent stem costs the same leak under both floors
    one = (slice(0, 1), slice(1, 2))
    leak_mix = separation_loss(est[one], ref[one], mix[:1], 0.0, floor="mix")
    leak_fade = separation_loss(est[one], ref[one], mix[:1], 0.0, floor="fade")
    assert float(leak_fade) == pytest.approx(float(leak_mix), rel=1e-6)
    assert float(leak_mix) > 0.1
    # a perfect estimate of four equal stems (each a quarter of the mix's energy E, floor
    # E / 40): the "mix" floor caps the reward at 10.4 dB, the fading one at 27.4 dB
    quarter = torch.randn(2, 4, 2, 4096, generator=g)
    qmix = quarter.sum(1)
    assert -10.7 < float(separation_loss(quarter, quarter, qmix, 0.0, floor="mix")) < -10.1
    eps = 0.1 * (1 / 11) ** 2 + 1e-3  # relative to the stem's energy
    assert float(separation_loss(quarter, quarter, qmix, 0.0, floor="fade")) == pytest.approx(
        -10 * np.log10(1 + 1 / eps), abs=0.3)
    # the gradient on a playing stem at 10 dB SDR is no longer damped by error / (error + eps)
    x = (quarter + 0.3 * torch.randn(quarter.shape, generator=g)).requires_grad_(True)
    grads = {}
    for floor in ("mix", "fade"):
        x.grad = None
        separation_loss(x, quarter, qmix, 0.0, floor=floor).backward()
        grads[floor] = float(x.grad.norm())
    assert grads["fade"] > 1.5 * grads["mix"]
    with pytest.raises(ValueError, match="floor must be one of"):
        separation_loss(est, ref, mix, 0.0, floor="none")


def test_chunked_sdr_loss_against_float64_and_weighs_quiet_passages():
    g = torch.Generator().manual_seed(5)
    scale = torch.tensor([1.0, 0.5, 0.2, 0.05])[:, None, None]
    ref = torch.randn(3, 4, 2, 4411, generator=g) * scale
    ref[1, 2, :, :2000] = 0.0  # a stem silent in the first chunks only
    mix = ref.sum(1)
    est = ref + 0.05 * torch.randn(ref.shape, generator=g)
    weights = (2.0, 1.0, 1.25, 1.5)
    for floor in ("mix", "fade"):
        for chunk, bounds in ((1000, (0, 1103, 2206, 3309, 4411)), (3000, (0, 4411))):
            # float64 truth: near-equal consecutive pieces, each with its own floor
            truth = torch.stack([
                _floor_reference(est[..., a:b], ref[..., a:b], mix[..., a:b], floor, weights)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)]).mean()
            got = separation_loss(est, ref, mix, 0.0, stem_weights=weights, floor=floor,
                                  chunk=chunk)
            torch.testing.assert_close(got.double(), truth, rtol=1e-5, atol=1e-5)
        # a chunk as long as the segment or longer is the segment-wide loss
        whole = separation_loss(est, ref, mix, 0.0, floor=floor)
        for chunk in (4411, 10 ** 6):
            assert float(separation_loss(est, ref, mix, 0.0, floor=floor, chunk=chunk)) == \
                pytest.approx(float(whole), rel=1e-6)
    # a passage 20 dB quieter with the same relative error: per chunk it costs the same dB and
    # pulls ten times harder per sample; over the whole segment it pulls ten times less
    half = torch.randn(2, 1, 4, 2, 1000, generator=g)
    song, noise = torch.cat([half, 0.1 * half], -1)  # the passage again, 20 dB down
    grads = {}
    for chunk in (None, 1000):
        x = (song + 0.3 * noise).requires_grad_(True)
        separation_loss(x, song, song.sum(1), 0.0, floor="fade", chunk=chunk).backward()
        grads[chunk] = float(x.grad[..., 1000:].norm() / x.grad[..., :1000].norm())
    assert grads[1000] == pytest.approx(10.0, rel=1e-3)
    assert grads[None] == pytest.approx(0.1, rel=1e-3)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="chunk must be a positive number of samples"):
            separation_loss(est, ref, mix, 0.0, chunk=bad)


def test_sdr_chunk_seconds_config_cli_and_record(tmp_path):
    from hushboard.cli import main

    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="sdr_chunk_seconds must be a positive number"):
            TrainConfig(model="bsrnn-music-44k-lite", sdr_chunk_seconds=bad)
    with pytest.raises(ValueError, match="sdr_chunk_seconds is under one sample"):
        TrainConfig(model="bsrnn-music-44k-lite", sdr_chunk_seconds=1e-6)
    with pytest.raises(ValueError, match="sdr_chunk_seconds applies to music separators"):
        TrainConfig(model="bsrnn-speech-16k-lite", sdr_chunk_seconds=1.0)
    assert main(["train", "bsrnn-speech-16k-lite", "--data", "nowhere", "--out", "nowhere",
                 "--sdr-chunk-seconds", "1"]) == 2
    data = Stems(2, 0.25, seed=6)
    cfg = TrainConfig(model="bsrnn-music-44k-lite", steps=2, batch_size=2, segment_seconds=0.25,
                      lr=1e-3, warmup_steps=1, valid_every=2, checkpoint_every=2, valid_items=2,
                      seed=0, mrstft_weight=0.0, sdr_floor="fade", sdr_chunk_seconds=0.1)
    result = train(cfg, data, data, tmp_path, progress=False)
    assert "SDR floor 'fade', per 0.1 s chunk" in (tmp_path / "MODEL_CARD.md").read_text()
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ck["config"]["sdr_chunk_seconds"] == 0.1
    # the logged validation loss is the chunked one (0.25 s in two pieces of 0.1 s or more)
    from hushboard.train.loop import _collate

    model = build_model("bsrnn-music-44k-lite")
    model.load_state_dict(ck["model"])
    batch = [_collate([data[0], data[1]])]
    chunked = evaluate(model, batch, torch.device("cpu"), 0.0, sdr_floor="fade", sdr_chunk=4410)
    whole = evaluate(model, batch, torch.device("cpu"), 0.0, sdr_floor="fade")
    assert result["valid_loss"] == pytest.approx(chunked["valid_loss"], abs=1e-5)
    assert abs(chunked["valid_loss"] - whole["valid_loss"]) > 1e-4


def test_sdr_floor_config_cli_and_record(tmp_path):
    from hushboard.cli import main

    with pytest.raises(ValueError, match="sdr_floor must be one of"):
        TrainConfig(model="bsrnn-music-44k-lite", sdr_floor="zero")
    with pytest.raises(ValueError, match="sdr_floor applies to music separators"):
        TrainConfig(model="bsrnn-speech-16k-lite", sdr_floor="fade")
    assert main(["train", "bsrnn-speech-16k-lite", "--data", "nowhere", "--out", "nowhere",
                 "--sdr-floor", "fade"]) == 2
    data = Stems(2, 0.25, seed=4)
    cfg = TrainConfig(model="bsrnn-music-44k-lite", steps=2, batch_size=2, segment_seconds=0.25,
                      lr=1e-3, warmup_steps=1, valid_every=2, checkpoint_every=2, valid_items=2,
                      seed=0, mrstft_weight=0.0, sdr_floor="fade")
    result = train(cfg, data, data, tmp_path, progress=False)
    assert "SDR floor 'fade'" in (tmp_path / "MODEL_CARD.md").read_text()
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ck["config"]["sdr_floor"] == "fade"
    # the logged validation loss is the one under the run's floor
    from hushboard.train.loop import _collate

    model = build_model("bsrnn-music-44k-lite")
    model.load_state_dict(ck["model"])
    batch = [_collate([data[0], data[1]])]
    fade = evaluate(model, batch, torch.device("cpu"), 0.0, sdr_floor="fade")
    plain = evaluate(model, batch, torch.device("cpu"), 0.0)
    assert result["valid_loss"] == pytest.approx(fade["valid_loss"], abs=1e-5)
    assert fade["valid_usdr"] == pytest.approx(plain["valid_usdr"], abs=1e-9)


def test_tiny_separator_run_lowers_loss_and_exports(tmp_path):
    from hushboard.models import BSRNN

    data = Stems(4, 0.5, seed=1)
    cfg = TrainConfig(model="bsrnn-music-44k-lite", steps=10, batch_size=2, segment_seconds=0.5,
                      lr=3e-3, warmup_steps=2, valid_every=5, checkpoint_every=5, valid_items=4,
                      seed=3, mrstft_weight=0.5)
    logs = []
    result = train(cfg, data, data, tmp_path, progress=False, data_note="4 synthetic songs",
                   on_log=logs.append)
    assert result["step"] == 10 and len(logs) == 2
    with open(tmp_path / "log.csv") as fh:
        header = next(csv.reader(fh))
    assert header[:6] == ["step", "lr", "train_loss", "valid_loss", "valid_usdr",
                          "valid_usdr_gain"]
    torch.manual_seed(3)
    fresh_model = build_model("bsrnn-music-44k-lite")
    assert is_separator(fresh_model) and not is_separator(build_model("bsrnn-speech-16k-lite"))
    from hushboard.train.loop import _collate
    batches = [_collate([data[i] for i in range(j, j + 2)]) for j in (0, 2)]
    fresh = evaluate(fresh_model, batches, torch.device("cpu"), 0.5)
    assert logs[-1]["valid_loss"] < fresh["valid_loss"] - 1.0
    assert logs[-1]["valid_usdr"] > fresh["valid_usdr"] + 1.0
    assert (tmp_path / "curves.png").stat().st_size > 1000
    model = BSRNN.load(result["weights"])
    mix = torch.from_numpy(data[0][0])
    with torch.no_grad():
        y = model(mix)
    assert y.shape == (4, 2, mix.shape[-1])


def test_stem_weights_weight_the_sdr_terms():
    ref = torch.randn(3, 4, 2, 2048, dtype=torch.float64)
    noise = torch.randn_like(ref)
    noise *= ref.norm(dim=(-2, -1), keepdim=True) / noise.norm(dim=(-2, -1), keepdim=True)
    # stem s gets noise 10 (s + 1) dB down: SDRs 10, 20, 30, 40 dB in every item
    level = torch.tensor([10 ** (-0.5 * (s + 1)) for s in range(4)], dtype=torch.float64)
    est = ref + level[:, None, None] * noise
    assert float(sdr_loss(est, ref, 0.0)) == pytest.approx(-25.0, abs=1e-6)
    w = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    assert float(sdr_loss(est, ref, 0.0, w)) == pytest.approx(-30.0, abs=1e-6)
    assert float(sdr_loss(est, ref, 0.0, 7 * torch.ones(4))) == pytest.approx(-25.0, abs=1e-6)
    mix = ref.sum(1)
    plain = float(separation_loss(est, ref, mix, 0.0))
    assert float(separation_loss(est, ref, mix, 0.0, stem_weights=(2, 2, 2, 2))) == \
        pytest.approx(plain, abs=1e-9)
    heavy_vocals = float(separation_loss(est, ref, mix, 0.0, stem_weights=(5, 1, 1, 1)))
    assert heavy_vocals > plain + 1  # the worst stem (vocals, 10 dB) now counts most
    # the gradient reaching each stem's estimate scales with its weight
    e = est.clone().requires_grad_(True)
    separation_loss(e, ref, mix, 0.0, stem_weights=(1, 2, 1, 1)).backward()
    g = e.grad.norm(dim=(-2, -1))  # (items, stems)
    e1 = est.clone().requires_grad_(True)
    separation_loss(e1, ref, mix, 0.0).backward()
    g1 = e1.grad.norm(dim=(-2, -1))
    ratio = (g / g1).mean(0)
    assert float(ratio[1] / ratio[0]) == pytest.approx(2.0, rel=1e-6)
    for bad in ((1, 1, 1), (1, 0, 1, 1), (1, -1, 1, 1), (1, float("nan"), 1, 1)):
        with pytest.raises(ValueError, match="stem_weights must be 4 positive"):
            separation_loss(est, ref, mix, 0.0, stem_weights=bad)


def test_stem_weights_config_and_cli():
    from hushboard.cli import main
    from hushboard.train.cli import parse_stem_weights

    stems = ("vocals", "drums", "bass", "other")
    assert parse_stem_weights("vocals=2, other=1.5", stems) == (2.0, 1.0, 1.0, 1.5)
    for text, msg in (("voice=2", "STEM=WEIGHT"), ("vocals2", "STEM=WEIGHT"),
                      ("vocals=0", "vocals's weight"), ("bass=x", "bass's weight"),
                      ("bass=inf", "bass's weight"), ("bass=nan", "bass's weight")):
        with pytest.raises(ValueError, match=msg):
            parse_stem_weights(text, stems)
    cfg = TrainConfig(model="bsrnn-music-44k-lite", stem_weights=[2, 1, 1, 1.5])
    assert cfg.stem_weights == (2.0, 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="music separators"):
        TrainConfig(model="bsrnn-speech-16k-lite", stem_weights=(1.0,))
    with pytest.raises(ValueError, match="one per stem"):
        TrainConfig(model="bsrnn-music-44k-lite", stem_weights=(1.0, 2.0))
    with pytest.raises(ValueError, match="one per stem"):
        TrainConfig(model="bsrnn-music-44k-lite", stem_weights=(1.0, 2.0, True, 1.0))
    assert main(["train", "dccrn-lite", "--data", "nowhere", "--out", "nowhere",
                 "--stem-weights", "vocals=2"]) == 2


def test_weighted_run_records_its_weights(tmp_path):
    data = Stems(2, 0.25, seed=2)
    cfg = TrainConfig(model="bsrnn-music-44k-lite", steps=2, batch_size=2, segment_seconds=0.25,
                      lr=1e-3, warmup_steps=1, valid_every=2, checkpoint_every=2, valid_items=2,
                      seed=0, mrstft_weight=0.0, stem_weights=(2.0, 1.0, 1.0, 1.5))
    result = train(cfg, data, data, tmp_path, progress=False)
    assert result["step"] == 2
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "stem weights vocals 2, drums 1, bass 1, other 1.5" in card
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert tuple(ck["config"]["stem_weights"]) == (2.0, 1.0, 1.0, 1.5)
    # the logged validation loss is the weighted one
    from hushboard.train.loop import _collate
    model = build_model("bsrnn-music-44k-lite")
    model.load_state_dict(ck["model"])
    batch = [_collate([data[0], data[1]])]
    weighted = evaluate(model, batch, torch.device("cpu"), 0.0, cfg.stem_weights)
    plain = evaluate(model, batch, torch.device("cpu"), 0.0)
    assert result["valid_loss"] == pytest.approx(weighted["valid_loss"], abs=1e-5)
    assert weighted["valid_usdr"] == pytest.approx(plain["valid_usdr"], abs=1e-9)
    assert weighted["valid_loss"] != pytest.approx(plain["valid_loss"], abs=1e-6)


def test_init_transfers_mask_heads_by_stem_name(tmp_path):
    """A four-stem separator starts a vocals/accompaniment model: the trunk and the vocals head
    are copied, the accompaniment head (no such stem in the source) keeps its fresh values."""
    from hushboard.models import BSRNN
    from hushboard.train.loop import init_weights

    torch.manual_seed(0)
    four = build_model("bsrnn-music-44k-lite")
    four.save(tmp_path / "four.safetensors")
    torch.manual_seed(1)
    two = build_model("bsrnn-music-44k-lite-vocals")
    fresh = {k: v.clone() for k, v in two.state_dict().items()}
    note = init_weights(two, tmp_path / "four.safetensors")
    assert "by transfer" in note
    got, src = two.state_dict(), four.state_dict()
    for k, v in got.items():
        if k.startswith("masks.1."):  # accompaniment: fresh
            torch.testing.assert_close(v, fresh[k], rtol=0, atol=0)
        else:  # trunk and vocals head (masks.0 in both): the four-stem model's
            torch.testing.assert_close(v, src[k], rtol=0, atol=0)
    # stems in another order map by name: a model listing (other, vocals) takes other's head
    import dataclasses

    from hushboard.models.bsrnn import BSRNN_CONFIGS

    swapped = BSRNN(dataclasses.replace(BSRNN_CONFIGS["bsrnn-music-44k-lite"],
                                        stems=("other", "vocals")))
    init_weights(swapped, tmp_path / "four.safetensors")
    for k, v in swapped.state_dict().items():
        if k.startswith("masks.0."):
            torch.testing.assert_close(v, src["masks.3." + k[8:]], rtol=0, atol=0)
        elif k.startswith("masks.1."):
            torch.testing.assert_close(v, src["masks.0." + k[8:]], rtol=0, atol=0)


def test_validation_gain_skips_items_where_a_stem_is_the_whole_mix():
    """The mix is a perfect 'estimate' of a stem that is all of it (the accompaniment of an
    instrumental segment): such items are left out of the gain over the mix, and only those."""
    from types import SimpleNamespace

    from hushboard.train.loop import evaluate_separation

    class Half(torch.nn.Module):  # estimates every stem as half the mix
        config = SimpleNamespace(stems=("vocals", "accompaniment"))

        def forward(self, mix):
            return torch.stack([0.5 * mix, 0.5 * mix], 1)

    rng = np.random.default_rng(0)
    v, a = (torch.from_numpy(rng.standard_normal((1, 2, 4000)).astype(np.float32))
            for _ in range(2))
    sung = (v + a, torch.stack([v, a], 1))
    instrumental = (a, torch.stack([torch.zeros_like(a), a], 1))
    one = evaluate_separation(Half(), [sung], torch.device("cpu"), 0.0)
    both = evaluate_separation(Half(), [sung, instrumental], torch.device("cpu"), 0.0)
    assert np.isfinite(both["valid_usdr_gain"])
    assert both["valid_usdr_gain"] == pytest.approx(one["valid_usdr_gain"], abs=1e-9)
    # the uSDR itself still counts the instrumental item's accompaniment (half the mix: 6 dB)
    assert both["valid_usdr_accompaniment"] == pytest.approx(
        (one["valid_usdr_accompaniment"] + 6.0206) / 2, abs=1e-3)


def test_arch_overrides_config_and_cli():
    from hushboard.cli import main
    from hushboard.train.cli import parse_arch

    assert parse_arch("num_layers=6, hidden_size=96") == {"num_layers": 6, "hidden_size": 96}
    assert parse_arch("eps=1e-6,causal=true,rnn=gru") == {"eps": 1e-6, "causal": True,
                                                          "rnn": "gru"}
    for text, msg in (("num_layers", "FIELD=VALUE"), ("=3", "FIELD=VALUE"),
                      ("num_layers=", "FIELD=VALUE"), ("a=1,a=2", "given twice")):
        with pytest.raises(ValueError, match=msg):
            parse_arch(text)
    m = build_model("bsrnn-music-44k-lite", {"num_layers": 3, "hidden_size": 20})
    assert (m.config.num_layers, m.config.hidden_size, len(m.layers)) == (3, 20, 3)
    assert m.config.feature_dim == 48 and m.config.stems[0] == "vocals"
    assert build_model("dccrn-lite", {"rnn_units": 64}).config.rnn_units == 64
    assert build_model("bsrnn-speech-16k-lite", {"eps": 1}).config.eps == 1.0
    for arch, err, msg in (({"layers": 6}, ValueError, "no config field 'layers'"),
                           ({"bands": 3}, ValueError, "'bands' is not a scalar"),
                           ({"num_layers": 6.0}, TypeError, "num_layers must be of type int"),
                           ({"num_layers": True}, TypeError, "num_layers must be of type int"),
                           ({"causal": 1}, TypeError, "causal must be of type bool"),
                           ({"num_layers": 0}, ValueError, "num_layers must be a positive int"),
                           ({"rnn": "tcn"}, ValueError, "rnn must be 'lstm' or 'gru'")):
        with pytest.raises(err, match=msg):
            TrainConfig(model="bsrnn-music-44k-lite", arch=arch)
    with pytest.raises(TypeError, match="arch must be a mapping"):
        TrainConfig(model="bsrnn-music-44k-lite", arch=[("num_layers", 6)])
    assert TrainConfig(model="bsrnn-music-44k-lite", arch={}).arch is None
    assert main(["train", "bsrnn-music-44k-lite", "--data", "nowhere", "--out", "nowhere",
                 "--arch", "num_layers=six"]) == 2


def test_arch_run_grows_from_init_and_resumes_only_with_its_arch(tmp_path):
    """A deeper, wider run started by --init from a smaller preset's weights (the CLI's path:
    TrainConfig.arch, init) starts at their exact function, records its arch in the card and
    the checkpoint, exports weights that load without the arch, and refuses to resume under
    another arch."""
    from hushboard.models import BSRNN

    data = Stems(2, 0.25, seed=4)
    small = build_model("bsrnn-music-44k-lite", {"num_layers": 1, "hidden_size": 8}).eval()
    small.save(tmp_path / "small.safetensors")
    arch = {"num_layers": 2, "hidden_size": 12}
    cfg = TrainConfig(model="bsrnn-music-44k-lite", steps=2, batch_size=2, segment_seconds=0.25,
                      lr=1e-3, warmup_steps=1, valid_every=2, checkpoint_every=2, valid_items=2,
                      seed=0, mrstft_weight=0.0, arch=dict(arch))
    grown = build_model(cfg.model, cfg.arch).eval()
    from hushboard.train.loop import init_weights
    note = init_weights(grown, tmp_path / "small.safetensors")
    assert "widening its RNNs from 8 to 12 units and deepening it from 1 to 2" in note
    mix = torch.from_numpy(data[0][0])
    with torch.no_grad():
        torch.testing.assert_close(grown(mix), small(mix), atol=1e-5, rtol=1e-4)
    out = tmp_path / "run"
    result = train(cfg, data, data, out, progress=False, init=tmp_path / "small.safetensors")
    card = (out / "MODEL_CARD.md").read_text()
    assert card.startswith("# bsrnn-music-44k-lite (num_layers=2,hidden_size=12)")
    assert "deepening it from 1 to 2 dual-path layers" in card
    assert torch.load(out / "checkpoint.pt", weights_only=False)["config"]["arch"] == arch
    loaded = BSRNN.load(result["weights"])
    assert (loaded.config.num_layers, loaded.config.hidden_size) == (2, 12)
    cfg4 = TrainConfig(model="bsrnn-music-44k-lite", steps=4, batch_size=2,
                       segment_seconds=0.25, lr=1e-3, warmup_steps=1, valid_every=2,
                       checkpoint_every=2, valid_items=2, seed=0, mrstft_weight=0.0,
                       arch={"num_layers": 3, "hidden_size": 12})
    with pytest.raises(ValueError, match="--arch num_layers=2,hidden_size=12, not "
                                         "num_layers=3,hidden_size=12"):
        train(cfg4, data, data, out, resume=True, progress=False)
    cfg4 = TrainConfig(**{**cfg4.__dict__, "arch": dict(arch)})
    assert train(cfg4, data, data, out, resume=True, progress=False)["step"] == 4
