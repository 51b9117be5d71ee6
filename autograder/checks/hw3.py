"""Hidden checks of homework 3 (``assignments/hw3_optimizers``), against ``torch.optim`` and ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``autograder.probes.hw3`` (what runs in the sandbox). A seed picks one of a few cases and
draws its random numbers, so ``range(8)`` covers every case and ``range(100)`` is the no-flakiness test.

**Optimizers** (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``). ``make_inputs`` draws the initial parameters
(several shapes, 0-d included), one gradient per parameter and step (normal, tiny, huge, or with steps of
exact zeros), the parameter groups and their hyper-parameters, and the learning rate of every group at
every step (a case lowers it half-way, as a scheduler would). ``apply`` builds the student's optimizer on
fresh float64 tensors, sets ``p.grad`` before each ``step()`` and records the parameters after every
step, and the gradients it handed over as they are after the run; ``judge`` checks those against the
inputs (``step()`` must not change ``p.grad`` in place), replays the same run with ``torch.optim``'s
optimizer (``foreach=False``) and names the first step where the trajectories part, with a hint taken
from what the case exercises. Neither side uses autograd: the gradients are given. A student class that
subclasses one of ``torch.optim``'s optimizers (not the ``Optimizer`` base class) fails.

**Schedules** (``step_decay``, ``linear_warmup``, ``cosine_annealing``): the rate at every step of a
range that goes past the schedule's end, against ``solutions.schedules``.

**clip_grad_norm_**: the returned total norm and the clipped gradients, against ``solutions.optim``
(which equals ``torch.nn.utils.clip_grad_norm_`` to the bit).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..probes.hw3 import (
    PROBES,
    clip_call,
    clip_params,
    group_hyper,
    n_params,
    run_optimizer,
    schedule_args,
    schedule_kwargs,
)
from . import (
    Catalogue,
    Check,
    Verdict,
    a_kind,
    case,
    compare,
    expect_tensor,
    first_problem,
    raised,
    reference,
    rng,
    said,
    text,
)
from .forbidden import AUTOGRAD, TORCH_CLIPPING, TORCH_OPTIM

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.optim")
ref_schedules = reference("solutions.schedules")


def _rng(seed: int) -> np.random.Generator:
    return rng(3, seed)


# ---------------------------------------------------------------------------------------------------
# Optimizers: cases
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    """One run of an optimizer.

    ``groups``: (indices of its parameters, its hyper-parameters) per parameter group. ``scale``:
    "normal"; "tiny" (parameters and gradients ~1e-9: ε dominates the adaptive denominators); "huge"
    (gradients ~1e10); "zeros" (every gradient is exactly 0 at two of the steps, and some elements
    always). ``lr_change``: every group's lr is multiplied by 0.3 from the middle step on.
    ``none_grad``: the last parameter has no gradient at the second step. ``kwargs``: a single group
    passed as ``Opt(params, **hyper)`` rather than as a list of dicts.
    """

    shapes: tuple
    groups: tuple
    steps: int
    scale: str = "normal"
    lr_change: bool = False
    none_grad: bool = False
    kwargs: bool = False


_SGD_CASES = [
    _Case(((5,),), (((0,), {"lr": 0.1}),), 3, kwargs=True),
    _Case(((3, 4), (4,)), (((0, 1), {"lr": 0.05, "momentum": 0.9}),), 8, lr_change=True),
    _Case(((6,),), (((0,), {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),), 6, kwargs=True),
    _Case(((2, 3), (3,)), (((0, 1), {"lr": 0.02, "momentum": 0.8, "nesterov": True}),), 6),
    _Case(
        ((4, 2), (2,), (3,)),
        (
            ((0, 1), {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.5}),
            ((2,), {"lr": 0.2, "weight_decay": 0.1}),
        ),
        5,
    ),
    _Case(
        ((7,),), (((0,), {"lr": 0.3, "momentum": 0.5, "nesterov": True}),), 5, "tiny", kwargs=True
    ),
    _Case(
        ((3, 3),),
        (((0,), {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3}),),
        6,
        "zeros",
    ),
    _Case(
        ((), (2, 3, 2)),
        (((0, 1), {"lr": 0.01, "momentum": 0.7, "nesterov": True, "weight_decay": 0.3}),),
        6,
        "huge",
        lr_change=True,
        none_grad=True,
    ),
]

_ADAGRAD_CASES = [
    _Case(((5,),), (((0,), {"lr": 0.1}),), 4, kwargs=True),
    _Case(((3, 4), (4,)), (((0, 1), {"lr": 0.5, "lr_decay": 0.1}),), 6),
    _Case(
        ((6,),),
        (((0,), {"lr": 0.2, "initial_accumulator_value": 0.5, "eps": 1e-3}),),
        5,
        kwargs=True,  # torch.optim.Adagrad reads initial_accumulator_value from its arguments only
    ),
    _Case(((2, 3),), (((0,), {"lr": 0.1, "weight_decay": 0.4}),), 5, kwargs=True),
    _Case(
        ((4,), (2, 2)),
        (((0,), {"lr": 0.3, "eps": 1e-6}), ((1,), {"lr": 0.05, "lr_decay": 0.5})),
        5,
        lr_change=True,
    ),
    _Case(((8,),), (((0,), {"lr": 0.1}),), 5, "tiny"),
    _Case(((3, 3),), (((0,), {"lr": 0.1, "weight_decay": 0.01}),), 6, "zeros"),
    _Case(((), (2, 2, 3)), (((0, 1), {"lr": 0.7, "lr_decay": 0.01}),), 5, "huge", none_grad=True),
]

_RMSPROP_CASES = [
    _Case(((5,),), (((0,), {"lr": 0.01}),), 4, kwargs=True),
    _Case(((3, 4), (4,)), (((0, 1), {"lr": 0.01, "alpha": 0.7}),), 6),
    _Case(((6,),), (((0,), {"lr": 0.02, "alpha": 0.9, "centered": True}),), 6),
    _Case(((2, 3),), (((0,), {"lr": 0.01, "momentum": 0.8, "weight_decay": 0.2}),), 6, kwargs=True),
    _Case(
        ((4,), (2, 2)),
        (
            ((0,), {"lr": 0.03, "alpha": 0.8, "momentum": 0.5, "centered": True}),
            ((1,), {"lr": 0.01, "eps": 1e-3}),
        ),
        6,
        lr_change=True,
    ),
    _Case(((8,),), (((0,), {"lr": 0.01, "alpha": 0.9}),), 5, "tiny"),
    _Case(((3, 3),), (((0,), {"lr": 0.01, "alpha": 0.6, "momentum": 0.9}),), 6, "zeros"),
    _Case(((), (2, 2, 3)), (((0, 1), {"lr": 0.05, "alpha": 0.95}),), 5, "huge", none_grad=True),
]

_ADAM_CASES = [
    _Case(((5,),), (((0,), {"lr": 0.01}),), 4, kwargs=True),
    _Case(((3, 4), (4,)), (((0, 1), {"lr": 0.05, "betas": (0.8, 0.9)}),), 6),
    _Case(((6,),), (((0,), {"lr": 0.02, "betas": (0.9, 0.99), "amsgrad": True}),), 8),
    _Case(
        ((2, 3),), (((0,), {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.5}),), 5, kwargs=True
    ),
    _Case(
        ((4,), (2, 2)),
        (
            ((0,), {"lr": 0.1, "weight_decay": 0.3, "decoupled_weight_decay": True}),
            ((1,), {"lr": 0.03, "betas": (0.7, 0.95), "eps": 1e-3}),
        ),
        6,
        lr_change=True,
    ),
    _Case(((8,),), (((0,), {"lr": 0.01, "betas": (0.9, 0.99)}),), 5, "tiny"),
    _Case(((3, 3),), (((0,), {"lr": 0.01, "betas": (0.6, 0.8), "amsgrad": True}),), 7, "zeros"),
    _Case(
        ((), (2, 2, 3)), (((0, 1), {"lr": 0.05, "betas": (0.9, 0.999)}),), 5, "huge", none_grad=True
    ),
]


def _optimizer_inputs(cases: list[_Case]) -> Callable[[int], dict[str, np.ndarray]]:
    def make_inputs(seed: int) -> dict[str, np.ndarray]:
        c = case(seed, cases)
        generator = _rng(seed)
        inputs: dict[str, np.ndarray] = {}
        p_scale = {"tiny": 1e-9}.get(c.scale, 1.0)
        g_scale = {"tiny": 1e-9, "huge": 1e10}.get(c.scale, 1.0)
        for i, shape in enumerate(c.shapes):
            inputs[f"p{i}"] = p_scale * generator.standard_normal(shape)
            grads = g_scale * generator.standard_normal((c.steps, *shape))
            if c.scale == "zeros":
                grads[2:4] = 0.0  # two steps without gradient: momentum keeps moving
                grads.reshape(c.steps, -1)[:, :1] = 0.0  # an element that never gets one
            inputs[f"g{i}"] = grads
        has_grad = np.ones((c.steps, len(c.shapes)), dtype=bool)
        if c.none_grad:
            has_grad[1, -1] = False
        inputs["has_grad"] = has_grad
        lrs = np.array([[hyper["lr"] for _, hyper in c.groups]] * c.steps, dtype=np.float64)
        if c.lr_change:
            lrs[c.steps // 2 :] *= 0.3
        inputs["lr"] = lrs
        for j, (indices, hyper) in enumerate(c.groups):
            inputs[f"group{j}.params"] = np.array(indices, dtype=np.int64)
            for name, value in hyper.items():
                inputs[f"group{j}.{name}"] = np.array(value)
        inputs["kwargs"] = np.array(c.kwargs)
        return inputs

    return make_inputs


# ---------------------------------------------------------------------------------------------------
# Optimizers: the judge
# ---------------------------------------------------------------------------------------------------


def _torch_run(name: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The same run with torch.optim's optimizer; per parameter, its (steps, *shape) trajectory."""

    def make(params, **hyper):
        cls = getattr(torch.optim, name)
        if isinstance(params, list) and params and isinstance(params[0], dict):
            return cls(params, foreach=False)
        return cls(params, foreach=False, **hyper)

    record: dict = {"trajectory": [], "grads": []}
    run_optimizer(make, inputs, record)
    n = n_params(inputs)
    return [np.stack([step[i] for step in record["trajectory"]]) for i in range(n)]


