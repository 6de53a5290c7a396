"""Hours worked, from time punches: what payroll and the back office are paid and costed on.

A punch becomes one :class:`WorkedShift` per **fixed workday** it touches. The employer's workday
is a fixed, regularly recurring 24-hour period (California Labor Code §500(a); the FLSA counts hours
in the fixed workweek, 29 CFR 778.104-105): it starts at the location's ``labor.workday_start``
(by default its business ``day_start``), and the workweek starts at that time on
``labor.workweek_start``. A shift that crosses the boundary has its hours split between the two
workdays (and, at the week's boundary, the two workweeks); a closing shift that ends before the
boundary stays wholly on the evening it began.

Worked time is clock-out minus clock-in minus **unpaid** breaks; paid breaks stay in, and so does
any break shorter than 20 minutes whatever the time clock calls it: rest periods of short duration
are hours worked (29 CFR 785.18; a bona fide meal period, 785.19, is usually 30 minutes or more).
Open punches (still on the clock) are not hours yet: they are returned apart so the caller can
alert instead of paying a guess.

Seconds are kept exact; hours are rounded to 0.01 only where they are reported (a payroll file, a
CSV row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.time import business_date_at, day_started_at, parse_day_start

SECONDS_PER_HOUR = 3600
HUNDREDTH = Decimal("0.01")
SHORT_BREAK = timedelta(minutes=20)
"""An unpaid break shorter than this is a rest period, and rest periods are hours worked
(29 CFR 785.18)."""

Interval = tuple[datetime, datetime]

Locations = Location | Mapping[str, Location]
"""One location, or every location by id (for an employee who works at several)."""


class WorkedShift(msgspec.Struct, frozen=True, kw_only=True):
    """The part of one closed punch that falls in one fixed workday: what pay is computed from."""

    punch_id: str
    employee_id: str
    location_id: str
    job_code: str
    business_date: date
    """The fixed workday the hours fall in (the business date when the workday starts at the
    location's day start, the default)."""
    clock_in: datetime
    """When work in this workday began (the punch's clock-in, or the workday's start)."""
    worked_seconds: int
    hourly_wage: Money
    declared_cash_tips: Money
    """The punch's declared cash tips, on its first workday only."""
    intervals: tuple[Interval, ...] = ()
    """The worked intervals (UTC), unpaid breaks taken out: where a split shift shows."""


def hours_from_seconds(seconds: int) -> Decimal:
    """Seconds → hours rounded half-even to 0.01, as payroll files carry them."""
    return (Decimal(seconds) / SECONDS_PER_HOUR).quantize(HUNDREDTH, rounding=ROUND_HALF_EVEN)


def location_of(punch: TimePunch, locations: Locations) -> Location:
    """The location whose clock decides the punch's business date."""
    if isinstance(locations, Location):
        return locations
    found = locations.get(punch.location_id)
    if found is None:
        raise RejectedInput(
            f"punch {punch.id} is at unknown location {punch.location_id!r}",
            where=f"punch {punch.id}.location_id",
            fix="declare the location in the catalog or pass it to the labor functions",
        )
    return found


def workday_start_of(location: Location) -> time:
    """The local time the location's fixed workday starts (its ``day_start`` unless set)."""
    return parse_day_start(location.labor.workday_start or location.day_start)


def workday_of(ts: datetime, location: Location) -> date:
    """The fixed workday an instant falls in."""
    return business_date_at(ts, location.timezone, workday_start_of(location))


def elapsed_seconds(start: datetime, end: datetime) -> int:
    """Real seconds between two instants. Both go to UTC first: Python subtracts two datetimes
    sharing one ``ZoneInfo`` on the wall clock, which is an hour off across a DST change."""
    return round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())


def unpaid_breaks(punch: TimePunch, clock_out: datetime) -> list[Interval]:
    """Unpaid breaks inside the shift, merged, as UTC intervals; a break never closed ends at
    clock-out, and a break shorter than :data:`SHORT_BREAK` is worked time.

    Breaks are clipped to the shift and merged first: a time clock that sends the same break
    twice, or two overlapping breaks, must not take the overlap off the pay twice.
    """
    merged: list[Interval] = []
    for start, end in sorted(_clipped_unpaid_breaks(punch, clock_out)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(start, end) for start, end in merged if end - start >= SHORT_BREAK]


def unpaid_break_seconds(punch: TimePunch, clock_out: datetime) -> int:
    """Unpaid break time taken off the shift (see :func:`unpaid_breaks`)."""
    return sum(elapsed_seconds(start, end) for start, end in unpaid_breaks(punch, clock_out))


def worked_intervals(punch: TimePunch) -> list[Interval]:
    """The closed punch's worked time as UTC intervals: clock-in to clock-out minus unpaid breaks."""
    if punch.clock_out is None:
        raise ValueError(f"punch {punch.id} is still open")
    cursor, end = punch.clock_in.astimezone(UTC), punch.clock_out.astimezone(UTC)
    intervals: list[Interval] = []
    for start, stop in unpaid_breaks(punch, punch.clock_out):
        if start > cursor:
            intervals.append((cursor, start))
        cursor = max(cursor, stop)
    if end > cursor:
        intervals.append((cursor, end))
    return intervals


