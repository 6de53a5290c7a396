"""Worked pay cases, each against the rule that governs it, figures worked by hand.

Every case goes through the documented payroll interface (``workweek_pay`` / ``workweeks_pay``,
docs/payroll.md). The week is Sunday 1 to Saturday 7 March 2026 in Los Angeles; the workday starts
at the location's day start (04:00) unless a case says otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.labor import Job, LaborSettings, OvertimeRuleSet, TimePunch, Weekday
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.operations.labor.workweek import EarningKind, WorkweekPay, workweek_pay, workweeks_pay

from .punches import LA, punch

WEEK = date(2026, 3, 1)
FEDERAL = msgspec.structs.replace(LA, labor=LaborSettings(minimum_wage=Decimal("7.25")))
CALIFORNIA = msgspec.structs.replace(
    LA, labor=LaborSettings(overtime_rules=OvertimeRuleSet.CALIFORNIA, minimum_wage=Decimal("16.50"))
)


def day(n: int) -> str:
    """``2026-03-0n``: 1 is Sunday, 2 Monday ... 7 Saturday."""
    return f"2026-03-0{n}"


def hours(pay: WorkweekPay) -> tuple[Decimal, Decimal, Decimal]:
    return pay.hours.regular, pay.hours.overtime, pay.hours.double_time


def pay_of(punches: list[TimePunch], location: Location, jobs: list[Job] | None = None) -> WorkweekPay:
    return workweek_pay(punches, location, jobs or [])


# --- several rates in one workweek ---------------------------------------------------------------


def test_two_rates_in_one_week_pay_overtime_on_the_weighted_regular_rate() -> None:
    """29 CFR 778.115 (employees working at two or more rates): the regular rate is the weighted
    average, and each overtime hour earns another half of it.

    30 h as a cook at $15 (Mon-Wed, 10 h a day) + 15 h at the bar at $20 (Thu-Fri, 7.5 h):
      straight time   30 × 15 + 15 × 20 = 450 + 300 = $750.00 for 45 h
      regular rate    750 / 45 = $16.6667
      overtime        5 h × ½ × 16.6667 = $41.67
      total           750 + 41.67 = $791.67
    Paying overtime at the bar's rate would give 650 + 5 × 30 = $800.00, at the regular rate for
    the overtime hours only 650 + 5 × 25 = $775.00: the law's figure is $791.67.
    """
    cook = [punch(f"{day(d)} 08:00", 10, job="cook", wage=1500) for d in (2, 3, 4)]
    bar = [punch(f"{day(d)} 08:00", 7.5, job="bar", wage=2000) for d in (5, 6)]
    pay = pay_of([*cook, *bar], FEDERAL)
    assert hours(pay) == (40, 5, 0)
    assert pay.regular_rate == Decimal("16.6667")
    assert pay.total == Money(79167)
    assert pay.pay(EarningKind.OVERTIME) == Money(14167)  # 5 h × (20 + 8.3333)
    assert pay.pay(EarningKind.REGULAR) == Money(65000)  # 30 × 15 + 10 × 20


def test_fifty_hours_at_two_rates() -> None:
    """29 CFR 778.115: 30 h at $15 + 20 h at $20 = $850.00 straight time for 50 h; regular rate
    850 / 50 = $17.00; overtime 10 h × ½ × 17 = $85.00; total $935.00."""
    cook = [punch(f"{day(d)} 08:00", 10, job="cook", wage=1500) for d in (2, 3, 4)]
    bar = [punch(f"{day(d)} 08:00", 10, job="bar", wage=2000) for d in (5, 6)]
    pay = pay_of([*cook, *bar], FEDERAL)
    assert hours(pay) == (40, 10, 0)
    assert (pay.regular_rate, pay.total) == (Decimal("17.0000"), Money(93500))


def test_the_order_the_jobs_were_worked_in_does_not_change_the_pay() -> None:
    """778.115's weighted average does not depend on which job came last: bar first, cook last
    gives the same $791.67 (regular 15 × 20 + 25 × 15 = 675; overtime 5 × (15 + 8.3333) = 116.67)."""
    bar = [punch(f"{day(d)} 08:00", 7.5, job="bar", wage=2000) for d in (2, 3)]
    cook = [punch(f"{day(d)} 08:00", 10, job="cook", wage=1500) for d in (4, 5, 6)]
    pay = pay_of([*bar, *cook], FEDERAL)
    assert pay.total == Money(79167)
    assert pay.pay(EarningKind.OVERTIME) == Money(11667)


def test_california_daily_overtime_uses_the_regular_rate_too() -> None:
    """Labor Code §510 pays 1.5 × the regular rate of pay; DLSE Enforcement Manual §49.2.5 takes
    it as the weighted average, as the FLSA does. Monday: 6 h at $18, then 4 h at $24 = 10 h.
      straight time   108 + 96 = $204.00; regular rate 204 / 10 = $20.40
      daily overtime  hours 9-10 (at the bar): 2 h
      pay             204 + 2 × ½ × 20.40 = $224.40
    """
    cook = punch(f"{day(2)} 08:00", 6, job="cook", wage=1800)
    bar = punch(f"{day(2)} 14:00", 4, job="bar", wage=2400)
    pay = pay_of([cook, bar], CALIFORNIA)
    assert hours(pay) == (8, 2, 0)
    assert (pay.regular_rate, pay.total) == (Decimal("20.4000"), Money(22440))


# --- tip credit ------------------------------------------------------------------------------


def test_tipped_overtime_is_time_and_a_half_of_the_full_minimum_wage_less_the_tip_credit() -> None:
    """DOL Fact Sheet #15 (tipped employees under the FLSA; 29 U.S.C. §203(m)): the regular rate of
    a tipped employee is the full minimum wage; the tip credit may not grow in overtime hours.

    45 h as a server at a $2.13 cash wage, minimum wage $7.25, tip credit 7.25 − 2.13 = $5.12:
      regular hours   40 × 2.13 = $85.20
      overtime hours  5 × (1.5 × 7.25 − 5.12) = 5 × 5.755 = $28.775
      total           $113.975 → $113.98   (not 45 × 2.13 + 5 × 1.065 = $101.18)
    """
    location = msgspec.structs.replace(
        LA, labor=LaborSettings(minimum_wage=Decimal("7.25"), tipped_cash_wage=Decimal("2.13"))
    )
    server = Job(code="server", name="Server", hourly_wage=Money(213), tipped=True)
    punches = [punch(f"{day(d)} 10:00", 9, job="server", wage=213) for d in range(2, 7)]
    pay = pay_of(punches, location, [server])
    assert hours(pay) == (40, 5, 0)
    assert pay.regular_rate == Decimal("7.2500")
    assert pay.pay(EarningKind.REGULAR) == Money(8520)
    assert pay.pay(EarningKind.OVERTIME) == Money(2878)
    assert pay.total == Money(11398)
    assert pay.tip_credit == Money(45 * 512)  # $230.40


def test_a_tipped_wage_below_the_cash_wage_is_refused() -> None:
    """29 U.S.C. §203(m)(2)(A): the cash wage may not be less than $2.13."""
    location = msgspec.structs.replace(
        LA, labor=LaborSettings(minimum_wage=Decimal("7.25"), tipped_cash_wage=Decimal("2.13"))
    )
    server = Job(code="server", name="Server", hourly_wage=Money(200), tipped=True)
    with pytest.raises(RejectedInput, match="below the tipped cash wage"):
        pay_of([punch(f"{day(2)} 10:00", 5, job="server", wage=200)], location, [server])


def test_california_allows_no_tip_credit() -> None:
    """Labor Code §351: no tip credit in California, so a tipped job below the minimum wage is an
    error to fix, not a cash wage."""
    location = msgspec.structs.replace(
        CALIFORNIA, labor=msgspec.structs.replace(CALIFORNIA.labor, tipped_cash_wage=Decimal("2.13"))
    )
    server = Job(code="server", name="Server", hourly_wage=Money(213), tipped=True)
    with pytest.raises(RejectedInput, match="below the minimum wage"):
        pay_of([punch(f"{day(2)} 10:00", 5, job="server", wage=213)], location, [server])


# --- California daily rules ---------------------------------------------------------------------


def test_a_thirteen_hour_day() -> None:
    """Labor Code §510(a): over 8 h in a workday at 1.5×, over 12 h at 2×. 13 h at $20:
    California 8 × 20 + 4 × 30 + 1 × 40 = 160 + 120 + 40 = $320.00;
    federal (no daily overtime, 29 U.S.C. §207(a)) 13 × 20 = $260.00."""
    day13 = [punch(f"{day(2)} 08:00", 13, wage=2000)]
    ca, us = pay_of(day13, CALIFORNIA), pay_of(day13, FEDERAL)
    assert (hours(ca), ca.total) == ((8, 4, 1), Money(32000))
    assert (hours(us), us.total) == ((13, 0, 0), Money(26000))


def test_seventh_consecutive_day_in_california() -> None:
    """Labor Code §510(a): on the seventh consecutive day of work in the workweek the first 8 h are
    at 1.5× and the rest at 2× (Mendoza v. Nordstrom, 2017: all seven days of the workweek).
    Sunday-Friday 6 h a day (36 h), Saturday 10 h, at $20:
      California  36 × 20 + 8 × 30 + 2 × 40 = 720 + 240 + 80 = $1,040.00   (36 / 8 / 2)
      federal     46 h: 40 × 20 + 6 × 30 = $980.00                           (40 / 6 / 0)"""
    week = [punch(f"{day(d)} 10:00", 6, wage=2000) for d in range(1, 7)]
    week.append(punch(f"{day(7)} 10:00", 10, wage=2000))
    ca, us = pay_of(week, CALIFORNIA), pay_of(week, FEDERAL)
    assert (hours(ca), ca.total) == ((36, 8, 2), Money(104000))
    assert (hours(us), us.total) == ((40, 6, 0), Money(98000))


def test_six_days_is_not_a_seventh_day() -> None:
    """Labor Code §510(a) needs work on all seven days: Monday-Saturday 8 h is 40 h + the sixth day's
    8 h as weekly overtime (40 / 8 / 0), $20: 800 + 240 = $1,040.00."""
    week = [punch(f"{day(d)} 10:00", 8, wage=2000) for d in range(2, 8)]
    pay = pay_of(week, CALIFORNIA)
    assert (hours(pay), pay.total) == ((40, 8, 0), Money(104000))


def test_four_tens_without_and_with_an_alternative_workweek() -> None:
    """Four 10-hour days, $20. California without an alternative workweek schedule (Labor Code
    §510(a)): 2 h overtime a day → 32 × 20 + 8 × 30 = $880.00. With one adopted under §511 for
    10-hour days: no daily overtime up to 10 h → 40 × 20 = $800.00. Federal: 40 h, $800.00."""
    tens = [punch(f"{day(d)} 08:00", 10, wage=2000) for d in range(2, 6)]
    ca = pay_of(tens, CALIFORNIA)
    assert (hours(ca), ca.total) == ((32, 8, 0), Money(88000))
    aws = msgspec.structs.replace(
        CALIFORNIA,
        labor=msgspec.structs.replace(CALIFORNIA.labor, alternative_workweek_hours=Decimal(10)),
    )
    assert pay_of(tens, aws).total == Money(80000)
    us = pay_of(tens, FEDERAL)
    assert (hours(us), us.total) == ((40, 0, 0), Money(80000))


def test_california_weekly_overtime_does_not_count_daily_overtime_twice() -> None:
    """DLSE Enforcement Manual §48.1.6: hours paid as daily overtime do not count toward the weekly
    40. Five 10-hour days at $20: 8 + 2 a day → 40 / 10 / 0 → 800 + 300 = $1,100.00."""
    tens = [punch(f"{day(d)} 08:00", 10, wage=2000) for d in range(2, 7)]
    pay = pay_of(tens, CALIFORNIA)
    assert (hours(pay), pay.total) == ((40, 10, 0), Money(110000))


def test_federal_only_has_no_daily_overtime() -> None:
    """FLSA (29 U.S.C. §207(a)): overtime only over 40 hours in the workweek. Three 13-hour days and
    one hour: 40 h, $20 → $800.00. Under California the same week is 24 + 1 = 25 regular, 12 OT,
    3 DT → 500 + 360 + 120 = $980.00."""
    week = [punch(f"{day(d)} 08:00", 13, wage=2000) for d in (2, 3, 4)] + [
        punch(f"{day(5)} 08:00", 1, wage=2000)
    ]
    us, ca = pay_of(week, FEDERAL), pay_of(week, CALIFORNIA)
    assert (hours(us), us.total) == ((40, 0, 0), Money(80000))
    assert (hours(ca), ca.total) == ((25, 12, 3), Money(98000))


# --- split shifts, midnight shifts, breaks -------------------------------------------------------


def test_split_shift_premium_in_california() -> None:
    """IWC Wage Order 5, §4(C) and §2(R); DLSE Enforcement Manual §45.2: work interrupted by an
    unpaid period longer than a meal period earns one hour at the minimum wage, less what the day's
    wages exceed the minimum wage for the hours worked. Minimum wage $16.50; 11:00-14:00 and
    17:00-22:00 = 8 h.
      at $16.50: wages 132.00; owed 9 × 16.50 = 148.50 → premium $16.50, total $148.50
      at $17.00: wages 136.00 → premium 148.50 − 136.00 = $12.50, total $148.50
      at $20.00: wages 160.00 ≥ 148.50 → no premium, total $160.00
    Federal law has no split-shift premium."""

    def split(wage: int) -> list[TimePunch]:
        return [punch(f"{day(2)} 11:00", 3, wage=wage), punch(f"{day(2)} 17:00", 5, wage=wage)]

    at_minimum = pay_of(split(1650), CALIFORNIA)
    assert (at_minimum.pay(EarningKind.SPLIT_SHIFT), at_minimum.total) == (Money(1650), Money(14850))
    assert pay_of(split(1700), CALIFORNIA).pay(EarningKind.SPLIT_SHIFT) == Money(1250)
    assert pay_of(split(2000), CALIFORNIA).total == Money(16000)
    assert pay_of(split(1650), FEDERAL).total == Money(13200)
    # a 30-minute meal period is not a split shift
    meal = [punch(f"{day(2)} 11:00", 3, wage=1650), punch(f"{day(2)} 14:30", 5, wage=1650)]
    assert pay_of(meal, CALIFORNIA).pay(EarningKind.SPLIT_SHIFT) == Money(0)


def test_midnight_shift_splits_at_a_midnight_workday() -> None:
    """Labor Code §500(a): the workday is any fixed 24 hours; hours count in the one they are worked
    in. 16:00 Monday to 08:00 Tuesday (16 h), $20:
      workday from midnight  Monday 8 h + Tuesday 8 h → no overtime → $320.00
      workday from 04:00     Monday 16:00-04:00 = 12 h → 8 / 4 / 0, Tuesday 4 h
                              → 12 × 20 + 4 × 30 = $360.00"""
    overnight = [punch(f"{day(2)} 16:00", 16, wage=2000)]
    midnight = msgspec.structs.replace(
        CALIFORNIA, labor=msgspec.structs.replace(CALIFORNIA.labor, workday_start="00:00")
    )
    at_midnight = pay_of(overnight, midnight)
    assert (hours(at_midnight), at_midnight.total) == ((16, 0, 0), Money(32000))
    at_four = pay_of(overnight, CALIFORNIA)
    assert (hours(at_four), at_four.total) == ((12, 4, 0), Money(36000))


def test_a_shift_across_the_workweek_boundary_splits_between_the_weeks() -> None:
    """29 CFR 778.104-105: each fixed workweek stands alone. Monday 23 to Friday 27 February 8 h
    (40 h), then Saturday 28 February 22:00 to Sunday 1 March 06:00; the week starts Sunday at the
    04:00 workday start, so 6 h fall in the first week (46 h → 6 overtime) and 2 h in the next.
    At $20: 40 × 20 + 6 × 30 = $980.00, and 2 × 20 = $40.00."""
    week = [punch(f"2026-02-2{d} 09:00", 8, wage=2000) for d in range(3, 8)]
    week.append(punch("2026-02-28 22:00", 8, wage=2000))
    first, second = workweeks_pay(week, FEDERAL)
    assert (first.week_start, hours(first), first.total) == (date(2026, 2, 22), (40, 6, 0), Money(98000))
    assert (second.week_start, hours(second), second.total) == (WEEK, (2, 0, 0), Money(4000))
    assert workweek_pay(week, FEDERAL, week_start=WEEK) == second


def test_the_night_the_clocks_spring_forward() -> None:
    """Hours are real hours (29 CFR 785.1; the time clock's wall time is not the pay): Saturday
    7 March 2026 22:00 PST for 8 real hours ends at 07:00 PDT. Until the 04:00 PDT workday start
    that is 5 real hours (02:00 does not exist); the other 3 fall on Sunday, in the next week."""
    first, second = workweeks_pay([punch(f"{day(7)} 22:00", 8, wage=2000)], FEDERAL)
    assert (first.week_start, first.hours.total, second.hours.total) == (WEEK, 5, 3)


def test_the_workweek_start_day_is_a_location_setting() -> None:
    """29 CFR 778.105: the employer fixes the workweek. Monday-Saturday 8 h is 48 h in a Sunday week
    (8 overtime) but 24 + 24 in a week starting Thursday: no overtime."""
    week = [punch(f"{day(d)} 10:00", 8, wage=2000) for d in range(2, 8)]
    thursday = msgspec.structs.replace(
        FEDERAL, labor=msgspec.structs.replace(FEDERAL.labor, workweek_start=Weekday.THURSDAY)
    )
    assert sum(w.hours.overtime for w in workweeks_pay(week, FEDERAL)) == 8
    assert sum(w.hours.overtime for w in workweeks_pay(week, thursday)) == 0


def test_paid_and_unpaid_breaks() -> None:
    """29 CFR 785.18-19; IWC Wage Order 5, §11-12: a bona fide meal period (30 min, relieved of duty)
    is not worked time; rest periods are paid. 08:00-16:30 with a 30-min unpaid meal and a 15-min
    paid rest = 8 h: no California overtime, 8 × 20 = $160.00. A 15-min break the clock calls unpaid
    is still a rest period (785.18): 08:00-17:00 with it is 9 h → 8 + 1 OT = 160 + 30 = $190.00."""
    meal = punch(f"{day(2)} 08:00", 8.5, unpaid_break=0.5, paid_break=0.25, wage=2000)
    pay = pay_of([meal], CALIFORNIA)
    assert (hours(pay), pay.total) == ((8, 0, 0), Money(16000))
    short = punch(f"{day(3)} 08:00", 9, unpaid_break=0.25, wage=2000)
    pay = pay_of([short], CALIFORNIA)
    assert (hours(pay), pay.total) == ((8, 1, 0), Money(19000))


def test_a_rate_below_the_minimum_wage_is_refused_with_the_fix() -> None:
    """29 U.S.C. §206: the minimum wage is a floor; a punch below it is a data error to correct."""
    with pytest.raises(RejectedInput, match=r"below the minimum wage of 16\.50"):
        pay_of([punch(f"{day(2)} 10:00", 4, wage=1500)], CALIFORNIA)


def test_several_employees_or_weeks_need_a_choice() -> None:
    two = [punch(f"{day(2)} 10:00", 4), punch(f"{day(2)} 10:00", 4, employee="e2")]
    with pytest.raises(RejectedInput, match="several workweeks or employees"):
        workweek_pay(two, FEDERAL)
    assert workweek_pay(two, FEDERAL, employee_id="e2").employee_id == "e2"
