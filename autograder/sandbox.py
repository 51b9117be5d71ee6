"""The sandbox a submission runs in: bubblewrap, a user of its own, resource limits, a wall clock.

Without Docker (not available on these machines) the protections are put together from three tools:

- **bubblewrap** (``bwrap``, Debian package ``bubblewrap``), started as root, builds a private mount
  namespace whose root is an empty tmpfs. Into it go, read-only: ``/usr`` (and the ``/bin``, ``/lib``
  links), ``/etc``, the Python installation and the virtual environment, and the grader's own
  ``autograder/`` package (for the probes; never ``solutions/``, never the course folder). A private
  ``/tmp`` (a tmpfs capped in size) is the only scratch space, and one I/O folder of this submission
  is bound read-write at ``/io``. New PID, IPC, UTS and network namespaces: the submission sees no
  other process and has no network (only a loopback device that is down).
- **setpriv** (util-linux) then switches to an unprivileged uid of its own (one per worker, so two
  submissions graded at once do not share a uid), drops every capability and sets ``no_new_privs``.
- **resource limits** (``setrlimit``, inherited across ``exec``): address space, CPU seconds, file
  size, open files, processes (a fork bomb stops at the limit, and the limit counts this uid only).
  The **wall clock** is enforced from outside: past it the whole process group is killed; bubblewrap's
  ``--die-with-parent`` and the PID namespace take every descendant with it.

The address-space limit must leave room for PyTorch: the CUDA build maps about 3 GiB just to import,
and CUDA itself reserves far more virtual memory once a GPU is used, so on a GPU machine raise
``Limits.memory_bytes`` (or set it to 0: no limit) and bind the ``/dev/nvidia*`` devices
(``gpu=True``). :func:`missing_protections` names what this machine cannot provide; the grader
refuses to run unprotected unless told to.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Result", "Sandbox", "SandboxUnavailable", "missing_protections"]

GRADER_SOURCE = Path(__file__).resolve().parent  # the autograder package, mounted at /grader
MiB = 1024 * 1024
GiB = 1024 * MiB


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up here; the message names each missing protection."""


@dataclass(frozen=True)
class Limits:
    """Per submission. ``memory_bytes`` is address space (virtual memory), not resident memory."""

    wall_seconds: float = 300.0
    cpu_seconds: int = 600
    memory_bytes: int = 6 * GiB
    file_bytes: int = 64 * MiB
    tmp_bytes: int = 256 * MiB
    open_files: int = 256
    processes: int = 64


@dataclass(frozen=True)
class Result:
    returncode: int | None  # None when killed at the wall clock
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    stopped: str | None = None  # why the watchdog stopped it

    @property
    def signal(self) -> str | None:
        """The signal that ended the process (``SIGKILL``, …), if a signal did."""
        if self.returncode is not None and self.returncode < 0:
            return signal.Signals(-self.returncode).name
        return None


def missing_protections() -> list[str]:
    """What this machine lacks for the sandbox, one line each (empty: everything is there)."""
    missing = []
    if shutil.which("bwrap") is None:
        missing.append(
            "bubblewrap (bwrap) is not installed: no private file system, no network isolation "
            "(Debian/Ubuntu: apt-get install bubblewrap)"
        )
    if shutil.which("setpriv") is None:
        missing.append("setpriv (util-linux) is not installed: cannot switch to a sandbox user")
    if os.geteuid() != 0:
        missing.append(
            "not running as root: cannot give the submission a user of its own (run the grader "
            "as root, or in a container with its own user)"
        )
    return missing


