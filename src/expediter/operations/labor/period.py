"""A pay period from an export request: hours, pay, tips and service-charge wages per employee.

Both payroll connectors (ADP, Paychex) write their files from this one period, so the two files of
one period always agree. The overtime rules, workday and workweek are the location's
``[locations.labor]`` settings (a payroll flow's own ``overtime_rules`` / ``workweek_start``
settings, the former way, still win when set).

- Tips rung on the POS on any tender, cash included, go to the check's employee; tips on checks
  that nobody owns (online orders paid by card) are pooled by hours among the tipped, non-manager
  staff who worked the period, so no cent is lost.
- Service charges (auto-gratuity) are wages, not tips. An auto-gratuity on a check nobody owns is
  **held** (:mod:`.holds`) for a person to assign, with a notice the engine raises as an alert,
  while the rest of the payroll goes; once assigned, the next run pays it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from expediter.formats.payroll import PayrollFileExporter
from expediter.model import clock
from expediter.model.labor import Employee, TimePunch
from expediter.model.money import Money
from expediter.operations.labor.holds import HoldState, PayHold, StoredPayHolds, open_pay_holds, period_key
from expediter.operations.labor.hours import worked_shifts
from expediter.operations.labor.overtime import (
    OvertimeRules,
    Weekday,
    classify_shifts,
    rules_for,
    rules_named,
)
from expediter.operations.labor.pay import seconds_by_employee
from expediter.operations.labor.payroll import PayrollPeriod, build_payroll
from expediter.operations.labor.tips import (
    UNASSIGNED,
    PoolBasis,
    PoolShare,
    TipPool,
    UnownedCharge,
    distribute_pool,
    pool_members,
    pos_tips_by_employee,
    service_charge_wages,
    unowned_auto_gratuity,
)
from expediter.plugin.base import ExportRequest
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE


def flow_rules(request: ExportRequest) -> OvertimeRules | None:
    """The payroll flow's own rule set when its settings name one (the former way), else ``None``:
    the location's ``[locations.labor]`` settings apply."""
    flow = request.extra.get("flow")
    settings: dict[str, Any] = getattr(flow, "settings", {}) or {}
    if "overtime_rules" not in settings and "workweek_start" not in settings:
        return None
    own = rules_for(request.location)
    name = settings.get("overtime_rules", own.name)
    return rules_named(name, Weekday(settings.get("workweek_start", own.workweek_start)))


def payroll_period(request: ExportRequest) -> PayrollPeriod:
    rules = flow_rules(request)
    orders = list(request.orders())
    punches = list(request.punches())
    employees = {employee.id: employee for employee in request.employees()}
    tips = pos_tips_by_employee(orders)
    unowned = tips.pop(UNASSIGNED, None)
    if unowned is not None:
        shares = pool_unowned_tips(unowned, request, punches, employees.values(), rules)
        for share in shares:
            tips[share.employee_id] = tips.get(share.employee_id, Money(0, unowned.currency)) + share.amount
    wages = service_charge_wages(orders)
    wages.pop(UNASSIGNED, None)
    with open_pay_holds(request.catalog, request.extra.get(BLOCKING_STORAGE)) as holds:
        request.notices.extend(hold_unowned(holds, unowned_auto_gratuity(orders), request))
        period = _flow_period(request)
        payable = holds.payable(request.location.id, period)
        for hold in payable:
            wages[hold.employee_id] = (
                wages.get(hold.employee_id, Money(0, hold.amount.currency)) + hold.amount
            )
        result = build_payroll(
            {request.location.id: request.location},
            request.start_date,
            request.end_date,
            punches,
            employees,
            rules,
            pos_tips=tips,
            service_charge_wages=wages,
            currency=request.location.currency,
        )
        holds.mark_paid(payable, period)
    return result


def _flow_period(request: ExportRequest) -> str:
    flow = request.extra.get("flow")
    return period_key(getattr(flow, "id", "payroll"), request.start_date, request.end_date)


def hold_unowned(
    holds: StoredPayHolds, charges: Iterable[UnownedCharge], request: ExportRequest
) -> list[str]:
    """Hold every auto-gratuity of a check nobody owns; one notice per hold of the location still
    waiting for a person (earlier periods' included, so the alert stays until they are assigned)."""
    for charge in charges:
        holds.hold(_hold_for(charge, request))
    return [
        f"auto-gratuity {held.amount.format()} on check {held.order_id} ({held.business_date}) has no"
        f" employee: held, not paid. Assign it: expediter payroll assign {held.id} EMPLOYEE_ID"
        for held in holds.list(HoldState.HELD, location_id=request.location.id)
    ]


def _hold_for(charge: UnownedCharge, request: ExportRequest) -> PayHold:
    now = clock.now()
    return PayHold(
        id=f"{request.location.id}:{charge.order_id}",
        location_id=request.location.id,
        order_id=charge.order_id,
        business_date=request.location.business_date_for(charge.opened_at),
        amount=charge.amount,
        reason="auto-gratuity on a check with no employee",
        held_at=now,
        updated_at=now,
    )


def pool_unowned_tips(
    amount: Money,
    request: ExportRequest,
    punches: Iterable[TimePunch],
    employees: Iterable[Employee],
    rules: OvertimeRules | None = None,
) -> list[PoolShare]:
    """Share tips from checks without an employee by hours among the period's tipped staff."""
    jobs = {job.code: job for employee in employees for job in employee.jobs}
    split = worked_shifts(punches, request.location)
    in_period = [
        c
        for c in classify_shifts(split.shifts, rules or rules_for(request.location))
        if request.start_date <= c.shift.business_date <= request.end_date
    ]
    members = pool_members(seconds_by_employee(in_period), jobs)
    pool = TipPool(basis=PoolBasis.HOURS, jobs=sorted(code for code, job in jobs.items() if job.tipped))
    return distribute_pool(amount, members, pool)


__all__ = ["PayrollFileExporter", "flow_rules", "hold_unowned", "payroll_period", "pool_unowned_tips"]
