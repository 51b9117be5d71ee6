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

What comes out is bounded too, and nothing outside is shared between two graders:

- **A uid is leased, machine-wide.** ``Sandbox(uid=N)`` takes an exclusive ``flock`` on
  ``/run/dlhw/uid-N.lock`` (or the next free uid of the pool) for as long as it lives; the kernel drops
  the lock when its holder dies, however it dies. Two graders on one machine (two TAs, two
  assignments) therefore never share a sandbox user, and nothing here kills a process it did not start.
- **The whole sandbox has one memory bound**, not only each process: every run is put in a cgroup of
  its own (cgroup v2, or v1's ``memory`` and ``pids`` hierarchies) with ``Limits.total_memory_bytes``
  and ``Limits.processes``; the kernel's OOM killer acts inside it and its processes are killed
  through it. Without cgroups the bound is ``processes × memory_bytes`` per uid (named by
  :func:`missing_protections`).
- **The I/O folder is a tmpfs of its own**, capped at ``Limits.io_bytes``, mounted by the grader on
  the folder it passes and bound at ``/io``; files the grader hands in (the job, the inputs) are bound
  read-only inside it, so the grader never writes into a folder the sandbox can write. The mount is
  removed with :meth:`Sandbox.clean` (and a dead grader's mounts by the next holder of the lease).
"""

from __future__ import annotations

import fcntl
import importlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

__all__ = ["Limits", "Result", "Sandbox", "SandboxUnavailable", "missing_protections"]

GRADER_SOURCE = Path(__file__).resolve().parent  # the autograder package, mounted at /grader
MiB = 1024 * 1024
GiB = 1024 * MiB
FIRST_UID = 60001  # the pool of sandbox users: FIRST_UID … FIRST_UID + POOL − 1
POOL = 256
LEASES = Path(os.environ.get("DLHW_LEASE_DIR", "/run/dlhw"))


class SandboxUnavailable(UserError, RuntimeError):
    """The sandbox cannot be set up here; the message names each missing protection."""


@dataclass(frozen=True)
class Limits:
    """Per submission. ``memory_bytes`` is address space (virtual memory), not resident memory."""

    wall_seconds: float = 300.0
    cpu_seconds: int = 600
    memory_bytes: int = 6 * GiB  # address space of each process
    total_memory_bytes: int = (
        4 * GiB
    )  # resident memory of the whole sandbox (cgroup), tmpfs included
    file_bytes: int = 64 * MiB
    tmp_bytes: int = 256 * MiB
    io_bytes: int = 64 * MiB  # the I/O folder
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
    memory_peak: int | None = None  # the cgroup's peak resident memory, where the kernel says
    uid: int | None = None  # the (leased) uid it ran as; None unprotected
    oom_killed: bool = False  # the kernel's OOM killer acted in the run's cgroup

    @property
    def signal(self) -> str | None:
        """The signal that ended the process (``SIGKILL``, …), if a signal did. Under bubblewrap
        the sandboxed process's death by signal N reaches us as bwrap's exit status 128 + N."""
        code = self.returncode
        if code is not None and code < 0:
            return signal.Signals(-code).name
        if self.uid is not None and code is not None and 128 < code < 128 + signal.NSIG:
            try:
                return signal.Signals(code - 128).name
            except ValueError:
                return None
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

    The uid is leased for the sandbox's lifetime (the requested one if free, else the next free one of
    the pool; ``sandbox.uid`` says which); :meth:`close` (or the end of a ``with`` block, or the
    grader's death) gives it back. ``unprotected=True`` runs commands directly (resource limits and
    the wall clock only), for machines where :func:`missing_protections` is not empty; without it
    such a machine raises :class:`SandboxUnavailable`.
    """

    def __init__(
        self,
        uid: int = FIRST_UID,
        limits: Limits | None = None,
        *,
        unprotected: bool = False,
        gpu: bool = False,
    ):
        self.uid = uid
        self.limits = limits or Limits()
        self.unprotected = unprotected
        self.gpu = gpu
        self._lease: int | None = None
        self._cgroups: list[Path] = []
        if not unprotected:
            missing = missing_protections()
            if missing:
                raise SandboxUnavailable(
                    "the sandbox cannot be set up on this machine:\n  - "
                    + "\n  - ".join(missing)
                    + "\nInstall what is missing, or grade without these protections (a course "
                    "created with --unprotected) on a machine that holds nothing else of value."
                )
            self.uid, self._lease = _lease_uid(uid)
            _clean_stale(self.uid)

    def close(self) -> None:
        """Give the uid back (its cgroups are emptied and removed first)."""
        if self._lease is not None:
            for group in _cgroup_paths(self.uid):
                _kill_cgroup(group)
                try:
                    group.rmdir()
                except OSError:
                    pass
            os.close(self._lease)
            self._lease = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the kernel drops the lock anyway
            pass

    # -- the command ---------------------------------------------------------------------------

    def _bwrap(self, io_dir: Path, read_only: Mapping[str, Path] | None = None) -> list[str]:
        args = self._bwrap_file_system()
        args += ["--bind", str(io_dir), "/io"]
        for name, path in (read_only or {}).items():
            args += ["--ro-bind", str(Path(path).resolve()), f"/io/{name}"]
        args += ["--chdir", "/io", "--clearenv"]
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

    def _bwrap_file_system(self) -> list[str]:
        """bwrap's namespaces and the read-only file system every run sees (all but ``/io``)."""
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
        args += _grader_binds()
        args += ["--dev", "/dev", "--proc", "/proc"]
        if self.gpu:
            for device in sorted(Path("/dev").glob("nvidia*")):
                args += ["--dev-bind", str(device), str(device)]
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

    def command(
        self, io_dir: Path, argv: list[str], read_only: Mapping[str, Path] | None = None
    ) -> list[str]:
        """The full command line for ``argv`` (its first word: ``python``, this interpreter)."""
        if argv and argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        if self.unprotected:
            return list(argv)
        return [*self._bwrap(Path(io_dir).resolve(), read_only), *argv]

    def _set_limits(self, cgroups: list[Path]) -> Callable[[], None]:
        limits = self.limits

        def in_child() -> None:  # between fork and exec
            for group in cgroups:  # join the run's cgroups first: all that follows is inside
                with open(group / "cgroup.procs", "w") as procs:
                    procs.write(str(os.getpid()))
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

        return in_child

    # -- the I/O folder ----------------------------------------------------------------------------

    def prepare(self, io_dir: Path) -> Path:
        """Make ``io_dir`` (new or empty) the run's I/O folder: a tmpfs capped at ``io_bytes``,
        owned by the sandbox's user. Unprotected: a plain folder. Returns it."""
        io_dir = Path(io_dir)
        io_dir.mkdir(parents=True, exist_ok=True)
        if self.unprotected or os.path.ismount(io_dir):
            return io_dir
        if any(io_dir.iterdir()):
            raise ValueError(f"{io_dir}: the I/O folder must be new or empty")
        options = (
            f"size={self.limits.io_bytes},nr_inodes=4096,mode=0700,uid={self.uid},gid={self.uid},"
            "nosuid,nodev,noexec"
        )
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, _mount_source(self.uid), str(io_dir)],
            check=True,
            capture_output=True,
        )
        # private: what is bound into it, or it into others, is copied to no peer of the root's
        subprocess.run(["mount", "--make-private", str(io_dir)], check=True, capture_output=True)
        return io_dir

    def clean(self, io_dir: Path) -> None:
        """Remove the I/O folder and all the sandbox left in it (however deep or strange)."""
        io_dir = Path(io_dir)
        if os.path.ismount(io_dir):
            subprocess.run(["umount", "-l", str(io_dir)], check=False, capture_output=True)
        if io_dir.is_symlink() or io_dir.is_file():
            io_dir.unlink()
        elif io_dir.exists():  # unprotected: rm copes with trees deeper than Python's recursion
            subprocess.run(["rm", "-rf", "--one-file-system", str(io_dir)], check=False)

    # -- running -------------------------------------------------------------------------------

    def run(
        self,
        io_dir: Path,
        argv: list[str],
        timeout: float | None = None,
        watchdog: Callable[[], str | None] | None = None,
        read_only: Mapping[str, Path] | None = None,
        locked: Iterable[str] = (),
    ) -> Result:
        """Run ``argv`` in the sandbox with ``io_dir`` as ``/io``; kill it all at the wall clock.

        ``io_dir`` is made the run's capped I/O folder (:meth:`prepare`) unless it is one already;
        ``read_only`` names files or folders bound read-only at ``/io/<name>`` (the grader's inputs:
        the grader never writes where the sandbox can). ``watchdog()``, polled from outside while it
        runs, may return a reason to stop it early (e.g. one cell running past its own limit); the
        result's ``stopped`` says so. ``locked``: the lockdown families the probe applies (a warm
        sandbox forks such a run from a parent that applied them already; here, nothing to do).
        """
        io_dir = self.prepare(io_dir)
        if not self.unprotected:
            for name in read_only or {}:  # the mount points, empty, owned by root
                target = io_dir / name
                if Path(read_only[name]).is_dir():
                    target.mkdir(exist_ok=True)
                else:
                    target.touch(exist_ok=True)
        timeout = self.limits.wall_seconds if timeout is None else timeout
        env = None
        if self.unprotected:
            env = {**os.environ, **self._environment(str(io_dir), str(GRADER_SOURCE.parent))}
            for name, path in (read_only or {}).items():
                target = io_dir / name
                if not target.exists():
                    target.symlink_to(Path(path).resolve())
        cgroups = [] if self.unprotected else _make_cgroups(self.uid, self.limits)
        oom_before = _oom_kills(cgroups)
        start = time.monotonic()
        # stdout and stderr go to files the child cannot grow past the file-size limit (a pipe
        # would let a submission that prints forever fill the grader's memory)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                self.command(io_dir, argv, read_only),
                cwd=io_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=self._set_limits(cgroups),
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
            for group in cgroups:  # and anything that left the session: it is all in the cgroup
                _kill_cgroup(group)
            if not self.unprotected and not cgroups:
                _kill_uid(self.uid)  # no cgroup: the leased uid is ours alone
            return Result(
                returncode=None if timed_out or stopped else process.returncode,
                stdout=_tail(out),
                stderr=_tail(err),
                seconds=time.monotonic() - start,
                timed_out=timed_out,
                stopped=stopped,
                memory_peak=_memory_peak(cgroups),
                uid=None if self.unprotected else self.uid,
                oom_killed=_oom_kills(cgroups) > oom_before,
            )


