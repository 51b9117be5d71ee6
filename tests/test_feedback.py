"""The students' feedback pages (autograder/feedback.py) and the instructor's report.html, checked in
a real headless Chromium (tests/chromium.py): what a reader sees, read from the live page after
MathJax has finished, not from the HTML source.

One small course, graded once for the module (real nbgrader, the sandbox; ~30 s), homework 1:

    ada  the reference answers                                   full marks on every task
    bob  a bug in gradient_descent                                a long-ish check message
    eve  calls os._exit in normal_equation                        a forbidden use: 0 for that task
    sam  add_intercept raises a 240-character unbroken message     the longest message there can be

Without the sandbox (bubblewrap, root) the module is skipped; without Chromium (Debian's package
``chromium``, which ``make chromium`` installs) only the browser tests are, each with the reason.
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.__main__ import main
from autograder.batch import grade_batch
from autograder.course import create_course
from autograder.feedback import mathjax_files, student_message, task_label
from autograder.samples import MUTANTS, attack_notebook, mutant_notebook
from autograder.sandbox import missing_protections
from tests.chromium import Chromium, ChromiumUnavailable

A = "hw1_linear_regression"
REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "assignments" / A / f"{A}.ipynb"
# hw1's graded cells in notebook order, as a student should read them (from the homework's text)
TASKS = [
    "add_intercept",
    "mse",
    "mse_gradient",
    "normal_equation",
    "gradient_descent",
    "minibatch_sgd",
    "sigmoid",
    "log_loss_gradient",
]
WRITTEN = "learning_rates"
LONG = "no_intercept_column_" * 12  # 240 characters without a space
WIDTH = 800  # a laptop's half screen: nbgrader's own page runs off the right edge here
MISSING = missing_protections()
needs_sandbox = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available")


# ---------------------------------------------------------------------------------------------------
# Without a course: the wording, the labels, the MathJax files
# ---------------------------------------------------------------------------------------------------


def test_the_forbidden_use_message_is_in_the_students_words():
    from autograder.homeworks.hw2_mlp_backprop.checks import CHECKS

    check = next(c for c in CHECKS.values() if c.forbid)  # a task that forbids torch.autograd
    grader = check.run_judge({}, {"forbidden": np.array("torch.autograd.grad")}).message
    assert grader == "uses torch.autograd: it was refused at run time, so it scores 0 (for review)"
    assert student_message(grader) == (
        "uses torch.autograd, which this homework does not allow: 0 points"
    )
    intake = "normal_equation: the answer uses line 2: uses os._exit (0 points; for review)"
    assert student_message(intake) == (
        "normal_equation: the answer uses line 2: uses os._exit, which this homework does not "
        "allow: 0 points"
    )
    ordinary = "mse: the result has shape (1,), expected ()"
    assert student_message(ordinary) == ordinary


def test_task_labels():
    assert task_label("test_mse_gradient") == "mse_gradient"
    assert task_label("written_learning_rates") == "learning_rates"
    assert task_label("test_") == "test_"  # nothing after the prefix: the id itself
    assert task_label("provided_code") == "provided_code"


def test_the_mathjax_files_are_the_ones_the_page_loads():
    files = mathjax_files()
    for name in (
        "mathjax/MathJax.js",
        "mathjax/config/TeX-AMS-MML_HTMLorMML-full.js",
        "mathjax/extensions/Safe.js",
        "mathjax/jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js",
        "mathjax/fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_Main-Regular.woff",
    ):
        assert name in files, name
    assert not any(name.startswith("mathjax/jax/output/SVG/") for name in files)
    assert 1_000_000 < sum(map(len, files.values())) < 4_000_000  # a subset, not the 12 MB


# ---------------------------------------------------------------------------------------------------
# The graded course
# ---------------------------------------------------------------------------------------------------


def _submit(course, student: str, nb) -> None:
    folder = course.folder("submitted", student, A)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{A}.ipynb")


def _long_message_notebook() -> nbformat.NotebookNode:
    nb = nbformat.read(SOURCE, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == TASKS[0])
    cell.source += f"\n\n\ndef add_intercept(X):\n    raise ValueError({LONG!r})\n"
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if MISSING:
        pytest.skip("; ".join(MISSING))
    course = create_course(tmp_path_factory.mktemp("feedback") / "course")
    assert course.api().generate_assignment(A, force=True, create=True)["success"]
    _submit(course, "ada", nbformat.read(SOURCE, as_version=4))
    bug = next(m for m in MUTANTS["hw1"] if m.student == "mutant_gd_sign")
    _submit(course, "bob", mutant_notebook("hw1", bug))
    _submit(course, "eve", attack_notebook("hw1", "attack_exit"))
    _submit(course, "sam", _long_message_notebook())
    result = grade_batch(course, A, workers=2)
    assert result.graded == ["ada", "bob", "eve", "sam"] and not result.failed
    assert main(["feedback", str(course.root), "hw1"]) == 0
    return course


def _page(course, student: str) -> Path:
    return course.folder("feedback", student, A, f"{A}.html")


class _Scripts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.sources.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])


@needs_sandbox
@pytest.mark.slow
def test_each_page_loads_mathjax_from_beside_it_and_nothing_from_the_network(course):
    for student in ("ada", "bob", "eve", "sam"):
        page = _page(course, student)
        parser = _Scripts()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.sources == ["mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]
        assert parser.links == []  # the CSS is inline
        assert (page.parent / "mathjax" / "MathJax.js").is_file()
        assert (page.parent / "mathjax" / "fonts/HTML-CSS/STIX-Web/woff").is_dir()


@needs_sandbox
@pytest.mark.slow
def test_the_grader_keeps_its_wording_and_the_scores(course):
    """Only the page changes: eve's record (the review list, the message) keeps the grader's words
    and her points; her page says the same in a student's words."""
    record = json.loads(course.folder("autograded", "eve", A, "dlhw.json").read_text())
    points, most, message = record["tasks"]["normal_equation"]
    assert (points, most) == (0, 1)
    assert message.endswith("(0 points; for review)")
    assert "normal_equation: line 2: uses os._exit" in record["review"]
    text = _page(course, "eve").read_text(encoding="utf-8")
    assert "uses os._exit, which this homework does not allow: 0 points" in text
    assert "for review" not in text


