"""A throwaway PostgreSQL server for the tests (the ``postgres_url`` fixture in ``conftest.py``).

    with PostgresServer.start() as server:       # PostgresUnavailable: what is missing, or why not
        url = server.create_database("course")   # postgresql://postgres@127.0.0.1:PORT/course

Debian's ``postgresql`` package (``make postgres`` installs it) puts ``initdb`` and ``pg_ctl`` in
``/usr/lib/postgresql/<version>/bin``, off PATH; either place is searched. The server lives in a
temporary folder: its data directory (``initdb``, fsync off), its log and its Unix socket; it listens
on 127.0.0.1 only, on a free port, and trusts local connections (no password). PostgreSQL refuses to
run as root, so under root it runs as the ``postgres`` system user the package creates. ``stop()``
stops exactly this server (``pg_ctl stop -m immediate`` on its data directory) and removes the folder.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DEBIAN_BIN = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
START_SECONDS = 60


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says what is missing or what failed."""


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)


def find_bin() -> Path:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``: PATH's first, else Debian's newest."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)  # /usr/local/bin/initdb may be a link
    debian = sorted(DEBIAN_BIN.glob("*/bin"), key=_version_key, reverse=True)
    candidates += debian
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server programs (initdb, pg_ctl, postgres) on PATH or in "
        f"{DEBIAN_BIN}/*/bin: install Debian's postgresql package (`make postgres` does, as root)"
    )


def free_port() -> int:
    """A loopback TCP port nobody listens on now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One running server; see the module docstring."""

    def __init__(self, folder: Path, bin_dir: Path, port: int, as_user: list[str]):
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.bin = bin_dir
        self.port = port
        self._as_user = as_user
        self.url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_bin()
        as_user: list[str] = []
        if os.geteuid() == 0:  # the server will not run as root: run it as the package's user
            try:
                user = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as "
                    "(Debian's postgresql package creates it)"
                ) from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and no `runuser` to drop to postgres")
            as_user = [runuser, "-u", SERVICE_USER, "--"]
        folder = Path(tempfile.mkdtemp(prefix="dlhw-postgres-"))
        if as_user:
            os.chown(folder, user.pw_uid, user.pw_gid)
        server = cls(folder, bin_dir, free_port(), as_user)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str, timeout: float = START_SECONDS) -> None:
        command = [*self._as_user, *args]
        try:
            done = subprocess.run(
                command,
                cwd=self.folder,  # the server's user may not enter the caller's folder
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(
                f"`{' '.join(args[:2])}` took over {timeout:g} s{self._log_tail()}"
            ) from None
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise PostgresUnavailable(
                f"`{Path(args[0]).name}` failed (exit {done.returncode}): "
                + " | ".join(output)
                + self._log_tail()
            )

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        except OSError:
            return ""
        return "; server log: " + " | ".join(lines) if lines else ""

    def _init_and_start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            *("-D", str(self.data), "-U", SUPERUSER, "--auth=trust"),
            *("--encoding=UTF8", "--no-locale", "--no-sync"),
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:  # last one wins
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._run(
            str(self.bin / "pg_ctl"),
            *("start", "-D", str(self.data), "-l", str(self.log)),
            *("-w", "-t", str(START_SECONDS)),
            timeout=START_SECONDS + 10,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=5).close()
                return
            except psycopg.OperationalError as err:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(
                        f"the server on port {self.port} accepts no connection: "
                        f"{str(err).strip()}{self._log_tail()}"
                    ) from None
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        """A new empty database (``name`` made a valid identifier); its URL."""
        import psycopg

        name = re.sub(r"[^a-z0-9_]", "_", name.lower())[:60]
        connection = psycopg.connect(self.url)
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        """Stop this server (its data directory's postmaster, nothing else) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                subprocess.run(
                    [
                        *self._as_user,
                        *(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data)),
                        *("-m", "immediate", "-w", "-t", "30"),
                    ],
                    cwd=self.folder,
                    capture_output=True,
                    timeout=40,
                    check=False,
                )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
