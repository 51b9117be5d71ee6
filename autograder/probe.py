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
cell that raises is recorded and the next one runs. Each task's probes get ``task_seconds`` of wall
clock (an alarm inside; the hard limits are the sandbox's). Nothing here judges: the expected values
never enter this process. This module imports only ``autograder.checks`` (no ``solutions``).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np

__all__ = ["main"]


class TaskTimeout(BaseException):
    """Raised by the alarm: a BaseException, so that ``except Exception`` in student code lets it by."""


def _on_alarm(signum, frame):
    raise TaskTimeout()


class Progress:
    def __init__(self, path: Path):
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, *words: str) -> None:
        self.file.write(" ".join(words).replace("\n", " ") + "\n")
        self.file.flush()


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
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


def _run_cells(shell, job: dict, progress: Progress) -> None:
    skip = set(job.get("skip_cells", ()))
    for cell in job["cells"]:
        grade_id = cell["grade_id"]
        if grade_id in skip:
            progress("cell", grade_id, "skipped")
            continue
        progress("cell", grade_id, "start")
        result = shell.run_cell(cell["source"], store_history=True, silent=False)
        _reap_strays()
        error = result.error_before_exec or result.error_in_exec
        if error is None:
            progress("cell", grade_id, "ok")
        else:
            message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            progress("cell", grade_id, "error", message[:300])


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _probe_task(checks, task: dict, shell, io: Path, progress: Progress, seconds: float) -> None:
    name = task["name"]
    progress("task", name, "start")
    out_dir = io / "outputs" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    student = shell.user_ns.get(name)
    if student is None:
        progress("task", name, "missing")
        return
    check = checks.CHECKS[name]
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for seed in task["seeds"]:
            inputs = _load(io / "inputs" / name / f"{seed}.npz")
            outputs = check.run_apply(student, inputs)
            np.savez(out_dir / f"{seed}.npz", **outputs)
    except TaskTimeout:
        progress("task", name, "timeout")
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _reap_strays()
    progress("task", name, "done")


def main() -> int:
    io = Path.cwd()
    job = json.loads((io / "job.json").read_text(encoding="utf-8"))
    progress = Progress(io / "progress.log")
    checks = importlib.import_module(f"autograder.checks.{job['homework']}")
    shell = _shell()
    _run_cells(shell, job, progress)
    for task in job["tasks"]:
        try:
            _probe_task(checks, task, shell, io, progress, float(job.get("task_seconds", 60)))
        except Exception:  # a probe must never stop the others; the grader sees no outputs
            progress("task", task["name"], "crashed", traceback.format_exc(limit=1)[-300:])
    progress("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
