"""Crafted submissions (``autograder/intake.py``): read within limits, graded by the instructor's structure.

A notebook nested 100 000 deep, an oversize file, too many cells or a huge cell is refused with one
line before a JSON parser sees it. Duplicated cell ids, an answer cell copied in Jupyter (its
``grade_id`` twice), a ``grade_id`` forged to a test cell's, an extra graded cell, edited points and
missing or garbage nbgrader metadata are graded: the answers are what the student's notebook would
run (every copy of a copied cell, in notebook order), everything else is the instructor's, and what
was ignored is noted for review. The rebuild is the same whether it reads the submitted notebook or
the notebook nbgrader's sanitising made of it (:func:`autograder.intake.restructure`).

The last test runs nbgrader's real ``autograde`` on such submissions, in the sandbox (slow).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
import torch

from autograder import intake
from autograder.build import REPO
from autograder.intake import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_JSON_DEPTH,
    MAX_NOTEBOOK_BYTES,
    Intake,
    SubmissionError,
    parse_notebook,
    read_submission,
    restructure,
    scan_cell,
)
from solutions import linear_regression as reference

HW = "hw1_linear_regression"
SOURCE = REPO / "assignments" / HW / f"{HW}.ipynb"
WRONG_MSE = ("return residual @ residual / residual.shape[0]", "return residual @ residual")


def source() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


def index(nb, grade_id: str) -> int:
    """Where the (first) cell with ``grade_id`` is."""
    return next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def pasted_copy(nb, grade_id: str, *, after: str | None = None, cell_id: str = "pasted"):
    """A copy of the cell ``grade_id`` inserted after the cell ``after`` (default: itself), as
    Jupyter's copy and paste makes it: same metadata (grade_id included), a new cell id."""
    cell = copy.deepcopy(nb.cells[index(nb, grade_id)])
    cell.id = cell_id
    nb.cells.insert(index(nb, after or grade_id) + 1, cell)
    return cell


def with_wrong_mse(cell) -> None:
    old, new = WRONG_MSE
    assert old in cell.source
    cell.source = cell.source.replace(old, new)


def run(rebuilt: Intake) -> dict:
    """Run the rebuilt cells in order as the probe does (a cell that raises does not stop the next)."""
    namespace: dict = {}
    for cell in rebuilt.cells:
        try:
            exec(compile(cell["source"], cell["grade_id"], "exec"), namespace)
        except Exception:
            pass
    return namespace


def mse_is_right(namespace: dict) -> bool:
    y_pred = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    return bool(torch.equal(namespace["mse"](y_pred, y), reference.mse(y_pred, y)))


def both_ways(submitted) -> tuple[Intake, nbformat.NotebookNode]:
    """The rebuild of ``submitted``, checked equal to the rebuild of what nbgrader's sanitising
    makes of it (restructured, written and read back); and that restructured notebook."""
    direct = Intake.rebuild(source(), submitted)
    restructured, notes = restructure(source(), submitted)
    nbformat.validate(restructured)
    again = Intake.rebuild(source(), nbformat.reads(nbformat.writes(restructured), as_version=4))
    assert again.cells == direct.cells and again.missing == direct.missing
    assert again.notes == direct.notes == notes
    return direct, restructured


def grade_ids(nb) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]


# ---------------------------------------------------------------------------------------------------
# limits before parsing


