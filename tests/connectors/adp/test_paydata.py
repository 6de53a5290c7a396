"""The ADP Workforce Now paydata (EPI) file of the worked pay periods, byte for byte.

ADP's public description of the paydata import (Marketplace, "Automated Paydata Integration for ADP
Workforce Now"): a header CSV starting Co Code, Batch ID, File #; Reg Hours, O/T Hours, Hours 3/4
Code and Amount (hours codes of one or two characters), Temp Rate, Earnings 3/4/5 Code and Amount,
Memo Code and Amount; rows with the same File # add up.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from expediter.connectors.adp.config import AdpSettings
from expediter.connectors.adp.formats import ADP_EPI, paydata_file
from expediter.errors import ConfigError
from expediter.formats.csv import read_csv
from tests.operations.labor.payroll_example import example_period, tipped_period, two_rate_period

HEADER = (
    "Co Code,Batch ID,File #,Temp Rate,Reg Hours,O/T Hours,Hours 3 Code,Hours 3 Amount,Earnings 3 Code,"
    "Earnings 3 Amount,Earnings 4 Code,Earnings 4 Amount,Earnings 5 Code,Earnings 5 Amount,Memo Code,"
    "Memo Amount"
)


def test_worked_example_headers_and_rows() -> None:
    """Ann 40 + 5 OT at 16.00, tips 123.45 paid, auto-gratuity 9.00 paid, cash tips 10.00 as a
    memo (reported, not paid); Bob 8 + 4 OT + 1 DT at 20.00, regular hours in Reg Hours."""
    file = paydata_file(example_period(), AdpSettings(company_code="XYZ"))
    assert file.name == "PRXYZEPI.csv"
    assert file.content.decode().split("\r\n") == [
        HEADER,
        "XYZ,EX0307,000101,16.00,40.00,5.00,,,,,,,,,,",
        "XYZ,EX0307,000101,,,,,,T,123.45,SC,9.00,,,CT,10.00",
        "XYZ,EX0307,000102,20.00,8.00,4.00,D,1.00,,,,,,,,",
        "",
    ]
    assert file.records == 3


def adp_pays(content: bytes) -> int:
    """What ADP pays for a file, in cents: Reg Hours × Temp Rate, O/T Hours × 1.5 × Temp Rate,
    double time × 2 × Temp Rate, plus every earnings amount; memos are not pay."""
    cents = Decimal(0)
    for row in read_csv(ADP_EPI, content):
        rate = Decimal(row["Temp Rate"] or 0)  # read back in cents
        cents += (row["Reg Hours"] or 0) * rate + (row["O/T Hours"] or 0) * rate * Decimal("1.5")
        cents += (row["Hours 3 Amount"] or 0) * rate * 2
        cents += sum(row[f"Earnings {n} Amount"] or 0 for n in (3, 4, 5))
    return int(cents.quantize(Decimal(1)))


def test_two_rates_in_a_week_carry_the_regular_rate_adjustment() -> None:
    """29 CFR 778.115: Cal's 45 h at 15.00 and 20.00 pay 791.67. The rows at each job's rate make
    ADP compute 450.00 + 200.00 + 5 × 30.00 = 800.00, so the adjustment RA is −8.33 and the file
    pays exactly 791.67."""
    file = paydata_file(two_rate_period(), AdpSettings(company_code="XYZ"))
    assert file.content.decode().split("\r\n")[1:-1] == [
        "XYZ,EX0307,000103,20.00,10.00,5.00,,,,,,,,,,",
        "XYZ,EX0307,000103,15.00,30.00,,,,,,,,,,,",
        "XYZ,EX0307,000103,,,,,,RA,-8.33,,,,,,",
    ]
    assert adp_pays(file.content) == 79167


def test_a_tip_credit_week_carries_the_overtime_on_the_full_minimum_wage() -> None:
    """DOL Fact Sheet #15: Dee's 45 h at a 2.13 cash wage pay 113.98; ADP computes 85.20 + 15.98 =
    101.18 from the row, so the adjustment is +12.80."""
    file = paydata_file(tipped_period(), AdpSettings(company_code="XYZ"))
    assert file.content.decode().split("\r\n")[1:-1] == [
        "XYZ,EX0307,000104,2.13,40.00,5.00,,,,,,,,,,",
        "XYZ,EX0307,000104,,,,,,RA,12.80,,,,,,",
    ]
    assert adp_pays(file.content) == 11398


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
    assert (rows[2]["Reg Hours"], rows[2]["Hours 3 Code"]) == (8, "D")


def test_an_hours_code_longer_than_two_characters_is_refused() -> None:
    """ADP's hours codes are one or two characters."""
    with pytest.raises(ConfigError, match="double_time_hours_code 'DBL' must be 1-2"):
        paydata_file(example_period(), AdpSettings(company_code="XYZ", double_time_hours_code="DBL"))


def test_the_former_cash_tips_setting_still_names_the_memo() -> None:
    settings = AdpSettings(company_code="XYZ", declared_cash_tips_earnings_code="7")
    rows = read_csv(ADP_EPI, paydata_file(example_period(), settings).content)
    assert [(r["Memo Code"], r["Memo Amount"]) for r in rows if r["Memo Code"]] == [("7", 1000)]


def test_a_bad_company_code_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="company code"):
        paydata_file(example_period(), AdpSettings(company_code="TOO-LONG"))
