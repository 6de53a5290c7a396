"""A workweek's pay, computed the way the FLSA and California compute it.

This is the payroll interface (documented in ``docs/payroll.md``, its names locked by a test)::

    workweek_pay(punches, location, jobs=(), *, employee_id=None, week_start=None) -> WorkweekPay
    workweeks_pay(punches, location, jobs=()) -> list[WorkweekPay]

The rules, in the order they apply:

1. **Hours worked** (:mod:`.hours`): unpaid breaks of 20 minutes or more come off, paid breaks and
   shorter ones stay in (29 CFR 785.18-19); hours are split at the employer's fixed workday and
   workweek boundaries (Labor Code §500; 29 CFR 778.104-105), the location's ``labor`` settings.
2. **Overtime hours** (:mod:`.overtime`): federal, over 40 in the workweek (29 U.S.C. §207(a));
   California, over 8 in a workday and 40 in the week at 1.5×, over 12 in a workday at 2×, and on
   the seventh consecutive workday of the week the first 8 at 1.5× and the rest at 2× (§510).
3. **The regular rate** is the weighted average of every rate the employee worked at in the week:
   straight-time earnings ÷ hours worked (29 CFR 778.115; DLSE Enforcement Manual §49.2.5). A tipped
   job paid a cash wage under a tip credit counts at the full minimum wage (29 U.S.C. §203(m),
   DOL Fact Sheet #15): the tip credit is part of the wage.
4. **Pay**: every hour at the rate of the job worked (the cash wage); each overtime hour another
   half of the regular rate and each double-time hour another whole regular rate. An overtime hour
   of a tipped employee is therefore 1.5 × the minimum wage − the tip credit (Fact Sheet #15).
5. **California split shift** (IWC Wage Order 5, §4(C)): on a workday whose work is interrupted for
   more than an hour, one hour at the minimum wage, less what the day's straight-time wages
   exceed the minimum wage for the hours worked. Premiums are not part of the regular rate.

Amounts are exact fractions of a cent until the end: the week's total is rounded once (half up),
and the earnings share that total by the largest remainder, so they always add up to it.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import msgspec

from expediter.errors import RejectedInput
from expediter.model.labor import Job, LaborSettings, OvertimeRuleSet, TimePunch
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.payroll import Earning, EarningKind, round_cents
from expediter.operations.labor.hours import (
    SECONDS_PER_HOUR,
    Locations,
    WorkedShift,
    hours_from_seconds,
    worked_shifts,
)
from expediter.operations.labor.overtime import (
    ClassifiedShift,
    OvertimeRules,
    PayClass,
    classify_week,
    rules_for,
    workweek_start_of,
)

__all__ = [
    "Earning",
    "EarningKind",
    "WorkweekHours",
    "WorkweekPay",
    "workweek_pay",
    "workweeks_pay",
]

SPLIT_SHIFT_GAP = timedelta(hours=1)
"""Work interrupted for longer than this (longer than a bona fide meal period) is a split shift."""
RATE_PLACES = Decimal("0.0001")


PAY_CLASS_EARNING: dict[PayClass, EarningKind] = {
    PayClass.REGULAR: EarningKind.REGULAR,
    PayClass.OVERTIME: EarningKind.OVERTIME,
    PayClass.DOUBLE_TIME: EarningKind.DOUBLE_TIME,
}
PREMIUM_SHARE: dict[EarningKind, Fraction] = {
    EarningKind.REGULAR: Fraction(0),
    EarningKind.OVERTIME: Fraction(1, 2),
    EarningKind.DOUBLE_TIME: Fraction(1),
}
"""How much of the regular rate an hour of each kind earns on top of the job's rate."""


class WorkweekHours(msgspec.Struct, frozen=True, kw_only=True):
    """Hours worked by category, rounded to 0.01."""

    regular: Decimal
    overtime: Decimal
    double_time: Decimal

    @property
    def total(self) -> Decimal:
        return self.regular + self.overtime + self.double_time


class WorkweekPay(msgspec.Struct, kw_only=True):
    """One employee's pay for one fixed workweek."""

    employee_id: str
    location_id: str
    week_start: date
    """The first workday of the workweek."""
    hours: WorkweekHours
    regular_rate: Decimal
    """Straight-time earnings (tip credit included) ÷ hours worked, to 0.0001."""
    tip_credit: Money
    """The tip credit taken: what tips made up between the cash wage and the minimum wage."""
    earnings: list[Earning]
    total: Money
    """The gross pay: the sum of the earnings."""

    def pay(self, kind: EarningKind) -> Money:
        """The sum of the earnings of one kind."""
        return Money(sum(e.amount.amount for e in self.earnings if e.kind is kind), self.total.currency)


