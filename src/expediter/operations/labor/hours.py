"""Hours worked, from time punches: what payroll and the back office are paid and costed on.

A punch becomes a :class:`WorkedShift`: its paid seconds (clock-out minus clock-in, minus unpaid
breaks; paid breaks stay in) and the business date it *started* in, so a closing shift that ends at
01:30 belongs to the evening it began. Open punches (still on the clock) are not hours yet: they are
returned apart so the caller can alert instead of paying a guess.

Seconds are kept exact; hours are rounded to 0.01 only where they are reported (a payroll file, a
CSV row), and wages are computed from those reported hours so that every file is self-consistent:
``wages = rate × hours × multiplier``, half-even to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.money import Money

SECONDS_PER_HOUR = 3600
HUNDREDTH = Decimal("0.01")

Locations = Location | Mapping[str, Location]
"""One location, or every location by id (for an employee who works at several)."""


class WorkedShift(msgspec.Struct, frozen=True, kw_only=True):
    """One closed punch reduced to what pay is computed from."""

    punch_id: str
    employee_id: str
    location_id: str
    job_code: str
    business_date: date
    clock_in: datetime
    worked_seconds: int
    hourly_wage: Money
    declared_cash_tips: Money


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


def elapsed_seconds(start: datetime, end: datetime) -> int:
    """Real seconds between two instants. Both go to UTC first: Python subtracts two datetimes
    sharing one ``ZoneInfo`` on the wall clock, which is an hour off across a DST change."""
    return round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())


def unpaid_break_seconds(punch: TimePunch, clock_out: datetime) -> int:
    """Unpaid break time inside the shift; a break never closed ends at clock-out.

    Breaks are clipped to the shift and merged first: a time clock that sends the same break
    twice, or two overlapping breaks, must not take the overlap off the pay twice.
    """
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(_clipped_unpaid_breaks(punch, clock_out)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return sum(elapsed_seconds(start, end) for start, end in merged)


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


def worked_shift(punch: TimePunch, locations: Locations) -> WorkedShift | None:
    """The shift a punch stands for, or ``None`` while it is still open."""
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
    """Every punch as a shift; the latest version of a punch id wins (punches get corrected)."""
    latest: dict[str, TimePunch] = {}
    for punch in punches:
        kept = latest.get(punch.id)
        if kept is None or punch.version >= kept.version:
            latest[punch.id] = punch
    shifts: list[WorkedShift] = []
    open_punches: list[TimePunch] = []
    for punch in latest.values():
        shift = worked_shift(punch, locations)
        if shift is None:
            open_punches.append(punch)
        else:
            shifts.append(shift)
    shifts.sort(key=lambda s: (s.employee_id, s.clock_in, s.punch_id))
    return ShiftSplit(shifts=shifts, open_punches=open_punches)
