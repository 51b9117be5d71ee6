"""Grade one submission: intake, the sandboxed run, and verdicts made in this (trusted) process.

    grade_submission(path, "hw1", sandbox, work_dir) -> SubmissionGrade

1. **Intake** (:mod:`autograder.intake`): the notebook is rebuilt from the instructor's source, taking
   only the student's answer cells; answer cells are scanned, and a flagged one scores 0.
2. **Inputs**: every check's ``make_inputs(seed)`` runs here and is written as ``.npz`` (no pickle).
3. **The run**: ``python -m autograder.probe`` in the sandbox (:mod:`autograder.sandbox`) runs the
   cells and applies each task's function to the inputs, writing plain arrays back. The job and the
   inputs are bound read-only; each run gets a fresh, capped I/O folder that the grader only reads
   (:mod:`autograder.hostile`: no links followed, regular files only, sizes checked before anything
   is decompressed) and then removes. If the process dies (``os._exit``, a signal, the wall clock),
   ``progress.log`` — read in the job's own order, so forged lines cannot send it back — says
   where: the cell or task it died in is recorded, skipped, and the run starts again for the tasks
   left, so a crash costs only the task (or the answer cell) that caused it. A submission has a
   time budget and a bounded number of runs, whatever it does.
4. **Verdicts**: outputs are read without pickle, checked for plain numeric/text arrays, and judged
   here, against the reference solutions, which the sandbox never sees. Text that came from the
   sandbox is bounded and never quotes the grader's hidden files (:func:`~autograder.hostile.student_text`).

Points are all or nothing per task (a test cell in nbgrader is too); the message is the first problem
found, in the words of the check, and never shows the hidden inputs or code.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
import numpy as np

from . import registry
from .build import load_spec
from .cells import Spec, Task
from .hostile import Unreadable, load_npz, read_file, student_text
from .i18n import translate_message
from .intake import Intake, SubmissionError, read_submission
from .probe import LOCKDOWN_FAILED  # the probe's exit status when its setup fails, before any cell
from .sandbox import Sandbox

__all__ = ["NotGraded", "SubmissionGrade", "TaskGrade", "grade_submission"]

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
    seconds: float = 0.0  # the runs' wall clock, as the grader measured it
    compute_seconds: float = 0.0  # in the student's cells and the probes, as the probe measured it
    timings: dict[str, float] = field(default_factory=dict)  # intake, inputs, runs, judging (s)

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tasks.values())

    @property
    def max_score(self) -> int:
        return sum(t.max_points for t in self.tasks.values())


def _tasks(spec: Spec) -> list[Task]:
    return [cell for cell in spec.cells if isinstance(cell, Task)]


def _source_notebook(spec: Spec, lang: str = "en"):
    return read_submission(registry.find(spec.assignment).edition_notebook(lang))


# ---------------------------------------------------------------------------------------------------
# The run and its progress log
# ---------------------------------------------------------------------------------------------------

MAX_PROGRESS_BYTES = 1024 * 1024  # the progress log: a few lines per cell and task
NO_OUTPUT = Unreadable("no output")


@dataclass
class _Progress:
    """What one run's ``progress.log`` says, read against the job's own order of items.

    The probe writes ``cell ID start`` / ``cell ID ok|error …|skipped`` for each cell of the job in
    order, then ``task NAME start`` / ``task NAME done|missing|timeout|crashed …`` for each task, then
    ``end SECONDS`` (the time spent in cells and probes). Student code runs in the same process and
    can write lines too, so a line is taken only when it is the next one the job allows; the first
    that is not (a forged or repeated item) ends the reading (``tampered``). Forging can thus only
    move the log forward through the student's own items, never back, and never beyond the job.
    """

    cell_errors: dict[str, str] = field(default_factory=dict)
    task_status: dict[str, str] = field(default_factory=dict)  # done, missing, timeout, crashed
    died_in: tuple[str, str] | None = None  # ("cell" | "task", name) where the process ended
    ended: bool = False
    tampered: bool = False
    accepted: int = 0  # lines taken: 0 means no cell had started
    compute_seconds: float = 0.0  # what ``end`` says cells and probes took (statistics only)


def _items(job: dict) -> list[tuple[str, str]]:
    return [("cell", c["grade_id"]) for c in job["cells"]] + [
        ("task", t["name"]) for t in job["tasks"]
    ]


def _parse_progress(text: str, job: dict) -> _Progress:
    progress = _Progress()
    items, skip = _items(job), set(job.get("skip_cells", ()))
    position, started = 0, False
    for line in text.splitlines():
        words = line.split(" ", 3)
        if words[0] == "end" and len(words) <= 2 and position == len(items) and not started:
            progress.ended = True
            progress.compute_seconds = _seconds(words[1] if len(words) == 2 else "")
            break
        if len(words) < 3 or position >= len(items) or (words[0], words[1]) != items[position]:
            progress.tampered = True
            break
        kind, name, status = words[0], words[1], words[2]
        progress.accepted += 1
        if not started:
            if status == "start" and name not in skip:
                started = True
                continue
            if status == "skipped" and kind == "cell" and name in skip:
                position += 1
                continue
            progress.tampered = True
            break
        if status == "start" or (kind == "cell" and status not in ("ok", "error")):
            progress.tampered = True
            break
        if kind == "cell" and status == "error":
            progress.cell_errors[name] = student_text(words[3] if len(words) > 3 else "an error")
        elif kind == "task":
            if status not in ("done", "missing", "timeout", "crashed", "forbidden"):
                progress.tampered = True
                break
            progress.task_status[name] = status
        position, started = position + 1, False
    if started:
        progress.died_in = items[position]
    return progress


def _seconds(word: str) -> float:
    """A duration the probe reported (never a grade's input: a forged one skews a statistic only)."""
    try:
        value = float(word[:32])
    except ValueError:
        return 0.0
    return value if 0.0 <= value < 1e6 else 0.0


def _read_progress(io: Path, job: dict) -> _Progress:
    data = read_file(io, "progress.log", MAX_PROGRESS_BYTES)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    return _parse_progress(text, job)


class _Watchdog:
    """Polled by the sandbox while it runs: a reason to stop when a cell or a task runs too long.

    The clock is the grader's own: an item's time counts from when the watchdog first saw it start
    in the progress log (read safely, in the job's order), never from the file's times, which the
    student's code could keep touching. A forged line can only start a later item of the student's
    own, so the whole run stays bounded by the sum of its items' limits and by the wall clock.
    """

    def __init__(self, io: Path, job: dict, cell_seconds: float, task_seconds: float):
        self.io, self.job = io, job
        self.cell_seconds, self.task_seconds = cell_seconds, task_seconds
        self.current: tuple[str, str] | None = None
        self.since = time.monotonic()

    def __call__(self) -> str | None:
        progress = _read_progress(self.io, self.job)
        now = time.monotonic()
        if progress.died_in != self.current:
            self.current, self.since = progress.died_in, now
        if self.current is None:
            return None
        kind = self.current[0]
        limit = self.cell_seconds if kind == "cell" else self.task_seconds + 5
        if now - self.since > limit:
            return f"the {limit:g} s limit of one {kind}"
        return None


def _write_inputs(folder: Path, checks, tasks: list[Task], seeds) -> dict[str, dict]:
    """Every task's probe inputs, made here and written as ``.npz`` into the grader's own folder
    (bound read-only into the sandbox)."""
    inputs = {}
    for task in tasks:
        check = checks.CHECKS[task.name]
        (folder / task.name).mkdir(parents=True, exist_ok=True)
        inputs[task.name] = {}
        for seed in check.seeds if seeds is None else seeds:
            arrays = check.make_inputs(seed)
            np.savez(folder / task.name / f"{seed}.npz", **arrays)
            inputs[task.name][seed] = arrays
    return inputs


def _load_outputs(io: Path, task: str, seed: int) -> dict[str, np.ndarray] | Unreadable:
    """The arrays the probe wrote for one probe of ``task``, or why they cannot be used."""
    data = read_file(io, f"outputs/{task}/{seed}.npz", MAX_OUTPUT_BYTES)
    if isinstance(data, Unreadable):
        return NO_OUTPUT if data.endswith(": missing") else Unreadable(f"the output {data}")
    return load_npz(data)


# ---------------------------------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------------------------------


class NotGraded(RuntimeError):
    """The grader itself failed (the sandbox could not start, a lease or mount was lost, …): no
    grade is recorded, the reason is, and the next run grades the submission again."""


def grade_submission(
    path: Path | nbformat.NotebookNode,
    homework: str,
    sandbox: Sandbox,
    work_dir: Path,
    *,
    seeds=None,
    task_seconds: float = 60.0,
    cell_seconds: float = 30.0,
    submission_seconds: float | None = None,
    scan: bool = True,
    lang: str = "en",
) -> SubmissionGrade:
    """Grade the notebook at ``path`` (or a notebook already read) for ``homework`` (``"hw1"`` …);
    ``work_dir`` is the grader's scratch space (emptied first).

    ``seeds``: the probe seeds of every task (default: each check's own). A cell that runs longer
    than ``cell_seconds``, or a task's probes longer than ``task_seconds``, is stopped from outside
    (the run is killed and started again without it). All runs of one submission together get
    ``submission_seconds`` (default: twice the sandbox's wall clock) and at most two runs per cell
    and task plus one: no submission holds a worker longer. A run ended by a SIGKILL that neither
    the clocks nor the OOM killer sent (someone outside) is run again once before the item it
    died in is charged. ``scan=False`` skips the intake scan of
    the answer cells: the tests use it to show that the sandbox alone holds. ``lang``: the
    language of the tasks' messages (the course's edition, :func:`autograder.i18n.translate_message`;
    the review list, for the instructor, stays in English).

    Raises :class:`NotGraded` when the grader, not the submission, failed twice in a row.
    """
    clock = time.perf_counter()
    spec = load_spec(homework)
    checks = registry.find(homework).module("checks")
    tasks = _tasks(spec)
    grade = SubmissionGrade(homework=homework)

    def lap(name: str) -> None:  # where the grader's own time goes (a statistic, for benchmarks)
        nonlocal clock
        now = time.perf_counter()
        grade.timings[name] = grade.timings.get(name, 0.0) + now - clock
        clock = now

    try:
        submitted = read_submission(path) if isinstance(path, (str, Path)) else path
    except SubmissionError as err:
        grade.error = str(err)
        grade.tasks = {t.name: TaskGrade(t.name, 0, t.points, str(err)) for t in tasks}
        return grade

    rules = {t.name: checks.CHECKS[t.name].forbid for t in tasks}
    source_nb = _source_notebook(spec, lang)
    intake = Intake.rebuild(source_nb, submitted, rules if scan else None)
    if not scan:
        intake.flagged.clear()
        intake.forbidden.clear()
    for grade_id, reasons in intake.flagged.items():
        grade.review.append(f"{grade_id}: " + "; ".join(reasons))
    grade.review.extend(getattr(intake, "notes", []))
    lap("intake")

    work = Path(work_dir)
    if work.exists():
        sandbox.clean(work)
    (work / "inputs").mkdir(parents=True)
    inputs = _write_inputs(work / "inputs", checks, tasks, seeds)
    lap("inputs")
    budget = 2 * sandbox.limits.wall_seconds if submission_seconds is None else submission_seconds
    run = _Runner(grade, homework, sandbox, work, inputs, source_nb, task_seconds, cell_seconds)
    to_probe = [t for t in tasks if t.name not in intake.missing and t.name not in intake.flagged]
    outputs = run.twice(intake.cells, to_probe, budget, first=True)
    lap("runs")
    for task in tasks:
        grade.tasks[task.name] = _judge_task(
            task, checks, inputs[task.name], outputs, intake, task_seconds
        )
        if _refused(outputs.arrays.get(task.name, {})):
            grade.review.append(grade.tasks[task.name].message)  # refused at run time
    lap("judging")
    _spare_callers(grade, checks, tasks, intake, outputs, run, budget)
    lap("runs")  # the runs that spared a forbidden use's callers, if any
    if lang != "en":
        for name, task in grade.tasks.items():
            if not task.passed:
                grade.tasks[name] = replace(task, message=translate_message(task.message, lang))
    return grade


# ---------------------------------------------------------------------------------------------------
# A forbidden use costs its own task only
# ---------------------------------------------------------------------------------------------------


REFUSAL_KEYS = ("forbidden", "forbidden_in", "watch.autograd")  # what a forbidden use adds


def _refused(arrays: dict, check=None) -> bool:
    """Whether a task's outputs show a forbidden use: a refusal by the lockdown, or (where
    ``check``'s rules forbid autograd) autograd seen by the probes' watch."""
    watched = check is not None and any(rule.watch_autograd for rule in check.forbid)
    return any(
        isinstance(out, dict) and ("forbidden" in out or (watched and "watch.autograd" in out))
        for out in arrays.values()
    )


def _unwatched(outputs: _Outputs) -> _Outputs:
    """``outputs`` without what a forbidden use adds: the values alone, as a run that forbids
    nothing sees them."""
    for arrays in outputs.arrays.values():
        for seed, out in arrays.items():
            if isinstance(out, dict):
                arrays[seed] = {k: v for k, v in out.items() if k not in REFUSAL_KEYS}
    return outputs


def _cells_refused_in(arrays: dict, names: set[str]) -> list[str]:
    """The answer cells (task names) that the probe says made a refused call, innermost first."""
    found: list[str] = []
    for out in arrays.values():
        if not isinstance(out, dict) or "forbidden_in" not in out:
            continue
        where = out["forbidden_in"]
        if where.dtype.kind != "U" or where.ndim != 1:
            continue
        innermost = next((cell for cell in where[:8].tolist() if cell in names), None)
        if innermost is not None and innermost not in found:  # the one that made the call
            found.append(innermost)
    return found


def _offenders(tasks: list[Task], checks, intake: Intake, outputs: _Outputs) -> list[str]:
    """The tasks whose own answer cell used what the homework forbids, in notebook order: found by
    the intake's scan, or refused at run time in a cell of theirs (a task refused without a cell
    named counts as its own offender)."""
    names = {t.name for t in tasks}
    found = set(intake.forbidden) & names
    for task in tasks:
        arrays = outputs.arrays.get(task.name, {})
        if _refused(arrays, checks.CHECKS[task.name]):
            found.update(_cells_refused_in(arrays, names) or [task.name])
    return [t.name for t in tasks if t.name in found]


def _spare_callers(grade, checks, tasks, intake, outputs, run, budget) -> None:
    """Give back the points a forbidden use cost the tasks that only *call* the offending answer.

    A task whose own cell used what the homework forbids scores 0 (the scan's message, or the
    refusal's). A task that merely calls it (``MLPRegressor`` calling a ``Linear.backward`` that
    used autograd) failed only because the lockdown refused the call in that other cell. Such a
    task is checked again, with the reference's answer cell run right after each offending one:

    1. an offender is replaced only if its own answer is *right*, judged by its check in a run
       without the lockdown (where the forbidden call works): a wrong answer plus a forbidden call
       must not buy its callers the reference's code;
    2. the failed tasks, and only them, run again with those offenders replaced; a task that now
       passes gets its points, one that still fails keeps its first verdict and message (nothing
       of the second run, which holds the reference's code, reaches the student but a pass).

    Which cell made a refused call is the probe's word, from hostile ground: believing it can
    only zero the cell it names, and replacing a right answer by the reference changes no value
    a caller sees. A cell named by a refusal but passing its own probe is zeroed here.
    """
    offenders = _offenders(tasks, checks, intake, outputs)
    if not offenders:
        return
    by_name = {t.name: t for t in tasks}
    for name in offenders:
        if grade.tasks[name].points and name not in intake.forbidden:
            grade.tasks[name] = TaskGrade(name, 0, by_name[name].points, _CALLED_FORBIDDEN(name))
            grade.review.append(grade.tasks[name].message)
    failed = [
        t
        for t in tasks
        if t.name not in offenders
        and not grade.tasks[t.name].passed
        and t.name not in intake.missing
        and t.name not in intake.flagged
    ]
    if not failed:
        return
    alone = Intake(cells=intake.cells)  # no scan verdicts: the run only asks whether each is right
    unlocked = _unwatched(
        run.twice(intake.cells, [by_name[n] for n in offenders], budget / 2, locked=())
    )
    right = [
        name
        for name in offenders
        if _judge_task(
            by_name[name], checks, run.inputs[name], unlocked, alone, run.task_seconds
        ).passed
    ]
    if not right:
        return
    cells = _with_references(intake.cells, right, run.references())
    again = run.twice(cells, failed, budget / 2)
    for task in failed:
        verdict = _judge_task(task, checks, run.inputs[task.name], again, intake, run.task_seconds)
        if verdict.passed:
            if grade.tasks[task.name].message in grade.review:  # the refusal was not its own
                grade.review.remove(grade.tasks[task.name].message)
            grade.tasks[task.name] = verdict
            grade.review.append(
                f"{task.name}: checked with the reference's {', '.join(right)} in place of the "
                "submission's, whose forbidden use scored 0 there"
            )


def _CALLED_FORBIDDEN(name: str) -> str:
    return (
        f"{name}: used what this homework forbids, and it was refused at run time when another "
        "task called it; 0 points, for review"
    )


def _with_references(cells: list[dict], names: list[str], references: dict[str, str]) -> list[dict]:
    """``cells`` with the reference's answer cell run right after the last copy of each of
    ``names`` (the student's cell still runs first: what else it defines stays defined)."""
    last = {cell["grade_id"]: i for i, cell in enumerate(cells)}
    out: list[dict] = []
    for i, cell in enumerate(cells):
        out.append(cell)
        if cell["grade_id"] in names and last[cell["grade_id"]] == i:
            out.append(
                {
                    "grade_id": f"{cell['grade_id']}:reference",
                    "source": references[cell["grade_id"]],
                }
            )
    return out


@dataclass
class _Outputs:
    arrays: dict[str, dict[int, dict[str, np.ndarray] | str]] = field(default_factory=dict)
    crashed: dict[str, str] = field(default_factory=dict)  # a cell or task that ended the process
    progress: _Progress = field(default_factory=_Progress)


class _Runner:
    """Runs one submission's probe in the sandbox, as often as grading needs."""

    def __init__(
        self, grade, homework, sandbox, work, inputs, source_nb, task_seconds, cell_seconds
    ):
        self.grade, self.homework, self.sandbox, self.work = grade, homework, sandbox, work
        self.inputs, self.source_nb = inputs, source_nb
        self.task_seconds, self.cell_seconds = task_seconds, cell_seconds
        self.found = registry.find(homework)  # its probes module and what its lockdown takes away

    def twice(self, cells, to_probe, budget, *, locked=None, first=False) -> _Outputs:
        """:meth:`run`, once more if the grader itself failed; :class:`NotGraded` after two.

        ``first``: the submission's main run, whose counts and review lines the grade keeps; the
        later ones (:func:`_spare_callers`) add to the counts but keep their review lines apart."""
        review = self.grade.review if first else []
        for attempt in (1, 2):
            if first:
                self.grade.runs, self.grade.seconds = 0, 0.0
            try:
                return self.run(cells, to_probe, budget, locked, review)
            except (OSError, subprocess.SubprocessError, RuntimeError) as err:
                if attempt == 2:
                    raise NotGraded(
                        f"the grader failed twice ({type(err).__name__}: {err})"
                    ) from err
        raise AssertionError("unreachable")

    def references(self) -> dict[str, str]:
        """The instructor's answer cells (the reference's code), by grade_id."""
        found = {}
        for cell in self.source_nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution") and "grade_id" in meta:
                found[meta["grade_id"]] = cell.source
        return found

    def run(self, cells, to_probe, budget, locked, review) -> _Outputs:
        """Run the probe until every task of ``to_probe`` is checked, skipping what ended the
        process each time. ``locked``: the lockdown's families (default: the homework's)."""
        grade, homework, sandbox, work = self.grade, self.homework, self.sandbox, self.work
        inputs, task_seconds, cell_seconds = self.inputs, self.task_seconds, self.cell_seconds
        found = self.found
        locked = found.lockdown if locked is None else frozenset(locked)
        outputs = _Outputs()
        crashed, progress = outputs.crashed, outputs.progress
        skip_cells: list[str] = []
        killed_outside: set = set()  # items (None: before any) run again after an outside SIGKILL
        max_runs = 2 * (len(cells) + len(to_probe)) + 1
        deadline = time.monotonic() + budget
        while True:
            remaining = [
                t for t in to_probe if t.name not in progress.task_status and t.name not in crashed
            ]
            job = {
                "homework": homework,
                "probes": found.module_name("probes"),
                "lockdown": sorted(locked),
                "cells": cells,
                "skip_cells": skip_cells,
                "tasks": [{"name": t.name, "seeds": sorted(inputs[t.name])} for t in remaining],
                "task_seconds": task_seconds,
            }
            job_file = work / f"job-{grade.runs}.json"
            job_file.write_text(json.dumps(job), encoding="utf-8")
            io = work / f"io-{grade.runs}"
            left = deadline - time.monotonic()
            watchdog = _Watchdog(io, job, cell_seconds, task_seconds)
            try:
                result = sandbox.run(
                    io,
                    ["python", "-m", "autograder.probe"],
                    timeout=max(1.0, min(sandbox.limits.wall_seconds, left)),
                    watchdog=watchdog,
                    read_only={"job.json": job_file, "inputs": work / "inputs"},
                    locked=locked,
                )
                grade.runs += 1
                grade.seconds += result.seconds
                this_run = _read_progress(io, job)
                for name, status in this_run.task_status.items():
                    if status == "done":
                        outputs.arrays[name] = {
                            seed: _load_outputs(io, name, seed) for seed in inputs[name]
                        }
                        bad = {
                            o for o in outputs.arrays[name].values() if isinstance(o, Unreadable)
                        }
                        if bad - {NO_OUTPUT}:
                            why = "; ".join(sorted(bad - {NO_OUTPUT}))
                            review.append(f"{name}: its output was tampered with ({why})")
            finally:
                sandbox.clean(io)
            grade.compute_seconds += this_run.compute_seconds
            progress.cell_errors.update(this_run.cell_errors)
            progress.task_status.update(this_run.task_status)
            if this_run.ended or not remaining:
                break
            how = (
                result.stopped
                if result.stopped
                else f"the time limit of the submission ({budget:g} s)"
                if result.timed_out and time.monotonic() >= deadline - 1
                else f"the wall clock ({sandbox.limits.wall_seconds:g} s)"
                if result.timed_out
                else f"signal {result.signal}"
                if result.signal
                else f"exit status {result.returncode}"
            )
            if this_run.accepted == 0 and result.returncode == LOCKDOWN_FAILED:
                # before any student code ran: the grader's own failure, not the submission's
                raise RuntimeError("the sandbox's lockdown could not be set up")
            out_of_time = time.monotonic() >= deadline - 1 or grade.runs >= max_runs
            outside = (
                result.signal == "SIGKILL"
                and not (result.timed_out or result.stopped or result.oom_killed)
                and this_run.died_in not in killed_outside
            )
            if outside and not out_of_time:  # not the clocks, not memory: maybe not the student
                killed_outside.add(this_run.died_in)
                where = "before any cell" if this_run.died_in is None else this_run.died_in[1]
                review.append(f"{where}: the run was killed from outside (SIGKILL); run again")
                continue
            if this_run.died_in is None or out_of_time:
                # died outside any item (before the first cell, or after a forged line), or the
                # submission's budget is spent: nothing more to learn by running it again
                why = (
                    f"the notebook could not be run ({how})"
                    if not out_of_time
                    else f"not checked: the submission used up its time ({how})"
                )
                for t in remaining:
                    if t.name not in this_run.task_status:
                        crashed[t.name] = why
                if this_run.tampered:
                    review.append("the progress log was written by the submission (tampering)")
                last = student_text(result.stderr.strip().splitlines()[-1] if result.stderr else "")
                where = "before any cell" if this_run.died_in is None else "out of time"
                review.append(f"the sandboxed run ended {where} ({how}): {last or 'no output'}")
                break
            kind, name = this_run.died_in
            if kind == "cell":
                skip_cells.append(name)
                crashed[name] = f"running this answer cell ended the notebook's process ({how})"
                review.append(f"{name}: its cell ended the process ({how})")
            else:
                crashed[name] = f"checking it ended the notebook's process ({how})"
                review.append(f"{name}: checking it ended the process ({how})")
        return outputs


def _judge_task(task, checks, inputs, outputs: _Outputs, intake, task_seconds) -> TaskGrade:
    name = task.name

    def zero(message: str) -> TaskGrade:
        return TaskGrade(name, 0, task.points, f"{name}: {message}")

    if name in intake.missing:
        return zero("the answer cell is missing from the submission")
    if name in intake.forbidden:  # the notebook's visible tests give the same message
        return zero(intake.forbidden[name])
    if name in intake.flagged:
        return zero(
            "the answer uses " + "; ".join(intake.flagged[name]) + " (0 points; for review)"
        )
    crashed, progress = outputs.crashed, outputs.progress
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
        out = outputs.arrays.get(name, {}).get(seed, NO_OUTPUT)
        if isinstance(out, str):
            return zero(str(out))
        verdict = check.run_judge(arrays, out)
        if not verdict.passed:
            return zero(verdict.message)
    return TaskGrade(name, task.points, task.points, "ok")
