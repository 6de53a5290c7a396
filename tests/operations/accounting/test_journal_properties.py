"""Property: whatever the orders, the entry balances to the cent, with no rounding line.

Orders here are generated freely (fractional quantities, priced modifiers, inclusive and
marketplace taxes, split tenders, refunds, voids, gift cards). When payments match what a check
charged, nothing goes to ``unpaid_checks``: the balance comes from summing minor units, not from a
plug. When they do not, the difference is booked there and the entry still balances.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expediter.catalog.schema import Mappings
from expediter.model.money import Money
from expediter.model.order import (
    Comp,
    DiningOption,
    Discount,
    Line,
    LineKind,
    Modifier,
    Order,
    OrderState,
    Payment,
    Refund,
    ServiceCharge,
    Tax,
    TaxKind,
    TenderType,
    line_gross,
    order_totals,
)
from expediter.operations.accounting.journal import AccountRole, DrawerCount, JournalSettings, build_journal

DAY = date(2026, 11, 27)
CATEGORIES = ["Burgers", "Beer", "Wine", "Sides"]
MAPPINGS = Mappings(
    category_accounts={c: f"40{i} {c}" for i, c in enumerate(CATEGORIES)},
    discount_accounts={"promo": "4900 Discounts", "loyalty": "4901 Loyalty"},
    tender_accounts={
        "card": "1010 Cards",
        "cash": "1000 Cash",
        "marketplace": "1020 Marketplaces",
        "house_account": "1100 House accounts",
        "other": "1090 Other tenders",
    },
    accounts={
        "sales_tax": "2100 Tax",
        "tips_payable": "2200 Tips",
        "service_charges": "4500 Service",
        "gift_cards": "2300 Gift cards",
        "cash_over_short": "6900 Over/short",
        "comps": "4950 Comps",
        "refunds": "4960 Refunds",
        "unpaid_checks": "1200 Unpaid",
    },
)
OPENED = datetime(2026, 11, 27, 20, tzinfo=UTC)

cents = st.integers(min_value=0, max_value=20_000)
quantities = st.sampled_from(
    [Decimal(1), Decimal(2), Decimal(3), Decimal("0.5"), Decimal("1.25"), Decimal("0.333")]
)


@st.composite
def lines(draw: st.DrawFn, index: int) -> Line:
    price = draw(cents)
    modifiers = [
        Modifier(name=f"m{i}", unit_price=Money(draw(cents)), quantity=draw(quantities))
        for i in range(draw(st.integers(0, 2)))
    ]
    discounts = [
        Discount(name="d", reason=draw(st.sampled_from(["promo", "loyalty"])), amount=Money(draw(cents)))
        for _ in range(draw(st.integers(0, 1)))
    ]
    comp = Comp(reason="remake", amount=Money(draw(cents))) if draw(st.booleans()) else None
    return Line(
        id=f"l{index}",
        name="x",
        quantity=draw(quantities),
        unit_price=Money(price),
        category=draw(st.sampled_from(CATEGORIES)),
        kind=LineKind.GIFT_CARD if draw(st.integers(0, 9)) == 0 else LineKind.ITEM,
        modifiers=modifiers,
        discounts=discounts,
        comp=comp,
        voided=draw(st.integers(0, 5)) == 0,
    )


@st.composite
def orders(draw: st.DrawFn, index: int, exact: bool) -> Order:
    order_lines = [draw(lines(i)) for i in range(draw(st.integers(1, 5)))]
    taxes = [
        Tax(
            name="t",
            amount=Money(draw(cents)),
            kind=draw(st.sampled_from(list(TaxKind))),
            marketplace_facilitator=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    if not any(_sells(line) for line in order_lines):
        taxes = [t for t in taxes if t.kind is TaxKind.ADDITIVE]  # inclusive tax needs a price to be in
    charges = [
        ServiceCharge(name="s", amount=Money(draw(cents)), auto_gratuity=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 1)))
    ]
    order = Order(
        id=f"o{index}",
        location_id="loc",
        opened_at=OPENED,
        lines=order_lines,
        taxes=taxes,
        service_charges=charges,
        state=OrderState.COMPLETED,
        dining_option=draw(st.sampled_from(list(DiningOption))),
    )
    due = order_totals(order).total.amount if exact else draw(cents)
    payments = _split(draw, due)
    refunds = [
        Refund(
            id=f"r{i}", amount=Money(draw(cents)), payment_id=draw(st.sampled_from([p.id for p in payments]))
        )
        for i in range(draw(st.integers(0, 1)))
        if payments
    ]
    return msgspec.structs.replace(order, payments=payments, refunds=refunds)


def _sells(line: Line) -> bool:
    return not line.voided and line.kind is LineKind.ITEM and line_gross(line).amount > 0


def _split(draw: st.DrawFn, due: int) -> list[Payment]:
    """Pay ``due`` with one to three tenders (any may be negative if due is, e.g. big discounts)."""
    count = draw(st.integers(1, 3))
    parts = [draw(st.integers(0, max(due, 0))) for _ in range(count - 1)]
    amounts = [*parts, due - sum(parts)]
    return [
        Payment(
            id=f"p{i}",
            tender=draw(st.sampled_from(list(TenderType))),
            amount=Money(amount),
            tip=Money(draw(st.integers(0, 2000))),
        )
        for i, amount in enumerate(amounts)
    ]


def _day(draw: st.DrawFn, exact: bool) -> list[Order]:
    return [draw(orders(i, exact)) for i in range(draw(st.integers(1, 6)))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), by_option=st.booleans(), counted=st.integers(0, 100_000))
def test_exactly_paid_orders_balance_without_any_plug(
    data: st.DataObject, by_option: bool, counted: int
) -> None:
    orders_ = data.draw(st.composite(lambda draw: _day(draw, exact=True))())
    drawer = DrawerCount(location_id="loc", business_date=DAY, counted_cash=Money(counted))
    entry = build_journal(
        orders_,
        MAPPINGS,
        location_id="loc",
        business_date=DAY,
        drawer=drawer,
        settings=JournalSettings(by_dining_option=by_option),
    )
    assert entry.total_debits() == entry.total_credits()
    assert all(line.role is not AccountRole.RECEIVABLE for line in entry.lines)
    assert all((line.debit.amount == 0) != (line.credit.amount == 0) for line in entry.lines)
    assert all(line.debit.amount >= 0 and line.credit.amount >= 0 for line in entry.lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_net_revenue_matches_order_totals(data: st.DataObject) -> None:
    orders_ = data.draw(st.composite(lambda draw: _day(draw, exact=True))())
    entry = build_journal(orders_, MAPPINGS, location_id="loc", business_date=DAY)
    revenue = sum(ln.credit.amount - ln.debit.amount for ln in entry.lines if ln.memo.startswith("sales:"))
    contra = sum(
        ln.debit.amount - ln.credit.amount for ln in entry.lines if ln.memo.startswith(("discount:", "comp:"))
    )
    inclusive = sum(t.amount.amount for o in orders_ for t in o.taxes if t.kind is TaxKind.INCLUSIVE)
    net = sum(order_totals(o).net_sales.amount for o in orders_)
    assert revenue - contra == net - inclusive


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_payments_still_balance(data: st.DataObject) -> None:
    orders_ = data.draw(st.composite(lambda draw: _day(draw, exact=False))())
    entry = build_journal(orders_, MAPPINGS, location_id="loc", business_date=DAY)
    assert entry.total_debits() == entry.total_credits()
