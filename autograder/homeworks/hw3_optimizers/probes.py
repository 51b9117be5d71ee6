"""Probes of homework 3 (optimizers, schedules, clipping): what runs the student's code in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``checks.py``, which replays the same runs with ``torch.optim`` and ``solutions`` through
:func:`run_optimizer`, :func:`schedule_args` and :func:`clip_call`, so that the reference is called
exactly as the student's code was.

**Optimizers**: the probe builds the student's optimizer on fresh float64 tensors, sets ``p.grad``
before each ``step()`` and records the parameters after every step, and the gradients it handed over
as they are after the run (the judge compares them with the inputs: ``step()`` must not change
``p.grad`` in place). A class that derives from one of ``torch.optim``'s optimizers is reported, not
run. **Schedules**: the rate at every step. **clip_grad_norm_**: the returned norm and the gradients
after the call.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import torch

from autograder.probes import (
    _no_torch_dispatch,
    _no_torch_function,
    call,
    encode,
    grad_of,
    mro_of,
    tensor,
    text,
    type_name,
    values,
)

_copy = torch._C.TensorBase.copy_  # bound at import: a cell may patch torch.Tensor.copy_

__all__ = [
    "PROBES",
    "builtin_base",
    "clip_call",
    "clip_params",
    "group_hyper",
    "hyper_keys",
    "n_params",
    "param_dtype",
    "run_optimizer",
    "schedule_args",
    "schedule_kwargs",
]


# ---------------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------------


def n_params(inputs: dict[str, np.ndarray]) -> int:
    """How many parameters the case has (``p0``, ``p1``, …)."""
    return sum(1 for key in inputs if key.startswith("p") and key[1:].isdigit())


def group_hyper(inputs: dict[str, np.ndarray]) -> list[dict]:
    """Each group's hyper-parameters as Python values (floats, bools, a pair of floats)."""
    groups = []
    j = 0
    while f"group{j}.params" in inputs:
        group = {}
        for key, value in inputs.items():
            prefix, _, name = key.partition(".")
            if prefix != f"group{j}" or name == "params":
                continue
            if value.dtype == bool:
                group[name] = bool(value)
            elif value.ndim == 1:
                group[name] = tuple(float(v) for v in value)
            else:
                group[name] = float(value)
        groups.append(group)
        j += 1
    return groups


def builtin_base(cls: object) -> str | None:
    """The name of a torch.optim optimizer ``cls`` derives from (the Optimizer base excepted).

    Read from the class's real MRO, not from what its attributes (or its metaclass) say.
    """
    if not issubclass(type(cls), type):
        return None
    for base in mro_of(cls)[1:]:
        module = type.__dict__["__module__"].__get__(base) or ""
        if isinstance(module, str) and module.startswith("torch.optim"):
            if base is not torch.optim.Optimizer:
                return f"torch.optim.{type.__dict__['__name__'].__get__(base)}"
    return None


def param_dtype(inputs: dict[str, np.ndarray]) -> torch.dtype:
    """The dtype of the case's parameters and gradients (``float32`` input: True for float32)."""
    return torch.float32 if bool(inputs.get("float32", False)) else torch.float64


def hyper_keys(hyper: dict) -> list[tuple[str, int | None]]:
    """The numbers a group's hyper-parameters hold, in order: (name, None) for a number or a bool,
    (name, k) for the k-th of a pair (``betas``)."""
    keys: list[tuple[str, int | None]] = []
    for name in sorted(hyper):
        value = hyper[name]
        keys += (
            [(name, k) for k in range(len(value))] if isinstance(value, tuple) else [(name, None)]
        )
    return keys


def _number(value: object) -> float:
    """A real number or a bool as a float, else NaN (student code: call it through :func:`call`)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if type(number) is float:
            return number
    return float("nan")


def _read_hyper(optimizer: object, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Each group's hyper-parameters as the optimizer holds them now (NaN where one cannot be read);
    student code (``param_groups``): call it through :func:`call`."""
    out = []
    for j, hyper in enumerate(group_hyper(inputs)):
        group = optimizer.param_groups[j]
        row = []
        for name, k in hyper_keys(hyper):
            value = group[name]
            row.append(_number(value if k is None else value[k]))
        out.append(np.array(row, dtype=np.float64))
    return out


