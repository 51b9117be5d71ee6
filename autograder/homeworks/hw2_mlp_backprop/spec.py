"""Homework 2, backpropagation by hand for a multi-layer perceptron: the notebook's spec.

``python -m autograder.build`` turns this into ``assignments/hw2_mlp_backprop/``; the solution regions
come from ``solutions/mlp.py``. Points: 10 autograded + 2 manually graded = 12, which the course scales
to the 2 points the slides give homework part 2.

Every task is a class (``Methods``): the student writes ``forward`` and ``backward`` of each layer and
of the loss, the two loops of ``Sequential``, and of the slides' ``MLPRegressor`` the network, one
gradient step, ``train`` and ``predict``. The training loop around the step (``_MLP._train``), the
input checks (``_MLPBase``) and the layers' constructors are shown as they are.
"""

from __future__ import annotations

from autograder.build import provided_source
from autograder.cells import Code, Markdown, Methods, Provided, Spec, Task, Written
from solutions import _validate as validate
from solutions import device, mlp
from solutions import linear_regression as lr

CHECKS = f"{__package__}.checks"  # what the hidden blocks import
REFERENCES = ("solutions.mlp",)  # the modules of solutions/ its answers come from
LECTURE = "02_backpropagation"  # lectures/<it>.ipynb

PROVIDED_IMPORTS = """
from __future__ import annotations  # the classes' annotations name classes defined later

import math
import numbers
import os
import warnings
from collections.abc import Iterator, Sequence
from itertools import pairwise

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
    validate.as_targets,
    validate.check_positive,
    validate.check_count,
    device.default_device,
    device.as_device,
    lr.sigmoid,
    lr._batch_order,
    mlp._stored,
    mlp.Layer,
    mlp._same_device,
    mlp._check_layer_input,
    mlp._check_pair,
    mlp.Identity,
]

PROVIDED_CONSTANTS = f"""
DEVICE_ENV = {device.DEVICE_ENV!r}
INITS = {mlp.INITS!r}
"""

# The activations this notebook has: the three you write and Identity (mlp.ACTIVATIONS: the same).
_NOTEBOOK_ACTIVATIONS = (mlp.ReLU, mlp.Sigmoid, mlp.Tanh, mlp.Identity)
ACTIVATIONS_SOURCE = "\n".join(
    [
        "ACTIVATIONS = {",
        *(
            f'    "{name}": {cls.__name__},'
            for name, cls in mlp.ACTIVATIONS.items()
            if cls in _NOTEBOOK_ACTIVATIONS
        ),
        "}",
        f"_DEFAULT_INIT = {mlp._DEFAULT_INIT!r}  # the others: xavier",
    ]
)

F64 = 'f64 = torch.float64\ncpu = "cpu"\n'


def task(name: str, points: int, visible: str, functions: tuple) -> Task:
    return Task(name, points, functions, visible, CHECKS)


SPEC = Spec(
    assignment="hw2_mlp_backprop",
    data_files=("diabetes.csv",),
    cells=[
        Markdown(r"""
# Homework 2: backpropagation by hand for a multi-layer perceptron

**Points: 12** = 10 autograded (the test cell after each task) + 2 for the written answers at the end.
The course counts this homework as part 2 (2 points of the final grade): your notebook points × 2/12.

You will write, with raw PyTorch tensors, the forward and the backward pass of every piece of a
multi-layer perceptron: the linear layer, three activations, the mean squared error, the container that
chains layers, and the slides' `MLPRegressor` that trains the whole network by gradient descent. **No
`torch.autograd`, no `torch.nn`**: every gradient comes from the chain rule, written by you. A test that
finds autograd in a task (`requires_grad`, `.backward()` of a tensor, `torch.autograd.grad`, `torch.func`)
scores that task 0. Then you train the network on two problems and look at what it learned.

The theory, with the derivations and pictures, is in lecture 2:
[02_backpropagation.ipynb](../../lectures/02_backpropagation.ipynb). This notebook recalls what you need.

**How it works.** Each task is a class. The class line, its docstring and the methods you do not write
are given; in the methods you write, replace the line that raises `NotImplementedError` with your code
(the docstring is the contract: shapes, what to return). The cell after it tests your class: the tests
you can see (a case small enough to check by hand), and hidden tests that compare it with a reference on
random inputs of several shapes and extreme values. Run all cells top to bottom before you submit
(*Kernel → Restart & Run All*); a test cell that stays silent or prints `visible tests passed` has
passed. The whole notebook runs in well under a minute on a CPU.

