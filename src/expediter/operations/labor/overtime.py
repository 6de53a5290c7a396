"""Overtime rule sets: which worked seconds are regular, overtime (1.5×) or double time (2×).

Two rule sets ship:

- :func:`federal` (FLSA): hours over 40 in the workweek at 1.5×. The workweek starts on a
  configurable day (employers fix it; Sunday is common).
- :func:`california`: over 8 h in a workday at 1.5×, over 12 h at 2×; on the seventh consecutive
  workday of the workweek the first 8 h are 1.5× and the rest 2×; and the weekly 40 h rule, where
  hours already paid as daily overtime do not count toward the 40 (no double counting, no pyramiding).

A *workday* is the employer's fixed workday (see :mod:`expediter.operations.labor.hours`): by
default it starts at the location's business day start, so a shift from 18:00 to 02:00 is one
workday of 8 hours, while a shift that runs past the workday's start has its hours split between
the two workdays. The workweek is seven fixed workdays from ``workweek_start``.

:func:`rules_for` reads a location's ``[locations.labor]`` settings; an adopted alternative workweek
schedule (Labor Code §511) moves California's daily overtime to after the scheduled hours.

Allocation is chronological per employee: shifts are walked in clock-in order, each one's seconds
fill the day's and the week's bands in turn, so overtime lands on the job worked when it accrued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import msgspec

from expediter.model.labor import OvertimeRuleSet, Weekday
from expediter.model.location import Location
from expediter.model.payroll import MULTIPLIERS, PayClass
from expediter.operations.labor.hours import SECONDS_PER_HOUR, WorkedShift

__all__ = [
    "MULTIPLIERS",
    "ClassifiedShift",
    "OvertimeRules",
    "PayClass",
    "Weekday",
    "california",
    "classify_shifts",
    "classify_week",
    "federal",
    "rules_for",
    "rules_named",
    "workweek_start_of",
]


class OvertimeRules(msgspec.Struct, frozen=True, kw_only=True):
    """A rule set; ``None`` turns a rule off. Hours are decimal hours."""

    name: str
    workweek_start: Weekday = Weekday.SUNDAY
    weekly_overtime_after: Decimal | None = Decimal(40)
    daily_overtime_after: Decimal | None = None
    daily_double_time_after: Decimal | None = None
    seventh_day: bool = False
    """Seventh consecutive workday: the first ``seventh_day_overtime_hours`` at 1.5×, the rest 2×."""
    seventh_day_overtime_hours: Decimal = Decimal(8)


def federal(workweek_start: Weekday = Weekday.SUNDAY) -> OvertimeRules:
    """FLSA: over 40 hours in the workweek at 1.5×."""
    return OvertimeRules(name="federal", workweek_start=workweek_start)


def california(
    workweek_start: Weekday = Weekday.SUNDAY, alternative_workweek_hours: Decimal | None = None
) -> OvertimeRules:
    """California Labor Code §510: daily 8/12, the seventh day, and the weekly 40; with an adopted
    alternative workweek schedule (§511) daily overtime starts after its scheduled hours."""
    return OvertimeRules(
        name="california",
        workweek_start=workweek_start,
        daily_overtime_after=alternative_workweek_hours or Decimal(8),
        daily_double_time_after=Decimal(12),
        seventh_day=True,
    )


RULE_SETS = {"federal": federal, "california": california}


def rules_for(location: Location) -> OvertimeRules:
    """The rule set of a location's ``[locations.labor]`` settings."""
    labor = location.labor
    if labor.overtime_rules == OvertimeRuleSet.CALIFORNIA:
        return california(labor.workweek_start, labor.alternative_workweek_hours)
    return federal(labor.workweek_start)


def rules_named(name: str, workweek_start: Weekday = Weekday.SUNDAY) -> OvertimeRules:
    """The rule set a location's settings name (``federal`` or ``california``)."""
    try:
        return RULE_SETS[name](workweek_start)
    except KeyError:
        raise ValueError(f"unknown overtime rule set {name!r}; use one of {sorted(RULE_SETS)}") from None


class ClassifiedShift(msgspec.Struct, frozen=True, kw_only=True):
    shift: WorkedShift
    regular_seconds: int
    overtime_seconds: int
    double_time_seconds: int

    def seconds(self, pay_class: PayClass) -> int:
        return {
            PayClass.REGULAR: self.regular_seconds,
            PayClass.OVERTIME: self.overtime_seconds,
            PayClass.DOUBLE_TIME: self.double_time_seconds,
        }[pay_class]


