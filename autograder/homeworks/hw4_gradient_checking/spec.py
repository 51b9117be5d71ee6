"""Homework 4, gradient checking: the notebook's spec.

``python -m autograder.build`` turns this into ``assignments/hw4_gradient_checking/``; the solution
regions come from ``solutions/gradcheck.py``. Points: 6 autograded + 2 manually graded = 8.

The report classes (``ElementReport``, ``InputCheck``, ``GradcheckResult``), the guess at a bug's cause
and the precision warning are provided: the graded part of ``gradcheck`` is the numerical gradient, the
pass/fail rule and the worst element (``_compare``). Homework 4 checks homework 2's layers; students do
not get ``solutions/``, so a minimal ``Linear`` / ``Tanh`` pair with homework 2's interface is provided,
with ``check_layer``.
"""

from __future__ import annotations

from autograder.build import provided_source
from autograder.cells import Code, Markdown, Provided, Spec, Task, Written
from solutions import gradcheck as gc

CHECKS = f"{__package__}.checks"  # what the hidden blocks import
REFERENCES = ("solutions.gradcheck",)  # the modules of solutions/ its answers come from
LECTURE = "02_backpropagation"  # lectures/<it>.ipynb

PROVIDED_IMPORTS = """
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
"""

PROVIDED = [
    gc.PrecisionWarning,
    gc._scalar,
    gc.ElementReport,
    gc.InputCheck,
    gc.GradcheckResult,
    gc._diagnose,
    gc._precision_warnings,
    gc._named,
]

LAYERS = '''
class Linear:
    """y = x W + b, as in homework 2: x (n, in), W (in, out), b (out,), y (n, out)."""

    def __init__(self, in_features, out_features, generator=None, dtype=torch.float64):
        self.W = 0.5 * torch.randn(in_features, out_features, generator=generator, dtype=dtype)
        self.b = 0.1 * torch.randn(out_features, generator=generator, dtype=dtype)
        self.dW, self.db = torch.zeros_like(self.W), torch.zeros_like(self.b)

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_output):
        self.dW = self.x.T @ grad_output  # ∂L/∂W = xᵀ g
        self.db = grad_output.sum(dim=0)  # ∂L/∂b = Σᵢ gᵢ
        return grad_output @ self.W.T  # ∂L/∂x = g Wᵀ


class Tanh:
    """y = tanh(x), y' = 1 − y²; no parameters."""

    def forward(self, x):
        self.out = torch.tanh(x)
        return self.out

    def backward(self, grad_output):
        return grad_output * (1 - self.out**2)
'''

F64 = "f64 = torch.float64\n"


def task(name: str, points: int, visible: str, functions: tuple | None = None) -> Task:
    return Task(name, points, functions or (getattr(gc, name),), visible, CHECKS)


