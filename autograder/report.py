"""Grade export and statistics for instructors, read from an nbgrader gradebook.

    export_grades(db_url, out_dir) -> [grades_<assignment>.csv ..., grades_overall.csv]
    write_report(db_url, out_dir) -> report.html
    summary(db_url) -> str                      # one line per assignment, for a terminal
    grade_table(db_url, assignment) -> str      # student × task, fixed width, for a terminal
    python -m autograder.report {export,report,summary,table} DB_URL ...

nbgrader's own ``nbgrader export`` writes one total per student and assignment; this module writes
one column per graded cell. The gradebook is opened read-only (an SQLite file must already exist:
nothing is created or written; on PostgreSQL every transaction is read-only), and every file goes to
a temporary name in ``out_dir`` first and is renamed into place, so a crash never leaves half a CSV.

**Cells.** The graded cells of an assignment are its grade cells and task cells, notebook by notebook
(notebooks by name), in notebook order (the order ``nbgrader generate_assignment`` recorded them in;
other databases than SQLite keep no order, and the cells come by name). A cell's column is named by its
grade_id, less the ``test_`` prefix for an autograded test cell (a code grade cell that is not also a
solution cell): ``test_mse`` -> ``mse``, ``written_learning_rates`` stays. A name that would clash
with another column keeps its full grade_id, or takes its notebook's name as a prefix.

**Scores.** A cell's score is nbgrader's :attr:`nbgrader.api.Grade.score`: the manual score if a
grader set one, else the autograder's, plus any extra credit. A cell with neither score (a written
answer nobody has graded yet) is left empty in the CSV and counts 0 in the total, as in nbgrader's
own totals; ``needs_manual_grade`` says that such cells remain.

**Course.** ``course_id=None`` (the default) takes every assignment in the gradebook (a gradebook
usually holds one course); a course id keeps that course's assignments only.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import html
import io
import math
import os
import statistics
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

__all__ = [
    "AssignmentGrades",
    "CellInfo",
    "ReportError",
    "StudentRow",
    "export_grades",
    "failure_rates",
    "grade_table",
    "load_grades",
    "main",
    "summary",
    "write_report",
]

#: the columns of a per-assignment CSV that are not cells
FIXED_COLUMNS = ("student", "total", "max", "needs_manual_grade", "status")
#: the tables nbgrader's gradebook must have for this module to read it
REQUIRED_TABLES = (
    "assignment",
    "notebook",
    "base_cell",
    "student",
    "submitted_assignment",
    "grade",
)


class ReportError(Exception):
    """Bad input (no gradebook, an unknown assignment or course): the message says what and where."""


@dataclass(frozen=True)
class CellInfo:
    """One graded cell of an assignment.

    ``column`` is its CSV column, ``grade_id`` and ``notebook`` where it is in the gradebook,
    ``max_score`` its points, and ``autograded`` whether it is a test cell scored by the
    autograder (a written answer or a task cell is graded by hand).
    """

    column: str
    grade_id: str
    notebook: str
    max_score: float
    autograded: bool


@dataclass(frozen=True)
class StudentRow:
    """One student's grades on one assignment.

    ``scores`` maps a cell's column to its score (None: not graded yet); it is None when the student
    has no submission. ``total`` is nbgrader's total (ungraded cells count 0), None when missing.
    """

    student: str
    scores: dict[str, float | None] | None
    total: float | None
    needs_manual_grade: bool

    @property
    def missing(self) -> bool:
        return self.scores is None


@dataclass(frozen=True)
class AssignmentGrades:
    """An assignment's graded cells (in notebook order) and one row per student (sorted by id)."""

    name: str
    duedate: dt.datetime | None
    cells: tuple[CellInfo, ...]
    rows: tuple[StudentRow, ...]

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells)

    @property
    def submitted(self) -> list[StudentRow]:
        return [r for r in self.rows if not r.missing]

    @property
    def totals(self) -> list[float]:
        return [r.total for r in self.submitted if r.total is not None]


# ---------------------------------------------------------------- reading the gradebook


