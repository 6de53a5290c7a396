"""A transfer: one execution of a flow as the ledger records it (when, how, what, outcome).

Everyone who moves data records transfers the same way: the delivery worker (one per attempt),
the scheduler (one per run), file transports (one per file). :func:`insert_transfer` writes one
inside a caller's own transaction (so a delivery's state and its transfer commit together);
:meth:`expediter.ledger.Ledger.record` writes one on its own.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from enum import StrEnum

import msgspec

from expediter.model.cards import mask_card_numbers
from expediter.storage.base import Tx, to_iso


class TransferOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Failed and nothing will retry it by itself (a scheduled run that a person must re-run)."""
    RETRYING = "retrying"
    """Failed; the engine retries it after a backoff."""
    DEAD = "dead"
    """Failed for the last time; parked as a dead letter."""
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    LATE = "late"
    """A scheduled flow had not succeeded by its ``expected_by`` time (recorded once per alert)."""


FAILURES = frozenset({TransferOutcome.FAILED, TransferOutcome.RETRYING, TransferOutcome.DEAD})
"""The outcomes that are a failure: what a person asking for ``failed`` transfers wants to see
(a real-time delivery that fails is recorded as ``retrying``, then ``dead``, never ``failed``)."""


def outcomes_asked(outcome: TransferOutcome) -> frozenset[TransferOutcome]:
    """The outcomes a query for ``outcome`` finds: ``failed`` finds every failure, others themselves."""
    return FAILURES if outcome is TransferOutcome.FAILED else frozenset({outcome})


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Transfer(msgspec.Struct, kw_only=True):
    """One row of the ledger. ``started_at``/``finished_at`` are timezone-aware."""

    flow_id: str
    direction: Direction
    level: str
    transport: str
    started_at: datetime
    finished_at: datetime
    outcome: TransferOutcome
    endpoint: str = ""
    remote_ref: str = ""
    file_name: str = ""
    records: int = 0
    bytes: int = 0
    checksum: str = ""
    """``sha256:<hex>`` of what moved (see :func:`checksum_of`)."""
    error: str = ""
    location_id: str | None = None
    business_date: date | None = None
    delivery_id: int | None = None
    message_id: int | None = None
    id: int | None = None
    """Set when read back from the ledger."""

    @property
    def duration(self) -> timedelta:
        return self.finished_at - self.started_at


def checksum_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


_INSERT = (
    "INSERT INTO transfers (flow_id, direction, level, transport, endpoint, remote_ref, file_name,"
    " started_at, finished_at, duration_ms, records, bytes, checksum, outcome, error, location_id,"
    " business_date, delivery_id, message_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_COUNT = (
    "INSERT INTO transfer_totals (flow_id, outcome, transfers, last_finished_at) VALUES (?, ?, 1, ?)"
    " ON CONFLICT (flow_id, outcome) DO UPDATE SET transfers = transfer_totals.transfers + 1,"
    " last_finished_at = CASE WHEN excluded.last_finished_at > transfer_totals.last_finished_at"
    " THEN excluded.last_finished_at ELSE transfer_totals.last_finished_at END"
)
"""Running totals per flow and outcome, kept in the same transaction as each transfer, so the
dashboard's summary reads a row per flow and outcome instead of grouping the whole ledger."""


def insert_transfer(tx: Tx, transfer: Transfer) -> int:
    """Write ``transfer`` in the caller's transaction; return its id. A card number in its text
    (an error quoting a bad value, a file's name) is masked: the ledger never keeps one."""
    duration_ms = int(transfer.duration.total_seconds() * 1000)
    finished = to_iso(transfer.finished_at)
    transfer_id = tx.insert(
        _INSERT,
        (
            transfer.flow_id,
            str(transfer.direction),
            str(transfer.level),
            transfer.transport,
            mask_card_numbers(transfer.endpoint),
            mask_card_numbers(transfer.remote_ref),
            mask_card_numbers(transfer.file_name),
            to_iso(transfer.started_at),
            finished,
            duration_ms,
            transfer.records,
            transfer.bytes,
            transfer.checksum,
            str(transfer.outcome),
            mask_card_numbers(transfer.error)[:2000],
            transfer.location_id,
            transfer.business_date.isoformat() if transfer.business_date else None,
            transfer.delivery_id,
            transfer.message_id,
        ),
    )
    assert transfer_id is not None
    tx.execute(_COUNT, (transfer.flow_id, str(transfer.outcome), finished))
    return transfer_id
