"""Property: whatever day each refund happens on, it is booked exactly once, on that day, and every
day's entry still balances without a plug; the sale is booked once, on its own day."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expediter.model.location import Location
from expediter.model.order import Order, Refund, TenderType
from expediter.operations.accounting.dating import refund_date
from expediter.operations.accounting.journal import AccountRole, JournalEntry, build_journal
from expediter.operations.sales import reconciliation_errors, summarize_day
from tests.operations.accounting.test_journal_properties import DAY, MAPPINGS, OPENED, orders

LOCATION = Location(id="loc", name="loc", timezone="America/New_York")
DAYS = [DAY + timedelta(days=n) for n in range(6)]


@st.composite
def dated(draw: st.DrawFn, order: Order) -> Order:
    """Give each refund a time from the sale up to four days later, or none at all."""
    hours = st.one_of(st.none(), st.integers(0, 96))
    refunds: list[Refund] = []
    for refund in order.refunds:
        offset = draw(hours)
        at = None if offset is None else OPENED + timedelta(hours=offset)
        refunds.append(msgspec.structs.replace(refund, created_at=at))
    return msgspec.structs.replace(order, refunds=refunds)


@st.composite
def days_orders(draw: st.DrawFn) -> list[Order]:
    return [draw(dated(draw(orders(i, exact=True)))) for i in range(draw(st.integers(1, 6)))]


def _entry(orders_: list[Order], day: date) -> JournalEntry:
    return build_journal(orders_, MAPPINGS, location_id="loc", business_date=day, location=LOCATION)


def _posted(entry: JournalEntry, memo: str) -> int:
    return sum(ln.debit.amount - ln.credit.amount for ln in entry.lines if ln.memo == memo)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders_=days_orders())
def test_each_refund_is_booked_once_on_its_own_day(orders_: list[Order]) -> None:
    entries = [_entry(orders_, day) for day in DAYS]
    for entry in entries:
        assert entry.total_debits() == entry.total_credits()
        assert all(line.role is not AccountRole.RECEIVABLE for line in entry.lines)
    for entry, day in zip(entries, DAYS, strict=True):
        due = sum(r.amount.amount for o in orders_ for r in o.refunds if refund_date(r, o, LOCATION) == day)
        refunded = _posted(entry, "refunds") + _posted(entry, "sales tax refunded")
        assert refunded == entry.statistics.refund_amount == due
        assert _posted(entry, "sales tax refunded") == entry.statistics.refunded_tax
        summary = summarize_day(LOCATION, day, orders_)
        assert summary.refund_amount.amount == due and reconciliation_errors(summary) == []
    assert sum(e.statistics.orders for e in entries) == len(orders_) == entries[0].statistics.orders


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders_=days_orders())
def test_the_drawers_of_all_days_add_up_to_the_cash_kept(orders_: list[Order]) -> None:
    cash_in = sum(
        p.amount.amount + p.tip.amount for o in orders_ for p in o.payments if p.tender is TenderType.CASH
    )
    by_id = [{p.id: p for p in o.payments} for o in orders_]
    cash_out = sum(
        r.amount.amount
        for o, paid in zip(orders_, by_id, strict=True)
        for r in o.refunds
        if paid[r.payment_id or ""].tender is TenderType.CASH
    )
    expected = sum(_entry(orders_, day).statistics.expected_cash for day in DAYS)
    assert expected == cash_in - cash_out