def _where(db_url: str) -> str:
    """The gradebook's location for messages: the file of an SQLite URL, else the URL sans password."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def _read_only_url(db_url: str) -> str:
    """Check the URL and return it read-only: for SQLite, a read-only URL of a file that exists;
    for PostgreSQL over libpq (psycopg, psycopg2), one whose transactions are all read-only.

    Without this, opening ``sqlite:///no/such.db`` would create an empty gradebook there.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise ReportError(
            f"not a database URL: {db_url!r} (an nbgrader gradebook file is sqlite:///path/gradebook.db)"
        ) from None
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        # libpq's `options`, after the caller's: the server itself refuses any write of this session
        options = url.query.get("options", ())
        options = " ".join([options] if isinstance(options, str) else options)
        options = f"{options} -c default_transaction_read_only=on".lstrip()
        return url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    if url.get_backend_name() != "sqlite":
        return db_url
    database = url.database or ""
    if database.startswith("file:"):  # already an SQLite URI: the caller chose its mode
        return db_url
    if database in ("", ":memory:"):
        raise ReportError(f"no gradebook at {db_url!r}: an in-memory database is empty")
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise ReportError(f"no gradebook at {path}")
    return f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true"


@contextmanager
def _gradebook(db_url: str) -> Iterator[object]:
    """Open the gradebook read-only; ReportError if it is missing, unreadable or not a gradebook."""
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    url = _read_only_url(db_url)
    where = _where(db_url)
    try:
        engine = create_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
    except SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        raise ReportError(f"cannot read the gradebook at {where}: {reason}") from None
    absent = [t for t in REQUIRED_TABLES if t not in tables]
    if absent:
        raise ReportError(
            f"{where} is not an nbgrader gradebook (it has no table {', '.join(absent)})"
        )
    try:
        # course_id "" makes nbgrader skip creating a course row: nothing is written
        gb = Gradebook(url, course_id="")
    except SQLAlchemyError as e:
        raise ReportError(f"cannot read the gradebook at {where}: {e}") from None
    try:
        yield gb
    finally:
        gb.close()


def _graded_cells(gb, notebook) -> list:
    """The notebook's grade and task cells in the order they were recorded (SQLite), else by name."""
    from nbgrader.api import BaseCell, GradeCell, TaskCell
    from sqlalchemy import literal_column

    query = gb.db.query(BaseCell).filter(
        BaseCell.notebook_id == notebook.id,
        BaseCell.type.in_(["GradeCell", "TaskCell"]),
    )
    if gb.engine.dialect.name == "sqlite":
        query = query.order_by(literal_column("base_cell.rowid"))
    else:
        query = query.order_by(BaseCell.name)
    return [c for c in query.all() if isinstance(c, GradeCell | TaskCell)]


def _cell_infos(gb, assignment) -> list[tuple[str, CellInfo]]:
    """(cell id, CellInfo) for every graded cell of the assignment, with unique column names."""
    from nbgrader.api import GradeCell

    found = []
    for notebook in assignment.notebooks:
        solutions = {c.name for c in notebook.solution_cells}
        for cell in _graded_cells(gb, notebook):
            autograded = (
                isinstance(cell, GradeCell)
                and cell.cell_type == "code"
                and cell.name not in solutions
            )
            short = cell.name
            if autograded and short.startswith("test_") and len(short) > len("test_"):
                short = short[len("test_") :]
            found.append((cell, notebook.name, short, autograded))

    # a short name shared by several cells (or equal to a fixed column) gives way to the grade_id,
    # and a grade_id shared by several notebooks to notebook/grade_id
    shorts = Counter(short for _, _, short, _ in found)
    first = [
        short if shorts[short] == 1 and short not in FIXED_COLUMNS else cell.name
        for cell, _, short, _ in found
    ]
    firsts = Counter(first)
    result = []
    taken: set[str] = set(FIXED_COLUMNS)
    for (cell, notebook, _, autograded), column in zip(found, first, strict=True):
        if firsts[column] > 1 or column in FIXED_COLUMNS:
            column = f"{notebook}/{cell.name}"
        while column in taken:  # a task cell and a grade cell of one name in one notebook
            column += "'"
        taken.add(column)
        info = CellInfo(column, cell.name, notebook, float(cell.max_score), autograded)
        result.append((cell.id, info))
    return result


def _assignments(gb, course_id: str | None) -> list:
    """The assignments, by due date (those without one last), then by name."""
    from nbgrader.api import Assignment

    everything = gb.db.query(Assignment).all()
    if course_id is not None:
        chosen = [a for a in everything if a.course_id == course_id]
        if not chosen:
            courses = sorted({a.course_id for a in everything})
            known = ", ".join(repr(c) for c in courses) if courses else "none"
            raise ReportError(
                f"no assignment of course {course_id!r} in the gradebook; its courses: {known}"
            )
        everything = chosen
    return sorted(
        everything, key=lambda a: (a.duedate is None, a.duedate or dt.datetime.min, a.name)
    )


