"""Gain: the simplest native effect (and a building block for chains)."""

from __future__ import annotations

import math
from typing import Any

from hushboard.fx.base import NativeEffect
from hushboard.ops._native import _C

__all__ = ["Gain"]


class Gain(NativeEffect):
    """Multiply by ``10 ** (gain_db / 20)``. A new ``gain_db`` set while streaming ramps over
    the next block instead of jumping."""

    def __init__(self, gain_db: float = 0.0) -> None:
        super().__init__()
        self._gain_db = self._check(gain_db)

    @staticmethod
    def _check(gain_db: Any) -> float:
        g = float(gain_db)
        if not (math.isfinite(g) and abs(g) <= 200):
            raise ValueError(f"gain_db must be a finite number in [-200, 200] (got {gain_db})")
        return g

    @property
    def gain_db(self) -> float:
        return self._gain_db

    @gain_db.setter
    def gain_db(self, value: float) -> None:
        self._gain_db = self._check(value)
        if self._native is not None:
            self._native.set_gain_db(self._gain_db)

    def _build(self, sample_rate: float, channels: int):
        return _C.Gain(self._gain_db, channels)

    def _params(self) -> dict[str, Any]:
        return {"gain_db": self._gain_db}
