"""The hidden checks of homework 1: fair (the reference passes for 100 seeds), tight (every mutant fails
its task's check), robust (garbage fails with a message instead of crashing the check).

The mutation score is printed (``pytest -s``) and shown in the short summary when a mutant survives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import Verdict
from autograder.checks.hw1 import CHECKS, run_check, verdict
from autograder.mutants.hw1 import MUTANTS
from solutions import linear_regression as ref


@pytest.mark.parametrize("name", CHECKS)
def test_reference_passes_100_seeds(name):
    result = verdict(name, getattr(ref, name), range(100))
    assert result == Verdict(True, "ok"), result.message


@pytest.mark.parametrize("name", CHECKS)
def test_default_seeds_cover_every_case(name):
    check = CHECKS[name]
    shapes = {tuple(np.shape(v)) for seed in check.seeds for v in check.make_inputs(seed).values()}
    all_shapes = {
        tuple(np.shape(v)) for seed in range(100) for v in check.make_inputs(seed).values()
    }
    assert shapes == all_shapes


@pytest.mark.parametrize(
    ("task", "mutant"),
    [(task, mutant) for task, mutants in MUTANTS.items() for mutant in mutants],
    ids=lambda x: x if isinstance(x, str) else x.__name__,
)
def test_mutant_fails_its_check(task, mutant):
    result = verdict(task, mutant)
    assert not result.passed, f"the mutant {mutant.__name__} passes the {task} check"
    assert result.message.startswith(f"{task}: ") and len(result.message) < 400


def test_mutation_score():
    """Every graded task has at least five mutants, and the checks kill all of them."""
    assert set(MUTANTS) == set(CHECKS)
    killed = {task: sum(not verdict(task, m).passed for m in ms) for task, ms in MUTANTS.items()}
    total = sum(len(ms) for ms in MUTANTS.values())
    print(f"\nhomework 1 mutation score: {sum(killed.values())}/{total} killed")
    for task, ms in MUTANTS.items():
        print(f"  {task:<18} {killed[task]}/{len(ms)}")
        assert len(ms) >= 5
    assert sum(killed.values()) == total


def _raises(*args, **kwargs):
    raise RuntimeError("student bug")


def _nan(*args, **kwargs):
    return torch.tensor(float("nan"), dtype=torch.float64)


def _nan_pair(*args, **kwargs):
    return _nan(), _nan()


GARBAGE = {
    "None": lambda *a, **k: None,
    "a string": lambda *a, **k: "w",
    "raises": _raises,
    "NotImplementedError": lambda *a, **k: (_ for _ in ()).throw(NotImplementedError()),
    "NaN": _nan,
    "NaN pair": _nan_pair,
    "a triple": lambda *a, **k: (1, 2, 3),
    "int tensor": lambda *a, **k: torch.zeros(3, dtype=torch.int64),
    "complex": lambda *a, **k: torch.zeros(3, dtype=torch.complex128),
    "numpy object": lambda *a, **k: np.array([object()]),
    "a list": lambda *a, **k: [0.0, 1.0],
    "wrong arity": lambda: 0,
}


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_fails_with_a_message(name, garbage):
    result = verdict(name, GARBAGE[garbage])
    assert not result.passed and result.message.startswith(f"{name}: ")


def test_messages_say_what_is_wrong_without_the_inputs():
    from autograder.mutants.hw1 import grad_sign, intercept_ones_last, sigmoid_overflow

    assert "found ones in the last column" in verdict("add_intercept", intercept_ones_last).message
    assert "max relative error 2 " in verdict("mse_gradient", grad_sign).message
    assert "NaN or infinite" in verdict("sigmoid", sigmoid_overflow).message
    assert "raised RuntimeError: student bug" in verdict("mse", _raises).message
    for name, check in CHECKS.items():
        inputs = check.make_inputs(1)
        message = verdict(name, _nan_pair if name.endswith(("descent", "sgd")) else _nan).message
        for value in inputs.values():
            if value.size > 1:
                assert f"{value.flat[0]:.4g}" not in message


def test_run_check_raises_assertion_error_with_the_message():
    run_check("mse", ref.mse)
    with pytest.raises(AssertionError, match="mse: raised RuntimeError"):
        run_check("mse", _raises)


def test_apply_returns_plain_arrays_only():
    """The middle step may run in a sandbox: what it returns must be plain numpy arrays."""
    for name, check in CHECKS.items():
        inputs = check.make_inputs(0)
        assert all(isinstance(v, np.ndarray) for v in inputs.values()), name
        for fn in (getattr(ref, name), _raises, GARBAGE["a string"]):
            outputs = check.apply(fn, inputs)
            assert all(isinstance(v, np.ndarray) and v.dtype != object for v in outputs.values())
