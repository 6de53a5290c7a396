"""A pay period from an export request: hours, overtime, tips and service-charge wages per employee.

Both payroll connectors (ADP, Paychex) write their files from this one period, so the two files of
one period always agree. Card tips go to the check's employee; tips on checks that nobody owns
(online orders paid by card) are pooled by hours among the tipped, non-manager staff who worked the
period, so no cent is lost. Service charges (auto-gratuity) are wages, not tips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from expediter.connectors.base import ExportRequest, OutputFile
from expediter.connectors.csv.formats import ExportFile
from expediter.errors import TerminalError
from expediter.model.labor import Employee, TimePunch
from expediter.model.money import Money
from expediter.operations.labor.hours import worked_shifts
from expediter.operations.labor.overtime import OvertimeRules, Weekday, classify_shifts, rules_named
from expediter.operations.labor.pay import seconds_by_employee
from expediter.operations.labor.payroll import PayrollPeriod, build_payroll
from expediter.operations.labor.tips import (
    UNASSIGNED,
    PoolBasis,
    PoolShare,
    TipPool,
    charged_tips_by_employee,
    distribute_pool,
    pool_members,
    service_charge_wages,
)


def overtime_settings(request: ExportRequest) -> tuple[str, Weekday]:
    """The rule set and workweek start from the flow's settings (``federal``, Sunday by default)."""
    flow = request.extra.get("flow")
    settings: dict[str, Any] = getattr(flow, "settings", {}) or {}
    return settings.get("overtime_rules", "federal"), Weekday(settings.get("workweek_start", "sunday"))


def payroll_period(request: ExportRequest) -> PayrollPeriod:
    name, workweek_start = overtime_settings(request)
    rules = rules_named(name, workweek_start)
    orders = list(request.orders())
    punches = list(request.punches())
    employees = {employee.id: employee for employee in request.employees()}
    tips = charged_tips_by_employee(orders)
    unowned = tips.pop(UNASSIGNED, None)
    if unowned is not None:
        shares = pool_unowned_tips(unowned, request, punches, employees.values(), rules)
        for share in shares:
            tips[share.employee_id] = tips.get(share.employee_id, Money(0, unowned.currency)) + share.amount
    return build_payroll(
        {request.location.id: request.location},
        request.start_date,
        request.end_date,
        punches,
        employees,
        rules,
        card_tips=tips,
        service_charge_wages=service_charge_wages(orders),
        currency=request.location.currency,
    )


def pool_unowned_tips(
    amount: Money,
    request: ExportRequest,
    punches: Iterable[TimePunch],
    employees: Iterable[Employee],
    rules: OvertimeRules,
) -> list[PoolShare]:
    """Share tips from checks without an employee by hours among the period's tipped staff."""
    jobs = {job.code: job for employee in employees for job in employee.jobs}
    split = worked_shifts(punches, request.location)
    in_period = [
        c
        for c in classify_shifts(split.shifts, rules)
        if request.start_date <= c.shift.business_date <= request.end_date
    ]
    members = pool_members(seconds_by_employee(in_period), jobs)
    pool = TipPool(basis=PoolBasis.HOURS, jobs=sorted(code for code, job in jobs.items() if job.tipped))
    return distribute_pool(amount, members, pool)


WritePayroll = Callable[[PayrollPeriod], ExportFile]


class PayrollFileExporter:
    """``payroll`` → the pay period's file, written by the provider's ``write`` (ADP, Paychex)."""

    def __init__(self, connector: str, write: WritePayroll) -> None:
        self.connector = connector
        self.write = write

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != "payroll":
            raise TerminalError(f"the {self.connector} connector writes payroll files, not {data!r}")
        written = self.write(payroll_period(request))
        return [OutputFile(name=written.name, data=written.content, records=written.records)]
