"""Hidden checks, one module per homework, and the machinery they share.

Every check is three separable steps, so that a later grader can run the middle one inside a sandboxed
student kernel and the other two in a trusted process where student code cannot reach the reference:

- ``make_inputs(seed) -> dict[str, np.ndarray]``: seeded inputs, plain numpy arrays;
- ``apply(student_fn, inputs) -> dict[str, np.ndarray]``: the only step that runs student code; it turns
  whatever comes back (or the exception raised) into plain numpy arrays, see :func:`encode`;
- ``judge(inputs, outputs) -> Verdict``: type, dtype, shape and finiteness first, then values against the
  reference solution in float64. Messages say what is wrong without printing the inputs or this code.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .forbidden import AutogradWatch, Rule, scan

__all__ = [
    "Catalogue",
    "Check",
    "Verdict",
    "call",
    "case",
    "compare",
    "encode",
    "expect_tensor",
    "failed",
    "first_problem",
    "modified",
    "passed",
    "reference",
    "rng",
    "tensor",
    "text",
]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str


def passed() -> Verdict:
    return Verdict(True, "ok")


def failed(message: str) -> Verdict:
    return Verdict(False, message)


@dataclass(frozen=True)
class Check:
    """One graded task: the three steps, and the default seeds a notebook runs."""

    name: str
    make_inputs: Callable[[int], dict[str, np.ndarray]]
    apply: Callable[[Callable, dict[str, np.ndarray]], dict[str, np.ndarray]]
    judge: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], Verdict]
    seeds: tuple[int, ...] = tuple(range(8))
    forbid: tuple[Rule, ...] = ()  # e.g. (AUTOGRAD,): using it scores the task 0 (forbidden.py)

    def verdict(self, student_fn: Callable, seeds: Iterable[int] | None = None) -> Verdict:
        """All three steps in this process, over ``seeds``; the first failure, else a pass.

        Warnings are silenced throughout: any stderr output scores an nbgrader test cell 0.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self._verdict(student_fn, self.seeds if seeds is None else seeds)

    def _verdict(self, student_fn: Callable, seeds: Iterable[int]) -> Verdict:
        problem = scan(student_fn, self.forbid) if self.forbid else None
        if problem is not None:
            return failed(f"{self.name}: {problem}")
        for seed in seeds:
            inputs = self.make_inputs(seed)
            outputs = self.run_apply(student_fn, inputs)
            verdict = self.run_judge(inputs, outputs)
            if not verdict.passed:
                return failed(f"{self.name}: {verdict.message}")
        return passed()

    def run_apply(self, student_fn: Callable, inputs: dict[str, np.ndarray]) -> dict:
        """``apply``, watched for autograd when a rule forbids it (a ``"forbidden"`` output says so)."""
        if not any(rule.watch_autograd for rule in self.forbid):
            return self.apply(student_fn, inputs)
        with AutogradWatch() as watch:
            outputs = self.apply(student_fn, inputs)
        if watch.used is not None:
            outputs = {**outputs, "forbidden": np.array(watch.message(), dtype=np.str_)}
        return outputs

    def run_judge(self, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        """``judge``, after the forbidden-use verdict; a crash of the judge is a failure too."""
        if "forbidden" in outputs:
            return failed(str(outputs["forbidden"]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self.judge(inputs, outputs)
        except Exception as err:  # a judge must never crash on garbage; report it as a failure
            return failed(f"the output could not be checked ({type(err).__name__})")


class Catalogue(dict):
    """A homework's checks by task name; ``verdict`` and ``run_check`` are what hidden blocks call."""

    def __init__(self, checks: Iterable[Check]):
        super().__init__((check.name, check) for check in checks)

    def verdict(
        self, name: str, student_fn: Callable, seeds: Iterable[int] | None = None
    ) -> Verdict:
        """Run the check ``name`` on ``student_fn`` in this process (its default seeds unless given)."""
        return self[name].verdict(student_fn, seeds)

    def run_check(
        self, name: str, student_fn: Callable, seeds: Iterable[int] | None = None
    ) -> None:
        """Like :meth:`verdict`, but raise ``AssertionError`` with the message on a failure."""
        result = self.verdict(name, student_fn, seeds)
        if not result.passed:
            raise AssertionError(result.message)


class reference:
    """A reference module of ``solutions/``, imported on first use: ``ref = reference("solutions.mlp")``.

    Only ``judge`` (and ``make_inputs``) may touch it. ``apply`` runs in the student's sandbox, where
    ``solutions/`` is not mounted: a check module must import, and its ``apply`` run, without it.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"reference({self._name!r})"


# ---------------------------------------------------------------------------------------------------
# make_inputs: seeded cases
# ---------------------------------------------------------------------------------------------------


def rng(homework: int, seed: int) -> np.random.Generator:
    """The random numbers of ``seed`` in a homework's checks (independent across homeworks)."""
    return np.random.default_rng([2026, homework, seed])


def case(seed: int, cases: list) -> object:
    """The case a seed picks: seeds ``range(len(cases))`` cover every case."""
    return cases[seed % len(cases)]


# ---------------------------------------------------------------------------------------------------
# apply: run student code, keep only plain arrays
# ---------------------------------------------------------------------------------------------------


def text(value: str) -> np.ndarray:
    """A string as a 0-d numpy array (how ``apply`` hands back type names, dtypes, messages)."""
    return np.array(value, dtype=np.str_)


def call(fn: Callable, *args, **kwargs) -> tuple[object, dict[str, np.ndarray]]:
    """Call student code with warnings silenced (stderr output scores an nbgrader test cell 0).

    Returns ``(result, {})``, or ``(None, {"error": "ExceptionType: message"})`` when it raised.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs), {}
    except Exception as err:
        message = str(err).splitlines()[0][:200] if str(err) else ""
        return None, {"error": text(f"{type(err).__name__}: {message}".rstrip(": "))}


def encode(value: object, key: str) -> dict[str, np.ndarray]:
    """Describe one returned value as plain arrays: ``key.type``, ``key.dtype`` and ``key`` (float64).

    A tensor or numpy array keeps its values; anything else only its type name.
    """
    out = {f"{key}.type": text(type(value).__name__)}
    if isinstance(value, torch.Tensor):
        out[f"{key}.dtype"] = text(str(value.dtype).removeprefix("torch."))
        if value.is_floating_point() or value.dtype in (torch.int64, torch.int32, torch.bool):
            out[key] = value.detach().to("cpu", torch.float64).numpy().copy()
    elif isinstance(value, np.ndarray):
        out[f"{key}.dtype"] = text(str(value.dtype))
        if value.dtype.kind in "fiub":
            out[key] = value.astype(np.float64)
    return out


def modified(before: np.ndarray, after: torch.Tensor) -> bool:
    """Whether student code changed an input tensor (``after``) from its values ``before``."""
    return not np.array_equal(before, after.detach().to("cpu", torch.float64).numpy())


def tensor(array: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A fresh CPU tensor holding a copy of an input array (student code may modify it)."""
    return torch.tensor(np.asarray(array), dtype=dtype)


# ---------------------------------------------------------------------------------------------------
# judge: type, dtype, shape, finiteness, values
# ---------------------------------------------------------------------------------------------------


def first_problem(*problems: str | None) -> Verdict:
    """A failure with the first problem that is not None, else a pass."""
    for problem in problems:
        if problem is not None:
            return failed(problem)
    return passed()


def expect_tensor(
    outputs: dict[str, np.ndarray], key: str, shape: tuple[int, ...], dtype: str = "float64"
) -> str | None:
    """None when ``outputs[key]`` is a finite torch tensor of ``shape`` and ``dtype``, else why not."""
    if "error" in outputs:
        return f"raised {outputs['error']}"
    what = "the result" if key == "result" else key
    kind = str(outputs.get(f"{key}.type", "nothing"))
    if kind != "Tensor":
        return f"{what} is a {kind}, expected a torch.Tensor"
    got_dtype = str(outputs.get(f"{key}.dtype", "?"))
    if got_dtype != dtype:
        return f"{what} has dtype {got_dtype}, expected {dtype} (the dtype of the inputs)"
    value = outputs.get(key)
    if value is None:
        return f"{what} could not be read as numbers"
    if value.shape != tuple(shape):
        return f"{what} has shape {value.shape}, expected {tuple(shape)}"
    if not np.all(np.isfinite(value)):
        return f"{what} holds {int(np.sum(~np.isfinite(value)))} NaN or infinite value(s)"
    return None


def compare(
    actual: np.ndarray, expected: np.ndarray, what: str, *, rtol: float = 1e-8, atol: float = 0.0
) -> str | None:
    """None when ``actual`` matches ``expected`` elementwise (``|a − e| ≤ atol + rtol·|e|``)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if np.allclose(actual, expected, rtol=rtol, atol=atol):
        return None
    scale = np.maximum(np.abs(expected), atol / rtol if rtol else 1.0)
    scale = np.where(scale == 0, 1.0, scale)
    error = float(np.max(np.abs(actual - expected) / scale))
    return f"{what}: max relative error {error:.2g} against the reference (tolerance {rtol:g})"
