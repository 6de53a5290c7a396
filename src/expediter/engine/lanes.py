"""Lanes and dead letters as people see them: delivery records, the lanes that wait and why,
dead-letter counts and replay. Functions of a transaction (``Tx``); :class:`Deliveries`
(:mod:`expediter.engine.deliveries`) runs them on its storage.

A dead letter with ``holds_lane`` set holds its lane: no delivery stored after it goes until it is
replayed (see the lane rules in :mod:`expediter.engine.deliveries`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from expediter.engine.storage.base import Row, Tx, from_iso


class DeliveryState(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


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
