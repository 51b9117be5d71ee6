"""Probes of homework 1 (linear and logistic regression): what runs the student's functions in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``checks.py``, which also uses :func:`gd_args` and :func:`sgd_args` to call the reference
exactly as the student's function was called (in float64 where the student's inputs were float32).
An input ``"float32"`` (a 0-d bool) says the case hands the student float32 tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.probes import after, call, encode, tensor, text, type_name

__all__ = ["PROBES", "dtype_of", "gd_args", "sgd_args"]

# bound at import, before any answer cell runs (see autograder/probes/__init__.py)
_storage_of = torch._C.TensorBase.untyped_storage
_numel = torch._C.TensorBase.numel
_data_ptr = torch.UntypedStorage.data_ptr
_no_torch_function = torch._C.DisableTorchFunction
_no_torch_dispatch = torch._C._DisableTorchDispatch


def dtype_of(inputs: dict[str, np.ndarray]) -> torch.dtype:
    """The dtype of the tensors the case hands the student: float32 where it says so, else float64."""
    return torch.float32 if "float32" in inputs and bool(inputs["float32"]) else torch.float64


def _tensors(inputs: dict[str, np.ndarray], *names: str) -> list[torch.Tensor]:
    dtype = dtype_of(inputs)
    return [tensor(inputs[name], dtype) for name in names]


def _shares_memory(result: object, t: torch.Tensor) -> np.ndarray:
    """Whether the returned ``result`` is (a view of) the caller's tensor ``t``: the same storage."""
    if type(result) is not torch.Tensor:
        return np.array(False)
    try:
        with _no_torch_function(), _no_torch_dispatch():
            if _numel(result) == 0 or _numel(t) == 0:
                return np.array(False)
            return np.array(_data_ptr(_storage_of(result)) == _data_ptr(_storage_of(t)))
    except Exception:
        return np.array(False)


def _intercept_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    (X,) = _tensors(inputs, "X")
    result, error = call(fn, X)
    return error or encode(result, "result") | after(X=X)


def _mse_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    y_pred, y = _tensors(inputs, "y_pred", "y")
    result, error = call(fn, y_pred, y)
    return error or encode(result, "result") | after(y_pred=y_pred, y=y)


def _gradient_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    X, y, w = _tensors(inputs, "X", "y", "w")
    result, error = call(fn, X, y, w)
    return error or encode(result, "result") | after(X=X, y=y, w=w)


def _normal_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    X, y = _tensors(inputs, "X", "y")
    result, error = call(fn, X, y)
    return error or encode(result, "result") | after(X=X, y=y)


def gd_args(inputs: dict[str, np.ndarray], dtype: torch.dtype | None = None) -> tuple[tuple, dict]:
    """``gradient_descent``'s arguments: ``(X, y, lr, n_iter)``, and ``w0`` / ``tol`` if the case has
    them, as tensors of ``dtype`` (the case's, :func:`dtype_of`, unless given)."""
    dtype = dtype or dtype_of(inputs)
    kwargs = {}
    if "w0" in inputs:
        kwargs["w0"] = tensor(inputs["w0"], dtype)
    if "tol" in inputs:
        kwargs["tol"] = float(inputs["tol"])
    X, y = tensor(inputs["X"], dtype), tensor(inputs["y"], dtype)
    return (X, y, float(inputs["lr"]), int(inputs["n_iter"])), kwargs


def _gd_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    args, kwargs = gd_args(inputs)
    result, error = call(fn, *args, **kwargs)
    if error:
        return error
    outputs = _pair(result) | after(X=args[0], y=args[1])
    if "w0" in kwargs:
        outputs |= after(w0=kwargs["w0"])
        if issubclass(type(result), tuple) and tuple.__len__(result) == 2:
            outputs["w.shares_w0"] = _shares_memory(tuple.__getitem__(result, 0), kwargs["w0"])
    return outputs


def _pair(result: object) -> dict[str, np.ndarray]:
    """``(w, losses)`` as plain arrays, or the type of whatever came back instead of a pair.

    A tuple (or a subclass: a named tuple) is read with ``tuple``'s own methods, never its class's.
    """
    if not issubclass(type(result), tuple) or tuple.__len__(result) != 2:
        return {"pair.type": text(type_name(result))}
    return encode(tuple.__getitem__(result, 0), "w") | encode(
        tuple.__getitem__(result, 1), "losses"
    )


def sgd_args(inputs: dict[str, np.ndarray], dtype: torch.dtype | None = None) -> tuple:
    """``minibatch_sgd``'s arguments, with a fresh generator seeded as the case says, as tensors of
    ``dtype`` (the case's unless given)."""
    dtype = dtype or dtype_of(inputs)
    generator = torch.Generator().manual_seed(int(inputs["seed"]))
    X, y = tensor(inputs["X"], dtype), tensor(inputs["y"], dtype)
    lr, n_epochs, batch_size = (
        float(inputs["lr"]),
        int(inputs["n_epochs"]),
        int(inputs["batch_size"]),
    )
    return X, y, lr, n_epochs, batch_size, generator


def _sgd_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    args = sgd_args(inputs)
    result, error = call(fn, *args)
    return error or _pair(result) | after(X=args[0], y=args[1])


def _sigmoid_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    (z,) = _tensors(inputs, "z")
    result, error = call(fn, z)
    return error or encode(result, "result") | after(z=z)


PROBES: dict[str, Callable] = {
    "add_intercept": _intercept_apply,
    "mse": _mse_apply,
    "mse_gradient": _gradient_apply,
    "normal_equation": _normal_apply,
    "gradient_descent": _gd_apply,
    "minibatch_sgd": _sgd_apply,
    "sigmoid": _sigmoid_apply,
    "log_loss_gradient": _gradient_apply,
}
