"""Employees and time punches: what payroll and tip pools are computed from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from expediter.model.bounds import Id, Version, Window, implausible_time, negative_amount
from expediter.model.money import Money
from expediter.model.time import AwareDatetime


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
