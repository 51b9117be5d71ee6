"""Hidden checks of homework 1 (``assignments/hw1_linear_regression``), against ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``probes.py`` (what runs in the sandbox). A seed picks one of a few cases
(shapes, scales, extreme values, float32 inputs) and draws its random numbers, so ``range(8)`` covers
every case and ``range(100)`` is the no-flakiness test. The notebook's hidden block runs::

    from autograder.homeworks.hw1_linear_regression.checks import verdict
    _v = verdict("mse_gradient", mse_gradient)
    assert _v.passed, _v.message

**Tolerances** are the ones the notebook states (``spec.py``), element by element:
``|result − reference| ≤ rtol·|reference| + atol``, with an ``atol`` sized to the magnitudes the
element is computed from, so that any correct order of operations passes. A float32 case compares the
student's float32 result with the reference computed in float64 on the same (float32) values, with
float32 tolerances (:data:`F32_TOL`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.checks import (
    Catalogue,
    Check,
    Verdict,
    a_kind,
    changed_in_place,
    compare,
    expect_tensor,
    reference,
    rng,
    said,
    tensor,
)
from autograder.checks import case as _case
from autograder.checks import first_problem as _first_problem

from .probes import PROBES, dtype_of, gd_args, sgd_args

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.linear_regression")
F64 = torch.float64

# task -> (rtol, atol factor) for float64 inputs, and for float32 inputs; as the notebook states them
F64_TOL = {
    "add_intercept": (1e-8, 0.0),
    "mse": (1e-10, 1e-12),
    "gradient": (1e-8, 1e-10),
    "normal_equation": (1e-6, 1e-9),
    "losses": (1e-8, 1e-12),
    "w": (1e-8, 1e-10),
    "sigmoid": (1e-10, 1e-14),
}
F32_TOL = {
    "add_intercept": (1e-8, 0.0),
    "mse": (1e-5, 1e-6),
    "gradient": (1e-5, 1e-5),
    "normal_equation": (1e-3, 1e-4),
    "losses": (1e-4, 1e-6),
    "w": (1e-4, 1e-5),
    "sigmoid": (1e-5, 1e-6),
}


def _tol(inputs: dict[str, np.ndarray], what: str) -> tuple[float, float]:
    return (F32_TOL if dtype_of(inputs) == torch.float32 else F64_TOL)[what]


def _dtype_name(inputs: dict[str, np.ndarray]) -> str:
    return str(dtype_of(inputs)).removeprefix("torch.")


def _as_float32(inputs: dict[str, np.ndarray], *names: str) -> dict[str, np.ndarray]:
    """The arrays ``names`` rounded to values a float32 tensor holds exactly (float64 arrays still),
    so that the reference, run in float64, sees the very numbers the student's float32 code gets."""
    return inputs | {k: inputs[k].astype(np.float32).astype(np.float64) for k in names}


def _values(
    actual: np.ndarray, expected: np.ndarray, what: str, rtol: float, atol: float | np.ndarray = 0.0
) -> str | None:
    """:func:`~autograder.checks.compare` element by element, its message naming the absolute part
    of the tolerance too when there is one."""
    problem = compare(actual, expected, what, rtol=rtol, atol=atol)
    if problem is None or not np.any(atol) or not problem.endswith(")"):
        return problem
    if np.ndim(atol) == 0:
        return f"{problem[:-1]} relative + {float(atol):.2g} absolute)"
    return f"{problem[:-1]} relative + the absolute part the task states)"


def _rng(seed: int) -> np.random.Generator:
    return rng(1, seed)


def _in_place(inputs: dict, outputs: dict, task: str, *names: str) -> str | None:
    """The message when student code changed one of the input tensors ``names`` in place."""
    dtype = dtype_of(inputs)
    changed = [name for name in names if changed_in_place(inputs, outputs, name, dtype=dtype)]
    if changed:
        return (
            f"{task} changed its input {changed[0]} in place; leave the caller's tensors unchanged"
        )
    return None


# ---------------------------------------------------------------------------------------------------
# add_intercept
# ---------------------------------------------------------------------------------------------------

_INTERCEPT_CASES = [((1, 1), 1.0), ((5, 3), 1.0), ((20, 1), 1e-8), ((7, 10), 1e8), ((4, 2), 1.0)]


def _intercept_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, scale = _case(seed, _INTERCEPT_CASES)
    inputs = {
        "X": scale * _rng(seed).standard_normal(shape),
        "float32": np.array(seed % len(_INTERCEPT_CASES) == 4),
    }
    return _as_float32(inputs, "X") if inputs["float32"] else inputs