def run_optimizer(
    make: Callable, inputs: dict[str, np.ndarray], record: dict, *, reuse: bool = False
) -> None:
    """Build ``make``'s optimizer on fresh tensors and take every step; fills ``record`` as it goes:
    ``optimizer`` (the object), ``steps`` (whether it has a ``step()``), ``params``, ``trajectory``
    (per step, the parameters' values after it), ``grads`` (the gradient tensors handed over),
    ``seen`` (per step, the values of the gradients just handed over, read right after the step),
    ``hyper`` (per step, each group's hyper-parameters after it) and ``unreadable`` (the step after
    which the parameters could not be read as numbers: it stops there).

    ``reuse``: one gradient tensor per parameter for the whole run, overwritten in place before each
    step (as ``zero_grad(set_to_none=False)`` and ``backward()`` do), instead of a new one per step.
    The parameters and gradients have the case's dtype (:func:`param_dtype`). Student code (``make``,
    the optimizer): call it through :func:`call`.
    """
    n = n_params(inputs)
    dtype = param_dtype(inputs)
    params = [tensor(inputs[f"p{i}"], dtype) for i in range(n)]
    record["params"] = params
    groups = group_hyper(inputs)
    indices = [[int(i) for i in inputs[f"group{j}.params"]] for j in range(len(groups))]
    if bool(inputs["kwargs"]):
        optimizer = make([params[i] for i in indices[0]], **groups[0])
    else:
        optimizer = make(
            [
                {"params": [params[i] for i in idx], **h}
                for idx, h in zip(indices, groups, strict=True)
            ]
        )
    record["optimizer"] = optimizer
    record["steps"] = callable(getattr(optimizer, "step", None))
    if not record["steps"]:
        return
    lrs = inputs["lr"]
    store: list[torch.Tensor | None] = [None] * n
    for t in range(lrs.shape[0]):
        for j, group in enumerate(optimizer.param_groups):
            group["lr"] = float(lrs[t, j])
        grads = []
        for i, p in enumerate(params):
            if not inputs["has_grad"][t, i]:
                grads.append(None)
            elif reuse and store[i] is not None:
                with _no_torch_function(), _no_torch_dispatch():
                    _copy(store[i], tensor(inputs[f"g{i}"][t], dtype))
                grads.append(store[i])
            else:
                store[i] = tensor(inputs[f"g{i}"][t], dtype)
                grads.append(store[i])
            p.grad = grads[-1]
        record["step"] = t
        optimizer.step()
        after_step = [values(p) for p in params]
        if any(v is None for v in after_step):
            record["unreadable"] = t + 1
            return
        record["trajectory"].append(after_step)
        record["grads"].append(grads)
        record.setdefault("seen", []).append(
            [
                np.zeros(inputs[f"g{i}"].shape[1:]) if g is None else values(g)
                for i, g in enumerate(grads)
            ]
        )
        hyper, _ = call(_read_hyper, optimizer, inputs)
        record.setdefault("hyper", []).append(hyper)


def _stacked(rows: list) -> np.ndarray | None:
    """``rows`` (arrays of one shape, one per step) stacked, or None when one is missing."""
    if rows and all(row is not None and row.shape == rows[0].shape for row in rows):
        return np.stack(rows)
    return None


def _grads_after(record: dict, inputs: dict[str, np.ndarray], prefix: str = "") -> dict:
    """Per parameter, ``grads_after<i>``: the gradients handed over at every step, as they are after
    the run (zeros where it had none), and ``grads_seen<i>``: the same, read right after their own
    step. Left out when one cannot be read or changed shape (the judge counts that as changed).
    Per group, ``hyper_after<j>``: its hyper-parameters after every step (NaN: unreadable)."""
    out = {}
    for i in range(n_params(inputs)):
        rows = [
            np.zeros(inputs[f"g{i}"].shape[1:]) if grads[i] is None else values(grads[i])
            for grads in record["grads"]
        ]
        for key, stack in (("grads_after", rows), ("grads_seen", [s[i] for s in record["seen"]])):
            stacked = _stacked(stack)
            if stacked is not None:
                out[f"{prefix}{key}{i}"] = stacked
    for j in range(len(group_hyper(inputs))):
        rows = [None if hyper is None else hyper[j] for hyper in record["hyper"]]
        stacked = _stacked(rows)
        if stacked is not None:
            out[f"{prefix}hyper_after{j}"] = stacked
    return out


