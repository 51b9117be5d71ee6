"""autograder.report: CSV export, statistics, the HTML report and the terminal tables.

A small gradebook is built by hand with nbgrader's API (no nbgrader CLI), and every expected value
below is written out from the fixture's data, not produced by the code under test:

hw1 (due 10 Jan; cells in notebook order: test_mse 1, test_gradient_descent 2, written_answer 2
(a written answer: a markdown grade cell that is also a solution cell), test_add_intercept 1; max 6)
    alice  full marks, plus 0.5 extra credit on the written answer      -> 6.5
    bob    zero everywhere                                                -> 0
    carol  partial; gradient_descent autograded 0, overridden by hand 1  -> 4.5
    dave   written answer not graded yet (needs a manual grade)           -> 3
    erin   no submission
hw2 (due 1 Feb, added to the gradebook before hw1; cells: test_relu 3, test_total 1, task_plot 1
(a task cell); max 5)
    alice  5;  erin 1.5 with task_plot still to grade;  bob, carol, dave missing
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
import sys
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from autograder import report
from autograder.report import (
    ReportError,
    export_grades,
    failure_rates,
    grade_table,
    load_grades,
    summary,
    write_report,
)

STUDENTS = ["dave", "alice", "carol", "bob", "erin"]  # added in this order: the CSVs sort them

# cell -> (kind, max score); kinds: "test" (autograded code), "written", "task"
HW1_CELLS = {
    "test_mse": ("test", 1),
    "test_gradient_descent": ("test", 2),
    "written_answer": ("written", 2),
    "test_add_intercept": ("test", 1),
}
HW2_CELLS = {"test_relu": ("test", 3), "test_total": ("test", 1), "task_plot": ("task", 1)}

# student -> cell -> (auto_score, manual_score, extra_credit, needs_manual_grade)
HW1_GRADES = {
    "alice": {
        "test_mse": (1, None, None, False),
        "test_gradient_descent": (2, None, None, False),
        "written_answer": (None, 2, 0.5, False),
        "test_add_intercept": (1, None, None, False),
    },
    "bob": {
        "test_mse": (0, None, None, False),
        "test_gradient_descent": (0, None, None, False),
        "written_answer": (None, 0, None, False),
        "test_add_intercept": (0, None, None, False),
    },
    "carol": {
        "test_mse": (1, None, None, False),
        "test_gradient_descent": (0, 1, None, False),
        "written_answer": (None, 1.5, None, False),
        "test_add_intercept": (1, None, None, False),
    },
    "dave": {
        "test_mse": (1, None, None, False),
        "test_gradient_descent": (2, None, None, False),
        "written_answer": (None, None, None, True),
        "test_add_intercept": (0, None, None, False),
    },
}
HW2_GRADES = {
    "alice": {
        "test_relu": (3, None, None, False),
        "test_total": (1, None, None, False),
        "task_plot": (None, 1, None, False),
    },
    "erin": {
        "test_relu": (1.5, None, None, False),
        "test_total": (0, None, None, False),
        "task_plot": (None, None, None, True),
    },
}

EXPECTED_HW1 = [
    [
        *("student", "mse", "gradient_descent", "written_answer", "add_intercept"),
        *("total", "max", "needs_manual_grade", "status"),
    ],
    ["alice", "1", "2", "2.5", "1", "6.5", "6", "no", "submitted"],
    ["bob", "0", "0", "0", "0", "0", "6", "no", "submitted"],
    ["carol", "1", "1", "1.5", "1", "4.5", "6", "no", "submitted"],
    ["dave", "1", "2", "", "0", "3", "6", "yes", "submitted"],
    ["erin", "", "", "", "", "", "6", "", "missing"],
]
# "test_total" keeps its prefix: "total" is already a column
EXPECTED_HW2 = [
    ["student", "relu", "test_total", "task_plot", "total", "max", "needs_manual_grade", "status"],
    ["alice", "3", "1", "1", "5", "5", "no", "submitted"],
    ["bob", "", "", "", "", "5", "", "missing"],
    ["carol", "", "", "", "", "5", "", "missing"],
    ["dave", "", "", "", "", "5", "", "missing"],
    ["erin", "1.5", "0", "", "1.5", "5", "yes", "submitted"],
]
EXPECTED_OVERALL = [
    ["student", "hw1", "hw2", "total", "max", "missing"],
    ["alice", "6.5", "5", "11.5", "11", ""],
    ["bob", "0", "", "0", "11", "hw2"],
    ["carol", "4.5", "", "4.5", "11", "hw2"],
    ["dave", "3", "", "3", "11", "hw2"],
    ["erin", "", "1.5", "1.5", "11", "hw1"],
]


def _add_assignment(gb: Gradebook, name: str, duedate: str, cells: dict, grades: dict) -> None:
    gb.add_assignment(name, duedate=duedate)
    gb.add_notebook(name, name)
    gb.add_solution_cell("answer", name, name)  # an answer cell: not graded, no column
    for cell, (kind, points) in cells.items():
        if kind == "task":
            gb.add_task_cell(cell, name, name, max_score=points, cell_type="markdown")
            continue
        cell_type = "code" if kind == "test" else "markdown"
        gb.add_grade_cell(cell, name, name, max_score=points, cell_type=cell_type)
        if kind == "written":
            gb.add_solution_cell(cell, name, name)
    for student, scores in grades.items():
        gb.add_submission(name, student)
        for cell, (auto, manual, extra, needs_manual) in scores.items():
            grade = gb.find_grade(cell, name, name, student)
            grade.auto_score = auto
            grade.manual_score = manual
            grade.extra_credit = extra
            grade.needs_manual_grade = needs_manual
        gb.db.commit()


def _new_gradebook(url: str) -> Gradebook:
    """nbgrader runs ``alembic`` (from PATH) when it creates a gradebook: use this venv's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        return Gradebook(url)


