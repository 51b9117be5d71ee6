"""The proofs every homework's hidden checks owe, run for each graded homework.

fair: the reference and every correct variant (``autograder/variants/``) pass every check for 100
seeds; tight: every mutant of the catalogue fails its own task's check (the mutation score is printed,
``pytest -s``); robust: garbage fails with a message instead of crashing the check; separable:
``apply`` hands back plain numpy arrays only. The helpers are in ``tests/grading.py``; what is
particular to one homework is in ``tests/test_grading_hw<N>.py``. To grade a new homework, add its
line to ``HOMEWORKS``.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from types import SimpleNamespace

import pytest

from autograder.checks import hw1 as checks_hw1
from autograder.checks import hw2 as checks_hw2
from autograder.checks import hw3 as checks_hw3
from autograder.checks import hw4 as checks_hw4
from autograder.mutants import hw1 as mutants_hw1
from autograder.mutants import hw2 as mutants_hw2
from autograder.mutants import hw3 as mutants_hw3
from autograder.mutants import hw4 as mutants_hw4
from solutions import gradcheck, linear_regression, mlp, optim, schedules
from tests import grading

# homework 3's tasks come from two modules: the optimizers and clipping, and the schedules
HW3_REFERENCE = SimpleNamespace(
    **{name: getattr(optim, name, None) or getattr(schedules, name) for name in checks_hw3.CHECKS}
)

# homework number -> (its checks, its mutant catalogue, the reference: a module or a namespace)
HOMEWORKS = {
    1: (checks_hw1.CHECKS, mutants_hw1.MUTANTS, linear_regression),
    2: (checks_hw2.CHECKS, mutants_hw2.MUTANTS, mlp),
    3: (checks_hw3.CHECKS, mutants_hw3.MUTANTS, HW3_REFERENCE),
    4: (checks_hw4.CHECKS, mutants_hw4.MUTANTS, gradcheck),
}
CHECK_MODULES = {1: checks_hw1, 2: checks_hw2, 3: checks_hw3, 4: checks_hw4}
TASKS = [(hw, name) for hw, (checks, _, _) in HOMEWORKS.items() for name in checks]
VARIANTS = {hw: importlib.import_module(f"autograder.variants.hw{hw}").VARIANTS for hw in HOMEWORKS}
CORRECT_VARIANTS = [
    (hw, task, variant)
    for hw, catalogue in VARIANTS.items()
    for task, variant in grading.mutant_cases(catalogue)
]
MUTANTS = [
    (hw, task, mutant)
    for hw, (_, catalogue, _) in HOMEWORKS.items()
    for task, mutant in grading.mutant_cases(catalogue)
]


def task_id(value: object) -> str:
    return f"hw{value}" if isinstance(value, int) else grading.mutant_id(value)


@pytest.mark.parametrize(("hw", "name"), TASKS, ids=task_id)
def test_reference_passes_100_seeds(hw, name):
    checks, _, reference = HOMEWORKS[hw]
    grading.assert_reference_passes(checks, name, getattr(reference, name))


@pytest.mark.parametrize(("hw", "task", "variant"), CORRECT_VARIANTS, ids=task_id)
def test_correct_variant_passes_100_seeds(hw, task, variant):
    grading.assert_variant_passes(HOMEWORKS[hw][0], task, variant)


@pytest.mark.parametrize("hw", HOMEWORKS, ids=task_id)
def test_every_task_has_correct_variants(hw):
    grading.assert_variant_catalogue(HOMEWORKS[hw][0], VARIANTS[hw])


@pytest.mark.parametrize(("hw", "name"), TASKS, ids=task_id)
def test_default_seeds_cover_every_case(hw, name):
    grading.assert_default_seeds_cover_every_case(HOMEWORKS[hw][0], name)


@pytest.mark.parametrize(("hw", "task", "mutant"), MUTANTS, ids=task_id)
def test_mutant_fails_its_check(hw, task, mutant):
    grading.assert_mutant_fails(HOMEWORKS[hw][0], task, mutant)


@pytest.mark.parametrize("hw", HOMEWORKS, ids=task_id)
def test_mutation_score(hw):
    checks, catalogue, _ = HOMEWORKS[hw]
    grading.assert_mutation_score(checks, catalogue, homework=hw)


@pytest.mark.parametrize(("hw", "name"), TASKS, ids=task_id)
@pytest.mark.parametrize("garbage", grading.GARBAGE)
def test_garbage_fails_with_a_message(hw, name, garbage):
    grading.assert_garbage_fails_with_a_message(HOMEWORKS[hw][0], name, garbage)


@pytest.mark.parametrize("hw", HOMEWORKS, ids=task_id)
def test_apply_returns_plain_arrays_only(hw):
    checks, _, reference = HOMEWORKS[hw]
    grading.assert_apply_returns_plain_arrays(checks, reference)


@pytest.mark.parametrize("hw", HOMEWORKS, ids=task_id)
def test_apply_never_touches_the_reference(hw, monkeypatch):
    grading.assert_apply_never_touches_the_reference(
        CHECK_MODULES[hw], HOMEWORKS[hw][2], monkeypatch
    )


@pytest.mark.parametrize("hw", HOMEWORKS, ids=task_id)
def test_checks_import_without_the_reference(hw):
    """The sandbox mounts autograder/ but not solutions/: the checks module must import there."""
    code = (
        "import sys; sys.modules['solutions'] = None\n"
        f"import autograder.checks.hw{hw} as m\n"
        "assert m.CHECKS\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
