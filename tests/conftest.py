"""Shared fixtures: a `device` fixture over cpu/cuda (cuda skipped without a GPU, or failed when
HUSHBOARD_REQUIRE_CUDA=1)."""

from __future__ import annotations

import os

import pytest
import torch


def _cuda_ready() -> tuple[bool, str]:
    from hushboard.backend import build_info

    info = build_info()
    if not info.with_cuda:
        return False, "hushboard was built without CUDA"
    if not torch.cuda.is_available() or not info.cuda_devices:
        return False, "no CUDA GPU on this machine"
    return True, ""


def require_cuda() -> None:
    ok, why = _cuda_ready()
    if ok:
        return
    if os.environ.get("HUSHBOARD_REQUIRE_CUDA") == "1":
        pytest.fail(f"HUSHBOARD_REQUIRE_CUDA=1 but {why}")
    pytest.skip(why)


@pytest.fixture(params=["cpu", "cuda"])
def device(request) -> str:
    if request.param == "cuda":
        require_cuda()
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
