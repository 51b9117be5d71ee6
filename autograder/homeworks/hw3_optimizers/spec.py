"""Homework 3, the optimizer zoo: the notebook's spec.

``python -m autograder.build`` turns this into ``assignments/hw3_optimizers/``; the solution regions come
from ``solutions/optim.py`` (the ``_update`` method of each optimizer class, and ``clip_grad_norm_``)
and ``solutions/schedules.py`` (three schedules as plain functions). Points: 12 autograded + 2 manually
graded = 14.

The bookkeeping (``_Zoo``: parameter groups, the step loop, the hyper-parameter checks) and the small
input helpers are provided from ``solutions/``. Homework 3 trains homework 2's network; students do not
get ``solutions/``, so a compact ``MLPRegressor`` with homework 2's interface (hand-written backward,
``optimizer=`` an optimizer class) is provided for the experiment.
"""

from __future__ import annotations

from autograder.build import provided_source
from autograder.cells import Code, Markdown, Methods, Provided, Spec, Task, Written
from solutions import optim
from solutions import schedules as sched

CHECKS = f"{__package__}.checks"  # what the hidden blocks import
REFERENCES = (
    "solutions.optim",
    "solutions.schedules",
)  # the modules of solutions/ its answers come from
LECTURE = "03_optimization"  # lectures/<it>.ipynb

PROVIDED_IMPORTS = """
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim import Optimizer
"""

PROVIDED = [
    optim._real,
    optim._check_range,
    optim._step_counter,
    optim._Zoo,
    optim._grads,
    optim._norm_type,
    sched._integer,
    sched._number,
]

NETWORK = '''
class MLPRegressor:
    """Homework 2's network, compact: Linear → ReLU → Linear on the MSE, with a hand-written backward.

    X (n, d), y (n,). Parameters W1 (d, h), b1 (h,), W2 (h, 1), b2 (1,), He-initialised from
    ``random_state``. ``train(X, y)`` takes ``max_iter`` full-batch steps of ``optimizer(parameters,
    lr=learning_rate)``, as homework 2's ``MLPRegressor(optimizer=...)`` does: each step sets every
    parameter's ``.grad`` to its hand-computed gradient and calls ``step()``. Two extras: ``schedule``
    (a function of the step t = 0, 1, …) multiplies every group's initial lr at step t, and ``max_norm``
    clips the total gradient norm (your ``clip_grad_norm_``) before each step. ``loss_history_`` holds
    the MSE before each step and after the last one.
    """

    def __init__(
        self,
        hidden=32,
        learning_rate=1e-3,
        max_iter=100,
        optimizer=None,
        schedule=None,
        max_norm=None,
        random_state=0,
    ):
        self.hidden, self.learning_rate, self.max_iter = hidden, learning_rate, max_iter
        self.optimizer, self.schedule, self.max_norm = optimizer, schedule, max_norm
        self.random_state = random_state

    def _init(self, d, X):
        g = torch.Generator().manual_seed(self.random_state)
        W1 = torch.randn(d, self.hidden, generator=g, dtype=X.dtype) * math.sqrt(2 / d)
        W2 = torch.randn(self.hidden, 1, generator=g, dtype=X.dtype) * math.sqrt(2 / self.hidden)
        b1, b2 = torch.zeros(self.hidden, dtype=X.dtype), torch.zeros(1, dtype=X.dtype)
        self.params_ = [t.to(X.device) for t in (W1, b1, W2, b2)]

    def loss_and_gradients(self, X, y):
        """The MSE and [∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2], by backpropagation (lecture 2)."""
        W1, b1, W2, b2 = self.params_
        a = X @ W1 + b1  # (n, h)
        h = a.clamp(min=0)  # ReLU
        r = (h @ W2 + b2).reshape(-1) - y  # (n,) residuals
        loss = r @ r / len(y)
        d_out = (2 / len(y)) * r.reshape(-1, 1)  # ∂L/∂ŷ, (n, 1)
        d_a = (d_out @ W2.T) * (a > 0)  # (n, h)
        return loss, [X.T @ d_a, d_a.sum(0), h.T @ d_out, d_out.sum(0)]

    def train(self, X, y):
        self._init(X.shape[1], X)
        optimizer = self.optimizer(self.params_, lr=self.learning_rate)
        base = [group["lr"] for group in optimizer.param_groups]
        losses = []
        for t in range(self.max_iter):
            if self.schedule is not None:
                for group, lr in zip(optimizer.param_groups, base, strict=True):
                    group["lr"] = lr * self.schedule(t)
            loss, grads = self.loss_and_gradients(X, y)
            losses.append(float(loss))
            for p, g in zip(self.params_, grads, strict=True):
                p.grad = g
            if self.max_norm is not None:
                clip_grad_norm_(self.params_, self.max_norm)
            optimizer.step()
        losses.append(float(self.loss_and_gradients(X, y)[0]))
        self.loss_history_ = losses
        return self

    def predict(self, X):
        W1, b1, W2, b2 = self.params_
        return ((X @ W1 + b1).clamp(min=0) @ W2 + b2).reshape(-1)
'''

