"""Employees, time punches and a location's labor settings: what payroll and tip pools are computed from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.model.bounds import Id, Version, Window, implausible_time, negative_amount
from expediter.model.money import Money
from expediter.model.time import AwareDatetime


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Python's ``date.weekday()`` number (Monday 0)."""
        return list(Weekday).index(self)


class OvertimeRuleSet(StrEnum):
    FEDERAL = "federal"
    """FLSA only: over 40 hours in the fixed workweek."""
    CALIFORNIA = "california"
    """California Labor Code §510 on top of the FLSA: daily 8/12, the seventh day, the weekly 40."""


class LaborSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a location pays hours (``[locations.labor]`` in the catalog).

    The employer's fixed workday and workweek are the boundaries overtime is counted in: a shift
    that crosses one has its hours split between the two workdays (or workweeks).
    """

    overtime_rules: OvertimeRuleSet = OvertimeRuleSet.FEDERAL
    workday_start: str = ""
    """Local ``HH:MM`` the fixed workday starts at; empty: the location's ``day_start``."""
    workweek_start: Weekday = Weekday.SUNDAY
    """The day the fixed workweek starts on (at ``workday_start``)."""
    minimum_wage: Decimal | None = None
    """The hourly minimum wage that applies at the location (the higher of federal, state, local)."""
    tipped_cash_wage: Decimal | None = None
    """The cash wage of tipped jobs under a tip credit (federal: 2.13); ``None``: no tip credit.
    California allows none (Labor Code §351)."""
    alternative_workweek_hours: Decimal | None = None
    """California only: the regularly scheduled workday of an adopted alternative workweek
    schedule (Labor Code §511, e.g. 10 for a 4×10 week); daily overtime starts after it."""


class PunchSource(StrEnum):
    POS = "pos"
    TIME_CLOCK = "time_clock"
    MANUAL = "manual"


class Job(msgspec.Struct, frozen=True, kw_only=True):
    code: Id
    name: str
    hourly_wage: Money
    tipped: bool = False
    manager: bool = False
    """Managers never share a tip pool."""


class Employee(msgspec.Struct, kw_only=True):
    id: Id
    name: str
    location_id: Id
    jobs: list[Job] = []
    payroll_id: Id | None = None
    """The payroll provider's employee number (ADP "File #")."""


class Break(msgspec.Struct, kw_only=True):
    start: AwareDatetime
    end: AwareDatetime | None = None
    paid: bool = False


class TimePunch(msgspec.Struct, kw_only=True):
    """One shift at one job. ``clock_out`` is ``None`` while the employee is still on the clock."""

    id: Id
    employee_id: Id
    location_id: Id
    job_code: Id
    clock_in: AwareDatetime
    clock_out: AwareDatetime | None = None
    hourly_wage: Money = Money(0)
    breaks: list[Break] = []
    declared_cash_tips: Money = Money(0)
    source: PunchSource = PunchSource.POS
    version: Version = 1


def refuse_implausible_punch(punch: TimePunch, now: datetime | None = None) -> None:
    """What the types cannot say (:mod:`expediter.model.bounds`): a wage and declared tips of zero
    or more, and, when ``now`` is given (the hub's clock), every time within the window around
    it. Raises :class:`~expediter.errors.RejectedInput` naming the JSON path of the first problem."""
    if punch.hourly_wage.amount < 0:
        raise negative_amount(punch.hourly_wage.amount, "$.hourly_wage.amount", "wage")
    if punch.declared_cash_tips.amount < 0:
        raise negative_amount(punch.declared_cash_tips.amount, "$.declared_cash_tips.amount", "tip")
    if now is None:
        return
    window = Window.around(now)
    for where, ts in (("$.clock_in", punch.clock_in), ("$.clock_out", punch.clock_out)):
        if ts is not None and not window.holds(ts):
            raise implausible_time(ts, window, where)
    for index, pause in enumerate(punch.breaks):
        for side, ts in (("start", pause.start), ("end", pause.end)):
            if ts is not None and not window.holds(ts):
                raise implausible_time(ts, window, f"$.breaks[{index}].{side}")


def refuse_implausible_employee(employee: Employee) -> None:
    """Every job's wage is zero or more."""
    for index, job in enumerate(employee.jobs):
        if job.hourly_wage.amount < 0:
            raise negative_amount(job.hourly_wage.amount, f"$.jobs[{index}].hourly_wage.amount", "wage")
