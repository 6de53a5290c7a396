"""Tips: card tips from payments, declared cash tips from punches, and tip pools.

Three kinds of money reach staff from the guests, and payroll treats them differently:

- **tips rung on the POS** (``Payment.tip`` on any tender: card, cash, gift card, house account,
  marketplace): the guest's voluntary tip; belongs to the server of the check, or to a tip pool
  when the location pools. The journal credits every one of them to Tips Payable (a cash tip rung
  on the check stays in the drawer), so payroll pays every one of them out
  (:func:`pos_tips_by_employee`);
- **declared cash tips** (``TimePunch.declared_cash_tips``): cash handed to the employee and never
  rung, already in their pocket; reported so payroll can withhold tax on them, never paid again;
- **service charges**, auto-gratuity included: the restaurant's revenue, paid out as *wages*,
  never as tips (IRS Rev. Rul. 2012-18); :func:`service_charge_wages` keeps them apart.

A tip pool is shared by hours worked or by points (job → points, weighted by hours). Shares are
rounded with the largest-remainder method, so they always add up to the pool exactly: no cent lost,
no cent made. Managers and supervisors never share a pool (FLSA §203(m)(2)(B)): they are left out
whatever the pool's configuration says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import Job, TimePunch
from expediter.model.money import Money
from expediter.model.order import Order, OrderState, TenderType
from expediter.operations.sales.allocation import largest_remainder

UNASSIGNED = ""
"""Employee id used for tips and charges on checks with no employee."""


def charged_tips_by_employee(orders: Iterable[Order]) -> dict[str, Money]:
    """Tips charged on any non-cash tender, per check owner (``Order.employee_id``).

    Card, gift card, house account, a marketplace that passes a tip through: the journal credits
    every one of them to Tips Payable, so payroll must pay every one of them out. Cash is left out
    because the cash tips an employee keeps reach payroll as declared cash tips on the punches.
    Canceled checks carry none.
    """
    tips: dict[str, Money] = {}
    for order in orders:
        if order.state is OrderState.CANCELED:
            continue
        for payment in order.payments:
            if payment.tender is not TenderType.CASH and payment.tip.amount:
                key = order.employee_id or UNASSIGNED
                tips[key] = tips.get(key, Money(0, payment.tip.currency)) + payment.tip
    return tips


card_tips_by_employee = charged_tips_by_employee
"""The former name, from when only card tenders were counted; kept for existing callers."""


def pos_tips_by_employee(orders: Iterable[Order]) -> dict[str, Money]:
    """Tips rung on any tender, cash included, per check owner: what the journal credits to Tips
    Payable and payroll must pay out. Canceled checks carry none."""
    tips: dict[str, Money] = {}
    for order in orders:
        if order.state is OrderState.CANCELED:
            continue
        for payment in order.payments:
            if payment.tip.amount:
                key = order.employee_id or UNASSIGNED
                tips[key] = tips.get(key, Money(0, payment.tip.currency)) + payment.tip
    return tips


class UnownedCharge(msgspec.Struct, frozen=True, kw_only=True):
    """Auto-gratuity on a check nobody owns: wages nobody can be paid until a person says whose."""

    order_id: str
    location_id: str
    opened_at: datetime
    amount: Money


def unowned_auto_gratuity(orders: Iterable[Order]) -> list[UnownedCharge]:
    """Auto-gratuity on checks without an employee, one per check."""
    found = []
    for order in orders:
        if order.state is OrderState.CANCELED or order.employee_id:
            continue
        charged = [c.amount for c in order.service_charges if c.auto_gratuity and c.amount.amount]
        if charged:
            amount = sum(charged[1:], charged[0])
            found.append(
                UnownedCharge(
                    order_id=order.id, location_id=order.location_id, opened_at=order.opened_at, amount=amount
                )
            )
    return found


def declared_cash_tips_by_employee(punches: Iterable[TimePunch]) -> dict[str, Money]:
    tips: dict[str, Money] = {}
    for punch in punches:
        if punch.declared_cash_tips.amount:
            previous = tips.get(punch.employee_id, Money(0, punch.declared_cash_tips.currency))
            tips[punch.employee_id] = previous + punch.declared_cash_tips
    return tips


def service_charge_wages(orders: Iterable[Order], *, auto_gratuity_only: bool = True) -> dict[str, Money]:
    """Service charges paid to the check's employee as wages (by default only auto-gratuity, since
    other service charges, e.g. a delivery fee, usually stay with the house)."""
    wages: dict[str, Money] = {}
    for order in orders:
        if order.state is OrderState.CANCELED:
            continue
        for charge in order.service_charges:
            if charge.auto_gratuity or not auto_gratuity_only:
                key = order.employee_id or UNASSIGNED
                wages[key] = wages.get(key, Money(0, charge.amount.currency)) + charge.amount
    return wages


class PoolBasis(StrEnum):
    HOURS = "hours"
    POINTS = "points"
    """Each member's weight is the job's points × hours worked."""


class PoolMember(msgspec.Struct, frozen=True, kw_only=True):
    employee_id: str
    job_code: str
    worked_seconds: int
    manager: bool = False


class TipPool(msgspec.Struct, frozen=True, kw_only=True):
    """How a location pools: by hours or points, and which jobs take part (empty: every member
    passed in, managers always excepted)."""

    basis: PoolBasis = PoolBasis.HOURS
    job_points: dict[str, Decimal] = {}
    jobs: list[str] = []


class PoolShare(msgspec.Struct, frozen=True, kw_only=True):
    employee_id: str
    amount: Money


def _weight(member: PoolMember, pool: TipPool) -> Fraction:
    hours = Fraction(member.worked_seconds, 3600)
    if pool.basis is PoolBasis.HOURS:
        return hours
    points = pool.job_points.get(member.job_code)
    if points is None:
        raise RejectedInput(
            f"job {member.job_code!r} is in the tip pool but has no points",
            where="tip_pool.job_points",
            fix=f"give {member.job_code!r} points, or leave it out of the pool's jobs",
        )
    return Fraction(points) * hours


def eligible_members(members: Iterable[PoolMember], pool: TipPool) -> list[PoolMember]:
    """Members who may share: never a manager; only the pool's jobs when it names them."""
    return [
        m
        for m in members
        if not m.manager and m.worked_seconds > 0 and (not pool.jobs or m.job_code in pool.jobs)
    ]


