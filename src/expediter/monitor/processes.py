"""The hub processes sharing one database, as their heartbeats in ``hub_processes`` tell.

Every ``expediter serve`` process writes its row (id, host, pid, when it started, when it was last
seen, the parts it holds, its version) every ``[hub] takeover_seconds``; a row not refreshed for
:data:`STALE_BEATS` beats is a process that stopped (or lost the database). ``expediter status``
and ``GET /api/v1/status`` list them.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import msgspec

from expediter.storage.base import Tx, from_iso, to_iso

STALE_BEATS = 3
"""Beats a living process never misses in a row."""
FORGET_AFTER = timedelta(days=1)
"""A stale row this old is removed: that process is long gone."""


class HubProcess(msgspec.Struct, kw_only=True):
    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    role: list[str]
    """The parts that run once that it holds (``scheduler``, ``alert watch``, ``kitchen``, ...)."""
    version: str
    alive: bool = True


class Heartbeat(msgspec.Struct, kw_only=True):
    """This process's row, written again at every beat."""

    id: str
    started_at: datetime
    version: str
    host: str = msgspec.field(default_factory=socket.gethostname)
    pid: int = msgspec.field(default_factory=os.getpid)

    def write(self, tx: Tx, now: datetime, role: list[str]) -> None:
        values = (self.host, self.pid, to_iso(self.started_at), to_iso(now), ",".join(role), self.version)
        tx.execute(
            "INSERT INTO hub_processes (id, host, pid, started_at, last_seen, role, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
            " role = excluded.role",
            (self.id, *values),
        )
        tx.execute("DELETE FROM hub_processes WHERE last_seen < ?", (to_iso(now - FORGET_AFTER),))

    def remove(self, tx: Tx) -> None:
        tx.execute("DELETE FROM hub_processes WHERE id = ?", (self.id,))


def hub_processes(tx: Tx, now: datetime, beat_seconds: float) -> list[HubProcess]:
    """Every process with a row, the living first; ``alive`` by how recent its last beat is."""
    stale_before = now - timedelta(seconds=beat_seconds * STALE_BEATS)
    rows = tx.all(
        "SELECT id, host, pid, started_at, last_seen, role, version FROM hub_processes"
        " ORDER BY last_seen DESC, id"
    )
    found = [
        HubProcess(
            id=row["id"],
            host=row["host"],
            pid=int(row["pid"]),
            started_at=from_iso(row["started_at"]),
            last_seen=from_iso(row["last_seen"]),
            role=[part for part in row["role"].split(",") if part],
            version=row["version"],
            alive=from_iso(row["last_seen"]) >= stale_before,
        )
        for row in rows
    ]
    return sorted(found, key=lambda process: not process.alive)
