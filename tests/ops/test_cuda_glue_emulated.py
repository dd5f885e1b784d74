"""The Python side of the CUDA path, run on the host: hushboard's CUDA wrappers (the input GEMM
of the RNN, weight transposes and their cache, strides, pointers, output allocation) with the
kernels' launches swapped for their host emulations (csrc/cuda/emu.h). test_cuda_emulated.py
checks the kernels' block bodies; this checks what calls them, which otherwise runs only on a
GPU: single ops against the torch references, then a whole BSRNN stream server (every network op
on the CUDA route) against the offline model. Needs a CUDA build (skipped otherwise; a failure
under HUSHBOARD_REQUIRE_CUDA_BUILD=1)."""

from __future__ import annotations

import contextlib

import pytest
import torch
from helpers import rel_err, require_cuda_build, rnn_params
from hushboard import ops
from hushboard.ops import _band, _complex_conv, _rnn
from hushboard.ops._native import _C


@pytest.fixture(autouse=True)
def _cuda_build():
    require_cuda_build()


class _Stream:
    cuda_stream = 0


class _EmulatedC:
    """``_C`` with the CUDA launches replaced by the same kernels' host emulations."""

    WITH_CUDA = True
    launches = 0

    def __getattr__(self, name):
        return getattr(_C, name)

    def rnn_forward_cuda(self, emulated, *args):
        assert emulated is False
        type(self).launches += 1
        return _C.rnn_forward_cuda(True, *args[:-1], 0)  # the last argument: the stream

    def band_split_cuda(self, emulated, *args):
        assert emulated is False
        type(self).launches += 1
        return _C.band_split_cuda(True, *args[:-1], 0)

    def band_mask_cuda(self, emulated, *args):
        assert emulated is False
        type(self).launches += 1
        return _C.band_mask_cuda(True, *args[:-1], 0)

    def complex_conv_forward_cuda(self, transposed, x, b, f, t, wr, wi, br, bi, y, stream,
                                  *params):
        type(self).launches += 1
        return _C.complex_conv_forward_cuda_emulated(transposed, x, b, f, t, wr, wi, br, bi, y,
                                                     *params)


def _route_cpu_through_cuda_glue(monkeypatch) -> type[_EmulatedC]:
    """From here on, float32 CPU calls of the fused ops take the CUDA wrappers (emulated)."""
    _EmulatedC.launches = 0
    emu = _EmulatedC()
    monkeypatch.setattr(torch.cuda, "current_stream", lambda *a, **k: _Stream())
    monkeypatch.setattr(torch.cuda, "device", lambda *a, **k: contextlib.nullcontext())
    for mod in (_rnn, _band, _complex_conv):
        monkeypatch.setattr(mod, "_C", emu)
    monkeypatch.setattr(_rnn, "_lstm_cpu", _rnn._lstm_cuda)
    monkeypatch.setattr(_rnn, "_gru_cpu", _rnn._gru_cuda)
    monkeypatch.setattr(_band, "_split_native", _band._split_cuda_native)
    monkeypatch.setattr(_band, "_mask_native", _band._mask_cuda_native)
    monkeypatch.setattr(_complex_conv, "_native_cpu", _complex_conv._native_cuda)
    return _EmulatedC


@pytest.mark.parametrize("gru", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_wrapper(monkeypatch, gru, reverse):
    s, l, i, hidden = 5, 7, 6, 12
    w_ih, w_hh, b_ih, b_hh = rnn_params(3 if gru else 4, i, hidden, seed=int(gru) + 2 * reverse)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(s, 2 * l, i, generator=g)[:, ::2]  # strided input
    h0, c0 = torch.randn(s, hidden, generator=g), torch.randn(s, hidden, generator=g)
    if gru:
        def ref():
            return _rnn.gru_layer_reference(x.double(), w_ih.double(), w_hh.double(),
                                            b_ih.double(), b_hh.double(), h0.double(), reverse)

        def run():
            return ops.gru_layer(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=reverse)
    else:
        def ref():
            return _rnn.lstm_layer_reference(x.double(), w_ih.double(), w_hh.double(),
                                             (b_ih + b_hh).double(), h0.double(), c0.double(),
                                             reverse)

        def run():
            return ops.lstm_layer(x, w_ih, w_hh, b_ih + b_hh, h0, c0, reverse=reverse)
    truth = ref()
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    with torch.no_grad():
        got = run()
        again = run()  # the transposed W_hh from the cache
        w_hh.mul_(0.5)  # an in-place update: the cache must not serve the old transpose
        changed = run()
    assert launches.launches == 3
    for a, b in zip(got, truth):
        assert rel_err(a, b) < 1e-5
    for a, b in zip(again, got):
        assert torch.equal(a, b)
    for a, b in zip(changed, ref()):
        assert rel_err(a, b) < 1e-5


def test_band_wrappers(monkeypatch):
    dims = [3, 5, 2, 7]
    d, k, n, hidden = sum(dims), len(dims), 6, 9
    g = torch.Generator().manual_seed(4)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    x = r(2, 5, 2 * d)[..., ::2]  # rows with a stride
    sp = [r(d), r(d), r(n, d), r(k, n)]
    xm = r(2, 5, k, n)
    mp = [r(k, n), r(k, n), r(k, hidden, n), r(k, hidden), r(2 * d, hidden), r(2 * d)]
    split_truth = ops.band_split_reference(x.double(), dims, *[t.double() for t in sp])
    mask_truth = ops.band_mask_reference(xm.double(), dims, *[t.double() for t in mp])
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    with torch.no_grad():
        split = ops.band_split(x, dims, *sp)
        mask = ops.band_mask(xm, dims, *mp)
        mp[4].mul_(2.0)  # w2 changes in place: its cached transpose must be rebuilt
        mask2 = ops.band_mask(xm, dims, *mp)
    assert launches.launches == 3
    assert rel_err(split, split_truth) < 1e-5
    assert rel_err(mask, mask_truth) < 1e-5
    assert rel_err(mask2, ops.band_mask_reference(xm.double(), dims,
                                                  *[t.double() for t in mp])) < 1e-5


@pytest.mark.parametrize("transposed", [False, True])
def test_complex_conv_wrapper(monkeypatch, transposed):
    g = torch.Generator().manual_seed(5)
    cin, cout = 3, 4
    x = torch.randn(2, 2 * cin, 9, 6, generator=g)
    shape = (cin, cout, 3, 2) if transposed else (cout, cin, 3, 2)
    wr, wi = torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)
    br, bi = torch.randn(cout, generator=g), torch.randn(cout, generator=g)
    fn = ops.complex_conv_transpose2d if transposed else ops.complex_conv2d
    extra = {"output_padding": (1, 0)} if transposed else {}
    truth = fn(x.double(), wr.double(), wi.double(), br.double(), bi.double(), stride=(2, 1),
               padding=(1, 0), **extra)
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    with torch.no_grad():
        got = fn(x, wr, wi, br, bi, stride=(2, 1), padding=(1, 0), **extra)
    assert launches.launches == 1
    assert got.dtype == torch.float32 and rel_err(got, truth) < 1e-5