def _load(gb, assignment) -> AssignmentGrades:
    from nbgrader.api import Student

    cells = _cell_infos(gb, assignment)
    by_student = {s.student.id: s for s in assignment.submissions}
    rows = []
    for student in sorted(s.id for s in gb.db.query(Student).all()):
        submission = by_student.get(student)
        if submission is None:
            rows.append(StudentRow(student, None, None, False))
            continue
        grades = {g.cell_id: g for nb in submission.notebooks for g in nb.grades}
        scores: dict[str, float | None] = {}
        total = 0.0
        manual = False
        for cell_id, info in cells:
            grade = grades.get(cell_id)
            if grade is None or (grade.auto_score is None and grade.manual_score is None):
                scores[info.column] = None
            else:
                scores[info.column] = float(grade.score)
                total += float(grade.score)
            manual = manual or bool(grade is not None and grade.needs_manual_grade)
        rows.append(StudentRow(student, scores, total, manual))
    return AssignmentGrades(
        name=assignment.name,
        duedate=assignment.duedate,
        cells=tuple(info for _, info in cells),
        rows=tuple(rows),
    )


def load_grades(db_url: str, course_id: str | None = None) -> list[AssignmentGrades]:
    """Every assignment's grades, per student and cell (see the module docstring for the rules)."""
    with _gradebook(db_url) as gb:
        return [_load(gb, a) for a in _assignments(gb, course_id)]


def _load_one(db_url: str, assignment: str, course_id: str | None) -> AssignmentGrades:
    everything = load_grades(db_url, course_id)
    for grades in everything:
        if grades.name == assignment:
            return grades
    known = ", ".join(g.name for g in everything) or "none"
    raise ReportError(f"no assignment {assignment!r} in the gradebook; it has: {known}")


# ---------------------------------------------------------------- statistics


def _fmt(x: float | None) -> str:
    """A score as written in the CSV: up to 4 decimals, no trailing zeros (1.0 -> "1"), None -> ""."""
    if x is None:
        return ""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _full(total: float, max_score: float) -> bool:
    return total >= max_score - 1e-9


def failure_rates(grades: AssignmentGrades) -> dict[str, float]:
    """Per autograded cell (by column, notebook order): the fraction of submissions below its max.

    Only submissions whose cell has a score count (all of them once ``nbgrader autograde`` ran).
    A cell no submission has a score for is left out.
    """
    rates = {}
    for cell in grades.cells:
        if not cell.autograded:
            continue
        scores = [r.scores[cell.column] for r in grades.submitted]
        scored = [s for s in scores if s is not None]
        if scored:
            below = sum(not _full(s, cell.max_score) for s in scored)
            rates[cell.column] = below / len(scored)
    return rates


@dataclass(frozen=True)
class _CellStats:
    cell: CellInfo
    scored: int
    below: int
    mean: float

    @property
    def failure_rate(self) -> float:
        return self.below / self.scored

    @property
    def mean_fraction(self) -> float:
        return self.mean / self.cell.max_score if self.cell.max_score else 1.0


def _cell_stats(grades: AssignmentGrades) -> list[_CellStats]:
    result = []
    for cell in grades.cells:
        scored = [r.scores[cell.column] for r in grades.submitted]
        scored = [s for s in scored if s is not None]
        if scored:
            below = sum(not _full(s, cell.max_score) for s in scored)
            result.append(_CellStats(cell, len(scored), below, statistics.fmean(scored)))
    return result


def _hardest(grades: AssignmentGrades) -> list[_CellStats]:
    """Cells by mean score as a fraction of their points (lowest first), then by failure rate."""
    order = {c.column: i for i, c in enumerate(grades.cells)}
    return sorted(
        _cell_stats(grades),
        key=lambda s: (s.mean_fraction, -s.failure_rate, order[s.cell.column]),
    )


@dataclass(frozen=True)
class _Counts:
    students: int
    submissions: int
    missing: int
    full_marks: int
    zero: int
    needs_manual_grade: int
    mean: float | None
    median: float | None


def _counts(grades: AssignmentGrades) -> _Counts:
    totals = grades.totals
    return _Counts(
        students=len(grades.rows),
        submissions=len(grades.submitted),
        missing=len(grades.rows) - len(grades.submitted),
        full_marks=sum(_full(t, grades.max_score) for t in totals),
        zero=sum(t == 0 for t in totals),
        needs_manual_grade=sum(r.needs_manual_grade for r in grades.submitted),
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
    )


# ---------------------------------------------------------------- CSV export


def _atomic_write(path: Path, write) -> Path:
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
    max_score = _fmt(grades.max_score)
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
        cells = [_fmt(row.scores[c.column]) for c in grades.cells]
        manual = "yes" if row.needs_manual_grade else "no"
        table.append([row.student, *cells, _fmt(row.total), max_score, manual, "submitted"])
    return table


