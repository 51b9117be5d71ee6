"""The instructor demo (``make demo``): the whole grading workflow on sample submissions.

A temporary course; the four homeworks released with nbgrader; for each, sample submissions
(:mod:`autograder.samples`: the reference answers, the blank release, plausible bugs, attacks on the
grader); graded in parallel in the sandbox; feedback HTML, CSV exports and the report written; then a
grade table (student × task) per homework, the review list, and a check of every sample against what
it should get: full marks, zero, or the loss of exactly the task it attacks or breaks. The exit status
is 1 if any sample is graded otherwise.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import nbformat

from .batch import grade_batch, local_cluster, not_graded, progress_bar, read_records
from .build import load_spec
from .course import COURSE_ID, create_course
from .exports import FORMATS, export
from .grades import review_items
from .i18n import CYRILLIC
from .report import grade_table, write_report
from .samples import samples

__all__ = ["run_demo"]


def _meets(expected: str, record: dict) -> bool:
    lost = {name for name, (got, most, _) in record["tasks"].items() if got < most}
    if expected == "full":
        return not lost
    if expected == "zero":
        return record["score"] == 0
    return lost == {expected}


def _in_language(lang: str, record: dict) -> bool:
    """Whether every failed task's message of ``record`` reads in edition ``lang``."""
    if lang != "ru":
        return True
    return all(
        CYRILLIC.search(message) for got, most, message in record["tasks"].values() if got < most
    )


def run_demo(
    course_dir: Path | None, *, homeworks: list[str], workers: int | None, lang: str = "en"
) -> int:
    start = time.monotonic()
    grading, submissions = 0.0, 0
    temporary = course_dir is None
    root = Path(tempfile.mkdtemp(prefix="dl-homework-demo-")) if temporary else course_dir
    course = create_course(
        root / "course" if temporary else root, exist_ok=not temporary, lang=lang
    )
    print(f"demo course: {course.root} (edition: {lang})")
    api = course.api()
    db_url = str(course.load_config().CourseDirectory.db_url)
    unexpected = []
    with contextlib.ExitStack() as stack:  # one local cluster, started for the first homework
        cluster = None
        for homework in homeworks:
            spec = load_spec(homework)
            assignment = spec.assignment
            outcome = api.generate_assignment(assignment, force=True, create=True)
            if not outcome["success"]:
                print(f"could not release {assignment}: {outcome.get('error')}")
                return 1
            release = course.folder("release", assignment, f"{assignment}.ipynb")
            expected = {}
            for sample in samples(homework, nbformat.read(release, as_version=4), lang):
                folder = course.folder("submitted", sample.student, assignment)
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(sample.notebook, folder / f"{assignment}.ipynb")
                expected[sample.student] = sample.expected
            print(f"\n== {assignment}: {len(expected)} submissions")
            if cluster is None:  # one cluster for every homework: its workers stay warm
                started = time.monotonic()
                cluster = stack.enter_context(local_cluster(workers))
                grading += time.monotonic() - started
            result = grade_batch(
                course, assignment, progress=progress_bar, scheduler=cluster.scheduler_address
            )
            grading += result.seconds
            submissions += len(expected)
            records = read_records(course, assignment)
            print()
            failed = not_graded(course, [assignment]).get(assignment)
            print(grade_table(db_url, assignment, COURSE_ID, not_graded=failed))
            for student, why in result.failed.items():
                print(f"not graded: {student}: {why}")
                unexpected.append(f"{assignment}/{student}: not graded")
            review = [(s, reason) for s, r in sorted(records.items()) for reason in r["review"]]
            if review:
                print("for review:")
                for student, reason in review:
                    print(f"  {student}: {reason[:150]}")
            for student, want in expected.items():
                if student in records and not _meets(want, records[student]):
                    unexpected.append(f"{assignment}/{student}: expected {want}")
                if student in records and not _in_language(lang, records[student]):
                    unexpected.append(f"{assignment}/{student}: a message not in {lang}")
            feedback = api.generate_feedback(assignment, force=True)
            if not feedback["success"]:
                unexpected.append(f"{assignment}: feedback failed")

    out = course.root / "exports"
    assignments = [load_spec(h).assignment for h in homeworks]
    records = {assignment: read_records(course, assignment) for assignment in assignments}
    for fmt in FORMATS:  # today's CSVs in exports/, each LMS's files in exports/<format>/
        done = export(fmt, db_url, out if fmt == "csv" else out / fmt, COURSE_ID, records)
        shown = [p for p in done.paths if p.name != "results.json"]
        for path in shown:
            print(f"export ({fmt}): {path}")
        if len(shown) < len(done.paths):
            count = len(done.paths) - len(shown)
            print(f"export ({fmt}): {count} results.json in {out / fmt}/<assignment>/<student>/")
    report = write_report(db_url, out, COURSE_ID, review=review_items(records))
    print(f"report: {report}")
    print(f"\nfeedback: {course.folder('feedback')}/<student>/<assignment>/*.html")
    print(
        f"grading took {grading:.0f} s for {submissions} submissions (the cluster's start included)"
    )
    print(f"demo finished in {time.monotonic() - start:.0f} s")
    if unexpected:
        print("UNEXPECTED GRADES:\n  " + "\n  ".join(unexpected))
        return 1
    print("every sample got the grade it should: references full, blanks zero, each bug and")
    print("each attack only the task it is in")
    if temporary:
        print(f"(the course stays in {course.root}; remove it when done)")
    return 0
