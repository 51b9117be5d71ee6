"""The instructor's command line (``python -m autograder``): bad input gets one line and exit status 2.

The commands' work is tested where it is done (test_batch, test_collect, test_report, test_grade); here,
that every kind of mistake an instructor can make at the prompt ends in a message, not a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
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


# ---------------------------------------------------------------------------------------------------
# One command line: every command's help, argparse's mistakes, the old entry points
# ---------------------------------------------------------------------------------------------------

# each command's positional arguments, as its --help must name and explain them
POSITIONALS = {
    ("course", "create"): ["DIR"],
    ("release",): ["DIR", "ASSIGNMENT"],
    ("collect",): ["DIR", "ASSIGNMENT", "SOURCE"],
    ("grade",): ["DIR", "ASSIGNMENT"],
    ("feedback",): ["DIR", "ASSIGNMENT"],
    ("export",): ["DIR"],
    ("review",): ["DIR", "ASSIGNMENT"],
    ("report",): ["DIR"],
    ("demo",): [],
}


def _section(text: str, title: str) -> list[str]:
    """The lines of one section of argparse's help ("positional arguments:", "options:", ...)."""
    lines = text.splitlines()
    if f"{title}:" not in lines:
        return []
    start = lines.index(f"{title}:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


@pytest.mark.parametrize("command", list(POSITIONALS), ids=" ".join)
def test_every_command_explains_its_arguments_and_ends_with_an_example(capsys, command):
    status, out, err = run(capsys, *command, "--help")
    assert status == 0 and err == ""
    assert out.startswith(f"usage: python -m autograder {' '.join(command)} ")
    described = {
        line.split()[0]: line.split(maxsplit=1)[1:]
        for line in _section(out, "positional arguments")
        if line.startswith("  ") and not line.startswith("   ")
    }
    assert list(described) == POSITIONALS[command]
    assert all(help_text for help_text in described.values())  # a description beside each
    example = out.rstrip().split("\nexample:\n")[1].splitlines()
    assert example and all(
        line.startswith(f"  python -m autograder {' '.join(command)}") for line in example
    )


def test_the_top_level_help_lists_the_commands_and_an_example(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    listed = [line.split()[0] for line in _section(out, "positional arguments")[1:]]
    assert listed == [
        *("course", "release", "collect", "grade", "feedback", "export", "review", "report"),
        "demo",
    ]
    assert "  python -m autograder grade ~/dl-course hw1\n" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("bogus",), "invalid choice: 'bogus'"),
        (("grade", "{course}"), "grade: the following arguments are required: ASSIGNMENT"),
        (("export", "{course}", "--format", "xls"), "argument --format: invalid choice: 'xls'"),
        (("grade", "{course}", "hw1", "--workers", "many"), "invalid int value: 'many'"),
        (("report", "{course}", "--colour"), "unrecognized arguments: --colour"),
    ],
    ids=["no command", "unknown command", "missing argument", "bad choice", "bad int", "unknown"],
)
def test_command_line_mistakes_are_one_line_and_status_2(capsys, tmp_path, argv, message):
    argv = [a.format(course=tmp_path / "course") for a in argv]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: python -m autograder") and message in err
    assert err.rstrip().endswith("--help)") and len(err.splitlines()) == 1  # no usage block


def test_feedback_before_anything_is_graded_is_one_line(capsys, tmp_path):
    run(capsys, "course", "create", str(tmp_path / "course"))
    status, _, err = run(capsys, "feedback", str(tmp_path / "course"), "hw1")
    assert status == 2
    assert err == (
        "error: no submission of hw1_linear_regression is graded yet: grade first "
        f"(python -m autograder grade {tmp_path / 'course'} hw1)\n"
    )


def test_report_out_must_have_an_existing_parent(capsys, tmp_path):
    run(capsys, "course", "create", str(tmp_path / "course"))
    status, _, err = run(capsys, "report", str(tmp_path / "course"), "--out", f"{tmp_path}/a/b")
    assert status == 2 and err.startswith(f"error: --out {tmp_path}/a/b: its parent folder")
    assert not (tmp_path / "a").exists()  # nothing created


def test_an_unexpected_failure_of_collect_is_one_line(capsys, tmp_path, monkeypatch):
    """A source the reader chokes on as a whole (here a planted RecursionError)."""
    run(capsys, "course", "create", str(tmp_path / "course"))

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("autograder.collect.collect", broken)
    (tmp_path / "src").mkdir()
    status, _, err = run(capsys, "collect", str(tmp_path / "course"), "hw1", str(tmp_path / "src"))
    assert status == 2
    assert err == (
        f"error: collecting {tmp_path / 'src'} failed "
        "(RecursionError: maximum recursion depth exceeded)\n"
    )


def test_collect_now_timestamps_with_the_current_time(capsys, tmp_path):
    run(capsys, "course", "create", str(tmp_path / "course"))
    src = tmp_path / "src"
    src.mkdir()
    notebook = REPO / "assignments" / "hw1_linear_regression" / "hw1_linear_regression.ipynb"
    (src / "ada.ipynb").write_bytes(notebook.read_bytes())
    os.utime(src / "ada.ipynb", (0, 0))  # a file dated 1970
    status, out, _ = run(capsys, "collect", str(tmp_path / "course"), "hw1", str(src), "--now")
    assert status == 0 and "ada" in out
    folder = tmp_path / "course" / "submitted" / "ada" / "hw1_linear_regression"
    stamp = (folder / "timestamp.txt").read_text()
    assert stamp.startswith(str(datetime.now(UTC).year)) and not stamp.startswith("1970")


@pytest.mark.parametrize(
    ("module", "command"),
    [("autograder.collect", "python -m autograder collect"), ("autograder.report", "report DIR")],
)
def test_the_old_entry_points_point_to_the_one_command_line(module, command):
    done = subprocess.run(
        [sys.executable, "-m", module, "x", "y", "z"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and command in done.stderr
    assert len(done.stderr.splitlines()) == 1
    import autograder.collect
    import autograder.report

    assert not hasattr(autograder.collect, "main") and not hasattr(autograder.report, "main")
