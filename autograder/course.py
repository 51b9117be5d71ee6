"""A course instance: nbgrader's folders and gradebook, outside the repo, graded by this package.

    create_course(Path("~/dl-course").expanduser())   # or: python -m autograder course create DIR

makes ``DIR/`` with nbgrader's standard layout — ``source/`` (a link to the repo's ``assignments/``,
so the course always grades the current homeworks), ``release/``, ``submitted/``, ``autograded/``,
``feedback/`` — and an ``nbgrader_config.py`` that points nbgrader at them, at the gradebook (SQLite
in ``DIR/gradebook.db`` by default; any SQLAlchemy URL, e.g. ``postgresql://user@host/course``, with
``db_url=``), and at this package's trusted grading instead of nbgrader's in-kernel execution
(:mod:`autograder.nbgrader_plugin`). Student data stays in ``DIR``, never in the repo. Every nbgrader
command (``nbgrader formgrader``, ``nbgrader generate_feedback``, …) works in ``DIR`` as usual.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .build import REPO
from .errors import UserError

__all__ = ["Course", "CourseError", "create_course", "open_course"]

COURSE_ID = "dl-homework"
CONFIG = "nbgrader_config.py"


class CourseError(UserError, ValueError):
    """A course folder that cannot be created or used; the message says why."""


@dataclass(frozen=True)
class Course:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG

    def folder(self, name: str, *parts: str) -> Path:
        return self.root.joinpath(name, *parts)

    def students(self, assignment: str) -> list[str]:
        """The students with a submitted notebook for ``assignment``, sorted."""
        submitted = self.root / "submitted"
        if not submitted.is_dir():
            return []
        return sorted(
            p.name
            for p in submitted.iterdir()
            if (p / assignment / f"{assignment}.ipynb").is_file()
        )

    @property
    def lang(self) -> str:
        """The edition this course hands out ("en", "ru"): ``TrustedGrading.lang`` of its config."""
        config = self.load_config()
        return str(config.TrustedGrading.get("lang", "en")) if "TrustedGrading" in config else "en"

    def load_config(self):
        from traitlets.config.loader import PyFileConfigLoader

        return PyFileConfigLoader(CONFIG, path=str(self.root)).load_config()

    def api(self):
        """nbgrader's Python API on this course (its config file loaded)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        # nbgrader runs its helpers (alembic) by name: this interpreter's bin folder must be on PATH
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        config = self.load_config()
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _config_text(root: Path, db_url: str, unprotected: bool, lang: str = "en") -> str:
    return f"""# nbgrader configuration of a dl-homework course (by `python -m autograder course create`)
c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.root = {str(root)!r}
c.CourseDirectory.course_id = {COURSE_ID!r}
c.CourseDirectory.db_url = {db_url!r}
# the grader's record of each grading (autograded/<student>/<assignment>/dlhw.json: the review list,
# timings) stays with the instructor: never copied into a student's feedback folder
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "dlhw.json", "dlhw.tmp"]

# A submission is read within limits (size, depth, cells) and sanitised into the instructor's structure
# first (autograder/nbgrader_plugin.py): copied answer cells, forged or extra grade ids and edited
# metadata are graded by the instructor's notebook, not failed on; the rest is nbgrader's own.
c.Autograde.exporter_class = "autograder.nbgrader_plugin.SubmissionExporter"
c.Autograde.sanitize_preprocessors = [
    "autograder.nbgrader_plugin.InstructorStructure",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Autograding runs the answers in a sandbox and judges them outside it (autograder/nbgrader_plugin.py):
# the first preprocessor replaces nbgrader's Execute; the rest are nbgrader's own.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugin.TrustedGrading",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.TrustedGrading.unprotected = {unprotected!r}  # True only where the sandbox cannot be set up
c.TrustedGrading.wall_seconds = 300
c.TrustedGrading.task_seconds = 60
c.TrustedGrading.lang = {lang!r}  # the edition: the tasks' messages in this language

# Feedback shows each failed check's message in the student's words, never the hidden test code;
# the page names the tasks and renders the maths with MathJax copied beside it (autograder/feedback.py).
c.GenerateFeedback.preprocessors = [
    "autograder.nbgrader_plugin.HideHiddenTests",
    "autograder.feedback.StudentWording",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.exporter_class = "autograder.feedback.FeedbackExporter"
c.FeedbackExporter.lang = {lang!r}  # the page's own words in the edition's language

# The homeworks' links to the lectures point at the lectures released beside them, in release/lectures
# (autograder/release.py): a student who fetches both has them side by side.
from nbgrader.converters import GenerateAssignment  # noqa: E402

c.GenerateAssignment.preprocessors = [
    "autograder.release.LectureLinks",
    *GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default(),
]
"""


def create_course(
    root: Path,
    *,
    db_url: str | None = None,
    unprotected: bool = False,
    exist_ok: bool = False,
    lang: str = "en",
) -> Course:
    """Create the course folder ``root`` (see the module docstring) and return it.

    ``lang``: the edition the course hands out, "en" or "ru" (:mod:`autograder.i18n`): its
    ``source/`` is ``assignments/`` or ``assignments/ru/``, its lectures ``lectures/`` or
    ``lectures/ru/``, and the checks' messages come in that language. One check module grades both.
    """
    from .i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise CourseError(f"no edition {lang!r}; the editions are {', '.join(LANGUAGES)}")
    edition = REPO / "assignments" if lang == "en" else REPO / "assignments" / lang
    if not edition.is_dir():
        raise CourseError(f"the {lang} edition is not built ({edition}); run make notebooks")
    root = Path(root).expanduser().resolve()
    if root == REPO or REPO in root.parents:
        raise CourseError(f"{root} is inside the repository: student data must stay out of it")
    if (root / CONFIG).exists() and not exist_ok:
        raise CourseError(f"{root} is a course already (it has {CONFIG}); use it or remove it")
    if root.exists() and not root.is_dir():
        raise CourseError(f"{root} exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("release", "submitted", "autograded", "feedback"):
        (root / name).mkdir(exist_ok=True)
    source = root / "source"
    if not source.exists():
        source.symlink_to(edition, target_is_directory=True)
    db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    (root / CONFIG).write_text(_config_text(root, db_url, unprotected, lang), encoding="utf-8")
    return Course(root)


def open_course(root: Path) -> Course:
    """The course at ``root``, or :class:`CourseError` if it is not one."""
    root = Path(root).expanduser().resolve()
    if not (root / CONFIG).is_file():
        raise CourseError(
            f"{root} is not a course folder (no {CONFIG}); create one with "
            "`python -m autograder course create DIR`"
        )
    return Course(root)
