"""Homework 3's ungraded extras: the lecture's forms of the update rules, AdamW, and clipping by value.

:mod:`solutions.optim` holds what the homework grades (PyTorch's ``SGD``, ``Adagrad``, ``RMSprop``,
``Adam`` and ``clip_grad_norm_``). This module builds on it:

**The lecture's forms** — :class:`LectureMomentum`, :class:`LectureNesterov`, :class:`LectureAdagrad`,
:class:`LectureRMSProp`, :class:`LectureAdam`: the update rules exactly as lecture 3 writes them. Each
docstring says when it coincides with PyTorch's form and when it does not; ``tests/test_optim.py``
proves both halves of each statement. In short (α the learning rate, g the gradient):

    lecture                                 equals PyTorch's form ...
    v ← βv − αg;  x ← x + v                 SGD(momentum=β), buffer b = −v/α — while α is constant
    v ← βv − α∇f(x + βv);  x ← x + v        SGD(momentum=β, nesterov=True), whose parameters are x + βv
    G ← G + g²;  x ← x − αg/√(G + ε)        Adagrad(initial_accumulator_value=ε, eps=0)
    G ← γG + (1−γ)g²;  x ← x − αg/√(G + ε)  RMSprop(alpha=γ, eps=0), and only at ε = 0
    Adam without bias correction            Adam(eps=0) with lr_t = α (1 − β₁ᵗ)/√(1 − β₂ᵗ), only at ε = 0

**PyTorch's AdamW** — :class:`AdamW`, :class:`solutions.optim.Adam` with ``decoupled_weight_decay=True``
under ``torch.optim.AdamW``'s name and defaults.

**Clipping by value** — :func:`clip_grad_value_`, ``torch.nn.utils.clip_grad_value_``.

They share :mod:`solutions.optim`'s conventions (``step(closure)``, the per-group hyper-parameter
checks, ``p.grad`` never modified by an optimizer) and its ``_Zoo`` base class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from .optim import Adam, _check_range, _grads, _real, _Zoo

__all__ = [
    "AdamW",
    "LectureAdagrad",
    "LectureAdam",
    "LectureMomentum",
    "LectureNesterov",
    "LectureRMSProp",
    "clip_grad_value_",
]


# --------------------------------------------------------------------------------------------------
# The lecture's forms
# --------------------------------------------------------------------------------------------------


class LectureMomentum(_Zoo):
    """Momentum as lecture 3 writes it.

    ::

        input: α (lr), β (beta), x₀ (params)
        initialize: v₀ ← 0 (velocity)
        for t = 1, 2, …:
            v_t ← β v_{t−1} − α ∇f(x_{t−1})
            x_t ← x_{t−1} + v_t

    Equivalently x_{t+1} = x_t − α∇f(x_t) + β(x_t − x_{t−1}) (the "heavy ball").

    State per parameter: ``velocity`` = v.

    Equals ``SGD(lr=α, momentum=β)`` (dampening 0) step for step, with PyTorch's buffer b = −v/α, *as
    long as α is constant*: PyTorch's step is −α_t·b_t with b_t = Σ βᵗ⁻ˢ g_s, the lecture's
    v_t = −Σ βᵗ⁻ˢ α_s g_s. Once a schedule changes α, PyTorch applies the new rate to all the
    remembered gradients at once and the lecture only to the new ones, and the trajectories part.

    Args: ``lr=1e-3`` (α), ``beta=0.9`` (β, PyTorch's ``momentum``).
    """

    def __init__(self, params, lr: float = 1e-3, beta: float = 0.9) -> None:
        super().__init__(params, {"lr": lr, "beta": beta})

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["beta"], "beta", high=1.0)

    def _update(self, p, grad, group):
        state = self.state[p]
        if len(state) == 0:
            state["velocity"] = torch.zeros_like(p)
        v = state["velocity"]
        v.mul_(group["beta"]).add_(grad, alpha=-group["lr"])  # v ← βv − α∇f(x)
        p.add_(v)  # x ← x + v


class LectureNesterov(_Zoo):
    """Nesterov's accelerated gradient as lecture 3 writes it: the gradient at the look-ahead point.

    ::

        input: α (lr), β (beta), x₀ (params)
        initialize: v₀ ← 0 (velocity)
        for t = 1, 2, …:
            v_t ← β v_{t−1} − α ∇f(x_{t−1} + β v_{t−1})
            x_t ← x_{t−1} + v_t

    API: the parameters always hold x (the true iterate), and ``step(closure)`` *requires* a closure.
    The step moves every parameter to its look-ahead point x + βv, calls ``closure()`` there — it must
    zero and recompute the ``.grad`` of the parameters and return the loss, as for ``torch.optim.LBFGS``
    — moves the parameters back to x (restored from a copy, exactly) and applies the update. The loss
    returned is therefore f(x + βv), the loss at the look-ahead point.

    State per parameter: ``velocity`` = v.

    Equals PyTorch's ``SGD(lr=α, momentum=β, nesterov=True)`` through a change of variables: PyTorch
    stores the look-ahead point y = x + βv as its parameter (and b = −v/α), so with a constant α the
    parameters of PyTorch's run are, at every step, this optimizer's x + βv — never its x.

    Args: ``lr=1e-3`` (α), ``beta=0.9`` (β, PyTorch's ``momentum``).
    """

    def __init__(self, params, lr: float = 1e-3, beta: float = 0.9) -> None:
        super().__init__(params, {"lr": lr, "beta": beta})

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["beta"], "beta", high=1.0)

    def step(self, closure: Callable[[], Any] | None = None):
        """One step; ``closure`` (required) recomputes the gradients at the parameters' current values,
        which the step sets to the look-ahead points x + βv before calling it."""
        if closure is None:
            raise ValueError(
                "LectureNesterov.step needs a closure that recomputes the gradients: the gradient "
                "must be evaluated at the look-ahead point x + βv, which only the optimizer knows"
            )
        saved = []
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state["velocity"] = torch.zeros_like(p)
                    saved.append(p.clone())
                    p.add_(state["velocity"], alpha=group["beta"])  # x → x + βv
        loss = closure()  # ∇f(x + βv) into p.grad
        with torch.no_grad():
            originals = iter(saved)
            for group in self.param_groups:
                for p in group["params"]:
                    p.copy_(next(originals))  # back to x
                    if p.grad is None:
                        continue
                    v = self.state[p]["velocity"]
                    v.mul_(group["beta"]).add_(p.grad, alpha=-group["lr"])  # v ← βv − α∇f(x + βv)
                    p.add_(v)  # x ← x + v
        return loss


class LectureAdagrad(_Zoo):
    """Adagrad as lecture 3 writes it, ε inside the root.

    ::

        input: α (lr), ε (eps), x₀ (params)
        initialize: G₀ ← 0
        for t = 1, 2, …:
            g_t ← ∇f(x_{t−1})
            G_t ← G_{t−1} + g_t²
            x_t ← x_{t−1} − α g_t / √(G_t + ε)

    State per parameter: ``sum`` = G (without ε, unlike PyTorch's sum).

    Equals ``Adagrad(lr=α, initial_accumulator_value=ε, eps=0)``: PyTorch's accumulator is then G + ε.
    PyTorch's default instead adds ε = 1e-10 outside the root: √G + 1e-10, which differs from √(G + ε)
    wherever G is not large compared with ε (ε inside the root acts like √ε outside it while G ≈ 0).

    Args: ``lr=1e-2`` (α), ``eps=1e-8``.
    """

    def __init__(self, params, lr: float = 1e-2, eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "eps": eps})

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["eps"], "eps")

    def _update(self, p, grad, group):
        state = self.state[p]
        if len(state) == 0:
            state["sum"] = torch.zeros_like(p)
        G = state["sum"]
        G.addcmul_(grad, grad)  # G ← G + g²
        p.addcdiv_(grad, G.add(group["eps"]).sqrt_(), value=-group["lr"])  # x ← x − αg/√(G + ε)


class LectureRMSProp(_Zoo):
    """RMSProp as lecture 3 writes it, ε inside the root.

    ::

        input: α (lr), γ (gamma), ε (eps), x₀ (params)
        initialize: G₀ ← 0
        for t = 1, 2, …:
            g_t ← ∇f(x_{t−1})
            G_t ← γ G_{t−1} + (1 − γ) g_t²
            x_t ← x_{t−1} − α g_t / √(G_t + ε)

    State per parameter: ``square_avg`` = G (the same quantity as PyTorch's).

    Equals ``RMSprop(lr=α, alpha=γ, eps=0)`` when ε = 0, and only then: PyTorch's ε sits outside the
    root and, as G decays from 0, no initial value can stand in for ε. Defaults differ on purpose:
    γ = 0.9 as on the slides, where PyTorch's ``alpha`` is 0.99.

    Args: ``lr=1e-2`` (α), ``gamma=0.9`` (γ, PyTorch's ``alpha``), ``eps=1e-8``.
    """

    def __init__(self, params, lr: float = 1e-2, gamma: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "gamma": gamma, "eps": eps})

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["gamma"], "gamma", high=1.0, high_open=False)
        _check_range(group["eps"], "eps")

    def _update(self, p, grad, group):
        state = self.state[p]
        gamma = group["gamma"]
        if len(state) == 0:
            state["square_avg"] = torch.zeros_like(p)
        G = state["square_avg"]
        G.mul_(gamma).addcmul_(grad, grad, value=1 - gamma)  # G ← γG + (1 − γ)g²
        p.addcdiv_(grad, G.add(group["eps"]).sqrt_(), value=-group["lr"])  # x ← x − αg/√(G + ε)


class LectureAdam(_Zoo):
    """Adam as lecture 3's slide writes it: no bias correction, ε inside the root.

    ::

        input: α (lr), β₁, β₂ (betas), ε (eps), x₀ (params)
        initialize: v₀ ← 0, G₀ ← 0
        for t = 1, 2, …:
            g_t ← ∇f(x_{t−1})
            v_t ← β₁ v_{t−1} + (1 − β₁) g_t
            G_t ← β₂ G_{t−1} + (1 − β₂) g_t²
            x_t ← x_{t−1} − α v_t / √(G_t + ε)

    State per parameter: ``exp_avg`` = v and ``exp_avg_sq`` = G (PyTorch's names for the same
    quantities).

    Equals PyTorch's ``Adam(eps=0)`` only at ε = 0, and only with PyTorch's learning rate multiplied
    at step t by (1 − β₁ᵗ)/√(1 − β₂ᵗ), which cancels its bias correction — e.g.
    ``LambdaLR(opt, lambda k: (1 - β₁**(k+1)) / (1 - β₂**(k+1))**0.5)``. Without that factor the
    lecture's first steps are larger (≈3.2× at t = 1 for the default betas) and shrink towards
    PyTorch's as β₁ᵗ, β₂ᵗ → 0.

    Args: ``lr=1e-3`` (α), ``betas=(0.9, 0.999)``, ``eps=1e-8``.
    """

    def __init__(
        self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    def _check_group(self, group):
        super()._check_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (β₁, β₂), got {betas!r}")
        _check_range(betas[0], "betas[0]", high=1.0)
        _check_range(betas[1], "betas[1]", high=1.0)
        _check_range(group["eps"], "eps")

    def _update(self, p, grad, group):
        state = self.state[p]
        beta1, beta2 = group["betas"]
        if len(state) == 0:
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        v, G = state["exp_avg"], state["exp_avg_sq"]
        v.mul_(beta1).add_(grad, alpha=1 - beta1)  # v ← β₁v + (1 − β₁)g
        G.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # G ← β₂G + (1 − β₂)g²
        p.addcdiv_(v, G.add(group["eps"]).sqrt_(), value=-group["lr"])  # x ← x − αv/√(G + ε)


# --------------------------------------------------------------------------------------------------
# AdamW
# --------------------------------------------------------------------------------------------------


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's form.

    ::

        for t = 1, 2, …:
            g_t ← ∇f(θ_{t−1})
            θ_{t−1} ← θ_{t−1} − γλ θ_{t−1}         decay first, with the same γ as the step
            m_t, v_t, m̂_t, v̂_t as in Adam (the moments never see λθ)
            θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)

    That is, θ_t = (1 − γλ) θ_{t−1} − γ m̂_t/(√v̂_t + ε): the weights are decayed *before* the moment
    update and the Adam step, not after it ((1 − γλ)(θ_{t−1} − step) would shrink the step too).
    Unlike Adam's L2 penalty, the decay is not divided by √v̂, so every weight decays at the same rate.

    Args: as :class:`Adam`, but ``weight_decay=1e-2`` by default and no ``decoupled_weight_decay``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)


# --------------------------------------------------------------------------------------------------
# Clipping by value
# --------------------------------------------------------------------------------------------------


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to ``[−clip_value, clip_value]``, in place.

    ``torch.nn.utils.clip_grad_value_``. Unlike clipping by norm this changes the direction of the
    gradient. Parameters whose ``.grad`` is None are skipped. Stricter than PyTorch: ``clip_value``
    must be >= 0 (PyTorch would set every element to a negative ``clip_value``).
    """
    clip_value = _real(clip_value, "clip_value")
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value!r}")
    with torch.no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
