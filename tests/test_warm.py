"""The warm sandbox (``autograder/warm.py``, ``autograder/zygote.py``): each run, a child forked from a
parent that imported torch once, holds what a cold sandbox holds, and leaves nothing for the next run.

The cold sandbox's proofs (``tests/test_sandbox.py``) run here again, in the children of warm
sandboxes; then each thing one run could leave for the next (a patched ``torch.matmul``, a file in
``/tmp`` or ``/dev/shm``, a thread, a process, an environment variable, a module) is left, and the next
run looks for it.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import GiB, Limits, Sandbox, _processes_of, missing_protections
from autograder.warm import WarmSandbox
from tests import test_sandbox as cold

MISSING = missing_protections()
protected = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING) or "sandbox available")
pytestmark = pytest.mark.slow


class _Pooled(WarmSandbox):
    """A warm sandbox the tests share (its zygote starts once): ``close`` waits for the module's end."""

    busy = False

    def run(self, *args, **kwargs):
        try:
            return super().run(*args, **kwargs)
        finally:
            self.busy = False

    def close(self) -> None:
        pass

    def really_close(self) -> None:
        WarmSandbox.close(self)


_POOL: list[_Pooled] = []


def _make(uid: int = 60001, limits: Limits | None = None, **kwargs) -> Sandbox:
    if kwargs:  # unprotected: there is no warm sandbox without the protections
        return Sandbox(uid=uid, limits=limits, **kwargs)
    sandbox = next((s for s in _POOL if not s.busy), None)
    if sandbox is None:  # two runs at once (two graders): two warm sandboxes, two uids
        sandbox = _Pooled(uid=uid)
        _POOL.append(sandbox)
    sandbox.busy = True
    sandbox.limits = limits or Limits(wall_seconds=60)
    return sandbox


@pytest.fixture(autouse=True, scope="module")
def _pool():
    yield
    while _POOL:
        _POOL.pop().really_close()


@pytest.fixture(autouse=True)
def warm(monkeypatch):
    monkeypatch.setattr(cold, "MAKE_SANDBOX", _make)


@pytest.fixture(autouse=True)
def _clean_io_folders():
    yield
    while cold._MADE:
        sandbox, io = cold._MADE.pop()
        sandbox.clean(io)
        sandbox.close()


# -- the cold sandbox's proofs, in warm children ------------------------------------------------------

test_runs_as_its_own_user_without_capabilities = cold.test_runs_as_its_own_user_without_capabilities
test_sees_neither_the_course_nor_the_reference_nor_other_users_files = (
    cold.test_sees_neither_the_course_nor_the_reference_nor_other_users_files
)
test_root_is_read_only_and_scratch_is_capped = cold.test_root_is_read_only_and_scratch_is_capped
test_has_no_network = cold.test_has_no_network
test_a_fork_bomb_stops_at_the_process_limit = cold.test_a_fork_bomb_stops_at_the_process_limit
test_the_wall_clock_kills_everything_and_says_so = (
    cold.test_the_wall_clock_kills_everything_and_says_so
)
test_output_it_prints_is_capped_and_the_grader_keeps_its_memory = (
    cold.test_output_it_prints_is_capped_and_the_grader_keeps_its_memory
)
test_torch_imports_within_the_default_limits = cold.test_torch_imports_within_the_default_limits
test_io_folder_is_given_to_the_sandbox_user = cold.test_io_folder_is_given_to_the_sandbox_user
test_the_io_folder_is_capped_like_tmp = cold.test_the_io_folder_is_capped_like_tmp
test_files_handed_in_read_only_cannot_be_changed_or_replaced = (
    cold.test_files_handed_in_read_only_cannot_be_changed_or_replaced
)
test_many_processes_cannot_take_more_memory_than_the_whole_sandbox_bound = (
    cold.test_many_processes_cannot_take_more_memory_than_the_whole_sandbox_bound
)


@protected
def test_one_grader_never_kills_another_graders_sandbox(tmp_path):
    while len(_POOL) < 2:  # both warm already: the quick runs all end while the slow one runs
        _POOL.append(_Pooled(uid=60001))
    for sandbox in _POOL:
        sandbox.start()
    cold.test_one_grader_never_kills_another_graders_sandbox(tmp_path)


@protected
def test_memory_and_file_size_limits(tmp_path):
    # the address space includes what the parent mapped for torch (as a cold run that imports
    # torch does), so the limit here is the default one, and the allocation larger than it
    cold.assert_memory_and_file_size_limits(tmp_path, allocate_gib=8, memory_bytes=6 * GiB)


# -- nothing of one run is there for the next ---------------------------------------------------------


