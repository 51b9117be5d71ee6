"""Grading at course scale: the grader's overhead above the student's compute, cold and warm, the
throughput of the Dask engine at 1 and 2 workers (in-process LocalCluster and over TCP), where the
time goes, and what a 4,000-submission course would take.

    python benchmarks/bench_grading.py [--quick] [--submissions K] [--faults N]

1. **Overhead per submission** (``grade_submission`` on each homework's reference, in this process):
   the wall clock of grading one submission minus the student's own compute (the time inside the
   answer cells and the probes, as the probe measures it in the sandbox), with a cold sandbox (a
   new bubblewrap and interpreter per run) and a warm one (:mod:`autograder.warm`: runs forked from
   a parent that imported torch once and locked the homework down once). Steady state: the best of
   the repeats after the first.
2. **Throughput**: a temporary course, homework 1 released, K copies of the reference submitted,
   graded by ``grade_batch`` on an embedded LocalCluster of 1 and of 2 workers, and on two
   ``dask worker`` processes started apart and reached over TCP on loopback. Per minute: the steady
   rate between the first and the last result (a cluster's start and its sandboxes' warm-up are
   paid once per batch, not per submission), and the whole batch's wall clock.
3. **Where the time goes**: the workers' timings (reading, intake, inputs, the sandboxed runs,
   judging; the student's compute) and the client's (nbgrader's autograde and the gradebook).
4. **A paper estimate** for 4,000 submissions on 16 cores and on 4 × 16-core nodes, from (2) and (3).
5. **Faults** (``--faults N``, off by default: it grades 2N submissions): N synthetic homework-1
   submissions (the reference, the blank release and each of homework 1's bugs in turn) graded once
   without interruption, and once by ``python -m autograder grade`` on 2 workers where one busy worker
   is killed (``SIGKILL``) after a quarter of the results and the client itself after half; a second
   ``grade`` then finishes. Counted: lost (no record at the end), duplicated (written by both runs),
   grades differing from the uninterrupted run's.

Needs the sandbox (root and bubblewrap); without it, it grades unprotected (cold only) and says so.
A report, not a test: the targets are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import cpu_model

from autograder.batch import grade_batch, read_records
from autograder.build import REPO
from autograder.course import create_course
from autograder.grade import grade_submission
from autograder.samples import MUTANTS, _source, mutant_notebook
from autograder.sandbox import Limits, Sandbox, missing_protections
from autograder.warm import WarmSandbox

ASSIGNMENT = "hw1_linear_regression"
HOMEWORKS = ("hw1", "hw2", "hw3", "hw4")


# -- 1. overhead above the student's compute ---------------------------------------------------------


def overhead(sandbox, homework: str, repeat: int, work: Path) -> tuple[float, float, dict]:
    """(steady overhead s, the student's compute s, the grader's timings) for ``homework``."""
    rows = []
    for _ in range(repeat):
        start = time.perf_counter()
        grade = grade_submission(_source(homework), homework, sandbox, work)
        wall = time.perf_counter() - start
        assert grade.score == grade.max_score, (homework, grade.review)
        rows.append((wall - grade.compute_seconds, grade.compute_seconds, dict(grade.timings)))
    steady = rows[1:] or rows  # the first warm run starts the parent (and the homework's lockdown)
    best = min(steady, key=lambda row: row[0])
    return best


def overheads(unprotected: bool, repeat: int) -> dict[str, dict[str, tuple]]:
    kinds = {
        "cold": lambda: Sandbox(uid=60090, limits=Limits(wall_seconds=300), unprotected=unprotected)
    }
    if not unprotected:
        kinds["warm"] = lambda: WarmSandbox(uid=60091, limits=Limits(wall_seconds=300))
    table: dict[str, dict[str, tuple]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in kinds.items():
            with make() as sandbox:
                table[kind] = {
                    hw: overhead(sandbox, hw, repeat, Path(tmp) / f"{kind}-{hw}")
                    for hw in HOMEWORKS
                }
    return table


# -- 2. throughput -----------------------------------------------------------------------------------


def make_course(root: Path, copies: int, unprotected: bool):
    course = create_course(root, unprotected=unprotected)
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    source = REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for i in range(copies):
        folder = course.folder("submitted", f"student{i:03d}", ASSIGNMENT)
        folder.mkdir(parents=True)
        shutil.copy(source, folder / f"{ASSIGNMENT}.ipynb")
    return course


def throughput(root: Path, copies: int, unprotected: bool, **engine) -> dict:
    """Grade ``copies`` references; the batch's seconds, its steady rate, and the timings."""
    course = make_course(root, copies, unprotected)
    finished: list[float] = []
    start = time.perf_counter()
    result = grade_batch(
        course, ASSIGNMENT, progress=lambda *a: finished.append(time.perf_counter()), **engine
    )
    seconds = time.perf_counter() - start
    assert len(result.graded) == copies and not result.failed, result.failed
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) * 60 if len(finished) > 1 else 0.0
    timings: dict[str, list[float]] = {}
    for record in read_records(course, ASSIGNMENT).values():
        for name, value in (record.get("timings") or {}).items():
            timings.setdefault(name, []).append(float(value))
    timings["client write"] = list(result.writes.values())
    return {
        "seconds": seconds,
        "steady": steady,
        "whole": 60 * copies / seconds,
        "timings": timings,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def over_tcp(root: Path, copies: int, unprotected: bool) -> dict:
    """Two ``dask worker`` processes, started apart, one thread each, reached over TCP on loopback."""
    port = free_port()
    dask = str(Path(sys.executable).with_name("dask"))  # the README's commands, as a user runs them
    http = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": root}
    root.mkdir(parents=True)
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *http], **quiet
    )
    options = ["--nthreads", "1", "--memory-limit", "0", *http]
    workers = [
        subprocess.Popen(
            [dask, "worker", f"tcp://127.0.0.1:{port}", *options, "--local-directory", str(root)],
            **quiet,
        )
        for _ in range(2)
    ]
    try:
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        return throughput(root / "course", copies, unprotected, scheduler=f"tcp://127.0.0.1:{port}")
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- 5. faults ----------------------------------------------------------------------------------------


