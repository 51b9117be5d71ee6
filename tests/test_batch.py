"""The instructor's pipeline on real nbgrader: a course, a release, a batch graded in parallel in the
sandbox, the gradebook, feedback; interrupted and resumed; parallel equal to one by one. (The engine's
faults, a killed worker or a killed batch, are tested in test_engine.py.)

Slow (each submission is a sandboxed run plus nbgrader's bookkeeping, ~5 s) and needs the sandbox.
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.batch import grade_batch, not_graded, pending, read_records
from autograder.course import COURSE_ID, CourseError, create_course, open_course
from autograder.report import export_grades, grade_table
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
    assert records["garbled"]["status"] == "not graded" and records["garbled"]["hash"] is None
    auto = {s: r["score"] for s, r in records.items() if r.get("status") != "not graded"}
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


def test_a_grader_failure_is_recorded_as_not_graded_and_graded_by_the_next_run(
    course, first_batch, monkeypatch, tmp_path
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the sandbox cannot take a uid lease under a file
    monkeypatch.setenv("DLHW_LEASE_DIR", str(blocked / "leases"))
    failed = grade_batch(course, ASSIGNMENT, workers=1, students=["reference"])
    assert list(failed.failed) == ["reference"] and failed.graded == []
    record = read_records(course, ASSIGNMENT)["reference"]
    assert record["status"] == "not graded" and "the grader failed" in record["reason"]
    assert "reference" in pending(course, ASSIGNMENT)  # not a grade: the next run tries again
    failed_now = not_graded(course, [ASSIGNMENT])
    assert list(failed_now[ASSIGNMENT]) == ["garbled", "reference"]  # garbled: unreadable
    table = grade_table(DB(course), ASSIGNMENT, COURSE_ID, not_graded=failed_now[ASSIGNMENT])
    (line,) = [row for row in table.splitlines() if row.startswith("reference ")]
    assert "not graded" in line and "10" not in line  # not the earlier grade the gradebook holds
    (csv_path,) = [
        p
        for p in export_grades(DB(course), tmp_path / "out", COURSE_ID, failed_now)
        if p.name == f"grades_{ASSIGNMENT}.csv"
    ]
    (row,) = [r for r in csv_path.read_text().splitlines() if r.startswith("reference,")]
    assert row.endswith(",not graded")
    monkeypatch.delenv("DLHW_LEASE_DIR")
    again = grade_batch(course, ASSIGNMENT, workers=1)
    assert "reference" in again.graded
    assert read_records(course, ASSIGNMENT)["reference"]["score"] == 10


def test_students_and_force_regrade_on_purpose(course, first_batch):
    only = grade_batch(course, ASSIGNMENT, workers=1, students=["mutant_gd_sign"])
    assert only.graded == ["mutant_gd_sign"]
    with pytest.raises(ValueError, match="no submission of"):
        grade_batch(course, ASSIGNMENT, students=["nobody"])


def test_a_second_batch_of_the_same_assignment_waits_or_says_who_holds_it(course):
    from autograder.batch import BatchBusy, _lock

    held = _lock(course, ASSIGNMENT, wait=1)
    try:
        with pytest.raises(BatchBusy, match="being graded on this course already"):
            grade_batch(course, ASSIGNMENT, workers=1, force=True, wait=0.5)
    finally:
        os.close(held)


def test_two_batches_at_once_give_the_grades_of_one_at_a_time(tmp_path):
    # two TAs on one server: hw1 and hw4 graded at the same moment, each with two workers that
    # would both like sandbox uids 60001 and 60002; then the same, one batch after the other
    course = create_course(tmp_path / "two")
    api = course.api()
    for assignment, homework in (
        ("hw1_linear_regression", "hw1"),
        ("hw4_gradient_checking", "hw4"),
    ):
        assert api.generate_assignment(assignment, force=True, create=True)["success"]
        source = nbformat.read(REPO / "assignments" / assignment / f"{assignment}.ipynb", 4)
        mutant = MUTANTS[homework][0]
        for student, nb in (
            ("reference", source),
            (mutant.student, mutant_notebook(homework, mutant)),
            ("attack_exit", attack_notebook(homework, "attack_exit")),
        ):
            folder = course.folder("submitted", student, assignment)
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / f"{assignment}.ipynb")
    assignments = ["hw1_linear_regression", "hw4_gradient_checking"]
    results = {}

    def batch(assignment):
        results[assignment] = grade_batch(course, assignment, workers=2)

    threads = [threading.Thread(target=batch, args=(a,)) for a in assignments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    at_once = {a: read_records(course, a) for a in assignments}
    assert all(not results[a].failed and len(results[a].graded) == 3 for a in assignments)
    for assignment in assignments:
        grade_batch(course, assignment, workers=2, force=True)
    one_at_a_time = {a: read_records(course, a) for a in assignments}
    for assignment in assignments:
        for student, record in one_at_a_time[assignment].items():
            assert at_once[assignment][student]["tasks"] == record["tasks"], (assignment, student)
        assert at_once[assignment]["reference"]["score"] == record_max(at_once[assignment])


def record_max(records: dict[str, dict]) -> float:
    return records["reference"]["max_score"]


def test_check_source_in_an_exception_reaches_no_feedback_gradebook_or_export(course, tmp_path):
    # the student somehow has a hidden check's source and raises it, hoping it lands in feedback
    checks = (REPO / "autograder" / "homeworks" / "hw1_linear_regression" / "checks.py").read_text()
    chunk = checks[checks.index("def _") :][:400]
    nb = nbformat.read(REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "mse"]
    hidden = base64.b64encode(chunk.encode()).decode()  # not in the notebook's text as such
    cell.source = cell.source.replace(
        "    ### BEGIN SOLUTION",
        f"    import base64\n    raise ValueError(base64.b64decode({hidden!r}).decode())\n"
        "    ### BEGIN SOLUTION",
        1,
    )
    submit(course, "leaker", nb)
    result = grade_batch(course, ASSIGNMENT, workers=1, students=["leaker"])
    assert result.graded == ["leaker"]
    assert read_records(course, ASSIGNMENT)["leaker"]["tasks"]["mse"][0] == 0
    assert course.api().generate_feedback(ASSIGNMENT, "leaker", force=True)["success"]
    feedback = course.folder("feedback", "leaker")
    assert not list(feedback.rglob("dlhw.json"))  # the grader's record stays with the instructor
    outputs = [p.read_text() for p in feedback.rglob("*.html")]
    outputs += [p.read_text() for p in export_grades(_db_url(course), tmp_path, COURSE_ID)]
    outputs.append(course.folder("autograded", "leaker", ASSIGNMENT, "dlhw.json").read_text())
    with Gradebook(_db_url(course), COURSE_ID) as gb:
        submission = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "leaker")
        outputs += [str(comment.comment) for comment in submission.comments]
    autograded = course.folder("autograded", "leaker", ASSIGNMENT, f"{ASSIGNMENT}.ipynb")
    outputs.append(autograded.read_text())
    squashed = " ".join(chunk.split())
    windows = {squashed[i : i + 24] for i in range(len(squashed) - 24)}
    for text in outputs:
        text = " ".join(html.unescape(text).replace("\\n", " ").split())
        assert not [w for w in windows if w in text]
    assert any("withheld" in t for t in outputs)  # the student is told why the message is missing


def _db_url(course) -> str:
    return f"sqlite:///{course.root / 'gradebook.db'}"


DB = _db_url