# --- the computation, exact -----------------------------------------------------------------------


@dataclass(frozen=True)
class PiecePay:
    """One classified piece of a shift with its exact pay, in cents."""

    classified: ClassifiedShift
    cash_rate: Fraction
    """Cents per hour paid in cash (the punch's rate)."""
    tip_credit: Fraction
    """Cents per hour the tip credit adds to reach the minimum wage."""
    exact: dict[EarningKind, Fraction]
    rate: dict[EarningKind, Fraction]

    @property
    def workday(self) -> date:
        return self.classified.shift.business_date


@dataclass
class WeekComputation:
    """Everything of one employee's workweek, before rounding."""

    employee_id: str
    location_id: str
    week_start: date
    currency: str
    regular_rate: Fraction = Fraction(0)
    """Cents per hour."""
    pieces: list[PiecePay] = field(default_factory=list)
    premiums: list[tuple[date, Fraction]] = field(default_factory=list)
    """Split-shift premiums by workday, in cents."""


def _cents(value: Decimal) -> Fraction:
    return Fraction(str(value)) * 100


def job_rates(shift: WorkedShift, job: Job | None, labor: LaborSettings) -> tuple[Fraction, Fraction]:
    """(cash rate, tip credit) in cents per hour; refuses a rate below the location's minimums."""
    cash = Fraction(shift.hourly_wage.amount or (job.hourly_wage.amount if job else 0))
    if labor.minimum_wage is None:
        return cash, Fraction(0)
    minimum = _cents(labor.minimum_wage)
    no_tip_credit = labor.tipped_cash_wage is None or labor.overtime_rules == OvertimeRuleSet.CALIFORNIA
    if job is not None and job.tipped and not no_tip_credit and labor.tipped_cash_wage is not None:
        if cash < _cents(labor.tipped_cash_wage):
            raise _below(shift, cash, labor.tipped_cash_wage, "the tipped cash wage")
        return cash, max(Fraction(0), minimum - cash)
    if cash < minimum:
        raise _below(shift, cash, labor.minimum_wage, "the minimum wage")
    return cash, Fraction(0)


def _below(shift: WorkedShift, cash: Fraction, floor: Decimal, what: str) -> RejectedInput:
    return RejectedInput(
        f"punch {shift.punch_id} ({shift.employee_id}, {shift.job_code}) pays {float(cash) / 100:.2f}"
        f" an hour, below {what} of {floor} at location {shift.location_id}",
        where=f"punch {shift.punch_id}.hourly_wage",
        fix="correct the punch's rate; a tipped job under a tip credit needs tipped = true on the job"
        " and tipped_cash_wage in [locations.labor] (never in California)",
    )


def _piece_pay(
    classified: ClassifiedShift, cash: Fraction, credit: Fraction, regular_rate: Fraction
) -> PiecePay:
    exact: dict[EarningKind, Fraction] = {}
    rates: dict[EarningKind, Fraction] = {}
    for pay_class, kind in PAY_CLASS_EARNING.items():
        rates[kind] = cash + PREMIUM_SHARE[kind] * regular_rate
        exact[kind] = Fraction(classified.seconds(pay_class), SECONDS_PER_HOUR) * rates[kind]
    return PiecePay(classified=classified, cash_rate=cash, tip_credit=credit, exact=exact, rate=rates)


def _regular_rate(rated: list[tuple[ClassifiedShift, Fraction, Fraction]]) -> Fraction:
    seconds = sum(c.shift.worked_seconds for c, _, _ in rated)
    if not seconds:
        return Fraction(0)
    straight = sum((c.shift.worked_seconds * (cash + credit) for c, cash, credit in rated), Fraction(0))
    return straight / seconds


