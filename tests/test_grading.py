"""The proofs every homework's hidden checks owe, run for each graded homework.

fair: the reference and every correct variant (each homework's ``variants.py``) pass every check for 100
seeds; tight: every mutant of the catalogue fails its own task's check (the mutation score is printed,
``pytest -s``); robust: garbage fails with a message instead of crashing the check; separable:
``apply`` hands back plain numpy arrays only. The helpers are in ``tests/grading.py``; what is
particular to one homework is in ``tests/test_grading_hw<N>.py``. Every homework the registry
finds (``autograder/registry.py``) is proved here, with nothing to add.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.registry import homeworks
from tests import grading

# homework number -> (its checks, its mutant catalogue, the reference: each task's function or class)
REGISTERED = {int(h.key.removeprefix("hw")): h for h in homeworks().values()}
HOMEWORKS = {n: (h.checks, h.mutants, h.reference) for n, h in REGISTERED.items()}
CHECK_MODULES = {n: h.module("checks") for n, h in REGISTERED.items()}
TASKS = [(hw, name) for hw, (checks, _, _) in HOMEWORKS.items() for name in checks]
VARIANTS = {n: h.variants for n, h in REGISTERED.items()}
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
        f"import {REGISTERED[hw].module_name('checks')} as m\n"
        "assert m.CHECKS\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
