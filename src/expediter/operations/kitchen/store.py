"""The kitchen's durable state: tickets, orders seen, 86 list and an event log per station.

The tables live in the hub's own database, behind the storage seam
(:mod:`expediter.storage`): the migrations named ``0019_kitchen_store`` create them, so on
PostgreSQL they are in PostgreSQL, and ``expediter db copy`` and ``db backup`` carry them with the
rest. Every write is a :meth:`~expediter.storage.base.Storage.write` (group-committed with
the hub's other writes), every read a :meth:`~expediter.storage.base.Storage.read`.

Why an event log: a screen that lost its connection asks for everything after the last sequence
number it saw (SSE ``Last-Event-ID``) and gets exactly the events it missed, in order. Sequence
numbers are per station, start at 1 and never repeat, so the screen de-duplicates by number. The
next number is read inside the transaction that writes the event (``MAX(seq)`` on the primary
key), never from a cache: a write the storage re-runs after a failed batch numbers the same way,
and two hubs sharing one database cannot hand out one number twice (the second insert conflicts
and is retried by the kitchen, whose memory is reloaded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import msgspec

from expediter.model.kitchen import Printed
from expediter.model.time import AwareDatetime
from expediter.operations.kitchen.routing import TicketItem
from expediter.operations.kitchen.tickets import Ticket
from expediter.storage.base import Storage, Tx, from_iso, now_iso, to_iso
from expediter.storage.side_files import SideFile, SideTable

T = TypeVar("T")

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
INSERT_EVENT = "INSERT INTO kitchen_events (station, seq, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)"


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


class Changes(msgspec.Struct, kw_only=True):
    """Everything one kitchen action changes, written in one transaction."""

    orders: list[OrderRecord] = []
    tickets: list[Ticket] = []
    events: list[KitchenEvent] = []
    availability: list[Availability] = []


LAST_SEQS = """WITH RECURSIVE stations (station) AS (
        SELECT MIN(station) FROM kitchen_events
        UNION ALL
        SELECT (SELECT MIN(e.station) FROM kitchen_events e WHERE e.station > stations.station)
        FROM stations WHERE stations.station IS NOT NULL
    )
    SELECT station, (SELECT MAX(e.seq) FROM kitchen_events e WHERE e.station = stations.station) AS seq
    FROM stations WHERE station IS NOT NULL"""
"""Each station's last sequence number, walking the primary key (station, seq) from one station
to the next (``GROUP BY station`` would read every event of the log, on SQLite and PostgreSQL)."""
LIVE_ORDERS = "SELECT order_id FROM kitchen_tickets WHERE state != 'bumped' OR updated_at >= ?"
"""Orders still live in the kitchen: a ticket not bumped yet, or one changed since ``?``."""
ORDER_COLUMNS = "order_id, location_id, version, fired_courses, payload"

KITCHEN_FILE = SideFile(
    "kitchen.db",
    (
        SideTable("kitchen_orders", [*ORDER_COLUMNS.split(", "), "updated_at"], times=("updated_at",)),
        SideTable(
            "kitchen_tickets",
            ["ticket_id", "order_id", "station", "state", "payload", "updated_at"],
            times=("updated_at",),
        ),
        SideTable(
            "kitchen_events", ["station", "seq", "kind", "payload", "created_at"], times=("created_at",)
        ),
        SideTable(
            "kitchen_availability",
            ["location_id", "item_key", "available", "updated_at"],
            times=("updated_at",),
        ),
        SideTable(
            "kitchen_printed",
            ["printer", "order_id", "version", "items", "printed_at"],
            times=("printed_at",),
        ),
    ),
)
"""The kitchen's own SQLite file of older versions (``data/kitchen.db``), copied in once at start."""


def _iso(moment: datetime | None) -> str:
    """``moment`` as the store writes times; ``None`` is before every time written."""
    return "" if moment is None else to_iso(moment)


def _order_record(row: Any) -> OrderRecord:
    return OrderRecord(
        order_id=row["order_id"],
        location_id=row["location_id"],
        version=int(row["version"]),
        fired_courses=msgspec.json.decode(row["fired_courses"], type=list[int]),
        payload=bytes(row["payload"]),
    )


