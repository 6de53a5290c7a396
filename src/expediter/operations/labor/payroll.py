"""One pay period per employee: hours by job and rate, tips and service-charge wages.

This is what the payroll files (:mod:`expediter.connectors.adp`, :mod:`expediter.connectors.paychex`)
are written from. Tips and service-charge wages are computed by the caller with
:mod:`expediter.operations.labor.tips` (direct to the check's server, or through a tip pool) and
passed in by employee id, so the payroll file never decides tip policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import Employee, TimePunch
from expediter.model.money import Money
from expediter.operations.labor.hours import Locations
from expediter.operations.labor.overtime import OvertimeRules
from expediter.operations.labor.pay import LaborLine, labor_for_period


class PayrollEmployee(msgspec.Struct, kw_only=True):
    employee_id: str
    payroll_id: str
    name: str
    lines: list[LaborLine]
    card_tips: Money
    declared_cash_tips: Money
    service_charge_wages: Money


class PayrollPeriod(msgspec.Struct, kw_only=True):
    start: date
    end: date
    currency: str
    employees: list[PayrollEmployee]
    open_punches: list[str]
    """Ids of punches still on the clock in the period: not paid; fix them before sending."""


def _payroll_id(employee_id: str, employees: Mapping[str, Employee]) -> tuple[str, str]:
    employee = employees.get(employee_id)
    if employee is None or not employee.payroll_id:
        raise RejectedInput(
            f"employee {employee_id} has no payroll id",
            where=f"employee {employee_id}.payroll_id",
            fix="set the payroll provider's employee number (ADP File #, Paychex Worker ID) on the employee",
        )
    return employee.payroll_id, employee.name


def build_payroll(
    locations: Locations,
    start: date,
    end: date,
    punches: Iterable[TimePunch],
    employees: Mapping[str, Employee],
    rules: OvertimeRules,
    *,
    card_tips: Mapping[str, Money] | None = None,
    service_charge_wages: Mapping[str, Money] | None = None,
    currency: str = "USD",
) -> PayrollPeriod:
    """The pay period ``start``..``end`` (business dates, inclusive) for every employee with hours,
    tips or service-charge wages. Every such employee must have a payroll id."""
    result = labor_for_period(locations, start, end, punches, rules)
    in_period = result.lines
    card_tips = card_tips or {}
    service_charge_wages = service_charge_wages or {}
    ids = {line.employee_id for line in in_period} | set(card_tips) | set(service_charge_wages)
    zero = Money(0, currency)
    people = []
    for employee_id in sorted(ids):
        payroll_id, name = _payroll_id(employee_id, employees)
        lines = [line for line in in_period if line.employee_id == employee_id]
        people.append(
            PayrollEmployee(
                employee_id=employee_id,
                payroll_id=payroll_id,
                name=name,
                lines=lines,
                card_tips=card_tips.get(employee_id, zero),
                declared_cash_tips=sum((line.declared_cash_tips for line in lines), zero),
                service_charge_wages=service_charge_wages.get(employee_id, zero),
            )
        )
    return PayrollPeriod(
        start=start,
        end=end,
        currency=currency,
        employees=people,
        open_punches=[p.id for p in result.open_punches],
    )
