"""Overtime worked examples, federal and California (week of Sunday 2026-03-01 to Saturday 03-07)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from expediter.model.labor import TimePunch
from expediter.model.money import Money
from expediter.operations.labor.hours import worked_shifts
from expediter.operations.labor.overtime import OvertimeRules, PayClass, Weekday, california, federal
from expediter.operations.labor.pay import labor_for_day, labor_for_period

from .punches import LA, punch

WEEK = [f"2026-03-0{d}" for d in range(1, 8)]  # Sunday 1st .. Saturday 7th


def hours(punches: list[TimePunch], rules: OvertimeRules) -> tuple[Decimal, Decimal, Decimal]:
    """Total (regular, overtime, double time) hours of the week."""
    lines = labor_for_period(LA, date(2026, 3, 1), date(2026, 3, 7), punches, rules).lines
    return (
        sum((line.regular_hours for line in lines), Decimal(0)),
        sum((line.overtime_hours for line in lines), Decimal(0)),
        sum((line.double_time_hours for line in lines), Decimal(0)),
    )


def test_federal_pays_hours_over_40_in_the_week_at_time_and_a_half() -> None:
    five_nines = [punch(f"{day} 10:00", 9) for day in WEEK[1:6]]  # Mon-Fri, 45 h
    assert hours(five_nines, federal()) == (40, 5, 0)


def test_federal_has_no_daily_overtime() -> None:
    assert hours([punch(f"{WEEK[1]} 08:00", 13)], federal()) == (13, 0, 0)


def test_federal_workweek_start_is_configurable() -> None:
    six_eights = [punch(f"{day} 10:00", 8) for day in WEEK[1:7]]  # Mon-Sat, 48 h
    assert hours(six_eights, federal(Weekday.SUNDAY)) == (40, 8, 0)
    # a week starting Thursday splits them 24 h (Mon-Wed) + 24 h (Thu-Sat): no overtime
    assert hours(six_eights, federal(Weekday.THURSDAY)) == (48, 0, 0)


def test_california_daily_overtime_and_double_time() -> None:
    assert hours([punch(f"{WEEK[1]} 08:00", 13)], california()) == (8, 4, 1)


def test_california_weekly_rule_does_not_double_count_daily_overtime() -> None:
    five_tens = [punch(f"{day} 10:00", 10) for day in WEEK[1:6]]  # 50 h: 8 + 2 OT a day
    assert hours(five_tens, california()) == (40, 10, 0)


def test_california_weekly_40_applies_on_the_sixth_day() -> None:
    six_eights = [punch(f"{day} 10:00", 8) for day in WEEK[1:7]]
    assert hours(six_eights, california()) == (40, 8, 0)


def test_california_seventh_consecutive_day_first_8_hours_at_1_5_then_double() -> None:
    six_sixes = [punch(f"{day} 10:00", 6) for day in WEEK[:6]]  # 36 h Sunday to Friday
    seventh = punch(f"{WEEK[6]} 10:00", 10)
    assert hours([*six_sixes, seventh], california()) == (36, 8, 2)
    saturday = labor_for_day(LA, date(2026, 3, 7), [*six_sixes, seventh], california()).lines
    assert [(line.regular_hours, line.overtime_hours, line.double_time_hours) for line in saturday] == [
        (0, 8, 2)
    ]


def test_california_seven_eights_week() -> None:
    # Sun-Thu 40 h regular; Friday 8 h weekly overtime; Saturday (7th day) 8 h at 1.5x
    assert hours([punch(f"{day} 10:00", 8) for day in WEEK], california()) == (40, 16, 0)


def test_six_days_is_not_a_seventh_day() -> None:
    six = [punch(f"{day} 10:00", 6) for day in WEEK[1:7]]  # Mon-Sat only
    assert hours(six, california()) == (36, 0, 0)


def test_california_closing_shift_splits_at_the_workday_start() -> None:
    """Labor Code §500(a), §510: hours count in the fixed workday they are worked in.
    Friday 18:00-04:30 (30-min break), workday from 04:00: Friday 9.5 h → 8 + 1.5 OT;
    Saturday 0.5 h (04:00-04:30) + 8 h (10:00-18:00) = 8.5 h → 8 + 0.5 OT. Week: 16 / 2 / 0."""
    friday_close = punch(f"{WEEK[5]} 18:00", 10.5, unpaid_break=0.5)
    saturday = punch(f"{WEEK[6]} 10:00", 8)
    assert hours([friday_close, saturday], california()) == (16, 2, 0)
    pieces = worked_shifts([friday_close], LA).shifts
    assert [s.business_date for s in pieces] == [date(2026, 3, 6), date(2026, 3, 7)]


def test_overtime_lands_on_the_job_worked_when_it_accrued() -> None:
    server = punch(f"{WEEK[1]} 10:00", 6, job="server", wage=1600)
    bar = punch(f"{WEEK[1]} 16:00", 4, job="bartender", wage=1800)
    lines = {
        line.job_code: line
        for line in labor_for_period(
            LA, date(2026, 3, 1), date(2026, 3, 7), [server, bar], california()
        ).lines
    }
    assert (lines["server"].regular_hours, lines["server"].overtime_hours) == (6, 0)
    assert (lines["bartender"].regular_hours, lines["bartender"].overtime_hours) == (2, 2)
    assert lines["bartender"].wages(PayClass.OVERTIME) == Money(5400)  # 2 h x 18.00 x 1.5
    assert lines["bartender"].total_wages == Money(3600 + 5400)


def test_a_pay_period_counts_the_days_before_it_for_the_weekly_rule() -> None:
    monday_to_thursday = [punch(f"{day} 10:00", 10) for day in WEEK[1:5]]  # 40 h
    friday = punch(f"{WEEK[5]} 10:00", 5)
    lines = labor_for_period(
        LA, date(2026, 3, 6), date(2026, 3, 6), [*monday_to_thursday, friday], federal()
    ).lines
    assert [(line.regular_hours, line.overtime_hours) for line in lines] == [(0, 5)]