def _intercept_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    n, d = inputs["X"].shape
    problem = expect_tensor(outputs, "result", (n, d + 1), _dtype_name(inputs))
    if problem is None and changed_in_place(inputs, outputs, "X", dtype=dtype_of(inputs)):
        problem = "add_intercept changed its input X in place; return a new tensor"
    if problem is None:
        result = outputs["result"]
        if not np.all(result[:, 0] == 1.0):
            where = "the last column" if np.all(result[:, -1] == 1.0) else "no column"
            problem = f"the first column must be all ones (the bias is w[0]); found ones in {where}"
    if problem is None:
        rtol, _ = _tol(inputs, "add_intercept")
        problem = _values(
            outputs["result"][:, 1:], inputs["X"], "columns 1.. (the features)", rtol=rtol
        )
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# mse
# ---------------------------------------------------------------------------------------------------

# (n, scale, float32)
_MSE_CASES = [
    (1, 1.0, False),
    (3, 1.0, False),
    (50, 1.0, False),
    (1000, 1.0, False),
    (17, 1e-6, False),
    (17, 1e6, False),
    (40, 1.0, True),
]


def _mse_inputs(seed: int) -> dict[str, np.ndarray]:
    n, scale, float32 = _case(seed, _MSE_CASES)
    rng = _rng(seed)
    inputs = {
        "y_pred": scale * rng.standard_normal(n),
        "y": scale * rng.standard_normal(n),
        "float32": np.array(float32),
    }
    return _as_float32(inputs, "y_pred", "y") if float32 else inputs


def _mse_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    problem = expect_tensor(outputs, "result", (), _dtype_name(inputs))
    problem = problem or _in_place(inputs, outputs, "mse", "y_pred", "y")
    if problem is None:
        y_pred, y = tensor(inputs["y_pred"]), tensor(inputs["y"])
        expected = ref.mse(y_pred, y).numpy()
        rtol, factor = _tol(inputs, "mse")
        scale = float((y_pred**2 + y**2).mean())  # the size of the squares the loss is made of
        problem = _values(outputs["result"], expected, "the loss", rtol=rtol, atol=factor * scale)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# mse_gradient and log_loss_gradient: X (n, d), y (n,), w (d,) -> (d,)
# ---------------------------------------------------------------------------------------------------

# (n, d, scale, float32)
_GRADIENT_CASES = [
    (1, 1, 1.0, False),
    (5, 3, 1.0, False),
    (40, 4, 1.0, False),
    (3, 6, 1.0, False),
    (30, 2, 1e-4, False),
    (30, 2, 1e4, False),
    (25, 3, 1.0, True),
]


def _regression_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, scale, float32 = _case(seed, _GRADIENT_CASES)
    rng = _rng(seed)
    inputs = {
        "X": scale * rng.standard_normal((n, d)),
        "y": scale * rng.standard_normal(n),
        "w": rng.standard_normal(d),
        "float32": np.array(float32),
    }
    return _as_float32(inputs, "X", "y", "w") if float32 else inputs


def _classification_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, scale, float32 = _case(seed, _GRADIENT_CASES)
    rng = _rng(seed)
    # scale 1e4 gives logits Xw of about ±1e4: σ must not overflow, and p − y is exactly 0 or ±1
    inputs = {
        "X": scale * rng.standard_normal((n, d)),
        "y": rng.integers(0, 2, n).astype(np.float64),
        "w": rng.standard_normal(d),
        "float32": np.array(float32),
    }
    return _as_float32(inputs, "X", "y", "w") if float32 else inputs


