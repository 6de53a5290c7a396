"""What an operator does to a hub's database besides running the hub: migrate it, back it up.

Both work on SQLite files and on PostgreSQL URLs (see :func:`expediter.storage.is_postgres`).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from expediter.errors import ConfigError, TransientError
from expediter.storage import is_postgres


def migrate(database: str) -> list[str]:
    """Apply the migrations ``database`` has not seen (what a hub does at start); their names."""
    if is_postgres(database):
        from expediter.storage.postgres import prepare_database

        return prepare_database(database)
    from expediter.storage.sqlite import apply_migrations, connect

    path = database.removeprefix("sqlite:///")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        return apply_migrations(conn)
    finally:
        conn.close()


def backup(database: str, target: Path) -> str:
    """Write a consistent copy of ``database`` to ``target`` while hubs may run; how it was made.

    SQLite: the online backup API (a plain SQLite file). PostgreSQL: ``pg_dump`` in its custom
    format (restore with ``pg_restore``), when the client tools are installed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_postgres(database):
        return _pg_dump(database, target)
    path = database.removeprefix("sqlite:///")
    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such database file; check hub.database in the catalog")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return "SQLite online backup"


def pg_dump_command() -> str | None:
    """Debian's newest ``pg_dump`` (it must not be older than the server), else the one on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: int(p.parent.parent.name))
    if found:
        return str(found[-1])
    return shutil.which("pg_dump")


def _pg_dump(url: str, target: Path) -> str:
    command = pg_dump_command()
    if command is None:
        raise ConfigError(
            "pg_dump is not installed, so a PostgreSQL database cannot be backed up from here:"
            " install PostgreSQL's client tools (Debian: apt-get install postgresql-client), or back"
            " the database up where it runs"
        )
    done = subprocess.run(
        [command, "--format=custom", "--file", str(target), "--dbname", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise TransientError(f"pg_dump failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return "pg_dump (custom format; restore with pg_restore)"
