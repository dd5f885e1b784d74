"""StreamServer: a batch of live streams through one causal BSRNN, a hop per call. Each
stream's output equals the model's offline output delayed by latency_samples; streams are
independent (reset of one leaves the others alone); bad input raises before any state changes.
The CUDA-graph path is checked against the eager and CPU paths on a GPU (skipped without one;
HUSHBOARD_REQUIRE_CUDA=1 turns the skip into a failure)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import require_cuda
from hushboard.models.bsrnn import BSRNN, BSRNNConfig
from hushboard.models.dccrn import DCCRN, DCCRNConfig
from hushboard.serve import StreamServer

_BANDS = (2, 3, 5, 7, 8, 9, 15)  # 49 bins: n_fft 96
_SMALL = dict(bands=_BANDS, feature_dim=8, num_layers=2, hidden_size=8, mask_hidden=12,
              n_fft=96, sample_rate=8000)
CONFIGS = {
    # n_fft / 2 = 48 is not a multiple of the hop (40): the frame sits inside the buffer
    "lstm-hop40": BSRNNConfig(**_SMALL, hop_length=40),
    "gru-filter3-hop24": BSRNNConfig(**_SMALL, hop_length=24, rnn="gru", mask_frames=3),
    "stereo-2stems-hop48": BSRNNConfig(**_SMALL, hop_length=48, audio_channels=2,
                                       stems=("a", "b")),
    "odd-hop-37": BSRNNConfig(**_SMALL, hop_length=37),
}


def _model(cfg, seed=0) -> BSRNN:
    torch.manual_seed(seed)
    return BSRNN(cfg).eval()


def _offline(model: BSRNN, x: torch.Tensor) -> torch.Tensor:
    """(streams, C, n) -> (streams, stems, C, n) from the offline forward."""
    with torch.no_grad():
        return model.separate(x[:, 0] if model.config.audio_channels == 1 else x)


def _stream(srv: StreamServer, x, blocks):
    outs, i = [], 0
    for b in blocks:
        outs.append(srv.process(x[..., i:i + b]))
        i += b
    return torch.cat(outs, -1) if isinstance(outs[0], torch.Tensor) else np.concatenate(outs, -1)


def _blocks(hop: int, n_hops: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    out, left = [], n_hops
    while left:
        k = int(min(left, rng.integers(1, 6)))
        out.append(k * hop)
        left -= k
    return out


@pytest.mark.parametrize("name", list(CONFIGS))
def test_stream_equals_offline_delayed(name):
    cfg = CONFIGS[name]
    model = _model(cfg)
    streams, hop = 3, cfg.hop_length
    srv = StreamServer(model, streams, device="cpu")
    assert srv.latency_samples == (-(-cfg.n_fft // 2 // hop) - 1) * hop + cfg.n_fft // 2
    n = hop * 50
    g = torch.Generator().manual_seed(1)
    x = torch.randn(streams, cfg.audio_channels, n, generator=g)
    x[1] *= 0.01  # streams at very different levels stay independent
    ref = _offline(model, x)
    y = _stream(srv, x if cfg.audio_channels > 1 else x[:, 0], _blocks(hop, 50, 2))
    if cfg.audio_channels == 1 and len(cfg.stems) == 1:
        assert y.shape == (streams, n)
        y = y[:, None, None]
    assert y.shape == ref.shape
    lat = srv.latency_samples
    for s in range(streams):
        scale = float(ref[s].abs().max())
        err = float((y[s, ..., lat:] - ref[s, ..., :n - lat]).abs().max())
        assert err <= 1e-5 * scale, (s, err, scale)


def test_shipped_default_models_stream_like_offline():
    for rate, lat in ((16000, 384), (48000, 480)):
        srv = StreamServer("default", 2, device="cpu", sample_rate=rate)
        assert srv.sample_rate == rate and srv.latency_samples == lat
        assert srv.latency_samples == srv.config.n_fft - srv.hop_length
        n = srv.hop_length * 30
        x = torch.randn(2, n, generator=torch.Generator().manual_seed(rate)) * 0.1
        ref = _offline(srv.model, x[:, None])[:, 0, 0]
        y = srv.process(x)
        scale = float(ref.abs().max())
        assert float((y[:, lat:] - ref[:, :n - lat]).abs().max()) <= 1e-5 * scale


DCCRN_CONFIGS = {
    # a window shorter than n_fft, n_fft / 2 = 32 not a multiple of the hop (24)
    "complex-lstm-cbn": DCCRNConfig(channels=(4, 8), rnn_layers=2, rnn_units=8, n_fft=64,
                                    win_length=48, hop_length=24),
    "real-lstm-bn": DCCRNConfig(channels=(4, 8, 8), rnn="real", rnn_layers=1, rnn_units=12,
                                norm="bn", n_fft=64, win_length=64, hop_length=16),
}


def _dccrn(cfg) -> DCCRN:
    torch.manual_seed(2)
    model = DCCRN(cfg)
    with torch.no_grad():  # running statistics away from the identity, as after training
        for m in model.modules():
            for name, buf in m.named_buffers(recurse=False):
                if buf.is_floating_point() and "running" in name:
                    buf.add_(0.1 * torch.rand_like(buf))
    return model.eval()


@pytest.mark.parametrize("name", list(DCCRN_CONFIGS))
def test_dccrn_streams_equal_offline_and_reset(name):
    cfg = DCCRN_CONFIGS[name]
    model = _dccrn(cfg)
    hop, streams = cfg.hop_length, 3
    srv = StreamServer(model, streams, device="cpu")
    half = cfg.n_fft // 2
    assert srv.latency_samples == (-(-half // hop) - 1) * hop + half
    n = hop * 40
    x = torch.randn(streams, n, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = model(x)
    y = _stream(srv, x, _blocks(hop, 40, 4))
    lat = srv.latency_samples
    for s in range(streams):
        scale = float(ref[s].abs().max())
        assert float((y[s, lat:] - ref[s, :n - lat]).abs().max()) <= 1e-5 * scale, s
    # one caller leaves, another joins: stream 1 starts from silence, the others carry on
    whole = StreamServer(model, streams, device="cpu")
    whole.process(x)
    srv.reset([1])
    b = torch.randn(streams, hop * 10, generator=torch.Generator().manual_seed(5))
    got, cont = srv.process(b), whole.process(b)
    fresh = StreamServer(model, streams, device="cpu").process(b)
    torch.testing.assert_close(got[[0, 2]], cont[[0, 2]], rtol=0, atol=0)
    torch.testing.assert_close(got[1], fresh[1], rtol=0, atol=0)


def test_reset_one_stream_leaves_the_others():
    cfg = CONFIGS["lstm-hop40"]
    model = _model(cfg, seed=3)
    hop, n1, n2 = cfg.hop_length, 40 * 12, 40 * 20
    g = torch.Generator().manual_seed(4)
    a = torch.randn(3, n1, generator=g)
    b = torch.randn(3, n2, generator=g)
    srv = StreamServer(model, 3, device="cpu")
    whole = StreamServer(model, 3, device="cpu")
    fresh = StreamServer(model, 3, device="cpu")
    srv.process(a)
    whole.process(a)
    srv.reset([1])
    y = srv.process(b)
    y_whole = whole.process(b)
    y_fresh = fresh.process(b)
    torch.testing.assert_close(y[[0, 2]], y_whole[[0, 2]], rtol=0, atol=0)
    torch.testing.assert_close(y[1], y_fresh[1], rtol=0, atol=0)
    assert not torch.equal(y_whole[1], y_fresh[1])  # the reset did something
    srv.reset()
    fresh.reset()
    torch.testing.assert_close(srv.process(b), fresh.process(b), rtol=0, atol=0)
    assert n1 % hop == 0 and n2 % hop == 0


def test_numpy_in_numpy_out_and_float64():
    cfg = CONFIGS["lstm-hop40"]
    model = _model(cfg)
    x = np.random.default_rng(5).standard_normal((2, 400))
    y64 = StreamServer(model, 2, device="cpu").process(x)
    y32 = StreamServer(model, 2, device="cpu").process(x.astype(np.float32))
    assert isinstance(y64, np.ndarray) and y64.dtype == np.float64 and y64.shape == (2, 400)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y64, y32, rtol=0, atol=1e-6)
    t = StreamServer(model, 2, device="cpu").process(torch.from_numpy(x))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64


def test_bad_input_raises_and_leaves_state():
    cfg = CONFIGS["lstm-hop40"]
    model = _model(cfg)
    g = torch.Generator().manual_seed(6)
    a, b = torch.randn(2, 200, generator=g), torch.randn(2, 200, generator=g)
    srv, ref = StreamServer(model, 2, device="cpu"), StreamServer(model, 2, device="cpu")
    srv.process(a)
    ref.process(a)
    nan = b.clone()
    nan[1, 7] = float("nan")
    inf = b.clone()
    inf[0, 0] = float("inf")
    for bad, exc, words in [
        (nan, ValueError, "NaN"), (inf, ValueError, "NaN or Inf"),
        (b[:, :50], ValueError, "multiple of hop_length"),
        (b[:, :0], ValueError, "multiple of hop_length"),
        (b[:1], ValueError, "shape"), (b[None], ValueError, "shape"),
        (b.to(torch.int32), TypeError, "float32 or float64"),
        (b.numpy().astype(np.float16), TypeError, "float32 or float64"),
        (b.tolist(), TypeError, "numpy.ndarray or torch.Tensor"),
    ]:
        with pytest.raises(exc, match=words):
            srv.process(bad)
    for bad, exc in [([2], ValueError), ([-1], ValueError), ([0.5], TypeError),
                     ([True], TypeError)]:
        with pytest.raises(exc, match="streams"):
            srv.reset(bad)
    torch.testing.assert_close(srv.process(b), ref.process(b), rtol=0, atol=0)


def test_constructor_errors():
    with pytest.raises(ValueError, match="streams"):
        StreamServer(_model(CONFIGS["lstm-hop40"]), 0, device="cpu")
    with pytest.raises(ValueError, match="streams"):
        StreamServer(_model(CONFIGS["lstm-hop40"]), True, device="cpu")
    with pytest.raises(ValueError, match="causal"):
        StreamServer(BSRNN(BSRNNConfig(**_SMALL, hop_length=40, causal=False)), 1, device="cpu")
    with pytest.raises(ValueError, match="graph=True needs a CUDA device"):
        StreamServer(_model(CONFIGS["lstm-hop40"]), 1, device="cpu", graph=True)
    with pytest.raises(TypeError, match="BSRNN or DCCRN"):
        StreamServer(torch.nn.Linear(2, 2), 1, device="cpu")
    with pytest.raises(ValueError, match="unknown model"):
        StreamServer("no-such-model", 1, device="cpu")


def test_the_server_keeps_its_own_weights():
    cfg = CONFIGS["lstm-hop40"]
    model = _model(cfg)
    x = torch.randn(1, 400, generator=torch.Generator().manual_seed(7))
    before = StreamServer(model, 1, device="cpu")
    y0 = before.process(x)
    before.reset()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    torch.testing.assert_close(before.process(x), y0, rtol=0, atol=0)


def test_cuda_request_without_gpu_falls_back_with_warning():
    from hushboard.backend import cuda_available

    if cuda_available():
        pytest.skip("a GPU is present")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        srv = StreamServer(_model(CONFIGS["lstm-hop40"]), 2, device="cuda")
    assert srv.device.type == "cpu" and not srv.graph
    assert any(issubclass(i.category, RuntimeWarning) for i in w)


# ---- GPU ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lstm-hop40", "gru-filter3-hop24", "stereo-2stems-hop48"])
def test_cuda_graph_equals_eager_and_cpu(name):
    require_cuda()
    cfg = CONFIGS[name]
    model = _model(cfg)
    streams, hop = 5, cfg.hop_length
    n = hop * 40
    g = torch.Generator().manual_seed(8)
    x = torch.randn(streams, cfg.audio_channels, n, generator=g)
    if cfg.audio_channels == 1 and len(cfg.stems) == 1:
        x = x[:, 0]
    blocks = _blocks(hop, 40, 9)
    graph = StreamServer(model, streams, device="cuda")
    assert graph.graph
    eager = StreamServer(model, streams, device="cuda", graph=False)
    cpu = StreamServer(model, streams, device="cpu")
    y_graph = _stream(graph, x.cuda(), blocks)
    y_eager = _stream(eager, x.cuda(), blocks)
    y_cpu = _stream(cpu, x, blocks)
    assert y_graph.is_cuda
    torch.testing.assert_close(y_graph, y_eager, rtol=0, atol=1e-6)
    scale = float(y_cpu.abs().max())
    assert float((y_graph.cpu() - y_cpu).abs().max()) <= 2e-5 * scale
    # a per-stream reset between replays matches a fresh stream
    graph.reset([2])
    fresh = StreamServer(model, streams, device="cuda")
    torch.testing.assert_close(graph.process(x.cuda())[2], fresh.process(x.cuda())[2],
                               rtol=0, atol=1e-6)


def test_cuda_graph_shipped_model_matches_offline():
    require_cuda()
    srv = StreamServer("bsrnn-speech-16k-lite", 16, device="cuda")
    n = srv.hop_length * 100
    x = torch.randn(16, n, generator=torch.Generator().manual_seed(10)) * 0.1
    y = srv.process(x.cuda()).cpu()
    from hushboard.fx.model import shipped_weights

    cpu_model = BSRNN.load(shipped_weights()["bsrnn-speech-16k-lite"]).eval()
    ref = _offline(cpu_model, x[:, None])[:, 0, 0]
    lat = srv.latency_samples
    scale = float(ref.abs().max())
    assert float((y[:, lat:] - ref[:, :n - lat]).abs().max()) <= 2e-5 * scale


@pytest.mark.parametrize("name", list(DCCRN_CONFIGS))
def test_cuda_graph_dccrn(name):
    require_cuda()
    model = _dccrn(DCCRN_CONFIGS[name])
    hop = model.config.hop_length
    x = torch.randn(4, hop * 30, generator=torch.Generator().manual_seed(11))
    graph = StreamServer(model, 4, device="cuda")
    assert graph.graph
    cpu = StreamServer(model, 4, device="cpu")
    y_graph, y_cpu = graph.process(x.cuda()).cpu(), cpu.process(x)
    assert float((y_graph - y_cpu).abs().max()) <= 2e-5 * float(y_cpu.abs().max())
