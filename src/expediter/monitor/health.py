"""A flow's health from what the ledger says about it: healthy, late, failing, idle or never ran.

The dashboard, ``expediter flows`` and the diagram all colour a flow by this one function, so the three
always agree.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

import msgspec
from croniter import croniter

from expediter.catalog.schedule import cron_expression, schedule_problem
from expediter.catalog.schema import Flow, Trigger
from expediter.ledger.transfers import FAILURES
from expediter.model.time import zone

FAILED_OUTCOMES: frozenset[str] = FAILURES
"""Transfer outcomes that mean the flow is not moving data now."""
DEFAULT_GRACE = timedelta(hours=1)
"""How long after its scheduled time a run without ``expected_by`` may take before it is late."""


class Health(StrEnum):
    HEALTHY = "healthy"
    LATE = "late"
    """A scheduled run has not succeeded by its deadline."""
    FAILING = "failing"
    """The last transfer failed (and is retrying, dead or waiting for a person)."""
    IDLE = "idle"
    """An event flow moved nothing for longer than its ``freshness_minutes``."""
    NEVER_RAN = "never_ran"


class FlowStatus(msgspec.Struct, kw_only=True):
    """What the ledger knows about one flow; the engine's ledger is adapted to this shape."""

    last_transfer_at: datetime | None = None
    last_outcome: str | None = None
    last_success_at: datetime | None = None
    failures_24h: int = 0
    watched_since: datetime | None = None
    """Since when the hub has watched the flow; ``None`` when it never has (a database that no
    running hub has opened yet)."""


def flow_health(flow: Flow, status: FlowStatus | None, now: datetime, timezone: str = "UTC") -> Health:
    """The health of ``flow`` at ``now``; ``timezone`` is the clock its schedule runs on."""
    watched = status.watched_since if status else None
    if status is None or status.last_transfer_at is None:
        if flow.trigger == Trigger.SCHEDULE and _missed_run(flow, None, now, timezone, watched):
            return Health.LATE
        return Health.NEVER_RAN
    if status.last_outcome in FAILED_OUTCOMES:
        return Health.FAILING
    if flow.trigger == Trigger.SCHEDULE and _missed_run(flow, status.last_success_at, now, timezone, watched):
        return Health.LATE
    if flow.freshness_minutes and now - status.last_transfer_at > timedelta(minutes=flow.freshness_minutes):
        return Health.IDLE
    return Health.HEALTHY


def _missed_run(
    flow: Flow, last_success: datetime | None, now: datetime, timezone: str, watched: datetime | None
) -> bool:
    """Whether the latest run that is past its deadline has not succeeded.

    A flow that never succeeded is late only for a run due while the hub was watching it
    (``watched``): a hub started today is not late for a run that was due before it existed.
    """
    if not flow.schedule or schedule_problem(flow.schedule) is not None:
        return False
    local_now = now.astimezone(zone(timezone))
    runs = croniter(cron_expression(flow.schedule), local_now)
    for _ in range(2):
        run: datetime = runs.get_prev(datetime)
        if deadline_for(flow, run) <= local_now:
            if last_success is None:
                return watched is not None and run >= watched
            return last_success < run
    return False


def deadline_for(flow: Flow, run: datetime) -> datetime:
    """When the run scheduled at ``run`` must have succeeded: ``expected_by`` that day, or after grace."""
    if not flow.expected_by:
        return run + DEFAULT_GRACE
    try:
        hours, minutes = (int(part) for part in flow.expected_by.split(":"))
        by = time(hours, minutes)
    except ValueError:
        return run + DEFAULT_GRACE
    deadline = datetime.combine(run.date(), by, tzinfo=run.tzinfo)
    return deadline if deadline > run else deadline + timedelta(days=1)
