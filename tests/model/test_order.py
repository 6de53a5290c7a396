"""Check totals: voids, comps, discounts, taxes and nested modifiers add up in minor units."""

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.model.money import CurrencyMismatch, Money
from expediter.model.order import (
    Comp,
    Discount,
    Line,
    LineKind,
    Modifier,
    Order,
    Payment,
    ServiceCharge,
    Tax,
    TaxKind,
    TenderType,
    line_gross,
    line_gross_minor,
    order_totals,
)

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def _order() -> Order:
    side = Modifier(
        name="Fries",
        unit_price=Money(150),
        modifiers=[Modifier(name="Truffle salt", unit_price=Money(50))],
    )
    return Order(
        id="o1",
        location_id="l1",
        opened_at=NOW,
        lines=[
            Line(id="1", name="Burger", quantity=Decimal(2), unit_price=Money(1200), modifiers=[side]),
            Line(
                id="2",
                name="Salad",
                quantity=Decimal(1),
                unit_price=Money(900),
                discounts=[Discount(name="Happy hour", amount=Money(100), reason="happy hour")],
            ),
            Line(
                id="3",
                name="Pie",
                quantity=Decimal(1),
                unit_price=Money(700),
                comp=Comp(reason="remake", amount=Money(700)),
            ),
            Line(id="4", name="Wine", quantity=Decimal(1), unit_price=Money(1100), voided=True),
            Line(
                id="5", name="Gift card", quantity=Decimal(1), unit_price=Money(2500), kind=LineKind.GIFT_CARD
            ),
        ],
        taxes=[
            Tax(name="Sales tax", amount=Money(300), kind=TaxKind.ADDITIVE),
            Tax(name="VAT incl.", amount=Money(40), kind=TaxKind.INCLUSIVE),
        ],
        service_charges=[ServiceCharge(name="Auto-gratuity", amount=Money(500), auto_gratuity=True)],
        payments=[Payment(id="p", tender=TenderType.CARD, amount=Money(7100), tip=Money(200), last4="1111")],
    )


def test_totals_add_up() -> None:
    t = order_totals(_order())
    # Burgers: (1200 + 150 + 50) × 2 = 2800; salad 900; pie 700 → gross 4400.
    assert t.gross_sales == Money(4400)
    assert t.discounts == Money(100)
    assert t.comps == Money(700)
    assert t.net_sales == Money(3600)
    assert t.tax == Money(340)
    assert t.voids == Money(1100)
    assert t.gift_cards_sold == Money(2500)
    # Inclusive tax is inside the prices already, so only the additive 300 is added.
    assert t.total == Money(3600 + 300 + 500 + 2500)
    assert t.tips == Money(200)


def test_order_round_trips_through_json() -> None:
    order = _order()
    assert msgspec.json.decode(msgspec.json.encode(order), type=Order) == order


def test_wrong_type_deep_in_a_modifier_names_the_path() -> None:
    raw = msgspec.to_builtins(_order())
    raw["lines"][0]["modifiers"][0]["modifiers"][0]["quantity"] = [1]
    with pytest.raises(msgspec.ValidationError, match=r"\$\.lines\[0\]\.modifiers\[0\]\.modifiers\[0\]"):
        msgspec.convert(raw, Order)


def test_mixing_currencies_is_an_error() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(100, "USD") + Money(100, "EUR")


def test_rounding_is_half_even() -> None:
    assert Money(5).times(Decimal("0.5")) == Money(2)
    assert Money(15).times(Decimal("0.5")) == Money(8)


def test_a_zero_amount_takes_the_other_currency() -> None:
    # Model defaults (Payment.tip, Modifier.unit_price) are Money(0) in USD; a EUR order must total.
    assert Money(0) + Money(500, "EUR") == Money(500, "EUR")
    assert Money(500, "EUR") + Money(0) == Money(500, "EUR")
    assert Money(500, "EUR") - Money(0) == Money(500, "EUR")
    assert Money(0) - Money(500, "EUR") == Money(-500, "EUR")
    assert Money(0, "EUR") + Money(0) == Money(0, "EUR")


def test_a_euro_order_without_a_tip_totals_in_euros() -> None:
    order = Order(
        id="eur",
        location_id="L",
        opened_at=datetime(2026, 3, 2, 18, tzinfo=UTC),
        currency="EUR",
        lines=[Line(id="1", name="x", quantity=Decimal(1), unit_price=Money(1000, "EUR"))],
        payments=[Payment(id="p", tender=TenderType.CARD, amount=Money(1000, "EUR"))],
    )
    totals = order_totals(order)
    assert totals.total == Money(1000, "EUR")
    assert totals.paid == Money(1000, "EUR")


def test_an_order_encodes_compactly_and_decodes_to_the_same_order() -> None:
    """Fields at their default are left out of the JSON (half the bytes stored per order), and
    decoding fills them back in, so nothing is lost on the way through storage."""
    order = _order()
    compact = msgspec.json.encode(order)
    fields = msgspec.json.decode(compact)
    wine = fields["lines"][3]
    assert wine["voided"] is True and "void_reason" not in wine  # set: kept; default: left out
    burger = fields["lines"][0]
    for default in ("variation", "course", "seat", "notes", "discounts", "comp", "voided", "kind"):
        assert default not in burger, default
    assert "quantity" not in burger["modifiers"][0] and burger["modifiers"][0]["unit_price"] == {
        "amount": 150,
        "currency": "USD",  # money always says its currency
    }
    assert fields["lines"][4]["kind"] == "gift_card"
    assert "refunds" not in fields and "state" not in fields and fields["payments"][0]["tip"]["amount"] == 200
    assert msgspec.json.decode(compact, type=Order) == order
    assert len(compact) < 0.6 * len(msgspec.json.encode(_every_field(order)))


def _every_field(value: object) -> object:
    """``value`` as plain data with every field, defaults too (the encoding before it was compact)."""
    if isinstance(value, msgspec.Struct):
        return {f: _every_field(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, list):
        return [_every_field(item) for item in value]
    return value


_QUANTITIES = st.decimals(min_value=0, max_value=50, places=3, allow_nan=False, allow_infinity=False)
_MODIFIERS = st.recursive(
    st.builds(
        Modifier,
        name=st.just("m"),
        quantity=_QUANTITIES,
        unit_price=st.builds(Money, st.integers(0, 5_000)),
    ),
    lambda children: st.builds(
        Modifier,
        name=st.just("m"),
        quantity=_QUANTITIES,
        unit_price=st.builds(Money, st.integers(0, 5_000)),
        modifiers=st.lists(children, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    quantity=_QUANTITIES,
    price=st.integers(0, 100_000),
    modifiers=st.lists(_MODIFIERS, max_size=4),
)
def test_line_gross_minor_is_line_gross_in_minor_units(
    quantity: Decimal, price: int, modifiers: list[Modifier]
) -> None:
    """The close's integer arithmetic rounds every fractional quantity as ``Money.times`` does."""
    line = Line(id="1", name="x", quantity=quantity, unit_price=Money(price), modifiers=modifiers)
    assert line_gross_minor(line) == line_gross(line).amount
