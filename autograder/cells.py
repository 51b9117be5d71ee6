"""The cells a notebook spec is made of (a homework's ``spec.py``; built by ``autograder.build``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Markdown:
    text: str


@dataclass(frozen=True)
class Code:
    """A plain code cell (experiments): not graded, not locked."""

    source: str


@dataclass(frozen=True)
class Provided:
    """Read-only code the student runs but does not write: a locked, ungraded cell."""

    grade_id: str
    source: str


@dataclass(frozen=True)
class Task:
    """An autograded task: an answer cell made of ``functions`` and a locked test cell.

    ``visible`` are the tests the student sees; the hidden block calls the grading module's check
    ``name`` from ``checks`` (e.g. ``autograder.checks.hw1``).
    """

    name: str
    points: int
    functions: tuple
    visible: str
    checks: str


@dataclass(frozen=True)
class Written:
    """A manually graded written answer: the prompt, then a markdown answer cell with ``points``."""

    grade_id: str
    points: int
    prompt: str
    answer: str


@dataclass(frozen=True)
class Spec:
    assignment: str
    cells: list
    data_files: tuple[str, ...] = field(default=())

    @property
    def points(self) -> tuple[int, int]:
        """(autograded, manually graded) points."""
        auto = sum(c.points for c in self.cells if isinstance(c, Task))
        manual = sum(c.points for c in self.cells if isinstance(c, Written))
        return auto, manual


@dataclass(frozen=True)
class Documented:
    """A reference function without a docstring, and the docstring the notebook gives it."""

    fn: object
    doc: str


@dataclass(frozen=True)
class Methods:
    """A reference class whose methods ``names`` the student writes (their bodies are the solution
    regions); the class line, its docstring and every other method are shown as they are."""

    cls: type
    names: tuple[str, ...]


class Mutant(NamedTuple):
    """One bug: in answer cell ``cell``, ``old`` (text of the reference answer) becomes ``new``."""

    student: str
    cell: str
    old: str
    new: str
    points: int
