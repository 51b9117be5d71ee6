"""Probes of homework 3 (optimizers, schedules, clipping): what runs the student's code in the sandbox.

``PROBES`` maps each graded task to its ``apply(fn, inputs)``; the inputs and the judging are in
``autograder.checks.hw3``, which replays the same runs with ``torch.optim`` and ``solutions`` through
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

from . import call, encode, grad_of, mro_of, tensor, text, type_name, values

__all__ = [
    "PROBES",
    "builtin_base",
    "clip_call",
    "clip_params",
    "group_hyper",
    "n_params",
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


def run_optimizer(make: Callable, inputs: dict[str, np.ndarray], record: dict) -> None:
    """Build ``make``'s optimizer on fresh tensors and take every step; fills ``record`` as it goes:
    ``optimizer`` (the object), ``steps`` (whether it has a ``step()``), ``params``, ``trajectory``
    (per step, the parameters' values after it), ``grads`` (the gradient tensors handed over), and
    ``unreadable`` (the step after which the parameters could not be read as numbers: it stops there).

    Student code (``make``, the optimizer): call it through :func:`call`.
    """
    n = n_params(inputs)
    params = [tensor(inputs[f"p{i}"]) for i in range(n)]
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
    for t in range(lrs.shape[0]):
        for j, group in enumerate(optimizer.param_groups):
            group["lr"] = float(lrs[t, j])
        grads = []
        for i, p in enumerate(params):
            grads.append(tensor(inputs[f"g{i}"][t]) if inputs["has_grad"][t, i] else None)
            p.grad = grads[-1]
        record["step"] = t
        optimizer.step()
        after_step = [values(p) for p in params]
        if any(v is None for v in after_step):
            record["unreadable"] = t + 1
            return
        record["trajectory"].append(after_step)
        record["grads"].append(grads)


def _grads_after(record: dict, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per parameter, ``grads_after<i>``: the gradients handed over at every step, as they are now
    (zeros where it had none). Left out when one cannot be read or changed shape (the judge counts
    that as changed)."""
    out = {}
    for i in range(n_params(inputs)):
        rows = [
            np.zeros(inputs[f"g{i}"].shape[1:]) if grads[i] is None else values(grads[i])
            for grads in record["grads"]
        ]
        if rows and all(row is not None and row.shape == rows[0].shape for row in rows):
            out[f"grads_after{i}"] = np.stack(rows)
    return out


def _optimizer_apply(make: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    base = builtin_base(make)
    if base is not None:
        return {"subclasses": text(base)}
    record: dict = {"trajectory": [], "grads": []}
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
    return out | _grads_after(record, inputs)


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
    """Fresh parameters with their gradients (none where the case gives none)."""
    params = []
    for i in range(n_params(inputs)):
        p = tensor(inputs[f"p{i}"])
        if f"g{i}" in inputs:
            p.grad = tensor(inputs[f"g{i}"])
        params.append(p)
    return params


def clip_call(fn: Callable, inputs: dict[str, np.ndarray], params: list) -> tuple:
    """Call a clipping function on ``params`` as the case passes them (a list, a generator or one
    tensor); returns ``(result, error)`` as :func:`call` does."""
    how = str(inputs["how"])
    given = params[0] if how == "tensor" else iter(params) if how == "generator" else params
    kwargs = {"norm_type": float(inputs["norm_type"])}
    if bool(inputs["error_if_nonfinite"]):
        kwargs["error_if_nonfinite"] = True
    return call(fn, given, float(inputs["max_norm"]), **kwargs)


def _clip_apply(fn: Callable, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    params = clip_params(inputs)
    result, error = clip_call(fn, inputs, params)
    if error:
        return error
    out = encode(result, "result")
    for i, p in enumerate(params):
        grad = grad_of(p)
        if grad is None:
            out[f"grad{i}.none"] = np.array(True)
        else:
            out |= encode(grad, f"grad{i}")
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
