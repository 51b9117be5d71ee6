"""A warm sandbox: torch imported once per worker, a fresh sandboxed child for every run.

    with WarmSandbox(uid=60001) as sandbox:
        sandbox.run(io_dir, ["python", "-m", "autograder.probe"], read_only={...})

A cold :class:`~autograder.sandbox.Sandbox` starts bubblewrap and a new interpreter for every run:
importing torch, IPython and the probes costs seconds before the student's first cell. Here one
bubblewrap sandbox, the *zygote* (:mod:`autograder.zygote`), is started per worker; it imports all
that once and, for each run, forks a child that is given everything a cold sandbox gives: new
mount, PID, IPC, network and UTS namespaces, the run's capped I/O folder at ``/io`` (inputs
read-only), a fresh capped ``/tmp``, the run's cgroup (memory and process bounds), resource limits,
the worker's leased uid, no capabilities, ``no_new_privs``, the sandbox's environment. The run's
processes, memory, files, threads and patches die with it; the next run is forked from the zygote,
which no student code ever ran in. :meth:`run` takes the same arguments and returns the same
:class:`~autograder.sandbox.Result` as the cold sandbox's.

How the I/O folder reaches the zygote: the grader mounts each run's tmpfs where it always does (its
own scratch folder, a private mount) and binds it at ``/run/dlhw/warm-<uid>/run``, a mount point
made *shared*, in a peer group of its own, once; the zygote's sandbox holds
``/run/dlhw/warm-<uid>`` as a slave of it, so the kernel
propagates the run's folder in (and its removal), and the child binds it at ``/io`` in its own mount
namespace, where the folder of no other run is visible. The zygote is started again if it dies.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .sandbox import (
    FIRST_UID,
    LEASES,
    Limits,
    Result,
    Sandbox,
    SandboxUnavailable,
    _cgroup_paths,
    _kill_cgroup,
    _kill_uid,
    _make_cgroups,
    _memory_peak,
    _oom_kills,
    _tail,
)

__all__ = ["WarmSandbox"]

START_SECONDS = 120.0  # the zygote's imports (torch's CUDA build is slow to load from a cold disk)


class WarmSandbox(Sandbox):
    """A :class:`Sandbox` whose runs are forked from a warm, sandboxed parent (see the module)."""

    def __init__(self, uid: int = FIRST_UID, limits: Limits | None = None, *, gpu: bool = False):
        super().__init__(uid, limits, gpu=gpu)
        self._zygote: subprocess.Popen | None = None
        self._channel: socket.socket | None = None
        self._errors = None
        self._area = LEASES / f"warm-{self.uid}"
        self.starts = 0  # how many times a zygote was started (1 unless one died)

    # -- the zygote ---------------------------------------------------------------------------------

    def _shared_area(self) -> Path:
        """``/run/dlhw/warm-<uid>``, a shared mount: what the grader mounts in it reaches the zygote."""
        area = self._area
        area.mkdir(parents=True, exist_ok=True)
        if not os.path.ismount(area):
            # a small tmpfs, not a bind of the folder onto itself: under a shared root such a bind
            # joins the root's peer group and is copied onto itself (the table doubles each time)
            options = "size=64k,nr_inodes=64,mode=0700,nosuid,nodev,noexec"
            _mount_command("-t", "tmpfs", "-o", options, f"dlhw-warm-{self.uid}", str(area))
            _mount_command("--make-private", str(area))
            _mount_command("--make-shared", str(area))  # a peer group of its own
        (area / "run").mkdir(exist_ok=True)
        return area

    def _cgroup_mounts(self) -> list[tuple[Path, str]]:
        self._cgroups = _make_cgroups(self.uid, self.limits)
        return [(group, f"/cg/{i}") for i, group in enumerate(self._cgroups)]

    def start(self) -> None:
        """Start the zygote (once; again only if it died) and wait until it has imported torch."""
        if self._zygote is not None and self._zygote.poll() is None:
            return
        self._stop_zygote()
        area = self._shared_area()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # the parent stays in the grader's cgroup namespace: under cgroup v2 a process may move
        # only within its namespace's subtree, and each run's keeper moves into the run's cgroup
        # (then makes the run a cgroup namespace of its own)
        args = [a for a in self._bwrap_file_system() if a != "--unshare-cgroup-try"]
        args += ["--cap-add", "CAP_SETPCAP"]  # to empty the run's bounding set (bwrap drops it)
        args += ["--dir", "/io", "--dir", "/.oldtmp", "--bind", str(area), "/hostio"]
        for group, point in self._cgroup_mounts():
            args += ["--bind", str(group), point]
        args += ["--chdir", "/", "--clearenv"]
        for name, value in self._environment("/io", "/grader").items():
            args += ["--setenv", name, value]
        args += [sys.executable, "-m", "autograder.zygote", str(theirs.fileno())]
        self._errors = tempfile.TemporaryFile()  # a file: a pipe left unread would block the zygote
        self._zygote = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self._channel = ours
        self.starts += 1
        ready = self._receive(START_SECONDS)
        if ready is None or "ready" not in ready:
            error = self._zygote_error()
            self._stop_zygote()
            raise SandboxUnavailable(f"the warm sandbox did not start: {error or 'no answer'}")

    def _receive(self, seconds: float | None) -> dict | None:
        """The zygote's next message, or None when it died or ``seconds`` passed."""
        if self._channel is None:
            return None
        ready, _, _ = select.select([self._channel], [], [], seconds)
        if not ready:
            return None
        try:
            message = self._channel.recv(1 << 16)
        except OSError:
            return None
        return json.loads(message) if message else None

    def _zygote_error(self) -> str:
        if self._zygote is None or self._errors is None or self._zygote.poll() is None:
            return ""
        lines = _tail(self._errors, 4000).strip().splitlines()
        return lines[-1][:300] if lines else f"exit status {self._zygote.returncode}"

    def _stop_zygote(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._zygote is not None:
            if self._zygote.poll() is None:
                self._zygote.kill()
            self._zygote.wait()
            self._zygote = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def close(self) -> None:
        """Stop the zygote, unmount the shared area, give the uid back."""
        self._stop_zygote()
        if self._lease is not None and os.path.ismount(self._area):
            _umount(self._area / "run")
            _umount(self._area)
        super().close()

    # -- running ------------------------------------------------------------------------------------

    def run(
        self,
        io_dir: Path,
        argv: list[str],
        timeout: float | None = None,
        watchdog: Callable[[], str | None] | None = None,
        read_only: Mapping[str, Path] | None = None,
        locked: Iterable[str] = (),
    ) -> Result:
        """As :meth:`Sandbox.run`, in a child of the zygote (started here if it is not running);
        with ``locked``, a child of the zygote's child that locked those families down once."""
        self.start()
        io_dir = self.prepare(io_dir)
        for name, path in (read_only or {}).items():
            target = io_dir / name
            if Path(path).is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.touch(exist_ok=True)
            _mount_command("--bind", str(Path(path).resolve()), str(target))
        shared = self._area / "run"
        _umount(shared)  # a run this grader did not finish (it was killed) left its folder here
        _mount_command("--rbind", str(io_dir), str(shared))
        try:
            return self._run_in_child(argv, timeout, watchdog, read_only or {}, locked)
        finally:
            _umount(shared)

    def _run_in_child(self, argv, timeout, watchdog, read_only, locked) -> Result:
        timeout = self.limits.wall_seconds if timeout is None else timeout
        cgroups = _make_cgroups(self.uid, self.limits)
        inside = {group: f"/cg/{i}" for i, group in enumerate(_cgroup_paths(self.uid))}
        if any(group not in inside for group in cgroups):
            raise SandboxUnavailable("the run's cgroups moved since the warm sandbox started")
        limits = self.limits
        request = {
            "argv": argv,
            "lockdown": sorted(locked),
            "uid": self.uid,
            "env": self._environment("/io", "/grader"),
            "read_only": sorted(read_only),
            "tmp_bytes": limits.tmp_bytes,
            "cgroups": [inside[group] for group in cgroups],
            "cgroup_mounts": sorted(inside.values()),
            "rlimits": {
                "RLIMIT_CPU": limits.cpu_seconds,
                "RLIMIT_FSIZE": limits.file_bytes,
                "RLIMIT_NOFILE": limits.open_files,
                "RLIMIT_CORE": 0,
                "RLIMIT_NPROC": limits.processes,
                **({"RLIMIT_AS": limits.memory_bytes} if limits.memory_bytes else {}),
            },
        }
        oom_before = _oom_kills(cgroups)
        start = time.monotonic()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            socket.send_fds(
                self._channel, [json.dumps(request).encode()], [out.fileno(), err.fileno()]
            )
            deadline = start + timeout
            timed_out, stopped, reply = False, None, None
            while reply is None:
                if time.monotonic() > deadline:
                    timed_out = True
                elif watchdog is not None:
                    stopped = watchdog()
                if timed_out or stopped:
                    self._kill_run(cgroups)
                    reply = self._receive(30.0)
                    break
                reply = self._receive(0.1)
                if reply is None and self._zygote.poll() is not None:
                    break  # the zygote died (killed from outside): this run did not happen
            if reply is None or "exit" not in reply:
                self._kill_run(cgroups)
                error = self._zygote_error()
                self._stop_zygote()
                raise RuntimeError(f"the warm sandbox's parent died ({error or 'no reply'})")
            self._kill_run(cgroups)  # anything left (nothing survives its PID namespace)
            return Result(
                returncode=None if timed_out or stopped else reply["exit"],
                stdout=_tail(out),
                stderr=_tail(err),
                seconds=time.monotonic() - start,
                timed_out=timed_out,
                stopped=stopped,
                memory_peak=_memory_peak(cgroups),
                uid=self.uid,
                oom_killed=_oom_kills(cgroups) > oom_before,
            )

    def _kill_run(self, cgroups: list[Path]) -> None:
        for group in cgroups:
            _kill_cgroup(group)
        if not cgroups:
            _kill_uid(self.uid)  # the run's own processes (its keeper and init are root's)


def _mount_command(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SandboxUnavailable(f"mount {' '.join(args)}: {done.stderr.strip()}")


def _umount(path: Path) -> None:
    while os.path.ismount(path):  # a folder may hold several stacked mounts
        if subprocess.run(["umount", "-l", str(path)], capture_output=True).returncode != 0:
            return
