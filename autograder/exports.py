"""Grades in the formats an LMS imports: Canvas, Moodle, Gradescope, and nbgrader's own CSV.

    export("canvas", db_url, out_dir, records=records) -> Exported(paths, not_graded, waiting)
    python -m autograder export DIR --format canvas|moodle|gradescope|nbgrader|csv

``records`` are the grader's records, ``{assignment: {student: record}}``
(:func:`autograder.batch.read_records`): they say which submissions the grader failed on (*not
graded*), hold the review list and, for Gradescope, each task's message to the student. Every
format also writes ``review.csv`` (:func:`autograder.report.write_review_csv`) next to its files:
the grader's review reasons and the not-graded submissions, one row per reason. The LMS files
themselves never carry it: an extra column would be read as one more assignment.

What a cell holds, in every format:

- a submission: nbgrader's score after its late penalty (``total - late_submission_penalty``,
  never below 0, as ``nbgrader export`` computes it); a written answer not graded yet counts 0
  in it, as in nbgrader's totals (:attr:`Exported.waiting` lists those submissions);
- no submission: *no grade*, never 0 (Canvas: an empty cell; Moodle: ``-``, its own mark for no
  grade; nbgrader's CSV keeps nbgrader's 0.0, that being its format);
- a submission the grader failed on (*not graded*): no grade in every format, nbgrader's CSV
  included, whatever an earlier grading left in the gradebook; it is in ``review.csv``.

**Canvas** (``canvas_grades.csv``): Canvas's gradebook import format, as Canvas's own gradebook export
writes it: ``Student`` ("Last, First"), ``ID`` (Canvas's user id: nbgrader's ``lms_user_id``),
``SIS User ID`` (the nbgrader student id), ``SIS Login ID`` (the email), ``Section`` (empty), then one
column per assignment headed by its nbgrader name, and a ``Points Possible`` row first.

**Moodle** (``moodle_grades.csv``): ``First name``, ``Last name``, ``ID number`` (the nbgrader student
id), ``Email address``, then one column per assignment: map the users from ``Email address`` (or
``ID number``) on Moodle's import page.

**Gradescope** (``<assignment>/<student>/results.json``): Gradescope's autograder results format:
``score`` (the score above), ``execution_time`` (the grading's seconds), ``output``, ``visibility``
and ``tests``, one per graded cell with a score (``name``, ``score``, ``max_score``, ``status``,
``output``, ``visibility``). A test's output is the message the student's feedback shows (from the
record), a written answer's "graded by hand"; never a hidden test, a review reason or anything else
of the grader's. A not-graded submission gets no ``results.json`` (an old one is removed).

**nbgrader** (``grades.csv``): exactly what ``nbgrader export`` writes (its ``CsvExportPlugin``):
``assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
late_submission_penalty, score, max_score``, one row per assignment and student in nbgrader's order,
values as nbgrader prints them; except the not-graded submissions' three scores, left empty, and
fields quoted where CSV needs it (nbgrader writes a comma in a name as it is).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .feedback import student_message
from .grades import (
    AssignmentGrades,
    StudentInfo,
    load_grades,
    load_students,
    open_gradebook,
    review_items,
)
from .report import atomic_write, export_grades, write_review_csv
from .stats import fmt

__all__ = [
    "FORMATS",
    "NBGRADER_COLUMNS",
    "VISIBILITIES",
    "Exported",
    "canvas_table",
    "export",
    "gradescope_results",
    "moodle_table",
    "nbgrader_table",
]

#: the ``--format`` choices; ``csv`` is this package's own CSVs (a column per task)
FORMATS = ("csv", "canvas", "moodle", "gradescope", "nbgrader")
#: Gradescope's visibility settings
VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("First name", "Last name", "ID number", "Email address")
#: Moodle's mark for "no grade" in an imported cell (an empty cell is not one for a new grade item)
MOODLE_NO_GRADE = "-"
NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)

Records = Mapping[str, Mapping[str, Mapping]]


@dataclass
class Exported:
    """What an export wrote: ``paths`` (the review list last), the ``(assignment, student)`` pairs
    left without a grade because the grader failed on them (``not_graded``), those whose grade
    counts a written answer not graded yet as 0 (``waiting``), and for Gradescope those whose
    student id cannot be a folder name (``skipped``: ``/``, ``.``, ``..``)."""

    paths: list[Path] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _failed(records: Records) -> dict[str, dict[str, str]]:
    """``{assignment: {student: reason}}`` of the records that say *not graded*."""
    found: dict[str, dict[str, str]] = {}
    for assignment, by_student in records.items():
        for student, record in by_student.items():
            if record.get("status") == "not graded":
                found.setdefault(assignment, {})[student] = str(record.get("reason") or "")
    return found


def _students(everything: Sequence[AssignmentGrades], failed: Mapping) -> list[str]:
    ids = {r.student for g in everything for r in g.rows}
    ids |= {s for g in everything for s in failed.get(g.name, {})}
    return sorted(ids)


def _grade(grades: AssignmentGrades, student: str, failed: Mapping) -> float | None:
    """The score to import: after the late penalty; None for no submission or *not graded*."""
    if student in failed.get(grades.name, {}):
        return None
    row = next((r for r in grades.rows if r.student == student), None)
    return None if row is None else row.final


def _sortable_name(info: StudentInfo) -> str:
    if info.last_name and info.first_name:
        return f"{info.last_name}, {info.first_name}"
    return info.last_name or info.first_name or info.id


def canvas_table(
    everything: Sequence[AssignmentGrades],
    students: Mapping[str, StudentInfo],
    failed: Mapping[str, Mapping[str, str]],
) -> list[list[str]]:
    """Canvas's gradebook import CSV as rows (see the module docstring)."""
    table = [[*CANVAS_COLUMNS, *(g.name for g in everything)]]
    table.append(["Points Possible", "", "", "", "", *(fmt(g.max_score) for g in everything)])
    for student in _students(everything, failed):
        info = students.get(student, StudentInfo(student))
        who = [_sortable_name(info), info.lms_user_id, student, info.email, ""]
        table.append([*who, *(fmt(_grade(g, student, failed)) for g in everything)])
    return table


