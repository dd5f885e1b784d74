"""Chain: latency compensation, pedalboard plugins beside hushboard effects, nesting, list
behaviour, block-size independence, streaming."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest

from hushboard.fx import Chain, Gain, WienerDenoiser

SR = 16000


def signal(channels: int = 2, n: int = 12000, seed: int = 0) -> np.ndarray:
    return (0.2 * np.random.default_rng(seed).standard_normal((channels, n))).astype(np.float32)


def identity_with_latency() -> WienerDenoiser:
    """A Wiener denoiser whose gain floor is 0 dB passes audio unchanged, n_fft - 1 late."""
    return WienerDenoiser(gain_floor_db=0.0)


def test_latency_is_summed_and_compensated():
    x = signal()
    chain = Chain([identity_with_latency(), Gain(-6.0), identity_with_latency()])
    y = chain.process(x, SR)
    assert chain.latency_samples == 2 * 511
    np.testing.assert_allclose(y, x * 10 ** (-6 / 20), rtol=0, atol=2e-6)


def test_pedalboard_plugins_beside_native_effects():
    x = signal()
    plugins = [pedalboard.HighpassFilter(cutoff_frequency_hz=200), pedalboard.Gain(gain_db=-3)]
    expected = pedalboard.Pedalboard(plugins).process(x, SR)
    chain = Chain([identity_with_latency(), plugins[0], Gain(0.0), plugins[1]])
    np.testing.assert_allclose(chain.process(x, SR), expected, rtol=0, atol=2e-6)
    comp = Chain([pedalboard.Compressor(threshold_db=-20, ratio=4), WienerDenoiser()])
    out = comp.process(x, SR)
    assert out.shape == x.shape and np.isfinite(out).all()


def test_nesting():
    x = signal(1)[0]
    nested = Chain([Chain([Gain(-3.0), Chain([Gain(-2.0)])]), Gain(-1.0)])
    np.testing.assert_allclose(nested.process(x, SR), x * 10 ** (-6 / 20), rtol=1e-6, atol=1e-7)
    with_latency = Chain([Chain([identity_with_latency()]), identity_with_latency()])
    np.testing.assert_allclose(with_latency.process(x, SR), x, atol=2e-6)
    assert with_latency.latency_samples == 1022


@pytest.mark.parametrize("buffer_size", [1, 7, 64, 480, 512, 4096])
def test_block_size_independent(buffer_size):
    x = signal(2, 9000)

    def make():
        return Chain([WienerDenoiser(), pedalboard.LowpassFilter(cutoff_frequency_hz=3000),
                      Gain(-2.0)])

    whole = make().process(x, SR, buffer_size=x.shape[1])
    np.testing.assert_allclose(make().process(x, SR, buffer_size=buffer_size), whole,
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("block", [1, 7, 129, 4096])
def test_streaming_equals_offline_delayed(block):
    x = signal(2, 8000)
    make = lambda: Chain([WienerDenoiser(), pedalboard.HighpassFilter(150), Gain(-1.0)])  # noqa: E731
    offline = make().process(x, SR)
    chain = make()
    parts = [chain.process(x[:, i:i + block], SR, reset=False) for i in range(0, x.shape[1], block)]
    stream = np.concatenate(parts, axis=1)
    lat = chain.latency_samples
    np.testing.assert_allclose(stream[:, lat:], offline[:, :-lat], rtol=0, atol=2e-6)


def test_list_behaviour():
    g1, g2, w = Gain(-1.0), Gain(-2.0), WienerDenoiser()
    chain = Chain([g1])
    chain.append(w)
    chain.insert(0, g2)
    assert list(chain) == [g2, g1, w] and len(chain) == 3 and chain[-1] is w
    del chain[1]
    assert list(chain) == [g2, w]
    chain[0] = g1
    assert chain[0] is g1
    assert "Chain([Gain(gain_db=-1.0), WienerDenoiser(" in repr(chain)
    with pytest.raises(ValueError, match="already in this chain"):
        chain.append(g1)
    with pytest.raises(ValueError, match="cannot contain itself"):
        chain.append(chain)
    with pytest.raises(TypeError, match="hushboard effects or pedalboard plugins"):
        chain.append(lambda a: a)
    # editing restarts the chain and the new member is used
    x = signal(1)[0]
    chain = Chain([Gain(-6.0)])
    chain.process(x, SR)
    chain.append(Gain(-6.0))
    np.testing.assert_allclose(chain.process(x, SR), x * 10 ** (-12 / 20), rtol=1e-6, atol=1e-7)


def test_gain_change_ramps_over_one_block():
    g = Gain(0.0)
    ones = np.ones(100, np.float32)
    assert np.all(g.process(ones, SR, reset=False) == 1)
    g.gain_db = -20.0
    ramp = g.process(ones, SR, reset=False)
    assert ramp[0] < 1 and ramp[-1] == pytest.approx(0.1, rel=1e-6)
    assert np.all(np.diff(ramp) < 0)
    assert np.allclose(g.process(ones, SR, reset=False), 0.1)


def test_chain_bad_input_and_mid_stream_changes():
    chain = Chain([Gain(-1.0), WienerDenoiser()])
    with pytest.raises(ValueError, match="NaN"):
        chain.process(np.full(100, np.nan, np.float32), SR)
    chain.process(signal(2, 500), SR, reset=False)
    with pytest.raises(ValueError, match="sample_rate changed"):
        chain.process(signal(2, 500), 48000, reset=False)
    with pytest.raises(ValueError, match="gain_db"):
        Gain(float("inf"))


def test_streaming_fast_path_equals_the_checked_path():
    """float32 C-contiguous blocks go straight to C++; float64 ones take the Python path."""
    x = signal(2, 6000)
    fast, slow = Chain([Gain(-2.0), WienerDenoiser()]), Chain([Gain(-2.0), WienerDenoiser()])
    a = np.concatenate([fast.process(x[:, i:i + 128].copy(), SR, reset=False)
                        for i in range(0, 6000, 128)], axis=1)
    b = np.concatenate([slow.process(x[:, i:i + 128].astype(np.float64), SR, reset=False)
                        for i in range(0, 6000, 128)], axis=1)
    assert fast._fast is not None
    np.testing.assert_array_equal(a, b)
    bad = x[:, :128].copy()
    bad[0, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):  # the fast path hands errors back
        fast.process(bad, SR, reset=False)
    with pytest.raises(ValueError, match="buffer_size"):
        fast.process(x[:, :128].copy(), SR, buffer_size=0, reset=False)
    mixed = Chain([Gain(-2.0), pedalboard.Gain(gain_db=1.0)])
    mixed.process(x[:, :128].copy(), SR, reset=False)
    assert mixed._fast is None  # pedalboard members keep the Python loop
