"""End to end with real nbgrader and a real Jupyter kernel: release, autograde, feedback, export.

In a temporary course directory: generate the student version of homework 1 and check that no solution
and no hidden test reaches it; submit the reference answers, the blank release and two mutants; autograde;
generate feedback; export the grades as CSV and assert on the numbers. About a minute: every nbgrader
command starts in ~4.5 s and autograding runs each notebook in a fresh kernel.

nbgrader runs from this venv, so the notebook's ``python3`` kernel (argv ``python``) is started with this
venv's interpreter (jupyter_client substitutes ``sys.executable``), which imports ``autograder`` and torch.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.build import BEGIN, BEGIN_HIDDEN, END

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "hw1_linear_regression"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

# a mutant submission: (student, answer cell, text in the reference answer, its replacement, task points)
MUTANTS = [
    ("mutant_gd_sign", "gradient_descent", "w -= lr * grad", "w += lr * grad", 2),
    ("mutant_ne_ridge", "normal_equation", "A = X.T @ X ", "A = X.T @ X + torch.eye(d) ", 1),
]


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result


def nbgrader_cells(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def solution_lines(nb) -> set[str]:
    """Stripped lines inside the solution regions of ``nb`` that occur nowhere outside them."""
    inside, outside = set(), []
    for cell in nb.cells:
        in_region = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in (BEGIN, END):
                in_region = stripped == BEGIN
                continue
            if in_region:
                inside.add(stripped)
            else:
                outside.append(line)
    outside_text = "\n".join(outside)
    return {line for line in inside if len(line) > 12 and line not in outside_text}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course directory, released, with four submissions autograded, feedback and grades exported."""
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        'c.CourseDirectory.course_id = "dl-homework"\n'
        'c.CourseDirectory.source_directory = "source"\n'
        "c.ExecutePreprocessor.timeout = 300\n"
    )
    shutil.copytree(REPO / "assignments" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    nbgrader(root, "generate_assignment", ASSIGNMENT)

    source = nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    released = root / "release" / ASSIGNMENT
    answers = {gid: c.source for gid, c in nbgrader_cells(source).items()}

    def submit(student: str, replace: dict[str, str]) -> None:
        folder = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(released, folder)
        nb = nbformat.read(folder / NOTEBOOK, as_version=4)
        for gid, cell in nbgrader_cells(nb).items():
            if gid in replace:
                cell.source = replace[gid]
        nbformat.write(nb, folder / NOTEBOOK)

    solution_ids = [
        gid for gid, c in nbgrader_cells(source).items() if c.metadata.nbgrader.solution
    ]
    reference = {gid: answers[gid] for gid in solution_ids}
    submit("reference", reference)
    submit("blank", {})
    for student, cell, old, new, _ in MUTANTS:
        assert old in reference[cell], f"the mutant {student} no longer applies: edit MUTANTS"
        submit(student, {**reference, cell: reference[cell].replace(old, new, 1)})

    nbgrader(root, "autograde", ASSIGNMENT)
    nbgrader(root, "generate_feedback", ASSIGNMENT)
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    return root


def grades(course: Path) -> dict[str, dict[str, str]]:
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def cell_scores(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: g.score for g in nb.grades if g.auto_score is not None}


def test_release_holds_no_solution_and_no_hidden_test(course):
    source = nbformat.read(course / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    text = (course / "release" / ASSIGNMENT / NOTEBOOK).read_text()
    for marker in (BEGIN, END, BEGIN_HIDDEN, "autograder", "_verdict"):
        assert marker not in text, f"{marker!r} reached the release"
    leaked = [line for line in solution_lines(source) if line in text]
    assert not leaked, f"reference code reached the release: {leaked[:5]}"
    released = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    for gid, cell in nbgrader_cells(released).items():
        if cell.metadata.nbgrader.solution and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source, gid
    assert (course / "release" / ASSIGNMENT / "diabetes.csv").is_file()


def test_exported_grades(course):
    rows = grades(course)
    assert set(rows) == {"reference", "blank", *(m[0] for m in MUTANTS)}
    for row in rows.values():
        assert float(row["max_score"]) == 12.0  # 10 autograded + 2 manually graded
    assert float(rows["reference"]["score"]) == 10.0, (
        "the reference must get every autograded point"
    )
    assert float(rows["blank"]["score"]) == 0.0
    for student, _, _, _, points in MUTANTS:
        assert float(rows[student]["score"]) == 10.0 - points, student


def test_mutants_lose_the_points_of_their_task_only(course):
    full = cell_scores(course, "reference")
    assert len(full) == 8 and all(score > 0 for score in full.values())
    for student, task, _, _, points in MUTANTS:
        scores = cell_scores(course, student)
        lost = {name: full[name] - scores[name] for name in full if scores[name] != full[name]}
        assert lost == {f"test_{task}": points}, student


def test_blank_release_fails_only_with_not_implemented(course):
    """The blank release runs top to bottom; its only errors are the unanswered cells' own."""
    nb = nbformat.read(course / "autograded" / "blank" / ASSIGNMENT / NOTEBOOK, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o.ename for o in outputs if o.output_type == "error"]
    assert errors and set(errors) == {"NotImplementedError"}
    assert all(score == 0 for score in cell_scores(course, "blank").values())


def test_feedback_is_generated(course):
    for student in ("reference", "blank", *(m[0] for m in MUTANTS)):
        assert (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
