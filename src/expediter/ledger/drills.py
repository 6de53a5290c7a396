"""Drills in the ledger: each time a flow was broken on purpose to see its alert reach someone.

A drill (``expediter drill FLOW``, or a flow's ``drill_schedule``) is ``running`` while it breaks
the flow (phase ``break``) and mends it (phase ``fix``), then ``passed`` or ``failed`` with the
reason, and the steps it saw. The delivery worker reads the phase to decide how the drill's own
delivery behaves (see :mod:`expediter.engine.drill_lane`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from expediter.storage.base import Row, Tx, from_iso, to_iso

STALE_AFTER = timedelta(minutes=15)
"""A drill still ``running`` after this long was abandoned (its process was killed)."""


class DrillState(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class DrillPhase(StrEnum):
    BREAK = "break"
    """The drill's delivery fails at once (a dead letter)."""
    FIX = "fix"
    """The drill's delivery succeeds (nothing is sent anywhere)."""


class Drill(msgspec.Struct, kw_only=True):
    id: int
    flow_id: str
    state: DrillState
    phase: DrillPhase
    started_at: datetime
    finished_at: datetime | None = None
    reason: str = ""
    steps: list[str] = []


_COLUMNS = "id, flow_id, state, phase, started_at, finished_at, reason, steps"


def start_drill(tx: Tx, flow_id: str, now: datetime) -> int:
    drill_id = tx.insert(
        "INSERT INTO drills (flow_id, state, phase, started_at) VALUES (?, ?, ?, ?)",
        (flow_id, str(DrillState.RUNNING), str(DrillPhase.BREAK), to_iso(now)),
    )
    assert drill_id is not None
    return drill_id


def set_phase(tx: Tx, drill_id: int, phase: DrillPhase) -> None:
    tx.execute("UPDATE drills SET phase = ? WHERE id = ?", (str(phase), drill_id))


def finish_drill(tx: Tx, drill_id: int, passed: bool, reason: str, steps: list[str], now: datetime) -> None:
    state = DrillState.PASSED if passed else DrillState.FAILED
    tx.execute(
        "UPDATE drills SET state = ?, phase = ?, finished_at = ?, reason = ?, steps = ? WHERE id = ?",
        (
            str(state),
            str(DrillPhase.FIX),
            to_iso(now),
            reason[:2000],
            msgspec.json.encode(steps).decode(),
            drill_id,
        ),
    )


def drill_phase(tx: Tx, drill_id: int) -> DrillPhase | None:
    row = tx.one("SELECT phase FROM drills WHERE id = ?", (drill_id,))
    return DrillPhase(row["phase"]) if row is not None else None


def running_drills(tx: Tx, now: datetime) -> list[Drill]:
    """Drills running now (not those abandoned: see :data:`STALE_AFTER`)."""
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM drills WHERE state = ? AND started_at >= ? ORDER BY id",
        (str(DrillState.RUNNING), to_iso(now - STALE_AFTER)),
    )
    return [_drill_from_row(row) for row in rows]


def drills_of(tx: Tx, flow_id: str, limit: int = 20) -> list[Drill]:
    """The flow's drills, newest first."""
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM drills WHERE flow_id = ? ORDER BY id DESC LIMIT ?", (flow_id, limit)
    )
    return [_drill_from_row(row) for row in rows]


def _drill_from_row(row: Row) -> Drill:
    return Drill(
        id=int(row["id"]),
        flow_id=row["flow_id"],
        state=DrillState(row["state"]),
        phase=DrillPhase(row["phase"]),
        started_at=from_iso(row["started_at"]),
        finished_at=from_iso(row["finished_at"]) if row["finished_at"] else None,
        reason=row["reason"],
        steps=msgspec.json.decode(row["steps"], type=list[str]) if row["steps"] else [],
    )
