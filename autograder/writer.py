"""The batch's writer: nbgrader's ``autograde`` split in two, the notebook on the worker, the
gradebook in one session of the client.

``nbgrader autograde`` does three kinds of work per submission: it turns the submitted notebook into
the *autograded* one (sanitise, run, limit outputs: pure notebook work), scores its cells into the
gradebook (``SaveAutoGrades``, ``AssignLatePenalties``) and copies a few files. Run per submission in
the batch's client it cost about 0.5 s, mostly the notebook work and a new database engine for each
of its nine gradebook connections, all on the one process that must keep up with every worker.

Here the work is split where it belongs:

- **On the worker**, :func:`autograded_notebook` runs the course's own preprocessors, in nbgrader's
  order, on the notebook the worker graded: the sanitising steps (``ClearOutput``,
  ``DeduplicateIds``, ``CheckCellMetadata``), :class:`~autograder.nbgrader_plugin.TrustedGrading`
  with the worker's result, then ``IgnorePattern``, ``ClearMetadataPreprocessor``, ``LimitOutput``,
  ``CheckCellMetadata``, with a round trip through the file format between the two passes as
  nbgrader's writing and reading makes. Where ``SaveAutoGrades`` stands, :class:`CellScores` notes
  what it would write: each graded cell's automatic score and each answer cell's automatic comment,
  by nbgrader's own rules (``determine_grade``, the checksum of an unchanged answer). The steps
  that read the gradebook are done already: ``InstructorStructure`` is the worker's
  :func:`~autograder.intake.restructure`, after which ``OverwriteCells`` and
  ``OverwriteKernelspec`` change nothing (the instructor's cells and metadata are there).
- **In the client**, :class:`GradebookWriter` keeps one gradebook connection for the whole batch and
  writes each result as ``autograde`` would: the student and the submission (with its
  ``timestamp.txt``), the cells' scores and comments (``needs_manual_grade`` as nbgrader sets it),
  the late penalty by the course's late-submission plugin, nbgrader's ``flagged`` mark when the
  result has a review list, then the autograded folder (the submission's other files, the source's
  files over them, the notebook, read-only as nbgrader leaves them). A result is one transaction
  (nbgrader's ``add_student`` and ``update_or_create_submission`` commit after each step, so they
  are not used), so a failure half-way leaves the gradebook as it was. A first submission's rows
  (the rows nbgrader's ``add_submission`` makes, with the scores already in them) are inserted one
  statement per table: through the ORM, object by object, they were most of the client's time, and
  the client writes every result of a batch.

Only a course whose preprocessor lists are the ones :mod:`autograder.course` writes is written this
way (:func:`pipeline_of`); any other list (an instructor's own preprocessor) goes through nbgrader's
``autograde`` as before. ``tests/test_writer.py`` grades the same submissions both ways and finds the
gradebook and the autograded notebooks equal.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets.config import Config

__all__ = ["CellScores", "GradebookWriter", "WriteFailed", "autograded_notebook", "pipeline_of"]

PLUGIN = "autograder.nbgrader_plugin."
# the course's sanitising steps: run on the worker, done by restructure there, or no-ops after it
SANITIZE = {
    PLUGIN + "InstructorStructure": "restructured",
    "nbgrader.preprocessors.ClearOutput": "run",
    "nbgrader.preprocessors.DeduplicateIds": "run",
    "nbgrader.preprocessors.OverwriteKernelspec": "kernelspec",
    "nbgrader.preprocessors.OverwriteCells": "overwrite",
    "nbgrader.preprocessors.CheckCellMetadata": "run",
}
AUTOGRADE = {
    PLUGIN + "TrustedGrading": "outputs",
    "nbgrader.preprocessors.IgnorePattern": "run",
    "nbconvert.preprocessors.ClearMetadataPreprocessor": "run",
    "nbgrader.preprocessors.LimitOutput": "run",
    "nbgrader.preprocessors.SaveAutoGrades": "scores",
    "nbgrader.preprocessors.AssignLatePenalties": "client",
    "nbgrader.preprocessors.CheckCellMetadata": "run",
}


class WriteFailed(RuntimeError):
    """The result could not be written; the message says why (the submission is *not graded*)."""


def _name(entry) -> str:
    return entry if isinstance(entry, str) else f"{entry.__module__}.{entry.__qualname__}"


def pipeline_of(config) -> dict | None:
    """What the worker needs to make the autograded notebook for a course with ``config`` (its
    preprocessor lists and its configuration, plain data), or ``None`` where the course's lists hold
    a step this writer cannot reproduce (its results go through nbgrader's ``autograde``)."""
    autograde = config.get("Autograde", {})
    sanitize = [_name(e) for e in autograde.get("sanitize_preprocessors", [])]
    steps = [_name(e) for e in autograde.get("autograde_preprocessors", [])]
    if any(name not in SANITIZE for name in sanitize) or any(n not in AUTOGRADE for n in steps):
        return None
    if PLUGIN + "InstructorStructure" not in sanitize or PLUGIN + "TrustedGrading" not in steps:
        return None
    if config.get("OverwriteCells", {}).get("add_missing_cells"):
        return None  # it reads more of the gradebook than the worker is given
    sections = set()  # the worker is given the configuration of its steps only (no paths, no URL)
    for name in [*sanitize, *steps]:
        if SANITIZE.get(name, AUTOGRADE.get(name)) in ("run", "outputs", "overwrite"):
            sections.update(cls.__name__ for cls in _class(name).__mro__)
    try:
        plain = json.loads(json.dumps({k: v for k, v in config.items() if k in sections}))
    except (TypeError, ValueError):  # a configured value that is not plain data
        return None
    return {"sanitize": sanitize, "autograde": steps, "config": plain}


def _class(name: str) -> type:
    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)


