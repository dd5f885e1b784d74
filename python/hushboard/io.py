"""Audio files through effects, in streaming chunks (files longer than RAM work)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable

import numpy as np

from hushboard.fx.base import Effect

__all__ = ["audio_info", "check_writable", "output_bit_depth", "process_file", "read_audio",
           "write_audio"]


def _audio_file():
    try:
        from pedalboard.io import AudioFile
    except ImportError as exc:  # pragma: no cover - pedalboard is a dependency
        raise ImportError("audio file I/O needs pedalboard: pip install pedalboard") from exc
    return AudioFile


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """The whole file as float32 (channels, samples) and its sample rate."""
    with _audio_file()(str(path)) as f:
        return f.read(f.frames), float(f.samplerate)


def audio_info(path: str | os.PathLike) -> dict:
    """A file's sample rate, channels, frames and seconds, read from its header (no samples
    are decoded). A missing or unreadable file is an ``OSError`` naming it.

    Returns:
        dict with sample_rate (float), channels, frames, seconds.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {os.fspath(path)}")
    try:
        with _audio_file()(str(path)) as f:
            sr, channels, frames = float(f.samplerate), int(f.num_channels), int(f.frames)
    except Exception as exc:  # pedalboard raises several types for unreadable files
        raise OSError(f"cannot read {os.fspath(path)}: {exc}") from None
    return {"sample_rate": sr, "channels": channels, "frames": frames,
            "seconds": frames / sr if sr else 0.0}


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: float,
                bit_depth: int = 16) -> None:
    """Write (channels, samples) or 1-D float audio; the format follows the extension."""
    a = np.atleast_2d(np.asarray(audio, np.float32))
    with _audio_file()(str(path), "w", sample_rate, a.shape[0], bit_depth=bit_depth) as f:
        f.write(a)


def output_bit_depth(path: str | os.PathLike) -> int:
    """The sample format hushboard writes new audio in, by extension: WAV as 32-bit float
    (lossless for float32 audio, over-range samples kept), FLAC as 24-bit PCM, others 16."""
    return {".wav": 32, ".flac": 24}.get(Path(path).suffix.lower(), 16)


@functools.cache
def _writable_suffix(suffix: str) -> str | None:
    """None when pedalboard can write a file ending in ``suffix`` (probed once per suffix by
    writing a few samples to a temporary file), else its reason."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hushboard-probe-") as d:
        try:
            write_audio(Path(d) / f"probe{suffix}", np.zeros((1, 16), np.float32), 44100)
        except Exception as exc:  # pedalboard raises several types for unknown formats
            return str(exc) or type(exc).__name__
    return None


def check_writable(path: str | os.PathLike, name: str = "output") -> None:
    """Raise a ``ValueError`` naming ``name`` and ``path`` when the audio format that
    ``path``'s extension selects cannot be written here (no extension, or an unknown one), so a
    command fails before it reads or processes anything."""
    suffix = Path(path).suffix.lower()
    if not suffix:
        raise ValueError(f"{name} {os.fspath(path)!r} has no file extension, so no audio format; "
                         "name a file such as out.wav or out.flac, or a directory with a "
                         f"trailing {os.sep}")
    why = _writable_suffix(suffix)
    if why is not None:
        raise ValueError(f"{name} {os.fspath(path)!r}: cannot write {suffix} files here "
                         f"({why}); use e.g. .wav or .flac")


def _bit_depth(file_dtype: str) -> int:
    return {"int8": 16, "int16": 16, "int24": 24, "int32": 32, "float32": 32,
            "float64": 32}.get(file_dtype, 16)


def process_file(
    effect: Effect, in_path: str | os.PathLike, out_path: str | os.PathLike, *,
    chunk_seconds: float = 10.0, progress: Callable[[float], None] | None = None,
) -> dict:
    """Stream ``in_path`` through ``effect`` into ``out_path`` (same sample rate, channels and
    sample format; the format follows the extension). The output is time-aligned with the
    input (the effect's latency is compensated). It is written under a temporary name and
    renamed at the end, so a failure never leaves a partial file under ``out_path``.

    Returns:
        dict with sample_rate, channels, frames, seconds, latency_samples.
    """
    AudioFile = _audio_file()
    in_path, out_path = Path(in_path), Path(out_path)
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be > 0 (got {chunk_seconds})")
    try:
        src = AudioFile(str(in_path))
    except Exception as exc:  # pedalboard raises several types for unreadable files
        raise OSError(f"cannot read {in_path}: {exc}") from None
    tmp = out_path.with_name(f".{out_path.stem}.partial-{os.getpid()}{out_path.suffix}")
    try:
        with src:
            sr, channels, frames = float(src.samplerate), src.num_channels, src.frames
            chunk = max(1, int(chunk_seconds * sr))
            effect.process(np.zeros((channels, 0), np.float32), sr, reset=True)  # configure
            lat = effect.latency_samples
            try:
                dst = AudioFile(str(tmp), "w", sr, channels, bit_depth=_bit_depth(src.file_dtype))
            except Exception as exc:
                raise OSError(f"cannot write {out_path}: {exc}") from None
            with dst:
                skip = lat

                def emit(block: np.ndarray) -> None:
                    nonlocal skip
                    y = effect.process(block, sr, reset=False)
                    if skip:
                        drop = min(skip, y.shape[1])
                        y, skip = y[:, drop:], skip - drop
                    if y.shape[1]:
                        dst.write(y)

                done = 0
                while done < frames:
                    block = src.read(min(chunk, frames - done))
                    if block.shape[1] == 0:
                        break
                    emit(np.ascontiguousarray(block, np.float32))
                    done += block.shape[1]
                    if progress:
                        progress(done / frames if frames else 1.0)
                for start in range(0, lat, chunk):  # flush the tail
                    emit(np.zeros((channels, min(chunk, lat - start)), np.float32))
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"sample_rate": sr, "channels": channels, "frames": frames,
            "seconds": frames / sr if sr else 0.0, "latency_samples": lat}
