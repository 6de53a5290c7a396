"""The sales summary counts a refund on the business date it happened on, not its sale's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import msgspec

from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, Refund, TenderType
from expediter.operations.sales import close_day, reconciliation_errors, summarize_day

LOC = Location(id="L", name="L", timezone="America/New_York")
SALE_DAY, REFUND_DAY = date(2026, 3, 2), date(2026, 3, 3)
SOLD_AT = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def order(order_id: str, at: datetime, refunds: list[Refund], amount: int = 1000) -> Order:
    return Order(
        id=order_id,
        location_id=LOC.id,
        opened_at=at,
        version=2,
        state=OrderState.COMPLETED,
        lines=[Line(id="l", name="x", quantity=Decimal(1), unit_price=Money(amount))],
        payments=[Payment(id="p", tender=TenderType.CASH, amount=Money(amount))],
        refunds=refunds,
    )


REFUNDED = order("A", SOLD_AT, [Refund(id="r", amount=Money(1000), created_at=SOLD_AT + timedelta(days=1))])


def test_the_reviewers_day_counts_the_refund_on_the_day_after() -> None:
    sold, refunded = summarize_day(LOC, SALE_DAY, [REFUNDED]), summarize_day(LOC, REFUND_DAY, [REFUNDED])
    assert (sold.checks, sold.paid, sold.refund_count, sold.refund_amount) == (1, Money(1000), 0, Money(0))
    assert (refunded.checks, refunded.paid, refunded.net_sales) == (0, Money(0), Money(0))
    assert (refunded.refund_count, refunded.refund_amount) == (1, Money(1000))
    assert reconciliation_errors(sold) == reconciliation_errors(refunded) == []


def test_the_refund_day_keeps_its_own_sales_and_an_empty_product_mix_of_the_old_check() -> None:
    today = order("B", SOLD_AT + timedelta(days=1), [], amount=1500)
    day = close_day(LOC, REFUND_DAY, [REFUNDED, today])
    summary = day.summary()
    assert (summary.checks, summary.net_sales, summary.refund_amount) == (1, Money(1500), Money(1000))
    assert [row.net for row in day.product_mix()] == [Money(1500)]


def test_a_refund_without_a_time_stays_with_its_check() -> None:
    undated = order("C", SOLD_AT, [Refund(id="r", amount=Money(400))])
    assert summarize_day(LOC, SALE_DAY, [undated]).refund_amount == Money(400)
    assert summarize_day(LOC, REFUND_DAY, [undated]).refund_count == 0


def test_an_order_of_another_location_or_a_canceled_one_adds_no_refund() -> None:
    elsewhere = msgspec.structs.replace(REFUNDED, location_id="M")
    canceled = msgspec.structs.replace(REFUNDED, state=OrderState.CANCELED)
    summary = summarize_day(LOC, REFUND_DAY, [elsewhere, canceled])
    assert (summary.refund_count, summary.canceled_checks) == (0, 0)