def _features(hyper: dict) -> list[str]:
    """What a group exercises, in words: its hyper-parameters other than lr that are not off."""
    names = []
    for key, value in hyper.items():
        if key == "lr" or value is False or (not isinstance(value, tuple) and value == 0):
            continue
        if value is True:
            names.append(key)
        elif isinstance(value, tuple):
            names.append(f"{key}=({', '.join(f'{v:g}' for v in value)})")
        else:
            names.append(f"{key}={value:g}")
    return names


def _sgd_hint(hyper: dict, step: int, lr_changed: bool) -> str:
    momentum = hyper.get("momentum", 0)
    if lr_changed and momentum:
        return (
            "the lr changed before this step: PyTorch's buffer b ← μb + g holds gradients, not "
            "steps, and the whole of it is multiplied by the current lr (the lecture's "
            "v ← βv − αg keeps the old rates)"
        )
    if momentum and hyper.get("dampening"):
        return "dampening: b₁ = g₁ at the first step (not damped), b ← μb + (1 − τ)g after it"
    if hyper.get("weight_decay") and step == 1:
        return "weight decay: g ← g + λθ first, then the momentum buffer"
    if hyper.get("nesterov"):
        return "Nesterov in PyTorch's form: θ ← θ − γ(g + μb), with the new b"
    if hyper.get("weight_decay"):
        return "weight decay: g ← g + λθ before the buffer sees g"
    if momentum:
        return "momentum: b₁ = g₁, then b ← μb + g, and θ ← θ − γb"
    return "plain SGD: θ ← θ − γg"


