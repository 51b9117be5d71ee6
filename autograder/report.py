"""Grades for instructors, written out: CSV exports, terminal tables and ``report.html``.

    export_grades(db_url, out_dir) -> [grades_<assignment>.csv ..., grades_overall.csv]
    write_review_csv(items, out_dir) -> review.csv
    write_report(db_url, out_dir, review=items) -> report.html
    summary(db_url) -> str                      # one line per assignment, for a terminal
    grade_table(db_url, assignment) -> str      # student × task, fixed width, for a terminal
    review_text(items) -> str                   # the review list per assignment, for a terminal
    python -m autograder export DIR / report DIR [--table ASSIGNMENT]   # the command line

The concerns are split: reading the gradebook is :mod:`autograder.grades` (read-only; the cells'
column names and the score rules are described there), the statistics :mod:`autograder.stats`, the
LMS formats (Canvas, Moodle, Gradescope, nbgrader's own CSV) :mod:`autograder.exports`; this module
writes. nbgrader's own ``nbgrader export`` writes one total per student and assignment; the CSVs here
have one column per graded cell. Every file goes to a temporary name in ``out_dir`` first and is
renamed into place, so a crash never leaves half a CSV. ``report.html`` is rendered from
``autograder/templates/report.html.j2`` by jinja2 with autoescaping on: student names and review
reasons are student-controlled text.

A cell with no score yet (a written answer nobody has graded) is empty in the CSV, ``?`` in the
terminal table, and *to grade* in the report: never a failure.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import os
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .grades import (
    FIXED_COLUMNS,
    REQUIRED_TABLES,
    AssignmentGrades,
    CellInfo,
    ReportError,
    ReviewItem,
    StudentInfo,
    StudentRow,
    load_grades,
    load_one,
    load_students,
    open_gradebook,
    review_items,
    where,
)
from .stats import Counts, cell_stats, counts, failure_rates, fmt, full_marks, hardest

__all__ = [
    "FIXED_COLUMNS",
    "REQUIRED_TABLES",
    "AssignmentGrades",
    "CellInfo",
    "ReportError",
    "ReviewItem",
    "StudentInfo",
    "StudentRow",
    "atomic_write",
    "export_grades",
    "failure_rates",
    "grade_table",
    "load_grades",
    "review_items",
    "review_text",
    "summary",
    "write_report",
    "write_review_csv",
]

# the names this module had before the split, for callers that used them
_fmt = fmt
_full = full_marks
_where = where
_gradebook = open_gradebook
_load_one = load_one
_counts = counts
_cell_stats = cell_stats
_hardest = hardest
_Counts = Counts


# ---------------------------------------------------------------- CSV export


def atomic_write(path: Path, write) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _assignment_table(
    grades: AssignmentGrades, not_graded: Mapping[str, str] | None = None
) -> list[list[str]]:
    header = ["student", *(c.column for c in grades.cells), *FIXED_COLUMNS[1:]]
    table = [header]
    max_score = fmt(grades.max_score)
    not_graded = dict(not_graded or {})
    rows = {row.student: row for row in grades.rows}
    for student in sorted(set(rows) | set(not_graded)):
        if student in not_graded:  # the grader failed on it: no grade, whatever the gradebook holds
            blank = [""] * len(grades.cells)
            table.append([student, *blank, "", max_score, "", "not graded"])
            continue
        row = rows[student]
        if row.missing:
            table.append([row.student, *([""] * len(grades.cells)), "", max_score, "", "missing"])
            continue
        cells = [fmt(row.scores[c.column]) for c in grades.cells]
        manual = "yes" if row.needs_manual_grade else "no"
        table.append([row.student, *cells, fmt(row.total), max_score, manual, "submitted"])
    return table


def _overall_table(everything: Sequence[AssignmentGrades]) -> list[list[str]]:
    header = ["student", *(g.name for g in everything), "total", "max", "missing"]
    students = sorted({r.student for g in everything for r in g.rows})
    max_score = fmt(sum(g.max_score for g in everything))
    table = [header]
    for student in students:
        rows = [{r.student: r for r in g.rows}.get(student) for g in everything]
        totals = [None if r is None or r.missing else r.total for r in rows]
        missing = " ".join(g.name for g, t in zip(everything, totals, strict=True) if t is None)
        total = sum(t for t in totals if t is not None)
        table.append([student, *map(_fmt, totals), fmt(total), max_score, missing])
    return table


def export_grades(
    db_url: str,
    out_dir: Path,
    course_id: str | None = None,
    not_graded: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Path]:
    """Write one CSV per assignment and ``grades_overall.csv`` into ``out_dir``; return their paths.

    ``grades_<assignment>.csv``, one row per student of the gradebook (sorted by id):

    - ``student``: the student's id;
    - one column per graded cell, in notebook order (named as in the module docstring): the
      cell's score in points, empty if not graded yet or if the student has no submission;
    - ``total``: the assignment's score (nbgrader's: ungraded cells count 0), empty if missing;
    - ``max``: the assignment's maximum score;
    - ``needs_manual_grade``: ``yes`` if a cell still waits for a grader, else ``no`` (empty if missing);
    - ``status``: ``submitted``, ``missing`` for a student with no submission, or ``not graded``
      where the grader failed on the submission (``not_graded``: ``{assignment: {student:
      reason}}``, from :func:`autograder.batch.not_graded`; its scores are left empty).

    ``grades_overall.csv``: ``student``, one column per assignment (by due date, then name) with
    its total (empty if missing), ``total`` (the sum; a missing assignment counts 0), ``max`` (the
    sum of the maxima) and ``missing`` (the assignments not submitted, separated by spaces).
    """
    out_dir = Path(out_dir)
    everything = load_grades(db_url, course_id)
    paths = []
    for grades in everything:
        table = _assignment_table(grades, (not_graded or {}).get(grades.name))
        path = out_dir / f"grades_{grades.name}.csv"
        paths.append(atomic_write(path, lambda f, t=table: csv.writer(f).writerows(t)))
    overall = _overall_table(everything)
    path = out_dir / "grades_overall.csv"
    paths.append(atomic_write(path, lambda f: csv.writer(f).writerows(overall)))
    return paths


# ---------------------------------------------------------------- terminal tables


def _render(table: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        parts = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


_NBSP = "\N{NO-BREAK SPACE}"  # textwrap does not break lines there


def grade_table(
    db_url: str,
    assignment: str,
    course_id: str | None = None,
    width: int = 100,
    not_graded: Mapping[str, str] | None = None,
) -> str:
    """A fixed-width table of one assignment for a terminal: one row per student, one column per cell.

    A cell shows the points scored, ``?`` if not graded yet, ``-`` if the student did not submit;
    ``total`` is out of the max in the header, ``manual`` is ``*`` when a cell waits for a grader.
    When the cell names would make the table wider than ``width``, the columns are numbered and a
    legend below names them. The last rows give each cell's mean and failure rate.
    """
    grades = load_one(db_url, assignment, course_id)
    names = [c.column for c in grades.cells]
    stats = {s.cell.column: s for s in cell_stats(grades) if s.scored}
    c = counts(grades)
    body = []
    not_graded = dict(not_graded or {})
    rows = {row.student: row for row in grades.rows}
    for student in sorted(set(rows) | set(not_graded)):
        if student in not_graded:
            body.append([student, *(["!"] * len(names)), "not graded", ""])
            continue
        row = rows[student]
        if row.missing:
            body.append([row.student, *(["-"] * len(names)), "missing", ""])
            continue
        cells = ["?" if row.scores[n] is None else fmt(row.scores[n]) for n in names]
        body.append([row.student, *cells, fmt(row.total), "*" if row.needs_manual_grade else ""])
    mean = "" if c.mean is None else f"{c.mean:.2f}"
    body.append(["mean", *(f"{stats[n].mean:.2f}" if n in stats else "" for n in names), mean, ""])
    body.append(
        ["failed", *(f"{stats[n].failure_rate:.0%}" if n in stats else "" for n in names), "", ""]
    )
    right = set(range(1, len(names) + 2))
    tail = [f"total/{fmt(grades.max_score)}", "manual"]
    rendered = _render([["student", *names, *tail], *body], right)
    wide = max(len(line) for line in rendered.splitlines()) > width
    if wide:
        numbered = [f"[{i + 1}]" for i in range(len(names))]
        rendered = _render([["student", *numbered, *tail], *body], right)
    text = [f"{grades.name}: {c.submissions} of {c.students} students submitted", ""]
    text.append(rendered)
    text.append("")
    if wide:
        cells = [
            f"[{i + 1}]{_NBSP}{c.column}{_NBSP}{fmt(c.max_score)}"
            for i, c in enumerate(grades.cells)
        ]
        legend = "columns (points): " + ", ".join(cells)
    else:
        cells = [f"{c.column}{_NBSP}{fmt(c.max_score)}" for c in grades.cells]
        legend = "points: " + ", ".join(cells)
    wrapped = textwrap.fill(legend, width, subsequent_indent="  ", break_on_hyphens=False)
    text.append(wrapped.replace(_NBSP, " "))
    text.append("?: not graded yet  -: no submission  *: waits for a grader")
    if not_graded:
        text.append("!: not graded: the grader failed on it (the next `grade` tries again)")
    text.append("failed: the share of submissions below the cell's points")
    return "\n".join(text)


def summary(db_url: str, course_id: str | None = None) -> str:
    """One line per assignment: submissions, mean and median total, full marks, zero, manual, hardest.

    ``hardest`` is the cell with the lowest mean score as a share of its points.
    """
    everything = load_grades(db_url, course_id)
    if not everything:
        return "the gradebook has no assignments"
    table = [
        ["assignment", "submitted", "mean", "median", "max", "full", "zero", "manual", "hardest"]
    ]
    for grades in everything:
        c = counts(grades)
        ranked = hardest(grades)
        worst = f"{ranked[0].cell.column} ({ranked[0].mean_fraction:.0%})" if ranked else ""
        table.append(
            [
                grades.name,
                f"{c.submissions}/{c.students}",
                "" if c.mean is None else f"{c.mean:.2f}",
                "" if c.median is None else fmt(c.median),
                fmt(grades.max_score),
                str(c.full_marks),
                str(c.zero),
                str(c.needs_manual_grade),
                worst,
            ]
        )
    legend = (
        "max: the points possible; full: students with full marks; zero: students with 0 points; "
        "manual: submissions waiting for a grader; hardest: the task with the lowest mean score "
        "(share of its points; written answers not graded yet do not count)"
    )
    return _render(table, set(range(1, 8))) + "\n\n" + textwrap.fill(legend, 100)


# ---------------------------------------------------------------- the review list

#: the columns of ``review.csv``
REVIEW_COLUMNS = ("assignment", "student", "name", "status", "reason")


def _inert(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ``= + - @`` (a formula) gets a ``'`` first."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_review_csv(
    items: Sequence[ReviewItem],
    out_dir: Path,
    students: Mapping[str, StudentInfo] | None = None,
) -> Path:
    """Write ``review.csv`` into ``out_dir``: one row per reason (header only when none).

    Columns: ``assignment``, ``student`` (id), ``name`` (from the gradebook, else empty),
    ``status`` (``not graded`` where the grader failed on the submission: it has no grade, else
    ``for review``) and ``reason``. A name or reason that a spreadsheet would run as a formula
    (it starts with ``=``, ``+``, ``-`` or ``@``) is written with a ``'`` before it.
    """
    students = students or {}
    rows = [list(REVIEW_COLUMNS)]
    for item in items:
        info = students.get(item.student)
        name = info.name if info and info.name != item.student else ""
        status = "not graded" if item.not_graded else "for review"
        rows.append([item.assignment, item.student, _inert(name), status, _inert(item.reason)])
    return atomic_write(Path(out_dir) / "review.csv", lambda f: csv.writer(f).writerows(rows))


def _printable(text: str) -> str:
    """One line without control characters (escape sequences) for a terminal."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def review_text(
    items: Sequence[ReviewItem],
    assignments: Sequence[str] | None = None,
    students: Mapping[str, StudentInfo] | None = None,
) -> str:
    """The review list for a terminal, per assignment (those of ``assignments`` in that order,
    else those of ``items``): a heading line with the count, then ``student (name): reason``."""
    students = students or {}
    names = (
        list(assignments)
        if assignments is not None
        else list(dict.fromkeys(item.assignment for item in items))
    )
    if not names:
        return "nothing to review"
    lines = []
    for assignment in names:
        mine = [item for item in items if item.assignment == assignment]
        if not mine:
            lines.append(f"{assignment}: nothing to review")
            continue
        who = {item.student for item in mine}
        failed = {item.student for item in mine if item.not_graded}
        head = f"{assignment}: {len(who)} submission{'s' * (len(who) != 1)} to review"
        lines.append(head + (f" ({len(failed)} not graded)" if failed else ""))
        for item in mine:
            info = students.get(item.student)
            name = f" ({info.name})" if info and info.name != item.student else ""
            lines.append(_printable(f"  {item.student}{name}: {item.reason}"))
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML report


