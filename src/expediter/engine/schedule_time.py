"""When scheduled flows run, which business date each run closes, and which flows are late.

Pure functions of (flow, location, last run, now): no clock, no I/O, so every rule here is tested
with exact instants. :mod:`expediter.engine.scheduler` runs them in a loop.

The rules, in a restaurant's words:

- **Cron on the location's wall clock.** ``0 5 * * *`` means 05:00 in each location's own time zone.
- **A run closes the most recent business date that has ended at or before it.** With a 04:00 day
  start, a 05:00 run on 10 March closes 9 March (it ended at 04:00 that morning); a 03:00 run on
  10 March closes 8 March, because 9 March is still trading until 04:00 (the bar is open). Schedule
  nightly closes after the day start.
- **Daylight saving time never skips or doubles a run.** A wall time that does not exist (02:30 on
  the spring-forward night) runs once, at the moment the clock jumps (03:00 new time). A wall time
  that happens twice (01:30 on the fall-back night) runs once, at its first pass.
- **Catch-up.** Runs missed while the hub was down are either run (``run_missed``: each missed
  business date once, oldest first, marked ``catch_up``) or skipped and reported (``skip_missed``).
  The most recent due run always runs.
- **Lateness.** A flow with ``expected_by = "06:00"`` must have succeeded for business date D by the
  first 06:00 (local) after D ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
from croniter import croniter

from expediter.catalog.schedule import ScheduleError, cron_expression
from expediter.catalog.schema import Catalog, CatchUp, Flow, Trigger
from expediter.errors import ConfigError
from expediter.model.location import Location
from expediter.model.time import business_day_bounds, parse_day_start, zone

CATCH_UP_HORIZON = timedelta(days=35)
"""Missed runs older than this are not planned: after a month down, re-run with a backfill."""


class PlannedRun(msgspec.Struct, frozen=True, kw_only=True):
    """One run of a scheduled flow at one location, closing one business date."""

    flow_id: str
    location_id: str
    business_date: date
    scheduled_at: datetime
    """The instant (UTC) the schedule asked for; for a backfill, when that date's run was due."""
    catch_up: bool = False
    """True for a run that should have happened earlier (missed while down, or a backfill)."""


class RunPlan(msgspec.Struct, frozen=True, kw_only=True):
    due: list[PlannedRun]
    """Oldest first; run them in this order."""
    skipped: list[PlannedRun]
    """Missed runs not run because the flow's ``catch_up`` is ``skip_missed``: report them."""


class Lateness(msgspec.Struct, frozen=True, kw_only=True):
    """A scheduled flow that has not succeeded for a business date by its ``expected_by`` time."""

    flow_id: str
    location_id: str
    business_date: date
    expected_by: datetime
    """The deadline that passed (UTC)."""
    last_success: date | None
    """The last business date that succeeded, if any."""
    minutes_late: int


# --- wall clock → instants ----------------------------------------------------------------------


