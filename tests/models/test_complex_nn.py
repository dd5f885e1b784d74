"""Complex layers of DCCRN: convolutions against complex128 torch convolutions (float64 truth),
causality and step == forward, complex batch norm against an eigendecomposition whitening,
the complex LSTM against its defining formula, and bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import rel_err
from hushboard.models.complex_nn import (
    ComplexBatchNorm,
    ComplexConv2d,
    ComplexConvTranspose2d,
    ComplexLSTM,
    ComplexPReLU,
    StackedBatchNorm,
    complex_cat,
)

# float32 layers against a float64 truth: max |error| / max |truth|
TOL = 2e-6
# float32 step (one-frame windows) against float32 forward
TOL_STEP = 2e-6


def to_complex(x: torch.Tensor) -> torch.Tensor:
    """Stacked (B, 2C, F, T) -> complex128 (B, C, F, T)."""
    xr, xi = x.double().chunk(2, 1)
    return torch.complex(xr, xi)


def to_stacked(z: torch.Tensor) -> torch.Tensor:
    return torch.cat([z.real, z.imag], 1)


def randomize_bias(mod) -> None:
    with torch.no_grad():
        if mod.bias_real is not None:
            mod.bias_real.normal_()
            mod.bias_imag.normal_()


def weight_c(mod) -> torch.Tensor:
    return torch.complex(mod.weight_real.detach().double(), mod.weight_imag.detach().double())


def bias_c(mod) -> torch.Tensor | None:
    if mod.bias_real is None:
        return None
    return torch.complex(mod.bias_real.detach().double(), mod.bias_imag.detach().double())


def ref_conv(mod: ComplexConv2d, x: torch.Tensor) -> torch.Tensor:
    """complex128 F.conv2d with the layer's padding convention."""
    z = to_complex(x)
    pf, pt = mod.padding
    dt, kt = mod.dilation[1], mod.kernel_size[1]
    tpad = (dt * (kt - 1), 0) if mod.causal else (pt, pt)
    z = F.pad(z, tpad + (pf, pf))
    y = F.conv2d(z, weight_c(mod), bias_c(mod), mod.stride, 0, mod.dilation)
    return to_stacked(y)


def ref_conv_t(mod: ComplexConvTranspose2d, x: torch.Tensor) -> torch.Tensor:
    """complex128 F.conv_transpose2d; causal: no time padding, then the trailing
    dT*(kT-1) frames are cropped."""
    z = to_complex(x)
    pf, pt = mod.padding
    dt, kt = mod.dilation[1], mod.kernel_size[1]
    y = F.conv_transpose2d(z, weight_c(mod), bias_c(mod), mod.stride,
                           (pf, 0 if mod.causal else pt), mod.output_padding, 1, mod.dilation)
    if mod.causal:
        y = y[..., : y.shape[-1] - dt * (kt - 1)]
    return to_stacked(y)


# (cin, cout, kernel, stride, padding, dilation, causal, bias, F, T)
CONV_CASES = [
    (1, 3, (5, 2), (2, 1), (2, 0), (1, 1), True, True, 17, 9),  # the DCCRN encoder layer
    (3, 2, (3, 3), (2, 1), (1, 0), (1, 2), True, True, 16, 11),
    (2, 3, (3, 3), (1, 1), (1, 1), (2, 2), False, True, 11, 8),
    (2, 4, (4, 3), (3, 2), (2, 1), (1, 3), False, False, 13, 12),
    (3, 2, (2, 1), (1, 1), (0, 0), (1, 1), True, True, 5, 4),  # kT = 1: no past frames
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"k{c[2]}s{c[3]}d{c[5]}c{int(c[6])}")
def test_conv2d_matches_complex_torch(case, device):
    cin, cout, k, s, p, d, causal, bias, f, t = case
    mod = ComplexConv2d(cin, cout, k, s, p, d, causal=causal, bias=bias)
    randomize_bias(mod)
    x = torch.randn(2, 2 * cin, f, t)
    ref = ref_conv(mod, x)
    got = mod.to(device)(x.to(device)).cpu()
    assert got.dtype == torch.float32 and got.shape == ref.shape
    if causal:
        assert got.shape[-1] == t
    assert rel_err(got, ref) < TOL