def _split_shift_premiums(pieces: list[PiecePay], labor: LaborSettings) -> list[tuple[date, Fraction]]:
    """California's premium for each workday whose work is interrupted for more than an hour."""
    if labor.overtime_rules != OvertimeRuleSet.CALIFORNIA or labor.minimum_wage is None:
        return []
    minimum = _cents(labor.minimum_wage)
    by_day: dict[date, list[PiecePay]] = defaultdict(list)
    for piece in pieces:
        by_day[piece.workday].append(piece)
    premiums = []
    for day, day_pieces in sorted(by_day.items()):
        intervals = sorted(i for p in day_pieces for i in p.classified.shift.intervals)
        gaps = (later[0] - earlier[1] for earlier, later in itertools.pairwise(intervals))
        if not any(gap > SPLIT_SHIFT_GAP for gap in gaps):
            continue
        hours = Fraction(sum(p.classified.shift.worked_seconds for p in day_pieces), SECONDS_PER_HOUR)
        straight = sum(
            (Fraction(p.classified.shift.worked_seconds, SECONDS_PER_HOUR) * p.cash_rate for p in day_pieces),
            Fraction(0),
        )
        premium = min(minimum, max(Fraction(0), minimum * (hours + 1) - straight))
        if premium:
            premiums.append((day, premium))
    return premiums


def compute_week(
    classified: list[ClassifiedShift], location: Location, jobs: Mapping[str, Job], week_start: date
) -> WeekComputation:
    """One employee's classified workweek → exact pay per piece, regular rate and premiums."""
    first = classified[0].shift
    week = WeekComputation(
        employee_id=first.employee_id,
        location_id=first.location_id,
        week_start=week_start,
        currency=first.hourly_wage.currency,
    )
    rated = [(c, *job_rates(c.shift, jobs.get(c.shift.job_code), location.labor)) for c in classified]
    week.regular_rate = _regular_rate(rated)
    week.pieces = [_piece_pay(c, cash, credit, week.regular_rate) for c, cash, credit in rated]
    week.premiums = _split_shift_premiums(week.pieces, location.labor)
    return week


def _as_jobs(jobs: Iterable[Job] | Mapping[str, Job]) -> dict[str, Job]:
    if isinstance(jobs, Mapping):
        return dict(jobs)
    return {job.code: job for job in jobs}


def compute_weeks(
    punches: Iterable[TimePunch],
    locations: Locations,
    jobs: Iterable[Job] | Mapping[str, Job] = (),
    rules: OvertimeRules | None = None,
) -> list[WeekComputation]:
    """Every employee's every workweek the punches touch, exact. Each week uses the labor settings
    of the location of its first shift (``rules``, when given, replace the location's rule set)."""
    by_job = _as_jobs(jobs)
    shifts = worked_shifts(punches, locations).shifts
    weeks: dict[tuple[str, date], list[WorkedShift]] = defaultdict(list)
    settings: dict[tuple[str, date], tuple[Location, OvertimeRules]] = {}
    for shift in sorted(shifts, key=lambda s: (s.employee_id, s.clock_in, s.punch_id)):
        location = _location(shift, locations)
        week_rules = rules or rules_for(location)
        key = (shift.employee_id, workweek_start_of(shift.business_date, week_rules.workweek_start))
        settings.setdefault(key, (location, week_rules))
        weeks[key].append(shift)
    result = []
    for key in sorted(weeks):
        location, week_rules = settings[key]
        classified = classify_week(weeks[key], week_rules, key[1])
        result.append(compute_week(classified, location, by_job, key[1]))
    return result


def _location(shift: WorkedShift, locations: Locations) -> Location:
    if isinstance(locations, Location):
        return locations
    found = locations.get(shift.location_id)
    if found is None:  # worked_shifts has refused unknown locations already
        raise RejectedInput(f"unknown location {shift.location_id!r}", where=f"punch {shift.punch_id}")
    return found


# --- rounding and the public result -------------------------------------------------------------


def _rate_text(cents_per_hour: Fraction) -> Decimal:
    return (Decimal(cents_per_hour.numerator) / Decimal(cents_per_hour.denominator) / 100).quantize(
        RATE_PLACES, rounding=ROUND_HALF_UP
    )


_EarningKey = tuple[EarningKind, str, Fraction]


def earnings_of(
    pieces: Iterable[PiecePay], premiums: Iterable[tuple[date, Fraction]], currency: str
) -> tuple[list[Earning], Money]:
    """Earnings by kind, job and rate, and their total: the exact total rounded once (half up),
    shared among the earnings by the largest remainder so they add up to it."""
    seconds: dict[_EarningKey, int] = defaultdict(int)
    exact: dict[_EarningKey, Fraction] = defaultdict(Fraction)
    for piece in pieces:
        for pay_class, kind in PAY_CLASS_EARNING.items():
            worked = piece.classified.seconds(pay_class)
            if worked:
                key = (kind, piece.classified.shift.job_code, piece.rate[kind])
                seconds[key] += worked
                exact[key] += piece.exact[kind]
    premium_total = sum((amount for _, amount in premiums), Fraction(0))
    if premium_total:
        exact[(EarningKind.SPLIT_SHIFT, "", Fraction(0))] += premium_total
    keys = sorted(exact, key=lambda k: (list(EarningKind).index(k[0]), k[1], k[2]))
    total = round_cents(sum(exact.values(), Fraction(0)))
    parts = _share(total, [exact[k] for k in keys])
    earnings = [
        Earning(
            kind=kind,
            job_code=job,
            hours=hours_from_seconds(seconds[(kind, job, rate)]),
            rate=_rate_text(rate) if kind is not EarningKind.SPLIT_SHIFT else Decimal(part) / 100,
            amount=Money(part, currency),
        )
        for (kind, job, rate), part in zip(keys, parts, strict=True)
    ]
    return earnings, Money(total, currency)


