"""Small helpers shared by the tests."""

import torch


def randn(*shape, generator, device="cpu", dtype=torch.float64) -> torch.Tensor:
    """Seeded normal samples drawn on the CPU and moved to ``device`` (same numbers on every device)."""
    return torch.randn(*shape, generator=generator, dtype=dtype).to(device)
