"""The Paychex Standard Payroll Import file of the worked pay period, byte for byte."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from expediter.connectors.csv.formats import read_csv
from expediter.connectors.paychex.config import PaychexSettings
from expediter.connectors.paychex.formats import SPI, payroll_import_file
from expediter.errors import ConfigError, RejectedInput
from tests.operations.labor.payroll_example import JOB_EARNING_CODES, example_period

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
        "70012345,000101,,,Cash Tips,,,,,,10.00,,,,,",
        "70012345,000101,,,Service Charge,,,,,,9.00,,,,,",
        "70012345,000102,,,KIT,20.00,,8.00,,,,,,,,",
        "70012345,000102,,,Overtime,20.00,,4.00,,,,,,,,",
        "70012345,000102,,,Double Time,20.00,,1.00,,,,,,,,",
        "",
    ]


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