F64 = "f64 = torch.float64\n"


def task(name: str, points: int, visible: str) -> Task:
    """A task on ``solutions.optim``'s class ``name`` (its ``_update``) or on a plain function."""
    obj = getattr(optim, name, None) or getattr(sched, name)
    functions = (Methods(obj, ("_update",)),) if isinstance(obj, type) else (obj,)
    return Task(name, points, functions, visible, CHECKS)


SPEC = Spec(
    assignment="hw3_optimizers",
    data_files=("diabetes.csv",),
    cells=[
        Markdown(r"""
# Homework 3: the optimizer zoo

**Points: 14** = 12 autograded (the test cell after each task) + 2 for the written answers at the end.
The course counts this homework as part 3 (2 points of the final grade, as parts 1 and 2 on the slides):
your notebook points × 2/14.

[Lecture 3](../../lectures/03_optimization.ipynb) wrote the update rules of gradient descent with
momentum, Nesterov, Adagrad, RMSProp and Adam, and the practice around them: learning-rate decay and
warm-up, and clipping exploding gradients by their norm. Here you implement them **as PyTorch does**,
so that your `SGD`, `Adagrad`, `RMSprop` and `Adam` follow `torch.optim`'s trajectories (to rounding),
and any code written for `torch.optim` (homework 2's `MLPRegressor(optimizer=...)`, PyTorch's
learning-rate schedulers) runs with yours. PyTorch's forms differ from the slides in small ways that
matter; each section names them. Then you race the optimizers on two test functions and on homework
2's network, and explain what you see.

**How it works.** An optimizer is a class; its constructor, its hyper-parameter checks and its
docstring (the update rule as pseudo-code, PyTorch's) are given, and you write one method, `_update`.
Schedules and clipping are functions whose signature and docstring are given. Replace each line that
raises `NotImplementedError` with your code. The cell after a task tests it: visible tests small enough
to check by hand, and hidden tests that run your optimizer for several steps, on several parameter
shapes and groups, with tiny, huge and zero gradients and a learning rate that changes half-way, and
compare every step with `torch.optim` in float64 (and in float32). Run all cells top to bottom before
you submit (*Kernel → Restart & Run All*); a test cell that stays silent or prints `visible tests
passed` has passed. The notebook runs in well under a minute on a CPU.

**What the hidden tests accept.** After every step, every *element* of every parameter is compared
with `torch.optim`'s run of the same steps: it may differ by at most 10⁻⁹ × the distance that element
has travelled so far in `torch.optim`'s run (the sum of the sizes of its steps) + 10⁻¹³ × its largest
size so far (in float32: 10⁻⁴ and 10⁻⁵). Any correct arrangement of the formulas passes (rounding
differs by far less); a wrong one fails even if only a few elements are off. The tests also check that
each parameter is updated in place and keeps its dtype (float32 stays float32); that `step()` never
writes into `p.grad`, nor into the group's hyper-parameters (`group["lr"]`, …: a decayed rate goes
into a local variable); that the state never *is* `p.grad` (the caller may overwrite `p.grad` in place
between steps, as `zero_grad(set_to_none=False)` and gradient accumulation do: store `grad.clone()`,
not `grad`); and they use several parameter groups with different hyper-parameters, and parameters
whose `.grad` is None at some steps, even at the first.

**Rules.** Raw tensor operations only: an optimizer that subclasses or calls one of `torch.optim`'s
optimizers, or uses `torch.autograd`, scores 0 on its task (subclassing the `Optimizer` base class, as
the provided `_Zoo` does, is the allowed way to get parameter groups and `state_dict`).
"""),
        Markdown(r"""
## Provided code

- `_Zoo(Optimizer)`: the base class of your optimizers. `torch.optim.Optimizer` keeps the
  **parameter groups** (`self.param_groups`: a list of dicts, each with `"params"`, a list of tensors,
  and that group's hyper-parameters: `"lr"`, `"momentum"`, …) and the **state** (`self.state[p]`: a
  dict per parameter tensor, empty until you fill it; it is what `state_dict()` saves). `_Zoo.step()`
  loops over the groups and their parameters, skips those whose `.grad` is None, and calls your
  `self._update(p, p.grad, group)` under `torch.no_grad()`, once per parameter tensor.
- `_check_range`, `_real`: the hyper-parameter checks the constructors use; `_step_counter()`: a fresh
  step count, a 0-d tensor as `torch.optim` keeps it (`state["step"] += 1`; read it with `.item()`).
- `_grads(parameters)`: the gradients of a tensor or an iterable of tensors, skipping `None`;
  `_norm_type(norm_type)` checks a norm order; `_integer`, `_number` check a schedule's arguments.

**Your `_update(p, grad, group)`** updates one parameter tensor `p` **in place** (`p -= …` or
`p.sub_(…)`: `p = p − …` would only rebind a local name), reads the hyper-parameters from
`group`, and keeps what it remembers between steps in `self.state[p]`, created at the first step with
`torch.zeros_like(p)` (same shape, dtype and device as `p`; `torch.zeros(p.shape)` would be float32).
`grad` has `p`'s shape. **Never modify `grad`**: it is `p.grad`, which the caller may still read;
`grad.add(p, alpha=λ)` makes a new tensor, `grad.add_(…)` would not. Run the cell.
"""),
        Provided("provided_code", provided_source(PROVIDED_IMPORTS, PROVIDED)),
        Markdown(r"""
## 1. SGD with momentum

The lecture's momentum keeps a **velocity** v, a running sum of past steps:

$$v \leftarrow \beta v - \alpha \nabla f(x), \qquad x \leftarrow x + v.$$

PyTorch keeps a **buffer of gradients** b instead and multiplies it by the learning rate γ when it
steps (μ is its name for β):

$$b_t = \mu b_{t-1} + (1 - \tau) g_t \ \ (b_1 = g_1), \qquad \theta_t = \theta_{t-1} - \gamma b_t.$$

With τ = 0 (no dampening) and a constant rate the two are the same trajectory, with b = −v/α. They part
as soon as the rate changes: PyTorch applies the new γ to the whole remembered sum at once, the
lecture only to the new gradient. Since schedulers change γ, the difference is real; follow PyTorch.

- **Dampening** τ scales the new gradient in the buffer, but *not at the first step*: b₁ = g₁.
- **Nesterov.** The lecture evaluates the gradient at the look-ahead point:
  v ← βv − α∇f(x + βv). PyTorch (after Sutskever et al., 2013) changes variables so that its parameters
  *are* the look-ahead points; the update then only needs the gradient at the current parameters:
  θ ← θ − γ(g + μb), with the buffer b just updated. No second gradient evaluation.
- **Weight decay** λ (an L2 penalty λ/2‖θ‖²) adds λθ to the gradient *first*: g ← g + λθ, so the
  buffer sees it too.
- Plain SGD (μ = 0) keeps no state: θ ← θ − γg.

Shapes: `p`, `grad` and the buffer all have the parameter's shape; everything is elementwise.

**Task 1 (2 points).** Write `SGD._update`. The state key is `"momentum_buffer"`.
"""),
        task(
            "SGD",
            2,
            F64
            + """
p = torch.tensor([1.0, -2.0], dtype=f64)
opt = SGD([p], lr=0.1)
p.grad = torch.tensor([0.5, 1.0], dtype=f64)
opt.step()
assert not torch.equal(p, torch.tensor([1.0, -2.0], dtype=f64)), (
    "p did not move: update the parameter in place (p -= … or p.sub_(…)); p = p − … rebinds a name"
)
assert torch.allclose(p, torch.tensor([0.95, -2.1], dtype=f64)), f"θ − γg = [0.95, −2.1], got {p}"


def two_steps(**hyper):
    p = torch.zeros(1, dtype=f64)
    opt = SGD([p], lr=1.0, **hyper)
    for _ in range(2):
        p.grad = torch.ones(1, dtype=f64)
        opt.step()
    return float(p)


assert abs(two_steps(momentum=0.9) + 2.9) < 1e-12, "b₁ = 1, θ = −1; b₂ = 0.9 + 1, θ = −2.9"
assert abs(two_steps(momentum=0.9, dampening=0.5) + 2.4) < 1e-12, "b₁ = g₁ undamped, b₂ = 0.9 + 0.5"
assert abs(two_steps(momentum=0.9, nesterov=True) + 4.61) < 1e-12, "steps g + μb: 1.9, then 2.71"
p = torch.ones(3, dtype=f64)
opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
p.grad = g = torch.zeros(3, dtype=f64)
opt.step()
assert torch.equal(g, torch.zeros(3, dtype=f64)), "p.grad must not change: make a new tensor g + λθ"
assert torch.allclose(p, torch.full((3,), 0.95, dtype=f64)), "g + λθ = 0.5, θ = 1 − 0.1·0.5"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 2. Adagrad

Adagrad divides each coordinate's step by the root of the sum of all its past squared gradients, so
coordinates with large gradients slow down and rare ones keep large steps. The lecture:

$$G \leftarrow G + g^2, \qquad x \leftarrow x - \frac{\alpha}{\sqrt{G + \varepsilon}}\, g.$$

PyTorch puts ε **outside** the root and adds two options:

$$\text{sum}_t = \text{sum}_{t-1} + g_t^2, \qquad
\theta_t = \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{\text{sum}_t} + \varepsilon}, \qquad
\tilde\gamma_t = \frac{\gamma}{1 + (t-1)\,\eta}.$$

- ε inside or outside is not a detail: while G ≈ 0, √(G + ε) ≈ √ε (10⁻⁵ for ε = 10⁻¹⁰) whereas
  √G + ε ≈ 10⁻¹⁰. The lecture's form is PyTorch's with `initial_accumulator_value=ε, eps=0`.
- `sum` starts at `initial_accumulator_value` (the constructor creates it, with `step`, for every
  parameter: read the class); `lr_decay` η shrinks the rate with the step count t = 1, 2, … (no decay
  at the first step); weight decay adds λθ to g first, so the sum of squares sees it.
- All squares and roots are elementwise: `sum` has the parameter's shape.

**Task 2 (1 point).** Write `Adagrad._update`.
"""),
        task(
            "Adagrad",
            1,
            F64
            + """
p = torch.zeros(2, dtype=f64)
opt = Adagrad([p], lr=1.0, eps=0.0)
assert torch.equal(opt.state[p]["sum"], torch.zeros(2, dtype=f64)), "the constructor creates sum"
p.grad = torch.tensor([3.0, -0.5], dtype=f64)
opt.step()
assert torch.allclose(p, torch.tensor([-1.0, 1.0], dtype=f64)), f"first step: −g/|g|, got {p}"
p.grad = torch.tensor([4.0, 0.0], dtype=f64)
opt.step()
assert torch.allclose(p, torch.tensor([-1.8, 1.0], dtype=f64)), "sum = 9 + 16: −1 − 4/5 = −1.8"
assert torch.allclose(opt.state[p]["sum"], torch.tensor([25.0, 0.25], dtype=f64)), "sum of g²"
q = torch.zeros(1, dtype=f64)
opt = Adagrad([q], lr=1.0, lr_decay=1.0, eps=0.0)
for _ in range(2):
    q.grad = torch.ones(1, dtype=f64)
    opt.step()
assert abs(float(q) + 1 + 0.5 / 2**0.5) < 1e-12, "step 2 uses γ/(1 + η) and sum = 2"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 3. RMSprop

Adagrad's sum only grows, so its steps only shrink. RMSProp replaces the sum by an exponential moving
average, which forgets. The lecture (γ the decay, α the rate):

$$G \leftarrow \gamma G + (1 - \gamma) g^2, \quad x \leftarrow x - \frac{\alpha g}{\sqrt{G + \varepsilon}}.$$

PyTorch calls the decay `alpha` (default 0.99; the slides usually take 0.9) and the rate `lr`, and,
again, puts ε outside the root: v ← αv + (1 − α)g², θ ← θ − γ g/(√v + ε). As v starts at 0 and
decays, no initial value can make up for ε's place: the two forms agree only at ε = 0. Mind which
weight multiplies which term: α the **old average**, 1 − α the **new square**. Two options:

- **centered**: also average the gradients, g_ave ← α g_ave + (1 − α)g, and divide by
  √(v − g_ave²) + ε, an estimate of the gradient's standard deviation instead of its root mean square;
- **momentum** μ > 0: a buffer of the *scaled* gradients, b ← μb + g/(√ṽ + ε), and θ ← θ − γb.

Weight decay adds λθ to g first. State: `step`, `square_avg` (= v), `grad_avg` when centered,
`momentum_buffer` when μ > 0, each of the parameter's shape (read the pseudo-code in the docstring).

**Task 3 (2 points).** Write `RMSprop._update`.
"""),
        task(
            "RMSprop",
            2,
            F64
            + """
p = torch.zeros(2, dtype=f64)
opt = RMSprop([p], lr=1.0, alpha=0.5, eps=0.0)
p.grad = torch.tensor([2.0, -2.0], dtype=f64)
opt.step()
assert torch.allclose(opt.state[p]["square_avg"], torch.full((2,), 2.0, dtype=f64)), "v = 0.5·4"
assert torch.allclose(p, torch.tensor([-(2**0.5), 2**0.5], dtype=f64)), f"−g/√2, got {p}"
q = torch.zeros(1, dtype=f64)
opt = RMSprop([q], lr=1.0, alpha=0.5, eps=0.0, centered=True)
q.grad = torch.ones(1, dtype=f64)
opt.step()
assert abs(float(q) + 2.0) < 1e-12, "v = 0.5, g_ave = 0.5: −1/√(0.5 − 0.25) = −2"
r = torch.zeros(1, dtype=f64)
opt = RMSprop([r], lr=1.0, alpha=0.5, eps=1e-8)
r.grad = torch.full((1,), 1e-8, dtype=f64)
opt.step()
assert abs(float(r) + 1 / (0.5**0.5 + 1)) < 1e-9, (
    f"ε goes outside the root: −g/(√v + ε) = −1e-8/(0.71e-8 + 1e-8) ≈ −0.586, got {float(r):.3g} "
    "(√(v + ε) gives ≈ −1e-4)"
)
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 4. Adam

Adam combines momentum (a moving average m of the gradients) with RMSProp (a moving average v of their
squares). The lecture's slide:

$$v \leftarrow \beta_1 v + (1 - \beta_1) g, \qquad G \leftarrow \beta_2 G + (1 - \beta_2) g^2, \qquad
x \leftarrow x - \frac{\alpha}{\sqrt{G + \varepsilon}}\, v.$$

Both averages start at 0, so early on they are biased towards 0: after one step m = (1 − β₁)g, a tenth
of the gradient for β₁ = 0.9. PyTorch's Adam (Kingma & Ba's) **corrects the bias**, and puts ε outside
the root:

$$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
\hat m_t = \frac{m_t}{1 - \beta_1^t}, \quad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \quad
\theta_t = \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}.$$

t = 1, 2, … counts the steps **of each parameter** (`state["step"]`). At t = 1, m̂ = g and v̂ = g², so
the first step moves every coordinate by about γ, whatever the gradient's size; without the correction
it would be (1 − β₁)/√(1 − β₂) ≈ 3.2 times that for the default betas (0.9, 0.999).

- **amsgrad**: keep v_max ← max(v_max, v) (of the raw v) and use v̂ = v_max/(1 − β₂ᵗ), so the
  denominator never shrinks.
- **weight decay**: with `decoupled_weight_decay=False` (L2), g ← g + λθ before both moments; with
  `True` (this is AdamW), θ ← θ − γλθ *first*, and the moments never see λθ.
- PyTorch computes the last line as θ ← θ − (γ/(1 − β₁ᵗ)) · m/(√v/√(1 − β₂ᵗ) + ε): the same quantity,
  arranged to save operations. m̂ and v̂ computed explicitly, as in the formulas above, agree with it to
  rounding, well within the tests' tolerance (see the top).

State: `step`, `exp_avg` (m), `exp_avg_sq` (v), `max_exp_avg_sq` when amsgrad.

**Task 4 (2 points).** Write `Adam._update`.
"""),
        task(
            "Adam",
            2,
            F64
            + """
p = torch.zeros(2, dtype=f64)
opt = Adam([p], lr=0.1)
for t in (1, 2):
    p.grad = torch.tensor([3.0, -0.01], dtype=f64)
    opt.step()
    # with a constant gradient m̂ = g and v̂ = g²: every step moves each coordinate by γ·g/(|g| + ε)
    expected = torch.tensor([-0.1, 0.1], dtype=f64) * t
    assert torch.allclose(p, expected, atol=1e-6), (
        f"after step {t} with a constant gradient, θ = {expected.tolist()} (each step moves by "
        f"γ = 0.1), got {p.tolist()}: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ (the bias correction)"
    )
assert opt.state[p]["step"].item() == 2, "state['step'] counts the steps"
q = torch.ones(1, dtype=f64)
opt = Adam([q], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
q.grad = torch.zeros(1, dtype=f64)
opt.step()
assert abs(float(q) - 0.95) < 1e-12, "AdamW with g = 0: θ ← θ − γλθ = 0.95, and a zero Adam step"
r = torch.zeros(1, dtype=f64)
opt = Adam([r], lr=0.1, eps=1e-8)
r.grad = torch.full((1,), 1e-8, dtype=f64)
opt.step()
assert abs(float(r) + 0.05) < 1e-9, (
    f"ε goes outside the root: −γ m̂/(√v̂ + ε) = −0.1·1e-8/(1e-8 + 1e-8) = −0.05, got {float(r):.3g} "
    "(√(v̂ + ε) gives ≈ −1e-5)"
)
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 5. Learning-rate schedules

A schedule is a function of the step t = 0, 1, 2, … (the number of optimizer steps taken so far) that
gives the learning rate. Here it is a plain function `schedule(t, base_lr=1.0, **hyper)`: with the
default `base_lr=1.0` it is the *multiplier* of the base rate. Setting `group["lr"]` before each step
is all a scheduler does (`torch.optim.lr_scheduler.LambdaLR(opt, lambda t: …)` does exactly that).

- **Step decay** (PyTorch's `StepLR`): lr(t) = base_lr · γ^⌊t / step_size⌋, floor division.
- **Linear warm-up** (`LinearLR`): from s · base_lr at t = 0 up to base_lr at t = W, then flat:
  lr(t) = base_lr · (s + (1 − s) · min(t, W)/W), with s = `start_factor` (0 by default: the first step
  does nothing) and W = `warmup_steps` (0 means no warm-up). Large rates at the start, while Adam's v is
  still a poor estimate or the weights are random, can throw a network far off; warm-up avoids it.
- **Cosine annealing** (`CosineAnnealingLR`): from base_lr at t = 0 down to η_min at t = T_max along
  half a cosine, lr(t) = η_min + (base_lr − η_min)(1 + cos(π min(t, T_max)/T_max))/2. Unlike
  PyTorch's, which climbs back up after T_max, this one **stays** at η_min. η_min is an absolute
  rate, not a fraction of base_lr.

Return a Python `float`, computed in float64 (Python floats, or float64 numpy/torch): the hidden tests
accept a rate within 10⁻¹² × max(base_lr, the exact rate) of the exact value, at every step from
t = 0 to well past the end of the warm-up or of T_max, with `base_lr` and every hyper-parameter given
other values than their defaults. The argument checks (`_integer`, `_number`, provided) are part of
the reference; the hidden tests do not grade them.

**Tasks 5–7 (1 point each).** Write `step_decay`, `linear_warmup` and `cosine_annealing`.
"""),
        task(
            "step_decay",
            1,
            """
rates = [step_decay(t, 0.1, step_size=3, gamma=0.5) for t in range(7)]
assert all(isinstance(r, float) for r in rates), "return a Python float"
expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
close = all(abs(r - e) < 1e-15 for r, e in zip(rates, expected, strict=True))
assert close, f"expected {expected}, got {rates}"
assert step_decay(10, step_size=5) == 0.1**2, "the default base_lr is 1: a multiplier"
print("visible tests passed")
""",
        ),
        task(
            "linear_warmup",
            1,
            """
rates = [linear_warmup(t, 0.1, warmup_steps=4) for t in range(7)]
assert all(isinstance(r, float) for r in rates), "return a Python float"
expected = [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1]
close = all(abs(r - e) < 1e-15 for r, e in zip(rates, expected, strict=True))
assert close, f"expected {expected}, got {rates}"
assert abs(linear_warmup(0, warmup_steps=2, start_factor=0.5) - 0.5) < 1e-15, "s · base_lr at t = 0"
assert linear_warmup(0, 0.3, warmup_steps=0) == 0.3, "warmup_steps=0: no warm-up"
print("visible tests passed")
""",
        ),
        task(
            "cosine_annealing",
            1,
            """
rates = [cosine_annealing(t, T_max=4) for t in range(7)]
assert all(isinstance(r, float) for r in rates), "return a Python float"
expected = [1.0, (1 + 2**-0.5) / 2, 0.5, (1 - 2**-0.5) / 2, 0.0, 0.0, 0.0]
close = all(abs(r - e) < 1e-15 for r, e in zip(rates, expected, strict=True))
assert close, f"expected {expected}, got {rates}"
assert abs(cosine_annealing(2, 0.1, T_max=4, eta_min=0.01) - 0.055) < 1e-15, "η_min + (b − η_min)/2"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 6. Gradient clipping by norm

A single bad batch can produce a huge gradient (an exploding gradient) and throw the weights far away.
The lecture's remedy: if ‖g‖ ≥ c then g ← c · g/‖g‖: the direction is kept, the length capped at c.
PyTorch's `clip_grad_norm_` does it for **all the gradients of a model together**: their total norm is
the norm of all of them concatenated into one vector, computed from the per-tensor norms,

$$\text{total} = \big\|(\|g_1\|_p, \dots, \|g_k\|_p)\big\|_p \qquad (p = \infty:\ \max_i |g_i|),$$

and every gradient is multiplied in place by the **same** factor
coef = min(max_norm / (total + 10⁻⁶), 1), always (no `if`: multiplying by 1 is cheaper than waiting for
a GPU to say whether total > max_norm). The 10⁻⁶ guards against dividing by 0; the clipped norm is then
slightly below max_norm. Clipping each tensor by its own norm, or clamping each element (that is
`clip_grad_value_`), changes the gradient's direction. Return the total norm **before** clipping, a 0-d
tensor of the gradients' dtype (training loops log it; a tensor 0.0 when no parameter has a gradient),
and skip parameters whose `.grad` is None. Scale each `p.grad` tensor itself (`g.mul_(coef)`):
`p.grad = coef * p.grad` would leave the caller's tensor unchanged. With `error_if_nonfinite=True` a
total norm that is inf or NaN raises a `RuntimeError` instead; with `False` (the default) nothing is
raised and that inf (or NaN) is returned. The hidden tests take `norm_type` 1, 2 (its default), 3 and ∞,
several tensors, float64 and float32, and compare the total and every gradient element with PyTorch's:
|x − x_torch| ≤ 10⁻¹² |x_torch| in float64 (10⁻⁵ in float32).

**Task 8 (2 points).** Write `clip_grad_norm_`.
"""),
        task(
            "clip_grad_norm_",
            2,
            F64
            + """
a, b, c = torch.zeros(2, dtype=f64), torch.zeros(1, dtype=f64), torch.zeros(1, dtype=f64)
a.grad, b.grad = torch.tensor([3.0, 4.0], dtype=f64), torch.tensor([12.0], dtype=f64)
grad_a = a.grad
total = clip_grad_norm_([a, b, c], max_norm=1.0)
assert isinstance(total, torch.Tensor) and total.shape == (), "return the total norm, a 0-d tensor"
assert abs(float(total) - 13.0) < 1e-12, f"‖(‖[3, 4]‖, ‖[12]‖)‖ = ‖(5, 12)‖ = 13, got {total}"
assert a.grad is grad_a, "scale each p.grad itself in place (g.mul_(coef)), not a new tensor"
coef = 1.0 / (13.0 + 1e-6)
assert torch.allclose(a.grad, torch.tensor([3.0, 4.0], dtype=f64) * coef, rtol=1e-14), (
    f"every gradient times the same coef = 1/(13 + 1e-6), 13 the norm of all of them together: "
    f"a.grad ≈ [0.231, 0.308], got {a.grad.tolist()}"
)
assert torch.allclose(b.grad, torch.tensor([12.0], dtype=f64) * coef, rtol=1e-14), (
    f"b.grad ≈ [0.923]: the same coef as a.grad, not b's own norm; got {b.grad.tolist()}"
)
assert c.grad is None, "a parameter without a gradient is skipped"
a.grad = torch.tensor([3.0, -4.0], dtype=f64)
total = clip_grad_norm_(a, 10.0, norm_type=float("inf"))
assert float(total) == 4.0 and torch.equal(a.grad, torch.tensor([3.0, -4.0], dtype=f64)), (
    "∞-norm max|gᵢ| = 4 ≤ 10: unchanged (coef = 1)"
)
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 7. Experiment: the zoo on two test functions

Two functions of two variables, with their gradients written out (no autograd):

- an **ill-conditioned quadratic** f(x) = ½(x₁² + 25 x₂²): the curvature is 25 times larger along x₂
  than along x₁ (condition number 25); plain gradient descent must keep γ < 2/25 to stay stable along
  x₂, which makes it slow along x₁;
- the **Rosenbrock** function f(x) = (1 − x₁)² + 100(x₂ − x₁²)²: a curved, narrow valley with its
  minimum at (1, 1).

The cell runs each of your optimizers from the same start, with a learning rate tuned by hand for
each, and draws the paths over the contour lines. Run it and look at the shapes of the paths.
"""),
        Code("""
import functools

import matplotlib.pyplot as plt


def quadratic(x):
    return 0.5 * (x[0] ** 2 + 25 * x[1] ** 2), torch.stack([x[0], 25 * x[1]])


def rosenbrock(x):
    r = x[1] - x[0] ** 2
    value = (1 - x[0]) ** 2 + 100 * r**2
    return value, torch.stack([-2 * (1 - x[0]) - 400 * x[0] * r, 200 * r])


def path(make_optimizer, f, start, steps):
    x = torch.tensor(start, dtype=torch.float64)
    opt = make_optimizer([x])
    points = [x.clone()]
    for _ in range(steps):
        x.grad = f(x)[1]
        opt.step()
        points.append(x.clone())
    return torch.stack(points).numpy()


ZOO = {
    "quadratic": (
        quadratic,
        [-4.0, 1.5],
        60,
        (-4.5, 4.5, -2.0, 2.0),
        {
            "SGD": functools.partial(SGD, lr=0.075),
            "SGD momentum 0.9": functools.partial(SGD, lr=0.01, momentum=0.9),
            "SGD Nesterov 0.9": functools.partial(SGD, lr=0.01, momentum=0.9, nesterov=True),
            "Adagrad": functools.partial(Adagrad, lr=1.0),
            "RMSprop": functools.partial(RMSprop, lr=0.1, alpha=0.9),
            "Adam": functools.partial(Adam, lr=0.1),
        },
    ),
    "Rosenbrock": (
        rosenbrock,
        [-1.5, 2.0],
        1500,
        (-2.0, 2.0, -1.0, 3.0),
        {
            "SGD": functools.partial(SGD, lr=1e-3),
            "SGD momentum 0.9": functools.partial(SGD, lr=2e-4, momentum=0.9),
            "SGD Nesterov 0.9": functools.partial(SGD, lr=2e-4, momentum=0.9, nesterov=True),
            "Adagrad": functools.partial(Adagrad, lr=0.5),
            "RMSprop": functools.partial(RMSprop, lr=0.01, alpha=0.9),
            "Adam": functools.partial(Adam, lr=0.05),
        },
    ),
}

fig, axes = plt.subplots(2, 2, figsize=(13, 10), height_ratios=(3, 2))
for (top, bottom), (name, (f, start, steps, box, zoo)) in zip(axes.T, ZOO.items(), strict=True):
    u, w = np.meshgrid(np.linspace(*box[:2], 300), np.linspace(*box[2:], 300))
    values = f(torch.tensor(np.stack([u, w])))[0].numpy()
    top.contour(u, w, values, levels=np.logspace(-1, 3.5, 20), cmap="viridis", alpha=0.4)
    for label, make in zoo.items():
        points = path(make, f, start, steps)
        losses = [float(f(torch.tensor(x))[0]) for x in points]
        top.plot(points[:, 0], points[:, 1], ".-", ms=2, lw=1, label=label)
        bottom.semilogy(losses, label=f"{label}: f = {losses[-1]:.1e}")
    top.set_xlim(*box[:2])
    top.set_ylim(*box[2:])
    top.set_title(f"{name}: the paths")
    top.legend(fontsize=8)
    bottom.set_xlabel("step")
    bottom.set_ylabel("f(x)")
    bottom.legend(fontsize=8)
plt.show()
"""),
        Markdown(r"""
## 8. Experiment: training homework 2's network with the zoo

Homework 2's `MLPRegressor` takes an optimizer class and calls its `step()` after setting every
parameter's `.grad` to the gradient its hand-written backward computed: any of your optimizers plugs
in. A compact version (one hidden layer of 32 ReLU units, full-batch steps) is provided; it also takes
a `schedule` (your schedules, as multipliers) and a `max_norm` for your `clip_grad_norm_`. Run the
cell below it: it trains the network on the diabetes data (442 patients, 10 features, standardised
target) for 300 steps with each optimizer, and Adam with a large rate (0.1) twice: at a constant
rate, and with a 30-step linear warm-up, cosine decay to 0 and clipping at norm 1.
"""),
        Provided("provided_network", NETWORK),
        Code("""
device = "cuda" if torch.cuda.is_available() else "cpu"  # a small network: the CPU is as fast
data = np.loadtxt("diabetes.csv", delimiter=",", skiprows=1)
data = (data - data.mean(axis=0)) / data.std(axis=0)
X_d = torch.tensor(data[:, :-1], dtype=torch.float64, device=device)
y_d = torch.tensor(data[:, -1], dtype=torch.float64, device=device)
steps = 300


def warmup_then_cosine(t):
    return linear_warmup(t, warmup_steps=30) * cosine_annealing(t, T_max=steps)


runs = {
    "SGD, lr 0.05": dict(optimizer=SGD, learning_rate=0.05),
    "SGD momentum 0.9, lr 0.05": dict(
        optimizer=functools.partial(SGD, momentum=0.9), learning_rate=0.05
    ),
    "Adagrad, lr 0.05": dict(optimizer=Adagrad, learning_rate=0.05),
    "RMSprop, lr 0.003": dict(optimizer=RMSprop, learning_rate=0.003),
    "Adam, lr 0.01": dict(optimizer=Adam, learning_rate=0.01),
    "Adam, lr 0.1": dict(optimizer=Adam, learning_rate=0.1),
    "Adam, lr 0.1, warm-up + cosine, clip 1": dict(
        optimizer=Adam, learning_rate=0.1, schedule=warmup_then_cosine, max_norm=1.0
    ),
}
fig, ax = plt.subplots(figsize=(8, 4.5))
for label, kwargs in runs.items():
    model = MLPRegressor(max_iter=steps, **kwargs).train(X_d, y_d)
    losses = model.loss_history_
    ax.semilogy(losses, label=f"{label}: final {losses[-1]:.3f}")
ax.set_xlabel("step")
ax.set_ylabel("training MSE (standardised target)")
ax.legend(fontsize=8)
plt.show()
"""),
        Written(
            "written_paths",
            1,
            r"""
**Question 1 (1 point, graded by hand).** On the quadratic: why does plain SGD zig-zag across the
valley and crawl along it, and what does momentum change? Why do the paths of RMSprop and Adam start
out along a diagonal (both coordinates moving by about the same amount), whatever the gradient's
direction? Write 2–4 sentences below.
""",
            r"""
Plain SGD's step along x₂ is γ·25x₂ with γ = 0.075 close to the stability limit 2/25, so x₂ is
multiplied by 1 − 25γ ≈ −0.9 every step (it flips sign: the zig-zag), while x₁ shrinks only by
1 − γ = 0.925 per step: the flat direction is slow. Momentum averages the gradients: the alternating
x₂ components cancel in the buffer, the consistent x₁ components add up, so it moves faster along the
valley (and overshoots a little, spiralling in). RMSprop and Adam divide each coordinate by the root of
its own average squared gradient, so at first every coordinate moves by about γ·sign(g) (Adam's first
step is exactly γ·g/(|g| + ε)), a diagonal step independent of the curvature; the scale of each
direction only matters later, as the averages forget.
""",
        ),
        Written(
            "written_forms",
            1,
            r"""
**Question 2 (1 point, graded by hand).** (a) Suppose the learning rate of SGD with momentum β = 0.9
drops from α to α/10 at step k (a step decay). Compare the step at k + 1 of PyTorch's form
(θ ← θ − γb) and of the lecture's (v ← βv − αg, x ← x + v), in terms of the remembered history. (b) In
the training run, compare the two runs of Adam at lr 0.1: what happens in the first steps without
warm-up, and why? What changes at the end with the cosine decay? Write 2–4 sentences below.
""",
            r"""
(a) PyTorch's buffer b is a sum of past gradients, b = Σ μᵗ⁻ˢ g_s, and the whole of it is multiplied by
the current rate: right after the drop the step is (α/10)·b, the momentum is cut by 10 at once. The
lecture's velocity v = −Σ βᵗ⁻ˢ α_s g_s remembers each gradient with the rate it had, so its step
after the drop is still mostly the old momentum (0.9 × the previous step, plus a small new term) and
it slows down gradually, over about 1/(1 − β) = 10 steps. (b) At a constant rate of 0.1 the loss
first jumps up (to about twice its initial value) before it falls: Adam's first steps move every
weight by about the full rate whatever its gradient (m̂/√v̂ ≈ ±1 while the averages hold one or two
gradients), a large simultaneous change of all the random initial weights. With the warm-up the rate
grows from 0, the first steps are small while v is a poor estimate, and the loss falls from the start.
At the end the constant-rate run keeps jittering around its level (its last loss is above its best),
while the decayed run's steps shrink to 0 and the loss settles smoothly (here slightly higher after
300 steps, as it spent its last steps at small rates).
""",
        ),
        Markdown("""
That's all. Restart the kernel and run all cells before you submit.
"""),
    ],
)
