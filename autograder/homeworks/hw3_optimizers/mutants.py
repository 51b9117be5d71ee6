"""Plausible wrong answers to homework 3, task by task: every one must fail its task's check.

The optimizer mutants subclass the reference and override ``_update`` only, as a student writes only
that method (the constructor, the hyper-parameter checks and the provided ``_Zoo`` step loop are
given). Two mutants per family stand for forbidden shortcuts: one subclasses ``torch.optim``'s own
optimizer, one hands the update to ``torch.optim`` inside the method; and one uses autograd.

The contract classes: a hyper-parameter hard-coded to its default (:func:`_ignores`, one per
hyper-parameter), hyper-parameters read from the defaults or from the first group instead of the
parameter's own group, a decayed rate written into the group, a state that holds ``p.grad`` itself,
a step count per group or optimizer instead of per parameter, a float32 parameter turned float64, an
error in the elements where ε matters only; for clipping, ``p.grad`` replaced instead of scaled in
place, a RuntimeError without ``error_if_nonfinite``, a crash without any gradient, a float64 norm
for float32 gradients; for the schedules, ``base_lr`` or ``gamma`` ignored, float32 arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from solutions import optim as ref
from solutions import schedules as ref_schedules

__all__ = ["MUTANTS"]


# --- SGD -------------------------------------------------------------------------------------------


class sgd_lecture_momentum(ref.SGD):
    """The lecture's v ← βv − αg; θ ← θ + v: PyTorch's trajectory only while the lr is constant."""

    def _update(self, p, grad, group):
        lr, momentum = group["lr"], group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        if momentum == 0:
            p.add_(grad, alpha=-lr)
            return
        state = self.state[p]
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p)
        v = state["velocity"]
        v.mul_(momentum).add_(grad, alpha=-lr * (1 - group["dampening"]))
        p.add_(v)


class sgd_dampening_at_first_step(ref.SGD):
    """b starts at 0 and b ← μb + (1 − τ)g from the first step on: b₁ = (1 − τ)g₁."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(p)
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class sgd_nesterov_old_buffer(ref.SGD):
    """Nesterov with the buffer of the previous step: g + μb_{t−1} instead of g + μb_t."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            old = state.get("momentum_buffer")
            old = torch.zeros_like(p) if old is None else old.clone()
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone()
            else:
                state["momentum_buffer"].mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(old, alpha=momentum) if group["nesterov"] else state["momentum_buffer"]
        p.add_(grad, alpha=-group["lr"])


class sgd_nesterov_ignored(ref.SGD):
    def _update(self, p, grad, group):
        super()._update(p, grad, {**group, "nesterov": False})


class sgd_weight_decay_after_momentum(ref.SGD):
    """The buffer sees only the raw gradient; λθ is added to the step afterwards."""

    def _update(self, p, grad, group):
        decay = p.mul(group["weight_decay"])
        super()._update(p, grad, {**group, "weight_decay": 0.0})
        p.add_(decay, alpha=-group["lr"])


class sgd_weight_decay_in_place(ref.SGD):
    """g ← g + λθ written into p.grad itself."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad.add_(p, alpha=group["weight_decay"])
        super()._update(p, grad, {**group, "weight_decay": 0.0})


class sgd_float32_buffer(ref.SGD):
    def _update(self, p, grad, group):
        state = self.state[p]
        if group["momentum"] != 0 and "momentum_buffer" not in state:
            if group["weight_decay"] != 0:
                grad = grad.add(p, alpha=group["weight_decay"])
            state["momentum_buffer"] = grad.to(torch.float32)
            step = grad.add(state["momentum_buffer"], alpha=group["momentum"])
            p.add_(step if group["nesterov"] else state["momentum_buffer"], alpha=-group["lr"])
            return
        super()._update(p, grad, group)


class sgd_not_in_place(ref.SGD):
    """p = p − γg rebinds a local name: the parameters never move."""

    def _update(self, p, grad, group):
        p = p - group["lr"] * grad


