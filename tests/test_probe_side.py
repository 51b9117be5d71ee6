"""The probe side of grading (``autograder/probes/``, ``autograder/probe.py``): what the sandbox holds.

- **Only the probe's files**: ``python -m autograder.probe`` runs every homework's reference answers
  with nothing of the grader but :data:`~autograder.probe.SANDBOX_FILES` on its path (no checks, no
  mutants, no notebook specs, no ``solutions``), and what it writes passes the judges run here; none of
  those files holds judging code, and importing the probe side loads nothing of the judging side.
- **Verdicts made outside**: an input changed in place is seen even when the student's code patches
  numpy's and torch's comparisons and readers, reclasses the input, or leaves a dispatch mode active
  before returning: the probe reports values read with torch's own C routines, the judge compares.
- **Student text bounded**: an exception reaches the outputs as its type (a library's: a class the
  notebook defines is named by its nearest library base) and one bounded line; a returned object of
  the notebook's own class is named as such.
- **Hostile objects**: whatever comes back (an object whose every method raises, a lying
  ``torch.Tensor`` subclass, a tuple that raises on ``len``, a ``SystemExit``), every check's ``apply``
  returns plain arrays and its judge fails it with a message; nothing raises.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from autograder.build import REPO, load_spec
from autograder.probes import MESSAGE_LIMIT, STUDENT_CLASS, describe
from autograder.registry import homeworks
from autograder.sandbox import sandbox_files

GRADER = REPO / "autograder"
HOMEWORKS = {key: h.module("checks") for key, h in homeworks().items()}
PROBES = {key: h.module("probes") for key, h in homeworks().items()}
hw1, hw3 = HOMEWORKS["hw1"], HOMEWORKS["hw3"]
TASKS = [(hw, name) for hw, module in HOMEWORKS.items() for name in module.CHECKS]
SANDBOX_FILES = (
    sandbox_files()
)  # where each file is bound under autograder/ -> where it is read from
JUDGE_SIDE = ("solutions", "autograder.checks", "autograder.registry")
JUDGE_SIDE += tuple(
    f"autograder.homeworks.{h.assignment}.{part}"
    for h in homeworks().values()
    for part in ("checks", "mutants", "variants", "spec", "samples")
)
JUDGE_SIDE += ("autograder.build", "autograder.grade", "autograder.hostile")


# ---------------------------------------------------------------------------------------------------
# Only the probe's files in the sandbox
# ---------------------------------------------------------------------------------------------------


def test_every_task_is_probed_by_its_homework_probe_module():
    for hw, module in HOMEWORKS.items():
        assert set(PROBES[hw].PROBES) == set(module.CHECKS), hw
        for name, check in module.CHECKS.items():
            assert check.apply is PROBES[hw].PROBES[name], (hw, name)


def test_sandbox_files_are_all_there():
    assert SANDBOX_FILES, "the sandbox needs the probe"
    missing = [name for name, source in SANDBOX_FILES.items() if not source.is_file()]
    assert not missing, f"SANDBOX_FILES names files that do not exist: {missing}"


def _imports(path: Path) -> set[str]:
    """The modules a file imports, relative imports resolved (``autograder/probe.py``: ``.``
    is ``autograder.probes``)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    else:
        package = package.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_no_sandbox_file_holds_judging_code_mutants_or_solutions():
    for name, path in SANDBOX_FILES.items():
        assert not name.startswith("checks/"), name
        assert name.startswith("homeworks/") <= name.endswith(("/probes.py", "/__init__.py")), name
        if not path.is_file():
            continue  # test_sandbox_files_are_all_there says so
        imported = _imports(path)
        assert not [m for m in imported if m.startswith(JUDGE_SIDE)], (name, imported)
        for module in (m for m in imported if m.startswith("autograder.")):
            # an autograder module it imports is a sandbox file (or a name in one: a function)
            parts = module.split(".")[1:]
            candidates = {"/".join(parts) + ".py", "/".join([*parts, "__init__.py"])}
            candidates |= {"/".join(parts[:-1]) + ".py", "/".join([*parts[:-1], "__init__.py"])}
            assert candidates & set(SANDBOX_FILES), (name, module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        assert not [d for d in defined if "judge" in d or "verdict" in d], (name, defined)
        called = {
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and hasattr(n.func, "id")
        }
        assert "reference" not in called and "MUTANTS" not in path.read_text(encoding="utf-8")


def test_importing_the_probe_side_loads_nothing_of_the_judging_side():
    code = (
        "import sys\n"
        "import autograder.probe\n"
        f"for name in {[h.module_name('probes') for h in homeworks().values()]!r}:\n"
        "    __import__(name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({JUDGE_SIDE!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def sandbox_copy(tmp_path_factory) -> Path:
    """A folder holding ``autograder/`` with only the sandbox files (those that exist)."""
    root = tmp_path_factory.mktemp("sandbox")
    for name, source in SANDBOX_FILES.items():
        if source.is_file():
            (root / "autograder" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / "autograder" / name)
    return root


def _cells(homework: str) -> list[dict[str, str]]:
    """The provided and answer cells of the instructor's notebook (the reference answers), in order,
    as the grader hands them to the probe."""
    assignment = load_spec(homework).assignment
    nb = nbformat.read(REPO / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        answer = meta.get("solution", False)
        provided = meta.get("locked", False) and not meta.get("grade", False)
        if cell.cell_type == "code" and (answer or provided):
            cells.append({"grade_id": meta["grade_id"], "source": cell.source})
    return cells


_RUN_PROBE = """
import sys
# the venv's editable install finds autograder/'s and solutions/'s modules in this repository: without
# it, the grader is the copy on PYTHONPATH, as in the sandbox, where nothing else of it is mounted
sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", "")]
import autograder.probe
code = autograder.probe.main()
print("JUDGE_SIDE", sorted(m for m in sys.modules if m.startswith({judge_side!r})))
print("FILES", sorted(m.__file__ for m in list(sys.modules.values())
                      if (getattr(m, "__name__", None) or "").startswith("autograder")
                      and getattr(m, "__file__", None)))
for name in ("autograder.checks", "autograder.registry", "solutions"):
    try:
        __import__(name)
        print("IMPORTABLE", name)
    except ImportError:
        pass
sys.exit(code)
"""


@pytest.mark.slow
@pytest.mark.parametrize("homework", HOMEWORKS)
def test_the_probe_runs_with_only_the_sandbox_files(sandbox_copy, homework, tmp_path):
    checks = HOMEWORKS[homework].CHECKS
    io = tmp_path / "io"
    inputs = {}
    for name, check in checks.items():
        (io / "inputs" / name).mkdir(parents=True)
        inputs[name] = {seed: check.make_inputs(seed) for seed in check.seeds}
        for seed, arrays in inputs[name].items():
            np.savez(io / "inputs" / name / f"{seed}.npz", **arrays)
    job = {
        "homework": homework,
        "probes": homeworks()[homework].module_name("probes"),
        "lockdown": sorted(homeworks()[homework].lockdown),
        "cells": _cells(homework),
        "skip_cells": [],
        "tasks": [{"name": name, "seeds": list(check.seeds)} for name, check in checks.items()],
        "task_seconds": 120,
    }
    (io / "job.json").write_text(json.dumps(job), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(sandbox_copy)}
    env.pop("DLHW_SANDBOXED", None)
    code = _RUN_PROBE.format(judge_side=JUDGE_SIDE)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=io,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["JUDGE_SIDE"] == "[]" and "IMPORTABLE" not in lines, done.stdout
    files = {
        str(Path(f).relative_to(sandbox_copy / "autograder"))
        for f in ast.literal_eval(lines["FILES"])
    }
    assert files <= set(SANDBOX_FILES)
    log = (io / "progress.log").read_text(encoding="utf-8").splitlines()
    assert not [line for line in log if " error " in line], log
    for name, check in checks.items():
        assert f"task {name} done" in log, (name, log)
        for seed, arrays in inputs[name].items():
            with np.load(io / "outputs" / name / f"{seed}.npz", allow_pickle=False) as data:
                outputs = {key: data[key] for key in data.files}
            verdict = check.run_judge(arrays, outputs)
            assert verdict.passed, (name, seed, verdict.message)


# ---------------------------------------------------------------------------------------------------
# What decides a grade is computed outside: an in-place change cannot be hidden
# ---------------------------------------------------------------------------------------------------


class _Disguise(torch.Tensor):
    """What a student could turn an input into: every torch call on it sees ``saved`` instead."""

    saved: torch.Tensor | None = None

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        args = tuple(cls.saved if isinstance(a, _Disguise) else a for a in args)
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))


class _Liar(TorchDispatchMode):
    """A dispatch mode left active: every op on ``target`` runs on ``saved`` instead."""

    def __init__(self, target: torch.Tensor, saved: torch.Tensor):
        super().__init__()
        self.target, self.saved = target, saved

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        args = tuple(self.saved if a is self.target else a for a in args)
        return func(*args, **(kwargs or {}))


def _cover_up(monkeypatch, X: torch.Tensor, saved: torch.Tensor) -> list:
    """Everything a probe could have used to see that ``X`` changed, made to say it did not."""
    same = saved.numpy().copy()
    monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "equal", lambda *a, **k: np.True_)
    monkeypatch.setattr(np, "array", lambda *a, **k: same.copy())
    monkeypatch.setattr(torch, "equal", lambda *a, **k: True)
    monkeypatch.setattr(
        torch.Tensor, "__eq__", lambda self, other: torch.ones((), dtype=torch.bool)
    )
    monkeypatch.setattr(torch.Tensor, "detach", lambda self: saved)
    monkeypatch.setattr(torch.Tensor, "to", lambda self, *a, **k: saved)
    monkeypatch.setattr(torch.Tensor, "numpy", lambda self, *a, **k: same.copy())
    monkeypatch.setattr(torch.Tensor, "clone", lambda self, *a, **k: saved)
    _Disguise.saved = saved
    X.__class__ = _Disguise
    liar = _Liar(X, saved)
    liar.__enter__()  # left active, as a student's code could leave it
    return [liar]


