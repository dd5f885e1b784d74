"""Fixtures of the evaluation tests (the signals live in eval_signals.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from eval_signals import add_noise, make_speechlike


@pytest.fixture
def speechlike() -> Callable[..., np.ndarray]:
    return make_speechlike


@pytest.fixture
def noisy_of() -> Callable[..., np.ndarray]:
    return add_noise