@pytest.fixture
def one_sandbox(tmp_path):
    sandbox = _make(uid=60001)
    runs = iter(range(1000))

    def run(code: str) -> str:
        io = tmp_path / f"io-{next(runs)}"
        sandbox.busy = True
        result = sandbox.run(io, ["python", "-c", textwrap.dedent(code)])
        sandbox.clean(io)
        assert result.returncode == 0, result.stderr
        return result.stdout

    yield run, sandbox
    sandbox.busy = False


@protected
def test_runs_are_children_of_one_warm_parent_and_start_fast(one_sandbox):
    run, sandbox = one_sandbox
    first = run("import sys; print('torch' in sys.modules, 'IPython' in sys.modules)")
    assert first.split() == ["True", "True"]  # imported before the run began
    groups = run("print(open('/proc/self/cgroup').read())").split()
    assert groups and all(line.endswith(":/") for line in groups)  # a cgroup namespace of its own
    starts = sandbox.starts
    for _ in range(3):
        run("print('again')")
    assert sandbox.starts == starts  # one zygote for all of them


@protected
def test_a_patch_to_torch_is_gone_in_the_next_run(one_sandbox):
    run, _ = one_sandbox
    run(
        """
        import torch, numpy
        torch.matmul = lambda *a, **k: "patched"
        torch.Tensor.__add__ = lambda *a: "patched"
        numpy.dot = lambda *a: "patched"
        """
    )
    after = run(
        """
        import torch, numpy
        a = torch.ones(2, 2)
        print(torch.matmul(a, a).sum().item(), (a + a).sum().item(), numpy.dot([1, 2], [3, 4]))
        """
    )
    assert after.split() == ["8.0", "8.0", "11"]


@protected
def test_files_threads_processes_environment_and_modules_are_gone_in_the_next_run(one_sandbox):
    run, sandbox = one_sandbox
    run(
        """
        import os, sys, threading, time, types
        open("/tmp/left", "w").write("x")
        open("/dev/shm/left", "w").write("x")
        os.environ["LEFT"] = "1"
        sys.modules["left_module"] = types.ModuleType("left_module")
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
        if os.fork() == 0:  # a daemon: its own session, its parent gone
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        """
    )
    assert _processes_of(sandbox.uid) == []  # nothing of the run outlives it
    after = run(
        """
        import os, sys, threading
        print(os.path.exists("/tmp/left"), os.path.exists("/dev/shm/left"))
        print("LEFT" in os.environ, "left_module" in sys.modules)
        print(threading.active_count(), len(os.listdir("/proc/self/task")))
        print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        """
    )
    assert after.splitlines() == ["False False", "False False", "1 1", "[1, 2]"]


@protected
def test_nothing_written_anywhere_is_there_for_the_next_run(one_sandbox):
    # the class, not the examples: every folder the run can write in gets a file
    run, _ = one_sandbox
    written = run(
        """
        import os
        for root, folders, _ in os.walk("/"):
            if root.startswith(("/proc", "/sys")) or os.statvfs(root).f_flag & os.ST_RDONLY:
                folders[:] = []
                continue
            if os.access(root, os.W_OK):
                try:
                    path = os.path.join(root, "left-by-the-last-run")
                    open(path, "w").write("x")
                    print(path)
                except OSError:
                    pass
        """
    ).split()
    assert "/io/left-by-the-last-run" in written and "/tmp/left-by-the-last-run" in written
    found = run(f"import os; print([p for p in {written!r} if os.path.exists(p)])")
    assert found.strip() == "[]"


@protected
def test_the_parent_is_started_again_when_it_dies(one_sandbox):
    run, sandbox = one_sandbox
    run("print(1)")
    starts = sandbox.starts
    os.kill(sandbox._zygote.pid, 9)
    sandbox._zygote.wait()
    assert run("print(2)").strip() == "2"
    assert sandbox.starts == starts + 1


@protected
def test_grading_in_a_warm_sandbox_gives_the_cold_grade(tmp_path):
    from autograder.grade import grade_submission
    from autograder.samples import MUTANTS, _source, mutant_notebook

    warm = _make(uid=60001, limits=Limits(wall_seconds=120))
    with Sandbox(uid=60002, limits=Limits(wall_seconds=120)) as cold_sandbox:
        for homework in ("hw1", "hw2"):
            for nb in (_source(homework), mutant_notebook(homework, MUTANTS[homework][0])):
                warm.busy = True
                hot = grade_submission(nb, homework, warm, tmp_path / "w")
                ice = grade_submission(nb, homework, cold_sandbox, tmp_path / "c")
                assert {n: (t.points, t.message) for n, t in hot.tasks.items()} == {
                    n: (t.points, t.message) for n, t in ice.tasks.items()
                }
                assert hot.review == ice.review
    warm.busy = False
    assert Path(tmp_path).exists()


