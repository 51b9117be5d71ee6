"""Everything that comes out of the sandbox is hostile: attacks on the trusted side, through the grader.

Each attack is put into the answer of homework 1's ``mse`` (the function the probe calls), graded by
:func:`autograder.grade.grade_submission` with a real sandbox, with the intake scan on and off (off:
the attack runs, and only the sandbox and the trusted side hold). Every test shows the same things:
``mse`` scores 0 and is on the review list, every other task keeps its points, the grading ends
within its budget, and nothing outside the sandbox's folders changed. Needs bubblewrap and root.
"""

from __future__ import annotations

import ast
import io
import struct
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.grade import grade_submission
from autograder.hostile import WINDOW, _plain_header, load_npz, read_file, student_text
from autograder.sandbox import Limits, Sandbox, missing_protections
from tests.test_grade import points, prepend, source, with_answer

MISSING = missing_protections()
protected = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available")
SEEDS = (0, 1, 2)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sandbox():
    if MISSING:
        pytest.skip("; ".join(MISSING))
    with Sandbox(uid=60021, limits=Limits(wall_seconds=120)) as box:
        yield box


@pytest.fixture
def canary(tmp_path):
    """A host file the attacks aim at; it must be byte for byte the same afterwards."""
    path = tmp_path / "canary.npz"
    buffer = io.BytesIO()
    np.savez(buffer, result=np.zeros(1))
    path.write_bytes(buffer.getvalue())
    return path


def attack(body: str) -> str:
    """``body`` (indented for the function) run at the start of ``mse`` before the answer."""
    return body + "    ### BEGIN SOLUTION"


def grade_attack(sandbox, tmp_path, body: str, *, scan: bool, **kwargs):
    nb = with_answer(source("hw1"), "mse", "    ### BEGIN SOLUTION", attack(body))
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)
    start = time.monotonic()
    result = grade_submission(
        path, "hw1", sandbox, tmp_path / "work", seeds=SEEDS, scan=scan, **kwargs
    )
    return result, time.monotonic() - start


def assert_only_mse_lost(result) -> None:
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["mse"], {n: t.message for n, t in result.tasks.items() if not t.passed}
    assert points(result)["mse"] == 0
    assert any(line.startswith("mse") for line in result.review), result.review


# ---------------------------------------------------------------------------------------------------
# Files the sandbox leaves for the grader
# ---------------------------------------------------------------------------------------------------

SWAP_OUTPUTS_FOR_LINKS = """\
    import atexit, os
    def _swap():
        for seed in (0, 1, 2):
            path = f"/io/outputs/mse/{seed}.npz"
            try:
                os.unlink(path)
            except OSError:
                pass
            os.symlink("CANARY", path)
        for name in ("job.json", "inputs", "progress.tmp", "outputs/evil"):
            try:
                os.symlink("CANARY", "/io/" + name)
            except OSError:
                pass
    atexit.register(_swap)
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_a_symbolic_link_left_for_the_grader_is_never_followed(sandbox, tmp_path, canary, scan):
    before = canary.read_bytes()
    body = SWAP_OUTPUTS_FOR_LINKS.replace("CANARY", str(canary))
    result, _ = grade_attack(sandbox, tmp_path, body, scan=scan)
    assert_only_mse_lost(result)
    if not scan:
        assert "symbolic link" in " ".join(result.review)
    assert canary.read_bytes() == before


NPZ_BOMB = """\
    import atexit
    def _bomb():
        import struct, zipfile, zlib
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (268435456,), }"
        header += " " * (118 - len(header)) + "\\n"
        npy = b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(header)) + header.encode()
        for seed in (0, 1, 2):
            with zipfile.ZipFile(f"/io/outputs/mse/{seed}.npz", "w", zipfile.ZIP_DEFLATED) as z:
                with z.open("result.npy", "w", force_zip64=True) as member:
                    member.write(npy)
                    for _ in range(64):
                        member.write(bytes(1 << 20))
    atexit.register(_bomb)
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_an_npz_that_promises_gigabytes_is_refused_before_anything_is_decompressed(
    sandbox, tmp_path, scan
):
    result, seconds = grade_attack(sandbox, tmp_path, NPZ_BOMB, scan=scan)
    assert_only_mse_lost(result)
    assert "too large" in result.tasks["mse"].message or scan  # scan: flagged, never run
    assert seconds < 60