def _gradient_scale(name: str, X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> np.ndarray:
    """Per element j, the sum of the magnitudes of the terms the gradient's element j adds up (as the
    notebook states it): ``2/n Σᵢ |Xᵢⱼ| (Σₖ |Xᵢₖ wₖ| + |yᵢ|)`` for the MSE, ``1/n Σᵢ |Xᵢⱼ| (1 + |yᵢ|)``
    for the log-loss (0 ≤ σ ≤ 1)."""
    n = X.shape[0]
    if name == "mse_gradient":
        return (2.0 / n * (X.abs().T @ (X.abs() @ w.abs() + y.abs()))).numpy()
    return (X.abs().T @ (1.0 + y.abs()) / n).numpy()


def _gradient_judge(name: str) -> Callable:
    """The judge of the gradient ``name`` of the reference (looked up when judging)."""

    def judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        X, y, w = (tensor(inputs[k]) for k in ("X", "y", "w"))
        problem = expect_tensor(outputs, "result", (X.shape[1],), _dtype_name(inputs))
        problem = problem or _in_place(inputs, outputs, name, "X", "y", "w")
        if problem is None:
            expected = getattr(ref, name)(X, y, w).numpy()
            rtol, factor = _tol(inputs, "gradient")
            atol = factor * _gradient_scale(name, X, y, w) + 1e-300
            problem = _values(outputs["result"], expected, "the gradient", rtol=rtol, atol=atol)
        return _first_problem(problem)

    return judge


# ---------------------------------------------------------------------------------------------------
# normal_equation
# ---------------------------------------------------------------------------------------------------

# (n, d, float32)
_NORMAL_CASES = [(1, 1, False), (4, 4, False), (20, 3, False), (100, 10, False), (6, 2, False)]
_NORMAL_CASES += [(30, 4, True)]


def _normal_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, float32 = _case(seed, _NORMAL_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 0] = 1.0 if n > d else X[:, 0]  # an intercept column where it keeps XᵀX well conditioned
    if n == d:
        X = X + 3.0 * np.eye(d)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    inputs = {"X": X, "y": y, "float32": np.array(float32)}
    return _as_float32(inputs, "X", "y") if float32 else inputs


def _normal_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    X, y = tensor(inputs["X"]), tensor(inputs["y"])
    problem = expect_tensor(outputs, "result", (X.shape[1],), _dtype_name(inputs))
    problem = problem or _in_place(inputs, outputs, "normal_equation", "X", "y")
    if problem is None:
        expected = ref.normal_equation(X, y).numpy()
        rtol, factor = _tol(inputs, "normal_equation")
        atol = factor * np.abs(expected).max()
        problem = _values(outputs["result"], expected, "the weights", rtol=rtol, atol=atol)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# gradient_descent
# ---------------------------------------------------------------------------------------------------

# (n, d, n_iter, with w0, tol, float32)
_GD_CASES = [
    (1, 2, 1, True, None, False),
    (10, 3, 20, False, None, False),
    (30, 5, 50, True, None, False),
    (5, 1, 0, True, None, False),
    (25, 4, 200, False, 1e-3, False),
    (8, 8, 5, True, 1e-3, False),  # tol, but n_iter ends the run first
    (12, 3, 30, True, 1e6, False),  # the first gradient is already within tol: no step at all
    (15, 3, 40, True, None, True),
]


def _stable_lr(X: np.ndarray, fraction: float) -> float:
    """``fraction`` of the stability limit 2 / λ_max(2XᵀX/n) of gradient descent on the MSE."""
    return fraction * 2.0 / (2.0 * np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])


