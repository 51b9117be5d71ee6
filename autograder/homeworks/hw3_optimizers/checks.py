"""Hidden checks of homework 3 (``assignments/hw3_optimizers``), against ``torch.optim`` and ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``probes.py`` (what runs in the sandbox). A seed picks one of a few cases and
draws its random numbers, so ``range(8)`` covers every case and ``range(100)`` is the no-flakiness test.

**Optimizers** (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``). ``make_inputs`` draws the initial parameters
(several shapes, 0-d included), one gradient per parameter and step (normal, tiny, huge, or with steps of
exact zeros), the parameter groups and their hyper-parameters, and the learning rate of every group at
every step (a case lowers it half-way, as a scheduler would). ``apply`` builds the student's optimizer on
fresh float64 tensors, sets ``p.grad`` before each ``step()`` and records the parameters after every
step, and the gradients it handed over as they are after the run; ``judge`` checks those against the
inputs (``step()`` must not change ``p.grad`` in place), replays the same run with ``torch.optim``'s
optimizer (``foreach=False``) and names the first step where the trajectories part, element by element
within :data:`TOLERANCE` (as the notebook states it), with a hint taken from what the case exercises.
The probe runs the optimizer a second time with one gradient tensor per parameter overwritten in place
between steps (``reused.*``): a state that holds ``p.grad`` itself goes wrong there. The judge also
reads the groups' hyper-parameters after every step (never written), the gradients right after their
step and after the run (never written, not even later through the state), and the parameters' dtype
(float32 cases stay float32). Neither side uses autograd: the gradients are given. A student class that
subclasses one of ``torch.optim``'s optimizers (not the ``Optimizer`` base class) fails.

**Schedules** (``step_decay``, ``linear_warmup``, ``cosine_annealing``): the rate at every step of a
range that goes past the schedule's end, against ``solutions.schedules``.

**clip_grad_norm_**: the returned total norm and the clipped gradients (the caller's tensors, scaled
in place), against ``solutions.optim`` (which equals ``torch.nn.utils.clip_grad_norm_`` to the bit),
within :data:`CLIP_TOLERANCE`; float32 gradients, ``norm_type`` left to its default, an infinite
gradient without ``error_if_nonfinite`` (no error, an infinite total) and no gradient at all (0.0).
Schedules: within :data:`SCHEDULE_TOLERANCE` of ``base_lr``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from autograder.checks import (
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
    tensor,
    text,
)
from autograder.checks.forbidden import AUTOGRAD, TORCH_CLIPPING, TORCH_OPTIM

from .probes import (
    PROBES,
    clip_call,
    clip_params,
    group_hyper,
    hyper_keys,
    n_params,
    run_optimizer,
    schedule_args,
    schedule_kwargs,
)

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
    ``none_grad``: the last parameter has no gradient at the second step. ``first_none``: the first
    parameter has none at the first step (its own step count starts one step later). ``kwargs``: a
    single group passed as ``Opt(params, **hyper)`` rather than as a list of dicts. ``float32``: the
    parameters and gradients are float32 (and must stay so).
    """

    shapes: tuple
    groups: tuple
    steps: int
    scale: str = "normal"
    lr_change: bool = False
    none_grad: bool = False
    kwargs: bool = False
    first_none: bool = False
    float32: bool = False


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
    _Case(
        ((3, 4), (4,)),
        (
            ((0,), {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
            ((1,), {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
        ),
        5,
        lr_change=True,
        float32=True,
    ),
    _Case(
        ((2,), (3, 2), (4,)),
        (
            ((0, 1), {"lr": 0.1, "momentum": 0.9}),
            ((2,), {"lr": 0.03, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.2}),
        ),
        6,
        first_none=True,
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
    _Case(
        ((3, 4), (5,)),
        (
            ((0,), {"lr": 0.3, "lr_decay": 0.2, "eps": 1e-4}),
            ((1,), {"lr": 0.1, "weight_decay": 0.3}),
        ),
        5,
        float32=True,
    ),
    _Case(
        ((2, 3), (4,)),
        (
            (
                (0, 1),
                {
                    "lr": 0.2,
                    "lr_decay": 0.3,
                    "initial_accumulator_value": 0.1,
                    "weight_decay": 0.05,
                },
            ),
        ),
        5,
        kwargs=True,
        first_none=True,
    ),
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
    _Case(
        ((3, 4), (5,)),
        (
            ((0,), {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}),
            ((1,), {"lr": 0.02, "alpha": 0.8, "weight_decay": 0.1, "eps": 1e-4}),
        ),
        5,
        float32=True,
    ),
    _Case(
        ((2, 3), (4,), ()),
        (
            (
                (0, 1),
                {"lr": 0.01, "alpha": 0.85, "centered": True, "momentum": 0.3, "weight_decay": 0.1},
            ),
            ((2,), {"lr": 0.05, "eps": 1e-2}),
        ),
        6,
        first_none=True,
    ),
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
    _Case(
        ((3, 4), (5,)),
        (
            (
                (0,),
                {
                    "lr": 0.01,
                    "betas": (0.8, 0.95),
                    "weight_decay": 0.1,
                    "decoupled_weight_decay": True,
                },
            ),
            ((1,), {"lr": 0.02, "betas": (0.85, 0.9), "amsgrad": True, "eps": 1e-4}),
        ),
        6,
        float32=True,
    ),
    _Case(
        ((2, 3), (4,), (3,)),
        (
            ((0, 1), {"lr": 0.02, "betas": (0.7, 0.9), "amsgrad": True, "weight_decay": 0.2}),
            ((2,), {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3}),
        ),
        6,
        lr_change=True,
        first_none=True,
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
        if c.first_none:
            has_grad[0, 0] = False
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
        inputs["float32"] = np.array(c.float32)
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


# per element, after every step: |θ − θ_torch| ≤ PATH · (the distance the element has travelled in
# torch.optim's run, the sum of its step sizes) + SIZE · (its largest size so far); the notebook says so
TOLERANCE = {"float64": (1e-9, 1e-13), "float32": (1e-4, 1e-5)}


def _dtype_name(inputs: dict[str, np.ndarray]) -> str:
    return "float32" if bool(inputs.get("float32", False)) else "float64"


def _allowed(start: np.ndarray, expected: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Per step and element, the distance travelled in the reference run (the sum of the step
    sizes so far) and the tolerance :data:`TOLERANCE` gives it."""
    before = np.concatenate([start[None], expected[:-1]])
    path = np.cumsum(np.abs(expected - before), axis=0)
    sizes = np.abs(np.concatenate([start[None], expected]))
    size = np.maximum.accumulate(sizes, axis=0)[1:]
    per_path, per_size = TOLERANCE[dtype]
    return path, per_path * path + per_size * size


def _grad_problem(
    inputs: dict[str, np.ndarray],
    outputs: dict[str, np.ndarray],
    prefix: str = "",
    whens: tuple[str, ...] = ("grads_seen", "grads_after"),
) -> str | None:
    """Whether a gradient handed to ``step()`` is not what it was: right after its step
    (``grads_seen<i>``: step() wrote into it), or after the run (``grads_after<i>``: a later step
    did, through a state that holds it). One that could not be read counts as changed."""
    steps = inputs["lr"].shape[0]
    for when in whens:
        for i in range(n_params(inputs)):
            got = outputs.get(f"{prefix}{when}{i}")
            given = tensor(inputs[f"g{i}"], _torch_dtype(inputs)).to(torch.float64).numpy()
            has_grad = inputs["has_grad"][:, i]
            if got is None or got.shape != given.shape:
                return "p.grad was changed in place (or could not be read back): leave it alone"
            for t in range(steps):
                if has_grad[t] and not np.array_equal(got[t], given[t]):
                    if when == "grads_seen":
                        return (
                            f"p.grad was changed in place at step {t + 1}: leave it alone (weight "
                            "decay makes a new tensor g + λθ, e.g. grad = grad.add(p, alpha=λ))"
                        )
                    return (
                        f"the gradient handed to step {t + 1} was changed by a later step: the "
                        "state holds p.grad itself (b = grad), not a copy; store grad.clone()"
                    )
    return None


def _hyper_problem(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> str | None:
    """Whether a step changed its group's hyper-parameters (``hyper_after<j>``, per step)."""
    lrs = inputs["lr"]
    for j, hyper in enumerate(group_hyper(inputs)):
        keys = hyper_keys(hyper)
        got = outputs.get(f"hyper_after{j}")
        if got is None or got.shape != (lrs.shape[0], len(keys)):
            return "the parameter groups could not be read after a step (group[...] changed?)"
        for t in range(lrs.shape[0]):
            for (name, k), value in zip(keys, got[t], strict=True):
                want = lrs[t, j] if name == "lr" else hyper[name] if k is None else hyper[name][k]
                if not float(value) == float(want):
                    return (
                        f"step {t + 1} changed the group's {name!r}: read the hyper-parameters "
                        "from group, never write them (a decayed rate goes into a local variable)"
                    )
    return None


def _torch_dtype(inputs: dict[str, np.ndarray]) -> torch.dtype:
    return torch.float32 if _dtype_name(inputs) == "float32" else torch.float64


def _trajectory_problem(
    name: str,
    inputs: dict[str, np.ndarray],
    trajectories: list[np.ndarray],
    expected: list[np.ndarray],
) -> str | None:
    """The first step where a parameter's trajectory leaves torch.optim's by more than the tolerance
    (element by element), with a hint taken from what the case exercises."""
    steps = inputs["lr"].shape[0]
    dtype = _dtype_name(inputs)
    changed_at = next(
        (t for t in range(1, steps) if not np.array_equal(inputs["lr"][t], inputs["lr"][0])),
        steps,
    )
    groups = group_hyper(inputs)
    limits = []
    for i in range(n_params(inputs)):
        start = tensor(inputs[f"p{i}"], _torch_dtype(inputs)).to(torch.float64).numpy()
        limits.append((start, *_allowed(start, expected[i], dtype)))
    for t in range(steps):
        for i in range(n_params(inputs)):
            start, path, allowed = limits[i]
            actual, want = trajectories[i][t], expected[i][t]
            error = np.abs(actual - want)
            wrong = ~(error <= allowed[t])
            if not np.any(wrong):
                continue
            hyper = groups[_group_of(inputs, i)]
            if not np.any(actual != start) and np.any(want != start):
                return (
                    f"after step {t + 1} the parameters have not moved: update each p in "
                    "place (p.add_, p.addcdiv_, …); p = p − … only rebinds a local name"
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = np.where(path[t] > 0, error / path[t], np.inf)
            relative = float(np.max(np.where(wrong, ratios, 0.0)))
            relative = relative if not math.isnan(relative) else math.inf
            features = ", ".join(_features(hyper)) or "defaults"
            hint = _HINTS[name](hyper, t + 1, t >= changed_at)
            if relative < 1e-5 and dtype == "float64":
                hint = (
                    "a small difference: state kept in float32 (torch.zeros(shape) is "
                    "float32, torch.zeros_like(p) is not), or ε inside the root instead "
                    "of outside"
                )
            per_path = TOLERANCE[dtype][0]
            return (
                f"after step {t + 1} of {steps} ({features}{', float32' if dtype == 'float32' else ''}) "
                f"an element of parameter {i} differs from torch.optim.{name} by {relative:.1g} of "
                f"the distance it travelled (tolerance {per_path:g}): {hint}?"
            )
    return None


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
        dtype = _dtype_name(inputs)
        for i in range(n):
            problem = expect_tensor(outputs, f"final{i}", inputs[f"p{i}"].shape, dtype)
            if problem is not None:
                problem = problem.replace(f"final{i}", f"parameter {i} after the run")
                problem = problem.replace("(the dtype of the inputs)", "(its dtype before the run)")
                if "NaN" in problem:
                    problem += ": a square root of a negative number, or a division by 0?"
                return first_problem(problem)
        problem = _hyper_problem(inputs, outputs) or _grad_problem(inputs, outputs)
        if problem is not None:
            return first_problem(problem)
        expected = _torch_run(name, inputs)
        trajectories = [outputs[f"trajectory{i}"] for i in range(n)]
        problem = _trajectory_problem(name, inputs, trajectories, expected)
        if problem is not None:
            return first_problem(problem)
        # the second run: one gradient tensor per parameter, overwritten in place between steps
        reuse = "when p.grad is one tensor that the caller overwrites in place between steps"
        if "reused.error" in outputs:
            return first_problem(f"raised {said(outputs, 'reused.error')} {reuse}")
        # one tensor for every step: only what it held right after each step tells
        problem = _grad_problem(inputs, outputs, "reused.", ("grads_seen",))
        if problem is not None:
            return first_problem(f"{problem.split(':')[0]} {reuse}")
        trajectories = [outputs.get(f"reused.trajectory{i}") for i in range(n)]
        if any(
            tr is None or tr.shape != ex.shape
            for tr, ex in zip(trajectories, expected, strict=True)
        ):
            return first_problem(f"the parameters could not be read {reuse}")
        if _trajectory_problem(name, inputs, trajectories, expected) is not None:
            return first_problem(
                f"the run goes wrong {reuse} (as zero_grad(set_to_none=False) and gradient "
                "accumulation do): the state holds p.grad itself, not a copy; store grad.clone()"
            )
        return first_problem()

    return judge


def _optimizer_check(name: str, cases: list[_Case]) -> Check:
    """The optimizer ``name``: its inputs and judge are here, its apply in ``probes.py``."""
    return Check(
        name,
        _optimizer_inputs(cases),
        PROBES[name],
        _optimizer_judge(name),
        seeds=tuple(range(len(cases))),
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


SCHEDULE_TOLERANCE = 1e-12  # |lr − exact| ≤ 1e-12 · max(base_lr, |exact|), as the notebook says


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
        base_lr = float(inputs["base_lr"]) if "base_lr" in inputs else 1.0
        for t in inputs["steps"]:
            t = int(t)
            want = reference(*schedule_args(inputs, t), **kwargs)
            got = float(values[t])
            if not math.isfinite(got):
                return first_problem(f"the rate at step {t} is {got}")
            # the notebook's tolerance: 1e-12 of base_lr (or of the rate, if larger)
            scale = max(abs(base_lr), abs(want))
            if (
                abs(got - want) <= 1e-6 * scale
                and not abs(got - want) <= SCHEDULE_TOLERANCE * scale
            ):
                return first_problem(
                    f"the rate at step {t} is off by {abs(got - want) / scale:.1g} of base_lr "
                    f"(tolerance {SCHEDULE_TOLERANCE:g}): float32 arithmetic somewhere? Compute "
                    "with Python floats"
                )
            if not abs(got - want) <= SCHEDULE_TOLERANCE * scale:
                return first_problem(
                    f"the rate at step {t} is {got:.6g}, expected {want:.6g}: "
                    f"{_SCHEDULE_HINTS[name]}?"
                )
        return first_problem()

    return judge


def _schedule_check(name: str) -> Check:
    """The schedule ``name``: its inputs and judge are here, its apply in ``probes.py``."""
    return Check(name, _schedule_inputs(name), PROBES[name], _schedule_judge(name))


# ---------------------------------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------------------------------

# (shapes of the gradients (None: a parameter without one), scale, max_norm, norm_type (None: left to
#  its default, 2), how the parameters are passed, error_if_nonfinite (None: an infinite gradient
#  with error_if_nonfinite=False passed), float32)
_CLIP_CASES = [
    (((4, 3), (5,), (2, 2, 2)), 1.0, 1.0, 2.0, "list", False, False),
    (((6,), (3, 3)), 1.0, 100.0, 2.0, "list", False, False),
    (((4, 3), None, (5,)), 1.0, 0.5, 1.0, "generator", False, False),
    (((10,),), 1.0, 0.3, math.inf, "tensor", False, False),
    (((4, 3), (5,), ()), 1e-8, 1e-9, 2.0, "list", False, False),
    (((3, 2), (7,)), 1e100, 5.0, 3.0, "list", False, False),
    (((2, 5), (4,)), 1.0, 1.0, 2.0, "list", True, False),
    (((8,), (2, 2), (3,)), 10.0, 2.0, math.inf, "generator", False, False),
    (((5, 4), (4,), (3,)), 3.0, 1.5, 2.0, "list", False, True),
    ((None, (6,), (2, 3)), 2.0, 0.7, None, "generator", False, False),
    (((3,), (2, 2)), 1.0, 1.0, 2.0, "list", None, False),
    ((None, None), 1.0, 1.0, 2.0, "list", False, False),
    (((2, 3), (4,)), 1.0, 1.0, 2.0, "list", "nan", False),  # a NaN gradient raises too
    (
        ((3, 4), (6,)),
        1.0,
        "edge",
        2.0,
        "list",
        False,
        False,
    ),  # total in (max_norm − 1e-6, max_norm)
]

# the notebook's tolerance for the norm and every gradient element: relative, per dtype
CLIP_TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def _clip_inputs(seed: int) -> dict[str, np.ndarray]:
    shapes, scale, max_norm, norm_type, how, nonfinite, float32 = case(seed, _CLIP_CASES)
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
    if nonfinite is not False:
        inputs["g0"].flat[1] = np.nan if nonfinite == "nan" else np.inf
    if (
        max_norm == "edge"
    ):  # coef = max_norm / (total + 1e-6) is just below 1: always scale, no `if`
        grads = [v for k, v in inputs.items() if k.startswith("g")]
        max_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads))) + 5e-7
    inputs |= {
        "max_norm": np.array(max_norm),
        "norm_type": np.array(2.0 if norm_type is None else norm_type),
        "default_norm": np.array(norm_type is None),
        "how": text(how),
        "error_if_nonfinite": np.array(nonfinite is True or nonfinite == "nan"),
        "pass_false": np.array(nonfinite is None),
        "float32": np.array(float32),
    }
    return inputs


def _clip_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if bool(inputs["error_if_nonfinite"]):
        if not str(outputs.get("error", "")).startswith("RuntimeError"):
            got = raised(outputs) if "error" in outputs else "returned"
            return first_problem(
                f"with a gradient that is inf or NaN and error_if_nonfinite=True it {got}, "
                "expected a RuntimeError"
            )
        for i, p in enumerate(clip_params(inputs)):
            now = outputs.get(f"grad{i}")
            if p.grad is not None and (
                now is None or not np.array_equal(now, p.grad.numpy(), equal_nan=True)
            ):
                return first_problem(
                    "with error_if_nonfinite=True raise instead of clipping: the gradients must "
                    "come back unchanged"
                )
        return first_problem()
    params = clip_params(inputs)
    dtype = "float32" if bool(inputs["float32"]) else "float64"
    if all(p.grad is None for p in params):
        problem = expect_tensor(outputs, "result", (), said(outputs, "result.dtype", dtype))
        if problem is None and said(outputs, "result.dtype") not in ("float32", "float64"):
            problem = "the result is not a floating-point tensor"
        if problem is None and float(outputs["result"]) != 0.0:
            problem = "the result is not 0"
        if problem is not None:
            return first_problem(f"with no gradient at all: {problem} (expected a tensor 0.0)")
        return first_problem()
    if bool(inputs["pass_false"]):
        if "error" in outputs:
            return first_problem(
                f"with an infinite gradient and error_if_nonfinite=False it {raised(outputs)}: "
                "raise only when asked to; return the total norm, inf"
            )
        problem = expect_tensor(outputs, "result", (), dtype)
        if problem is not None and "NaN or infinite" not in problem:
            return first_problem(problem)
        if float(outputs.get("result", np.nan)) != math.inf:
            return first_problem(
                "with an infinite gradient (error_if_nonfinite=False) the total norm returned is "
                "not inf"
            )
        clip_call(ref.clip_grad_norm_, inputs, params)  # scales params' gradients
        for i, p in enumerate(params):
            now = outputs.get(f"grad{i}")
            if p.grad is not None and (
                now is None
                or not np.allclose(now, p.grad.to(torch.float64).numpy(), rtol=0, equal_nan=True)
            ):
                return first_problem(
                    "with an infinite gradient and error_if_nonfinite=False scale as always: "
                    "coef = max_norm / (inf + 1e-6) = 0, so the gradients become 0 (NaN where a "
                    "gradient is itself inf)"
                )
        return first_problem()
    problem = expect_tensor(outputs, "result", (), dtype)
    if problem is not None:
        if "result is a" in problem:
            problem += " (return the total norm before clipping, a 0-d tensor)"
        if "expected float" in problem:
            problem = problem.replace("the dtype of the inputs", "the gradients' dtype")
        return first_problem(problem)
    total = clip_call(ref.clip_grad_norm_, inputs, params)[0]
    rtol = CLIP_TOLERANCE[dtype]
    problem = compare(
        outputs["result"], total.to(torch.float64).numpy(), "the total norm returned", rtol=rtol
    )
    if problem is not None:
        problem += (
            " (the norm of all gradients together, before clipping: ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p, "
            "the largest |gᵢ| for p = ∞)"
        )
        return first_problem(problem)
    for i, p in enumerate(params):
        if p.grad is None:
            if f"grad{i}.given" in outputs:
                return first_problem("a parameter without a gradient got one: skip p.grad = None")
            continue
        problem = expect_tensor(outputs, f"grad{i}", tuple(p.grad.shape), dtype)
        if problem is None and f"grad{i}.replaced" in outputs:
            problem = (
                f"p.grad of parameter {i} was replaced by a new tensor: scale the caller's "
                "gradient in place (g.mul_(coef)), as the trailing _ of clip_grad_norm_ says"
            )
        if problem is None:
            problem = compare(
                outputs[f"grad{i}"],
                p.grad.to(torch.float64).numpy(),
                f"gradient {i} after clipping",
                rtol=rtol,
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
            seeds=tuple(range(len(_CLIP_CASES))),
            forbid=(AUTOGRAD, TORCH_OPTIM, TORCH_CLIPPING),
        ),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
