"""Shared by the data tests: tiny corpus settings and the TTS requirement check."""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["TINY", "TINY_NOISE", "require_tts"]


def require_tts() -> None:
    """Skip (or fail under HUSHBOARD_REQUIRE_TTS=1) unless espeak-ng, flite, festival and
    fluidsynth with a GM soundfont are all installed."""
    from hushboard.data.noise import find_soundfont
    from hushboard.data.tts import available_engines

    missing = [e for e in ("espeak-ng", "flite", "festival") if e not in available_engines()]
    if not shutil.which("fluidsynth") or find_soundfont() is None:
        missing.append("fluidsynth + GM soundfont")
    if not missing:
        return
    why = (f"missing {', '.join(missing)} (apt-get install espeak-ng flite festival "
           "festvox-kallpc16k fluidsynth fluid-soundfont-gm)")
    if os.environ.get("HUSHBOARD_REQUIRE_TTS", "") not in ("", "0"):
        pytest.fail(f"HUSHBOARD_REQUIRE_TTS is set but {why}")
    pytest.skip(why)


TINY = {"n_sentences": 20, "sample_rate": 16000, "seed": 3}
TINY_NOISE = {"clips": (2, 1, 1), "seconds": 3.0, "sample_rate": 16000, "seed": 3}
