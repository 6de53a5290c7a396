"""Xero manual journal import CSV for the worked day."""

from __future__ import annotations

import csv
import io

from expediter.connectors.xero.config import XeroSettings
from expediter.connectors.xero.connector import CONNECTOR
from expediter.connectors.xero.formats import HEADER, account_code, xero_manual_journal_csv
from expediter.operations.accounting.journal import JournalSettings, build_journal
from tests.operations.accounting.worked_day import (
    DAY,
    DRAWER,
    EXPECTED_LINES,
    LOCATION,
    MAPPINGS,
    worked_orders,
)


def _rows(settings: JournalSettings | None = None, xero: XeroSettings | None = None) -> list[dict[str, str]]:
    entry = build_journal(
        worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER, settings=settings
    )
    return list(csv.DictReader(io.StringIO(xero_manual_journal_csv([entry], xero))))


def test_worked_day_as_xero_rows() -> None:
    rows = _rows()
    assert list(rows[0]) == HEADER
    assert len(rows) == len(EXPECTED_LINES)
    assert rows[0] == {
        "*Narration": "Daily sales DS-bk1-20261127",
        "*Date": "27/11/2026",
        "Description": "cash",
        "*AccountCode": "1000",
        "*TaxRate": "Tax Exempt",
        "*Amount": "62.96",
        "TrackingName1": "",
        "TrackingOption1": "",
    }
    amounts = [round(float(r["*Amount"]) * 100) for r in rows]
    assert amounts == [d - c for _, d, c, _ in EXPECTED_LINES]
    assert sum(amounts) == 0
    assert {r["*Narration"] for r in rows} == {"Daily sales DS-bk1-20261127"}


def test_dining_option_goes_to_tracking() -> None:
    rows = _rows(JournalSettings(by_dining_option=True))
    tracked = {r["TrackingOption1"] for r in rows if r["TrackingName1"] == "Dining option"}
    assert tracked == {"dine_in", "takeout", "delivery"}


def test_account_codes() -> None:
    assert account_code("4000 Food Sales", {}) == "4000"
    assert account_code("Sales", {"Sales": "200"}) == "200"
    assert account_code("6900 Cash Over/Short", {}) == "6900"
    assert CONNECTOR.name == "xero"


def test_dates_follow_the_organisations_region() -> None:
    """Xero's manual journal import reads *Date in the organisation's regional format: a US
    organisation writes 27 November 2026 as 11/27/2026, a UK, Australian or New Zealand one as
    27/11/2026; ``date_format`` overrides the region."""
    assert {r["*Date"] for r in _rows(xero=XeroSettings(region="US"))} == {"11/27/2026"}
    assert {r["*Date"] for r in _rows(xero=XeroSettings(region="NZ"))} == {"27/11/2026"}
    assert {r["*Date"] for r in _rows(xero=XeroSettings(region="US", date_format="dd/mm/yyyy"))} == {
        "27/11/2026"
    }
