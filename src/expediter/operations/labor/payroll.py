"""One pay period per employee: hours by job and rate, pay by earning, tips and service-charge wages.

This is what the payroll files (:mod:`expediter.connectors.adp`, :mod:`expediter.connectors.paychex`)
are written from. Pay is computed workweek by workweek (:mod:`expediter.operations.labor.workweek`:
the regular rate of an employee with several rates, the tip credit, California's daily rules);
a period that starts mid-week takes the week's earlier days into account and pays only its own.
Tips and service-charge wages are computed by the caller with :mod:`expediter.operations.labor.tips`
(direct to the check's server, or through a tip pool) and passed in by employee id, so the payroll
file never decides tip policy. Declared cash tips are reported income, not pay: a memo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from fractions import Fraction

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import Employee, Job, TimePunch
from expediter.model.money import Money
from expediter.model.payroll import Earning, PayrollEmployee, PayrollPeriod, round_cents
from expediter.operations.labor.hours import Locations, location_of, worked_shifts
from expediter.operations.labor.overtime import OvertimeRules
from expediter.operations.labor.pay import labor_lines
from expediter.operations.labor.workweek import (
    PiecePay,
    compute_weeks,
    earnings_of,
    tip_credit_of,
)


def _payroll_id(employee_id: str, employees: Mapping[str, Employee]) -> tuple[str, str]:
    employee = employees.get(employee_id)
    if employee is None or not employee.payroll_id:
        raise RejectedInput(
            f"employee {employee_id} has no payroll id",
            where=f"employee {employee_id}.payroll_id",
            fix="set the payroll provider's employee number (ADP File #, Paychex Worker ID) on the employee",
        )
    return employee.payroll_id, employee.name


def roster_jobs(employees: Mapping[str, Employee]) -> dict[str, Job]:
    """Job code → job, from the roster (which jobs are tipped; the rate of a punch without one)."""
    jobs: dict[str, Job] = {}
    for employee in employees.values():
        for job in employee.jobs:
            jobs.setdefault(job.code, job)
    return jobs


class _Pay(msgspec.Struct, kw_only=True):
    earnings: list[Earning]
    wages: Money
    tip_credit: Money


def pay_in_period(
    locations: Locations,
    start: date,
    end: date,
    punches: Iterable[TimePunch],
    jobs: Mapping[str, Job],
    rules: OvertimeRules | None,
    currency: str,
) -> tuple[dict[str, _Pay], list[PiecePay]]:
    """Each employee's pay for the workdays ``start``..``end``, and the pieces it is made of."""
    pieces: dict[str, list[PiecePay]] = {}
    premiums: dict[str, list[tuple[date, Fraction]]] = {}
    for week in compute_weeks(punches, locations, jobs, rules):
        kept = [p for p in week.pieces if start <= p.workday <= end]
        pieces.setdefault(week.employee_id, []).extend(kept)
        premiums.setdefault(week.employee_id, []).extend(d for d in week.premiums if start <= d[0] <= end)
    pay = {}
    for employee_id, own in pieces.items():
        earnings, wages = earnings_of(own, premiums[employee_id], currency)
        pay[employee_id] = _Pay(
            earnings=earnings, wages=wages, tip_credit=Money(round_cents(tip_credit_of(own)), currency)
        )
    return pay, [p for own in pieces.values() for p in own]


def build_payroll(
    locations: Locations,
    start: date,
    end: date,
    punches: Iterable[TimePunch],
    employees: Mapping[str, Employee],
    rules: OvertimeRules | None = None,
    *,
    pos_tips: Mapping[str, Money] | None = None,
    service_charge_wages: Mapping[str, Money] | None = None,
    currency: str = "USD",
) -> PayrollPeriod:
    """The pay period ``start``..``end`` (workdays, inclusive) for every employee with hours, tips
    or service-charge wages. Every such employee must have a payroll id. ``rules`` replace the
    locations' own ``[locations.labor]`` rule set when given."""
    punches = list(punches)
    pay, pieces = pay_in_period(locations, start, end, punches, roster_jobs(employees), rules, currency)
    lines = [line for line in labor_lines((p.classified for p in pieces), by_day=False) if line.total_hours]
    pos_tips = pos_tips or {}
    service_charge_wages = service_charge_wages or {}
    zero = Money(0, currency)
    cash_tips = _declared_cash_tips(locations, start, end, punches, currency)
    ids = {line.employee_id for line in lines} | set(pos_tips) | set(service_charge_wages)
    ids |= {e for e, amount in cash_tips.items() if amount.amount}
    people = []
    for employee_id in sorted(ids):
        payroll_id, name = _payroll_id(employee_id, employees)
        own = pay.get(employee_id)
        people.append(
            PayrollEmployee(
                employee_id=employee_id,
                payroll_id=payroll_id,
                name=name,
                lines=[line for line in lines if line.employee_id == employee_id],
                earnings=own.earnings if own else [],
                wages=own.wages if own else zero,
                pos_tips=pos_tips.get(employee_id, zero),
                declared_cash_tips=cash_tips.get(employee_id, zero),
                service_charge_wages=service_charge_wages.get(employee_id, zero),
                tip_credit=own.tip_credit if own else zero,
            )
        )
    return PayrollPeriod(
        start=start,
        end=end,
        currency=currency,
        employees=people,
        open_punches=_open_punches(locations, start, end, punches),
    )


def _declared_cash_tips(
    locations: Locations, start: date, end: date, punches: list[TimePunch], currency: str
) -> dict[str, Money]:
    """Declared cash tips of the punches whose first workday is in the period."""
    tips: dict[str, Money] = {}
    for shift in worked_shifts(punches, locations).shifts:
        if start <= shift.business_date <= end and shift.declared_cash_tips.amount:
            tips[shift.employee_id] = (
                tips.get(shift.employee_id, Money(0, currency)) + shift.declared_cash_tips
            )
    return tips


def _open_punches(locations: Locations, start: date, end: date, punches: list[TimePunch]) -> list[str]:
    split = worked_shifts(punches, locations)
    return [
        p.id
        for p in split.open_punches
        if start <= location_of(p, locations).business_date_for(p.clock_in) <= end
    ]