def _optimizer_apply(make: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Two runs of the student's optimizer on the case: with a new gradient tensor per step, and
    with one gradient tensor per parameter overwritten in place between steps (``reused.*``)."""
    base = builtin_base(make)
    if base is not None:
        return {"subclasses": text(base)}
    record: dict = {"trajectory": [], "grads": [], "seen": [], "hyper": []}
    _, error = call(run_optimizer, make, inputs, record)
    if "optimizer" not in record:  # building it raised
        return error
    if error:
        return error | {"error_step": np.array(record.get("step", -1))}
    if not record["steps"]:
        return {"optimizer.type": text(type_name(record["optimizer"]))}
    if "unreadable" in record:
        return {"unreadable_step": np.array(record["unreadable"])}
    out: dict[str, np.ndarray] = {}
    for i, p in enumerate(record["params"]):
        out |= encode(p, f"final{i}")
        out[f"trajectory{i}"] = np.stack([step[i] for step in record["trajectory"]])
    out |= _grads_after(record, inputs)
    reused: dict = {"trajectory": [], "grads": [], "seen": [], "hyper": []}
    _, error = call(run_optimizer, make, inputs, reused, reuse=True)
    if error or "unreadable" in reused or not reused.get("steps"):
        return out | {"reused.error": error.get("error", text("the run stopped"))}
    for i in range(n_params(inputs)):
        out[f"reused.trajectory{i}"] = np.stack([step[i] for step in reused["trajectory"]])
    return out | _grads_after(reused, inputs, "reused.")


# ---------------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------------


def schedule_kwargs(inputs: dict[str, np.ndarray]) -> dict:
    """The schedule's hyper-parameters (``hyper.<name>`` inputs) as keyword arguments."""
    out = {}
    for key, value in inputs.items():
        if key.startswith("hyper."):
            out[key.removeprefix("hyper.")] = (
                int(value) if value.dtype.kind == "i" else float(value)
            )
    return out


def schedule_args(inputs: dict[str, np.ndarray], step: int) -> tuple:
    """The positional arguments at ``step``: the step, and ``base_lr`` when the case gives one."""
    return (step, float(inputs["base_lr"])) if "base_lr" in inputs else (step,)


def _real(value: object) -> float | None:
    """A real number that is not a bool as a float, else None (student code if the value's class is
    the student's: call it through :func:`call`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if type(number) is float else None


def _schedule_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    kwargs = schedule_kwargs(inputs)
    rates = []
    for step in inputs["steps"]:
        value, error = call(fn, *schedule_args(inputs, int(step)), **kwargs)
        if error:
            return error | {"error_step": np.array(int(step))}
        rate, _ = call(_real, value)
        if rate is None:
            return {"result.type": text(type_name(value)), "error_step": np.array(int(step))}
        rates.append(rate)
    return {"result": np.array(rates, dtype=np.float64)}


# ---------------------------------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------------------------------


def clip_params(inputs: dict[str, np.ndarray]) -> list[torch.Tensor]:
    """Fresh parameters with their gradients (none where the case gives none), in the case's dtype."""
    dtype = param_dtype(inputs)
    params = []
    for i in range(n_params(inputs)):
        p = tensor(inputs[f"p{i}"], dtype)
        if f"g{i}" in inputs:
            p.grad = tensor(inputs[f"g{i}"], dtype)
        params.append(p)
    return params


def clip_call(fn: Callable, inputs: dict[str, np.ndarray], params: list) -> tuple:
    """Call a clipping function on ``params`` as the case passes them (a list, a generator or one
    tensor; ``norm_type`` left to its default when the case says so); returns ``(result, error)``
    as :func:`call` does."""
    how = str(inputs["how"])
    given = params[0] if how == "tensor" else iter(params) if how == "generator" else params
    kwargs = {} if bool(inputs["default_norm"]) else {"norm_type": float(inputs["norm_type"])}
    if bool(inputs["error_if_nonfinite"]):
        kwargs["error_if_nonfinite"] = True
    elif bool(inputs["pass_false"]):
        kwargs["error_if_nonfinite"] = False
    return call(fn, given, float(inputs["max_norm"]), **kwargs)


def _clip_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The returned norm, and per parameter the gradient tensor the caller handed over, read after
    the call (``grad<i>``), or ``grad<i>.none``; ``grad<i>.replaced`` when ``p.grad`` is no longer
    that tensor."""
    params = clip_params(inputs)
    given = [grad_of(p) for p in params]
    result, error = clip_call(fn, inputs, params)
    out = error or encode(result, "result")  # the gradients are read even after an exception
    for i, p in enumerate(params):
        grad = grad_of(p)
        if given[i] is None:
            if grad is not None:
                out[f"grad{i}.given"] = np.array(True)
            out[f"grad{i}.none"] = np.array(True)
            continue
        if grad is not given[i]:
            out[f"grad{i}.replaced"] = np.array(True)
        out |= encode(given[i], f"grad{i}")
    return out


PROBES: dict[str, Callable] = {
    "SGD": _optimizer_apply,
    "Adagrad": _optimizer_apply,
    "RMSprop": _optimizer_apply,
    "Adam": _optimizer_apply,
    "step_decay": _schedule_apply,
    "linear_warmup": _schedule_apply,
    "cosine_annealing": _schedule_apply,
    "clip_grad_norm_": _clip_apply,
}
