"""The rows the listing commands print with ``--json``: one Struct per listing, so the field
names are fixed here (and documented in docs/scripting.md), not by whatever the tables show.

Timestamps are RFC 3339 in UTC (``2026-11-27T04:30:00Z``), dates ``YYYY-MM-DD``, absent values
``null``. Fields may be added; none is renamed or removed without a note in the changelog.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec

from expediter.catalog.schema import Flow
from expediter.engine.deliveries import DeliveryRecord
from expediter.ledger.transfers import Transfer
from expediter.monitor.health import FlowStatus, Health
from expediter.operations.accounting.queue import HeldEntry


def _utc(ts: datetime | None) -> datetime | None:
    return ts.astimezone(UTC) if ts is not None else None


class FlowRow(msgspec.Struct, kw_only=True):
    """``expediter flows --json``."""

    id: str
    enabled: bool
    from_: str = msgspec.field(name="from")
    to: str
    data: str
    level: str
    trigger: str
    schedule: str | None
    owner: str
    last_transfer_at: datetime | None
    last_outcome: str | None
    last_success_at: datetime | None
    failures_24h: int
    health: Health | None
    """``null`` when the hub's database does not exist yet."""


def flow_row(flow: Flow, status: FlowStatus | None, health: Health | None) -> FlowRow:
    return FlowRow(
        id=flow.id,
        enabled=flow.enabled,
        from_=flow.from_,
        to=flow.to,
        data=flow.data,
        level=str(flow.level),
        trigger=str(flow.trigger),
        schedule=flow.schedule or None,
        owner=flow.owner,
        last_transfer_at=_utc(status.last_transfer_at) if status else None,
        last_outcome=status.last_outcome if status else None,
        last_success_at=_utc(status.last_success_at) if status else None,
        failures_24h=status.failures_24h if status else 0,
        health=health,
    )


class TransferRow(msgspec.Struct, kw_only=True):
    """``expediter transfers --json``."""

    id: int | None
    flow_id: str
    direction: str
    level: str
    transport: str
    outcome: str
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    location_id: str | None
    business_date: date | None
    records: int
    bytes: int
    endpoint: str
    file_name: str
    remote_ref: str
    checksum: str
    error: str
    delivery_id: int | None
    message_id: int | None


def transfer_row(t: Transfer) -> TransferRow:
    return TransferRow(
        id=t.id,
        flow_id=t.flow_id,
        direction=str(t.direction),
        level=str(t.level),
        transport=t.transport,
        outcome=str(t.outcome),
        started_at=t.started_at.astimezone(UTC),
        finished_at=t.finished_at.astimezone(UTC),
        duration_ms=int(t.duration.total_seconds() * 1000),
        location_id=t.location_id,
        business_date=t.business_date,
        records=t.records,
        bytes=t.bytes,
        endpoint=t.endpoint,
        file_name=t.file_name,
        remote_ref=t.remote_ref,
        checksum=t.checksum,
        error=t.error,
        delivery_id=t.delivery_id,
        message_id=t.message_id,
    )


class DeadLetterRow(msgspec.Struct, kw_only=True):
    """``expediter dead-letters --json``; ``id`` is what ``expediter replay ID`` takes."""

    id: int
    flow_id: str
    destination: str
    location_id: str | None
    attempts: int
    last_error: str
    dead_since: datetime
    message_id: int
    delivery_key: str


def dead_letter_row(d: DeliveryRecord) -> DeadLetterRow:
    return DeadLetterRow(
        id=d.id,
        flow_id=d.flow_id,
        destination=d.destination,
        location_id=d.location_id,
        attempts=d.attempts,
        last_error=d.last_error,
        dead_since=d.updated_at.astimezone(UTC),
        message_id=d.message_id,
        delivery_key=d.delivery_key,
    )


class MissingMappingRow(msgspec.Struct, kw_only=True):
    table: str
    key: str


class HeldJournalRow(msgspec.Struct, kw_only=True):
    """``expediter journal held --json``."""

    document_number: str
    location_id: str
    business_date: date
    state: str
    missing: list[MissingMappingRow]
    reason: str
    held_at: datetime


def held_journal_row(h: HeldEntry) -> HeldJournalRow:
    return HeldJournalRow(
        document_number=h.document_number,
        location_id=h.location_id,
        business_date=h.business_date,
        state=h.state.value,
        missing=[MissingMappingRow(table=m.table.value, key=m.key) for m in h.missing],
        reason=h.reason,
        held_at=h.held_at.astimezone(UTC),
    )


LISTINGS: dict[str, type[msgspec.Struct]] = {
    "flows": FlowRow,
    "transfers": TransferRow,
    "dead-letters": DeadLetterRow,
    "journal held": HeldJournalRow,
}
"""Each listing command and the row it prints with ``--json`` (docs/scripting.md describes them)."""