**What the hidden tests hold you to.** Every result follows the dtype of its inputs: float64 in,
float64 out, and float32 in, float32 out (outputs, gradients, the loss, predictions; the tests use
both). Results must be finite for any finite input. Your numbers are compared with a reference
**element by element**: |yours − reference| ≤ rtol·|reference| + atol, where

| results | float64 | float32 |
|---|---|---|
| activations: f(x) | rtol 1e-10, atol 1e-14 | rtol 1e-5, atol 1e-6 |
| activations: ∂L/∂x | rtol 1e-10, atol 1e-14·max\|g\| | rtol 1e-5, atol 1e-6·max\|g\| |
| the MSE loss | rtol 1e-10 | rtol 1e-5 |
| `Linear`, ∂L/∂pred of the MSE, `Sequential` | rtol 1e-9, atol 1e-12·S | rtol 1e-4, atol 1e-5·S |
| `MLPRegressor`: weights, losses, predictions | rtol 1e-7, atol 1e-7·S | rtol 1e-4, atol 1e-4·S |

with g the incoming gradient and S the scale of the numbers summed into a result (for x W + b the
largest entry of |x| |W| + |b|; for a whole tensor, its largest magnitude). So any correct formula
passes (σ(x) = ½(1 + tanh(x/2)) may give 0 where σ(x) ≈ 1e-18), and a wrong one does not. Inputs are
never to be changed in place unless a docstring allows it, and `MLPRegressor`'s initial weights must
be the reference's to rtol 1e-12 (drawn as `_build_network`'s docstring says).
"""),
        Markdown(r"""
## Backpropagation in one page