# ---------------------------------------------------------------------------------------------------
# What of the grader the sandbox sees
# ---------------------------------------------------------------------------------------------------


def sandbox_files() -> dict[str, Path] | None:
    """What of the grader the sandbox holds: each file's place under ``autograder/`` and where it
    is read from. The engine's files the probe needs (``autograder.probe.SANDBOX_FILES``) and each
    registered homework's ``probes.py`` (a course's own homework may live outside the repository);
    None when the probe does not list its files (then the whole package is bound)."""
    files = getattr(importlib.import_module("autograder.probe"), "SANDBOX_FILES", None)
    if not files:
        return None
    from .registry import homeworks

    bound = {relative: GRADER_SOURCE / relative for relative in files}
    for homework in homeworks().values():
        bound[f"homeworks/{homework.assignment}/probes.py"] = homework.probes_file
        if (homework.folder / "__init__.py").is_file():  # a docstring; without it, a namespace
            bound[f"homeworks/{homework.assignment}/__init__.py"] = homework.folder / "__init__.py"
    return bound


def _grader_binds() -> list[str]:
    """bwrap arguments binding, read-only at ``/grader/autograder``, only what the probe needs: never
    the checks' judging code, the mutant catalogues, the notebook specs or ``solutions/``."""
    args = ["--perms", "0755", "--dir", "/grader"]
    files = sandbox_files()
    if files is None:
        return [*args, "--ro-bind", str(GRADER_SOURCE), "/grader/autograder"]
    args += ["--perms", "0755", "--dir", "/grader/autograder"]
    made = set()
    for relative, source in sorted(files.items()):
        for parent in reversed(Path(relative).parents[:-1]):
            if parent not in made:
                args += ["--perms", "0755", "--dir", f"/grader/autograder/{parent}"]
                made.add(parent)
        args += ["--ro-bind", str(source), f"/grader/autograder/{relative}"]
    return args


