"""Grading a submission in the sandbox (``autograder/grade.py``): fair to honest work, deaf to attacks.

Each test builds a submission from the instructor's source notebook (the reference answers), the
blank release, a plausible bug, or an attack, grades it in the sandbox, and looks at the points and
messages. Attacks are graded twice where it matters: with the intake scan (the cell is flagged, scores
0, and is listed for review) and without it, to show that the sandbox and the trusted verdict hold on
their own. Needs bubblewrap and root, like ``tests/test_sandbox.py``.
"""

from __future__ import annotations

import copy
import re

import nbformat
import pytest
import torch
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from autograder.build import REPO, load_spec
from autograder.grade import grade_submission
from autograder.sandbox import Limits, Sandbox, missing_protections

MISSING = missing_protections()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available"),
]
SEEDS = (0, 1, 2)  # fewer probes than the notebooks' default, to keep the suite quick


def source(homework: str) -> nbformat.NotebookNode:
    assignment = load_spec(homework).assignment
    return nbformat.read(REPO / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)


def blank(homework: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(source(homework))
    nb, _ = ClearSolutions().preprocess(nb, {})
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    return nb


def with_answer(nb, grade_id: str, old: str, new: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert old in cell.source, f"{old!r} is not in {grade_id}"
    cell.source = cell.source.replace(old, new, 1)
    return nb


def prepend(nb, grade_id: str, code: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = code + "\n" + cell.source
    return nb


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox(uid=60011, limits=Limits(wall_seconds=120))


@pytest.fixture
def grade(tmp_path, sandbox):
    def run(nb, homework="hw1", **kwargs):
        path = tmp_path / "submission.ipynb"
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, path)
        return grade_submission(path, homework, sandbox, tmp_path / "work", seeds=SEEDS, **kwargs)

    return run


def points(result) -> dict[str, float]:
    return {name: task.points for name, task in result.tasks.items()}


@pytest.mark.parametrize("homework", ["hw1", "hw4"])
def test_the_reference_gets_full_marks_in_one_run(grade, homework):
    result = grade(source(homework), homework)
    assert result.score == result.max_score == load_spec(homework).points[0]
    assert result.runs == 1 and result.review == [] and result.error is None


@pytest.mark.parametrize("homework", ["hw1", "hw4"])
def test_the_blank_release_gets_zero_and_says_not_implemented(grade, homework):
    result = grade(blank(homework), homework)
    assert result.score == 0 and result.max_score > 0
    assert all("NotImplementedError" in t.message for t in result.tasks.values())


def test_a_bug_costs_its_task_only(grade):
    nb = with_answer(source("hw1"), "gradient_descent", "w -= lr * grad", "w += lr * grad")
    result = grade(nb)
    assert [n for n, t in result.tasks.items() if not t.passed] == ["gradient_descent"]
    assert result.tasks["gradient_descent"].message.startswith("gradient_descent: ")


def test_an_unreadable_file_is_reported_not_raised(grade):
    result = grade("{ this is not json")
    assert result.score == 0 and "not a readable notebook" in result.error
    assert all("not a readable notebook" in t.message for t in result.tasks.values())


def test_a_deleted_answer_cell_costs_its_task(grade):
    nb = source("hw1")
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "mse"]
    result = grade(nb)
    assert points(result)["mse"] == 0 and "missing" in result.tasks["mse"].message
    assert result.score == result.max_score - 1


def test_edited_tests_points_and_outputs_count_for_nothing(grade):
    nb = blank("hw1")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cell.source = "pass"  # the test cell emptied
            meta["points"] = 100
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="visible tests passed\n")]
    result = grade(nb)
    assert result.score == 0 and result.max_score == load_spec("hw1").points[0]


# ---------------------------------------------------------------------------------------------------
# Attacks: the attacked task scores 0, the grader goes on, the other tasks keep their points
# ---------------------------------------------------------------------------------------------------

