"""Hidden checks of homework 2 (``assignments/hw2_mlp_backprop``), against ``solutions.mlp``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``; every task is a class, and the
check receives the student's class. A seed picks one of a few cases (shapes, dtypes, extreme values)
and draws its random numbers, so ``range(8)`` covers every case and ``range(100)`` is the
no-flakiness test. Every check forbids autograd (:data:`~autograder.checks.forbidden.AUTOGRAD`): the
homework is the chain rule written by hand.

``apply`` (in ``probes.py``, what runs in the sandbox) runs only the student's classes.
Where a task needs other layers around it (``Sequential``), it gets small probe layers, which also
record the order in which they are called; ``judge`` rebuilds the same network from ``solutions.mlp``
to compute what is expected. For ``MLPRegressor`` the student's network starts from weights the
student's own code draws: ``apply`` reports them (a training with ``max_iter=0``, twice), ``judge``
trains the reference from those very weights and compares the training, then checks the initial
weights against the reference's last.

Beyond the values, each check holds the contracts the notebook states: results in the inputs' dtype
(every task has a float32 case), ``None`` from ``backward(..., need_input_grad=False)`` (``Linear``,
``Sequential``), an activation's output a new tensor that ``backward`` leaves alone, ``predict`` of
one row ``(1,)``, and every hyper-parameter of ``MLPRegressor`` (``init`` and the activation's name
included) away from its default in some case. The tolerances are the ones the notebook's table
states.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import torch

from autograder.checks import (
    Catalogue,
    Check,
    Verdict,
    a_kind,
    case,
    changed_in_place,
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
from autograder.checks.forbidden import AUTOGRAD

from .probes import (
    PROBES,
    SEQUENTIAL_CASES,
    STEPS,
    build,
    dtype_of,
    flat,
    layers_of,
    linear_parameters,
    load_parameters,
    mlp_kwargs,
    widths,
)

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.mlp")  # judge only: apply runs where solutions/ is not

F32, F64 = torch.float32, torch.float64


def _rng(seed: int) -> np.random.Generator:
    return rng(2, seed)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol relative to the size of the terms summed): rounding of one formula against another."""
    return (1e-9, 1e-12) if dtype == F64 else (1e-4, 1e-5)


def _hint(actual: np.ndarray, alternatives: dict[str, np.ndarray]) -> str | None:
    """The hint of the first wrong answer that ``actual`` equals (to rounding), if any."""
    for hint, wrong in alternatives.items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == actual.shape and np.allclose(actual, wrong, rtol=1e-6, atol=1e-300):
            return hint
    return None


def _factor(actual: np.ndarray, expected: np.ndarray) -> float | None:
    """c when ``actual ≈ c · expected`` everywhere with c ≠ 1, else None."""
    mask = np.abs(expected) > 1e-300
    if not mask.any() or actual.shape != expected.shape:
        return None
    ratios = actual[mask] / expected[mask]
    c = float(np.median(ratios))
    if not np.isfinite(c) or abs(c - 1) < 1e-6 or not np.allclose(ratios, c, rtol=1e-6):
        return None
    return c


def _values(
    actual: np.ndarray,
    expected: np.ndarray,
    what: str,
    dtype: torch.dtype,
    bound: float,
    hints: dict[str, np.ndarray] | None = None,
) -> str | None:
    """Compare to the reference with the dtype's tolerance; on a mismatch, say what it looks like."""
    rtol, atol = _tolerance(dtype)
    problem = compare(actual, expected, what, rtol=rtol, atol=atol * bound + 1e-300)
    if problem is None:
        return None
    hint = _hint(actual, hints or {})
    if hint is None:
        c = _factor(actual, expected)
        if c is not None:
            hint = (
                f"it is {c:.4g} × the right values everywhere: a missing or extra factor or sign?"
            )
    return problem if hint is None else f"{problem}; {hint}"


def _expect(outputs: dict, key: str, shape: tuple, dtype: torch.dtype, what: str) -> str | None:
    """:func:`expect_tensor`, naming the value ``what`` instead of its key."""
    problem = expect_tensor(outputs, key, shape, _dtype_name(dtype))
    return None if problem is None else problem.replace(key, what, 1)