Band = tuple[int | None, PayClass]
"""Seconds of the workday up to which (``None``: no limit) time is paid at this class."""


def _seconds(hours: Decimal | None) -> int | None:
    return None if hours is None else int(hours * SECONDS_PER_HOUR)


def workweek_start_of(day: date, start: Weekday) -> date:
    return day - timedelta(days=(day.weekday() - Weekday(start).number) % 7)


def daily_bands(rules: OvertimeRules, seventh_day: bool) -> list[Band]:
    """The day's bands in order; the last one is open-ended."""
    if seventh_day:
        return [(_seconds(rules.seventh_day_overtime_hours), PayClass.OVERTIME), (None, PayClass.DOUBLE_TIME)]
    bands: list[Band] = []
    if rules.daily_overtime_after is not None:
        bands.append((_seconds(rules.daily_overtime_after), PayClass.REGULAR))
        if rules.daily_double_time_after is not None:
            bands.append((_seconds(rules.daily_double_time_after), PayClass.OVERTIME))
            bands.append((None, PayClass.DOUBLE_TIME))
        else:
            bands.append((None, PayClass.OVERTIME))
    else:
        bands.append((None, PayClass.REGULAR))
    return bands


def split_by_bands(already: int, seconds: int, bands: list[Band]) -> dict[PayClass, int]:
    """Place ``seconds`` worked after ``already`` seconds of the same day into the bands."""
    result: dict[PayClass, int] = defaultdict(int)
    position, remaining, floor = already, seconds, 0
    for limit, pay_class in bands:
        if remaining <= 0:
            break
        ceiling = limit if limit is not None else position + remaining
        room = max(0, ceiling - max(position, floor))
        taken = min(room, remaining)
        result[pay_class] += taken
        position += taken
        remaining -= taken
        floor = ceiling
    return result


class _WeekState:
    """What one employee has accrued so far in one workweek."""

    def __init__(self, rules: OvertimeRules, worked_days: set[date], week_start: date) -> None:
        self.rules = rules
        self.weekly_limit = _seconds(rules.weekly_overtime_after)
        self.weekly_regular = 0
        self.day_seconds: dict[date, int] = defaultdict(int)
        all_days = {week_start + timedelta(days=i) for i in range(7)}
        self.seventh_day = (
            week_start + timedelta(days=6) if rules.seventh_day and all_days <= worked_days else None
        )

    def classify(self, shift: WorkedShift) -> ClassifiedShift:
        bands = daily_bands(self.rules, shift.business_date == self.seventh_day)
        pieces = split_by_bands(self.day_seconds[shift.business_date], shift.worked_seconds, bands)
        self.day_seconds[shift.business_date] += shift.worked_seconds
        regular = pieces[PayClass.REGULAR]
        overtime = pieces[PayClass.OVERTIME]
        if self.weekly_limit is not None:
            allowed = max(0, self.weekly_limit - self.weekly_regular)
            overtime += max(0, regular - allowed)
            regular = min(regular, allowed)
        self.weekly_regular += regular
        return ClassifiedShift(
            shift=shift,
            regular_seconds=regular,
            overtime_seconds=overtime,
            double_time_seconds=pieces[PayClass.DOUBLE_TIME],
        )


def classify_week(
    shifts: Iterable[WorkedShift], rules: OvertimeRules, week_start: date
) -> list[ClassifiedShift]:
    """Classify one employee's shifts of the workweek starting ``week_start``, in clock-in order."""
    week_shifts = sorted(shifts, key=lambda s: (s.clock_in, s.punch_id))
    worked_days = {s.business_date for s in week_shifts if s.worked_seconds > 0}
    state = _WeekState(rules, worked_days, week_start)
    return [state.classify(shift) for shift in week_shifts]


def classify_shifts(shifts: Iterable[WorkedShift], rules: OvertimeRules) -> list[ClassifiedShift]:
    """Split every shift's seconds into regular, overtime and double time under ``rules``.

    Pass every shift of each workweek concerned (also the days before a pay period that starts
    mid-week), or weekly overtime is undercounted.
    """
    weeks: dict[tuple[str, date], list[WorkedShift]] = defaultdict(list)
    for shift in shifts:
        weeks[(shift.employee_id, workweek_start_of(shift.business_date, rules.workweek_start))].append(shift)
    result: list[ClassifiedShift] = []
    for (_, week_start), week_shifts in sorted(weeks.items()):
        result.extend(classify_week(week_shifts, rules, week_start))
    return result
