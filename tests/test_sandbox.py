"""The sandbox (``autograder/sandbox.py``): each protection it claims, shown by a program that tries.

Every test runs a small Python program inside the sandbox and looks at what it could do. They need
bubblewrap and root (``.ci/run`` installs bubblewrap); where either is missing the protected tests
are skipped and :func:`missing_protections` is shown to say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from autograder.sandbox import (
    Limits,
    MiB,
    Sandbox,
    SandboxUnavailable,
    cgroups_available,
    missing_protections,
    uid_is_leased,
)

REPO = Path(__file__).resolve().parent.parent
MISSING = missing_protections()
protected = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available")
pytestmark = pytest.mark.slow


_MADE: list[tuple[Sandbox, Path]] = []
MAKE_SANDBOX = Sandbox  # tests/test_warm.py runs the same proofs in a warm sandbox's children


@pytest.fixture(autouse=True)
def _clean_io_folders():
    """Each test's I/O folder (a tmpfs mount when protected) is removed and its uid given back."""
    yield
    while _MADE:
        sandbox, io = _MADE.pop()
        sandbox.clean(io)
        sandbox.close()


def run(tmp_path: Path, code: str, limits: Limits | None = None, uid: int = 60001, **kwargs):
    """Run ``code`` as ``/io/program.py`` (bound read-only) in a sandbox; ``/io`` is ``tmp_path/io``."""
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(code))
    sandbox = MAKE_SANDBOX(uid=uid, limits=limits or Limits(wall_seconds=60), **kwargs)
    _MADE.append((sandbox, tmp_path / "io"))
    return sandbox.run(tmp_path / "io", ["python", "program.py"], read_only={"program.py": program})


def test_missing_protections_refuse_to_grade_unless_told(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailable) as info:
        Sandbox()
    assert "bubblewrap (bwrap) is not installed" in str(info.value)
    assert "--unprotected" in str(info.value)
    Sandbox(unprotected=True)  # told to: no error


@protected
def test_runs_as_its_own_user_without_capabilities(tmp_path):
    result = run(
        tmp_path,
        """
        import os
        status = open("/proc/self/status").read()
        print(os.getuid(), os.getgid(), os.getgroups(), status.split("CapEff:")[1].split()[0])
        """,
    )
    assert result.returncode == 0, result.stderr
    uid = str(result.uid)
    assert result.stdout.split() == [uid, uid, "[]", "0000000000000000"]


@protected
def test_sees_neither_the_course_nor_the_reference_nor_other_users_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden")
    result = run(
        tmp_path,
        f"""
        import os
        for path in {[str(REPO / "solutions"), str(REPO / "assignments"), str(secret)]!r}:
            print(path, os.path.exists(path))
        print(sorted(os.listdir("/root")) if os.path.isdir("/root") else [])
        try:
            import solutions
            print("solutions importable")
        except ImportError:
            print("no solutions")
        import autograder.homeworks.hw1_linear_regression.probes  # the probes' side is there
        print("probes importable")
        for name in ("autograder.checks", "autograder.homeworks.hw1_linear_regression.checks"):
            try:
                __import__(name)
                print(name, "importable")
            except ImportError:
                pass
        print(sorted(os.listdir("/grader/autograder")))
        """,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"{REPO / 'solutions'} False",
        f"{REPO / 'assignments'} False",
        f"{secret} False",
    ]
    # of root's home only the way to the Python installation, if that is where it lives
    python_under_root = {
        Path(p).relative_to("/root").parts[0]
        for p in (sys.base_prefix, sys.prefix)
        if Path(p).is_relative_to("/root")
    }
    assert lines[3] == str(sorted(python_under_root))
    assert lines[4:6] == ["no solutions", "probes importable"]
    from autograder.sandbox import sandbox_files

    top = sorted({Path(f).parts[0] for f in sandbox_files()})
    assert lines[6:] == [str(top)]  # exactly the probe's files: no checks, mutants or specs


@protected
def test_root_is_read_only_and_scratch_is_capped(tmp_path):
    result = run(
        tmp_path,
        """
        import errno
        for path in ("/usr/evil", "/etc/evil", "/grader/autograder/evil.py"):
            try:
                open(path, "w")
                print(path, "written")
            except OSError as err:
                print(path, errno.errorcode[err.errno])
        try:
            with open("/tmp/big", "wb") as f:
                for _ in range(64):
                    f.write(b"x" * 1024 * 1024)
            print("64 MiB written to /tmp")
        except OSError as err:
            print("/tmp", errno.errorcode[err.errno])
        """,
        limits=Limits(wall_seconds=60, tmp_bytes=16 * MiB, file_bytes=1024 * MiB),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/usr/evil EROFS",
        "/etc/evil EROFS",
        "/grader/autograder/evil.py EACCES",  # the grader's files: bound read-only, folder root's
        "/tmp ENOSPC",
    ]