# (cin, cout, kernel, stride, padding, output_padding, dilation, causal, bias, F, T)
CONVT_CASES = [
    (3, 1, (5, 2), (2, 1), (2, 0), (1, 0), (1, 1), True, True, 8, 7),  # the DCCRN decoder layer
    (2, 3, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), False, True, 6, 5),
    (2, 2, (3, 2), (1, 1), (0, 0), (0, 0), (2, 3), True, True, 7, 9),
    (1, 3, (4, 3), (3, 1), (1, 1), (2, 0), (1, 2), False, False, 5, 6),
    (3, 2, (3, 1), (2, 1), (1, 0), (1, 0), (1, 1), True, True, 4, 3),  # kT = 1
]


@pytest.mark.parametrize("case", CONVT_CASES,
                         ids=lambda c: f"k{c[2]}s{c[3]}op{c[5]}d{c[6]}c{int(c[7])}")
def test_conv_transpose2d_matches_complex_torch(case, device):
    cin, cout, k, s, p, op, d, causal, bias, f, t = case
    mod = ComplexConvTranspose2d(cin, cout, k, s, p, op, d, causal=causal, bias=bias)
    randomize_bias(mod)
    x = torch.randn(2, 2 * cin, f, t)
    ref = ref_conv_t(mod, x)
    got = mod.to(device)(x.to(device)).cpu()
    assert got.dtype == torch.float32 and got.shape == ref.shape
    if causal:
        assert got.shape[-1] == t
    assert rel_err(got, ref) < TOL


def test_conv_backward_matches_complex_torch():
    mod = ComplexConv2d(2, 3, (3, 2), (2, 1), (1, 0), (1, 2), causal=True)
    randomize_bias(mod)
    x = torch.randn(2, 4, 9, 7, requires_grad=True)
    g = torch.randn(2, 6, 5, 7)
    (mod(x) * g).sum().backward()
    # float64 truth through complex autograd on real leaves
    x64 = x.detach().double().requires_grad_()
    wr = mod.weight_real.detach().double().requires_grad_()
    wi = mod.weight_imag.detach().double().requires_grad_()
    z = torch.complex(*x64.chunk(2, 1))
    y = F.conv2d(F.pad(z, (2, 0, 1, 1)), torch.complex(wr, wi), bias_c(mod), (2, 1), 0, (1, 2))
    (to_stacked(y) * g.double()).sum().backward()
    assert rel_err(x.grad, x64.grad) < 1e-5
    assert rel_err(mod.weight_real.grad, wr.grad) < 1e-5
    assert rel_err(mod.weight_imag.grad, wi.grad) < 1e-5


@pytest.mark.parametrize("kind", ["conv", "convt"])
def test_causal_layers_do_not_look_ahead(kind):
    if kind == "conv":
        mod = ComplexConv2d(2, 3, (3, 3), (2, 1), (1, 0), (1, 2), causal=True)
    else:
        mod = ComplexConvTranspose2d(2, 3, (3, 3), (2, 1), (1, 0), (1, 0), (1, 2), causal=True)
    x = torch.randn(2, 4, 8, 12)
    t0 = 7
    x2 = x.clone()
    x2[..., t0:] = torch.randn_like(x2[..., t0:]) * 10
    y, y2 = mod(x), mod(x2)
    scale = y.abs().max()
    assert (y[..., :t0] - y2[..., :t0]).abs().max() <= 1e-6 * scale
    assert (y[..., t0] - y2[..., t0]).abs().max() > 1e-3 * scale  # the current frame does matter


def test_noncausal_conv_does_look_ahead():
    mod = ComplexConv2d(1, 1, (1, 3), 1, (0, 1))
    x = torch.randn(1, 2, 3, 6)
    x2 = x.clone()
    x2[..., 4:] += 1
    assert (mod(x)[..., 3] - mod(x2)[..., 3]).abs().max() > 1e-4


