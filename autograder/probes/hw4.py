"""Probes of homework 4 (gradient checking): what runs the student's functions in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``autograder.checks.hw4``. The functions of this homework take functions: ``numerical_gradient(f, x)``
and ``gradcheck(f, inputs, grads)``. The scalar functions they receive are built here from the plain
input arrays (:func:`scalar_function`, :func:`gradcheck_call`), so that the judge, which imports them,
runs the reference on the very same functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import after, call, encode, is_floating, tensor, text, type_name, values

__all__ = ["PROBES", "eps_kwargs", "gradcheck_call", "input_names", "scalar_function"]


# ---------------------------------------------------------------------------------------------------
# numerical_gradient: f(x) = ½ x·Qx + b·x + c Σ tanh(s x), x flattened
# ---------------------------------------------------------------------------------------------------


class _Raised(Exception):
    """Raised by the probe function part-way through a numerical gradient."""


def scalar_function(inputs: dict[str, np.ndarray], x: torch.Tensor, raise_at: int = 0) -> Callable:
    """The scalar function of the inputs; with ``raise_at`` it raises on that call."""
    Q, b = tensor(inputs["Q"]), tensor(inputs["b"])
    c, s = float(inputs["c"]), float(inputs["s"])
    closure = bool(inputs["closure"])
    calls = 0

    def f(t):
        nonlocal calls
        calls += 1
        if calls == raise_at:
            raise _Raised("f raised part-way")
        v = (x if closure else t).reshape(-1)
        return 0.5 * v @ Q @ v + b @ v + c * torch.tanh(s * v).sum()

    return f


def eps_kwargs(inputs: dict[str, np.ndarray]) -> dict:
    """``eps=`` when the case gives one (else the function's default)."""
    return {"eps": float(inputs["eps"])} if "eps" in inputs else {}


def _numerical_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    x = tensor(inputs["x"])
    result, error = call(fn, scalar_function(inputs, x), x, **eps_kwargs(inputs))
    if error:
        return error
    outputs = encode(result, "result") | after(x=x)
    # once more with an f that raises part-way: x must come back restored all the same
    x = tensor(inputs["x"])
    call(fn, scalar_function(inputs, x, int(inputs["raise_at"])), x, **eps_kwargs(inputs))
    return outputs | after("raised", x=x)


# ---------------------------------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------------------------------


def _number(value: object, key: str) -> dict[str, np.ndarray]:
    """A returned real number as a 0-d float64 array (a one-element floating ``torch.Tensor``, or a
    float, numpy's included), or only its type name."""
    out = {f"{key}.type": text(type_name(value))}
    if type(value) is torch.Tensor:
        read = values(value)
        if read is not None and read.size == 1 and is_floating(value):
            out[key] = np.array(float(read.reshape(-1)[0]))
    elif issubclass(type(value), (float, np.floating)):
        out[key] = np.array(float(np.float64(value)))
    return out


def _relative_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    a, b = tensor(inputs["a"]), tensor(inputs["b"])
    result, error = call(fn, a, b)
    if error:
        return error
    swapped, _ = call(fn, tensor(inputs["b"]), tensor(inputs["a"]))
    outputs = after(a=a, b=b)
    for key, value in (("result", result), ("swapped", swapped)):
        number, error = call(_number, value, key)  # a float subclass's conversion is student code
        outputs |= {f"{key}.type": text(type_name(value))} if error else number
    return outputs


# ---------------------------------------------------------------------------------------------------
# gradcheck: f(W, x) = Σ R ⊙ tanh(x W), analytic gradients correct or with a planted bug
# ---------------------------------------------------------------------------------------------------


def gradcheck_call(fn: Callable, inputs: dict[str, np.ndarray]) -> tuple[object, dict]:
    """Call a gradcheck on fresh tensors; returns ``(result, error)`` as :func:`call` does."""
    W, x, R = tensor(inputs["W"]), tensor(inputs["x"]), tensor(inputs["R"])
    dW, dx = tensor(inputs["dW"]), tensor(inputs["dx"])
    how = str(inputs["how"])
    if how == "tensor":
        return call(fn, lambda W: (R * torch.tanh(x @ W)).sum(), W, dW)

    def f(W, x):
        return (R * torch.tanh(x @ W)).sum()

    if how == "list":
        return call(fn, f, [W, x], [dW, dx])
    return call(fn, f, {"W": W, "x": x}, {"W": dW, "x": dx})


def input_names(inputs: dict[str, np.ndarray]) -> list[str]:
    """The names of the inputs the gradcheck is given, in its order."""
    how = str(inputs["how"])
    return {"tensor": ["W"], "list": ["W", "x"], "dict": ["W", "x"]}[how]


def _report(result: object, names: list[str]) -> dict[str, np.ndarray]:
    """What the student's gradcheck says: its verdict and, per input, the verdict and the worst
    element's index, as plain arrays (student code: its attributes; call it through :func:`call`)."""
    out = {"passed": np.array(bool(result.passed))}
    checks = list(result.checks)
    if len(checks) != len(names):
        return out | {"n_checks": np.array(len(checks))}
    for name, check in zip(names, checks, strict=True):
        out[f"passed.{name}"] = np.array(bool(check.passed))
        if check.worst is not None:
            out[f"worst.{name}"] = np.array([int(i) for i in check.worst.index], dtype=np.int64)
    return out


def _gradcheck_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    result, error = gradcheck_call(fn, inputs)
    if error:
        return error
    report, error = call(_report, result, input_names(inputs))
    return {"result.type": text(type_name(result))} if error else report


PROBES: dict[str, Callable] = {
    "numerical_gradient": _numerical_apply,
    "relative_error": _relative_apply,
    "gradcheck": _gradcheck_apply,
}