# ---------------------------------------------------------------------------------------------------
# In the browser
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    try:
        chromium = Chromium.start()
    except ChromiumUnavailable as err:
        pytest.skip(f"no headless browser: {err}")
    try:
        yield chromium
    finally:
        chromium.close()


MATHJAX_DONE = """new Promise(done => {
  if (!window.MathJax || !MathJax.Hub) { done(false); return; }
  MathJax.Hub.Queue(() => document.fonts.ready.then(() => done(true)));
})"""

# the boxes whose content must stay inside them: messages, code, text, the contents, table cells
BOXES = "pre, .output_area, .output_subarea, .input_area, .text_cell_render, .panel, #toc, td, th"
OVERFLOWING = f"""Array.from(document.querySelectorAll({BOXES!r}))
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName + '.' + e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth
            + ': ' + e.innerText.slice(0, 60))"""


def _look(browser, page: Path, shot: Path) -> dict:
    """Open ``page`` at WIDTH px, wait for MathJax, screenshot it, and read what the reader sees."""
    tab = browser.open(page, width=WIDTH)
    facts = {"mathjax": tab.evaluate(MATHJAX_DONE, timeout=90)}
    facts.update(
        tab.evaluate(
            f"""({{
          maths: document.querySelectorAll('.MathJax, .MathJax_Display').length,
          math_errors: document.querySelectorAll('.MathJax_Error, .merror').length,
          math_widths: Array.from(document.querySelectorAll('.MathJax')).map(
              e => e.getBoundingClientRect().width),
          text: document.body.innerText,
          toc: (document.getElementById('toc') || {{innerText: ''}}).innerText,
          page_width: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          overflowing: {OVERFLOWING},
        }})"""
        )
    )
    facts["screenshot"] = tab.screenshot(shot)
    facts["requests"] = tab.requests
    return facts


def _offline(requests: list[str]) -> list[str]:
    return [url for url in requests if not url.startswith(("file://", "data:", "about:"))]


