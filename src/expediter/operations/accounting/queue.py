"""Journal entries held back because an account mapping is missing, until a manager fixes them.

A held day goes through three states: ``held`` (nothing posted; the reason names the keys to add
to ``expediter.toml``), ``resolved`` (rebuilt after the mapping was added; the balanced entry is
stored), ``released`` (handed to the poster). The queue is a protocol so the lead can move it into
the engine's storage; :class:`SqliteJournalQueue` (stdlib sqlite3, named migrations) and
:class:`InMemoryJournalQueue` implement it.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import msgspec

from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.operations.accounting.journal import JournalEntry
from expediter.operations.accounting.mapping import MissingMapping


class HoldState(StrEnum):
    HELD = "held"
    RESOLVED = "resolved"
    RELEASED = "released"


class HeldEntry(msgspec.Struct, kw_only=True):
    document_number: str
    location_id: str
    business_date: date
    state: HoldState
    reason: str
    missing: list[MissingMapping] = []
    entry: JournalEntry | None = None
    """The rebuilt, balanced entry once resolved."""
    held_at: datetime
    updated_at: datetime


class JournalQueue(Protocol):
    def hold(self, held: HeldEntry) -> None:
        """Add or replace the held entry for its document number (a re-run holds it again)."""
        ...

    def get(self, document_number: str) -> HeldEntry | None: ...

    def list(self, state: HoldState | None = None) -> list[HeldEntry]: ...

    def resolve(self, document_number: str, entry: JournalEntry) -> HeldEntry: ...

    def release(self, document_number: str) -> JournalEntry: ...


def _resolved(held: HeldEntry, entry: JournalEntry) -> HeldEntry:
    if held.state is HoldState.RELEASED:
        raise RejectedInput(
            f"journal {held.document_number} was already released",
            where=held.document_number,
            fix="a released entry is posted; correct it in the accounting system",
        )
    return msgspec.structs.replace(
        held, state=HoldState.RESOLVED, entry=entry, missing=[], reason="resolved", updated_at=clock.now()
    )


def _releasable(held: HeldEntry | None, document_number: str) -> tuple[HeldEntry, JournalEntry]:
    if held is None:
        raise RejectedInput(f"no held journal {document_number}", where=document_number)
    if held.state is not HoldState.RESOLVED or held.entry is None:
        raise RejectedInput(
            f"journal {document_number} is {held.state.value}, not resolved",
            where=document_number,
            fix="add the missing mappings, then resolve (rebuild) it before releasing",
        )
    return msgspec.structs.replace(held, state=HoldState.RELEASED, updated_at=clock.now()), held.entry


class InMemoryJournalQueue:
    """For tests and single-run tools; the same rules as the SQLite queue."""

    def __init__(self) -> None:
        self._items: dict[str, HeldEntry] = {}

    def hold(self, held: HeldEntry) -> None:
        self._items[held.document_number] = held

    def get(self, document_number: str) -> HeldEntry | None:
        return self._items.get(document_number)

    def list(self, state: HoldState | None = None) -> list[HeldEntry]:
        items = sorted(self._items.values(), key=lambda h: (h.business_date, h.location_id))
        return [h for h in items if state is None or h.state is state]

    def resolve(self, document_number: str, entry: JournalEntry) -> HeldEntry:
        held = self.get(document_number)
        if held is None:
            raise RejectedInput(f"no held journal {document_number}", where=document_number)
        self._items[document_number] = _resolved(held, entry)
        return self._items[document_number]

    def release(self, document_number: str) -> JournalEntry:
        released, entry = _releasable(self.get(document_number), document_number)
        self._items[document_number] = released
        return entry


QUEUE_MIGRATIONS: list[tuple[str, str]] = [
    (
        "0101_journal_queue",
        """
        CREATE TABLE journal_queue (
            document_number TEXT PRIMARY KEY,
            location_id TEXT NOT NULL,
            business_date TEXT NOT NULL,
            state TEXT NOT NULL,
            held_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX journal_queue_by_state ON journal_queue (state, business_date)
        """,
    ),
]
"""Named and recorded in the same ``migrations`` table the engine uses, so they can share a file."""


class SqliteJournalQueue:
    """The queue in a SQLite file (WAL): survives restarts, so a held day is never forgotten."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self.applied = self._migrate()

    def close(self) -> None:
        self._conn.close()

    def _migrate(self) -> list[str]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
            applied = [name for name, _ in QUEUE_MIGRATIONS if name not in done]
            for name, script in QUEUE_MIGRATIONS:
                if name in applied:
                    for statement in filter(None, (s.strip() for s in script.split(";"))):
                        conn.execute(statement)
                    conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, clock.now().isoformat()))
            conn.execute("COMMIT")
            return applied
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def hold(self, held: HeldEntry) -> None:
        self._conn.execute(
            "INSERT INTO journal_queue VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_number) DO UPDATE"
            " SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body",
            (
                held.document_number,
                held.location_id,
                held.business_date.isoformat(),
                held.state.value,
                held.held_at.isoformat(),
                held.updated_at.isoformat(),
                msgspec.json.encode(held),
            ),
        )

    def get(self, document_number: str) -> HeldEntry | None:
        row = self._conn.execute(
            "SELECT body FROM journal_queue WHERE document_number = ?", (document_number,)
        ).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=HeldEntry)

    def list(self, state: HoldState | None = None) -> list[HeldEntry]:
        sql = "SELECT body FROM journal_queue"
        params: tuple[str, ...] = ()
        if state is not None:
            sql, params = sql + " WHERE state = ?", (state.value,)
        rows = self._conn.execute(sql + " ORDER BY business_date, location_id", params).fetchall()
        return [msgspec.json.decode(row[0], type=HeldEntry) for row in rows]

    def resolve(self, document_number: str, entry: JournalEntry) -> HeldEntry:
        held = self.get(document_number)
        if held is None:
            raise RejectedInput(f"no held journal {document_number}", where=document_number)
        resolved = _resolved(held, entry)
        self.hold(resolved)
        return resolved

    def release(self, document_number: str) -> JournalEntry:
        released, entry = _releasable(self.get(document_number), document_number)
        self.hold(released)
        return entry
