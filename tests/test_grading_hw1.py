"""The hidden checks of homework 1: what is particular to them (their messages, their probes).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import pytest

from autograder.checks.hw1 import CHECKS, run_check, verdict
from solutions import linear_regression as ref
from tests import grading


def test_messages_say_what_is_wrong_without_the_inputs():
    from autograder.mutants.hw1 import grad_sign, intercept_ones_last, sigmoid_overflow

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