def _build(path: Path) -> str:
    url = f"sqlite:///{path}"
    with _new_gradebook(url) as gb, warnings.catch_warnings():
        # nbgrader's add_submission itself triggers SQLAlchemy's autoflush warnings
        warnings.simplefilter("ignore", SAWarning)
        for student in STUDENTS:
            gb.add_student(student)
        _add_assignment(gb, "hw2", "2025-02-01 12:00:00", HW2_CELLS, HW2_GRADES)
        _add_assignment(gb, "hw1", "2025-01-10 12:00:00", HW1_CELLS, HW1_GRADES)
    return url


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    # a space in the path: the read-only SQLite URI must quote it
    return _build(tmp_path_factory.mktemp("grade book") / "gradebook.db")


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fixture_scores_are_nbgraders(db):
    """The fixture means what the docstring says: nbgrader's own totals agree with EXPECTED_*."""
    with Gradebook(db) as gb:
        assert gb.find_submission("hw1", "alice").score == pytest.approx(6.5)
        assert gb.find_submission("hw1", "carol").score == pytest.approx(4.5)
        assert gb.find_submission("hw1", "dave").needs_manual_grade
        assert not gb.find_submission("hw1", "bob").needs_manual_grade
        assert gb.find_assignment("hw1").max_score == 6


def test_export_writes_exact_csvs(db, tmp_path):
    out = tmp_path / "grades"
    paths = export_grades(db, out)
    assert paths == [out / "grades_hw1.csv", out / "grades_hw2.csv", out / "grades_overall.csv"]
    assert _read_csv(paths[0]) == EXPECTED_HW1
    assert _read_csv(paths[1]) == EXPECTED_HW2
    assert _read_csv(paths[2]) == EXPECTED_OVERALL
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_export_leaves_the_gradebook_untouched(db, tmp_path):
    gradebook = Path(db.removeprefix("sqlite:///"))
    before = _digest(gradebook)
    export_grades(db, tmp_path)
    write_report(db, tmp_path)
    summary(db)
    assert _digest(gradebook) == before


