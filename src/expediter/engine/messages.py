"""Reading stored messages by kind, location and business date.

The ``messages`` table belongs to the inbox: the inbox writes it and looks messages up by id and
ref (:mod:`expediter.engine.inbox`), and every other query of it is here, as functions of a
:class:`~expediter.storage.base.Tx` (run them in ``storage.read``). Nothing else in the
hub names the table: exporters get what they need from the engine (``ExportRequest``), the web
and the runtime call these.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from expediter.storage.base import Row, Tx


def newest_id(tx: Tx) -> int:
    """The highest message id stored (0 when there is none)."""
    row = tx.one("SELECT MAX(id) AS id FROM messages")
    return int(row["id"]) if row is not None and row["id"] is not None else 0


def of_kind(
    tx: Tx, kind: str, location_id: str, first: date | None = None, last: date | None = None
) -> list[Row]:
    """``id, ref, payload`` of every stored version of ``kind`` at ``location_id`` (of business
    dates ``first`` to ``last`` when given), in no particular order: callers pick the newest by
    (version, id), so SQLite streams the rows from its index instead of sorting a day's payloads."""
    sql = "SELECT id, ref, payload FROM messages WHERE kind = ? AND location_id = ?"
    params: list[Any] = [kind, location_id]
    if first is not None and last is not None:
        sql += " AND business_date >= ? AND business_date <= ?"
        params += [first.isoformat(), last.isoformat()]
    return tx.all(sql, params)


def payloads_between(tx: Tx, kind: str, location_id: str, first: date, last: date) -> list[bytes]:
    """Every stored version's payload of business dates ``first`` to ``last``, in arrival order."""
    rows = tx.all(
        "SELECT payload FROM messages WHERE kind = ? AND location_id = ?"
        " AND business_date >= ? AND business_date <= ? ORDER BY id",
        [kind, location_id, first.isoformat(), last.isoformat()],
    )
    return [bytes(row["payload"]) for row in rows]


def latest_up_to(tx: Tx, kind: str, location_id: str, day: date, most: int = 200) -> list[tuple[str, bytes]]:
    """``(business_date, payload)`` of ``kind`` on ``day`` and before, newest first (at most ``most``)."""
    rows = tx.all(
        "SELECT business_date, payload FROM messages WHERE kind = ? AND location_id = ?"
        " AND business_date <= ? ORDER BY business_date DESC, id DESC LIMIT ?",
        [kind, location_id, day.isoformat(), most],
    )
    return [(row["business_date"], bytes(row["payload"])) for row in rows]


def count_on(tx: Tx, kind: str, location_id: str, day: date) -> int:
    """How many versions of ``kind`` were stored for ``location_id`` on business date ``day``."""
    row = tx.one(
        "SELECT COUNT(*) AS n FROM messages WHERE kind = ? AND location_id = ? AND business_date = ?",
        (kind, location_id, day.isoformat()),
    )
    return int(row["n"]) if row is not None else 0


def keys_starting(tx: Tx, prefix: str, kind: str) -> list[str]:
    """The idempotency keys of ``kind`` that start with ``prefix`` (a range of the unique index)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = tx.all(
        "SELECT idempotency_key FROM messages"
        " WHERE idempotency_key >= ? AND idempotency_key < ? AND kind = ?",
        (prefix, upper, kind),
    )
    return [row["idempotency_key"] for row in rows]


def payload_at_location(tx: Tx, key: str, location_id: str | None) -> bytes | None:
    """The payload of the message stored under ``key`` for ``location_id``, if there is one."""
    row = tx.one(
        "SELECT payload FROM messages WHERE idempotency_key = ? AND location_id = ?", (key, location_id)
    )
    return None if row is None else bytes(row["payload"])


def every_of_kind(tx: Tx, kind: str) -> list[Row]:
    """``location_id, ref, payload`` of every stored message of ``kind``, oldest first."""
    return tx.all("SELECT location_id, ref, payload FROM messages WHERE kind = ? ORDER BY id", (kind,))