def _gd_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, n_iter, with_w0, tol, float32 = _case(seed, _GD_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    inputs = {
        "X": X,
        "y": X @ rng.standard_normal(d) + rng.standard_normal(n),
        "lr": np.array(_stable_lr(X, rng.uniform(0.2, 0.9))),
        "n_iter": np.array(n_iter),
        "float32": np.array(float32),
    }
    if with_w0:
        inputs["w0"] = rng.standard_normal(d)
    if tol is not None:
        inputs["tol"] = np.array(tol)
    names = ("X", "y", "w0") if with_w0 else ("X", "y")
    return _as_float32(inputs, *names) if float32 else inputs


def _judge_pair(
    inputs: dict, outputs: dict, w: np.ndarray, losses: np.ndarray, task: str, hint: str
) -> str | None:
    if "pair.type" in outputs:
        return f"expected a tuple (w, losses), got {a_kind(said(outputs, 'pair.type'))}"
    dtype = _dtype_name(inputs)
    problem = expect_tensor(outputs, "w", w.shape, dtype)
    problem = problem or expect_tensor(outputs, "losses", losses.shape, dtype)
    if problem is not None and "has shape" in problem and problem.startswith("losses"):
        problem += f" ({hint})"
    if (
        problem is None
        and "w0" in inputs
        and changed_in_place(inputs, outputs, "w0", dtype=dtype_of(inputs))
    ):
        problem = "w0 was changed in place; start from a copy (w0.clone())"
    problem = problem or _in_place(inputs, outputs, task, "X", "y")
    if problem is None and bool(outputs.get("w.shares_w0", False)):
        problem = (
            "the returned w is the caller's w0 itself (it shares its memory); return a new tensor"
        )
    if problem is None:
        rtol, factor = _tol(inputs, "losses")
        atol = factor * abs(float(losses[0]))
        problem = _values(outputs["losses"], losses, "losses", rtol=rtol, atol=atol)
    if problem is None:
        rtol, factor = _tol(inputs, "w")
        atol = factor * (np.abs(w).max() + 1.0)
        problem = _values(outputs["w"], w, "w", rtol=rtol, atol=atol)
    return problem


def _gd_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    args, kwargs = gd_args(inputs, F64)
    w, losses = ref.gradient_descent(*args, **kwargs)
    hint = "losses[0] is the loss at w0 and there is one more loss per step"
    if "tol" in inputs:
        hint = "with tol, stop before the step once ‖∇L(w_k)‖₂ ≤ tol"
    problem = _judge_pair(inputs, outputs, w.numpy(), losses.numpy(), "gradient_descent", hint)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# minibatch_sgd
# ---------------------------------------------------------------------------------------------------

# (n, d, batch_size, n_epochs, float32)
_SGD_CASES = [
    (10, 2, 5, 4, False),
    (12, 3, 5, 3, False),  # batches 5, 5, 2 (not 4, 4, 4: torch.chunk into ⌈n/b⌉ pieces)
    (8, 2, 8, 5, False),
    (9, 1, 1, 2, False),
    (20, 3, 32, 3, False),
    (7, 2, 2, 3, False),
    (1, 2, 1, 3, False),  # one row: a batch of all n rows, never shuffled
    (11, 3, 4, 3, True),
]


def _sgd_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, batch_size, n_epochs, float32 = _case(seed, _SGD_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    inputs = {
        "X": X,
        "y": X @ rng.standard_normal(d) + rng.standard_normal(n),
        "lr": np.array(0.5 * _stable_lr(X, rng.uniform(0.1, 0.5))),
        "n_epochs": np.array(n_epochs),
        "batch_size": np.array(batch_size),
        "seed": np.array(seed),
        "float32": np.array(float32),
    }
    return _as_float32(inputs, "X", "y") if float32 else inputs


def _sgd_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    w, losses = ref.minibatch_sgd(*sgd_args(inputs, F64))
    problem = _judge_pair(
        inputs,
        outputs,
        w.numpy(),
        losses.numpy(),
        "minibatch_sgd",
        "one loss before training, one per epoch",
    )
    if problem is not None and problem.startswith(("losses:", "w:")):
        problem += (
            " (if the gradient step is right, check the shuffling: every epoch, when batch_size < n, "
            "draw the order with torch.randperm(n, generator=generator) and use every batch of it, "
            "the last partial one too)"
        )
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------------------------------

_EXTREMES = np.array([0.0, 1.0, -1.0, 31.0, -31.0, 40.0, -40.0, 800.0, -800.0, 1e4, -1e4])
# (shape, float32)
_SIGMOID_CASES = [((11,), False), ((3, 4), False), ((), False), ((50,), False), ((11,), True)]
_SIGMOID_CASES += [((1,), False)]


def _sigmoid_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, float32 = _case(seed, _SIGMOID_CASES)
    z = 5.0 * _rng(seed).standard_normal(shape)
    if shape == (11,):
        z = _EXTREMES.copy()
    elif shape == (3, 4):
        z.flat[:4] = [800.0, -800.0, 1e4, -1e4]
    inputs = {"z": z, "float32": np.array(float32)}
    return _as_float32(inputs, "z") if float32 else inputs


def _sigmoid_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    z = inputs["z"]
    problem = expect_tensor(outputs, "result", z.shape, _dtype_name(inputs))
    if problem is not None and "NaN" in problem and np.abs(z).max() > 80:
        problem += (
            " for large |z|: e^(−z) overflows for z < −709 in float64, −88 in float32 "
            "(and e^z for z > 709, 88)"
        )
    if problem is None and changed_in_place(inputs, outputs, "z", dtype=dtype_of(inputs)):
        problem = "sigmoid changed its input z in place"
    if problem is None:
        expected = ref.sigmoid(tensor(z)).numpy()
        rtol, atol = _tol(
            inputs, "sigmoid"
        )  # σ is at most 1: the absolute part is the output's scale
        problem = _values(outputs["result"], expected, "σ(z)", rtol=rtol, atol=atol)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------


def _check(name: str, make_inputs: Callable, judge: Callable) -> Check:
    """The task ``name``: its inputs and judge are here, its apply in ``probes.py``."""
    return Check(name, make_inputs, PROBES[name], judge)


CHECKS = Catalogue(
    [
        _check("add_intercept", _intercept_inputs, _intercept_judge),
        _check("mse", _mse_inputs, _mse_judge),
        _check("mse_gradient", _regression_inputs, _gradient_judge("mse_gradient")),
        _check("normal_equation", _normal_inputs, _normal_judge),
        _check("gradient_descent", _gd_inputs, _gd_judge),
        _check("minibatch_sgd", _sgd_inputs, _sgd_judge),
        _check("sigmoid", _sigmoid_inputs, _sigmoid_judge),
        _check("log_loss_gradient", _classification_inputs, _gradient_judge("log_loss_gradient")),
    ]
)
verdict = CHECKS.verdict
run_check = CHECKS.run_check
