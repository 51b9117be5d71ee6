"""End to end with real nbgrader and a real Jupyter kernel: release, validate, autograde, feedback, export.

For every homework, in a temporary course directory: generate the student version and check that no
solution and no hidden test reaches it; submit the reference answers, the blank release and two mutants;
autograde; generate feedback; export the grades as CSV and assert on the numbers. ``nbgrader validate``
passes the reference answers and, on the blank release, names every failing cell. About 40 s per
homework: every nbgrader command starts in ~4.5 s and each notebook runs in a fresh kernel.

nbgrader runs from this venv, so the notebook's ``python3`` kernel (argv ``python``) is started with this
venv's interpreter (jupyter_client substitutes ``sys.executable``), which imports ``autograder`` and torch.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import build, samples
from autograder.build import BEGIN, BEGIN_HIDDEN, END
from autograder.cells import Spec, Task, Written

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

# the mutant submissions: (student, answer cell, text in the reference answer, its replacement,
# the points of its task), shared with the demo
MUTANTS = samples.MUTANTS


@dataclass(frozen=True)
class Course:
    root: Path
    spec: Spec
    mutants: list
    validation: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # student: validate's output

    @property
    def assignment(self) -> str:
        return self.spec.assignment

    @property
    def notebook(self) -> str:
        return f"{self.spec.assignment}.ipynb"

    @property
    def tasks(self) -> list[Task]:
        return [c for c in self.spec.cells if isinstance(c, Task)]

    def path(self, *parts: str) -> Path:
        """``root/<parts>/<assignment>/<assignment>.ipynb``."""
        return self.root.joinpath(*parts, self.assignment, self.notebook)


def _nbgrader_command(*args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return [str(BIN / "nbgrader"), *args], env


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = _nbgrader_command(*args)
    result = subprocess.run(
        command, cwd=course, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result


def start_validate(course: Course, students: list[str]) -> subprocess.Popen:
    """``nbgrader validate`` on the students' submissions, started in the background: it runs beside
    autograding (on a second core), which halves its cost."""
    command, env = _nbgrader_command(
        "validate", *(str(course.path("submitted", s)) for s in students)
    )
    return subprocess.Popen(
        command, cwd=course.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_validate(process: subprocess.Popen, students: list[str]) -> dict[str, str]:
    """Each student's part of validate's output (it prints one result per notebook, in order)."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"nbgrader validate failed:\n{err[-3000:]}"
    parts = re.split(r"^(?=Success! |VALIDATION FAILED )", out, flags=re.MULTILINE)[1:]
    assert len(parts) == len(students), out[-3000:]
    return dict(zip(students, parts, strict=True))


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


@pytest.fixture(scope="module", params=build.SPECS)
def course(request, tmp_path_factory) -> Course:
    """A course directory, released, with four submissions autograded, feedback and grades exported."""
    root = tmp_path_factory.mktemp(f"course_{request.param}")
    course = Course(root, build.load_spec(request.param), MUTANTS[request.param])
    assignment = course.assignment
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        'c.CourseDirectory.course_id = "dl-homework"\n'
        'c.CourseDirectory.source_directory = "source"\n'
        "c.ExecutePreprocessor.timeout = 300\n"
    )
    shutil.copytree(REPO / "assignments" / assignment, root / "source" / assignment)
    nbgrader(root, "generate_assignment", assignment)

    source = nbformat.read(course.path("source"), as_version=4)
    answers = {gid: c.source for gid, c in nbgrader_cells(source).items()}

    def submit(student: str, replace: dict[str, str]) -> None:
        folder = root / "submitted" / student / assignment
        shutil.copytree(root / "release" / assignment, folder)
        nb = nbformat.read(folder / course.notebook, as_version=4)
        for gid, cell in nbgrader_cells(nb).items():
            if gid in replace:
                cell.source = replace[gid]
        nbformat.write(nb, folder / course.notebook)

    solution_ids = [
        gid for gid, c in nbgrader_cells(source).items() if c.metadata.nbgrader.solution
    ]
    reference = {gid: answers[gid] for gid in solution_ids}
    submit("reference", reference)
    submit("blank", {})
    for student, cell, old, new, _ in course.mutants:
        assert old in reference[cell], f"the mutant {student} no longer applies: edit MUTANTS"
        submit(student, {**reference, cell: reference[cell].replace(old, new, 1)})

    validating = ["reference", "blank"]
    forbidding = [t for t in course.tasks if build.forbidden_rules(t)]
    if forbidding:  # one answer that names what its task forbids (never called)
        task = forbidding[0]
        use = FORBIDDEN_USE[build.forbidden_rules(task)[0]]
        submit("forbidden", {**reference, task.name: with_line(reference[task.name], use)})
        validating.append("forbidden")
    validate = start_validate(course, validating)
    nbgrader(root, "autograde", assignment)
    nbgrader(root, "generate_feedback", assignment)
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    return dataclasses.replace(course, validation=finish_validate(validate, validating))