SPEC = Spec(
    assignment="hw4_gradient_checking",
    cells=[
        Markdown(r"""
# Homework 4: gradient checking

**Points: 8** = 6 autograded (the test cell after each task) + 2 for the written answer at the end.
The course counts this homework as part 4 (2 points of the final grade, as parts 1 and 2 on the slides):
your notebook points × 2/8.

In homework 2 you wrote `backward` by hand. How do you know it is right?
[Lecture 2](../../lectures/02_backpropagation.ipynb)'s answer: compare the
analytic gradient with a **numerical** one, computed from nothing but values of the function. Here you
write that check with raw PyTorch tensors (no `torch.autograd`): the central-difference gradient, a
relative error that does not care about scale, and `gradcheck`, which says pass or fail and points at the
worst element. Then you run it on homework 2's layers, and you measure why it must run in float64.

**How it works.** Each task is a function whose signature and docstring (the contract) are given;
replace the line that raises `NotImplementedError` with your code. The cell after it tests your
function: the tests you can see (a case small enough to check by hand), and hidden tests that compare
your function with a reference on random inputs of several shapes. Run all cells top to bottom
before you submit (*Kernel → Restart & Run All*); a test cell that stays silent or prints `visible tests
passed` has passed. The whole notebook runs in well under a minute on a CPU.
"""),
        Markdown(r"""
## Provided code

The report that `gradcheck` returns and a few helpers, which you use but do not write:

- `ElementReport(index, analytic, numeric)`: one element of a gradient;
- `InputCheck(name, shape, passed, max_abs_error, relative_error, worst, diagnosis="")`: the comparison
  for one input; `worst` is an `ElementReport` (or `None` when the shapes differ);
- `GradcheckResult(checks, eps, atol, rtol, warnings=())`: one `InputCheck` per input; truthy when all
  pass, `print(result)` shows the report;
- `_scalar(value)` turns what `f` returns (a 0-d tensor or a float) into a Python float;
- `_diagnose(analytic, numeric)` guesses the bug (a factor, a sign, a transpose) from the two gradients;
- `_named(inputs, what)` turns a tensor, a list or a dict of tensors into a dict `{name: tensor}`;
- `_precision_warnings(named_inputs)` warns (`PrecisionWarning`) when an input is not float64.

Run the cell.
"""),
        Provided("provided_code", provided_source(PROVIDED_IMPORTS, PROVIDED)),
        Markdown(r"""
## 1. The numerical gradient

For a scalar function f of a tensor x, the derivative along element i is approximated with a small step ε
and the unit vector eᵢ. The **one-sided** difference (f(x + εeᵢ) − f(x)) / ε has a truncation error of
order ε: by Taylor, f(x + εeᵢ) = f(x) + ε ∂ᵢf + ε²/2 ∂ᵢ²f + …, so it is off by ε/2 ∂ᵢ²f. The **central**
difference of the lecture,

$$\partial_i f(x) \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon},$$

cancels the ε² terms: its truncation error is ε²/6 ∂ᵢ³f, of order **ε²**. For ε = 10⁻⁶ that is 10⁻¹²
instead of 10⁻⁶, for the price of two evaluations of f per element instead of one (plus one).

Nudge x **in place**, one element at a time: `f` may ignore its argument and read x by closure (that is
how you check a layer's parameters: the loss reads them from the layer). Save each element's value
before you change it and **write that value back** afterwards: `x[i] += ε; x[i] -= 2ε; x[i] += ε` does
not always give back the same float (try `0.1 + 1e-6 - 2e-6 + 1e-6 == 0.1`). Restore it even if f raises
(`try` / `finally`). Accumulate the gradient in float64 and return it in x's dtype (a float32 x gives a
float32 gradient). `x.view(-1)` is a view of a contiguous x that you can index with one number: writing
into it writes into x. `f` may return a 0-d tensor, a one-element tensor or a Python float: read its value
with `float(f(x))`.

The hidden tests call it with several values of `eps` (use the one you are given) and compare your
gradient g with the formula above, element by element: |gᵢ − g_refᵢ| ≤ 10⁻⁹·|g_refᵢ| + 10⁻¹⁰·(max|g_ref| + 1)
\+ 10⁻¹⁴·|f|/ε (the last term is the round-off of f's values, which any central difference has), and
10⁻⁶ and 10⁻⁷ instead of 10⁻⁹ and 10⁻¹⁰ for a float32 x.

**Task 1 (2 points).** Write `numerical_gradient`.
"""),
        task(
            "numerical_gradient",
            2,
            F64
            + """
x = torch.tensor([1.0, 2.0], dtype=f64)
g = numerical_gradient(lambda t: t[0] ** 2 + 3 * t[1], x)
assert isinstance(g, torch.Tensor), f"return a torch.Tensor, got {type(g).__name__}"
assert g.shape == x.shape and g.dtype == f64, "the gradient has x's shape and dtype"
assert torch.allclose(g, torch.tensor([2.0, 3.0], dtype=f64)), f"∇(x₀² + 3x₁) = [2, 3], got {g}"
assert torch.equal(x, torch.tensor([1.0, 2.0], dtype=f64)), "x must be left as it was"
# a large step shows the difference: ((1.1)² − (0.9)²) / 0.2 = 2, while one-sided (1.1² − 1) / 0.1 = 2.1
g = numerical_gradient(lambda t: (t**2).sum(), torch.ones(1, dtype=f64), eps=0.1)
assert abs(float(g[0]) - 2.0) < 1e-12, f"central difference of x² at 1 with ε = 0.1 is 2, got {g}"
x = torch.zeros(2, 3, dtype=f64)
g = numerical_gradient(lambda t: (x * torch.arange(6.0, dtype=f64).reshape(2, 3)).sum(), x)
assert g.shape == (2, 3), "any shape in, the same shape out"
assert torch.allclose(g, torch.arange(6.0, dtype=f64).reshape(2, 3)), "f reads x by closure here"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 2. Relative error

How close is close? An absolute difference means nothing without a scale: 10⁻⁶ is tiny for a gradient
of 10³ and huge for one of 10⁻⁸. The lecture compares **relative** errors,

$$\mathrm{rel}(a, b) = \max_i \frac{|a_i - b_i|}{\max(|a_i| + |b_i|,\ \text{tiny})}.$$

- It is **symmetric**: in a gradient check neither side is the truth (the numerical gradient has errors
  too), so rel(a, b) = rel(b, a). Dividing by |aᵢ| alone would not be, and would blow up where aᵢ = 0.
- It is **scale-free**: multiplying both by c ≠ 0 changes nothing, so one threshold serves every loss.
  It lies in [0, 1]; 1 means opposite signs, or one side zero and the other not.
- `tiny = torch.finfo(torch.float64).tiny` (the smallest positive float64) keeps 0/0, where both are
  exactly 0, at 0 instead of NaN.

Rules of thumb in float64: below 10⁻⁷ fine; 10⁻⁷ to 10⁻⁴ look closer (a kink such as ReLU's at 0 near
the point?); above 10⁻⁴ almost surely a bug.

**Task 2 (1 point).** Write `relative_error`; it returns a Python `float` (not a tensor), computed in
float64: a and b may be float32 tensors, or one of each (the experiment below compares a float32 gradient
with a float64 one), so convert both to float64 first. The hidden tests compare your result with the
formula to a relative 10⁻¹².
"""),
        task(
            "relative_error",
            1,
            F64
            + """
r = relative_error(torch.tensor([1.0, 0.0], dtype=f64), torch.tensor([3.0, 0.0], dtype=f64))
assert isinstance(r, float), f"return a Python float, got {type(r).__name__}"
assert r == 0.5, f"|1 − 3| / (1 + 3) = 0.5, and 0/0 counts as 0: expected 0.5, got {r}"
r2 = relative_error(torch.tensor([3.0, 0.0], dtype=f64), torch.tensor([1.0, 0.0], dtype=f64))
assert r2 == r, "relative_error must be symmetric: rel(a, b) = rel(b, a)"
assert relative_error(torch.tensor([2.0], dtype=f64), torch.tensor([-2.0], dtype=f64)) == 1.0, (
    "opposite signs give 1"
)
a = torch.tensor([1e-9, 2e-9], dtype=f64)
assert abs(relative_error(a, 1.01 * a) - relative_error(1e9 * a, 1.01e9 * a)) < 1e-15, "scale-free"
print("visible tests passed")
""",
        ),
        Markdown(r"""
## 3. The gradient check

`gradcheck(f, inputs, grads)` computes, for each input, the numerical gradient of `f` with your
`numerical_gradient` and compares it with the analytic gradient you give. An element **passes** when

$$|a_i - n_i| \le \text{atol} + \text{rtol}\cdot|n_i|$$

(`torch.allclose`'s rule; a = analytic, n = numeric). The absolute tolerance is there for elements whose
true gradient is 0: the numerical gradient there is a few rounding errors, and no relative rule can pass
it. The relative one is there for large gradients, whose rounding errors are large in absolute terms.
Everything runs in float64.

When an input fails, the report names its **worst element**: the one furthest outside its own tolerance,
the largest |aᵢ − nᵢ| / (atol + rtol·|nᵢ|), which is neither the first failing element nor the largest
difference. A gradient of the wrong shape fails without a worst element (give `worst=None` and a
`diagnosis` that says the shapes).

Write `_compare`, which compares one input (return an `InputCheck`; use the provided `_diagnose` for the
`diagnosis` of a failure and your `relative_error` for its `relative_error`), and `gradcheck`, which calls
`f` as `f(*inputs)` (or `f(**inputs)` for a dict) and runs `_compare` for every input. Hint:
`np.unravel_index(k, shape)` turns a flat index k into a tuple.

The contract, all of which the hidden tests check:

- use the `eps`, `atol` and `rtol` you are given (pass `eps` on to `numerical_gradient`), and record them
  in the result: `GradcheckResult(checks, eps, atol, rtol, warnings)`;
- every element has its own tolerance atol + rtol·|nᵢ| (not one tolerance for the whole input, such as
  max|a − n| ≤ atol + rtol·max|n| or a comparison of norms), and an element that is NaN fails;
- each `InputCheck` is named as `_named` names the input (a dict's key; `"input 0"`, `"input 1"`, … in a
  list or for a single tensor) and its `shape` is the input's shape, also for a gradient of the wrong
  shape; its `max_abs_error` is maxᵢ |aᵢ − nᵢ| and its `worst` is
  `ElementReport(index, analytic value, numeric value)` (`None` for a gradient of the wrong shape);
  these numbers are checked to 1 % (or 10⁻⁴ of the gradient's largest element), the analytic value
  exactly;
- its `diagnosis` is `""` when it passes and what `_diagnose(analytic, numeric)` returns when it fails
  (for a gradient of the wrong shape: your note, which says both shapes);
- the analytic gradients you are given come back unchanged (careful: `g.to(torch.float64)` of a
  float64 g is g itself, so an in-place operation on it changes the caller's gradient);
- call the provided `_precision_warnings(named_inputs)` (it warns when an input is not float64) and pass
  what it returns as the result's `warnings`.

**Task 3 (3 points).** Write `_compare` and `gradcheck`. (The hidden tests feed correct gradients and
gradients with a planted bug: a factor 2, a sign, a transposed W, three wrong elements, a wrong shape,
one wrong small element, a NaN; with the default arguments and with others, float32 inputs included.)
"""),
        task(
            "gradcheck",
            3,
            F64
            + """
w = torch.tensor([1.0, 2.0, 3.0], dtype=f64)


def square(w):
    return (w**2).sum()  # ∇ = 2w = [2, 4, 6]


result = gradcheck(square, [w], [2 * w])
assert isinstance(result, GradcheckResult), "return a GradcheckResult"
assert result.passed and len(result.checks) == 1, f"the correct gradient 2w must pass:\\n{result}"
result = gradcheck(square, {"w": w}, {"w": torch.tensor([2.0, 4.5, 6.001], dtype=f64)})
print(result)
assert not result.passed, "4.5 for 4 is a bug: |0.5| > 1e-5 + 1e-3·4"
worst = result.checks[0].worst
assert worst.index == (1,), f"the worst element is w[1] (0.5 off), got {worst.index}"
assert abs(worst.analytic - 4.5) < 1e-12 and abs(worst.numeric - 4.0) < 1e-6, (
    f"the worst element reports the analytic value given (4.5) and the numeric one (≈ 4.0), got {worst}"
)
result = gradcheck(square, w, torch.zeros(2, dtype=f64))
assert not result.passed and result.checks[0].worst is None, "a wrong shape fails, no worst element"
print("visible tests passed")
""",
            (gc._compare, gc.gradcheck),
        ),
        Markdown(r"""
## 4. Checking homework 2's layers

A layer with hand-written `backward` (homework 2's interface: `forward(x)`, `backward(grad_output)`
returning ∂L/∂x, and `parameters()` / `gradients()`) is checked through a scalar: `check_layer` uses
f = Σ out ⊙ R with a fixed random R, so ∂f/∂out = R and every output element gets its own weight (errors
that a plain sum would cancel cannot hide). It checks x and every parameter with your `_compare` and
`numerical_gradient`. A small `Linear` and `Tanh` are provided, as in homework 2; run the cell.
"""),
        Provided("provided_layers", provided_source("", [gc.check_layer], LAYERS)),
        Code("""
device = "cuda" if torch.cuda.is_available() else "cpu"  # tiny tensors: the CPU is as fast
generator = torch.Generator().manual_seed(0)
x = torch.randn(4, 3, generator=generator, dtype=torch.float64)
print(check_layer(Linear(3, 2, generator), x))
print(check_layer(Tanh(), x))


class BuggyTanh(Tanh):
    def backward(self, grad_output):
        return grad_output * (1 - self.out)  # forgot the square


print(check_layer(BuggyTanh(), x))
"""),
        Markdown(r"""
## 5. Experiment: the error against ε, in float32 and float64

Two errors pull in opposite directions. **Truncation**: the central difference is off by about
ε²/6 · |f'''|, which shrinks with ε. **Round-off**: f(x ± εeᵢ) are known only to about u·|f|, with u the
unit round-off of the dtype (u ≈ 6·10⁻⁸ in float32, 1.1·10⁻¹⁶ in float64), and dividing their difference
by 2ε turns that into an error of about u·|f|/ε, which grows as ε shrinks. The cell below measures the
relative error of your `numerical_gradient` against the exact gradient of f(x) = Σ tanh(x) (its
derivative is 1 − tanh², known exactly) for ε from 10⁻¹² to 10⁻¹, in both precisions, and marks u^(1/3).
Run it and look at the V shapes.
"""),
        Code("""
import matplotlib.pyplot as plt

epsilons = np.logspace(-12, -1, 45)
x64 = torch.linspace(-1.5, 1.5, 7, dtype=torch.float64, device=device)
exact = 1 - torch.tanh(x64) ** 2

fig, ax = plt.subplots(figsize=(7, 4))
for dtype, color in ((torch.float32, "tab:orange"), (torch.float64, "tab:blue")):
    x = x64.to(dtype)
    errors = [
        max(relative_error(numerical_gradient(lambda t: torch.tanh(t).sum(), x, eps), exact), 1e-17)
        for eps in epsilons
    ]
    u = torch.finfo(dtype).eps / 2
    name = str(dtype).removeprefix("torch.")
    ax.loglog(epsilons, errors, "o-", ms=3, color=color, label=name)
    ax.axvline(u ** (1 / 3), color=color, ls=":", label=f"u^(1/3) in {name}")
    best = int(np.argmin(errors))
    print(f"{name}: best ε ≈ {epsilons[best]:.1e}, relative error {errors[best]:.1e}")
ax.set_xlabel("ε")
ax.set_ylabel("relative error of the central difference")
ax.legend()
plt.show()
"""),
        Written(
            "written_precision",
            2,
            r"""
**Question (2 points, graded by hand).** (a) Where is the best ε in each precision, and why is it near
u^(1/3)? Balance the two errors of the introduction to the experiment. (b) Why do gradient checks run
in float64? Say what the smallest error you can reach in float32 means for telling a bug from noise, and
what happens in float32 with the usual ε = 10⁻⁶. Write 3–6 sentences below.
""",
            r"""
(a) The total error is about ε²/6·|f'''| + u·|f|/ε: the first term falls and the second rises as ε
shrinks, and their sum is smallest where the derivative 2ε/6·|f'''| − u|f|/ε² is 0, i.e. ε ∝ u^(1/3)
(the constants are of order 1 here). That is about 5·10⁻⁶ in float64 and 4·10⁻³ in float32, where the
plot's minima are, and the error there is of order u^(2/3): ~10⁻¹¹ in float64, ~10⁻⁵ in float32. Left
of the minimum the curve rises with slope −1 (round-off), right of it with slope 2 (truncation).
(b) In float32 the check can be no better than ~10⁻⁵ relative even at the best ε, which is as large as
the error of a subtle bug (a missing term, a wrong derivative for some elements), so bugs and noise
cannot be told apart; with ε = 10⁻⁶ the round-off alone is ~6·10⁻²·|f|, larger than many gradients, and
for |x| ≥ 32 the nudge x + 10⁻⁶ rounds back to x, giving a numerical gradient of 0. In float64 the noise
floor is ~10⁻¹⁰, so a relative error above 10⁻⁴ is certainly a bug.
""",
        ),
        Markdown("""
That's all. Restart the kernel and run all cells before you submit.
"""),
    ],
)
