"""Lanes and dead letters as people see them: delivery records, the lanes that wait and why,
dead-letter counts, replay, and the release of deliveries a drift policy set aside. Functions of a
transaction (``Tx``); :class:`Deliveries` (:mod:`expediter.engine.deliveries`) runs them on its
storage.

A dead letter with ``holds_lane`` set holds its lane: no delivery stored after it goes until it is
replayed (see the lane rules in :mod:`expediter.engine.deliveries`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from expediter.storage.base import Row, Tx, from_iso


class DeliveryState(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"
    HELD = "held"
    """Set aside by a flow's drift policy ``hold`` until a person accepts the change or releases it."""
    QUARANTINED = "quarantined"
    """Set aside by a flow's drift policy ``quarantine``: only a person's release delivers it."""


class DeliveryRecord(msgspec.Struct, kw_only=True):
    """A delivery as listed for people (dead letters, the dashboard)."""

    id: int
    delivery_key: str
    message_id: int
    flow_id: str
    destination: str
    location_id: str | None
    state: DeliveryState
    attempts: int
    last_error: str
    updated_at: datetime
    lane: str = ""
    holds_lane: bool = False
    """A dead letter that holds the later deliveries of its lane until it is replayed."""
    next_attempt_at: datetime | None = None
    retrying_since: datetime | None = None


class WaitingLane(msgspec.Struct, kw_only=True):
    """A lane whose first delivery cannot go now, and why (the dashboard lists these)."""

    lane: str
    destination: str
    location_id: str | None
    head: DeliveryRecord
    """The delivery the lane waits for: a dead letter that holds it, or one waiting to retry."""
    waiting: int
    """Deliveries stored after the head, waiting behind it."""


_RECORD_COLUMNS = (
    "id, delivery_key, message_id, flow_id, destination, location_id, state, attempts, last_error,"
    " updated_at, lane, holds_lane, next_attempt_at, retrying_since"
)


def _record_from_row(row: Row) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        delivery_key=row["delivery_key"],
        message_id=row["message_id"],
        flow_id=row["flow_id"],
        destination=row["destination"],
        location_id=row["location_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        updated_at=from_iso(row["updated_at"]),
        lane=row["lane"],
        holds_lane=bool(row["holds_lane"]),
        next_attempt_at=from_iso(row["next_attempt_at"]),
        retrying_since=from_iso(row["retrying_since"]) if row["retrying_since"] else None,
    )


def records(tx: Tx, state: DeliveryState | None, flow_id: str | None, limit: int) -> list[DeliveryRecord]:
    clauses, params = [], []
    if state is not None:
        clauses.append("state = ?")
        params.append(str(state))
    if flow_id is not None:
        clauses.append("flow_id = ?")
        params.append(flow_id)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = f"SELECT {_RECORD_COLUMNS} FROM deliveries{where} ORDER BY id LIMIT ?"
    return [_record_from_row(r) for r in tx.all(sql, [*params, limit])]


def record(tx: Tx, delivery_id: int) -> DeliveryRecord | None:
    row = tx.one(f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,))
    return _record_from_row(row) if row else None


def dead_by_flow(tx: Tx) -> dict[str, int]:
    rows = tx.all(
        "SELECT flow_id, COUNT(*) AS n FROM deliveries WHERE state = ? GROUP BY flow_id",
        (DeliveryState.DEAD,),
    )
    return {row["flow_id"]: int(row["n"]) for row in rows}


def pending_by_lane(tx: Tx) -> dict[str, int]:
    """Deliveries not yet delivered (pending or retrying) per lane."""
    return {row[0]: int(row[1]) for row in tx.all(_OPEN_BY_LANE)}