def distribute_pool(amount: Money, members: Iterable[PoolMember], pool: TipPool) -> list[PoolShare]:
    """Share ``amount`` among the eligible members; one share per employee, summing to ``amount``."""
    if amount.amount < 0:
        raise RejectedInput("a tip pool cannot be negative", where="tip_pool.amount")
    weights: dict[str, Fraction] = defaultdict(Fraction)
    for member in eligible_members(members, pool):
        weights[member.employee_id] += _weight(member, pool)
    employees = sorted(e for e, w in weights.items() if w > 0)
    if not employees:
        if amount.amount == 0:
            return []
        raise RejectedInput(
            "the tip pool has money but nobody eligible worked",
            where="tip_pool",
            fix="check the pool's jobs and the day's punches; managers never share a pool",
        )
    parts = largest_remainder(amount.amount, [weights[e] for e in employees])
    return [
        PoolShare(employee_id=e, amount=Money(p, amount.currency))
        for e, p in zip(employees, parts, strict=True)
    ]


def pool_members(seconds: Mapping[tuple[str, str], int], jobs: Mapping[str, Job]) -> list[PoolMember]:
    """Members from worked seconds per (employee, job), flagged as managers from the job list."""
    return [
        PoolMember(
            employee_id=employee_id,
            job_code=job_code,
            worked_seconds=worked,
            manager=bool(jobs.get(job_code) and jobs[job_code].manager),
        )
        for (employee_id, job_code), worked in sorted(seconds.items())
    ]