**Row-vector convention** (as on the lecture's slides). A batch `x: (n, d)` holds one example per **row**.
A linear layer computes

$$y = xW + b, \qquad x: (n, \text{in}),\quad W: (\text{in}, \text{out}),\quad b: (\text{out},),\quad
y: (n, \text{out}),$$

and `b` is added to every row (broadcasting). This `W` is the transpose of `torch.nn.Linear.weight`.

**The chain rule.** A network is a composition L = ℓ(f_k(…f_2(f_1(x)))). Write x⁽⁰⁾ = x,
x⁽ʳ⁾ = f_r(x⁽ʳ⁻¹⁾), and g⁽ʳ⁾ = ∂L/∂x⁽ʳ⁾ for the gradient of the (scalar) loss with respect to layer r's
output; it has the shape of x⁽ʳ⁾. The chain rule says

$$g^{(r-1)} = \frac{\partial L}{\partial x^{(r-1)}} = g^{(r)} \cdot \frac{\partial x^{(r)}}{\partial
x^{(r-1)}},$$

so the gradients flow from the loss **backwards**, one layer at a time, and each layer needs only the
gradient of its own output and what it stored during the forward pass.

**Vector–Jacobian products, never Jacobians.** For a layer from (n, in) to (n, out), the Jacobian
∂x⁽ʳ⁾/∂x⁽ʳ⁻¹⁾ has n·out·n·in numbers, almost all zero (row i of the output depends only on row i of the
input). `backward` never forms it: it computes the product g·J directly, which costs about as much as the
forward pass. Every layer has the same two methods:

```python
out = layer.forward(x)           # compute the output, store what backward needs
grad_x = layer.backward(grad_out)  # ∂L/∂x from ∂L/∂out: one vector–Jacobian product
```

**The linear layer.** With g = ∂L/∂y of shape (n, out), write yᵢⱼ = Σₖ xᵢₖ Wₖⱼ + bⱼ and differentiate:

| gradient | formula | shape |
|---|---|---|
| ∂L/∂W | xᵀ g | (in, out), the shape of W |
| ∂L/∂b | Σᵢ gᵢ, the sum over the rows of the batch | (out,), the shape of b |
| ∂L/∂x | g Wᵀ | (n, in), the shape of x |

A quick check of any such formula: the gradient with respect to a tensor has that tensor's shape, and
there is only one way to multiply x (n, in) and g (n, out) into (in, out).

**Elementwise activations** y = f(x): each output depends on one input, so the Jacobian is diagonal and
the product is elementwise, ∂L/∂x = g ⊙ f′(x). For the sigmoid σ′ = σ(1 − σ) and for tanh′ = 1 − tanh²:
both are cheapest from the stored **output** y. For ReLU, f′(x) = 1 for x > 0 and 0 for x ≤ 0 (at the
kink x = 0 PyTorch takes 0, and so do we).

**The loss** ends the chain: the mean squared error over all N elements of pred,
L = 1/N Σ (predᵢ − targetᵢ)², has ∂L/∂pred = 2/N (pred − target); its `backward()` takes no argument.

**A whole step.** Forward through the layers, first to last; the loss; backward through the layers,
last to first, each `backward` filling its layer's `dW`, `db`; then every parameter takes a step
p ← p − η ∂L/∂p.
"""),
        Markdown(r"""
## Provided code

Input checks and small helpers you may call (you do not have to): `describe(t)` for error messages;
`as_matrix`, `as_targets`, `check_count`, `check_positive` check inputs and raise a `ValueError` that
names them; `as_device(None)` is CUDA when available, else the CPU; `sigmoid(z)` is homework 1's stable
sigmoid; `_batch_order(n, generator, device)` is the random order of the rows for one epoch. For the
layers: `Layer` is the base class (`parameters()`, `gradients()` empty; `layer(x)` calls `forward`),
`_stored(self, "out")` reads what `forward` stored (or says that `forward` has not run),
`_check_layer_input` checks the input of a linear layer, `_check_pair(pred, target, "MSELoss")` the
inputs of a loss, and `Identity` is the activation f(x) = x. Run the cell.
"""),
        Provided(
            "provided_code",
            provided_source(PROVIDED_IMPORTS + PROVIDED_CONSTANTS, PROVIDED),
        ),
        Markdown(r"""
## 1. The linear layer

`Linear.__init__` is given: it draws `W` (three initialisations; the lecture's is N(0, 0.1²)), starts
`b` at zero and allocates `dW`, `db`. Use float64 to check gradients (`dtype=torch.float64`), and pass
`device="cpu"` (or your device) to keep the layer where your data is.

**Task 1 (2 points).** Write `Linear.forward` (store `x`: backward needs it for ∂L/∂W = xᵀ g) and
`Linear.backward`. Each `backward` **overwrites** `dW` and `db` (training calls it once per step);
writing into the existing tensors (`torch.mm(..., out=self.dW)` or `self.dW.copy_(...)`) keeps
`gradients()` returning the same objects. With `need_input_grad=False`, skip ∂L/∂x (return `None`) but
still fill `dW` and `db`.
"""),
        task(
            "Linear",
            2,
            F64
            + """
layer = Linear(2, 3, dtype=f64, device=cpu)
layer.W.copy_(torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], dtype=f64))
layer.b.copy_(torch.tensor([0.5, -0.5, 0.0], dtype=f64))
x = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=f64)
y = layer.forward(x)
assert isinstance(y, torch.Tensor), f"forward returns a torch.Tensor, got {type(y).__name__}"
assert y.shape == (2, 3), f"x (2, 2) W (2, 3) + b is (2, 3), got {tuple(y.shape)}"
assert torch.allclose(y, torch.tensor([[5.5, 1.5, -1.0], [-1.5, -1.5, 0.0]], dtype=f64)), (
    f"xW + b = [[5.5, 1.5, -1], [-1.5, -1.5, 0]], got {y.tolist()}"
)
g = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], dtype=f64)
grad_x = layer.backward(g.clone())
assert isinstance(grad_x, torch.Tensor) and grad_x.shape == (2, 2), "∂L/∂x = g Wᵀ has x's shape"
assert torch.allclose(grad_x, torch.tensor([[1.0, 2.0], [-2.0, 0.0]], dtype=f64)), (
    f"∂L/∂x = g Wᵀ = [[1, 2], [-2, 0]], got {grad_x.tolist()}"
)
dW, db = layer.gradients()
assert dW.shape == (2, 3), f"∂L/∂W = xᵀ g has W's shape (2, 3), got {tuple(dW.shape)}"
assert torch.allclose(dW, torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, -2.0]], dtype=f64)), (
    f"∂L/∂W = xᵀ g = [[1, 0, 0], [2, 0, -2]], got {dW.tolist()}"
)
assert torch.allclose(db, torch.tensor([1.0, 0.0, 2.0], dtype=f64)), f"Σᵢ gᵢ = [1, 0, 2]: {db}"
layer.backward(g.clone())
dW, db = (t.clone() for t in layer.gradients())  # copies: the next backward overwrites them
assert torch.allclose(db, torch.tensor([1.0, 0.0, 2.0], dtype=f64)), "overwrite db, do not add"
layer.forward(2 * x)
layer.backward(g.clone(), need_input_grad=False)
assert torch.allclose(layer.gradients()[0], 2 * dW), "need_input_grad=False still fills dW"
print("visible tests passed")
""",
            (Methods(mlp.Linear, ("forward", "backward")),),
        ),
        Markdown(r"""