def counts(tx: Tx) -> dict[DeliveryState, int]:
    rows = tx.all("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
    return {DeliveryState(r[0]): int(r[1]) for r in rows}


def waiting_lanes(tx: Tx, limit: int) -> list[WaitingLane]:
    heads = [_record_from_row(r) for r in tx.all(_WAITING_HEADS, (limit,))]
    open_by_lane = pending_by_lane(tx)
    return [_waiting(head, open_by_lane.get(head.lane, 0)) for head in heads]


def replay(tx: Tx, condition: str, param_sets: list[tuple[object, ...]], now: str) -> list[str]:
    """Dead letters matching ``condition`` back to pending (attempts reset, lane released);
    returns the lane of each one moved."""
    sql = (
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = '',"
        " holds_lane = 0, retrying_since = NULL,"
        f" updated_at = ? WHERE state = 'dead' AND {condition} RETURNING lane"
    )
    return [row[0] for params in param_sets for row in tx.all(sql, (now, now, *params))]


def held_messages(tx: Tx) -> list[int]:
    """The messages with a delivery held by a drift policy."""
    rows = tx.all("SELECT DISTINCT message_id FROM deliveries WHERE state = ?", (DeliveryState.HELD,))
    return [int(row[0]) for row in rows]


def release(tx: Tx, message_ids: list[int], states: list[DeliveryState], now: str) -> list[str]:
    """The deliveries of these messages in ``states`` (set aside by a drift policy) back to
    pending; returns the lane of each one moved."""
    marks = ", ".join("?" * len(states))
    sql = (
        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, updated_at = ?"
        f" WHERE message_id = ? AND state IN ({marks}) RETURNING lane"
    )
    values = [str(state) for state in states]
    return [row[0] for message_id in message_ids for row in tx.all(sql, (now, now, message_id, *values))]


_WAITING_HEADS = (
    f"SELECT {_RECORD_COLUMNS} FROM deliveries WHERE id IN (SELECT MIN(id) FROM deliveries"
    " WHERE state IN ('pending', 'retrying') OR (state = 'dead' AND holds_lane = 1) GROUP BY lane)"
    " AND state IN ('retrying', 'dead') ORDER BY id LIMIT ?"
)
"""Each lane's first open delivery (a holding dead letter counts), when it is not simply pending."""
_OPEN_BY_LANE = "SELECT lane, COUNT(*) FROM deliveries WHERE state IN ('pending', 'retrying') GROUP BY lane"


def _waiting(head: DeliveryRecord, open_in_lane: int) -> WaitingLane:
    destination, _, location = head.lane.rpartition("|")
    behind = open_in_lane - (head.state is DeliveryState.RETRYING)
    return WaitingLane(
        lane=head.lane, destination=destination, location_id=location or None, head=head, waiting=behind
    )


def open_lanes(tx: Tx) -> list[str]:
    """Lanes with work that may go: pending or retrying deliveries ahead of any dead letter that
    holds the lane."""
    held = held_lanes(tx)
    rows = tx.all("SELECT lane, MIN(id) FROM deliveries WHERE state IN ('pending', 'retrying') GROUP BY lane")
    return [row[0] for row in rows if row[0] not in held or row[1] < held[row[0]]]


def held_lanes(tx: Tx) -> dict[str, int]:
    """Per held lane, the id of the dead letter holding it."""
    rows = tx.all(
        "SELECT lane, MIN(id) FROM deliveries WHERE state = 'dead' AND holds_lane = 1 GROUP BY lane"
    )
    return {row[0]: int(row[1]) for row in rows}


def release_unordered(tx: Tx, ordered_flows: list[str]) -> None:
    """Dead letters only hold lanes for flows that (still) keep order."""
    keep = f" AND flow_id NOT IN ({', '.join('?' for _ in ordered_flows)})" if ordered_flows else ""
    tx.execute(
        f"UPDATE deliveries SET holds_lane = 0 WHERE state = 'dead' AND holds_lane = 1{keep}", ordered_flows
    )


def undelivered_payloads(tx: Tx, flow_id: str, kind: str, since: str, limit: int = 10_000) -> list[bytes]:
    """The payloads of ``kind`` messages stored since ``since`` whose delivery for ``flow_id`` has
    not landed (pending, retrying or dead): what a broken flow is holding back."""
    rows = tx.all(
        "SELECT m.payload FROM deliveries d JOIN messages m ON m.id = d.message_id"
        " WHERE d.state IN ('pending', 'retrying', 'dead') AND d.flow_id = ? AND m.kind = ?"
        " AND m.received_at >= ? ORDER BY d.id LIMIT ?",
        (flow_id, kind, since, limit),
    )
    return [bytes(row[0]) for row in rows]


class DeadLetter(msgspec.Struct, kw_only=True):
    """A dead letter with its original message, for the flow page."""

    record: DeliveryRecord
    kind: str
    content_type: str
    payload: bytes
    received_at: datetime


def dead_letters_with_payload(tx: Tx, flow_id: str, limit: int) -> list[DeadLetter]:
    """``flow_id``'s dead letters, oldest first, each with the message it carried."""
    columns = ", ".join(f"d.{c.strip()}" for c in _RECORD_COLUMNS.split(","))
    rows = tx.all(
        f"SELECT {columns}, m.kind AS m_kind, m.content_type AS m_type, m.payload AS m_payload,"
        " m.received_at AS m_received FROM deliveries d JOIN messages m ON m.id = d.message_id"
        " WHERE d.state = 'dead' AND d.flow_id = ? ORDER BY d.id LIMIT ?",
        (flow_id, limit),
    )
    return [
        DeadLetter(
            record=_record_from_row(row),
            kind=row["m_kind"],
            content_type=row["m_type"],
            payload=bytes(row["m_payload"]),
            received_at=from_iso(row["m_received"]),
        )
        for row in rows
    ]
