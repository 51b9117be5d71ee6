"""The batch's writer (autograder/writer.py) writes what nbgrader's own ``autograde`` writes.

The same submissions are graded into two courses: one by the writer (the autograded notebook made on
the worker, the gradebook in one session of the client), one by nbgrader's ``autograde`` fed each
result (the batch's path for a course with its own preprocessors). Everything nbgrader keeps is
compared: each cell's automatic score, manual score and ``needs_manual_grade``, each answer's
automatic comment, the submission's timestamp and late penalty, the notebook's total, the
autograded folder file by file (names, contents, permissions), and the records. Both are then
regraded with ``--force`` after a grader's manual score, the path a regrade takes.

Slow (two batches of seven sandboxed runs, twice) and needs the sandbox.
"""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy import text

from autograder import batch
from autograder.batch import grade_batch, read_records
from autograder.course import COURSE_ID, create_course
from autograder.samples import MUTANTS, attack_notebook, mutant_notebook
from autograder.sandbox import missing_protections
from autograder.writer import GradebookWriter, WriteFailed, pipeline_of

MISSING = missing_protections()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available"),
]
ASSIGNMENT = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent
DUE = "2026-11-01 12:00:00 UTC"
ON_TIME = "2026-11-01 11:00:00.000000 UTC"
LATE = "2026-11-02 09:30:00.000000 UTC"


def _submissions(released) -> dict[str, tuple[nbformat.NotebookNode, str | None]]:
    source = nbformat.read(REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    written = copy.deepcopy(released)
    for cell in written.cells:  # a written answer filled in, everything else left blank
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):
            cell.source = "Because the loss is convex, gradient descent finds its minimum."
    mutant = MUTANTS["hw1"][0]
    return {
        "reference": (source, ON_TIME),
        "late": (source, LATE),
        "blank": (released, None),
        "written": (written, ON_TIME),
        mutant.student: (mutant_notebook("hw1", mutant), ON_TIME),
        "attack_exit": (attack_notebook("hw1", "attack_exit"), ON_TIME),
    }