def _overall_table(everything: Sequence[AssignmentGrades]) -> list[list[str]]:
    header = ["student", *(g.name for g in everything), "total", "max", "missing"]
    students = sorted({r.student for g in everything for r in g.rows})
    max_score = _fmt(sum(g.max_score for g in everything))
    table = [header]
    for student in students:
        rows = [{r.student: r for r in g.rows}.get(student) for g in everything]
        totals = [None if r is None or r.missing else r.total for r in rows]
        missing = " ".join(g.name for g, t in zip(everything, totals, strict=True) if t is None)
        total = sum(t for t in totals if t is not None)
        table.append([student, *map(_fmt, totals), _fmt(total), max_score, missing])
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
        paths.append(_atomic_write(path, lambda f, t=table: csv.writer(f).writerows(t)))
    overall = _overall_table(everything)
    path = out_dir / "grades_overall.csv"
    paths.append(_atomic_write(path, lambda f: csv.writer(f).writerows(overall)))
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
    grades = _load_one(db_url, assignment, course_id)
    names = [c.column for c in grades.cells]
    stats = {s.cell.column: s for s in _cell_stats(grades)}
    counts = _counts(grades)
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
        cells = ["?" if row.scores[n] is None else _fmt(row.scores[n]) for n in names]
        body.append([row.student, *cells, _fmt(row.total), "*" if row.needs_manual_grade else ""])
    mean = "" if counts.mean is None else f"{counts.mean:.2f}"
    body.append(["mean", *(f"{stats[n].mean:.2f}" if n in stats else "" for n in names), mean, ""])
    body.append(
        ["failed", *(f"{stats[n].failure_rate:.0%}" if n in stats else "" for n in names), "", ""]
    )
    right = set(range(1, len(names) + 2))
    tail = [f"total/{_fmt(grades.max_score)}", "manual"]
    rendered = _render([["student", *names, *tail], *body], right)
    wide = max(len(line) for line in rendered.splitlines()) > width
    if wide:
        numbered = [f"[{i + 1}]" for i in range(len(names))]
        rendered = _render([["student", *numbered, *tail], *body], right)
    text = [f"{grades.name}: {counts.submissions} of {counts.students} students submitted", ""]
    text.append(rendered)
    text.append("")
    if wide:
        cells = [
            f"[{i + 1}]{_NBSP}{c.column}{_NBSP}{_fmt(c.max_score)}"
            for i, c in enumerate(grades.cells)
        ]
        legend = "columns (points): " + ", ".join(cells)
    else:
        cells = [f"{c.column}{_NBSP}{_fmt(c.max_score)}" for c in grades.cells]
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
        c = _counts(grades)
        hardest = _hardest(grades)
        worst = f"{hardest[0].cell.column} ({hardest[0].mean_fraction:.0%})" if hardest else ""
        table.append(
            [
                grades.name,
                f"{c.submissions}/{c.students}",
                "" if c.mean is None else f"{c.mean:.2f}",
                "" if c.median is None else _fmt(c.median),
                _fmt(grades.max_score),
                str(c.full_marks),
                str(c.zero),
                str(c.needs_manual_grade),
                worst,
            ]
        )
    legend = (
        "full: full marks; zero: scored 0; manual: waiting for a grader; "
        "hardest: lowest mean score (share of the cell's points)"
    )
    return _render(table, set(range(1, 8))) + "\n\n" + legend


# ---------------------------------------------------------------- HTML report


