"""The one place that turns the engine's ledger into :class:`FlowStatus` per flow.

The dashboard, ``expediter flows`` and the health alerts read flow status only through
:func:`statuses_from_ledger`; if the ledger's API changes, this is the only code to adapt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from expediter.monitor.health import FlowStatus


class LedgerLike(Protocol):
    """What is needed of :class:`expediter.ledger.Ledger`."""

    async def summary(self) -> dict[str, Any]: ...

    async def failures_since(self, since: datetime) -> dict[str, int]: ...

    async def watched_since(self) -> dict[str, datetime]: ...


async def statuses_from_ledger(
    ledger: LedgerLike, now: datetime, *, count_failures: bool = True
) -> dict[str, FlowStatus]:
    """Per flow id: last transfer, last outcome, last success, failures in the last 24 hours, and
    since when the hub has watched the flow. ``count_failures=False`` skips the day's failure
    count (the health does not need it; a page polling every few seconds reads only the totals)."""
    summaries = await ledger.summary()
    failures = await ledger.failures_since(now - timedelta(hours=24)) if count_failures else {}
    watched = await ledger.watched_since()
    statuses = {flow_id: FlowStatus(watched_since=since) for flow_id, since in watched.items()}
    for flow_id, summary in summaries.items():
        statuses[flow_id] = FlowStatus(
            last_transfer_at=summary.last_transfer_at,
            last_outcome=str(summary.last_outcome) if summary.last_outcome else None,
            last_success_at=summary.last_success_at,
            failures_24h=failures.get(flow_id, 0),
            watched_since=watched.get(flow_id),
        )
    return statuses


def database_path(database: str, base_dir: Path) -> Path | None:
    """The SQLite file the catalog names (relative to the catalog's folder), or ``None`` for a URL."""
    if "://" in database and not database.startswith("sqlite:///"):
        return None
    path = Path(database.removeprefix("sqlite:///"))
    return path if path.is_absolute() else base_dir / path


async def read_statuses(database: str, base_dir: Path, now: datetime) -> dict[str, FlowStatus] | None:
    """Statuses from the hub's database when it exists; ``None`` when there is none yet.

    Opening the ledger to read it is all this does; it never creates a SQLite file.
    """
    from expediter.ledger import Ledger
    from expediter.storage import is_postgres, open_storage

    path = database_path(database, base_dir)
    if not is_postgres(database) and (path is None or not path.exists()):
        return None
    storage = open_storage(database if is_postgres(database) else str(path))
    await storage.start()
    try:
        return await statuses_from_ledger(Ledger(storage), now)
    finally:
        await storage.stop()
