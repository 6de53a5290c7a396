"""Journal entries held back because an account mapping is missing, until a manager fixes them.

A held day goes through three states: ``held`` (nothing posted; the reason names the keys to add
to ``expediter.toml``), ``resolved`` (rebuilt after the mapping was added; the balanced entry is
stored), ``released`` (handed to the poster). The queue is a protocol: :class:`StoredJournalQueue`
(the hub's database, through the storage seam) and :class:`InMemoryJournalQueue` implement it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

import msgspec

from expediter.errors import RejectedInput
from expediter.model import clock
from expediter.operations.accounting.journal import JournalEntry
from expediter.operations.accounting.mapping import MissingMapping
from expediter.storage.base import to_iso
from expediter.storage.blocking import BlockingStorage
from expediter.storage.side_files import SideFile, SideTable


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
    """For tests and single-run tools; the same rules as the stored queue."""

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


JOURNAL_QUEUE_FILE = SideFile(
    "journal-queue.db",
    (
        SideTable(
            "journal_queue",
            ["document_number", "location_id", "business_date", "state", "held_at", "updated_at", "body"],
            times=("held_at", "updated_at"),
        ),
    ),
)
"""The SQLite file older versions kept the queue in (``data/journal-queue.db``), copied in once."""
UPSERT_HELD = """INSERT INTO journal_queue
    (document_number, location_id, business_date, state, held_at, updated_at, body)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_number) DO UPDATE
    SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body"""


def _held(row: Any) -> HeldEntry:
    return msgspec.json.decode(bytes(row["body"]), type=HeldEntry)


class StoredJournalQueue:
    """The queue in the hub's database (``journal_queue``, migration ``0022_journal_queue``):
    survives restarts, so a held day is never forgotten. Called from code that cannot await (the
    exporters run on a worker thread), through :class:`BlockingStorage`."""

    def __init__(self, storage: BlockingStorage) -> None:
        self.storage = storage

    def hold(self, held: HeldEntry) -> None:
        params = (
            held.document_number,
            held.location_id,
            held.business_date.isoformat(),
            held.state.value,
            to_iso(held.held_at),
            to_iso(held.updated_at),
            msgspec.json.encode(held),
        )
        self.storage.write(lambda tx: tx.execute(UPSERT_HELD, params))

    def get(self, document_number: str) -> HeldEntry | None:
        sql = "SELECT body FROM journal_queue WHERE document_number = ?"
        row = self.storage.read(lambda tx: tx.one(sql, (document_number,)))
        return None if row is None else _held(row)

    def list(self, state: HoldState | None = None) -> list[HeldEntry]:
        sql = "SELECT body FROM journal_queue"
        params: tuple[str, ...] = ()
        if state is not None:
            sql, params = sql + " WHERE state = ?", (state.value,)
        sql += " ORDER BY business_date, location_id"
        return [_held(row) for row in self.storage.read(lambda tx: tx.all(sql, params))]

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