ATTACKS = {
    "reads the reference from disk": (
        "mse",
        "text = open('/work/main/solutions/linear_regression.py').read()",
    ),
    "patches the checks' helpers": (
        "mse",
        "import autograder.checks as _c\n_c.compare = lambda *a, **k: None",
    ),
    "strips asserts with an IPython hook": (
        "mse",
        "get_ipython().ast_transformers.clear()",
    ),
    "reads the expected value from a frame": (
        "mse",
        "import sys\n_frame = sys._getframe(0)",
    ),
    "talks to the network": (
        "mse",
        "import socket\ntry:\n    socket.create_connection(('10.1.1.1', 80), timeout=1)\n"
        "except OSError:\n    pass",
    ),
    "kills its own process": ("mse", "import os\nos._exit(3)"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_flagged_attack_scores_zero_and_is_listed_for_review(grade, attack):
    task, code = ATTACKS[attack]
    result = grade(prepend(source("hw1"), task, code))
    assert points(result)[task] == 0
    assert any(line.startswith(f"{task}: ") for line in result.review)
    assert result.score == result.max_score - 1  # every other task keeps its points


def test_without_the_scan_the_sandbox_holds_against_reading_and_patching(grade):
    # the attacks run (nothing flags them) and gain nothing: no file, and verdicts made outside
    nb = with_answer(
        source("hw1"),
        "mse",
        "    ### BEGIN SOLUTION",
        "    try:\n"
        "        return open('/work/main/solutions/linear_regression.py').read()\n"
        "    except OSError:\n"
        "        import autograder.checks as _c\n"
        "        _c.compare = lambda *a, **k: None  # the judge's helper, patched in the sandbox\n"
        "        _c.expect_tensor = lambda *a, **k: None\n"
        "        return None\n"
        "    ### BEGIN SOLUTION",
    )
    result = grade(nb, scan=False)
    assert points(result)["mse"] == 0
    # neither the reference nor the judging code is in the sandbox: there is nothing to patch
    assert "No module named 'autograder.checks'" in result.tasks["mse"].message
    assert result.score == result.max_score - 1


def test_without_the_scan_a_process_exit_in_a_task_costs_that_task_only(grade):
    nb = with_answer(
        source("hw1"),
        "normal_equation",
        "    ### BEGIN SOLUTION",
        "    import os\n    os._exit(3)\n",
    )
    result = grade(nb, scan=False)
    assert points(result)["normal_equation"] == 0
    message = result.tasks["normal_equation"].message
    assert "ended the notebook's process (exit status 3)" in message
    assert result.score == result.max_score - 1 and result.runs == 2


def test_without_the_scan_a_process_exit_in_a_cell_costs_that_cell_only(grade):
    nb = prepend(source("hw1"), "mse", "import os\nos._exit(4)")
    result = grade(nb, scan=False)
    assert points(result)["mse"] == 0
    assert "running this answer cell ended" in result.tasks["mse"].message
    assert result.score == result.max_score - 1 and result.runs == 2


def test_an_endless_task_times_out_alone(grade):
    nb = with_answer(
        source("hw1"), "mse", "    ### BEGIN SOLUTION", "    while True:\n        pass\n"
    )
    result = grade(nb, task_seconds=2)
    assert points(result)["mse"] == 0 and "longer than 2 s" in result.tasks["mse"].message
    assert result.score == result.max_score - 1


def test_a_warning_on_stderr_costs_nothing(grade):
    nb = prepend(source("hw1"), "mse", "import warnings\nwarnings.warn('harmless')")
    result = grade(nb)
    assert result.score == result.max_score


def test_an_endless_cell_is_stopped_from_outside_and_costs_that_cell_only(grade):
    nb = prepend(source("hw1"), "normal_equation", "while True:\n    pass")
    result = grade(nb, scan=False, cell_seconds=3)
    assert points(result)["normal_equation"] == 0
    assert "the 3 s limit of one cell" in result.tasks["normal_equation"].message
    assert result.score == result.max_score - 1 and result.runs == 2


def test_a_fork_bomb_is_stopped_and_its_children_do_not_starve_the_next_cells(grade):
    from autograder.samples import attack_notebook

    result = grade(attack_notebook("hw1", "attack_fork_bomb"), scan=False)
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == [], [
        result.tasks[n].message for n in lost
    ]  # the bomb itself computes nothing wrong
    flagged = grade(attack_notebook("hw1", "attack_fork_bomb"))
    assert [n for n, t in flagged.tasks.items() if not t.passed] == ["normal_equation"]


AUTOGRAD_BY_GETATTR = """        engine = getattr(torch, "auto" + "grad")  # autograd, by a hidden name
        x = _stored(self, "x").detach().clone().requires_grad_(True)
        W = self.W.detach().clone().requires_grad_(True)
        out = torch.addmm(self.b, x, W) if self.b is not None else x @ W
        dx, dW = engine.grad(out, (x, W), grad_output)
        self.dW.copy_(dW)
        if self.db is not None:
            self.db.copy_(grad_output.sum(dim=0))
        return dx.detach() if need_input_grad else None
        ### END SOLUTION"""


def test_autograd_through_getattr_scores_zero_with_the_scan_and_without_it(grade):
    nb = source("hw2")
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "Linear"]
    body = cell.source.rsplit("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
    cell.source = cell.source.replace(
        "### BEGIN SOLUTION" + body + "### END SOLUTION",
        "### BEGIN SOLUTION\n" + AUTOGRAD_BY_GETATTR,
    )
    flagged = grade(nb, "hw2")
    assert flagged.tasks["Linear"].points == 0
    assert "uses torch.autograd (requires_grad_ on line" in flagged.tasks["Linear"].message
    assert any("getattr with a computed name" in line for line in flagged.review)
    watched = grade(nb, "hw2", scan=False)  # the scan off: the watch in the sandbox sees the call
    assert watched.tasks["Linear"].points == 0
    assert "uses torch.autograd" in watched.tasks["Linear"].message


def test_a_forbidden_use_is_scored_with_the_message_the_visible_tests_give(grade):
    """The intake words a forbidden use as the released scan does (``source_scan.message``): the
    student read this sentence in the visible tests before submitting; only the place differs."""
    from autograder.checks.source_scan import AUTOGRAD, assert_allowed

    nb = with_answer(
        source("hw2"),
        "Linear",
        "### BEGIN SOLUTION\n",
        "### BEGIN SOLUTION\n        _ = torch.autograd.grad  # to compare with later\n",
    )
    result = grade(nb, "hw2")
    message = result.tasks["Linear"].message
    assert result.tasks["Linear"].points == 0
    assert message.startswith("Linear: uses torch.autograd (torch.autograd.grad on line ")
    assert message.endswith(f"of the answer cell): this task {AUTOGRAD.why}, so it scores 0")

    class Linear:  # the same line in a class, as the notebook's visible tests scan it
        def backward(self):
            _ = torch.autograd.grad  # to compare with later

    with pytest.raises(AssertionError) as visible:
        assert_allowed("Linear", Linear, "torch.autograd")
    where = re.compile(r" on line \d+ of [^)]*")
    assert where.sub("", str(visible.value)) == where.sub("", message)


def _linear_answer(nb, body: str) -> nbformat.NotebookNode:
    """hw2's notebook with ``body`` as the solution region of ``Linear``."""
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "Linear"]
    region = cell.source.rsplit("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
    cell.source = cell.source.replace(
        "### BEGIN SOLUTION" + region + "### END SOLUTION", "### BEGIN SOLUTION\n" + body
    )
    return nb


LINEAR_BY_AUTOGRAD = AUTOGRAD_BY_GETATTR.replace(
    'getattr(torch, "auto" + "grad")', "torch.autograd"
)


def _reference_linear() -> str:
    """The reference's solution region of ``Linear`` (up to its END SOLUTION line)."""
    (cell,) = [
        c for c in source("hw2").cells if c.metadata.get("nbgrader", {}).get("grade_id") == "Linear"
    ]
    region = cell.source.rsplit("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
    return region.lstrip("\n") + "### END SOLUTION"


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "no scan"])
@pytest.mark.parametrize("how", ["autograd.grad", "requires_grad_ only"])
def test_a_forbidden_use_costs_its_own_task_not_the_tasks_that_call_it(grade, scan, how):
    """``Linear.backward`` using autograd (its gradients by ``torch.autograd.grad``; or by hand,
    with a stray tensor that requires grad, which the probes' watch sees): Linear scores 0, and
    ``MLPRegressor``, which only calls it, keeps its points (checked again with the reference's
    Linear after Linear's own answer, run without the lockdown, proved right). With the scan off,
    the refusal (or the watch) at run time names the cell that made the call."""
    body = (
        LINEAR_BY_AUTOGRAD
        if how == "autograd.grad"
        else "        _ = grad_output.detach().clone().requires_grad_(True)\n" + _reference_linear()
    )
    result = grade(_linear_answer(source("hw2"), body), "hw2", scan=scan)
    assert points(result)["Linear"] == 0
    assert "autograd" in result.tasks["Linear"].message
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["Linear"], {n: result.tasks[n].message for n in lost}
    assert any(
        line.startswith("MLPRegressor: checked with the reference's Linear")
        for line in result.review
    ), result.review
    assert not any(line.startswith("MLPRegressor: uses") for line in result.review)


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "no scan"])
def test_a_wrong_answer_with_a_forbidden_call_buys_its_callers_nothing(grade, scan):
    """The same forbidden call around a *wrong* gradient (dW doubled): the reference is not put in
    its place, so ``MLPRegressor`` trains with the student's Linear and fails as it would have."""
    wrong = LINEAR_BY_AUTOGRAD.replace("self.dW.copy_(dW)", "self.dW.copy_(2 * dW)")
    assert wrong != LINEAR_BY_AUTOGRAD
    result = grade(_linear_answer(source("hw2"), wrong), "hw2", scan=scan)
    assert points(result)["Linear"] == 0
    assert points(result)["MLPRegressor"] == 0
    assert not any("checked with the reference's" in line for line in result.review)


