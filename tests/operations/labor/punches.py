"""Punches for the labor tests, written in the location's local wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from expediter.model.labor import Break, TimePunch
from expediter.model.location import Location
from expediter.model.money import Money

LA = Location(id="LA1", name="Sunset", timezone="America/Los_Angeles")
TZ = ZoneInfo(LA.timezone)
_counter = iter(range(1, 10_000))


def at(text: str) -> datetime:
    """``"2026-03-02 18:00"`` in Los Angeles."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def punch(
    start: str,
    hours: float,
    *,
    employee: str = "e1",
    job: str = "server",
    wage: int = 1600,
    unpaid_break: float = 0,
    paid_break: float = 0,
    cash_tips: int = 0,
) -> TimePunch:
    """A closed punch of ``hours`` on the clock; breaks sit one hour into the shift."""
    clock_in = at(start).astimezone(UTC)
    breaks = []
    if unpaid_break:
        b = clock_in + timedelta(hours=1)
        breaks.append(Break(start=b, end=b + timedelta(hours=unpaid_break), paid=False))
    if paid_break:
        b = clock_in + timedelta(hours=2)
        breaks.append(Break(start=b, end=b + timedelta(hours=paid_break), paid=True))
    return TimePunch(
        id=f"p{next(_counter)}",
        employee_id=employee,
        location_id=LA.id,
        job_code=job,
        clock_in=clock_in,
        clock_out=clock_in.astimezone(UTC) + timedelta(hours=hours),
        hourly_wage=Money(wage),
        breaks=breaks,
        declared_cash_tips=Money(cash_tips),
    )