def _png(fig) -> str:
    """The figure as a base64 PNG (Agg canvas, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _histogram(grades: AssignmentGrades, c: Counts) -> str:
    """Histogram of total scores: x the total in points (0 to max), y the number of submissions."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    totals = np.asarray(grades.totals, dtype=float)
    top = max(grades.max_score, float(totals.max()) if totals.size else 0.0)
    if top <= 40:  # one bar per point: bar k counts k <= total < k + 1, full marks get their own
        edges = np.arange(0, math.floor(top) + 2, dtype=float)
        unit = "bar k: k ≤ total < k + 1"
    else:
        edges = np.linspace(0, top, 21)  # the last bin includes its right edge: full marks
        unit = f"bins of {top / 20:.3g} points"
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    heights, _, _ = ax.hist(totals, bins=edges, color="#4c72b0", edgecolor="white")
    if c.mean is not None:
        ax.axvline(c.mean, color="#dd8452", linestyle="--", label=f"mean {c.mean:.2f}")
        median = f"median {fmt(c.median)}"
        ax.axvline(c.median, color="#55a868", linestyle=":", label=median)
        ax.legend(loc="upper center", ncols=2, frameon=False)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1.0, float(np.max(heights))) * 1.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"total score (points, out of {fmt(grades.max_score)}; {unit})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{grades.name}: distribution of total scores (n = {c.submissions})")
    return _png(fig)


