"""Online orders in: stored raw, 86'd items refused with the item and location, mapped to canonical."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from expediter.connectors.online.connector import make_processor, make_webhook
from expediter.errors import RejectedInput
from expediter.model.money import Money
from expediter.model.order import DiningOption, Order, OrderSource, TenderType, order_totals
from expediter.plugin.base import IncomingMessage, Outbound
from tests.connectors.online.support import EightySixList, online_context, sample_order, signed
from tests.connectors.square.support import LoopbackServer, MemoryInbox, webhook_app


def receive(order: dict[str, Any], services: dict[str, Any] | None = None) -> list[IncomingMessage]:
    body, headers = signed(order)
    webhook = make_webhook(online_context(services))
    webhook.verify(headers, body, "http://hub/api/v1/webhooks/online")
    return webhook.messages(headers, body)


def canonical(order: dict[str, Any]) -> Order:
    (raw,) = receive(order)
    stored = Outbound(
        delivery_id=1,
        delivery_key="d",
        message_id=1,
        flow_id="f",
        destination="online#process",
        location_id=raw.location_id,
        kind=raw.kind,
        payload=raw.payload,
        content_type=raw.content_type,
        attempt=1,
    )
    (message,) = asyncio.run(make_processor(online_context()).process(stored))
    assert (message.kind, message.idempotency_key) == ("orders", f"online:{order['external_id']}:1")
    return msgspec.json.decode(message.payload, type=Order)


def test_order_is_stored_raw_with_a_stable_key() -> None:
    (message,) = receive(sample_order())
    assert message.kind == "online.order"
    assert message.idempotency_key == "online:online.order:DD-1001:1"
    assert message.location_id == "main"
    assert msgspec.json.decode(message.payload)["external_id"] == "DD-1001"


def test_86_item_is_refused_naming_item_and_location() -> None:
    kitchen = EightySixList(("main", "2002"))
    with pytest.raises(RejectedInput) as caught:
        receive(sample_order(), {"availability": kitchen})
    assert caught.value.message == "Fries (2002) is 86'd at location main"
    assert caught.value.where == "$.items[1]"


def test_86_modifier_is_refused_too() -> None:
    with pytest.raises(RejectedInput) as caught:
        receive(sample_order(), {"availability": EightySixList(("main", "9001"))})
    assert caught.value.message == "Extra cheese (9001) is 86'd at location main"
    assert caught.value.where == "$.items[0].modifiers[0]"


def test_available_items_pass_the_86_check() -> None:
    kitchen = EightySixList(("main", "7777"), ("other-location", "2002"))
    assert len(receive(sample_order(), {"availability": kitchen})) == 1


def test_marketplace_order_maps_to_canonical() -> None:
    order = canonical(sample_order())
    assert (order.id, order.external_id, order.source, order.location_id) == (
        "online-DD-1001",
        "DD-1001",
        OrderSource.MARKETPLACE,
        "main",
    )
    assert order.dining_option is DiningOption.PICKUP
    burger, fries = order.lines
    assert (burger.plu, burger.quantity, burger.unit_price, burger.modifiers[0].unit_price) == (
        "1001",
        Decimal(2),
        Money(1200),
        Money(150),
    )
    assert (fries.quantity, fries.notes) == (Decimal(1), "well done")
    (tax,) = order.taxes
    assert tax.marketplace_facilitator and tax.amount == Money(252)
    (payment,) = order.payments
    assert (payment.tender, payment.marketplace, payment.amount, payment.tip) == (
        TenderType.MARKETPLACE,
        "DoorDash",
        Money(3402),
        Money(300),
    )
    assert order.customer_name == "Maya"
    assert order.promised_at is not None and order.promised_at.isoformat() == "2026-11-27T18:05:00-05:00"
    totals = order_totals(order)
    assert (totals.gross_sales.amount, totals.total.amount, totals.tips.amount) == (3150, 3402, 300)
    assert totals.paid == totals.total


def test_own_web_shop_delivery_order() -> None:
    order = canonical(
        sample_order(
            marketplace=None,
            tax_collected_by_marketplace=False,
            fulfilment="delivery",
            tip=0,
            totals={"subtotal": 3150, "tax": 252, "delivery_fee": 499, "total": 3901},
        )
    )
    assert (order.source, order.dining_option) == (OrderSource.ONLINE, DiningOption.DELIVERY)
    assert order.payments[0].tender is TenderType.CARD and order.payments[0].marketplace is None
    assert not order.taxes[0].marketplace_facilitator
    assert [(c.name, c.amount.amount) for c in order.service_charges] == [("Delivery fee", 499)]
    assert order_totals(order).total.amount == 3901


@pytest.mark.parametrize(
    ("change", "where", "text"),
    [
        (
            {"totals": {"subtotal": 3000, "tax": 252, "total": 3552}},
            "$.totals.subtotal",
            "items add up to 3150",
        ),
        (
            {"totals": {"subtotal": 3150, "tax": 252, "total": 3400}},
            "$.totals.total",
            "= 3702 but totals.total is 3400",
        ),
        ({"placed_at": "2026-11-27T17:45:00"}, "$.placed_at", "timezone"),
        ({"fulfilment": "drone"}, "$.fulfilment", "Invalid enum value 'drone'"),
        ({"notes": "card 4111 1111 1111 1111"}, "$.notes", "card number"),
    ],
    ids=["subtotal", "total", "naive-time", "fulfilment", "card-number"],
)
def test_bad_orders_are_refused_with_where(change: dict[str, Any], where: str, text: str) -> None:
    with pytest.raises(RejectedInput) as caught:
        receive(sample_order(**change))
    assert caught.value.where == where
    assert text in str(caught.value)


def test_over_http_86_answers_422_with_the_reason() -> None:
    inbox = MemoryInbox()
    kitchen = EightySixList(("main", "1001"))
    receivers = {"online": make_webhook(online_context({"availability": kitchen}))}
    with LoopbackServer(webhook_app(receivers, inbox)) as hub:
        body, headers = signed(sample_order())
        refused = httpx.post(f"{hub.url}/api/v1/webhooks/online", content=body, headers=headers)
        kitchen.unavailable.clear()
        accepted = httpx.post(f"{hub.url}/api/v1/webhooks/online", content=body, headers=headers)
        duplicate = httpx.post(f"{hub.url}/api/v1/webhooks/online", content=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"] == "Smash Burger (1001) is 86'd at location main"
    assert (accepted.status_code, duplicate.status_code) == (202, 200)
    assert list(inbox.messages) == ["online:online.order:DD-1001:1"]
