"""A refund is booked on the business date it happened on, not on its sale's.

The reviewer's case: a cash sale on 2 March (New York) refunded on 3 March. The 2 March entry
books the sale and no refund; the 3 March entry books the refund, its drawer expects that much
less cash, and both balance.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from expediter.catalog.schema import Catalog, Mappings
from expediter.catalog.schema import Hub as HubSettings
from expediter.errors import RejectedInput
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, Refund, TenderType
from expediter.operations.accounting.dating import refund_date, refunds_by_day, sale_date
from expediter.operations.accounting.export import closing_orders_by_day, journals_for_request
from expediter.operations.accounting.journal import DrawerCount, JournalEntry, build_journal
from expediter.plugin.base import ExportRequest

LOCATION = Location(id="L", name="L", timezone="America/New_York")
SALE_DAY, REFUND_DAY = date(2026, 3, 2), date(2026, 3, 3)
SOLD_AT = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 18:00 in New York, 2 March
MAPPINGS = Mappings(
    category_accounts={"food": "4000 Food"},
    tender_accounts={"cash": "1000 Cash", "card": "1010 Cards"},
    accounts={
        "refunds": "4960 Refunds",
        "cash_over_short": "6900 Over/short",
        "unpaid_checks": "1200 Unpaid",
    },
)


def sale(
    order_id: str, amount: int, at: datetime, *refunds: Refund, tender: TenderType = TenderType.CASH
) -> Order:
    return Order(
        id=order_id,
        location_id=LOCATION.id,
        opened_at=at,
        version=2 if refunds else 1,
        state=OrderState.COMPLETED,
        lines=[Line(id="l", name="x", quantity=Decimal(1), unit_price=Money(amount), category="food")],
        payments=[Payment(id="p", tender=tender, amount=Money(amount))],
        refunds=list(refunds),
    )


def refund(amount: int, at: datetime | None, refund_id: str = "r") -> Refund:
    return Refund(id=refund_id, amount=Money(amount), payment_id="p", created_at=at)


REFUNDED = sale("A", 1000, SOLD_AT, refund(1000, SOLD_AT + timedelta(days=1)))


def journal(orders: list[Order], day: date, drawer: int | None = None) -> JournalEntry:
    count = (
        None
        if drawer is None
        else DrawerCount(location_id="L", business_date=day, counted_cash=Money(drawer))
    )
    return build_journal(
        orders, MAPPINGS, location_id="L", business_date=day, drawer=count, location=LOCATION
    )


def amounts(entry: JournalEntry) -> dict[tuple[str, str], tuple[int, int]]:
    return {(ln.account, ln.memo): (ln.debit.amount, ln.credit.amount) for ln in entry.lines}


def test_the_sale_day_books_the_sale_and_no_refund() -> None:
    entry = journal([REFUNDED], SALE_DAY, drawer=1000)
    assert amounts(entry) == {("1000 Cash", "cash"): (1000, 0), ("4000 Food", "sales: food"): (0, 1000)}
    assert (entry.statistics.orders, entry.statistics.refunds, entry.statistics.expected_cash) == (1, 0, 1000)


def test_the_refund_day_books_the_refund_and_its_drawer_pays_it_out() -> None:
    today = sale("B", 1500, SOLD_AT + timedelta(days=1))
    entry = journal([REFUNDED, today], REFUND_DAY, drawer=500)
    assert entry.total_debits() == entry.total_credits() == Money(2500)
    assert amounts(entry) == {
        ("1000 Cash", "cash"): (1500, 0),
        ("4960 Refunds", "refunds"): (1000, 0),
        ("1000 Cash", "refund: cash"): (0, 1000),
        ("4000 Food", "sales: food"): (0, 1500),
    }
    stats = entry.statistics
    assert (stats.orders, stats.earlier_sales_refunded, stats.refunds, stats.refund_amount) == (1, 1, 1, 1000)
    assert (stats.expected_cash, stats.counted_cash) == (500, 500)  # no over/short: the drawer is right
    assert entry.document_number == "DS-L-20260303"


def test_a_refund_alone_on_its_day_still_balances() -> None:
    entry = journal([REFUNDED], REFUND_DAY)
    assert amounts(entry) == {
        ("4960 Refunds", "refunds"): (1000, 0),
        ("1000 Cash", "refund: cash"): (0, 1000),
    }
    assert entry.statistics.orders == 0


def test_a_refund_without_a_time_stays_on_its_orders_day() -> None:
    undated = sale("C", 800, SOLD_AT, refund(800, None))
    assert refund_date(undated.refunds[0], undated, LOCATION) == SALE_DAY
    assert journal([undated], SALE_DAY).statistics.refund_amount == 800
    assert journal([undated], REFUND_DAY).lines == []


def test_refunds_on_two_days_are_booked_once_each() -> None:
    order = sale(
        "D",
        3000,
        SOLD_AT,
        refund(1000, SOLD_AT + timedelta(hours=1), "r1"),  # 19:00 the same evening
        refund(500, SOLD_AT + timedelta(days=2), "r2"),
        tender=TenderType.CARD,
    )
    days = [SALE_DAY + timedelta(days=n) for n in range(4)]
    booked = [journal([order], day).statistics.refund_amount for day in days]
    assert booked == [1000, 0, 500, 0]
    assert refunds_by_day([order], LOCATION) == {date(2026, 3, 4): [order]}


def test_the_business_day_start_decides_the_refund_day() -> None:
    """03:30 in New York on 3 March is still the 2 March business day (day start 04:00)."""
    late = sale("E", 700, SOLD_AT, refund(700, datetime(2026, 3, 3, 8, 30, tzinfo=UTC)))
    assert refund_date(late.refunds[0], late, LOCATION) == SALE_DAY
    assert journal([late], SALE_DAY).statistics.refund_amount == 700


def test_a_refund_stamped_before_its_sale_lands_on_the_sales_day() -> None:
    early = sale("F", 700, SOLD_AT, refund(700, SOLD_AT - timedelta(days=3)))
    assert refund_date(early.refunds[0], early, LOCATION) == sale_date(early, LOCATION) == SALE_DAY


def test_the_hubs_business_date_wins_over_the_clock() -> None:
    stored = msgspec.structs.replace(REFUNDED, business_date=date(2026, 3, 1))
    assert sale_date(stored, LOCATION) == date(2026, 3, 1)
    assert journal([stored], date(2026, 3, 1)).statistics.orders == 1
    assert journal([stored], REFUND_DAY).statistics.refund_amount == 1000


def test_without_a_location_every_given_order_books_all_its_refunds() -> None:
    """The old contract, for callers that chose the day's orders themselves."""
    entry = build_journal([REFUNDED], MAPPINGS, location_id="L", business_date=SALE_DAY)
    assert entry.statistics.refund_amount == 1000 and entry.total_debits() == entry.total_credits()


