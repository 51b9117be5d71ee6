"""The lectures, released beside the homeworks, so that the homeworks' lecture links work for students.

    python -m autograder.release release      # writes release/lectures/ (what `make release` runs)
    python -m autograder.release release/ru lectures/ru   # the Russian edition's

A homework notebook in the repository links its lecture as ``../../lectures/NAME.ipynb`` (from
``assignments/<assignment>/`` to the repository's ``lectures/``). Students get neither the repository
nor that layout: they get what ``nbgrader release_assignment`` hands out, one folder per assignment,
side by side (``hw2_mlp_backprop/``, ``lectures/``, …). So the release does two things:

1. :func:`release_lectures` writes ``<release>/lectures/``: each lecture notebook without its
   ``checks`` cells (the asserts the test suite runs; see ``lectures/README.md``) and without outputs,
   with ``lecture_utils.py``, which the notebooks import, and the datasets it reads (``data/``).
   It is released like an assignment (``nbgrader release_assignment lectures``) and has nothing to
   grade.
2. :class:`LectureLinks`, the first step of ``nbgrader
   generate_assignment`` (configured in ``nbgrader_config.py`` and in every course's), rewrites the
   homeworks' links to ``../lectures/NAME.ipynb``: the sibling folder, in ``release/`` as in a
   student's home.

``tests/test_release.py`` releases everything and follows every relative link of every released
notebook to a file that is there.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from .build import REPO

__all__ = ["LECTURES", "LECTURES_FOLDER", "LectureLinks", "release_lectures", "release_links"]

LECTURES = REPO / "lectures"
LECTURES_FOLDER = "lectures"  # the released folder's name, a sibling of the homeworks'
HELPERS = ("lecture_utils.py",)  # the modules the lecture notebooks import
DATA = REPO / "data"  # the course's datasets: released in lectures/data/
CHECKS_TAG = "checks"  # the tag of a lecture's checks cells (lectures/render.py)

# a link into the repository's lectures/ from a homework folder (assignments/<hw>/, or
# assignments/<lang>/<hw>/ to lectures/<lang>/): in Markdown or in an HTML attribute
_REPO_LINK = re.compile(
    r"(\]\(\s*|href=[\"'])(?:\.\./\.\./|\.\./\.\./\.\./)lectures/(?:[a-z]{2}/)?"
)


def release_links(text: str) -> str:
    """``text`` with each link to ``../../lectures/…`` pointing at the released ``../lectures/…``."""
    return _REPO_LINK.sub(rf"\g<1>../{LECTURES_FOLDER}/", text)


class LectureLinks(NbGraderPreprocessor):
    """The first step of ``generate_assignment``: links to the repository's ``../../lectures/`` point
    at the lectures released beside the homework, ``../lectures/``."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = release_links(cell.source)
        return cell, resources


def release_lectures(release_dir: Path, lectures: Path = LECTURES) -> Path:
    """Write the student version of every lecture into ``release_dir/lectures/`` (replaced whole)
    and return that folder."""
    notebooks = sorted(lectures.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no lecture notebooks in {lectures}")
    target = Path(release_dir) / LECTURES_FOLDER
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if CHECKS_TAG not in c.get("metadata", {}).get("tags", [])]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, target / path.name)
    for name in HELPERS:
        shutil.copy2(lectures / name, target / name)
    (target / "data").mkdir()
    for path in sorted(DATA.glob("*.csv")):  # what lecture_utils.read_csv reads, beside it
        shutil.copy2(path, target / "data" / path.name)
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m autograder.release RELEASE_DIR [LECTURES_DIR]", file=sys.stderr)
        return 2
    lectures = Path(args[1]) if len(args) == 2 else LECTURES  # lectures/ru: the Russian edition
    print(f"released the lectures -> {release_lectures(Path(args[0]), lectures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