def _ticket(row: Any) -> Ticket:
    return msgspec.json.decode(bytes(row["payload"]), type=Ticket)


WRITE_BATCH = 64
"""Kitchen actions per write at most: a write's statements run on the event loop, and a lane
hands over its next order before the previous one is written (a backlog of thousands must not
hold the loop for one long write; 64 orders' statements take a few milliseconds)."""


class GroupCommitter:
    """Many kitchen actions, one write: what arrives while a write is committing goes in the next
    (up to :data:`WRITE_BATCH` of them).

    Actions are submitted in the order the kitchen decided them and written in that order (one
    write at a time); ``on_committed`` sees each action's numbered events, in order, as soon as
    they are durable.
    """

    def __init__(self, store: KitchenStore, on_committed: Callable[[list[KitchenEvent]], None]) -> None:
        self.store = store
        self.on_committed = on_committed
        self._pending: list[tuple[Changes, asyncio.Future[list[KitchenEvent]]]] = []
        self._task: asyncio.Task[None] | None = None
        self.submitted = 0
        """How many actions were submitted so far; action ``n`` is on disk once ``written >= n``."""
        self.written = 0
        self.failures = 0
        """How many writes failed so far (the kitchen then reloads its memory from the disk)."""

    def submit(self, changes: Changes) -> asyncio.Future[list[KitchenEvent]]:
        future: asyncio.Future[list[KitchenEvent]] = asyncio.get_running_loop().create_future()
        self._pending.append((changes, future))
        self.submitted += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="kitchen-group-commit")
        return future

    async def flush(self) -> None:
        """Wait until everything submitted is written (before the kitchen stops)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:WRITE_BATCH], self._pending[WRITE_BATCH:]
            try:
                results = await self.store.commit_many([changes for changes, _ in batch])
            except Exception as exc:
                # what waits was decided on the memory the kitchen now reloads: it fails too
                batch += self._pending
                self._pending = []
                self.failures += 1
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
    """Tickets and per-station event logs in the hub's database (its :class:`Storage`).

    The hub owns the storage: it is started before the kitchen and stopped after it. A store made
    with ``owned=True`` (a test, a benchmark) starts and stops the storage itself.
    """

    def __init__(self, storage: Storage, *, owned: bool = False) -> None:
        self.storage = storage
        self.owned = owned

    async def start(self) -> None:
        if self.owned:
            await self.storage.start()

    async def stop(self) -> None:
        if self.owned:
            await self.storage.stop()

    # -- writes ---------------------------------------------------------------------------------

    async def commit(self, changes: Changes) -> list[KitchenEvent]:
        """Write ``changes`` in one transaction; the events come back numbered."""
        [numbered] = await self.commit_many([changes])
        return numbered

    async def commit_many(self, batch: list[Changes]) -> list[list[KitchenEvent]]:
        """Write several actions' changes in one transaction (one commit), numbering in order."""

        return await self.storage.write(lambda tx: _write(tx, batch))

    # -- reads ----------------------------------------------------------------------------------

    async def tickets(self, changed_since: datetime | None = None) -> list[Ticket]:
        """Every ticket of every order that is still live: one of its tickets is not bumped, or one
        changed since ``changed_since`` (every ticket when it is ``None``), oldest first."""
        since = _iso(changed_since)
        sql = f"SELECT payload FROM kitchen_tickets WHERE order_id IN ({LIVE_ORDERS}) ORDER BY id"
        return [_ticket(row) for row in await self.storage.read(lambda tx: tx.all(sql, (since,)))]

    async def tickets_of_orders(self, order_ids: list[str]) -> list[Ticket]:
        """The tickets of these orders (every station, bumped ones too), for reconciliation and an
        order's trace."""
        wanted = list(dict.fromkeys(order_ids))

        def work(tx: Tx) -> list[Ticket]:
            found = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                sql = f"SELECT payload FROM kitchen_tickets WHERE order_id IN ({marks}) ORDER BY id"
                found += [_ticket(row) for row in tx.all(sql, chunk)]
            return found

        return await self.storage.read(work)

    async def orders(self, changed_since: datetime | None = None) -> list[OrderRecord]:
        """The orders :meth:`tickets` returns tickets of, and those changed since ``changed_since``."""
        since = _iso(changed_since)
        sql = (
            f"SELECT {ORDER_COLUMNS} FROM kitchen_orders WHERE order_id IN ({LIVE_ORDERS}) OR updated_at >= ?"
        )
        return [_order_record(row) for row in await self.storage.read(lambda tx: tx.all(sql, (since, since)))]

    async def order_ids(self) -> list[str]:
        """The id of every order the database holds."""
        rows = await self.storage.read(lambda tx: tx.all("SELECT order_id FROM kitchen_orders"))
        return [row["order_id"] for row in rows]

    async def stations(self) -> list[str]:
        """Every station that has a ticket."""
        rows = await self.storage.read(lambda tx: tx.all("SELECT DISTINCT station FROM kitchen_tickets"))
        return [row["station"] for row in rows]

    async def read_order(self, order_id: str) -> tuple[OrderRecord | None, list[Ticket]]:
        """An order and its tickets as the database holds them."""

        def work(tx: Tx) -> tuple[OrderRecord | None, list[Ticket]]:
            row = tx.one(f"SELECT {ORDER_COLUMNS} FROM kitchen_orders WHERE order_id = ?", (order_id,))
            if row is None:
                return None, []
            rows = tx.all("SELECT payload FROM kitchen_tickets WHERE order_id = ? ORDER BY id", (order_id,))
            return _order_record(row), [_ticket(r) for r in rows]

        return await self.storage.read(work)

    async def read_ticket(self, ticket_id: str) -> Ticket | None:
        sql = "SELECT payload FROM kitchen_tickets WHERE ticket_id = ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (ticket_id,)))
        return None if row is None else _ticket(row)

    async def read_last_bumped(self, station: str) -> Ticket | None:
        """The station's ticket bumped last, as the database holds it."""
        sql = (
            "SELECT payload FROM kitchen_tickets WHERE station = ? AND state = 'bumped'"
            " ORDER BY updated_at DESC LIMIT 1"
        )
        row = await self.storage.read(lambda tx: tx.one(sql, (station,)))
        return None if row is None else _ticket(row)

    async def availability(self) -> list[Availability]:
        sql = "SELECT location_id, item_key, available, updated_at FROM kitchen_availability"
        return [
            Availability(
                location_id=row["location_id"],
                key=row["item_key"],
                available=bool(row["available"]),
                updated_at=from_iso(row["updated_at"]),
            )
            for row in await self.storage.read(lambda tx: tx.all(sql))
        ]

    async def events_after(self, station: str, seq: int, limit: int = 1000) -> list[KitchenEvent]:
        """The station's events numbered above ``seq``, oldest first."""
        sql = "SELECT payload FROM kitchen_events WHERE station = ? AND seq > ? ORDER BY seq LIMIT ?"
        rows = await self.storage.read(lambda tx: tx.all(sql, (station, seq, limit)))
        return [msgspec.json.decode(bytes(row["payload"]), type=KitchenEvent) for row in rows]

    async def last_seqs(self) -> dict[str, int]:
        """Every station's highest sequence number (a few index look-ups a station, however long
        the log: see :data:`LAST_SEQS`)."""
        rows = await self.storage.read(lambda tx: tx.all(LAST_SEQS))
        return {row["station"]: int(row["seq"]) for row in rows}

    async def last_seq(self, station: str) -> int:
        return await self.storage.read(lambda tx: _last_seq(tx, station))

    async def first_seq(self, station: str) -> int:
        """The oldest sequence number still kept for ``station`` (0 when its log is empty)."""
        sql = "SELECT COALESCE(MIN(seq), 0) AS seq FROM kitchen_events WHERE station = ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (station,)))
        return 0 if row is None else int(row["seq"])

    async def prune(self, before: datetime) -> int:
        """Drop what is older than ``before``: events, bumped tickets, and orders last changed then.
        Open tickets stay however old they are (a forgotten ticket must still be bumped)."""
        return await self.storage.write(lambda tx: _prune(tx, to_iso(before)))

    async def printed(self, printer: str, order_id: str) -> Printed | None:
        sql = "SELECT version, items FROM kitchen_printed WHERE printer = ? AND order_id = ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (printer, order_id)))
        if row is None:
            return None
        items = msgspec.json.decode(bytes(row["items"]), type=list[TicketItem])
        return Printed(printer=printer, order_id=order_id, version=int(row["version"]), items=items)

    async def record_printed(self, printed: Printed) -> None:
        params = (
            printed.printer,
            printed.order_id,
            printed.version,
            msgspec.json.encode(printed.items),
            now_iso(),
        )
        await self.storage.write(lambda tx: tx.execute(UPSERT_PRINTED, params))


