"""The course's default device: where data and models go when no device is given."""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "DLHW_DEVICE"


def default_device() -> torch.device:
    """Return the device the course code uses when ``device=None``.

    CUDA when ``torch.cuda.is_available()``, else CPU. The environment variable ``DLHW_DEVICE``
    overrides the choice, e.g. ``DLHW_DEVICE=cpu`` to run on the CPU of a GPU machine, or
    ``DLHW_DEVICE=cuda:1`` to pick a second GPU.

    Returns:
        torch.device

    Raises:
        ValueError: ``DLHW_DEVICE`` is not a device name, or names CUDA when no CUDA is available.
    """
    name = os.environ.get(DEVICE_ENV, "").strip()
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"{DEVICE_ENV}={name!r} is not a torch device name (try 'cpu' or 'cuda')"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{DEVICE_ENV}={name!r} asks for CUDA, but torch.cuda.is_available() is False"
        )
    return device


def as_device(device) -> torch.device:
    """``device`` as a ``torch.device``; None means :func:`default_device`.

    Raises ValueError for anything that is not a device or a device name.
    """
    if device is None:
        return default_device()
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be a torch.device or a name like 'cpu', got {device!r}"
        ) from None