## 2. Activations

Each activation works elementwise on a tensor of any shape and has no parameters (it inherits
`parameters()` and `gradients()` from `Layer`). `forward` stores what `backward` needs, returns a
**new tensor** (never `x` itself or a view of it: the caller may change `x` later) and must not
change its input `x` in place (the linear layer below it stored that very tensor for its ∂L/∂W).
`backward` may overwrite `grad_output` and return it (it is a temporary nobody reads again), but must
not change `x` or the output y that `forward` returned (the layer above stored y as its input):
`y.mul_(1 - y)` inside `backward` is a bug, `grad_output * y * (1 - y)` is not.

**Task 2 (1 point).** Write `ReLU.forward` and `ReLU.backward`: f(x) = max(x, 0), f′ = 1 for x > 0 and
0 for x ≤ 0.
"""),
        task(
            "ReLU",
            1,
            F64
            + """
x = torch.tensor([-2.0, -0.0, 0.0, 3.0], dtype=f64)
relu = ReLU()
out = relu.forward(x)
assert isinstance(out, torch.Tensor) and out.shape == x.shape, "any shape in, the same shape out"
assert out.tolist() == [0.0, 0.0, 0.0, 3.0], f"max(x, 0) = [0, 0, 0, 3], got {out.tolist()}"
assert x.tolist() == [-2.0, 0.0, 0.0, 3.0], "forward must not change x in place"
g = relu.backward(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=f64))
assert g.tolist() == [0.0, 0.0, 0.0, 4.0], f"g ⊙ f'(x) with f'(0) = 0: [0, 0, 0, 4], got {g.tolist()}"
assert ReLU().forward(torch.zeros(2, 3, 4, dtype=f64)).shape == (2, 3, 4), "any shape"
print("visible tests passed")
""",
            (Methods(mlp.ReLU, ("forward", "backward")),),
        ),
        Markdown(r"""
**Task 3 (1 point).** Write `Sigmoid.forward` and `Sigmoid.backward`: σ(x) = 1 / (1 + e^(−x)),
σ′ = σ(1 − σ). Use the provided stable `sigmoid` (e^(−x) overflows for x < −709 in float64, and the form
e^x / (1 + e^x) gives inf / inf = NaN for x > 709) and write σ′ with the stored output.
"""),
        task(
            "Sigmoid",
            1,
            F64
            + """
s = Sigmoid()
y = s.forward(torch.tensor([0.0, 1e4, -1e4], dtype=f64))
assert isinstance(y, torch.Tensor) and y.tolist() == [0.5, 1.0, 0.0], f"σ(0, ±1e4): {y}"
g = s.backward(torch.ones(3, dtype=f64))
assert torch.allclose(g, torch.tensor([0.25, 0.0, 0.0], dtype=f64)), f"σ'(0) = 0.25, got {g}"
print("visible tests passed")
""",
            (Methods(mlp.Sigmoid, ("forward", "backward")),),
        ),
        Markdown(r"""
**Task 4 (1 point).** Write `Tanh.forward` and `Tanh.backward`: tanh′ = 1 − tanh², from the stored
output (`torch.tanh` is fine for the forward pass: it is a function, not autograd).
"""),
        task(
            "Tanh",
            1,
            F64
            + """
