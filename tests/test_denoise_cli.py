"""File denoising: `hushboard denoise` and hushboard.io.process_file (chunked streaming,
latency compensated, atomic output)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hushboard.cli import main
from hushboard.fx import Chain, Gain, WienerDenoiser
from hushboard.fx.spec import parse_chain
from hushboard.io import process_file, read_audio, write_audio

SR = 16000


def noisy_clip(seconds: float = 3.0, channels: int = 2, seed: int = 0):
    t = np.arange(int(SR * seconds)) / SR
    clean = 0.3 * np.sin(2 * np.pi * 200 * t) * (t > 0.5) * np.clip(np.sin(2 * np.pi * 2 * t), 0, None)
    rng = np.random.default_rng(seed)
    noisy = clean[None] + 0.05 * rng.standard_normal((channels, t.size))
    return clean.astype(np.float32), noisy.astype(np.float32)


def test_process_file_equals_offline_effect(tmp_path):
    _, x = noisy_clip()
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_audio(src, x, SR, bit_depth=32)
    info = process_file(WienerDenoiser(), src, dst, chunk_seconds=0.37)
    y, sr = read_audio(dst)
    assert sr == SR and y.shape == x.shape and info["latency_samples"] == 511
    x_read, _ = read_audio(src)
    expected = WienerDenoiser().process(x_read, SR)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)


def test_cli_denoise_improves_snr_and_keeps_format(tmp_path):
    clean, x = noisy_clip()
    src = tmp_path / "noisy.flac"
    write_audio(src, x, SR)
    out = tmp_path / "clean.flac"
    assert main(["denoise", str(src), "-o", str(out)]) == 0
    y, sr = read_audio(out)
    x16, _ = read_audio(src)
    assert sr == SR and y.shape == x.shape

    def snr(est):
        return 10 * np.log10(np.sum(clean**2) / np.sum((clean - est) ** 2))

    assert snr(y[0]) > snr(x16[0]) + 3


def test_cli_many_inputs_into_a_directory_with_a_chain(tmp_path):
    _, x = noisy_clip(1.0)
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    write_audio(a, x, SR)
    write_audio(b, x[:1], SR)
    outdir = tmp_path / "out"
    assert main(["denoise", str(a), str(b), "-o", str(outdir), "--model", "gate",
                 "--chain", "highpass:80,denoise,gain:-3"]) == 0
    assert read_audio(outdir / "a.wav")[0].shape == (2, SR)
    assert read_audio(outdir / "b.wav")[0].shape == (1, SR)


@pytest.mark.parametrize(
    "argv_tail,match",
    [(["--model", "rnnoise"], "unknown model 'rnnoise'"),
     (["--chain", "reverb:1"], "unknown effect 'reverb'"),
     (["--chain", "gain:x"], "must be numbers"),
     (["--chain", "gain"], "takes"),
     (["--chunk-seconds", "0"], "chunk_seconds")],
)
def test_cli_bad_options_are_one_line_errors(tmp_path, capsys, argv_tail, match):
    _, x = noisy_clip(0.5)
    src = tmp_path / "in.wav"
    write_audio(src, x, SR)
    out = tmp_path / "out.wav"
    assert main(["denoise", str(src), "-o", str(out), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.wav"]


def test_cli_bad_files_leave_nothing_behind(tmp_path, capsys):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    out = tmp_path / "out.wav"
    assert main(["denoise", str(junk), "-o", str(out)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["denoise", str(tmp_path / "missing.wav"), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    _, x = noisy_clip(0.5)
    src = tmp_path / "in.wav"
    write_audio(src, x, SR)
    assert main(["denoise", str(src), "-o", str(tmp_path / "no" / "dir" / "o.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["denoise", str(src), "-o", str(src)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    bad = x.copy()
    bad[0, 100] = np.nan
    nan_src = tmp_path / "nan.wav"
    write_audio(nan_src, bad, SR, bit_depth=32)
    assert main(["denoise", str(nan_src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "NaN" in err and f"{nan_src}: " in err  # names the file that stopped the run
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "junk.wav", "nan.wav"]


@pytest.mark.parametrize("name,match", [("clean", "has no file extension"),
                                         ("clean.xyz", "cannot write .xyz files")])
def test_cli_output_without_a_writable_format_fails_before_any_work(tmp_path, capsys, name,
                                                                    match):
    _, x = noisy_clip(0.5)
    src = tmp_path / "in.wav"
    write_audio(src, x, SR)
    assert main(["denoise", str(src), "-o", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert match in err and "-o" in err and err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["in.wav"]


def test_check_writable():
    from hushboard.io import check_writable

    for ok in ("a.wav", "b.FLAC", "dir/c.ogg"):
        check_writable(ok)
    with pytest.raises(ValueError, match="'--out' 'x' has no file extension"):
        check_writable("x", "'--out'")
    with pytest.raises(ValueError, match=r"output 'x\.abc': cannot write \.abc"):
        check_writable("x.abc")


def test_parse_chain_builds_effects():
    chain = parse_chain("highpass:80,denoise,gain:3", model="gate")
    assert len(chain) == 3 and isinstance(chain, Chain) and isinstance(chain[2], Gain)
    assert type(chain[1]).__name__ == "Denoise" and chain[1].model == "gate"


def test_denoise_help_lists_options():
    out = subprocess.run([sys.executable, "-m", "hushboard", "denoise", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--chain" in out.stdout and "--model" in out.stdout


@pytest.mark.parametrize("command", ["denoise", "separate"])
def test_progress_bar_on_a_terminal_and_no_progress(tmp_path, capsys, monkeypatch, command):
    src = tmp_path / "in.wav"
    if command == "denoise":
        write_audio(src, noisy_clip(1.0)[1], 16000)
        out = lambda tag: [str(tmp_path / f"{tag}.wav"), "--model", "gate"]
    else:
        write_audio(src, 0.1 * np.random.default_rng(0).standard_normal((2, 44100)).astype(
            np.float32), 44100)
        out = lambda tag: [str(tmp_path / tag), "--stems", "bass"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([command, str(src), "-o", *out("bar")]) == 0
    err = capsys.readouterr().err
    assert "in.wav [" in err and "100.0%" in err
    assert main([command, str(src), "-o", *out("quiet"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "in.wav [" not in err and "%" not in err
