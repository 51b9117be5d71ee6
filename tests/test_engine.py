"""The grading engine (autograder/batch.py): Dask distributed runs the tasks, one process writes.

A task is one submission, plain data in and out, and never reads the course; its grade is the one
nbgrader's own path gives; faults: a worker killed mid-batch (rescheduled, written once), the
client killed mid-batch (the next run grades what is missing, none of the local cluster's processes
survive), a student's crash (a score, not a retry); and the same tasks on a running cluster
(``grade --scheduler``), started here as ``dask scheduler`` + ``dask worker``.

Slow (each submission is a sandboxed run, ~3-5 s) and needs the sandbox.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook

from autograder.batch import _Batch, grade_batch, grade_task, pending, read_records
from autograder.course import COURSE_ID, create_course
from autograder.nbgrader_plugin import RESULTS, submission_hash
from autograder.samples import ATTACKED_CELL, MUTANTS, attack_notebook, mutant_notebook
from autograder.sandbox import missing_protections

MISSING = missing_protections()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available"),
]
ASSIGNMENT = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
GRADE = [sys.executable, "-m", "autograder", "grade"]
HTTP = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]  # no dashboard; health on loopback
SETTINGS = {
    "wall_seconds": 300.0,
    "task_seconds": 60.0,
    "cell_seconds": 30.0,
    "memory_bytes": 6 * 1024**3,
    "unprotected": False,
    "warm": True,
    "lang": "en",  # the course's edition: the messages' language (autograder/i18n.py)
}


def source() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


def answer_cell(nb, grade_id: str):
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def segfault_notebook() -> nbformat.NotebookNode:
    """The reference, with the attacked answer cell ending its interpreter by SIGSEGV."""
    nb = source()
    cell = answer_cell(nb, ATTACKED_CELL["hw1"])
    cell.source = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n" + cell.source
    return nb


def copied_notebook() -> nbformat.NotebookNode:
    """The reference with an answer cell copied (Jupyter's copy keeps the grade_id): a note."""
    nb = source()
    where = next(i for i, c in enumerate(nb.cells) if c is answer_cell(nb, "mse"))
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[where])))
    copy["id"] = "copied-mse"
    nb.cells.insert(where, copy)
    return nb


SUBMISSIONS = {
    "reference": source,
    "mutant_gd_sign": lambda: mutant_notebook("hw1", MUTANTS["hw1"][0]),
    "attack_exit": lambda: attack_notebook("hw1", "attack_exit"),
    "segfault": segfault_notebook,
    "copied": copied_notebook,
    "blank": None,  # the release
}