# ---------------------------------------------------------------------------------------------------
# On the worker
# ---------------------------------------------------------------------------------------------------


class CellScores(NbGraderPreprocessor):
    """What ``SaveAutoGrades`` would write, noted instead of written, by nbgrader's rules:
    a graded cell's automatic score (``determine_grade``: an error output is 0, else full points;
    ``None`` for a written answer); an answer or task cell's comment, "No response." when its
    source is the unchanged starter's (the checksum) and it is not a task."""

    def preprocess(self, nb, resources):
        self.grades: dict[str, float | None] = {}
        self.comments: dict[str, str | None] = {}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if nbgrader_utils.is_grade(cell):
            self.grades[grade_id] = nbgrader_utils.determine_grade(cell, self.log)[0]
        if nbgrader_utils.is_solution(cell) or nbgrader_utils.is_task(cell):
            unchanged = cell.metadata.nbgrader.get(
                "checksum", None
            ) == nbgrader_utils.compute_checksum(cell) and not nbgrader_utils.is_task(cell)
            self.comments[grade_id] = "No response." if unchanged else None
        return cell, resources


class _InstructorCells:
    """The gradebook's instructor cells of one notebook (:meth:`GradebookWriter.instructor_cells`),
    answering the two questions nbgrader's ``OverwriteCells`` asks its gradebook."""

    def __init__(self, cells: dict):
        self.cells = cells

    def find_source_cell(self, name: str, notebook: str, assignment: str):
        from nbgrader.api import MissingEntry

        if name not in self.cells["source"]:
            raise MissingEntry()
        return SimpleNamespace(**self.cells["source"][name])

    def find_graded_cell(self, name: str, notebook: str, assignment: str):
        from nbgrader.api import MissingEntry

        if name not in self.cells["max_score"]:
            raise MissingEntry()
        return SimpleNamespace(max_score=self.cells["max_score"][name])


