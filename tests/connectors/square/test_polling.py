"""Polling fallback: SearchOrders over a window, paged; webhook + polling overlap gives one order."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from expediter.connectors.square.connector import make_processor, make_webhook, poll
from expediter.model.order import Order
from expediter.sim.square_api import SquareStandIn, order_event, signed_webhook
from tests.connectors.square.support import (
    ACCESS_TOKEN,
    NOTIFICATION_URL,
    SIGNATURE_KEY,
    SQUARE_FIXTURES,
    MemoryInbox,
    fixture_json,
    outbound,
    square_context,
)

LOCATION = "D7AVYMEAPJ3A3"  # RetrieveOrderResponse's location
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def order_at(order_id: str, updated: datetime, version: int = 1, location: str = LOCATION) -> dict[str, Any]:
    order = copy.deepcopy(fixture_json("RetrieveOrderResponse.json")["order"])
    order.update(
        id=order_id,
        version=version,
        location_id=location,
        updated_at=updated.isoformat().replace("+00:00", "Z"),
    )
    return order


def seeded(page_size: int = 2) -> SquareStandIn:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN, page_size=page_size)
    for minute in range(5):
        stand_in.put_order(order_at(f"ORDER{minute}", NOON + timedelta(minutes=minute)))
    stand_in.put_order(order_at("EARLY", NOON - timedelta(hours=1)))
    stand_in.put_order(order_at("ELSEWHERE", NOON, location="OTHERLOCATION"))
    return stand_in


def test_poll_pages_through_the_window() -> None:
    stand_in = seeded(page_size=2)
    ctx = square_context({"http_transport": stand_in.transport()})
    messages = asyncio.run(poll(ctx, NOON, NOON + timedelta(minutes=10)))
    assert [m.idempotency_key for m in messages] == [f"square:ORDER{i}:1" for i in range(5)]
    assert all(m.kind == "orders" and m.location_id == "hub-d7avymeapj3a3" for m in messages)
    assert stand_in.requests.count(("POST", "/v2/orders/search")) == 3
    first = msgspec.json.decode(messages[0].payload, type=Order)
    assert first.external_id == "ORDER0"


def test_poll_window_end_is_exclusive() -> None:
    ctx = square_context({"http_transport": seeded().transport()})
    messages = asyncio.run(poll(ctx, NOON + timedelta(minutes=1), NOON + timedelta(minutes=3)))
    assert [m.idempotency_key for m in messages] == ["square:ORDER1:1", "square:ORDER2:1"]


def test_webhook_and_polling_overlap_give_one_order() -> None:
    stand_in = seeded()
    inbox = MemoryInbox()
    ctx = square_context({"http_transport": stand_in.transport(), "order_versions": inbox})
    webhook, processor = make_webhook(ctx), make_processor(ctx)

    # The webhook path: verify, store the raw event, process it into an order.
    event = order_event(stand_in.orders["ORDER2"], "order.updated")
    body, headers = signed_webhook(event, signature_key=SIGNATURE_KEY, notification_url=NOTIFICATION_URL)
    webhook.verify(headers, body, NOTIFICATION_URL)
    for raw in webhook.messages(headers, body):
        assert inbox.accept(raw)
        for derived in asyncio.run(processor.process(outbound(raw))):
            assert inbox.accept(derived)

    # The nightly poll covers the same order again, plus the others.
    polled = asyncio.run(poll(ctx, NOON, NOON + timedelta(minutes=10)))
    accepted = [m.idempotency_key for m in polled if inbox.accept(m)]

    orders = [k for k, m in inbox.messages.items() if m.kind == "orders"]
    assert sorted(orders) == sorted(f"square:ORDER{i}:1" for i in range(5))
    assert "square:ORDER2:1" not in accepted


def test_poll_then_webhook_for_the_same_version_adds_nothing() -> None:
    stand_in = seeded()
    inbox = MemoryInbox()
    ctx = square_context({"http_transport": stand_in.transport(), "order_versions": inbox})
    for message in asyncio.run(poll(ctx, NOON, NOON + timedelta(minutes=10))):
        inbox.accept(message)
    event = order_event(stand_in.orders["ORDER3"], "order.created")
    body, headers = signed_webhook(event, signature_key=SIGNATURE_KEY, notification_url=NOTIFICATION_URL)
    (raw,) = make_webhook(ctx).messages(headers, body)
    assert asyncio.run(make_processor(ctx).process(outbound(raw))) == []


def test_stand_in_seeded_from_the_fixtures_is_polled_whole() -> None:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN)
    loaded = stand_in.seed_from_fixtures(SQUARE_FIXTURES)
    assert len(loaded) == 4  # CalculateOrder is a quote without an id
    assert len(stand_in.orders) == 3  # Create- and RetrieveOrderResponse share an order id
    ctx = square_context({"http_transport": stand_in.transport()})
    start = datetime(2019, 1, 1, tzinfo=UTC)
    messages = asyncio.run(poll(ctx, start, start + timedelta(days=3650)))
    assert sorted(m.idempotency_key.split(":")[1] for m in messages) == sorted(stand_in.orders)


def test_poll_searches_a_large_group_ten_locations_at_a_time() -> None:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN)
    many = {f"LOC{n:02d}": f"hub-{n:02d}" for n in range(23)}
    for square_id in many:
        stand_in.put_order(order_at(f"ORDER-{square_id}", NOON, location=square_id))
    ctx = square_context({"http_transport": stand_in.transport()}, locations=many)
    messages = asyncio.run(poll(ctx, NOON, NOON + timedelta(minutes=10)))
    assert sorted(m.idempotency_key for m in messages) == sorted(f"square:ORDER-{s}:1" for s in many)
    assert stand_in.requests.count(("POST", "/v2/orders/search")) == 3
