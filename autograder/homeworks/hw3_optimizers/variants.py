"""Correct answers to homework 3 written differently from the reference: every one must pass its check.

As a student writes only ``_update`` (the constructor, the hyper-parameter checks and the provided
``_Zoo`` step loop are given), the optimizer variants subclass the reference and override ``_update``:
out-of-place arithmetic, the lecture's explicit m̂ and v̂, loops over the elements with ``math``,
numpy inside, float64 inside then cast back to the parameter's dtype, state kept in a dict keyed by
``id(p)``. The schedules use ``math``, numpy or torch and other valid formulas; the clipping variants
compute the total norm from one concatenated vector, from the per-tensor norms, or element by element.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from solutions import optim as ref

__all__ = ["VARIANTS"]


def _own_state(optimizer, p) -> dict:
    """State in a dict of the optimizer's own, keyed by id(p) (not ``self.state``)."""
    return optimizer.__dict__.setdefault("_mine", {}).setdefault(id(p), {})


def _write(p: torch.Tensor, value: torch.Tensor) -> None:
    """Copy ``value`` (any float dtype) into ``p``, in place, in ``p``'s dtype."""
    p.copy_(value.to(p.dtype))


# --- SGD -------------------------------------------------------------------------------------------


class sgd_out_of_place(ref.SGD):
    """Every quantity a new tensor; the buffer replaced in the state; θ ← θ − γd in place."""

    def _update(self, p, grad, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        g = grad + group["weight_decay"] * p
        if mu != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                b = g.clone()
            else:
                b = mu * state["momentum_buffer"] + (1 - tau) * g
            state["momentum_buffer"] = b
            g = g + mu * b if group["nesterov"] else b
        p.sub_(lr * g)


class sgd_numpy_inside(ref.SGD):
    """numpy arrays inside (the state too), the result copied back into p."""

    def _update(self, p, grad, group):
        theta, g = p.detach().numpy().copy(), grad.numpy().copy()
        g = g + group["weight_decay"] * theta
        mu = group["momentum"]
        if mu != 0:
            state = self.state[p]
            b = state.get("np_buffer")
            b = g.copy() if b is None else mu * b + (1 - group["dampening"]) * g
            state["np_buffer"] = b
            g = g + mu * b if group["nesterov"] else b
        p.copy_(torch.from_numpy(np.asarray(theta - group["lr"] * g)))


class sgd_float64_by_id(ref.SGD):
    """Float64 inside, state in a dict keyed by id(p), cast back to p's dtype."""

    def _update(self, p, grad, group):
        theta, g = p.double(), grad.double()
        if group["weight_decay"]:
            g = g.add(theta, alpha=group["weight_decay"])
        mu = group["momentum"]
        if mu:
            state = _own_state(self, p)
            if "b" in state:
                state["b"] = state["b"] * mu + g * (1 - group["dampening"])
            else:
                state["b"] = g.clone()
            g = g + state["b"] * mu if group["nesterov"] else state["b"]
        _write(p, theta - g * group["lr"])


class sgd_element_loop(ref.SGD):
    """A loop over the elements with Python floats."""

    def _update(self, p, grad, group):
        flat_p, flat_g = p.view(-1), grad.reshape(-1)
        state = self.state[p]
        buf = state.setdefault("loop_buffer", [None] * flat_p.numel())
        for k in range(flat_p.numel()):
            theta, g = float(flat_p[k]), float(flat_g[k])
            g = g + group["weight_decay"] * theta
            if group["momentum"]:
                if buf[k] is None:
                    buf[k] = g
                else:
                    buf[k] = group["momentum"] * buf[k] + (1 - group["dampening"]) * g
                g = g + group["momentum"] * buf[k] if group["nesterov"] else buf[k]
            flat_p[k] = theta - group["lr"] * g


# --- Adagrad ---------------------------------------------------------------------------------------


def _adagrad_rate(state, group) -> float:
    state["step"] += 1
    return group["lr"] / (1 + (state["step"].item() - 1) * group["lr_decay"])


class adagrad_out_of_place(ref.Adagrad):
    """sum replaced by a new tensor each step, the step divided out of place."""

    def _update(self, p, grad, group):
        state = self.state[p]
        clr = _adagrad_rate(state, group)
        g = grad + group["weight_decay"] * p
        state["sum"] = state["sum"] + g**2
        p -= clr * g / (torch.sqrt(state["sum"]) + group["eps"])


class adagrad_numpy_inside(ref.Adagrad):
    def _update(self, p, grad, group):
        state = self.state[p]
        clr = _adagrad_rate(state, group)
        theta = p.detach().numpy().copy()
        g = grad.numpy() + group["weight_decay"] * theta
        total = state["sum"].numpy() + np.square(g)
        state["sum"].copy_(torch.from_numpy(np.asarray(total)))
        p.copy_(torch.from_numpy(np.asarray(theta - clr * g / (np.sqrt(total) + group["eps"]))))


class adagrad_element_loop(ref.Adagrad):
    def _update(self, p, grad, group):
        state = self.state[p]
        clr = _adagrad_rate(state, group)
        flat_p, flat_g, flat_s = p.view(-1), grad.reshape(-1), state["sum"].view(-1)
        for k in range(flat_p.numel()):
            g = float(flat_g[k]) + group["weight_decay"] * float(flat_p[k])
            s = float(flat_s[k]) + g * g
            flat_s[k] = s
            flat_p[k] = float(flat_p[k]) - clr * g / (math.sqrt(s) + group["eps"])


class adagrad_float64_by_id(ref.Adagrad):
    """Float64 inside, its own float64 sum keyed by id(p) (started from the constructor's)."""

    def _update(self, p, grad, group):
        mine = _own_state(self, p)
        if not mine:
            mine["sum"], mine["t"] = self.state[p]["sum"].double(), 0
        mine["t"] += 1
        clr = group["lr"] / (1 + (mine["t"] - 1) * group["lr_decay"])
        theta = p.double()
        g = grad.double() + theta * group["weight_decay"]
        mine["sum"].addcmul_(g, g)
        _write(p, theta - clr * g / mine["sum"].sqrt().add(group["eps"]))


# --- RMSprop ---------------------------------------------------------------------------------------


class rmsprop_out_of_place(ref.RMSprop):
    def _update(self, p, grad, group):
        state = self.state[p]
        a, eps, mu = group["alpha"], group["eps"], group["momentum"]
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)
            state["grad_avg"] = torch.zeros_like(p)
            state["momentum_buffer"] = torch.zeros_like(p)
        state["step"] += 1
        g = grad + group["weight_decay"] * p
        v = state["square_avg"] = a * state["square_avg"] + (1 - a) * g * g
        if group["centered"]:
            g_ave = state["grad_avg"] = a * state["grad_avg"] + (1 - a) * g
            v = v - g_ave**2
        denom = torch.sqrt(v) + eps
        if mu > 0:
            state["momentum_buffer"] = mu * state["momentum_buffer"] + g / denom
            p.sub_(group["lr"] * state["momentum_buffer"])
        else:
            p.sub_(group["lr"] * g / denom)


