"""Evaluation: score hushboard's denoisers and peer systems on clean/noisy file pairs
(``hushboard eval``), and music separators against the oracle IRM and a spectral baseline on
songs with known stems (``hushboard eval --task separation``). Metrics live in
``hushboard.metrics``."""

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
from hushboard.eval.separation import (
    SeparationResult,
    evaluate_separation,
    format_separation_report,
    irm_oracle,
    spectral_separate,
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
    "NoiseReduceSystem", "RNNoiseSystem", "SeparationResult", "System", "build_systems",
    "evaluate", "evaluate_separation", "find_pairs", "format_report",
    "format_separation_report", "irm_oracle", "make_peer", "measure_delay", "read_metadata",
    "spectral_separate",
]