class _EventRow(msgspec.Struct, kw_only=True):
    """A :class:`KitchenEvent` as stored, its ticket already encoded (for the ticket's own row):
    the same fields in the same order, so the same bytes."""

    station: str
    seq: int
    kind: EventKind
    ticket: msgspec.Raw
    at: AwareDatetime


def _write(tx: Tx, batch: list[Changes]) -> list[list[KitchenEvent]]:
    """Several actions' rows, each table's in one statement run over them all (in order: a ticket
    changed twice keeps its last state); the events numbered in order, per station."""
    now = now_iso()
    orders, tickets, availability, events = [], [], [], []
    last: dict[str, int] = {}
    numbered: list[list[KitchenEvent]] = []
    for changes in batch:
        encoded = {id(ticket): msgspec.json.encode(ticket) for ticket in changes.tickets}
        orders += [_order_row(order, now) for order in changes.orders]
        tickets += [
            (t.id, t.order_id, t.station, t.state.value, encoded[id(t)], now) for t in changes.tickets
        ]
        availability += [
            (a.location_id, a.key, int(a.available), to_iso(a.updated_at)) for a in changes.availability
        ]
        numbered.append([_number(tx, event, last) for event in changes.events])
        events += [_event_row(event, encoded) for event in numbered[-1]]
    tx.execute_many(UPSERT_ORDER, orders)
    tx.execute_many(UPSERT_TICKET, tickets)
    tx.execute_many(UPSERT_AVAILABILITY, availability)
    tx.execute_many(INSERT_EVENT, events)
    return numbered


