"""A real PostgreSQL server for tests: Debian's binaries, a cluster in a temporary folder, a free port.

The server is started once per test session (``postgres_server``) and stopped by its own process
id; every test that asks for ``postgres_url`` gets a database of its own, made from an empty one in
milliseconds. ``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres``
user (Debian's package creates it) and its commands run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"
_numbers = itertools.count(1)


def postgres_binaries() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (the newest installed), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


PORT_ATTEMPTS = 5
"""How many ports a start tries when the one it chose was taken meanwhile."""
PORT_IN_USE = "Address already in use"
"""What the server logs when it cannot bind its port (it then exits, and ``pg_ctl -w`` fails)."""


def _read_from(log: Path, offset: int) -> str:
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One cluster: ``start()``, ``url(database)``, ``create_database()``, ``stop()`` (by its pid)."""

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = folder
        self.binaries = binaries
        self.data = folder / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
        if not self.data.exists():
            self._run(
                str(self.binaries / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-locale",
                "-E",
                "UTF8",
            )
        for attempt in range(1, PORT_ATTEMPTS + 1):
            log = self.folder / "server.log"
            log_start = log.stat().st_size if log.exists() else 0
            try:
                self._start_server(log)
                return
            except subprocess.CalledProcessError:
                # The port was free when chosen; another process may have bound it since.
                if attempt == PORT_ATTEMPTS or PORT_IN_USE not in _read_from(log, log_start):
                    raise
                self.port = free_port()

    def _start_server(self, log: Path) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={LOOPBACK}"
            " -c fsync=on -c synchronous_commit=on -c max_connections=200"
        )
        self._run(
            str(self.binaries / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-o", options, "start"
        )

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def stop(self) -> None:
        """A fast shutdown (SIGINT to the postmaster), waiting for the process to be gone."""
        try:
            pid = self.pid
        except (FileNotFoundError, ValueError, IndexError):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)  # waiting for the postmaster to exit, not hiding a race
        os.kill(pid, signal.SIGKILL)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, closing what still uses it."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_postgres(folder: Path) -> Iterator[PostgresServer]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    server = PostgresServer(folder, binaries)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's own temporary folder: that one is private to root, and the server runs
    # as the postgres user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="expediter-postgres-"))
    try:
        with running_postgres(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()
