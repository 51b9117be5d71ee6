"""Grade one submission: intake, the sandboxed run, and verdicts made in this (trusted) process.

    grade_submission(path, "hw1", sandbox, work_dir) -> SubmissionGrade

1. **Intake** (:mod:`autograder.intake`): the notebook is rebuilt from the instructor's source, taking
   only the student's answer cells; answer cells are scanned, and a flagged one scores 0.
2. **Inputs**: every check's ``make_inputs(seed)`` runs here and is written as ``.npz`` (no pickle).
3. **The run**: ``python -m autograder.probe`` in the sandbox (:mod:`autograder.sandbox`) runs the
   cells and applies each task's function to the inputs, writing plain arrays back.
   If the process dies (``os._exit``, a signal, the wall clock), ``progress.log`` says where: the
   cell or task it died in is recorded, skipped, and the run starts again for the tasks left, so a
   crash costs only the task (or the answer cell) that caused it.
4. **Verdicts**: outputs are read without pickle, checked for plain numeric/text arrays, and judged
   here, against the reference solutions, which the sandbox never sees.

Points are all or nothing per task (a test cell in nbgrader is too); the message is the first problem
found, in the words of the check, and never shows the hidden inputs or code.
"""

from __future__ import annotations

import importlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from .build import REPO, load_spec
from .cells import Spec, Task
from .intake import Intake, SubmissionError, read_submission
from .sandbox import Sandbox

__all__ = ["SubmissionGrade", "TaskGrade", "grade_submission"]

MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # one probe's outputs; more is a failure, not a memory problem


@dataclass(frozen=True)
class TaskGrade:
    name: str
    points: float
    max_points: int
    message: str  # "ok", or what is wrong

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class SubmissionGrade:
    homework: str
    tasks: dict[str, TaskGrade] = field(default_factory=dict)
    review: list[str] = field(default_factory=list)  # reasons for an instructor to look
    error: str | None = None  # the submission could not be graded at all (unreadable file)
    runs: int = 0  # sandbox runs it took (1 unless something crashed)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tasks.values())

    @property
    def max_score(self) -> int:
        return sum(t.max_points for t in self.tasks.values())


def _tasks(spec: Spec) -> list[Task]:
    return [cell for cell in spec.cells if isinstance(cell, Task)]


def _source_notebook(spec: Spec):
    path = REPO / "assignments" / spec.assignment / f"{spec.assignment}.ipynb"
    return read_submission(path)


# ---------------------------------------------------------------------------------------------------
# The run and its progress log
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Progress:
    cell_errors: dict[str, str] = field(default_factory=dict)
    task_status: dict[str, str] = field(default_factory=dict)  # done, missing, timeout, crashed
    died_in: tuple[str, str] | None = None  # ("cell" | "task", name) where the process ended
    ended: bool = False


def _read_progress(path: Path) -> _Progress:
    progress = _Progress()
    open_item = None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
    for line in lines:
        words = line.split(" ", 3)
        if words[0] == "end":
            progress.ended = True
            continue
        if len(words) < 3 or words[0] not in ("cell", "task"):
            continue
        kind, name, status = words[0], words[1], words[2]
        if status == "start":
            open_item = (kind, name)
            continue
        open_item = None
        if kind == "cell" and status == "error":
            progress.cell_errors[name] = words[3] if len(words) > 3 else "an error"
        elif kind == "task":
            progress.task_status[name] = status
    progress.died_in = open_item
    return progress


class _Watchdog:
    """Polled by the sandbox while it runs: a reason to stop when a cell or a task runs too long.

    The probe writes a line to ``progress.log`` as each cell and task starts and ends; the age of
    the file (its last write) is how long the item that started last has been running.
    """

    def __init__(self, log: Path, cell_seconds: float, task_seconds: float):
        self.log, self.cell_seconds, self.task_seconds = log, cell_seconds, task_seconds

    def __call__(self) -> str | None:
        try:
            age = time.time() - self.log.stat().st_mtime
            last = self.log.read_bytes()[-400:].decode("utf-8", "replace").splitlines()[-1]
        except (OSError, IndexError):
            return None
        words = last.split(" ")
        if len(words) < 3 or words[2] != "start":
            return None
        limit = self.cell_seconds if words[0] == "cell" else self.task_seconds + 5
        if age > limit:
            return f"the {limit:g} s limit of one {words[0]}"
        return None


def _write_inputs(io: Path, checks, tasks: list[Task], seeds) -> dict[str, dict]:
    inputs = {}
    for task in tasks:
        check = checks.CHECKS[task.name]
        folder = io / "inputs" / task.name
        folder.mkdir(parents=True, exist_ok=True)
        inputs[task.name] = {}
        for seed in check.seeds if seeds is None else seeds:
            arrays = check.make_inputs(seed)
            np.savez(folder / f"{seed}.npz", **arrays)
            inputs[task.name][seed] = arrays
    return inputs


def _load_outputs(path: Path) -> dict[str, np.ndarray] | str:
    """The arrays in ``path``, or why they cannot be used."""
    if not path.is_file():
        return "no output"
    if path.stat().st_size > MAX_OUTPUT_BYTES:
        return "the output is too large"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception:
        return "the output could not be read"
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "fiubU" for a in arrays.values()):
        return "the output holds something other than numbers and text"
    return arrays


# ---------------------------------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------------------------------