class rmsprop_numpy_inside(ref.RMSprop):
    def _update(self, p, grad, group):
        state = self.state[p]
        a, mu = group["alpha"], group["momentum"]
        theta = p.detach().numpy().copy()
        g = grad.numpy() + group["weight_decay"] * theta
        zero = np.zeros_like(theta)
        v = a * state.get("v", zero) + (1 - a) * g * g
        state["v"] = v
        if group["centered"]:
            state["g_ave"] = a * state.get("g_ave", zero) + (1 - a) * g
            v = v - state["g_ave"] ** 2
        step = g / (np.sqrt(v) + group["eps"])
        if mu > 0:
            state["b"] = mu * state.get("b", zero) + step
            step = state["b"]
        p.copy_(torch.from_numpy(np.asarray(theta - group["lr"] * step)))


class rmsprop_element_loop_by_id(ref.RMSprop):
    """Python floats element by element, state lists in a dict keyed by id(p)."""

    def _update(self, p, grad, group):
        flat_p, flat_g = p.view(-1), grad.reshape(-1)
        n = flat_p.numel()
        mine = _own_state(self, p)
        if not mine:
            mine |= {"v": [0.0] * n, "g_ave": [0.0] * n, "b": [0.0] * n}
        a = group["alpha"]
        for k in range(n):
            g = float(flat_g[k]) + group["weight_decay"] * float(flat_p[k])
            mine["v"][k] = a * mine["v"][k] + (1 - a) * g * g
            v = mine["v"][k]
            if group["centered"]:
                mine["g_ave"][k] = a * mine["g_ave"][k] + (1 - a) * g
                v -= mine["g_ave"][k] ** 2
            step = g / (math.sqrt(v) + group["eps"])
            if group["momentum"] > 0:
                mine["b"][k] = group["momentum"] * mine["b"][k] + step
                step = mine["b"][k]
            flat_p[k] = float(flat_p[k]) - group["lr"] * step