def test_a_location_of_another_day_is_refused() -> None:
    other = Location(id="M", name="M", timezone="UTC")
    with pytest.raises(RejectedInput, match="location M"):
        build_journal([REFUNDED], MAPPINGS, location_id="L", business_date=SALE_DAY, location=other)


def test_a_canceled_check_books_no_refund_on_a_later_day() -> None:
    canceled = msgspec.structs.replace(REFUNDED, state=OrderState.CANCELED)
    assert journal([canceled], REFUND_DAY).lines == []


def _request(
    tmp_path: Path, start: date, end: date, orders: list[Order], refunds: list[Order]
) -> ExportRequest:
    catalog = Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        mappings=MAPPINGS,
    )
    return ExportRequest(
        catalog=catalog,
        location=LOCATION,
        start_date=start,
        end_date=end,
        orders=lambda: orders,
        punches=lambda: (),
        refunds=lambda: refunds,
    )


def test_an_export_of_the_refund_day_takes_the_earlier_sale_from_the_request(tmp_path: Path) -> None:
    today = sale("B", 1500, SOLD_AT + timedelta(days=1))
    request = _request(tmp_path, REFUND_DAY, REFUND_DAY, [today], [REFUNDED])
    assert closing_orders_by_day(request) == {REFUND_DAY: [today, REFUNDED], SALE_DAY: [REFUNDED]}
    [entry] = journals_for_request(request)
    assert entry.business_date == REFUND_DAY
    assert amounts(entry)[("4960 Refunds", "refunds")] == (1000, 0)
    assert entry.statistics.orders == 1


def test_an_export_of_both_days_books_sale_and_refund_apart(tmp_path: Path) -> None:
    older = msgspec.structs.replace(REFUNDED, version=1, refunds=[])
    request = _request(tmp_path, SALE_DAY, REFUND_DAY, [older, REFUNDED], [])
    first, second = journals_for_request(request)
    assert (first.statistics.orders, first.statistics.refunds) == (1, 0)
    assert (second.statistics.orders, second.statistics.refunds) == (0, 1)
    assert all(e.total_debits() == e.total_credits() for e in (first, second))
