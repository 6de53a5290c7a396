"""A pay period's hours and pay by employee: what payroll providers' files (ADP, Paychex, CSV) carry.

:mod:`expediter.operations.labor` computes them from the time punches and the overtime rules; the
payroll connectors only write them in their provider's layout.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import msgspec

from expediter.model.money import Money


class PayClass(StrEnum):
    REGULAR = "regular"
    OVERTIME = "overtime"
    DOUBLE_TIME = "double_time"


MULTIPLIERS: dict[PayClass, Decimal] = {
    PayClass.REGULAR: Decimal(1),
    PayClass.OVERTIME: Decimal("1.5"),
    PayClass.DOUBLE_TIME: Decimal(2),
}


class EarningKind(StrEnum):
    REGULAR = "regular"
    """Hours that are not overtime, at the job's rate."""
    OVERTIME = "overtime"
    """Overtime hours: the job's rate plus half the regular rate."""
    DOUBLE_TIME = "double_time"
    """Double-time hours: the job's rate plus the whole regular rate."""
    SPLIT_SHIFT = "split_shift"
    """California's split-shift premium (no hours)."""


class Earning(msgspec.Struct, frozen=True, kw_only=True):
    """One line of pay: a kind of hours at one job and rate."""

    kind: EarningKind
    job_code: str
    hours: Decimal
    """Hours paid (0.01); none for a premium."""
    rate: Decimal
    """Pay per hour of this earning (0.0001): the job's rate, plus the share of the regular rate
    for overtime and double time; for the split-shift premium, the amount."""
    amount: Money


class LaborLine(msgspec.Struct, frozen=True, kw_only=True):
    """Hours of one employee at one job and rate, for one business date (or a whole pay period)."""

    employee_id: str
    job_code: str
    location_id: str
    business_date: date | None
    """``None`` for a pay-period total."""
    hourly_wage: Money
    regular_hours: Decimal
    overtime_hours: Decimal
    double_time_hours: Decimal
    declared_cash_tips: Money

    def hours(self, pay_class: PayClass) -> Decimal:
        return {
            PayClass.REGULAR: self.regular_hours,
            PayClass.OVERTIME: self.overtime_hours,
            PayClass.DOUBLE_TIME: self.double_time_hours,
        }[pay_class]

    def wages(self, pay_class: PayClass) -> Money:
        return self.hourly_wage.times(self.hours(pay_class) * MULTIPLIERS[pay_class])

    @property
    def total_hours(self) -> Decimal:
        return self.regular_hours + self.overtime_hours + self.double_time_hours

    @property
    def total_wages(self) -> Money:
        return self.wages(PayClass.REGULAR) + self.wages(PayClass.OVERTIME) + self.wages(PayClass.DOUBLE_TIME)


class PayrollEmployee(msgspec.Struct, kw_only=True):
    employee_id: str
    payroll_id: str
    name: str
    lines: list[LaborLine]
    """Hours by job and rate."""
    earnings: list[Earning] = []
    """Pay by kind, job and rate, with the regular rate of each workweek applied."""
    wages: Money = Money(0)
    """The sum of ``earnings``: what the hours pay."""
    pos_tips: Money = Money(0)
    """Tips rung on the POS on any tender (card, cash, gift card, ...), owed through payroll."""
    declared_cash_tips: Money = Money(0)
    """Cash tips the employee kept and declared: reported income, not pay (a memo)."""
    service_charge_wages: Money = Money(0)
    tip_credit: Money = Money(0)
    """The tip credit taken against the minimum wage in the period."""


class PayrollPeriod(msgspec.Struct, kw_only=True):
    start: date
    end: date
    currency: str
    employees: list[PayrollEmployee]
    open_punches: list[str]
    """Ids of punches still on the clock in the period: not paid; fix them before sending."""


def round_cents(exact: Fraction) -> int:
    """Half up (away from zero) to the cent, as pay is rounded."""
    if exact < 0:
        return -round_cents(-exact)
    return math.floor(exact + Fraction(1, 2))


MULTIPLIER_OF = {"regular": Fraction(1), "overtime": Fraction(3, 2), "double_time": Fraction(2)}


def pay_from_hours(person: PayrollEmployee) -> Money:
    """What a payroll provider computes from hours rows at each job's rate: regular hours × rate,
    overtime × 1.5 × rate, double time × 2 × rate, each rounded half up to the cent."""
    cents = 0
    for line in person.lines:
        rate = Fraction(line.hourly_wage.amount)
        for hours, multiplier in (
            (line.regular_hours, MULTIPLIER_OF["regular"]),
            (line.overtime_hours, MULTIPLIER_OF["overtime"]),
            (line.double_time_hours, MULTIPLIER_OF["double_time"]),
        ):
            cents += round_cents(Fraction(hours) * rate * multiplier)
    return Money(cents, person.wages.currency)


def split_shift_pay(person: PayrollEmployee) -> Money:
    """California split-shift premiums of the period (their own earning in the files)."""
    cents = sum(e.amount.amount for e in person.earnings if e.kind is EarningKind.SPLIT_SHIFT)
    return Money(cents, person.wages.currency)


def regular_rate_adjustment(person: PayrollEmployee) -> Money:
    """What the hours rows leave out of the pay, or overpay: overtime of an employee with several
    rates in a week is paid on the weighted regular rate, a tipped employee's on the full minimum
    wage (29 CFR 778.115, 531.60; DOL Fact Sheet #15), and hours are rounded to 0.01 in the rows.
    Sent as its own earning so the file adds up to the pay computed here; zero for a week at one
    rate without a tip credit."""
    return person.wages - split_shift_pay(person) - pay_from_hours(person)


__all__ = [
    "MULTIPLIERS",
    "MULTIPLIER_OF",
    "Earning",
    "EarningKind",
    "LaborLine",
    "PayClass",
    "PayrollEmployee",
    "PayrollPeriod",
    "pay_from_hours",
    "regular_rate_adjustment",
    "round_cents",
    "split_shift_pay",
]
