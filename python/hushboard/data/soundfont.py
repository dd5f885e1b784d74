"""SoundFont 3 (``.sf3``, Ogg Vorbis samples) to SoundFont 2 (``.sf2``, 16-bit PCM), cached.

fluidsynth decodes every Vorbis sample of an ``.sf3`` each time it loads the font, and the music
generator runs fluidsynth once per stem: with ``MuseScore_General.sf3`` that made rendering
about four times slower than with an ``.sf2``. ``as_sf2`` decodes the samples once (libsndfile,
the decoder fluidsynth itself uses, through ``soundfile``) into an ``.sf2`` in a cache folder and
returns its path; fluidsynth renders the same audio from it.

The SF3 layout (MuseScore's extension of SF2): a sample whose ``sfSampleType`` carries the
``0x10`` flag is one Ogg Vorbis stream; its ``dwStart``/``dwEnd`` are byte offsets of that
stream in the ``smpl`` chunk and its loop points count decoded frames from the sample's first
frame. Everything else (presets, instruments, zones, generators, modulators) is plain SF2 and is
copied unchanged.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
from pathlib import Path

import numpy as np

__all__ = ["as_sf2", "sf3_to_sf2", "soundfont_cache_dir"]

_VORBIS = 0x10
_SHDR = struct.Struct("<20sIIIIIBbHH")  # one sample header (46 bytes)
_PAD = 46  # zero frames after every sample (SF2 spec)


def soundfont_cache_dir() -> Path:
    """``$HUSHBOARD_CACHE/soundfonts``, else ``$XDG_CACHE_HOME/hushboard/soundfonts``, else
    ``~/.cache/hushboard/soundfonts``."""
    root = os.environ.get("HUSHBOARD_CACHE")
    if root:
        return Path(root) / "soundfonts"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "hushboard" / "soundfonts"


def _chunks(buf: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(id, data start, data end) of the RIFF chunks in ``buf[start:end]``."""
    out = []
    pos = start
    while pos + 8 <= end:
        cid, size = buf[pos:pos + 4], struct.unpack_from("<I", buf, pos + 4)[0]
        if pos + 8 + size > end:
            raise ValueError(f"truncated RIFF chunk {cid!r} at byte {pos}")
        out.append((cid, pos + 8, pos + 8 + size))
        # an odd-sized chunk is followed by a zero pad byte; MuseScore's .sf3 writer leaves it
        # out (a pad byte is always zero, a chunk id never starts with one)
        pad = size % 2 == 1 and pos + 8 + size < end and buf[pos + 8 + size] == 0
        pos += 8 + size + int(pad)
    return out


def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def _list(kind: bytes, parts: list[bytes]) -> bytes:
    return _chunk(b"LIST", kind + b"".join(parts))


def _decode(ogg: bytes, name: str) -> np.ndarray:
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(ogg)) as f:
            if f.channels != 1:
                raise ValueError(f"{f.channels} channels")
            return f.read(dtype="int16")
    except Exception as e:  # any decoder failure: name the sample
        raise ValueError(f"cannot decode the Vorbis data of sample {name!r}: {e}") from e


