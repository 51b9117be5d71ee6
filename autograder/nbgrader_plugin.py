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
:mod:`autograder.batch` writes it to ``dlhw.json`` beside the autograded notebook, with the hash of
the submitted bytes (what lets a batch resume).

**Graded elsewhere, written here.** A batch grades on a Dask cluster (:func:`autograder.batch.grade_task`,
which reads the notebook as nbgrader's path does, :func:`read_notebook` and :func:`restructure`) and
runs nbgrader's ``autograde`` in its own process only to write the gradebook and the autograded
notebook: the result for ``(assignment, student)`` is put in ``PRECOMPUTED`` first, and
:class:`TrustedGrading` takes it from there instead of grading (a *not graded* result raises
:class:`~autograder.grade.NotGraded` as a failed grading does). Without a precomputed result (an
instructor's own ``nbgrader autograde``) it grades in this process, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import validator
from nbgrader.preprocessors import NbGraderPreprocessor as Preprocessor
from traitlets import Bool, Float, Integer, Unicode

from .grade import NotGraded, SubmissionGrade, grade_submission
from .intake import SubmissionError, read_submission, restructure
from .registry import homeworks
from .sandbox import Limits, Sandbox

__all__ = [
    "HideHiddenTests",
    "InstructorStructure",
    "SubmissionExporter",
    "TrustedGrading",
    "homework_for",
    "plain_grade",
    "plain_record",
    "read_notebook",
    "submission_hash",
]

RECORD = "dlhw.json"
RESULTS: dict[tuple[str, str], dict] = {}  # (assignment, student) -> the last grading
# (assignment, student) -> a result graded elsewhere (batch.grade_task), for TrustedGrading to use
PRECOMPUTED: dict[tuple[str, str], dict] = {}


def homework_for(assignment: str) -> str:
    """The homework (``"hw1"`` …) whose nbgrader assignment is ``assignment``."""
    for homework in homeworks().values():
        if homework.assignment == assignment:
            return homework.key
    known = ", ".join(h.assignment for h in homeworks().values())
    raise ValueError(f"no homework has the assignment {assignment!r} (known: {known})")


def submission_hash(path: Path) -> str:
    """SHA-256 of the submitted file, read in chunks (a submission may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    lang = Unicode("en", help="the edition's language: the tasks' messages in it (en, ru)").tag(
        config=True
    )
    warm = Bool(
        True,
        help="batch workers fork each run from a warm sandbox that imported torch once "
        "(autograder.warm); False: a new sandbox and interpreter per run",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        assignment, student = info.get("assignment"), info.get("student")
        precomputed = PRECOMPUTED.get((assignment, student))
        if precomputed is not None:  # graded on a worker: only the writing is done here
            if precomputed.get("status") != "ok":
                reason = str(precomputed.get("reason") or "the grader failed")
                RESULTS[(assignment, student)] = {"status": "not graded", "reason": reason}
                raise NotGraded(reason)
            result = precomputed
        else:
            result = plain_grade(self._grade(nb, assignment, student))
        self._write_outputs(nb, result["tasks"])
        RESULTS[(assignment, student)] = plain_record(assignment, student, result)
        return nb, resources

    def _grade(self, nb, assignment: str, student: str) -> SubmissionGrade:
        """Grade here, in the sandbox (an instructor's own ``nbgrader autograde``)."""
        homework = homework_for(assignment)
        uid = int(os.environ.get("DLHW_SANDBOX_UID", self.sandbox_uid))
        limits = Limits(wall_seconds=self.wall_seconds, memory_bytes=self.memory_bytes)
        try:
            # the uid is leased for this submission only; the scratch folder is the grader's own
            with (
                Sandbox(uid=uid, limits=limits, unprotected=self.unprotected) as sandbox,
                tempfile.TemporaryDirectory(prefix="dlhw-grade-") as work,
            ):
                return grade_submission(
                    nb,
                    homework,
                    sandbox,
                    Path(work) / "work",
                    task_seconds=self.task_seconds,
                    cell_seconds=self.cell_seconds,
                    lang=self.lang,
                )
        except NotGraded as err:  # the grader failed, not the student: no grade, a reason
            RESULTS[(assignment, student)] = {"status": "not graded", "reason": str(err)}
            raise
        except Exception as err:  # the sandbox could not be set up: the same, in other words
            reason = grader_failure(err)
            RESULTS[(assignment, student)] = {"status": "not graded", "reason": reason}
            raise NotGraded(reason) from err

    def _write_outputs(self, nb, tasks: dict[str, list]) -> None:
        """Each test cell's outputs from ``tasks`` (``{name: [points, max_points, message]}``):
        nothing for a pass, an error with the check's message for a failure."""
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade"):
                continue
            cell.outputs = []
            cell.execution_count = None
            task = tasks.get(str(meta.get("grade_id", "")).removeprefix("test_"))
            if task is not None and task[0] != task[1]:
                cell.outputs.append(_error_output(str(task[2])))


def grader_failure(err: BaseException) -> str:
    """The *not graded* reason of an exception of the grader itself (one line, bounded)."""
    return f"the grader failed ({type(err).__name__}: {str(err)[:200]})"


def plain_grade(grade: SubmissionGrade) -> dict:
    """A :class:`~autograder.grade.SubmissionGrade` as plain, JSON-able data (``status`` ``ok``)."""
    return {
        "status": "ok",
        "homework": grade.homework,
        "score": float(grade.score),
        "max_score": int(grade.max_score),
        "tasks": {
            n: [float(t.points), int(t.max_points), str(t.message)] for n, t in grade.tasks.items()
        },
        "review": [str(line) for line in grade.review],
        "error": grade.error,
        "runs": int(grade.runs),
        "seconds": round(float(grade.seconds), 2),
    }


def plain_record(assignment: str, student: str, result: dict) -> dict:
    """The full result (messages, review list) the batch keeps in ``dlhw.json``."""
    record = {
        "assignment": assignment,
        "student": student,
        **{key: result.get(key) for key in ("homework", "score", "max_score", "tasks")},
        **{key: result.get(key) for key in ("review", "error", "runs", "seconds")},
    }
    if result.get("timings"):
        record["timings"] = result["timings"]
    return record


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(json.dumps(record, indent=1, ensure_ascii=False))
        file.flush()
        os.fsync(file.fileno())  # on disk before it replaces the old record
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------------
# Crafted submissions: read within limits, sanitised into the instructor's structure
# ---------------------------------------------------------------------------------------------------


def _not_graded(resources, reason: str) -> None:
    """Say why this submission is not graded, for the batch (``RESULTS``) that reports it."""
    info = (resources or {}).get("nbgrader", {})
    if info.get("assignment") and info.get("student"):
        RESULTS[(info["assignment"], info["student"])] = {"status": "not graded", "reason": reason}


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The submitted notebook at ``path`` as the grader reads it, wherever it grades.

    :func:`autograder.intake.read_submission` (size, depth, cell-count and cell-size caps before
    the JSON parser), then nbconvert's own normalisation; :class:`SubmissionError` with a one-line
    reason (``"<file name>: not a readable notebook: …"``) when either refuses it.
    """
    path = Path(path)
    try:
        nb = read_submission(path)
        if not isinstance(nb.get("metadata"), dict):
            nb.metadata = nbformat.NotebookNode()
        if not isinstance(nb.metadata.get("language", ""), str):
            del nb.metadata["language"]  # nbconvert lower-cases it before any preprocessor
        with warnings.catch_warnings():  # a repaired duplicate cell id is no news here
            warnings.simplefilter("ignore")
            _, nb = validator.normalize(nb)  # what nbconvert does before the preprocessors
    except SubmissionError:
        raise
    except Exception as err:  # nbformat's normalisation failing
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise SubmissionError(
            f"{path.name}: not a readable notebook: {first or type(err).__name__}"
        ) from None
    return nb


class SubmissionExporter(NotebookExporter):
    """nbgrader's notebook exporter for ``autograde``, reading each notebook within intake's limits.

    nbgrader reads the submitted file with nbconvert (``from_filename``, then ``nbformat.read``)
    before any preprocessor runs: a notebook nested 100 000 deep died there of ``RecursionError``, a
    file of gigabytes would be read whole. Here :func:`autograder.intake.read_submission` reads it
    (size, depth, cell-count and cell-size caps before the JSON parser), and nbconvert's own
    normalisation is tried on it at once. A refused file is *not graded*, with a one-line reason in
    nbgrader's log and in ``RESULTS`` (which the batch reports); the file itself is left as it is.
    Configured with ``c.Autograde.exporter_class`` (:mod:`autograder.course`).
    """

    def from_filename(self, filename, resources=None, **kw):
        resources = ResourcesDict() if resources is None else resources
        path = Path(filename)
        try:
            nb = read_notebook(path)
        except SubmissionError as err:
            reason = str(err)
            self.log.error("not graded: %s", reason)
            _not_graded(resources, reason)
            raise SubmissionError(reason) from None
        if not resources.get("metadata"):
            resources["metadata"] = ResourcesDict()
        resources["metadata"]["name"] = path.stem
        resources["metadata"]["path"] = str(path.parent)
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        resources["metadata"]["modified_date"] = f"{modified:%B} {modified.day}, {modified:%Y}"
        return self.from_notebook_node(nb, resources=resources, **kw)


class InstructorStructure(Preprocessor):
    """Sanitising, first of all: the notebook nbgrader works on becomes the instructor's, answered.

    nbgrader's sanitising trusts the submission's structure, and fails on what Jupyter or a student
    makes of it (each seen on nbgrader 0.9.6):

    - an answer cell copied in Jupyter (the copy keeps its ``grade_id``), or a cell claiming a test
      cell's ``grade_id``: ``DeduplicateIds`` empties the nbgrader metadata of all but the last
      copy, and ``CheckCellMetadata`` then stops on the emptied one as "an old version of the
      nbgrader metadata format" (``SchemaTooOldError``, which nbgrader re-raises: an ``nbgrader
      autograde`` of the whole class stops there);
    - an extra graded cell with an id the gradebook lacks: ``OverwriteCells`` deletes its
      ``grade_id``, and ``CheckCellMetadata`` fails ("nbgrader cell does not have a grade_id");
    - nbgrader metadata that is not a dict (``AttributeError``), one without a ``grade_id``
      (``KeyError``), a ``schema_version`` from the future (``SchemaTooNewError``), a test cell
      marked as an answer (``OverwriteCells``: "Inconsistent checksums").

    Here the notebook is first replaced by :func:`autograder.intake.restructure` of the course's
    source notebook (``source/<assignment>/<notebook>.ipynb``): the instructor's cells, ids and
    metadata, with the student's answers in the answer cells (every copy of a copied answer cell,
    in order), so nbgrader's later steps never see the forged structure. What was ignored is
    logged as a warning and noted for the review list. Only the notebook in memory changes; the
    submitted file stays as it came.
    """

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        source = self._source_path(assignment, notebook)
        try:
            source_nb = nbformat.read(source, as_version=4)
        except (OSError, ValueError) as err:
            reason = f"the instructor's notebook {source} cannot be read ({err})"
            _not_graded(resources, reason)
            raise RuntimeError(reason) from None
        rebuilt, notes = restructure(source_nb, nb)
        for note in notes:
            self.log.warning("%s: %s", info.get("student"), note)
        return rebuilt, resources

    def _source_path(self, assignment: str, notebook: str) -> Path:
        """``<course>/source/<assignment>/<notebook>.ipynb``, by the converter's course directory."""
        from nbgrader.coursedir import CourseDirectory

        owner, coursedir = self.parent, None
        while owner is not None and coursedir is None:
            coursedir = getattr(owner, "coursedir", None)
            owner = getattr(owner, "parent", None)
        coursedir = coursedir or CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", assignment)
        return Path(folder) / f"{notebook}.ipynb"
