"""Shared fixtures: every device test runs on the CPU, and on CUDA too when a GPU is present."""

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def rng() -> torch.Generator:
    """A CPU generator with a fixed seed: draw on the CPU, then move, so data match across devices."""
    return torch.Generator().manual_seed(1234)