def synthetic_course(root: Path, count: int, unprotected: bool):
    """A course with ``count`` homework-1 submissions: the reference, the blank release and each of
    homework 1's bugs in turn (different grades, each cheap to grade)."""
    course = create_course(root, unprotected=unprotected)
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    release = nbformat.read(course.folder("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), 4)
    kinds = [_source("hw1"), release, *(mutant_notebook("hw1", m) for m in MUTANTS["hw1"])]
    for i in range(count):
        folder = course.folder("submitted", f"student{i:04d}", ASSIGNMENT)
        folder.mkdir(parents=True)
        nbformat.write(kinds[i % len(kinds)], folder / f"{ASSIGNMENT}.ipynb")
    return course


def _grades(course) -> dict[str, tuple]:
    return {
        student: (record.get("status", "ok"), record["score"], json.dumps(record["tasks"]))
        for student, record in read_records(course, ASSIGNMENT).items()
    }


def _wait_for(course, count: int, client: subprocess.Popen, limit: float = 1800) -> None:
    deadline = time.monotonic() + limit
    while len(read_records(course, ASSIGNMENT)) < count:
        if client.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the batch ended (or stalled) before it could be interrupted")
        time.sleep(0.2)


def faults(root: Path, count: int, unprotected: bool) -> dict:
    """Grade ``count`` submissions whole, and again with a worker and then the client killed."""
    import psutil

    whole = synthetic_course(root / "whole", count, unprotected)
    start = time.perf_counter()
    grade_batch(whole, ASSIGNMENT, workers=2)
    whole_seconds = time.perf_counter() - start
    expected = _grades(whole)

    course = synthetic_course(root / "faulted", count, unprotected)
    command = [sys.executable, "-m", "autograder", "grade", str(course.root), ASSIGNMENT]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": REPO}
    start = time.perf_counter()
    client = subprocess.Popen([*command, "--workers", "2"], **quiet)
    _wait_for(course, count // 4, client)
    workers = [
        p
        for p in psutil.Process(client.pid).children(recursive=True)
        if "spawn_main" in " ".join(p.cmdline())
    ]
    busy = [w for w in workers if w.children(recursive=True)] or workers
    busy[0].kill()  # SIGKILL: its task is rescheduled by Dask
    _wait_for(course, count // 2, client)
    client.kill()  # SIGKILL: the local cluster dies with it
    client.wait()
    written = set(read_records(course, ASSIGNMENT))
    resumed = grade_batch(course, ASSIGNMENT, workers=2)
    faulted_seconds = time.perf_counter() - start
    got = _grades(course)
    return {
        "count": count,
        "whole seconds": whole_seconds,
        "faulted seconds": faulted_seconds,
        "written before the client died": len(written),
        "lost": sum(1 for student in expected if student not in got),
        "duplicated": len(written & set(resumed.graded)),
        "different": sum(1 for student, grade in expected.items() if got.get(student) != grade),
        "not graded": sum(1 for grade in got.values() if grade[0] != "ok"),
    }


# -- report --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 submissions, 1 repeat")
    parser.add_argument(
        "--submissions", type=int, default=48, help="part 2 (fewer: the steady rate is noisy)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="gradings per homework in part 1")
    parser.add_argument(
        "--faults",
        type=int,
        default=0,
        help="part 5 with N submissions (0: skip; the README's: 400)",
    )
    parser.add_argument("--only-faults", action="store_true", help="part 5 alone")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="part 2's LocalCluster sizes, comma-separated (1 and 2 always; e.g. 1,2,4,8 on a "
        "larger machine)",
    )
    parser.add_argument(
        "--device", default="cpu", help="grading runs on the CPU; accepted for make"
    )
    args = parser.parse_args()
    try:
        sizes = sorted({1, 2, *(int(n) for n in args.workers.split(",") if n.strip())})
    except ValueError:
        parser.error(f"--workers: comma-separated whole numbers, not {args.workers!r}")
    if sizes[0] < 1:
        parser.error("--workers: each size is at least 1")
    copies = 2 if args.quick else args.submissions
    repeat = 2 if args.quick else args.repeat
    missing = missing_protections()
    unprotected = bool(missing)
    print(f"grading at course scale on {cpu_model()}, {os.cpu_count()} cores; device cpu")
    if unprotected:
        print("sandbox unavailable here (" + "; ".join(missing) + "): cold and unprotected only")

    if args.only_faults:
        report_faults(args.faults or 400, unprotected)
        return 0

    print("\n1. overhead per submission above the student's compute (steady state, seconds)")
    table = overheads(unprotected, repeat)
    kinds = list(table)
    print(f"{'homework':>8}  {'compute':>7}  " + "  ".join(f"{k:>6}" for k in kinds))
    for hw in HOMEWORKS:
        compute = table[kinds[-1]][hw][1]
        print(f"{hw:>8}  {compute:>7.2f}  " + "  ".join(f"{table[k][hw][0]:>6.2f}" for k in kinds))
    if "warm" in table:
        worst = max(table["warm"][hw][0] for hw in HOMEWORKS)
        print(
            f"target: warm overhead <= 0.5 s: {'met' if worst <= 0.5 else 'not met'} (worst {worst:.2f} s)"
        )

    print(f"\n2. throughput: {copies} submissions of homework 1")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in sizes:
            rows[f"LocalCluster, {workers} worker{'s' * (workers > 1)}"] = throughput(
                Path(tmp) / f"local-{workers}", copies, unprotected, workers=workers
            )
        if not args.quick:
            rows["2 dask workers over TCP"] = over_tcp(Path(tmp) / "tcp", copies, unprotected)
    print(f"{'engine':>28}  {'seconds':>7}  {'per minute (steady)':>19}  {'(whole batch)':>13}")
    for name, row in rows.items():
        print(f"{name:>28}  {row['seconds']:>7.1f}  {row['steady']:>19.1f}  {row['whole']:>13.1f}")
    one = rows["LocalCluster, 1 worker"]
    for workers in sizes[1:]:
        row = rows[f"LocalCluster, {workers} workers"]
        if one["steady"] and row["steady"]:
            efficiency = row["steady"] / (workers * one["steady"])
            target = " (target >= 90 %)" if workers == 2 else ""
            print(f"scaling efficiency 1 -> {workers} workers: {100 * efficiency:.0f} %{target}")

    print("\n3. where the time goes, per submission (mean seconds, 1 worker)")
    timings = one["timings"]
    names = ("read", "intake", "inputs", "runs", "compute", "judging", "autograded notebook")
    for name in (*names, "total", "client write"):
        if timings.get(name):
            print(f"{name:>14}  {statistics.mean(timings[name]):>6.3f}")
    print("  (runs include compute; total is the worker's; the client writes one result at a time)")

    print("\n4. a 4,000-submission course, on paper (homework 1's costs)")
    worker = statistics.mean(timings["total"])
    write = statistics.mean(timings["client write"])
    for cores in (16, 64):
        hours = max(4000 * worker / cores, 4000 * write) / 3600
        bound = "the client's writes" if 4000 * write > 4000 * worker / cores else "the workers"
        print(f"{cores:>3} cores: {60 * hours:.0f} min (bound by {bound}; {worker:.2f} s per "
              f"submission and worker, {write:.2f} s per write)")  # fmt: skip
    if args.faults:
        report_faults(args.faults, unprotected)
    print("targets met: see above (a report, not a test)")
    return 0


def report_faults(count: int, unprotected: bool) -> None:
    print(f"\n5. faults: {count} submissions, a worker killed at 1/4, the client at 1/2, resumed")
    with tempfile.TemporaryDirectory() as tmp:
        row = faults(Path(tmp), count, unprotected)
    for name, value in row.items():
        print(f"{name:>32}  {value:.1f}" if isinstance(value, float) else f"{name:>32}  {value}")
    met = row["lost"] == row["duplicated"] == row["different"] == 0
    print(f"target: 0 lost, 0 duplicated, grades equal: {'met' if met else 'not met'}")


if __name__ == "__main__":
    sys.exit(main())
