"""The evaluation's systems: RNNoise's delay (measured here again), alignment of every peer's
output with its input, and the peer registry's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hushboard.eval.systems import (
    PEERS,
    RNNOISE_DELAY_48K,
    EffectSystem,
    NoiseReduceSystem,
    RNNoiseSystem,
    make_peer,
    measure_delay,
)
from hushboard.metrics import si_snr


def test_measure_delay_finds_a_known_shift(speechlike):
    x = speechlike(16000, 1.0)
    y = np.concatenate([np.zeros(37), x[:-37]]) * 0.5
    assert measure_delay(x, y, 200) == 37
    assert measure_delay(x, x, 200) == 0
    with pytest.raises(ValueError, match="max_lag"):
        measure_delay(x, y, x.size)


def test_rnnoise_delay_is_measured_and_compensated(speechlike, noisy_of):
    rn = RNNoiseSystem()
    x48 = noisy_of(speechlike(48000, 1.5, seed=4), 15)
    raw = rn.process_48k(x48, compensate=False)
    assert measure_delay(x48, raw, 3000) == RNNOISE_DELAY_48K == 960
    aligned = rn.process_48k(x48)
    assert aligned.shape == x48.shape
    assert measure_delay(x48, aligned, 3000) == 0
    assert measure_delay(aligned, x48, 3000) == 0
    # at 16 kHz (resampled to 48 kHz and back) the output is aligned too
    x16 = noisy_of(speechlike(16000, 1.5, seed=5), 15)
    y16 = rn(x16, 16000)
    assert y16.shape == x16.shape and np.all(np.isfinite(y16))
    assert measure_delay(x16, y16, 1000) == 0 and measure_delay(y16, x16, 1000) == 0


@pytest.mark.parametrize("name", ["noisereduce", "wiener"])
def test_peers_output_is_aligned_and_denoises(name, speechlike, noisy_of):
    clean = speechlike(16000, 3.0, seed=6)  # noisereduce tracks noise over ~2 s
    noisy = noisy_of(clean, 5)
    system = make_peer(name)
    out = system(noisy, 16000)
    assert out.shape == noisy.shape and out.dtype == np.float64
    assert measure_delay(noisy, out, 1000) == 0 and measure_delay(out, noisy, 1000) == 0
    # it denoises: SI-SNR against the clean signal goes up (noisereduce also attenuates the
    # speech, so plain SNR would not show it)
    assert si_snr(clean, out) > si_snr(clean, noisy) + 1


def test_registry_and_bad_input():
    assert set(PEERS) == {"rnnoise", "noisereduce", "wiener"}
    with pytest.raises(ValueError, match="unknown peer 'rnn'"):
        make_peer("rnn")
    assert NoiseReduceSystem().stationary is False  # the mode the docs name
    with pytest.raises(TypeError, match="process"):
        EffectSystem(object(), "x")
    with pytest.raises(ValueError, match="1-D"):
        make_peer("wiener")(np.zeros((2, 100)), 16000)


def test_missing_peer_is_skipped_unless_requested(monkeypatch):
    import io

    from hushboard.eval import runner, systems

    def broken():
        raise ImportError("the X peer needs the x package (pip install x)")

    monkeypatch.setitem(systems.PEERS, "xpeer", broken)
    monkeypatch.setattr(runner, "PEERS", systems.PEERS)
    log = io.StringIO()
    built = runner.build_systems(["wiener"], None, log=log)  # default: every peer that loads
    names = [s.name for s in built]
    assert names[:2] == ["noisy", "wiener"] and "xpeer" not in names
    assert names.count("wiener") == 1  # the wiener peer is the --model wiener row
    assert "skipping peer 'xpeer'" in log.getvalue() and "pip install x" in log.getvalue()
    with pytest.raises(ValueError, match="peer 'xpeer' was requested but cannot load"):
        runner.build_systems([], ["xpeer"])
