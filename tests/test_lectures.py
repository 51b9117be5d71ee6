"""The lecture notebooks in ``lectures/``: committed clean, structured, and runnable top to bottom.

The executing test runs each notebook in a real Jupyter kernel with nbclient, as ``make lectures`` does.
The notebooks ask for the ``python3`` kernel, whose argv starts with ``python``; jupyter_client replaces
that with ``sys.executable``, so the kernel is this venv's interpreter, which imports ``solutions`` and torch.
Every numeric claim in a notebook is asserted by the cell that computes it, so a cell error here means the
text and the reference code have drifted apart. Each notebook takes about 10-30 s on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
LECTURES = REPO / "lectures"
NAMES = [
    "01_linear_models_to_neural_networks",
    "02_backpropagation",
    "03_optimization",
]
CELL_TIMEOUT_S = 120  # the slowest cell takes a few seconds; this only catches a hang
FURTHER_READING = ("Goodfellow", "Николенко", "d2l.ai", "CS231n")


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(LECTURES / f"{name}.ipynb", as_version=4)


def test_every_lecture_is_listed():
    assert sorted(p.stem for p in LECTURES.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], (
                f"{name}, cell {cell.id}: clear the outputs before committing"
            )
            assert cell.execution_count is None, f"{name}, cell {cell.id}: execution_count set"


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_learning_goals_and_ends_with_further_reading(name):
    cells = read(name).cells
    first, last = cells[0], cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# Lecture ")
    assert "## What you will know after this lecture" in first.source
    assert last.cell_type == "markdown" and last.source.startswith("## Further reading")
    for reference in FURTHER_READING:
        assert reference in last.source, f"{name}: Further reading lacks {reference}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_executes_top_to_bottom(name):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = read(name)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(LECTURES)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{name} failed:\n{err}")
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    figures = sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert figures >= 1, f"{name} drew no figure"
