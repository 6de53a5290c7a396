"""Hours and wages by employee and job: the rows of the labor export and of the payroll files.

Hours are rounded to 0.01 per row and wages computed from the rounded hours (``rate × hours ×
multiplier``, half-even), the way a payroll provider computes them from the file we send.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import msgspec

from expediter.model.labor import TimePunch
from expediter.model.money import Money
from expediter.model.payroll import LaborLine
from expediter.operations.labor.hours import Locations, hours_from_seconds, location_of, worked_shifts
from expediter.operations.labor.overtime import (
    ClassifiedShift,
    OvertimeRules,
    PayClass,
    classify_shifts,
)

_Key = tuple[str, str, str, "date | None", Money]


class _Accrued:
    def __init__(self, currency: str) -> None:
        self.seconds = dict.fromkeys(PayClass, 0)
        self.cash_tips = Money(0, currency)


def _line(key: _Key, accrued: _Accrued) -> LaborLine:
    employee_id, job_code, location_id, business_date, wage = key
    return LaborLine(
        employee_id=employee_id,
        job_code=job_code,
        location_id=location_id,
        business_date=business_date,
        hourly_wage=wage,
        regular_hours=hours_from_seconds(accrued.seconds[PayClass.REGULAR]),
        overtime_hours=hours_from_seconds(accrued.seconds[PayClass.OVERTIME]),
        double_time_hours=hours_from_seconds(accrued.seconds[PayClass.DOUBLE_TIME]),
        declared_cash_tips=accrued.cash_tips,
    )


def labor_lines(classified: Iterable[ClassifiedShift], *, by_day: bool) -> list[LaborLine]:
    """Group classified shifts by employee, job, location, rate (and business date when ``by_day``)."""
    groups: dict[_Key, _Accrued] = {}
    for item in classified:
        shift = item.shift
        key: _Key = (
            shift.employee_id,
            shift.job_code,
            shift.location_id,
            shift.business_date if by_day else None,
            shift.hourly_wage,
        )
        accrued = groups.get(key) or groups.setdefault(key, _Accrued(shift.hourly_wage.currency))
        for pay_class in PayClass:
            accrued.seconds[pay_class] += item.seconds(pay_class)
        accrued.cash_tips = accrued.cash_tips + shift.declared_cash_tips
    keys = sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3] or date.min, k[4].amount))
    return [_line(key, groups[key]) for key in keys]


class LaborResult(msgspec.Struct, kw_only=True):
    lines: list[LaborLine]
    open_punches: list[TimePunch]
    """Punches still on the clock: not paid, to be alerted on."""


def labor_for_day(
    locations: Locations, business_date: date, punches: Iterable[TimePunch], rules: OvertimeRules
) -> LaborResult:
    """Hours and wages of one business date. ``punches`` should cover the workweek up to that day
    (earlier days count toward the weekly 40); only ``business_date``'s rows are returned."""
    split = worked_shifts(punches, locations)
    classified = [c for c in classify_shifts(split.shifts, rules) if c.shift.business_date == business_date]
    return LaborResult(
        lines=labor_lines(classified, by_day=True),
        open_punches=_open_between(split.open_punches, locations, business_date, business_date),
    )


def _open_between(punches: list[TimePunch], locations: Locations, start: date, end: date) -> list[TimePunch]:
    return [p for p in punches if start <= location_of(p, locations).business_date_for(p.clock_in) <= end]


def labor_for_period(
    locations: Locations, start: date, end: date, punches: Iterable[TimePunch], rules: OvertimeRules
) -> LaborResult:
    """Pay-period totals for business dates ``start`` to ``end`` inclusive, one line per employee,
    job and rate. Punches of the workweek days just before ``start`` may be passed for the weekly rule."""
    split = worked_shifts(punches, locations)
    classified = [c for c in classify_shifts(split.shifts, rules) if start <= c.shift.business_date <= end]
    return LaborResult(
        lines=labor_lines(classified, by_day=False),
        open_punches=_open_between(split.open_punches, locations, start, end),
    )


def seconds_by_employee(classified: Iterable[ClassifiedShift]) -> dict[tuple[str, str], int]:
    """Worked seconds per (employee, job): the weights of a tip pool by hours."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for item in classified:
        totals[(item.shift.employee_id, item.shift.job_code)] += item.shift.worked_seconds
    return dict(totals)
