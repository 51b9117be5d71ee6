"""Probes of homework 4 (gradient checking): what runs the student's functions in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``checks.py``. The functions of this homework take functions: ``numerical_gradient(f, x)``
and ``gradcheck(f, inputs, grads)``. The scalar functions they receive are built here from the plain
input arrays (:func:`scalar_function`, :func:`gradcheck_call`), so that the judge, which imports them,
runs the reference on the very same functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch

from autograder.probes import (
    after,
    call,
    clean,
    encode,
    is_floating,
    tensor,
    text,
    type_name,
    values,
)

__all__ = [
    "PROBES",
    "dtype_of",
    "eps_kwargs",
    "gradcheck_call",
    "gradcheck_kwargs",
    "input_names",
    "scalar_function",
]

_catch_warnings = warnings.catch_warnings  # bound at import, before any answer cell runs
_simplefilter = warnings.simplefilter


def dtype_of(inputs: dict[str, np.ndarray], key: str = "dtype") -> torch.dtype:
    """The dtype a case gives its tensors (``inputs[key]``, e.g. ``"float32"``), float64 by default."""
    return getattr(torch, str(inputs[key])) if key in inputs else torch.float64


# ---------------------------------------------------------------------------------------------------
# numerical_gradient: f(x) = ½ x·Qx + b·x + c Σ tanh(s x), x flattened
# ---------------------------------------------------------------------------------------------------


class _Raised(Exception):
    """Raised by the probe function part-way through a numerical gradient."""


def scalar_function(inputs: dict[str, np.ndarray], x: torch.Tensor, raise_at: int = 0) -> Callable:
    """The scalar function of the inputs; with ``raise_at`` it raises on that call.

    It is evaluated in float64 whatever x's dtype, and returns what the case says (``returns``): a 0-d
    tensor, a Python float or a one-element tensor of shape (1,), all of which the contract allows.
    """
    Q, b = tensor(inputs["Q"]), tensor(inputs["b"])
    c, s = float(inputs["c"]), float(inputs["s"])
    closure = bool(inputs["closure"])
    returns = str(inputs["returns"]) if "returns" in inputs else "tensor"
    calls = 0

    def f(t):
        nonlocal calls
        calls += 1
        if calls == raise_at:
            raise _Raised("f raised part-way")
        v = (x if closure else t).reshape(-1).to(torch.float64)
        value = 0.5 * v @ Q @ v + b @ v + c * torch.tanh(s * v).sum()
        if returns == "float":
            return float(value.item())
        return value.reshape(1) if returns == "one-element" else value

    return f


def eps_kwargs(inputs: dict[str, np.ndarray]) -> dict:
    """``eps=`` when the case gives one (else the function's default)."""
    return {"eps": float(inputs["eps"])} if "eps" in inputs else {}


def _numerical_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    dtype = dtype_of(inputs)
    x = tensor(inputs["x"], dtype)
    result, error = call(fn, scalar_function(inputs, x), x, **eps_kwargs(inputs))
    if error:
        return error
    outputs = encode(result, "result") | after(x=x)
    # once more with an f that raises part-way: x must come back restored all the same
    x = tensor(inputs["x"], dtype)
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
    dtype_a, dtype_b = dtype_of(inputs, "dtype.a"), dtype_of(inputs, "dtype.b")
    a, b = tensor(inputs["a"], dtype_a), tensor(inputs["b"], dtype_b)
    result, error = call(fn, a, b)
    if error:
        return error
    swapped, _ = call(fn, tensor(inputs["b"], dtype_b), tensor(inputs["a"], dtype_a))
    outputs = after(a=a, b=b)
    for key, value in (("result", result), ("swapped", swapped)):
        number, error = call(_number, value, key)  # a float subclass's conversion is student code
        outputs |= {f"{key}.type": text(type_name(value))} if error else number
    return outputs


# ---------------------------------------------------------------------------------------------------
# gradcheck: f(W, x) = Σ R ⊙ tanh(x W), analytic gradients correct or with a planted bug
# ---------------------------------------------------------------------------------------------------


def gradcheck_tensors(inputs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Fresh tensors of a gradcheck case, in its dtype: W, x, R and the analytic gradients dW, dx."""
    dtype = dtype_of(inputs)
    return {key: tensor(inputs[key], dtype) for key in ("W", "x", "R", "dW", "dx")}


def gradcheck_kwargs(inputs: dict[str, np.ndarray]) -> dict[str, float]:
    """``eps=``, ``atol=``, ``rtol=`` as the case gives them (the others: the function's defaults)."""
    return {key: float(inputs[key]) for key in ("eps", "atol", "rtol") if key in inputs}


def gradcheck_call(
    fn: Callable, inputs: dict[str, np.ndarray], tensors: dict[str, torch.Tensor] | None = None
) -> tuple[object, dict]:
    """Call a gradcheck on ``tensors`` (fresh ones by default); returns ``(result, error)`` as
    :func:`call` does."""
    t = gradcheck_tensors(inputs) if tensors is None else tensors
    W, x, R, dW, dx = (t[key] for key in ("W", "x", "R", "dW", "dx"))
    how, kwargs = str(inputs["how"]), gradcheck_kwargs(inputs)
    if how == "tensor":
        return call(fn, lambda W: (R * torch.tanh(x @ W)).sum(), W, dW, **kwargs)

    def f(W, x):
        return (R * torch.tanh(x @ W)).sum()

    if how == "list":
        return call(fn, f, [W, x], [dW, dx], **kwargs)
    return call(fn, f, {"W": W, "x": x}, {"W": dW, "x": dx}, **kwargs)


def input_names(inputs: dict[str, np.ndarray]) -> list[str]:
    """The names of the inputs the gradcheck is given, in its order."""
    how = str(inputs["how"])
    return {"tensor": ["W"], "list": ["W", "x"], "dict": ["W", "x"]}[how]


def _real(value: object) -> np.ndarray | None:
    """A real number as a 0-d float64 array (a float, numpy's included, an int, or a one-element
    floating ``torch.Tensor``); None for anything else."""
    if type(value) is torch.Tensor:
        read = values(value)
        if read is not None and read.size == 1 and is_floating(value):
            return np.array(float(read.reshape(-1)[0]))
        return None
    if type(value) in (float, int, np.float64, np.float32):
        return np.array(float(value))
    return None


_SIZES = (int, np.int64, np.int32)


def _shape(value: object) -> np.ndarray | None:
    """A shape as an int64 array: a tuple (``torch.Size`` included) or a list of ints; None for
    anything else."""
    if type(value) not in (tuple, list, torch.Size) or len(value) > 64:
        return None
    sizes = list(value)
    if not all(type(size) in _SIZES and 0 <= size < 2**62 for size in sizes):
        return None
    return np.array([int(size) for size in sizes], dtype=np.int64)


def _report(result: object, names: list[str]) -> dict[str, np.ndarray]:
    """What the student's gradcheck says: its verdict, the eps and tolerances it records, and, per
    input, the verdict, the name, the shape, the errors, the worst element (index, analytic and
    numeric values) and the diagnosis, as plain arrays (student code: its attributes; call it through
    :func:`call`)."""
    out = {"passed": np.array(bool(result.passed))}
    for key in ("eps", "atol", "rtol"):
        number = _real(getattr(result, key, None))
        if number is not None:
            out[f"result.{key}"] = number
    checks = list(result.checks)
    if len(checks) != len(names):
        return out | {"n_checks": np.array(len(checks))}
    for name, check in zip(names, checks, strict=True):
        out[f"passed.{name}"] = np.array(bool(check.passed))
        if type(check.name) is str:
            out[f"name.{name}"] = text(clean(check.name))
        shape = _shape(getattr(check, "shape", None))
        if shape is not None:
            out[f"shape.{name}"] = shape
        diagnosis = getattr(check, "diagnosis", None)
        if type(diagnosis) is str:
            out[f"diagnosis.{name}"] = text(clean(diagnosis, 200))
        for key in ("max_abs_error", "relative_error"):
            number = _real(getattr(check, key, None))
            if number is not None:
                out[f"{key}.{name}"] = number
        worst = check.worst
        if worst is not None:
            out[f"worst.{name}"] = np.array([int(i) for i in worst.index], dtype=np.int64)
            for key in ("analytic", "numeric"):
                number = _real(getattr(worst, key, None))
                if number is not None:
                    out[f"worst.{key}.{name}"] = number
    return out


def _recording(fn: Callable, seen: list) -> Callable:
    """``fn`` with the warnings it issues recorded in ``seen`` (their class names)."""

    def recorded(*args, **kwargs):
        with _catch_warnings(record=True) as caught:
            _simplefilter("always")
            try:
                return fn(*args, **kwargs)
            finally:
                for message in caught:
                    category = message.category
                    if isinstance(category, type):
                        seen.append(type.__dict__["__name__"].__get__(category))

    return recorded


def _warning_count(result) -> int:
    """How many messages the result's ``warnings`` holds."""
    return len(tuple(result.warnings))


def _gradcheck_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    tensors = gradcheck_tensors(inputs)
    seen: list[str] = []
    result, error = gradcheck_call(_recording(fn, seen), inputs, tensors)
    if error:
        return error
    given = ("dW",) if str(inputs["how"]) == "tensor" else ("dW", "dx")
    outputs = after(**{key: tensors[key] for key in given})
    outputs["warned"] = np.array("PrecisionWarning" in seen)
    count, error = call(_warning_count, result)
    if not error and type(count) is int:
        outputs["result.n_warnings"] = np.array(count)
    report, error = call(_report, result, input_names(inputs))
    return outputs | ({"result.type": text(type_name(result))} if error else report)


PROBES: dict[str, Callable] = {
    "numerical_gradient": _numerical_apply,
    "relative_error": _relative_apply,
    "gradcheck": _gradcheck_apply,
}
