"""What the hub counts as it works (messages accepted and duplicate, delivery attempts by outcome,
delivery latency), shared by every hub process through the database.

Each process counts in memory — a dictionary increment, so nothing on the order path waits for
it — and adds what it counted to the ``metric_counters`` table at most every
:data:`FLUSH_SECONDS`, whenever ``/metrics`` is read, and when it stops. The table holds the totals
of every process that ever ran on the database, so with several hub processes (``serve --workers
N``) each answer to ``/metrics`` gives the same totals, which never go down between two scrapes
and lag the other processes by at most :data:`FLUSH_SECONDS` (counts of a process killed with
``kill -9`` in its last second are lost; everything it stored is not).

Counts are integers (latency sums in microseconds), so they are exact in any database.
"""

from __future__ import annotations

import bisect
from enum import StrEnum

import msgspec

from expediter.storage.base import Storage, Tx

FLUSH_SECONDS = 1.0
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    1800.0,
    3600.0,
)
"""Seconds from a message being stored to its delivery: a kitchen ticket within a second, a
destination that was down for an hour, and everything between."""
INFINITY = "+Inf"


class Count(StrEnum):
    """The counted series; each has fixed label names (see :data:`LABELS`)."""

    MESSAGES_ACCEPTED = "messages_accepted"
    MESSAGES_DUPLICATE = "messages_duplicate"
    DELIVERIES = "deliveries"
    LATENCY_BUCKET = "delivery_latency_bucket"
    """Deliveries whose latency fell in the bucket ``le`` (not cumulative; the exposition adds up)."""
    LATENCY_SUM_US = "delivery_latency_sum_us"
    LATENCY_COUNT = "delivery_latency_count"


LABELS: dict[Count, tuple[str, ...]] = {
    Count.MESSAGES_ACCEPTED: ("source", "kind"),
    Count.MESSAGES_DUPLICATE: ("source", "kind"),
    Count.DELIVERIES: ("flow", "outcome"),
    Count.LATENCY_BUCKET: ("flow", "le"),
    Count.LATENCY_SUM_US: ("flow",),
    Count.LATENCY_COUNT: ("flow",),
}

Key = tuple[Count, tuple[str, ...]]
_UPSERT = (
    "INSERT INTO metric_counters (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels)"
    " DO UPDATE SET value = metric_counters.value + excluded.value"
)


def bucket_for(seconds: float) -> str:
    """The ``le`` of the smallest bucket that holds ``seconds``."""
    index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
    return INFINITY if index == len(LATENCY_BUCKETS) else repr(LATENCY_BUCKETS[index])


class Counters:
    """This process's counts not yet added to the database."""

    def __init__(self) -> None:
        self._pending: dict[Key, int] = {}

    def _add(self, key: Key, amount: int = 1) -> None:
        self._pending[key] = self._pending.get(key, 0) + amount

    def message(self, source: str, kind: str, *, duplicate: bool) -> None:
        count = Count.MESSAGES_DUPLICATE if duplicate else Count.MESSAGES_ACCEPTED
        self._add((count, (source, kind)))

    def delivery(self, flow_id: str, outcome: str, latency: float | None = None) -> None:
        """One attempt and its outcome; ``latency`` (seconds since the message was stored) when it
        was delivered."""
        self._add((Count.DELIVERIES, (flow_id, outcome)))
        if latency is not None:
            self._add((Count.LATENCY_BUCKET, (flow_id, bucket_for(latency))))
            self._add((Count.LATENCY_SUM_US, (flow_id,)), round(max(latency, 0.0) * 1_000_000))
            self._add((Count.LATENCY_COUNT, (flow_id,)))

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    async def flush(self, storage: Storage) -> None:
        """Add what was counted since the last flush to the database's totals."""
        if not self._pending:
            return
        taken, self._pending = self._pending, {}
        # sorted: processes flushing at once lock the same rows in the same order (no deadlock)
        rows = sorted((str(name), _encode(labels), value) for (name, labels), value in taken.items())
        try:
            await storage.write(lambda tx: _add_rows(tx, rows))
        except Exception:
            for key, value in taken.items():  # not stored: keep them for the next flush
                self._add(key, value)
            raise


def _add_rows(tx: Tx, rows: list[tuple[str, str, int]]) -> None:
    for row in rows:
        tx.execute(_UPSERT, row)


def _encode(labels: tuple[str, ...]) -> str:
    return msgspec.json.encode(labels).decode()


def totals(tx: Tx) -> dict[Key, int]:
    """Every process's counts, as the database holds them."""
    found: dict[Key, int] = {}
    names = {str(count): count for count in Count}
    for row in tx.all("SELECT name, labels, value FROM metric_counters"):
        count = names.get(row["name"])
        if count is not None:
            found[(count, tuple(msgspec.json.decode(row["labels"], type=list[str])))] = int(row["value"])
    return found
