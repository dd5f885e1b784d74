"""Live processing through sounddevice (PortAudio): a duplex stream whose callback runs an
effect or chain block by block.

The effect's DSP runs in C++ for native effects (one call per block, GIL released inside);
buffers are allocated once, when the stream starts. Added latency = the effect's
``latency_samples`` + the device buffers (both reported).

    with hushboard.live.LiveStream(WienerDenoiser(), sample_rate=48000, block_size=256) as live:
        time.sleep(10)
        print(live.stats())
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hushboard.fx.base import Effect, NativeEffect
from hushboard.io import check_writable, output_bit_depth

__all__ = ["LiveStats", "LiveStream", "list_devices", "run"]


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio shared library is missing
        raise OSError(
            "live audio needs the PortAudio library: install it with your system's package "
            "manager (Debian/Ubuntu: apt-get install libportaudio2; macOS: brew install "
            f"portaudio) ({exc})"
        ) from None
    except ImportError as exc:
        raise ImportError("live audio needs sounddevice: pip install sounddevice") from exc
    return sd


def list_devices() -> str:
    """The audio devices PortAudio sees, as sounddevice prints them."""
    return str(_sounddevice().query_devices())


@dataclass
class LiveStats:
    blocks: int = 0
    late_blocks: int = 0          # PortAudio reported an input overflow or output underflow
    callback_errors: int = 0
    dsp_load_mean: float = 0.0    # processing time / block time
    dsp_load_max: float = 0.0
    algorithmic_latency_samples: int = 0
    device_latency_s: tuple[float, float] = (0.0, 0.0)
    sample_rate: float = 0.0
    block_size: int = 0
    record_dropped_blocks: int = 0  # blocks --record lost because the file writer fell behind
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        lat_ms = 1e3 * self.algorithmic_latency_samples / self.sample_rate if self.sample_rate else 0
        dev_ms = 1e3 * sum(self.device_latency_s)
        return (f"blocks {self.blocks}  late {self.late_blocks}  DSP load "
                f"{100 * self.dsp_load_mean:.1f}% (max {100 * self.dsp_load_max:.1f}%)  latency "
                f"{lat_ms:.1f} ms algorithmic + {dev_ms:.1f} ms device"
                + (f"  recording dropped {self.record_dropped_blocks} block(s)"
                   if self.record_dropped_blocks else ""))


class LiveStream:
    """A running duplex stream through ``effect``; a context manager.

    Args:
        effect: a hushboard effect or Chain (pedalboard plugins inside a Chain work too).
        sample_rate: stream rate (default: the device's).
        block_size: frames per callback (fixed, so that buffers are allocated once).
        channels: channels in and out (default: 1).
        input_device, output_device: sounddevice device ids or names (default devices).
        record: a path to write the processed output to. The callback copies each block into
            a ring allocated at start (``RECORD_RING_SECONDS`` of audio) and a background thread
            writes the ring to the file; a block that finds the ring full is counted in
            ``stats().record_dropped_blocks`` rather than blocking the audio thread.
    """

    RECORD_RING_SECONDS = 4.0

    def __init__(self, effect: Effect, *, sample_rate: float | None = None, block_size: int = 256,
                 channels: int = 1, input_device: Any = None, output_device: Any = None,
                 record: str | None = None) -> None:
        if not isinstance(effect, Effect):
            raise TypeError(f"effect must be a hushboard effect (got {type(effect).__name__})")
        if not effect.realtime:
            raise ValueError(f"effect {effect!r} cannot run live: it computes in bursts (e.g. "
                             "Rebalance separates whole chunks); run it offline with "
                             "process() or `hushboard denoise --chain`")
        if int(block_size) < 1:
            raise ValueError(f"block_size must be >= 1 (got {block_size})")
        if int(channels) < 1:
            raise ValueError(f"channels must be >= 1 (got {channels})")
        self.effect = effect
        self.block_size = int(block_size)
        self.channels = int(channels)
        self._sd = _sounddevice()
        sr = sample_rate or self._sd.query_devices(output_device, "output")["default_samplerate"]
        self.sample_rate = float(sr)
        self.input_device, self.output_device = input_device, output_device
        if record is not None:  # fail before the stream opens
            check_writable(record, "record")
            if not os.path.isdir(os.path.dirname(os.path.abspath(record))):
                raise OSError(f"record: the directory of {os.fspath(record)} does not exist")
        self.record = record
        self._stats = LiveStats(sample_rate=self.sample_rate, block_size=self.block_size)
        self._loads: list[float] = []
        self._lock = threading.Lock()
        self._stream = None
        # --record: a single-producer (callback) single-consumer (writer) ring of blocks; the
        # counters only grow, each written by one side (int stores are atomic under the GIL)
        self._ring: np.ndarray | None = None
        self._ring_frames: np.ndarray | None = None
        self._ring_written = 0
        self._ring_read = 0
        self._writer: threading.Thread | None = None
        self._writer_stop = threading.Event()
        self._writer_error: BaseException | None = None

    # -- the audio callback ------------------------------------------------------------------
    def _callback(self, indata, outdata, frames, time_info, status) -> None:
        t0 = time.perf_counter()
        if status.input_overflow or status.output_underflow:
            self._stats.late_blocks += 1
        try:
            buf = self._in if frames == self.block_size else np.empty((self.channels, frames),
                                                                      np.float32)
            np.copyto(buf, indata.T)
            if self._native is not None and frames == self.block_size:
                self._native.process_into(buf, self._out, 0)
                out = self._out
            else:
                out = self.effect._stream(buf, frames)
            outdata[:] = out.T
            if self._ring is not None:
                self._record_block(out, frames)
        except Exception as exc:  # never let an exception kill the audio thread silently
            outdata.fill(0)
            self._stats.callback_errors += 1
            if len(self._stats.errors) < 5:
                self._stats.errors.append(repr(exc))
        self._stats.blocks += 1
        load = (time.perf_counter() - t0) * self.sample_rate / frames
        self._stats.dsp_load_max = max(self._stats.dsp_load_max, load)
        n = self._stats.blocks
        self._stats.dsp_load_mean += (load - self._stats.dsp_load_mean) / n

    def _open_recorder(self) -> None:
        slots = max(8, int(np.ceil(self.RECORD_RING_SECONDS * self.sample_rate
                                   / self.block_size)))
        self._ring = np.zeros((slots, self.channels, self.block_size), np.float32)
        self._ring_frames = np.zeros(slots, np.int64)
        self._ring_written = self._ring_read = 0
        self._writer_stop.clear()
        self._writer_error = None

    def _close_recorder(self) -> None:
        """Let the writer drain the ring and close the file; its error, if any, is raised
        here as an OSError naming the file."""
        if self._writer is not None:
            self._writer_stop.set()
            self._writer.join()
            self._writer = None
        self._ring = None
        if self._writer_error is not None:
            exc, self._writer_error = self._writer_error, None
            raise OSError(f"recording to {self.record} failed: {exc}") from exc

    def _record_block(self, out: np.ndarray, frames: int) -> None:
        """Copy one output block into the record ring (no allocation); count it as dropped
        when the writer has fallen a whole ring behind, or when it is longer than a slot."""
        ring = self._ring
        w = self._ring_written
        if w - self._ring_read >= ring.shape[0] or frames > ring.shape[2]:
            self._stats.record_dropped_blocks += 1
            return
        slot = w % ring.shape[0]
        if frames == ring.shape[2]:
            np.copyto(ring[slot], out)
        else:
            np.copyto(ring[slot, :, :frames], out[:, :frames])
        self._ring_frames[slot] = frames
        self._ring_written = w + 1  # publish after the copy

    def _write_records(self) -> None:
        from pedalboard.io import AudioFile

        ring = self._ring
        nap = 0.5 * self.block_size / self.sample_rate
        try:
            with AudioFile(str(self.record), "w", self.sample_rate, self.channels,
                           bit_depth=output_bit_depth(self.record)) as f:
                while True:
                    stopping = self._writer_stop.is_set()
                    while self._ring_read < self._ring_written:
                        slot = self._ring_read % ring.shape[0]
                        f.write(ring[slot, :, :self._ring_frames[slot]])
                        self._ring_read += 1  # the slot is free again
                    if stopping:
                        return
                    time.sleep(nap)
        except Exception as exc:  # reported by stop(), not lost in a thread
            self._writer_error = exc

    # -- control -----------------------------------------------------------------------------
    def start(self) -> LiveStream:
        # configure the effect for this stream (reset=True path on an empty block)
        self.effect.process(np.zeros((self.channels, 0), np.float32), self.sample_rate, reset=True)
        self._native = self.effect._native if isinstance(self.effect, NativeEffect) else None
        self._in = np.zeros((self.channels, self.block_size), np.float32)
        self._out = np.zeros((self.channels, self.block_size), np.float32)
        self._stats.algorithmic_latency_samples = self.effect.latency_samples
        if self.record:
            self._open_recorder()
            self._writer = threading.Thread(target=self._write_records, daemon=True)
            self._writer.start()
        self._stream = self._sd.Stream(
            samplerate=self.sample_rate, blocksize=self.block_size, channels=self.channels,
            dtype="float32", device=(self.input_device, self.output_device),
            callback=self._callback,
        )
        self._stats.device_latency_s = tuple(self._stream.latency)
        self._stream.start()
        return self

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        self._close_recorder()

    def stats(self) -> LiveStats:
        return self._stats

    def __enter__(self) -> LiveStream:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run(effect: Effect, *, duration: float | None = None, status_every: float = 0.5,
        print_status: bool = True, **kwargs: Any) -> LiveStats:
    """Run ``effect`` live until ``duration`` seconds pass or Ctrl-C; returns the statistics.
    Keyword arguments go to ``LiveStream``."""
    live = LiveStream(effect, **kwargs)
    t_end = None if duration is None else time.monotonic() + duration
    try:
        with live:
            while t_end is None or time.monotonic() < t_end:
                time.sleep(status_every if t_end is None else
                           max(0.0, min(status_every, t_end - time.monotonic())))
                if print_status:
                    print("\r" + live.stats().line(), end="", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if print_status:
            print()
    return live.stats()
