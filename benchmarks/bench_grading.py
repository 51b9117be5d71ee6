"""Grading throughput: submissions per minute at 1 and N workers, and the cost above the bare minimum.

    python benchmarks/bench_grading.py [--quick] [--submissions K] [--workers N]

A temporary course, homework 1 released, K copies of the reference answers submitted, then graded by
``grade_batch`` (nbgrader autograde with the sandboxed, trusted grading) with 1 worker and with N.
The floor a sandboxed grader cannot go below is one sandbox start plus ``import torch`` and IPython;
it is timed alone (``floor``), and the per-submission overhead is the rest: rebuilding the notebook,
running the cells and the probes, judging, nbgrader's bookkeeping. Needs the sandbox (root and
bubblewrap); without it, it grades unprotected and says so. A report, not a test: no targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_model

from autograder.batch import grade_batch
from autograder.build import REPO
from autograder.course import create_course
from autograder.sandbox import Limits, Sandbox, missing_protections

ASSIGNMENT = "hw1_linear_regression"


def floor_seconds(unprotected: bool, repeat: int) -> float:
    """The fastest of ``repeat`` bare sandbox runs that import what grading imports."""
    best = float("inf")
    with (
        Sandbox(uid=60099, limits=Limits(wall_seconds=120), unprotected=unprotected) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for run in range(repeat):
            io = Path(tmp) / f"io-{run}"  # a fresh I/O folder per run, as grading has
            try:
                result = sandbox.run(
                    io, ["python", "-c", "import torch, numpy, IPython, autograder.probes.hw1"]
                )
            finally:
                sandbox.clean(io)
            assert result.returncode == 0, result.stderr[-2000:]
            best = min(best, result.seconds)
    return best


def grade_copies(root: Path, copies: int, workers: int, unprotected: bool) -> float:
    """Seconds to grade ``copies`` reference submissions with ``workers`` workers."""
    course = create_course(root, unprotected=unprotected)
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    source = REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for i in range(copies):
        folder = course.folder("submitted", f"student{i:03d}", ASSIGNMENT)
        folder.mkdir(parents=True)
        shutil.copy(source, folder / f"{ASSIGNMENT}.ipynb")
    start = time.perf_counter()
    result = grade_batch(course, ASSIGNMENT, workers=workers)
    seconds = time.perf_counter() - start
    assert len(result.graded) == copies and not result.failed, result.failed
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 submissions, a smoke run")
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--device", default="cpu", help="grading runs on the CPU; accepted for make"
    )
    args = parser.parse_args()
    copies = 2 if args.quick else args.submissions
    missing = missing_protections()
    unprotected = bool(missing)
    print(f"grading throughput on {cpu_model()}, {os.cpu_count()} cores; device cpu")
    if unprotected:
        print("sandbox unavailable here (" + "; ".join(missing) + "): graded unprotected")
    floor = floor_seconds(unprotected, repeat=1 if args.quick else 3)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in sorted({1, args.workers}):
            seconds = grade_copies(Path(tmp) / f"w{workers}", copies, workers, unprotected)
            rows.append((workers, seconds))
    print(f"floor (sandbox start + imports): {floor:.2f} s")
    print(
        f"{'workers':>7}  {'submissions':>11}  {'seconds':>8}  {'per minute':>10}  {'overhead':>8}"
    )
    for workers, seconds in rows:
        per_submission = seconds * workers / copies
        print(
            f"{workers:>7}  {copies:>11}  {seconds:>8.1f}  {60 * copies / seconds:>10.1f}  "
            f"{per_submission - floor:>7.1f}s"
        )
    print("overhead: seconds per submission and worker above the floor")
    print("targets met: 0 of 0 (a report, no targets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
