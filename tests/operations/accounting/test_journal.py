"""The journal builder against a day worked by hand, and its refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from expediter.catalog.schema import AccountType, Mappings
from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.model.order import Line, OrderState, Payment, Tax, TaxKind, TenderType
from expediter.operations.accounting.journal import (
    AccountRole,
    DrawerCount,
    JournalEntry,
    JournalLine,
    JournalSettings,
    UnbalancedEntry,
    balanced,
    build_journal,
)
from expediter.operations.accounting.mapping import MappingTable, UnmappedAccounts
from tests.operations.accounting.worked_day import (
    DAY,
    DRAWER,
    EXPECTED_LINES,
    LOCATION,
    MAPPINGS,
    TOTAL,
    _burger,
    _order,
    worked_orders,
)


def _worked_entry(mappings: Mappings = MAPPINGS, settings: JournalSettings | None = None) -> JournalEntry:
    return build_journal(
        worked_orders(), mappings, location_id=LOCATION, business_date=DAY, drawer=DRAWER, settings=settings
    )


def _as_tuples(entry: JournalEntry) -> list[tuple[str, int, int, str]]:
    return [(ln.account, ln.debit.amount, ln.credit.amount, ln.memo) for ln in entry.lines]


def test_worked_day_matches_line_by_line() -> None:
    entry = _worked_entry()
    assert _as_tuples(entry) == EXPECTED_LINES
    assert entry.total_debits() == entry.total_credits() == Money(TOTAL)
    assert entry.document_number == "DS-bk1-20261127"


def test_worked_day_has_every_kind_of_line() -> None:
    entry = _worked_entry()
    roles = {line.role for line in entry.lines}
    assert roles == set(AccountRole) - {AccountRole.RECEIVABLE}
    memos = {line.memo.split(":")[0] for line in entry.lines}
    for kind in ("sales", "discount", "comp", "sales tax", "auto-gratuity", "card tips", "gift cards sold"):
        assert kind in memos
    for kind in ("gift cards redeemed", "cash", "card", "marketplace", "refunds", "refund", "cash short"):
        assert kind in memos


def test_voids_only_in_statistics_and_memo() -> None:
    entry = _worked_entry()
    assert entry.statistics.voided_lines == 1
    assert entry.statistics.voided_amount == 1500
    assert "1 voided lines (15.00 USD)" in entry.memo
    burgers = next(ln for ln in entry.lines if ln.memo == "sales: Burgers")
    assert burgers.credit.amount == 7500  # 5 burgers sold, the voided sixth is not revenue


def test_marketplace_facilitator_tax_is_not_payable() -> None:
    entry = _worked_entry()
    assert entry.statistics.facilitator_tax_excluded == 240
    tax = next(ln for ln in entry.lines if ln.memo == "sales tax")
    assert tax.credit.amount == 200 + 48 + 120 + 48


def test_cash_over_when_drawer_holds_more() -> None:
    drawer = DrawerCount(location_id=LOCATION, business_date=DAY, counted_cash=Money(5700))
    entry = build_journal(worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=drawer)
    over = [_t for _t in _as_tuples(entry) if _t[3] == "cash over"]
    assert over == [("1000 Cash", 52, 0, "cash over"), ("6900 Cash Over/Short", 0, 52, "cash over")]
    assert entry.statistics.expected_cash == 5648


def test_revenue_split_by_dining_option() -> None:
    entry = _worked_entry(settings=JournalSettings(by_dining_option=True))
    burgers = {ln.dimension: ln.credit.amount for ln in entry.lines if ln.memo == "sales: Burgers"}
    assert burgers == {"dine_in": 3000, "takeout": 1500, "delivery": 3000}
    assert entry.total_debits() == entry.total_credits()


def test_stable_when_orders_arrive_in_another_order() -> None:
    assert _worked_entry() == build_journal(
        reversed(worked_orders()), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER
    )


def test_inclusive_tax_comes_out_of_revenue_by_category() -> None:
    order = _order(
        "inc",
        [
            _burger("b1"),
            Line(id="w1", name="Wine", quantity=Decimal(1), unit_price=Money(1000), category="Beer"),
        ],
        taxes=[Tax(name="VAT", amount=Money(417), kind=TaxKind.INCLUSIVE)],
        payments=[Payment(id="p", tender=TenderType.CASH, amount=Money(2500))],
    )
    entry = build_journal([order], MAPPINGS, location_id=LOCATION, business_date=DAY)
    credits = {ln.memo: ln.credit.amount for ln in entry.lines if ln.credit.amount}
    assert credits == {"sales: Burgers": 1500 - 250, "sales: Beer": 1000 - 167, "sales tax": 417}


def test_open_check_needs_and_uses_unpaid_checks() -> None:
    unpaid = _order("open", [_burger("b1")], state=OrderState.OPEN)
    with pytest.raises(UnmappedAccounts) as caught:
        build_journal([unpaid], MAPPINGS, location_id=LOCATION, business_date=DAY)
    assert [(m.table, m.key) for m in caught.value.missing] == [(MappingTable.FIXED, "unpaid_checks")]
    mappings = msgspec.structs.replace(
        MAPPINGS, accounts={**MAPPINGS.accounts, "unpaid_checks": "1200 Unpaid"}
    )
    entry = build_journal([unpaid], mappings, location_id=LOCATION, business_date=DAY)
    assert ("1200 Unpaid", 1500, 0, "unpaid checks") in _as_tuples(entry)


def test_canceled_orders_are_counted_not_posted() -> None:
    canceled = _order("c", [_burger("b1")], state=OrderState.CANCELED)
    entry = build_journal([canceled], MAPPINGS, location_id=LOCATION, business_date=DAY)
    assert entry.lines == []
    assert entry.statistics.canceled_orders == 1


def test_every_missing_key_is_listed_with_its_toml() -> None:
    bare = Mappings(category_accounts={"Burgers": "4000 Food Sales"})
    with pytest.raises(UnmappedAccounts) as caught:
        build_journal(worked_orders(), bare, location_id=LOCATION, business_date=DAY, drawer=DRAWER)
    keys = {(m.table.value, m.key) for m in caught.value.missing}
    assert ("category_accounts", "Beer") in keys
    assert ("discount_accounts", "Happy hour") in keys
    assert ("tender_accounts", "visa") in keys
    assert ("tender_accounts", "mastercard") in keys
    assert ("tender_accounts", "doordash") in keys
    for fixed in ("sales_tax", "tips_payable", "gift_cards", "comps", "refunds", "cash_over_short"):
        assert ("accounts", fixed) in keys
    assert '[mappings.category_accounts]\n"Beer" = "4000 Food Sales"' in str(caught.value)


def test_order_from_another_location_is_rejected() -> None:
    stray = msgspec.structs.replace(worked_orders()[0], location_id="elsewhere")
    with pytest.raises(RejectedInput, match="elsewhere"):
        build_journal([stray], MAPPINGS, location_id=LOCATION, business_date=DAY)


def test_drawer_for_another_day_is_rejected() -> None:
    drawer = DrawerCount(location_id=LOCATION, business_date=date(2026, 11, 26), counted_cash=Money(0))
    with pytest.raises(RejectedInput, match="drawer"):
        build_journal(worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=drawer)


def test_unbalanced_entry_is_refused() -> None:
    entry = _worked_entry()
    lopsided = msgspec.structs.replace(
        entry, lines=[*entry.lines, JournalLine(account="x", debit=Money(1), credit=Money(0))]
    )
    with pytest.raises(UnbalancedEntry, match="not posted"):
        balanced(lopsided)


def test_only_the_latest_version_of_a_check_counts() -> None:
    first, *rest = worked_orders()
    draft = msgspec.structs.replace(first, version=1, lines=[_burger("x1", 9)], payments=[])
    final = msgspec.structs.replace(first, version=2)
    entry = build_journal(
        [final, draft, *rest], MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER
    )
    assert _as_tuples(entry) == EXPECTED_LINES


def test_auto_gratuity_has_its_own_account_when_mapped() -> None:
    accounts = {**MAPPINGS.accounts, "auto_gratuity": "4510 Auto Gratuity"}
    types = {"4510 Auto Gratuity": AccountType.INCOME}
    entry = _worked_entry(mappings=msgspec.structs.replace(MAPPINGS, accounts=accounts, account_types=types))
    assert ("4510 Auto Gratuity", 0, 500, "auto-gratuity") in _as_tuples(entry)
    (line,) = [ln for ln in entry.lines if ln.memo == "auto-gratuity"]
    assert line.role is AccountRole.REVENUE


def test_the_account_type_decides_where_auto_gratuity_goes_not_the_line() -> None:
    """An auto-gratuity owed to staff is a liability until payroll pays it: declared so, the line
    is a liability (beancount's Liabilities root), whatever the account's name says."""
    accounts = {**MAPPINGS.accounts, "auto_gratuity": "2210 Auto-Gratuity Payable"}
    types = {"2210 Auto-Gratuity Payable": AccountType.LIABILITY}
    entry = _worked_entry(mappings=msgspec.structs.replace(MAPPINGS, accounts=accounts, account_types=types))
    (line,) = [ln for ln in entry.lines if ln.memo == "auto-gratuity"]
    assert (line.account, line.credit.amount, line.role) == (
        "2210 Auto-Gratuity Payable",
        500,
        AccountRole.LIABILITY,
    )
    # declared income, the same name is income: the name never decides
    income = msgspec.structs.replace(
        MAPPINGS, accounts=accounts, account_types={"2210 Auto-Gratuity Payable": AccountType.INCOME}
    )
    (line,) = [ln for ln in _worked_entry(mappings=income).lines if ln.memo == "auto-gratuity"]
    assert line.role is AccountRole.REVENUE


def test_an_auto_gratuity_account_without_a_type_holds_the_day() -> None:
    accounts = {**MAPPINGS.accounts, "auto_gratuity": "2210 Auto-Gratuity Payable"}
    with pytest.raises(UnmappedAccounts) as held:
        _worked_entry(mappings=msgspec.structs.replace(MAPPINGS, accounts=accounts))
    assert [(m.table.value, m.key) for m in held.value.missing] == [
        ("account_types", "2210 Auto-Gratuity Payable")
    ]
    assert '[mappings.account_types]\n"2210 Auto-Gratuity Payable" = "liability"' in held.value.fix()