def sf3_to_sf2(src: str | os.PathLike, dst: str | os.PathLike) -> dict[str, int]:
    """Write the ``.sf3`` at ``src`` as an ``.sf2`` at ``dst`` (an ``.sf2`` given as ``src`` is
    rewritten the same way, less any 24-bit ``sm24`` chunk).

    Returns:
        ``{"samples": ..., "decoded": ..., "frames": ...}``: sample headers, Vorbis samples
        decoded, and frames in the written ``smpl`` chunk.

    Raises:
        ValueError: ``src`` is not a SoundFont, or a sample cannot be decoded.
    """
    buf = Path(src).read_bytes()
    if len(buf) < 12 or buf[:4] != b"RIFF" or buf[8:12] != b"sfbk":
        raise ValueError(f"{src} is not a SoundFont (no RIFF sfbk header)")
    end = min(len(buf), 8 + struct.unpack_from("<I", buf, 4)[0])
    lists = {}
    for cid, a, b in _chunks(buf, 12, end):
        if cid == b"LIST":
            lists[buf[a:a + 4]] = (a + 4, b)
    if not all(k in lists for k in (b"INFO", b"sdta", b"pdta")):
        raise ValueError(f"{src}: a SoundFont needs INFO, sdta and pdta lists "
                         f"(found {sorted(k.decode('latin-1') for k in lists)})")
    sdta = {cid: (a, b) for cid, a, b in _chunks(buf, *lists[b"sdta"])}
    pdta = [(cid, a, b) for cid, a, b in _chunks(buf, *lists[b"pdta"])]
    if b"smpl" not in sdta or not any(cid == b"shdr" for cid, _, _ in pdta):
        raise ValueError(f"{src}: no smpl or shdr chunk")
    s0, s1 = sdta[b"smpl"]
    smpl = memoryview(buf)[s0:s1]
    shdr_a, shdr_b = next((a, b) for cid, a, b in pdta if cid == b"shdr")
    if (shdr_b - shdr_a) % _SHDR.size:
        raise ValueError(f"{src}: the shdr chunk is not a whole number of sample headers")
    heads = [list(_SHDR.unpack_from(buf, p)) for p in range(shdr_a, shdr_b, _SHDR.size)]

    pcm: list[np.ndarray] = []
    frames = 0
    decoded = 0
    zero = np.zeros(_PAD, np.int16)
    for h in heads[:-1]:  # the last header is the terminal "EOS" record
        name = h[0].split(b"\0", 1)[0].decode("latin-1")
        start, stop, loop0, loop1, typ = h[1], h[2], h[3], h[4], h[9]
        if typ & 0x8000:  # ROM sample: no data in the file
            h[1:5] = [0, 0, 0, 0]
            continue
        if typ & _VORBIS:
            if not start <= stop <= len(smpl):
                raise ValueError(f"{src}: sample {name!r} points outside the smpl chunk")
            x = _decode(bytes(smpl[start:stop]), name)
            decoded += 1
        else:  # plain 16-bit frames; loop points are absolute in SF2
            if not start <= stop <= len(smpl) // 2:
                raise ValueError(f"{src}: sample {name!r} points outside the smpl chunk")
            x = np.frombuffer(smpl[2 * start:2 * stop], "<i2")
            loop0, loop1 = loop0 - start, loop1 - start
        h[1], h[2] = frames, frames + x.size
        h[3], h[4] = frames + loop0, frames + loop1
        h[9] = typ & ~_VORBIS
        pcm += [x.astype("<i2", copy=False), zero]
        frames += x.size + _PAD
    data = np.concatenate(pcm).tobytes() if pcm else b""

    info = [_chunk(cid, bytes(buf[a:b])) if cid != b"ifil" else
            _chunk(b"ifil", struct.pack("<HH", 2, 1))
            for cid, a, b in _chunks(buf, *lists[b"INFO"])]
    new_pdta = [_chunk(cid, bytes(buf[a:b])) if cid != b"shdr" else
                _chunk(b"shdr", b"".join(_SHDR.pack(*h) for h in heads))
                for cid, a, b in pdta]
    body = b"sfbk" + _list(b"INFO", info) + _list(b"sdta", [_chunk(b"smpl", data)]) + _list(
        b"pdta", new_pdta)
    out = Path(dst)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.{threading.get_ident()}.part")
    with open(tmp, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    os.replace(tmp, out)
    return {"samples": len(heads) - 1, "decoded": decoded, "frames": frames}


def as_sf2(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> str:
    """The path fluidsynth should load for the soundfont at ``path``: ``path`` itself unless it
    is an ``.sf3``, else its ``.sf2`` conversion in ``cache_dir`` (default
    ``soundfont_cache_dir()``), made on first use and named by the source's name, size and
    modification time, so an updated package converts again."""
    p = Path(path)
    if p.suffix.lower() != ".sf3":
        return str(p)
    real = p.resolve()
    st = real.stat()
    key = hashlib.sha1(f"{real}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    out = Path(cache_dir) if cache_dir is not None else soundfont_cache_dir()
    dst = out / f"{real.stem}-{key}.sf2"
    if not dst.is_file():
        sf3_to_sf2(real, dst)
    return str(dst)
