"""Input checks shared by the reference solutions.

Every public function of the homework modules turns its inputs into tensors here and fails early, with a
``ValueError`` that names the argument and its shape, instead of letting a broadcasting accident or a NaN
surface a thousand iterations later. The computations themselves live in the homework modules.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import Tensor


def describe(t: Tensor) -> str:
    """A short description for error messages: ``shape (3, 4), float64 on cpu``."""
    return f"shape {tuple(t.shape)}, {str(t.dtype).removeprefix('torch.')} on {t.device}"


def as_float_tensor(value, name: str, *, like: Tensor | None = None) -> Tensor:
    """Turn ``value`` (tensor, numpy array, list or number) into a floating-point tensor.

    - A tensor keeps its device; a floating tensor keeps its dtype.
    - With ``like``, the result has ``like``'s dtype, and a non-tensor is placed on ``like``'s device;
      a tensor on another device is an error (moving data silently hides slow code).
    - Integer and boolean data become ``torch.get_default_dtype()`` (or ``like``'s dtype).
    """
    if isinstance(value, Tensor):
        t = value
    elif isinstance(value, (np.ndarray, numbers.Number, list, tuple)):
        try:
            t = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} could not be turned into a tensor: {err}") from None
        if like is not None:
            t = t.to(like.device)
    else:
        raise ValueError(
            f"{name} must be a torch.Tensor or a numpy array, got {type(value).__name__}"
        )
    if t.is_complex():
        raise ValueError(f"{name} must be real, got {describe(t)}")
    if like is not None:
        if t.device != like.device:
            raise ValueError(
                f"{name} is on {t.device} but the data is on {like.device}; move it with .to()"
            )
        return t.to(like.dtype)
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def check_finite(t: Tensor, name: str) -> Tensor:
    """Raise if ``t`` holds NaN or ±inf, saying how many and where the first one is."""
    # Fast path: a NaN or ±inf anywhere makes the sum NaN or ±inf, so a finite sum proves the tensor
    # finite in one pass with no temporary. Only a non-finite sum (or an overflow) needs a closer look.
    if t.numel() == 0 or bool(torch.isfinite(t.sum())):
        return t
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"{name} ({describe(t)}) contains {int(bad.sum())} NaN or infinite value(s), "
            f"the first at index {first}"
        )
    return t


def as_matrix(value, name: str = "X", *, like: Tensor | None = None) -> Tensor:
    """A finite 2-D float tensor ``(n, d)`` with at least one row and one column."""
    t = as_float_tensor(value, name, like=like)
    if t.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got {describe(t)}"
            + ("; for a single feature use X.reshape(-1, 1)" if t.ndim == 1 else "")
        )
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got {describe(t)}")
    return check_finite(t, name)


def as_vector(value, name: str, length: int, *, like: Tensor, of: str = "X") -> Tensor:
    """A finite 1-D float tensor of ``length`` elements, with ``like``'s dtype and device.

    A column ``(length, 1)`` is refused on purpose: ``X @ w - y`` with ``y`` of shape ``(n, 1)``
    broadcasts to an ``(n, n)`` matrix, the classic silent bug of a first regression.
    """
    t = as_float_tensor(value, name, like=like)
    if t.ndim != 1 or t.shape[0] != length:
        hint = ""
        if t.ndim == 2 and t.shape == (length, 1):
            hint = (
                f"; flatten it with {name}.reshape(-1) (an (n, 1) column would broadcast to (n, n))"
            )
        raise ValueError(
            f"{name} must have shape ({length},) to match {of}, got {describe(t)}{hint}"
        )
    return check_finite(t, name)


def as_targets(value, name: str, n: int, *, like: Tensor) -> Tensor:
    """Targets for an estimator's ``fit``: ``(n,)`` or an ``(n, 1)`` column, returned as ``(n,)``."""
    t = as_float_tensor(value, name, like=like)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    return as_vector(t, name, n, like=like)


def check_positive(value, name: str) -> float:
    """A finite real number > 0 (learning rates, step sizes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_count(value, name: str, *, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (iteration counts, batch sizes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
