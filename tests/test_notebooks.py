"""The committed source notebooks are what ``make notebooks`` generates from ``solutions/``, and clean.

If a test here fails after a change to ``solutions/`` or a homework's ``spec.py``, run
``make notebooks`` and commit the result.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder import build
from autograder.cells import Methods, Task, Written
from autograder.hostile import _released
from autograder.registry import find

REPO = Path(__file__).resolve().parent.parent
SPECS = {name: build.load_spec(name) for name in build.SPECS}
CHECKS = {name: find(name).checks for name in SPECS}


@pytest.mark.parametrize("name", SPECS)
def test_committed_notebook_is_generated(name, tmp_path):
    spec = SPECS[name]
    for path in build.write(spec, tmp_path):
        committed = REPO / "assignments" / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run `make notebooks`"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.relative_to(REPO)} differs from what solutions/ and the spec generate: "
            "run `make notebooks` and commit"
        )


def committed(name: str) -> nbformat.NotebookNode:
    spec = SPECS[name]
    return nbformat.read(REPO / "assignments" / spec.assignment / f"{spec.assignment}.ipynb", 4)


@pytest.mark.parametrize("name", SPECS)
def test_committed_notebook_has_no_outputs(name):
    for cell in committed(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


@pytest.mark.parametrize("name", SPECS)
def test_nbgrader_metadata(name):
    nb = committed(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    seen = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            assert "### BEGIN" not in cell.source, f"{cell.id}: solution markers in a plain cell"
            continue
        assert meta["schema_version"] == 3 and meta["grade_id"] == cell.id
        assert meta["grade_id"] not in seen, f"duplicate grade_id {meta['grade_id']}"
        seen.add(meta["grade_id"])
        if meta["solution"]:
            assert not meta["locked"] and build.BEGIN in cell.source and build.END in cell.source
        if meta["grade"] and cell.cell_type == "code":
            assert meta["locked"] and meta["points"] > 0 and not meta["solution"]
            assert build.BEGIN_HIDDEN in cell.source and build.END_HIDDEN in cell.source
    spec = SPECS[name]
    auto, manual = spec.points
    points = sum(c.metadata.nbgrader.get("points", 0) for c in nb.cells if "nbgrader" in c.metadata)
    assert points == auto + manual
    assert f"**Points: {auto + manual}**" in nb.cells[0].source, "the top cell states the total"


@pytest.mark.parametrize("name", SPECS)
def test_every_task_has_a_check_and_its_body_from_solutions(name):
    nb = committed(name)
    cells = {c.id: c for c in nb.cells}
    tasks = [c for c in SPECS[name].cells if isinstance(c, Task)]
    assert {t.name for t in tasks} == set(CHECKS[name]), "one check per graded task"
    for task in tasks:
        answer = cells[task.name].source
        for item in task.functions:
            if isinstance(item, Methods):
                functions = [getattr(item.cls, name) for name in item.names]
            else:
                functions = [getattr(item, "fn", item)]
            for fn in functions:
                body = textwrap.dedent(inspect.getsource(fn)).splitlines()[-1].strip()
                assert body in answer, (
                    f"{task.name}: the body of {fn.__qualname__} is not in the answer cell"
                )
        assert f'_verdict("{task.name}", {task.name})' in cells[f"test_{task.name}"].source
    assert any(isinstance(c, Written) for c in SPECS[name].cells), "a manually graded answer"


def test_solution_source_keeps_signature_and_docstring_outside_the_region():
    from solutions.linear_regression import mse_gradient

    source = build.solution_source(mse_gradient)
    head, region = source.split(build.BEGIN)
    assert head.startswith("def mse_gradient(X, y, w) -> Tensor:") and '"""' in head
    assert region.strip().endswith(build.END) and '"""' not in region


# what a student is given must not name what only the instructor has
INSTRUCTOR_ONLY = re.compile(
    r"\bsolutions\.|\bautograder\b|\bLecture(?:Momentum|Nesterov|Ada\w+|RMSProp)\b"
)


@pytest.mark.parametrize("name", SPECS)
def test_the_release_names_nothing_a_student_does_not_have(name):
    for cell in committed(name).cells:
        text = _released(cell.source)  # without the solution and hidden-test regions
        found = INSTRUCTOR_ONLY.search(text)
        assert found is None, f"{name}, cell {cell.id}: {found and found.group()!r} in the release"


@pytest.mark.parametrize("name", SPECS)
def test_provided_code_is_collapsed(name):
    """Provided cells run but stay out of the way: Jupyter shows them folded (``source_hidden``)."""
    provided = [
        c
        for c in committed(name).cells
        if c.metadata.get("nbgrader", {}).get("locked") and not c.metadata.nbgrader.get("grade")
    ]
    assert provided, f"{name} has no provided cell"
    for cell in provided:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.id


@pytest.mark.parametrize("name", SPECS)
def test_every_visible_assertion_says_what_it_expects(name):
    """A student reads the message of a failing visible test: it must be words (a string or an
    f-string naming the expectation), never a bare value such as ``assert ok, p``."""
    import ast

    for cell in committed(name).cells:
        if not cell.id.startswith("test_"):
            continue
        visible = _released(cell.source)
        for node in ast.walk(ast.parse(visible)):
            if isinstance(node, ast.Assert):
                worded = isinstance(node.msg, ast.JoinedStr) or (
                    isinstance(node.msg, ast.Constant) and isinstance(node.msg.value, str)
                )
                assert worded, f"{name}, {cell.id}: {ast.get_source_segment(visible, node)[:80]}"