def _python_roots() -> list[Path]:
    """The folders the interpreter needs: the installation it was built from and the venv."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    return sorted(roots)


class Sandbox:
    """Runs commands for one worker: ``Sandbox(uid=60001).run(io_dir, argv)``.

    ``unprotected=True`` runs them directly (resource limits and the wall clock only), for machines
    where :func:`missing_protections` is not empty; without it such a machine raises
    :class:`SandboxUnavailable`.
    """

    def __init__(
        self,
        uid: int = 60001,
        limits: Limits | None = None,
        *,
        unprotected: bool = False,
        gpu: bool = False,
    ):
        self.uid = uid
        self.limits = limits or Limits()
        self.unprotected = unprotected
        self.gpu = gpu
        if not unprotected:
            missing = missing_protections()
            if missing:
                raise SandboxUnavailable(
                    "the sandbox cannot be set up on this machine:\n  - "
                    + "\n  - ".join(missing)
                    + "\nInstall what is missing, or grade without these protections (a course "
                    "created with --unprotected) on a machine that holds nothing else of value."
                )

    # -- the command ---------------------------------------------------------------------------

    def _bwrap(self, io_dir: Path) -> list[str]:
        args = [
            "bwrap",
            *("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"),
            *("--unshare-cgroup-try", "--die-with-parent", "--new-session"),
            *("--tmpfs", "/"),
            *("--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"),
        ]
        for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            target = Path("/") / link
            if target.is_symlink():
                args += ["--symlink", os.readlink(target), str(target)]
            elif target.is_dir():
                args += ["--ro-bind", str(target), str(target)]
        # the private /tmp first: a venv that lives under /tmp (a CI checkout) is bound into it
        args += ["--size", str(self.limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
        made = {Path("/"), Path("/tmp")}
        for root in _python_roots():
            # bwrap makes missing parents 0700 (root only): make them 0755 first
            for parent in reversed(root.parents):
                if parent not in made:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += ["--ro-bind", str(root), str(root)]
        args += ["--perms", "0755", "--dir", "/grader"]
        args += ["--ro-bind", str(GRADER_SOURCE), "/grader/autograder"]
        args += ["--dev", "/dev", "--proc", "/proc"]
        if self.gpu:
            for device in sorted(Path("/dev").glob("nvidia*")):
                args += ["--dev-bind", str(device), str(device)]
        args += ["--bind", str(io_dir), "/io", "--chdir", "/io"]
        args += ["--clearenv"]
        for name, value in self._environment("/io", "/grader").items():
            args += ["--setenv", name, value]
        args += [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
        return args

    def _environment(self, home: str, grader: str) -> dict[str, str]:
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": "/tmp",
            "PYTHONPATH": grader,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp",
            "OMP_NUM_THREADS": "1",
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "") if self.gpu else "",
            "IO_DIR": home,
            "DLHW_SANDBOXED": "0" if self.unprotected else "1",
        }

    def command(self, io_dir: Path, argv: list[str]) -> list[str]:
        """The full command line for ``argv`` (its first word: ``python``, this interpreter)."""
        if argv and argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        if self.unprotected:
            return list(argv)
        return [*self._bwrap(Path(io_dir).resolve()), *argv]

    def _set_limits(self) -> None:  # runs in the child, between fork and exec
        limits = self.limits
        pairs = [
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ]
        if limits.memory_bytes:
            pairs.append((resource.RLIMIT_AS, limits.memory_bytes))
        if not self.unprotected:  # counted per uid: harmless for the sandbox's own uid only
            pairs.append((resource.RLIMIT_NPROC, limits.processes))
        for which, value in pairs:
            resource.setrlimit(which, (value, value))

    # -- running -------------------------------------------------------------------------------

    def run(
        self,
        io_dir: Path,
        argv: list[str],
        timeout: float | None = None,
        watchdog: Callable[[], str | None] | None = None,
    ) -> Result:
        """Run ``argv`` in the sandbox with ``io_dir`` as ``/io``; kill it all at the wall clock.

        ``watchdog()``, polled from outside while it runs, may return a reason to stop it early
        (e.g. one cell running past its own limit); the result's ``stopped`` says so.
        """
        io_dir = Path(io_dir)
        if not self.unprotected:
            os.chown(io_dir, self.uid, self.uid)
            for path in io_dir.rglob("*"):
                os.chown(path, self.uid, self.uid, follow_symlinks=False)
        timeout = self.limits.wall_seconds if timeout is None else timeout
        env = None
        if self.unprotected:
            env = {**os.environ, **self._environment(str(io_dir), str(GRADER_SOURCE.parent))}
        start = time.monotonic()
        # stdout and stderr go to files the child cannot grow past the file-size limit (a pipe
        # would let a submission that prints forever fill the grader's memory)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                self.command(io_dir, argv),
                cwd=io_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=self._set_limits,
            )
            deadline = start + timeout
            timed_out, stopped = False, None
            while process.poll() is None:
                if time.monotonic() > deadline:
                    timed_out = True
                elif watchdog is not None:
                    stopped = watchdog()
                if timed_out or stopped:
                    _kill_group(process)
                    break
                try:
                    process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
            process.wait()
            _kill_group(process)  # anything the submission left behind in its session
            if not self.unprotected:
                _kill_uid(self.uid)  # and anything that escaped the group: it is all this uid's
            return Result(
                returncode=None if timed_out or stopped else process.returncode,
                stdout=_tail(out),
                stderr=_tail(err),
                seconds=time.monotonic() - start,
                timed_out=timed_out,
                stopped=stopped,
            )


def _tail(file, size: int = 20000) -> str:
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - size))
    return file.read().decode("utf-8", errors="replace")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.kill()


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:  # gone already
                continue
            zombie = status.split("State:")[1].split()[0] == "Z"  # dead, waiting to be reaped
            if int(status.split("Uid:")[1].split()[1]) == uid and not zombie:  # effective uid
                pids.append(int(entry.name))
    return pids


def _kill_uid(uid: int, seconds: float = 10.0) -> None:
    """Kill every process of the sandbox's own ``uid`` and wait until none is left."""
    deadline = time.monotonic() + seconds
    while pids := _processes_of(uid):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of uid {uid} survive SIGKILL: {pids}")
        time.sleep(0.02)
