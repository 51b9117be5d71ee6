"""The part of grading that runs inside the sandbox: the student's cells, then the probes.

``python -m autograder.probe`` in the folder ``/io`` that the grader prepared:

- ``job.json``: ``{"homework": "hw1", "cells": [{"grade_id", "source"}], "tasks": [{"name", "seeds"}],
  "skip_cells": [...], "task_seconds": 60}``;
- ``inputs/<task>/<seed>.npz``: the inputs of each probe, made by the grader (plain arrays);

and writes

- ``progress.log``: one line as each cell and each task starts and ends, flushed at once, so that the
  grader knows where a submission died (``os._exit``, a signal, the wall clock);
- ``outputs/<task>/<seed>.npz``: what ``apply`` returned: plain arrays, saved without pickle.

The cells run in an IPython shell, as in a notebook (magics work, ``inspect`` finds the source); a
cell that raises is recorded (its exception reduced to a type and a bounded line,
:func:`autograder.probes.describe`) and the next one runs. Each task's probes get ``task_seconds`` of
wall clock (an alarm inside; the hard limits are the sandbox's). Nothing here judges: the expected
values never enter this process, and neither does the judging code. This module imports only the
probe side, ``autograder.probes`` (and it does so before the first cell runs, so that the numpy and
torch routines the probes rely on are bound before student code can patch them); the sandbox holds
exactly :data:`SANDBOX_FILES` of the grader, never ``autograder.checks``, the mutant catalogues, the
notebook specs or ``solutions``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

from . import probes as probes_lib
from .lockdown import LockdownError, checked, lock_down
from .probes import TaskTimeout, describe, load, run, save

__all__ = ["SANDBOX_FILES", "TaskTimeout", "main"]

# The grader's files the sandbox holds, relative to the ``autograder/`` folder: what
# ``python -m autograder.probe`` imports, and nothing else (``tests/test_probe_side.py`` runs the
# probe with only these files and checks that none holds judging code, mutants or solutions).
SANDBOX_FILES: tuple[str, ...] = (
    "__init__.py",
    "probe.py",
    "lockdown.py",
    "zygote.py",
    "probes/__init__.py",
    "homeworks/__init__.py",
)  # and each homework's probes.py (``autograder.sandbox.sandbox_files``, from the registry)


LOCKDOWN_FAILED = 70  # exit status (EX_SOFTWARE): the grader records "not graded", not a grade


def _on_alarm(signum, frame):
    raise TaskTimeout()


class Progress:
    def __init__(self, path: Path):
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, *words: str) -> None:
        self.file.write(" ".join(words).replace("\n", " ") + "\n")
        self.file.flush()


def _shell():
    """The IPython shell the cells run in (one per process: a warm sandbox's parent makes it before
    it forks, each run gets its own copy). Its history is kept in memory: no file, and no thread
    that saves one."""
    from IPython.core.interactiveshell import InteractiveShell

    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_cell("%matplotlib agg", store_history=False, silent=True)
    return shell


def _reap_strays() -> None:
    """Kill and reap every process a cell or task left behind (a fork bomb's children, a server).

    Inside the sandbox ``kill(-1)`` reaches only this uid's processes in this PID namespace, never
    the namespace's init; without it, a cell's children would hold the process limit and make the
    next cell fail ("can't start new thread"). Outside the sandbox (unprotected) it is skipped.
    """
    if os.environ.get("DLHW_SANDBOXED") != "1":
        return
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:  # children killed but not yet gone: wait a moment for them
            time.sleep(0.01)


KEEP = frozenset({"job.json", "inputs", "outputs", "progress.log"})  # /io's own entries


def _clear_strays(io: Path) -> None:
    """Remove whatever a cell or task left in ``/io`` besides the probe's own entries, so that one
    answer filling the (capped) I/O folder leaves room for the other tasks' outputs."""
    try:
        entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in os.scandir(io)]
    except OSError:
        return
    for name, is_dir in entries:
        if name in KEEP:
            continue
        try:
            if is_dir:
                _remove_tree(io, name)
            else:
                os.unlink(io / name)
        except OSError:
            pass