def _png(fig) -> str:
    """The figure as a base64 PNG (Agg canvas, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _histogram(grades: AssignmentGrades, counts: _Counts) -> str:
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
    if counts.mean is not None:
        ax.axvline(counts.mean, color="#dd8452", linestyle="--", label=f"mean {counts.mean:.2f}")
        median = f"median {_fmt(counts.median)}"
        ax.axvline(counts.median, color="#55a868", linestyle=":", label=median)
        ax.legend(loc="upper center", ncols=2, frameon=False)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1.0, float(np.max(heights))) * 1.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"total score (points, out of {_fmt(grades.max_score)}; {unit})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{grades.name}: distribution of total scores (n = {counts.submissions})")
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


_CSS = """
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
.note { color: #666; font-size: 0.9em; }
"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(grades: AssignmentGrades) -> str:
    e = html.escape
    c = _counts(grades)
    parts = [f'<h2 id="{e(grades.name)}">{e(grades.name)}</h2>']
    due = grades.duedate.isoformat(sep=" ") if grades.duedate else "none"
    parts.append(
        f'<p class="note">due {e(due)}; {len(grades.cells)} graded cells, '
        f"{_fmt(grades.max_score)} points</p>"
    )
    mean = "" if c.mean is None else f"{c.mean:.2f}"
    median = "" if c.median is None else _fmt(c.median)
    parts.append(
        _html_table(
            [
                "students",
                "submissions",
                "missing",
                "full marks",
                "zero",
                "needs manual grade",
                "mean",
                "median",
                "max",
            ],
            [
                [
                    c.students,
                    c.submissions,
                    c.missing,
                    c.full_marks,
                    c.zero,
                    c.needs_manual_grade,
                    mean,
                    median,
                    _fmt(grades.max_score),
                ]
            ],
        )
    )
    if not c.submissions:
        parts.append('<p class="note">no submissions yet</p>')
        return "\n".join(parts)
    hist_alt = f"{grades.name}: histogram of total scores"
    parts.append(f'<img alt="{e(hist_alt)}" src="data:image/png;base64,{_histogram(grades, c)}">')
    rates = failure_rates(grades)
    if rates:
        fail_alt = f"{grades.name}: failure rate per test"
        chart = _failure_chart(grades, rates)
        parts.append(f'<img alt="{e(fail_alt)}" src="data:image/png;base64,{chart}">')
    else:
        parts.append('<p class="note">no autograded test has a score yet</p>')
    hardest = _hardest(grades)[:10]
    parts.append("<h3>Hardest tasks</h3>")
    parts.append(
        '<p class="note">by mean score as a share of the task\'s points, lowest first; '
        "failure rate: the share of graded submissions below the task's points</p>"
    )
    rows = [
        [
            s.cell.column,
            "autograded" if s.cell.autograded else "manual",
            _fmt(s.cell.max_score),
            f"{s.mean:.2f}",
            f"{s.mean_fraction:.0%}",
            f"{s.below}/{s.scored}",
            f"{s.failure_rate:.0%}",
        ]
        for s in hardest
    ]
    parts.append(
        _html_table(
            ["task", "kind", "points", "mean score", "mean %", "below max", "failure rate"], rows
        )
    )
    return "\n".join(parts)


def write_report(db_url: str, out_dir: Path, course_id: str | None = None) -> Path:
    """Write ``report.html`` into ``out_dir`` (self-contained: PNG figures embedded as base64).

    An overview table (one row per assignment), then per assignment: the counts (students,
    submissions, missing, full marks, zero, needing a manual grade) with the mean and median total;
    a histogram of the total scores (x: points, y: submissions, mean and median marked); a bar chart
    of the failure rate of each autograded test (the percentage of submissions scoring below the
    test's points); and the hardest tasks (lowest mean score as a share of the points first).
    """
    everything = load_grades(db_url, course_id)
    overview = []
    for grades in everything:
        c = _counts(grades)
        overview.append(
            [
                grades.name,
                f"{c.submissions}/{c.students}",
                "" if c.mean is None else f"{c.mean:.2f}",
                "" if c.median is None else _fmt(c.median),
                _fmt(grades.max_score),
                c.full_marks,
                c.zero,
                c.needs_manual_grade,
            ]
        )
    header = ["assignment", "submitted", "mean", "median", "max", "full marks", "zero", "manual"]
    body = [
        "<h1>Grade report</h1>",
        f'<p class="note">gradebook {html.escape(_where(db_url))}</p>',
        _html_table(header, overview) if everything else "<p>the gradebook has no assignments</p>",
        *(_section(g) for g in everything),
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Grade report</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    return _atomic_write(Path(out_dir) / "report.html", lambda f: f.write(page))


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograder.report``: export, report, summary or table; bad input exits 2."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--course", default=None, help="keep only this course's assignments")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("export", "report"):
        p = sub.add_parser(name, help=f"write the {'CSVs' if name == 'export' else 'report.html'}")
        p.add_argument("db_url")
        p.add_argument("out_dir", type=Path)
    p = sub.add_parser("summary", help="one line per assignment")
    p.add_argument("db_url")
    p = sub.add_parser("table", help="student × task table of one assignment")
    p.add_argument("db_url")
    p.add_argument("assignment")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            for path in export_grades(args.db_url, args.out_dir, args.course):
                print(path)
        elif args.command == "report":
            print(write_report(args.db_url, args.out_dir, args.course))
        elif args.command == "summary":
            print(summary(args.db_url, args.course))
        else:
            print(grade_table(args.db_url, args.assignment, args.course))
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
