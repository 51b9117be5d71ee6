"""Probes of homework 1 (linear and logistic regression): what runs the student's functions in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``autograder.checks.hw1``, which also uses :func:`gd_args` and :func:`sgd_args` to call the reference
exactly as the student's function was called.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import after, call, encode, tensor, text, type_name

__all__ = ["PROBES", "gd_args", "sgd_args"]


def _intercept_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    X = tensor(inputs["X"], torch.float32 if inputs["float32"] else torch.float64)
    result, error = call(fn, X)
    return error or encode(result, "result") | after(X=X)


def _mse_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    result, error = call(fn, tensor(inputs["y_pred"]), tensor(inputs["y"]))
    return error or encode(result, "result")


def _gradient_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    X, y, w = (tensor(inputs[k]) for k in ("X", "y", "w"))
    result, error = call(fn, X, y, w)
    return error or encode(result, "result") | after(X=X, y=y, w=w)


def _normal_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    result, error = call(fn, tensor(inputs["X"]), tensor(inputs["y"]))
    return error or encode(result, "result")


def gd_args(inputs: dict[str, np.ndarray]) -> tuple[tuple, dict]:
    """``gradient_descent``'s arguments: ``(X, y, lr, n_iter)``, and ``w0`` / ``tol`` if the case has them."""
    kwargs = {}
    if "w0" in inputs:
        kwargs["w0"] = tensor(inputs["w0"])
    if "tol" in inputs:
        kwargs["tol"] = float(inputs["tol"])
    args = (tensor(inputs["X"]), tensor(inputs["y"]), float(inputs["lr"]), int(inputs["n_iter"]))
    return args, kwargs


def _gd_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    args, kwargs = gd_args(inputs)
    result, error = call(fn, *args, **kwargs)
    if error:
        return error
    return _pair(result) | (after(w0=kwargs["w0"]) if "w0" in kwargs else {})


def _pair(result: object) -> dict[str, np.ndarray]:
    """``(w, losses)`` as plain arrays, or the type of whatever came back instead of a pair.

    A tuple (or a subclass: a named tuple) is read with ``tuple``'s own methods, never its class's.
    """
    if not issubclass(type(result), tuple) or tuple.__len__(result) != 2:
        return {"pair.type": text(type_name(result))}
    return encode(tuple.__getitem__(result, 0), "w") | encode(
        tuple.__getitem__(result, 1), "losses"
    )


def sgd_args(inputs: dict[str, np.ndarray]) -> tuple:
    """``minibatch_sgd``'s arguments, with a fresh generator seeded as the case says."""
    generator = torch.Generator().manual_seed(int(inputs["seed"]))
    X, y = tensor(inputs["X"]), tensor(inputs["y"])
    lr, n_epochs, batch_size = (
        float(inputs["lr"]),
        int(inputs["n_epochs"]),
        int(inputs["batch_size"]),
    )
    return X, y, lr, n_epochs, batch_size, generator


def _sgd_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    result, error = call(fn, *sgd_args(inputs))
    return error or _pair(result)


def _sigmoid_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    z = tensor(inputs["z"])
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