def test_cells_carry_their_kind_and_points(db):
    hw1, hw2 = load_grades(db)
    assert [(c.column, c.grade_id, c.max_score, c.autograded) for c in hw1.cells] == [
        ("mse", "test_mse", 1, True),
        ("gradient_descent", "test_gradient_descent", 2, True),
        ("written_answer", "written_answer", 2, False),
        ("add_intercept", "test_add_intercept", 1, True),
    ]
    assert [c.autograded for c in hw2.cells] == [True, True, False]
    assert hw2.duedate == datetime(2025, 2, 1, 12)


def test_failure_rates(db):
    hw1, hw2 = load_grades(db)
    # hw1 submissions: alice, bob, carol, dave; below max: mse bob; gradient_descent bob, carol
    # (carol's manual 1 < 2); add_intercept bob, dave. The written answer is not a test.
    assert failure_rates(hw1) == {"mse": 0.25, "gradient_descent": 0.5, "add_intercept": 0.5}
    assert failure_rates(hw2) == {"relu": 0.5, "test_total": 0.5}


def test_report_embeds_figures_and_numbers(db, tmp_path):
    path = write_report(db, tmp_path)
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4  # per assignment: the histogram and the failure-rate chart
    for image in images:
        assert base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n")
    assert 'alt="hw1: histogram of total scores"' in page
    assert 'alt="hw2: failure rate per test"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from elsewhere

    def row(*cells) -> str:
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    # hw1: 5 students, 4 submissions, 1 missing, 1 full mark (alice 6.5 >= 6), 1 zero (bob),
    # 1 needing a manual grade (dave); totals 6.5, 0, 4.5, 3: mean 3.50, median 3.75
    assert row(5, 4, 1, 1, 1, 1, "3.50", "3.75", 6) in page
    # hw2: totals 5, 1.5: mean 3.25, median 3.25; alice full marks, erin needs a manual grade
    assert row(5, 2, 3, 1, 0, 1, "3.25", "3.25", 5) in page
    assert row("hw1", "4/5", "3.50", "3.75", 6, 1, 1, 1) in page
    # hardest hw1 task: add_intercept (mean 2/4 = 0.5 of its point), then gradient_descent
    # (mean (2+0+1+2)/4 = 1.25 of 2 = 62%); the written answer has 3 graded submissions
    hardest = page.split("<h3>Hardest tasks</h3>")[1]
    assert hardest.index("add_intercept") < hardest.index("gradient_descent")
    assert row("add_intercept", "autograded", 1, "0.50", "50%", "2/4", "50%") in hardest
    assert row("gradient_descent", "autograded", 2, "1.25", "62%", "2/4", "50%") in hardest
    assert row("written_answer", "manual", 2, "1.33", "67%", "2/3", "67%") in hardest


def test_grade_table_for_a_terminal(db):
    text = grade_table(db, "hw1")
    lines = text.splitlines()
    assert lines[0] == "hw1: 4 of 5 students submitted"
    header = lines[2].split()
    cells = ["mse", "gradient_descent", "written_answer", "add_intercept"]
    assert header == ["student", *cells, "total/6", "manual"]
    assert lines[3].startswith("-------  ")
    rows = {line.split()[0]: line.split() for line in lines[4:11]}
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin", "mean", "failed"]
    assert rows["alice"] == ["alice", "1", "2", "2.5", "1", "6.5"]
    assert rows["dave"] == ["dave", "1", "2", "?", "0", "3", "*"]
    assert rows["erin"] == ["erin", "-", "-", "-", "-", "missing"]
    assert rows["failed"] == ["failed", "25%", "50%", "67%", "50%"]
    assert rows["mean"] == ["mean", "0.75", "1.25", "1.33", "0.50", "3.50"]
    assert lines[12] == "points: mse 1, gradient_descent 2, written_answer 2, add_intercept 1"
    assert max(len(line) for line in lines) <= 100
    # a narrow terminal: numbered columns and a legend
    narrow = grade_table(db, "hw1", width=60).splitlines()
    assert narrow[2].split() == ["student", "[1]", "[2]", "[3]", "[4]", "total/6", "manual"]
    assert max(len(line) for line in narrow[2:11]) <= 60
    legend = " ".join(line.strip() for line in narrow[12:14])
    assert legend == (
        "columns (points): [1] mse 1, [2] gradient_descent 2, [3] written_answer 2, "
        "[4] add_intercept 1"
    )
    assert max(len(line) for line in narrow) <= 60