# ---------------------------------------------------------------------------------------------------
# Leases: one grader per uid, machine-wide
# ---------------------------------------------------------------------------------------------------


def _lease_uid(wanted: int) -> tuple[int, int]:
    """Lock ``uid-N.lock`` for ``wanted`` or, if another grader holds it, the next free uid of the
    pool. Returns ``(uid, fd)``; the lock lives as long as the fd (and dies with its process)."""
    LEASES.mkdir(mode=0o700, parents=True, exist_ok=True)
    pool = range(FIRST_UID, FIRST_UID + POOL)
    order = [wanted] + [u for u in pool if u != wanted]
    for uid in order:
        fd = os.open(LEASES / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return uid, fd
    raise SandboxUnavailable(f"all {POOL} sandbox uids from {FIRST_UID} are in use on this machine")


def uid_is_leased(uid: int) -> bool:
    """Whether some process on this machine holds the lease of ``uid`` now."""
    path = LEASES / f"uid-{uid}.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _mount_source(uid: int) -> str:
    return f"dlhw-io-{uid}"


def _mounts() -> list[tuple[str, str]]:
    """``(source, mount point)`` of this namespace's mounts."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, rest = before.split(), after.split()
        if len(fields) > 4 and len(rest) > 1:
            point = fields[4].encode().decode("unicode_escape")
            found.append((rest[1], point))
    return found


def _clean_stale(uid: int) -> None:
    """After taking a lease: what a dead holder of this uid left (its cgroups' processes, its I/O
    mounts) goes. Nothing else can be using the uid: its lease is ours."""
    for group in _cgroup_paths(uid):
        if group.exists():
            _kill_cgroup(group)
    for source, point in reversed(_mounts()):
        if source in (_mount_source(uid), f"dlhw-warm-{uid}"):  # I/O folders, a warm sandbox's
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)


# ---------------------------------------------------------------------------------------------------
# cgroups: one memory and process bound for the whole sandbox
# ---------------------------------------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_paths(uid: int) -> list[Path]:
    """The cgroups a run of ``uid`` goes in: v2's one, or v1's memory and pids ones."""
    if (CGROUP_ROOT / "cgroup.controllers").is_file():  # v2 (unified)
        return [CGROUP_ROOT / "dlhw" / f"sandbox-{uid}"]
    paths = []
    for controller in ("memory", "pids"):
        if (CGROUP_ROOT / controller / "cgroup.procs").is_file():
            paths.append(CGROUP_ROOT / controller / "dlhw" / f"sandbox-{uid}")
    return paths


def cgroups_available() -> bool:
    """Whether this machine lets the grader bound a sandbox's memory as a whole."""
    if os.geteuid() != 0:
        return False
    if (CGROUP_ROOT / "cgroup.controllers").is_file():
        return "memory" in (CGROUP_ROOT / "cgroup.controllers").read_text().split()
    return (CGROUP_ROOT / "memory" / "cgroup.procs").is_file() and os.access(
        CGROUP_ROOT / "memory", os.W_OK
    )


def _make_cgroups(uid: int, limits: Limits) -> list[Path]:
    """Create (or empty) the run's cgroups with the limits; [] where cgroups are not available."""
    if not cgroups_available():
        return []
    groups = _cgroup_paths(uid)
    try:
        for group in groups:
            if group.parent.name == "dlhw" and group.parent.parent == CGROUP_ROOT:  # v2
                group.parent.mkdir(exist_ok=True)
                _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids")
                _write(group.parent / "cgroup.subtree_control", "+memory +pids")
            group.mkdir(parents=True, exist_ok=True)
            _kill_cgroup(group)
            if (group / "memory.max").exists():  # v2
                _write(group / "memory.max", str(limits.total_memory_bytes))
                _write(group / "memory.swap.max", "0", missing_ok=True)
                _write(group / "pids.max", str(limits.processes))
            elif (group / "memory.limit_in_bytes").exists():  # v1 memory
                _write(group / "memory.limit_in_bytes", str(limits.total_memory_bytes))
                _write(group / "memory.max_usage_in_bytes", "0", missing_ok=True)  # reset the peak
            elif (group / "pids.max").exists():  # v1 pids
                _write(group / "pids.max", str(limits.processes))
    except OSError:
        return []
    return groups


def _write(path: Path, value: str, missing_ok: bool = False) -> None:
    try:
        path.write_text(value)
    except FileNotFoundError:
        if not missing_ok:
            raise
    except OSError:
        if not missing_ok and not path.name.endswith("subtree_control"):
            raise


def _kill_cgroup(group: Path, seconds: float = 10.0) -> None:
    """Kill every process in ``group`` and wait until it is empty."""
    _kill_until_gone(lambda: _cgroup_pids(group), str(group), seconds)


def _cgroup_pids(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _oom_kills(groups: list[Path]) -> int:
    """How many processes the OOM killer has killed in these cgroups so far (0 if unknown)."""
    for group in groups:
        for name in ("memory.events", "memory.oom_control"):
            try:
                lines = (group / name).read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
    return 0


def _memory_peak(groups: list[Path]) -> int | None:
    for group in groups:
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            try:
                return int((group / name).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return None


# ---------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------


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
    """Kill every process of the sandbox's own ``uid`` (leased: ours alone) until none is left."""
    _kill_until_gone(lambda: _processes_of(uid), f"uid {uid}", seconds)


def _kill_until_gone(find: Callable[[], list[int]], what: str, seconds: float) -> None:
    """SIGKILL what ``find()`` lists, again and again, until it lists nothing (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while pids := find():
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of {what} survive SIGKILL: {pids}")
        time.sleep(0.02)
