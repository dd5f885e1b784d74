"""`LiveStream(record=...)`: the callback's record ring (allocated at start, never blocking the
audio thread) and its writer thread, driven directly without a device. The end-to-end recording
through a real PortAudio stream is in test_live_jack.py."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from hushboard.fx import Gain
from hushboard.io import read_audio


@pytest.fixture()
def live_module():
    try:
        from hushboard import live

        live._sounddevice()
    except (OSError, ImportError) as exc:
        if os.environ.get("HUSHBOARD_REQUIRE_LIVE") == "1":
            raise
        pytest.skip(f"no PortAudio/sounddevice here: {exc}")
    return live


def blocks(n: int, channels: int, size: int) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.uniform(-0.5, 0.5, (channels, size)).astype(np.float32) for _ in range(n)]


def test_record_ring_keeps_order_and_counts_drops(live_module, tmp_path):
    rec = tmp_path / "rec.wav"
    s = live_module.LiveStream(Gain(), sample_rate=8000, block_size=16, channels=2, record=rec)
    s._open_recorder()
    slots = s._ring.shape[0]
    assert slots == 2000  # RECORD_RING_SECONDS * 8000 / 16
    data = blocks(slots + 3, 2, 16)
    ring_before = s._ring.__array_interface__["data"][0]
    for b in data:  # no writer yet: the ring fills, then 3 blocks are dropped
        s._record_block(b, 16)
    assert s._ring.__array_interface__["data"][0] == ring_before  # no reallocation
    assert s.stats().record_dropped_blocks == 3 and "dropped 3 block(s)" in s.stats().line()
    s._writer = threading.Thread(target=s._write_records, daemon=True)
    s._writer.start()
    s._close_recorder()
    audio, sr = read_audio(rec)
    assert sr == 8000 and audio.shape == (2, 16 * slots)
    np.testing.assert_array_equal(audio, np.concatenate(data[:slots], axis=1))


def test_record_ring_wraps_while_the_writer_runs(live_module, tmp_path):
    rec = tmp_path / "rec.flac"
    s = live_module.LiveStream(Gain(), sample_rate=8000, block_size=32, channels=1, record=rec)
    s.RECORD_RING_SECONDS = 0.01  # the 8-slot minimum: the ring wraps many times
    s._open_recorder()
    assert s._ring.shape == (8, 1, 32)
    s._writer = threading.Thread(target=s._write_records, daemon=True)
    s._writer.start()
    data = blocks(200, 1, 32)
    kept = []
    for i, b in enumerate(data):
        frames = 32 if i % 7 else 20  # a short block now and then
        dropped = s.stats().record_dropped_blocks
        s._record_block(b, frames)
        if s.stats().record_dropped_blocks == dropped:
            kept.append(b[:, :frames])
        if i % 4 == 0:
            threading.Event().wait(0.002)  # give the writer a turn
    s._close_recorder()
    audio, _ = read_audio(rec)
    expected = np.concatenate(kept, axis=1)
    assert audio.shape == expected.shape
    np.testing.assert_allclose(audio, expected, rtol=0, atol=2 ** -22)  # 24-bit FLAC: 2 LSB


def test_record_path_is_checked_before_the_stream_opens(live_module, tmp_path):
    with pytest.raises(ValueError, match="record .* has no file extension"):
        live_module.LiveStream(Gain(), sample_rate=8000, record=str(tmp_path / "take"))
    with pytest.raises(ValueError, match=r"cannot write \.xyz"):
        live_module.LiveStream(Gain(), sample_rate=8000, record=str(tmp_path / "take.xyz"))
    with pytest.raises(OSError, match="does not exist"):
        live_module.LiveStream(Gain(), sample_rate=8000, record=str(tmp_path / "no" / "t.wav"))
    assert list(tmp_path.iterdir()) == []


def test_record_writer_failure_is_raised_by_stop(live_module, tmp_path):
    rec = tmp_path / "d" / "rec.wav"
    rec.parent.mkdir()
    s = live_module.LiveStream(Gain(), sample_rate=8000, block_size=16, channels=1, record=rec)
    rec.parent.rmdir()  # the folder goes away after the check: the writer cannot open the file
    s._open_recorder()
    s._writer = threading.Thread(target=s._write_records, daemon=True)
    s._writer.start()
    s._writer.join()
    with pytest.raises(OSError, match="recording to .*rec.wav failed"):
        s.stop()
    s.stop()  # reported once; a second stop is a no-op