def _run_steps(mod, x):
    cache, frames = None, []
    for t in range(x.shape[-1]):
        y, cache = mod.step(x[..., t : t + 1], cache)
        assert y.shape[-1] == 1
        frames.append(y)
    assert cache.shape[-1] == mod.past_frames
    return torch.cat(frames, -1)


STEP_CASES = [
    # (kernel, stride, padding, output_padding (transposed only), dilation)
    ((5, 2), (2, 1), (2, 0), (1, 0), (1, 1)),
    ((3, 3), (2, 1), (1, 0), (1, 0), (1, 2)),
    ((2, 4), (1, 1), (0, 0), (0, 0), (2, 3)),
    ((3, 1), (1, 1), (1, 0), (0, 0), (1, 1)),
]


@pytest.mark.parametrize("case", STEP_CASES, ids=lambda c: f"k{c[0]}s{c[1]}d{c[4]}")
def test_conv2d_step_equals_forward(case):
    k, s, p, _, d = case
    mod = ComplexConv2d(3, 2, k, s, p, d, causal=True)
    randomize_bias(mod)
    x = torch.randn(3, 6, 10, 13)
    with torch.no_grad():
        full = mod(x)
        steps = _run_steps(mod, x)
    assert steps.shape == full.shape
    assert rel_err(steps, full) < TOL_STEP


@pytest.mark.parametrize("case", STEP_CASES, ids=lambda c: f"k{c[0]}s{c[1]}d{c[4]}")
def test_conv_transpose2d_step_equals_forward(case):
    k, s, p, op, d = case
    mod = ComplexConvTranspose2d(3, 2, k, s, p, op, d, causal=True)
    randomize_bias(mod)
    x = torch.randn(3, 6, 5, 13)
    with torch.no_grad():
        full = mod(x)
        steps = _run_steps(mod, x)
    assert steps.shape == full.shape
    assert rel_err(steps, full) < TOL_STEP


def test_conv_step_bad_use():
    conv = ComplexConv2d(1, 1, (3, 2), padding=(1, 0))  # not causal
    with pytest.raises(ValueError, match="causal"):
        conv.step(torch.randn(1, 2, 4, 1))
    conv = ComplexConv2d(1, 1, (3, 2), stride=(1, 2), causal=True)
    with pytest.raises(ValueError, match="stride"):
        conv.step(torch.randn(1, 2, 4, 1))
    conv = ComplexConv2d(1, 1, (3, 2), causal=True)
    with pytest.raises(ValueError, match="one frame"):
        conv.step(torch.randn(1, 2, 4, 2))
    convt = ComplexConvTranspose2d(1, 1, (3, 2))
    with pytest.raises(ValueError, match="causal"):
        convt.step(torch.randn(1, 2, 4, 1))
    convt = ComplexConvTranspose2d(1, 1, (3, 2), causal=True)
    with pytest.raises(ValueError, match="one frame"):
        convt.step(torch.randn(1, 2, 4, 3))


def test_conv_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        ComplexConv2d(1, 1, (3, 2, 1))
    with pytest.raises(ValueError, match="stride"):
        ComplexConv2d(1, 1, 3, stride=1.5)
    with pytest.raises(ValueError, match="dilation"):
        ComplexConvTranspose2d(1, 1, 3, dilation=(1, True, 2))
    with pytest.raises(ValueError, match="stride"):
        ComplexConvTranspose2d(1, 1, (3, 2), stride=(2, 2), causal=True)
    with pytest.raises(ValueError, match="output_padding"):
        ComplexConvTranspose2d(1, 1, (3, 2), stride=(2, 1), output_padding=(1, 1), causal=True)
    conv = ComplexConv2d(2, 1, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4"):
        conv(torch.randn(1, 2, 5, 5))
    with pytest.raises(ValueError, match="x must have shape"):
        conv(torch.randn(4, 5, 5))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        conv([[1.0]])
    convt = ComplexConvTranspose2d(2, 1, 3)
    with pytest.raises(ValueError, match="x must have shape"):
        convt(torch.randn(1, 3, 5, 5))


# ---- complex batch norm ---------------------------------------------------------------------
def correlated_map(b=4, c=3, f=5, t=7, seed=0) -> torch.Tensor:
    """A (b, 2c, f, t) float64 map whose channels have different means and correlated,
    unequal-variance real and imaginary parts."""
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(b, c, f, t, generator=g, dtype=torch.float64)
    z2 = torch.randn(b, c, f, t, generator=g, dtype=torch.float64)
    a = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)[:c, None, None]
    xr = a * z1 + torch.arange(c, dtype=torch.float64)[:, None, None]
    xi = 0.7 * z1 - 1.3 * a * z2 - 0.5
    return torch.cat([xr, xi], 1)