def submit(course, student: str, nb) -> None:
    folder = course.folder("submitted", student, ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")


def new_course(root: Path):
    course = create_course(root)
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    release = course.folder("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    for student, make in SUBMISSIONS.items():
        submit(course, student, make() if make else nbformat.read(release, as_version=4))
    return course


def gradebook_rows(course) -> dict[str, float]:
    """``{student: score}`` of the gradebook's submissions of the assignment (one row each)."""
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        rows = [(s.student.id, s.score) for s in gb.find_assignment(ASSIGNMENT).submissions]
    assert len(rows) == len({student for student, _ in rows})  # never two rows for one student
    return dict(rows)


def grades(records: dict[str, dict]) -> dict[str, tuple]:
    return {s: (r["score"], r["tasks"], r["review"]) for s, r in records.items()}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return new_course(tmp_path_factory.mktemp("engine") / "dl")


@pytest.fixture(scope="module")
def embedded(course):
    """The uninterrupted run every fault is compared with: the local cluster, two workers."""
    calls = []
    result = grade_batch(course, ASSIGNMENT, workers=2, progress=lambda *a: calls.append(a))
    return result, read_records(course, ASSIGNMENT), calls


def test_a_task_is_plain_data_in_and_out_and_needs_no_course(monkeypatch):
    assert list(inspect.signature(grade_task).parameters) == ["payload"]  # no path of a course
    payload = {
        "assignment": ASSIGNMENT,
        "homework": "hw1",
        "student": "ada",
        "notebook": SOURCE.read_bytes(),
        **SETTINGS,
    }
    result = grade_task(payload)  # no course folder exists at all
    assert result["status"] == "ok" and result["score"] == 10 and result["max_score"] == 10
    assert json.loads(json.dumps(result)) == result  # plain JSON data, no pickle of anything
    assert result["tasks"]["mse"][2] == "ok" and result["timings"]["total"] > 0
    garbled = grade_task({**payload, "notebook": b"{ not a notebook"})
    assert garbled["status"] == "not graded"
    assert garbled["reason"].startswith(f"{ASSIGNMENT}.ipynb: not a readable notebook: not JSON")

    def broken(*args, **kwargs):
        raise OSError("no sandbox today")

    monkeypatch.setattr("autograder.batch.worker_sandbox", broken)
    failed = grade_task(payload)  # a failure of the grader: a result, never an exception
    assert failed == {
        "assignment": ASSIGNMENT,
        "student": "ada",
        "status": "not graded",
        "reason": "the grader failed (OSError: no sandbox today)",
    }


def test_the_client_sends_the_bytes_it_hashes_and_no_path_of_the_course(course):
    batch = _Batch(course, ASSIGNMENT, ["reference"], None, None)
    payload, digest = batch._job("reference")
    submitted = course.folder("submitted", "reference", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    assert payload["notebook"] == submitted.read_bytes()
    assert digest == submission_hash(submitted)
    plain = {k: v for k, v in payload.items() if k != "notebook"}
    assert str(course.root) not in json.dumps(plain)
    assert "gradebook.db" not in json.dumps(plain)  # nor the gradebook's URL (a password, maybe)
    assert set(plain) == {"assignment", "homework", "student", "pipeline", *SETTINGS}
    assert "CourseDirectory" not in plain["pipeline"]["config"]


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own
def test_the_batch_grades_each_once_and_as_nbgraders_own_path_does(course, embedded, tmp_path):
    result, records, calls = embedded
    assert result.graded == sorted(SUBMISSIONS) and not result.failed
    assert sorted(student for _, _, student, *_ in calls) == sorted(SUBMISSIONS)
    assert [done for done, *_ in calls] == list(range(1, len(SUBMISSIONS) + 1))
    assert gradebook_rows(course) == {s: r["score"] for s, r in records.items()}
    assert records["copied"]["review"]  # the copied answer cell is noted for review
    # nbgrader's own autograde, grading in its process (an instructor's `nbgrader autograde`)
    other = create_course(tmp_path / "in-process")
    api = other.api()
    assert api.generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    for student in ("copied", "mutant_gd_sign"):
        shutil.copytree(
            course.folder("submitted", student, ASSIGNMENT),
            other.folder("submitted", student, ASSIGNMENT),
        )
        RESULTS.pop((ASSIGNMENT, student), None)
        assert api.autograde(ASSIGNMENT, student, force=True, create=True)["success"]
        in_process = RESULTS[(ASSIGNMENT, student)]
        mine = records[student]
        assert (in_process["score"], in_process["tasks"], in_process["review"]) == (
            mine["score"],
            mine["tasks"],
            mine["review"],
        )
    autograded = course.folder("autograded", "mutant_gd_sign", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    assert "gradient_descent: " in autograded.read_text()  # the failed check's message, written


def test_a_student_crash_is_a_score_not_a_retry(embedded):
    result, records, _ = embedded
    for student in ("attack_exit", "segfault"):
        record = records[student]
        assert record.get("status") != "not graded" and record["score"] == 9
        lost = [name for name, (got, most, _) in record["tasks"].items() if got < most]
        assert lost == [ATTACKED_CELL["hw1"]]
    assert result.attempts == dict.fromkeys(SUBMISSIONS, 1)  # no task was started twice


def _worker_processes() -> list[psutil.Process]:
    """The local cluster's worker processes: this process's children started by multiprocessing."""
    found = []
    for child in psutil.Process().children():
        if "spawn_main" in _cmdline(child):
            found.append(child)
    return found


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone already
        return ""


def test_a_worker_killed_mid_batch_is_rescheduled_and_each_is_written_once(course, embedded):
    _, before, _ = embedded
    killed = []

    def kill_a_busy_worker(done, total, student, status, detail):
        if killed:
            return
        # the first result is written: both workers hold a task (6 to grade, 2 workers); the one
        # running a sandboxed process is surely at work
        workers = _worker_processes()
        busy = [w for w in workers if w.children(recursive=True)] or workers
        killed.append(busy[0].pid)
        os.kill(busy[0].pid, signal.SIGKILL)

    calls = []
    result = grade_batch(
        course,
        ASSIGNMENT,
        workers=2,
        force=True,
        progress=lambda *a: (calls.append(a), kill_a_busy_worker(*a)),
    )
    assert killed and not psutil.pid_exists(killed[0])
    assert result.graded == sorted(SUBMISSIONS) and not result.failed
    assert sorted(student for _, _, student, *_ in calls) == sorted(SUBMISSIONS)  # once each
    assert max(result.attempts.values()) == 2  # Dask ran the killed worker's task again
    assert set(result.attempts) == set(SUBMISSIONS)
    records = read_records(course, ASSIGNMENT)
    assert grades(records) == grades(before)
    assert gradebook_rows(course) == {s: r["score"] for s, r in records.items()}


def test_a_killed_client_leaves_no_process_and_the_next_run_loses_and_repeats_nothing(
    course, embedded
):
    _, before, _ = embedded
    for student in SUBMISSIONS:  # all pending again (the gradebook keeps its rows)
        course.folder("autograded", student, ASSIGNMENT, "dlhw.json").unlink()
    assert sorted(pending(course, ASSIGNMENT)) == sorted(SUBMISSIONS)
    client = subprocess.Popen(
        [*GRADE, str(course.root), ASSIGNMENT, "--workers", "2"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while len(read_records(course, ASSIGNMENT)) < 2 and time.monotonic() < deadline:
        assert client.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.05)
    cluster = psutil.Process(client.pid).children(recursive=True)
    assert [p for p in cluster if "spawn_main" in _cmdline(p)], "no worker processes found"
    client.kill()
    client.wait()
    _, alive = psutil.wait_procs(cluster, timeout=15)
    assert alive == [], f"processes of the killed batch survive: {alive}"
    written = set(read_records(course, ASSIGNMENT))
    assert 2 <= len(written) < len(SUBMISSIONS)
    resumed = grade_batch(course, ASSIGNMENT, workers=2, wait=5)
    assert set(resumed.graded) == set(SUBMISSIONS) - written  # only what was missing
    assert set(resumed.skipped) == written and not resumed.failed
    records = read_records(course, ASSIGNMENT)
    assert grades(records) == grades(before)  # none lost, none changed
    assert gradebook_rows(course) == {s: r["score"] for s, r in records.items()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` and one ``dask worker --nthreads 1``, started here and stopped here."""
    from distributed import Client

    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip(f"no dask command at {dask}")
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    started = []
    options = [*HTTP, "--memory-limit", "0", "--local-directory", str(tmp_path)]
    quiet = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        started.append(
            subprocess.Popen(
                [str(dask), "scheduler", "--host", "127.0.0.1", "--port", port, *HTTP],
                **quiet,
            )
        )
        started.append(
            subprocess.Popen(
                [str(dask), "worker", address, "--nthreads", "1", "--nworkers", "1", *options],
                **quiet,
            )
        )
        try:
            with Client(address, timeout=30) as client:
                client.wait_for_workers(1, timeout=60)
        except Exception as err:
            pytest.skip(f"the Dask scheduler and worker could not start here: {err}")
        yield address
    finally:
        processes = [p for popen in started for p in _with_descendants(popen.pid)]
        for popen in reversed(started):  # the worker first, then the scheduler
            popen.terminate()
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        _, alive = psutil.wait_procs(processes, timeout=10)
        for process in alive:  # only what this fixture started
            process.kill()


def _with_descendants(pid: int) -> list[psutil.Process]:
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def test_grade_on_a_running_cluster_gives_the_embedded_grades(course, embedded, dask_cluster):
    _, before, _ = embedded
    students = ["reference", "mutant_gd_sign", "attack_exit"]
    for student in students:
        course.folder("autograded", student, ASSIGNMENT, "dlhw.json").unlink()
    done = subprocess.run(
        [*GRADE, str(course.root), ASSIGNMENT, "--scheduler", dask_cluster],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{ASSIGNMENT}: graded 3, up to date {len(SUBMISSIONS) - 3}, not graded 0" in done.stdout
    records = read_records(course, ASSIGNMENT)
    assert grades(records) == grades(before)
    assert gradebook_rows(course) == {s: r["score"] for s, r in records.items()}
