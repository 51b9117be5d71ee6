"""autograder.exports and ``python -m autograder export/review``: grades in Canvas's, Moodle's,
Gradescope's and nbgrader's formats, and the review list, from a course graded for real.

One small course, graded once for the module (real nbgrader, the sandbox; ~30 s), homework 1, due
2025-01-10 12:00, 12 points (10 autograded, the written answer 2):

    ada  the reference answers (10) and her written answer graded by hand 1.5       -> 11.5
    bob  a bug in gradient_descent (loses its 2 points: 8), written answer not graded yet; handed
         in a day late, nbgrader's late penalty 1 (set in the gradebook, as nbgrader's
         late-submission plugin does)                                              -> 7 (raw 8)
    cat  not a notebook: the grader fails on it, *not graded*                         -> no grade
    dan  in the gradebook, no submission                                               -> no grade
    eve  calls os._exit in normal_equation (0 for it: 9; two review reasons), written answer
         not graded yet                                                                -> 9

Every expected file below is written by hand from the formats' published descriptions (Canvas's
gradebook import CSV, Moodle's grade import CSV, Gradescope's autograder results.json,
nbgrader's CsvExportPlugin), not produced by the code under test. The grader's messages in them are
the ones its checks give for these submissions.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import warnings
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from autograder.__main__ import main
from autograder.batch import grade_batch, read_records
from autograder.course import COURSE_ID, create_course
from autograder.exports import VISIBILITIES, export
from autograder.samples import MUTANTS, attack_notebook, mutant_notebook
from autograder.sandbox import missing_protections

MISSING = missing_protections()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available"),
]
A = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "assignments" / A / f"{A}.ipynb"

# id -> first name, last name, email, LMS user id
STUDENTS = {
    "ada": ("Ada", "Lovelace", "ada@example.edu", "101"),
    "bob": ("Bob", "Smith, Jr.", "bob@example.edu", "102"),
    "cat": ("Cat", "Stevens", None, None),
    "dan": ("Dan", "Brown", "dan@example.edu", "105"),
    "eve": ("Eve", "Adams", "eve@example.edu", None),
}
TIMESTAMPS = {
    "ada": datetime(2025, 1, 10, 11, 0),
    "bob": datetime(2025, 1, 11, 9, 30),
    "cat": datetime(2025, 1, 10, 9, 0),
    "eve": datetime(2025, 1, 10, 10, 0),
}

CANVAS = """\
Student,ID,SIS User ID,SIS Login ID,Section,hw1_linear_regression
Points Possible,,,,,12
"Lovelace, Ada",101,ada,ada@example.edu,,11.5
"Smith, Jr., Bob",102,bob,bob@example.edu,,7
"Stevens, Cat",,cat,,,
"Brown, Dan",105,dan,dan@example.edu,,
"Adams, Eve",,eve,eve@example.edu,,9
"""

MOODLE = """\
First name,Last name,ID number,Email address,hw1_linear_regression
Ada,Lovelace,ada,ada@example.edu,11.5
Bob,"Smith, Jr.",bob,bob@example.edu,7
Cat,Stevens,cat,,-
Dan,Brown,dan,dan@example.edu,-
Eve,Adams,eve,eve@example.edu,9
"""

# nbgrader's order: students by last name, then first name; values as nbgrader prints them
NBGRADER_HEADER = (
    "assignment,duedate,timestamp,student_id,last_name,first_name,email,"
    "raw_score,late_submission_penalty,score,max_score\n"
)
_DUE = "hw1_linear_regression,2025-01-10 12:00:00,"  # the assignment and its due date
NBGRADER = NBGRADER_HEADER + "".join(
    f"{_DUE}{line}\n"
    for line in (
        "2025-01-10 10:00:00,eve,Adams,Eve,eve@example.edu,9.0,0.0,9.0,12.0",
        ",dan,Brown,Dan,dan@example.edu,0.0,0.0,0.0,12.0",
        "2025-01-10 11:00:00,ada,Lovelace,Ada,ada@example.edu,11.5,0.0,11.5,12.0",
        '2025-01-11 09:30:00,bob,"Smith, Jr.",Bob,bob@example.edu,8.0,1.0,7.0,12.0',
        "2025-01-10 09:00:00,cat,Stevens,Cat,,,,,12.0",
    )
)

NOT_JSON = (
    "hw1_linear_regression.ipynb: not a readable notebook: not JSON (Expecting property name "
    "enclosed in double quotes at line 1, column 3; truncated?)"
)
REVIEW = f"""\
assignment,student,name,status,reason
hw1_linear_regression,cat,Cat Stevens,not graded,"not graded: {NOT_JSON}"
hw1_linear_regression,eve,Eve Adams,for review,normal_equation: line 2: uses os._exit
hw1_linear_regression,eve,Eve Adams,for review,normal_equation: its cell ended the process (exit status 0)
"""

TASKS = [  # (name, points) in notebook order
    ("add_intercept", 1),
    ("mse", 1),
    ("mse_gradient", 1),
    ("normal_equation", 1),
    ("gradient_descent", 2),
    ("minibatch_sgd", 2),
    ("sigmoid", 1),
    ("log_loss_gradient", 1),
]
GD_BUG = (
    "gradient_descent: losses: max relative error 5.4e+03 against the reference "
    "(tolerance 1e-08 relative + 3.3e-14 absolute)"
)
OS_EXIT = (
    "normal_equation: the answer uses line 2: uses os._exit, which this homework does not allow: "
    "0 points"
)
WAITING = "written_learning_rates: not graded yet (2 points, graded by hand)"


def _test(name, score, most, output, visibility="after_published"):
    status = "passed" if score == most else "failed"
    return {
        "name": name,
        "score": score,
        "max_score": most,
        "status": status,
        "output": output,
        "visibility": visibility,
    }


def _passed(*failed: tuple[str, str]) -> list[dict]:
    wrong = dict(failed)
    return [
        _test(n, 0.0, float(p), wrong[n]) if n in wrong else _test(n, float(p), float(p), "ok")
        for n, p in TASKS
    ]


GRADESCOPE = {
    "ada": {
        "score": 11.5,
        "output": "hw1_linear_regression: 11.5 of 12 points",
        "visibility": "after_published",
        "tests": [*_passed(), _test("written_learning_rates", 1.5, 2.0, "graded by hand")],
    },
    "bob": {
        "score": 7.0,
        "output": "hw1_linear_regression: 8 of 12 points\n"
        "late submission: nbgrader's late penalty 1, score 7\n" + WAITING,
        "visibility": "after_published",
        "tests": _passed(("gradient_descent", GD_BUG)),
    },
    "eve": {
        "score": 9.0,
        "output": "hw1_linear_regression: 9 of 12 points\n" + WAITING,
        "visibility": "after_published",
        "tests": _passed(("normal_equation", OS_EXIT)),
    },
}


def _submit(course, student: str, nb_or_text) -> None:
    folder = course.folder("submitted", student, A)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{A}.ipynb"
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, path)


def _gradebook(course) -> Gradebook:
    """The course's gradebook, writable (for the fixture); nbgrader runs ``alembic`` from PATH."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        return Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = create_course(tmp_path_factory.mktemp("exports") / "course")
    assert course.api().generate_assignment(A, force=True, create=True)["success"]
    _submit(course, "ada", nbformat.read(SOURCE, as_version=4))
    bug = next(m for m in MUTANTS["hw1"] if m.student == "mutant_gd_sign")
    _submit(course, "bob", mutant_notebook("hw1", bug))
    _submit(course, "cat", "{ not a notebook")
    _submit(course, "eve", attack_notebook("hw1", "attack_exit"))
    result = grade_batch(course, A, workers=2)
    assert result.graded == ["ada", "bob", "eve"] and list(result.failed) == ["cat"]
    with _gradebook(course) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        for student, (first, last, email, lms) in STUDENTS.items():
            gb.update_or_create_student(
                student, first_name=first, last_name=last, email=email, lms_user_id=lms
            )
        gb.update_or_create_assignment(A, duedate=datetime(2025, 1, 10, 12))
        for student, when in TIMESTAMPS.items():
            gb.find_submission(A, student).timestamp = when
        for notebook in gb.find_submission(A, "bob").notebooks:
            notebook.late_submission_penalty = 1.0
        written = gb.find_grade("written_learning_rates", A, A, "ada")
        written.manual_score = 1.5
        written.needs_manual_grade = False
        gb.db.commit()
    return course