def _course(root: Path):
    course = create_course(root)
    with open(course.root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    api = course.api()
    assert api.generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    released = nbformat.read(course.folder("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), 4)
    for student, (nb, timestamp) in _submissions(released).items():
        folder = course.folder("submitted", student, ASSIGNMENT)
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp)
    return course


def _gradebook(course) -> dict:
    """Everything nbgrader keeps of each submission, as plain data."""
    kept = {}
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            notebook = submission.notebooks[0]
            kept[submission.student.id] = {
                "timestamp": str(submission.timestamp),
                "seconds late": submission.total_seconds_late,
                "score": notebook.score,
                "late penalty": notebook.late_submission_penalty,
                "needs manual grade": notebook.needs_manual_grade,
                "flagged": notebook.flagged,
                "grades": {
                    g.name: (g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score)
                    for g in notebook.grades
                },
                "comments": {c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments},
            }
    return kept


def _folder(course) -> dict:
    """The autograded folders: each file's contents (notebooks parsed) and permissions."""
    files = {}
    root = course.folder("autograded")
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.name == "dlhw.json":
            continue
        text = path.read_text(encoding="utf-8")
        body = json.loads(text) if path.suffix == ".ipynb" else text
        files[str(path.relative_to(root))] = (body, stat.S_IMODE(path.stat().st_mode))
    return files


def _records(course) -> dict:
    """The records, less what differs from run to run (times)."""
    records = read_records(course, ASSIGNMENT)
    for record in records.values():
        for key in ("timings", "seconds"):
            record.pop(key, None)
    return records


def _by_nbgrader(monkeypatch) -> None:
    monkeypatch.setattr(batch, "pipeline_of", lambda config: None)


def _manual_score(course, student: str) -> None:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        grade = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades[0]
        grade.manual_score = 0.5
        gb.db.commit()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    direct = _course(tmp_path_factory.mktemp("direct") / "dl")
    nbgrader = _course(tmp_path_factory.mktemp("nbgrader") / "dl")
    seen = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        first = grade_batch(direct, ASSIGNMENT, workers=2)
        writes = first.writes
        _by_nbgrader(monkeypatch)
        assert grade_batch(nbgrader, ASSIGNMENT, workers=2).graded == first.graded
    seen["first"] = (_gradebook(direct), _gradebook(nbgrader))
    seen["first files"] = (_folder(direct), _folder(nbgrader))
    seen["first records"] = (_records(direct), _records(nbgrader))
    for course in (direct, nbgrader):
        _manual_score(course, "written")
    with pytest.MonkeyPatch.context() as monkeypatch:
        grade_batch(direct, ASSIGNMENT, workers=2, force=True)
        _by_nbgrader(monkeypatch)
        grade_batch(nbgrader, ASSIGNMENT, workers=2, force=True)
    seen["again"] = (_gradebook(direct), _gradebook(nbgrader))
    seen["again files"] = (_folder(direct), _folder(nbgrader))
    seen["writes"] = writes
    return seen


@pytest.mark.parametrize("when", ["first", "again"])
def test_the_gradebook_is_what_nbgrader_writes(both, when):
    direct, nbgrader = both[when]
    assert set(direct) == set(nbgrader) == set(_submissions_names())
    for student in direct:
        assert direct[student] == nbgrader[student], student


def _submissions_names():
    return ["reference", "late", "blank", "written", MUTANTS["hw1"][0].student, "attack_exit"]


def test_the_cases_are_the_ones_meant(both):
    """The comparison covers a late penalty, a written answer, an unanswered one, a review flag."""
    direct, _ = both["first"]
    assert direct["late"]["seconds late"] > 0 and direct["late"]["late penalty"] > 0
    assert direct["reference"]["late penalty"] is None and direct["reference"]["score"] > 0
    assert direct["blank"]["timestamp"] != direct["reference"]["timestamp"]
    assert "No response." in {c[0] for c in direct["blank"]["comments"].values()}
    assert direct["written"]["needs manual grade"]
    assert direct["attack_exit"]["flagged"] and not direct["reference"]["flagged"]
    again, _ = both["again"]
    assert again["written"]["grades"] != direct["written"]["grades"]  # the manual score kept


@pytest.mark.parametrize("when", ["first files", "again files"])
def test_the_autograded_folders_are_what_nbgrader_writes(both, when):
    direct, nbgrader = both[when]
    assert direct.keys() == nbgrader.keys()
    assert any(name.endswith(".ipynb") for name in direct)
    assert any(name.endswith("timestamp.txt") for name in direct)
    for name in direct:
        assert direct[name] == nbgrader[name], name


def test_the_records_are_the_same(both):
    direct, nbgrader = both["first records"]
    assert direct == nbgrader


def test_the_writer_is_cheaper_than_nbgrader(both):
    """Not a timing assertion of speed, only that the direct path was taken: nbgrader's path
    spends about half a second per submission; the writer's mean is reported in benchmarks/."""
    assert set(both["writes"]) == set(_submissions_names())


def test_a_course_with_its_own_preprocessor_goes_through_nbgrader(tmp_path):
    course = create_course(tmp_path / "dl")
    config = course.load_config()
    assert pipeline_of(config) is not None
    config.Autograde.autograde_preprocessors = [
        *config.Autograde.autograde_preprocessors,
        "my_course.Extra",
    ]
    assert pipeline_of(config) is None


def test_an_assignment_the_gradebook_lacks_is_a_clear_failure(tmp_path):
    course = create_course(tmp_path / "dl")
    with pytest.raises(WriteFailed, match="no assignment 'hw9'"):
        GradebookWriter(course, "hw9")


def test_a_link_in_a_submission_is_never_followed(tmp_path):
    course = create_course(tmp_path / "dl")
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    folder = course.folder("submitted", "linker", ASSIGNMENT)
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("the instructor's secret")
    os.symlink(secret, folder / "notes.txt")
    (folder / "data.csv").write_text("1,2\n")
    with GradebookWriter(course, ASSIGNMENT) as writer:
        writer.write("linker", {"notebook": "{}", "grades": {}, "comments": {}}, [])
    dest = course.folder("autograded", "linker", ASSIGNMENT)
    assert (dest / "data.csv").read_text() == "1,2\n"
    assert not (dest / "notes.txt").exists()


def _rows(course) -> dict[str, int]:
    """How many rows the tables a submission writes have."""
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        tables = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")
        return {
            table: gb.db.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in tables
        }


def _course_with_submitted_folders(tmp_path: Path, students: list[str]):
    course = create_course(tmp_path / "dl")
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    for student in students:
        course.folder("submitted", student, ASSIGNMENT).mkdir(parents=True)
    return course


@pytest.mark.parametrize("bad", ["unknown cell", "bad timestamp"])
def test_a_first_result_that_cannot_be_written_leaves_nothing(tmp_path, bad):
    """A result is written in one transaction: a failure half-way (a cell the gradebook lacks, a
    timestamp.txt that is not a time) leaves no student, no submission and no autograded folder
    behind, and the next student is written as if nothing happened."""
    course = _course_with_submitted_folders(tmp_path, ["ghost", "next"])
    written = {"notebook": "{}", "grades": {}, "comments": {}}
    if bad == "unknown cell":
        written = {**written, "grades": {"no-such-cell": 1.0}}
    else:
        (course.folder("submitted", "ghost", ASSIGNMENT) / "timestamp.txt").write_text("never")
    before = _rows(course)
    with GradebookWriter(course, ASSIGNMENT) as writer:
        with pytest.raises(WriteFailed):
            writer.write("ghost", written, [])
        assert _rows(course) == before
        writer.write("next", {"notebook": "{}", "grades": {}, "comments": {}}, [])
    after = _rows(course)
    assert after["student"] == before["student"] + 1
    assert after["submitted_assignment"] == before["submitted_assignment"] + 1
    assert after["grade"] > before["grade"] and after["comment"] > before["comment"]
    assert not course.folder("autograded", "ghost", ASSIGNMENT).exists()


def test_a_regrade_that_cannot_be_written_keeps_the_earlier_grade(tmp_path):
    course = _course_with_submitted_folders(tmp_path, ["again"])
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        graded = [cell.name for cell in gb.find_notebook(ASSIGNMENT, ASSIGNMENT).grade_cells]
    first = {"notebook": "{}", "grades": {graded[0]: 1.0}, "comments": {}}
    with GradebookWriter(course, ASSIGNMENT) as writer:
        writer.write("again", first, [])
        with pytest.raises(WriteFailed):
            writer.write("again", {**first, "grades": {graded[0]: 0.0, "no-such-cell": 1.0}}, [])
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        notebook = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "again")
        scores = {grade.name: grade.auto_score for grade in notebook.grades}
    assert scores[graded[0]] == 1.0


def test_a_regrade_without_a_timestamp_keeps_the_one_the_gradebook_has(tmp_path):
    """As nbgrader's ``update_or_create_submission`` with no timestamp: the earlier one stays."""
    course = _course_with_submitted_folders(tmp_path, ["stamped"])
    stamp = course.folder("submitted", "stamped", ASSIGNMENT) / "timestamp.txt"
    stamp.write_text(ON_TIME)
    empty = {"notebook": "{}", "grades": {}, "comments": {}}
    with GradebookWriter(course, ASSIGNMENT) as writer:
        writer.write("stamped", empty, [])
        stamp.unlink()
        writer.write("stamped", empty, [])
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        timestamp = gb.find_submission(ASSIGNMENT, "stamped").timestamp
    assert str(timestamp) == "2026-11-01 11:00:00"
