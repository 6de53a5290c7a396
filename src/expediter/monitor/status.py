"""The state of a hub group at a glance: its processes, its database, its delivery lag, and every
other health source (``expediter status``, ``GET /api/v1/status``, the dashboard).

The status is one :class:`HubStatus`, gathered from plain SQL reads (a ``read`` function: the
running hub's storage, or one connection opened from outside by ``expediter status``) plus the
**health sources**: coroutines that each report one part the hub depends on beyond its database.
A source is added to :data:`HEALTH_SOURCES` (or passed to :func:`hub_status`)::

    async def message_bus(context: StatusContext) -> SourceHealth:
        ...  # ask the bus; say whether it is healthy, and a few facts
        return SourceHealth(name="message bus", healthy=True, detail="3 servers", facts={...})

    HEALTH_SOURCES.append(message_bus)

A source that raises is reported unhealthy with its error; it never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from expediter.catalog.schema import Catalog
from expediter.monitor.processes import HubProcess, hub_processes
from expediter.storage.base import Tx, from_iso
from expediter.storage.migrations import MIGRATIONS

LANES_SHOWN = 10
"""Lanes listed in the delivery lag (those with the most pending deliveries)."""

Reader = Callable[[Callable[[Tx], object]], Awaitable[object]]


class DatabaseHealth(msgspec.Struct, kw_only=True):
    backend: str
    reachable: bool
    latency_ms: float | None = None
    """One round trip (``SELECT 1``), as measured by the asking process."""
    migrations_pending: list[str] = []
    """Migrations this version knows that the database has not applied (a hub started with this
    version applies them)."""
    migrations_unknown: list[str] = []
    """Migrations the database has that this version does not know (a newer hub ran on it)."""
    error: str = ""

    @property
    def healthy(self) -> bool:
        return self.reachable and not self.migrations_pending


class LaneLag(msgspec.Struct, kw_only=True):
    lane: str
    pending: int
    oldest: datetime


class DeliveryLag(msgspec.Struct, kw_only=True):
    pending: int = 0
    """Deliveries not delivered yet (pending or retrying)."""
    oldest_seconds: float | None = None
    """The age of the oldest of them (from its message's arrival)."""
    lanes: list[LaneLag] = []
    """The lanes with the most of them (at most :data:`LANES_SHOWN`)."""


class SourceHealth(msgspec.Struct, kw_only=True):
    """One health source's report (the message bus, ...)."""

    name: str
    healthy: bool
    detail: str = ""
    facts: dict[str, str] = {}


class HubStatus(msgspec.Struct, kw_only=True):
    healthy: bool
    problems: list[str]
    """Why it is not healthy (empty when it is)."""
    at: datetime
    database: DatabaseHealth
    processes: list[HubProcess] = []
    deliveries: DeliveryLag = msgspec.field(default_factory=DeliveryLag)
    sources: list[SourceHealth] = []
    """What the health sources reported (the message bus's section)."""


class StatusContext(msgspec.Struct, kw_only=True, frozen=True):
    """What a health source may use: the catalog (its settings) and the time of the status."""

    catalog: Catalog
    now: datetime


HealthSource = Callable[[StatusContext], Awaitable[SourceHealth]]
HEALTH_SOURCES: list[HealthSource] = []
"""The health sources every status asks (besides the database and the processes)."""


async def hub_status(
    catalog: Catalog,
    read: Reader | None,
    backend: str,
    now: datetime,
    *,
    sources: list[HealthSource] | None = None,
    unreachable: str = "",
) -> HubStatus:
    """The status through ``read`` (``None``: the database could not be reached, ``unreachable``
    says why)."""
    database = DatabaseHealth(backend=backend, reachable=False, error=unreachable)
    processes: list[HubProcess] = []
    lag = DeliveryLag()
    if read is not None:
        database = await _database(read, backend)
    if database.reachable and read is not None:
        beat = catalog.hub.takeover_seconds
        processes = await read(lambda tx: hub_processes(tx, now, beat))  # type: ignore[assignment]
        lag = await read(lambda tx: delivery_lag(tx, now))  # type: ignore[assignment]
    context = StatusContext(catalog=catalog, now=now)
    reports = [await _ask(source, context) for source in (HEALTH_SOURCES if sources is None else sources)]
    problems = _problems(database, processes, reports)
    return HubStatus(
        healthy=not problems,
        problems=problems,
        at=now,
        database=database,
        processes=processes,
        deliveries=lag,
        sources=reports,
    )


async def _database(read: Reader, backend: str) -> DatabaseHealth:
    started = time.perf_counter()  # a round trip's length, not business time
    try:
        await read(lambda tx: tx.one("SELECT 1"))
        latency = (time.perf_counter() - started) * 1000
        applied: set[str] = await read(_applied)  # type: ignore[assignment]
    except Exception as exc:
        return DatabaseHealth(backend=backend, reachable=False, error=_first_line(exc))
    known = [name for name, _ in MIGRATIONS]
    return DatabaseHealth(
        backend=backend,
        reachable=True,
        latency_ms=round(latency, 2),
        migrations_pending=[name for name in known if name not in applied],
        migrations_unknown=sorted(applied - set(known)),
    )


def _applied(tx: Tx) -> set[str]:
    return {row[0] for row in tx.all("SELECT name FROM migrations")}


def delivery_lag(tx: Tx, now: datetime) -> DeliveryLag:
    rows = tx.all(
        "SELECT d.lane, COUNT(*) AS n, MIN(m.received_at) AS oldest FROM deliveries d"
        " JOIN messages m ON m.id = d.message_id WHERE d.state IN ('pending', 'retrying')"
        " GROUP BY d.lane ORDER BY COUNT(*) DESC, d.lane"
    )
    lanes = [LaneLag(lane=row["lane"], pending=int(row["n"]), oldest=from_iso(row["oldest"])) for row in rows]
    if not lanes:
        return DeliveryLag()
    oldest = min(lane.oldest for lane in lanes)
    return DeliveryLag(
        pending=sum(lane.pending for lane in lanes),
        oldest_seconds=round(max(0.0, (now - oldest).total_seconds()), 1),
        lanes=lanes[:LANES_SHOWN],
    )


async def _ask(source: HealthSource, context: StatusContext) -> SourceHealth:
    try:
        return await source(context)
    except Exception as exc:
        name = getattr(source, "__name__", "health source").replace("_", " ")
        return SourceHealth(name=name, healthy=False, detail=f"{type(exc).__name__}: {exc}")


def _problems(
    database: DatabaseHealth, processes: list[HubProcess], sources: list[SourceHealth]
) -> list[str]:
    problems = []
    if not database.reachable:
        problems.append(f"the database cannot be reached: {database.error}")
    elif database.migrations_pending:
        problems.append(f"migrations not applied: {', '.join(database.migrations_pending)}")
    alive = [process for process in processes if process.alive]
    if database.reachable and not alive:
        problems.append("no hub process is running (no heartbeat within the last beats)")
    primaries = [process for process in alive if "primary" in process.role]
    if alive and not primaries:
        problems.append("no running hub process holds the scheduler and the alert watch")
    if len(primaries) > 1:
        problems.append(f"{len(primaries)} hub processes say they hold the scheduler")
    problems += [f"{source.name}: {source.detail or 'unhealthy'}" for source in sources if not source.healthy]
    return problems


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
