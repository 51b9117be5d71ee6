"""Homework 3 reference: the optimizer zoo of lecture 3, and gradient clipping by norm.

:class:`SGD` (momentum, dampening, Nesterov, weight decay), :class:`Adagrad`, :class:`RMSprop` and
:class:`Adam` (AMSGrad, L2 or decoupled weight decay) in **PyTorch's forms**: the same hyper-parameter
names, defaults and state names (``momentum_buffer``, ``sum``, ``square_avg``, ``grad_avg``,
``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``, ``step``) as ``torch.optim``, so that a run follows
``torch.optim``'s trajectory (to rounding: about 1e-16 relative per step in float64) and a
``state_dict`` saved by one loads into the other. They subclass ``torch.optim.Optimizer`` for the
bookkeeping only — parameter groups, ``zero_grad``, ``state_dict`` / ``load_state_dict``, hooks — so
every ``torch.optim.lr_scheduler`` (and :mod:`solutions.schedules`) drives them.

The updates are the model answers of the homework, written as the pseudo-code in each class
docstring reads: one line of tensor arithmetic per line of the formula
(``m = beta1 * m + (1 - beta1) * grad``, ``m_hat = m / (1 - beta1**t)``, …), new state tensors stored
back in ``self.state[p]``, and only the parameter itself updated in place (``p -= …``: the optimizer
and the model hold references to it). PyTorch writes the same updates with fused in-place kernels
(``addcmul_``, ``lerp_``, ``addcdiv_``) and folds Adam's bias corrections into the step size; the
results agree to rounding, which is all ``tests/test_optim.py`` asks (1e-12 relative, in float64,
over 200 steps). Each docstring says where PyTorch's formulation differs from lecture 3's.

:func:`clip_grad_norm_` equals ``torch.nn.utils.clip_grad_norm_``.

The lecture's own forms of these rules (``LectureMomentum``, ``LectureNesterov``, ``LectureAdagrad``,
``LectureRMSProp``, ``LectureAdam``), ``AdamW`` and ``clip_grad_value_`` are not graded: they live in
:mod:`solutions.optim_extras`.

Conventions of every optimizer here:

- ``step(closure=None)`` calls the closure (if any) first, in the caller's grad mode, then updates the
  parameters under ``torch.no_grad()`` (needed when they are leaves that require grad, as in an
  ``nn.Module``). Parameters whose ``.grad`` is None are skipped, as in PyTorch.
- ``p.grad`` is never modified: weight decay makes a new tensor ``g + λθ``.
- Hyper-parameters are checked for every parameter group (PyTorch checks only the constructor's), with
  a ``ValueError`` that names the argument. A few checks are stricter than PyTorch's; the class
  docstrings list them.
- Dense, real, floating-point parameters only (no sparse gradients, no complex parameters), and plain
  numbers for ``lr`` and ``betas``. PyTorch's implementation switches ``maximize``, ``foreach``,
  ``fused``, ``capturable`` and ``differentiable`` are not offered: one straightforward code path.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "RMSprop",
    "clip_grad_norm_",
]


# --------------------------------------------------------------------------------------------------
# Shared plumbing
# --------------------------------------------------------------------------------------------------


def _real(value, name: str) -> float:
    """``value`` as a float, or a ValueError naming ``name`` (bools and tensors are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _check_range(value, name: str, *, high: float = math.inf, high_open: bool = True) -> None:
    """Raise unless ``0 <= value < high`` (``<= high`` when ``high_open`` is False); NaN fails."""
    v = _real(value, name)
    ok = 0.0 <= v < high if high_open else 0.0 <= v <= high
    if not ok:
        interval = (
            "a finite number >= 0"
            if high == math.inf
            else f"in [0, {high:g}{')' if high_open else ']'}"
        )
        raise ValueError(f"Invalid {name} value: {value!r} ({name} must be {interval})")


def _step_counter() -> Tensor:
    """A step count stored like ``torch.optim``'s: a 0-d CPU tensor, float32 (float64 when that is the
    default dtype), so that state_dicts are interchangeable. Exact up to 2**24 steps in float32."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


class _Zoo(Optimizer):
    """What every optimizer of this module shares: checks and the step loop.

    A subclass sets its defaults, writes ``_check_group(group)`` (raise ValueError on a bad
    hyper-parameter) and ``_update(p, grad, group)``: the update of one parameter tensor ``p``, in
    place, given its gradient; its state (a dict) is ``self.state[p]``, whose tensors ``_update`` may
    replace by new ones.
    """

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        try:
            self._check_group(group)
            for p in group["params"]:
                if not p.is_floating_point() or p.is_complex():
                    raise ValueError(
                        f"{type(self).__name__} optimizes real floating-point tensors, got one of "
                        f"dtype {str(p.dtype).removeprefix('torch.')}"
                    )
        except ValueError:
            self.param_groups.pop()
            raise

    def _check_group(self, group: dict[str, Any]) -> None:
        _check_range(group["lr"], "lr")

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; return the closure's loss (None without a closure).

        ``closure``: optional, re-evaluates the model, fills the ``.grad`` of the parameters and
        returns the loss. It runs before the update, in the caller's grad mode.
        """
        loss = None if closure is None else closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.is_sparse:
                        raise ValueError(f"{type(self).__name__} does not support sparse gradients")
                    self._update(p, p.grad, group)
        return loss


# --------------------------------------------------------------------------------------------------
# PyTorch's forms
# --------------------------------------------------------------------------------------------------


class SGD(_Zoo):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    ::

        input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight_decay),
               μ (momentum), τ (dampening), nesterov
        for t = 1, 2, …:
            g_t ← ∇f(θ_{t−1})
            if λ ≠ 0:   g_t ← g_t + λ θ_{t−1}
            if μ ≠ 0:
                if t > 1:   b_t ← μ b_{t−1} + (1 − τ) g_t
                else:       b_t ← g_t                             (no dampening at the first step)
                if nesterov:   g_t ← g_t + μ b_t
                else:          g_t ← b_t
            θ_t ← θ_{t−1} − γ g_t

    State per parameter (only when μ ≠ 0): ``momentum_buffer`` = b.

    Compared with lecture 3 (v ← βv − α∇f(x); x ← x + v): PyTorch keeps the sum of gradients
    b = −v/α and multiplies it by the *current* learning rate. While α is constant the two are the same
    trajectory (the tests run both); once a schedule changes α, PyTorch rescales the whole history
    and the lecture does not. With ``nesterov=True`` the parameters PyTorch stores are the lecture's
    look-ahead points x + βv (Sutskever et al., 2013).

    Args: ``lr=1e-3``, ``momentum=0``, ``dampening=0``, ``weight_decay=0`` (L2 penalty λ/2‖θ‖²),
    ``nesterov=False`` (needs momentum > 0 and dampening = 0). Stricter than PyTorch: ``lr`` must be
    finite and ``dampening`` in [0, 1].
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["momentum"], "momentum")
        _check_range(group["dampening"], "dampening", high=1.0, high_open=False)
        _check_range(group["weight_decay"], "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={group['momentum']!r}, dampening={group['dampening']!r})"
            )

    def _update(self, p, grad, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        if weight_decay != 0:
            grad = grad + weight_decay * p  # g ← g + λθ (a new tensor: p.grad stays as it is)
        if momentum != 0:
            state = self.state[p]  # plain SGD keeps no state at all
            if state.get("momentum_buffer") is None:  # the first step
                b = grad.clone()  # b₁ ← g₁, undamped (a copy: the state must not alias p.grad)
            else:
                # b ← μb + (1 − τ)g
                b = momentum * state["momentum_buffer"] + (1 - dampening) * grad
            state["momentum_buffer"] = b
            if group["nesterov"]:
                grad = grad + momentum * b  # g ← g + μb
            else:
                grad = b  # g ← b
        p -= lr * grad  # θ ← θ − γg, in place: the optimizer and the model hold p


class Adagrad(_Zoo):
    """Adagrad (PyTorch's form).

    ::

        input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight_decay),
               τ (initial_accumulator_value), η (lr_decay), ε (eps)
        initialize: state_sum₀ ← τ
        for t = 1, 2, …:
            g_t ← ∇f(θ_{t−1})
            γ̃ ← γ / (1 + (t − 1) η)
            if λ ≠ 0:   g_t ← g_t + λ θ_{t−1}
            state_sum_t ← state_sum_{t−1} + g_t²
            θ_t ← θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)

    State per parameter, created with the optimizer (as PyTorch does): ``sum``, ``step``.

    Compared with lecture 3 (G ← G + g²; x ← x − α g/√(G + ε)): PyTorch adds ε *outside* the root. The
    lecture's form is PyTorch's with ``initial_accumulator_value=ε, eps=0`` (then state_sum = G + ε);
    the tests run both. ``lr_decay`` has no lecture counterpart.

    Args: ``lr=1e-2``, ``lr_decay=0``, ``weight_decay=0``, ``initial_accumulator_value=0``,
    ``eps=1e-10``. Stricter than PyTorch: ``lr`` must be finite.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:  # PyTorch creates Adagrad's state up front
            state = self.state[p]
            state["step"] = _step_counter()
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["lr_decay"], "lr_decay")
        _check_range(group["weight_decay"], "weight_decay")
        _check_range(group["initial_accumulator_value"], "initial_accumulator_value")
        _check_range(group["eps"], "eps")

    def _update(self, p, grad, group):
        state = self.state[p]
        state["step"] += 1
        t = state["step"].item()
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p  # g ← g + λθ
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])  # γ̃ ← γ / (1 + (t − 1)η)
        state_sum = state["sum"] + grad * grad  # state_sum ← state_sum + g²
        state["sum"] = state_sum
        p -= clr * grad / (state_sum.sqrt() + group["eps"])  # θ ← θ − γ̃ g / (√state_sum + ε)


class RMSprop(_Zoo):
    """RMSprop (PyTorch's form), optionally centered and with momentum.

    ::

        input: α (alpha), γ (lr), θ₀ (params), f(θ) (objective), λ (weight_decay),
               μ (momentum), centered, ε (eps)
        initialize: v₀ ← 0 (square average), b₀ ← 0 (buffer), g₀^ave ← 0
        for t = 1, 2, …:
            g_t ← ∇f(θ_{t−1})
            if λ ≠ 0:   g_t ← g_t + λ θ_{t−1}
            v_t ← α v_{t−1} + (1 − α) g_t²
            ṽ_t ← v_t
            if centered:
                g_t^ave ← α g_{t−1}^ave + (1 − α) g_t
                ṽ_t ← ṽ_t − (g_t^ave)²
            if μ > 0:
                b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
                θ_t ← θ_{t−1} − γ b_t
            else:
                θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)

    State per parameter: ``step``, ``square_avg`` = v, ``momentum_buffer`` = b (when μ > 0),
    ``grad_avg`` = g^ave (when centered).

    Compared with lecture 3 (G ← γG + (1 − γ)g²; x ← x − α g/√(G + ε)): the lecture's γ is PyTorch's
    ``alpha`` and its α is ``lr``; PyTorch adds ε *outside* the root, and as G starts at 0 and decays
    no initial value can make up for it, so the two forms agree only at ε = 0
    (the tests run both). Mind the defaults: PyTorch's alpha is 0.99, the slides' γ usually 0.9.
    ``centered`` and momentum have no lecture counterpart.

    Args: ``lr=1e-2``, ``alpha=0.99``, ``eps=1e-8``, ``weight_decay=0``, ``momentum=0``,
    ``centered=False``. Stricter than PyTorch: ``lr`` must be finite and ``alpha`` in [0, 1].
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["eps"], "eps")
        _check_range(group["momentum"], "momentum")
        _check_range(group["weight_decay"], "weight_decay")
        _check_range(group["alpha"], "alpha", high=1.0, high_open=False)

    def _update(self, p, grad, group):
        state = self.state[p]
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if len(state) == 0:
            state["step"] = _step_counter()
            state["square_avg"] = torch.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p  # g ← g + λθ
        v = alpha * state["square_avg"] + (1 - alpha) * grad * grad  # v ← αv + (1 − α)g²
        state["square_avg"] = v
        v_tilde = v
        if group["centered"]:
            g_ave = alpha * state["grad_avg"] + (1 - alpha) * grad  # g_ave ← α g_ave + (1 − α)g
            state["grad_avg"] = g_ave
            v_tilde = v - g_ave * g_ave  # ṽ ← v − g_ave²
        if momentum > 0:
            # b ← μb + g/(√ṽ + ε)
            b = momentum * state["momentum_buffer"] + grad / (v_tilde.sqrt() + eps)
            state["momentum_buffer"] = b
            p -= lr * b  # θ ← θ − γb
        else:
            p -= lr * grad / (v_tilde.sqrt() + eps)  # θ ← θ − γ g/(√ṽ + ε)


