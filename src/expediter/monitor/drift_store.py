"""The tables of schema drift (migration ``0015_drift``): every query of them is here.

- ``drift_streams``: per inbound stream (``<source system>/<kind>``, or ``file:<flow id>``), how
  many payloads taught its shape and whether it is still learning;
- ``drift_fields``: what the stream sent so far, a path (or column) at a time;
- ``drifts``: each change seen (``added``, ``removed``, ``retyped``), with an example, how often,
  and whether a person accepted it;
- ``drift_messages``: which stored messages showed which change (what a release delivers);
- ``drift_files`` and ``drift_file_links``: files a flow's ``hold`` policy keeps until released.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from expediter.monitor.shapes import Change, FieldChange, FieldShape
from expediter.storage.base import Storage, Tx, from_iso, now_iso


class DriftState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"


class HeldState(StrEnum):
    HELD = "held"
    RELEASED = "released"


class Drift(msgspec.Struct, kw_only=True):
    id: int
    stream: str
    change: FieldChange
    example: str
    first_message_id: int | None
    state: DriftState
    seen: int
    first_seen_at: datetime
    last_seen_at: datetime
    accepted_at: datetime | None = None


class StreamRecord(msgspec.Struct, kw_only=True):
    stream: str
    source_system: str
    kind: str
    messages: int
    learning: bool
    fields: dict[str, FieldShape]
    open: list[Drift]


class HeldFile(msgspec.Struct, kw_only=True):
    id: int
    flow_id: str
    file_name: str
    checksum: str
    payload: bytes


_DRIFT_COLUMNS = (
    "id, stream, path, change, known_types, seen_type, example, first_message_id, state, seen,"
    " first_seen_at, last_seen_at, accepted_at"
)


def _drift(row: Any) -> Drift:
    return Drift(
        id=int(row["id"]),
        stream=row["stream"],
        change=FieldChange(
            path=row["path"],
            change=Change(row["change"]),
            known_types=row["known_types"],
            seen_type=row["seen_type"],
        ),
        example=row["example"],
        first_message_id=row["first_message_id"],
        state=DriftState(row["state"]),
        seen=int(row["seen"]),
        first_seen_at=from_iso(row["first_seen_at"]),
        last_seen_at=from_iso(row["last_seen_at"]),
        accepted_at=from_iso(row["accepted_at"]) if row["accepted_at"] else None,
    )


def _field(row: Any) -> FieldShape:
    return FieldShape(types=frozenset(row["types"].split(",")), required=bool(row["required"]))


# -- reading -------------------------------------------------------------------------------------


def read_streams(tx: Tx) -> list[StreamRecord]:
    """Every stream with what it knows and its open drifts (loaded at start, and on change)."""
    fields: dict[str, dict[str, FieldShape]] = {}
    for row in tx.all("SELECT stream, path, types, required FROM drift_fields"):
        fields.setdefault(row["stream"], {})[row["path"]] = _field(row)
    open_drifts: dict[str, list[Drift]] = {}
    for row in tx.all(f"SELECT {_DRIFT_COLUMNS} FROM drifts WHERE state = ?", (DriftState.OPEN.value,)):
        drift = _drift(row)
        open_drifts.setdefault(drift.stream, []).append(drift)
    return [
        StreamRecord(
            stream=row["stream"],
            source_system=row["source_system"],
            kind=row["kind"],
            messages=int(row["messages"]),
            learning=bool(row["learning"]),
            fields=fields.get(row["stream"], {}),
            open=open_drifts.get(row["stream"], []),
        )
        for row in tx.all("SELECT stream, source_system, kind, messages, learning FROM drift_streams")
    ]


def version(tx: Tx) -> str:
    """Changes whenever a stream learns or a drift changes state (cheap to ask every second)."""
    row = tx.one(
        "SELECT (SELECT MAX(updated_at) FROM drift_streams) AS streams,"
        " (SELECT MAX(COALESCE(accepted_at, first_seen_at)) FROM drifts) AS drifts"
    )
    return f"{row['streams'] or ''}|{row['drifts'] or ''}" if row else ""


async def drifts(storage: Storage, *, every: bool = False, ids: Sequence[int] = ()) -> list[Drift]:
    """The open drifts (``every``: accepted ones too; ``ids``: just those), oldest first."""
    clauses: list[str] = []
    params: list[Any] = []
    if not every:
        clauses.append("state = ?")
        params.append(DriftState.OPEN.value)
    if ids:
        clauses.append(f"id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {_DRIFT_COLUMNS} FROM drifts{where} ORDER BY id"
    return await storage.read(lambda tx: [_drift(r) for r in tx.all(sql, params)])


async def messages_of(storage: Storage, drift_ids: Sequence[int], *, alone: bool) -> list[int]:
    """The messages that showed these drifts; ``alone``: only those showing no other open drift."""
    if not drift_ids:
        return []
    marks = ", ".join("?" * len(drift_ids))
    sql = f"SELECT DISTINCT message_id FROM drift_messages WHERE drift_id IN ({marks})"
    if alone:
        sql += (
            " AND message_id NOT IN (SELECT l.message_id FROM drift_messages l"
            f" JOIN drifts d ON d.id = l.drift_id WHERE d.state = ? AND d.id NOT IN ({marks}))"
        )
    params = [*drift_ids, DriftState.OPEN.value, *drift_ids] if alone else list(drift_ids)
    return await storage.read(lambda tx: [int(r["message_id"]) for r in tx.all(sql, params)])


async def settled(storage: Storage, message_ids: Sequence[int]) -> list[int]:
    """Of these messages, those that showed drifts and no open one (every one was accepted)."""
    if not message_ids:
        return []
    marks = ", ".join("?" * len(message_ids))
    sql = (
        f"SELECT DISTINCT l.message_id FROM drift_messages l WHERE l.message_id IN ({marks}) AND NOT EXISTS"
        " (SELECT 1 FROM drift_messages o JOIN drifts d ON d.id = o.drift_id"
        " WHERE o.message_id = l.message_id AND d.state = ?)"
    )
    params = [*message_ids, DriftState.OPEN.value]
    return await storage.read(lambda tx: [int(r["message_id"]) for r in tx.all(sql, params)])


async def origin_drifts(storage: Storage, message_id: int) -> list[int]:
    """The open drifts a stored message showed (a processor's output inherits them)."""
    sql = (
        "SELECT l.drift_id FROM drift_messages l JOIN drifts d ON d.id = l.drift_id"
        " WHERE l.message_id = ? AND d.state = ?"
    )
    return await storage.read(
        lambda tx: [int(r["drift_id"]) for r in tx.all(sql, (message_id, DriftState.OPEN.value))]
    )


async def held_files(storage: Storage, drift_ids: Sequence[int]) -> list[HeldFile]:
    if not drift_ids:
        return []
    marks = ", ".join("?" * len(drift_ids))
    sql = (
        "SELECT DISTINCT f.id, f.flow_id, f.file_name, f.checksum, f.payload FROM drift_files f"
        f" JOIN drift_file_links l ON l.file_id = f.id WHERE l.drift_id IN ({marks})"
        " AND f.state = ? ORDER BY f.id"
    )
    params = [*drift_ids, HeldState.HELD.value]
    return await storage.read(
        lambda tx: [
            HeldFile(
                id=int(r["id"]),
                flow_id=r["flow_id"],
                file_name=r["file_name"],
                checksum=r["checksum"],
                payload=bytes(r["payload"]),
            )
            for r in tx.all(sql, params)
        ]
    )


# -- writing (inside the transaction that stores what showed the change) ----------------------------


def save_stream(tx: Tx, stream: str, source: str, kind: str, messages: int, learning: bool) -> None:
    tx.execute(
        "INSERT INTO drift_streams (stream, source_system, kind, messages, learning, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET messages = excluded.messages,"
        " learning = excluded.learning, updated_at = excluded.updated_at",
        (stream, source, kind, messages, int(learning), now_iso()),
    )


def save_fields(tx: Tx, stream: str, fields: Iterable[tuple[str, FieldShape]]) -> None:
    now = now_iso()
    for path, field in fields:
        tx.execute(
            "INSERT INTO drift_fields (stream, path, types, required, first_seen_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (stream, path) DO UPDATE SET types = excluded.types, required = excluded.required",
            (stream, path, ",".join(sorted(field.types)), int(field.required), now),
        )


def save_drift(tx: Tx, stream: str, change: FieldChange, example: str, message_id: int | None) -> int:
    """The drift's id: new, or the one already recorded (seen once more)."""
    now = now_iso()
    existing = tx.one(
        "SELECT id FROM drifts WHERE stream = ? AND path = ? AND change = ? AND seen_type = ?",
        (stream, change.path, change.change.value, change.seen_type),
    )
    if existing is not None:
        tx.execute("UPDATE drifts SET seen = seen + 1, last_seen_at = ? WHERE id = ?", (now, existing["id"]))
        return int(existing["id"])
    found = tx.insert(
        "INSERT INTO drifts (stream, path, change, known_types, seen_type, example, first_message_id, state,"
        " seen, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (
            stream,
            change.path,
            change.change.value,
            change.known_types,
            change.seen_type,
            example,
            message_id,
            DriftState.OPEN.value,
            now,
            now,
        ),
    )
    assert found is not None
    return found


