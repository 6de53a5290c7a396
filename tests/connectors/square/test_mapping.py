"""Square → canonical mapping on every Square-authored fixture, totals reconciled to the cent."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from expediter.connectors.square.connector import make_webhook
from expediter.connectors.square.mapping import order_from_square, punch_from_timecard, reconcile
from expediter.connectors.square.wire import SqEvent, SqOrder, SqOrderEnvelope, SqTimecard
from expediter.model.labor import TimePunch
from expediter.model.money import Money
from expediter.model.order import (
    DiningOption,
    Order,
    OrderState,
    TaxKind,
    TenderType,
    order_totals,
)
from expediter.sim.square_api import signed_webhook
from tests.connectors.square.support import (
    EVENT_FIXTURES,
    NOTIFICATION_URL,
    ORDER_FIXTURES,
    SIGNATURE_KEY,
    fixture_json,
    square_context,
)


def decode(raw: dict[str, Any]) -> SqOrder:
    return msgspec.convert(raw, SqOrderEnvelope).order


def mapped(raw: dict[str, Any]) -> Order:
    return order_from_square(decode(raw), source_system="square", location_id="main", fallback_id="quote")


def amount(raw: dict[str, Any], field: str) -> int:
    return int(raw["order"].get(field, {}).get("amount", 0))


def test_every_order_fixture_is_covered() -> None:
    names = {path.stem for path in ORDER_FIXTURES}
    assert names == {
        "CreateOrderResponse",
        "RetrieveOrderResponse",
        "UpdateOrderResponse",
        "PayOrderResponse",
        "CalculateOrderResponse",
    }


@pytest.mark.parametrize("path", ORDER_FIXTURES, ids=lambda p: p.stem)
def test_fixture_totals_reconcile_with_square(path: Path) -> None:
    raw = msgspec.json.decode(path.read_bytes())
    totals = order_totals(mapped(raw))
    assert totals.total.amount + totals.tips.amount == amount(raw, "total_money")
    assert totals.tax.amount == amount(raw, "total_tax_money")
    assert totals.discounts.amount == amount(raw, "total_discount_money")
    assert totals.service_charges.amount == amount(raw, "total_service_charge_money")
    assert totals.tips.amount == amount(raw, "total_tip_money")
    gross = sum(line["gross_sales_money"]["amount"] for line in raw["order"]["line_items"])
    assert totals.gross_sales.amount == gross


@pytest.mark.parametrize("path", ORDER_FIXTURES, ids=lambda p: p.stem)
def test_fixture_round_trips_as_canonical_json(path: Path) -> None:
    order = mapped(msgspec.json.decode(path.read_bytes()))
    again = msgspec.json.decode(msgspec.json.encode(order), type=Order)
    assert again == order
    assert order.opened_at.tzinfo is not None


def test_create_order_lines_modifiers_discounts_taxes() -> None:
    order = mapped(fixture_json("CreateOrderResponse.json"))
    steak = order.lines[1]
    assert steak.name == "New York Steak (Larger)"
    assert steak.quantity == Decimal(2)
    assert steak.unit_price == Money(2200)
    assert steak.item_id == "BEMYCSMIJL46OCDV4KYIKXIB"
    assert [(m.name, m.unit_price.amount, m.modifier_id) for m in steak.modifiers] == [
        ("Well", 50, "CHQX7Y4KY6N5KINJKZCFURPZ")
    ]
    # The $1 line-scoped discount stays on its line; order-scope ones are kept once at order level.
    assert [(d.name, d.amount.amount) for d in steak.discounts] == [("Sale - $1.00 off", 100)]
    assert order.lines[0].discounts == []
    assert [(d.name, d.amount.amount) for d in order.discounts] == [
        ("Membership Discount", 30),
        ("Labor Day Sale", 303),
    ]
    assert order.discounts[0].discount_id == "DB7L55ZH2BGWI4H23ULIWOQ7"
    (tax,) = order.taxes
    assert (tax.name, tax.amount.amount, tax.kind, tax.rate) == (
        "State Sales Tax",
        510,
        TaxKind.ADDITIVE,
        Decimal("0.09"),
    )
    assert order.external_id == "CAISENgvlJ6jLWAzERDzjyHVybY"
    assert order.id == "square-CAISENgvlJ6jLWAzERDzjyHVybY"
    assert order.notes == "my-order-001"


def test_pay_order_tenders_keep_brand_and_last4_only() -> None:
    order = mapped(fixture_json("PayOrderResponse.json"))
    assert order.state is OrderState.COMPLETED
    assert order.version == 4
    assert order.closed_at is not None
    assert [(p.tender, p.amount.amount, p.card_brand, p.last4) for p in order.payments] == [
        (TenderType.CARD, 1000, "VISA", "1111"),
        (TenderType.CARD, 1000, "VISA", "1111"),
    ]
    encoded = msgspec.json.encode(order)
    assert b"fingerprint" not in encoded
    assert b"exp_year" not in encoded
    assert order_totals(order).paid == order_totals(order).total


def test_calculate_order_without_id_uses_the_fallback() -> None:
    order = mapped(fixture_json("CalculateOrderResponse.json"))
    assert order.external_id is None
    assert order.id == "square-quote"


def rich_order() -> dict[str, Any]:
    """The UpdateOrder fixture extended with what no fixture has: service charges, inclusive tax,
    tips, a refund, a return and a fulfillment. Square's totals are set as Square computes them."""
    raw = copy.deepcopy(fixture_json("UpdateOrderResponse.json"))
    order = raw["order"]
    usd = "USD"
    order["taxes"] = [
        {
            "uid": "vat",
            "name": "VAT",
            "type": "INCLUSIVE",
            "percentage": "10",
            "applied_money": {"amount": 82, "currency": usd},
        },
        {
            "uid": "city",
            "name": "City tax",
            "type": "ADDITIVE",
            "percentage": "2",
            "applied_money": {"amount": 18, "currency": usd},
        },
    ]
    order["service_charges"] = [
        {
            "uid": "grat",
            "name": "Auto gratuity 18%",
            "type": "AUTO_GRATUITY",
            "percentage": "18",
            "calculation_phase": "SUBTOTAL_PHASE",
            "taxable": False,
            "applied_money": {"amount": 162, "currency": usd},
            "total_money": {"amount": 162, "currency": usd},
        }
    ]
    order["fulfillments"] = [{"uid": "f1", "type": "PICKUP", "state": "PROPOSED"}]
    order["tenders"] = [
        {
            "id": "t1",
            "type": "CARD",
            "amount_money": {"amount": 1280, "currency": usd},
            "tip_money": {"amount": 200, "currency": usd},
            "card_details": {
                "card": {"card_brand": "AMERICAN_EXPRESS", "last_4": "0005", "fingerprint": "x"}
            },
        }
    ]
    order["refunds"] = [
        {
            "id": "r1",
            "amount_money": {"amount": 400, "currency": usd},
            "reason": "cold",
            "tender_id": "t1",
            "status": "APPROVED",
            "created_at": "2019-08-23T19:00:00Z",
        }
    ]
    order["returns"] = [
        {
            "uid": "ret1",
            "return_line_items": [{"uid": "rl1", "source_line_item_uid": "cookie_uid", "quantity": "2"}],
        }
    ]
    order["total_tax_money"] = {"amount": 100, "currency": usd}
    order["total_service_charge_money"] = {"amount": 162, "currency": usd}
    order["total_tip_money"] = {"amount": 200, "currency": usd}
    order["total_money"] = {"amount": 900 + 18 + 162 + 200, "currency": usd}
    return raw


