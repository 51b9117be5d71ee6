"""The hidden checks of homework 4: what is particular to them (their messages, their probes).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import changed_in_place
from autograder.checks.hw4 import CHECKS, run_check, verdict
from autograder.mutants import hw4 as mutants
from solutions import gradcheck as ref
from tests import grading


def test_messages_say_what_is_wrong_without_the_inputs():
    messages = {
        ("numerical_gradient", mutants.ng_restored_by_adding_back): "not always x",
        ("numerical_gradient", mutants.ng_no_finally): "when f raises, x must still be restored",
        ("numerical_gradient", mutants.ng_not_halved): "max relative error 1 ",
        ("relative_error", mutants.re_max_no_tiny): "0/0 must count as 0",
        ("relative_error", mutants.re_signed): "it must be symmetric",
        ("gradcheck", mutants.gc_first_failure): "the worst element reported is",
        ("gradcheck", mutants.gc_relative_error_threshold): "the check failed correct gradients",
        ("gradcheck", mutants.gc_reshapes_gradients): "passed a gradient of W of the wrong shape",
    }
    for (task, mutant), text in messages.items():
        assert text in verdict(task, mutant).message, (task, mutant.__name__)
    grading.assert_messages_hide_the_inputs(CHECKS, lambda name: grading.GARBAGE["NaN"])


def test_run_check_raises_assertion_error_with_the_message():
    run_check("relative_error", ref.relative_error)
    with pytest.raises(AssertionError, match="gradcheck: raised RuntimeError"):
        run_check("gradcheck", grading.GARBAGE["raises"])


def test_numerical_gradient_probe_catches_what_it_claims():
    """The probe reports x after the call and after an f that raises; the judge sees either changed."""
    check = CHECKS["numerical_gradient"]
    for seed in check.seeds:
        inputs = check.make_inputs(seed)
        outputs = check.apply(ref.numerical_gradient, inputs)
        assert not changed_in_place(inputs, outputs, "x")
        assert not changed_in_place(inputs, outputs, "x", when="raised")
        outputs = check.apply(mutants.ng_no_finally, inputs)
        assert changed_in_place(inputs, outputs, "x", when="raised")


def test_gradcheck_cases_plant_what_they_say():
    """Correct gradients pass the reference, planted bugs fail it, and the worst element of the
    three-element case is neither the first failure nor the largest difference."""
    check = CHECKS["gradcheck"]
    for seed in range(100):
        inputs = check.make_inputs(seed)
        outputs = check.apply(ref.gradcheck, inputs)
        bug = str(inputs["bug"])
        assert bool(outputs["passed"]) == (bug in ("none", "tolerances")), (seed, bug)
        if bug == "three elements":
            first = check.apply(mutants.gc_first_failure, inputs)["worst.W"]
            largest = check.apply(mutants.gc_largest_difference, inputs)["worst.W"]
            assert not np.array_equal(first, outputs["worst.W"]), seed
            assert not np.array_equal(largest, outputs["worst.W"]), seed
        if bug == "tolerances":
            assert not check.apply(mutants.gc_only_atol, inputs)["passed"], seed
            assert not check.apply(mutants.gc_only_rtol, inputs)["passed"], seed


def test_float32_is_caught_by_the_value_tolerance():
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    g64 = ref.numerical_gradient(lambda t: torch.tanh(t).sum(), x, 1e-3)
    g32 = mutants.ng_float32(lambda t: torch.tanh(t).sum(), x, 1e-3)
    assert ref.relative_error(g32, g64) > 1e-9  # the check's tolerance
