"""Evaluation: score hushboard's denoisers and peer systems on clean/noisy file pairs
(``hushboard eval``). Metrics live in ``hushboard.metrics``."""

from __future__ import annotations

from hushboard.eval.runner import (
    DEFAULT_METRICS,
    EvalResult,
    build_systems,
    evaluate,
    find_pairs,
    format_report,
    read_metadata,
)
from hushboard.eval.systems import (
    PEERS,
    RNNOISE_DELAY_48K,
    EffectSystem,
    NoiseReduceSystem,
    RNNoiseSystem,
    System,
    make_peer,
    measure_delay,
)

__all__ = [
    "DEFAULT_METRICS", "PEERS", "RNNOISE_DELAY_48K", "EffectSystem", "EvalResult",
    "NoiseReduceSystem", "RNNoiseSystem", "System", "build_systems", "evaluate", "find_pairs",
    "format_report", "make_peer", "measure_delay", "read_metadata",
]