def deep_notebook(levels: int) -> bytes:
    """A notebook whose first cell's metadata holds a list nested ``levels`` deep."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", id="a")])
    text = nbformat.writes(nb)
    return text.replace(
        '"metadata": {}', '"metadata": {"x": ' + "[" * levels + "]" * levels + "}", 1
    ).encode()


def test_a_notebook_nested_100000_deep_is_refused_in_one_line(tmp_path: Path) -> None:
    data = deep_notebook(100_000)
    with pytest.raises(RecursionError):
        json.loads(data)  # what nbformat, nbgrader and collect did with it
    path = tmp_path / "deep.ipynb"
    path.write_bytes(data)
    with pytest.raises(SubmissionError) as refused:
        read_submission(path)
    message = str(refused.value)
    assert message.startswith("deep.ipynb: not a readable notebook: nested deeper than 64 levels")
    assert "\n" not in message


def test_nesting_within_the_cap_and_brackets_in_strings_are_read(tmp_path: Path) -> None:
    assert parse_notebook(deep_notebook(MAX_JSON_DEPTH - 4)).cells[0].source == "x = 1"
    brackets = "[" * 100_000 + "{" * 100_000  # in a string: they nest nothing
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"s = {brackets!r}", id="a")])
    assert parse_notebook(nbformat.writes(nb).encode()).cells[0].source == f"s = {brackets!r}"
    escaped = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('s = "\\"[["', id="a")])
    assert parse_notebook(nbformat.writes(escaped).encode()).cells[0].source == 's = "\\"[["'
    assert len(read_submission(SOURCE).cells) == len(source().cells)  # the real thing


def test_an_oversize_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as handle:  # 4 GiB, sparse: reading it whole would take minutes
        handle.truncate(4 << 30)
    opened = []
    monkeypatch.setattr(Path, "open", lambda *a, **k: opened.append(a) or open(*a, **k))
    with pytest.raises(
        SubmissionError, match=r"huge\.ipynb: .*too large \(4096\.0 MiB, over the 20\.0 MiB cap"
    ):
        read_submission(path)
    assert opened == []
    with pytest.raises(SubmissionError, match="too large"):
        parse_notebook(b" " * (MAX_NOTEBOOK_BYTES + 1))


def test_too_many_cells_or_a_huge_cell_is_refused() -> None:
    def notebook(cells: int, chars: int = 1) -> bytes:
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell("x" * chars, id=f"c{i}") for i in range(cells)]
        )
        return nbformat.writes(nb).encode()

    assert len(parse_notebook(notebook(MAX_CELLS)).cells) == MAX_CELLS
    with pytest.raises(SubmissionError, match=f"too many cells \\({MAX_CELLS + 1}, over the cap"):
        parse_notebook(notebook(MAX_CELLS + 1))
    assert len(parse_notebook(notebook(1, MAX_CELL_CHARS)).cells[0].source) == MAX_CELL_CHARS
    with pytest.raises(SubmissionError, match="cell 1 holds 1048577 characters, over the cap"):
        parse_notebook(notebook(1, MAX_CELL_CHARS + 1))


def test_millions_of_tiny_values_are_refused_before_parsing() -> None:
    data = b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": [' + b"[]," * 3_000_000
    data += b'[]]}, "cells": []}'
    with pytest.raises(SubmissionError, match="too many JSON values"):
        parse_notebook(data)  # parsed, 3 million lists would take ~500 MiB


@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_a_recursion_or_memory_error_while_reading_is_a_submission_error(
    tmp_path: Path, monkeypatch, error
) -> None:
    def explode(*args, **kwargs):
        raise error("crafted")

    monkeypatch.setattr(intake.json, "loads", explode)
    path = tmp_path / "x.ipynb"
    shutil.copy(SOURCE, path)
    with pytest.raises(
        SubmissionError, match=f"x.ipynb: not a readable notebook: .*{error.__name__}"
    ):
        read_submission(path)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"{ not json", "not JSON"),
        (b"[1, 2]", "not a notebook"),
        (b'{"nbformat": 99, "cells": []}', "nbformat version 99 does not exist"),
        (b'{"nbformat": 4, "nbformat_minor": "x", "cells": []}', "not a notebook"),
        ("{}".encode("utf-16"), "not UTF-8"),
    ],
)
def test_other_unreadable_files_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(SubmissionError, match=reason) as refused:
        parse_notebook(data)
    assert "\n" not in str(refused.value)


def test_a_crafted_answer_cell_is_flagged_not_raised() -> None:
    for code in ("x = " + "+".join(["1"] * 50_000), "x = " + "-" * 100_000 + "1"):
        [reason] = scan_cell(code)
        assert "nested too deeply to be read" in reason


# ---------------------------------------------------------------------------------------------------
# the instructor's structure wins


def test_the_release_and_the_reference_rebuild_without_notes() -> None:
    rebuilt, restructured = both_ways(source())
    assert rebuilt.notes == [] and rebuilt.missing == []
    assert grade_ids(restructured) == grade_ids(source())
    assert [c.source for c in restructured.cells] == [c.source for c in source().cells]


def test_duplicated_cell_ids_are_graded() -> None:
    nb = source()
    for cell in nb.cells:
        cell.id = "same"  # every cell: one id
    rebuilt, restructured = both_ways(nb)
    assert rebuilt.missing == [] and rebuilt.notes == []
    assert len({c.id for c in restructured.cells}) == len(restructured.cells)
    assert mse_is_right(run(rebuilt))


@pytest.mark.parametrize("right_copy_last", [True, False])
def test_a_copied_answer_cell_runs_every_copy_in_notebook_order(right_copy_last: bool) -> None:
    nb = source()
    pasted = pasted_copy(nb, "mse")
    with_wrong_mse(nb.cells[index(nb, "mse")] if right_copy_last else pasted)
    # a duplicated grade_id is what made nbgrader's autograde fail
    assert [g for g in grade_ids(nb) if g == "mse"] == ["mse", "mse"]

    rebuilt, restructured = both_ways(nb)

    sources = [c["source"] for c in rebuilt.cells if c["grade_id"] == "mse"]
    assert sources == [nb.cells[index(nb, "mse")].source, pasted.source]  # both, in order
    assert mse_is_right(run(rebuilt)) is right_copy_last  # the last definition wins, as in Jupyter
    assert rebuilt.notes == [
        "mse: the answer cell appears 2 times (copied in Jupyter?); all 2 copies ran, in notebook order"
    ]
    # nbgrader sees one cell per grade_id; the earlier copy is a plain cell marked as a copy
    assert grade_ids(restructured) == grade_ids(source())
    [earlier] = [
        c for c in restructured.cells if c.metadata.get("dlhw", {}).get("copy_of") == "mse"
    ]
    assert earlier.source == sources[0]


def test_a_copy_pasted_far_away_still_runs_after_the_first() -> None:
    nb = source()
    pasted = pasted_copy(nb, "mse", after="test_sigmoid")
    with_wrong_mse(pasted)
    rebuilt, _ = both_ways(nb)
    assert not mse_is_right(run(rebuilt))  # the later copy, wrong, is what Run All leaves defined


def test_every_copy_is_scanned() -> None:
    nb = source()
    pasted = pasted_copy(nb, "mse")
    pasted.source += "\nimport ctypes\n"
    rebuilt, _ = both_ways(nb)
    [reason] = rebuilt.flagged["mse"]
    assert reason.startswith("copy 2 of 2, line ") and "ctypes" in reason


def test_a_forged_grade_id_claiming_a_test_cell_counts_for_nothing() -> None:
    nb = source()
    forged = pasted_copy(nb, "mse", cell_id="forged")
    forged.metadata.nbgrader["grade_id"] = "test_mse"  # "I am the test": it passes, says nothing
    forged.source = "print('visible tests passed')"
    with_wrong_mse(nb.cells[index(nb, "mse")])

    rebuilt, restructured = both_ways(nb)

    assert not mse_is_right(run(rebuilt))
    assert all(c["source"] != forged.source for c in rebuilt.cells)
    [test] = [
        c
        for c in restructured.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mse"
    ]
    assert test.source == source().cells[index(source(), "test_mse")].source  # hidden tests and all
    assert any("test_mse: 2 cells claim the id of this test cell" in n for n in rebuilt.notes)


def test_an_extra_graded_cell_and_edited_points_count_for_nothing() -> None:
    nb = source()
    extra = pasted_copy(nb, "test_mse", cell_id="bonus")
    extra.metadata.nbgrader.update(grade_id="bonus", points=100)
    extra.source = "pass"
    nb.cells[index(nb, "test_mse")].metadata.nbgrader["points"] = 50
    nb.cells[index(nb, "test_mse")].metadata.nbgrader["locked"] = False
    nb.cells[index(nb, "test_mse")].metadata.nbgrader["checksum"] = "forged"

    rebuilt, restructured = both_ways(nb)

    assert grade_ids(restructured) == grade_ids(source())

    def points(notebook) -> dict:
        return {
            c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader.get("points")
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        }

    assert points(restructured) == points(source())
    assert "checksum" not in restructured.cells[index(restructured, "test_mse")].metadata.nbgrader
    assert rebuilt.notes == [
        "test_mse: nbgrader metadata edited (locked: False, not True; points: 50.0, not 1.0); "
        "the assignment's counts",
        "cells with grade ids the assignment does not have ('bonus'): ignored",
    ]


@pytest.mark.parametrize("metadata", ["garbage", {"solution": True}, None])
def test_an_answer_without_readable_nbgrader_metadata_is_found_by_its_cell_id(metadata) -> None:
    nb = source()
    cell = nb.cells[index(nb, "mse")]
    if metadata is None:
        del cell.metadata["nbgrader"]
    else:
        cell.metadata["nbgrader"] = metadata
    rebuilt, _ = both_ways(nb)
    assert rebuilt.missing == [] and mse_is_right(run(rebuilt))
    assert rebuilt.notes == [
        "mse: its nbgrader metadata is missing or unreadable; found by its cell id"
    ]


def test_an_answer_turned_into_markdown_is_missing_and_noted() -> None:
    nb = source()
    cell = nb.cells[index(nb, "mse")]
    nb.cells[index(nb, "mse")] = nbformat.v4.new_markdown_cell(
        cell.source, id=cell.id, metadata=cell.metadata
    )
    rebuilt, _ = both_ways(nb)
    assert rebuilt.missing == ["mse"]
    assert rebuilt.notes == [
        "mse: a cell with this answer's id is a 'markdown' cell, not a code cell: not used"
    ]


def test_a_missing_answer_never_gets_the_instructors_solution() -> None:
    nb = source()
    solution = nb.cells[index(nb, "mse")].source
    written = nb.cells[index(nb, "written_learning_rates")].source
    del nb.cells[index(nb, "mse")]
    del nb.cells[index(nb, "written_learning_rates")]
    rebuilt, restructured = both_ways(nb)
    assert rebuilt.missing == ["mse"]
    assert all(solution not in c.source and written not in c.source for c in restructured.cells)
    assert "mse" not in grade_ids(restructured)


def test_garbage_cells_and_metadata_are_ignored() -> None:
    nb = source()
    nb.cells.insert(0, "not a cell")
    nb.cells.insert(1, {"cell_type": "code", "metadata": "garbage", "source": "x = 1"})
    nb.cells.insert(
        2, {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 5}}, "source": 5}
    )
    nb.metadata = "garbage"
    rebuilt = Intake.rebuild(source(), nb)
    assert rebuilt.missing == [] and mse_is_right(run(rebuilt))
    restructured, _ = restructure(source(), nb)
    nbformat.validate(restructured)


def test_a_copied_written_answer_is_joined() -> None:
    nb = source()
    pasted = pasted_copy(nb, "written_learning_rates")
    pasted.source = "second thoughts"
    _, restructured = both_ways(nb)
    [cell] = [c for c in restructured.cells if c.get("id") == "written_learning_rates"]
    assert cell.source.endswith("\n\n---\n\nsecond thoughts")


def test_the_submitted_notebook_is_not_changed() -> None:
    nb = source()
    pasted_copy(nb, "mse")
    before = copy.deepcopy(nb)
    restructure(source(), nb)
    Intake.rebuild(source(), nb)
    assert nb == before


# ---------------------------------------------------------------------------------------------------
# nbgrader's own read of the submitted file


def test_nbgraders_read_of_a_crafted_file_is_not_graded_with_its_reason(tmp_path: Path) -> None:
    from autograder.nbgrader_plugin import RESULTS, SubmissionExporter

    deep = tmp_path / f"{HW}.ipynb"
    deep.write_bytes(deep_notebook(100_000))
    resources = {"nbgrader": {"assignment": HW, "student": "mallory", "notebook": HW}}
    with pytest.raises(SubmissionError, match="nested deeper than 64 levels"):
        SubmissionExporter().from_filename(str(deep), resources=resources)
    reason = RESULTS.pop((HW, "mallory"))["reason"]
    assert reason.startswith(f"{HW}.ipynb: not a readable notebook: nested deeper")

    good = tmp_path / "good.ipynb"
    shutil.copy(SOURCE, good)
    output, _ = SubmissionExporter().from_filename(str(good), resources={})
    assert nbformat.reads(output, as_version=4).cells == source().cells


def test_the_sanitising_preprocessor_reads_the_course_source(tmp_path: Path) -> None:
    from traitlets.config import Config

    from autograder.nbgrader_plugin import InstructorStructure

    (tmp_path / "source").symlink_to(REPO / "assignments", target_is_directory=True)
    step = InstructorStructure(config=Config({"CourseDirectory": {"root": str(tmp_path)}}))
    nb = source()
    pasted_copy(nb, "mse")
    resources = {"nbgrader": {"assignment": HW, "student": "alice", "notebook": HW}}
    rebuilt, _ = step.preprocess(nb, resources)
    assert rebuilt == restructure(source(), nb)[0]


# ---------------------------------------------------------------------------------------------------
# end to end: nbgrader's real autograde, in the sandbox


def _e2e_missing() -> list[str]:
    from autograder.sandbox import missing_protections

    return missing_protections()


@pytest.mark.slow
@pytest.mark.skipif(bool(_e2e_missing()), reason="; ".join(_e2e_missing()) or "sandbox available")
def test_nbgrader_autograde_grades_copied_and_forged_cells_as_the_rebuild_says(tmp_path) -> None:
    from nbgrader.api import Gradebook

    from autograder.batch import grade_batch, read_records
    from autograder.course import COURSE_ID, create_course

    course = create_course(tmp_path / "course")
    assert course.api().generate_assignment(HW, force=True, create=True)["success"]
    wrong = ("w -= lr * grad", "w += lr * grad")  # gradient_descent, 2 points

    def submission(right_copy_last: bool) -> nbformat.NotebookNode:
        nb = source()
        pasted = pasted_copy(nb, "gradient_descent")
        target = nb.cells[index(nb, "gradient_descent")] if right_copy_last else pasted
        assert wrong[0] in target.source
        target.source = target.source.replace(*wrong)
        # and a forged extra graded cell, a forged test cell, edited points
        extra = pasted_copy(nb, "test_mse", cell_id="bonus")
        extra.metadata.nbgrader.update(grade_id="bonus", points=100)
        extra.source = "pass"
        forged = pasted_copy(nb, "mse", cell_id="forged")
        forged.metadata.nbgrader["grade_id"] = "test_sigmoid"
        nb.cells[index(nb, "test_mse")].metadata.nbgrader["points"] = 50
        return nb

    files = {
        "copied_right_last": nbformat.writes(submission(True)).encode(),
        "copied_wrong_last": nbformat.writes(submission(False)).encode(),
        "deep": deep_notebook(100_000),
    }
    for student, data in files.items():
        folder = course.folder("submitted", student, HW)
        folder.mkdir(parents=True)
        (folder / f"{HW}.ipynb").write_bytes(data)

    result = grade_batch(course, HW, workers=2)

    assert sorted(result.graded) == ["copied_right_last", "copied_wrong_last"]
    assert (
        list(result.failed) == ["deep"] and "nested deeper than 64 levels" in result.failed["deep"]
    )
    records = read_records(course, HW)
    assert records["copied_right_last"]["score"] == 10 == records["copied_right_last"]["max_score"]
    assert records["copied_wrong_last"]["score"] == 8
    assert records["copied_wrong_last"]["tasks"]["gradient_descent"][0] == 0
    review = records["copied_right_last"]["review"]  # what was ignored, for the instructor
    assert sorted(review) == sorted(
        [
            "test_mse: nbgrader metadata edited (points: 50.0, not 1.0); the assignment's counts",
            "test_sigmoid: nbgrader metadata edited (grade: False, not True; solution: True, not "
            "False; locked: False, not True); the assignment's counts",
            "test_sigmoid: 2 cells claim the id of this test cell (a copy, or a forged id); "
            "only the assignment's own counts",
            "cells with grade ids the assignment does not have ('bonus'): ignored",
            "gradient_descent: the answer cell appears 2 times (copied in Jupyter?); "
            "all 2 copies ran, in notebook order",
        ]
    )
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {
            s.student.id: (s.score, s.max_score)
            for s in gb.find_assignment(HW).submissions
            if s.student.id != "deep"
        }
    assert scores == {"copied_right_last": (10, 12), "copied_wrong_last": (8, 12)}  # 2 by hand
    for student, data in files.items():  # the submitted files are as they came
        assert course.folder("submitted", student, HW, f"{HW}.ipynb").read_bytes() == data
    autograded = nbformat.read(
        course.folder("autograded", "copied_right_last", HW, f"{HW}.ipynb"), 4
    )
    assert "bonus" not in grade_ids(autograded)
    assert os.path.exists(course.folder("autograded", "copied_wrong_last", HW, f"{HW}.ipynb"))


def test_raw_memory_and_the_dispatchers_derivative_kernels_are_flagged():
    from autograder.checks.forbidden import AUTOGRAD

    kernel = "def backward(self, g):\n    return torch.ops.aten.tanh_backward(g, self.y)"
    assert any("torch.autograd" in r for r in scan_cell(kernel, (AUTOGRAD,)))
    assert scan_cell(kernel) == []  # only where autograd is forbidden
    memory = "view = np.asarray(x)\nraw = view.__array_interface__"
    assert any("__array_interface__" in r for r in scan_cell(memory))
    storage = "s = torch._C._construct_storage_from_data_pointer(0, 'cpu', 8)"
    assert any("_construct_storage_from_data_pointer" in r for r in scan_cell(storage))
    honest = "def backward(self, g):\n    return g * (1 - self.y * self.y)"
    assert scan_cell(honest, (AUTOGRAD,)) == []