class sgd_subclasses_torch(torch.optim.SGD):
    """Hands the whole update to torch.optim.SGD."""


class sgd_autograd_weight_decay(ref.SGD):
    """The weight-decay term λθ as the gradient of λ/2 ‖θ‖², by autograd."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            with torch.enable_grad():
                theta = p.detach().clone().requires_grad_(True)
                penalty = 0.5 * group["weight_decay"] * (theta * theta).sum()
                (decay,) = torch.autograd.grad(penalty, theta)
            grad = grad + decay
        super()._update(p, grad, {**group, "weight_decay": 0.0})


# --- Adagrad ---------------------------------------------------------------------------------------


def _adagrad(self, p, grad, group, *, square=True, eps_inside=False, decay_t=-1, sqrt=True):
    state = self.state[p]
    state["step"] += 1
    t = state["step"].item()
    if group["weight_decay"] != 0:
        grad = grad.add(p, alpha=group["weight_decay"])
    clr = group["lr"] / (1 + (t + decay_t) * group["lr_decay"])
    state_sum = state["sum"]
    state_sum.add_(grad * grad if square else grad)
    if eps_inside:
        std = state_sum.add(group["eps"]).sqrt()
    else:
        std = (state_sum.sqrt() if sqrt else state_sum.clone()).add_(group["eps"])
    p.addcdiv_(grad, std, value=-clr)


class adagrad_sum_of_gradients(ref.Adagrad):
    def _update(self, p, grad, group):
        _adagrad(self, p, grad, group, square=False)


class adagrad_eps_inside_root(ref.Adagrad):
    def _update(self, p, grad, group):
        _adagrad(self, p, grad, group, eps_inside=True)


class adagrad_lr_decay_off_by_one(ref.Adagrad):
    """γ / (1 + tη): the first step is already decayed."""

    def _update(self, p, grad, group):
        _adagrad(self, p, grad, group, decay_t=0)


class adagrad_no_square_root(ref.Adagrad):
    def _update(self, p, grad, group):
        _adagrad(self, p, grad, group, sqrt=False)


class adagrad_ignores_initial_value(ref.Adagrad):
    def _update(self, p, grad, group):
        state = self.state[p]
        if state["step"].item() == 0:
            state["sum"].zero_()
        _adagrad(self, p, grad, group)


class adagrad_weight_decay_not_accumulated(ref.Adagrad):
    """The sum of squares sees the raw gradient; λθ only enters the step."""

    def _update(self, p, grad, group):
        state = self.state[p]
        state["step"] += 1
        t = state["step"].item()
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        state["sum"].addcmul_(grad, grad)
        step = grad.add(p, alpha=group["weight_decay"])
        p.addcdiv_(step, state["sum"].sqrt().add_(group["eps"]), value=-clr)


class adagrad_float32_sum(ref.Adagrad):
    def _update(self, p, grad, group):
        state = self.state[p]
        state["sum"] = state["sum"].to(torch.float32)
        _adagrad(self, p, grad, group)


# --- RMSprop ---------------------------------------------------------------------------------------


def _rmsprop(
    self,
    p,
    grad,
    group,
    *,
    swap=False,
    eps_inside=False,
    centered_sign=-1.0,
    raw_buf=False,
    decay_in_v=True,
):
    state = self.state[p]
    alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
    if len(state) == 0:
        state["step"] = torch.tensor(0.0)
        state["square_avg"] = torch.zeros_like(p)
        state["momentum_buffer"] = torch.zeros_like(p)
        state["grad_avg"] = torch.zeros_like(p)
    state["step"] += 1
    raw = grad
    if group["weight_decay"] != 0:
        grad = grad.add(p, alpha=group["weight_decay"])
    squared = grad if decay_in_v else raw
    keep, new = (1 - alpha, alpha) if swap else (alpha, 1 - alpha)
    square_avg = state["square_avg"]
    square_avg.mul_(keep).addcmul_(squared, squared, value=new)
    v = square_avg
    if group["centered"]:
        grad_avg = state["grad_avg"]
        grad_avg.mul_(keep).add_(grad, alpha=new)
        v = square_avg.addcmul(grad_avg, grad_avg, value=centered_sign)
    avg = v.add(eps).sqrt() if eps_inside else v.sqrt().add(eps)
    if momentum > 0:
        buf = state["momentum_buffer"]
        if raw_buf:
            buf.mul_(momentum).add_(grad)
            p.addcdiv_(buf, avg, value=-group["lr"])
        else:
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-group["lr"])
    else:
        p.addcdiv_(grad, avg, value=-group["lr"])


class rmsprop_alpha_swapped(ref.RMSprop):
    """v ← (1 − α)v + αg²: α weighs the new square instead of the old average."""

    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, group, swap=True)


class rmsprop_eps_inside_root(ref.RMSprop):
    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, group, eps_inside=True)


class rmsprop_centered_ignored(ref.RMSprop):
    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, {**group, "centered": False})


class rmsprop_centered_plus(ref.RMSprop):
    """√(v + g_ave²) instead of √(v − g_ave²)."""

    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, group, centered_sign=1.0)


class rmsprop_momentum_on_raw_gradient(ref.RMSprop):
    """b ← μb + g, then θ ← θ − γ b / (√v + ε): the buffer should hold scaled gradients."""

    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, group, raw_buf=True)


class rmsprop_weight_decay_not_squared(ref.RMSprop):
    """v sees the raw gradient; λθ only enters the numerator."""

    def _update(self, p, grad, group):
        _rmsprop(self, p, grad, group, decay_in_v=False)


class rmsprop_float32_state(ref.RMSprop):
    def _update(self, p, grad, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = torch.tensor(0.0)
            for key in ("square_avg", "momentum_buffer", "grad_avg"):
                state[key] = torch.zeros(p.shape, dtype=torch.float32)
        _rmsprop(self, p, grad, group)


# --- Adam ------------------------------------------------------------------------------------------


def _adam(
    self,
    p,
    grad,
    group,
    *,
    correct=True,
    eps_inside=False,
    t_shift=0,
    ams_corrected=False,
    decay_after=False,
    t=None,
    dtype=None,
):
    state = self.state[p]
    lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
    beta1, beta2 = group["betas"]
    if len(state) == 0:
        state["step"] = torch.tensor(0.0)
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            state[key] = torch.zeros(p.shape, dtype=dtype or p.dtype)
    state["step"] += 1
    t = state["step"].item() if t is None else t
    t += t_shift
    m, v = state["exp_avg"], state["exp_avg_sq"]
    decoupled = weight_decay != 0 and group["decoupled_weight_decay"]
    if weight_decay != 0 and not decoupled:
        grad = grad.add(p, alpha=weight_decay)
    if decoupled and not decay_after:
        p.mul_(1 - lr * weight_decay)
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    c1, c2 = (1 - beta1**t, 1 - beta2**t) if correct else (1.0, 1.0)
    v_hat = v / c2
    if group["amsgrad"]:
        vmax = state["max_exp_avg_sq"]
        if ams_corrected:  # the maximum of the corrected v̂ (not of v)
            torch.maximum(vmax, v_hat, out=vmax)
            v_hat = vmax.clone()
        else:
            torch.maximum(vmax, v, out=vmax)
            v_hat = vmax / c2
    denom = v_hat.add(eps).sqrt() if eps_inside else v_hat.sqrt().add(eps)
    step = (m / c1) / denom
    if decoupled and decay_after:
        p.sub_(step, alpha=lr).mul_(1 - lr * weight_decay)
    else:
        p.sub_(step, alpha=lr)


class adam_no_bias_correction(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, group, correct=False)


class adam_eps_inside_root(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, group, eps_inside=True)


class adam_bias_correction_off_by_one(ref.Adam):
    """1 − βᵗ⁺¹: t counted from 0 in the correction."""

    def _update(self, p, grad, group):
        _adam(self, p, grad, group, t_shift=1)


class adam_amsgrad_ignored(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, {**group, "amsgrad": False})


class adam_amsgrad_on_corrected(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, group, ams_corrected=True)


class adam_decoupled_decay_after_step(ref.Adam):
    """(1 − γλ)(θ − step): the decay shrinks the Adam step too."""

    def _update(self, p, grad, group):
        _adam(self, p, grad, group, decay_after=True)


class adam_l2_always_decoupled(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, {**group, "decoupled_weight_decay": True})


class adam_global_step(ref.Adam):
    """One step counter for the optimizer, incremented for every parameter it updates."""

    def _update(self, p, grad, group):
        self.__dict__["_t"] = self.__dict__.get("_t", 0) + 1
        _adam(self, p, grad, group, t=self.__dict__["_t"])


class adam_float32_state(ref.Adam):
    def _update(self, p, grad, group):
        _adam(self, p, grad, group, dtype=torch.float32)


class adam_subclasses_torch(torch.optim.Adam):
    pass


class adam_delegates_to_torch(ref.Adam):
    """Builds a torch.optim.Adam per parameter, inside _update, and steps it."""

    def _update(self, p, grad, group):
        state = self.state[p]
        if "inner" not in state:
            hyper = {k: v for k, v in group.items() if k != "params"}
            state["inner"] = torch.optim.Adam([p], **hyper, foreach=False)
        inner = state["inner"]
        inner.param_groups[0]["lr"] = group["lr"]
        inner.step()


# --- every optimizer: the contracts --------------------------------------------------------------


def _ignores(cls: type, name: str, **defaults) -> type:
    """A mutant of ``cls`` that hard-codes the hyper-parameters ``defaults`` (their defaults)."""

    def _update(self, p, grad, group):
        cls._update(self, p, grad, {**group, **defaults})

    return type(name, (cls,), {"_update": _update, "__doc__": f"Hard-codes {defaults}."})


sgd_ignores_lr = _ignores(ref.SGD, "sgd_ignores_lr", lr=1e-3)
sgd_ignores_momentum = _ignores(ref.SGD, "sgd_ignores_momentum", momentum=0.0, nesterov=False)
sgd_ignores_dampening = _ignores(ref.SGD, "sgd_ignores_dampening", dampening=0.0)
sgd_ignores_weight_decay = _ignores(ref.SGD, "sgd_ignores_weight_decay", weight_decay=0.0)
adagrad_ignores_lr = _ignores(ref.Adagrad, "adagrad_ignores_lr", lr=1e-2)
adagrad_ignores_lr_decay = _ignores(ref.Adagrad, "adagrad_ignores_lr_decay", lr_decay=0.0)
adagrad_ignores_weight_decay = _ignores(
    ref.Adagrad, "adagrad_ignores_weight_decay", weight_decay=0.0
)
adagrad_ignores_eps = _ignores(ref.Adagrad, "adagrad_ignores_eps", eps=1e-10)
rmsprop_ignores_lr = _ignores(ref.RMSprop, "rmsprop_ignores_lr", lr=1e-2)
rmsprop_ignores_alpha = _ignores(ref.RMSprop, "rmsprop_ignores_alpha", alpha=0.99)
rmsprop_ignores_eps = _ignores(ref.RMSprop, "rmsprop_ignores_eps", eps=1e-8)
rmsprop_ignores_weight_decay = _ignores(
    ref.RMSprop, "rmsprop_ignores_weight_decay", weight_decay=0.0
)
rmsprop_ignores_momentum = _ignores(ref.RMSprop, "rmsprop_ignores_momentum", momentum=0.0)
adam_ignores_lr = _ignores(ref.Adam, "adam_ignores_lr", lr=1e-3)
adam_ignores_beta1 = type(
    "adam_ignores_beta1",
    (ref.Adam,),
    {
        "_update": lambda self, p, g, group: ref.Adam._update(
            self, p, g, {**group, "betas": (0.9, group["betas"][1])}
        )
    },
)
adam_ignores_beta2 = type(
    "adam_ignores_beta2",
    (ref.Adam,),
    {
        "_update": lambda self, p, g, group: ref.Adam._update(
            self, p, g, {**group, "betas": (group["betas"][0], 0.999)}
        )
    },
)
adam_ignores_eps = _ignores(ref.Adam, "adam_ignores_eps", eps=1e-8)
adam_ignores_weight_decay = _ignores(ref.Adam, "adam_ignores_weight_decay", weight_decay=0.0)


class sgd_reads_defaults(ref.SGD):
    """The hyper-parameters (but the lr) read from self.defaults, not from the parameter's group."""

    def _update(self, p, grad, group):
        super()._update(p, grad, {**self.defaults, "lr": group["lr"]})