class Adam(_Zoo):
    """Adam (PyTorch's form), optionally AMSGrad, with L2 or decoupled weight decay.

    ::

        input: γ (lr), β₁, β₂ (betas), θ₀ (params), f(θ) (objective), λ (weight_decay),
               amsgrad, ε (eps)
        initialize: m₀ ← 0 (first moment), v₀ ← 0 (second moment), v₀^max ← 0
        for t = 1, 2, …:
            g_t ← ∇f(θ_{t−1})
            if λ ≠ 0:
                if decoupled_weight_decay:   θ_{t−1} ← θ_{t−1} − γλ θ_{t−1}      (AdamW)
                else:                        g_t ← g_t + λ θ_{t−1}              (L2 penalty)
            m_t ← β₁ m_{t−1} + (1 − β₁) g_t
            v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
            m̂_t ← m_t / (1 − β₁ᵗ)
            if amsgrad:
                v_t^max ← max(v_{t−1}^max, v_t)
                v̂_t ← v_t^max / (1 − β₂ᵗ)
            else:
                v̂_t ← v_t / (1 − β₂ᵗ)
            θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)

    State per parameter: ``step``, ``exp_avg`` = m, ``exp_avg_sq`` = v, ``max_exp_avg_sq`` = v^max
    (when amsgrad).

    PyTorch computes the last line in another arrangement, with the bias corrections folded into the
    step size and the root: ``θ ← θ − (γ/(1 − β₁ᵗ)) · m / (√v/√(1 − β₂ᵗ) + ε)``. It is the same
    quantity; the two differ by rounding only (about 1e-16 relative per step in float64).

    Compared with lecture 3 (v ← β₁v + (1 − β₁)g; G ← β₂G + (1 − β₂)g²; x ← x − α v/√(G + ε)): the
    lecture has no bias correction and puts ε inside the root. At ε = 0 the two differ only by the
    factor (1 − β₁ᵗ)/√(1 − β₂ᵗ) on the step, so the lecture's Adam with rate α is PyTorch's Adam(eps=0)
    with lr_t = α (1 − β₁ᵗ)/√(1 − β₂ᵗ) (the tests run both). The correction matters early: at t = 1
    the uncorrected step is (1 − β₁)/√(1 − β₂) ≈ 3.2 times PyTorch's for the default betas.

    Args: ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=0``, ``amsgrad=False``,
    keyword-only ``decoupled_weight_decay=False`` (True is PyTorch's ``AdamW``). Stricter than PyTorch:
    ``lr`` must be finite.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_range(group["eps"], "eps")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (β₁, β₂), got {betas!r}")
        _check_range(betas[0], "betas[0]", high=1.0)
        _check_range(betas[1], "betas[1]", high=1.0)
        _check_range(group["weight_decay"], "weight_decay")

    def _update(self, p, grad, group):
        state = self.state[p]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if len(state) == 0:
            state["step"] = _step_counter()
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"].item()
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p -= lr * weight_decay * p  # AdamW: θ ← θ − γλθ, before the moments
            else:
                grad = grad + weight_decay * p  # L2: g ← g + λθ
        m = beta1 * state["exp_avg"] + (1 - beta1) * grad  # m ← β₁m + (1 − β₁)g
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad  # v ← β₂v + (1 − β₂)g²
        state["exp_avg"], state["exp_avg_sq"] = m, v
        m_hat = m / (1 - beta1**t)  # m̂ ← m / (1 − β₁ᵗ)
        if group["amsgrad"]:
            v_max = torch.maximum(state["max_exp_avg_sq"], v)  # v_max ← max(v_max, v)
            state["max_exp_avg_sq"] = v_max
            v_hat = v_max / (1 - beta2**t)  # v̂ ← v_max / (1 − β₂ᵗ)
        else:
            v_hat = v / (1 - beta2**t)  # v̂ ← v / (1 − β₂ᵗ)
        p -= lr * m_hat / (v_hat.sqrt() + eps)  # θ ← θ − γ m̂ / (√v̂ + ε)


# --------------------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------------------


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm_type(norm_type) -> float:
    try:
        value = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}") from None
    if not value > 0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type!r}")
    return value


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their total norm is at most about ``max_norm``; in place.

    The total norm is the p-norm of all gradients concatenated into one vector, computed as the p-norm
    of the per-tensor norms (p = ``norm_type``; ``inf`` is the largest absolute value)::

        total = ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p
        coef  = min(max_norm / (total + 1e-6), 1)
        gᵢ ← coef · gᵢ      for every i (also when coef = 1: no data-dependent branch, no GPU sync)

    Returns ``total`` (before clipping) as a 0-d tensor on the first gradient's device; a tensor
    0.0 when no parameter has a gradient. This is ``torch.nn.utils.clip_grad_norm_``, computed the same
    way to the bit. Parameters whose ``.grad`` is None are skipped.

    Compared with lecture 3 (if ‖g‖ ≥ threshold then g ← threshold/‖g‖ · g): PyTorch adds 1e-6 to the
    norm, so the clipped norm is max_norm·total/(total + 1e-6), slightly below max_norm, and gradients
    with total in (max_norm − 1e-6, max_norm) are scaled a little too. For total ≫ 1e-6 that is a
    relative difference of 1e-6/total; for tiny gradients (total ~ 1e-6 or less) the two differ by a
    large factor — with max_norm = 1e-9 and total = 1e-8, PyTorch scales by ≈ 1e-3, not 0.1.

    Overflow behaves as in PyTorch: a total norm that overflows to inf gives coef = 0 (and NaN where a
    gradient is itself inf); ``error_if_nonfinite=True`` raises a RuntimeError instead. Stricter than
    PyTorch: ``max_norm`` must be >= 0 and ``norm_type`` > 0.
    """
    max_norm = _real(max_norm, "max_norm")
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm!r}")
    p = _norm_type(norm_type)
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    with torch.no_grad():
        first_device = grads[0].device
        norms = [torch.linalg.vector_norm(g, p).to(first_device) for g in grads]
        total_norm = torch.linalg.vector_norm(torch.stack(norms), p)
        if error_if_nonfinite and not bool(torch.isfinite(total_norm)):
            raise RuntimeError(
                f"The total norm of order {p} of the gradients is non-finite ({float(total_norm)}), "
                "so it cannot be clipped; pass error_if_nonfinite=False to scale them anyway"
            )
        coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)  # min(c / (total + 1e-6), 1)
        for g in grads:
            g *= coef.to(g.device)  # gᵢ ← coef · gᵢ, in place: the caller's p.grad
    return total_norm
