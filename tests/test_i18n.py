"""The Russian edition (autograder/i18n.py): built from the same specs, the same code, graded alike.

- the machinery: keys, what counts as the same code, a translation that would change code refused;
- every homework's ``ru.py`` translates every text of its notebook and nothing stale;
- the committed Russian notebooks are what ``make notebooks`` writes, and match the English cell for
  cell: types, ids, nbgrader metadata, points, provided cells byte for byte, the other code cells the
  same code (only strings, comments and docstrings differ), every Markdown cell in Russian;
- the released scan speaks Russian in the Russian edition, with the grader's words;
- the Russian lectures have the English code cells, cell for cell.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder import build, i18n
from autograder.build import REPO
from autograder.checks.source_scan import AUTOGRAD, RULES, message, where
from autograder.i18n import MissingTranslation, Translation, key, same_code
from autograder.registry import homeworks

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
HOMEWORKS = {name: hw for name, hw in homeworks().items() if i18n.has_edition(hw, "ru")}


def notebook(hw, lang: str) -> nbformat.NotebookNode:
    folder = build.edition_folder(REPO / "assignments", lang) / hw.assignment
    return nbformat.read(folder / f"{hw.assignment}.ipynb", as_version=4)


# ---------------------------------------------------------------------------------------------------
# The machinery
# ---------------------------------------------------------------------------------------------------


def test_a_key_is_the_english_text_s_and_ignores_outer_spaces():
    assert key("  Gradient descent\n") == key("Gradient descent")
    assert key("Gradient descent") != key("Gradient descent.")
    assert re.fullmatch(r"[0-9a-f]{10}", key("x"))


def test_same_code_ignores_strings_and_comments_and_nothing_else():
    english = 'assert y.shape == (2, 3), f"expected (2, 3), got {y.shape}"  # the shape\n'
    russian = 'assert y.shape == (2, 3), f"ожидалось (2, 3), получено {y.shape}"  # форма\n'
    assert same_code(english, russian)
    assert not same_code(english, russian.replace("(2, 3), f", "(3, 2), f"))
    assert not same_code(english, russian.replace("y.shape ==", "y.size() =="))
    assert not same_code("x = 1\n", "x = 1\ny = 2\n")
    # the parentheses and line breaks a formatter adds around a longer message are the same code
    assert same_code('assert ok, "a b"\n', 'assert ok, (\n    "длинное сообщение"\n)\n')
    # a translation may reorder an f-string's fields, never change one
    assert same_code('f"got {a}, not {b}"\n', 'f"{b} ожидалось, получено {a}"\n')
    assert not same_code('f"got {a}"\n', 'f"получено {a + 1}"\n')
    assert not same_code('f"got {a}"\n', '"получено"\n')


def test_a_translation_may_not_change_the_code():
    source = 'print("visible tests passed")\n'
    good = Translation("ru", {key('"visible tests passed"'): '"видимые тесты пройдены"'})
    assert good.code(source) == 'print("видимые тесты пройдены")\n'
    sneaky = Translation("ru", {key('"visible tests passed"'): '"ok"); import os; print("x"'})
    with pytest.raises(ValueError, match="change the code"):
        sneaky.code(source)
    with pytest.raises(MissingTranslation, match="no ru text"):
        Translation("ru", {}).code(source)


def test_docstrings_only_leaves_the_answer_code_and_its_strings_alone():
    source = 'def f(x):\n    """Square x."""\n    raise ValueError("x must be finite")\n'
    tr = Translation("ru", {key('"""Square x."""'): '"""Квадрат x."""'})
    assert tr.code(source, only="docstring") == source.replace("Square x.", "Квадрат x.")


def test_the_scan_s_russian_wording_is_the_grader_s_translation():
    """The released scan (LANG = "ru") and the grader's translation of the intake's sentence agree."""
    chain = ("torch", "autograd", "grad")
    english = message(AUTOGRAD, chain, where(7, "the answer cell", "en"), "en")
    russian = message(AUTOGRAD, chain, where(7, "the answer cell", "ru"), "ru")
    assert i18n.translate_message(f"Linear: {english}", "ru") == f"Linear: {russian}"
    assert CYRILLIC.search(russian) and "torch.autograd.grad" in russian
    for rule in RULES.values():  # every rule has its Russian reason
        assert CYRILLIC.search(message(rule, chain, "x", "ru"))


def test_the_released_scan_module_is_the_engine_s_with_its_language_set():
    source = build.SCAN_MODULE.read_text(encoding="utf-8")
    assert build.scan_module_in(source, "en") == source
    russian = build.scan_module_in(source, "ru")
    assert 'LANG = "ru"' in russian and russian.replace('LANG = "ru"', 'LANG = "en"', 1) == source


def test_links_go_one_folder_deeper_and_to_the_edition_s_lectures():
    text = "[lecture 2](../../lectures/02_backpropagation.ipynb), [data](../../data/x.csv), [here](a.csv)"
    assert build.relink(text, "ru") == (
        "[lecture 2](../../../lectures/ru/02_backpropagation.ipynb), [data](../../../data/x.csv), "
        "[here](a.csv)"
    )
    assert build.relink(text, "en") == text


# ---------------------------------------------------------------------------------------------------
# The homeworks' Russian edition
# ---------------------------------------------------------------------------------------------------


def test_every_homework_has_a_russian_edition():
    assert sorted(HOMEWORKS) == sorted(homeworks())


@pytest.mark.parametrize("name", HOMEWORKS)
def test_the_russian_texts_cover_the_notebook_exactly(name):
    assert i18n.problems(HOMEWORKS[name], "ru") == []


@pytest.mark.parametrize("name", HOMEWORKS)
def test_the_committed_russian_notebook_is_generated(name, tmp_path):
    hw = HOMEWORKS[name]
    for path in build.write(hw.spec, tmp_path, "ru"):
        committed = REPO / "assignments" / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run `make notebooks`"
        assert committed.read_bytes() == path.read_bytes(), f"{committed}: run `make notebooks`"


def drift(english: nbformat.NotebookNode, russian: nbformat.NotebookNode) -> list[str]:
    """How the Russian notebook's cells differ from the English ones beyond their texts."""
    problems = []
    cells = [c for c in russian.cells if c.get("id") != "glossary"]
    if len(cells) != len(english.cells):
        return [f"{len(cells)} cells (besides the glossary) against {len(english.cells)}"]
    for en, ru in zip(english.cells, cells, strict=True):
        where = en.get("id")
        if (en.cell_type, en.get("id"), en.metadata) != (ru.cell_type, ru.get("id"), ru.metadata):
            problems.append(f"{where}: type, id or metadata differ")
        elif en.cell_type == "markdown":
            if not CYRILLIC.search(ru.source):
                problems.append(f"{where}: a Markdown cell not in Russian")
        elif en.metadata.get("nbgrader", {}).get("locked") and not en.metadata["nbgrader"].get(
            "grade"
        ):
            if en.source != ru.source:
                problems.append(f"{where}: a provided cell differs")
        elif not same_code(en.source, ru.source):
            problems.append(f"{where}: not the same code")
    return problems