FIFO_LOG = """\
    import os
    os.unlink("/io/progress.log")
    os.mkfifo("/io/progress.log")
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_a_fifo_in_place_of_the_progress_log_cannot_hang_the_grader(sandbox, tmp_path, scan):
    result, seconds = grade_attack(sandbox, tmp_path, FIFO_LOG, scan=scan)
    assert points(result)["mse"] == 0  # the probe's log is gone: what it says is lost with it
    assert seconds < 60
    assert result.review


FILL_THE_IO_FOLDER = """\
    try:
        with open("/io/fill", "wb") as f:
            for _ in range(400):
                f.write(bytes(1 << 20))
    except OSError:
        return None
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_the_io_folder_cannot_grow_past_its_cap(sandbox, tmp_path, scan):
    result, _ = grade_attack(sandbox, tmp_path, FILL_THE_IO_FOLDER, scan=scan)
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["mse"]  # the probe clears what the task left: the others have room
    assert not (tmp_path / "work").exists() or not list((tmp_path / "work").rglob("fill"))


DEEP_TREE = """\
    import os
    here = os.getcwd()
    os.chdir("/io")
    try:
        for _ in range(1200):
            os.mkdir("d")
            os.chdir("d")
    except OSError:
        pass
    os.chdir(here)
    return None
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_a_folder_tree_deeper_than_python_recurses_is_cleaned_up(sandbox, tmp_path, scan):
    result, _ = grade_attack(sandbox, tmp_path, DEEP_TREE, scan=scan)
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["mse"]
    assert result.error is None


MEMORY_BOMB = """\
    import os, time
    for _ in range(12):
        if os.fork() == 0:
            block = bytearray(700 * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(60)
            os._exit(0)
    time.sleep(5)
    return None
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_many_processes_cannot_take_the_machines_memory(sandbox, tmp_path, scan):
    result, seconds = grade_attack(sandbox, tmp_path, MEMORY_BOMB, scan=scan, task_seconds=20)
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["mse"]
    assert seconds < 120


# ---------------------------------------------------------------------------------------------------
# The progress log and the clocks
# ---------------------------------------------------------------------------------------------------

FORGED_START_THEN_ABORT = """\
    import os
    with open("/io/progress.log", "a") as log:
        log.write("cell add_intercept start\\ncell provided_code start\\n")
    os._exit(1)
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_a_forged_progress_line_cannot_restart_the_grader_without_end(sandbox, tmp_path, scan):
    result, seconds = grade_attack(sandbox, tmp_path, FORGED_START_THEN_ABORT, scan=scan)
    assert_only_mse_lost(result)
    assert result.runs <= 3 and seconds < 90


TOUCH_THE_LOG_FOREVER = """\
import os, time
while True:  # at the top of the answer cell: only the outside clock can stop a cell
    os.utime("/io/progress.log")
    with open("/io/progress.log", "a") as log:
        log.write("")
    time.sleep(0.05)
"""


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_touching_the_progress_log_does_not_stop_the_cell_clock(sandbox, tmp_path, scan):
    nb = prepend(source("hw1"), "mse", TOUCH_THE_LOG_FOREVER)
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)
    start = time.monotonic()
    result = grade_submission(
        path, "hw1", sandbox, tmp_path / "work", seeds=SEEDS, scan=scan, cell_seconds=5
    )
    assert_only_mse_lost(result)
    assert "the 5 s limit of one cell" in result.tasks["mse"].message or scan
    assert time.monotonic() - start < 60


def test_the_progress_log_is_read_in_the_jobs_order_only():
    from autograder.grade import _parse_progress

    job = {
        "cells": [{"grade_id": "a"}, {"grade_id": "b"}],
        "tasks": [{"name": "b"}],
        "skip_cells": [],
    }
    honest = _parse_progress("cell a start\ncell a ok\ncell b start\n", job)
    assert honest.died_in == ("cell", "b") and not honest.tampered
    forged = _parse_progress("cell a start\ncell a start\n", job)  # a second start: tampering
    assert forged.tampered and forged.died_in == ("cell", "a")
    backwards = _parse_progress("cell a start\ncell a ok\ncell a start\n", job)
    assert backwards.tampered and backwards.died_in is None
    finished = _parse_progress(
        "cell a start\ncell a ok\ncell b start\ncell b ok\ntask b start\ntask b done\nend\n", job
    )
    assert finished.ended and finished.task_status == {"b": "done"}
    early_end = _parse_progress("cell a start\ncell a ok\nend\n", job)
    assert not early_end.ended and early_end.tampered
    # the probe's own measure of the student's compute: a statistic, bounded, never a grade
    done = "cell a start\ncell a ok\ncell b start\ncell b ok\ntask b start\ntask b done\n"
    assert _parse_progress(done + "end 1.250\n", job).compute_seconds == 1.25
    for forged in ("end nan\n", "end -3\n", "end 1e300\n", "end 1 2\n", "end " + "9" * 99 + "\n"):
        parsed = _parse_progress(done + forged, job)
        assert parsed.compute_seconds == 0.0 and parsed.task_status == {"b": "done"}


# ---------------------------------------------------------------------------------------------------
# Text: nothing of the hidden checks reaches a message
# ---------------------------------------------------------------------------------------------------


def _hidden_chunk() -> str:
    text = (REPO / "autograder" / "homeworks" / "hw1_linear_regression" / "checks.py").read_text()
    start = text.index("def _")
    return text[start : start + 600]


@protected
@pytest.mark.slow
@pytest.mark.parametrize("scan", [True, False])
def test_check_source_planted_in_an_exception_never_reaches_a_message(sandbox, tmp_path, scan):
    chunk = _hidden_chunk()
    body = f"    raise ValueError({chunk!r})\n"
    result, _ = grade_attack(sandbox, tmp_path, body, scan=scan)
    texts = [t.message for t in result.tasks.values()] + result.review
    squashed = " ".join(chunk.split())
    windows = {squashed[i : i + WINDOW] for i in range(0, len(squashed) - WINDOW)}
    for text in texts:
        assert not any(window in " ".join(text.split()) for window in windows), text
    assert points(result)["mse"] == 0


def test_student_text_is_one_bounded_line_and_withholds_quotations():
    assert student_text("a\nb\x00c\td", limit=50) == "a b c d"
    assert len(student_text("x" * 5000, limit=100)) == 100
    assert "withheld" in student_text(_hidden_chunk()[:200])
    honest = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (3x2 and 4x1)"
    assert student_text(honest) == honest


# ---------------------------------------------------------------------------------------------------
# The readers themselves
# ---------------------------------------------------------------------------------------------------


def test_read_file_refuses_links_fifos_folders_and_oversize(tmp_path):
    import os

    (tmp_path / "ok").write_bytes(b"12345")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f").write_bytes(b"x")
    os.symlink(tmp_path / "ok", tmp_path / "link")
    os.symlink(tmp_path / "sub", tmp_path / "linked_dir")
    os.mkfifo(tmp_path / "fifo")
    assert read_file(tmp_path, "ok", 10) == b"12345"
    assert read_file(tmp_path, "sub/f", 10) == b"x"
    assert "symbolic link" in read_file(tmp_path, "link", 10)
    assert "symbolic link" in read_file(tmp_path, "linked_dir/f", 10)
    assert "not a regular file" in read_file(tmp_path, "fifo", 10)  # and it did not block
    assert "limit" in read_file(tmp_path, "ok", 4)
    assert "missing" in read_file(tmp_path, "nothing", 4)
    assert "plain relative path" in read_file(tmp_path, "../etc/passwd", 4)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_load_npz_reads_numbers_and_text_and_refuses_the_rest():
    good = load_npz(_npz(a=np.arange(6.0).reshape(2, 3), t=np.array("ok"), b=np.array(True)))
    assert good["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and str(good["t"]) == "ok"
    fortran = load_npz(_npz(f=np.asfortranarray(np.arange(6).reshape(2, 3))))
    assert fortran["f"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert "not an .npz" in load_npz(b"garbage")
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("o.npy", buffer.getvalue())
    assert isinstance(load_npz(archive.getvalue()), str)  # object arrays: refused, never unpickled


NUMPY_SAVES = [
    np.zeros(()),
    np.arange(5.0),
    np.zeros((2, 3), dtype=np.float32),
    np.asfortranarray(np.zeros((2, 3))),
    np.array(["ab", "c"]),
    np.array([b"x"]),
    np.array([True, False]),
    np.zeros((0, 4), dtype=np.int64),
    np.zeros((1, 1, 1, 1), dtype=np.complex64),
    np.zeros(3, dtype=">i2"),
]


@pytest.mark.parametrize("array", NUMPY_SAVES, ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_the_fast_header_reading_agrees_with_the_literal_parser(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    raw = buffer.getvalue()
    text = raw[10 : 10 + struct.unpack("<H", raw[8:10])[0]].decode("latin1")
    assert _plain_header(text) == ast.literal_eval(text)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", False),  # structured
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1, }", False),  # extra key
        ("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", False),
        ("{'descr': 'O', 'fortran_order': False, 'shape': (2,), }", False),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", False),
        ("{'shape': (2,), 'descr': '<f8', 'fortran_order': False}", True),  # valid, another layout
    ],
)
def test_a_header_numpy_would_not_write_is_judged_as_before(text, accepted):
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + bytes(16)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x.npy", npy)
    loaded = load_npz(archive.getvalue())
    if accepted:
        assert loaded["x"].tolist() == [0.0, 0.0]
    else:
        assert isinstance(loaded, str)


def test_load_npz_checks_the_promised_size_before_decompressing():
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (268435456,), }"
    header += " " * (118 - len(header)) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(64)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy)
    start = time.monotonic()
    assert "too large" in load_npz(archive.getvalue())
    assert time.monotonic() - start < 1.0


# ---------------------------------------------------------------------------------------------------
# A run killed from outside is not the student's doing
# ---------------------------------------------------------------------------------------------------


def _in_cell(work: Path, cell: str) -> bool:
    """Whether a progress log under ``work`` says the cell ``cell`` has started (and not ended)."""
    for log in work.glob("work/io-*/progress.log"):
        try:
            lines = log.read_text().splitlines()
        except OSError:
            continue
        if lines and lines[-1] == f"cell {cell} start":
            return True
    return False


def _probe_pids(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"autograder.probe" in cmdline and f"Uid:\t{uid}\t" in status:
            pids.append(int(entry.name))
    return pids


@protected
@pytest.mark.slow
def test_a_run_killed_from_outside_is_run_again_and_charges_no_one(sandbox, tmp_path):
    import os
    import signal
    import threading

    nb = prepend(source("hw1"), "mse", "import time\ntime.sleep(4)")  # a slow, honest cell
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)
    killed = []

    def kill_once():  # an administrator's kill -9 of the probe, while the mse cell sleeps
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            pids = _probe_pids(sandbox.uid)
            if pids and _in_cell(tmp_path, "mse"):
                for pid in _probe_pids(sandbox.uid):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_once)
    killer.start()
    result = grade_submission(path, "hw1", sandbox, tmp_path / "work", seeds=SEEDS)
    killer.join()
    assert killed, "the probe was never seen running"
    assert result.score == result.max_score, {n: t.message for n, t in result.tasks.items()}
    assert result.runs == 2
    assert any("killed from outside" in line for line in result.review)


@protected
@pytest.mark.slow
def test_a_student_who_kills_itself_is_charged_after_one_more_run(sandbox, tmp_path):
    body = "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    result, _ = grade_attack(sandbox, tmp_path, body, scan=False)
    lost = [name for name, task in result.tasks.items() if not task.passed]
    assert lost == ["mse"] and "SIGKILL" in result.tasks["mse"].message
    assert result.runs == 3  # killed, run again, killed again: charged, then the rest
