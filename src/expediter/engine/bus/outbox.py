"""The outbox: each publication the hub owes the bus, recorded in the transaction of what it
publishes (a message as it is accepted, a kitchen event as it happens).

A row is pending until the relay has the stream's acknowledgement; then it holds when and at which
stream sequence it was stored. ``msg_id`` is the stable id the relay sends as ``Nats-Msg-Id``: a
message's idempotency key, so one message is one stream entry however often it is published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from expediter.engine.bus.settings import BusSettings
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import Row, Tx

_INSERT = (
    "INSERT INTO outbox (msg_id, message_id, stream, subject, payload, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id) DO NOTHING"
)
_PENDING = (
    "SELECT o.id, o.msg_id, o.message_id, o.stream, o.subject, COALESCE(o.payload, m.payload) AS payload,"
    " m.source_system, m.kind, m.location_id, m.business_date, m.ref, m.content_type"
    " FROM outbox o LEFT JOIN messages m ON m.id = o.message_id"
    " WHERE o.published_at IS NULL ORDER BY o.id LIMIT ?"
)


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    """One publication the relay still owes."""

    id: int
    msg_id: str
    message_id: int | None
    stream: str
    subject: str
    payload: bytes
    meta: dict[str, str] = {}
    """A stored message's own fields (source system, kind, location, business date, ref, content
    type) as headers, so that a consumer can store it again as it was (:data:`META_HEADERS`)."""


META_HEADERS = {
    "source_system": "Expediter-Source",
    "kind": "Expediter-Kind",
    "location_id": "Expediter-Location",
    "business_date": "Expediter-Business-Date",
    "ref": "Expediter-Ref",
    "content_type": "Expediter-Content-Type",
}
"""The headers a message's publication carries, by the ``messages`` column they hold."""


class Published(msgspec.Struct, frozen=True, kw_only=True):
    """A publication the stream acknowledged: where the outbox says it is."""

    id: int
    msg_id: str
    stream: str
    subject: str
    stream_seq: int


def _pending(row: Row) -> Pending:
    return Pending(
        id=int(row["id"]),
        msg_id=row["msg_id"],
        message_id=row["message_id"],
        stream=row["stream"],
        subject=row["subject"],
        payload=bytes(row["payload"] or b""),
        meta={header: str(row[column]) for column, header in META_HEADERS.items() if row[column] is not None},
    )


class Outbox:
    """Records publications for one group's bus; ``on_recorded`` wakes this process's relay."""

    def __init__(self, settings: BusSettings, on_recorded: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self._on_recorded = on_recorded

    def record_message(self, tx: Tx, message_id: int, message: IncomingMessage, now: str) -> None:
        """In the accepting transaction: publish ``message`` (stored as ``message_id``) later."""
        subject = self.settings.message_subject(message.kind, message.location_id)
        stream = self.settings.messages_stream
        tx.execute(_INSERT, (message.idempotency_key, message_id, stream, subject, None, now))

    def record_event(self, tx: Tx, msg_id: str, stream: str, subject: str, payload: bytes, now: str) -> None:
        """In the transaction of an event of the hub's own (a kitchen station's): publish it later."""
        tx.execute(_INSERT, (msg_id, None, stream, subject, payload, now))

    def recorded(self) -> None:
        """Called once the recording transaction committed: the relay has work."""
        if self._on_recorded is not None:
            self._on_recorded()


def pending(tx: Tx, limit: int) -> list[Pending]:
    """The oldest ``limit`` pending publications, in the order they were recorded."""
    return [_pending(row) for row in tx.all(_PENDING, (limit,))]


def mark_published(tx: Tx, acknowledged: Sequence[tuple[int, int]], now: str) -> None:
    """``acknowledged``: (outbox id, stream sequence) pairs the stream confirmed."""
    for outbox_id, sequence in acknowledged:
        tx.execute(
            "UPDATE outbox SET published_at = ?, stream_seq = ? WHERE id = ? AND published_at IS NULL",
            (now, sequence, outbox_id),
        )


def mark_unpublished(tx: Tx, outbox_ids: Sequence[int]) -> None:
    """Publish these again (reconciliation found them missing from their stream)."""
    for outbox_id in outbox_ids:
        tx.execute("UPDATE outbox SET published_at = NULL, stream_seq = NULL WHERE id = ?", (outbox_id,))


def pending_count(tx: Tx) -> int:
    row = tx.one("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
    return int(row[0]) if row else 0


def published(tx: Tx, stream: str, after_id: int, limit: int) -> list[Published]:
    """Published rows of ``stream`` past outbox id ``after_id``, oldest first (reconciliation)."""
    rows = tx.all(
        "SELECT id, msg_id, stream, subject, stream_seq FROM outbox"
        " WHERE stream = ? AND id > ? AND published_at IS NOT NULL ORDER BY id LIMIT ?",
        (stream, after_id, limit),
    )
    return [
        Published(
            id=int(r["id"]),
            msg_id=r["msg_id"],
            stream=r["stream"],
            subject=r["subject"],
            stream_seq=int(r["stream_seq"]),
        )
        for r in rows
    ]