class adagrad_first_group(ref.Adagrad):
    """Every parameter stepped with the first group's hyper-parameters."""

    def _update(self, p, grad, group):
        super()._update(p, grad, {**self.param_groups[0], "params": group["params"]})


class rmsprop_reads_defaults(ref.RMSprop):
    def _update(self, p, grad, group):
        super()._update(p, grad, {**self.defaults, "lr": group["lr"]})


class adam_first_group(ref.Adam):
    def _update(self, p, grad, group):
        super()._update(p, grad, {**self.param_groups[0], "params": group["params"]})


class adagrad_decays_group_lr(ref.Adagrad):
    """The decayed rate written into group["lr"]: the next parameter of the group decays it again."""

    def _update(self, p, grad, group):
        state = self.state[p]
        t = state["step"].item() + 1
        group["lr"] = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        super()._update(p, grad, {**group, "lr_decay": 0.0})


class sgd_buffer_is_grad(ref.SGD):
    """b₁ = g₁ without a copy: the buffer is p.grad, and b ← μb + g then writes into it."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad
            else:
                state["momentum_buffer"].mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            buf = state["momentum_buffer"]
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


class sgd_buffer_is_grad_out_of_place(ref.SGD):
    """b₁ = g₁ without a copy, then b ← μb + g out of place: right until the caller overwrites p.grad
    in place between steps (zero_grad(set_to_none=False)), which changes b₁ with it."""

    def _update(self, p, grad, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = grad
            else:
                buf = momentum * buf + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.sub_(group["lr"] * grad)


class adam_group_step_counter(ref.Adam):
    """t counted per group (when its first parameter is updated), not per parameter."""

    def _update(self, p, grad, group):
        if p is group["params"][0] or "t" not in group:
            group["t"] = group.get("t", 0) + 1
        _adam(self, p, grad, group, t=group["t"])


class adam_clamped_denominator(ref.Adam):
    """max(√v̂, ε) instead of √v̂ + ε: wrong only in the elements where √v̂ is close to ε."""

    def _update(self, p, grad, group):
        state = self.state[p]
        beta1, beta2 = group["betas"]
        if len(state) == 0:
            state["step"] = 0
            state["m"], state["v"], state["v_max"] = (torch.zeros_like(p) for _ in range(3))
        state["step"] += 1
        t, lr, wd = state["step"], group["lr"], group["weight_decay"]
        if wd and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd:
            grad = grad + wd * p
        m = state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        v = state["v"] = beta2 * state["v"] + (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = state["v_max"] = torch.maximum(state["v_max"], v)
        root = (v / (1 - beta2**t)).sqrt()
        p.sub_(lr * (m / (1 - beta1**t)) / torch.clamp(root, min=group["eps"]))


class sgd_upcasts_param(ref.SGD):
    """p.data replaced by a float64 copy to compute in float64: a float32 parameter turns float64."""

    def _update(self, p, grad, group):
        p.data = p.data.double()
        super()._update(p, grad.double(), group)


class adam_upcasts_param(ref.Adam):
    def _update(self, p, grad, group):
        p.data = p.data.to(torch.float64)
        super()._update(p, grad.to(torch.float64), group)


# --- schedules -------------------------------------------------------------------------------------


def sd_round(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * gamma ** round(step / step_size)


def sd_continuous(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * gamma ** (step / step_size)


def sd_off_by_one(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * gamma ** ((step + 1) // step_size)


def sd_ceil(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * gamma ** math.ceil(step / step_size)


def sd_multiplier_only(step, base_lr=1.0, *, step_size, gamma=0.1):
    return gamma ** (step // step_size)


def sd_tensor(step, base_lr=1.0, *, step_size, gamma=0.1):
    return torch.tensor(ref_schedules.step_decay(step, base_lr, step_size=step_size, gamma=gamma))


def lw_off_by_one(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return base_lr
    fraction = min(step + 1, warmup_steps) / warmup_steps
    return base_lr * (start_factor + (1 - start_factor) * fraction)


def lw_ignores_start_factor(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return base_lr
    return base_lr * min(step, warmup_steps) / warmup_steps


def lw_keeps_growing(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return base_lr
    return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)


def lw_no_zero_warmup(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    return base_lr * (start_factor + (1 - start_factor) * min(step, warmup_steps) / warmup_steps)


def lw_missing_one_minus_s(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return base_lr
    return base_lr * min(start_factor + step / warmup_steps, 1.0)


def ca_no_eta_min(step, base_lr=1.0, *, T_max, eta_min=0.0):
    return base_lr * (1 + math.cos(math.pi * min(step, T_max) / T_max)) / 2


def ca_rises_after_t_max(step, base_lr=1.0, *, T_max, eta_min=0.0):
    """CosineAnnealingLR's closed form: past T_max the rate climbs back along the cosine."""
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def ca_relative_eta_min(step, base_lr=1.0, *, T_max, eta_min=0.0):
    low = eta_min * base_lr
    return low + (base_lr - low) * (1 + math.cos(math.pi * min(step, T_max) / T_max)) / 2


