"""``expediter drawer count`` / ``show`` and the journal flow's ``drawer_count`` and
``by_dining_option`` settings: the drawer and the dining-option split without writing Python."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog
from expediter.commands.drawer import drawer_status
from expediter.commands.journal import held_entries
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.ledger.transfers import TransferOutcome
from expediter.model.money import Money
from tests.commands.helpers import DAY, catalog, invoke, store_day, write_catalog

XERO_FILE = "journal_L001_20261126.csv"


def _xero_only(tmp_path: Path, database: str, **settings: object) -> Catalog:
    """The helper catalog with its journal flows reduced to the Xero one, with these settings."""
    found = catalog(tmp_path, database=database)
    flows = [f for f in found.flows if f.data != "journal" or f.id == "xero-journal"]
    flows = [
        msgspec.structs.replace(f, settings=dict(settings)) if f.id == "xero-journal" else f for f in flows
    ]
    return msgspec.structs.replace(found, flows=flows)


def _expected_cash(found: Catalog) -> Money:
    async def work() -> Money:
        async with Hub(found, deliver=False) as hub:
            return (await drawer_status(hub, "L001", DAY)).expected_cash

    return asyncio.run(work())


def _xero_rows(tmp_path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((tmp_path / "drop" / XERO_FILE).read_text())))


def test_a_count_posts_cash_short_through_the_journal_flow(tmp_path: Path, database: str) -> None:
    found = _xero_only(tmp_path, database)
    store_day(found)
    config = write_catalog(tmp_path, found)
    expected = _expected_cash(found)
    assert expected.amount > 0
    code, output = invoke("drawer", "show", "L001", str(DAY), "-c", config)
    assert code == 0 and f"expected cash  {expected.format()}" in output and "(not counted)" in output

    short = Decimal(expected.amount - 125) / 100  # counted 1.25 less than expected
    code, output = invoke("drawer", "count", "L001", str(DAY), str(short), "--by", "Dana", "-c", config)
    assert code == 0, output
    assert "cash short     -1.25 USD" in output and "by Dana" in output
    assert re.search(r"xero-journal: succeeded journal_L001_20261126\.csv", output)
    rows = _xero_rows(tmp_path)
    assert sorted(r["*Amount"] for r in rows if r["Description"] == "cash short") == ["-1.25", "1.25"]
    assert sum(Decimal(r["*Amount"]) for r in rows) == 0

    # a recount replaces the count: the day is now even, no over/short line
    code, output = invoke(
        "drawer", "count", "L001", str(DAY), str(Decimal(expected.amount) / 100), "-c", config
    )
    assert code == 0 and "cash even" in output
    assert not [r for r in _xero_rows(tmp_path) if r["Description"] in ("cash short", "cash over")]


def test_a_required_count_holds_the_day_until_counted(tmp_path: Path, database: str) -> None:
    found = _xero_only(tmp_path, database, drawer_count="required")
    store_day(found)
    config = write_catalog(tmp_path, found)

    async def scheduled_run() -> tuple[TransferOutcome, str]:
        async with Hub(found, deliver=False) as hub:
            result = await FileJobs(hub).run("xero-journal", "L001", DAY)
            return result.outcome, result.error

    outcome, error = asyncio.run(scheduled_run())
    assert outcome is TransferOutcome.FAILED
    assert "not counted; count it: expediter drawer count L001 2026-11-26 AMOUNT" in error
    assert not (tmp_path / "drop" / XERO_FILE).exists()
    [held] = held_entries(found)
    assert held.document_number == "DS-L001-20261126" and "not counted" in held.reason

    expected = _expected_cash(found)
    code, output = invoke(
        "drawer", "count", "L001", str(DAY), str(Decimal(expected.amount + 300) / 100), "-c", config
    )
    assert code == 0, output
    assert "cash over      3.00 USD" in output
    assert held_entries(found) == []  # the run with the count released the day
    over = [r["*Amount"] for r in _xero_rows(tmp_path) if r["Description"] == "cash over"]
    assert sorted(over) == ["-3.00", "3.00"]


def test_the_dining_option_split_is_a_flow_setting(tmp_path: Path, database: str) -> None:
    found = _xero_only(tmp_path, database, by_dining_option=True)
    store_day(found)

    async def run() -> TransferOutcome:
        async with Hub(found, deliver=False) as hub:
            return (await FileJobs(hub).run("xero-journal", "L001", DAY)).outcome

    assert asyncio.run(run()) is TransferOutcome.SUCCEEDED
    tracked = {r["TrackingOption1"] for r in _xero_rows(tmp_path) if r["TrackingName1"] == "Dining option"}
    assert {"dine_in", "takeout"} <= tracked


def test_a_bad_setting_or_amount_is_refused_with_the_fix(tmp_path: Path, database: str) -> None:
    found = _xero_only(tmp_path, database, drawer_count="sometimes")
    store_day(found)

    async def run() -> str:
        async with Hub(found, deliver=False) as hub:
            return (await FileJobs(hub).run("xero-journal", "L001", DAY)).error

    assert 'drawer_count "optional" or "required"' in asyncio.run(run())
    config = write_catalog(tmp_path, _xero_only(tmp_path, database))
    code, output = invoke("drawer", "count", "L001", str(DAY), "12.345", "-c", config)
    assert code != 0
    code, output = invoke("drawer", "count", "L001", "yesterday", "12.00", "-c", config)
    assert code == 2 and "YYYY-MM-DD" in output
