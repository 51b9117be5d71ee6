"""The homework registry (``autograder/registry.py``): homeworks are found, not listed.

The four homeworks are found in ``autograder/homeworks/``; everything that deals with "all homeworks"
asks the registry. The proof that nothing else lists them: a fifth homework kept in a temporary folder
(one function, one check, one mutant), named by ``DLHW_HOMEWORKS`` and edited nowhere else, is built,
released with nbgrader and graded in the sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.build import REPO
from autograder.registry import UnknownHomework, find, homeworks
from autograder.sandbox import missing_protections

BIN = Path(sys.executable).parent


def test_the_four_homeworks_are_found_in_order_with_their_parts():
    found = homeworks()
    assert list(found) == ["hw1", "hw2", "hw3", "hw4"]
    for key, homework in found.items():
        assert homework.assignment.startswith(f"{key}_")
        assert homework.folder == REPO / "autograder" / "homeworks" / homework.assignment
        assert homework.spec.assignment == homework.assignment
        assert set(homework.checks) == set(homework.mutants) == set(homework.variants)
        assert set(vars(homework.reference)) == set(homework.checks)
        assert (REPO / "lectures" / f"{homework.lecture}.ipynb").is_file()
        assert homework.source_notebook.is_file()
        assert homework.sample_mutants and homework.attacked_cell in homework.checks


def test_a_homework_is_found_by_either_name_and_a_wrong_one_says_which_exist():
    assert find("hw3") is find("hw3_optimizers")
    with pytest.raises(UnknownHomework, match="no homework 'hw9'; the homeworks are hw1 "):
        find("hw9")


SPEC = '''
"""Homework 5, a small one: square a tensor."""

import torch

from autograder.cells import Markdown, Provided, Spec, Task

CHECKS = f"{__package__}.checks"
REFERENCES = (__name__,)
LECTURE = "01_linear_models_to_neural_networks"


def square(x: torch.Tensor) -> torch.Tensor:
    """x²: the square of every element, a new tensor of x's shape and dtype."""
    return x * x


SPEC = Spec(
    assignment="hw5_tiny_square",
    cells=[
        Markdown("# Homework 5: a square\\n\\n**Points: 1** = 1 autograded."),
        Provided("provided_code", "import torch"),
        Task("square", 1, (square,), 'assert float(square(torch.tensor(3.0))) == 9.0, "3² is 9"', CHECKS),
    ],
)
'''

PROBES = """
from autograder.probes import call, encode, tensor


def apply_square(fn, inputs):
    result, error = call(fn, tensor(inputs["x"]))
    return error or encode(result, "result")


PROBES = {"square": apply_square}
"""

CHECKS = """
import numpy as np

from autograder.checks import Catalogue, Check, compare, expect_tensor, first_problem, rng

from .probes import PROBES


def make_inputs(seed):
    return {"x": rng(5, seed).standard_normal((3, 2))}


def judge(inputs, outputs):
    problem = expect_tensor(outputs, "result", (3, 2))
    if problem is None:
        problem = compare(outputs["result"], inputs["x"] ** 2, "the result")
    return first_problem(problem)


CHECKS = Catalogue([Check("square", make_inputs, PROBES["square"], judge)])
verdict = CHECKS.verdict
"""

MUTANTS = """
def square_doubles(x):
    return 2 * x


MUTANTS = {"square": [square_doubles]}
"""

VARIANTS = """
def square_by_power(x):
    return x**2


VARIANTS = {"square": [square_by_power]}
"""

SAMPLES = """
from autograder.cells import Mutant

MUTANTS = [Mutant("mutant_doubles", "square", "return x * x", "return 2 * x", 1)]
ATTACKED_CELL = "square"
"""

# what runs with DLHW_HOMEWORKS set: build, release with nbgrader, grade in the sandbox
SCRIPT = """
import json, shutil, subprocess, sys
from pathlib import Path

import nbformat

from autograder import build, registry
from autograder.grade import grade_submission
from autograder.samples import mutant_notebook, samples
from autograder.sandbox import Limits, Sandbox

extra, course = Path(sys.argv[1]), Path(sys.argv[2])
homework = registry.find("hw5")
out = {"homeworks": list(registry.homeworks())}
build.write(homework.spec, extra)  # beside the spec: the homework's own folder
(course / "source").mkdir(parents=True)
shutil.copytree(homework.folder, course / "source" / homework.assignment,
                ignore=shutil.ignore_patterns("*.py", "__pycache__"))
(course / "nbgrader_config.py").write_text(
    "c = get_config()\\n"
    f"c.CourseDirectory.root = {str(course)!r}\\n"
    'c.CourseDirectory.course_id = "dl-homework"\\n'
)
done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_assignment",
                       homework.assignment], cwd=course, capture_output=True, text=True)
out["released"] = done.returncode == 0 and (
    course / "release" / homework.assignment / f"{homework.assignment}.ipynb").is_file()
released = nbformat.read(course / "release" / homework.assignment / f"{homework.assignment}.ipynb", 4)
out["release_has_answer"] = any("return x * x" in c.source for c in released.cells)
source = nbformat.read(homework.source_notebook, 4)
sandbox = Sandbox(uid=60013, limits=Limits(wall_seconds=120))
graded = {}
for name, nb in (("reference", source), ("blank", released),
                 ("mutant_doubles", mutant_notebook("hw5", homework.sample_mutants[0]))):
    path = course / f"{name}.ipynb"
    nbformat.write(nb, path)
    result = grade_submission(path, "hw5", sandbox, course / f"work-{name}", seeds=(0, 1))
    graded[name] = [result.score, result.max_score, result.tasks["square"].message]
out["graded"] = graded
out["samples"] = sorted(s.student for s in samples("hw5", released))[:3]
print("RESULT", json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_protections()), reason="; ".join(missing_protections()) or "ok")
def test_a_fifth_homework_from_a_folder_of_its_own_is_built_released_and_graded(tmp_path):
    extra = tmp_path / "extra"
    folder = extra / "hw5_tiny_square"
    folder.mkdir(parents=True)
    for name, text in (
        ("spec", SPEC),
        ("checks", CHECKS),
        ("probes", PROBES),
        ("mutants", MUTANTS),
        ("variants", VARIANTS),
        ("samples", SAMPLES),
    ):
        (folder / f"{name}.py").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    )
    env = {
        **os.environ,
        "DLHW_HOMEWORKS": str(extra),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }

    listed = subprocess.run(
        [sys.executable, "-m", "autograder.registry"], env=env, capture_output=True, text=True
    )
    assert listed.stdout.split()[-1] == "hw5_tiny_square", listed.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(extra), str(tmp_path / "course")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    out = json.loads(lines[0].removeprefix("RESULT "))
    assert out["homeworks"] == ["hw1", "hw2", "hw3", "hw4", "hw5"]
    assert out["released"] and not out["release_has_answer"]
    assert out["graded"]["reference"] == [1, 1, "ok"]
    score, most, message = out["graded"]["mutant_doubles"]
    assert (score, most) == (0, 1) and message.startswith("square: the result: max relative error")
    score, _, message = out["graded"]["blank"]
    assert score == 0 and "NotImplementedError" in message
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    )
    assert after.stdout == before.stdout  # nothing outside the temporary folder was written
    shutil.rmtree(extra)
