"""Beancount output of the worked day, checked by beancount's own loader."""

from __future__ import annotations

from decimal import Decimal

from beancount import loader
from beancount.core import data

from expediter.connectors.beancount.connector import CONNECTOR
from expediter.connectors.beancount.formats import beancount_account, beancount_journal
from expediter.operations.accounting.journal import JournalSettings, build_journal
from tests.operations.accounting.worked_day import (
    DAY,
    DRAWER,
    EXPECTED_LINES,
    LOCATION,
    MAPPINGS,
    worked_orders,
)


def _text(settings: JournalSettings | None = None) -> str:
    entry = build_journal(
        worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER, settings=settings
    )
    return beancount_journal([entry])


def test_loader_accepts_the_worked_day() -> None:
    entries, errors, _ = loader.load_string(_text())
    assert errors == []
    [txn] = [e for e in entries if isinstance(e, data.Transaction)]
    assert txn.meta["document"] == "DS-bk1-20261127"
    assert sum(p.units.number for p in txn.postings) == Decimal(0)
    assert len(txn.postings) == len(EXPECTED_LINES)
    by_account = {(p.account, p.units.number) for p in txn.postings}
    assert ("Income:4000-Food-Sales", Decimal("-75.00")) in by_account
    assert ("Assets:1000-Cash", Decimal("62.96")) in by_account
    assert ("Liabilities:2300-Gift-Card-Liability", Decimal("10.00")) in by_account
    assert ("Expenses:6900-Cash-Over-Short", Decimal("0.48")) in by_account
    opens = {e.account for e in entries if isinstance(e, data.Open)}
    assert opens == {p.account for p in txn.postings}


def test_loader_accepts_dimensions_and_several_days() -> None:
    first = build_journal(worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY)
    split = build_journal(
        worked_orders(),
        MAPPINGS,
        location_id=LOCATION,
        business_date=DAY,
        settings=JournalSettings(by_dining_option=True),
    )
    _, errors, _ = loader.load_string(beancount_journal([first, split]))
    assert errors == []


def test_loader_reports_an_unbalanced_transaction() -> None:
    """The check above can fail: beancount does flag a transaction that does not balance."""
    broken = _text().replace("  Assets:1000-Cash  62.96 USD", "  Assets:1000-Cash  62.97 USD")
    _, errors, _ = loader.load_string(broken)
    assert errors


def test_account_names_are_made_valid() -> None:
    assert beancount_account("4000 Food Sales", "Income") == "Income:4000-Food-Sales"
    assert beancount_account("cash on hand", "Assets") == "Assets:Cash-on-hand"
    assert beancount_account("Liabilities:Tips payable", "Income") == "Liabilities:Tips-payable"
    assert CONNECTOR.name == "beancount"


def test_auto_gratuity_payable_lands_under_liabilities_by_its_type() -> None:
    """The account's declared type decides the root: ``2210 Auto-Gratuity Payable`` declared a
    liability is ``Liabilities:2210-Auto-Gratuity-Payable``, not an income account; a type in
    the catalog also re-roots an account whose line role would say otherwise."""
    import msgspec

    from expediter.catalog.schema import AccountType

    accounts = {**MAPPINGS.accounts, "auto_gratuity": "2210 Auto-Gratuity Payable"}
    types = {"2210 Auto-Gratuity Payable": AccountType.LIABILITY, "4960 Refunds": AccountType.EXPENSE}
    mappings = msgspec.structs.replace(MAPPINGS, accounts=accounts, account_types=types)
    entry = build_journal(worked_orders(), mappings, location_id=LOCATION, business_date=DAY, drawer=DRAWER)
    entries, errors, _ = loader.load_string(beancount_journal([entry], account_types=types))
    assert errors == []
    [txn] = [e for e in entries if isinstance(e, data.Transaction)]
    by_account = {p.account: p.units.number for p in txn.postings}
    assert by_account["Liabilities:2210-Auto-Gratuity-Payable"] == Decimal("-5.00")
    assert "Expenses:4960-Refunds" in by_account
