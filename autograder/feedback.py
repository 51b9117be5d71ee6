"""The students' feedback pages: nbgrader's ``generate_feedback``, made for students to read.

``python -m autograder feedback DIR ASSIGNMENT`` (nbgrader's converter, with the course's
configuration from :mod:`autograder.course`) writes ``feedback/<student>/<assignment>/`` with

- ``<assignment>.html``, rendered by :class:`FeedbackExporter` from ``templates/feedback.html.j2``
  (nbgrader's feedback template, extended): the table of contents names each task
  (``test_mse`` -> ``mse``; a written answer ``written_learning_rates`` -> "written answer
  ``learning_rates``") with its points, where nbgrader writes "Test cell" for every one; a message or
  a line of code wraps inside its box; the headings say "Your answer", "Checks of ``mse``";
- ``mathjax/``: the MathJax 2.7 files the page loads (``MATHJAX_FILES``, about 2 MB, copied from
  the ``jupyter-server-mathjax`` package; its STIX-Web fonts), so the maths renders with no network;
  the page loads no script from anywhere else. Keep the folder with the page (nbgrader's own
  ``release_feedback`` exchange copies the ``.html`` alone).

The preprocessors, in ``c.GenerateFeedback.preprocessors``: :class:`HideHiddenTests`
(:mod:`autograder.nbgrader_plugin`: no hidden test code), then :class:`StudentWording`, which
rewrites the grader's wording in the messages a student reads (:func:`student_message`:
"... (0 points; for review)" becomes "..., which this homework does not allow: 0 points"). The
scores, the gradebook, the grader's records and the instructor's review list keep their own
wording; only the page changes.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default

__all__ = [
    "MATHJAX_DIR",
    "MATHJAX_URL",
    "FeedbackExporter",
    "StudentWording",
    "mathjax_files",
    "student_message",
    "task_label",
]

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "feedback.html.j2"
MATHJAX_DIR = "mathjax"  # beside the page
# jupyter-server-mathjax ships this combined configuration (TeX in, HTML-CSS out) and no other
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# what that configuration loads, now or on demand (menus, TeX extensions, STIX-Web fonts); not the
# SVG output, the accessibility extensions or the translations (9 MB of the package's 12)
MATHJAX_FILES = (
    "LICENSE",
    "MathJax.js",
    "config/TeX-AMS-MML_HTMLorMML-full.js",
    "config/Safe.js",
    "extensions/*.js",
    "extensions/HTML-CSS/**/*",
    "extensions/MathML/**/*",
    "extensions/TeX/**/*",
    "jax/element/**/*",
    "jax/input/**/*",
    "jax/output/HTML-CSS/**/*",
    "fonts/HTML-CSS/STIX-Web/**/*",
)


def mathjax_source() -> Path:
    """The folder of MathJax files that ``jupyter-server-mathjax`` installs (``MathJax.js`` in it)."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


@cache
def mathjax_files() -> dict[str, bytes]:
    """``{"mathjax/<path>": bytes}``: the files of ``MATHJAX_FILES``, read once per process."""
    source = mathjax_source()
    files = {}
    for pattern in MATHJAX_FILES:
        for path in sorted(source.glob(pattern)):
            if path.is_file() and not path.is_symlink():
                files[f"{MATHJAX_DIR}/{path.relative_to(source).as_posix()}"] = path.read_bytes()
    if f"{MATHJAX_DIR}/MathJax.js" not in files:
        raise FileNotFoundError(f"no MathJax.js in {source} (is jupyter-server-mathjax installed?)")
    return files


def task_label(grade_id: str) -> str:
    """The name a student reads for a graded cell: its task's (``test_mse`` -> ``mse``), or the
    written answer's (``written_learning_rates`` -> ``learning_rates``; the page says "Written
    answer" before it)."""
    for prefix in ("test_", "written_"):
        if grade_id.startswith(prefix) and len(grade_id) > len(prefix):
            return grade_id.removeprefix(prefix)
    return grade_id


