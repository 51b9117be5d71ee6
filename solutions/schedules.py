"""Homework 3 reference: learning-rate schedules (lecture 3: "LR decay, warm-up").

Each schedule is written twice, in two layers:

1. **A plain function** ``schedule(step, base_lr=1.0, **hyper_parameters) -> float``: the learning rate
   at ``step`` (0, 1, 2, …: the number of optimizer steps taken so far), in closed form. With the
   default ``base_lr=1.0`` it is the *multiplier* of the base rate, so it plugs into any optimizer
   through ``torch.optim.lr_scheduler.LambdaLR``::

       LambdaLR(opt, lambda step: cosine_annealing(step, T_max=100))

2. **A scheduler class** (a ``torch.optim.lr_scheduler.LRScheduler`` subclass) that sets each
   parameter group's ``lr`` to ``schedule(step, base_lr=that group's initial lr, …)`` — the usual
   ``scheduler.step()`` after ``optimizer.step()`` API, ``state_dict`` included. It works with the
   optimizers of :mod:`solutions.optim` and with ``torch.optim``'s alike.

    function / class                        lr at step t (b = base_lr)               torch.optim.lr_scheduler
    step_decay / StepDecay                  b · γ^⌊t / step_size⌋                    StepLR
    exponential_decay / ExponentialDecay    b · γᵗ                                   ExponentialLR
    cosine_annealing / CosineAnnealing      η + (b − η)(1 + cos(π min(t,T)/T))/2     CosineAnnealingLR, t ≤ T
    linear_warmup / LinearWarmup            b · (s + (1 − s) min(t, W)/W)            LinearLR(s, 1, W), s > 0
    warmup_cosine / WarmupCosine            warm-up while t < W, then cosine         SequentialLR(LinearLR,
                                            over t − W, T = total_steps − W          CosineAnnealingLR, [W])

Where PyTorch defines the same thing the learning rates agree to rounding (~1e-15 relative; the tests
allow 1e-13): PyTorch updates most rates recursively, lr_t from lr_{t−1}, we evaluate the closed form.
Where they differ, on purpose:

- **Warm-up may start from exactly 0** (``start_factor=0``, the default, as in most papers and in
  Hugging Face's ``get_cosine_schedule_with_warmup``). ``LinearLR`` requires ``start_factor > 0``
  (its recursive update divides by it). With 0 the first optimizer step uses lr = 0 and does nothing.
- **Cosine annealing stays at eta_min past T_max.** ``CosineAnnealingLR`` follows the cosine back up
  (the rate returns to the base rate at 2·T_max and oscillates with period 2·T_max), a surprise when a
  run is longer than planned. ``CosineAnnealingWarmRestarts`` is the way to ask for restarts.
- **Not chainable**: the classes set the rate from the closed form, so a second scheduler stacked on
  the same optimizer is overwritten (as with ``LambdaLR``); compose by writing one function.
"""

from __future__ import annotations

import math
import numbers

from torch.optim.lr_scheduler import LRScheduler