@pytest.mark.parametrize("name", HOMEWORKS)
def test_the_editions_have_the_same_cells_ids_points_and_code(name):
    hw = HOMEWORKS[name]
    english, russian = notebook(hw, "en"), notebook(hw, "ru")
    assert drift(english, russian) == []
    assert russian.cells[1].get("id") == "glossary" and "Глоссарий" in russian.cells[1].source


def test_the_drift_check_sees_a_cell_too_many_a_changed_line_and_english_left():
    hw = next(iter(HOMEWORKS.values()))
    english, russian = notebook(hw, "en"), notebook(hw, "ru")
    extra = nbformat.from_dict(russian)
    extra.cells.append(nbformat.v4.new_code_cell("x = 1"))
    assert drift(english, extra)
    changed = nbformat.from_dict(russian)
    code = next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("grade"))
    code.source = code.source.replace("assert", "assert not", 1)
    assert any("not the same code" in p for p in drift(english, changed))
    untranslated = nbformat.from_dict(russian)
    first = next(c for c in untranslated.cells if c.cell_type == "markdown")
    first.source = "# Homework"
    assert any("not in Russian" in p for p in drift(english, untranslated))


@pytest.mark.parametrize("name", HOMEWORKS)
def test_the_russian_scan_is_released_beside_a_notebook_that_forbids(name):
    hw = HOMEWORKS[name]
    english = REPO / "assignments" / hw.assignment / "source_scan.py"
    russian = REPO / "assignments" / "ru" / hw.assignment / "source_scan.py"
    assert english.is_file() == russian.is_file()
    if russian.is_file():
        assert 'LANG = "ru"' in russian.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# The lectures' Russian edition
# ---------------------------------------------------------------------------------------------------

LECTURES = REPO / "lectures"
RU_LECTURES = sorted((LECTURES / "ru").glob("*.ipynb"))


def test_every_lecture_has_a_russian_edition():
    assert [p.name for p in RU_LECTURES] == [p.name for p in sorted(LECTURES.glob("*.ipynb"))]
    assert (LECTURES / "ru" / "lecture_utils.py").resolve() == LECTURES / "lecture_utils.py"


@pytest.mark.parametrize("path", RU_LECTURES, ids=lambda p: p.stem)
def test_a_russian_lecture_has_the_english_code_cells_and_russian_prose(path):
    english = nbformat.read(LECTURES / path.name, as_version=4)
    russian = nbformat.read(path, as_version=4)
    cells = [c for c in russian.cells if "glossary" not in c.metadata.get("tags", [])]
    assert len(russian.cells) == len(cells) + 1, "one glossary cell"
    assert len(cells) == len(english.cells)
    for en, ru in zip(english.cells, cells, strict=True):
        assert en.cell_type == ru.cell_type
        if en.cell_type == "code":
            assert (en.source, en.metadata) == (ru.source, ru.metadata), en.get("id")
            assert ru.outputs == [] and ru.execution_count is None
        else:
            assert CYRILLIC.search(ru.source), ru.source[:80]