t = Tanh()
x = torch.tensor([0.0, 1.0, -1e3], dtype=f64)
y = t.forward(x)
assert isinstance(y, torch.Tensor) and torch.allclose(y, torch.tanh(x)), f"tanh(x), got {y}"
g = t.backward(torch.full((3,), 2.0, dtype=f64))
expected = 2 * torch.tensor([1.0, 1 - math.tanh(1.0) ** 2, 0.0], dtype=f64)
assert torch.allclose(g, expected), f"g ⊙ (1 − tanh²(x)) = {expected.tolist()}, got {g.tolist()}"
print("visible tests passed")
""",
            (Methods(mlp.Tanh, ("forward", "backward")),),
        ),
        Markdown(r"""
## 3. The loss

**Task 5 (1 point).** Write `MSELoss.forward` (a 0-d tensor: the mean over **all N elements** of
pred, so an (n, k) pred has N = n·k) and `MSELoss.backward` (∂L/∂pred = 2/N (pred − target), the shape of
pred); both in pred's dtype (a float32 pred gives a float32 loss and gradient). Call
`_check_pair(pred, target, "MSELoss")` first: a target of shape (n,) against a pred of shape (n, 1)
would broadcast to an (n, n) difference, the classic silent bug; it raises a `ValueError` instead.
"""),
        task(
            "MSELoss",
            1,
            F64
            + """
loss = MSELoss()
pred = torch.tensor([[1.0], [2.0], [3.0]], dtype=f64)
L = loss.forward(pred, torch.tensor([[1.0], [0.0], [0.0]], dtype=f64))
assert isinstance(L, torch.Tensor) and L.shape == (), "the loss is a 0-d tensor (one number)"
assert abs(float(L) - 13 / 3) < 1e-12, f"(0² + 2² + 3²) / 3 = 4.333…, got {float(L)}"
g = loss.backward()
assert isinstance(g, torch.Tensor) and g.shape == (3, 1), "∂L/∂pred has the shape of pred"
assert torch.allclose(g, torch.tensor([[0.0], [4 / 3], [2.0]], dtype=f64)), f"2/N (p − t): {g}"
wide = torch.tensor([[1.0, 3.0], [2.0, 0.0]], dtype=f64)  # n = 2 rows, k = 2 outputs: N = 4
L = loss.forward(wide, torch.zeros(2, 2, dtype=f64))
assert abs(float(L) - 14 / 4) < 1e-12, f"(1 + 9 + 4 + 0) / N with N = n·k = 4 is 3.5, got {float(L)}"
assert torch.allclose(loss.backward(), wide / 2), "2/N (p − t) with N = n·k = 4: (p − t) / 2"
try:
    loss.forward(pred, torch.zeros(3, dtype=f64))
except ValueError:
    pass
else:
    raise AssertionError("a target (3,) against a pred (3, 1) must raise a ValueError")
print("visible tests passed")
""",
            (Methods(mlp.MSELoss, ("forward", "backward")),),
        ),
        Markdown(r"""
## 4. Chaining layers

`Sequential(layer_1, …, layer_k)` is a layer too: `forward` applies the layers first to last,
`backward` calls their `backward` last to first, each on the gradient the layer above returned. Its
`parameters()` and `gradients()` (given) list every layer's, in order. `_backward_to_parameters` (given)
is what training uses: it stops at the first layer with parameters, since the data needs no gradient.

**Task 6 (1 point).** Write `Sequential.forward` and `Sequential.backward`. With
`need_input_grad=False`, `backward` still runs every layer's `backward` (each `Linear` fills its `dW`,
`db`) and returns `None`, as its docstring says.
"""),
        task(
            "Sequential",
            1,
            F64
            + """
g = torch.Generator().manual_seed(0)
l1, act, l2 = Linear(2, 3, generator=g, dtype=f64, device=cpu), Tanh(), Linear(3, 1, dtype=f64, device=cpu)
x = torch.randn(4, 2, dtype=f64, generator=g)
ones = torch.ones(4, 1, dtype=f64)
expected = l2.forward(act.forward(l1.forward(x)))  # the chain, by hand
expected_grad_x = l1.backward(act.backward(l2.backward(ones.clone())))
expected_dW1 = l1.dW.clone()
net = Sequential(l1, act, l2)
out = net.forward(x)
assert isinstance(out, torch.Tensor) and out.shape == (4, 1), "the output of the last layer"
assert torch.allclose(out, expected), "forward: l2(tanh(l1(x)))"
grad_x = net.backward(ones.clone())
assert isinstance(grad_x, torch.Tensor) and grad_x.shape == (4, 2), "∂L/∂x has the shape of x"
assert torch.allclose(grad_x, expected_grad_x), "backward: l1.backward(tanh.backward(l2.backward(g)))"
l1.dW.zero_()
net.backward(ones.clone(), need_input_grad=False)
assert torch.allclose(net.gradients()[0], expected_dW1), "need_input_grad=False still fills dW1"
print("visible tests passed")
""",
            (Methods(mlp.Sequential, ("forward", "backward")),),
        ),
        Markdown(r"""
