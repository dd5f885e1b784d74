"""Streaming STFT / iSTFT / round trip: block-by-block output equals the offline transform."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import noise

from hushboard import ops
from hushboard.streaming import IstftStream, StftRoundTrip, StftStream

BLOCKS = [1, 7, 64, 127, 128, 129, 480, 512, 4096, None]  # None: the whole signal at once


def feed(stream, x, block, axis=-1):
    """Concatenated outputs of `stream.process` over blocks of `block` samples/frames."""
    if block is None:
        return stream.process(x)
    n = x.shape[axis]
    outs = [stream.process(np.take(x, np.arange(i, min(i + block, n)), axis=axis))
            for i in range(0, n, block)]
    return np.concatenate(outs, axis=-1)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("n_fft,hop,win", [(512, 128, 512), (512, 100, 400), (960, 480, 960)])
def test_stft_stream_equals_offline(block, n_fft, hop, win):
    x = noise(2, 9001)
    s = StftStream(n_fft, hop, win, window="hann", channels=2)
    got = feed(s, x, block)
    ref = ops.stft(x, n_fft, hop, win, window="hann", pad_mode="constant")
    k = got.shape[-1]
    # every frame whose window lies inside the signal so far
    assert k == (9001 + n_fft // 2 - n_fft) // hop + 1
    np.testing.assert_allclose(got, ref[..., :k], rtol=0, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("output,power", [("magnitude", 1.0), ("compressed", 0.3)])
@pytest.mark.parametrize("center", [True, False])
def test_stft_stream_outputs_and_center(output, power, center):
    x = noise(1, 7000)[0]
    s = StftStream(512, 128, window="hann", center=center, output=output, power=power)
    got = feed(s, x, 333)
    ref = ops.stft(x, 512, 128, window="hann", center=center, pad_mode="constant",
                   output=output, power=power)
    k = got.shape[-1]
    assert got.ndim == 2 and k >= ref.shape[-1] - 4
    np.testing.assert_allclose(got, ref[..., :k], rtol=0, atol=2e-5 * np.abs(ref).max())


@pytest.mark.parametrize("block", [1, 3, 17, 64, None])
@pytest.mark.parametrize("n_fft,hop", [(512, 128), (960, 480), (320, 80)])
def test_istft_stream_equals_offline_delayed(block, n_fft, hop):
    spec = ops.stft(noise(2, 12000), n_fft, hop, window="hann")
    s = IstftStream(n_fft, hop, window="hann", channels=2)
    got = feed(s, spec, block)
    ref = ops.istft(spec, n_fft, hop, window="hann")
    lat = s.latency_samples
    assert lat == n_fft // 2 and got.shape[-1] == spec.shape[-1] * hop
    assert np.all(got[:, :lat] == 0)
    n = min(got.shape[-1] - lat, ref.shape[-1])
    np.testing.assert_allclose(got[:, lat:lat + n], ref[:, :n], rtol=0, atol=2e-6)


def test_istft_stream_compressed():
    spec = ops.stft(noise(1, 8000)[0], 512, 128, window="hann", output="compressed", power=0.3)
    s = IstftStream(512, 128, window="hann", input="compressed", power=0.3)
    got = feed(s, spec, 5)
    ref = ops.istft(spec, 512, 128, window="hann", input="compressed", power=0.3)
    lat = s.latency_samples
    n = min(got.shape[-1] - lat, ref.shape[-1])
    np.testing.assert_allclose(got[lat:lat + n], ref[:n], rtol=0, atol=5e-6)


@pytest.mark.parametrize("block", [1, 7, 64, 127, 480, 512, 4096, None])
@pytest.mark.parametrize("n_fft,hop,win", [(512, 128, 512), (512, 100, 400), (960, 240, 960)])
def test_round_trip_is_a_delay(block, n_fft, hop, win):
    x = noise(2, 10007)
    rt = StftRoundTrip(n_fft, hop, win, window="hann", channels=2)
    y = feed(rt, x, block)
    lat = rt.latency_samples
    assert lat == n_fft - 1 and y.shape == x.shape
    assert np.all(y[:, :lat] == 0)
    np.testing.assert_allclose(y[:, lat:], x[:, :-lat], rtol=0, atol=1e-5)


def test_round_trip_equals_offline_istft_of_stft_for_any_split():
    x = noise(1, 6000)[0]
    rt = StftRoundTrip(512, 128, window="sqrt_hann")
    whole = rt.process(x)
    rt.reset()
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, 6000), 40, replace=False))
    parts = np.concatenate([rt.process(p) for p in np.split(x, cuts)])
    np.testing.assert_array_equal(whole, parts)


def test_reset_restores_initial_state():
    x = noise(1, 3000)
    for stream in (StftStream(512, 128), StftRoundTrip(512, 128)):
        a = stream.process(x)
        stream.process(noise(1, 777, seed=5))
        stream.reset()
        b = stream.process(x)
        np.testing.assert_array_equal(a, b)
    spec = ops.stft(noise(1, 3000)[0], 512, 128, window="hann")
    s = IstftStream(512, 128)
    a = s.process(spec)
    s.reset()
    np.testing.assert_array_equal(a, s.process(spec))


def test_channels_are_independent():
    x = noise(3, 5000)
    rt = StftRoundTrip(512, 128, channels=3)
    y = rt.process(x)
    for c in range(3):
        single = StftRoundTrip(512, 128).process(x[c])
        np.testing.assert_array_equal(y[c], single)


def test_stream_frames_for_and_empty_blocks():
    s = StftStream(512, 128)
    assert s.frames_for(0) == 0
    assert s.frames_for(256) == 1  # 256 zeros of centring + 256 samples fill one frame
    out = s.process(np.zeros(0, np.float32))
    assert out.shape == (257, 0)
    rt = StftRoundTrip(512, 128)
    assert rt.process(np.zeros(0, np.float32)).shape == (0,)


@pytest.mark.parametrize(
    "make,arg,exc,match",
    [
        (lambda: StftStream(512, 128), np.zeros(100, np.int16), TypeError, "float32 or float64"),
        (lambda: StftStream(512, 128), [0.0] * 10, TypeError, "numpy.ndarray"),
        (lambda: StftStream(512, 128), np.zeros((2, 100), np.float32), ValueError, r"shape \(1, samples\)"),
        (lambda: StftStream(512, 128, channels=2), np.zeros(100, np.float32), ValueError, "2 channels"),
        (lambda: StftRoundTrip(512, 128), np.full(100, np.nan, np.float32), ValueError, "NaN or Inf"),
        (lambda: StftRoundTrip(512, 128), np.zeros((1, 1, 100), np.float32), ValueError, "shape"),
        (lambda: IstftStream(512, 128), np.zeros((257, 3), np.float32), TypeError, "complex64"),
        (lambda: IstftStream(512, 128), np.zeros((256, 3), np.complex64), ValueError, "shape"),
    ],
)
def test_stream_bad_input(make, arg, exc, match):
    s = make()
    with pytest.raises(exc, match=match):
        s.process(arg)


def test_stream_bad_input_leaves_state_intact():
    x = noise(1, 4000)[0]
    clean = StftRoundTrip(512, 128).process(x)
    rt = StftRoundTrip(512, 128)
    first = rt.process(x[:1000])
    with pytest.raises(ValueError):
        rt.process(np.full(50, np.inf, np.float32))
    rest = rt.process(x[1000:])
    np.testing.assert_array_equal(np.concatenate([first, rest]), clean)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"n_fft": 509}, ValueError, "n_fft"),
        ({"n_fft": 375, "hop_length": 75}, ValueError, "even n_fft"),
        ({"hop_length": 0}, ValueError, "hop_length"),
        ({"channels": 0}, ValueError, "channels"),
        ({"window": "rect", "hop_length": 512, "win_length": 256}, ValueError, "hop_length"),
    ],
)
def test_stream_bad_parameters(kwargs, exc, match):
    args = {"n_fft": 512, "hop_length": 128}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        StftRoundTrip(**args)


def test_istft_stream_rejects_non_nola_window():
    with pytest.raises(ValueError, match="NOLA"):
        IstftStream(512, 512, window=torch.hann_window(512) * 0)


def test_repr_shows_parameters():
    assert "n_fft=512" in repr(StftStream(512, 128))
    assert "latency_samples=511" in repr(StftRoundTrip(512, 128))