class _OverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, asking :class:`_InstructorCells` instead of the database."""

    def __init__(self, cells: dict, **kwargs):
        super().__init__(**kwargs)
        self.instructor = _InstructorCells(cells)

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = self.instructor
        return NbGraderPreprocessor.preprocess(self, nb, resources)


class _OverwriteKernelspec(NbGraderPreprocessor):
    """nbgrader's ``OverwriteKernelspec``: the source notebook's kernelspec, where it has one."""

    def __init__(self, kernelspec: dict | None, **kwargs):
        super().__init__(**kwargs)
        self.kernelspec = kernelspec

    def preprocess(self, nb, resources):
        if self.kernelspec:
            nb.metadata["kernelspec"] = self.kernelspec
        return nb, resources


def _make(name: str, config: Config, cells: dict):
    role = SANITIZE.get(name) if name in SANITIZE else AUTOGRADE.get(name)
    if role == "overwrite":
        return _OverwriteCells(cells, config=config)
    if role == "kernelspec":
        return _OverwriteKernelspec(cells["kernelspec"], config=config)
    return _class(name)(config=config)


def _export(nb, steps: list, resources: dict) -> str:
    """``nb`` through ``steps`` as nbconvert's exporter runs them, as the file nbgrader writes."""
    from nbconvert.exporters import NotebookExporter

    exporter = NotebookExporter()
    exporter._preprocessors = []
    for step in steps:
        exporter.register_preprocessor(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text, _ = exporter.from_notebook_node(nb, resources=resources)
    return text


def autograded_notebook(
    rebuilt, result: dict, pipeline: dict, scratch: Path, assignment: str, student: str
) -> dict:
    """The autograded notebook of one graded submission and what its cells put in the gradebook.

    ``rebuilt``: the submission in the instructor's structure (what the worker graded);
    ``result``: its plain result (``status`` ``ok``); ``pipeline``: :func:`pipeline_of`'s.
    Returns ``{"notebook": the file's text, "grades": {grade_id: auto_score}, "comments":
    {grade_id: auto_comment}}``.
    """
    from .nbgrader_plugin import PRECOMPUTED, RESULTS, read_notebook

    config = Config(pipeline["config"])
    resources = {"nbgrader": {"assignment": assignment, "student": student, "notebook": assignment}}
    cells = pipeline["instructor cells"]
    sanitize = [
        _make(n, config, cells) for n in pipeline["sanitize"] if SANITIZE[n] != "restructured"
    ]
    first = _export(rebuilt, sanitize, dict(resources))
    # nbgrader writes the sanitised notebook and reads it back for the second pass
    path = scratch / f"{assignment}.autograded.ipynb"
    path.write_text(first, encoding="utf-8")
    nb = read_notebook(path)
    scores = CellScores(config=config)
    steps = []
    for name in pipeline["autograde"]:
        role = AUTOGRADE[name]
        if role in ("run", "outputs"):
            steps.append(_make(name, config, cells))
        elif role == "scores":
            steps.append(scores)
    key = (assignment, student)
    PRECOMPUTED[key] = result
    try:
        text = _export(nb, steps, dict(resources))
    finally:
        PRECOMPUTED.pop(key, None)
        RESULTS.pop(key, None)
    return {"notebook": text, "grades": scores.grades, "comments": scores.comments}


# ---------------------------------------------------------------------------------------------------
# In the client
# ---------------------------------------------------------------------------------------------------


class GradebookWriter:
    """One gradebook session for a batch of one assignment; :meth:`write` stores one result as
    nbgrader's ``autograde`` would. Use as a context manager (the session is closed after)."""

    def __init__(self, course, assignment: str):
        from nbgrader.api import Gradebook, MissingEntry
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import AssignLatePenalties

        self.course, self.assignment = course, assignment
        config = course.load_config()
        self.coursedir = CourseDirectory(config=config)
        self.gradebook = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        try:
            found = self.gradebook.find_assignment(assignment)
        except MissingEntry:
            self.close()
            raise WriteFailed(f"the gradebook has no assignment {assignment!r}") from None
        notebooks = [n.name for n in found.notebooks]
        if notebooks != [assignment]:
            self.close()
            raise WriteFailed(f"{assignment} has notebooks {notebooks} in the gradebook")
        self.late = AssignLatePenalties(config=config)
        self.late.init_plugin()
        permissions = config.get("Autograde", {}).get("permissions")
        if permissions is None:
            permissions = 664 if self.coursedir.groupshared else 444
        self.permissions = int(str(permissions), 8)
        self.ignore = list(self.coursedir.ignore)
        self.structure = self._structure(found, found.notebooks[0])
        self.gradebook.db.commit()  # no transaction left open between writes (SQLite's lock)

    @staticmethod
    def _structure(assignment, notebook) -> SimpleNamespace:
        """The assignment's ids, due date and cells, read once for the batch (as the workers'
        copy of the instructor's cells is): what a first submission's rows refer to."""
        return SimpleNamespace(
            assignment_id=assignment.id,
            duedate=assignment.duedate,
            notebook_id=notebook.id,
            graded={cell.name: cell.id for cell in [*notebook.grade_cells, *notebook.task_cells]},
            answers={
                cell.name: cell.id for cell in [*notebook.solution_cells, *notebook.task_cells]
            },
        )

    def instructor_cells(self) -> dict:
        """What ``OverwriteCells`` and ``OverwriteKernelspec`` read of the gradebook, as plain data
        for the workers: each instructor cell's type, lock, checksum and source, each graded cell's
        points, the notebook's kernelspec."""
        notebook = self.gradebook.find_notebook(self.assignment, self.assignment)
        cells = {
            "source": {
                cell.name: {
                    "name": cell.name,
                    "cell_type": cell.cell_type,
                    "locked": cell.locked,
                    "checksum": cell.checksum,
                    "source": cell.source,
                }
                for cell in notebook.source_cells
            },
            "max_score": {
                cell.name: cell.max_score for cell in [*notebook.grade_cells, *notebook.task_cells]
            },
            "kernelspec": json.loads(notebook.kernelspec) if notebook.kernelspec else None,
        }
        self.gradebook.db.commit()
        return cells

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.gradebook.close()

    def _folder(self, name: str, student: str) -> Path:
        return Path(self.coursedir.format_path(name, student, self.assignment))

    def write(self, student: str, written: dict, review: list[str]) -> None:
        """Store ``written`` (:func:`autograded_notebook`'s) for ``student``; :class:`WriteFailed`
        (the gradebook left as it was, the autograded folder removed) when it cannot be."""
        from sqlalchemy.exc import SAWarning

        dest = self._folder(self.coursedir.autograded_directory, student)
        try:
            with warnings.catch_warnings():  # nbgrader's own SQLAlchemy warnings are no news
                warnings.simplefilter("ignore", SAWarning)
                self._write(student, written, review)
                self.gradebook.db.commit()  # the result whole, or (below) nothing of it
                submitted = self._folder(self.coursedir.submitted_directory, student)
                self._files(submitted, dest, written["notebook"])
        except Exception as err:
            self.gradebook.db.rollback()
            with contextlib.suppress(OSError):
                shutil.rmtree(dest)
            if isinstance(err, WriteFailed):
                raise
            why = " ".join(str(err).split())[:200] or type(err).__name__
            raise WriteFailed(
                f"the result cannot be written ({type(err).__name__}: {why})"
            ) from None

    def _write(self, student: str, written: dict, review: list[str]) -> None:
        from nbgrader.api import MissingEntry, Student

        gb, assignment = self.gradebook, self.assignment
        submitted = self._folder(self.coursedir.submitted_directory, student)
        try:
            gb.find_student(student)
        except MissingEntry:  # nbgrader's add_student, less its commit
            gb.db.add(Student(id=student))
            gb.db.flush()  # the submission's row refers to it
        try:
            timestamp = nbgrader_utils.parse_utc(
                self.coursedir.get_existing_timestamp(str(submitted))
            )
        except SystemExit:  # nbgrader's "Invalid timestamp string" exits
            raise WriteFailed(f"{submitted / 'timestamp.txt'}: not a timestamp") from None
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            self._first_submission(student, timestamp, written, review)
            duedate = self.structure.duedate  # a first submission has no extension
            if timestamp is None or duedate is None or timestamp <= duedate:
                return  # not late: no penalty to work out
            submission = gb.find_submission(assignment, student)
            notebook = gb.find_submission_notebook(assignment, assignment, student)
        else:  # graded before: nbgrader's update of the timestamp, then the cells' scores
            if timestamp is not None:  # no timestamp.txt: nbgrader keeps the one it has
                submission.timestamp = timestamp
            notebook = gb.find_submission_notebook(assignment, assignment, student)
            grades = {grade.name: grade for grade in notebook.grades}
            for grade_id, auto_score in written["grades"].items():
                grade = grades[grade_id]  # a KeyError is nbgrader's MissingEntry
                grade.auto_score = auto_score
                grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
            comments = {comment.name: comment for comment in notebook.comments}
            for grade_id, auto_comment in written["comments"].items():
                comments[grade_id].auto_comment = auto_comment
            if review:
                notebook.flagged = True  # for the formgrader; only a person clears it
        gb.db.flush()
        gb.db.expire(notebook)  # its score, summed by the database, is read again
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = self.late.plugin_inst.late_submission_penalty(
                student, notebook.score, submission.total_seconds_late
            )
            if penalty is not None:
                notebook.late_submission_penalty = self.late._check_late_penalty(notebook, penalty)

    def _first_submission(self, student: str, timestamp, written: dict, review: list[str]) -> None:
        """A first submission as rows, with this result in them: what nbgrader's
        ``add_submission`` makes (the submission, its notebook, a grade for each graded cell and
        task, a comment for each answer cell and task), each cell's automatic score and comment
        then set as above (``needs_manual_grade`` is ``auto_score is None`` with no manual score
        yet). One INSERT per table instead of the ORM's object by object: the client writes every
        result of a batch, and the ORM's bookkeeping was most of its time."""
        from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook, new_uuid
        from sqlalchemy import insert

        structure, db = self.structure, self.gradebook.db
        unknown = (written["grades"].keys() - structure.graded.keys()) | (
            written["comments"].keys() - structure.answers.keys()
        )
        if unknown:  # as the regrade's KeyError: nbgrader's MissingEntry
            raise KeyError(", ".join(sorted(unknown)))
        submission_id, notebook_id = new_uuid(), new_uuid()
        db.execute(
            insert(SubmittedAssignment.__table__),
            [
                {
                    "id": submission_id,
                    "assignment_id": structure.assignment_id,
                    "student_id": student,
                    "timestamp": timestamp,
                }
            ],
        )
        db.execute(
            insert(SubmittedNotebook.__table__),
            [
                {
                    "id": notebook_id,
                    "assignment_id": submission_id,
                    "notebook_id": structure.notebook_id,
                    "flagged": bool(review),  # for the formgrader; only a person clears it
                }
            ],
        )
        grades = []
        for name, cell_id in structure.graded.items():
            auto_score = written["grades"].get(name)
            grades.append(
                {
                    "id": new_uuid(),
                    "notebook_id": notebook_id,
                    "cell_id": cell_id,
                    "auto_score": auto_score,
                    "needs_manual_grade": auto_score is None,
                }
            )
        comments = [
            {
                "id": new_uuid(),
                "notebook_id": notebook_id,
                "cell_id": cell_id,
                "auto_comment": written["comments"].get(name),
            }
            for name, cell_id in structure.answers.items()
        ]
        if grades:
            db.execute(insert(Grade.__table__), grades)
        if comments:
            db.execute(insert(Comment.__table__), comments)

    def flag(self, student: str) -> None:
        """nbgrader's ``flagged`` mark on ``student``'s notebook (for a result written by
        nbgrader's ``autograde``, which never sets it)."""
        notebook = self.gradebook.find_submission_notebook(
            self.assignment, self.assignment, student
        )
        notebook.flagged = True
        self.gradebook.db.commit()

    def _files(self, submitted: Path, dest: Path, text: str) -> None:
        """The autograded folder as ``autograde --force`` leaves it: made afresh, the submission's
        other files (regular files only), the source's over them, the notebook; read-only."""
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        source = Path(
            self.coursedir.format_path(self.coursedir.source_directory, ".", self.assignment)
        )
        for folder, skip in ((submitted, ["*.ipynb"]), (source, ["*.ipynb"])):
            for found in nbgrader_utils.find_all_files(str(folder), self.ignore + skip):
                path = Path(found)
                if path.is_symlink() or not path.is_file():
                    continue  # a link in a submission is never followed
                target = dest / path.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)
                shutil.copy(path, target)
        (dest / f"{self.assignment}.ipynb").write_text(text, encoding="utf-8")
        for folder, _, names in os.walk(dest):
            for name in names:
                os.chmod(os.path.join(folder, name), self.permissions)
