"""The daily sales summary and product mix: a hand-worked day, simulated days, random checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expediter.errors import RejectedInput
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import (
    Comp,
    DiningOption,
    Discount,
    Line,
    LineKind,
    Modifier,
    Order,
    OrderSource,
    OrderState,
    Payment,
    Refund,
    ServiceCharge,
    Tax,
    TaxKind,
    TenderType,
    order_totals,
)
from expediter.operations.sales import (
    close_day,
    mix_errors,
    product_mix,
    reconciliation_errors,
    summarize_day,
)
from expediter.sim.day import simulate_day
from expediter.sim.locations import sim_location

LOC = Location(id="L1", name="Main St", timezone="America/New_York")
DAY = date(2026, 3, 10)
OPENED = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def usd(cents: int) -> Money:
    return Money(cents)


def line(id_: str, name: str, qty: int, price: int, category: str, **kw: object) -> Line:
    return Line(
        id=id_,
        item_id=name.lower(),
        name=name,
        quantity=Decimal(qty),
        unit_price=usd(price),
        category=category,
        **kw,
    )  # type: ignore[arg-type]


def hand_worked_orders() -> list[Order]:
    """Four checks whose every figure is worked out by hand in the test below."""
    a = Order(
        id="A",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        state=OrderState.COMPLETED,
        guest_count=2,
        employee_id="e1",
        lines=[
            line(
                "a1",
                "Burger",
                2,
                1200,
                "food",
                plu="101",
                modifiers=[Modifier(name="bacon", unit_price=usd(150))],
                discounts=[Discount(name="HH", amount=usd(200), reason="happy hour")],
            ),
            line("a2", "Beer", 1, 700, "beverage", comp=Comp(reason="manager", amount=usd(700))),
            line("a3", "Fries", 1, 400, "food", voided=True),
        ],
        taxes=[Tax(name="sales tax", amount=usd(200))],
        service_charges=[ServiceCharge(name="18% large party", amount=usd(450), auto_gratuity=True)],
        payments=[
            Payment(id="pa", tender=TenderType.CARD, amount=usd(3150), tip=usd(300), card_brand="visa")
        ],
    )
    b = Order(
        id="B",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        state=OrderState.COMPLETED,
        dining_option=DiningOption.TAKEOUT,
        employee_id="e2",
        lines=[
            line("b1", "Salad", 1, 1000, "food"),
            line("b2", "Soda", 2, 250, "beverage"),
            Line(
                id="b3", name="Gift card", quantity=Decimal(1), unit_price=usd(2500), kind=LineKind.GIFT_CARD
            ),
        ],
        discounts=[Discount(name="Loyalty", amount=usd(300), reason="loyalty")],
        taxes=[Tax(name="sales tax", amount=usd(96))],
        payments=[
            Payment(id="pb1", tender=TenderType.CASH, amount=usd(2000)),
            Payment(id="pb2", tender=TenderType.CARD, amount=usd(1796), card_brand="mastercard"),
        ],
    )
    c = Order(
        id="C",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        state=OrderState.COMPLETED,
        source=OrderSource.MARKETPLACE,
        dining_option=DiningOption.DELIVERY,
        lines=[line("c1", "Burger", 1, 1200, "food", plu="101")],
        taxes=[Tax(name="sales tax", amount=usd(96), marketplace_facilitator=True)],
        service_charges=[ServiceCharge(name="delivery fee", amount=usd(299))],
        payments=[Payment(id="pc", tender=TenderType.MARKETPLACE, amount=usd(1595), marketplace="doordash")],
        refunds=[Refund(id="rc", amount=usd(500), reason="cold")],
    )
    d = Order(
        id="D",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        state=OrderState.CANCELED,
        lines=[line("d1", "Soda", 1, 250, "beverage")],
    )
    other_day = Order(
        id="E",
        location_id="L1",
        opened_at=OPENED,
        business_date=date(2026, 3, 11),
        lines=[line("e1", "Soda", 1, 250, "beverage")],
    )
    other_place = Order(
        id="F",
        location_id="L2",
        opened_at=OPENED,
        business_date=DAY,
        lines=[line("f1", "Soda", 1, 250, "beverage")],
    )
    return [a, b, c, d, other_day, other_place]


def test_hand_worked_day_gives_every_figure() -> None:
    s = summarize_day(LOC, DAY, hand_worked_orders())
    assert (s.checks, s.guests) == (3, 4)
    assert (s.gross_sales, s.discounts, s.comps, s.net_sales) == (usd(6100), usd(500), usd(700), usd(4900))
    # the check discount (3.00 on B) is spread 2.00 food / 1.00 beverage, by the lines' net
    assert s.net_sales_by_category == {"beverage": usd(400), "food": usd(4500)}
    assert s.net_sales_by_dining_option == {"delivery": usd(1200), "dine_in": usd(2500), "takeout": usd(1200)}
    assert s.discounts_by_reason == {"happy hour": usd(200), "loyalty": usd(300)}
    assert s.comps_by_reason == {"manager": usd(700)}
    assert (s.tax_restaurant, s.tax_marketplace_facilitator, s.tax_inclusive) == (usd(296), usd(96), usd(0))
    assert (s.service_charges, s.auto_gratuity) == (usd(299), usd(450))
    assert (s.gift_cards_sold, s.gift_cards_sold_count) == (usd(2500), 1)
    assert (s.total, s.paid, s.card_tips, s.other_tips) == (usd(8541), usd(8541), usd(300), usd(0))
    assert s.tenders_by_type == {"card": usd(4946), "cash": usd(2000), "marketplace": usd(1595)}
    assert s.tenders_by_card_brand == {"mastercard": usd(1796), "visa": usd(3150)}
    assert s.tenders_by_marketplace == {"doordash": usd(1595)}
    assert (s.void_count, s.void_amount, s.refund_count, s.refund_amount) == (1, usd(400), 1, usd(500))
    assert (s.canceled_checks, s.canceled_amount) == (1, usd(250))
    assert reconciliation_errors(s) == []


def test_hand_worked_product_mix() -> None:
    rows = {r.item_id: r for r in product_mix(LOC, DAY, hand_worked_orders())}
    burger = rows["burger"]
    assert (burger.quantity, burger.gross, burger.discounts, burger.net) == (
        3,
        usd(3900),
        usd(200),
        usd(3700),
    )
    assert (burger.plu, burger.category) == ("101", "food")
    assert (rows["salad"].discounts, rows["salad"].net) == (usd(200), usd(800))
    assert (rows["soda"].quantity, rows["soda"].net) == (2, usd(400))
    assert (rows["beer"].comps, rows["beer"].net) == (usd(700), usd(0))
    fries = rows["fries"]
    assert (fries.quantity, fries.voided_quantity, fries.voided_amount) == (0, 1, usd(400))
    assert "gift card" not in rows


def _sum_of_order_totals(orders: list[Order], location: Location, day: date) -> int:
    return sum(
        order_totals(o).total.amount
        for o in orders
        if o.state is not OrderState.CANCELED and o.location_id == location.id and o.business_date == day
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_day_reconciles_to_the_cent(seed: int) -> None:
    location = sim_location(seed)
    day = date(2026, 11, 20)
    orders = simulate_day(location, day, seed, scale=0.4).orders
    result = close_day(location, day, iter(orders))
    summary = result.summary()
    assert reconciliation_errors(summary) == []
    assert mix_errors(summary, result.product_mix()) == []
    assert summary.total.amount == _sum_of_order_totals(orders, location, day)
    assert summary.paid.amount == sum(p.amount.amount for o in orders for p in o.payments)
    assert summary.checks == len(orders) > 0


def test_back_to_back_versions_count_once() -> None:
    first = hand_worked_orders()[1]
    second = Order(
        **{
            **{f: getattr(first, f) for f in first.__struct_fields__},
            "version": 2,
            "lines": first.lines[:1],
            "discounts": [],
            "taxes": [],
            "payments": [],
        }
    )
    s = summarize_day(LOC, DAY, [first, second])
    assert (s.checks, s.gross_sales) == (1, usd(1000))


def test_versions_of_a_check_count_once_wherever_they_arrive() -> None:
    def version(order_id: str, number: int, price: int) -> Order:
        return Order(
            id=order_id,
            location_id="L1",
            opened_at=OPENED,
            business_date=DAY,
            version=number,
            lines=[line("l", "Soda", 1, price, "beverage")],
        )

    s = summarize_day(LOC, DAY, [version("A", 1, 1000), version("B", 1, 500), version("A", 2, 1200)])
    assert (s.checks, s.gross_sales) == (2, usd(1700))
    s = summarize_day(LOC, DAY, [version("A", 2, 1200), version("A", 1, 1000)])
    assert (s.checks, s.gross_sales) == (1, usd(1200))


def test_an_order_in_another_currency_is_rejected() -> None:
    order = Order(
        id="X",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        currency="EUR",
        lines=[Line(id="x", name="x", quantity=Decimal(1), unit_price=Money(100, "EUR"))],
    )
    with pytest.raises(RejectedInput, match="EUR"):
        summarize_day(LOC, DAY, [order])


def test_business_date_is_computed_from_the_location_clock_when_missing() -> None:
    late = datetime(2026, 3, 11, 6, 30, tzinfo=UTC)  # 01:30 in New York: still the 10th's trading day
    order = Order(id="N", location_id="L1", opened_at=late, lines=[line("n", "Soda", 1, 250, "beverage")])
    assert summarize_day(LOC, DAY, [order]).checks == 1
    assert summarize_day(LOC, date(2026, 3, 11), [order]).checks == 0


# Random checks: any mix of lines, discounts (larger than the line, too), comps, taxes and tenders
# must still reconcile, and the summary must agree with order_totals check by check.
money = st.integers(min_value=0, max_value=50_000)


@st.composite
def random_order(draw: st.DrawFn, number: int) -> Order:
    lines = []
    for i in range(draw(st.integers(1, 5))):
        lines.append(
            Line(
                id=f"{number}-{i}",
                name=f"item{i}",
                item_id=f"item{draw(st.integers(0, 6))}",
                quantity=draw(st.sampled_from([Decimal(1), Decimal(2), Decimal("0.5"), Decimal("1.25")])),
                unit_price=usd(draw(money)),
                category=draw(st.sampled_from(["food", "bar", "=cmd"])),
                kind=draw(st.sampled_from([LineKind.ITEM] * 5 + [LineKind.GIFT_CARD])),
                modifiers=draw(
                    st.lists(
                        st.builds(
                            Modifier,
                            name=st.just("m"),
                            unit_price=money.map(usd),
                            quantity=st.sampled_from([Decimal(1), Decimal(3), Decimal("0.5")]),
                        ),
                        max_size=2,
                    )
                ),
                discounts=draw(
                    st.lists(
                        st.builds(
                            Discount,
                            name=st.just("d"),
                            amount=money.map(usd),
                            reason=st.sampled_from(["", "promo"]),
                        ),
                        max_size=2,
                    )
                ),
                comp=draw(st.none() | st.builds(Comp, reason=st.just("guest"), amount=money.map(usd))),
                voided=draw(st.booleans()),
            )
        )
    return Order(
        id=f"o{number}",
        location_id="L1",
        opened_at=OPENED,
        business_date=DAY,
        lines=lines,
        state=draw(st.sampled_from(list(OrderState))),
        dining_option=draw(st.sampled_from(list(DiningOption))),
        discounts=draw(
            st.lists(st.builds(Discount, name=st.just("check"), amount=money.map(usd)), max_size=2)
        ),
        taxes=draw(
            st.lists(
                st.builds(
                    Tax,
                    name=st.just("t"),
                    amount=money.map(usd),
                    kind=st.sampled_from(list(TaxKind)),
                    marketplace_facilitator=st.booleans(),
                ),
                max_size=2,
            )
        ),
        service_charges=draw(
            st.lists(
                st.builds(
                    ServiceCharge, name=st.just("s"), amount=money.map(usd), auto_gratuity=st.booleans()
                ),
                max_size=2,
            )
        ),
        payments=draw(
            st.lists(
                st.builds(
                    Payment,
                    id=st.just("p"),
                    tender=st.sampled_from(list(TenderType)),
                    amount=money.map(usd),
                    tip=money.map(usd),
                    card_brand=st.none() | st.just("amex"),
                    marketplace=st.none() | st.just("ubereats"),
                ),
                max_size=3,
            )
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=6, unique=True).flatmap(
        lambda ns: st.tuples(*[random_order(n) for n in ns])
    )
)
def test_random_checks_always_reconcile(orders: tuple[Order, ...]) -> None:
    result = close_day(LOC, DAY, list(orders))
    summary = result.summary()
    assert reconciliation_errors(summary) == []
    assert mix_errors(summary, result.product_mix()) == []
    assert summary.total.amount == _sum_of_order_totals(list(orders), LOC, DAY)
    live = [o for o in orders if o.state is not OrderState.CANCELED]
    assert summary.net_sales.amount == sum(order_totals(o).net_sales.amount for o in live)
    assert summary.void_amount.amount == sum(order_totals(o).voids.amount for o in live)
