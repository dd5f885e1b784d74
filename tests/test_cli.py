"""The command line: --help lists the commands, info reports the build, check runs a round trip."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hushboard.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hushboard", *args], capture_output=True,
                          text=True, timeout=300)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    assert "info" in out.stdout and "check" in out.stdout


def test_info_reports_build(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cpu_simd"] in ("avx2-fma", "generic")
    assert isinstance(info["with_cuda"], bool) and info["num_threads"] >= 1
    if not info["with_cuda"]:
        assert info["cuda_devices"] == [] and info["cuda_archs"] == ""
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert "cpu simd" in text and "cuda compiled" in text


def test_check_round_trip(capsys):
    assert main(["check", "--seconds", "0.5", "--batch", "2"]) == 0
    assert "round trip OK" in capsys.readouterr().out


def test_bad_arguments_are_one_line_errors(capsys):
    assert main(["check", "--seconds", "0.5", "--n-fft", "509"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hushboard check: error:") and "n_fft" in err and "Traceback" not in err


def test_unknown_command_exits_nonzero():
    out = run("frobnicate")
    assert out.returncode != 0 and "invalid choice" in out.stderr


@pytest.mark.parametrize("threads", ["1", "2"])
def test_thread_env_is_honoured(threads):
    out = subprocess.run([sys.executable, "-m", "hushboard", "info", "--json"], capture_output=True,
                         text=True, timeout=300, env={**__import__("os").environ,
                                                      "HUSHBOARD_NUM_THREADS": threads})
    assert json.loads(out.stdout)["num_threads"] == int(threads)