def test_service_charges_inclusive_tax_tips_refunds_fulfillment() -> None:
    raw = rich_order()
    order = mapped(raw)
    assert reconcile(decode(raw), order) == []
    (charge,) = order.service_charges
    assert charge.auto_gratuity and charge.amount == Money(162)
    assert [t.kind for t in order.taxes] == [TaxKind.INCLUSIVE, TaxKind.ADDITIVE]
    assert order.dining_option is DiningOption.PICKUP
    (payment,) = order.payments
    assert (payment.amount.amount, payment.tip.amount, payment.card_brand, payment.last4) == (
        1080,
        200,
        "AMERICAN_EXPRESS",
        "0005",
    )
    (refund,) = order.refunds
    assert (refund.amount.amount, refund.payment_id, refund.line_ids, refund.reason) == (
        400,
        "t1",
        ["cookie_uid"],
        "cold",
    )
    totals = order_totals(order)
    assert totals.total.amount == 900 + 18 + 162
    assert totals.paid.amount + totals.tips.amount == 1280


def test_reconcile_reports_a_mismatch() -> None:
    raw = rich_order()
    raw["order"]["total_tax_money"]["amount"] = 99
    assert reconcile(decode(raw), mapped(raw)) == ["total_tax_money: Square 0.99 USD, hub 1.00 USD"]


@pytest.mark.parametrize(
    ("square_type", "option"),
    [
        ("DELIVERY", DiningOption.DELIVERY),
        ("SHIPMENT", DiningOption.DELIVERY),
        ("DINE_IN", DiningOption.DINE_IN),
    ],
)
def test_fulfillment_types(square_type: str, option: DiningOption) -> None:
    raw = fixture_json("UpdateOrderResponse.json")
    raw["order"]["fulfillments"] = [{"uid": "f", "type": square_type, "state": "PROPOSED"}]
    assert mapped(raw).dining_option is option


def test_timecards_map_to_punches() -> None:
    timecard = msgspec.convert(fixture_json("CreateTimecardResponse.json")["timecard"], SqTimecard)
    punch = punch_from_timecard(timecard, location_id="main")
    assert (punch.employee_id, punch.job_code, punch.hourly_wage, punch.declared_cash_tips) == (
        "ormj0jJJZ5OZIzxrZYJI",
        "FzbJAtt9qEWncK1BWgVCxQ6M",
        Money(1100),
        Money(500),
    )
    assert punch.clock_out is not None and (punch.clock_out - punch.clock_in).total_seconds() == 10 * 3600
    (pause,) = punch.breaks
    assert pause.paid and pause.end is not None
    assert msgspec.json.decode(msgspec.json.encode(punch), type=TimePunch) == punch


@pytest.mark.parametrize("path", EVENT_FIXTURES, ids=lambda p: p.stem)
def test_every_event_fixture_is_stored_raw_with_its_event_id(path: Path) -> None:
    body = path.read_bytes()
    event = msgspec.json.decode(body, type=SqEvent)
    _, headers = signed_webhook(body, signature_key=SIGNATURE_KEY, notification_url=NOTIFICATION_URL)
    webhook = make_webhook(square_context())
    webhook.verify(headers, body, NOTIFICATION_URL)
    (message,) = webhook.messages(headers, body)
    assert message.kind == "square.event"
    assert message.idempotency_key == f"square:{event.event_id}"
    assert message.payload == body
    square_location = event.inner().get("location_id")
    if square_location:
        assert message.location_id == f"hub-{square_location.lower()}"
