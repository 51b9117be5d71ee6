"""The hidden checks of homework 1: fair (the reference passes for 100 seeds), tight (every mutant fails
its task's check), robust (garbage fails with a message instead of crashing the check).

The mutation score is printed (``pytest -s``) and shown in the short summary when a mutant survives.
The proofs themselves are shared by every homework: ``tests/grading.py``.
"""

from __future__ import annotations

import pytest

from autograder.checks.hw1 import CHECKS, run_check, verdict
from autograder.mutants.hw1 import MUTANTS
from solutions import linear_regression as ref
from tests import grading


@pytest.mark.parametrize("name", CHECKS)
def test_reference_passes_100_seeds(name):
    grading.assert_reference_passes(CHECKS, name, getattr(ref, name))


@pytest.mark.parametrize("name", CHECKS)
def test_default_seeds_cover_every_case(name):
    grading.assert_default_seeds_cover_every_case(CHECKS, name)


@pytest.mark.parametrize(("task", "mutant"), grading.mutant_cases(MUTANTS), ids=grading.mutant_id)
def test_mutant_fails_its_check(task, mutant):
    grading.assert_mutant_fails(CHECKS, task, mutant)


def test_mutation_score():
    grading.assert_mutation_score(CHECKS, MUTANTS, homework=1)


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("garbage", grading.GARBAGE)
def test_garbage_fails_with_a_message(name, garbage):
    grading.assert_garbage_fails_with_a_message(CHECKS, name, garbage)


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


def test_apply_returns_plain_arrays_only():
    grading.assert_apply_returns_plain_arrays(CHECKS, ref)
