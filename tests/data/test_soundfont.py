"""SF3 -> SF2 conversion: fluidsynth renders the same audio from the conversion as from the .sf3."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from hushboard.data.soundfont import _SHDR, _chunk, _chunks, _list, as_sf2, sf3_to_sf2


def _require_fluidsynth() -> str:
    from data_helpers import require_tts
    from hushboard.data.noise import find_soundfont

    require_tts()  # fluidsynth and a GM soundfont
    return find_soundfont()


def _make_sf3(sf2: Path, out: Path) -> int:
    """Compress every sample of an .sf2 to Ogg Vorbis the way MuseScore's .sf3 files store them
    (byte offsets in smpl, loops relative to the sample, type flag 0x10, no pad byte after an
    odd-sized chunk). Returns the number of samples."""
    import soundfile as sf

    buf = sf2.read_bytes()
    top = {buf[a:a + 4]: (a + 4, b) for cid, a, b in _chunks(buf, 12, len(buf)) if cid == b"LIST"}
    sdta = {cid: (a, b) for cid, a, b in _chunks(buf, *top[b"sdta"])}
    pdta = _chunks(buf, *top[b"pdta"])
    frames = np.frombuffer(buf[slice(*sdta[b"smpl"])], "<i2")
    a, b = next((a, b) for cid, a, b in pdta if cid == b"shdr")
    heads = [list(_SHDR.unpack_from(buf, p)) for p in range(a, b, _SHDR.size)]
    data = bytearray()
    for h in heads[:-1]:
        start, stop = h[1], h[2]
        enc = io.BytesIO()
        sf.write(enc, frames[start:stop].astype(np.float32) / 32768, max(h[5], 8000),
                 format="OGG", subtype="VORBIS")
        h[1], h[2] = len(data), len(data) + len(enc.getvalue())
        h[3], h[4] = h[3] - start, h[4] - start
        h[9] |= 0x10
        data += enc.getvalue()
    info = [_chunk(cid, buf[a:b]) if cid != b"ifil" else _chunk(b"ifil", struct.pack("<HH", 3, 1))
            for cid, a, b in _chunks(buf, *top[b"INFO"])]
    smpl = b"smpl" + struct.pack("<I", len(data)) + bytes(data)  # odd size: no pad, as MuseScore
    sdta_list = b"LIST" + struct.pack("<I", 4 + len(smpl)) + b"sdta" + smpl
    pdta_list = _list(b"pdta", [_chunk(cid, buf[a:b]) if cid != b"shdr" else
                                _chunk(b"shdr", b"".join(_SHDR.pack(*h) for h in heads))
                                for cid, a, b in pdta])
    body = b"sfbk" + _list(b"INFO", info) + sdta_list + pdta_list
    out.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return len(heads) - 1


def _same_render(a: str, b: str, tmp: Path) -> None:
    """fluidsynth, the way the music generator runs it, renders the same audio from both."""
    from hushboard.data.music import SAMPLE_RATE, _fluidsynth, plan_song, song_midi

    plan = plan_song(11, 6.0)
    for stem in ("other", "drums", "bass"):  # sustained notes play through the loops
        midi = song_midi(plan, stem)
        if midi is None:
            continue
        x = _fluidsynth(midi, a, 8 * SAMPLE_RATE, tmp, "a")
        y = _fluidsynth(midi, b, 8 * SAMPLE_RATE, tmp, "b")
        peak = float(np.abs(x).max())
        assert peak > 1e-3, stem
        # the same decoded samples; fluidsynth's own 16-bit rounding of them differs by < 1 LSB
        assert float(np.abs(x - y).max()) <= 1e-4 * peak, stem


def test_sf3_round_trip_renders_the_same(tmp_path):
    base = Path(_require_fluidsynth())
    small = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
    src = small if small.is_file() else base
    sf3 = tmp_path / "font.sf3"
    n = _make_sf3(src, sf3)
    stats = sf3_to_sf2(sf3, tmp_path / "font.sf2")
    assert stats["samples"] == n and stats["decoded"] == n
    # every sample and loop lies inside the written sample data
    buf = (tmp_path / "font.sf2").read_bytes()
    assert buf[:4] == b"RIFF" and buf[8:12] == b"sfbk"
    i = buf.index(b"shdr")
    size = struct.unpack_from("<I", buf, i + 4)[0]
    heads = [_SHDR.unpack_from(buf, p) for p in range(i + 8, i + 8 + size, _SHDR.size)]
    for h in heads[:-1]:
        assert h[1] <= h[3] <= h[4] <= h[2] + 46 and h[9] & 0x10 == 0
    assert heads[-1][0].startswith(b"EOS")
    _same_render(str(sf3), str(tmp_path / "font.sf2"), tmp_path)


def test_installed_sf3_converts(tmp_path):
    """The Debian .sf3 (MuseScore_General, when installed) renders the same once converted."""
    _require_fluidsynth()
    from hushboard.data.music import find_soundfonts

    sf3 = [p for p in find_soundfonts().values() if p.endswith(".sf3")]
    if not sf3:
        pytest.skip("no .sf3 soundfont installed (apt-get install musescore-general-soundfont-small)")
    conv = as_sf2(sf3[0], cache_dir=tmp_path / "cache")
    assert conv.endswith(".sf2") and Path(conv).parent == tmp_path / "cache"
    _same_render(sf3[0], conv, tmp_path)


def test_as_sf2_caches(tmp_path):
    src = Path(_require_fluidsynth())
    assert as_sf2(src, cache_dir=tmp_path) == str(src)  # an .sf2 is used as it is
    assert not any(tmp_path.iterdir())
    small = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
    sf3 = tmp_path / "x.sf3"
    _make_sf3(small if small.is_file() else src, sf3)
    cache = tmp_path / "cache"
    a = as_sf2(sf3, cache_dir=cache)
    t = Path(a).stat().st_mtime_ns
    assert as_sf2(sf3, cache_dir=cache) == a and Path(a).stat().st_mtime_ns == t  # not redone
    assert [p.name for p in cache.iterdir()] == [Path(a).name]  # no .part file left


def test_bad_soundfonts(tmp_path):
    bad = tmp_path / "bad.sf3"
    bad.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    with pytest.raises(ValueError, match="not a SoundFont"):
        sf3_to_sf2(bad, tmp_path / "o.sf2")
    bad.write_bytes(b"RIFF\x10\x00\x00\x00sfbkLIST\x04\x00\x00\x00INFO")
    with pytest.raises(ValueError, match="INFO, sdta and pdta"):
        sf3_to_sf2(bad, tmp_path / "o.sf2")
    bad.write_bytes(b"RIFF\x20\x00\x00\x00sfbkLIST\xff\x00\x00\x00INFO")
    with pytest.raises(ValueError, match="truncated"):
        sf3_to_sf2(bad, tmp_path / "o.sf2")
    assert not (tmp_path / "o.sf2").exists()