@pytest.fixture(scope="module")
def records(course) -> dict:
    return {A: read_records(course, A)}


def _db(course) -> str:
    return f"sqlite:///{course.root / 'gradebook.db'}"


def _hidden_lines() -> list[str]:
    """Every line of the hidden test blocks of the instructor's notebook (longer than a word)."""
    lines, hidden = [], False
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        for line in cell.source.splitlines():
            if line.strip() == "### BEGIN HIDDEN TESTS":
                hidden = True
            elif line.strip() == "### END HIDDEN TESTS":
                hidden = False
            elif hidden and len(line.strip()) > 8:
                lines.append(line.strip())
    assert any("_verdict(" in line for line in lines)  # the blocks were found
    return lines


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [
        ("canvas", "canvas_grades.csv", CANVAS),
        ("moodle", "moodle_grades.csv", MOODLE),
        ("nbgrader", "grades.csv", NBGRADER),
    ],
)
def test_lms_csvs_are_the_golden_files(course, records, tmp_path, fmt, name, expected):
    done = export(fmt, _db(course), tmp_path / fmt, COURSE_ID, records)
    assert done.paths == [tmp_path / fmt / name, tmp_path / fmt / "review.csv"]
    assert (tmp_path / fmt / name).read_text(encoding="utf-8") == expected
    assert _rows((tmp_path / fmt / "review.csv").read_text(encoding="utf-8")) == _rows(REVIEW)
    assert done.not_graded == [(A, "cat")]
    assert done.waiting == [(A, "bob"), (A, "eve")]  # their written answers count 0 for now


