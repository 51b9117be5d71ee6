"""The warm sandbox's parent: imports torch once, then gives each run a fresh child made from it.

``python -m autograder.zygote FD`` runs inside bubblewrap (started by
:class:`autograder.warm.WarmSandbox`), as root of the sandbox's namespaces, with the mounts a cold
sandbox has plus ``/hostio`` (where the grader mounts each run's I/O folder) and ``/cg/<i>`` (the
uid's cgroups). It imports what every run needs (torch, numpy, IPython, matplotlib, the probes) and
then waits on the socket ``FD`` for one request per run. No student code ever runs in it.

For each request it forks a child that builds, from scratch, what a cold sandbox gives a run::

    zygote (root, single-threaded, holds the imports)
     └─ keeper (root): joins the run's cgroups; new mount, PID, IPC, network, UTS and cgroup
        │              namespaces;
        │              binds the run's I/O folder at /io (the grader's inputs read-only),
        │              a fresh capped tmpfs at /tmp; unmounts /hostio and /cg
        └─ init, PID 1 of the new namespace (root): a /proc of its own; waits for the run
           └─ run, PID 2: a new session, the sandbox's environment and resource limits,
                          the leased uid, no capabilities (bounding, ambient, inheritable sets
                          emptied), no_new_privs; then the command: ``python -c CODE`` and
                          ``python -m MODULE`` run in this warm interpreter, anything else is
                          exec'd

When the run ends, init ends, and the kernel kills whatever else is left in its PID namespace; the
run's memory, files in ``/tmp``, threads, patched modules, environment and System V objects die
with its namespaces. The next run is forked from the zygote again, which none of it touched.

Replies on the socket are JSON lines: ``{"ready": ...}`` once, then ``{"exit": CODE}`` per run, where
CODE is the run's exit status or 128 + N for a death by signal N (as bubblewrap reports it).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import socket
import sys
import traceback

from autograder.probe import (
    LOCKDOWN_FAILED as SETUP_FAILED,
)  # the grader's fault, not the student's

# -- Linux constants (x86_64 and aarch64 agree on these) ----------------------------------------------
CLONE_NEWNS, CLONE_NEWCGROUP = 0x00020000, 0x02000000
CLONE_NEWUTS, CLONE_NEWIPC = 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(RuntimeError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        try:
            why = os.strerror(ctypes.get_errno())
        except Exception:  # a locked-down parent: the lockdown refuses every ctypes event
            why = "failed"
        raise SetupError(f"{what}: {why}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def _detach(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]  # fmt: skip


def _empty_inheritable_set() -> None:
    """The inheritable set emptied; the effective and permitted sets kept (the parent needs them)."""
    header = _CapHeader(CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data), "capget")
    for half in data:
        half.inheritable = 0
    _check(_libc.capset(ctypes.byref(header), data), "capset")


NAMESPACES = (
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP
)
SYSCALLS = ("mount", "umount2", "unshare", "prctl", "capget", "capset")


def _prepare_privileges() -> None:
    """What no run may have, taken from the zygote itself, once, so that every child is born without
    it: the bounding and ambient sets emptied, the inheritable set too, ``no_new_privs`` set. The
    zygote keeps its effective capabilities (mounts, namespaces, the switch to the run's uid), and
    a run loses them when it becomes its uid. The foreign calls a locked-down parent still makes
    are resolved here, before any lockdown could refuse the lookup (the lockdown refuses
    ``dlsym``, not a call of a function resolved before it: each run drops them, see :func:`_run`)."""
    for capability in range(_last_capability() + 1):
        _prctl(PR_CAPBSET_DROP, capability)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _empty_inheritable_set()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    for name in SYSCALLS:
        getattr(_libc, name)


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            return int(file.read())
    except (OSError, ValueError):
        return 63


# -- the zygote ---------------------------------------------------------------------------------------


def _warm_up() -> None:
    """Import, once, what every run imports (its own copy of none of it survives a run)."""
    import IPython.core.interactiveshell  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401
    import torch  # noqa: F401

    import autograder.homeworks
    import autograder.probe

    for root in autograder.homeworks.__path__:  # every homework's probes the sandbox holds
        for name in sorted(os.listdir(root)):
            if os.path.isfile(os.path.join(root, name, "probes.py")):
                __import__(f"autograder.homeworks.{name}.probes")
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from autograder.probe import _shell

    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        _shell()  # the cells' shell, as the probe makes it (in-memory history: no thread)


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _kept_under_tmp() -> list[str]:
    """Mount points under /tmp that bubblewrap made (a virtual environment living under /tmp)."""
    points = []
    with open("/proc/self/mountinfo") as file:
        for line in file:
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith("/tmp/"):
                points.append(point)
    return points


def main(fd: int) -> int:
    channel = socket.socket(fileno=fd)
    _warm_up()
    _prepare_privileges()
    keep = _kept_under_tmp()
    import torch

    if torch.cuda.is_initialized():  # CUDA does not survive a fork: each run initialises its own
        raise SetupError("CUDA was initialised before the first fork")
    channel.send(json.dumps({"ready": os.getpid(), "threads": _threads()}).encode())
    _freeze_heap()
    return _serve(channel, keep, locked={})


def _freeze_heap() -> None:
    """Everything this parent holds now moved out of the garbage collector's reach (``gc.freeze``):
    a run's first full collection would otherwise walk every object torch and IPython made, and so
    write to (and copy) most of the heap it shares with this parent: ~130 ms per run. What the run
    itself makes is collected as usual."""
    import gc

    gc.collect()
    gc.freeze()


def _serve(channel: socket.socket, keep: list[str], locked: dict | None) -> int:
    """Answer requests until the other end closes: each run forked here, or (``locked`` given) by
    the locked-down parent of its homework's families, started on first use."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 2)
        except OSError:
            return 0
        if not message:  # the grader closed its end
            return 0
        request = json.loads(message)
        families = frozenset(request.get("lockdown", ()))
        if locked is not None and families:
            reply = _forward(locked, families, message, fds, keep, channel)
        else:
            reply = _fork_run(request, fds, keep, [channel])
        channel.send(json.dumps(reply).encode())


def _fork_run(request: dict, fds: list[int], keep: list[str], close: list[socket.socket]) -> dict:
    if _threads() != 1:  # forking a threaded process copies one thread and others' locks
        for descriptor in fds:
            os.close(descriptor)
        return {"exit": SETUP_FAILED, "error": "the warm sandbox's parent has threads"}
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            for sock in close:
                sock.close()
            _keeper(request, fds, keep)
        except BaseException:
            _report(fds[1])
        finally:
            os._exit(SETUP_FAILED)
    for descriptor in fds:
        os.close(descriptor)
    _, status = os.waitpid(pid, 0)
    return {"exit": _exit_code(status)}


def _report(descriptor: int) -> None:
    try:
        os.write(descriptor, traceback.format_exc().encode()[-2000:])
    except BaseException:
        pass


class _Locked:
    """A child of the zygote that locked down once what a homework forbids (the lockdown walks
    every object: seconds), and forks that homework's runs from then on."""

    def __init__(self, families: frozenset[str], keep: list[str], close: list[socket.socket]):
        self.socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            code = SETUP_FAILED
            try:
                for sock in (*close, self.socket):
                    sock.close()
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                import gc

                from autograder.lockdown import lock_down

                gc.unfreeze()  # the lockdown walks every object: gc.get_objects skips frozen ones
                lock_down(families)
                _freeze_heap()
                code = _serve(theirs, keep, locked=None)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        theirs.close()

    def stop(self) -> None:
        self.socket.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _forward(locked: dict, families, message: bytes, fds: list[int], keep, channel) -> dict:
    """Hand the request to the locked parent of ``families`` (started again if it died before)."""
    try:
        for _attempt in (1, 2):
            parent = locked.get(families)
            if parent is None:
                others = [channel, *(p.socket for p in locked.values())]
                parent = locked[families] = _Locked(families, keep, others)
            try:
                socket.send_fds(parent.socket, [message], fds)
            except OSError:  # it died before this run: start it again
                locked.pop(families).stop()
                continue
            try:
                reply = parent.socket.recv(1 << 16)
            except OSError:
                reply = b""
            if reply:
                return json.loads(reply)
            locked.pop(families).stop()  # it died during the run: the run died with it
            return {"exit": 128 + signal.SIGKILL, "error": "the locked parent died"}
        os.write(fds[1], b"the warm sandbox could not lock down this homework's parent\n")
        return {"exit": SETUP_FAILED}
    finally:
        for descriptor in fds:
            os.close(descriptor)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


# -- one run ---------------------------------------------------------------------------------------------


def _keeper(request: dict, fds: list[int], keep: list[str]) -> None:
    """Root, outside the run's namespaces: make them, mount the run's file system, start init."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for group in request["cgroups"]:  # all that follows is inside the run's memory and pids bounds
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(os.getpid()))
    _check(_libc.unshare(NAMESPACES), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("/hostio/run", "/io", None, MS_BIND | MS_REC)
    for name in request["read_only"]:
        _mount(None, f"/io/{name}", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    # a fresh /tmp; what bubblewrap bound under the old one (a venv in /tmp) is bound again
    _mount("/tmp", "/.oldtmp", None, MS_BIND | MS_REC)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={request['tmp_bytes']},mode=1777")
    for point in keep:
        os.makedirs(point, mode=0o755, exist_ok=True)
        _mount("/.oldtmp" + point.removeprefix("/tmp"), point, None, MS_BIND | MS_REC)
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if os.path.isdir("/dev/shm"):  # POSIX shared memory: the other place anyone may write
        _mount(
            "tmpfs",
            "/dev/shm",
            "tmpfs",
            MS_NOSUID | MS_NODEV,
            f"size={request['tmp_bytes']},mode=1777",
        )
    for point in ("/.oldtmp", "/hostio", *request["cgroup_mounts"]):
        _detach(point)
    pid = os.fork()
    if pid == 0:
        code = SETUP_FAILED
        try:
            _init(request, fds)
        except BaseException:
            os.write(fds[1], traceback.format_exc().encode()[-2000:])
        finally:
            os._exit(code)
    for descriptor in fds:
        os.close(descriptor)
    _, status = os.waitpid(pid, 0)
    os._exit(_exit_code(status))


def _init(request: dict, fds: list[int]) -> None:
    """PID 1 of the run's namespace: its own /proc, then the run; its end ends the namespace."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            _run(request, fds)
        except BaseException:
            os.write(2, traceback.format_exc().encode()[-2000:])
        os._exit(SETUP_FAILED)
    for descriptor in fds:
        os.close(descriptor)
    while True:  # reap whatever the run leaves to init, until the run itself ends
        try:
            done, status = os.wait()
        except ChildProcessError:
            os._exit(SETUP_FAILED)
        if done == pid:
            os._exit(_exit_code(status))


def _run(request: dict, fds: list[int]) -> None:
    """PID 2: the run itself, with nothing of root left."""
    os.setsid()
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.chdir("/io")
    os.environ.clear()
    os.environ.update(request["env"])
    for name, value in request["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    uid = int(request["uid"])  # bounding, ambient, inheritable: empty since the zygote's start
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to a uid: the effective and permitted sets go too
    _verify(uid)
    for name in SYSCALLS:  # the parent's resolved foreign functions: none is left to the run
        _libc.__dict__.pop(name, None)  # (prctl and capset could write anywhere in its memory)
    os._exit(_command(request["argv"]))


def _verify(uid: int) -> None:
    with open("/proc/self/status") as file:
        status = dict(line.split(":", 1) for line in file if ":" in line)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(status[key], 16):
            raise SetupError(f"{key} is not empty")
    if status["NoNewPrivs"].strip() != "1" or status["Uid"].split() != [str(uid)] * 4:
        raise SetupError("the run did not become its own unprivileged user")


def _command(argv: list[str]) -> int:
    """Run ``argv`` here: ``python -c CODE``, ``-m MODULE`` or ``SCRIPT`` in this interpreter,
    anything else exec'd."""
    code = 1
    try:
        if len(argv) >= 3 and argv[0] == "python" and argv[1] == "-c":
            sys.argv = ["-c", *argv[3:]]
            namespace = {"__name__": "__main__", "__builtins__": __builtins__}
            exec(compile(argv[2], "<string>", "exec"), namespace)
            code = 0
        elif len(argv) >= 3 and argv[0] == "python" and argv[1] == "-m":
            import runpy

            sys.argv = [argv[2], *argv[3:]]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
            code = 0
        elif len(argv) >= 2 and argv[0] == "python" and not argv[1].startswith("-"):
            import runpy

            sys.argv = argv[1:]
            runpy.run_path(argv[1], run_name="__main__")
            code = 0
        else:
            program = sys.executable if argv[0] == "python" else argv[0]
            os.execvp(program, [program, *argv[1:]])
    except SystemExit as exit_:
        code = _system_exit_code(exit_.code)
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        code = 1
    _finalize()
    return code


def _finalize() -> None:
    """What an interpreter does on its way out, in its order: wait for the threads that are not
    daemons, run the ``atexit`` functions, flush the standard streams (a run must end as a fresh
    interpreter would: what it does at exit is graded the same)."""
    import atexit
    import threading

    for step in (threading._shutdown, atexit._run_exitfuncs):
        try:
            step()
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _system_exit_code(value) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    try:
        print(value, file=sys.stderr)
    except BaseException:
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
