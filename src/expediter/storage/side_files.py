"""Side files of older installs, brought into the hub's database once.

Before every store went through this seam, some kept a SQLite file of their own in the hub's data
folder (the kitchen's ``kitchen.db``, the journal queue, the files already seen, payroll holds).
Each owner declares its old file here as a :class:`SideFile`: which tables and columns it held.
At start, the hub (:func:`import_side_files`) copies the rows of every declared file it finds
into the tables of the same names in its database, in one transaction that also records the
file in ``imported_files``; then renames the file ``<name>.migrated`` (kept: nothing is deleted).

Idempotent: a file already recorded is not copied again (a crash between the commit and the
rename renames it at the next start), and rows already there are kept (``ON CONFLICT DO
NOTHING``), so two hubs starting at once on one database do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from expediter.storage.base import Storage, Tx, from_iso, now_iso, to_iso

log = structlog.get_logger(__name__)
MIGRATED_SUFFIX = ".migrated"


@dataclass
class SideTable:
    """One table of an old side file, copied into the table of the same name."""

    name: str
    columns: list[str]
    times: tuple[str, ...] = ()
    """Columns holding timestamps, rewritten as the storage writes them (fixed-width UTC text, so
    text order stays time order)."""


@dataclass(frozen=True)
class SideFile:
    """An old side file in the hub's data folder, and the tables to copy out of it."""

    name: str
    tables: tuple[SideTable, ...]


Rows = dict[str, list[tuple[Any, ...]]]


def read_side_file(path: Path, side: SideFile) -> Rows:
    """Every declared table's rows, in the order they were written (a table the file never got,
    from an older version still, is empty)."""
    conn = sqlite3.connect(path)
    try:
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        found: Rows = {}
        for table in side.tables:
            if table.name not in present:
                found[table.name] = []
                continue
            rows = conn.execute(f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY rowid")
            found[table.name] = [_normalized(table, row) for row in rows]
        return found
    finally:
        conn.close()


def _normalized(table: SideTable, row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    for index, column in enumerate(table.columns):
        if column in table.times and isinstance(values[index], str) and values[index]:
            values[index] = to_iso(from_iso(values[index]))
    return tuple(values)


def _copy_in(side: SideFile, rows: Rows, tx: Tx) -> int | None:
    """Copy ``rows`` in and record the file; ``None`` when it was recorded already."""
    if tx.one("SELECT name FROM imported_files WHERE name = ?", (side.name,)) is not None:
        return None
    copied = 0
    for table in side.tables:
        marks = ", ".join("?" for _ in table.columns)
        sql = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        for values in rows[table.name]:
            tx.execute(sql, values)
        copied += len(rows[table.name])
    tx.execute(
        "INSERT INTO imported_files (name, rows_copied, imported_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (side.name, copied, now_iso()),
    )
    return copied


async def import_side_file(storage: Storage, folder: Path, side: SideFile) -> int | None:
    """Bring ``folder / side.name`` into ``storage`` (started) if it is there; the rows copied
    (``None`` when there was no file, or it had been copied before)."""
    path = folder / side.name
    if not path.is_file():
        return None
    rows = await asyncio.to_thread(read_side_file, path, side)
    copied = await storage.write(lambda tx: _copy_in(side, rows, tx))
    with contextlib.suppress(FileNotFoundError):  # another hub renamed it first
        path.rename(path.with_name(path.name + MIGRATED_SUFFIX))
    if copied is not None:
        log.info("side_file_imported", file=str(path), rows=copied)
    return copied


async def import_side_files(storage: Storage, folder: Path, sides: Sequence[SideFile]) -> dict[str, int]:
    """Every declared side file found in ``folder``; rows copied per file copied now."""
    copied: dict[str, int] = {}
    for side in sides:
        count = await import_side_file(storage, folder, side)
        if count is not None:
            copied[side.name] = count
    return copied