def _share(total: int, exact: list[Fraction]) -> list[int]:
    """Cents per earning adding up to ``total`` (the rounded sum of ``exact``, never negative):
    floors, then the leftover cents to the largest remainders (earliest first on ties)."""
    parts = [math.floor(e) for e in exact]
    leftover = total - sum(parts)  # 0 <= leftover <= len(exact), since total is the rounded sum
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:leftover]:
        parts[index] += 1
    return parts


def _hours(pieces: list[PiecePay]) -> WorkweekHours:
    totals = dict.fromkeys(PayClass, 0)
    for piece in pieces:
        for pay_class in PayClass:
            totals[pay_class] += piece.classified.seconds(pay_class)
    return WorkweekHours(
        regular=hours_from_seconds(totals[PayClass.REGULAR]),
        overtime=hours_from_seconds(totals[PayClass.OVERTIME]),
        double_time=hours_from_seconds(totals[PayClass.DOUBLE_TIME]),
    )


def tip_credit_of(pieces: Iterable[PiecePay]) -> Fraction:
    """The tip credit taken on these pieces, in cents."""
    return sum(
        (Fraction(p.classified.shift.worked_seconds, SECONDS_PER_HOUR) * p.tip_credit for p in pieces),
        Fraction(0),
    )


def week_pay(week: WeekComputation) -> WorkweekPay:
    """The rounded, public result of one computed workweek."""
    earnings, total = earnings_of(week.pieces, week.premiums, week.currency)
    return WorkweekPay(
        employee_id=week.employee_id,
        location_id=week.location_id,
        week_start=week.week_start,
        hours=_hours(week.pieces),
        regular_rate=_rate_text(week.regular_rate),
        tip_credit=Money(round_cents(tip_credit_of(week.pieces)), week.currency),
        earnings=earnings,
        total=total,
    )


def workweeks_pay(
    punches: Iterable[TimePunch], location: Locations, jobs: Iterable[Job] | Mapping[str, Job] = ()
) -> list[WorkweekPay]:
    """The pay of every employee for every fixed workweek the punches touch, sorted by employee
    and week. ``location`` is the :class:`~expediter.model.location.Location` whose ``labor``
    settings apply (or every location by id); ``jobs`` tell which job codes are tipped (and give a
    rate to punches that carry none). Open punches are not paid."""
    return [week_pay(week) for week in compute_weeks(punches, location, jobs)]


def workweek_pay(
    punches: Iterable[TimePunch],
    location: Locations,
    jobs: Iterable[Job] | Mapping[str, Job] = (),
    *,
    employee_id: str | None = None,
    week_start: date | None = None,
) -> WorkweekPay:
    """One employee's pay for one fixed workweek.

    ``employee_id`` may be left out when the punches are one employee's; ``week_start`` (the first
    workday of the week) when their hours fall in one workweek. A shift crossing the workweek
    boundary has hours in two weeks: name the week you want, or use :func:`workweeks_pay`.
    """
    weeks = workweeks_pay(punches, location, jobs)
    chosen = [
        w
        for w in weeks
        if (employee_id is None or w.employee_id == employee_id)
        and (week_start is None or w.week_start == week_start)
    ]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise RejectedInput(
            "no hours worked in that workweek" if weeks else "no closed punch with hours",
            where=f"employee {employee_id or '?'}, week of {week_start or '?'}",
            fix="pass punches with clock-in and clock-out, and the week's first workday as week_start",
        )
    found = ", ".join(f"{w.employee_id} week of {w.week_start}" for w in chosen)
    raise RejectedInput(
        f"the punches cover several workweeks or employees ({found})",
        where="workweek_pay",
        fix="pass employee_id and week_start, or call workweeks_pay for all of them",
    )
