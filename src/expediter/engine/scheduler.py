"""The scheduler: runs each scheduled flow at each location when its cron schedule says, in that
location's time zone, tied to the business date the run closes.

The time rules (business dates, DST, catch-up, backfill, lateness) are pure functions in
:mod:`expediter.engine.schedule_time`, re-exported here. :class:`Scheduler` is the loop: it sleeps
until the next due run, calls the job, and catches up on start after an outage. It owns no ledger:
the engine's ``run_job`` records each run as a transfer, and ``last_runs`` (read from the ledger at
start) tells the scheduler where each (flow, location) left off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import structlog

from expediter.catalog.schema import Flow
from expediter.engine.schedule_time import (
    CATCH_UP_HORIZON,
    Lateness,
    PlannedRun,
    RunPlan,
    backfill,
    closes_business_date,
    due_runs,
    expected_by_deadline,
    late_flows,
    next_occurrence,
    occurrences,
    plan_runs,
    scheduled_pairs,
)
from expediter.model import clock
from expediter.model.location import Location

__all__ = [
    "CATCH_UP_HORIZON",
    "Lateness",
    "PlannedRun",
    "RunPlan",
    "Scheduler",
    "backfill",
    "closes_business_date",
    "due_runs",
    "expected_by_deadline",
    "late_flows",
    "next_occurrence",
    "occurrences",
    "plan_runs",
    "scheduled_pairs",
]

log = structlog.get_logger(__name__)

RunJob = Callable[[PlannedRun], Awaitable[None]]
OnError = Callable[[Flow, Location, Exception], Awaitable[None]]
MAX_SLEEP = 60.0
"""Wake at least this often (seconds) so a wall-clock jump (suspend, NTP) is noticed quickly."""


class Scheduler:
    """Runs ``run_job`` for every due (flow, location) until :meth:`stop`.

    Runs of one (flow, location) go one after another, oldest business date first; different
    flows and locations run side by side, so one slow export never holds up another. A job that
    raises is logged and counted as started: retries are the job's business (the engine's), and
    the next start catches up from the ledger's last success. A (flow, location) that cannot be
    planned (a schedule the hub cannot run, a skipped run that cannot be recorded) is reported
    through ``on_error`` at each tick and the others run on.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[Flow, Location]],
        run_job: RunJob,
        *,
        last_runs: Mapping[tuple[str, str], datetime] | None = None,
        on_skipped: Callable[[PlannedRun], Awaitable[None]] | None = None,
        on_error: OnError | None = None,
        clock: Callable[[], datetime] = clock.now,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self._pairs = list(pairs)
        self._run_job = run_job
        self._on_skipped = on_skipped
        self._on_error = on_error
        self._clock = clock
        self._sleep = sleep or self._sleep_unless_stopped
        self._stopped = asyncio.Event()
        self._max_sleep = max_sleep
        started = clock()
        known = last_runs or {}
        self.cursors: dict[tuple[str, str], datetime] = {
            (f.id, loc.id): known.get((f.id, loc.id), started) for f, loc in self._pairs
        }
        """Per (flow, location): the ``scheduled_at`` of the last run started (or the start time)."""

    def stop(self) -> None:
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    async def run(self) -> None:
        """Tick, sleep until the next occurrence, repeat until stopped."""
        while not self.stopped:
            await self.tick()
            if self.stopped:
                return
            await self._sleep(self._seconds_to_next())

    async def tick(self) -> list[PlannedRun]:
        """Start everything due now (catch-up included); returns the runs started."""
        now = self._clock()
        lanes = []
        for flow, loc in self._pairs:
            due = await self._plan(flow, loc, now)
            if due:
                lanes.append(self._run_lane(flow, loc, due))
        results = await asyncio.gather(*lanes)
        return [run for lane in results for run in lane]

    async def _plan(self, flow: Flow, location: Location, now: datetime) -> list[PlannedRun]:
        """The runs due now for one (flow, location), its skipped runs reported; ``[]`` when it
        cannot be planned (reported, so that one bad flow never stops the others)."""
        try:
            plan = plan_runs(flow, location, self.cursors[(flow.id, location.id)], now)
            for skipped in plan.skipped:
                await self._report_skipped(skipped)
        except Exception as exc:
            await self._report_error(flow, location, exc)
            return []
        return plan.due

    def next_wakeup(self) -> datetime | None:
        """When the next run of any (flow, location) that can be planned is due."""
        upcoming = []
        for flow, loc in self._pairs:
            if flow.schedule is None or not flow.enabled:
                continue
            try:
                upcoming.append(next_occurrence(flow.schedule, loc.timezone, self.cursors[(flow.id, loc.id)]))
            except Exception:  # reported by the tick that planned it; the others still wake us
                continue
        return min(upcoming, default=None)

    async def _run_lane(self, flow: Flow, location: Location, runs: list[PlannedRun]) -> list[PlannedRun]:
        started = []
        for run in runs:
            if self.stopped:
                break
            self.cursors[(flow.id, location.id)] = run.scheduled_at
            started.append(run)
            try:
                await self._run_job(run)
            except Exception as exc:  # the job records its own failure; the loop must go on
                log.error(
                    "scheduled run failed",
                    flow=run.flow_id,
                    location=run.location_id,
                    business_date=run.business_date.isoformat(),
                    error=str(exc),
                )
        return started

    async def _report_error(self, flow: Flow, location: Location, exc: Exception) -> None:
        log.error("scheduled flow not planned", flow=flow.id, location=location.id, error=str(exc))
        if self._on_error is None:
            return
        try:
            await self._on_error(flow, location, exc)
        except Exception:  # reporting must not stop the loop either
            log.exception("reporting a scheduling error failed", flow=flow.id, location=location.id)

    async def _report_skipped(self, run: PlannedRun) -> None:
        log.warning(
            "missed run skipped (catch_up = skip_missed)",
            flow=run.flow_id,
            location=run.location_id,
            business_date=run.business_date.isoformat(),
        )
        if self._on_skipped is not None:
            await self._on_skipped(run)

    def _seconds_to_next(self) -> float:
        wakeup = self.next_wakeup()
        if wakeup is None:
            return self._max_sleep
        return min(self._max_sleep, max(0.0, (wakeup - self._clock()).total_seconds()))

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=seconds)