def _order_row(order: OrderRecord, now: str) -> tuple[Any, ...]:
    courses = msgspec.json.encode(order.fired_courses).decode()
    return (order.order_id, order.location_id, order.version, courses, order.payload, now)


def _number(tx: Tx, event: KitchenEvent, last: dict[str, int]) -> KitchenEvent:
    """Number ``event`` after the station's last event in this transaction (see the module's docstring)."""
    if event.station not in last:
        last[event.station] = _last_seq(tx, event.station)
    seq = last[event.station] = last[event.station] + 1
    return msgspec.structs.replace(event, seq=seq)


def _event_row(event: KitchenEvent, encoded: dict[int, bytes]) -> tuple[Any, ...]:
    ticket = encoded.get(id(event.ticket)) or msgspec.json.encode(event.ticket)
    row = _EventRow(
        station=event.station, seq=event.seq, kind=event.kind, ticket=msgspec.Raw(ticket), at=event.at
    )
    return (event.station, event.seq, event.kind.value, msgspec.json.encode(row), to_iso(event.at))


def _last_seq(tx: Tx, station: str) -> int:
    row = tx.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM kitchen_events WHERE station = ?", (station,))
    return 0 if row is None else int(row["seq"])


def _prune(tx: Tx, before: str) -> int:
    dropped = tx.all(  # each station keeps its newest event: numbers never restart
        "DELETE FROM kitchen_events WHERE created_at < ? AND seq <"
        " (SELECT MAX(e.seq) FROM kitchen_events e WHERE e.station = kitchen_events.station)"
        " RETURNING seq",
        (before,),
    )
    bumped = tx.all(
        "DELETE FROM kitchen_tickets WHERE state = 'bumped' AND updated_at < ? RETURNING id", (before,)
    )
    tx.execute(
        "DELETE FROM kitchen_orders WHERE updated_at < ? AND order_id NOT IN"
        " (SELECT order_id FROM kitchen_tickets)",
        (before,),
    )
    tx.execute("DELETE FROM kitchen_printed WHERE printed_at < ?", (before,))
    return len(dropped) + len(bumped)