def test_an_in_place_change_is_seen_whatever_the_student_patches(monkeypatch):
    check = hw1.CHECKS["add_intercept"]
    inputs = check.make_inputs(1)
    left: list = []

    def sneaky(X):
        saved = X.clone()
        result = torch.cat([torch.ones(X.shape[0], 1, dtype=X.dtype), saved], dim=1)
        X.mul_(2.0)  # the in-place change, then the cover-up
        left.extend(_cover_up(monkeypatch, X, saved))
        return result

    try:
        outputs = check.run_apply(sneaky, inputs)
    finally:
        for mode in left:
            mode.__exit__(None, None, None)
        monkeypatch.undo()  # the student's patches live in the sandbox only; the judge is outside
    assert np.array_equal(outputs["after.X"], 2.0 * inputs["X"])
    verdict = check.run_judge(inputs, outputs)
    assert not verdict.passed and "changed its input X in place" in verdict.message
    # and the same function, honest, passes
    assert hw1.verdict(
        "add_intercept", lambda X: torch.cat([torch.ones(len(X), 1, dtype=X.dtype), X], 1)
    ).passed


def test_a_gradient_changed_by_step_is_seen_whatever_the_student_patches(monkeypatch):
    from solutions import optim

    check = hw3.CHECKS["SGD"]
    inputs = check.make_inputs(0)

    class Sneaky(optim.SGD):
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad.mul_(1.0)  # harmless so far
            super().step()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.add_(1.0)  # changes what it was handed
            monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
            monkeypatch.setattr(torch, "equal", lambda *a, **k: True)

    try:
        outputs = check.run_apply(Sneaky, inputs)
    finally:
        monkeypatch.undo()
    verdict = check.run_judge(inputs, outputs)
    assert not verdict.passed and "p.grad was changed in place" in verdict.message