def test_nbgrader_format_is_what_nbgrader_export_writes(course, records, tmp_path):
    """nbgrader's own CsvExportPlugin on the same gradebook: the same lines, but for the two
    documented differences (bob's comma quoted; cat, not graded, has no score instead of nbgrader's)."""
    from nbgrader.plugins.export import CsvExportPlugin

    theirs = tmp_path / "nbgrader_export.csv"
    with _gradebook(course) as gb:
        CsvExportPlugin(to=str(theirs)).export(gb)
    ours = export("nbgrader", _db(course), tmp_path / "ours", COURSE_ID, records).paths[0]
    their_lines = theirs.read_text().splitlines()
    our_lines = ours.read_text().splitlines()
    assert len(their_lines) == len(our_lines) == 6
    differ = [i for i, (a, b) in enumerate(zip(their_lines, our_lines, strict=True)) if a != b]
    assert differ == [4, 5]  # bob's row (the comma) and cat's (not graded)
    assert their_lines[4].replace("Smith, Jr.", '"Smith, Jr."') == our_lines[4]
    assert their_lines[5].endswith(",0.0,0.0,0.0,12.0") and our_lines[5].endswith(",,,,12.0")


def test_gradescope_results_are_the_golden_files(course, records, tmp_path):
    out = tmp_path / "gs"
    (out / A / "cat").mkdir(parents=True)
    (out / A / "cat" / "results.json").write_text('{"score": 0}')  # from an earlier export
    done = export("gradescope", _db(course), out, COURSE_ID, records)
    assert sorted(p.relative_to(out).as_posix() for p in done.paths) == [
        f"{A}/ada/results.json",
        f"{A}/bob/results.json",
        f"{A}/eve/results.json",
        "review.csv",
    ]
    assert not (out / A / "cat" / "results.json").exists()  # not graded: no grade to import
    assert not (out / A / "dan").exists()
    for student, expected in GRADESCOPE.items():
        results = json.loads((out / A / student / "results.json").read_text(encoding="utf-8"))
        seconds = results.pop("execution_time")
        assert isinstance(seconds, float) and 0 < seconds < 120
        assert results == expected, student


def _check_gradescope_schema(results: dict) -> None:
    """Gradescope's results.json: the keys its specification names, with their types."""
    number = (int, float)
    top = {"score", "execution_time", "output", "visibility", "tests"}
    assert set(results) <= top | {"stdout_visibility", "extra_data", "output_format"}
    assert isinstance(results["score"], number) and not isinstance(results["score"], bool)
    assert isinstance(results["execution_time"], number)
    assert isinstance(results["output"], str)
    assert results["visibility"] in VISIBILITIES
    assert isinstance(results["tests"], list) and results["tests"]
    for test in results["tests"]:
        assert set(test) <= {
            *("name", "score", "max_score", "status", "output", "visibility"),
            *("number", "tags", "name_format", "output_format", "extra_data"),
        }
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], number) and isinstance(test["max_score"], number)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITIES
    assert sum(t["max_score"] for t in results["tests"]) <= 12


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_gradescope_schema_and_visibility(course, records, tmp_path, visibility):
    out = tmp_path / "gs"
    export("gradescope", _db(course), out, COURSE_ID, records, visibility=visibility)
    files = sorted(out.rglob("results.json"))
    assert len(files) == 3
    for path in files:
        results = json.loads(path.read_text(encoding="utf-8"))
        _check_gradescope_schema(results)
        assert results["visibility"] == visibility
        assert {t["visibility"] for t in results["tests"]} == {visibility}