# the grader's wording in a task's message -> the student's; one pattern per place that writes it
# (autograder/grade.py: the intake scan found a forbidden use; autograder/checks/__init__.py: the
# lockdown refused one at run time). The instructor's review list says "for review" separately.
_STUDENT_WORDING = (
    (
        re.compile(r"the answer uses (?P<what>.+?) \(0 points; for review\)"),
        r"the answer uses \g<what>, which this homework does not allow: 0 points",
    ),
    (
        re.compile(
            r"uses (?P<what>.+?): it was refused at run time, so it scores 0 \(for review\)"
        ),
        r"uses \g<what>, which this homework does not allow: 0 points",
    ),
    (re.compile(r" ?\((?:0 points; )?for review\)|, for review\b"), ""),  # any other aside
    # the same asides in the Russian edition's words (autograder/messages_ru.py)
    (
        re.compile(r"\(0 баллов; передано преподавателю на проверку\)"),
        "(0 баллов)",
    ),
    (
        re.compile(
            r" ?\(передано преподавателю на проверку\)|, передано преподавателю на проверку"
        ),
        "",
    ),
)


def student_message(text: str) -> str:
    """A task's message as the student reads it: the same facts, without the grader's wording."""
    for pattern, replacement in _STUDENT_WORDING:
        text = pattern.sub(replacement, text)
    return text


class StudentWording(NbGraderPreprocessor):
    """Feedback in the student's words: each test cell's error output (the check's message) goes
    through :func:`student_message`. The gradebook and the grader's records are not touched."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["evalue"] = student_message(str(output.get("evalue", "")))
                    output["traceback"] = [student_message(str(t)) for t in output["traceback"]]
                elif output.get("output_type") == "stream":
                    output["text"] = student_message(str(output.get("text", "")))
        return cell, resources


# the page's own words, in the course's edition (``c.FeedbackExporter.lang``, set by course create)
WORDS = {
    "en": {
        "written": "Written answer",
        "of": "of",
        "points": "points",
        "comment_on": "Comment on",
        "late": "Late submission",
        "top": "top",
        "your_answer": "Your answer",
        "checks_of": "Checks of",
        "task": "Task",
        "comments": "Comments",
    },
    "ru": {
        "written": "Письменный ответ",
        "of": "из",
        "points": "балл.",
        "comment_on": "Комментарий к",
        "late": "Сдано с опозданием",
        "top": "наверх",
        "your_answer": "Ваш ответ",
        "checks_of": "Проверки задания",
        "task": "Задание",
        "comments": "Комментарии",
    },
}


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page with the changes of ``templates/feedback.html.j2`` and MathJax
    beside it (``c.GenerateFeedback.exporter_class``). The template extends nbgrader's
    ``feedback`` template, which nbgrader's ``generate_feedback`` selects (``template_name``)."""

    lang = Unicode("en", help="the language of the page's own words (en, ru)").tag(config=True)

    @default("exclude_input_prompt")
    def _no_input_prompt(self):
        return True  # "In [ ]:" says nothing to a student (nothing ran in their kernel)

    @default("exclude_output_prompt")
    def _no_output_prompt(self):
        return True

    @default("template_file")
    def _template_file_default(self):
        return TEMPLATE

    @default("extra_loaders")
    def _extra_loaders_default(self):
        from jinja2 import FileSystemLoader

        return [FileSystemLoader(str(TEMPLATES))]

    def from_notebook_node(self, nb, resources=None, **kw):
        resources = self._init_resources(resources)
        resources["dlhw_labels"] = {
            str(cell.metadata["nbgrader"]["grade_id"]): task_label(
                str(cell.metadata["nbgrader"]["grade_id"])
            )
            for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")
        }
        resources["dlhw_mathjax_url"] = MATHJAX_URL
        resources["dlhw_lang"] = self.lang if self.lang in WORDS else "en"
        resources["dlhw_words"] = WORDS[resources["dlhw_lang"]]
        output, resources = super().from_notebook_node(nb, resources, **kw)
        # written beside the page by nbgrader's FilesWriter, as nbconvert writes extracted images
        resources.setdefault("outputs", {}).update(mathjax_files())
        return output, resources
