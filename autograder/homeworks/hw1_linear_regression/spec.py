"""Homework 1, gradient descent for linear and logistic regression: the notebook's spec.

``python -m autograder.build`` turns this into ``assignments/hw1_linear_regression/``; the solution
regions come from ``solutions/linear_regression.py``. Points: 10 autograded + 2 manually graded = 12,
which the course scales to the 2 points the slides give homework part 1.
"""

from __future__ import annotations

from autograder.build import provided_source
from autograder.cells import Code, Documented, Markdown, Provided, Spec, Task, Written
from solutions import _validate as validate
from solutions import linear_regression as lr

CHECKS = f"{__package__}.checks"  # what the hidden blocks import
REFERENCES = ("solutions.linear_regression",)  # the modules of solutions/ its answers come from
LECTURE = "01_linear_models_to_neural_networks"  # lectures/<it>.ipynb

PROVIDED_IMPORTS = """
import numbers
import warnings

import numpy as np
import torch
from torch import Tensor
"""

PROVIDED = [
    validate.describe,
    validate.as_float_tensor,
    validate.check_finite,
    validate.as_matrix,
    validate.as_vector,
    validate.check_positive,
    validate.check_count,
    lr.IllConditionedError,
    lr._check_Xyw,
    lr._check_labels,
    lr._initial_weights,
    lr._warn_if_diverged,
    lr._batch_order,
]

F64 = "f64 = torch.float64\n"


def task(name: str, points: int, visible: str, functions: tuple | None = None) -> Task:
    return Task(name, points, functions or (getattr(lr, name),), visible, CHECKS)