class rmsprop_float64_inside(ref.RMSprop):
    def _update(self, p, grad, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = ref._step_counter()
            for key in ("square_avg", "grad_avg", "momentum_buffer"):
                state[key] = torch.zeros(p.shape, dtype=torch.float64)
        state["step"] += 1
        a = group["alpha"]
        theta = p.double()
        g = grad.double().add(theta, alpha=group["weight_decay"])
        v = state["square_avg"].mul_(a).add_((1 - a) * g.square())
        if group["centered"]:
            g_ave = state["grad_avg"].lerp_(g, 1 - a)
            v = v - g_ave * g_ave
        step = g.div(v.sqrt().add(group["eps"]))
        if group["momentum"] > 0:
            step = state["momentum_buffer"].mul_(group["momentum"]).add_(step)
        _write(p, theta.sub(step, alpha=group["lr"]))


# --- Adam ------------------------------------------------------------------------------------------


class adam_lecture_m_hat_v_hat(ref.Adam):
    """As on the slides, with the bias correction applied to m and v explicitly."""

    def _update(self, p, grad, group):
        state = self.state[p]
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        g = grad
        if wd != 0 and group["decoupled_weight_decay"]:
            p.sub_(lr * wd * p)
        elif wd != 0:
            g = g + wd * p
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g**2
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = torch.maximum(state["max_exp_avg_sq"], v)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p.sub_(lr * m_hat / (torch.sqrt(v_hat) + group["eps"]))


class adam_element_loop(ref.Adam):
    def _update(self, p, grad, group):
        flat_p, flat_g = p.view(-1), grad.reshape(-1)
        n = flat_p.numel()
        state = self.state[p]
        if "m" not in state:
            state |= {"t": 0, "m": [0.0] * n, "v": [0.0] * n, "v_max": [0.0] * n}
        state["t"] += 1
        t = state["t"]
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        for k in range(n):
            theta, g = float(flat_p[k]), float(flat_g[k])
            if wd and group["decoupled_weight_decay"]:
                theta = theta * (1 - lr * wd)
            elif wd:
                g = g + wd * theta
            state["m"][k] = beta1 * state["m"][k] + (1 - beta1) * g
            state["v"][k] = beta2 * state["v"][k] + (1 - beta2) * g * g
            v = state["v"][k]
            if group["amsgrad"]:
                state["v_max"][k] = max(state["v_max"][k], v)
                v = state["v_max"][k]
            m_hat = state["m"][k] / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            flat_p[k] = theta - lr * m_hat / (math.sqrt(v_hat) + group["eps"])


class adam_numpy_inside(ref.Adam):
    def _update(self, p, grad, group):
        state = self.state[p]
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        theta = p.detach().numpy().copy()
        g = grad.numpy()
        if "np" not in state:
            state["np"] = {"t": 0, "m": np.zeros_like(theta), "v": np.zeros_like(theta)}
            state["np"]["v_max"] = np.zeros_like(theta)
        s = state["np"]
        s["t"] += 1
        if wd and group["decoupled_weight_decay"]:
            theta = theta - lr * wd * theta
        elif wd:
            g = g + wd * theta
        s["m"] = beta1 * s["m"] + (1 - beta1) * g
        s["v"] = beta2 * s["v"] + (1 - beta2) * g * g
        v = s["v"]
        if group["amsgrad"]:
            s["v_max"] = np.maximum(s["v_max"], v)
            v = s["v_max"]
        step_size = lr / (1 - beta1 ** s["t"])
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** s["t"]) + group["eps"]
        p.copy_(torch.from_numpy(np.asarray(theta - step_size * s["m"] / denom)))


class adam_float64_by_id(ref.Adam):
    """Float64 state in a dict keyed by id(p), lerp for m, cast back to p's dtype."""

    def _update(self, p, grad, group):
        mine = _own_state(self, p)
        if not mine:
            zeros = torch.zeros(p.shape, dtype=torch.float64)
            mine |= {"t": 0, "m": zeros, "v": zeros.clone(), "v_max": zeros.clone()}
        mine["t"] += 1
        t = mine["t"]
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        theta, g = p.double(), grad.double()
        if wd and group["decoupled_weight_decay"]:
            theta = theta.mul(1 - lr * wd)
        elif wd:
            g = g.add(theta, alpha=wd)
        mine["m"] = torch.lerp(mine["m"], g, 1 - beta1)
        mine["v"] = mine["v"].mul(beta2).addcmul(g, g, value=1 - beta2)
        v = mine["v"]
        if group["amsgrad"]:
            mine["v_max"] = torch.maximum(mine["v_max"], v)
            v = mine["v_max"]
        denom = (v / (1 - beta2**t)).sqrt() + group["eps"]
        _write(p, theta - lr / (1 - beta1**t) * mine["m"] / denom)


# --- schedules -------------------------------------------------------------------------------------