__all__ = [
    "CosineAnnealing",
    "ExponentialDecay",
    "LinearWarmup",
    "StepDecay",
    "WarmupCosine",
    "cosine_annealing",
    "exponential_decay",
    "linear_warmup",
    "step_decay",
    "warmup_cosine",
]


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _number(value, name: str, *, low: float = 0.0, high: float = math.inf, positive=False) -> float:
    """A finite real in [low, high] (in (low, high] when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    ok = (low < v if positive else low <= v) and v <= high and math.isfinite(v)
    if not ok:
        lo = "(" if positive else "["
        raise ValueError(f"{name} must be a finite number in {lo}{low:g}, {high:g}], got {value!r}")
    return v


# --------------------------------------------------------------------------------------------------
# The schedules as functions of the step
# --------------------------------------------------------------------------------------------------


def step_decay(step: int, base_lr: float = 1.0, *, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: multiply the rate by ``gamma`` every ``step_size`` steps.

    ``lr(t) = base_lr · gamma^⌊t / step_size⌋``. ``torch.optim.lr_scheduler.StepLR``.
    """
    step = _integer(step, "step", 0)
    step_size = _integer(step_size, "step_size", 1)
    gamma = _number(gamma, "gamma", positive=True)
    return base_lr * gamma ** (step // step_size)


def exponential_decay(step: int, base_lr: float = 1.0, *, gamma: float) -> float:
    """Exponential decay: ``lr(t) = base_lr · gammaᵗ``. ``torch.optim.lr_scheduler.ExponentialLR``.

    ``gamma > 1`` makes the rate grow, as in a learning-rate range test.
    """
    step = _integer(step, "step", 0)
    gamma = _number(gamma, "gamma", positive=True)
    return base_lr * gamma**step


def cosine_annealing(step: int, base_lr: float = 1.0, *, T_max: int, eta_min: float = 0.0) -> float:
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` steps, then constant.

    ``lr(t) = eta_min + (base_lr − eta_min) · (1 + cos(π · min(t, T_max) / T_max)) / 2``.

    Equals ``torch.optim.lr_scheduler.CosineAnnealingLR`` for t ≤ T_max. Past T_max PyTorch's rate
    rises again along the cosine; this one stays at ``eta_min``. ``eta_min`` is an absolute rate (as in
    PyTorch); in multiplier form (``base_lr=1``) it is a fraction of the base rate.
    """
    step = _integer(step, "step", 0)
    T_max = _integer(T_max, "T_max", 1)
    eta_min = _number(eta_min, "eta_min")
    t = min(step, T_max)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def linear_warmup(
    step: int, base_lr: float = 1.0, *, warmup_steps: int, start_factor: float = 0.0
) -> float:
    """Linear warm-up from ``start_factor · base_lr`` to ``base_lr`` over ``warmup_steps``, then flat.

    ``lr(t) = base_lr · (s + (1 − s) · min(t, W) / W)`` with s = ``start_factor``, W = ``warmup_steps``;
    ``warmup_steps=0`` means no warm-up.

    Equals ``torch.optim.lr_scheduler.LinearLR(start_factor=s, end_factor=1.0, total_iters=W)`` for
    0 < s ≤ 1. ``start_factor=0`` (the default) is allowed here — the first step then has lr = 0 —
    where ``LinearLR`` refuses it.
    """
    step = _integer(step, "step", 0)
    warmup_steps = _integer(warmup_steps, "warmup_steps", 0)
    start_factor = _number(start_factor, "start_factor", high=1.0)
    if warmup_steps == 0:
        return base_lr
    return base_lr * (start_factor + (1 - start_factor) * min(step, warmup_steps) / warmup_steps)


def warmup_cosine(
    step: int,
    base_lr: float = 1.0,
    *,
    warmup_steps: int,
    total_steps: int,
    eta_min: float = 0.0,
    start_factor: float = 0.0,
) -> float:
    """Linear warm-up for ``warmup_steps``, then cosine annealing to ``eta_min`` at ``total_steps``.

    ::

        lr(t) = linear_warmup(t, base_lr, warmup_steps, start_factor)          if t < W
              = cosine_annealing(t − W, base_lr, T_max=total_steps − W, eta_min)  if t ≥ W

    The rate reaches ``base_lr`` at t = W, ``eta_min`` at t = ``total_steps`` and stays there.
    Equals ``SequentialLR(opt, [LinearLR(opt, s, 1.0, W), CosineAnnealingLR(opt, total_steps − W,
    eta_min)], milestones=[W])`` for t ≤ total_steps when s > 0. Needs ``total_steps > warmup_steps``.
    """
    step = _integer(step, "step", 0)
    warmup_steps = _integer(warmup_steps, "warmup_steps", 0)
    total_steps = _integer(total_steps, "total_steps", warmup_steps + 1)
    if step < warmup_steps:
        return linear_warmup(step, base_lr, warmup_steps=warmup_steps, start_factor=start_factor)
    return cosine_annealing(
        step - warmup_steps, base_lr, T_max=total_steps - warmup_steps, eta_min=eta_min
    )


# --------------------------------------------------------------------------------------------------
# The same schedules as LRScheduler classes
# --------------------------------------------------------------------------------------------------


class _ClosedForm(LRScheduler):
    """An LRScheduler whose rate at step t is ``schedule(t, base_lr, **hyper)`` for each group.

    ``schedule`` is one of the functions above and ``hyper`` its hyper-parameters (checked by the
    subclass). ``base_lr`` is the group's ``initial_lr`` (its ``lr`` when the scheduler was made).
    ``last_epoch`` counts the ``scheduler.step()`` calls, i.e. the optimizer steps taken; at
    construction it becomes 0 and the groups get ``schedule(0, …)``.
    """

    def __init__(self, optimizer, schedule, last_epoch: int = -1, **hyper):
        self.schedule = schedule
        self.hyper = hyper
        for name, value in hyper.items():  # scheduler.T_max etc., as on torch's schedulers
            setattr(self, name, value)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, step: int, base_lr: float) -> float:
        """The learning rate of a group whose base rate is ``base_lr``, after ``step`` steps."""
        return self.schedule(step, base_lr, **self.hyper)

    def get_lr(self) -> list[float]:
        return [self.lr_at(self.last_epoch, base_lr) for base_lr in self.base_lrs]

    _get_closed_form_lr = get_lr  # what LRScheduler.step(epoch) and SequentialLR use


class StepDecay(_ClosedForm):
    """:func:`step_decay` as a scheduler; ``torch.optim.lr_scheduler.StepLR``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        super().__init__(
            optimizer,
            step_decay,
            last_epoch,
            step_size=_integer(step_size, "step_size", 1),
            gamma=_number(gamma, "gamma", positive=True),
        )


class ExponentialDecay(_ClosedForm):
    """:func:`exponential_decay` as a scheduler; ``torch.optim.lr_scheduler.ExponentialLR``."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        super().__init__(
            optimizer, exponential_decay, last_epoch, gamma=_number(gamma, "gamma", positive=True)
        )


class CosineAnnealing(_ClosedForm):
    """:func:`cosine_annealing` as a scheduler; ``CosineAnnealingLR`` up to ``T_max``, then flat at
    ``eta_min`` (PyTorch's rises again). ``eta_min`` is absolute, the same for every group."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        super().__init__(
            optimizer,
            cosine_annealing,
            last_epoch,
            T_max=_integer(T_max, "T_max", 1),
            eta_min=_number(eta_min, "eta_min"),
        )


class LinearWarmup(_ClosedForm):
    """:func:`linear_warmup` as a scheduler; ``LinearLR(start_factor, 1.0, warmup_steps)``, except
    that ``start_factor=0`` (the default) is allowed."""

    def __init__(
        self, optimizer, warmup_steps: int, start_factor: float = 0.0, last_epoch: int = -1
    ):
        super().__init__(
            optimizer,
            linear_warmup,
            last_epoch,
            warmup_steps=_integer(warmup_steps, "warmup_steps", 0),
            start_factor=_number(start_factor, "start_factor", high=1.0),
        )


class WarmupCosine(_ClosedForm):
    """:func:`warmup_cosine` as a scheduler; ``SequentialLR`` of ``LinearLR`` and
    ``CosineAnnealingLR`` with the milestone at ``warmup_steps``, flat at ``eta_min`` after
    ``total_steps``, and ``start_factor=0`` allowed."""

    def __init__(
        self,
        optimizer,
        warmup_steps: int,
        total_steps: int,
        eta_min: float = 0.0,
        start_factor: float = 0.0,
        last_epoch: int = -1,
    ):
        warmup_steps = _integer(warmup_steps, "warmup_steps", 0)
        super().__init__(
            optimizer,
            warmup_cosine,
            last_epoch,
            warmup_steps=warmup_steps,
            total_steps=_integer(total_steps, "total_steps", warmup_steps + 1),
            eta_min=_number(eta_min, "eta_min"),
            start_factor=_number(start_factor, "start_factor", high=1.0),
        )