@protected
def test_a_locked_run_keeps_the_lockdown_and_its_parents_calls_are_no_way_out(tmp_path):
    # homework 2's runs are forked from a parent that locked autograd down once and then, per run,
    # makes namespaces and mounts through ctypes: the run finds none of those functions
    sandbox = _make(uid=60001)
    code = """
        import ctypes, errno, sys
        import torch
        frame = sys._getframe()  # up the stack to the warm parent's module, its libc calls in it
        while "_libc" not in frame.f_globals:
            frame = frame.f_back
        zygote = frame.f_globals
        libc = zygote["_libc"]

        def attempt(what, call):
            try:
                result = call()
                print(what, "returned", result, errno.errorcode.get(ctypes.get_errno(), "-"))
            except Exception as err:
                print(what, "refused", type(err).__name__)

        attempt("unshare", lambda: libc.unshare(zygote["NAMESPACES"]))
        attempt("unshare-user", lambda: libc.unshare(0x10000000))
        attempt("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
        attempt("umount", lambda: libc.umount2(b"/io", 2))
        attempt("prctl-get-name", lambda: libc.prctl(16, ctypes.create_string_buffer(16), 0, 0, 0))
        attempt("capset", lambda: libc.capset(0, 0))
        attempt("dlopen", lambda: ctypes.CDLL(None))
        x = torch.ones(2, requires_grad=True)
        attempt("autograd", lambda: torch.autograd.grad((x * x).sum(), x))
    """
    io = tmp_path / "io"
    result = sandbox.run(io, ["python", "-c", textwrap.dedent(code)], locked={"autograd"})
    sandbox.clean(io)
    sandbox.busy = False
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    for what, outcome in lines.items():  # the parent's functions are gone, a new lookup refused
        assert outcome.startswith("refused"), (what, outcome)
    assert len(lines) == 8


@protected
def test_an_unlocked_run_has_no_privilege_to_use_the_parents_calls_with(tmp_path):
    sandbox = _make(uid=60001)
    code = """
        import ctypes, errno, sys
        frame = sys._getframe()
        while "_libc" not in frame.f_globals:
            frame = frame.f_back
        libc = frame.f_globals["_libc"]
        print(sorted(name for name in vars(libc) if not name.startswith("_")))
        for call in (lambda: libc.unshare(0x20000), lambda: libc.mount(b"x", b"/tmp", b"tmpfs", 0, None)):
            print(call(), errno.errorcode[ctypes.get_errno()])
    """
    io = tmp_path / "io"
    result = sandbox.run(io, ["python", "-c", textwrap.dedent(code)])
    sandbox.clean(io)
    sandbox.busy = False
    assert result.stdout.splitlines() == ["[]", "-1 EPERM", "-1 EPERM"], result.stderr


@protected
def test_every_sample_attack_gets_the_cold_grade_in_a_warm_locked_run(tmp_path):
    from autograder.grade import grade_submission
    from autograder.samples import ATTACKS, attack_notebook

    warm = _make(uid=60001, limits=Limits(wall_seconds=60))
    with Sandbox(uid=60002, limits=Limits(wall_seconds=60)) as cold_sandbox:
        for attack in ATTACKS:
            nb = attack_notebook("hw2", attack)
            warm.busy = True
            hot = grade_submission(nb, "hw2", warm, tmp_path / "w", scan=False)
            ice = grade_submission(nb, "hw2", cold_sandbox, tmp_path / "c", scan=False)
            assert {n: t.points for n, t in hot.tasks.items()} == {
                n: t.points for n, t in ice.tasks.items()
            }, attack
    warm.busy = False


@protected
def test_the_mount_table_is_left_as_it_was(tmp_path):
    # the I/O folders reach the parent by mount propagation: nothing may pile up, however many runs
    # and however many times a warm sandbox starts and stops
    uids: set[int] = set()

    def ours() -> list[str]:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
        marks = [str(tmp_path), *(f"/warm-{uid} " for uid in uids)]
        return [line for line in lines if any(mark in line for mark in marks)]

    assert ours() == []
    for cycle in range(3):
        with WarmSandbox(uid=60150) as sandbox:
            uids.add(sandbox.uid)
            for run in range(2):
                io = tmp_path / f"io-{cycle}-{run}"
                result = sandbox.run(
                    io, ["python", "-c", "print(1)"], read_only={"job.json": Path("/etc/hostname")}
                )
                assert result.returncode == 0, result.stderr
                sandbox.clean(io)
                assert len(ours()) == 1  # the sandbox's shared area, and nothing of the run
    assert ours() == []
