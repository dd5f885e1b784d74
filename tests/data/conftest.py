"""A tiny corpus shared by the data tests (20 sentences, short noise clips); the data tests'
.sf3 conversions go to a temporary cache unless HUSHBOARD_CACHE is set."""

from __future__ import annotations

import os

import pytest
from data_helpers import TINY, TINY_NOISE, require_tts


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    require_tts()
    from hushboard.data import build_noise, build_speech

    root = tmp_path_factory.mktemp("corpus")
    build_speech(root, progress=False, **TINY)
    build_noise(root, progress=False, **TINY_NOISE)
    return root


@pytest.fixture(scope="session", autouse=True)
def _soundfont_cache(tmp_path_factory):
    if os.environ.get("HUSHBOARD_CACHE"):
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUSHBOARD_CACHE", str(tmp_path_factory.mktemp("hushboard-cache")))
        yield