def inv_sqrt_eigh(v: torch.Tensor) -> torch.Tensor:
    """V^{-1/2} for a batch of symmetric positive definite 2x2 matrices (eigendecomposition)."""
    lam, q = torch.linalg.eigh(v)
    return q @ torch.diag_embed(lam.rsqrt()) @ q.transpose(-1, -2)


def channel_cov(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per complex channel: mean (C, 2) and biased covariance (C, 2, 2) over (batch, F, T)."""
    xr, xi = x.chunk(2, 1)
    p = torch.stack([xr, xi], -1).transpose(0, 1).reshape(xr.shape[1], -1, 2)  # (C, N, 2)
    mu = p.mean(1)
    cen = p - mu[:, None]
    return mu, cen.transpose(1, 2) @ cen / p.shape[1]


def apply_2x2(m: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """[yr, yi] = M @ [xr, xi] + b per channel, written with einsum."""
    xr, xi = x.chunk(2, 1)
    p = torch.stack([xr, xi], -1)  # (B, C, F, T, 2)
    y = torch.einsum("cij,bcftj->bcfti", m.to(p.dtype), p) + b.to(p.dtype)[:, None, None]
    return torch.cat([y[..., 0], y[..., 1]], 1)


@pytest.mark.parametrize("eps,tol", [(0.0, 1e-10), (1e-5, 1e-4)])
def test_complex_bn_training_whitens(eps, tol):
    bn = ComplexBatchNorm(3, eps=eps).double().train()
    with torch.no_grad():
        bn.gamma_rr.fill_(1.0)
        bn.gamma_ii.fill_(1.0)
        bn.gamma_ri.zero_()
    x = correlated_map()
    y = bn(x)
    mu, cov = channel_cov(y)
    assert mu.abs().max() < 1e-12
    assert (cov - torch.eye(2, dtype=torch.float64)).abs().max() < tol


def test_complex_bn_training_matches_eigh_whitening():
    bn = ComplexBatchNorm(3).double().train()
    with torch.no_grad():
        bn.gamma_rr.copy_(torch.tensor([1.2, 0.4, -0.7]))
        bn.gamma_ii.copy_(torch.tensor([0.3, 1.1, 0.9]))
        bn.gamma_ri.copy_(torch.tensor([0.2, -0.5, 0.1]))
        bn.beta_r.copy_(torch.tensor([0.5, -1.0, 2.0]))
        bn.beta_i.copy_(torch.tensor([-0.3, 0.0, 1.5]))
    x = correlated_map(seed=1)
    y = bn(x)
    mu, cov = channel_cov(x)
    w = inv_sqrt_eigh(cov + bn.eps * torch.eye(2, dtype=torch.float64))
    g = torch.stack([torch.stack([bn.gamma_rr, bn.gamma_ri], -1),
                     torch.stack([bn.gamma_ri, bn.gamma_ii], -1)], -2).detach()
    m = g @ w
    b = torch.stack([bn.beta_r, bn.beta_i], -1).detach() - (m @ mu[..., None])[..., 0]
    assert rel_err(y.detach(), apply_2x2(m, b, x)) < 1e-12


def test_complex_bn_running_stats_update():
    bn = ComplexBatchNorm(3, momentum=0.25).double().train()
    x = correlated_map(seed=2)
    mu, cov = channel_cov(x)
    bn(x)
    k, eps = 0.25, bn.eps
    torch.testing.assert_close(bn.running_mean_r, k * mu[:, 0])
    torch.testing.assert_close(bn.running_mean_i, k * mu[:, 1])
    # running variances carry eps, as the training-time statistics do (Trabelsi et al.)
    torch.testing.assert_close(bn.running_vrr, (1 - k) * 0.5 + k * (cov[:, 0, 0] + eps))
    torch.testing.assert_close(bn.running_vii, (1 - k) * 0.5 + k * (cov[:, 1, 1] + eps))
    torch.testing.assert_close(bn.running_vri, k * cov[:, 0, 1])
    # many steps on the same batch converge to its statistics
    for _ in range(200):
        bn(x)
    torch.testing.assert_close(bn.running_mean_r, mu[:, 0])
    torch.testing.assert_close(bn.running_vri, cov[:, 0, 1])
    # ... after which eval mode whitens that batch too
    bn.eval()
    with torch.no_grad():
        bn.gamma_rr.fill_(1.0)
        bn.gamma_ii.fill_(1.0)
        y = bn(x)
    mu_y, cov_y = channel_cov(y)
    assert mu_y.abs().max() < 1e-9
    assert (cov_y - torch.eye(2, dtype=torch.float64)).abs().max() < 1e-4


def randomize_cbn(bn: ComplexBatchNorm, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    c = bn.num_features

    def u(lo, hi):
        return torch.rand(c, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        bn.running_mean_r.copy_(u(-1, 1))
        bn.running_mean_i.copy_(u(-1, 1))
        vrr, vii = u(0.3, 2.0), u(0.3, 2.0)
        bn.running_vrr.copy_(vrr)
        bn.running_vii.copy_(vii)
        bn.running_vri.copy_(u(-0.9, 0.9) * torch.sqrt(vrr * vii))  # positive definite
        bn.gamma_rr.copy_(u(0.5, 1.5))
        bn.gamma_ii.copy_(u(0.5, 1.5))
        bn.gamma_ri.copy_(u(-0.4, 0.4))
        bn.beta_r.copy_(u(-0.5, 0.5))
        bn.beta_i.copy_(u(-0.5, 0.5))


def test_complex_bn_eval_is_inference_affine():
    bn = ComplexBatchNorm(4).eval()
    randomize_cbn(bn)
    x = torch.randn(2, 8, 5, 6)
    y = bn(x)
    m, b = bn.inference_affine()
    assert m.shape == (4, 2, 2) and b.shape == (4, 2)
    assert rel_err(y, apply_2x2(m.double(), b.double(), x.double())) < TOL
    # and the affine map is G V^{-1/2} (x - mean) + beta, V^{-1/2} from an eigendecomposition
    v = torch.stack([torch.stack([bn.running_vrr, bn.running_vri], -1),
                     torch.stack([bn.running_vri, bn.running_vii], -1)], -2).double()
    g = torch.stack([torch.stack([bn.gamma_rr, bn.gamma_ri], -1),
                     torch.stack([bn.gamma_ri, bn.gamma_ii], -1)], -2).detach().double()
    m_ref = g @ inv_sqrt_eigh(v)
    mean = torch.stack([bn.running_mean_r, bn.running_mean_i], -1).double()
    b_ref = torch.stack([bn.beta_r, bn.beta_i], -1).detach().double() - (m_ref @ mean[..., None])[..., 0]
    assert rel_err(m.detach(), m_ref) < 1e-6
    assert rel_err(b.detach(), b_ref) < 1e-6
    # eval is per frame: causal and independent of the batch
    assert torch.equal(bn(x[:1, ..., :3]), y[:1, ..., :3])


def test_complex_bn_gradcheck():
    bn = ComplexBatchNorm(2).double().train()
    randomize_cbn(bn)
    x = torch.randn(2, 4, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(bn, (x,))
    bn.eval()
    assert torch.autograd.gradcheck(bn, (x,))


def test_stacked_bn_inference_affine_matches_batchnorm2d():
    sbn = StackedBatchNorm(3)
    assert sbn.num_features == 6
    with torch.no_grad():
        sbn.running_mean.normal_()
        sbn.running_var.uniform_(0.3, 2.0)
        sbn.weight.uniform_(0.5, 1.5)
        sbn.bias.normal_()
    ref = torch.nn.BatchNorm2d(6)
    ref.load_state_dict(sbn.state_dict())
    ref.eval()
    sbn.eval()
    x = torch.randn(2, 6, 4, 5)
    m, b = sbn.inference_affine()
    assert m.shape == (3, 2, 2) and b.shape == (3, 2)
    assert torch.all(m[:, 0, 1] == 0) and torch.all(m[:, 1, 0] == 0)
    with torch.no_grad():
        truth = ref(x)
        assert rel_err(apply_2x2(m.double(), b.double(), x.double()), truth) < TOL
        assert rel_err(sbn(x), truth) < TOL


def test_complex_prelu_and_cat():
    act = ComplexPReLU()
    with torch.no_grad():
        act.real.weight.fill_(0.1)
        act.imag.weight.fill_(0.3)
    x = torch.randn(2, 6, 3, 4)
    xr, xi = x.chunk(2, 1)
    ref = torch.cat([torch.where(xr > 0, xr, 0.1 * xr), torch.where(xi > 0, xi, 0.3 * xi)], 1)
    torch.testing.assert_close(act(x), ref)

    a, b = torch.randn(2, 4, 3, 5), torch.randn(2, 6, 3, 5)
    got = complex_cat([a, b])
    assert got.shape == (2, 10, 3, 5)
    torch.testing.assert_close(to_complex(got), torch.cat([to_complex(a), to_complex(b)], 1))


# ---- complex LSTM ---------------------------------------------------------------------------
def lstm_ref(lstm: torch.nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    return lstm(x)[0]


@pytest.mark.parametrize("proj", [None, 3])
def test_complex_lstm_formula(proj):
    mod = ComplexLSTM(5, 7, proj)
    xr, xi = torch.randn(3, 11, 5), torch.randn(3, 11, 5)
    real, imag, _ = mod(xr, xi)
    with torch.no_grad():
        ref_r = lstm_ref(mod.lstm_r, xr) - lstm_ref(mod.lstm_i, xi)
        ref_i = lstm_ref(mod.lstm_r, xi) + lstm_ref(mod.lstm_i, xr)
        if proj is not None:
            ref_r = ref_r @ mod.proj_r.weight.T + mod.proj_r.bias
            ref_i = ref_i @ mod.proj_i.weight.T + mod.proj_i.bias
    n = proj or 7
    assert real.shape == imag.shape == (3, 11, n)
    torch.testing.assert_close(real, ref_r, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(imag, ref_i, atol=1e-6, rtol=1e-5)


def test_complex_lstm_chunks_equal_one_call():
    mod = ComplexLSTM(4, 6, 5)
    xr, xi = torch.randn(2, 12, 4), torch.randn(2, 12, 4)
    with torch.no_grad():
        real, imag, _ = mod(xr, xi)
        state, outs = None, []
        for a, b in [(0, 3), (3, 4), (4, 9), (9, 12)]:
            r, i, state = mod(xr[:, a:b], xi[:, a:b], state)
            outs.append((r, i))
    torch.testing.assert_close(torch.cat([o[0] for o in outs], 1), real, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(torch.cat([o[1] for o in outs], 1), imag, atol=1e-6, rtol=1e-5)
    # causal: a later input does not change an earlier output
    xr2 = xr.clone()
    xr2[:, 7:] += 5
    with torch.no_grad():
        real2, imag2, _ = mod(xr2, xi)
    torch.testing.assert_close(real2[:, :7], real[:, :7], atol=0, rtol=0)
    torch.testing.assert_close(imag2[:, :7], imag[:, :7], atol=0, rtol=0)
