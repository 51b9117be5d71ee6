"""Grade many submissions at once on a Dask cluster, and pick up where a stopped batch left off.

    grade_batch(course, "hw1_linear_regression", workers=2)                    # on this machine
    grade_batch(course, "hw1_linear_regression", scheduler="tcp://HOST:8786")  # on a cluster

nbgrader autogrades one student after another in one process (its issue #174). Here **Dask
distributed** is the engine: each pending submission is one task, :func:`grade_task`, given plain data
(the assignment, the student, the submitted notebook's bytes, the grading settings) and returning
a plain, JSON-able result (the score, each task's points and message, the review list; or *not
graded* and why). With no ``scheduler``, the batch starts a ``LocalCluster`` on loopback
(``workers`` worker processes, default one per core, one thread each, no dashboard, no memory limit
that would kill a worker holding torch) and closes it at the end; with ``scheduler`` the same
tasks go to a running cluster (``dask scheduler`` + ``dask worker``, dask-jobqueue,
dask-kubernetes), whose workers need this package and, for the sandbox, bubblewrap and root.

**Where things run.** A worker reads the notebook within intake's limits, exactly as nbgrader's path
reads it (:func:`autograder.nbgrader_plugin.read_notebook`, the instructor's structure from the
repo's ``assignments/``), and grades it with :func:`autograder.grade.grade_submission` in a sandbox it
keeps for all its tasks (:func:`worker_sandbox`, a uid leased per worker: a warm sandbox, whose
sandboxed parent imported torch once and forks each run, :mod:`autograder.warm`), in a scratch folder per task
inside the worker's own (which Dask removes when a dead worker's successor starts). It never opens the
course folder, the gradebook or a record. The batch keeps about two tasks per worker thread in flight,
reading each submission only when it sends it. **One writer**: the process that called
:func:`grade_batch` writes everything, as results arrive: nbgrader's own ``autograde``, fed the result
(:data:`autograder.nbgrader_plugin.PRECOMPUTED`), writes the gradebook and the autograded notebook;
then, only if that succeeded, ``autograded/<student>/<assignment>/dlhw.json`` is written atomically
with the hash of the exact bytes that were graded.

**Resumable**: a student whose record matches the current submission is not graded again; stopping
a batch (Ctrl-C, a crash, a SIGKILL, a reboot) and starting it again grades only what is missing or
changed: nothing is lost (a record exists only for a written grade) and nothing is doubled (one
record and one gradebook submission per student, overwritten by a regrade). Grading is deterministic
(seeded inputs, verdicts in the grader), so a parallel batch gives the grades a one-by-one run gives.
``force``, ``students`` and ``task`` regrade on purpose.

**Faults.** A worker that dies (killed, out of memory, its machine gone) is Dask's to handle: its task
is rescheduled on another worker, and its result is written once (``BatchResult.attempts`` counts the
starts). A student's crash, timeout or attack is never a worker's death: it happens in the sandbox and
is a score. A failure of the grader (the sandbox could not start, nbgrader raised, every worker that
took the task died) is **not a grade**: :func:`grade_task` returns it as a result, never raises (so
Dask never retries a student), and the record says *not graded* with the reason and keeps no hash, so
the table shows it as such and the next run grades it again. A task the cluster lost (its scheduler
restarted, the connection broke) is reported and written nowhere: the next run grades it.

**One batch per assignment at a time, and none outliving its grader.** A batch holds an exclusive
lock on ``autograded/.grading-<assignment>.lock``: a second ``grade`` of the same assignment waits
for it or says who holds it. The local cluster's worker processes exit when the batch process dies,
however it dies (each watches a pipe from its parent: Dask's nanny), and their sandboxes die with
them (bubblewrap's ``--die-with-parent``); a remote cluster drops the tasks of a client it lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from .course import Course
from .errors import UserError
from .grade import NotGraded, grade_submission
from .intake import MAX_NOTEBOOK_BYTES, SubmissionError, restructure
from .nbgrader_plugin import (
    PRECOMPUTED,
    RECORD,
    RESULTS,
    TrustedGrading,
    grader_failure,
    homework_for,
    plain_grade,
    plain_record,
    read_notebook,
    submission_hash,
    write_record,
)
from .registry import find
from .sandbox import Limits, Sandbox
from .warm import WarmSandbox
from .writer import GradebookWriter, WriteFailed, autograded_notebook, pipeline_of

__all__ = [
    "BatchBusy",
    "BatchResult",
    "SchedulerUnreachable",
    "grade_batch",
    "grade_task",
    "local_cluster",
    "not_graded",
    "pending",
    "progress_bar",
    "read_records",
    "worker_sandbox",
]

CONNECT_SECONDS = 10  # how long to try to reach a scheduler
_WRITE_LOCK = threading.Lock()  # one writer per process (two batches in threads of one process)


class BatchBusy(UserError, RuntimeError):
    """Another batch of the same assignment is running on this course."""


class SchedulerUnreachable(UserError, RuntimeError):
    """The Dask scheduler given cannot be reached; the message says which and why."""


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


@dataclass
class BatchResult:
    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> why it is not graded
    skipped: list[str] = field(default_factory=list)  # up to date already
    seconds: float = 0.0
    # student -> how many times the cluster started its task: 1, or more when a worker died
    # holding it (Dask rescheduled it); a student's own crash never adds one
    attempts: dict[str, int] = field(default_factory=dict)
    # student -> seconds the client spent writing its result (nbgrader's autograde: the autograded
    # notebook and the gradebook; then the record): the one serial step of a batch
    writes: dict[str, float] = field(default_factory=dict)


def grade_batch(
    course: Course,
    assignment: str,
    *,
    workers: int | None = None,
    progress=None,
    force: bool = False,
    students: list[str] | None = None,
    wait: float = 30.0,
    scheduler: str | None = None,
) -> BatchResult:
    """Grade every pending submission of ``assignment`` on a Dask cluster.

    With no ``scheduler``, a local cluster of ``workers`` processes (default: one per core, at most
    one per submission) is started for the batch and closed after it; ``scheduler``
    (``"tcp://HOST:8786"``) sends the tasks to a running cluster instead
    (:class:`SchedulerUnreachable` if it cannot be reached). ``force`` regrades up-to-date
    submissions too; ``students`` limits the batch to those (each regraded, up to date or not).
    ``progress(done, total, student, status, detail)`` is called as each submission is written
    (status ``ok`` with detail ``score/max``, or ``failed`` with the reason); the CLI draws a bar.
    Raises :class:`BatchBusy` when another batch of this assignment holds the course's lock for
    longer than ``wait`` seconds.
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
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        with _quiet_client(), _cluster(scheduler, workers) as client:
            _Batch(course, assignment, todo, progress, result).run(client)
    finally:
        os.close(lock)
    result.graded.sort()
    result.seconds = time.monotonic() - start
    return result