# ---------------------------------------------------------------------------------------------------
# Student text: bounded, one line, a library's type names
# ---------------------------------------------------------------------------------------------------


def test_an_exception_reaches_the_output_bounded_and_on_one_line():
    check = hw1.CHECKS["mse"]
    inputs = check.make_inputs(0)
    source = inspect.getsource(hw1)  # what a student could pull from a check

    for message in (source, source.replace("\n", " "), "\n\n" + source):

        def leak(*args, message=message, **kwargs):
            raise ValueError(message)

        error = str(check.run_apply(leak, inputs)["error"])
        assert error.startswith("ValueError: ") and "\n" not in error
        assert len(error) <= len("ValueError: ") + MESSAGE_LIMIT
        assert error.isprintable()
        verdict = hw1.verdict("mse", leak)
        assert not verdict.passed and "\n" not in verdict.message and len(verdict.message) < 300


def test_a_notebook_exception_class_is_named_by_its_library_base():
    sentence = type("the expected loss is 0.123 for this input", (ValueError,), {})

    class Oops(RuntimeError):
        pass

    class Deep(Oops):
        pass

    class Mine(Exception):
        def __str__(self):
            raise RuntimeError("no message for you")

    cases = [
        (sentence("x"), "ValueError: x"),
        (Deep("bad\nthings"), "RuntimeError: bad"),
        (Mine(), "Exception"),
        (SystemExit(3), "SystemExit: 3"),
        (np.linalg.LinAlgError("singular"), "LinAlgError: singular"),
    ]
    for err, expected in cases:
        assert describe(err) == expected
    check = hw1.CHECKS["mse"]

    def raises(*args, **kwargs):
        raise sentence("boom")

    assert str(check.run_apply(raises, check.make_inputs(0))["error"]) == "ValueError: boom"
    assert hw1.verdict("mse", raises).message == "mse: raised ValueError: boom"


