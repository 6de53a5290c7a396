"""The kitchen's durable state: tickets, orders seen, 86 list and an event log per station.

Why an event log: a screen that lost its connection asks for everything after the last sequence
number it saw (SSE ``Last-Event-ID``) and gets exactly the events it missed, in order. Sequence
numbers are per station, start at 1 and never repeat, so the screen de-duplicates by number.

SQLite in WAL mode with one writer thread (every write runs on it, in order); the SQL sticks to what
SQLite and PostgreSQL share so it can move behind the engine's storage interface. Schema changes are
named migrations recorded in ``kitchen_migrations``.

Why a second, reading connection used on the event loop itself: the kitchen keeps only the orders
that are live in memory, and asks the file for an order it no longer holds while it decides what
an arriving version changes. That read is one indexed lookup, and doing it without an ``await``
keeps each decision atomic (nothing else runs on the kitchen between the read and the decision).
WAL readers never wait for the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from expediter.model import clock
from expediter.model.time import AwareDatetime
from expediter.operations.kitchen.routing import TicketItem
from expediter.operations.kitchen.tickets import Ticket

T = TypeVar("T")

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_kitchen_tables",
        [
            """CREATE TABLE kitchen_orders (
                order_id TEXT PRIMARY KEY,
                location_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                fired_courses TEXT NOT NULL,
                payload BLOB NOT NULL,
                updated_at TEXT NOT NULL)""",
            """CREATE TABLE kitchen_tickets (
                ticket_id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL,
                station TEXT NOT NULL,
                state TEXT NOT NULL,
                payload BLOB NOT NULL,
                updated_at TEXT NOT NULL)""",
            "CREATE INDEX kitchen_tickets_station ON kitchen_tickets (station, state)",
            """CREATE TABLE kitchen_events (
                station TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                payload BLOB NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (station, seq))""",
            """CREATE TABLE kitchen_availability (
                location_id TEXT NOT NULL,
                item_key TEXT NOT NULL,
                available INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (location_id, item_key))""",
        ],
    ),
    (
        "0002_kitchen_printed",
        [
            """CREATE TABLE kitchen_printed (
                printer TEXT NOT NULL,
                order_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                items BLOB NOT NULL,
                printed_at TEXT NOT NULL,
                PRIMARY KEY (printer, order_id))""",
        ],
    ),
    (
        "0003_kitchen_lookups",
        [
            "CREATE INDEX kitchen_tickets_order ON kitchen_tickets (order_id)",
            "CREATE INDEX kitchen_tickets_bumped ON kitchen_tickets (station, state, updated_at)",
        ],
    ),
]

UPSERT_ORDER = """INSERT INTO kitchen_orders
    (order_id, location_id, version, fired_courses, payload, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (order_id) DO UPDATE SET version = excluded.version,
    fired_courses = excluded.fired_courses, payload = excluded.payload, updated_at = excluded.updated_at"""
UPSERT_TICKET = """INSERT INTO kitchen_tickets
    (ticket_id, order_id, station, state, payload, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (ticket_id) DO UPDATE SET state = excluded.state,
    payload = excluded.payload, updated_at = excluded.updated_at"""
UPSERT_AVAILABILITY = """INSERT INTO kitchen_availability
    (location_id, item_key, available, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (location_id, item_key) DO UPDATE SET
    available = excluded.available, updated_at = excluded.updated_at"""
UPSERT_PRINTED = """INSERT INTO kitchen_printed
    (printer, order_id, version, items, printed_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (printer, order_id) DO UPDATE SET version = excluded.version,
    items = excluded.items, printed_at = excluded.printed_at"""


class EventKind(StrEnum):
    TICKET = "ticket"
    """A ticket's new snapshot: the screen replaces its card (or drops it when bumped)."""


class Availability(msgspec.Struct, kw_only=True):
    location_id: str
    key: str
    available: bool
    updated_at: AwareDatetime


class KitchenEvent(msgspec.Struct, kw_only=True):
    station: str
    seq: int = 0
    kind: EventKind
    ticket: Ticket
    at: AwareDatetime


class OrderRecord(msgspec.Struct, kw_only=True):
    """The last version of an order the kitchen acted on, and which courses were fired."""

    order_id: str
    location_id: str
    version: int
    fired_courses: list[int]
    payload: bytes


class Printed(msgspec.Struct, kw_only=True):
    """What a kitchen printer last printed for an order, so a newer version prints only the change."""

    printer: str
    order_id: str
    version: int
    items: list[TicketItem]


class Changes(msgspec.Struct, kw_only=True):
    """Everything one kitchen action changes, written in one transaction."""

    orders: list[OrderRecord] = []
    tickets: list[Ticket] = []
    events: list[KitchenEvent] = []
    availability: list[Availability] = []


LIVE_ORDERS = "SELECT order_id FROM kitchen_tickets WHERE state != 'bumped' OR updated_at >= ?"
"""Orders still live in the kitchen: a ticket not bumped yet, or one changed since ``?``."""
ORDER_COLUMNS = "order_id, location_id, version, fired_courses, payload"


def _now() -> str:
    return clock.now().isoformat()


def _iso(moment: datetime | None) -> str:
    """``moment`` as the store writes times; ``None`` is before every time written."""
    return "" if moment is None else moment.isoformat()


def _order_record(row: Any) -> OrderRecord:
    return OrderRecord(
        order_id=row[0],
        location_id=row[1],
        version=row[2],
        fired_courses=msgspec.json.decode(row[3], type=list[int]),
        payload=bytes(row[4]),
    )


class GroupCommitter:
    """Many kitchen actions, one transaction: what arrives while a commit is on disk goes in the next.

    Actions are submitted in the order the kitchen decided them and written in that order;
    ``on_committed`` sees each action's numbered events, in order, as soon as they are durable.
    """

    def __init__(self, store: KitchenStore, on_committed: Callable[[list[KitchenEvent]], None]) -> None:
        self.store = store
        self.on_committed = on_committed
        self._pending: list[tuple[Changes, asyncio.Future[list[KitchenEvent]]]] = []
        self._task: asyncio.Task[None] | None = None
        self.submitted = 0
        """How many actions were submitted so far; action ``n`` is on disk once ``written >= n``."""
        self.written = 0

    def submit(self, changes: Changes) -> asyncio.Future[list[KitchenEvent]]:
        future: asyncio.Future[list[KitchenEvent]] = asyncio.get_running_loop().create_future()
        self._pending.append((changes, future))
        self.submitted += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="kitchen-group-commit")
        return future

    async def flush(self) -> None:
        """Wait until everything submitted is written (before the store stops)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self.store.commit_many([changes for changes, _ in batch])
            except Exception as exc:
                self.written += len(batch)  # settled: the kitchen reloads what the disk holds
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.written += len(batch)
            for (_, future), events in zip(batch, results, strict=True):
                self.on_committed(events)
                if not future.done():
                    future.set_result(events)


class KitchenStore:
    """Tickets and per-station event logs in one SQLite file; one thread does all the SQL."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._seq: dict[str, int] = {}

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kitchen-store")
        await self._run(self._open)
        self._reader = sqlite3.connect(self.path, isolation_level=None)
        self._reader.execute("PRAGMA busy_timeout=5000")

    async def stop(self) -> None:
        if self._executor is None:
            return
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await self._run(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("KitchenStore is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        self._conn = conn
        self._migrate(conn)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("KitchenStore is not started")
        return self._conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS kitchen_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM kitchen_migrations")}
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            conn.execute("BEGIN")
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO kitchen_migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
            conn.execute("COMMIT")

    # -- writes ---------------------------------------------------------------------------------

    async def commit(self, changes: Changes) -> list[KitchenEvent]:
        """Write ``changes`` in one transaction; the events come back numbered."""
        [numbered] = await self.commit_many([changes])
        return numbered

    async def commit_many(self, batch: list[Changes]) -> list[list[KitchenEvent]]:
        """Write several actions' changes in one transaction (one fsync), numbering in order."""
        return await self._run(self._commit_many, batch)

    def _commit_many(self, batch: list[Changes]) -> list[list[KitchenEvent]]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            numbered = [self._write(conn, changes) for changes in batch]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._seq.clear()
            raise
        return numbered

    def _write(self, conn: sqlite3.Connection, changes: Changes) -> list[KitchenEvent]:
        now = _now()
        for order in changes.orders:
            courses = msgspec.json.encode(order.fired_courses).decode()
            conn.execute(
                UPSERT_ORDER,
                (order.order_id, order.location_id, order.version, courses, order.payload, now),
            )
        for ticket in changes.tickets:
            payload = msgspec.json.encode(ticket)
            conn.execute(
                UPSERT_TICKET, (ticket.id, ticket.order_id, ticket.station, ticket.state.value, payload, now)
            )
        for entry in changes.availability:
            conn.execute(
                UPSERT_AVAILABILITY,
                (entry.location_id, entry.key, int(entry.available), entry.updated_at.isoformat()),
            )
        return [self._append(conn, event) for event in changes.events]

    def _append(self, conn: sqlite3.Connection, event: KitchenEvent) -> KitchenEvent:
        seq = self._last_seq(conn, event.station) + 1
        numbered = msgspec.structs.replace(event, seq=seq)
        conn.execute(
            "INSERT INTO kitchen_events (station, seq, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (event.station, seq, event.kind.value, msgspec.json.encode(numbered), event.at.isoformat()),
        )
        self._seq[event.station] = seq
        return numbered

    def _last_seq(self, conn: sqlite3.Connection, station: str) -> int:
        if station not in self._seq:
            row = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM kitchen_events WHERE station = ?", (station,)
            ).fetchone()
            self._seq[station] = int(row[0])
        return self._seq[station]

    # -- reads ----------------------------------------------------------------------------------

    async def tickets(self, changed_since: datetime | None = None) -> list[Ticket]:
        """Every ticket of every order that is still live: one of its tickets is not bumped, or one
        changed since ``changed_since`` (every ticket when it is ``None``), oldest first."""
        return await self._run(self._tickets, _iso(changed_since))

    def _tickets(self, since: str) -> list[Ticket]:
        rows = self.conn.execute(
            f"SELECT payload FROM kitchen_tickets WHERE order_id IN ({LIVE_ORDERS}) ORDER BY rowid", (since,)
        ).fetchall()
        return [msgspec.json.decode(row[0], type=Ticket) for row in rows]

    async def tickets_of_orders(self, order_ids: list[str]) -> list[Ticket]:
        """The tickets of these orders (every station, bumped ones too), for reconciliation and an
        order's trace."""
        return await self._run(self._tickets_of_orders, list(dict.fromkeys(order_ids)))

    def _tickets_of_orders(self, order_ids: list[str]) -> list[Ticket]:
        found = []
        for start in range(0, len(order_ids), 500):
            chunk = order_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.conn.execute(
                f"SELECT payload FROM kitchen_tickets WHERE order_id IN ({marks}) ORDER BY rowid", chunk
            ).fetchall()
            found += [msgspec.json.decode(row[0], type=Ticket) for row in rows]
        return found

    async def orders(self, changed_since: datetime | None = None) -> list[OrderRecord]:
        """The orders :meth:`tickets` returns tickets of, and those changed since ``changed_since``."""
        return await self._run(self._orders, _iso(changed_since))

    def _orders(self, since: str) -> list[OrderRecord]:
        rows = self.conn.execute(
            f"SELECT {ORDER_COLUMNS} FROM kitchen_orders"
            f" WHERE order_id IN ({LIVE_ORDERS}) OR updated_at >= ?",
            (since, since),
        ).fetchall()
        return [_order_record(row) for row in rows]

    async def stations(self) -> list[str]:
        """Every station that has a ticket."""
        return await self._run(self._stations)

    def _stations(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT DISTINCT station FROM kitchen_tickets")]

    @property
    def reader(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("KitchenStore is not started")
        return self._reader

    def read_order(self, order_id: str) -> tuple[OrderRecord | None, list[Ticket]]:
        """An order and its tickets as the file holds them (read on the caller's thread, at once)."""
        row = self.reader.execute(
            f"SELECT {ORDER_COLUMNS} FROM kitchen_orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return None, []
        rows = self.reader.execute(
            "SELECT payload FROM kitchen_tickets WHERE order_id = ? ORDER BY rowid", (order_id,)
        ).fetchall()
        return _order_record(row), [msgspec.json.decode(r[0], type=Ticket) for r in rows]

    def read_ticket(self, ticket_id: str) -> Ticket | None:
        row = self.reader.execute(
            "SELECT payload FROM kitchen_tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=Ticket)

    def read_last_bumped(self, station: str) -> Ticket | None:
        """The station's ticket bumped last, as the file holds it."""
        row = self.reader.execute(
            "SELECT payload FROM kitchen_tickets WHERE station = ? AND state = 'bumped'"
            " ORDER BY updated_at DESC LIMIT 1",
            (station,),
        ).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=Ticket)

    async def availability(self) -> list[Availability]:
        return await self._run(self._availability)

    def _availability(self) -> list[Availability]:
        rows = self.conn.execute(
            "SELECT location_id, item_key, available, updated_at FROM kitchen_availability"
        ).fetchall()
        return [
            Availability(
                location_id=row[0],
                key=row[1],
                available=bool(row[2]),
                updated_at=datetime.fromisoformat(row[3]),
            )
            for row in rows
        ]

    async def events_after(self, station: str, seq: int, limit: int = 1000) -> list[KitchenEvent]:
        """The station's events numbered above ``seq``, oldest first."""
        return await self._run(self._events_after, station, seq, limit)

    def _events_after(self, station: str, seq: int, limit: int) -> list[KitchenEvent]:
        rows = self.conn.execute(
            "SELECT payload FROM kitchen_events WHERE station = ? AND seq > ? ORDER BY seq LIMIT ?",
            (station, seq, limit),
        ).fetchall()
        return [msgspec.json.decode(row[0], type=KitchenEvent) for row in rows]

    async def last_seqs(self) -> dict[str, int]:
        """Every station's highest sequence number."""
        return await self._run(self._last_seqs)

    def _last_seqs(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT station, MAX(seq) FROM kitchen_events GROUP BY station").fetchall()
        return {row[0]: int(row[1]) for row in rows}

    async def last_seq(self, station: str) -> int:
        return await self._run(self._last_seq, self.conn, station)

    async def prune(self, before: datetime) -> int:
        """Drop what is older than ``before``: events, bumped tickets, and orders last changed then.
        Open tickets stay however old they are (a forgotten ticket must still be bumped)."""
        return await self._run(self._prune, before.isoformat())

    def _prune(self, before: str) -> int:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        dropped = conn.execute(  # each station keeps its newest event: numbers never restart
            "DELETE FROM kitchen_events WHERE created_at < ? AND seq <"
            " (SELECT MAX(e.seq) FROM kitchen_events e WHERE e.station = kitchen_events.station)",
            (before,),
        ).rowcount
        dropped += conn.execute(
            "DELETE FROM kitchen_tickets WHERE state = 'bumped' AND updated_at < ?", (before,)
        ).rowcount
        conn.execute(
            "DELETE FROM kitchen_orders WHERE updated_at < ? AND order_id NOT IN"
            " (SELECT order_id FROM kitchen_tickets)",
            (before,),
        )
        conn.execute("DELETE FROM kitchen_printed WHERE printed_at < ?", (before,))
        conn.execute("COMMIT")
        return dropped

    async def first_seq(self, station: str) -> int:
        """The oldest sequence number still kept for ``station`` (0 when its log is empty)."""
        return await self._run(self._first_seq, station)

    def _first_seq(self, station: str) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(MIN(seq), 0) FROM kitchen_events WHERE station = ?", (station,)
        ).fetchone()
        return int(row[0])

    async def printed(self, printer: str, order_id: str) -> Printed | None:
        return await self._run(self._printed, printer, order_id)

    def _printed(self, printer: str, order_id: str) -> Printed | None:
        row = self.conn.execute(
            "SELECT version, items FROM kitchen_printed WHERE printer = ? AND order_id = ?",
            (printer, order_id),
        ).fetchone()
        if row is None:
            return None
        items = msgspec.json.decode(row[1], type=list[TicketItem])
        return Printed(printer=printer, order_id=order_id, version=row[0], items=items)

    async def record_printed(self, printed: Printed) -> None:
        await self._run(self._record_printed, printed)

    def _record_printed(self, printed: Printed) -> None:
        items = msgspec.json.encode(printed.items)
        self.conn.execute(UPSERT_PRINTED, (printed.printer, printed.order_id, printed.version, items, _now()))