def ca_off_by_one(step, base_lr=1.0, *, T_max, eta_min=0.0):
    t = min(step + 1, T_max)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def ca_linear(step, base_lr=1.0, *, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 - min(step, T_max) / T_max)


def sd_default_gamma(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * 0.1 ** (step // step_size)


def lw_multiplier_only(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return 1.0
    return start_factor + (1 - start_factor) * min(step, warmup_steps) / warmup_steps


def ca_multiplier_only(step, base_lr=1.0, *, T_max, eta_min=0.0):
    return eta_min + (1 - eta_min) * (1 + math.cos(math.pi * min(step, T_max) / T_max)) / 2


def ca_float32(step, base_lr=1.0, *, T_max, eta_min=0.0):
    """The same formula in float32: errors of 1e-8, past the tolerance."""
    t = torch.tensor(min(step, T_max), dtype=torch.float32)
    rate = eta_min + (base_lr - eta_min) * (1 + torch.cos(torch.pi * t / T_max)) / 2
    return float(rate)


def lw_float32(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return base_lr
    fraction = np.float32(min(step, warmup_steps)) / np.float32(warmup_steps)
    return float(np.float32(base_lr) * (np.float32(start_factor) + (1 - start_factor) * fraction))


# --- clip_grad_norm_ -------------------------------------------------------------------------------


def _grads(parameters):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total(grads, norm_type):
    return torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type
    )


def _clip(parameters, max_norm, norm_type, error_if_nonfinite, *, finite=torch.isfinite,
          scale_first=False, skip_nonfinite=False, branch=False):  # fmt: skip
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _total(grads, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    if branch and total <= max_norm:
        coef = torch.ones_like(coef)
    if scale_first:
        for g in grads:
            g.mul_(coef)
    if error_if_nonfinite and not bool(finite(total)):
        raise RuntimeError("the total norm is not finite")
    if skip_nonfinite and not bool(torch.isfinite(total)):
        return total
    if not scale_first:
        for g in grads:
            g.mul_(coef)
    return total


def clip_raises_on_inf_only(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Raises for an infinite total, but a NaN one goes through."""
    return _clip(
        parameters, max_norm, norm_type, error_if_nonfinite, finite=lambda t: ~torch.isinf(t)
    )


def clip_scales_then_raises(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales the gradients first, then raises: the caller's gradients are already changed."""
    return _clip(parameters, max_norm, norm_type, error_if_nonfinite, scale_first=True)


def clip_leaves_nonfinite_alone(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """An infinite total returns early: nothing scaled (coef = 0 would zero the gradients)."""
    return _clip(parameters, max_norm, norm_type, error_if_nonfinite, skip_nonfinite=True)


def clip_only_above_max_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """if total > max_norm: scale. Just below max_norm, min(c / (total + 1e-6), 1) is still < 1."""
    return _clip(parameters, max_norm, norm_type, error_if_nonfinite, branch=True)


def clip_by_value(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    grads = _grads(parameters)
    total = _total(grads, norm_type)
    for g in grads:
        g.clamp_(-max_norm, max_norm)
    return total


def clip_returns_nothing(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    ref.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_per_tensor(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    grads = _grads(parameters)
    total = _total(grads, norm_type)
    for g in grads:
        g.mul_(torch.clamp(max_norm / (torch.linalg.vector_norm(g, norm_type) + 1e-6), max=1.0))
    return total


def clip_lecture_rule(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """if ‖g‖ ≥ c then g ← c·g/‖g‖: no 1e-6."""
    grads = _grads(parameters)
    total = _total(grads, norm_type)
    if total >= max_norm:
        for g in grads:
            g.mul_(max_norm / total)
    return total


def clip_returns_clipped_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    ref.clip_grad_norm_(params, max_norm, norm_type, error_if_nonfinite)
    return _total(_grads(params), norm_type)


def clip_always_two_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    return ref.clip_grad_norm_(parameters, max_norm, 2.0, error_if_nonfinite)


def clip_max_without_abs(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    grads = _grads(parameters)
    if math.isinf(norm_type):
        total = torch.stack([g.max() for g in grads]).max()
    else:
        total = _total(grads, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def clip_not_in_place(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    grads = _grads(parameters)
    total = _total(grads, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g = g * coef  # rebinds the name: the gradient is unchanged
    return total


def clip_crashes_without_grad(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    parameters = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in parameters]
    total = _total(grads, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def clip_delegates_to_torch(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_ignores_nonfinite(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    return ref.clip_grad_norm_(parameters, max_norm, norm_type)


def clip_rebinds_grad(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """p.grad = coef · p.grad: the right numbers in a new tensor; the caller's gradient is unchanged."""
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = _total(grads, norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError("non-finite")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad = p.grad * coef
    return total


def clip_raises_without_flag(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Raises on a non-finite norm whatever error_if_nonfinite says."""
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    total = _total(_grads(params), norm_type)
    if not torch.isfinite(total):
        raise RuntimeError("the total norm is not finite")
    return ref.clip_grad_norm_(params, max_norm, norm_type)


def clip_crashes_without_any_grad(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """torch.stack of no norms at all raises."""
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    total = _total(_grads(params), norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError("non-finite")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in _grads(params):
        g.mul_(coef)
    return total


def clip_float64_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """The norm computed and returned in float64, whatever the gradients' dtype."""
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = _grads(params)
    if not grads:
        return torch.tensor(0.0)
    total = _total([g.double() for g in grads], norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError("non-finite")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def clip_ignores_max_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """max_norm hard-coded to 1."""
    return ref.clip_grad_norm_(parameters, 1.0, norm_type, error_if_nonfinite)


def clip_default_norm_inf(parameters, max_norm, norm_type=math.inf, error_if_nonfinite=False):
    """The default norm_type changed to ∞ (the signature says 2)."""
    return ref.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


MUTANTS = {
    "SGD": [
        sgd_lecture_momentum,
        sgd_dampening_at_first_step,
        sgd_nesterov_old_buffer,
        sgd_nesterov_ignored,
        sgd_weight_decay_after_momentum,
        sgd_weight_decay_in_place,
        sgd_float32_buffer,
        sgd_not_in_place,
        sgd_subclasses_torch,
        sgd_autograd_weight_decay,
        sgd_ignores_lr,
        sgd_ignores_momentum,
        sgd_ignores_dampening,
        sgd_ignores_weight_decay,
        sgd_reads_defaults,
        sgd_buffer_is_grad,
        sgd_buffer_is_grad_out_of_place,
        sgd_upcasts_param,
    ],
    "Adagrad": [
        adagrad_sum_of_gradients,
        adagrad_eps_inside_root,
        adagrad_lr_decay_off_by_one,
        adagrad_no_square_root,
        adagrad_ignores_initial_value,
        adagrad_weight_decay_not_accumulated,
        adagrad_float32_sum,
        adagrad_ignores_lr,
        adagrad_ignores_lr_decay,
        adagrad_ignores_weight_decay,
        adagrad_ignores_eps,
        adagrad_first_group,
        adagrad_decays_group_lr,
    ],
    "RMSprop": [
        rmsprop_alpha_swapped,
        rmsprop_eps_inside_root,
        rmsprop_centered_ignored,
        rmsprop_centered_plus,
        rmsprop_momentum_on_raw_gradient,
        rmsprop_weight_decay_not_squared,
        rmsprop_float32_state,
        rmsprop_ignores_lr,
        rmsprop_ignores_alpha,
        rmsprop_ignores_eps,
        rmsprop_ignores_weight_decay,
        rmsprop_ignores_momentum,
        rmsprop_reads_defaults,
    ],
    "Adam": [
        adam_no_bias_correction,
        adam_eps_inside_root,
        adam_bias_correction_off_by_one,
        adam_amsgrad_ignored,
        adam_amsgrad_on_corrected,
        adam_decoupled_decay_after_step,
        adam_l2_always_decoupled,
        adam_global_step,
        adam_float32_state,
        adam_subclasses_torch,
        adam_delegates_to_torch,
        adam_ignores_lr,
        adam_ignores_beta1,
        adam_ignores_beta2,
        adam_ignores_eps,
        adam_ignores_weight_decay,
        adam_first_group,
        adam_group_step_counter,
        adam_clamped_denominator,
        adam_upcasts_param,
    ],
    "step_decay": [
        sd_round,
        sd_continuous,
        sd_off_by_one,
        sd_ceil,
        sd_multiplier_only,
        sd_tensor,
        sd_default_gamma,
    ],
    "linear_warmup": [
        lw_off_by_one,
        lw_ignores_start_factor,
        lw_keeps_growing,
        lw_no_zero_warmup,
        lw_missing_one_minus_s,
        lw_multiplier_only,
        lw_float32,
    ],
    "cosine_annealing": [
        ca_no_eta_min,
        ca_rises_after_t_max,
        ca_relative_eta_min,
        ca_off_by_one,
        ca_linear,
        ca_multiplier_only,
        ca_float32,
    ],
    "clip_grad_norm_": [
        clip_raises_on_inf_only,
        clip_scales_then_raises,
        clip_leaves_nonfinite_alone,
        clip_only_above_max_norm,
        clip_by_value,
        clip_returns_nothing,
        clip_per_tensor,
        clip_lecture_rule,
        clip_returns_clipped_norm,
        clip_always_two_norm,
        clip_max_without_abs,
        clip_not_in_place,
        clip_crashes_without_grad,
        clip_ignores_nonfinite,
        clip_delegates_to_torch,
        clip_rebinds_grad,
        clip_raises_without_flag,
        clip_crashes_without_any_grad,
        clip_float64_norm,
        clip_default_norm_inf,
        clip_ignores_max_norm,
    ],
}
