"""Grade many submissions at once, and pick up where a stopped batch left off.

    grade_batch(course, "hw1_linear_regression", workers=2)

nbgrader autogrades one student after another in one process (its issue #174). Here the students
still to grade are dealt round-robin to ``workers`` worker processes (default: one per core); each
runs nbgrader's own ``autograde`` in-process (paying nbgrader's start-up once, not per student) with
its own sandbox uid, so no two submissions share a user. SQLite takes the workers' short writes one
after another.

**Resumable**: after a submission is graded, ``autograded/<student>/<assignment>/dlhw.json`` records
the hash of the submitted notebook and the full result (every task's message, the review list). A
student whose record matches the current submission is not graded again; stopping a batch (Ctrl-C,
a crash, a reboot) and starting it again grades only what is missing or changed. Grading is
deterministic (seeded inputs, verdicts in the grader), so a parallel batch gives the grades a
one-by-one run gives.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course
from .nbgrader_plugin import RECORD, RESULTS, submission_hash, write_record

__all__ = ["BatchResult", "grade_batch", "pending", "progress_bar", "read_records"]

FIRST_UID = 60001


def _record_path(course: Course, student: str, assignment: str) -> Path:
    return course.folder("autograded", student, assignment, RECORD)


def _submitted(course: Course, student: str, assignment: str) -> Path:
    return course.folder("submitted", student, assignment, f"{assignment}.ipynb")


def pending(course: Course, assignment: str) -> list[str]:
    """Students whose submission has no up-to-date result yet."""
    todo = []
    for student in course.students(assignment):
        record = _record_path(course, student, assignment)
        try:
            done = json.loads(record.read_text(encoding="utf-8"))["hash"]
        except (OSError, ValueError, KeyError):
            done = None
        if done != submission_hash(_submitted(course, student, assignment)):
            todo.append(student)
    return todo


def read_records(course: Course, assignment: str) -> dict[str, dict]:
    """``{student: record}`` of every graded submission of ``assignment``."""
    records = {}
    for student in course.students(assignment):
        path = _record_path(course, student, assignment)
        if path.is_file():
            records[student] = json.loads(path.read_text(encoding="utf-8"))
    return records


@dataclass
class BatchResult:
    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> why nbgrader failed
    skipped: list[str] = field(default_factory=list)  # up to date already
    seconds: float = 0.0


def grade_batch(
    course: Course,
    assignment: str,
    *,
    workers: int | None = None,
    progress=None,
) -> BatchResult:
    """Grade every pending submission of ``assignment`` with ``workers`` processes.

    ``progress(done, total, student, status, detail)`` is called as each submission finishes
    (status ``ok`` with detail ``score/max``, or ``failed`` with the reason); the CLI draws a bar.
    """
    start = time.monotonic()
    students = pending(course, assignment)
    result = BatchResult(skipped=sorted(set(course.students(assignment)) - set(students)))
    if not students:
        return result
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    chunks = [students[i::workers] for i in range(workers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "autograder.batch", str(course.root), assignment, *chunk],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "DLHW_SANDBOX_UID": str(FIRST_UID + i)},
        )
        for i, chunk in enumerate(chunks)
    ]
    done = 0
    try:
        with selectors.DefaultSelector() as selector:
            for process in processes:
                selector.register(process.stdout, selectors.EVENT_READ)
            while selector.get_map():
                for key, _ in selector.select():
                    line = key.fileobj.readline()
                    if not line:  # that worker is finished
                        selector.unregister(key.fileobj)
                        continue
                    status, student, *rest = [*line.rstrip("\n").split("\t"), ""]
                    if status not in ("ok", "failed"):
                        continue  # anything else a worker printed is not a result
                    rest = [r for r in rest if r]
                    done += 1
                    if status == "ok":
                        result.graded.append(student)
                    else:
                        result.failed[student] = rest[0] if rest else "failed"
                    if progress is not None:
                        progress(done, len(students), student, status, rest[0] if rest else "")
        for process in processes:
            process.wait()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for student in students:
        if student not in result.graded and student not in result.failed:
            result.failed[student] = "its worker stopped before grading it"
    result.graded.sort()
    result.seconds = time.monotonic() - start
    return result


def progress_bar(done: int, total: int, student: str, status: str, detail: str) -> None:
    """A ``progress`` for :func:`grade_batch` that draws a bar (one line per update off a terminal)."""
    width = 30
    filled = width * done // total
    line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {student}: "
    line += detail if status == "ok" else f"FAILED ({detail})"
    end = "\n" if done == total or not sys.stdout.isatty() else "\r"
    print(f"{line:<100}", end=end, flush=True)


def _worker(root: Path, assignment: str, students: list[str]) -> int:
    """Grade ``students`` one after another with nbgrader's API; one line per student on stdout."""
    course = Course(root)
    api = course.api()
    for student in students:
        submitted = _submitted(course, student, assignment)
        digest = submission_hash(submitted)
        RESULTS.pop((assignment, student), None)
        try:
            outcome = api.autograde(assignment, student, force=True, create=True)
        except Exception as err:  # nbgrader raising is a failure of this student only
            outcome = {"success": False, "error": f"{type(err).__name__}: {err}"}
        record = RESULTS.get((assignment, student))
        if not outcome.get("success") or record is None:
            why = str(outcome.get("error") or outcome.get("log") or "nbgrader failed")
            why = why.strip().splitlines()[-1][:300] if why.strip() else "nbgrader failed"
            print("failed", student, why, sep="\t", flush=True)
            continue
        record["hash"] = digest
        write_record(_record_path(course, student, assignment), record)
        print("ok", student, f"{record['score']:g}/{record['max_score']:g}", sep="\t", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1]), sys.argv[2], sys.argv[3:]))