def test_bsrnn_stream_server_on_the_cuda_route(monkeypatch):
    """Every op of a StreamServer hop (band split, LSTM time path with carried state,
    bidirectional band path, mask MLP) through the CUDA wrappers and emulated kernels; the
    streams equal the offline model (plain torch modules) delayed by the server's latency."""
    from hushboard.models.bsrnn import BSRNN, BSRNNConfig
    from hushboard.serve import StreamServer

    torch.manual_seed(0)
    cfg = BSRNNConfig(bands=(2, 3, 5, 7, 8, 9, 15), feature_dim=8, num_layers=2, hidden_size=8,
                      mask_hidden=12, n_fft=96, hop_length=24, sample_rate=8000)
    model = BSRNN(cfg).eval()
    x = torch.randn(2, 24 * 20, generator=torch.Generator().manual_seed(6))
    ref_model = BSRNN(cfg).eval()
    ref_model.load_state_dict(model.state_dict())
    ref_model.use_kernels = False  # nn.LSTM and the per-band torch loops
    with torch.no_grad():
        ref = ref_model(x)
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    srv = StreamServer(model, 2, device="cpu")
    y = srv.process(x)
    # per hop: split, (time LSTM + 2 band LSTMs) per layer, mask
    assert launches.launches == 20 * (1 + 3 * cfg.num_layers + 1)
    lat = srv.latency_samples
    n = x.shape[-1]
    assert float((y[:, lat:] - ref[:, :n - lat]).abs().max()) <= 1e-5 * float(ref.abs().max())


def test_offline_models_on_the_cuda_route(monkeypatch):
    """The offline forwards `hushboard denoise --device cuda` batches: a BSRNN (layer by layer,
    not the CPU's one native call) and a DCCRN (complex convs and transposed convs) through the
    CUDA wrappers and emulated kernels, against their CPU outputs."""
    from hushboard.models.bsrnn import BSRNN, BSRNNConfig
    from hushboard.models.dccrn import DCCRN, DCCRNConfig

    torch.manual_seed(1)
    bsrnn = BSRNN(BSRNNConfig(bands=(2, 3, 5, 7, 8, 9, 15), feature_dim=8, num_layers=2,
                              hidden_size=8, mask_hidden=12, n_fft=96, hop_length=24,
                              sample_rate=8000, rnn="gru", mask_frames=2)).eval()
    dccrn = DCCRN(DCCRNConfig(channels=(4, 8), rnn_layers=1, rnn_units=8, n_fft=64,
                              win_length=64, hop_length=16)).eval()
    g = torch.Generator().manual_seed(7)
    xb, xd = torch.randn(2, 24 * 12, generator=g), torch.randn(2, 16 * 12, generator=g)
    with torch.no_grad():
        ref_b, ref_d = bsrnn(xb), dccrn(xd)
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    monkeypatch.setattr(BSRNN, "_network", lambda self, spec: None)  # layer by layer
    with torch.no_grad():
        got_b = bsrnn(xb)
        n_bsrnn = launches.launches
        got_d = dccrn(xd)
    assert n_bsrnn == 1 + 3 * 2 + 1 and launches.launches == n_bsrnn + 4
    assert rel_err(got_b, ref_b) < 1e-5
    assert rel_err(got_d, ref_d) < 1e-5


def test_dccrn_stream_server_on_the_cuda_route(monkeypatch):
    """A DCCRN stream server hop (causal complex convs and transposed convs with their frame
    caches) through the CUDA wrappers and emulated kernels, against the offline CPU model."""
    from hushboard.models.dccrn import DCCRN, DCCRNConfig
    from hushboard.serve import StreamServer

    torch.manual_seed(2)
    model = DCCRN(DCCRNConfig(channels=(4, 8), rnn_layers=1, rnn_units=8, n_fft=64,
                              win_length=48, hop_length=24)).eval()
    x = torch.randn(2, 24 * 10, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        ref = model(x)
    launches = _route_cpu_through_cuda_glue(monkeypatch)
    srv = StreamServer(model, 2, device="cpu")
    before = launches.launches  # the constructor's probes
    y = srv.process(x)
    assert launches.launches - before == 10 * 4  # 2 convs + 2 transposed convs per hop
    lat, n = srv.latency_samples, x.shape[-1]
    assert float((y[:, lat:] - ref[:, :n - lat]).abs().max()) <= 1e-5 * float(ref.abs().max())