def local_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time.

    A time that happens twice (fall-back) maps to its first pass; a time that does not exist
    (spring-forward gap) maps to the moment the clock jumped, the first wall time that exists.
    """
    while not _exists(wall, tz):
        wall = (wall + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def check_schedule(expression: str, *, flow_id: str = "") -> str:
    """The five-field cron expression of a schedule (:func:`~expediter.catalog.schedule.cron_expression`,
    the reading ``expediter check`` uses); ``ConfigError`` naming the flow when it cannot run."""
    try:
        return cron_expression(expression)
    except ScheduleError as exc:
        where = f"flow {flow_id}: " if flow_id else ""
        raise ConfigError(f"{where}schedule {exc.message}; fix: {exc.fix}") from None


def occurrences(schedule: str, timezone: str, after: datetime, until: datetime) -> Iterator[datetime]:
    """Instants (UTC) of ``schedule`` on ``timezone``'s wall clock in ``(after, until]``, increasing.

    The cron expression walks the naive local wall clock, so every wall time is visited once; two
    wall times that map to one instant (inside a spring-forward gap) give one run.
    """
    expression = check_schedule(schedule)
    tz = zone(timezone)
    # During a repeated hour the wall clock goes back: a wall time after ``after`` can still be an
    # earlier instant. Those are dropped below (``instant > previous``) rather than run twice.
    walker = croniter(expression, after.astimezone(tz).replace(tzinfo=None))
    previous = after
    while True:
        instant = local_instant(walker.get_next(datetime), tz)
        if instant > until:
            return
        if instant > previous:
            previous = instant
            yield instant


def next_occurrence(schedule: str, timezone: str, after: datetime) -> datetime:
    """The first instant of ``schedule`` strictly after ``after``."""
    return next(occurrences(schedule, timezone, after, after + timedelta(days=400)))


# --- business dates -----------------------------------------------------------------------------


def closes_business_date(location: Location, at: datetime) -> date:
    """The most recent business date that has ended at or before ``at`` (the one a run closes)."""
    return location.business_date_for(at) - timedelta(days=1)


def business_day_end(location: Location, business_date: date) -> datetime:
    return business_day_bounds(business_date, location.timezone, parse_day_start(location.day_start))[1]


# --- catch-up -----------------------------------------------------------------------------------


def plan_runs(flow: Flow, location: Location, last_run: datetime | None, now: datetime) -> RunPlan:
    """What to run now for ``flow`` at ``location``.

    ``last_run`` is the ``scheduled_at`` of the last run that succeeded (or, in the loop, the last
    run started). ``None`` means the flow never ran: nothing is due before its next occurrence, so a
    new flow does not replay history (use :func:`backfill` for that).
    """
    if flow.schedule is None or not flow.enabled:
        return RunPlan(due=[], skipped=[])
    check_schedule(flow.schedule, flow_id=flow.id)
    if last_run is None:
        return RunPlan(due=[], skipped=[])
    since = max(last_run, now - CATCH_UP_HORIZON)
    runs = [_planned(flow, location, at) for at in occurrences(flow.schedule, location.timezone, since, now)]
    if not runs:
        return RunPlan(due=[], skipped=[])
    regular = runs[-1]
    # Dates already closed by the last run, or closed by the regular run, need no catch-up.
    done = closes_business_date(location, last_run)
    missed = _one_per_business_date(r for r in runs[:-1] if done < r.business_date < regular.business_date)
    if flow.catch_up is CatchUp.SKIP_MISSED:
        return RunPlan(due=[regular], skipped=missed)
    return RunPlan(due=[*missed, regular], skipped=[])


def due_runs(flow: Flow, location: Location, last_run: datetime | None, now: datetime) -> list[PlannedRun]:
    """The runs to start now, oldest first (see :func:`plan_runs`)."""
    return plan_runs(flow, location, last_run, now).due


def _planned(flow: Flow, location: Location, at: datetime, *, catch_up: bool = False) -> PlannedRun:
    return PlannedRun(
        flow_id=flow.id,
        location_id=location.id,
        business_date=closes_business_date(location, at),
        scheduled_at=at,
        catch_up=catch_up,
    )


def _one_per_business_date(runs: Iterable[PlannedRun]) -> list[PlannedRun]:
    """The last run of each business date, marked as catch-up, oldest first."""
    latest: dict[date, PlannedRun] = {}
    for run in runs:
        latest[run.business_date] = msgspec.structs.replace(run, catch_up=True)
    return sorted(latest.values(), key=lambda r: r.scheduled_at)


# --- backfill -----------------------------------------------------------------------------------


def backfill(
    flow: Flow, location: Location, from_date: date, to_date: date, *, now: datetime | None = None
) -> Iterator[PlannedRun]:
    """One catch-up run per business date in ``[from_date, to_date]``, oldest first.

    Each run's ``scheduled_at`` is the schedule's first occurrence closing that date, or the end of
    the business day when the schedule has none (weekly flows, manual flows). With ``now``, a date
    that has not ended yet is refused: its data is not complete.
    """
    if from_date > to_date:
        raise ValueError(f"backfill from {from_date} to {to_date}: the start is after the end")
    day = from_date
    while day <= to_date:
        end = business_day_end(location, day)
        if now is not None and end > now:
            raise ValueError(
                f"business date {day} at location {location.id} has not ended yet (it ends "
                f"{end.astimezone(zone(location.timezone)):%Y-%m-%d %H:%M %Z})"
            )
        yield _planned(flow, location, _backfill_instant(flow, location, day, end), catch_up=True)
        day += timedelta(days=1)


def _backfill_instant(flow: Flow, location: Location, day: date, end: datetime) -> datetime:
    if flow.schedule is None:
        return end
    first = next_occurrence(flow.schedule, location.timezone, end - timedelta(microseconds=1))
    return first if closes_business_date(location, first) == day else end


# --- lateness -----------------------------------------------------------------------------------


def expected_by_deadline(location: Location, business_date: date, expected_by: str) -> datetime:
    """The first local ``expected_by`` (HH:MM) at or after ``business_date`` ended, in UTC."""
    end = business_day_end(location, business_date)
    tz = zone(location.timezone)
    local_end = end.astimezone(tz)
    deadline_time = _parse_expected_by(expected_by)
    day = local_end.date()
    while True:
        deadline = local_instant(datetime.combine(day, deadline_time), tz)
        if deadline >= end:
            return deadline
        day += timedelta(days=1)


def _parse_expected_by(text: str) -> time:
    try:
        return parse_day_start(text)
    except ValueError:
        raise ConfigError(f"expected_by {text!r} is not a local time HH:MM (e.g. '06:30')") from None


def overdue_business_date(location: Location, expected_by: str, now: datetime) -> date:
    """The most recent business date whose ``expected_by`` deadline has passed at ``now``."""
    candidate = closes_business_date(location, now)
    while expected_by_deadline(location, candidate, expected_by) > now:
        candidate -= timedelta(days=1)
    return candidate


def late_flows(
    flows: Sequence[Flow],
    locations: Sequence[Location],
    last_success: Mapping[tuple[str, str], date],
    now: datetime,
) -> list[Lateness]:
    """Every (flow, location) with ``expected_by`` whose last successful business date is older
    than the most recent one that was due. ``last_success`` is keyed ``(flow_id, location_id)``."""
    late = []
    for flow in flows:
        if flow.expected_by is None or not flow.enabled:
            continue
        for location in locations:
            due_date = overdue_business_date(location, flow.expected_by, now)
            done = last_success.get((flow.id, location.id))
            if done is None or done < due_date:
                deadline = expected_by_deadline(location, due_date, flow.expected_by)
                late.append(
                    Lateness(
                        flow_id=flow.id,
                        location_id=location.id,
                        business_date=due_date,
                        expected_by=deadline,
                        last_success=done,
                        minutes_late=int((now - deadline).total_seconds() // 60),
                    )
                )
    return late


# --- which flows run where ----------------------------------------------------------------------


def scheduled_pairs(catalog: Catalog) -> list[tuple[Flow, Location]]:
    """Every enabled scheduled flow with each location it serves: the locations both its systems
    serve (a system with no ``locations`` serves them all)."""
    pairs = []
    for flow in catalog.flows:
        if flow.trigger is not Trigger.SCHEDULE or flow.schedule is None or not flow.enabled:
            continue
        for location in catalog.locations:
            if _serves(catalog, flow.from_, location.id) and _serves(catalog, flow.to, location.id):
                pairs.append((flow, location))
    return pairs


def _serves(catalog: Catalog, system_id: str, location_id: str) -> bool:
    system = catalog.system(system_id)
    return system is None or not system.locations or location_id in system.locations