@needs_sandbox
@pytest.mark.slow
@pytest.mark.parametrize("student", ["ada", "bob", "eve", "sam"])
def test_feedback_in_the_browser(course, browser, tmp_path, student):
    seen = _look(browser, _page(course, student), tmp_path / f"feedback_{student}.png")
    # the maths: MathJax ran from the local copy and typeset every formula; no raw TeX left
    assert seen["mathjax"] is True
    assert seen["maths"] >= 5 and seen["math_errors"] == 0
    assert all(width > 10 for width in seen["math_widths"])
    assert "$$" not in seen["text"] and "\\frac" not in seen["text"]
    assert _offline(seen["requests"]) == []
    assert any(url.endswith(".woff?V=2.7.9") for url in seen["requests"])  # its own fonts
    # nothing runs off the right edge, at a laptop's half screen
    assert seen["overflowing"] == []
    assert seen["page_width"] <= seen["viewport"] == WIDTH
    # the contents name the tasks, in the notebook's order, with their points
    lines = [line.strip() for line in seen["toc"].splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == [*TASKS, f"Written answer {WRITTEN}"]
    assert "Test cell" not in seen["text"]
    # student-facing words only
    for grader_words in ("for review", "Student's answer", "Grade cell"):
        assert grader_words not in seen["text"]
    assert seen["screenshot"].stat().st_size > 50_000


@needs_sandbox
@pytest.mark.slow
def test_a_long_message_wraps_inside_its_box(course, browser):
    tab = browser.open(_page(course, "sam"), width=WIDTH)
    assert tab.evaluate(MATHJAX_DONE, timeout=90) is True
    box = tab.evaluate(
        """(() => {
      const pre = Array.from(document.querySelectorAll('.output_error pre'))
          .find(e => e.innerText.includes('no_intercept_column_no_intercept'));
      const r = pre.getBoundingClientRect();
      const line = parseFloat(getComputedStyle(pre).lineHeight);
      return {right: r.right, height: r.height, line: line, text: pre.innerText,
              panel: pre.closest('.panel-body, #notebook-container').getBoundingClientRect().right};
    })()"""
    )
    assert LONG[:100] in box["text"].replace("\n", "")
    assert box["height"] >= 2 * box["line"]  # wrapped onto several lines, not cut off
    assert box["right"] <= box["panel"] <= WIDTH


@needs_sandbox
@pytest.mark.slow
def test_the_checks_catch_nbgraders_own_page(course, browser, tmp_path):
    """The same notebook through nbgrader's own feedback exporter and template: raw TeX (its
    MathJax is on a CDN), "Test cell" nine times, a message off the edge. The checks above see it."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course.load_config()
    config.GenerateFeedback.exporter_class = "nbconvert.exporters.HTMLExporter"
    config.GenerateFeedback.preprocessors = [
        "autograder.nbgrader_plugin.HideHiddenTests",
        "nbgrader.preprocessors.GetGrades",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    config.CourseDirectory.feedback_directory = "feedback_nbgrader"
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.generate_feedback(A, student_id="sam")["success"]
    page = course.folder("feedback_nbgrader", "sam", A, f"{A}.html")
    seen = _look(browser, page, tmp_path / "nbgrader_feedback_sam.png")
    assert seen["mathjax"] is False and seen["maths"] == 0 and "$$" in seen["text"]
    assert [url for url in _offline(seen["requests"]) if "mathjax" in url]  # asked the CDN
    assert seen["toc"].count("Test cell") == len(TASKS)
    assert seen["overflowing"]


@needs_sandbox
@pytest.mark.slow
def test_report_in_the_browser(course, browser, tmp_path, capsys):
    assert main(["report", str(course.root), "--out", str(tmp_path / "out"), "--table", "hw1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^hw1_linear_regression +4/4 ", out, re.M)  # the summary line
    assert "[4] normal_equation 1" in out  # the grade table's legend
    seen = _look(browser, tmp_path / "out" / "report.html", tmp_path / "report.png")
    assert seen["overflowing"] == [] and seen["page_width"] <= WIDTH
    assert _offline(seen["requests"]) == []
    for task in TASKS:  # the hardest-tasks table names every task
        assert task in seen["text"]
    assert "os._exit" in seen["text"]  # the review list, for the instructor
    assert seen["screenshot"].stat().st_size > 50_000


def test_the_browser_is_stopped_and_its_profile_removed():
    try:
        chromium = Chromium.start()
    except ChromiumUnavailable as err:
        pytest.skip(f"no headless browser: {err}")
    profile, process = chromium._profile, chromium.process
    assert process.poll() is None and profile.is_dir()
    chromium.close()
    assert process.poll() is not None and not profile.exists()
