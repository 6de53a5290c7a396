"""The inbox: every message is stored raw, durably and once, before anyone acknowledges it.

``accept`` returns only after the message (and its deliveries, see :mod:`expediter.engine.router`)
are committed to disk. The idempotency key is unique: a second message with the same key is a
duplicate and stores nothing new. A sender's own request key (an HTTP ``Idempotency-Key``) is
kept beside the message it brought (table ``request_keys``) and leads to that message again,
so one order version is one message whether it came with a key, without one, or with another.

A key stands for one content: a duplicate whose payload differs from the stored one is a
:class:`Conflict` (the HTTP door answers 409), and nothing is stored. The stored payload itself
is compared (duplicates are rare; a hash on every message would cost every message).

Nothing holding a full card number is stored: a payload that does is refused with
:class:`~expediter.errors.RejectedInput` (``screened=True`` for a caller that checked the bytes
already, as the HTTP door does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import msgspec

from expediter.engine.bus.outbox import Outbox
from expediter.engine.counters import Counters
from expediter.engine.router import Route, Router, insert_deliveries, message_token, read_hub_identity
from expediter.model.cards import refuse_card_numbers_in_payload
from expediter.monitor.drift import Arrival, DriftWatch, Verdict
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import InsertFirst, Row, Storage, Tx, from_iso, now_iso


class Conflict(StrEnum):
    """Why a duplicate was not the same message again."""

    REQUEST_KEY = "request_key"
    """The request key was already used for other content."""
    CONTENT = "content"
    """The idempotency key (one version of one record) was already accepted with other content."""


class Accepted(msgspec.Struct, frozen=True):
    message_id: int
    """The new message, or the one already stored under the key."""
    duplicate: bool
    conflict: Conflict | None = None
    """Set when the key already stood for other content; nothing was stored."""


class StoredMessage(msgspec.Struct, kw_only=True):
    id: int
    idempotency_key: str
    source_system: str
    kind: str
    ref: str | None
    location_id: str | None
    business_date: date | None
    received_at: datetime
    content_type: str
    payload: bytes


INSERT_MESSAGE = (
    "INSERT INTO messages (idempotency_key, source_system, kind, ref, location_id, business_date,"
    " received_at, content_type, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)
_BY_REQUEST_KEY = (
    "SELECT m.id, m.payload FROM request_keys k JOIN messages m ON m.id = k.message_id"
    " WHERE k.request_key = ?"
)
_INSERT_REQUEST_KEY = (
    "INSERT INTO request_keys (request_key, message_id) VALUES (?, ?) ON CONFLICT (request_key) DO NOTHING"
)
_COLUMNS = (
    "id, idempotency_key, source_system, kind, ref, location_id, business_date, received_at,"
    " content_type, payload"
)


def _again(row: Row, payload: bytes, conflict: Conflict) -> Accepted:
    """A duplicate of the stored message ``row``: the same one again, or ``conflict``."""
    same = bytes(row["payload"]) == payload
    return Accepted(int(row["id"]), True, None if same else conflict)


class Arriving(msgspec.Struct, frozen=True, kw_only=True):
    """A message about to be accepted with :meth:`Inbox.accept_many`, with its ref and date."""

    message: IncomingMessage
    ref: str | None = None
    business_date: date | None = None


def _params(
    message: IncomingMessage, ref: str | None, business_date: date | None, now: str
) -> tuple[Any, ...]:
    return (
        message.idempotency_key,
        message.source_system,
        message.kind,
        ref,
        message.location_id,
        business_date.isoformat() if business_date else None,
        now,
        message.content_type,
        message.payload,
    )


def _message_from_row(row: Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        source_system=row["source_system"],
        kind=row["kind"],
        ref=row["ref"],
        location_id=row["location_id"],
        business_date=date.fromisoformat(row["business_date"]) if row["business_date"] else None,
        received_at=from_iso(row["received_at"]),
        content_type=row["content_type"],
        payload=bytes(row["payload"]),
    )


class Inbox:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        on_new_work: Callable[[Iterable[str]], None],
        counters: Counters | None = None,
        drift: DriftWatch | None = None,
    ) -> None:
        self.storage = storage
        self.router = router
        self._on_new_work = on_new_work
        self._hub_identity: str | None = None
        self._counters = counters or Counters()
        self.drift = drift
        self.outbox: Outbox | None = None
        """Set when the group has a bus: each new message's publication is recorded in the
        transaction that stores it (:mod:`expediter.engine.bus.outbox`)."""

    async def accept(
        self,
        message: IncomingMessage,
        *,
        ref: str | None = None,
        business_date: date | None = None,
        processed: bool = False,
        request_key: str | None = None,
        screened: bool = False,
        arrival: Arrival | None = None,
        raw: bytes | None = None,
        origin: int | None = None,
        verdict: Verdict | None = None,
    ) -> Accepted:
        """Store ``message`` and its deliveries; resolve once on disk. ``ref`` is the subject's own
        id (an order id) so it can be found again; ``business_date`` as the hub computed it;
        ``processed`` for a processor's output (it is not processed again); ``request_key`` the
        sender's own key for this message; ``screened`` when the caller already refused card
        numbers in these very bytes.

        Schema drift (:mod:`expediter.monitor.drift`): ``arrival`` says that the message came in
        from outside (its shape is watched; ``raw`` is what the sender sent when ``payload`` is
        the hub's re-encoding); ``origin`` is the stored message a processor made it from (it
        inherits that message's drift); ``verdict`` is one already made (a file's columns). A
        message that drifted is stored with each flow's delivery as its ``drift`` policy says."""
        if not screened:
            refuse_card_numbers_in_payload(message.payload, message.content_type)
        routes = self.router.routes(message, process=not processed)
        if verdict is None and self.drift is not None and (arrival is not None or origin is not None):
            verdict = await self._judge(message, arrival, raw, origin)
        now = now_iso()
        params = _params(message, ref, business_date, now)
        if verdict is not None:
            return await self._accept_judged(message, params, routes, now, verdict, request_key)

        work: Callable[[Tx], tuple[Accepted, list[str]]]
        if request_key is None:  # the message's INSERT first (PostgreSQL sends a group's together)

            def stored(tx: Tx, message_id: int | None) -> tuple[Accepted, list[str]]:
                return self._stored(tx, message, routes, now, message_id)

            work = InsertFirst(INSERT_MESSAGE, params, stored)
        else:

            def store(tx: Tx) -> tuple[Accepted, list[str]]:
                return self._store(tx, message, params, routes, now, request_key=request_key)

            work = store
        accepted, lanes = await self.storage.write(work)
        self._counters.message(message.source_system, message.kind, duplicate=accepted.duplicate)
        self._after_commit(lanes, new=not accepted.duplicate)
        return accepted

    def _after_commit(self, lanes: list[str], *, new: bool) -> None:
        """After the commit: wake the deliveries of ``lanes``, and the relay for a new message."""
        if lanes:
            self._on_new_work(lanes)
        if new and self.outbox is not None:
            self.outbox.recorded()

    async def _judge(
        self, message: IncomingMessage, arrival: Arrival | None, raw: bytes | None, origin: int | None
    ) -> Verdict | None:
        assert self.drift is not None
        if self.drift.refresh_due():
            await self.drift.refresh()
        if arrival is not None:
            return self.drift.observe(message, arrival, raw)
        assert origin is not None
        return await self.drift.inherited(message, origin)

    async def _accept_judged(
        self,
        message: IncomingMessage,
        params: tuple[Any, ...],
        routes: tuple[Route, ...],
        now: str,
        verdict: Verdict,
        request_key: str | None,
    ) -> Accepted:
        assert self.drift is not None
        drift = self.drift
        holds = {r.flow_id: drift.hold_for(r.flow_id, verdict) for r in routes} if verdict.drifted else None

        def recorded(tx: Tx, stored: tuple[Accepted, list[str]]) -> tuple[Accepted, list[str], list[int]]:
            accepted, lanes = stored
            ids = verdict.record(tx, None if accepted.duplicate else accepted.message_id)
            return accepted, lanes, ids

        work: Callable[[Tx], tuple[Accepted, list[str], list[int]]]
        if request_key is None:  # the message's INSERT first (PostgreSQL sends a group's together)

            def then(tx: Tx, message_id: int | None) -> tuple[Accepted, list[str], list[int]]:
                return recorded(tx, self._stored(tx, message, routes, now, message_id, holds))

            work = InsertFirst(INSERT_MESSAGE, params, then)
        else:

            def store(tx: Tx) -> tuple[Accepted, list[str], list[int]]:
                return recorded(tx, self._store(tx, message, params, routes, now, holds, request_key))

            work = store
        accepted, lanes, ids = await self.storage.write(work)
        drift.settle(verdict, ids)
        self._counters.message(message.source_system, message.kind, duplicate=accepted.duplicate)
        self._after_commit(lanes, new=not accepted.duplicate)
        return accepted

    async def accept_many(
        self,
        items: Sequence[Arriving],
        *,
        processed: bool = False,
        also: Callable[[Tx], None] | None = None,
    ) -> list[Accepted]:
        """Store several messages in one transaction (all or none), with ``also`` (more SQL of the
        caller's, e.g. marking an import committed) in that same transaction. Their payloads are
        not screened for card numbers here: the caller refused them in what it made the messages
        from (an import's rows, :mod:`expediter.engine.imports.reading`)."""
        now = now_iso()
        prepared = [
            (
                item.message,
                _params(item.message, item.ref, item.business_date, now),
                self.router.routes(item.message, process=not processed),
            )
            for item in items
        ]

        def store(tx: Tx) -> tuple[list[Accepted], list[str]]:
            results, lanes = [], []
            for message, params, routes in prepared:
                accepted, more = self._store(tx, message, params, routes, now)
                results.append(accepted)
                lanes += more
            if also is not None:
                also(tx)
            return results, lanes

        accepted, lanes = await self.storage.write(store)
        for item, result in zip(items, accepted, strict=True):
            self._counters.message(item.message.source_system, item.message.kind, duplicate=result.duplicate)
        self._after_commit(lanes, new=any(not result.duplicate for result in accepted))
        return accepted

    def _store(
        self,
        tx: Tx,
        message: IncomingMessage,
        params: tuple[Any, ...],
        routes: tuple[Route, ...],
        now: str,
        holds: Mapping[str, str] | None = None,
        request_key: str | None = None,
    ) -> tuple[Accepted, list[str]]:
        if request_key is not None:
            known = tx.one(_BY_REQUEST_KEY, (request_key,))
            if known is not None:
                return _again(known, message.payload, Conflict.REQUEST_KEY), []
        return self._stored(tx, message, routes, now, tx.insert(INSERT_MESSAGE, params), holds, request_key)

    def _stored(
        self,
        tx: Tx,
        message: IncomingMessage,
        routes: tuple[Route, ...],
        now: str,
        message_id: int | None,
        holds: Mapping[str, str] | None = None,
        request_key: str | None = None,
    ) -> tuple[Accepted, list[str]]:
        """The rest of :meth:`_store` once the message's ``INSERT`` ran (``None``: a duplicate)."""
        if message_id is None:
            existing = tx.one(
                "SELECT id, payload FROM messages WHERE idempotency_key = ?", (message.idempotency_key,)
            )
            assert existing is not None
            accepted = _again(existing, message.payload, Conflict.CONTENT)
            if request_key is not None and accepted.conflict is None:
                tx.execute(_INSERT_REQUEST_KEY, (request_key, accepted.message_id))
            return accepted, []
        if request_key is not None:
            tx.execute(_INSERT_REQUEST_KEY, (request_key, message_id))
        if self.outbox is not None:
            self.outbox.record_message(tx, message_id, message, now)
        if not routes:
            return Accepted(message_id, False), []
        if self._hub_identity is None:
            self._hub_identity = read_hub_identity(tx)
        token = message_token(self._hub_identity, message_id, message.idempotency_key)
        lanes = insert_deliveries(tx, message_id, token, message.location_id, routes, now, holds)
        return Accepted(message_id, False), lanes

    async def get(self, message_id: int) -> StoredMessage | None:
        def query(tx: Tx) -> StoredMessage | None:
            row = tx.one(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,))
            return _message_from_row(row) if row else None

        return await self.storage.read(query)

    async def get_many(self, message_ids: Iterable[int]) -> list[StoredMessage]:
        """The messages with these ids (a primary-key lookup each), in id order."""
        ids = sorted(set(message_ids))
        sql = f"SELECT {_COLUMNS} FROM messages WHERE id = ?"

        def query(tx: Tx) -> list[StoredMessage]:
            rows = [tx.one(sql, (message_id,)) for message_id in ids]
            return [_message_from_row(row) for row in rows if row is not None]

        return await self.storage.read(query)

    async def of_day(
        self, kind: str, location_id: str, business_date: date, source_system: str | None = None
    ) -> list[StoredMessage]:
        """Every message of ``kind`` for a location's business date (every version), oldest first:
        one range of the ``messages_by_day`` index."""
        sql = (
            f"SELECT {_COLUMNS} FROM messages WHERE kind = ? AND location_id = ? AND business_date = ?"
            " ORDER BY id"
        )
        params = (kind, location_id, business_date.isoformat())

        def query(tx: Tx) -> list[StoredMessage]:
            rows = tx.all(sql, params)
            return [_message_from_row(row) for row in rows if source_system in (None, row["source_system"])]

        return await self.storage.read(query)

    async def newest_ids(self, kind: str, location_id: str, start: date, end: date) -> dict[date, int]:
        """Per business date in [start, end]: the id of the newest message of ``kind`` stored for
        the location (what a night's inputs are checked against)."""
        sql = (
            "SELECT business_date, MAX(id) AS newest FROM messages WHERE kind = ? AND location_id = ?"
            " AND business_date >= ? AND business_date <= ? GROUP BY business_date"
        )
        params = (kind, location_id, start.isoformat(), end.isoformat())

        def query(tx: Tx) -> dict[date, int]:
            return {date.fromisoformat(r["business_date"]): int(r["newest"]) for r in tx.all(sql, params)}

        return await self.storage.read(query)

    async def by_key_prefix(self, prefix: str) -> list[StoredMessage]:
        """Every message whose idempotency key starts with ``prefix`` (a range of its unique index),
        oldest first: the kitchen's ready notices of one order (``kds:<order id>:ready:``)."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        sql = (
            f"SELECT {_COLUMNS} FROM messages WHERE idempotency_key >= ? AND idempotency_key < ? ORDER BY id"
        )

        def query(tx: Tx) -> list[StoredMessage]:
            return [_message_from_row(row) for row in tx.all(sql, (prefix, upper))]

        return await self.storage.read(query)

    async def all_by_ref(self, kind: str, ref: str) -> list[StoredMessage]:
        """Every accepted message about ``ref`` (each version of an order), oldest first."""

        def query(tx: Tx) -> list[StoredMessage]:
            rows = tx.all(
                f"SELECT {_COLUMNS} FROM messages WHERE kind = ? AND ref = ? ORDER BY id", (kind, ref)
            )
            return [_message_from_row(row) for row in rows]

        return await self.storage.read(query)

    async def latest_by_ref(self, kind: str, ref: str) -> StoredMessage | None:
        """The newest accepted message about ``ref`` (e.g. the last version of an order)."""

        def query(tx: Tx) -> StoredMessage | None:
            row = tx.one(
                f"SELECT {_COLUMNS} FROM messages WHERE kind = ? AND ref = ? ORDER BY id DESC LIMIT 1",
                (kind, ref),
            )
            return _message_from_row(row) if row else None

        return await self.storage.read(query)

    async def count(self) -> int:
        def query(tx: Tx) -> int:
            row = tx.one("SELECT COUNT(*) FROM messages")
            return int(row[0]) if row else 0

        return await self.storage.read(query)


def count_arrivals(
    tx: Tx, source_system: str, kind: str, location_id: str, business_dates: list[date], start: str, end: str
) -> int:
    """How many messages of ``kind`` from ``source_system`` at ``location_id`` were stored in
    (``start``, ``end``] (ISO times, see ``to_iso``: the last hour includes this instant).
    ``business_dates`` are the dates the window can hold: they keep the count on the (kind,
    location, business date) index."""
    marks = ", ".join("?" for _ in business_dates)
    row = tx.one(
        "SELECT COUNT(*) FROM messages WHERE kind = ? AND location_id = ?"
        f" AND business_date IN ({marks}) AND source_system = ? AND received_at > ? AND received_at <= ?",
        (kind, location_id, *(d.isoformat() for d in business_dates), source_system, start, end),
    )
    return int(row[0]) if row else 0