## 5. The slides' `MLPRegressor`

The homework skeleton of the slides, `MLPRegressor(hidden_layer_sizes=(100,), learning_rate=0.001,
max_iter=10)` with `train(X, y)` and `predict(X)`, extended with an activation, mini-batches, an optional
`torch.optim`-style optimizer (homework 3 writes those) and a seed. The cell below provides
`ACTIVATIONS`, the activations by name (this notebook has `"relu"`, `"sigmoid"` or `"logistic"`,
`"tanh"` and `"identity"`), and `_MLPBase`: the
hyper-parameters, the input checks and `parameters()` / `gradients()` of the trained network. Run it.
"""),
        Provided(
            "provided_mlp",
            provided_source("", [mlp._MLPBase], ACTIVATIONS_SOURCE),
        ),
        Markdown(r"""
The answer cell holds `_MLP`, the network and its training loop, and `MLPRegressor`. `_MLP._train` is
given: it seeds a generator with `random_state`, builds the network, then runs `max_iter` epochs; read
it. With `batch_size=None` each epoch is one full-batch step.

**Task 7 (3 points).** Write

- `_MLP._build_network`: `Linear → activation → … → Linear`, one `Linear` per pair of consecutive widths
  (the inputs, the hidden sizes, one output), created first to last with the given generator, and an
  activation between two of them (none after the last: a regression output takes any value);
- `_MLP._step`: one gradient step, forward, loss, backward, update every parameter **in place**
  (`p -= lr * g` changes the tensor the network holds; `p = p - lr * g` only rebinds a name);
- `MLPRegressor.train`: check, reshape `y` to a column `(n, 1)` (the network's output is (n, 1)) and call
  `_train`; return `self`;
- `MLPRegressor.predict`: the network's output as `(m,)`, for every m: one row gives `(1,)`
  (`reshape(-1)`, not `squeeze()`, which would give a 0-d tensor).

Every hyper-parameter counts: any number of hidden layers (none, one, three, …), every name of
`ACTIVATIONS` (`"logistic"` and `"identity"` too), `init` (`"auto"`, `"normal"`, `"xavier"`, `"he"`),
`learning_rate`, `max_iter`, `batch_size`, `optimizer` and `random_state`; the hidden tests try
values other than the defaults.
"""),
        task(
            "MLPRegressor",
            3,
            F64
            + """
g = torch.Generator().manual_seed(0)
X = torch.randn(64, 1, dtype=f64, generator=g)
y = 3 * X[:, 0] - 1  # (n,): train reshapes it
model = MLPRegressor(hidden_layer_sizes=(), learning_rate=0.1, max_iter=200, random_state=0)
assert model.train(X, y) is model, "train returns self"
assert model.loss_history_.shape == (201,), "one loss before training, one per epoch"
pred = model.predict(X)
assert isinstance(pred, torch.Tensor) and pred.shape == (64,), "predict returns (m,)"
W, b = model.parameters()
assert W.shape == (1, 1) and b.shape == (1,), "no hidden layer: one Linear(1, 1)"
assert abs(float(W) - 3) < 1e-6 and abs(float(b) + 1) < 1e-6, f"y = 3x − 1: W = {W}, b = {b}"
model = MLPRegressor((8,), learning_rate=0.1, max_iter=300, activation="tanh", random_state=0)
losses = model.train(X, torch.sin(2 * X)).loss_history_
assert [p.shape for p in model.parameters()] == [(1, 8), (8,), (8, 1), (1,)], "W1, b1, W2, b2"
assert losses[-1] < 0.2 * losses[0], f"the loss should fall: {float(losses[0]):.3f} → {float(losses[-1]):.3f}"
print("visible tests passed")
""",
            (
                Methods(mlp._MLP, ("_build_network", "_step")),
                Methods(mlp.MLPRegressor, ("train", "predict")),
            ),
        ),
        Markdown(r"""
## 6. Experiment: 50 points and three tanh units

Lecture 1's demo: N = 50 noisy points of sin x, fitted by an MLP with one hidden layer of **three** tanh
units, trained by full-batch gradient descent. The fit ŷ(x) = Σⱼ W₂ⱼ tanh(x W₁ⱼ + b₁ⱼ) + b₂ is a sum of
three shifted, stretched tanh curves; the right plot shows each unit's contribution. Run the cell (a few
seconds on a CPU; such tiny tensors run no faster on a GPU).
"""),
        Code("""