@protected
def test_has_no_network(tmp_path):
    result = run(
        tmp_path,
        """
        import socket
        for address in (("10.0.0.1", 80), ("127.0.0.1", 22)):
            try:
                socket.create_connection(address, timeout=2)
                print("connected")
            except OSError as err:
                print(type(err).__name__)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "connected" not in result.stdout
    assert len(result.stdout.splitlines()) == 2


@protected
def test_a_fork_bomb_stops_at_the_process_limit(tmp_path):
    result = run(
        tmp_path,
        """
        import os
        children = 0
        try:
            for _ in range(1000):
                if os.fork() == 0:
                    import time
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as err:
            print("stopped after", children, type(err).__name__, flush=True)
        os._exit(0)
        """,
        limits=Limits(wall_seconds=60, processes=16),
    )
    words = result.stdout.split()
    assert words[:2] == ["stopped", "after"] and int(words[2]) < 16, result.stdout + result.stderr


@protected
def test_the_wall_clock_kills_everything_and_says_so(tmp_path):
    result = run(
        tmp_path,
        """
        import os, time
        if os.fork() == 0:
            time.sleep(600)
        print("started", flush=True)
        while True:
            pass
        """,
        limits=Limits(wall_seconds=3),
    )
    assert result.timed_out and result.returncode is None
    assert "started" in result.stdout
    assert 3 <= result.seconds < 30
    # nothing of it is left running under the sandbox's uid
    leftover = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) == result.uid]
    assert leftover == []


def _uid(proc: Path) -> int | None:
    try:
        status = (proc / "status").read_text()
    except OSError:
        return None
    return int(status.split("Uid:")[1].split()[0])


@protected
def test_memory_and_file_size_limits(tmp_path):
    assert_memory_and_file_size_limits(tmp_path, allocate_gib=2, memory_bytes=1024 * MiB)


def assert_memory_and_file_size_limits(tmp_path, allocate_gib: int, memory_bytes: int) -> None:
    """An allocation past the address-space limit fails, and so does a file past the size limit."""
    result = run(
        tmp_path,
        f"""
        try:
            block = bytearray({allocate_gib} * 1024**3)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            with open("/io/big", "wb") as f:
                f.write(b"x" * 8 * 1024 * 1024)
            print("written")
        except OSError as err:
            print("EFBIG" if err.errno == 27 else err)
        """,
        limits=Limits(wall_seconds=60, memory_bytes=memory_bytes, file_bytes=1 * MiB),
    )
    assert result.stdout.split() == ["MemoryError", "EFBIG"], result.stderr


@protected
def test_output_it_prints_is_capped_and_the_grader_keeps_its_memory(tmp_path):
    result = run(
        tmp_path,
        """
        import sys
        while True:
            sys.stdout.write("x" * 65536)
        """,
        limits=Limits(wall_seconds=30, file_bytes=4 * MiB),
    )
    # Python ignores SIGXFSZ, so the write fails instead of the process being killed
    assert "OSError: [Errno 27] File too large" in result.stderr
    assert len(result.stdout) <= 20000


@protected
def test_torch_imports_within_the_default_limits(tmp_path):
    result = run(tmp_path, "import torch; print(torch.ones(2).sum().item())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2.0"


def test_unprotected_mode_still_has_the_wall_clock(tmp_path):
    result = run(tmp_path, "while True: pass", limits=Limits(wall_seconds=2), unprotected=True)
    assert result.timed_out


@protected
def test_io_folder_is_given_to_the_sandbox_user(tmp_path):
    result = run(tmp_path, "open('/io/out.txt', 'w').write('ok')")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "io" / "out.txt").read_text() == "ok"
    assert os.stat(tmp_path / "io" / "out.txt").st_uid == result.uid


def test_the_private_tmp_is_mounted_before_anything_bound_under_tmp(tmp_path, monkeypatch):
    # a CI checkout (and its .venv) may live under /tmp: its bind must come after the tmpfs
    monkeypatch.setattr("autograder.sandbox._python_roots", lambda: [Path("/tmp/ci/repo/.venv")])
    args = Sandbox(uid=60001, unprotected=True)._bwrap(tmp_path)
    tmpfs = args.index("--tmpfs", args.index("--tmpfs") + 1)  # the second tmpfs: /tmp
    assert args[tmpfs + 1] == "/tmp"
    assert args.index("/tmp/ci/repo/.venv") > tmpfs


# ---------------------------------------------------------------------------------------------------
# Bounds on what a sandbox can take as a whole, and no two graders sharing one
# ---------------------------------------------------------------------------------------------------


@protected
def test_the_io_folder_is_capped_like_tmp(tmp_path):
    result = run(
        tmp_path,
        """
        import os
        written = 0
        try:
            for i in range(64):
                with open(f"/io/f{i}", "wb") as f:
                    f.write(b"x" * 1024 * 1024)
                written += 1
        except OSError as err:
            print("stopped", written, err.errno)
        """,
        limits=Limits(wall_seconds=60, io_bytes=8 * MiB),
    )
    words = result.stdout.split()
    assert words[0] == "stopped" and int(words[1]) <= 8 and words[2] == "28", (
        result.stderr
    )  # ENOSPC


@protected
def test_files_handed_in_read_only_cannot_be_changed_or_replaced(tmp_path):
    result = run(  # the program itself is handed in read-only, as the grader's job and inputs are
        tmp_path,
        """
        import os
        for attempt in (lambda: open("/io/program.py", "w"), lambda: os.unlink("/io/program.py"),
                        lambda: os.rename("/io/program.py", "/io/x")):
            try:
                attempt()
                print("changed")
            except OSError as err:
                print("refused")
        """,
    )
    assert result.stdout.split() == ["refused"] * 3, result.stderr


@protected
@pytest.mark.skipif(not cgroups_available(), reason="no writable memory cgroup on this machine")
def test_many_processes_cannot_take_more_memory_than_the_whole_sandbox_bound(tmp_path):
    limit = 768 * MiB
    result = run(
        tmp_path,
        """
        import os, time
        for _ in range(6):  # 6 × 400 MiB, each process well under its own address-space limit
            if os.fork() == 0:
                block = bytearray(400 * 1024 * 1024)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(30)
                os._exit(0)
        time.sleep(20)
        """,
        limits=Limits(wall_seconds=8, total_memory_bytes=limit),
    )
    assert result.memory_peak is not None
    assert result.memory_peak <= limit + 8 * MiB, result.memory_peak


@protected
def test_two_sandboxes_never_share_a_uid_and_a_lease_dies_with_its_holder(tmp_path):
    first = Sandbox(uid=60001)
    second = Sandbox(uid=60001)
    try:
        assert first.uid != second.uid
        assert uid_is_leased(first.uid) and uid_is_leased(second.uid)
    finally:
        first.close()
        second.close()
    assert not uid_is_leased(first.uid)
    # a holder killed with SIGKILL gives its lease back: the kernel drops the lock
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from autograder.sandbox import Sandbox; s = Sandbox(uid=60200); "
            "print(s.uid, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    uid = int(holder.stdout.readline())
    assert uid_is_leased(uid)
    holder.kill()
    holder.wait()
    assert not uid_is_leased(uid)


@protected
def test_one_grader_never_kills_another_graders_sandbox(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    outcome = {}

    def slow():
        outcome["slow"] = run(
            tmp_path / "a", "import time; time.sleep(4); print('finished')", uid=60001
        )

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(1.0)
    for _ in range(3):  # quick runs that end (and clean up) while the slow one is still running
        quick = run(tmp_path / "b", "print('quick')", uid=60001)
        assert quick.stdout.strip() == "quick"
        _MADE.pop()[0].clean(tmp_path / "b" / "io")
    thread.join()
    assert outcome["slow"].returncode == 0 and outcome["slow"].stdout.strip() == "finished"
    assert outcome["slow"].uid != quick.uid


@protected
def test_clean_removes_a_tree_deeper_than_python_can_recurse(tmp_path):
    result = run(
        tmp_path,
        """
        import os
        os.chdir("/io")
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        print("deep")
        """,
    )
    assert result.stdout.strip() == "deep", result.stderr
    sandbox, io = _MADE.pop()
    sandbox.clean(io)
    sandbox.close()
    assert not io.exists()
