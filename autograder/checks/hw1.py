"""Hidden checks of homework 1 (``assignments/hw1_linear_regression``), against ``solutions``.

One :class:`~autograder.checks.Check` per graded task, in ``CHECKS``: its inputs and judge here, its
``apply`` in ``autograder.probes.hw1`` (what runs in the sandbox). A seed picks one of a few cases
(shapes, scales, extreme values) and draws its random numbers, so ``range(8)`` covers every case and
``range(100)`` is the no-flakiness test. The notebook's hidden block runs::

    from autograder.checks.hw1 import verdict
    _v = verdict("mse_gradient", mse_gradient)
    assert _v.passed, _v.message
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..probes.hw1 import PROBES, gd_args, sgd_args
from . import (
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
from . import case as _case
from . import first_problem as _first_problem

__all__ = ["CHECKS", "run_check", "verdict"]

ref = reference("solutions.linear_regression")


def _rng(seed: int) -> np.random.Generator:
    return rng(1, seed)


# ---------------------------------------------------------------------------------------------------
# add_intercept
# ---------------------------------------------------------------------------------------------------

_INTERCEPT_CASES = [((1, 1), 1.0), ((5, 3), 1.0), ((20, 1), 1e-8), ((7, 10), 1e8), ((4, 2), 1.0)]


def _intercept_inputs(seed: int) -> dict[str, np.ndarray]:
    shape, scale = _case(seed, _INTERCEPT_CASES)
    return {
        "X": scale * _rng(seed).standard_normal(shape),
        "float32": np.array(seed % len(_INTERCEPT_CASES) == 4),
    }


def _intercept_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    dtype = torch.float32 if inputs["float32"] else torch.float64
    n, d = inputs["X"].shape
    problem = expect_tensor(outputs, "result", (n, d + 1), str(dtype).removeprefix("torch."))
    if problem is None and changed_in_place(inputs, outputs, "X", dtype=dtype):
        problem = "add_intercept changed its input X in place; return a new tensor"
    if problem is None:
        result = outputs["result"]
        if not np.all(result[:, 0] == 1.0):
            where = "the last column" if np.all(result[:, -1] == 1.0) else "no column"
            problem = f"the first column must be all ones (the bias is w[0]); found ones in {where}"
    if problem is None:
        expected = ref.add_intercept(tensor(inputs["X"], dtype)).to(torch.float64).numpy()
        problem = compare(outputs["result"][:, 1:], expected[:, 1:], "columns 1.. (the features)")
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# mse
# ---------------------------------------------------------------------------------------------------

_MSE_CASES = [(1, 1.0), (3, 1.0), (50, 1.0), (1000, 1.0), (17, 1e-6), (17, 1e6)]


def _mse_inputs(seed: int) -> dict[str, np.ndarray]:
    n, scale = _case(seed, _MSE_CASES)
    rng = _rng(seed)
    return {"y_pred": scale * rng.standard_normal(n), "y": scale * rng.standard_normal(n)}


def _mse_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    problem = expect_tensor(outputs, "result", ())
    if problem is None:
        expected = ref.mse(tensor(inputs["y_pred"]), tensor(inputs["y"])).numpy()
        problem = compare(outputs["result"], expected, "the loss", rtol=1e-10)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# mse_gradient and log_loss_gradient: X (n, d), y (n,), w (d,) -> (d,)
# ---------------------------------------------------------------------------------------------------

_GRADIENT_CASES = [(1, 1, 1.0), (5, 3, 1.0), (40, 4, 1.0), (3, 6, 1.0), (30, 2, 1e-4), (30, 2, 1e4)]


def _regression_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, scale = _case(seed, _GRADIENT_CASES)
    rng = _rng(seed)
    return {
        "X": scale * rng.standard_normal((n, d)),
        "y": scale * rng.standard_normal(n),
        "w": rng.standard_normal(d),
    }


def _classification_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, scale = _case(seed, _GRADIENT_CASES)
    rng = _rng(seed)
    # scale 1e4 gives logits Xw of about ±1e4: σ must not overflow, and p − y is exactly 0 or ±1
    return {
        "X": scale * rng.standard_normal((n, d)),
        "y": rng.integers(0, 2, n).astype(np.float64),
        "w": rng.standard_normal(d),
    }


def _gradient_judge(name: str) -> Callable:
    """The judge of the gradient ``name`` of the reference (looked up when judging)."""

    def judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        X, y, w = (tensor(inputs[k]) for k in ("X", "y", "w"))
        problem = expect_tensor(outputs, "result", (X.shape[1],))
        if problem is None and changed_in_place(inputs, outputs, "X", "y", "w"):
            problem = "the function changed one of its inputs X, y, w in place"
        if problem is None:
            expected = getattr(ref, name)(X, y, w).numpy()
            # rounding of a sum of n products: tolerate 1e-10 of the sum of their magnitudes
            bound = (X.abs().T @ (X @ w - y).abs() + X.abs().T @ y.abs()) / X.shape[0]
            problem = compare(
                outputs["result"],
                expected,
                "the gradient",
                rtol=1e-8,
                atol=1e-10 * float(bound.max()) + 1e-300,
            )
        return _first_problem(problem)

    return judge


# ---------------------------------------------------------------------------------------------------
# normal_equation
# ---------------------------------------------------------------------------------------------------

_NORMAL_CASES = [(1, 1), (4, 4), (20, 3), (100, 10), (6, 2)]


def _normal_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d = _case(seed, _NORMAL_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 0] = 1.0 if n > d else X[:, 0]  # an intercept column where it keeps XᵀX well conditioned
    if n == d:
        X = X + 3.0 * np.eye(d)
    return {"X": X, "y": X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)}


def _normal_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    X, y = tensor(inputs["X"]), tensor(inputs["y"])
    problem = expect_tensor(outputs, "result", (X.shape[1],))
    if problem is None:
        expected = ref.normal_equation(X, y).numpy()
        problem = compare(
            outputs["result"],
            expected,
            "the weights",
            rtol=1e-6,
            atol=1e-9 * np.abs(expected).max(),
        )
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# gradient_descent
# ---------------------------------------------------------------------------------------------------

# (n, d, n_iter, with w0, tol)
_GD_CASES = [
    (1, 2, 1, True, None),
    (10, 3, 20, False, None),
    (30, 5, 50, True, None),
    (5, 1, 0, True, None),
    (25, 4, 200, False, 1e-3),
    (8, 8, 5, True, None),
]


def _stable_lr(X: np.ndarray, fraction: float) -> float:
    """``fraction`` of the stability limit 2 / λ_max(2XᵀX/n) of gradient descent on the MSE."""
    return fraction * 2.0 / (2.0 * np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1])


def _gd_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, n_iter, with_w0, tol = _case(seed, _GD_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    inputs = {
        "X": X,
        "y": X @ rng.standard_normal(d) + rng.standard_normal(n),
        "lr": np.array(_stable_lr(X, rng.uniform(0.2, 0.9))),
        "n_iter": np.array(n_iter),
    }
    if with_w0:
        inputs["w0"] = rng.standard_normal(d)
    if tol is not None:
        inputs["tol"] = np.array(tol)
    return inputs


def _judge_pair(
    inputs: dict, outputs: dict, w: np.ndarray, losses: np.ndarray, hint: str
) -> str | None:
    if "pair.type" in outputs:
        return f"expected a tuple (w, losses), got {a_kind(said(outputs, 'pair.type'))}"
    problem = expect_tensor(outputs, "w", w.shape) or expect_tensor(outputs, "losses", losses.shape)
    if problem is not None and "has shape" in problem and problem.startswith("losses"):
        problem += f" ({hint})"
    if problem is None and "w0" in inputs and changed_in_place(inputs, outputs, "w0"):
        problem = "w0 was changed in place; start from a copy (w0.clone())"
    if problem is None:
        problem = compare(outputs["losses"], losses, "losses", rtol=1e-8, atol=1e-12)
    if problem is None:
        problem = compare(outputs["w"], w, "w", rtol=1e-8, atol=1e-10 * (np.abs(w).max() + 1))
    return problem


def _gd_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    args, kwargs = gd_args(inputs)
    w, losses = ref.gradient_descent(*args, **kwargs)
    hint = "losses[0] is the loss at w0 and there is one more loss per step"
    if "tol" in inputs:
        hint = "with tol, stop before the step once ‖∇L(w_k)‖₂ ≤ tol"
    return _first_problem(_judge_pair(inputs, outputs, w.numpy(), losses.numpy(), hint))


# ---------------------------------------------------------------------------------------------------
# minibatch_sgd
# ---------------------------------------------------------------------------------------------------

# (n, d, batch_size, n_epochs)
_SGD_CASES = [
    (10, 2, 3, 4),
    (12, 3, 4, 3),
    (8, 2, 8, 5),
    (9, 1, 1, 2),
    (20, 3, 32, 3),
    (7, 2, 2, 3),
]


def _sgd_inputs(seed: int) -> dict[str, np.ndarray]:
    n, d, batch_size, n_epochs = _case(seed, _SGD_CASES)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    return {
        "X": X,
        "y": X @ rng.standard_normal(d) + rng.standard_normal(n),
        "lr": np.array(0.5 * _stable_lr(X, rng.uniform(0.1, 0.5))),
        "n_epochs": np.array(n_epochs),
        "batch_size": np.array(batch_size),
        "seed": np.array(seed),
    }


def _sgd_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    w, losses = ref.minibatch_sgd(*sgd_args(inputs))
    problem = _judge_pair(
        inputs, outputs, w.numpy(), losses.numpy(), "one loss before training, one per epoch"
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

_EXTREMES = np.array([0.0, 1.0, -1.0, 40.0, -40.0, 800.0, -800.0, 1e4, -1e4])
_SIGMOID_CASES = [(9,), (3, 4), (), (50,)]


def _sigmoid_inputs(seed: int) -> dict[str, np.ndarray]:
    shape = _case(seed, _SIGMOID_CASES)
    z = 5.0 * _rng(seed).standard_normal(shape)
    if shape == (9,):
        z = _EXTREMES.copy()
    elif shape == (3, 4):
        z.flat[:4] = [800.0, -800.0, 1e4, -1e4]
    return {"z": z}


def _sigmoid_judge(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
    z = inputs["z"]
    problem = expect_tensor(outputs, "result", z.shape)
    if problem is not None and "NaN" in problem and np.abs(z).max() > 700:
        problem += " for large |z|: e^(−z) overflows for z < −709 (and e^z for z > 709)"
    if problem is None and changed_in_place(inputs, outputs, "z"):
        problem = "sigmoid changed its input z in place"
    if problem is None:
        expected = ref.sigmoid(tensor(z)).numpy()
        problem = compare(outputs["result"], expected, "σ(z)", rtol=1e-10, atol=1e-300)
    return _first_problem(problem)


# ---------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------


def _check(name: str, make_inputs: Callable, judge: Callable) -> Check:
    """The task ``name``: its inputs and judge are here, its apply in ``autograder.probes.hw1``."""
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
