"""The instructor's command line (``python -m autograder``): bad input gets one line and exit status 2.

The commands' work is tested where it is done (test_batch, test_collect, test_report, test_grade); here,
that every kind of mistake an instructor can make at the prompt ends in a message, not a traceback.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from autograder.__main__ import main

REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_create_a_course_then_use_it(capsys, tmp_path):
    status, out, _ = run(capsys, "course", "create", str(tmp_path / "c"))
    assert status == 0 and "course created" in out
    assert (tmp_path / "c" / "nbgrader_config.py").is_file()
    assert (tmp_path / "c" / "source").resolve() == REPO / "assignments"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("grade", "{tmp}/nowhere", "hw1"), "is not a course folder"),
        (("course", "create", str(REPO / "build" / "c")), "inside the repository"),
        (("grade", "{course}", "hw9"), "no assignment 'hw9'; the assignments are hw1_linear"),
        (("collect", "{course}", "hw1", "{tmp}/missing.zip"), "missing.zip"),
        (("export", "{course}"), "no gradebook at"),
        (("report", "{course}"), "no gradebook at"),
    ],
    ids=["no course", "inside the repo", "unknown assignment", "no source", "export", "report"],
)
def test_mistakes_end_in_one_line_and_status_2(capsys, tmp_path, argv, message):
    run(capsys, "course", "create", str(tmp_path / "course"))
    argv = [a.format(tmp=tmp_path, course=tmp_path / "course") for a in argv]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_a_homework_name_stands_for_its_assignment(capsys, tmp_path):
    run(capsys, "course", "create", str(tmp_path / "course"))
    status, out, _ = run(capsys, "grade", str(tmp_path / "course"), "hw1")
    assert status == 0 and "hw1_linear_regression: graded 0" in out  # nothing submitted yet


def test_grading_without_the_sandbox_is_refused_with_the_reasons(capsys, tmp_path, monkeypatch):
    run(capsys, "course", "create", str(tmp_path / "course"))
    monkeypatch.setattr("shutil.which", lambda name: None)  # no bwrap, no setpriv
    status, _, err = run(capsys, "grade", str(tmp_path / "course"), "hw1")
    assert status == 2 and "the sandbox cannot be set up" in err
    assert "bubblewrap (bwrap) is not installed" in err and "--unprotected" in err
    assert "Traceback" not in err


def test_a_scheduler_that_cannot_be_reached_is_one_line(capsys, tmp_path, monkeypatch):
    run(capsys, "course", "create", str(tmp_path / "course"))
    folder = tmp_path / "course" / "submitted" / "ada" / "hw1_linear_regression"
    folder.mkdir(parents=True)
    notebook = REPO / "assignments" / "hw1_linear_regression" / "hw1_linear_regression.ipynb"
    (folder / notebook.name).write_bytes(notebook.read_bytes())  # one pending submission
    monkeypatch.setattr("autograder.batch.CONNECT_SECONDS", 1)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    course = str(tmp_path / "course")
    for url, message in (
        (address, f"error: cannot reach the Dask scheduler {address}: "),
        ("udp://host:8786", "error: udp://host:8786 is not a Dask scheduler address"),
    ):
        status, _, err = run(capsys, "grade", course, "hw1", "--scheduler", url)
        assert status == 2 and err.startswith(message)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    status, _, err = run(capsys, "grade", course, "hw1", "--scheduler", address, "--workers", "2")
    assert status == 2 and "not with --scheduler" in err
