"""nbgrader, with its ``Execute`` step replaced by the sandboxed, trusted grading of this package.

nbgrader's ``autograde`` sanitises a submission (clears outputs, overwrites the locked and test cells
with the instructor's), then **executes** the notebook in a kernel that runs as the instructor, and
scores each test cell by its outputs: an error (or any stderr) is 0, anything else full points. Here
the execute step is :class:`TrustedGrading`: it grades the notebook with
:func:`autograder.grade.grade_submission` (answer cells only, in the sandbox; verdicts in this
process) and writes each test cell's outputs from the verdict — nothing for a pass, an error whose
text is the check's message for a failure. Everything after it is nbgrader's own: ``SaveAutoGrades``
puts the scores in the gradebook, ``generate_feedback`` renders them, the formgrader shows them.

The configuration that does this (written by :func:`autograder.course.create_course`)::

    c.Autograde.autograde_preprocessors = [
        "autograder.nbgrader_plugin.TrustedGrading",  # instead of nbgrader's Execute
        ...  # nbgrader's own: IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
             # SaveAutoGrades, AssignLatePenalties, CheckCellMetadata
    ]
    c.GenerateFeedback.preprocessors = [
        "autograder.nbgrader_plugin.HideHiddenTests",  # feedback shows no hidden test code
        "nbgrader.preprocessors.GetGrades",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]

The full result of each grading (every task's message, the review list) is kept in ``RESULTS``;
:mod:`autograder.batch`, which runs nbgrader in its own process, writes it to ``dlhw.json`` beside
the autograded notebook, with the hash of the submitted file (what lets a batch resume).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor as Preprocessor
from traitlets import Bool, Float, Integer

from .build import SPECS, load_spec
from .grade import SubmissionGrade, grade_submission
from .sandbox import Limits, Sandbox

__all__ = ["HideHiddenTests", "TrustedGrading", "homework_for", "submission_hash"]

RECORD = "dlhw.json"
RESULTS: dict[tuple[str, str], dict] = {}  # (assignment, student) -> the last grading


def homework_for(assignment: str) -> str:
    """The homework (``"hw1"`` …) whose nbgrader assignment is ``assignment``."""
    for name in SPECS:
        if load_spec(name).assignment == assignment:
            return name
    known = ", ".join(load_spec(name).assignment for name in SPECS)
    raise ValueError(f"no homework has the assignment {assignment!r} (known: {known})")


def submission_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _error_output(message: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error", ename="AssertionError", evalue=message, traceback=[f"AssertionError: {message}"]
    )


class TrustedGrading(Preprocessor):
    """Grade the (sanitised) notebook in the sandbox and write the test cells' outputs from it."""

    sandbox_uid = Integer(60001, help="the uid the sandbox runs as (one per parallel worker)").tag(
        config=True
    )
    unprotected = Bool(
        False, help="grade without the sandbox where it cannot be set up (names what is missing)"
    ).tag(config=True)
    wall_seconds = Float(300.0, help="wall clock of one sandboxed run").tag(config=True)
    task_seconds = Float(60.0, help="wall clock of one task's probes").tag(config=True)
    cell_seconds = Float(30.0, help="wall clock of one answer cell").tag(config=True)
    memory_bytes = Integer(6 * 1024**3, help="address-space limit (0: none)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        assignment, student = info.get("assignment"), info.get("student")
        homework = homework_for(assignment)
        uid = int(os.environ.get("DLHW_SANDBOX_UID", self.sandbox_uid))
        sandbox = Sandbox(
            uid=uid,
            limits=Limits(wall_seconds=self.wall_seconds, memory_bytes=self.memory_bytes),
            unprotected=self.unprotected,
        )
        with tempfile.TemporaryDirectory(prefix="dlhw-grade-") as work:
            grade = grade_submission(
                nb,
                homework,
                sandbox,
                Path(work) / "io",
                task_seconds=self.task_seconds,
                cell_seconds=self.cell_seconds,
            )
        self._write_outputs(nb, grade)
        self._record(resources, assignment, student, grade)
        return nb, resources

    def _write_outputs(self, nb, grade: SubmissionGrade) -> None:
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade"):
                continue
            cell.outputs = []
            cell.execution_count = None
            task = grade.tasks.get(str(meta.get("grade_id", "")).removeprefix("test_"))
            if task is not None and not task.passed:
                cell.outputs.append(_error_output(task.message))

    def _record(self, resources, assignment, student, grade: SubmissionGrade) -> None:
        """Keep the full result (messages, review list) for the batch that runs nbgrader here."""
        RESULTS[(assignment, student)] = {
            "assignment": assignment,
            "student": student,
            "homework": grade.homework,
            "score": grade.score,
            "max_score": grade.max_score,
            "tasks": {n: [t.points, t.max_points, t.message] for n, t in grade.tasks.items()},
            "review": grade.review,
            "error": grade.error,
            "runs": grade.runs,
            "seconds": round(grade.seconds, 2),
        }


class HideHiddenTests(Preprocessor):
    """Feedback without the hidden test code: the hidden block of each test cell is removed.

    nbgrader puts the whole test cell, hidden tests included, in the feedback (its issue #917); the
    verdict's message is what the student needs, and it is in the cell's output.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
            kept, hidden = [], False
            for line in cell.source.splitlines():
                if line.strip() == "### BEGIN HIDDEN TESTS":
                    hidden = True
                    kept.append("# (hidden tests)")
                elif line.strip() == "### END HIDDEN TESTS":
                    hidden = False
                elif not hidden:
                    kept.append(line)
            cell.source = "\n".join(kept)
        return cell, resources


def write_record(path: Path, record: dict) -> None:
    """Write ``record`` as JSON at ``path`` atomically (a crash leaves the old file or none)."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