def _abs_product(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a| @ |b|: the size of the terms a matrix product sums (for its rounding)."""
    return float((np.abs(a) @ np.abs(b)).max(initial=0.0)) + 1e-300


# ---------------------------------------------------------------------------------------------------
# Linear: forward x W + b; backward dW = xᵀg, db = Σᵢ gᵢ, ∂L/∂x = g Wᵀ
# ---------------------------------------------------------------------------------------------------

# (n, in_features, out_features, bias, float32, scale of x and g)
_LINEAR_CASES = [
    (1, 1, 1, True, False, 1.0),
    (5, 3, 4, True, False, 1.0),
    (64, 17, 9, True, False, 1.0),
    (4, 3, 3, True, False, 1.0),  # square W: a transposed dW has the right shape
    (6, 4, 2, False, False, 1.0),
    (3, 2, 5, True, True, 1.0),
    (7, 5, 3, True, False, 1e8),
    (8, 3, 6, True, False, 1e-8),
]


def _linear_inputs(seed: int) -> dict[str, np.ndarray]:
    n, i, o, bias, float32, scale = case(seed, _LINEAR_CASES)
    generator = _rng(seed)
    inputs = {
        "W": generator.standard_normal((i, o)),
        "x1": scale * generator.standard_normal((n, i)),
        "g1": scale * generator.standard_normal((n, o)),
        "x2": scale * generator.standard_normal((n, i)),
        "g2": scale * generator.standard_normal((n, o)),
        "float32": np.array(float32),
    }
    if bias:
        inputs["b"] = generator.standard_normal(o)
    if float32:  # values a float32 tensor holds exactly, so that the reference sees the same inputs
        inputs = {k: v.astype(np.float32).astype(np.float64) for k, v in inputs.items()}
    return inputs


def _reference_linear(inputs: dict[str, np.ndarray]) -> dict[str, list]:
    """The reference's outputs for both passes: y, ∂L/∂x and [dW, db] (float64 arrays)."""
    dtype = dtype_of(inputs)
    i, o = inputs["W"].shape
    layer = ref.Linear(i, o, bias="b" in inputs, device="cpu", dtype=dtype)
    load_parameters(layer, linear_parameters(inputs), dtype)
    out = {"y": [], "grad_x": [], "grads": []}
    for k in (1, 2):
        x, g = tensor(inputs[f"x{k}"], dtype), tensor(inputs[f"g{k}"], dtype)
        out["y"].append(layer.forward(x).to(F64).numpy())
        out["grad_x"].append(layer.backward(g.clone()).to(F64).numpy())
        out["grads"].append([t.to(F64).numpy().copy() for t in layer.gradients()])
    return out


def _linear_gradient_problem(
    outputs: dict, key: str, inputs: dict, k: int, expected: list[np.ndarray], first: list
) -> str | None:
    """The gradients ``key`` (after pass k) against ``expected``: count, shape, dtype, values."""
    dtype = dtype_of(inputs)
    names = ["W", "b"][: len(expected)]
    n_grads = int(outputs.get(f"{key}.n", -1))
    if n_grads != len(expected):
        return (
            f"gradients() returned {n_grads} tensors, expected {len(expected)} "
            f"([{', '.join('d' + n for n in names)}], in the order of parameters())"
        )
    x, g = inputs[f"x{k}"], inputs[f"g{k}"]
    for j, (name, want) in enumerate(zip(names, expected, strict=True)):
        what = f"the gradient of {name}"
        problem = _expect(outputs, f"{key}.{j}", want.shape, dtype, what)
        if problem is not None:
            if "has shape" in problem:
                problem += f": ∂L/∂{name} has the shape of {name}"
                if name == "W":
                    problem += " (xᵀ g, not gᵀ x)"
            return problem
        actual = outputs[f"{key}.{j}"]
        hints = {
            "the gradients add up across backward calls: overwrite dW and db each time": (
                want + first[j] if key != "grads1" else np.full(want.shape, np.nan)
            ),
            "dW and db were left as the previous backward made them": (
                first[j] if key == "grads_only" else np.full(want.shape, np.nan)
            ),
        }
        if name == "W":
            bound = _abs_product(x.T, g)
            if want.shape[0] == want.shape[1]:
                hints["it is the transpose of ∂L/∂W = xᵀ g"] = want.T
        else:
            bound = float(np.abs(g).sum(axis=0).max()) + 1e-300
            hints["it is the mean over the rows of the batch; ∂L/∂b = Σᵢ gᵢ, the sum"] = want / len(
                g
            )
        problem = _values(actual, want, what, dtype, bound, hints)
        if problem is not None:
            return problem
    return None


def _linear_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if "error" in outputs:
        return first_problem(raised(outputs, STEPS))
    dtype = dtype_of(inputs)
    W = inputs["W"]
    b = inputs.get("b", np.zeros(W.shape[1]))
    expected = _reference_linear(inputs)
    for k in (1, 2):
        x, g = inputs[f"x{k}"], inputs[f"g{k}"]
        pass_ = "" if k == 1 else " (second forward/backward)"
        n, i = x.shape
        problem = _expect(outputs, f"y{k}", (n, W.shape[1]), dtype, "the output")
        if problem is None:
            problem = _values(
                outputs[f"y{k}"],
                expected["y"][k - 1],
                "the output x W + b",
                dtype,
                _abs_product(x, W) + np.abs(b).max(),
                {"the bias is missing: y = x W + b": x @ W},
            )
        if problem is None:
            problem = _expect(outputs, f"grad_x{k}", (n, i), dtype, "∂L/∂x")
            if problem is not None and "has shape" in problem:
                problem += ": ∂L/∂x = g Wᵀ has the shape of x"
        if problem is None:
            problem = _values(
                outputs[f"grad_x{k}"],
                expected["grad_x"][k - 1],
                "∂L/∂x",
                dtype,
                _abs_product(g, W.T),
                {"it is g W, not g Wᵀ": g @ W} if W.shape[0] == W.shape[1] else {},
            )
        if problem is None:
            problem = _linear_gradient_problem(
                outputs, f"grads{k}", inputs, k, expected["grads"][k - 1], expected["grads"][0]
            )
        if problem is not None:
            return first_problem(problem + pass_)
    problem = _linear_gradient_problem(
        outputs, "grads_only", inputs, 1, expected["grads"][0], expected["grads"][1]
    )
    if problem is not None:
        return first_problem(f"with need_input_grad=False: {problem}")
    problem = _returns_none(outputs)
    if problem is not None:
        return first_problem(problem)
    if changed_in_place(inputs, outputs, "x1", "x2", dtype=dtype):
        return first_problem("forward or backward changed its input x in place")
    if _moved(inputs, outputs):
        return first_problem("forward or backward changed W or b: only the optimizer step may")
    return first_problem()


def _returns_none(outputs: dict[str, np.ndarray]) -> str | None:
    """None when backward(..., need_input_grad=False) returned None (``grad_x_only``), else why not."""
    kind = said(outputs, "grad_x_only.type", "nothing")
    if kind == "NoneType":
        return None
    return (
        f"with need_input_grad=False backward returned {a_kind(kind)}; it returns None (∂L/∂x is "
        "skipped: the data needs no gradient)"
    )


def _moved(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> bool:
    """Whether the parameters after the passes (``params_after``) are not the case's W and b."""
    arrays = linear_parameters(inputs)
    if int(outputs.get("params_after.n", -1)) != len(arrays):
        return True
    return any(
        not np.array_equal(outputs.get(f"params_after.{k}"), array)
        for k, array in enumerate(arrays)
    )


# ---------------------------------------------------------------------------------------------------
# Activations: forward f(x) elementwise; backward g ⊙ f'(x)
# ---------------------------------------------------------------------------------------------------

_EXTREMES = np.array([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 40.0, -40.0, 800.0, -800.0, 1e4, -1e4])

# (shape of x, what is special, float32)
_ACTIVATION_CASES = [
    ((12,), "extremes", False),
    ((3, 4), "zeros", False),
    ((), "positive", False),  # nothing negative: forward still returns a new tensor
    ((50,), "", False),
    ((2, 3, 4), "zeros", False),
    ((16, 8), "", True),
    ((5, 7), "large", False),
    ((1, 1), "zero", False),
]


def _activation_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, special, float32 = case(seed, _ACTIVATION_CASES)
    generator = _rng(seed)
    x = 2.0 * generator.standard_normal(shape)
    if special == "extremes":
        x = _EXTREMES.copy()
    elif special == "zeros":  # exact zeros: where ReLU's kink is, f'(0) = 0
        x.flat[::3] = 0.0
    elif special == "large":
        x = 30.0 * x
    elif special == "zero":
        x = np.zeros(shape)
    elif special == "positive":
        x = np.abs(x) + 0.5
    g = generator.standard_normal(shape)
    if float32:
        x, g = (v.astype(np.float32).astype(np.float64) for v in (x, g))
    return {"x": x, "g": g, "float32": np.array(float32)}


def _activation_judge(
    name: str, derivative: str, wrong: Callable[[np.ndarray, np.ndarray, np.ndarray], dict]
) -> Callable:
    """A judge of the activation ``name`` (``solutions.mlp``'s class of that name).

    ``wrong(x, y, g)`` gives the plausible wrong gradients with a hint each (y = f(x)).
    """

    def judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        if "error" in outputs:
            return first_problem(raised(outputs, STEPS))
        dtype = dtype_of(inputs)
        x, g = inputs["x"], inputs["g"]
        layer = getattr(ref, name)()
        y = layer.forward(tensor(x, dtype))
        y_ref = y.to(F64).numpy().copy()
        grad_ref = layer.backward(tensor(g, dtype)).to(F64).numpy()
        rtol = 1e-10 if dtype == F64 else 1e-5
        atol = 1e-14 if dtype == F64 else 1e-6  # f(x) and f'(x) are at most 1 in size
        problem = _expect(outputs, "out", x.shape, dtype, "the output f(x)")
        if problem is not None and "NaN" in problem and np.abs(x).max() > 700:
            problem += " for large |x|: e^x overflows for x > 709; exponentiate only −|x|"
        if problem is None and changed_in_place(inputs, outputs, "x", dtype=dtype):
            problem = (
                "forward changed its input x in place (the layer below keeps x for its own "
                "backward): return a new tensor"
            )
        if problem is None:
            problem = compare(outputs["out"], y_ref, "the output f(x)", rtol=rtol, atol=atol)
        if problem is None:
            problem = _expect(outputs, "grad", x.shape, dtype, "∂L/∂x")
            if problem is not None and "has shape" in problem:
                problem += ": ∂L/∂x has the shape of x"
        if problem is None:
            actual = outputs["grad"]
            scale = float(np.abs(g).max(initial=0.0))
            problem = compare(actual, grad_ref, "∂L/∂x", rtol=rtol, atol=atol * scale + 1e-300)
            if problem is not None:
                hint = _hint(actual, wrong(x, y_ref, g))
                problem += f"; {hint}" if hint else f" (∂L/∂x = g ⊙ f'(x) with {derivative})"
        if problem is None and changed_in_place(inputs, outputs, "x", dtype=dtype, when="later"):
            problem = "backward changed the input x of forward in place"
        if problem is None and not _unchanged(outputs, "out", "out.after_backward"):
            problem = (
                "backward changed the output y that forward returned, in place (the layer above "
                "keeps y as its input): compute f'(x) into a new tensor, or overwrite grad_output"
            )
        if problem is None and not _unchanged(outputs, "out", "out.after_x"):
            problem = (
                "forward returned x itself or a view of it (the output changed when the caller "
                "later changed x): return a new tensor"
            )
        return first_problem(problem)

    return judge


def _unchanged(outputs: dict[str, np.ndarray], key: str, later: str) -> bool:
    """Whether the values ``later`` (the same tensor read again) are still those of ``key``."""
    return later in outputs and np.array_equal(outputs[key], outputs[later], equal_nan=True)


def _relu_wrong(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> dict:
    return {
        "at x = 0 the derivative is 0 (PyTorch's choice): pass g only where x > 0": g * (x >= 0),
        "f'(x) is 0 or 1, never −1: multiply by (x > 0), not by sign(x)": g * np.sign(x),
        "backward returned f'(x) alone: multiply it by grad_output": (x > 0).astype(float),
        "the gradient passes where x < 0 too: there f'(x) = 0": g,
    }


def _sigmoid_wrong(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> dict:
    s = 1.0 / (1.0 + np.exp(-y))
    return {
        "σ'(x) = σ(x)(1 − σ(x)), not σ(x)": g * y,
        "σ' was taken of the output y = σ(x) instead of x: use y(1 − y) with the stored y": g
        * s
        * (1 - s),
        "backward returned σ'(x) alone: multiply it by grad_output": y * (1 - y),
        "the sign is wrong: σ'(x) = σ(x)(1 − σ(x)) ≥ 0": -g * y * (1 - y),
    }


def _tanh_wrong(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> dict:
    t = np.tanh(y)
    return {
        "tanh'(x) = 1 − tanh²(x): the square is missing": g * (1 - y),
        "tanh'(x) = 1 − y² in the output y = tanh(x), not 1 − x²": g * (1 - x**2),
        "tanh' was taken of the output y instead of x: use 1 − y² with the stored y": g
        * (1 - t**2),
        "backward returned tanh'(x) alone: multiply it by grad_output": 1 - y**2,
        "tanh'(x) = 1 − tanh²(x), not 1 + tanh²(x)": g * (1 + y**2),
    }


# ---------------------------------------------------------------------------------------------------
# MSELoss: forward L = 1/N Σ (p − t)²; backward 2/N (p − t)
# ---------------------------------------------------------------------------------------------------

# (shape of pred, shape of target, scale, float32)
_MSE_CASES = [
    ((5, 1), (5, 1), 1.0, False),
    ((6, 3), (6, 3), 1.0, False),  # N = 18 elements in n = 6 rows
    ((1, 1), (1, 1), 1.0, False),
    ((1000, 1), (1000, 1), 1.0, False),
    ((7, 1), (7,), 1.0, False),  # broadcasting would make (7, 7): must raise
    ((17, 2), (17, 2), 1e-6, False),
    ((17, 1), (17, 1), 1e6, False),
    ((9,), (9,), 1.0, True),  # the loss and the gradient in float32
]


def _mse_inputs(seed: int) -> dict[str, np.ndarray]:
    pred_shape, target_shape, scale, float32 = case(seed, _MSE_CASES)
    generator = _rng(seed)
    inputs = {
        "pred": scale * generator.standard_normal(pred_shape),
        "target": scale * generator.standard_normal(target_shape),
        "float32": np.array(float32),
    }
    if float32:  # values a float32 tensor holds exactly, so that the reference sees the same inputs
        inputs = {k: v.astype(np.float32).astype(np.float64) for k, v in inputs.items()}
    return inputs


def _mse_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    p, t = inputs["pred"], inputs["target"]
    if "mismatch.raised" in outputs:
        transposed = str(outputs.get("mismatch.transposed", ""))
        if str(outputs["mismatch.raised"]).startswith("ValueError") and transposed.startswith(
            "ValueError"
        ):
            return first_problem()
        if str(outputs["mismatch.raised"]).startswith("ValueError"):
            n = p.shape[0]
            return first_problem(
                f"forward got pred of shape {p.shape} and target of shape (1, {n}) and did not "
                f"raise a ValueError: broadcasting would make pred − target ({n}, {n}); the "
                "shapes must be equal (the provided _check_pair checks that)"
            )
        error = said(outputs, "mismatch.raised")
        what = f"raised {error}" if error else "accepted them"
        return first_problem(
            f"forward got pred of shape {p.shape} and target of shape {t.shape} and {what}: "
            f"broadcasting would make pred − target {(p.shape[0],) * 2}, so raise a ValueError "
            "(the provided _check_pair does)"
        )
    if "error" in outputs:
        return first_problem(raised(outputs, STEPS))
    dtype = dtype_of(inputs)
    loss = ref.MSELoss()
    expected = float(loss.forward(tensor(p, dtype), tensor(t, dtype)))
    grad = loss.backward().to(F64).numpy()
    d = p - t
    N = d.size
    problem = _expect(outputs, "loss", (), dtype, "the loss")
    if problem is not None and "has shape" in problem:
        problem += ": the loss is one number, a 0-d tensor (the mean over all N elements)"
    if problem is None:
        actual = outputs["loss"]
        rtol = 1e-10 if dtype == F64 else 1e-5
        problem = compare(actual, expected, "the loss", rtol=rtol, atol=1e-300)
        if problem is not None:
            hint = _hint(
                actual,
                {
                    "that is the sum of the squares: divide by N, the number of elements": (
                        d**2
                    ).sum(),
                    "that is the RMSE: no square root": np.sqrt((d**2).mean()),
                    "that is the mean absolute error: square the differences": np.abs(d).mean(),
                },
            )
            problem += f"; {hint}" if hint else ""
    if problem is None:
        problem = _expect(outputs, "grad", p.shape, dtype, "∂L/∂pred")
        if problem is not None and "has shape" in problem:
            problem += ": ∂L/∂pred has the shape of pred"
    if problem is None:
        hints = {
            "it is 2(pred − target): divide by N, the number of elements": 2 * d,
            "it is (pred − target)/N: the factor 2 of the square's derivative is missing": d / N,
            "it is 2/N (target − pred): the sign is wrong": -2 * d / N,
        }
        if d.ndim == 2 and d.shape[1] > 1:
            hints["it is divided by the n rows, not by the N = n·k elements"] = 2 * d / d.shape[0]
        problem = _values(
            outputs["grad"], grad, "∂L/∂pred", dtype, float(np.abs(d).max()) * 2 / N, hints
        )
    if problem is None and changed_in_place(inputs, outputs, "pred", "target", dtype=dtype):
        problem = "forward or backward changed pred or target in place"
    return first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# Sequential: probe layers that record the order of their calls
# ---------------------------------------------------------------------------------------------------


def _sequential_inputs(seed: int) -> dict[str, np.ndarray]:
    n, layers, scale, float32 = case(seed, SEQUENTIAL_CASES)
    generator = _rng(seed)
    d, out = widths(layers)
    inputs = {"case": np.array(seed % len(SEQUENTIAL_CASES)), "float32": np.array(float32)}
    for k, layer in enumerate(flat(layers)):
        if isinstance(layer, tuple):
            inputs[f"W{k}"] = generator.standard_normal(layer) / np.sqrt(layer[0])
            inputs[f"b{k}"] = 0.1 * generator.standard_normal(layer[1])
    inputs["x"] = scale * generator.standard_normal((n, d))
    inputs["g"] = generator.standard_normal((n, out or d))
    if float32:
        inputs = {
            k: v.astype(np.float32).astype(np.float64) if v.dtype.kind == "f" else v
            for k, v in inputs.items()
        }
    return inputs


def _reference_sequential(inputs: dict[str, np.ndarray]):
    dtype = dtype_of(inputs)

    def linear(k, W, b):
        layer = ref.Linear(*W.shape, device="cpu", dtype=dtype)
        load_parameters(layer, [W.numpy(), b.numpy()], dtype)
        return layer

    make = {
        "L": linear,
        "T": lambda k: ref.Tanh(),
        "R": lambda k: ref.ReLU(),
        "S": lambda k: ref.Sigmoid(),
    }
    return ref.Sequential(*build(layers_of(inputs), inputs, make, ref.Sequential, [0]))


def _backward_order_problem(order: list[int], n_layers: int) -> str | None:
    """None when ``order`` (the layers whose backward ran, maybe cut short) goes last to first."""
    expected = list(range(n_layers))[::-1]
    if order == expected[: len(order)]:
        return None
    return (
        f"backward called the layers' backward in the order {order}; expected {expected}: each "
        "once, last to first, each on the gradient the one above returned"
    )


def _sequential_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    n_layers = len(flat(layers_of(inputs)))
    if "error" in outputs:
        order = outputs.get("backward_order")
        problem = None if order is None else _backward_order_problem(order.tolist(), n_layers)
        return first_problem(problem or raised(outputs, STEPS))
    dtype = dtype_of(inputs)
    net = _reference_sequential(inputs)
    x, g = tensor(inputs["x"], dtype), tensor(inputs["g"], dtype)
    y = net.forward(x).to(F64).numpy()
    grad_x = net.backward(g.clone()).to(F64).numpy()
    grads = [t.to(F64).numpy() for t in net.gradients()]
    order = list(range(n_layers))
    forward_order = outputs["forward_order"].tolist()
    backward_order = outputs["backward_order"].tolist()
    if forward_order != order:
        return first_problem(
            f"forward called the layers in the order {forward_order}; expected {order}, each "
            "once, first to last, each on the output of the one before"
        )
    problem = _expect(outputs, "y", y.shape, dtype, "the output")
    if problem is None:
        problem = _values(outputs["y"], y, "the output", dtype, float(np.abs(y).max()) + 1.0)
    if problem is not None:
        return first_problem(problem)
    if backward_order != order[::-1]:
        return first_problem(
            _backward_order_problem(backward_order, n_layers)
            or f"backward called only the layers {backward_order}; expected {order[::-1]}"
        )
    what = "∂L/∂x (what backward returns)"
    problem = _expect(outputs, "grad_x", x.shape, dtype, what)
    if problem is not None and "has shape" in problem:
        problem += ": ∂L/∂x has the shape of x"
    if problem is None:
        scale = float(np.abs(grad_x).max(initial=0.0)) + float(np.abs(inputs["g"]).max())
        problem = _values(outputs["grad_x"], grad_x, what, dtype, scale)
    if problem is not None:
        return first_problem(problem)
    for key, what in (("grads", ""), ("grads_only", "with need_input_grad=False: ")):
        for k, want in enumerate(grads):
            actual = outputs.get(f"{key}.{k}")
            ok = actual is not None and actual.shape == want.shape and np.all(np.isfinite(actual))
            if not ok:
                return first_problem(f"{what}a Linear layer's gradients were not filled in")
            problem = _values(
                actual,
                want,
                f"{what}a Linear layer's gradient",
                dtype,
                float(np.abs(want).max()) + 1.0,
            )
            if problem is not None:
                return first_problem(problem)
    problem = _returns_none(outputs)
    if problem is not None:
        return first_problem(problem)
    if changed_in_place(inputs, outputs, "x", dtype=dtype):
        return first_problem("forward or backward changed the input x in place")
    return first_problem()


# ---------------------------------------------------------------------------------------------------
# MLPRegressor: the student's network trained from its own initial weights, against the reference
# ---------------------------------------------------------------------------------------------------


# (n, d, hidden_layer_sizes, activation, init, learning_rate, max_iter, batch_size, y as a column,
#  with the optimizer, float32, scale of y): every hyper-parameter away from its default somewhere,
#  init against what "auto" would pick (he for relu, xavier for the others)
_MLP_CASES = [
    (20, 3, (5,), "relu", "normal", 0.05, 5, None, False, False, False, 1.0),
    (30, 2, (4, 3, 2), "logistic", "he", 0.05, 8, None, True, False, False, 1.0),
    (1, 1, (2,), "sigmoid", "auto", 0.1, 3, None, False, False, False, 1.0),
    (25, 4, (), "relu", "auto", 0.05, 10, None, False, False, False, 1.0),
    (40, 3, (6,), "identity", "auto", 0.05, 4, 7, False, False, False, 1.0),
    (15, 2, (3,), "relu", "xavier", 0.02, 6, None, False, True, False, 1.0),
    (50, 5, (8, 4), "relu", "auto", 1e-4, 3, None, True, False, False, 100.0),
    (12, 2, (5,), "tanh", "auto", 0.05, 4, None, False, False, True, 1.0),
]
_M_TEST = 9


def _mlp_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, hidden, activation, init, lr, max_iter, batch, column, optimizer, float32, scale = case(
        seed, _MLP_CASES
    )
    generator = _rng(seed)
    X = generator.standard_normal((n, d))
    a = generator.standard_normal(d)
    y = scale * (np.sin(X @ a) + 0.1 * generator.standard_normal(n))
    inputs = {
        "X": X,
        "y": y.reshape(-1, 1) if column else y,
        "X_test": generator.standard_normal((_M_TEST, d)),
        "hidden_layer_sizes": np.array(hidden, dtype=np.int64),
        "activation": text(activation),
        "init": text(init),
        "learning_rate": np.array(lr),
        "max_iter": np.array(max_iter),
        "batch_size": np.array(batch if batch is not None else 0),
        "optimizer": np.array(optimizer),
        "random_state": np.array(int(generator.integers(0, 2**31))),
        "float32": np.array(float32),
    }
    if float32:
        for k in ("X", "y", "X_test"):
            inputs[k] = inputs[k].astype(np.float32).astype(np.float64)
    return inputs


@functools.cache
def _from_weights() -> type:
    """The reference ``MLPRegressor``, started from given weights (it draws its own first, so that
    the generator is where the reference's is when the mini-batch orders are drawn)."""

    class FromWeights(ref.MLPRegressor):
        def __init__(self, weights: list[np.ndarray], dtype: torch.dtype, **kwargs):
            super().__init__(**kwargs)
            self._weights, self._dtype = weights, dtype

        def _build_network(self, n_in, n_out, X, generator):
            net = super()._build_network(n_in, n_out, X, generator)
            for p, w in zip(net.parameters(), self._weights, strict=True):
                p.copy_(tensor(w, self._dtype))
            return net

    return FromWeights


def _parameter_name(k: int) -> str:
    return f"{'W' if k % 2 == 0 else 'b'} of layer {k // 2 + 1}"


def _parameters_problem(
    outputs: dict, key: str, expected: list[torch.Tensor], initial: list[np.ndarray], rtol: float
) -> str | None:
    """The student's parameters ``key`` against the reference's, both trained from ``initial``."""
    when = "after one epoch" if key == "one_epoch" else "after training"
    for k, (want, start) in enumerate(zip(expected, initial, strict=True)):
        want = want.to(F64).numpy()
        actual = outputs[f"{key}.{k}"]
        scale = float(np.abs(want).max()) + float(np.abs(start).max()) + 1e-300
        if np.allclose(actual, want, rtol=rtol, atol=rtol * scale):
            continue
        name = _parameter_name(k)
        if np.array_equal(actual, start):
            return f"{name} was never updated (update every parameter in place: p -= η·g)"
        c = _factor(actual - start, want - start)
        if c is not None and np.isclose(c, -1.0):
            return f"{name} moved up the gradient {when}: p ← p − η ∂L/∂p, not p + η ∂L/∂p"
        if c is not None:
            return f"{name} moved {when} by {c:.4g} × the right step η ∂L/∂p"
        return f"{name} differs from the reference's {when}, from the same initial weights"
    return None


def _same(outputs: dict[str, np.ndarray], key: str, other: str) -> bool:
    """Whether the lists of tensors ``key`` and ``other`` hold the same values (the same dtype: both
    passed :func:`_expect` or were made alike)."""
    n = int(outputs.get(f"{key}.n", -1))
    return n == int(outputs.get(f"{other}.n", -2)) and all(
        f"{key}.{k}" in outputs
        and f"{other}.{k}" in outputs
        and np.array_equal(outputs[f"{key}.{k}"], outputs[f"{other}.{k}"])
        for k in range(n)
    )


def _mlp_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    if "error" in outputs:
        return first_problem(raised(outputs, STEPS))
    dtype = dtype_of(inputs)
    kwargs = mlp_kwargs(inputs, int(inputs["max_iter"]))
    X, y, X_test = (tensor(inputs[k], dtype) for k in ("X", "y", "X_test"))
    d = inputs["X"].shape[1]
    widths = (d, *kwargs["hidden_layer_sizes"], 1)
    shapes = [s for a, b in pairwise(widths) for s in ((a, b), (b,))]
    if not outputs["returned_self"]:
        return first_problem("train must return self, so that model.train(X, y).predict(X) works")
    for key, when in (
        ("initial", "before training"),
        ("one_epoch", "after one epoch"),
        ("trained", "after training"),
    ):
        count = int(outputs[f"{key}.n"])
        if count != len(shapes):
            return first_problem(
                f"parameters() {when} holds {count} tensors, expected {len(shapes)}: a Linear "
                f"(W and b) for each pair of consecutive widths {widths}"
            )
        for k, shape in enumerate(shapes):
            problem = _expect(outputs, f"{key}.{k}", shape, dtype, f"{_parameter_name(k)} {when}")
            if problem is not None:
                return first_problem(problem)
    if not _same(outputs, "initial", "again"):
        return first_problem(
            "two trainings with the same random_state started from different weights: draw them "
            "from the generator that _train passes to _build_network"
        )
    initial = [outputs[f"initial.{k}"] for k in range(len(shapes))]
    model = _from_weights()(initial, dtype, **kwargs).train(X, y)
    history = model.loss_history_.to(F64).numpy()
    rtol = 1e-7 if dtype == F64 else 1e-4
    minibatch = (
        " (in mini-batch mode the rows' order is drawn from the same generator after the weights)"
        if kwargs["batch_size"]
        else ""
    )
    problem = _expect(outputs, "history", history.shape, dtype, "loss_history_")
    if problem is not None:
        return first_problem(problem)
    if not np.isclose(outputs["history"][0], history[0], rtol=rtol, atol=0.0):
        return first_problem(
            "the loss before training is not the MSE of the initial network: check the network "
            "(Linear → ACTIVATIONS[activation]() → … → Linear, nothing after the last Linear) and "
            "the targets' shape (n,) → (n, 1)"
        )
    one_epoch = _from_weights()(initial, dtype, **{**kwargs, "max_iter": 1}).train(X, y)
    for key, expected in (("one_epoch", one_epoch), ("trained", model)):
        problem = _parameters_problem(outputs, key, expected.parameters(), initial, rtol)
        if problem is not None:
            return first_problem(problem + minibatch)
    scale = rtol * float(np.abs(history).max()) + 1e-300
    problem = compare(outputs["history"], history, "loss_history_", rtol=rtol, atol=scale)
    if problem is not None:
        return first_problem(
            f"{problem} from the same initial weights: check the step p ← p − η ∂L/∂p of every "
            f"parameter{minibatch}"
        )
    problem = _expect(outputs, "pred", (_M_TEST,), dtype, "predict(X)")
    if problem is not None and "has shape" in problem:
        problem += ": predict returns one number per row, (m,)"
    if problem is None:
        expected = model.predict(X_test).to(F64).numpy()
        scale = rtol * float(np.abs(expected).max())
        problem = compare(outputs["pred"], expected, "predict(X)", rtol=rtol, atol=scale + 1e-300)
    if problem is None:
        problem = _expect(outputs, "pred_one", (1,), dtype, "predict(X) for one row")
        if problem is not None and "has shape" in problem:
            problem += ": predict returns (m,) for every m, (1,) for one row (reshape, not squeeze)"
    if problem is None:
        problem = compare(
            outputs["pred_one"],
            expected[:1],
            "predict(X) for one row",
            rtol=rtol,
            atol=scale + 1e-300,
        )
    if problem is not None:
        return first_problem(problem)
    if changed_in_place(inputs, outputs, "X", "y", dtype=dtype):
        return first_problem("train changed X or y in place")
    drawn = ref.MLPRegressor(**{**kwargs, "max_iter": 0}).train(X, y).parameters()
    for k, (want, actual) in enumerate(zip(drawn, initial, strict=True)):
        if not np.allclose(actual, want.to(F64).numpy(), rtol=1e-12, atol=0.0):
            return first_problem(
                f"the initial {_parameter_name(k)} is not the reference's: create the layers with "
                "Linear(fan_in, fan_out, init=init, generator=generator, device=X.device, "
                "dtype=X.dtype) first to last, init as _build_network's docstring says"
            )
    return first_problem()


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------

_NO_AUTOGRAD = (AUTOGRAD,)


def _check(name: str, make_inputs: Callable, judge: Callable) -> Check:
    """The task ``name``: its inputs and judge are here, its apply in ``probes.py``."""
    return Check(name, make_inputs, PROBES[name], judge, forbid=(AUTOGRAD,))


CHECKS = Catalogue(
    [
        _check("Linear", _linear_inputs, _linear_judge),
        _check(
            "ReLU",
            _activation_inputs,
            _activation_judge("ReLU", "f'(x) = 1 for x > 0, 0 for x ≤ 0", _relu_wrong),
        ),
        _check(
            "Sigmoid",
            _activation_inputs,
            _activation_judge("Sigmoid", "σ'(x) = y(1 − y), y = σ(x)", _sigmoid_wrong),
        ),
        _check(
            "Tanh",
            _activation_inputs,
            _activation_judge("Tanh", "tanh'(x) = 1 − y², y = tanh(x)", _tanh_wrong),
        ),
        _check("MSELoss", _mse_inputs, _mse_judge),
        _check("Sequential", _sequential_inputs, _sequential_judge),
        _check("MLPRegressor", _mlp_inputs, _mlp_judge),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
