"""The homework registry: one record per homework, found on disk, never listed by hand.

A homework is a folder named like its nbgrader assignment, ``autograder/homeworks/<assignment>/``
(``hw1_linear_regression``), holding everything particular to it:

============  ====================================================================================
``spec.py``   ``SPEC``, the notebook (``autograder.cells.Spec``); ``REFERENCES``, the modules of
              ``solutions/`` its answers come from; ``LECTURE``, the lecture notebook it builds on
``checks.py`` ``CHECKS``, the hidden checks' trusted side (``make_inputs``, ``judge``)
``probes.py`` ``PROBES``, their sandbox side (``apply``): the only file of the folder the sandbox holds
``mutants.py`` ``MUTANTS``, plausible wrong answers per task: every one must fail its task's check
``variants.py`` ``VARIANTS``, correct answers written differently: every one must pass
``samples.py`` ``MUTANTS``, the demo's buggy submissions (``autograder.samples.Mutant``), and
              ``ATTACKED_CELL``, the answer cell the demo's attacks go into
============  ====================================================================================

Its short name (``hw1``) is the assignment's name up to the first ``_``; the command line takes either.
Every part of the engine that deals with "all homeworks" (the build, the command line, the nbgrader
plugin, the sandbox's files, the lockdown, the demo, the tests) asks this module. A course can add
homeworks of its own without editing the repository: ``DLHW_HOMEWORKS=/path/a:/path/b`` names more
folders holding homework folders (see ``autograder/homeworks/__init__.py``).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace

from . import homeworks as _package
from .errors import UserError

__all__ = ["Homework", "UnknownHomework", "find", "homeworks"]

REPO = Path(__file__).resolve().parent.parent
PARTS = ("spec", "checks", "probes", "mutants", "variants", "samples")
_NAME = re.compile(r"^(hw\d+)_[a-z0-9_]+$")


class UnknownHomework(UserError):
    """A homework name that names none of the registered homeworks."""


@dataclass(frozen=True)
class Homework:
    """One homework: where its parts are, and what they say about it."""

    key: str  # "hw1"
    assignment: str  # "hw1_linear_regression": nbgrader's name, the folder's, assignments/<it>/
    folder: Path

    @property
    def package(self) -> str:
        return f"{_package.__name__}.{self.assignment}"

    def module_name(self, part: str) -> str:
        """``autograder.homeworks.<assignment>.<part>``, ``part`` one of :data:`PARTS`."""
        if part not in PARTS:
            raise ValueError(f"a homework has no part {part!r}; its parts are {', '.join(PARTS)}")
        return f"{self.package}.{part}"

    def module(self, part: str) -> ModuleType:
        """The homework's module ``part`` (one of :data:`PARTS`), imported on first use."""
        return importlib.import_module(self.module_name(part))

    @property
    def spec(self):
        return self.module("spec").SPEC

    @property
    def checks(self):
        """The ``Catalogue`` of the hidden checks (``checks.CHECKS``)."""
        return self.module("checks").CHECKS

    @property
    def source_notebook(self) -> Path:
        """The instructor's notebook that ``make notebooks`` writes: ``assignments/<assignment>/`` for
        the repository's homeworks; for one kept elsewhere, beside its spec (``python -m
        autograder.build --out`` the folder that holds it)."""
        beside = self.folder / f"{self.assignment}.ipynb"
        if beside.is_file():
            return beside
        return REPO / "assignments" / self.assignment / f"{self.assignment}.ipynb"

    def edition_notebook(self, lang: str = "en") -> Path:
        """The instructor's notebook of edition ``lang`` (``autograder.i18n``): the source notebook
        for English, ``assignments/<lang>/<assignment>/`` for another language."""
        if lang == "en":
            return self.source_notebook
        return REPO / "assignments" / lang / self.assignment / f"{self.assignment}.ipynb"

    @property
    def probes_file(self) -> Path:
        return self.folder / "probes.py"

    @property
    def mutants(self) -> dict[str, list]:
        return self.module("mutants").MUTANTS

    @property
    def variants(self) -> dict[str, list]:
        return self.module("variants").VARIANTS

    @property
    def reference(self) -> SimpleNamespace:
        """Each graded task's reference (function or class), from the spec's ``REFERENCES``."""
        modules = [importlib.import_module(name) for name in self.module("spec").REFERENCES]
        found = {}
        for name in self.checks:
            owners = [m for m in modules if hasattr(m, name)]
            if not owners:
                raise LookupError(f"{self.key}: no module of REFERENCES defines {name}")
            found[name] = getattr(owners[0], name)
        return SimpleNamespace(**found)

    @property
    def lecture(self) -> str:
        return self.module("spec").LECTURE

    @property
    def lockdown(self) -> frozenset[str]:
        """What the sandbox makes unusable before the first answer cell: the families
        (``autograder.lockdown.FAMILIES``) of every rule a check of this homework forbids."""
        return frozenset(
            rule.family for check in self.checks.values() for rule in check.forbid if rule.family
        )

    @property
    def sample_mutants(self) -> list:
        return list(self.module("samples").MUTANTS)

    @property
    def attacked_cell(self) -> str:
        return self.module("samples").ATTACKED_CELL


def _number(key: str) -> int:
    return int(key.removeprefix("hw"))


@cache
def homeworks() -> dict[str, Homework]:
    """Every homework by short name, in order (hw1, hw2, …, hw10): each folder with a ``spec.py``
    on ``autograder.homeworks``' path whose name reads ``hw<N>_<topic>``."""
    found: dict[str, Homework] = {}
    for root in _package.__path__:
        for folder in sorted(Path(root).iterdir()):
            match = _NAME.match(folder.name)
            if not match or not (folder / "spec.py").is_file():
                continue
            key = match.group(1)
            if key in found:
                raise UserError(f"two homeworks are named {key}: {found[key].folder} and {folder}")
            found[key] = Homework(key, folder.name, folder)
    return dict(sorted(found.items(), key=lambda item: _number(item[0])))


def find(name: str) -> Homework:
    """The homework called ``name``: its short name (``hw1``) or its assignment's
    (``hw1_linear_regression``)."""
    every = homeworks()
    if name in every:
        return every[name]
    for homework in every.values():
        if homework.assignment == name:
            return homework
    known = ", ".join(f"{h.key} ({h.assignment})" for h in every.values())
    raise UnknownHomework(f"no homework {name!r}; the homeworks are {known}")


if __name__ == "__main__":  # the assignments, one line (the Makefile's release loop reads it)
    print(" ".join(homework.assignment for homework in homeworks().values()))
