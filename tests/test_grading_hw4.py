"""The hidden checks of homework 4: what is particular to them (their messages, their probes).

The proofs every homework owes (reference passes 100 seeds, every mutant fails, garbage fails with a
message, plain arrays only) run in ``tests/test_grading.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import changed_in_place
from autograder.homeworks.hw4_gradient_checking import mutants as mutants
from autograder.homeworks.hw4_gradient_checking.checks import CHECKS, run_check, verdict
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
        assert bool(outputs["passed"]) == (bug in ("none", "tolerances", "atol", "float32")), (
            seed,
            bug,
        )
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


# ---------------------------------------------------------------------------------------------------
# The contracts: every argument, element-by-element tolerances, return types and dtypes, no aliasing
# ---------------------------------------------------------------------------------------------------


def _seeds_of(task: str, key: str, value: str) -> list[int]:
    check = CHECKS[task]
    return [s for s in check.seeds if str(check.make_inputs(s).get(key, "")) == value]


@pytest.mark.parametrize(
    ("task", "mutant", "text"),
    [
        ("numerical_gradient", mutants.ng_ignores_eps, "use the eps argument"),
        ("numerical_gradient", mutants.ng_float64_result, "dtype float64, expected float32"),
        ("numerical_gradient", mutants.ng_item, "use float(f(x))"),
        ("numerical_gradient", mutants.ng_nudges_a_float64_copy, "max relative error 1 "),
        ("relative_error", mutants.re_tensor_result, "expected a Python float"),
        ("relative_error", mutants.re_input_dtype, "convert a and b to float64 first"),
        ("relative_error", mutants.re_cast_to_first, "convert a and b to float64 first"),
        ("relative_error", mutants.re_ratio_of_maxes, "the relative error: max relative error"),
        ("relative_error", mutants.re_floor_1e8, "the relative error: max relative error"),
        ("gradcheck", mutants.gc_ignores_eps, "is eps passed on to numerical_gradient?"),
        ("gradcheck", mutants.gc_ignores_atol, "is the atol argument used?"),
        ("gradcheck", mutants.gc_ignores_rtol, "is the rtol argument used"),
        ("gradcheck", mutants.gc_whole_input_max, "each element has its own tolerance"),
        ("gradcheck", mutants.gc_norms, "each element has its own tolerance"),
        ("gradcheck", mutants.gc_in_place, "changed an analytic gradient it was given in place"),
        ("gradcheck", mutants.gc_records_defaults, "not the atol gradcheck was called with"),
        ("gradcheck", mutants.gc_no_precision_warning, "no PrecisionWarning on float32 inputs"),
        ("gradcheck", mutants.gc_positional_names, "is not the input's name"),
        ("gradcheck", mutants.gc_shape_worst, "give worst=None"),
        ("gradcheck", mutants.gc_swapped_report, "ElementReport(index, analytic, numeric)"),
        ("gradcheck", mutants.gc_max_abs_error_summed, "max_abs_error is not the largest"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else getattr(v, "__name__", None),
)
def test_each_contract_class_gets_its_message(task, mutant, text):
    assert text in verdict(task, mutant).message, verdict(task, mutant).message


def test_isclose_the_wrong_way_round_fails_where_rtol_is_large():
    """torch.isclose(numeric, analytic) scales the tolerance by |analytic|: with rtol = 0.5 it passes an
    element 1.8× too large, which |numeric| fails."""
    (seed,) = _seeds_of("gradcheck", "bug", "rtol")
    message = verdict("gradcheck", mutants.gc_isclose_swapped, [seed]).message
    assert "the check passed a gradient of W with one element 1.8× too large" in message


def test_isclose_with_atol_and_rtol_swapped_passes_the_small_element():
    """torch.isclose(a, n, atol, rtol) takes rtol third: the small wrong element passes within 1e-3."""
    (seed,) = _seeds_of("gradcheck", "bug", "one small element")
    message = verdict("gradcheck", mutants.gc_isclose_positional, [seed]).message
    assert "the check passed a gradient of W with one wrong element" in message
    assert "atol and rtol each in its place" in message


def test_hard_coded_arguments_change_the_answer_in_their_cases():
    """Each case with a non-default argument gives another verdict under the default: a gradcheck that
    ignores an argument fails that case, and only the arguments' cases tell it apart."""
    for bug, mutant in (
        ("large eps", mutants.gc_ignores_eps),
        ("atol", mutants.gc_ignores_atol),
        ("rtol", mutants.gc_ignores_rtol),
        ("tight", mutants.gc_ignores_rtol),
    ):
        (seed,) = _seeds_of("gradcheck", "bug", bug)
        for s in range(seed, 100, len(CHECKS["gradcheck"].seeds)):
            assert not verdict("gradcheck", mutant, [s]).passed, (bug, s)
    for s in range(100):  # an ε from 1e-3 up makes the truncation error visible
        if float(CHECKS["numerical_gradient"].make_inputs(s).get("eps", 0.0)) >= 1e-3:
            assert not verdict("numerical_gradient", mutants.ng_ignores_eps, [s]).passed, s


def test_one_small_element_is_within_the_whole_inputs_tolerance():
    """The planted element fails its own tolerance, yet a tolerance for the whole input (max or norms)
    passes it in every seed of the case."""
    (seed,) = _seeds_of("gradcheck", "bug", "one small element")
    check = CHECKS["gradcheck"]
    for s in range(seed, 100, len(check.seeds)):
        inputs = check.make_inputs(s)
        assert not check.apply(ref.gradcheck, inputs)["passed"], s
        assert check.apply(mutants.gc_whole_input_max, inputs)["passed"], s
        assert check.apply(mutants.gc_norms, inputs)["passed"], s


def test_float32_cases_nudge_exactly_and_keep_their_dtype():
    """The float32 cases sit on a grid that x ± ε keeps exact, so any way of nudging gives the same
    points; the gradient comes back in float32 and gradcheck warns."""
    check = CHECKS["numerical_gradient"]
    (seed,) = _seeds_of("numerical_gradient", "dtype", "float32")
    inputs = check.make_inputs(seed)
    x32 = torch.tensor(inputs["x"], dtype=torch.float32)
    assert torch.equal(x32.double(), torch.tensor(inputs["x"]))
    assert torch.equal(
        (x32 + float(inputs["eps"])).double(), torch.tensor(inputs["x"] + inputs["eps"])
    )
    outputs = check.apply(ref.numerical_gradient, inputs)
    assert str(outputs["result.dtype"]) == "float32"
    (seed,) = _seeds_of("gradcheck", "bug", "float32")
    outputs = CHECKS["gradcheck"].apply(ref.gradcheck, CHECKS["gradcheck"].make_inputs(seed))
    assert bool(outputs["warned"]) and bool(outputs["passed"])
