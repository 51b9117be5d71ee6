"""The instructor's pipeline on real nbgrader: a course, a release, a batch graded in parallel in the
sandbox, the gradebook, feedback; interrupted and resumed; parallel equal to one by one.

Slow (each submission is a sandboxed run plus nbgrader's bookkeeping, ~5 s) and needs the sandbox.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.batch import grade_batch, pending, read_records
from autograder.course import COURSE_ID, CourseError, create_course, open_course
from autograder.samples import MUTANTS, attack_notebook, mutant_notebook
from autograder.sandbox import missing_protections

MISSING = missing_protections()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available"),
]
ASSIGNMENT = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent


def submit(course, student: str, nb_or_text) -> None:
    folder = course.folder("submitted", student, ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ASSIGNMENT}.ipynb"
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, path)


def released(course) -> nbformat.NotebookNode:
    path = course.folder("release", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = create_course(tmp_path_factory.mktemp("course") / "dl")
    assert course.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    source = nbformat.read(REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    submit(course, "reference", source)
    submit(course, "blank", released(course))
    mutant = MUTANTS["hw1"][0]
    submit(course, mutant.student, mutant_notebook("hw1", mutant))
    submit(course, "attack_exit", attack_notebook("hw1", "attack_exit"))
    submit(course, "garbled", "{ not a notebook")
    return course


@pytest.fixture(scope="module")
def first_batch(course):
    lines = []
    result = grade_batch(course, ASSIGNMENT, workers=2, progress=lambda *a: lines.append(a))
    return result, lines


def gradebook_scores(course) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        return {
            s.student.id: s.score
            for s in gb.find_assignment(ASSIGNMENT).submissions
            if s.student.id != "garbled"
        }


def test_a_course_lives_outside_the_repo_and_is_not_made_twice(tmp_path):
    with pytest.raises(CourseError, match="inside the repository"):
        create_course(REPO / "build" / "course")
    create_course(tmp_path / "c")
    with pytest.raises(CourseError, match="is a course already"):
        create_course(tmp_path / "c")
    with pytest.raises(CourseError, match="not a course folder"):
        open_course(tmp_path)


def test_the_batch_grades_everyone_and_reports_the_unreadable(first_batch):
    result, lines = first_batch
    assert result.graded == ["attack_exit", "blank", "mutant_gd_sign", "reference"]
    assert list(result.failed) == ["garbled"]
    assert [done for done, *_ in lines] == [1, 2, 3, 4, 5]  # the progress callback counts up


def test_scores_in_the_gradebook_and_in_the_records(course, first_batch):
    records = read_records(course, ASSIGNMENT)
    auto = {s: r["score"] for s, r in records.items()}
    assert auto == {"reference": 10, "blank": 0, "mutant_gd_sign": 8, "attack_exit": 9}
    # the gradebook: the same autograded points (the written answer awaits a manual grade)
    assert gradebook_scores(course) == auto
    attack = records["attack_exit"]
    assert attack["tasks"]["normal_equation"][0] == 0
    assert attack["review"] and attack["review"][0].startswith("normal_equation: ")


def test_feedback_has_the_messages_but_not_the_hidden_tests(course, first_batch):
    api = course.api()
    assert api.generate_feedback(ASSIGNMENT, "mutant_gd_sign", force=True)["success"]
    html = next(course.folder("feedback", "mutant_gd_sign", ASSIGNMENT).glob("*.html")).read_text()
    assert "gradient_descent: " in html  # the failed check's message
    assert "autograder.checks" not in html and "_verdict(" not in html


def test_a_second_run_grades_nothing_and_a_changed_submission_only_it(course, first_batch):
    assert pending(course, ASSIGNMENT) == ["garbled"]  # never graded: still pending
    source = nbformat.read(REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    submit(course, "blank", source)  # the student resubmits, answered
    result = grade_batch(course, ASSIGNMENT, workers=2)
    assert result.graded == ["blank"] and list(result.failed) == ["garbled"]
    assert read_records(course, ASSIGNMENT)["blank"]["score"] == 10


def test_an_interrupted_batch_resumes_and_parallel_equals_one_by_one(course, first_batch, tmp_path):
    # a second course with the same submissions, graded one by one and stopped after the first
    other = create_course(tmp_path / "again")
    assert other.api().generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    for student in ("reference", "mutant_gd_sign", "attack_exit"):
        folder = other.folder("submitted", student, ASSIGNMENT)
        shutil.copytree(course.folder("submitted", student, ASSIGNMENT), folder)

    def stop(done, total, *rest):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade_batch(other, ASSIGNMENT, workers=1, progress=stop)
    assert len(pending(other, ASSIGNMENT)) == 2  # one graded before the stop
    resumed = grade_batch(other, ASSIGNMENT, workers=1)
    assert len(resumed.graded) == 2 and len(resumed.skipped) == 1
    one_by_one = read_records(other, ASSIGNMENT)
    parallel = read_records(course, ASSIGNMENT)
    for student, record in one_by_one.items():
        assert record["tasks"] == parallel[student]["tasks"], student