import matplotlib.pyplot as plt

generator = torch.Generator().manual_seed(0)
x50 = torch.linspace(-3, 3, 50, dtype=torch.float64).reshape(-1, 1)
y50 = torch.sin(x50[:, 0]) + 0.1 * torch.randn(50, generator=generator, dtype=torch.float64)
toy = MLPRegressor((3,), learning_rate=0.05, max_iter=5000, activation="tanh", random_state=0)
toy.train(x50, y50)
print(f"training MSE {float(toy.loss_history_[0]):.3f} → {float(toy.loss_history_[-1]):.4f}")

grid = torch.linspace(-3.5, 3.5, 200, dtype=torch.float64).reshape(-1, 1)
hidden = toy.network_[1].forward(toy.network_[0].forward(grid))  # (200, 3)
W2, b2 = toy.network_[2].W, toy.network_[2].b
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(x50[:, 0], y50, "o", ms=4, label="data")
left.plot(grid[:, 0], toy.predict(grid), label="MLP, 3 tanh units")
left.plot(grid[:, 0], torch.sin(grid[:, 0]), "k:", label="sin x")
left.legend()
for j in range(3):
    right.plot(grid[:, 0], hidden[:, j] * W2[j, 0], label=f"unit {j + 1}: W₂ⱼ tanh(x W₁ⱼ + b₁ⱼ)")
right.axhline(float(b2), color="k", ls=":", label="b₂")
right.legend(fontsize=8)
plt.show()
"""),
        Markdown(r"""
## 7. Experiment: learning curves on real data

The diabetes data of homework 1 (442 patients, 10 features, y = disease progression after one year;
`diabetes.csv` ships next to this notebook), split 354 / 88 at random, features and target standardised
with the training set's statistics. On a standardised target, predicting the mean gives an MSE of about
1, and 1 − MSE is roughly the fraction of the variance explained (R²).

The loop below is `_step` written out with your layers, so that it can also measure the loss on the
**test** rows after every epoch: a network with 64 ReLU units, full-batch gradient descent. For
comparison, the linear model (`hidden_layer_sizes=()`). Run the cell (about ten seconds on a CPU; it
uses CUDA when available) and look at the two curves.

**The bump at the start is expected.** After two epochs of progress (from about 1.6 to 1.05), both
losses climb to about 57 at epoch 8 and fall back below 1 by epoch 11. Full-batch gradient descent is
stable only while the step is below 2/λ, λ the largest curvature of the loss; at this initialisation
η = 0.05 is just past that limit (with η = 0.03 the same loop falls from the first epoch). So the first
steps overshoot along the steepest direction and the loss grows; the large gradients then shrink the
weights of that direction until the curvature fits the step, and training goes on from there (a
"catapult"). The log-log axes make those ten epochs look wide.
"""),
        Code("""
import matplotlib.pyplot as plt

device = "cuda" if torch.cuda.is_available() else "cpu"
data = np.loadtxt("diabetes.csv", delimiter=",", skiprows=1)
order = np.random.default_rng(0).permutation(len(data))
test, train = order[:88], order[88:]
features, target = data[:, :-1], data[:, -1]
features = (features - features[train].mean(axis=0)) / features[train].std(axis=0)
target = (target - target[train].mean()) / target[train].std()
X_all = torch.tensor(features, dtype=torch.float64, device=device)
y_all = torch.tensor(target, dtype=torch.float64, device=device).reshape(-1, 1)
X_train, X_test, y_train, y_test = X_all[train], X_all[test], y_all[train], y_all[test]

