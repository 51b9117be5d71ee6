"""Hidden checks, one module per homework, and the machinery they share.

Every check is three separable steps, so that the grader can run the middle one inside a sandboxed
student kernel and the other two in a trusted process where student code cannot reach the reference:

- ``make_inputs(seed) -> dict[str, np.ndarray]``: seeded inputs, plain numpy arrays;
- ``apply(student_fn, inputs) -> dict[str, np.ndarray]``: the only step that runs student code; it turns
  whatever comes back (or the exception raised) into plain numpy arrays. It lives in
  ``autograder.probes`` (``PROBES`` of each homework's module there), the only grading code the sandbox
  holds; it reports data (values returned, inputs' values after the call), never a verdict;
- ``judge(inputs, outputs) -> Verdict``: type, dtype, shape and finiteness first, then values against the
  reference solution in float64, and every fact about the run (was an input changed in place? was
  autograd used where the task forbids it?) decided here from the outputs. Messages say what is wrong
  without printing the inputs or this code, and any text taken from the outputs (student text) goes
  through :func:`~autograder.hostile.student_text` first.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from autograder.hostile import student_text

from ..probes import STUDENT_CLASS, call, case, encode, run, tensor, text
from .forbidden import Rule, autograd_message, scan

__all__ = [
    "Catalogue",
    "Check",
    "Verdict",
    "a_kind",
    "call",
    "case",
    "changed_in_place",
    "compare",
    "encode",
    "expect_tensor",
    "failed",
    "first_problem",
    "passed",
    "raised",
    "reference",
    "rng",
    "said",
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
        """``apply`` as the sandbox's probe runs it (:func:`autograder.probes.run`): watched for
        autograd, and never raising."""
        return run(self.apply, student_fn, inputs)

    def run_judge(self, inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> Verdict:
        """``judge``, after the facts every check shares: a probe that could not examine the result,
        autograd seen where a rule forbids it, a forbidden use refused at run time (``"forbidden"``,
        the lockdown's output; its text is not echoed). A crash of the judge is a failure too."""
        if "probe.error" in outputs:
            return failed(
                f"what the function returned could not be examined: "
                f"{student_text(outputs['probe.error'])} was raised"
            )
        if "watch.autograd" in outputs and any(rule.watch_autograd for rule in self.forbid):
            return failed(autograd_message(student_text(outputs["watch.autograd"], 80)))
        if (
            "forbidden" in outputs
        ):  # the lockdown (autograder/lockdown.py) refused a use at run time
            what = ", ".join(rule.name for rule in self.forbid) or "what this homework forbids"
            return failed(f"uses {what}: it was refused at run time, so it scores 0 (for review)")
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
    ``solutions/`` is not mounted, and lives in ``autograder.probes``, which never imports it.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"reference({self._name!r})"


# ---------------------------------------------------------------------------------------------------
# make_inputs: seeded cases (``case``, the case a seed picks, is shared with the probes)
# ---------------------------------------------------------------------------------------------------


def rng(homework: int, seed: int) -> np.random.Generator:
    """The random numbers of ``seed`` in a homework's checks (independent across homeworks)."""
    return np.random.default_rng([2026, homework, seed])


# ---------------------------------------------------------------------------------------------------
# judge: student text, facts of the run, type, dtype, shape, finiteness, values
# ---------------------------------------------------------------------------------------------------


def said(outputs: dict[str, np.ndarray], key: str, default: str = "") -> str:
    """The text ``outputs[key]`` (student text: a type name, an exception) made safe to show; the
    probe's own words for a class the notebook defines (:data:`STUDENT_CLASS`) pass as they are."""
    if key not in outputs:
        return default
    value = str(outputs[key])
    return value if value == STUDENT_CLASS else student_text(value)


def raised(outputs: dict[str, np.ndarray], steps: frozenset[str] = frozenset()) -> str:
    """``"raised ValueError: …"`` for an ``error`` output, and ``" (in forward)"`` when the probe
    said which call raised (``error.in``) in one of its own ``steps``."""
    where = str(outputs.get("error.in", ""))
    return f"raised {said(outputs, 'error', 'an exception')}" + (
        f" (in {where})" if where in steps else ""
    )


def a_kind(kind: str) -> str:
    """A type name from the probe with its article: ``a NoneType``, ``an int``, ``an object of a
    class defined in the notebook`` (:data:`~autograder.probes.STUDENT_CLASS` has its own)."""
    if kind == STUDENT_CLASS:
        return kind
    return f"an {kind}" if kind[:1].lower() in ("a", "e", "i", "o", "u") else f"a {kind}"


def changed_in_place(
    inputs: dict[str, np.ndarray],
    outputs: dict[str, np.ndarray],
    *names: str,
    dtype: torch.dtype = torch.float64,
    when: str = "after",
) -> bool:
    """Whether student code changed one of the input tensors ``names`` in place.

    The probe made each from ``inputs[name]`` in ``dtype`` and reported its values at ``when``
    (``outputs["after.X"]``, :func:`autograder.probes.after`); they are compared here. Values that
    could not be read count as changed.
    """
    for name in names:
        now = outputs.get(f"{when}.{name}")
        before = tensor(inputs[name], dtype).to(torch.float64).numpy()
        if now is None or not np.array_equal(before, now):
            return True
    return False


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
        return raised(outputs)
    what = "the result" if key == "result" else key
    kind = said(outputs, f"{key}.type", "nothing")
    if kind != "Tensor":
        return f"{what} is {a_kind(kind)}, expected a torch.Tensor"
    got_dtype = said(outputs, f"{key}.dtype", "?")
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