# a line that names what a rule forbids without changing what the answer computes
FORBIDDEN_USE = {
    "torch.autograd": "_ = torch.autograd.grad  # to compare with later",
    "torch.optim's optimizers": "_ = torch.optim.SGD  # to compare with later",
    "torch.nn.utils' clipping": "_ = torch.nn.utils.clip_grad_norm_  # to compare with later",
}


def with_line(answer: str, line: str) -> str:
    """``answer`` with ``line`` first in its first solution region, at that region's indentation."""
    head, region = answer.split(BEGIN + "\n", 1)
    first = region.splitlines()[0]
    indent = first[: len(first) - len(first.lstrip())]
    return f"{head}{BEGIN}\n{indent}{line}\n{region}"


def grades(course: Course) -> dict[str, dict[str, str]]:
    with open(course.root / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def cell_scores(course: Course, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(course.assignment, course.assignment, student)
        return {g.name: g.score for g in nb.grades if g.auto_score is not None}


def test_release_holds_no_solution_and_no_hidden_test(course):
    source = nbformat.read(course.path("source"), as_version=4)
    text = course.path("release").read_text()
    for marker in (BEGIN, END, BEGIN_HIDDEN, "autograder", "_verdict"):
        assert marker not in text, f"{marker!r} reached the release"
    leaked = [line for line in solution_lines(source) if line in text]
    assert not leaked, f"reference code reached the release: {leaked[:5]}"
    released = nbformat.read(course.path("release"), as_version=4)
    for gid, cell in nbgrader_cells(released).items():
        if cell.metadata.nbgrader.solution and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source, gid
    for name in course.spec.data_files:
        assert (course.root / "release" / course.assignment / name).is_file()


def test_exported_grades(course):
    auto, manual = course.spec.points
    rows = grades(course)
    forbidden = {"forbidden"} if "forbidden" in course.validation else set()
    assert set(rows) == {"reference", "blank", *(m[0] for m in course.mutants), *forbidden}
    for row in rows.values():
        assert float(row["max_score"]) == auto + manual
    assert float(rows["reference"]["score"]) == auto, (
        "the reference must get every autograded point"
    )
    assert float(rows["blank"]["score"]) == 0.0
    for student, _, _, _, points in course.mutants:
        assert float(rows[student]["score"]) == auto - points, student


def test_mutants_lose_the_points_of_their_task_only(course):
    full = cell_scores(course, "reference")
    assert len(full) == len(course.tasks) and all(score > 0 for score in full.values())
    for student, task, _, _, points in course.mutants:
        scores = cell_scores(course, student)
        lost = {name: full[name] - scores[name] for name in full if scores[name] != full[name]}
        assert lost == {f"test_{task}": points}, student


def test_blank_release_fails_only_with_not_implemented(course):
    """The blank release runs top to bottom; its only errors are the unanswered cells' own."""
    nb = nbformat.read(course.path("autograded", "blank"), as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o.ename for o in outputs if o.output_type == "error"]
    assert errors and set(errors) == {"NotImplementedError"}
    assert all(score == 0 for score in cell_scores(course, "blank").values())


def test_feedback_is_generated(course):
    for student in ("reference", "blank", *(m[0] for m in course.mutants)):
        assert course.path("feedback", student).with_suffix(".html").is_file()


def test_validate_passes_the_reference_answers(course):
    out = course.validation["reference"]
    assert "Success! Your notebook passes all the tests." in out, out[-3000:]


def test_validate_names_every_failing_cell_of_the_blank_release(course):
    """nbgrader validate exits 0 either way; what it prints is what the student reads."""
    out = course.validation["blank"]
    written = [c for c in course.spec.cells if isinstance(c, Written)]
    failing = len(course.tasks) + len(written)
    assert f"VALIDATION FAILED ON {failing} CELL(S)!" in out, out[:3000]
    blocks = out.split("The following cell failed:")[1:]
    assert len(blocks) == failing
    for task in course.tasks:
        # the failing test cell is shown with its source, so the student sees which task it is
        named = [b for b in blocks if f"{task.name}(" in b and "NotImplementedError" in b]
        assert named, f"validate does not name the failing test cell of {task.name}"
    assert sum("You did not provide a response." in b for b in blocks) == len(written)


def test_validate_fails_a_forbidden_use_with_the_graders_message(course):
    """The scan the grader runs is the first line of a forbidding task's tests: ``nbgrader validate``
    (and the visible tests) say before submission what grading will say, and only for that task."""
    forbidding = [t for t in course.tasks if build.forbidden_rules(t)]
    if not forbidding:
        pytest.skip(f"{course.assignment} forbids nothing")
    task, rule = forbidding[0], build.forbidden_rules(forbidding[0])[0]
    out = course.validation["forbidden"]
    assert "VALIDATION FAILED ON 1 CELL(S)!" in out, out[:3000]
    assert f"AssertionError: {task.name}: uses {rule} (" in out, out[
        -3000:
    ]  # validate cuts the rest
    points = cell_scores(course, "forbidden")
    assert points[f"test_{task.name}"] == 0
    reference = cell_scores(course, "reference")
    assert {k: v for k, v in points.items() if k != f"test_{task.name}"} == {
        k: v for k, v in reference.items() if k != f"test_{task.name}"
    }
