"""The Paychex Standard Payroll Import file of the worked pay period, byte for byte."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from expediter.connectors.paychex.config import PaychexSettings
from expediter.connectors.paychex.formats import SPI, payroll_import_file
from expediter.errors import ConfigError, RejectedInput
from expediter.formats.csv import read_csv
from tests.operations.labor.payroll_example import (
    JOB_EARNING_CODES,
    example_period,
    tipped_period,
    two_rate_period,
)

HEADER = (
    "Client ID,Worker ID,Org,Job Number,Pay Component,Rate,Rate Number,Hours,Units,Line Date,Amount,"
    "Check Seq Number,Override State,Override Local,Override Local Jurisdiction,Labor Assignment"
)


def test_worked_example_headers_and_rows() -> None:
    file = payroll_import_file(example_period(), PaychexSettings(client_id="70012345"), JOB_EARNING_CODES)
    assert file.name == "paychex_spi_70012345_20260301_20260307.csv"
    assert file.content.decode().split("\r\n") == [
        HEADER,
        "70012345,000101,,,Hourly,16.00,,40.00,,,,,,,,",
        "70012345,000101,,,Overtime,16.00,,5.00,,,,,,,,",
        "70012345,000101,,,Tips,,,,,,123.45,,,,,",
        "70012345,000101,,,Service Charge,,,,,,9.00,,,,,",
        "70012345,000101,,,Cash Tips,,,,,,10.00,,,,,",
        "70012345,000102,,,KIT,20.00,,8.00,,,,,,,,",
        "70012345,000102,,,Overtime,20.00,,4.00,,,,,,,,",
        "70012345,000102,,,Double Time,20.00,,1.00,,,,,,,,",
        "",
    ]


def paychex_pays(content: bytes, memo: str = "Cash Tips") -> int:
    """What Paychex pays for a file, in cents: hours × rate × the component's factor (Overtime
    1.5, Double Time 2), plus every amount but the memo's."""
    factors = {"Overtime": Decimal("1.5"), "Double Time": Decimal(2)}
    cents = Decimal(0)
    for row in read_csv(SPI, content):
        if row["Pay Component"] == memo:
            continue
        rate = Decimal(row["Rate"] or 0)
        cents += (row["Hours"] or 0) * rate * factors.get(row["Pay Component"], Decimal(1))
        cents += row["Amount"] or 0
    return int(cents.quantize(Decimal(1)))


def test_two_rates_in_a_week_carry_the_regular_rate_adjustment() -> None:
    """29 CFR 778.115 (Cal: 30 h at 15.00 + 15 h at 20.00 pay 791.67); the rows compute 800.00,
    so an "Overtime Adjustment" amount of −8.33 makes the file pay exactly 791.67. Paychex's
    "SPI Specification Sheet": Pay Component, Rate (to 4 decimals), Hours (−999.99 to 999.99),
    Amount; a row carries a rate or an amount."""
    file = payroll_import_file(two_rate_period(), PaychexSettings(client_id="70012345"))
    assert file.content.decode().split("\r\n")[1:-1] == [
        "70012345,000103,,,Hourly,20.00,,10.00,,,,,,,,",
        "70012345,000103,,,Overtime,20.00,,5.00,,,,,,,,",
        "70012345,000103,,,Hourly,15.00,,30.00,,,,,,,,",
        "70012345,000103,,,Overtime Adjustment,,,,,,-8.33,,,,,",
    ]
    assert paychex_pays(file.content) == 79167


def test_a_tip_credit_week_pays_overtime_on_the_full_minimum_wage() -> None:
    """DOL Fact Sheet #15: 45 h at a 2.13 cash wage pay 113.98 (the rows compute 101.18)."""
    file = payroll_import_file(tipped_period(), PaychexSettings(client_id="70012345"))
    assert paychex_pays(file.content) == 11398


def test_declared_cash_tips_are_a_memo_not_pay() -> None:
    """Declared cash tips are reported income the employee already holds: the file reports them
    under their memo component and the pay total leaves them out."""
    file = payroll_import_file(example_period(), PaychexSettings(client_id="C1"))
    rows = read_csv(SPI, file.content)
    assert [r["Amount"] for r in rows if r["Pay Component"] == "Cash Tips"] == [1000]
    ann = example_period().employees[0]
    assert paychex_pays(file.content) == (
        ann.wages.amount + ann.pos_tips.amount + ann.service_charge_wages.amount + 32000
    )


def test_every_row_has_a_rate_or_an_amount_never_both() -> None:
    rows = read_csv(SPI, payroll_import_file(example_period(), PaychexSettings(client_id="C1")).content)
    assert all((r["Rate"] is None) != (r["Amount"] is None) for r in rows)


def test_job_numbers_are_sent_only_when_asked() -> None:
    settings = PaychexSettings(client_id="C1", send_job_number=True)
    rows = read_csv(SPI, payroll_import_file(example_period(), settings).content)
    assert {r["Job Number"] for r in rows if r["Hours"]} == {"server", "line_cook"}


def test_a_bad_client_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="client id"):
        payroll_import_file(example_period(), PaychexSettings(client_id="123456789"))


def test_a_row_over_999_99_hours_is_refused() -> None:
    period = example_period()
    ann = period.employees[0]
    huge = msgspec.structs.replace(ann.lines[0], regular_hours=Decimal("1000.00"))
    period.employees[0] = msgspec.structs.replace(ann, lines=[huge])
    with pytest.raises(RejectedInput, match="never clocked out"):
        payroll_import_file(period, PaychexSettings(client_id="C1"))
