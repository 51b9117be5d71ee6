"""Working links in the release: the lectures go out beside the homeworks, and every relative link of
every released notebook leads to a file that is there (autograder/release.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.build import REPO
from autograder.release import release_lectures, release_links

LINK = re.compile(r"\]\(\s*([^)\s]+)[^)]*\)|href=[\"']([^\"']+)[\"']")


def relative_links(notebook: Path) -> list[str]:
    """The relative links in the Markdown cells of ``notebook`` (no URL, no in-page anchor)."""
    links = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for match in LINK.finditer(cell.source):
            target = match[1] or match[2]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            links.append(target.split("#", 1)[0])
    return links


def dead_links(folder: Path) -> list[str]:
    dead = []
    for notebook in sorted(folder.rglob("*.ipynb")):
        for target in relative_links(notebook):
            if not (notebook.parent / target).resolve().is_file():
                dead.append(f"{notebook.relative_to(folder)} -> {target}")
    return dead


def test_release_links_rewrites_only_links_into_the_repositorys_lectures():
    text = (
        "[lecture 1](../../lectures/01.ipynb), <a href='../../lectures/02.ipynb'>2</a>, "
        "[data](../../data/x.csv), ../../lectures/ in prose"
    )
    assert release_links(text) == (
        "[lecture 1](../lectures/01.ipynb), <a href='../lectures/02.ipynb'>2</a>, "
        "[data](../../data/x.csv), ../../lectures/ in prose"
    )


def test_every_link_of_the_repositorys_notebooks_leads_to_a_file():
    assert dead_links(REPO / "assignments") == []
    assert dead_links(REPO / "lectures") == []


@pytest.mark.slow
def test_every_link_of_the_release_leads_to_a_file_beside_it(tmp_path):
    """A course released with the command line: the homeworks link their lectures (the test would
    find them dead without the rewrite), and the lectures folder holds what the notebooks import and
    no checks cell."""
    course = tmp_path / "course"
    python = [sys.executable, "-m", "autograder"]
    for args in (["course", "create", str(course), "--unprotected"], ["release", str(course)]):
        done = subprocess.run([*python, *args], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    release = course / "release"
    homeworks = [p for p in sorted(release.iterdir()) if p.name != "lectures"]
    assert len(homeworks) == 4
    for folder in homeworks:
        links = [t for nb in folder.glob("*.ipynb") for t in relative_links(nb)]
        assert any(t.startswith("../lectures/") for t in links), f"{folder.name} links no lecture"
        assert not any("../../lectures/" in t for t in links)
    assert dead_links(release) == []
    lectures = release / "lectures"
    assert (lectures / "lecture_utils.py").is_file()
    assert sorted(p.name for p in lectures.glob("*.ipynb")) == sorted(
        p.name for p in (REPO / "lectures").glob("*.ipynb")
    )
    read = subprocess.run(  # the released helpers find the released data, not the repository's
        [
            sys.executable,
            "-c",
            "import lecture_utils as lu; print(lu.DATA_DIR, len(lu.read_csv('diabetes')[1]))",
        ],
        cwd=lectures,
        capture_output=True,
        text=True,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == [str(lectures / "data"), "442"]
    for notebook in lectures.glob("*.ipynb"):
        for cell in nbformat.read(notebook, as_version=4).cells:
            assert "checks" not in cell.get("metadata", {}).get("tags", [])
            assert cell.cell_type != "code" or not cell.outputs


def test_release_lectures_replaces_an_old_release_and_refuses_an_empty_folder(tmp_path):
    old = tmp_path / "release" / "lectures"
    old.mkdir(parents=True)
    (old / "stale.ipynb").write_text("{}")
    folder = release_lectures(tmp_path / "release")
    assert not (folder / "stale.ipynb").exists()
    with pytest.raises(FileNotFoundError, match="no lecture notebooks"):
        release_lectures(tmp_path / "release", lectures=tmp_path / "empty")