def _adagrad_hint(hyper: dict, step: int, lr_changed: bool) -> str:
    if hyper.get("lr_decay"):
        return "lr decay: γ̃ = γ / (1 + (t − 1)η), t counted from 1 (no decay at the first step)"
    if hyper.get("initial_accumulator_value"):
        return "the sum starts at initial_accumulator_value"
    if hyper.get("weight_decay"):
        return "weight decay: g ← g + λθ before the sum of squares"
    return "state_sum ← state_sum + g², θ ← θ − γ̃ g / (√state_sum + ε): squares, ε outside the root"


def _rmsprop_hint(hyper: dict, step: int, lr_changed: bool) -> str:
    if hyper.get("centered"):
        return "centered: g_ave ← αg_ave + (1 − α)g, and divide by √(v − g_ave²) + ε"
    if hyper.get("momentum"):
        return "momentum: b ← μb + g / (√v + ε), θ ← θ − γb"
    if hyper.get("weight_decay"):
        return "weight decay: g ← g + λθ before the square average"
    return (
        "v ← αv + (1 − α)g² (α weighs the old average), θ ← θ − γ g / (√v + ε): ε outside the root"
    )


def _adam_hint(hyper: dict, step: int, lr_changed: bool) -> str:
    if hyper.get("decoupled_weight_decay") and hyper.get("weight_decay"):
        return "decoupled weight decay: θ ← θ − γλθ first, with the current γ, then the Adam step"
    if hyper.get("weight_decay"):
        return "L2 weight decay: g ← g + λθ before both moments"
    if hyper.get("amsgrad") and step >= 2:
        return "AMSGrad: v_max ← max(v_max, v) on the raw v, then divide by √(v_max/(1 − β₂ᵗ)) + ε"
    if step == 1:
        return (
            "bias correction m/(1 − β₁ᵗ), v/(1 − β₂ᵗ) with t = 1 at a parameter's first step, "
            "ε outside the root"
        )
    return "bias correction with t counted per parameter from 1, ε added after the root"


