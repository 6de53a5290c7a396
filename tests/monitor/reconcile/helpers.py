"""Small model objects for the reconciliation checks: checks, punches and a location."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from expediter.catalog.schema import Mappings
from expediter.model.labor import TimePunch
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order, OrderState, Payment, Refund, Tax, TenderType

DAY = date(2026, 11, 26)
LOCATION = Location(id="L1", name="Bistro", timezone="UTC", day_start="04:00")
NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)
MAPPINGS = Mappings(
    category_accounts={"Burgers": "4000 Food Sales", "Beer": "4100 Beer Sales"},
    tender_accounts={"card": "1010 Card Clearing", "cash": "1000 Cash"},
    accounts={
        "sales_tax": "2100 Sales Tax Payable",
        "tips_payable": "2200 Tips Payable",
        "refunds": "4960 Refunds",
        "unpaid_checks": "1200 Unpaid Checks",
    },
)


def check(
    order_id: str,
    cents: int,
    *,
    version: int = 1,
    category: str = "Burgers",
    refund: int = 0,
    refunded_at: datetime | None = None,
    at: datetime = NOON,
) -> Order:
    """A paid check of one line of ``cents`` plus 8.875 % tax; ``refund`` cents refunded."""
    tax = (cents * 8875 + 50000) // 100000
    return Order(
        id=order_id,
        location_id=LOCATION.id,
        version=version,
        opened_at=at,
        business_date=DAY,
        state=OrderState.COMPLETED,
        lines=[Line(id="l1", name="Burger", quantity=Decimal(1), unit_price=Money(cents), category=category)],
        taxes=[Tax(name="tax", amount=Money(tax), rate=Decimal("0.08875"))],
        payments=[Payment(id="p1", tender=TenderType.CARD, amount=Money(cents + tax))],
        refunds=[Refund(id="r1", amount=Money(refund), payment_id="p1", created_at=refunded_at)]
        if refund
        else [],
    )


def punch(punch_id: str, hours: float, *, version: int = 1, open_: bool = False) -> TimePunch:
    start = NOON - timedelta(hours=2)
    return TimePunch(
        id=punch_id,
        employee_id=f"E-{punch_id}",
        location_id=LOCATION.id,
        job_code="server",
        clock_in=start,
        clock_out=None if open_ else start + timedelta(hours=hours),
        hourly_wage=Money(1500),
        version=version,
    )