def moodle_table(
    everything: Sequence[AssignmentGrades],
    students: Mapping[str, StudentInfo],
    failed: Mapping[str, Mapping[str, str]],
) -> list[list[str]]:
    """Moodle's grade import CSV as rows (see the module docstring)."""
    table = [[*MOODLE_COLUMNS, *(g.name for g in everything)]]
    for student in _students(everything, failed):
        info = students.get(student, StudentInfo(student))
        grades = [_grade(g, student, failed) for g in everything]
        cells = [MOODLE_NO_GRADE if x is None else fmt(x) for x in grades]
        table.append([info.first_name, info.last_name, student, info.email, *cells])
    return table


def _nbgrader_text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def nbgrader_table(
    db_url: str, course_id: str | None, failed: Mapping[str, Mapping[str, str]]
) -> list[list[str]]:
    """``nbgrader export``'s CSV as rows, read with nbgrader's own API as its plugin reads it."""
    from nbgrader.api import MissingEntry

    table = [list(NBGRADER_COLUMNS)]
    with open_gradebook(db_url) as gb:
        assignments = [a for a in gb.assignments if course_id is None or a.course_id == course_id]
        for assignment in assignments:
            for student in gb.students:
                row = {
                    "assignment": assignment.name,
                    "duedate": assignment.duedate,
                    "student_id": student.id,
                    "last_name": student.last_name,
                    "first_name": student.first_name,
                    "email": student.email,
                    "max_score": assignment.max_score,
                }
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
                else:
                    penalty = submission.late_submission_penalty
                    row.update(
                        timestamp=submission.timestamp,
                        raw_score=submission.score,
                        late_submission_penalty=penalty,
                        score=max(0.0, submission.score - penalty),
                    )
                    if student.id in failed.get(assignment.name, {}):
                        row.update(raw_score=None, late_submission_penalty=None, score=None)
                table.append([_nbgrader_text(row[key]) for key in NBGRADER_COLUMNS])
    return table


