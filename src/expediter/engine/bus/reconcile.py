"""Reconciliation: what the outbox says was published, held against the streams.

Every published outbox row names the stream sequence its acknowledgement gave. Each one is read
back from the stream (a direct get by sequence): a sequence that is gone (deleted, lost with a
stream rebuilt from too few replicas) or that holds another message is a gap, and the row is
published again. Within the duplicate window the servers still remember its ``Nats-Msg-Id`` and
would drop the new publication as a duplicate of the lost one, so a gap goes out under the id
``<msg id>~<lost sequence>`` (the same for the same gap, so two reconciliations do not store it
twice) with the stable id in ``Expediter-Msg-Id``: consumers apply it once all the same.

Run nightly by the hub (the process that relays) and on demand by ``expediter bus reconcile``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog

from expediter.engine.bus.outbox import Published, published
from expediter.engine.bus.relay import MSG_ID, PUBLISH_TIMEOUT, STABLE_ID, headers_for
from expediter.engine.bus.settings import BusSettings
from expediter.engine.storage.base import Storage, Tx, now_iso

log = structlog.get_logger(__name__)
PAGE = 1000


class ReconcileReport(msgspec.Struct, kw_only=True):
    checked: int = 0
    """Published rows read back from their stream."""
    missing: list[str] = []
    """The message ids found missing and published again."""
    republished: int = 0


async def _present(js: Any, row: Published) -> bool:
    from nats.js.errors import NotFoundError

    try:
        stored = await js.get_msg(row.stream, row.stream_seq)
    except NotFoundError:
        return False
    headers = stored.headers or {}
    return row.msg_id in (headers.get(STABLE_ID), headers.get(MSG_ID))


async def _payload(storage: Storage, outbox_id: int) -> bytes:
    def query(tx: Tx) -> bytes:
        row = tx.one(
            "SELECT COALESCE(o.payload, m.payload) AS payload FROM outbox o"
            " LEFT JOIN messages m ON m.id = o.message_id WHERE o.id = ?",
            (outbox_id,),
        )
        return bytes(row["payload"] or b"") if row else b""

    return await storage.read(query)


async def _republish(storage: Storage, js: Any, row: Published) -> int:
    payload = await _payload(storage, row.id)
    headers = headers_for(row.msg_id, f"{row.msg_id}~{row.stream_seq}")
    ack = await js.publish(row.subject, payload, timeout=PUBLISH_TIMEOUT, stream=row.stream, headers=headers)
    sequence = int(ack.seq)

    def record(tx: Tx) -> None:
        tx.execute(
            "UPDATE outbox SET stream_seq = ?, published_at = ? WHERE id = ?", (sequence, now_iso(), row.id)
        )

    await storage.write(record)
    return sequence


async def _page(storage: Storage, stream: str, after: int) -> list[Published]:
    return await storage.read(lambda tx: published(tx, stream, after, PAGE))


async def reconcile(storage: Storage, js: Any, settings: BusSettings) -> ReconcileReport:
    """Read every published row back from its stream; publish the missing ones again."""
    report = ReconcileReport()
    for stream in (settings.messages_stream, settings.kitchen_stream):
        after = 0
        while rows := await _page(storage, stream, after):
            for row in rows:
                report.checked += 1
                if not await _present(js, row):
                    sequence = await _republish(storage, js, row)
                    report.missing.append(row.msg_id)
                    report.republished += 1
                    log.warning("bus_gap_republished", msg_id=row.msg_id, lost=row.stream_seq, now=sequence)
            after = rows[-1].id
    return report