# ---------------------------------------------------------------------------------------------------
# Graded alike, worded in the edition's language
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", HOMEWORKS)
def test_both_editions_grade_the_samples_alike_in_their_own_words(name, tmp_path):
    """The reference and the demo's sample bugs, from each edition's notebook, graded in the sandbox
    with the edition's language: the same points, task by task; the failed tasks' messages in
    Russian for the Russian edition (and the English ones unchanged)."""
    from autograder.grade import grade_submission
    from autograder.samples import MUTANTS, mutant_notebook
    from autograder.sandbox import Limits, Sandbox, missing_protections

    if missing := missing_protections():
        pytest.skip("; ".join(missing))
    hw = HOMEWORKS[name]
    sandbox = Sandbox(uid=60013, limits=Limits(wall_seconds=120))
    cases = {"reference": {lang: notebook(hw, lang) for lang in ("en", "ru")}}
    for mutant in MUTANTS.get(name, []):
        cases[mutant.student] = {lang: mutant_notebook(name, mutant, lang) for lang in ("en", "ru")}
    for student, editions in cases.items():
        seeds = (0, 1) if student == "reference" else None  # a bug: the checks' own seeds find it
        grades = {
            lang: grade_submission(nb, name, sandbox, tmp_path / lang, seeds=seeds, lang=lang)
            for lang, nb in editions.items()
        }
        en, ru = grades["en"], grades["ru"]
        assert {n: t.points for n, t in en.tasks.items()} == {
            n: t.points for n, t in ru.tasks.items()
        }, student
        for task_name, task in ru.tasks.items():
            if not task.passed:
                assert CYRILLIC.search(task.message), (student, task.message)
                assert not CYRILLIC.search(en.tasks[task_name].message)
        if student == "reference":
            assert ru.score == ru.max_score
        else:
            assert ru.score < ru.max_score, student


@pytest.mark.slow
def test_a_russian_course_releases_grades_and_gives_feedback_in_russian(tmp_path):
    """``course create --lang ru``: the release is the Russian notebook with its lecture links
    pointing at the Russian lectures released beside it; a batch grades the Russian reference full
    and a bug with a Russian message, and the feedback page shows it."""
    import subprocess
    import sys

    from autograder.batch import grade_batch, read_records
    from autograder.course import open_course
    from autograder.samples import MUTANTS, mutant_notebook
    from autograder.sandbox import missing_protections

    if missing := missing_protections():
        pytest.skip("; ".join(missing))
    root, assignment = tmp_path / "course", "hw1_linear_regression"
    for args in (["course", "create", str(root), "--lang", "ru"], ["release", str(root), "hw1"]):
        done = subprocess.run(
            [sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    course = open_course(root)
    assert course.lang == "ru"
    release = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    prose = "\n".join(c.source for c in release.cells if c.cell_type == "markdown")
    assert (
        "Глоссарий" in prose and "](../lectures/01_linear_models_to_neural_networks.ipynb)" in prose
    )
    lecture = nbformat.read(
        root / "release" / "lectures" / "01_linear_models_to_neural_networks.ipynb", as_version=4
    )
    assert CYRILLIC.search(lecture.cells[0].source)

    mutant = MUTANTS["hw1"][0]
    for student, nb in (
        ("reference", notebook(HOMEWORKS["hw1"], "ru")),
        (mutant.student, mutant_notebook("hw1", mutant, "ru")),
    ):
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    result = grade_batch(course, assignment, workers=1)
    assert not result.failed
    records = read_records(course, assignment)
    assert records["reference"]["score"] == records["reference"]["max_score"]
    points, most, message = records[mutant.student]["tasks"][mutant.cell]
    assert points < most and CYRILLIC.search(message), message
    autograded = nbformat.read(
        root / "autograded" / mutant.student / assignment / f"{assignment}.ipynb", as_version=4
    )
    assert "Глоссарий" in autograded.cells[1].source  # the Russian structure, not the English
    assert course.api().generate_feedback(assignment, mutant.student, force=True)["success"]
    page = html_text(next((root / "feedback" / mutant.student / assignment).glob("*.html")))
    assert message.split(":", 1)[1].strip()[:40] in page
    assert '<html lang="ru">' in page and "Ваш ответ" in page and "Your answer" not in page


def html_text(page) -> str:
    import html

    return html.unescape(page.read_text(encoding="utf-8"))


def test_the_russian_feedback_drops_the_graders_asides_as_the_english_does():
    from autograder.feedback import student_message

    for english in (
        "Linear: the answer uses torch.autograd (0 points; for review)",
        "Linear: uses torch.autograd: it was refused at run time, so it scores 0 (for review)",
        "MLPRegressor: used what this homework forbids, and it was refused at run time when "
        "another task called it; 0 points, for review",
    ):
        russian = student_message(i18n.translate_message(english, "ru"))
        assert CYRILLIC.search(russian) and "провер" not in russian, russian
        assert "review" not in student_message(english)
