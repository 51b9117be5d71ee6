"""The gradebook on a real PostgreSQL server: ``course create DIR --db-url postgresql://…`` as promised.

The server is the session's (``postgres_server`` in conftest.py, started by ``tests/postgres.py`` on a
loopback port in a temporary folder; skipped with the reason where none can be started); each test
or module fixture takes a new database of its own on it. On it, end to end through the command line
and the public API:

- a course made with ``--db-url``, hw1 released, a reference, a blank and a mutant graded in the
  sandbox: their points (10, 0, 8, as in test_batch) are in PostgreSQL's tables, and no SQLite
  gradebook appears in the course folder;
- ``export`` and ``report`` read it and give what the same submissions graded into an SQLite course
  give (cells come by name on PostgreSQL, in notebook order on SQLite: report.py's docstring);
- resume: a second ``grade`` regrades only the changed and the new submission, leaves the others'
  rows as they were, and no row is doubled;
- the report module on test_report's hand-built gradebook (exact expected CSVs, no grading): the same
  numbers; it reads PostgreSQL in read-only transactions, hides a password, and says what is wrong.

Grading needs the sandbox, as in test_batch (those tests are skipped with the reason without it).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import warnings
from pathlib import Path

import nbformat
import psycopg
import pytest
from nbgrader.api import Gradebook, InvalidEntry
from sqlalchemy.exc import SAWarning

from autograder import report
from autograder.__main__ import main
from autograder.batch import grade_batch
from autograder.course import COURSE_ID, open_course
from autograder.report import ReportError, export_grades, load_grades, summary, write_report
from autograder.samples import MUTANTS, mutant_notebook
from autograder.sandbox import missing_protections
from tests import postgres as postgres_helper
from tests import test_report as hand_built
from tests.postgres import free_port

ASSIGNMENT = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent
MISSING = missing_protections()
needs_sandbox = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available")
MUTANT = MUTANTS["hw1"][0]  # mutant_gd_sign: loses gradient_descent's 2 points
SCORES = {"reference": 10, "blank": 0, MUTANT.student: 8}  # autograded points (as in test_batch)


def cli(*argv: object) -> str:
    """``python -m autograder ARGV`` in this process; its stdout (the status must be 0)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    assert status == 0, (argv, out.getvalue(), err.getvalue())
    return out.getvalue()


def new_course(root: Path, db_url: str | None = None):
    """A course (by the command line, with ``--db-url`` when given) with hw1 released."""
    cli("course", "create", root, *(["--db-url", db_url] if db_url else []))
    cli("release", root, ASSIGNMENT)
    return open_course(root)


