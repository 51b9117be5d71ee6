"""The proofs every homework's hidden checks owe (``tests/test_grading.py`` runs them for each homework).

fair: the reference passes every check for 100 seeds; tight: every mutant of the catalogue fails its
own task's check (the mutation score is printed, ``pytest -s``); robust: garbage fails with a message
instead of crashing the check; separable: ``make_inputs`` and ``apply`` give plain numpy arrays only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from autograder.checks import Catalogue, Verdict
from autograder.checks import reference as lazy_reference


def _raises(*args, **kwargs):
    raise RuntimeError("student bug")


def _nan(*args, **kwargs):
    return torch.tensor(float("nan"), dtype=torch.float64)


def _nan_pair(*args, **kwargs):
    return _nan(), _nan()


GARBAGE: dict[str, Callable] = {
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


def mutant_cases(mutants: dict[str, list]) -> list[tuple[str, Callable]]:
    return [(task, mutant) for task, ms in mutants.items() for mutant in ms]


def mutant_id(value: object) -> str:
    return value if isinstance(value, str) else value.__name__


def assert_reference_passes(checks: Catalogue, name: str, reference: Callable) -> None:
    result = checks.verdict(name, reference, range(100))
    assert result == Verdict(True, "ok"), result.message


def assert_variant_passes(checks: Catalogue, task: str, variant: Callable) -> None:
    """A correct answer written differently (a homework's ``variants.py``) passes on 100 seeds."""
    result = checks.verdict(task, variant, range(100))
    assert result.passed, f"the correct variant {variant.__name__} fails: {result.message}"


def assert_variant_catalogue(checks: Catalogue, variants: dict[str, list]) -> None:
    """Every graded task has at least two correct variants, and no variant is named for a non-task."""
    assert set(variants) == set(checks), set(variants) ^ set(checks)
    for task, vs in variants.items():
        assert len(vs) >= 2, f"{task} has {len(vs)} correct variant(s); at least 2 are needed"


def assert_default_seeds_cover_every_case(checks: Catalogue, name: str) -> None:
    check = checks[name]

    def shapes(seeds) -> set:
        return {tuple(np.shape(v)) for seed in seeds for v in check.make_inputs(seed).values()}

    assert shapes(check.seeds) == shapes(range(100))


def assert_mutant_fails(checks: Catalogue, task: str, mutant: Callable) -> None:
    result = checks.verdict(task, mutant)
    assert not result.passed, f"the mutant {mutant.__name__} passes the {task} check"
    assert result.message.startswith(f"{task}: ") and len(result.message) < 400


def assert_mutation_score(checks: Catalogue, mutants: dict[str, list], homework: int) -> None:
    """Every graded task has at least five mutants, and the checks kill all of them."""
    assert set(mutants) == set(checks)
    killed = {t: sum(not checks.verdict(t, m).passed for m in ms) for t, ms in mutants.items()}
    total = sum(len(ms) for ms in mutants.values())
    print(f"\nhomework {homework} mutation score: {sum(killed.values())}/{total} killed")
    for task, ms in mutants.items():
        print(f"  {task:<18} {killed[task]}/{len(ms)}")
        assert len(ms) >= 5
    assert sum(killed.values()) == total


def assert_garbage_fails_with_a_message(checks: Catalogue, name: str, garbage: str) -> None:
    result = checks.verdict(name, GARBAGE[garbage])
    assert not result.passed and result.message.startswith(f"{name}: ")


def assert_apply_returns_plain_arrays(checks: Catalogue, reference: object) -> None:
    """The middle step may run in a sandbox: what it returns must be plain numpy arrays."""
    for name, check in checks.items():
        inputs = check.make_inputs(0)
        assert all(isinstance(v, np.ndarray) for v in inputs.values()), name
        for fn in (getattr(reference, name), _raises, GARBAGE["a string"]):
            outputs = check.apply(fn, inputs)
            assert all(isinstance(v, np.ndarray) and v.dtype != object for v in outputs.values())


def assert_messages_hide_the_inputs(checks: Catalogue, fn_for: Callable[[str], Callable]) -> None:
    for name, check in checks.items():
        inputs = check.make_inputs(1)
        message = checks.verdict(name, fn_for(name)).message
        for value in inputs.values():
            if value.size > 1 and value.dtype.kind == "f":
                assert f"{value.flat[0]:.4g}" not in message


class _Unreachable:
    """Stands for the reference solutions where ``apply`` runs: the student's sandbox has none.

    Every use is recorded (an exception alone could be swallowed by ``call``) and then raises.
    """

    def __init__(self):
        self.used: list[str] = []

    def __getattr__(self, name: str):
        self.used.append(name)
        raise ImportError(f"apply used the reference ({name}); only judge may")


def assert_apply_never_touches_the_reference(checks_module, reference: object, monkeypatch) -> None:
    """``apply`` runs in the sandbox, where ``solutions/`` is not mounted: it must not need it."""
    unreachable = _Unreachable()
    lazy = [
        name for name, value in vars(checks_module).items() if isinstance(value, lazy_reference)
    ]
    assert lazy, f"{checks_module.__name__} has no reference(...) to stand in for"
    for name in lazy:
        monkeypatch.setattr(checks_module, name, unreachable)
    for name, check in checks_module.CHECKS.items():
        for seed in check.seeds:
            check.run_apply(getattr(reference, name), check.make_inputs(seed))
            assert not unreachable.used, (
                f"{name}, seed {seed}: apply used ref.{unreachable.used[0]}"
            )
