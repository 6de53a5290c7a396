"""The worked pay period the ADP and Paychex file tests are written against.

Week Sunday 2026-03-01 to Saturday 03-07 in Los Angeles, California rules:

- Ann (File # 000101), server at 16.00: Monday-Friday 9 h a day → 40.00 regular + 5.00 overtime;
  declared 10.00 cash tips; 123.45 card tips; 9.00 auto-gratuity paid as wages.
- Bob (000102), line cook at 20.00 (earning code ``KIT``): one 13 h Monday → 8.00 regular,
  4.00 overtime, 1.00 double time.
"""

from __future__ import annotations

from datetime import date

from expediter.model.labor import Employee
from expediter.model.money import Money
from expediter.operations.labor.overtime import california
from expediter.operations.labor.payroll import PayrollPeriod, build_payroll

from .punches import LA, punch

EMPLOYEES = {
    "ann": Employee(id="ann", name="Ann", location_id="LA1", payroll_id="000101"),
    "bob": Employee(id="bob", name="Bob", location_id="LA1", payroll_id="000102"),
}
JOB_EARNING_CODES = {"line_cook": "KIT"}
START, END = date(2026, 3, 1), date(2026, 3, 7)


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
        card_tips={"ann": Money(12345)},
        service_charge_wages={"ann": Money(900)},
    )