# ---------------------------------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _cluster(scheduler: str | None, workers: int):
    """A Dask client: of the running cluster at ``scheduler``, or of a local cluster started here
    (and closed here: exactly what was started)."""
    from distributed import Client

    if scheduler:
        _check_address(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
        except Exception as err:  # OSError / TimeoutError, or a malformed address
            why = " ".join(str(err).split()) or type(err).__name__
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler {scheduler}: {why}"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with local_cluster(workers) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


@contextlib.contextmanager
def local_cluster(workers: int | None = None):
    """A Dask cluster on this machine for grading: ``workers`` processes (default one per core) of
    one thread each, on loopback, no dashboard; closed on leaving (exactly what was started).
    :func:`grade_batch` starts one per batch; pass its ``scheduler_address`` as ``scheduler`` to
    grade several assignments on one (their workers' warm sandboxes are kept between them)."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=max(1, workers or os.cpu_count() or 1),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,  # no dashboard; its HTTP server (health) on a free port:
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        worker_dashboard_address=None,
        memory_limit=0,  # no memory manager that pauses or kills a worker holding torch
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster
    finally:
        _workers_first(cluster)
        cluster.close()


def _workers_first(cluster, seconds: float = 30.0) -> None:
    """Close a local cluster's workers before its scheduler: a worker whose scheduler went first logs
    its failed heartbeat with a traceback (noise that reads like a failure)."""
    with contextlib.suppress(Exception):
        cluster.scale(0)
        deadline = time.monotonic() + seconds
        while cluster.workers and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def _quiet_client():
    """Dask's client logs a lost scheduler with tracebacks; the batch says it in one line."""
    logger = logging.getLogger("distributed.client")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_address(scheduler: str) -> None:
    """:class:`SchedulerUnreachable` for an address no Dask client could connect to."""
    from distributed.comm import parse_address
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(scheduler)
        get_backend(scheme)
    except Exception as err:  # ValueError: an unknown scheme, or no address at all
        why = " ".join(str(err).split()) or type(err).__name__
        raise SchedulerUnreachable(f"{scheduler} is not a Dask scheduler address: {why}") from None
    if not location:
        raise SchedulerUnreachable(f"{scheduler} is not a Dask scheduler address (tcp://HOST:PORT)")


class _Batch:
    """The client's side of one batch: send the tasks, write each result as it arrives."""

    def __init__(self, course, assignment, students, progress, result: BatchResult):
        self.course, self.assignment, self.students = course, assignment, list(students)
        self.homework = homework_for(assignment)
        self.progress, self.result = progress, result
        self.api = course.api()
        config = TrustedGrading(config=course.load_config())
        self.settings = {
            "wall_seconds": float(config.wall_seconds),
            "task_seconds": float(config.task_seconds),
            "cell_seconds": float(config.cell_seconds),
            "memory_bytes": int(config.memory_bytes),
            "unprotected": bool(config.unprotected),
            "warm": bool(config.warm),
            "lang": str(config.lang),
        }
        # the autograded notebook made on the worker, the gradebook written in one session here
        # (autograder.writer), where the course's preprocessors are the ones it reproduces
        self.settings["pipeline"] = pipeline_of(config.config)
        self.token = uuid.uuid4().hex[:8]
        self.done = 0
        self.keys: dict[str, str] = {}  # task key -> student
        self.writer: GradebookWriter | None = None

    def run(self, client) -> None:
        try:
            self.writer = GradebookWriter(self.course, self.assignment)
        except WriteFailed:  # nbgrader's autograde says what is wrong, submission by submission
            self.settings["pipeline"] = None
            self._run(client)
            return
        with self.writer:
            if self.settings["pipeline"] is not None:
                self.settings["pipeline"]["instructor cells"] = self.writer.instructor_cells()
            self._run(client)

    def _run(self, client) -> None:
        from distributed import as_completed

        queue = list(self.students)
        in_flight: dict[str, tuple] = {}  # key -> (future, student, digest)
        arrived = as_completed(loop=client.loop)
        try:
            while queue or in_flight:
                # keep every worker busy while this process writes: about two tasks per thread
                window = max(4, 2 * self._threads(client)) if queue else 0
                while queue and len(in_flight) < window:
                    student = queue.pop(0)
                    job = self._job(student)
                    if job is None:
                        continue  # written already (unreadable, too large)
                    payload, digest = job
                    key = f"grade-{self.assignment}-{student}-{self.token}"
                    future = client.submit(grade_task, payload, key=key, retries=0)
                    self.keys[key] = student
                    in_flight[key] = (future, student, digest)
                    arrived.add(future)
                if not in_flight:
                    continue
                future = next(arrived)
                _, student, digest = in_flight.pop(future.key)
                outcome = _outcome(future)
                future.release()
                if outcome["status"] == "lost":  # not a failure on this submission: no record
                    self._report(student, "failed", outcome["reason"])
                else:
                    self._write(student, digest, outcome)
        finally:
            for future, *_ in in_flight.values():
                future.cancel()
        self.result.attempts = _attempts(client, self.keys)

    def _threads(self, client) -> int:
        try:
            return sum(client.nthreads().values())
        except OSError as err:  # the scheduler is gone (CommClosedError, a timeout)
            raise SchedulerUnreachable(
                f"lost the Dask scheduler mid-batch ({type(err).__name__}); what was written "
                "stays written: run the same command again to grade the rest"
            ) from None

    def _job(self, student: str) -> tuple[dict, str] | None:
        """The task's payload and the hash of its bytes; ``None`` when it is written here."""
        path = _submitted(self.course, student, self.assignment)
        try:
            with open(path, "rb") as file:
                data = file.read(MAX_NOTEBOOK_BYTES + 1)
        except OSError as err:  # gone since it was listed: not graded, no record (as before)
            self._report(student, "failed", f"the submission cannot be read ({err.strerror})")
            return None
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_NOTEBOOK_BYTES:  # never sent: nbgrader's reading refuses it, with why
            self._write(student, None, {"status": "not graded", "reason": "too large"})
            return None
        payload = {
            "assignment": self.assignment,
            "homework": self.homework,
            "student": student,
            "notebook": data,
            **self.settings,
        }
        return payload, digest

    def _write(self, student: str, digest: str | None, outcome: dict) -> None:
        """The result into the gradebook and the autograded folder, then the record: by the
        batch's writer where the worker made the autograded notebook, else by nbgrader's
        ``autograde`` fed the result."""
        written = outcome.pop("written", None)
        if self.settings["pipeline"] and outcome.get("status") == "ok" and written and digest:
            self._write_directly(student, digest, outcome, written)
        else:
            self._write_by_nbgrader(student, digest, outcome)

    def _write_directly(self, student: str, digest: str, outcome: dict, written: dict) -> None:
        path = _record_path(self.course, student, self.assignment)
        started = time.monotonic()
        with _WRITE_LOCK:
            try:
                self.writer.write(student, written, outcome.get("review") or [])
            except WriteFailed as err:
                write_record(path, _not_graded_record(self.assignment, student, str(err)))
                status, detail = "failed", str(err)
            else:
                record = plain_record(self.assignment, student, outcome)
                record["hash"] = digest  # of the bytes graded, not of the file as it is now
                write_record(path, record)
                status, detail = "ok", f"{record['score']:g}/{record['max_score']:g}"
        self.result.writes[student] = round(time.monotonic() - started, 3)
        self._report(student, status, detail)

    def _write_by_nbgrader(self, student: str, digest: str | None, outcome: dict) -> None:
        key = (self.assignment, student)
        path = _record_path(self.course, student, self.assignment)
        started = time.monotonic()
        with _WRITE_LOCK:
            RESULTS.pop(key, None)
            PRECOMPUTED[key] = outcome
            try:
                with warnings.catch_warnings():  # nbgrader's own SQLAlchemy warnings are no news
                    warnings.simplefilter("ignore", SAWarning)
                    written = self.api.autograde(self.assignment, student, force=True, create=True)
            except Exception as err:  # nbgrader raising is a failure of this student only
                written = {"success": False, "error": f"{type(err).__name__}: {err}"}
            finally:
                PRECOMPUTED.pop(key, None)
            record = RESULTS.get(key)
            if (
                not written.get("success")
                or record is None
                or record.get("status") == "not graded"
                or digest is None
            ):
                why = (record or {}).get("reason") or _last_line(
                    str(written.get("error") or written.get("log") or "")
                )
                write_record(path, _not_graded_record(self.assignment, student, why))
                status, detail = "failed", why
            else:
                if record.get("review") and self.writer is not None:
                    self.writer.flag(student)
                record["hash"] = digest  # of the bytes graded, not of the file as it is now
                write_record(path, record)
                status, detail = "ok", f"{record['score']:g}/{record['max_score']:g}"
        self.result.writes[student] = round(time.monotonic() - started, 3)
        self._report(student, status, detail)

    def _report(self, student: str, status: str, detail: str) -> None:
        self.done += 1
        if status == "ok":
            self.result.graded.append(student)
        else:
            self.result.failed[student] = detail
        if self.progress is not None:
            self.progress(self.done, len(self.students), student, status, detail)


def _not_graded_record(assignment: str, student: str, why: str) -> dict:
    return {
        "assignment": assignment,
        "student": student,
        "status": "not graded",
        "reason": why,
        "hash": None,  # pending again: the next run grades it
        "tasks": {},
        "review": [f"not graded: {why}"],
        "score": 0,
        "max_score": 0,
    }


def _outcome(future) -> dict:
    """The task's result, or a *not graded* one when the cluster could not produce it."""
    from distributed import KilledWorker

    try:
        outcome = future.result()
    except KilledWorker:  # its workers died again and again (Dask's allowed-failures)
        return {"status": "not graded", "reason": "every worker that took it died"}
    except Exception as err:  # cancelled (the scheduler restarted or lost us), Dask's own failure
        why = " ".join(str(err).split())[:200]
        return {"status": "lost", "reason": f"the cluster lost it ({type(err).__name__}: {why})"}
    if not isinstance(outcome, dict) or outcome.get("status") not in ("ok", "not graded"):
        return {"status": "not graded", "reason": "the worker returned no result"}
    return outcome


def _attempts(client, keys: dict[str, str]) -> dict[str, int]:
    """``{student: times its task was sent to a worker}``, from the scheduler's transition log."""
    if not keys:
        return {}
    try:
        counts = client.run_on_scheduler(_processing_counts, list(keys))
    except Exception:  # the scheduler is gone: nothing to say
        return {}
    return {keys[key]: count for key, count in counts.items() if key in keys}


def _processing_counts(keys: list[str], dask_scheduler=None) -> dict[str, int]:
    counts = dict.fromkeys(keys, 0)
    for key, _start, finish, *_ in dask_scheduler.story(*keys):
        if finish == "processing" and key in counts:
            counts[key] += 1
    return counts


def _last_line(text: str) -> str:
    """The last line of nbgrader's log or error (where it says what went wrong), bounded."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "nbgrader failed"


def progress_bar(done: int, total: int, student: str, status: str, detail: str) -> None:
    """A ``progress`` for :func:`grade_batch` that draws a bar (one line per update off a terminal)."""
    width = 30
    filled = width * done // total
    line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {student}: "
    line += detail if status == "ok" else f"FAILED ({detail})"
    end = "\n" if done == total or not sys.stdout.isatty() else "\r"
    print(f"{line:<100}", end=end, flush=True)


# ---------------------------------------------------------------------------------------------------
# On a worker
# ---------------------------------------------------------------------------------------------------

_SANDBOXES: dict[int, tuple[tuple, Sandbox]] = {}  # thread -> (its settings, its sandbox)
_SANDBOXES_LOCK = threading.Lock()


def worker_sandbox(limits: Limits, unprotected: bool, warm: bool = True) -> Sandbox:
    """The sandbox of this worker process, made on first use and kept for all its tasks.

    The one place where a worker's sandbox is made (a uid of the machine-wide pool is leased for
    as long as the worker lives; the kernel gives it back when the worker dies). One per worker
    thread, so one per worker process with one thread per worker, as the batch runs them; made
    again if a task brings other limits. ``warm`` (the default, where the protections are there): a
    :class:`~autograder.warm.WarmSandbox`, whose parent imports torch once and forks each run.
    """
    thread = threading.get_ident()
    warm = bool(warm) and not unprotected
    wanted = (os.getpid(), limits, bool(unprotected), warm)
    with _SANDBOXES_LOCK:
        held = _SANDBOXES.get(thread)
        if held is not None and held[0] == wanted:
            return held[1]
        if held is not None:
            del _SANDBOXES[thread]
            held[1].close()
        if warm:
            sandbox = WarmSandbox(limits=limits)
        else:
            sandbox = Sandbox(limits=limits, unprotected=bool(unprotected))
        _SANDBOXES[thread] = (wanted, sandbox)
    _sweep_dead_workers()
    return sandbox


def _sweep_dead_workers() -> None:
    """Remove the empty folders a killed worker's task leaves behind.

    Dask removes a dead worker's folder when the next worker starts, but not a folder a sandbox
    still had mounted then (the sandbox's lease cleans that mount only later, when the uid is
    leased again, as :func:`worker_sandbox` just did): what is left is a tree of empty folders with no
    lock of Dask's. Only empty folders are removed (``rmdir``), and only in such unlocked ones.
    """
    here = _worker_folder()
    if here is None:
        return
    for folder in Path(here).parent.glob("worker-*"):
        if folder == Path(here) or Path(f"{folder}.dirlock").exists() or not folder.is_dir():
            continue
        for path in [*sorted(folder.rglob("dlhw-task-*/**"), reverse=True), folder]:
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()  # empty folders only; a mount point still in use stays


def grade_task(payload: dict) -> dict:
    """Grade one submission, on a worker: plain data in, a plain JSON-able result out.

    ``payload``: ``assignment``, ``homework``, ``student``, ``notebook`` (the submitted file's
    bytes), ``wall_seconds``, ``task_seconds``, ``cell_seconds``, ``memory_bytes``,
    ``unprotected``, ``lang``. Returns ``{"status": "ok", "score", "max_score", "tasks": {name: [points,
    max_points, message]}, "review", "error", "runs", "seconds", "timings"}``, or ``{"status":
    "not graded", "reason"}`` when the grader (not the student) failed. Never raises: a student's
    crash, timeout or attack is a score, and anything else a *not graded* result, so Dask never
    retries a student (it reschedules a task only when its worker died). Reads nothing of the
    course: the notebook comes in the payload, the instructor's notebook from this package.
    """
    started = time.monotonic()
    base = {"assignment": payload.get("assignment"), "student": payload.get("student")}
    timings: dict[str, float] = {}
    try:
        assignment = str(payload["assignment"])
        lang = str(payload.get("lang", "en"))
        limits = Limits(
            wall_seconds=float(payload["wall_seconds"]), memory_bytes=int(payload["memory_bytes"])
        )
        with tempfile.TemporaryDirectory(prefix="dlhw-task-", dir=_worker_folder()) as scratch:
            try:
                nb = _read(Path(scratch), assignment, payload["notebook"], lang)
            except SubmissionError as err:
                return {**base, "status": "not graded", "reason": str(err)}
            timings["read"] = round(time.monotonic() - started, 3)
            sandbox = worker_sandbox(
                limits, bool(payload["unprotected"]), bool(payload.get("warm", True))
            )
            grade = grade_submission(
                nb,
                str(payload["homework"]),
                sandbox,
                Path(scratch) / "work",
                task_seconds=float(payload["task_seconds"]),
                cell_seconds=float(payload["cell_seconds"]),
                lang=lang,
            )
            written = _autograded(nb, grade, payload, Path(scratch), timings)
    except NotGraded as err:  # the grader failed, not the student: no grade, a reason
        return {**base, "status": "not graded", "reason": str(err)}
    except Exception as err:  # the sandbox could not be set up, or any other failure of ours
        return {**base, "status": "not graded", "reason": grader_failure(err)}
    timings.update({name: round(value, 3) for name, value in grade.timings.items()})
    timings["compute"] = round(grade.compute_seconds, 3)  # the student's cells and probes
    timings["total"] = round(time.monotonic() - started, 3)
    result = {**base, **plain_grade(grade), "timings": timings}
    if written is not None:
        result["written"] = written
    try:
        return json.loads(json.dumps(result))  # plain data only, whatever a check returned
    except (TypeError, ValueError) as err:
        return {**base, "status": "not graded", "reason": grader_failure(err)}


def _autograded(nb, grade, payload: dict, scratch: Path, timings: dict) -> dict | None:
    """The autograded notebook and its cells' gradebook entries (:mod:`autograder.writer`), made
    here where the course's pipeline allows; ``None`` leaves the writing to nbgrader's
    ``autograde`` in the client (also when making it here fails: nbgrader then says why)."""
    pipeline = payload.get("pipeline")
    if not pipeline:
        return None
    started = time.monotonic()
    try:
        written = autograded_notebook(
            nb,
            plain_grade(grade),
            pipeline,
            scratch,
            str(payload["assignment"]),
            str(payload["student"]),
        )
    except Exception:  # nbgrader's own path will say what is wrong with it
        return None
    timings["autograded notebook"] = round(time.monotonic() - started, 3)
    return written


def _worker_folder() -> str | None:
    """The Dask worker's own scratch folder (Dask removes a dead worker's, task folders included),
    or ``None`` (the system's) outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):  # not on a worker
        return None


def _read(scratch: Path, assignment: str, data: bytes, lang: str = "en"):
    """The submission as nbgrader's path reads and sanitises it: within intake's limits, then
    rebuilt in the instructor's structure (the repo's notebook, which the course's source is)."""
    path = scratch / f"{assignment}.ipynb"  # its name is in the reasons, as in nbgrader's
    path.write_bytes(data)
    submitted = read_notebook(path)
    source = nbformat.read(find(assignment).edition_notebook(lang), as_version=4)
    rebuilt, _ = restructure(source, submitted)
    return rebuilt