SPEC = Spec(
    assignment="hw1_linear_regression",
    data_files=("diabetes.csv",),
    cells=[
        Markdown(r"""
# Homework 1: gradient descent for linear and logistic regression

**Points: 12** = 10 autograded (the test cell after each task) + 2 for the written answer at the end.
The course counts this homework as part 1 (2 points of the final grade): your notebook points × 2/12.

You will write, with raw PyTorch tensors (no `torch.autograd`, no `torch.nn`), the pieces of
[lecture 1](../../lectures/01_linear_models_to_neural_networks.ipynb):
the intercept column, the mean squared error and its gradient, the closed-form solution, full-batch
gradient descent, mini-batch SGD, the sigmoid and the log-loss gradient. Then you run them on real data
and explain what you see.

**How it works.** Each task is a function whose signature and docstring (the contract: shapes, what it
returns) are given; replace the line that raises `NotImplementedError` with your code. The cell after
it tests your function: the tests you can see (shapes, a case small enough to check by hand), and
hidden tests that compare your function with a reference on random inputs of several shapes and
extreme values. Run all
cells top to bottom before you submit (*Kernel → Restart & Run All*); a test cell that stays silent or
prints `visible tests passed` has passed.

**Accuracy.** The hidden tests compare your result with the reference element by element: an element e
passes when |e − r| ≤ rtol·|r| + atol, where r is the reference's element. Each task states its rtol and
atol; atol is sized to the numbers the element is computed from, so any correct formula, in any order of
operations, passes. Float32 inputs get the float32 tolerances the task states. The hidden tests also
call every function with non-default arguments and float32 inputs, and check that it leaves its input
tensors unchanged.

**Conventions** (as in lecture 1): `X: (n, d)` holds one example per row, `w: (d,)`, `y: (n,)`. Functions
follow their inputs: float64 in, float64 out, float32 in, float32 out (every returned tensor, the losses
too), the same device. Never change an input tensor in place. Use float64 throughout. Never reshape
`y` to `(n, 1)`: `X @ w - y` would broadcast to an `(n, n)` matrix.
"""),
        Markdown(r"""
## Provided code

Input checks and small helpers you may call (you do not have to). `as_matrix(X, "X")` turns `X` into a
finite 2-D float tensor or raises a `ValueError` that names it; `as_vector(y, "y", n, like=X)` does the
same for a vector of `n` elements with `X`'s dtype; `_check_Xyw(X, y, w)` checks all three at once;
`_batch_order(n, generator, device)` is the random order of the rows for one epoch of SGD. Run the cell.
"""),
        Provided("provided_code", provided_source(PROVIDED_IMPORTS, PROVIDED)),
        Markdown(r"""
## 1. Linear regression and the intercept

The model is ŷ = Xw. A bias b is the weight of a feature that is always 1: prepend a column of ones to X,
and ŷᵢ = w₀ · 1 + w₁xᵢ₁ + … + w_d x_id, so **b = w[0]**. X of shape (n, d) becomes (n, d + 1).

**Task 1 (1 point).** Write `add_intercept`. Keep X's dtype and device (`torch.ones(..., dtype=X.dtype,
device=X.device)`) and do not change X in place. Graded: the first column exactly 1, the others X's
values (rtol 1e-8).
"""),
        task(
            "add_intercept",
            1,
            F64
            + """
X = torch.tensor([[3.0], [5.0]], dtype=f64)
Xa = add_intercept(X)
assert isinstance(Xa, torch.Tensor), f"return a torch.Tensor, got {type(Xa).__name__}"
assert Xa.shape == (2, 2), f"X of shape (2, 1) must become (2, 2), got {tuple(Xa.shape)}"
assert torch.equal(Xa[:, 0], torch.ones(2, dtype=f64)), "the FIRST column must be ones: b = w[0]"
assert torch.equal(Xa[:, 1:], X), "the other columns must be X, unchanged"
assert Xa.dtype == f64, f"keep X's dtype (float64), got {Xa.dtype}"
assert add_intercept(torch.zeros(4, 3, dtype=f64)).shape == (4, 4), "(4, 3) must become (4, 4)"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 2. The loss and its gradient

The mean squared error of predictions ŷ against targets y, both (n,):

$$L = \frac{1}{n}\sum_{i=1}^n (\hat y_i - y_i)^2 = \frac{1}{n}(Xw - y)^\top (Xw - y).$$

Its gradient with respect to w, a vector of shape (d,) like w:

$$\nabla L(w) = \frac{2}{n} X^\top (Xw - y).$$

Shapes: `X @ w` is (n,), the residual `X @ w - y` is (n,), `X.T @ residual` is (d,).

**The worked example of the lecture.** y = wx + b with w = 1, b = 0, one example x = 3, y = 7. With the
intercept, X = [[1, 3]] and the weights are [b, w] = [0, 1]: ŷ = 3, L = (3 − 7)² = 16, and
∂L/∂b = 2(ŷ − y) · 1 = −8, ∂L/∂w = 2(ŷ − y) · 3 = −24, so ∇L = [−8, −24].

**Task 2 (1 point).** Write `mse`; it returns a 0-d tensor (what `.mean()` or `a @ b` of vectors gives),
the mean over the n elements. Graded with rtol 1e-10 and atol 1e-12 · (1/n) Σᵢ (ŷᵢ² + yᵢ²) (float32:
rtol 1e-5, atol 1e-6 · the same).
"""),
        task(
            "mse",
            1,
            F64
            + """
loss = mse(torch.tensor([3.0], dtype=f64), torch.tensor([7.0], dtype=f64))
assert isinstance(loss, torch.Tensor), f"return a torch.Tensor, got {type(loss).__name__}"
assert loss.shape == (), f"return a 0-d tensor (a single number), got shape {tuple(loss.shape)}"
assert float(loss) == 16.0, f"the worked example: (3 − 7)² = 16, got {float(loss)}"
loss = mse(torch.tensor([1.0, 2.0, 3.0], dtype=f64), torch.tensor([1.0, 0.0, 0.0], dtype=f64))
assert abs(float(loss) - 13 / 3) < 1e-12, f"(0² + 2² + 3²) / 3 = 4.333…, got {float(loss)}"
print("visible tests passed")
""",
        ),
        Markdown(r"""
**Task 3 (1 point).** Write `_mse_gradient`, the formula without input checks (the training loops call it
once per step), and `mse_gradient`, which checks its inputs (with `_check_Xyw`) and calls it. Graded
element by element with rtol 1e-8 and, for element j, atol 1e-10 · (2/n) Σᵢ |Xᵢⱼ| (Σₖ |Xᵢₖ wₖ| + |yᵢ|),
the size of the terms it adds up (float32: rtol 1e-5, atol 1e-5 · the same).
"""),
        task(
            "mse_gradient",
            1,
            F64
            + """
X = torch.tensor([[1.0, 3.0]], dtype=f64)  # the worked example: intercept column, x = 3
g = mse_gradient(X, torch.tensor([7.0], dtype=f64), torch.tensor([0.0, 1.0], dtype=f64))
assert isinstance(g, torch.Tensor) and g.shape == (2,), "the gradient has the shape of w, (d,)"
assert torch.allclose(g, torch.tensor([-8.0, -24.0], dtype=f64)), f"not [−8, −24]: {g.tolist()}"
g = mse_gradient(torch.ones(5, 3, dtype=f64), torch.ones(5, dtype=f64), torch.zeros(3, dtype=f64))
assert g.shape == (3,), f"X (5, 3), w (3,): the gradient is (3,), got {tuple(g.shape)}"
assert torch.allclose(g, torch.full((3,), -2.0, dtype=f64)), "2/n Xᵀ(Xw − y) with n = 5: all −2"
print("visible tests passed")
""",
            (
                lr._mse_gradient,
                lr.mse_gradient,
            ),
        ),
        Markdown(r"""
## 3. The closed form

Setting ∇L(w) = 0 gives the normal equation XᵀX w = Xᵀy, so w* = (XᵀX)⁻¹Xᵀy when the columns of X are
independent. Solve the d × d system (`torch.linalg.solve`, or a Cholesky factorisation
`torch.linalg.cholesky` and two triangular solves) rather than forming the inverse: it is cheaper and
more accurate. Raising `IllConditionedError` for singular XᵀX is part of the contract but not graded.

**Task 4 (1 point).** Write `normal_equation`. Graded on well-conditioned X with rtol 1e-6 and atol
1e-9 · maxⱼ |w*ⱼ| (float32: rtol 1e-3, atol 1e-4 · maxⱼ |w*ⱼ|).
"""),
        task(
            "normal_equation",
            1,
            F64
            + """
x = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=f64)
X = torch.cat([torch.ones(4, 1, dtype=f64), x], dim=1)
w = normal_equation(X, 2.0 + 3.0 * x[:, 0])  # y = 2 + 3x exactly, so w* = [2, 3]
assert isinstance(w, torch.Tensor) and w.shape == (2,), "w* has one weight per column of X, (d,)"
assert torch.allclose(w, torch.tensor([2.0, 3.0], dtype=f64)), f"not [2, 3]: {w.tolist()}"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 4. Gradient descent

Start from w₀ (zeros unless given) and repeat w ← w − η ∇L(w):

$$w_{k+1} = w_k - \eta \cdot \frac{2}{n} X^\top (X w_k - y).$$

Record the loss **before** each step and once more at the end, so that `losses[j]` = L(w_j), `losses[0]`
is the loss at w₀ and there are `n_iter + 1` of them (a tensor of X's dtype). With `tol`, stop before the
step as soon as ‖∇L(w_k)‖₂ ≤ tol, the Euclidean norm (then `losses` is shorter; if the first gradient is
already that small, no step is taken and `losses` has one element). Do not change the caller's `w0`:
work on `w0.clone()`; the returned `w` is always a new tensor, never `w0` itself (not even when no step
is taken). The worked example: one step with η = 0.01 from [b, w] = [0, 1] gives
[0.08, 1.24], and the next loss is (3.8 − 7)² = 10.24.

`_initial_weights(w0, X)` and `_warn_if_diverged(losses, lr, X, scale=2.0)` are provided: the first
returns zeros or a checked copy of `w0`, the second warns when the loss grew (a learning rate that is too
large).

**Task 5 (2 points).** Write `gradient_descent`. Graded with every argument given (`lr`, `n_iter`, `w0`,
`tol`): `losses` with rtol 1e-8 and atol 1e-12 · L(w₀), `w` with rtol 1e-8 and atol 1e-10 · (1 + maxⱼ |wⱼ|)
(float32: rtol 1e-4 for both, atol 1e-6 · L(w₀) for `losses` and atol 1e-5 · (1 + maxⱼ |wⱼ|) for `w`).
"""),
        task(
            "gradient_descent",
            2,
            F64
            + """
X = torch.tensor([[1.0, 3.0]], dtype=f64)
y = torch.tensor([7.0], dtype=f64)
w0 = torch.tensor([0.0, 1.0], dtype=f64)
w, losses = gradient_descent(X, y, lr=0.01, n_iter=1, w0=w0)
assert torch.equal(w0, torch.tensor([0.0, 1.0], dtype=f64)), "w0 was changed: start from w0.clone()"
assert w.shape == (2,) and losses.shape == (2,), "n_iter = 1: w is (d,), losses (n_iter + 1,)"
assert torch.allclose(w, torch.tensor([0.08, 1.24], dtype=f64)), f"not [0.08, 1.24]: {w.tolist()}"
assert torch.allclose(losses, torch.tensor([16.0, 10.24], dtype=f64)), (
    f"expected losses [16, 10.24] (before and after the step), got {losses.tolist()}"
)
w, losses = gradient_descent(X, y, lr=0.01, n_iter=0)
assert torch.equal(w, torch.zeros(2, dtype=f64)), "without w0, start from zeros"
assert losses.tolist() == [49.0], f"n_iter = 0: one loss, (0 − 7)² = 49: {losses.tolist()}"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 5. Mini-batch stochastic gradient descent

One epoch is one pass over the data in random order, one step per batch B of `batch_size` rows (the last
batch may be smaller), each with the mean gradient of its batch:

$$w \leftarrow w - \eta \cdot \frac{2}{|B|} X_B^\top (X_B w - y_B).$$

Start from w = 0. To make runs reproducible (and gradable), draw each epoch's order with the provided
`_batch_order(n, generator, X.device)` (that is `torch.randperm(n, generator=generator)`) **once per
epoch, only when `batch_size < n`**; a batch of all n rows needs no shuffling. Use every batch of the
order, the last partial one too (each batch's gradient is the mean over its own |B| rows). `losses` holds the
full-data MSE (the mean over all n rows, not the batches' losses) before training and after each epoch,
a tensor of X's dtype.
Write the loop in `_sgd_epochs` (it takes the batch gradient and the loss as functions, so that logistic
regression can reuse it) and call it from `minibatch_sgd`.

**Task 6 (2 points).** Write `_mse_loss`, `_sgd_epochs` and `minibatch_sgd`. Graded with the tolerances of
task 5, with batch sizes that divide n, that do not, of 1 and of n or more, and your run must follow the
generator's random orders exactly as described.
"""),
        task(
            "minibatch_sgd",
            2,
            F64
            + """
g = torch.Generator().manual_seed(0)
X = torch.randn(10, 3, dtype=f64, generator=g)
y = torch.randn(10, dtype=f64, generator=g)
w, losses = minibatch_sgd(X, y, 0.05, 4, 3, torch.Generator().manual_seed(1))
assert w.shape == (3,) and losses.shape == (5,), "w is (d,), losses is (n_epochs + 1,)"
assert torch.isclose(losses[0], (y**2).mean()), "losses[0] is the MSE at w = 0"
w2, _ = minibatch_sgd(X, y, 0.05, 4, 3, torch.Generator().manual_seed(1))
assert torch.equal(w, w2), "the same generator seed must give the same run: use the generator"
w3, _ = minibatch_sgd(X, y, 0.05, 4, 3, torch.Generator().manual_seed(2))
assert not torch.equal(w, w3), (
    "another seed gave the same run: shuffle, drawing each epoch's order with _batch_order(n, generator, …)"
)
# the worked example's data from w = 0: ŷ = 0, ∇L = 2 · [1, 3] · (0 − 7) = [−14, −42]
X1, y1 = torch.tensor([[1.0, 3.0]], dtype=f64), torch.tensor([7.0], dtype=f64)
w, losses = minibatch_sgd(X1, y1, 0.01, 1, 1)
assert torch.allclose(w, torch.tensor([0.14, 0.42], dtype=f64)), f"not [0.14, 0.42]: {w.tolist()}"
expected = torch.tensor([49.0, 31.36], dtype=f64)
assert torch.allclose(losses, expected), f"losses not [49, 31.36]: {losses.tolist()}"
print("visible tests passed")
""",
            (
                Documented(
                    lr._mse_loss,
                    "Full-data MSE ``1/n ‖Xw − y‖²`` without input checks;  -> 0-d tensor.",
                ),
                lr._sgd_epochs,
                lr.minibatch_sgd,
            ),
        ),
        Markdown(r"""
## 6. Logistic regression: the sigmoid and the log-loss gradient

For labels y ∈ {0, 1} the model predicts p = σ(Xw), with σ(z) = 1 / (1 + e^(−z)), and the log-loss is
L = −1/n Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)]. Its gradient has the shape of the MSE gradient, with the
prediction error p − y in place of the residual and no factor 2:

$$\nabla L(w) = \frac{1}{n} X^\top (\sigma(Xw) - y).$$

**Overflow.** In float64, e^(−z) is `inf` for z < −709. `1 / (1 + inf)` happens to give 0, but the
other form e^z / (1 + e^z) gives `inf / inf = nan` for z > 709. Exponentiate only −|z| ≤ 0:
σ(z) = 1 / (1 + e^(−|z|)) for z ≥ 0 and e^(−|z|) / (1 + e^(−|z|)) for z < 0 (`torch.where` picks per element).

**Task 7 (1 point).** Write `sigmoid` (any shape in, the same shape out; finite for z = ±10⁴). Graded
with rtol 1e-10 and atol 1e-14 (σ is at most 1; float32: rtol 1e-5, atol 1e-6), so ½(1 + tanh(z/2))
passes too, while rounding σ to 0 or 1 for |z| > 30 does not (σ(−31) ≈ 3e-14).
"""),
        task(
            "sigmoid",
            1,
            F64
            + """
z = torch.tensor([0.0, 2.0, -2.0, 1e4, -1e4], dtype=f64)
s = sigmoid(z)
assert isinstance(s, torch.Tensor) and s.shape == z.shape, "σ works elementwise: same shape out"
assert float(s[0]) == 0.5, f"σ(0) = 0.5, got {float(s[0])}"
assert torch.isclose(s[1] + s[2], torch.tensor(1.0, dtype=f64)), "σ(z) + σ(−z) = 1"
assert torch.isfinite(s).all(), "σ(±1e4) must be finite: exponentiate only −|z|"
assert s[3] == 1.0 and s[4] == 0.0, f"σ(1e4) = 1 and σ(−1e4) = 0 in float64, got {s[3:].tolist()}"
assert sigmoid(torch.zeros(2, 3, dtype=f64)).shape == (2, 3), "a (2, 3) input gives a (2, 3) output"
print("visible tests passed")
""",
        ),
        Markdown(r"""
**Task 8 (1 point).** Write `_log_loss_gradient` (the formula, using your `sigmoid`) and
`log_loss_gradient`, which checks its inputs (`_check_Xyw`, then `_check_labels` for y) and calls it.
Graded element by element with rtol 1e-8 and, for element j, atol 1e-10 · (1/n) Σᵢ |Xᵢⱼ| (1 + |yᵢ|)
(float32: rtol 1e-5, atol 1e-5 · the same).
"""),
        task(
            "log_loss_gradient",
            1,
            F64
            + """
X = torch.tensor([[1.0, 2.0]], dtype=f64)
g = log_loss_gradient(X, torch.tensor([1.0], dtype=f64), torch.zeros(2, dtype=f64))
assert isinstance(g, torch.Tensor) and g.shape == (2,), "the gradient has the shape of w, (d,)"
assert torch.allclose(g, torch.tensor([-0.5, -1.0], dtype=f64)), (
    f"w = 0: p = 0.5; y = 1: Xᵀ(p − y) = [−0.5, −1.0], got {g.tolist()}"
)
g = log_loss_gradient(X, torch.tensor([0.0], dtype=f64), torch.tensor([0.0, 1e4], dtype=f64))
assert torch.isfinite(g).all(), "logits of 2e4 must give a finite gradient (a stable sigmoid)"
print("visible tests passed")
""",
            (
                lr._log_loss_gradient,
                lr.log_loss_gradient,
            ),
        ),
        Markdown(r"""
## 7. Experiment: learning curves on real data

The diabetes data (442 patients, 10 standardised features, y = disease progression after one year;
`diabetes.csv` ships next to this notebook). We fit it with the closed form, then with gradient descent
for learning rates below and just above the stability limit η_max = 2 / λ_max(H), where H = 2XᵀX/n is
the Hessian of the MSE, and with mini-batch SGD. The plot shows the excess loss L(w_k) − L(w*) on a log
scale. Run the cell (about ten seconds on a CPU; it uses CUDA when available) and look at the curves.
"""),
        Code("""
import matplotlib.pyplot as plt

device = "cuda" if torch.cuda.is_available() else "cpu"
data = np.loadtxt("diabetes.csv", delimiter=",", skiprows=1)
features = (data[:, :-1] - data[:, :-1].mean(axis=0)) / data[:, :-1].std(axis=0)
X_d = add_intercept(torch.tensor(features, dtype=torch.float64, device=device))
y_d = torch.tensor(data[:, -1], dtype=torch.float64, device=device)

w_star = normal_equation(X_d, y_d)
best = float(mse(X_d @ w_star, y_d))
hessian = 2 * X_d.T @ X_d / X_d.shape[0]
lr_max = 2 / float(torch.linalg.eigvalsh(hessian)[-1])
print(f"closed-form MSE {best:.2f}; stability limit of the learning rate {lr_max:.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
for fraction in (0.05, 0.5, 0.95, 1.02):
    _, losses = gradient_descent(X_d, y_d, fraction * lr_max, 4000)
    ax.semilogy((losses - best).cpu(), label=f"GD, η = {fraction:g} η_max")
batch = 32
_, losses = minibatch_sgd(X_d, y_d, 0.05, 300, batch, torch.Generator(device).manual_seed(0))
steps_per_epoch = -(-X_d.shape[0] // batch)  # the last batch is smaller
epochs = torch.arange(len(losses)) * steps_per_epoch
ax.semilogy(epochs, (losses - best).cpu(), label=f"SGD, batch {batch}, η = 0.05")
tail = (losses[-50:] - best).cpu()
print(f"SGD, last 50 epochs: L(w) − L(w*) from {float(tail.min()):.3g} to {float(tail.max()):.3g}")
ax.set_xlabel("gradient steps")
ax.set_ylabel("L(w) − L(w*)")
ax.set_ylim(1e-10, 1e5)
ax.legend()
plt.show()
"""),
        Written(
            "written_learning_rates",
            2,
            r"""
**Question (2 points, graded by hand).** (a) Which learning rate reaches the closed-form loss fastest, and
what happens just above η_max? Explain it with the update w ← w − η∇L along the direction of H's
largest eigenvalue. (b) Why does mini-batch SGD with a constant learning rate level off above the
closed-form loss, while full-batch gradient descent keeps going down? Write 3–6 sentences below.
""",
            r"""
(a) The largest stable rate, 0.95 η_max, is fastest. Along an eigenvector of H with eigenvalue λ the
error is multiplied by (1 − ηλ) every step; for η > 2/λ_max, |1 − ηλ_max| > 1, so that component grows
geometrically and the loss blows up (the curve at 1.02 η_max rises from the first steps). Small rates
are stable but slow: the smallest eigenvalues shrink by only 1 − ηλ_min per step. (b) A mini-batch
gradient is a noisy estimate of the full gradient; at w* the full gradient is zero but the batch
gradients are not, so with a constant η the iterates keep jumping around w* at a distance that shrinks
with η (a decaying learning rate or larger batches would let it converge). In the plot SGD's excess loss
keeps bouncing between about 1 and 100 (the printed range), while full-batch GD, which has no noise,
converges linearly to round-off.
""",
        ),
        Markdown("""
That's all. Restart the kernel and run all cells before you submit.
"""),
    ],
)