FORGED_CELL = r"""
_source = (
    "def _peek():\n"
    "    import torch\n"
    "    t = torch.ones(2, requires_grad=True)\n"
    "    return torch.autograd.grad((t * t).sum(), t)\n"
)
_ns = {}
# compiled under the name IPython gave the Linear cell (7 cells above this one; the count has
# already moved on to the next cell while this one runs), to blame it
exec(compile(_source, f"<ipython-input-{get_ipython().execution_count - 8}-0>", "exec"), _ns)
_train = MLPRegressor.train


def _train_peeking(self, X, y):
    try:
        _ns["_peek"]()
    except Exception:
        pass
    return _train(self, X, y)


MLPRegressor.train = _train_peeking
"""


def test_blaming_another_cell_for_a_forbidden_use_costs_that_cell_and_buys_nothing(grade):
    """An attack on the attribution (the scan off, so that the sandbox alone decides): the answer
    to ``MLPRegressor`` uses autograd from code compiled under the name of the Linear cell. The
    grader believes the blame only as far as it costs the submission: Linear scores 0, and
    MLPRegressor, checked again with the reference's Linear, still uses autograd and still fails."""
    nb = copy.deepcopy(source("hw2"))
    (cell,) = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "MLPRegressor"
    ]
    cell.source += "\n" + FORGED_CELL
    result = grade(nb, "hw2", scan=False)
    lost = sorted(name for name, task in result.tasks.items() if not task.passed)
    assert lost == ["Linear", "MLPRegressor"], {n: result.tasks[n].message for n in lost}
    assert "when another task called it" in result.tasks["Linear"].message
    assert "autograd" in result.tasks["MLPRegressor"].message