def test_summary_one_line_per_assignment(db):
    lines = summary(db).splitlines()
    assert lines[0].split() == [
        "assignment",
        "submitted",
        "mean",
        "median",
        "max",
        "full",
        "zero",
        "manual",
        "hardest",
    ]
    hw1 = ["hw1", "4/5", "3.50", "3.75", "6", "1", "1", "1", "add_intercept", "(50%)"]
    assert lines[2].split() == hw1
    # hw2: relu mean 2.25/3 = 75%, test_total 1/2 = 50%, task_plot 1/1 (one graded)
    hw2 = ["hw2", "2/5", "3.25", "3.25", "5", "1", "0", "1", "test_total", "(50%)"]
    assert lines[3].split() == hw2


def test_missing_gradebook_is_a_clear_error_and_creates_nothing(tmp_path):
    where = tmp_path / "nowhere" / "gradebook.db"
    for call in (
        lambda: export_grades(f"sqlite:///{where}", tmp_path / "out"),
        lambda: write_report(f"sqlite:///{where}", tmp_path / "out"),
        lambda: summary(f"sqlite:///{where}"),
        lambda: grade_table(f"sqlite:///{where}", "hw1"),
    ):
        with pytest.raises(ReportError, match=f"no gradebook at {re.escape(str(where))}"):
            call()
    assert not where.exists()
    assert not where.parent.exists()
    assert not (tmp_path / "out").exists()


def test_not_a_gradebook(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ReportError, match="not an nbgrader gradebook"):
        summary(f"sqlite:///{empty}")
    assert empty.stat().st_size == 0  # no tables were created in it
    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just some text that is long enough " * 4)
    with pytest.raises(ReportError, match="cannot read the gradebook at"):
        summary(f"sqlite:///{text}")
    with pytest.raises(ReportError, match="not a database URL"):
        summary("gradebook.db")


def test_unknown_assignment_names_the_known_ones(db):
    with pytest.raises(
        ReportError, match=r"no assignment 'hw9' in the gradebook; it has: hw1, hw2"
    ):
        grade_table(db, "hw9")


def test_course_filter(db):
    # nbgrader's Gradebook puts assignments in course "default_course" unless told otherwise
    assert [g.name for g in load_grades(db, "default_course")] == ["hw1", "hw2"]
    with pytest.raises(ReportError, match=r"no assignment of course 'cs101'.*'default_course'"):
        summary(db, "cs101")


