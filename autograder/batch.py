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
one-by-one run gives. ``force``, ``students`` and ``task`` regrade on purpose.

**A failure of the grader is not a grade.** When the grader itself fails on a submission (the
sandbox could not start, nbgrader raised), the record says *not graded* with the reason and keeps no
hash, so the table shows it as such and the next run grades it again.

**One batch per assignment at a time, and none outliving its grader.** A batch holds an exclusive
lock on ``autograded/.grading-<assignment>.lock``, and so do its workers (they inherit it): a second
``grade`` of the same assignment waits for it (a dying batch's workers included) or says who holds
it. Each worker is killed by the kernel when the batch process dies (``PR_SET_PDEATHSIG``), however
it dies, and its sandboxes die with it (bubblewrap's ``--die-with-parent``).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course
from .nbgrader_plugin import RECORD, RESULTS, submission_hash, write_record

__all__ = [
    "BatchBusy",
    "BatchResult",
    "grade_batch",
    "not_graded",
    "pending",
    "progress_bar",
    "read_records",
]

FIRST_UID = 60001
PR_SET_PDEATHSIG = 1


class BatchBusy(RuntimeError):
    """Another batch of the same assignment is running on this course."""


def _record_path(course: Course, student: str, assignment: str) -> Path:
    return course.folder("autograded", student, assignment, RECORD)


def _submitted(course: Course, student: str, assignment: str) -> Path:
    return course.folder("submitted", student, assignment, f"{assignment}.ipynb")


def pending(course: Course, assignment: str) -> list[str]:
    """Students whose submission has no up-to-date result yet (a *not graded* record is not one)."""
    todo = []
    for student in course.students(assignment):
        record = _record_path(course, student, assignment)
        try:
            done = json.loads(record.read_text(encoding="utf-8"))["hash"]
        except (OSError, ValueError, KeyError, TypeError):
            done = None
        try:
            digest = submission_hash(_submitted(course, student, assignment))
        except OSError:
            digest = "unreadable"
        if done is None or done != digest:
            todo.append(student)
    return todo


def read_records(course: Course, assignment: str) -> dict[str, dict]:
    """``{student: record}`` of every graded submission of ``assignment`` (not-graded ones have
    ``"status": "not graded"`` and a ``"reason"``)."""
    records = {}
    for student in course.students(assignment):
        path = _record_path(course, student, assignment)
        if path.is_file():
            try:
                records[student] = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue  # a record cut short: that student is pending again
    return records


def not_graded(course: Course, assignments: list[str]) -> dict[str, dict[str, str]]:
    """``{assignment: {student: reason}}`` of the submissions the grader failed on (to show as such)."""
    found = {}
    for assignment in assignments:
        failed = {
            student: record.get("reason", "")
            for student, record in read_records(course, assignment).items()
            if record.get("status") == "not graded"
        }
        if failed:
            found[assignment] = failed
    return found


def _lock(course: Course, assignment: str, wait: float) -> int:
    """Hold this assignment's batch lock (waiting up to ``wait`` s for a dying batch); its fd."""
    path = course.folder("autograded", f".grading-{assignment}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise BatchBusy(
                    f"{assignment} is being graded on this course already (by {holder}); "
                    "wait for it to finish, or stop it first"
                ) from None
            time.sleep(0.2)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
    return fd


def _die_with_parent() -> None:
    """In a worker, between fork and exec: the kernel kills it when the batch process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


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
    force: bool = False,
    students: list[str] | None = None,
    wait: float = 30.0,
) -> BatchResult:
    """Grade every pending submission of ``assignment`` with ``workers`` processes.

    ``force`` regrades up-to-date submissions too; ``students`` limits the batch to those (each
    regraded, up to date or not). ``progress(done, total, student, status, detail)`` is called as
    each submission finishes (status ``ok`` with detail ``score/max``, or ``failed`` with the
    reason); the CLI draws a bar. Raises :class:`BatchBusy` when another batch of this assignment
    holds the course's lock for longer than ``wait`` seconds.
    """
    start = time.monotonic()
    everyone = course.students(assignment)
    if students is not None:
        unknown = sorted(set(students) - set(everyone))
        if unknown:
            raise ValueError(f"no submission of {assignment} from: {', '.join(unknown)}")
        todo = sorted(set(students))
    else:
        todo = everyone if force else pending(course, assignment)
    result = BatchResult(skipped=sorted(set(everyone) - set(todo)))
    if not todo:
        return result
    lock = _lock(course, assignment, wait)
    try:
        _run_workers(course, assignment, todo, workers, progress, result, lock)
    finally:
        os.close(lock)
    result.graded.sort()
    result.seconds = time.monotonic() - start
    return result


def _run_workers(course, assignment, students, workers, progress, result, lock) -> None:
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    chunks = [students[i::workers] for i in range(workers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "autograder.batch", str(course.root), assignment, *chunk],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "DLHW_SANDBOX_UID": str(FIRST_UID + i)},
            pass_fds=(lock,),  # the workers hold the batch lock too, until the last one is gone
            preexec_fn=_die_with_parent,
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
            process.wait()
    for student in students:
        if student not in result.graded and student not in result.failed:
            result.failed[student] = "its worker stopped before grading it"


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
        try:
            digest = submission_hash(submitted)
        except OSError as err:
            print("failed", student, f"the submission cannot be read ({err.strerror})", sep="\t")
            continue
        RESULTS.pop((assignment, student), None)
        try:
            outcome = api.autograde(assignment, student, force=True, create=True)
        except Exception as err:  # nbgrader raising is a failure of this student only
            outcome = {"success": False, "error": f"{type(err).__name__}: {err}"}
        record = RESULTS.get((assignment, student))
        if not outcome.get("success") or record is None or record.get("status") == "not graded":
            why = (record or {}).get("reason") or _last_line(
                str(outcome.get("error") or outcome.get("log") or "")
            )
            write_record(
                _record_path(course, student, assignment),
                {
                    "assignment": assignment,
                    "student": student,
                    "status": "not graded",
                    "reason": why,
                    "hash": None,  # pending again: the next run grades it
                    "tasks": {},
                    "review": [f"not graded: {why}"],
                    "score": 0,
                    "max_score": 0,
                },
            )
            print("failed", student, why, sep="\t", flush=True)
            continue
        record["hash"] = digest
        write_record(_record_path(course, student, assignment), record)
        print("ok", student, f"{record['score']:g}/{record['max_score']:g}", sep="\t", flush=True)
    return 0


def _last_line(text: str) -> str:
    """The last line of nbgrader's log or error (where it says what went wrong), bounded."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "nbgrader failed"


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1]), sys.argv[2], sys.argv[3:]))
