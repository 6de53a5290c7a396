"""The inbox: every message is stored raw, durably and once, before anyone acknowledges it.

``accept`` returns only after the message (and its deliveries, see :mod:`expediter.engine.router`)
are committed to disk. The idempotency key is unique: a second message with the same key is a
duplicate and stores nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from expediter.connectors.base import IncomingMessage
from expediter.engine.router import Route, Router, insert_deliveries, message_token, read_hub_identity
from expediter.engine.storage.base import Row, Storage, Tx, from_iso, now_iso
from expediter.monitor.drift import Arrival, DriftWatch, Verdict


class Accepted(msgspec.Struct, frozen=True):
    message_id: int
    duplicate: bool


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


_INSERT = (
    "INSERT INTO messages (idempotency_key, source_system, kind, ref, location_id, business_date,"
    " received_at, content_type, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)
_COLUMNS = (
    "id, idempotency_key, source_system, kind, ref, location_id, business_date, received_at,"
    " content_type, payload"
)


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
        drift: DriftWatch | None = None,
    ) -> None:
        self.storage = storage
        self.router = router
        self._on_new_work = on_new_work
        self._hub_identity: str | None = None
        self.drift = drift

    async def accept(
        self,
        message: IncomingMessage,
        *,
        ref: str | None = None,
        business_date: date | None = None,
        processed: bool = False,
        arrival: Arrival | None = None,
        raw: bytes | None = None,
        origin: int | None = None,
        verdict: Verdict | None = None,
    ) -> Accepted:
        """Store ``message`` and its deliveries; resolve once on disk. ``ref`` is the subject's own
        id (an order id) so it can be found again; ``business_date`` as the hub computed it;
        ``processed`` for a processor's output (it is not processed again).

        Schema drift (:mod:`expediter.monitor.drift`): ``arrival`` says that the message came in
        from outside (its shape is watched; ``raw`` is what the sender sent when ``payload`` is
        the hub's re-encoding); ``origin`` is the stored message a processor made it from (it
        inherits that message's drift); ``verdict`` is one already made (a file's columns). A
        message that drifted is stored with each flow's delivery as its ``drift`` policy says."""
        routes = self.router.routes(message, process=not processed)
        if verdict is None and self.drift is not None and (arrival is not None or origin is not None):
            verdict = await self._judge(message, arrival, raw, origin)
        now = now_iso()
        params = _params(message, ref, business_date, now)
        if verdict is not None:
            return await self._accept_judged(message, params, routes, now, verdict)

        def store(tx: Tx) -> tuple[Accepted, list[str]]:
            return self._store(tx, message, params, routes, now)

        accepted, lanes = await self.storage.write(store)
        if lanes:
            self._on_new_work(lanes)
        return accepted

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
    ) -> Accepted:
        assert self.drift is not None
        drift = self.drift
        holds = {r.flow_id: drift.hold_for(r.flow_id, verdict) for r in routes} if verdict.drifted else None

        def store(tx: Tx) -> tuple[Accepted, list[str], list[int]]:
            accepted, lanes = self._store(tx, message, params, routes, now, holds)
            ids = verdict.record(tx, None if accepted.duplicate else accepted.message_id)
            return accepted, lanes, ids

        accepted, lanes, ids = await self.storage.write(store)
        drift.settle(verdict, ids)
        if lanes:
            self._on_new_work(lanes)
        return accepted

    async def accept_many(
        self,
        items: Sequence[Arriving],
        *,
        processed: bool = False,
        also: Callable[[Tx], None] | None = None,
    ) -> list[Accepted]:
        """Store several messages in one transaction (all or none), with ``also`` (more SQL of the
        caller's, e.g. marking an import committed) in that same transaction."""
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
        if lanes:
            self._on_new_work(lanes)
        return accepted

    def _store(
        self,
        tx: Tx,
        message: IncomingMessage,
        params: tuple[Any, ...],
        routes: tuple[Route, ...],
        now: str,
        holds: Mapping[str, str] | None = None,
    ) -> tuple[Accepted, list[str]]:
        message_id = tx.insert(_INSERT, params)
        if message_id is None:
            existing = tx.one("SELECT id FROM messages WHERE idempotency_key = ?", (message.idempotency_key,))
            assert existing is not None
            return Accepted(int(existing[0]), True), []
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
