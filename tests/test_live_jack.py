"""Live loop through a real-time-clocked JACK server (jackd's dummy driver): a known signal is
played into hushboard's live stream and what comes out is recorded. The output must equal the
offline chain's output delayed by the reported latency plus the device round trip, with no late
blocks. Needs jackd (Debian jackd2), libportaudio2 and JACK-Client; .ci/run installs them and
sets HUSHBOARD_REQUIRE_LIVE=1, which turns a missing piece into a failure instead of a skip."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time

import numpy as np
import pedalboard
import pytest

from hushboard.fx import Chain, Gain, WienerDenoiser

SR, PERIOD = 48000, 1024  # a 21 ms period: margin for two Python callbacks on 2 busy cores


def _missing(why: str):
    if os.environ.get("HUSHBOARD_REQUIRE_LIVE") == "1":
        pytest.fail(f"HUSHBOARD_REQUIRE_LIVE=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def jack_server():
    try:
        import jack
    except (ImportError, OSError) as exc:
        _missing(f"JACK-Client is not usable ({exc})")
    def server_up() -> bool:
        try:
            c = jack.Client("hbprobe", no_start_server=True)
        except jack.JackError:
            return False
        c.close()
        return True

    proc = None
    if not server_up():
        if shutil.which("jackd") is None:
            _missing("jackd is not installed (Debian: apt-get install jackd2)")
        proc = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", str(SR), "-p",
                                 str(PERIOD)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if server_up():
                break
            time.sleep(0.05)
        else:
            proc.kill()
            _missing("jackd did not start")
    try:
        import sounddevice as sd
    except OSError as exc:
        _missing(f"PortAudio is missing ({exc})")
    sd._terminate()  # PortAudio lists devices when it starts: rescan now that JACK runs
    sd._initialize()
    yield jack
    if proc is not None:
        sd._terminate()  # PortAudio must let go of the server before it stops
        proc.terminate()
        proc.wait(timeout=10)


def test_live_output_is_the_offline_chain_delayed(jack_server):
    jack = jack_server
    from hushboard.live import LiveStream

    rng = np.random.default_rng(0)
    signal = (0.2 * rng.standard_normal(int(1.5 * SR))).astype(np.float32)
    # linear and time-invariant, so that any split of the delay gives the same output
    make = lambda: Chain([pedalboard.HighpassFilter(cutoff_frequency_hz=120), Gain(-6.0),  # noqa: E731
                          WienerDenoiser(gain_floor_db=0.0)])
    offline = make().process(signal, SR)

    client = jack.Client("hbtest", no_start_server=True)
    outport = client.outports.register("out")
    inport = client.inports.register("in")
    total = signal.size + SR  # room for the delay
    recorded = np.zeros(total, np.float32)
    state = {"t": 0, "go": False}

    @client.set_process_callback
    def process(frames):
        out = outport.get_array()
        if not state["go"] or state["t"] >= total:
            out.fill(0)
            return
        t = state["t"]
        n = min(frames, total - t)
        chunk = signal[t:t + n] if t < signal.size else np.zeros(0, np.float32)
        out.fill(0)
        out[:chunk.size] = chunk
        recorded[t:t + n] = inport.get_array()[:n]
        state["t"] = t + frames

    client.activate()
    period = client.blocksize  # the running server's (ours starts with PERIOD)
    live = LiveStream(make(), sample_rate=SR, block_size=period, channels=1)
    live.start()
    try:
        time.sleep(0.2)
        pa_in = client.get_ports(name_pattern="PortAudio", is_audio=True, is_input=True)
        pa_out = client.get_ports(name_pattern="PortAudio", is_audio=True, is_output=True)
        assert pa_in and pa_out, [p.name for p in client.get_ports()]
        for src in client.get_all_connections(pa_in[0]):
            client.disconnect(src, pa_in[0])
        client.connect(outport, pa_in[0])
        client.connect(pa_out[0], inport)
        time.sleep(0.3)  # rewiring the graph may flag an xrun; measure from here on
        late_before = live.stats().late_blocks
        gc.disable()  # no collector pauses inside the measured second and a half
        state["go"] = True
        deadline = time.monotonic() + total / SR + 5
        while state["t"] < total and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        gc.enable()
        live.stop()
        client.deactivate()
        client.close()
    assert state["t"] >= total, "the JACK clock did not advance"
    stats = live.stats()
    assert stats.callback_errors == 0, stats.errors
    assert stats.late_blocks == late_before, "blocks were late while the signal played"
    lat = stats.algorithmic_latency_samples
    assert lat == 1535  # 32 ms frames at 48 kHz: n_fft 1536
    # delay of the recording against the offline output: the latency plus whole periods
    corr = np.correlate(recorded[: signal.size + SR // 2], offline[: SR // 2], mode="valid")
    delay = int(np.argmax(np.abs(corr)))
    round_trip = delay - lat
    assert 0 <= round_trip <= 4 * period and round_trip % period == 0, (delay, lat, period)
    np.testing.assert_allclose(recorded[delay:delay + signal.size], offline, rtol=0, atol=1e-5)
    assert np.abs(recorded[:delay]).max() < 1e-5  # silence before (FFT rounding leaks ~1e-8)


def test_live_cli_lists_devices_and_records(jack_server, tmp_path, capsys):
    from hushboard.cli import main
    from hushboard.io import read_audio

    assert main(["live", "--list-devices"]) == 0
    assert "JACK" in capsys.readouterr().out
    rec = tmp_path / "rec.wav"
    assert main(["live", "--duration", "0.6", "--samplerate", str(SR), "--blocksize",
                 str(PERIOD), "--record", str(rec), "--chain", "highpass:80,denoise"]) == 0
    out = capsys.readouterr().out
    assert "late 0" in out and "latency" in out
    audio, sr = read_audio(rec)
    assert sr == SR and audio.shape[0] == 1 and 0.3 * SR < audio.shape[1] < 2 * SR


def test_live_stream_rejects_bad_arguments(jack_server):
    from hushboard.live import LiveStream

    with pytest.raises(TypeError, match="hushboard effect"):
        LiveStream(pedalboard.Gain(-3))
    with pytest.raises(ValueError, match="block_size"):
        LiveStream(Gain(-3.0), block_size=0)
