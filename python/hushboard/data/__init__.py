"""Training data for hushboard: TTS speech, noise, rooms, on-the-fly mixing, splits.

See :mod:`hushboard.data.corpus` for the on-disk layout and the split rule, and
:class:`hushboard.data.mix.MixDataset` for the ``(noisy, clean)`` pairs. The folder also holds the
bundled demo clip (``demo_clean.flac``, ``demo_noisy.flac``) read by ``hushboard demo``.
"""

from __future__ import annotations

from hushboard.data.corpus import (
                                   SPLITS,
                                   build_noise,
                                   build_speech,
                                   plan_speech,
                                   read_manifest,
                                   split_groups,
                                   split_sentences,
)
from hushboard.data.mix import MixDataset, mix_at_snr, write_testset
from hushboard.data.noise import NOISE_TYPES, generate_noise
from hushboard.data.reverb import random_room_ir, reverberate
from hushboard.data.text import generate_sentences
from hushboard.data.tts import Voice, all_voices, available_engines

__all__ = [
                                   "NOISE_TYPES",
                                   "SPLITS",
                                   "MixDataset",
                                   "Voice",
                                   "all_voices",
                                   "available_engines",
                                   "build_noise",
                                   "build_speech",
                                   "generate_noise",
                                   "generate_sentences",
                                   "mix_at_snr",
                                   "plan_speech",
                                   "random_room_ir",
                                   "read_manifest",
                                   "reverberate",
                                   "split_groups",
                                   "split_sentences",
                                   "write_testset",
]