def test_a_returned_object_of_the_notebooks_class_is_named_as_such():
    class Secret:
        pass

    Secret.__name__ = "the_expected_value_is_42"
    check = hw1.CHECKS["mse"]
    outputs = check.run_apply(lambda *a: Secret(), check.make_inputs(0))
    assert str(outputs["result.type"]) == STUDENT_CLASS
    assert hw1.verdict("mse", lambda *a: Secret()).message == (
        f"mse: the result is {STUDENT_CLASS}, expected a torch.Tensor"
    )


# ---------------------------------------------------------------------------------------------------
# Hostile objects never break a probe
# ---------------------------------------------------------------------------------------------------


class _Hostile:
    """An object whose every method raises, that claims to be a tensor (``__class__``)."""

    def _no(self, *args, **kwargs):
        raise RuntimeError("hostile")

    __array__ = __float__ = __int__ = __index__ = __len__ = __iter__ = __getitem__ = _no
    __eq__ = __ne__ = __lt__ = __bool__ = __hash__ = __call__ = __str__ = __repr__ = _no
    __mul__ = __rmul__ = __add__ = __radd__ = __sub__ = __matmul__ = __neg__ = _no

    @property
    def __class__(self):
        return torch.Tensor

    def __getattr__(self, name):
        raise RuntimeError(f"hostile {name}")


class _LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise RuntimeError("a tensor that lies")


class _BadTuple(tuple):
    def __len__(self):
        raise RuntimeError("no length")

    def __getitem__(self, index):
        raise RuntimeError("no items")


class _Escape(BaseException):
    pass


class _BadFloat(float):
    def __float__(self):
        raise RuntimeError("no float")


def _lying_tensor(*args, **kwargs):
    return torch.zeros(3, dtype=torch.float64).as_subclass(_LyingTensor)


def _raise_escape(*args, **kwargs):
    raise _Escape("out")


def _exit(*args, **kwargs):
    raise SystemExit(0)


HOSTILE = {
    "hostile object": lambda *a, **k: _Hostile(),
    "lying tensor": _lying_tensor,
    "bad tuple": lambda *a, **k: _BadTuple((1, 2)),
    "BaseException": _raise_escape,
    "SystemExit": _exit,
    "bad float": lambda *a, **k: _BadFloat(0.5),
}


@pytest.mark.parametrize(("hw", "name"), TASKS, ids=lambda v: str(v))
def test_hostile_objects_give_plain_outputs_and_a_failure(hw, name):
    check = HOMEWORKS[hw].CHECKS[name]
    inputs = check.make_inputs(0)
    for kind, fn in HOSTILE.items():
        outputs = check.run_apply(fn, inputs)
        assert all(
            isinstance(v, np.ndarray) and v.dtype.kind in "fiubU" for v in outputs.values()
        ), (kind, outputs)
        verdict = check.run_judge(inputs, outputs)
        assert not verdict.passed and verdict.message, (kind, verdict)
