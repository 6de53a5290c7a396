"""Employees and time punches: what payroll and tip pools are computed from."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from expediter.model.money import Money
from expediter.model.time import AwareDatetime


class PunchSource(StrEnum):
    POS = "pos"
    TIME_CLOCK = "time_clock"
    MANUAL = "manual"


class Job(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    hourly_wage: Money
    tipped: bool = False
    manager: bool = False
    """Managers never share a tip pool."""


class Employee(msgspec.Struct, kw_only=True):
    id: str
    name: str
    location_id: str
    jobs: list[Job] = []
    payroll_id: str | None = None
    """The payroll provider's employee number (ADP "File #")."""


class Break(msgspec.Struct, kw_only=True):
    start: AwareDatetime
    end: AwareDatetime | None = None
    paid: bool = False


class TimePunch(msgspec.Struct, kw_only=True):
    """One shift at one job. ``clock_out`` is ``None`` while the employee is still on the clock."""

    id: str
    employee_id: str
    location_id: str
    job_code: str
    clock_in: AwareDatetime
    clock_out: AwareDatetime | None = None
    hourly_wage: Money = Money(0)
    breaks: list[Break] = []
    declared_cash_tips: Money = Money(0)
    source: PunchSource = PunchSource.POS
    version: int = 1