def _safe_folder(name: str) -> bool:
    """A student id usable as one folder name (collect makes them so; the gradebook may not)."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")


def gradescope_results(
    grades: AssignmentGrades,
    student: str,
    record: Mapping | None,
    visibility: str = "after_published",
) -> dict | None:
    """Gradescope's ``results.json`` of one submission (see the module docstring); None when the
    student has no submission in the gradebook."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility {visibility!r}: one of {', '.join(VISIBILITIES)}")
    row = next((r for r in grades.rows if r.student == student), None)
    if row is None or row.missing:
        return None
    messages = (record or {}).get("tasks") or {}
    tests = []
    waiting = []
    for cell in grades.cells:
        score = row.scores[cell.column]
        if score is None:
            points = fmt(cell.max_score)
            waiting.append(f"{cell.column}: not graded yet ({points} points, graded by hand)")
            continue
        if cell.autograded:
            task = messages.get(cell.grade_id.removeprefix("test_")) or messages.get(cell.column)
            output = str(task[2]) if isinstance(task, list | tuple) and len(task) > 2 else ""
            output = student_message(output)  # the student's wording, as in the feedback
        else:
            output = "graded by hand"
        tests.append(
            {
                "name": cell.column,
                "score": float(score),
                "max_score": float(cell.max_score),
                "status": "passed" if score >= cell.max_score - 1e-9 else "failed",
                "output": output,
                "visibility": visibility,
            }
        )
    lines = [f"{grades.name}: {fmt(row.total)} of {fmt(grades.max_score)} points"]
    if row.late_penalty:
        penalty = fmt(row.late_penalty)
        lines.append(f"late submission: nbgrader's late penalty {penalty}, score {fmt(row.final)}")
    lines.extend(waiting)
    results = {"score": float(row.final), "output": "\n".join(lines), "visibility": visibility}
    seconds = (record or {}).get("seconds")
    if isinstance(seconds, int | float) and seconds >= 0:
        results["execution_time"] = round(float(seconds), 2)
    results["tests"] = tests
    return results


def _write_csv(path: Path, table: list[list[str]]) -> Path:
    return atomic_write(path, lambda f: csv.writer(f, lineterminator="\n").writerows(table))


def _write_json(path: Path, data: dict) -> Path:
    return atomic_write(
        path, lambda f: f.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    )


def export(
    fmt_name: str,
    db_url: str,
    out_dir: Path,
    course_id: str | None = None,
    records: Records | None = None,
    visibility: str = "after_published",
) -> Exported:
    """Write the grades of the gradebook at ``db_url`` in format ``fmt_name`` (one of
    :data:`FORMATS`) into ``out_dir`` (created, with its parents), and ``review.csv`` with them."""
    if fmt_name not in FORMATS:
        raise ValueError(f"format {fmt_name!r}: one of {', '.join(FORMATS)}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility {visibility!r}: one of {', '.join(VISIBILITIES)}")
    out_dir = Path(out_dir)
    records = records or {}
    failed = _failed(records)
    everything = load_grades(db_url, course_id)
    students = load_students(db_url)
    result = Exported()
    for grades in everything:
        by_hand = {c.column for c in grades.cells if not c.autograded}
        for row in grades.submitted:
            if row.student not in failed.get(grades.name, {}) and by_hand & set(row.to_grade):
                result.waiting.append((grades.name, row.student))
    result.not_graded = sorted((a, s) for a, by in failed.items() for s in by)

    if fmt_name == "csv":
        result.paths += export_grades(db_url, out_dir, course_id, not_graded=failed)
    elif fmt_name == "canvas":
        table = canvas_table(everything, students, failed)
        result.paths.append(_write_csv(out_dir / "canvas_grades.csv", table))
    elif fmt_name == "moodle":
        table = moodle_table(everything, students, failed)
        result.paths.append(_write_csv(out_dir / "moodle_grades.csv", table))
    elif fmt_name == "nbgrader":
        table = nbgrader_table(db_url, course_id, failed)
        result.paths.append(_write_csv(out_dir / "grades.csv", table))
    else:
        for grades in everything:
            by_student = records.get(grades.name, {})
            for row in grades.submitted:
                if not _safe_folder(row.student) or not _safe_folder(grades.name):
                    result.skipped.append((grades.name, row.student))  # never a path elsewhere
                    continue
                path = out_dir / grades.name / row.student / "results.json"
                if row.student in failed.get(grades.name, {}):
                    if path.is_file() and not path.is_symlink():
                        os.unlink(path)  # an old grade must not stay importable
                    continue
                data = gradescope_results(
                    grades, row.student, by_student.get(row.student), visibility
                )
                result.paths.append(_write_json(path, data))
    result.paths.append(write_review_csv(review_items(records), out_dir, students))
    return result