generator = torch.Generator().manual_seed(0)
layer = dict(generator=generator, device=device, dtype=torch.float64)
net = Sequential(Linear(10, 64, init="he", **layer), ReLU(), Linear(64, 1, init="xavier", **layer))
loss_fn = MSELoss()
epochs, lr = 2000, 0.05
train_loss = torch.empty(epochs, dtype=torch.float64, device=device)  # stays on the device: no sync
test_loss = torch.empty(epochs, dtype=torch.float64, device=device)
for epoch in range(epochs):
    test_loss[epoch] = loss_fn.forward(net.forward(X_test), y_test)  # before this epoch's step
    train_loss[epoch] = loss_fn.forward(net.forward(X_train), y_train)
    net.backward(loss_fn.backward(), need_input_grad=False)
    for p, g in zip(net.parameters(), net.gradients(), strict=True):
        p -= lr * g

linear = MLPRegressor((), learning_rate=0.05, max_iter=2000, random_state=0).train(X_train, y_train)
linear_test = float(((linear.predict(X_test) - y_test[:, 0]) ** 2).mean())
best = int(test_loss.argmin())
print(f"MLP: best test MSE {float(test_loss[best]):.3f} after {best} epochs, "
      f"{float(test_loss[-1]):.3f} after {epochs}; train MSE {float(train_loss[-1]):.3f}")
print(f"linear model: train MSE {float(linear.loss_history_[-1]):.3f}, test MSE {linear_test:.3f}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.loglog(range(1, epochs + 1), train_loss.cpu(), label="MLP, train")
ax.loglog(range(1, epochs + 1), test_loss.cpu(), label="MLP, test")
ax.axhline(linear_test, color="k", ls=":", label="linear model, test")
ax.set_xlabel("epoch")
ax.set_ylabel("MSE (standardised target)")
ax.legend()
plt.show()
"""),
        Written(
            "written_jacobian",
            1,
            r"""
**Question 1 (1 point, graded by hand).** A linear layer maps x of shape (n, in) to y = xW + b of shape
(n, out). (a) How many numbers does the Jacobian ∂y/∂x have, and how much memory would it take in float32
for n = 256 and in = out = 1024? (b) What does `backward` compute instead, how many multiply-adds does it
cost, and why is that all the chain rule needs? Write 3–5 sentences below.
""",
            r"""
(a) ∂y/∂x has one entry per pair (output element, input element): n·out·n·in = 256²·1024² ≈ 6.9·10¹⁰
numbers, about 275 GB in float32 (4 bytes each), and ∂y/∂W has n·out·in·out ≈ 2.7·10¹¹ more. Almost
all of it is zero: row i of y depends only on row i of x, through the same Wᵀ in every block.
(b) `backward` computes the vector–Jacobian product directly: ∂L/∂x = g Wᵀ and ∂L/∂W = xᵀ g, about
n·in·out multiply-adds each (≈ 2.7·10⁸ here), the cost of the forward pass, in memory the size of x and
W. That is enough because the loss is a scalar: the chain rule only ever multiplies the gradient row
vector ∂L/∂y by the next Jacobian, so every Jacobian can stay implicit.
""",
        ),
        Written(
            "written_learning_curves",
            1,
            r"""
**Question 2 (1 point, graded by hand).** Look at the learning curves of experiment 7. (a) What do the
train and the test loss do, where is the test loss lowest, and what does the gap between them mean?
(b) Does the MLP do better than the linear model on this data? Why might it not, and name one change
that would help the MLP's test loss. Write 3–5 sentences below.
""",
            r"""
(a) The training loss keeps falling for all 2000 epochs, while the test loss falls only for the first
few dozen epochs (its minimum, ≈ 0.48, is near epoch 50) and then rises steadily towards ≈ 0.8: the
network overfits, fitting the noise of 354 training rows, and the growing gap between the curves is the
generalisation error. (b) At its best the MLP only matches the linear model (test MSE ≈ 0.48), and after
2000 epochs it is clearly worse: on 10 features with a mostly linear relation and few rows, the extra
capacity buys little signal and much variance. Early stopping on a validation set (stop near the test
minimum), an L2 penalty (weight decay), or a smaller network would help.
""",
        ),
        Markdown("""
That's all. Restart the kernel and run all cells before you submit.
"""),
    ],
)
