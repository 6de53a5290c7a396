"""The processor: fetch the order a stored Square event names, keep versions in order, map errors."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import msgspec
import pytest

from expediter.connectors.square.connector import make_processor
from expediter.errors import TerminalError, TransientError
from expediter.model.labor import TimePunch
from expediter.model.order import Order
from expediter.plugin.base import IncomingMessage
from expediter.sim.ports import free_port
from expediter.sim.square_api import SquareStandIn, order_event
from tests.connectors.square.support import (
    ACCESS_TOKEN,
    MemoryInbox,
    fixture_json,
    outbound,
    square_context,
)

EVENT_ORDER_ID = "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"
EVENT_LOCATION = "FPYCBCHYMXFK1"


def square_order(version: int, order_id: str = EVENT_ORDER_ID) -> dict[str, Any]:
    """A Square-authored order (RetrieveOrderResponse) renamed to the id the event fixtures name."""
    order = copy.deepcopy(fixture_json("RetrieveOrderResponse.json")["order"])
    order.update(id=order_id, version=version, location_id=EVENT_LOCATION)
    return order


def stored_event(name_or_event: str | dict[str, Any]) -> IncomingMessage:
    event = fixture_json(name_or_event) if isinstance(name_or_event, str) else name_or_event
    return IncomingMessage(
        source_system="square",
        kind="square.event",
        idempotency_key=f"square:{event['event_id']}",
        payload=msgspec.json.encode(event),
    )


def process(
    stand_in: SquareStandIn, event: IncomingMessage, inbox: MemoryInbox | None = None
) -> list[IncomingMessage]:
    services: dict[str, Any] = {"http_transport": stand_in.transport()}
    if inbox is not None:
        services["order_versions"] = inbox
    processor = make_processor(square_context(services))
    return asyncio.run(processor.process(outbound(event)))


@pytest.fixture
def stand_in() -> SquareStandIn:
    return SquareStandIn(access_token=ACCESS_TOKEN)


@pytest.mark.parametrize(
    "fixture", ["OrderCreatedEvent.json", "OrderUpdatedEvent.json", "OrderFulfillmentUpdatedEvent.json"]
)
def test_order_events_fetch_and_map_the_full_order(stand_in: SquareStandIn, fixture: str) -> None:
    stand_in.put_order(square_order(version=7))
    (message,) = process(stand_in, stored_event(fixture))
    assert message.kind == "orders"
    assert message.idempotency_key == f"square:{EVENT_ORDER_ID}:7"
    assert message.location_id == "hub-fpycbchymxfk1"
    order = msgspec.json.decode(message.payload, type=Order)
    assert (order.external_id, order.version, order.location_id) == (EVENT_ORDER_ID, 7, "hub-fpycbchymxfk1")
    assert stand_in.requests == [("GET", f"/v2/orders/{EVENT_ORDER_ID}")]


def test_an_older_version_never_overwrites_a_newer_one(stand_in: SquareStandIn) -> None:
    inbox = MemoryInbox()
    stand_in.put_order(square_order(version=5))
    for message in process(stand_in, stored_event("OrderUpdatedEvent.json"), inbox):
        inbox.accept(message)
    assert list(inbox.messages) == [f"square:{EVENT_ORDER_ID}:5"]

    stand_in.put_order(square_order(version=4))  # a stale read (a replica behind, a replayed event)
    assert process(stand_in, stored_event("OrderCreatedEvent.json"), inbox) == []
    stand_in.put_order(square_order(version=5))  # the same version again
    assert process(stand_in, stored_event("OrderCreatedEvent.json"), inbox) == []

    stand_in.put_order(square_order(version=6))
    (newer,) = process(stand_in, stored_event("OrderFulfillmentUpdatedEvent.json"), inbox)
    assert newer.idempotency_key == f"square:{EVENT_ORDER_ID}:6"


def test_payment_fetches_the_order_it_references(stand_in: SquareStandIn) -> None:
    event = fixture_json("PaymentCreatedEvent.json")
    payment_order = event["data"]["object"]["payment"]["order_id"]
    stand_in.put_order(square_order(version=2, order_id=payment_order))
    (message,) = process(stand_in, stored_event(event))
    assert message.idempotency_key == f"square:{payment_order}:2"


def test_refund_for_an_order_square_does_not_have_stores_nothing(stand_in: SquareStandIn) -> None:
    assert process(stand_in, stored_event("RefundCreatedEvent.json")) == []
    assert stand_in.requests == [("GET", "/v2/orders/haOyDuHiqtAXMk0d8pDKXpL7Jg4F")]


def test_payment_without_an_order_stores_nothing(stand_in: SquareStandIn) -> None:
    event = fixture_json("PaymentCreatedEvent.json")
    del event["data"]["object"]["payment"]["order_id"]
    assert process(stand_in, stored_event(event)) == []
    assert stand_in.requests == []


def test_timecard_becomes_a_punch(stand_in: SquareStandIn) -> None:
    (message,) = process(stand_in, stored_event("LaborTimecardCreatedEvent.json"))
    assert (message.kind, message.idempotency_key) == ("punches", "square:timecard:PY4YSMVKXFY9E:1")
    punch = msgspec.json.decode(message.payload, type=TimePunch)
    assert (punch.location_id, punch.employee_id) == ("hub-naq1fhv6zj8yv", "AnuhZhsN95oT8f-eCn9D")


def test_unknown_event_types_emit_nothing(stand_in: SquareStandIn) -> None:
    assert process(stand_in, stored_event("InventoryCountUpdatedEvent.json")) == []
    assert stand_in.requests == []


@pytest.mark.parametrize(
    ("status", "error"), [(500, TransientError), (503, TransientError), (429, TransientError)]
)
def test_square_outages_are_transient(stand_in: SquareStandIn, status: int, error: type[Exception]) -> None:
    stand_in.put_order(square_order(version=1))
    stand_in.fail_next(status)
    with pytest.raises(error, match=str(status)):
        process(stand_in, stored_event("OrderCreatedEvent.json"))


def test_bad_token_is_terminal() -> None:
    stand_in = SquareStandIn(access_token="another-token")
    stand_in.put_order(square_order(version=1))
    with pytest.raises(TerminalError, match=r"401.*UNAUTHORIZED"):
        process(stand_in, stored_event("OrderCreatedEvent.json"))


def test_missing_order_on_an_order_event_is_terminal(stand_in: SquareStandIn) -> None:
    with pytest.raises(TerminalError, match=r"404.*NOT_FOUND"):
        process(stand_in, stored_event("OrderCreatedEvent.json"))


def test_unmapped_location_says_how_to_map_it(stand_in: SquareStandIn) -> None:
    order = square_order(version=1)
    order["location_id"] = "UNKNOWNLOC"
    stand_in.put_order(order)
    with pytest.raises(TerminalError, match=r'add "UNKNOWNLOC" = "<location id>" to systems\[square\]'):
        process(stand_in, stored_event(order_event(order, "order.updated")))


def test_connection_refused_is_transient() -> None:
    port = free_port()  # a loopback port nobody listens on
    processor = make_processor(square_context(base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(TransientError, match="ConnectError"):
        asyncio.run(processor.process(outbound(stored_event("OrderCreatedEvent.json"))))
