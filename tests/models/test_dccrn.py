"""DCCRN: sizes, shapes, batch consistency, whole-model causality (exact look-ahead bound),
step == offline for every rnn/norm variant, gradients, SI-SNR loss, safetensors round trip and
load errors, engine weights (folded norms), and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from helpers import noise, rel_err
from hushboard.models.complex_nn import ComplexBatchNorm, ComplexPReLU, StackedBatchNorm
from hushboard.models.dccrn import CONFIGS, DCCRN, DCCRNConfig, si_snr_loss

# a small valid model: 32 bins / 2^3 -> 4 bottleneck bins; window 48 in n_fft 64, hop 12
SMALL = DCCRNConfig(channels=(8, 16, 16), rnn_units=32, n_fft=64, win_length=48, hop_length=12)
TOL_STEP = 1e-5  # float32 step against float32 offline, relative to the largest value


def small(**kw) -> DCCRN:
    return DCCRN(DCCRNConfig(**{**SMALL.to_dict(), **kw}))


@torch.no_grad()
def randomize(model: DCCRN, seed: int = 0) -> DCCRN:
    """Non-trivial running statistics, norm affines, PReLU slopes and conv biases (the
    complex batch norm's running covariance stays positive definite)."""
    g = torch.Generator().manual_seed(seed)

    def u(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    for mod in model.modules():
        if isinstance(mod, ComplexBatchNorm):
            c = mod.num_features
            mod.running_mean_r.copy_(u(c, -0.5, 0.5))
            mod.running_mean_i.copy_(u(c, -0.5, 0.5))
            vrr, vii = u(c, 0.3, 2.0), u(c, 0.3, 2.0)
            mod.running_vrr.copy_(vrr)
            mod.running_vii.copy_(vii)
            mod.running_vri.copy_(u(c, -0.9, 0.9) * torch.sqrt(vrr * vii))
            mod.gamma_rr.copy_(u(c, 0.5, 1.2))
            mod.gamma_ii.copy_(u(c, 0.5, 1.2))
            mod.gamma_ri.copy_(u(c, -0.3, 0.3))
            mod.beta_r.copy_(u(c, -0.3, 0.3))
            mod.beta_i.copy_(u(c, -0.3, 0.3))
        elif isinstance(mod, StackedBatchNorm):
            c = mod.num_features
            mod.running_mean.copy_(u(c, -0.5, 0.5))
            mod.running_var.copy_(u(c, 0.3, 2.0))
            mod.weight.copy_(u(c, 0.5, 1.5))
            mod.bias.copy_(u(c, -0.3, 0.3))
        elif isinstance(mod, ComplexPReLU):
            mod.real.weight.copy_(u(1, 0.05, 0.5))
            mod.imag.weight.copy_(u(1, 0.05, 0.5))
        elif hasattr(mod, "bias_real") and mod.bias_real is not None:
            mod.bias_real.copy_(u(mod.bias_real.shape, -0.2, 0.2))
            mod.bias_imag.copy_(u(mod.bias_imag.shape, -0.2, 0.2))
    return model


def signal(*shape, seed=0) -> torch.Tensor:
    return torch.from_numpy(noise(*shape, seed=seed)) * 0.3


# ---- sizes ----------------------------------------------------------------------------------
def expected_parameters(cfg: DCCRNConfig) -> int:
    """Parameter count written out from the architecture description."""
    kf, kt = cfg.kernel_size
    ch = [c // 2 for c in cfg.channels]
    ins = [1] + ch[:-1]
    norm = {"cbn": lambda c: 5 * c, "bn": lambda c: 4 * c, "none": lambda c: 0}[cfg.norm]

    def conv(ci, co):
        return 2 * ci * co * kf * kt + 2 * co

    total = sum(conv(i, o) + norm(o) + 2 for i, o in zip(ins, ch))  # conv, norm, PReLU
    n = len(ch)
    for k in range(n):
        ci, co = 2 * ch[n - 1 - k], ins[n - 1 - k]
        total += conv(ci, co) + (0 if k == n - 1 else norm(co) + 2)

    def lstm(i, h):
        return 4 * h * (i + h) + 8 * h

    feat = ch[-1] * (cfg.n_fft // 2) // cfg.stride[0] ** n
    if cfg.rnn == "complex":
        h = cfg.rnn_units // 2
        for k in range(cfg.rnn_layers):
            total += 2 * lstm(feat if k == 0 else h, h)
        total += 2 * (h * feat + feat)  # projection back to the bottleneck, per part
    else:
        u = cfg.rnn_units
        total += sum(lstm(2 * feat if k == 0 else u, u) for k in range(cfg.rnn_layers))
        total += u * 2 * feat + 2 * feat
    return total


@pytest.mark.parametrize("name", list(CONFIGS))
def test_parameter_counts(name):
    model = DCCRN(name)
    n = model.num_parameters()
    assert n == expected_parameters(CONFIGS[name])
    if name == "dccrn-cl":
        # the paper's DCCRN-CL has 3.7 M parameters; this implementation: 3,671,928
        assert 3.5e6 <= n <= 3.9e6
        assert n == 3_671_928
    if name == "dccrn-lite":
        assert n < 0.5e6


@pytest.mark.parametrize("cfg", [SMALL, DCCRNConfig(**{**SMALL.to_dict(), "rnn": "real",
                                                        "rnn_layers": 2, "norm": "bn"})],
                         ids=["complex", "real"])
def test_parameter_counts_small(cfg):
    assert DCCRN(cfg).num_parameters() == expected_parameters(cfg)


def test_macs_per_frame():
    model = DCCRN(SMALL)
    # encoder: 32 -> 16 -> 8 -> 4 bins, complex (ci, co): (1,4), (4,8), (8,8); kernel 5x2
    enc = 4 * 10 * (1 * 4 * 16 + 4 * 8 * 8 + 8 * 8 * 4)
    # decoder (ci, co): (16,8) at 4 in-bins, (16,4) at 8, (8,1) at 16
    dec = 4 * 10 * (16 * 8 * 4 + 16 * 4 * 8 + 8 * 1 * 16)
    # complex LSTM, 2 layers, hidden 16/part, in 32 then 16; each LSTM runs on 2 inputs
    rnn = 2 * 2 * 4 * 16 * (32 + 16) + 2 * 2 * 4 * 16 * (16 + 16) + 2 * 16 * 32
    assert model.macs_per_frame() == enc + dec + rnn
    assert model.macs_per_second() == pytest.approx(model.macs_per_frame() * 16000 / 12)


# ---- forward --------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [1000, 1001, 50])
def test_output_shapes(length):
    model = randomize(DCCRN(SMALL)).eval()
    with torch.no_grad():
        y1 = model(signal(length))
        y2 = model(signal(3, length))
    assert y1.shape == (length,) and y1.dtype == torch.float32
    assert y2.shape == (3, length) and y2.dtype == torch.float32
    assert torch.isfinite(y1).all() and torch.isfinite(y2).all()


@pytest.mark.parametrize("rnn", ["complex", "real"])
def test_batch_consistency(rnn):
    model = randomize(small(rnn=rnn)).eval()
    x = signal(3, 900, seed=1)
    with torch.no_grad():
        yb = model(x)
        for i in range(3):
            assert rel_err(model(x[i]), yb[i]) < 1e-5
            assert rel_err(model(x[i : i + 1])[0], yb[i]) < 1e-5


def test_dccrn_lite_does_not_look_ahead_past_the_window():
    """Look-ahead bound. With center=True the STFT frame m covers original samples
    m*hop - n_fft/2 + left + j, j < win_length, left = (n_fft - win_length)/2 (the window sits
    in the middle of n_fft): for 512/400/100, samples m*100 - 200 + j. The periodic sqrt-Hann
    window is zero at j = 0 only, so frame m reads samples m*100 - 199 .. m*100 + 199 and the
    overlap-add writes them back over the same span. The network is causal in frames, so output
    sample s depends on frames m with m*100 - 199 <= s, which read samples up to
    m*100 + 199 <= s + 398: the look-ahead is exactly L = 398 samples (win_length - 2), reached
    when (s + 199) % 100 == 0. Perturbing every sample from n on leaves y[:n - L] unchanged and,
    for n = 199 + 100k, changes y[n - L]."""
    model = randomize(DCCRN("dccrn-lite"), seed=3).eval()
    cfg = model.config
    w = model.window
    nz = torch.nonzero(w).flatten()
    a, b = int(nz[0]), int(nz[-1])
    assert (a, b) == (1, cfg.win_length - 1)
    look = b - a
    assert look == 398
    offset = (cfg.n_fft - cfg.win_length) // 2 - cfg.n_fft // 2  # -200
    n = offset + b + 19 * cfg.hop_length  # 2099: (n - look + 199) % 100 == 0
    x = signal(1, 3200, seed=4)
    x2 = x.clone()
    x2[:, n:] = 1000 * signal(1, 3200 - n, seed=5)
    with torch.no_grad():
        y, y2 = model(x), model(x2)
    scale = y.abs().max()
    d = (y - y2).abs()[0]
    assert d[: n - look].max() <= 1e-7 * scale
    # the bound is tight: y[n - L] changes (through both windows' smallest taps, w[1] * w[-1])
    assert d[n - look] > 1e-5 * scale


@pytest.mark.parametrize("norm", ["cbn", "bn", "none"])
@pytest.mark.parametrize("rnn", ["complex", "real"])
def test_step_equals_offline(rnn, norm):
    model = randomize(small(rnn=rnn, norm=norm, rnn_layers=2), seed=7).eval()
    _check_step(model, signal(2, 400, seed=2))


def test_step_equals_offline_dccrn_lite():
    model = randomize(DCCRN("dccrn-lite"), seed=8).eval()
    _check_step(model, signal(1, 2500, seed=3))


def _check_step(model: DCCRN, x: torch.Tensor) -> None:
    with torch.no_grad():
        spec = model._stft(x)
        full = model.apply_mask(spec, model.mask(spec))
        state, frames = None, []
        for t in range(spec.shape[-1]):
            out, state = model.step(spec[..., t], state)
            frames.append(out)
    steps = torch.stack(frames, -1)
    assert steps.shape == full.shape == spec.shape
    assert torch.all(steps[:, 0] == 0)  # DC zeroed
    assert rel_err(steps, full) < TOL_STEP
    # and the offline mask is non-trivial (not all-pass, not all-stop)
    ratio = (full[:, 1:].abs() / spec[:, 1:].abs().clamp_min(1e-12))
    assert 0.05 < ratio.mean() < 0.95


@pytest.mark.parametrize("rnn,norm", [("complex", "cbn"), ("real", "bn")])
def test_float32_matches_float64(rnn, norm, device):
    """The float32 model (on each device) against the same weights in float64."""
    model = randomize(small(rnn=rnn, norm=norm), seed=9).eval()
    x = signal(2, 1200, seed=6)
    with torch.no_grad():
        got = model.to(device)(x.to(device)).cpu()
        truth = model.cpu().double()(x.double())
    assert got.dtype == torch.float32
    assert rel_err(got, truth) < 1e-5


def test_apply_mask_mode_e():
    spec = torch.randn(2, 9, 4, dtype=torch.complex64)
    mask = torch.randn(2, 2, 8, 4)
    got = DCCRN.apply_mask(spec, mask)
    m = torch.complex(mask[:, 0].double(), mask[:, 1].double())
    x = spec[:, 1:].to(torch.complex128)
    ref = x.abs() * torch.tanh(m.abs()) * torch.exp(1j * (x.angle() + m.angle()))
    assert got.shape == spec.shape
    assert torch.all(got[:, 0] == 0)
    assert rel_err(got[:, 1:], ref) < 1e-6


# ---- training -------------------------------------------------------------------------------
@pytest.mark.parametrize("rnn,norm", [("complex", "cbn"), ("real", "bn")])
def test_gradients_flow(rnn, norm):
    model = randomize(small(rnn=rnn, norm=norm)).train()
    clean = signal(2, 600, seed=10)
    noisy = clean + 0.5 * signal(2, 600, seed=11)
    loss = si_snr_loss(model(noisy), clean)
    assert torch.isfinite(loss)
    loss.backward()
    nonzero = 0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        nonzero += bool(p.grad.abs().max() > 0)
    # every parameter but the biases that a batch norm's mean subtraction cancels gets a gradient
    assert nonzero >= len(list(model.parameters())) - 2 * len(model.encoder) - 2 * len(model.decoder)


def si_snr_numpy(est: np.ndarray, ref: np.ndarray) -> float:
    est = np.atleast_2d(est).astype(np.float64)
    ref = np.atleast_2d(ref).astype(np.float64)
    out = []
    for e, r in zip(est, ref):
        e, r = e - e.mean(), r - r.mean()
        target = np.dot(e, r) / np.dot(r, r) * r
        err = e - target
        out.append(10 * math.log10(np.dot(target, target) / np.dot(err, err)))
    return -float(np.mean(out))


def test_si_snr_loss():
    ref = signal(3, 800, seed=20).double()
    est = ref * 0.8 + 0.3 * signal(3, 800, seed=21).double() + 0.1
    got = si_snr_loss(est, ref)
    assert got.shape == ()
    assert got.item() == pytest.approx(si_snr_numpy(est.numpy(), ref.numpy()), rel=1e-6)
    # scale and offset invariance
    assert si_snr_loss(3.7 * est - 2.0, ref).item() == pytest.approx(got.item(), rel=1e-6)
    assert si_snr_loss(est, 0.25 * ref).item() == pytest.approx(got.item(), rel=1e-6)
    # 1-D input, float32
    got1 = si_snr_loss(est[1].float(), ref[1].float())
    assert got1.item() == pytest.approx(si_snr_numpy(est[1].numpy(), ref[1].numpy()), rel=1e-4)
    # a perfect estimate scores far better than a noisy one
    assert si_snr_loss(ref, ref).item() < -60
    with pytest.raises(ValueError, match="shapes differ"):
        si_snr_loss(est, ref[:, :-1])


# ---- weights --------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    model = randomize(small(norm="cbn", rnn="complex"), seed=30).eval()
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = DCCRN.load(path)
    assert not loaded.training
    assert loaded.config == model.config
    x = signal(2, 700, seed=31)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    # str paths too
    assert DCCRN.load(str(path)).config == model.config


def _write(path, tensors, metadata):
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)


def _meta(model):
    return {"format": "pt", "model": "DCCRN", "config": json.dumps(model.config.to_dict())}


@pytest.fixture
def saved():
    model = small(norm="bn", rnn="real")
    return model, dict(model.state_dict())


def test_load_missing_tensor(tmp_path, saved):
    model, t = saved
    del t["encoder.1.conv.weight_imag"]
    _write(tmp_path / "a.safetensors", t, _meta(model))
    with pytest.raises(ValueError, match=r"missing.*encoder\.1\.conv\.weight_imag") as e:
        DCCRN.load(tmp_path / "a.safetensors")
    assert "a.safetensors" in str(e.value)


def test_load_unexpected_tensor(tmp_path, saved):
    model, t = saved
    t["decoder.0.extra"] = torch.zeros(3)
    _write(tmp_path / "b.safetensors", t, _meta(model))
    with pytest.raises(ValueError, match=r"unexpected.*decoder\.0\.extra"):
        DCCRN.load(tmp_path / "b.safetensors")


def test_load_wrong_shape(tmp_path, saved):
    model, t = saved
    t["rnn_proj.weight"] = torch.zeros(5, 5)
    _write(tmp_path / "c.safetensors", t, _meta(model))
    with pytest.raises(ValueError, match=r"rnn_proj\.weight.*shape"):
        DCCRN.load(tmp_path / "c.safetensors")


def test_load_nan(tmp_path, saved):
    model, t = saved
    t["encoder.0.conv.weight_real"] = t["encoder.0.conv.weight_real"].clone()
    t["encoder.0.conv.weight_real"][0, 0, 0, 0] = float("nan")
    _write(tmp_path / "d.safetensors", t, _meta(model))
    with pytest.raises(ValueError, match=r"encoder\.0\.conv\.weight_real.*NaN"):
        DCCRN.load(tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match=r"encoder\.0\.conv\.weight_real"):
        small(norm="bn", rnn="real").load_weights(t)


def test_load_wrong_metadata(tmp_path, saved):
    model, t = saved
    p = tmp_path / "e.safetensors"
    _write(p, t, {"format": "pt", "model": "ConvTasNet", "config": "{}"})
    with pytest.raises(ValueError, match="e.safetensors.*does not hold a DCCRN"):
        DCCRN.load(p)
    _write(p, t, {"format": "pt"})
    with pytest.raises(ValueError, match="e.safetensors"):
        DCCRN.load(p)
    meta = _meta(model)
    meta["config"] = json.dumps({**model.config.to_dict(), "depth": 3})
    _write(p, t, meta)
    with pytest.raises(ValueError, match="depth"):
        DCCRN.load(p)
    # a config that does not match the tensors: named as a shape mismatch
    meta["config"] = json.dumps({**model.config.to_dict(), "rnn_units": 48})
    _write(p, t, meta)
    with pytest.raises(ValueError, match="shape"):
        DCCRN.load(p)


@pytest.mark.parametrize("config", ["{not json", "[1, 2]",
                                    json.dumps({**SMALL.to_dict(), "channels": [8, 15, 16]})],
                         ids=["bad-json", "not-a-dict", "invalid-config"])
def test_load_bad_config_metadata_names_file(tmp_path, saved, config):
    _, t = saved
    p = tmp_path / "f.safetensors"
    _write(p, t, {"format": "pt", "model": "DCCRN", "config": config})
    with pytest.raises(ValueError, match="f.safetensors"):
        DCCRN.load(p)


def test_load_not_safetensors(tmp_path):
    p = tmp_path / "junk.safetensors"
    p.write_bytes(b"this is not a safetensors file at all" * 10)
    with pytest.raises(ValueError, match="junk.safetensors"):
        DCCRN.load(p)
    with pytest.raises(FileNotFoundError, match="nothere"):
        DCCRN.load(tmp_path / "nothere.safetensors")


@pytest.mark.parametrize("rnn,norm", [("complex", "cbn"), ("real", "bn"), ("real", "none")])
def test_engine_weights(rnn, norm):
    model = randomize(small(rnn=rnn, norm=norm, rnn_layers=2), seed=40).eval()
    w = model.engine_weights()
    n = len(model.encoder)
    for v in w.values():
        assert isinstance(v, np.ndarray) and v.dtype == np.float32 and v.flags.c_contiguous
    expect = {"window"}
    for part in ("enc", "dec"):
        for k in range(n):
            expect |= {f"{part}.{k}.{s}" for s in ("wr", "wi", "br", "bi", "norm_m", "norm_b",
                                                   "prelu")}
    if rnn == "complex":
        for k in range(2):
            expect |= {f"rnn.{k}.{p}.{s}" for p in "ri" for s in ("w_ih", "w_hh", "b")}
        expect |= {"rnn.1.proj_r.w", "rnn.1.proj_r.b", "rnn.1.proj_i.w", "rnn.1.proj_i.b"}
    else:
        expect |= {f"rnn.{k}.{s}" for k in range(2) for s in ("w_ih", "w_hh", "b")}
        expect |= {"rnn_proj.w", "rnn_proj.b"}
    assert set(w) == expect

    # the window, centred in n_fft as the STFT places it
    c = model.config
    left = (c.n_fft - c.win_length) // 2
    assert w["window"].shape == (c.n_fft,)
    np.testing.assert_array_equal(w["window"][left : left + c.win_length], model.window.numpy())
    assert not w["window"][:left].any() and not w["window"][left + c.win_length :].any()

    # folded norm + PReLU == the modules, on a random conv output
    g = torch.Generator().manual_seed(41)
    for part, layers in (("enc", model.encoder), ("dec", model.decoder)):
        for k, layer in enumerate(layers):
            conv = layer.conv
            assert w[f"{part}.{k}.wr"].shape == tuple(conv.weight_real.shape)
            np.testing.assert_array_equal(w[f"{part}.{k}.bi"], conv.bias_imag.detach().numpy())
            co = conv.out_channels
            z = torch.randn(2, 2 * co, 6, 5, generator=g)
            with torch.no_grad():
                truth = layer.act(layer.norm(z)).double()
            m, b = w[f"{part}.{k}.norm_m"], w[f"{part}.{k}.norm_b"]
            assert m.shape == (co, 2, 2) and b.shape == (co, 2)
            zr, zi = z.double().numpy()[:, :co], z.double().numpy()[:, co:]
            e = lambda a: a[None, :, None, None]
            yr = e(m[:, 0, 0]) * zr + e(m[:, 0, 1]) * zi + e(b[:, 0])
            yi = e(m[:, 1, 0]) * zr + e(m[:, 1, 1]) * zi + e(b[:, 1])
            sr, si = w[f"{part}.{k}.prelu"]
            yr = np.where(yr > 0, yr, sr * yr)
            yi = np.where(yi > 0, yi, si * yi)
            assert rel_err(torch.from_numpy(np.concatenate([yr, yi], 1)), truth) < 2e-6

    # LSTM biases summed
    lstm = model.rnn[0].lstm_i if rnn == "complex" else model.rnn
    key = "rnn.0.i.b" if rnn == "complex" else "rnn.0.b"
    np.testing.assert_allclose(w[key], (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy(),
                               rtol=1e-6, atol=1e-7)


# ---- bad input ------------------------------------------------------------------------------
def test_forward_bad_input():
    model = DCCRN(SMALL).eval()
    with pytest.raises(TypeError, match="noisy"):
        model(torch.zeros(100, dtype=torch.int32))
    with pytest.raises(TypeError, match="noisy"):
        model(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="noisy"):
        model(torch.zeros(2, 3, 100))


@pytest.mark.parametrize("kw,match", [
    ({"channels": (8, 15, 16)}, "channels"),
    ({"channels": ()}, "channels"),
    ({"rnn": "gru"}, "rnn"),
    ({"norm": "layer"}, "norm"),
    ({"rnn_layers": 0}, "rnn_layers"),
    ({"rnn_units": 31}, "rnn_units"),
    ({"stride": (2, 2)}, "time stride"),
    ({"n_fft": 40, "win_length": 40, "hop_length": 10}, "divisible"),
])
def test_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        DCCRNConfig(**{**SMALL.to_dict(), **kw})


@pytest.mark.parametrize("kw", [{"kernel_size": (4, 2)}, {"kernel_size": 5}])
def test_config_rejects_bad_kernel(kw):
    with pytest.raises(ValueError, match="kernel_size"):
        DCCRNConfig(**{**SMALL.to_dict(), **kw})


@pytest.mark.parametrize("kw, match", [
    ({"win_length": 2 * SMALL.n_fft}, "win_length"),
    ({"hop_length": 0}, "hop_length"),
    ({"stride": (2, 1, 1)}, "stride"),
])
def test_config_rejects_bad_framing(kw, match):
    with pytest.raises(ValueError, match=match):
        DCCRNConfig(**{**SMALL.to_dict(), **kw})


def test_load_rejects_integer_tensors(tmp_path, saved):
    model, t = saved
    name = next(k for k in t if k.endswith("weight_real"))
    bad = dict(t, **{name: t[name].round().to(torch.int64)})
    p = tmp_path / "int.safetensors"
    _write(p, bad, _meta(model))
    with pytest.raises(ValueError, match=name):
        DCCRN.load(p)


def test_step_and_forward_check_their_input():
    model = DCCRN(SMALL).eval()
    bins = SMALL.n_fft // 2 + 1
    with pytest.raises(ValueError, match="frame"):
        model.step(torch.zeros(bins, dtype=torch.complex64))
    with pytest.raises(ValueError, match="frame"):
        model.step(torch.zeros(1, bins))
    with pytest.raises(TypeError, match="noisy has dtype torch.float64"):
        model(torch.zeros(1, 1000, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="eval"):
        model.train().step(torch.zeros(1, bins, dtype=torch.complex64))
    with pytest.raises(ValueError, match="momentum"):
        ComplexBatchNorm(4, momentum=None)


def test_config_names_and_dicts():
    with pytest.raises(ValueError, match="dccrn-xl"):
        DCCRN("dccrn-xl")
    d = CONFIGS["dccrn-lite"].to_dict()
    assert DCCRNConfig.from_dict(json.loads(json.dumps(d))) == CONFIGS["dccrn-lite"]
    with pytest.raises(ValueError, match="layers_extra"):
        DCCRNConfig.from_dict({**d, "layers_extra": 1})
    # the odd rnn_units is fine for a real LSTM
    assert DCCRNConfig(**{**SMALL.to_dict(), "rnn": "real", "rnn_units": 31}).rnn_units == 31


@pytest.mark.parametrize("rnn", ["complex", "real"])
def test_flip_polarity_negates_the_output_exactly(rnn):
    torch.manual_seed(3)
    model = DCCRN(DCCRNConfig(**{**SMALL.to_dict(), "rnn": rnn})).eval()
    x = torch.from_numpy(noise(2, 1601, seed=4))
    with torch.no_grad():
        y = model(x)
        frame = torch.randn(2, SMALL.n_fft // 2 + 1, dtype=torch.complex64)
        f_out, _ = model.step(frame)
        model.flip_polarity()
        assert rel_err(model(x), -y) < 1e-6
        assert rel_err(torch.view_as_real(model.step(frame)[0]),
                       -torch.view_as_real(f_out)) < 1e-6
        model.flip_polarity()  # twice is the original model
        assert rel_err(model(x), y) < 1e-6
