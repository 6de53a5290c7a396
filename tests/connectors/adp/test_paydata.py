"""The ADP Workforce Now paydata (EPI) file of the worked pay period, byte for byte."""

from __future__ import annotations

import pytest

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.adp.formats import ADP_EPI, paydata_file
from expediter.connectors.csv.formats import read_csv
from expediter.errors import ConfigError
from tests.operations.labor.payroll_example import JOB_EARNING_CODES, example_period

HEADER = (
    "Co Code,Batch ID,File #,Temp Rate,Reg Hours,O/T Hours,Hours 3 Code,Hours 3 Amount,Hours 4 Code,"
    "Hours 4 Amount,Earnings 3 Code,Earnings 3 Amount,Earnings 4 Code,Earnings 4 Amount,Earnings 5 Code,"
    "Earnings 5 Amount"
)


def test_worked_example_headers_and_rows() -> None:
    file = paydata_file(example_period(), AdpSettings(company_code="XYZ"), JOB_EARNING_CODES)
    assert file.name == "PRXYZEPI.csv"
    assert file.content.decode().split("\r\n") == [
        HEADER,
        "XYZ,EX0307,000101,16.00,40.00,5.00,,,,,,,,,,",
        "XYZ,EX0307,000101,,,,,,,,T,123.45,CT,10.00,SC,9.00",
        "XYZ,EX0307,000102,20.00,,4.00,KIT,8.00,D,1.00,,,,,,",
        "",
    ]
    assert file.records == 3


def test_the_header_starts_with_the_three_required_columns() -> None:
    assert ADP_EPI.header[:3] == ["Co Code", "Batch ID", "File #"]


def test_codes_and_batch_come_from_settings() -> None:
    settings = AdpSettings(
        company_code="AB", batch_id="WEEK10", card_tips_earnings_code="TIP", send_temp_rate=False
    )
    file = paydata_file(example_period(), settings)
    rows = read_csv(ADP_EPI, file.content)
    assert file.name == "PRAB_EPI.csv"
    assert {r["Batch ID"] for r in rows} == {"WEEK10"}
    assert rows[0]["Temp Rate"] is None
    assert rows[1]["Earnings 3 Code"] == "TIP" and rows[1]["Earnings 3 Amount"] == 12345
    # without a job earning code, the cook's regular hours are plain Reg Hours
    assert (rows[2]["Reg Hours"], rows[2]["Hours 3 Code"]) == (8, "")


def test_a_bad_company_code_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="company code"):
        paydata_file(example_period(), AdpSettings(company_code="TOO-LONG"))
