"""Ticket ready → Square: the order's open fulfillments become PREPARED, once, over real HTTP."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import msgspec
import pytest

from expediter.connectors.square.client import SquareClient
from expediter.connectors.square.connector import make_sink
from expediter.errors import TerminalError, TransientError
from expediter.plugin.base import IncomingMessage, Receipt
from expediter.sim.square_api import SquareStandIn
from tests.connectors.square.support import (
    ACCESS_TOKEN,
    LoopbackServer,
    fixture_json,
    outbound,
    square_context,
)

ORDER_ID = "DREk7wJcyXNHqULq8JJ2iPAsluJZY"  # UpdateOrderResponse


def pickup_order() -> dict[str, Any]:
    order = copy.deepcopy(fixture_json("UpdateOrderResponse.json")["order"])
    order["fulfillments"] = [
        {"uid": "pickup-1", "type": "PICKUP", "state": "RESERVED"},
        {"uid": "old", "type": "PICKUP", "state": "CANCELED"},
    ]
    return order


def ticket_status(
    status: str = "ready", order_id: str = f"square-{ORDER_ID}", **extra: Any
) -> IncomingMessage:
    payload = {"order_id": order_id, "status": status, "ticket_id": "t-1", "location_id": "main", **extra}
    return IncomingMessage(
        source_system="kds", kind="ticket_status", idempotency_key="k", payload=msgspec.json.encode(payload)
    )


@pytest.fixture
def square_server() -> Any:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN)
    stand_in.put_order(pickup_order())
    with LoopbackServer(stand_in.app) as server:
        yield stand_in, server.url


def deliver(base_url: str, message: IncomingMessage, key: str = "delivery-77") -> Receipt:
    sink = make_sink(square_context(base_url=base_url))
    return asyncio.run(sink.deliver(outbound(message, key=key)))


def test_ready_marks_open_fulfillments_prepared(square_server: Any) -> None:
    stand_in, url = square_server
    receipt = deliver(url, ticket_status())
    assert receipt.records == 1
    assert receipt.remote_ref == f"{url}/v2/orders/{ORDER_ID}"
    order = stand_in.orders[ORDER_ID]
    assert [f["state"] for f in order["fulfillments"]] == ["PREPARED", "CANCELED"]
    assert order["version"] == 3
    assert stand_in.requests == [("GET", f"/v2/orders/{ORDER_ID}"), ("PUT", f"/v2/orders/{ORDER_ID}")]


def test_a_retried_delivery_does_not_update_twice(square_server: Any) -> None:
    stand_in, url = square_server
    deliver(url, ticket_status())
    again = deliver(url, ticket_status())
    assert again.records == 0
    assert stand_in.orders[ORDER_ID]["version"] == 3
    assert stand_in.requests.count(("PUT", f"/v2/orders/{ORDER_ID}")) == 1


def test_same_idempotency_key_is_answered_without_a_second_change(square_server: Any) -> None:
    _, url = square_server
    client = SquareClient(url, ACCESS_TOKEN, square_version="2024-01-18")
    sparse = {
        "location_id": "MXVQSVNDGN3C8",
        "version": 2,
        "fulfillments": [{"uid": "pickup-1", "state": "PREPARED"}],
    }
    first = asyncio.run(client.update_order(ORDER_ID, sparse, idempotency_key="same"))
    second = asyncio.run(client.update_order(ORDER_ID, sparse, idempotency_key="same"))
    assert first.version == second.version == 3
    with pytest.raises(TransientError, match="changed meanwhile"):
        asyncio.run(client.update_order(ORDER_ID, sparse, idempotency_key="another"))


def test_external_id_names_the_square_order(square_server: Any) -> None:
    stand_in, url = square_server
    message = ticket_status(order_id="hub-order-9", external_id=ORDER_ID, source_system="square")
    assert deliver(url, message).records == 1
    assert stand_in.orders[ORDER_ID]["fulfillments"][0]["state"] == "PREPARED"


@pytest.mark.parametrize(
    "message",
    [ticket_status(status="in_progress"), ticket_status(order_id="online-123")],
    ids=["not-ready", "not-a-square-order"],
)
def test_nothing_to_tell_square(square_server: Any, message: IncomingMessage) -> None:
    stand_in, url = square_server
    assert deliver(url, message).records == 0
    assert stand_in.requests == []


def test_other_kinds_are_refused(square_server: Any) -> None:
    _, url = square_server
    message = ticket_status()
    sink = make_sink(square_context(base_url=url))
    with pytest.raises(TerminalError, match="ticket_status"):
        asyncio.run(sink.deliver(outbound(message, kind="orders")))
