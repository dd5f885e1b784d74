"""Shared fixtures: a `device` fixture over cpu/cuda (cuda skipped without a GPU, or failed when
HUSHBOARD_REQUIRE_CUDA=1)."""

from __future__ import annotations

import pytest
import torch
from helpers import require_cuda


@pytest.fixture(params=["cpu", "cuda"])
def device(request) -> str:
    if request.param == "cuda":
        require_cuda()
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
