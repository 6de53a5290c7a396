"""Copy a hub's whole database to another (SQLite to PostgreSQL, most often), resumably.

Both sides are brought to this version's migrations first, so their tables are the same. Tables
are copied in the order the migrations create them (a row's references exist before it), in
batches of :data:`BATCH` rows, each batch one transaction of the target: an interrupted copy keeps
what it committed, and the next run goes on from there (rows already there are skipped, ``ON
CONFLICT DO NOTHING``; tables with an ``id`` go on after the highest id copied). The hub's identity
(``hub_identity``) is the source's, so delivery keys stay what receivers have seen. At the end every
table's row count is compared on both sides.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from expediter.errors import ConfigError
from expediter.storage.base import Row, Storage, Tx
from expediter.storage.migrations import MIGRATIONS

BATCH = 1000
NOT_COPIED = frozenset({"migrations"})
"""Each side records its own migrations."""
_CREATED = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)
_DROPPED = re.compile(r"DROP TABLE (?:IF EXISTS )?(\w+)", re.IGNORECASE)

Progress = Callable[[str, int], None]
"""Told ``(table, rows copied in this batch)`` after each committed batch."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def agrees(self) -> bool:
        return self.source == self.target


def tables_in_order() -> list[str]:
    """The hub's tables, in the order the migrations create them (a table a later migration drops
    is not one of them)."""
    seen: list[str] = []
    for _, script in MIGRATIONS:
        seen += [name for name in _CREATED.findall(script) if name not in seen]
        seen = [name for name in seen if name not in _DROPPED.findall(script)]
    return [name for name in seen if name not in NOT_COPIED]


def count_rows(tx: Tx, table: str) -> int:
    row = tx.one(f"SELECT COUNT(*) AS n FROM {table}")
    return int(row["n"]) if row is not None else 0


def counts(tx: Tx) -> dict[str, int]:
    return {table: count_rows(tx, table) for table in tables_in_order()}


def _identity(tx: Tx) -> str | None:
    row = tx.one("SELECT id FROM hub_identity")
    return None if row is None else str(row["id"])


def _has_id(tx: Tx, table: str) -> bool:
    """Whether ``table`` has an ``id`` column (read from one row; an empty table has nothing to copy)."""
    row = tx.one(f"SELECT * FROM {table} LIMIT 1")
    return row is not None and "id" in list(row.keys())


def _highest_id(tx: Tx, table: str) -> int:
    row = tx.one(f"SELECT COALESCE(MAX(id), 0) AS n FROM {table}")
    return int(row["n"]) if row is not None else 0


def _rows_after(tx: Tx, table: str, after: int) -> list[Row]:
    return tx.all(f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (after, BATCH))


def _rows_from(tx: Tx, table: str, offset: int) -> list[Row]:
    first = tx.one(f"SELECT * FROM {table} LIMIT 1")
    if first is None:
        return []
    order = ", ".join(first.keys())
    return tx.all(f"SELECT * FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, offset))


def _insert_all(table: str, rows: Sequence[Row]) -> Callable[[Tx], int]:
    columns = list(rows[0].keys())
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        " ON CONFLICT DO NOTHING"
    )
    values = [tuple(_plain(row[c]) for c in columns) for row in rows]

    def work(tx: Tx) -> int:
        for params in values:
            tx.execute(sql, params)
        return len(values)

    return work


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


async def _take_identity(source: Storage, target: Storage) -> None:
    """The target becomes the source's hub; refused when it already holds another hub's data."""
    theirs = await source.read(_identity)
    ours = await target.read(_identity)
    if theirs is None or ours == theirs:
        return
    if await target.read(lambda tx: count_rows(tx, "messages")) > 0:
        raise ConfigError(
            "the target database already holds another hub's messages: copy into a new, empty"
            " database (or the one an earlier copy of this same source left)"
        )

    def replace(tx: Tx) -> None:
        tx.execute("DELETE FROM hub_identity")
        tx.execute("INSERT INTO hub_identity (id) VALUES (?)", (theirs,))

    await target.write(replace)


async def copy_table(source: Storage, target: Storage, table: str, progress: Progress) -> None:
    if table == "hub_identity":
        return  # taken over first (see _take_identity)
    if not await source.read(lambda tx: _has_id(tx, table)):
        offset = 0
        while rows := await source.read(functools.partial(_rows_from, table=table, offset=offset)):
            await target.write(_insert_all(table, rows))
            offset += len(rows)
            progress(table, len(rows))
        return
    after = await target.read(lambda tx: _highest_id(tx, table))
    done = await target.read(lambda tx: count_rows(tx, table))
    if done:
        progress(table, done)
    while rows := await source.read(functools.partial(_rows_after, table=table, after=after)):
        await target.write(_insert_all(table, rows))
        after = int(rows[-1]["id"])
        progress(table, len(rows))
    if target.dialect.reset_ids:
        reset = target.dialect.reset_ids.format(table=table)
        await target.write(lambda tx: tx.one(reset))


async def copy_database(source: Storage, target: Storage, progress: Progress) -> list[TableCount]:
    """Copy every table of ``source`` (started) into ``target`` (started); the counts per table."""
    await _take_identity(source, target)
    for table in tables_in_order():
        await copy_table(source, target, table, progress)
    theirs, ours = await source.read(counts), await target.read(counts)
    return [TableCount(table, theirs[table], ours[table]) for table in tables_in_order()]