def notebook(course, student: str) -> nbformat.NotebookNode:
    if student == "reference":
        return nbformat.read(REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    if student == "blank":
        return nbformat.read(course.folder("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), 4)
    assert student == MUTANT.student
    return mutant_notebook("hw1", MUTANT)


def submit(course, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course.folder("submitted", student, ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")


def query(url: str, sql: str) -> list[tuple]:
    connection = psycopg.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def scores_in_postgres(url: str) -> dict[str, float]:
    """Each student's points on hw1, summed from nbgrader's ``grade`` rows by SQL (not nbgrader)."""
    rows = query(
        url,
        "SELECT sa.student_id, SUM(COALESCE(g.manual_score, g.auto_score, 0) "
        "+ COALESCE(g.extra_credit, 0)) FROM grade g "
        "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
        "JOIN assignment a ON sa.assignment_id = a.id "
        f"WHERE a.name = '{ASSIGNMENT}' GROUP BY sa.student_id",
    )
    return {student: float(points) for student, points in rows}


def submissions_in_postgres(url: str) -> dict[str, tuple]:
    """student -> (submission row id, timestamp); a student with two rows fails the test."""
    rows = query(url, "SELECT student_id, id, timestamp FROM submitted_assignment")
    students = [student for student, *_ in rows]
    assert len(students) == len(set(students)), f"a submission twice: {sorted(students)}"
    return {student: tuple(rest) for student, *rest in rows}


def row_counts(url: str) -> dict[str, int]:
    tables = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")
    return {t: query(url, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables}


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The header and {student: {column: value}} of an exported CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0]) if rows else []
    return header, {row["student"]: row for row in rows}


def html_tables(page: str) -> list[list[list[str]]]:
    """Every <table> of a report page as rows of cell texts (the figures are not compared)."""
    tables = []
    for table in re.findall(r"<table>(.*?)</table>", page, flags=re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        tables.append([re.findall(r"<t[hd]>(.*?)</t[hd]>", row) for row in rows])
    return tables


# ---------------------------------------------------------------- graded in the sandbox


@pytest.fixture(scope="module")
def graded(postgres_server, tmp_path_factory):
    """The same three submissions graded into a PostgreSQL course (by the CLI) and an SQLite one."""
    if MISSING:
        pytest.skip("; ".join(MISSING))
    url = postgres_server.create_database("graded")
    root = tmp_path_factory.mktemp("postgres")
    on_postgres = new_course(root / "pg", url)
    on_sqlite = new_course(root / "sqlite")
    for course in (on_postgres, on_sqlite):
        for student in SCORES:
            submit(course, student, notebook(course, student))
    output = cli("grade", on_postgres.root, ASSIGNMENT, "--workers", 2)
    result = grade_batch(on_sqlite, ASSIGNMENT, workers=2)
    assert sorted(result.graded) == sorted(SCORES) and not result.failed
    return on_postgres, on_sqlite, url, output


@pytest.mark.slow
@needs_sandbox
def test_a_course_with_a_postgres_url_grades_into_postgres(graded):
    on_postgres, _, url, output = graded
    assert on_postgres.load_config().CourseDirectory.db_url == url
    assert f"{ASSIGNMENT}: graded 3, up to date 0, not graded 0" in output
    assert re.search(
        r"^reference\s+.*\b10\b", output, flags=re.M
    )  # the table, read from PostgreSQL
    assert scores_in_postgres(url) == SCORES
    assert not list(on_postgres.root.rglob("*.db"))  # no SQLite gradebook on the side
    with Gradebook(url, COURSE_ID) as gb:  # and nbgrader reads it back as its own
        assert {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions} == SCORES
    counts = row_counts(url)
    assert counts["student"] == counts["submitted_assignment"] == counts["submitted_notebook"] == 3


@pytest.mark.slow
@needs_sandbox
def test_export_and_report_read_postgres_as_they_read_sqlite(graded, tmp_path):
    on_postgres, on_sqlite, url, _ = graded
    cli("export", on_postgres.root, "--out", tmp_path / "pg")
    cli("export", on_sqlite.root, "--out", tmp_path / "sqlite")
    for name in (f"grades_{ASSIGNMENT}.csv", "grades_overall.csv"):
        pg_header, pg_rows = read_csv(tmp_path / "pg" / name)
        lite_header, lite_rows = read_csv(tmp_path / "sqlite" / name)
        assert pg_rows == lite_rows, name
        assert sorted(pg_header) == sorted(lite_header)
    header, rows = read_csv(tmp_path / "pg" / f"grades_{ASSIGNMENT}.csv")
    (hw1,) = load_grades(url)
    assert header[1:-4] == [c.column for c in hw1.cells]
    assert [c.grade_id for c in hw1.cells] == sorted(c.grade_id for c in hw1.cells)  # by name
    assert {s: float(r["total"]) for s, r in rows.items()} == SCORES
    assert rows[MUTANT.student][MUTANT.cell] == "0" and rows["reference"][MUTANT.cell] == "2"

    cli("report", on_postgres.root, "--out", tmp_path / "pg")
    cli("report", on_sqlite.root, "--out", tmp_path / "sqlite")
    pg_page = (tmp_path / "pg" / "report.html").read_text()
    lite_page = (tmp_path / "sqlite" / "report.html").read_text()
    pg_tables, lite_tables = html_tables(pg_page), html_tables(lite_page)
    # overview, hw1's counts, hw1's hardest tasks, hw1's written answers to grade
    assert len(pg_tables) == len(lite_tables) == 4
    assert pg_tables[:2] == lite_tables[:2]
    # hw1's counts: 3 submissions; none has full marks (the written answer awaits a grader), one 0
    assert pg_tables[1][0][:5] == [
        "students",
        "submitted",
        "missing",
        "with full marks",
        "with 0 points",
    ]
    assert pg_tables[1][1][:5] == ["3", "3", "0", "0", "1"]
    # the hardest tasks: equal rows; ties (equal means) fall in cell order, which differs
    assert pg_tables[2][0] == lite_tables[2][0]
    assert sorted(pg_tables[2][1:]) == sorted(lite_tables[2][1:])
    # the mutant's bug: gradient_descent (2 points) full for the reference only
    gradient_descent = ["gradient_descent", "autograded", "2", "0.67", "33%", "2/3", "67%"]
    assert gradient_descent in pg_tables[2][1:]
    assert "postgresql://postgres@127.0.0.1:" in pg_page  # the report names its gradebook
    assert summary(url, COURSE_ID) == summary(f"sqlite:///{on_sqlite.root / 'gradebook.db'}")


@pytest.mark.slow
@needs_sandbox
def test_a_second_grade_regrades_only_the_changed_and_the_new(postgres_db, tmp_path):
    course = new_course(tmp_path / "course", postgres_db)
    submit(course, "reference", notebook(course, "reference"))
    submit(course, "blank", notebook(course, "blank"))
    first = grade_batch(course, ASSIGNMENT, workers=2)
    assert sorted(first.graded) == ["blank", "reference"]
    assert scores_in_postgres(postgres_db) == {"reference": 10, "blank": 0}
    before = submissions_in_postgres(postgres_db)

    submit(course, "blank", notebook(course, "reference"))  # the student resubmits, answered
    submit(course, MUTANT.student, notebook(course, MUTANT.student))  # a late submission
    second = grade_batch(course, ASSIGNMENT, workers=2)
    assert sorted(second.graded) == ["blank", MUTANT.student]
    assert second.skipped == ["reference"] and not second.failed
    after = submissions_in_postgres(postgres_db)  # one row per student (asserted there)
    assert after["reference"] == before["reference"]  # not touched: same row, same timestamp
    assert after["blank"][0] == before["blank"][0]  # regraded in place, not added again
    assert scores_in_postgres(postgres_db) == {"reference": 10, "blank": 10, MUTANT.student: 8}
    counts = row_counts(postgres_db)
    assert counts["student"] == counts["submitted_assignment"] == counts["submitted_notebook"] == 3
    grades_per_submission = counts["grade"] // 3
    assert counts["grade"] == 3 * grades_per_submission  # the same cells for each, none twice
    assert (
        query(
            postgres_db,
            "SELECT notebook_id, cell_id FROM grade GROUP BY notebook_id, cell_id HAVING COUNT(*) > 1",
        )
        == []
    )

    third = grade_batch(course, ASSIGNMENT, workers=2)
    assert third.graded == [] and sorted(third.skipped) == sorted(after)
    assert row_counts(postgres_db) == counts


# ---------------------------------------------------------------- the report module, no grading


def build_hand_built(url: str) -> None:
    """test_report's gradebook (its docstring lists every score), made in the database at ``url``."""
    with hand_built._new_gradebook(url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission autoflushes
        for student in hand_built.STUDENTS:
            gb.add_student(student)
        hand_built._add_assignment(
            gb, "hw2", "2025-02-01 12:00:00", hand_built.HW2_CELLS, hand_built.HW2_GRADES
        )
        hand_built._add_assignment(
            gb, "hw1", "2025-01-10 12:00:00", hand_built.HW1_CELLS, hand_built.HW1_GRADES
        )


def as_rows(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *rows = table
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_the_report_module_gives_the_exact_expected_grades_from_postgres(postgres_db, tmp_path):
    build_hand_built(postgres_db)
    paths = export_grades(postgres_db, tmp_path)
    assert [p.name for p in paths] == ["grades_hw1.csv", "grades_hw2.csv", "grades_overall.csv"]
    expected = (hand_built.EXPECTED_HW1, hand_built.EXPECTED_HW2, hand_built.EXPECTED_OVERALL)
    for path, table in zip(paths, expected, strict=True):
        header, rows = read_csv(path)
        assert rows == as_rows(table), path.name
        assert sorted(header) == sorted(table[0])
    hw1, hw2 = load_grades(postgres_db)
    assert [c.grade_id for c in hw1.cells] == sorted(hand_built.HW1_CELLS)  # by name on PostgreSQL
    assert (hw1.max_score, hw2.max_score) == (6, 5)
    lines = summary(postgres_db).splitlines()
    # as test_report's: the hardest cells have no equal, so no order decides between them
    hw1 = ["hw1", "4/5", "3.50", "3.75", "6", "1", "1", "1", "add_intercept", "(50%)"]
    hw2 = ["hw2", "2/5", "3.25", "3.25", "5", "1", "0", "1", "test_total", "(50%)"]
    assert [lines[2].split(), lines[3].split()] == [hw1, hw2]
    assert write_report(postgres_db, tmp_path).is_file()


def test_the_report_reads_postgres_read_only(postgres_db, postgres_server, tmp_path):
    build_hand_built(postgres_db)
    before = row_counts(postgres_db)
    export_grades(postgres_db, tmp_path)
    write_report(postgres_db, tmp_path)
    assert row_counts(postgres_db) == before
    # the reader's own connection refuses writes: the server, not only the code, keeps it read-only
    with (
        report._gradebook(postgres_db) as gb,
        pytest.raises(InvalidEntry, match="read-only transaction"),
    ):
        gb.add_student("mallory")
    assert row_counts(postgres_db) == before
    # an empty database is no gradebook, and stays empty
    empty = postgres_server.create_database("t_empty_report")
    with pytest.raises(ReportError, match="is not an nbgrader gradebook"):
        summary(empty)
    tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
    assert query(empty, tables) == [(0,)]


def test_a_password_in_the_url_never_shows(postgres_db, tmp_path):
    build_hand_built(postgres_db)
    # the server trusts loopback connections, so any password is accepted: it only has to stay hidden
    with_password = postgres_db.replace("postgres@", "postgres:s3cret@", 1)
    page = write_report(with_password, tmp_path).read_text()
    assert "s3cret" not in page and "postgres:***@127.0.0.1" in page
    closed = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/nothing"  # no server there
    with pytest.raises(ReportError, match="cannot read the gradebook at postgresql://") as info:
        summary(closed)
    assert "s3cret" not in str(info.value)


def test_without_postgresql_the_skip_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres_helper, "DEBIAN_BIN", tmp_path / "no-postgresql")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(postgres_helper.PostgresUnavailable, match="initdb") as info:
        postgres_helper.PostgresServer.start()
    assert "make postgres" in str(info.value)