def _failure_chart(grades: AssignmentGrades, rates: dict[str, float]) -> str:
    """Bar per autograded test: the percentage of submissions scoring below the test's points."""
    from matplotlib.figure import Figure

    names = list(rates)
    values = [100 * rates[n] for n in names]
    fig = Figure(figsize=(max(6.4, 0.8 * len(names) + 2), 3.8), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(range(len(names)), values, color="#c44e52")
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=2)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 110)
    ax.set_xlabel("autograded test")
    ax.set_ylabel("failure rate (% of submissions)")
    ax.set_title(f"{grades.name}: submissions below full marks, per test")
    return _png(fig)


def _template():
    """The report's jinja2 template, autoescaping on (names and reasons are student-controlled)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def _section(grades: AssignmentGrades) -> dict:
    """What the template shows of one assignment."""
    c = counts(grades)
    section = {
        "name": grades.name,
        "due": grades.duedate.isoformat(sep=" ") if grades.duedate else "none",
        "cells": len(grades.cells),
        "points": fmt(grades.max_score),
        "counts": [
            c.students,
            c.submissions,
            c.missing,
            c.full_marks,
            c.zero,
            c.needs_manual_grade,
            "" if c.mean is None else f"{c.mean:.2f}",
            "" if c.median is None else fmt(c.median),
            fmt(grades.max_score),
        ],
        "histogram": None,
        "failures": None,
        "hardest": [],
        "to_grade": [],
    }
    if not c.submissions:
        return section
    section["histogram"] = _histogram(grades, c)
    rates = failure_rates(grades)
    if rates:
        section["failures"] = _failure_chart(grades, rates)
    section["hardest"] = [
        [
            s.cell.column,
            "autograded" if s.cell.autograded else "manual",
            fmt(s.cell.max_score),
            f"{s.mean:.2f}",
            f"{s.mean_fraction:.0%}",
            f"{s.below}/{s.scored}",
            f"{s.failure_rate:.0%}",
        ]
        for s in hardest(grades)[:10]
    ]
    waiting = {s.cell.column: s.to_grade for s in cell_stats(grades) if s.to_grade}
    section["to_grade"] = [
        [
            cell.column,
            fmt(cell.max_score),
            f"{waiting[cell.column]} of {c.submissions}",
            " ".join(r.student for r in grades.submitted if r.scores[cell.column] is None),
        ]
        for cell in grades.cells
        if cell.column in waiting
    ]
    return section


def write_report(
    db_url: str,
    out_dir: Path,
    course_id: str | None = None,
    review: Sequence[ReviewItem] | None = None,
) -> Path:
    """Write ``report.html`` into ``out_dir`` (self-contained: PNG figures embedded as base64).

    An overview table (one row per assignment); the review list when ``review`` is given (student,
    name, assignment, reason: :func:`autograder.grades.review_items` of the grader's records), then
    per assignment: the counts (students, submitted, missing, students with full marks, with 0
    points, waiting for a grader) with the mean and median total and the points possible; a
    histogram of the total scores (x: points, y: submissions, mean and median marked); a bar chart
    of the failure rate of each autograded test (the percentage of submissions scoring below the
    test's points); the hardest tasks (lowest mean score as a share of the points first; only
    scored cells count); and the written answers still *to grade*, with who waits.
    """
    everything = load_grades(db_url, course_id)
    students = load_students(db_url) if review else {}
    overview = []
    for grades in everything:
        c = counts(grades)
        overview.append(
            [
                grades.name,
                f"{c.submissions}/{c.students}",
                "" if c.mean is None else f"{c.mean:.2f}",
                "" if c.median is None else fmt(c.median),
                fmt(grades.max_score),
                c.full_marks,
                c.zero,
                c.needs_manual_grade,
            ]
        )
    review_rows = None
    if review is not None:
        review_rows = []
        for item in review:
            info = students.get(item.student)
            name = info.name if info and info.name != item.student else ""
            status = "not graded" if item.not_graded else "for review"
            review_rows.append([item.assignment, item.student, name, status, item.reason])
    page = _template().render(
        gradebook=where(db_url),
        overview=overview,
        review=review_rows,
        sections=[_section(g) for g in everything],
    )
    return atomic_write(Path(out_dir) / "report.html", lambda f: f.write(page))


if __name__ == "__main__":  # the one command line is `python -m autograder`
    print(
        "error: report is a command of `python -m autograder` now: python -m autograder report DIR "
        "(report.html and a summary; --table ASSIGNMENT) or export DIR (see their --help)",
        file=sys.stderr,
    )
    sys.exit(2)
