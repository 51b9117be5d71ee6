"""What was graded: nbgrader's gradebook, read-only, and the review list of the grader's records.

    load_grades(db_url) -> [AssignmentGrades ...]       # per assignment: cells, one row per student
    load_students(db_url) -> {id: StudentInfo}           # names, email, LMS user id
    open_gradebook(db_url)                               # nbgrader's Gradebook, read-only (a context)
    review_items({assignment: {student: record}}) -> [ReviewItem ...]

The gradebook is opened read-only: an SQLite file must already exist (nothing is created or
written); on PostgreSQL every transaction is read-only. Bad input (no gradebook, not a gradebook,
an unknown course or assignment) raises :class:`ReportError` with a one-line message.

**Cells.** The graded cells of an assignment are its grade cells and task cells, notebook by notebook
(notebooks by name), in notebook order (the order ``nbgrader generate_assignment`` recorded them in;
other databases than SQLite keep no order, and the cells come by name). A cell's column is named by its
grade_id, less the ``test_`` prefix for an autograded test cell (a code grade cell that is not also a
solution cell): ``test_mse`` -> ``mse``, ``written_learning_rates`` stays. A name that would clash
with another column keeps its full grade_id, or takes its notebook's name as a prefix.

**Scores.** A cell's score is nbgrader's :attr:`nbgrader.api.Grade.score`: the manual score if a
grader set one, else the autograder's, plus any extra credit. A cell with neither score (a written
answer nobody has graded yet: *to grade*) has the score None and counts 0 in the total, as in
nbgrader's own totals. The late penalty is nbgrader's (``late_submission_penalty``, set by the
course's late-submission plugin): the total is before it, :attr:`StudentRow.final` after it.

**Course.** ``course_id=None`` (the default) takes every assignment in the gradebook (a gradebook
usually holds one course); a course id keeps that course's assignments only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import UserError

__all__ = [
    "FIXED_COLUMNS",
    "AssignmentGrades",
    "CellInfo",
    "ReportError",
    "ReviewItem",
    "StudentInfo",
    "StudentRow",
    "load_grades",
    "load_one",
    "load_students",
    "open_gradebook",
    "review_items",
    "where",
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


class ReportError(UserError):
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
    has no submission. ``total`` is nbgrader's total (ungraded cells count 0, before the late
    penalty), None when missing; ``timestamp`` and ``late_penalty`` are the submission's.
    """

    student: str
    scores: dict[str, float | None] | None
    total: float | None
    needs_manual_grade: bool
    timestamp: dt.datetime | None = None
    late_penalty: float = 0.0

    @property
    def missing(self) -> bool:
        return self.scores is None

    @property
    def final(self) -> float | None:
        """The score after nbgrader's late penalty (never below 0, as ``nbgrader export``), None when
        missing."""
        if self.total is None:
            return None
        return max(0.0, self.total - self.late_penalty)

    @property
    def to_grade(self) -> list[str]:
        """The columns of the cells with no score yet (written answers waiting for a grader)."""
        return [column for column, score in (self.scores or {}).items() if score is None]


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


def where(db_url: str) -> str:
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
def open_gradebook(db_url: str) -> Iterator[object]:
    """Open the gradebook read-only; ReportError if it is missing, unreadable or not a gradebook."""
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    url = _read_only_url(db_url)
    where_ = where(db_url)
    try:
        engine = create_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
    except SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        raise ReportError(f"cannot read the gradebook at {where_}: {reason}") from None
    absent = [t for t in REQUIRED_TABLES if t not in tables]
    if absent:
        raise ReportError(
            f"{where_} is not an nbgrader gradebook (it has no table {', '.join(absent)})"
        )
    try:
        # course_id "" makes nbgrader skip creating a course row: nothing is written
        gb = Gradebook(url, course_id="")
    except SQLAlchemyError as e:
        raise ReportError(f"cannot read the gradebook at {where_}: {e}") from None
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
        rows.append(
            StudentRow(
                student,
                scores,
                total,
                manual,
                timestamp=submission.timestamp,
                late_penalty=float(submission.late_submission_penalty or 0.0),
            )
        )
    return AssignmentGrades(
        name=assignment.name,
        duedate=assignment.duedate,
        cells=tuple(info for _, info in cells),
        rows=tuple(rows),
    )


def load_grades(db_url: str, course_id: str | None = None) -> list[AssignmentGrades]:
    """Every assignment's grades, per student and cell (see the module docstring for the rules)."""
    with open_gradebook(db_url) as gb:
        return [_load(gb, a) for a in _assignments(gb, course_id)]


def load_one(db_url: str, assignment: str, course_id: str | None) -> AssignmentGrades:
    everything = load_grades(db_url, course_id)
    for grades in everything:
        if grades.name == assignment:
            return grades
    known = ", ".join(g.name for g in everything) or "none"
    raise ReportError(f"no assignment {assignment!r} in the gradebook; it has: {known}")


def load_students(db_url: str) -> dict[str, StudentInfo]:
    """Every student of the gradebook by id: names, email and LMS user id (empty strings if unset)."""
    from nbgrader.api import Student

    with open_gradebook(db_url) as gb:
        return {
            s.id: StudentInfo(
                s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or ""
            )
            for s in gb.db.query(Student).all()
        }


@dataclass(frozen=True)
class StudentInfo:
    """A student as nbgrader's gradebook knows them (``nbgrader db student import`` fills it)."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    @property
    def name(self) -> str:
        """The first and last name, or the id when the gradebook has no name."""
        return " ".join(n for n in (self.first_name, self.last_name) if n) or self.id


# ---------------------------------------------------------------- the grader's review list


@dataclass(frozen=True)
class ReviewItem:
    """One reason for an instructor to look at a submission.

    ``not_graded`` is True when the grader failed on it (no grade: never count it as 0).
    """

    assignment: str
    student: str
    reason: str
    not_graded: bool = False


def review_items(records: Mapping[str, Mapping[str, Mapping]]) -> list[ReviewItem]:
    """The review list of ``{assignment: {student: record}}`` (the grader's records,
    :func:`autograder.batch.read_records`): each record's ``review`` reasons, and a *not graded*
    one for every submission the grader failed on (``"status": "not graded"``), by assignment (in
    the order given), then student, then the record's order."""
    items = []
    for assignment, by_student in records.items():
        for student in sorted(by_student):
            record = by_student[student]
            failed = record.get("status") == "not graded"
            reasons = [str(r) for r in (record.get("review") or []) if str(r).strip()]
            if failed and not any(r.startswith("not graded") for r in reasons):
                reasons.insert(0, f"not graded: {record.get('reason') or 'the grader failed'}")
            items.extend(ReviewItem(assignment, student, r, failed) for r in reasons)
    return items
