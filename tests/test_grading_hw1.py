"""The hidden checks of homework 1: what is particular to them (their messages, their probes).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import pytest
import torch

from autograder.homeworks.hw1_linear_regression.checks import CHECKS, run_check, verdict
from solutions import linear_regression as ref
from tests import grading


def test_messages_say_what_is_wrong_without_the_inputs():
    from autograder.homeworks.hw1_linear_regression.mutants import (
        grad_sign,
        intercept_ones_last,
        sigmoid_overflow,
    )

    assert "found ones in the last column" in verdict("add_intercept", intercept_ones_last).message
    assert "max relative error 2 " in verdict("mse_gradient", grad_sign).message
    assert "NaN or infinite" in verdict("sigmoid", sigmoid_overflow).message
    assert "raised RuntimeError: student bug" in verdict("mse", grading.GARBAGE["raises"]).message
    grading.assert_messages_hide_the_inputs(
        CHECKS,
        lambda name: grading.GARBAGE["NaN pair" if name.endswith(("descent", "sgd")) else "NaN"],
    )


def test_run_check_raises_assertion_error_with_the_message():
    run_check("mse", ref.mse)
    with pytest.raises(AssertionError, match="mse: raised RuntimeError"):
        run_check("mse", grading.GARBAGE["raises"])


# --- the contracts the checks hold (issue 14): each class of wrong answer gets its own message ---------


def _message(task: str, mutant_name: str) -> str:
    from autograder.homeworks.hw1_linear_regression import mutants as mutants

    result = verdict(task, getattr(mutants, mutant_name))
    assert not result.passed, f"{mutant_name} passes the {task} check"
    return result.message


@pytest.mark.parametrize(
    ("task", "mutant", "key"),
    [
        ("add_intercept", "intercept_float64_ones", "the result"),
        ("mse", "mse_float64_result", "the result"),
        ("mse_gradient", "grad_float64_result", "the result"),
        ("normal_equation", "normal_float64_result", "the result"),
        ("gradient_descent", "gd_float64_losses", "losses"),
        ("minibatch_sgd", "sgd_float64_results", "w"),
        ("sigmoid", "sigmoid_float64_result", "the result"),
        ("log_loss_gradient", "llg_float64_result", "the result"),
    ],
)
def test_float32_inputs_give_float32_results(task, mutant, key):
    message = _message(task, mutant)
    assert f"{task}: {key} has dtype float64, expected float32 (the dtype of the inputs)" == message


@pytest.mark.parametrize(
    ("task", "mutant", "name"),
    [
        ("mse", "mse_in_place", "y_pred"),
        ("normal_equation", "normal_scales_in_place", "X"),
        ("minibatch_sgd", "sgd_shuffles_in_place", "X"),
    ],
)
def test_inputs_changed_in_place_fail(task, mutant, name):
    assert f"{task} changed its input {name} in place" in _message(task, mutant)


def test_returned_w_must_not_be_the_callers_w0():
    from autograder.homeworks.hw1_linear_regression.mutants import gd_returns_w0_itself

    message = _message("gradient_descent", "gd_returns_w0_itself")
    assert "the returned w is the caller's w0 itself (it shares its memory)" in message
    # the probe reports the fact (a plain bool), the judge decides; the reference returns a copy
    check = CHECKS["gradient_descent"]
    inputs = next(
        check.make_inputs(s) for s in check.seeds if float(check.make_inputs(s).get("tol", 0)) > 1
    )
    assert bool(check.run_apply(gd_returns_w0_itself, inputs)["w.shares_w0"])
    assert not bool(check.run_apply(ref.gradient_descent, inputs)["w.shares_w0"])


@pytest.mark.parametrize(
    ("task", "mutant", "expected"),
    [
        ("gradient_descent", "gd_default_lr", "losses: max relative error"),
        ("gradient_descent", "gd_one_step_short", "losses has shape"),
        ("minibatch_sgd", "sgd_default_lr", "check the shuffling"),
        ("minibatch_sgd", "sgd_full_batch", "check the shuffling"),
    ],
)
def test_every_argument_is_honoured(task, mutant, expected):
    assert expected in _message(task, mutant)


@pytest.mark.parametrize(
    "mutant", ["gd_tol_squared_norm", "gd_tol_max_norm", "gd_tol_on_loss_change"]
)
def test_tol_is_the_euclidean_norm_of_the_gradient_before_the_step(mutant):
    assert "with tol, stop before the step once ‖∇L(w_k)‖₂ ≤ tol" in _message(
        "gradient_descent", mutant
    )
    assert _message("gradient_descent", "gd_tol_after_step").startswith(
        "gradient_descent: w: max relative error"
    )


@pytest.mark.parametrize(
    "mutant",
    [
        "sgd_same_order_every_epoch",
        "sgd_divides_by_batch_size",
        "sgd_losses_mean_of_batches",
        "sgd_losses_summed",
    ],
)
def test_sgd_shuffles_every_epoch_and_means_over_the_documented_count(mutant):
    message = _message("minibatch_sgd", mutant)
    assert message.startswith("minibatch_sgd: losses: max relative error")
    assert "draw the order with torch.randperm(n, generator=generator)" in message


def test_sigmoid_tolerance_has_the_stated_absolute_part():
    from autograder.homeworks.hw1_linear_regression.variants import sigmoid_half_tanh

    z = torch.tensor([-40.0], dtype=torch.float64)
    assert float(sigmoid_half_tanh(z)[0]) == 0.0 < float(ref.sigmoid(z)[0])  # the old false failure
    assert verdict("sigmoid", sigmoid_half_tanh, range(100)).passed
    message = _message("sigmoid", "sigmoid_threshold_30")
    assert "σ(z): max relative error" in message
    assert message.endswith("(tolerance 1e-10 relative + 1e-14 absolute)")


def test_gradient_tolerance_is_per_element_and_catches_float32_arithmetic():
    for task, mutant in (
        ("mse_gradient", "grad_float32_inside"),
        ("log_loss_gradient", "llg_float32_inside"),
    ):
        message = _message(task, mutant)
        assert "the gradient: max relative error" in message
        assert message.endswith("(tolerance 1e-08 relative + the absolute part the task states)")


def test_the_notebook_states_every_tolerance_the_checks_grade():
    from autograder.homeworks.hw1_linear_regression.checks import F32_TOL, F64_TOL
    from autograder.homeworks.hw1_linear_regression.spec import SPEC

    def written(x: float) -> str:  # as the notebook writes it: 1e-8, not 1e-08
        return f"{x:.0e}".replace("e-0", "e-")

    text = " ".join(" ".join(str(getattr(cell, "text", "")).split()) for cell in SPEC.cells)
    for table in (F64_TOL, F32_TOL):
        for rtol, atol in table.values():
            assert f"rtol {written(rtol)}" in text, rtol
            assert atol == 0 or f"atol {written(atol)}" in text, atol