def test_crash_while_writing_leaves_no_half_csv(db, tmp_path, monkeypatch):
    export_grades(db, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class Crashing:
        @staticmethod
        def writer(f):
            class Writer:
                def writerows(self, rows):
                    f.write("student,partial\n")
                    raise OSError("disk full")

            return Writer()

    monkeypatch.setattr(report, "csv", Crashing)
    with pytest.raises(OSError, match="disk full"):
        export_grades(db, tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # the old CSV is intact and no temporary file is left


def test_no_submissions_and_clashing_names(tmp_path):
    """Names that would clash keep their grade_id, or take their notebook's name as a prefix."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with _new_gradebook(url) as gb:
        gb.add_student("zoe")
        gb.add_assignment("hw4")
        for notebook in ("b", "a"):  # notebooks come by name
            gb.add_notebook(notebook, "hw4")
        gb.add_grade_cell("test_gradcheck", "a", "hw4", max_score=2, cell_type="code")
        gb.add_grade_cell("test_mse", "a", "hw4", max_score=1, cell_type="code")
        gb.add_grade_cell("mse", "a", "hw4", max_score=1, cell_type="markdown")
        gb.add_solution_cell("mse", "a", "hw4")
        gb.add_grade_cell("test_gradcheck", "b", "hw4", max_score=1, cell_type="code")
    out = tmp_path / "out"
    paths = export_grades(url, out)
    assert _read_csv(paths[0]) == [
        [
            *("student", "a/test_gradcheck", "test_mse", "mse", "b/test_gradcheck"),
            *("total", "max", "needs_manual_grade", "status"),
        ],
        ["zoe", "", "", "", "", "", "5", "", "missing"],
    ]
    assert _read_csv(paths[1]) == [
        ["student", "hw4", "total", "max", "missing"],
        ["zoe", "", "0", "5", "hw4"],
    ]
    page = write_report(url, out).read_text(encoding="utf-8")
    assert "no submissions yet" in page
    assert "data:image/png" not in page


# ---------------------------------------------------------------- to grade, column names, review


def _html_row(*cells) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def test_written_answers_not_graded_yet_are_to_grade_not_failures(db, tmp_path):
    hw1, _ = load_grades(db)
    stats = {s.cell.column: s for s in report.cell_stats(hw1)}
    # written_answer: alice 2.5, bob 0, carol 1.5 scored; dave's waits for a grader
    assert (stats["written_answer"].scored, stats["written_answer"].to_grade) == (3, 1)
    assert stats["written_answer"].below == 2  # bob and carol: dave's is not a failure
    assert stats["mse"].to_grade == 0
    page = write_report(db, tmp_path).read_text(encoding="utf-8")
    hw1_part = page.split('<h2 id="hw1">')[1].split('<h2 id="hw2">')[0]
    to_grade = hw1_part.split("<h3>To grade</h3>")[1]
    assert _html_row("written_answer", 2, "1 of 4", "dave") in to_grade
    hw2_part = page.split('<h2 id="hw2">')[1]
    assert _html_row("task_plot", 1, "1 of 2", "erin") in hw2_part.split("<h3>To grade</h3>")[1]


def test_a_task_nobody_graded_yet_is_only_to_grade(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with _new_gradebook(url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        gb.add_student("zoe")
        gb.add_student("yan")
        _add_assignment(
            gb,
            "hw3",
            "2025-03-01 12:00:00",
            {"test_step": ("test", 1), "written_why": ("written", 3)},
            {
                "zoe": {"test_step": (1, None, None, False), "written_why": (None,) * 3 + (True,)},
                "yan": {"test_step": (0, None, None, False), "written_why": (None,) * 3 + (True,)},
            },
        )
    (grades,) = load_grades(url)
    assert failure_rates(grades) == {"step": 0.5}
    assert [s.cell.column for s in report.hardest(grades)] == ["step"]
    page = write_report(url, tmp_path).read_text(encoding="utf-8")
    hardest, to_grade = page.split("<h3>Hardest tasks</h3>")[1].split("<h3>To grade</h3>")
    assert "written_why" not in hardest  # no score yet: neither hard nor failed
    assert _html_row("written_why", 3, "2 of 2", "yan zoe") in to_grade
    text = grade_table(url, "hw3")
    assert [line.split() for line in text.splitlines()[4:6]] == [
        ["yan", "0", "?", "0", "*"],
        ["zoe", "1", "?", "1", "*"],
    ]
    failed = next(line for line in text.splitlines() if line.startswith("failed"))
    assert failed.split() == ["failed", "50%"]  # the written answer: no failure rate


def test_overview_columns_say_what_they_count(db, tmp_path):
    page = write_report(db, tmp_path).read_text(encoding="utf-8")
    overview = page.split("<thead>")[1].split("</thead>")[0]
    assert re.findall(r"<th>([^<]*)</th>", overview) == [
        "assignment",
        "submitted",
        "mean score",
        "median score",
        "points possible",
        "students with full marks",
        "students with 0 points",
        "waiting for a grader",
    ]
    assert "<th>max</th>" not in page and "<th>full marks</th>" not in page
    assert "max: the points possible" in summary(db)


def _hostile_gradebook(path: Path) -> str:
    url = f"sqlite:///{path}"
    with _new_gradebook(url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        gb.add_student(
            "mal", first_name="<script>alert('first')</script>", last_name="O'Brien & co"
        )
        _add_assignment(
            gb,
            "hw1",
            "2025-01-10 12:00:00",
            {"test_mse": ("test", 1)},
            {"mal": {"test_mse": (0, None, None, False)}},
        )
    return url


def test_student_names_and_review_reasons_are_escaped(tmp_path):
    url = _hostile_gradebook(tmp_path / "gradebook.db")
    review = [
        report.ReviewItem("hw1", "mal", "mse: <script>alert('reason')</script>"),
        report.ReviewItem("hw1", "<b>ghost</b>", "not graded: <img src=x onerror=alert(1)>", True),
    ]
    page = write_report(url, tmp_path, review=review).read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page and "<b>ghost" not in page
    section = page.split('<h2 id="review">For review</h2>')[1].split("<h2")[0]
    assert (
        _html_row(
            "hw1",
            "mal",
            "&lt;script&gt;alert(&#39;first&#39;)&lt;/script&gt; O&#39;Brien &amp; co",
            "for review",
            "mse: &lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;",
        )
        in section
    )
    assert (
        _html_row(
            "hw1",
            "&lt;b&gt;ghost&lt;/b&gt;",
            "",
            "not graded",
            "not graded: &lt;img src=x onerror=alert(1)&gt;",
        )
        in section
    )
    # no review list given: no section; an empty one says so
    assert "For review" not in write_report(url, tmp_path).read_text(encoding="utf-8")
    empty = write_report(url, tmp_path, review=[]).read_text(encoding="utf-8")
    assert 'For review</h2>\n<p class="note">nothing to review</p>' in empty


def test_review_items_from_the_records():
    records = {
        "hw1": {
            "eve": {"status": "ok", "review": ["mse: uses os._exit", "  "]},
            "cat": {
                "status": "not graded",
                "reason": "bad JSON",
                "review": ["not graded: bad JSON"],
            },
            "ann": {"status": "ok", "review": []},
        },
        "hw2": {"old": {"status": "not graded", "reason": "the sandbox died"}},  # no review key
    }
    assert report.review_items(records) == [
        report.ReviewItem("hw1", "cat", "not graded: bad JSON", True),
        report.ReviewItem("hw1", "eve", "mse: uses os._exit"),
        report.ReviewItem("hw2", "old", "not graded: the sandbox died", True),
    ]


def test_review_csv_and_terminal_list(tmp_path):
    items = [
        report.ReviewItem("hw1", "cat", "not graded: bad JSON", True),
        report.ReviewItem("hw1", "eve", '=HYPERLINK("http://x")'),
        report.ReviewItem("hw1", "eve", "mse: \x1b[31mred\x1b[0m"),
    ]
    students = {"eve": report.StudentInfo("eve", "-Eve", "Adams")}
    path = report.write_review_csv(items, tmp_path, students)
    assert path == tmp_path / "review.csv"
    assert _read_csv(path) == [
        ["assignment", "student", "name", "status", "reason"],
        ["hw1", "cat", "", "not graded", "not graded: bad JSON"],
        ["hw1", "eve", "'-Eve Adams", "for review", '\'=HYPERLINK("http://x")'],
        ["hw1", "eve", "'-Eve Adams", "for review", "mse: \x1b[31mred\x1b[0m"],
    ]
    assert _read_csv(report.write_review_csv([], tmp_path)) == [
        ["assignment", "student", "name", "status", "reason"]
    ]
    text = report.review_text(items, ["hw1", "hw2"], students)
    assert text.splitlines() == [
        "hw1: 2 submissions to review (1 not graded)",
        "  cat: not graded: bad JSON",
        '  eve (-Eve Adams): =HYPERLINK("http://x")',
        "  eve (-Eve Adams): mse:  [31mred [0m",  # no escape sequence reaches the terminal
        "hw2: nothing to review",
    ]