def grade_submission(
    path: Path | nbformat.NotebookNode,
    homework: str,
    sandbox: Sandbox,
    work_dir: Path,
    *,
    seeds=None,
    task_seconds: float = 60.0,
    cell_seconds: float = 30.0,
    scan: bool = True,
) -> SubmissionGrade:
    """Grade the notebook at ``path`` (or a notebook already read) for ``homework`` (``"hw1"`` …);
    ``work_dir`` is scratch space (emptied first).

    ``seeds``: the probe seeds of every task (default: each check's own). A cell that runs longer
    than ``cell_seconds``, or a task's probes longer than ``task_seconds``, is stopped from outside
    (the run is killed and started again without it). ``scan=False`` skips the
    intake scan of the answer cells: the tests use it to show that the sandbox alone holds.
    """
    spec = load_spec(homework)
    checks = importlib.import_module(f"autograder.checks.{homework}")
    tasks = _tasks(spec)
    grade = SubmissionGrade(homework=homework)
    try:
        submitted = read_submission(path) if isinstance(path, (str, Path)) else path
    except SubmissionError as err:
        grade.error = str(err)
        grade.tasks = {t.name: TaskGrade(t.name, 0, t.points, str(err)) for t in tasks}
        return grade

    rules = {t.name: checks.CHECKS[t.name].forbid for t in tasks}
    intake = Intake.rebuild(_source_notebook(spec), submitted, rules if scan else None)
    if not scan:
        intake.flagged.clear()
    for grade_id, reasons in intake.flagged.items():
        grade.review.append(f"{grade_id}: " + "; ".join(reasons))

    io = Path(work_dir)
    if io.exists():
        shutil.rmtree(io)
    (io / "outputs").mkdir(parents=True)
    inputs = _write_inputs(io, checks, tasks, seeds)

    to_probe = [t for t in tasks if t.name not in intake.missing and t.name not in intake.flagged]
    crashed: dict[str, str] = {}  # a cell or task that ended the process -> how
    skip_cells: list[str] = []
    progress = _Progress()
    while True:
        remaining = [
            t for t in to_probe if t.name not in progress.task_status and t.name not in crashed
        ]
        job = {
            "homework": homework,
            "cells": intake.cells,
            "skip_cells": skip_cells,
            "tasks": [{"name": t.name, "seeds": sorted(inputs[t.name])} for t in remaining],
            "task_seconds": task_seconds,
        }
        (io / "job.json").write_text(json.dumps(job), encoding="utf-8")
        (io / "progress.log").unlink(missing_ok=True)
        watchdog = _Watchdog(io / "progress.log", cell_seconds, task_seconds)
        result = sandbox.run(io, ["python", "-m", "autograder.probe"], watchdog=watchdog)
        grade.runs += 1
        grade.seconds += result.seconds
        this_run = _read_progress(io / "progress.log")
        progress.cell_errors.update(this_run.cell_errors)
        progress.task_status.update(this_run.task_status)
        if this_run.ended or not remaining:
            break
        how = (
            result.stopped
            if result.stopped
            else f"the wall clock ({sandbox.limits.wall_seconds:g} s)"
            if result.timed_out
            else f"signal {result.signal}"
            if result.signal
            else f"exit status {result.returncode}"
        )
        if this_run.died_in is None:  # died before the first cell: nothing to skip, give up
            for t in remaining:
                crashed[t.name] = f"the notebook could not be run ({how})"
            last = result.stderr.strip().splitlines()[-1:] or ["no output"]
            grade.review.append(f"the sandboxed run ended before any cell ({how}): {last[0][:200]}")
            break
        kind, name = this_run.died_in
        if kind == "cell":
            skip_cells.append(name)
            crashed[name] = f"running this answer cell ended the notebook's process ({how})"
            grade.review.append(f"{name}: its cell ended the process ({how})")
        else:
            crashed[name] = f"checking it ended the notebook's process ({how})"
            grade.review.append(f"{name}: checking it ended the process ({how})")

    for task in tasks:
        grade.tasks[task.name] = _judge_task(
            task, checks, inputs[task.name], io, intake, progress, crashed, task_seconds
        )
    return grade


def _judge_task(task, checks, inputs, io, intake, progress, crashed, task_seconds) -> TaskGrade:
    name = task.name

    def zero(message: str) -> TaskGrade:
        return TaskGrade(name, 0, task.points, f"{name}: {message}")

    if name in intake.missing:
        return zero("the answer cell is missing from the submission")
    if name in intake.flagged:
        return zero(
            "the answer uses " + "; ".join(intake.flagged[name]) + " (0 points; for review)"
        )
    if name in crashed:
        return zero(crashed[name])
    status = progress.task_status.get(name)
    if name in progress.cell_errors and status != "done":
        return zero(f"the answer cell raised {progress.cell_errors[name]}")
    if status == "missing":
        return zero(f"{name} is not defined after running the answer cells")
    if status == "timeout":
        return zero(f"took longer than {task_seconds:g} s")
    if status != "done":
        return zero(f"was not checked ({status or 'the run stopped'})")
    check = checks.CHECKS[name]
    for seed, arrays in inputs.items():
        outputs = _load_outputs(io / "outputs" / name / f"{seed}.npz")
        if isinstance(outputs, str):
            return zero(outputs)
        verdict = check.run_judge(arrays, outputs)
        if not verdict.passed:
            return zero(verdict.message)
    return TaskGrade(name, task.points, task.points, "ok")