_HINTS = {"SGD": _sgd_hint, "Adagrad": _adagrad_hint, "RMSprop": _rmsprop_hint, "Adam": _adam_hint}


def _group_of(inputs: dict[str, np.ndarray], i: int) -> int:
    j = 0
    while f"group{j}.params" in inputs:
        if i in inputs[f"group{j}.params"]:
            return j
        j += 1
    return 0


def _grads_changed(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> bool:
    """Whether a gradient handed to ``step()`` is not what it was (``grads_after<i>``, read after
    the run); one that could not be read counts as changed."""
    for i in range(n_params(inputs)):
        after = outputs.get(f"grads_after{i}")
        given = inputs[f"g{i}"]
        if after is None or after.shape != given.shape:
            return True
        has_grad = inputs["has_grad"][:, i]
        if not np.array_equal(after[has_grad], given[has_grad]):
            return True
    return False


def _optimizer_judge(name: str) -> Callable:
    def judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        if "subclasses" in outputs:
            return first_problem(
                f"{name} subclasses {said(outputs, 'subclasses')}: write the update yourself (subclass "
                "only torch.optim.Optimizer, for the bookkeeping, as the provided _Zoo does)"
            )
        if "error" in outputs:
            where = ""
            if "error_step" in outputs and int(outputs["error_step"]) >= 0:
                where = f" at step {int(outputs['error_step']) + 1}"
            return first_problem(f"{raised(outputs)}{where}")
        if "optimizer.type" in outputs:
            return first_problem(
                f"{name}(params, ...) gave {a_kind(said(outputs, 'optimizer.type'))}, expected an optimizer "
                "with a step() method"
            )
        if "unreadable_step" in outputs:
            return first_problem(
                f"after step {int(outputs['unreadable_step'])} the parameters could not be read as "
                "numbers (a tensor without storage, or no longer a tensor?)"
            )
        n = n_params(inputs)
        for i in range(n):
            problem = expect_tensor(outputs, f"final{i}", inputs[f"p{i}"].shape)
            if problem is not None:
                problem = problem.replace(f"final{i}", f"parameter {i} after the run")
                if "NaN" in problem:
                    problem += ": a square root of a negative number, or a division by 0?"
                return first_problem(problem)
        if _grads_changed(inputs, outputs):
            return first_problem(
                "p.grad was changed in place: leave it alone (weight decay makes a new tensor "
                "g + λθ, e.g. grad = grad.add(p, alpha=λ))"
            )
        expected = _torch_run(name, inputs)
        steps = inputs["lr"].shape[0]
        changed_at = next(
            (t for t in range(1, steps) if not np.array_equal(inputs["lr"][t], inputs["lr"][0])),
            steps,
        )
        groups = group_hyper(inputs)
        for t in range(steps):
            for i in range(n):
                actual, want = outputs[f"trajectory{i}"][t], expected[i][t]
                start = inputs[f"p{i}"]
                moved = float(np.max(np.abs(want - start), initial=0.0))
                size = float(np.max(np.abs(want), initial=0.0))
                error = float(np.max(np.abs(actual - want), initial=0.0))
                if not error <= 1e-9 * moved + 1e-13 * size:
                    hyper = groups[_group_of(inputs, i)]
                    if not np.any(actual != start) and moved > 0:
                        return first_problem(
                            f"after step {t + 1} the parameters have not moved: update each p in "
                            "place (p.add_, p.addcdiv_, …); p = p − … only rebinds a local name"
                        )
                    relative = error / moved if moved > 0 else math.inf
                    features = ", ".join(_features(hyper)) or "defaults"
                    hint = _HINTS[name](hyper, t + 1, t >= changed_at)
                    if relative < 1e-5:
                        hint = (
                            "a small difference: state kept in float32 (torch.zeros(shape) is "
                            "float32, torch.zeros_like(p) is not), or ε inside the root instead "
                            "of outside"
                        )
                    return first_problem(
                        f"after step {t + 1} of {steps} ({features}) the parameters differ from "
                        f"torch.optim.{name} by {relative:.1g} of the distance they moved: {hint}?"
                    )
        return first_problem()

    return judge


def _optimizer_check(name: str, cases: list[_Case]) -> Check:
    """The optimizer ``name``: its inputs and judge are here, its apply in ``autograder.probes.hw3``."""
    return Check(
        name,
        _optimizer_inputs(cases),
        PROBES[name],
        _optimizer_judge(name),
        forbid=(AUTOGRAD, TORCH_OPTIM),
    )


# ---------------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------------

# (hyper-parameters, base_lr or None for the default, the number of steps evaluated)
_STEP_DECAY_CASES = [
    ({"step_size": 3}, None, 12),
    ({"step_size": 4, "gamma": 0.5}, 0.1, 17),
    ({"step_size": 1, "gamma": 0.9}, 2.0, 6),
    ({"step_size": 5, "gamma": 0.3}, None, 23),
    ({"step_size": 10, "gamma": 0.1}, 0.01, 35),
]
_WARMUP_CASES = [
    ({"warmup_steps": 5}, None, 9),
    ({"warmup_steps": 4, "start_factor": 0.25}, 0.1, 8),
    ({"warmup_steps": 0}, 0.3, 3),
    ({"warmup_steps": 1, "start_factor": 0.5}, None, 4),
    ({"warmup_steps": 10, "start_factor": 0.1}, 3e-4, 15),
]
_COSINE_CASES = [
    ({"T_max": 10}, None, 14),
    ({"T_max": 7, "eta_min": 0.01}, 0.1, 12),
    ({"T_max": 1}, 0.5, 4),
    ({"T_max": 20, "eta_min": 0.2}, None, 25),
    ({"T_max": 5, "eta_min": 1e-4}, 3e-3, 9),
]
_SCHEDULE_CASES = {
    "step_decay": _STEP_DECAY_CASES,
    "linear_warmup": _WARMUP_CASES,
    "cosine_annealing": _COSINE_CASES,
}
_SCHEDULE_HINTS = {
    "step_decay": "base_lr · γ^⌊t / step_size⌋ (floor, counted from t = 0)",
    "linear_warmup": (
        "base_lr · (s + (1 − s) · min(t, W) / W): s · base_lr at t = 0, base_lr from t = W on, "
        "and no warm-up at all for W = 0"
    ),
    "cosine_annealing": (
        "η_min + (base_lr − η_min)(1 + cos(π min(t, T)/T))/2: base_lr at t = 0, η_min (an absolute "
        "rate) from t = T on"
    ),
}


def _schedule_inputs(name: str) -> Callable[[int], dict[str, np.ndarray]]:
    def make_inputs(seed: int) -> dict[str, np.ndarray]:
        hyper, base_lr, n = case(seed, _SCHEDULE_CASES[name])
        inputs = {f"hyper.{key}": np.array(value) for key, value in hyper.items()}
        inputs["steps"] = np.arange(n, dtype=np.int64)
        if base_lr is not None:
            inputs["base_lr"] = np.array(base_lr)
        return inputs

    return make_inputs


def _schedule_judge(name: str) -> Callable:
    def judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        reference = getattr(
            ref_schedules, name
        )  # here, not at import: the sandbox has no solutions
        step = int(outputs.get("error_step", -1))
        if "error" in outputs:
            return first_problem(f"{raised(outputs)} at step {step}")
        if "result.type" in outputs:
            return first_problem(
                f"returned {a_kind(said(outputs, 'result.type'))} at step {step}, expected a float"
            )
        kwargs = schedule_kwargs(inputs)
        values = outputs["result"]
        for t in inputs["steps"]:
            t = int(t)
            want = reference(*schedule_args(inputs, t), **kwargs)
            got = float(values[t])
            if not math.isfinite(got):
                return first_problem(f"the rate at step {t} is {got}")
            if not abs(got - want) <= 1e-12 * abs(want) + 1e-300:
                return first_problem(
                    f"the rate at step {t} is {got:.6g}, expected {want:.6g}: "
                    f"{_SCHEDULE_HINTS[name]}?"
                )
        return first_problem()

    return judge


def _schedule_check(name: str) -> Check:
    """The schedule ``name``: its inputs and judge are here, its apply in ``autograder.probes.hw3``."""
    return Check(name, _schedule_inputs(name), PROBES[name], _schedule_judge(name))


# ---------------------------------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------------------------------

# (shapes of the gradients (None: a parameter without one), scale, max_norm, norm_type, how the
#  parameters are passed, error_if_nonfinite)
_CLIP_CASES = [
    (((4, 3), (5,), (2, 2, 2)), 1.0, 1.0, 2.0, "list", False),
    (((6,), (3, 3)), 1.0, 100.0, 2.0, "list", False),
    (((4, 3), None, (5,)), 1.0, 0.5, 1.0, "generator", False),
    (((10,),), 1.0, 0.3, math.inf, "tensor", False),
    (((4, 3), (5,), ()), 1e-8, 1e-9, 2.0, "list", False),
    (((3, 2), (7,)), 1e100, 5.0, 3.0, "list", False),
    (((2, 5), (4,)), 1.0, 1.0, 2.0, "list", True),
    (((8,), (2, 2), (3,)), 10.0, 2.0, math.inf, "generator", False),
]


def _clip_inputs(seed: int) -> dict[str, np.ndarray]:
    shapes, scale, max_norm, norm_type, how, nonfinite = case(seed, _CLIP_CASES)
    generator = _rng(seed)
    inputs: dict[str, np.ndarray] = {}
    for i, shape in enumerate(shapes):
        if shape is None:
            inputs[f"p{i}"] = generator.standard_normal(3)
            continue
        inputs[f"p{i}"] = generator.standard_normal(shape)
        grad = scale * generator.standard_normal(shape)
        if i == 0 and seed % len(_CLIP_CASES) == 3:
            grad.flat[2] = -3.0 * np.abs(grad).max()  # the ∞-norm is a negative element's size
        inputs[f"g{i}"] = grad
    if nonfinite:
        inputs["g0"].flat[1] = np.inf
    inputs |= {
        "max_norm": np.array(max_norm),
        "norm_type": np.array(norm_type),
        "how": text(how),
        "error_if_nonfinite": np.array(nonfinite),
    }
    return inputs


def _clip_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if bool(inputs["error_if_nonfinite"]):
        if not str(outputs.get("error", "")).startswith("RuntimeError"):
            got = raised(outputs) if "error" in outputs else "returned"
            return first_problem(
                f"with an infinite gradient and error_if_nonfinite=True it {got}, expected a "
                "RuntimeError"
            )
        return first_problem()
    problem = expect_tensor(outputs, "result", ())
    if problem is not None:
        if "result is a" in problem:
            problem += " (return the total norm before clipping, a 0-d tensor)"
        return first_problem(problem)
    params = clip_params(inputs)
    total = clip_call(ref.clip_grad_norm_, inputs, params)[0]
    problem = compare(outputs["result"], total.numpy(), "the total norm returned", rtol=1e-12)
    if problem is not None:
        problem += (
            " (the norm of all gradients together, before clipping: ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p, "
            "the largest |gᵢ| for p = ∞)"
        )
        return first_problem(problem)
    for i, p in enumerate(params):
        if p.grad is None:
            if f"grad{i}.none" not in outputs:
                return first_problem("a parameter without a gradient got one: skip p.grad = None")
            continue
        problem = expect_tensor(outputs, f"grad{i}", tuple(p.grad.shape))
        if problem is None:
            problem = compare(
                outputs[f"grad{i}"], p.grad.numpy(), f"gradient {i} after clipping", rtol=1e-12
            )
            if problem is not None:
                problem += (
                    ": scale every gradient in place by min(max_norm / (total + 1e-6), 1), one "
                    "factor for all"
                )
        if problem is not None:
            return first_problem(problem)
    return first_problem()


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------

CHECKS = Catalogue(
    [
        _optimizer_check("SGD", _SGD_CASES),
        _optimizer_check("Adagrad", _ADAGRAD_CASES),
        _optimizer_check("RMSprop", _RMSPROP_CASES),
        _optimizer_check("Adam", _ADAM_CASES),
        _schedule_check("step_decay"),
        _schedule_check("linear_warmup"),
        _schedule_check("cosine_annealing"),
        Check(
            "clip_grad_norm_",
            _clip_inputs,
            PROBES["clip_grad_norm_"],
            _clip_judge,
            forbid=(AUTOGRAD, TORCH_OPTIM, TORCH_CLIPPING),
        ),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