def _remove_tree(root: Path, name: str) -> None:
    """``rm -r root/name`` without recursion, file descriptors or long paths (a tree may be deeper
    than Python's recursion, the open-file limit and PATH_MAX): walk down by ``chdir``."""
    here = os.getcwd()
    os.chdir(root)
    names = [name]
    os.chdir(name)
    try:
        while names:
            child = None
            with os.scandir(".") as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = entry.name
                        break
                    os.unlink(entry.name)
            if child is not None:
                os.chdir(child)
                names.append(child)
                continue
            os.chdir("..")
            os.rmdir(names.pop())
    finally:
        os.chdir(here)


CELL_CODE = re.compile(r"<ipython-input-(\d+)-[0-9a-f]+>")  # IPython's name for a cell's code


class CellNames:
    """Which cell each code file on a stack is: IPython names a cell's code after its execution
    number (``<ipython-input-7-…>``), and :func:`_run_cells` notes each cell's number as it runs it."""

    def __init__(self):
        self.by_number: dict[int, str] = {}

    def __call__(self, files: tuple[str, ...]) -> list[str]:
        """The cells among ``files`` (a stack, innermost first), innermost first, each once."""
        found: list[str] = []
        for name in files:
            match = CELL_CODE.fullmatch(name)
            cell = self.by_number.get(int(match[1])) if match else None
            if cell is not None and cell not in found:
                found.append(cell)
        return found


def _run_cells(shell, job: dict, progress: Progress, names: CellNames) -> None:
    skip = set(job.get("skip_cells", ()))
    for cell in job["cells"]:
        grade_id = cell["grade_id"]
        if grade_id in skip:
            progress("cell", grade_id, "skipped")
            continue
        progress("cell", grade_id, "start")
        names.by_number[shell.execution_count] = grade_id
        result = shell.run_cell(cell["source"], store_history=True, silent=False)
        _reap_strays()
        _clear_strays(Path(os.environ.get("IO_DIR", ".")))
        error = result.error_before_exec or result.error_in_exec
        if error is None:
            progress("cell", grade_id, "ok")
        else:
            progress("cell", grade_id, "error", describe(error))


def _probe_task(
    probes, task: dict, shell, io: Path, progress: Progress, seconds: float, names: CellNames
) -> None:
    name = task["name"]
    progress("task", name, "start")
    out_dir = io / "outputs" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    student = shell.user_ns.get(name)
    if student is None:
        progress("task", name, "missing")
        return
    apply = probes.PROBES[name]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for seed in task["seeds"]:
            inputs = load(io / "inputs" / name / f"{seed}.npz")
            save(out_dir / f"{seed}.npz", checked(run, apply, student, inputs, cells=names))
    except TaskTimeout:
        progress("task", name, "timeout")
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _reap_strays()
        _clear_strays(io)
    progress("task", name, "done")


def main() -> int:
    io = Path.cwd()
    job = json.loads((io / "job.json").read_text(encoding="utf-8"))
    progress = Progress(io / "progress.log")
    probes = importlib.import_module(job["probes"])  # the homework's probes, before any cell
    shell = _shell()
    try:
        lock_down(job.get("lockdown", ()))  # what the homework forbids, gone for good
    except LockdownError as err:  # no answer runs without it; the grader's failure, not theirs
        print(f"the lockdown could not be set up: {err}", file=sys.stderr)
        return LOCKDOWN_FAILED
    start = time.perf_counter()  # the student's own compute: cells and probes (for statistics)
    names = CellNames()
    probes_lib.cells_of = names  # the probes' autograd watch names the cell that used it
    _run_cells(shell, job, progress, names)
    for task in job["tasks"]:
        try:
            seconds = float(job.get("task_seconds", 60))
            _probe_task(probes, task, shell, io, progress, seconds, names)
        except Exception as err:  # a probe must never stop the others; the grader sees no outputs
            progress("task", task["name"], "crashed", describe(err))
    progress("end", f"{time.perf_counter() - start:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
