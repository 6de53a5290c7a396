"""The worked pay period the ADP and Paychex file tests are written against.

Week Sunday 2026-03-01 to Saturday 03-07 in Los Angeles, California rules:

- Ann (File # 000101), server at 16.00: Monday-Friday 9 h a day → 40.00 regular + 5.00 overtime;
  declared 10.00 cash tips; 123.45 card tips; 9.00 auto-gratuity paid as wages.
- Bob (000102), line cook at 20.00 (earning code ``KIT``): one 13 h Monday → 8.00 regular,
  4.00 overtime, 1.00 double time.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from expediter.model.labor import Employee, Job, LaborSettings
from expediter.model.money import Money
from expediter.operations.labor.overtime import california, federal
from expediter.operations.labor.payroll import PayrollPeriod, build_payroll

from .punches import LA, punch

EMPLOYEES = {
    "ann": Employee(id="ann", name="Ann", location_id="LA1", payroll_id="000101"),
    "bob": Employee(id="bob", name="Bob", location_id="LA1", payroll_id="000102"),
}
JOB_EARNING_CODES = {"line_cook": "KIT"}
START, END = date(2026, 3, 1), date(2026, 3, 7)


TWO_RATES = {"cal": Employee(id="cal", name="Cal", location_id="LA1", payroll_id="000103")}
TIPPED = {"dee": Employee(id="dee", name="Dee", location_id="LA1", payroll_id="000104")}


def two_rate_period() -> PayrollPeriod:
    """Cal, federal rules: 30 h as a cook at 15.00 (Mon-Wed), 15 h at the bar at 20.00 (Thu-Fri).
    29 CFR 778.115: 750.00 straight time for 45 h, regular rate 16.6667, pay 791.67. The rows at
    each job's rate compute 30 × 15 + 10 × 20 + 5 × 1.5 × 20 = 800.00: the adjustment is −8.33."""
    cook = [punch(f"2026-03-0{d} 08:00", 10, employee="cal", job="cook", wage=1500) for d in (2, 3, 4)]
    bar = [punch(f"2026-03-0{d} 08:00", 7.5, employee="cal", job="bar", wage=2000) for d in (5, 6)]
    return build_payroll(LA, START, END, [*cook, *bar], TWO_RATES, federal())


def tipped_period() -> PayrollPeriod:
    """Dee, federal rules with a tip credit (minimum wage 7.25, cash wage 2.13), 45 h as a server.
    DOL Fact Sheet #15: 40 × 2.13 + 5 × (1.5 × 7.25 − 5.12) = 85.20 + 28.775 = 113.98. The rows
    compute 85.20 + 5 × 1.5 × 2.13 = 85.20 + 15.98 = 101.18: the adjustment is +12.80."""
    location = msgspec.structs.replace(
        LA, labor=LaborSettings(minimum_wage=Decimal("7.25"), tipped_cash_wage=Decimal("2.13"))
    )
    server = Job(code="server", name="Server", hourly_wage=Money(213), tipped=True)
    roster = {"dee": msgspec.structs.replace(TIPPED["dee"], jobs=[server])}
    punches = [punch(f"2026-03-0{d} 10:00", 9, employee="dee", wage=213) for d in range(2, 7)]
    return build_payroll(location, START, END, punches, roster)


def example_period() -> PayrollPeriod:
    ann = [
        punch(f"2026-03-0{d} 10:00", 9, employee="ann", cash_tips=1000 if d == 2 else 0) for d in range(2, 7)
    ]
    bob = [punch("2026-03-02 08:00", 13, employee="bob", job="line_cook", wage=2000)]
    return build_payroll(
        LA,
        START,
        END,
        [*ann, *bob],
        EMPLOYEES,
        california(),
        pos_tips={"ann": Money(12345)},
        service_charge_wages={"ann": Money(900)},
    )
