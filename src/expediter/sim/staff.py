"""The simulated staff: a roster per location, the day's shifts and the time punches they leave.

Shifts follow a casual restaurant's pattern: an opening and a closing manager, lunch and dinner
servers, a day and a night bartender, kitchen AM/PM crews and a late cook, dishwashers and hosts.
The night crew clocks out after midnight, still on the same business date (day start 04:00).
Shifts over six hours get an unpaid 30-minute meal break; most shifts over four hours a paid
10-minute rest break. Tipped jobs declare the cash tips they took home.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import msgspec

from expediter.model.labor import Break, Employee, Job, PunchSource, TimePunch
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.sim.clock import local_instant, seeded_rng, stable_number

SERVER, BARTENDER, LINE_COOK, DISHWASHER, HOST, MANAGER = (
    "server",
    "bartender",
    "line_cook",
    "dishwasher",
    "host",
    "manager",
)

_JOB_SPECS = [
    (SERVER, "Server", 850, True, False),
    (BARTENDER, "Bartender", 900, True, False),
    (LINE_COOK, "Line Cook", 1950, False, False),
    (DISHWASHER, "Dishwasher", 1600, False, False),
    (HOST, "Host", 1550, False, False),
    (MANAGER, "Manager", 3000, False, True),
]


def jobs(currency: str = "USD") -> dict[str, Job]:
    """The jobs by code, wages in ``currency``."""
    return {
        code: Job(code=code, name=name, hourly_wage=Money(cents, currency), tipped=tip, manager=mgr)
        for code, name, cents, tip, mgr in _JOB_SPECS
    }


JOBS = jobs()

# (job, start, end) in minutes after local midnight of the business date; > 1440 is after midnight.
_H = 60
_SHIFTS: list[tuple[str, int, int]] = [
    (MANAGER, 9 * _H + 30, 17 * _H + 30),
    (MANAGER, 15 * _H + 30, 26 * _H + 30),
    *[(SERVER, 10 * _H + 45, 15 * _H + 30)] * 4,
    *[(SERVER, 16 * _H + 30, 23 * _H + 15)] * 3,
    *[(SERVER, 16 * _H + 30, 24 * _H + 15)] * 2,
    (BARTENDER, 11 * _H, 17 * _H + 30),
    (BARTENDER, 17 * _H, 26 * _H + 30),
    (BARTENDER, 19 * _H, 26 * _H + 15),
    *[(LINE_COOK, 9 * _H + 30, 16 * _H)] * 3,
    *[(LINE_COOK, 15 * _H + 30, 23 * _H + 30)] * 3,
    (LINE_COOK, 18 * _H, 26 * _H),
    (DISHWASHER, 10 * _H, 16 * _H + 30),
    (DISHWASHER, 16 * _H, 24 * _H + 30),
    (HOST, 11 * _H, 15 * _H),
    (HOST, 17 * _H, 22 * _H),
]

_FIRST = [
    "Maria",
    "James",
    "Aisha",
    "Tom",
    "Priya",
    "Luis",
    "Grace",
    "Kevin",
    "Sofia",
    "Marcus",
    "Hannah",
    "Diego",
    "Chloe",
    "Andre",
    "Mei",
    "Jake",
    "Nadia",
    "Omar",
    "Lily",
    "Sam",
    "Rosa",
    "Ethan",
    "Zoe",
    "Victor",
    "Ines",
    "Noah",
    "Tara",
    "Felix",
]
_LAST = [
    "Garcia",
    "Smith",
    "Khan",
    "Nguyen",
    "Patel",
    "Lopez",
    "Kim",
    "Brown",
    "Rossi",
    "Johnson",
    "Cohen",
    "Silva",
    "Martin",
    "Baker",
    "Chen",
    "Walsh",
    "Haddad",
    "Ali",
    "Moreau",
    "Reyes",
    "Fischer",
    "Park",
    "Ortiz",
    "Dubois",
    "Novak",
    "Evans",
    "Santos",
    "Murphy",
]


class Shift(msgspec.Struct, frozen=True, kw_only=True):
    """One employee at one job for one stretch of the business day (before breaks)."""

    employee_id: str
    job_code: str
    start: datetime
    end: datetime


def _location_number(location: Location) -> int:
    digits = re.sub(r"\D", "", location.id)
    return int(digits) if digits else stable_number(location.id) % 1000


def employee_id(location: Location, index: int) -> str:
    return f"{location.id}-E{index + 1:02d}"


def staff_roster(location: Location) -> list[Employee]:
    """Everyone on the payroll of ``location``: one employee per shift slot, in slot order."""
    table = jobs(location.currency)
    offset = stable_number(location.id)
    number = _location_number(location)
    roster = []
    for index, (job_code, _start, _end) in enumerate(_SHIFTS):
        first = _FIRST[(index + offset) % len(_FIRST)]
        last = _LAST[(index * 7 + offset // 7) % len(_LAST)]
        roster.append(
            Employee(
                id=employee_id(location, index),
                name=f"{first} {last}",
                location_id=location.id,
                jobs=[table[job_code]],
                payroll_id=f"{number:03d}{index + 1:03d}",
            )
        )
    return roster


def plan_shifts(location: Location, business_date: date, seed: int) -> list[Shift]:
    """The day's shifts with a few minutes of jitter either side, the same for the same seed."""
    rng = seeded_rng(seed, location, business_date, "shifts")
    shifts = []
    for index, (job_code, start, end) in enumerate(_SHIFTS):
        shifts.append(
            Shift(
                employee_id=employee_id(location, index),
                job_code=job_code,
                start=local_instant(location, business_date, start + rng.randint(-8, 6)),
                end=local_instant(location, business_date, end + rng.randint(-10, 15)),
            )
        )
    return shifts


