"""A pay period per employee: hours by job, tips and service-charge wages, payroll ids required."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.operations.labor.overtime import california
from expediter.operations.labor.payroll import build_payroll

from .payroll_example import EMPLOYEES, END, START, example_period
from .punches import LA, punch


def test_the_worked_period() -> None:
    period = example_period()
    ann, bob = period.employees
    assert (ann.payroll_id, bob.payroll_id) == ("000101", "000102")
    (ann_line,) = ann.lines
    assert (ann_line.regular_hours, ann_line.overtime_hours, ann_line.double_time_hours) == (40, 5, 0)
    assert ann_line.total_wages == Money(64000 + 12000)  # 40 x 16.00 + 5 x 24.00
    assert (ann.pos_tips, ann.declared_cash_tips, ann.service_charge_wages) == (
        Money(12345),
        Money(1000),
        Money(900),
    )
    (bob_line,) = bob.lines
    assert (bob_line.regular_hours, bob_line.overtime_hours, bob_line.double_time_hours) == (
        Decimal(8),
        Decimal(4),
        Decimal(1),
    )
    assert bob.pos_tips == Money(0)
    assert period.open_punches == []


def test_an_employee_without_a_payroll_id_stops_the_file() -> None:
    employees = {**EMPLOYEES, "bob": msgspec.structs.replace(EMPLOYEES["bob"], payroll_id=None)}
    with pytest.raises(RejectedInput, match="bob has no payroll id"):
        build_payroll(LA, START, END, [punch("2026-03-02 08:00", 5, employee="bob")], employees, california())


def test_tips_alone_put_an_employee_on_the_payroll() -> None:
    period = build_payroll(LA, START, END, [], EMPLOYEES, california(), pos_tips={"bob": Money(500)})
    (bob,) = period.employees
    assert (bob.employee_id, bob.lines, bob.pos_tips) == ("bob", [], Money(500))


def test_open_punches_are_reported_by_id() -> None:
    open_punch = msgspec.structs.replace(punch("2026-03-03 10:00", 4, employee="ann"), clock_out=None)
    period = build_payroll(LA, START, END, [open_punch], EMPLOYEES, california())
    assert period.open_punches == [open_punch.id]