def split_at_workdays(intervals: Iterable[Interval], location: Location) -> dict[date, list[Interval]]:
    """Worked intervals cut at the fixed workday boundaries, by workday (DST-aware)."""
    start_time = workday_start_of(location)
    by_day: dict[date, list[Interval]] = {}
    for start, end in intervals:
        while start < end:
            day = business_date_at(start, location.timezone, start_time)
            boundary = day_started_at(day + timedelta(days=1), location.timezone, start_time)
            piece_end = min(end, boundary)
            by_day.setdefault(day, []).append((start, piece_end))
            start = piece_end
    return by_day


def _clipped_unpaid_breaks(punch: TimePunch, clock_out: datetime) -> list[tuple[datetime, datetime]]:
    """Unpaid breaks as UTC intervals inside [clock_in, clock_out); empty ones dropped."""
    lo, hi = punch.clock_in.astimezone(UTC), clock_out.astimezone(UTC)
    intervals = []
    for b in punch.breaks:
        if b.paid:
            continue
        start = max(b.start.astimezone(UTC), lo)
        end = min((b.end or clock_out).astimezone(UTC), hi)
        if end > start:
            intervals.append((start, end))
    return intervals


def worked_seconds(punch: TimePunch) -> int:
    """Paid seconds of a closed punch: unpaid breaks out, paid breaks in."""
    if punch.clock_out is None:
        raise ValueError(f"punch {punch.id} is still open")
    span = elapsed_seconds(punch.clock_in, punch.clock_out)
    if span < 0:
        raise RejectedInput(
            f"punch {punch.id} clocks out before it clocks in",
            where=f"punch {punch.id}.clock_out",
            fix="correct the punch in the time clock and re-send it",
        )
    return max(0, span - unpaid_break_seconds(punch, punch.clock_out))


def worked_pieces(punch: TimePunch, locations: Locations) -> list[WorkedShift]:
    """A closed punch as one :class:`WorkedShift` per fixed workday it touches (see the module).

    A punch with no worked time still gives one (empty) piece on the workday it started."""
    worked_seconds(punch)  # refuses a punch that clocks out before it clocks in
    location = location_of(punch, locations)
    by_day = split_at_workdays(worked_intervals(punch), location)
    if not by_day:
        by_day = {workday_of(punch.clock_in, location): []}
    pieces = []
    for index, (day, intervals) in enumerate(sorted(by_day.items())):
        pieces.append(
            WorkedShift(
                punch_id=punch.id,
                employee_id=punch.employee_id,
                location_id=punch.location_id,
                job_code=punch.job_code,
                business_date=day,
                clock_in=intervals[0][0] if intervals else punch.clock_in.astimezone(UTC),
                worked_seconds=sum(elapsed_seconds(a, b) for a, b in intervals),
                hourly_wage=punch.hourly_wage,
                declared_cash_tips=punch.declared_cash_tips
                if index == 0
                else Money(0, _tips_currency(punch)),
                intervals=tuple(intervals),
            )
        )
    return pieces


def _tips_currency(punch: TimePunch) -> str:
    return punch.declared_cash_tips.currency


def worked_shift(punch: TimePunch, locations: Locations) -> WorkedShift | None:
    """The whole punch as one shift on the business date it started (for reports that do not split
    at the workday), or ``None`` while it is still open."""
    if punch.clock_out is None:
        return None
    location = location_of(punch, locations)
    return WorkedShift(
        punch_id=punch.id,
        employee_id=punch.employee_id,
        location_id=punch.location_id,
        job_code=punch.job_code,
        business_date=location.business_date_for(punch.clock_in),
        clock_in=punch.clock_in,
        worked_seconds=worked_seconds(punch),
        hourly_wage=punch.hourly_wage,
        declared_cash_tips=punch.declared_cash_tips,
    )


class ShiftSplit(msgspec.Struct, kw_only=True):
    """Closed shifts ready for pay, and the punches still open (to alert on, not to pay)."""

    shifts: list[WorkedShift]
    open_punches: list[TimePunch]


def worked_shifts(punches: Iterable[TimePunch], locations: Locations) -> ShiftSplit:
    """Every closed punch split into its fixed workdays; the latest version of a punch id wins
    (punches get corrected)."""
    latest: dict[str, TimePunch] = {}
    for punch in punches:
        kept = latest.get(punch.id)
        if kept is None or punch.version >= kept.version:
            latest[punch.id] = punch
    shifts: list[WorkedShift] = []
    open_punches: list[TimePunch] = []
    for punch in latest.values():
        if punch.clock_out is None:
            open_punches.append(punch)
        else:
            shifts.extend(worked_pieces(punch, locations))
    shifts.sort(key=lambda s: (s.employee_id, s.clock_in, s.punch_id))
    return ShiftSplit(shifts=shifts, open_punches=open_punches)