def sd_loop(step, base_lr=1.0, *, step_size, gamma=0.1):
    lr = base_lr
    for _ in range(step // step_size):
        lr *= gamma
    return lr


def sd_math_pow(step, base_lr=1.0, *, step_size, gamma=0.1):
    return base_lr * math.pow(gamma, math.floor(step / step_size))


def sd_numpy(step, base_lr=1.0, *, step_size, gamma=0.1):
    return float(np.float64(base_lr) * np.power(gamma, np.floor_divide(step, step_size)))


def sd_torch(step, base_lr=1.0, *, step_size, gamma=0.1):
    k = torch.tensor(step // step_size, dtype=torch.float64)
    return (base_lr * torch.tensor(gamma, dtype=torch.float64) ** k).item()


def lw_piecewise(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if step >= warmup_steps:
        return base_lr
    return base_lr * start_factor + base_lr * (1 - start_factor) * step / warmup_steps


def lw_numpy_interp(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    if warmup_steps == 0:
        return float(base_lr)
    return np.interp(step, [0, warmup_steps], [start_factor * base_lr, base_lr])


def lw_lerp(step, base_lr=1.0, *, warmup_steps, start_factor=0.0):
    fraction = 1.0 if warmup_steps == 0 else min(step / warmup_steps, 1.0)
    start = start_factor * base_lr
    return start + (base_lr - start) * fraction


def ca_torch_cos(step, base_lr=1.0, *, T_max, eta_min=0.0):
    t = torch.tensor(min(step, T_max), dtype=torch.float64)
    return (eta_min + (base_lr - eta_min) * (1 + torch.cos(torch.pi * t / T_max)) / 2).item()


def ca_cos_squared(step, base_lr=1.0, *, T_max, eta_min=0.0):
    """(1 + cos x)/2 = cos²(x/2)."""
    return eta_min + (base_lr - eta_min) * math.cos(math.pi * min(step, T_max) / (2 * T_max)) ** 2


def ca_piecewise_numpy(step, base_lr=1.0, *, T_max, eta_min=0.0):
    if step >= T_max:
        return eta_min
    return float(eta_min + 0.5 * (base_lr - eta_min) * (1.0 + np.cos(np.pi * step / T_max)))


# --- clip_grad_norm_ -------------------------------------------------------------------------------


def _grads_of(parameters) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in list(parameters) if p.grad is not None]


def clip_concatenated(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """The norm of one vector of all the gradients, torch.linalg.vector_norm of a cat."""
    grads = _grads_of(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]), norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError("the total norm is not finite")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def clip_per_tensor_norms(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """From the per-tensor norms: (Σ‖gᵢ‖ᵖ)^(1/p), the largest for p = ∞; an `if`, and a Python
    float factor."""
    grads = _grads_of(parameters)
    if len(grads) == 0:
        return torch.zeros(())
    norms = [g.norm(norm_type) for g in grads]
    if math.isinf(norm_type):
        total = torch.stack(norms).max()
    elif norm_type == 2:
        total = torch.sqrt(sum(n**2 for n in norms))
    else:
        total = sum(n**norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError("non-finite total norm")
    coef = max_norm / (total.item() + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef
    return total


def clip_element_loop(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Python floats element by element; the norm returned in the gradients' dtype."""
    grads = _grads_of(parameters)
    if not grads:
        return torch.tensor(0.0)
    elements = [abs(float(x)) for g in grads for x in g.reshape(-1)]
    if norm_type == math.inf:
        total = max(elements)
    else:
        total = sum(x**norm_type for x in elements) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError("non-finite total norm")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.mul_(coef)
    return torch.tensor(total, dtype=grads[0].dtype)


def clip_numpy(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    grads = _grads_of(parameters)
    if not grads:
        return torch.tensor(0.0)
    flat = np.concatenate([g.numpy().astype(np.float64).reshape(-1) for g in grads])
    total = float(np.linalg.norm(flat, ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError("non-finite total norm")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.copy_(torch.from_numpy(np.asarray(g.numpy() * coef)))
    return torch.tensor(total, dtype=torch.float64).to(grads[0].dtype)


VARIANTS: dict[str, list] = {
    "SGD": [sgd_out_of_place, sgd_numpy_inside, sgd_float64_by_id, sgd_element_loop],
    "Adagrad": [
        adagrad_out_of_place,
        adagrad_numpy_inside,
        adagrad_element_loop,
        adagrad_float64_by_id,
    ],
    "RMSprop": [
        rmsprop_out_of_place,
        rmsprop_numpy_inside,
        rmsprop_element_loop_by_id,
        rmsprop_float64_inside,
    ],
    "Adam": [adam_lecture_m_hat_v_hat, adam_element_loop, adam_numpy_inside, adam_float64_by_id],
    "step_decay": [sd_loop, sd_math_pow, sd_numpy, sd_torch],
    "linear_warmup": [lw_piecewise, lw_numpy_interp, lw_lerp],
    "cosine_annealing": [ca_torch_cos, ca_cos_squared, ca_piecewise_numpy],
    "clip_grad_norm_": [clip_concatenated, clip_per_tensor_norms, clip_element_loop, clip_numpy],
}