def _breaks(shift: Shift, rng_value: float, rng_offset: int) -> list[Break]:
    """A paid rest break a quarter in, an unpaid meal near the middle, both inside the shift."""
    length = shift.end - shift.start
    breaks = []
    if length > timedelta(hours=4) and rng_value < 0.7:
        rest = shift.start + length / 4 + timedelta(minutes=rng_offset % 20)
        breaks.append(Break(start=rest, end=rest + timedelta(minutes=10), paid=True))
    if length > timedelta(hours=6):
        meal = shift.start + length / 2 + timedelta(minutes=rng_offset % 40 - 20)
        breaks.append(Break(start=meal, end=meal + timedelta(minutes=30), paid=False))
    return breaks


def _declared_tips(shift: Shift, cents_per_hour: int, currency: str) -> Money:
    """Tipped staff declare cash tips in whole dollars, roughly in line with hours worked."""
    hours = (shift.end - shift.start) / timedelta(hours=1)
    return Money(int(hours * cents_per_hour) // 100 * 100, currency)


def simulate_punches(location: Location, business_date: date, seed: int) -> list[TimePunch]:
    """The time punches for ``business_date``: one per shift, ordered by clock-in."""
    rng = seeded_rng(seed, location, business_date, "punches")
    table = jobs(location.currency)
    punches = []
    shifts = sorted(plan_shifts(location, business_date, seed), key=lambda s: (s.start, s.employee_id))
    for number, shift in enumerate(shifts, start=1):
        job = table[shift.job_code]
        tips = _declared_tips(shift, rng.randint(150, 900), location.currency) if job.tipped else None
        punches.append(
            TimePunch(
                id=f"{location.id}-{business_date:%Y%m%d}-P{number:03d}",
                employee_id=shift.employee_id,
                location_id=location.id,
                job_code=shift.job_code,
                clock_in=shift.start,
                clock_out=shift.end,
                hourly_wage=job.hourly_wage,
                breaks=_breaks(shift, rng.random(), rng.randint(0, 999)),
                declared_cash_tips=tips if tips is not None else Money(0, location.currency),
                source=PunchSource.POS,
            )
        )
    return punches
