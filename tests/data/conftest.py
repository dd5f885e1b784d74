"""A tiny corpus shared by the data tests (20 sentences, short noise clips)."""

from __future__ import annotations

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