def test_no_export_holds_hidden_tests_or_the_graders_internals(course, records, tmp_path):
    for fmt in ("csv", "canvas", "moodle", "gradescope", "nbgrader"):
        export(fmt, _db(course), tmp_path / fmt, COURSE_ID, records)
    hidden = _hidden_lines()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 3 + 2 + 2 + 4 + 2  # csv: 2 + review.csv, gradescope: 3 + review.csv
    for path in files:
        text = path.read_text(encoding="utf-8")
        for line in hidden:
            assert line not in text, (path, line)
        assert "autograder.checks" not in text and "_verdict" not in text
    # what the grader tells only the instructor stays out of what students may see
    for path in tmp_path.joinpath("gradescope").rglob("results.json"):
        text = path.read_text(encoding="utf-8")
        assert "its cell ended the process" not in text and NOT_JSON not in text
        assert "timings" not in text and str(course.root) not in text


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_command_line_export_formats(course, capsys):
    root = course.root
    status, out, _ = run(capsys, "export", str(root))  # the default: today's CSVs, and review.csv
    assert status == 0
    assert out.splitlines()[:3] == [
        str(root / "exports" / f"grades_{A}.csv"),
        str(root / "exports" / "grades_overall.csv"),
        str(root / "exports" / "review.csv"),
    ]
    assert f"not graded: {A}/cat: no grade exported (see review.csv)" in out
    table = _rows((root / "exports" / f"grades_{A}.csv").read_text(encoding="utf-8"))
    assert table[0][-4:] == ["total", "max", "needs_manual_grade", "status"]
    assert {row[0]: row[-1] for row in table[1:]} == {
        "ada": "submitted",
        "bob": "submitted",
        "cat": "not graded",
        "dan": "missing",
        "eve": "submitted",
    }
    status, out, _ = run(capsys, "export", str(root), "--format", "canvas")
    assert status == 0 and out.startswith(str(root / "exports" / "canvas" / "canvas_grades.csv"))
    assert (root / "exports" / "canvas" / "canvas_grades.csv").read_text() == CANVAS
    status, out, _ = run(
        capsys, "export", str(root), "--format", "gradescope", "--visibility", "hidden"
    )
    assert status == 0 and "3 results.json in" in out and "(visibility hidden)" in out
    bob = json.loads((root / "exports" / "gradescope" / A / "bob" / "results.json").read_text())
    assert bob["visibility"] == "hidden"


def test_command_line_out_and_its_mistakes(course, capsys, tmp_path):
    root = str(course.root)
    status, _, _ = run(capsys, "export", root, "--format", "moodle", "--out", str(tmp_path / "new"))
    assert status == 0 and (tmp_path / "new" / "moodle_grades.csv").read_text() == MOODLE
    deep = tmp_path / "no" / "such" / "folder"
    (tmp_path / "file").write_text("x")
    for argv, message in (
        (("--out", str(deep)), f"its parent folder {deep.parent} does not exist"),
        (("--out", str(tmp_path / "file")), "exists and is not a folder"),
        (("--visibility", "hidden"), "use it with --format gradescope"),
    ):
        status, out, err = run(capsys, "export", root, "--format", "canvas", *argv)
        assert status == 2 and err.startswith("error: ") and message in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out
    assert not (tmp_path / "no").exists()  # nothing created above the last component


def test_review_command(course, capsys):
    status, out, err = run(capsys, "review", str(course.root), "hw1")
    assert status == 0 and not err
    assert out.splitlines() == [
        f"{A}: 2 submissions to review (1 not graded)",
        f"  cat (Cat Stevens): not graded: {NOT_JSON}",
        "  eve (Eve Adams): normal_equation: line 2: uses os._exit",
        "  eve (Eve Adams): normal_equation: its cell ended the process (exit status 0)",
    ]
    status, out, _ = run(capsys, "review", str(course.root))
    assert status == 0 and out.splitlines()[4:] == [
        "hw2_mlp_backprop: nothing to review",
        "hw3_optimizers: nothing to review",
        "hw4_gradient_checking: nothing to review",
    ]
    status, _, err = run(capsys, "review", str(course.root), "hw9")
    assert status == 2 and "no assignment 'hw9'" in err