def link_message(tx: Tx, drift_id: int, message_id: int) -> None:
    tx.execute(
        "INSERT INTO drift_messages (drift_id, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (drift_id, message_id),
    )


def hold_file(
    tx: Tx, flow_id: str, file_name: str, checksum: str, payload: bytes, drift_ids: Iterable[int]
) -> int:
    file_id = tx.insert(
        "INSERT INTO drift_files (flow_id, file_name, checksum, state, received_at, payload)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (flow_id, file_name, checksum, HeldState.HELD.value, now_iso(), payload),
    )
    assert file_id is not None
    for drift_id in drift_ids:
        tx.execute("INSERT INTO drift_file_links (drift_id, file_id) VALUES (?, ?)", (drift_id, file_id))
    return file_id


async def accept(
    storage: Storage, drift_ids: Sequence[int], fields: dict[str, list[tuple[str, FieldShape]]]
) -> None:
    """Mark the drifts accepted and store what their streams know now."""
    now = now_iso()

    def write(tx: Tx) -> None:
        for drift_id in drift_ids:
            tx.execute(
                "UPDATE drifts SET state = ?, accepted_at = ? WHERE id = ?",
                (DriftState.ACCEPTED.value, now, drift_id),
            )
        for stream, learned in fields.items():
            save_fields(tx, stream, learned)
            tx.execute("UPDATE drift_streams SET updated_at = ? WHERE stream = ?", (now, stream))

    await storage.write(write)


async def released_file(storage: Storage, file_id: int) -> None:
    await storage.write(
        lambda tx: tx.execute(
            "UPDATE drift_files SET state = ?, released_at = ? WHERE id = ?",
            (HeldState.RELEASED.value, now_iso(), file_id),
        )
    )
