"""End to end over real HTTP: Square's signed webhook into a hub endpoint, the order fetched from the
stand-in, both served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import msgspec

from expediter.connectors.square.connector import make_processor, make_webhook
from expediter.model.order import Order, order_totals
from expediter.sim.square_api import SquareStandIn, order_event, send_webhook
from tests.connectors.square.support import (
    ACCESS_TOKEN,
    SIGNATURE_KEY,
    LoopbackServer,
    MemoryInbox,
    fixture_json,
    outbound,
    square_context,
    webhook_app,
)


def create_order() -> dict[str, Any]:
    return copy.deepcopy(fixture_json("CreateOrderResponse.json")["order"])


async def post(url: str, event: dict[str, Any], **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await send_webhook(client, url, event, signature_key=SIGNATURE_KEY, **kwargs)


def test_signed_webhook_to_stored_order_over_loopback() -> None:
    stand_in = SquareStandIn(access_token=ACCESS_TOKEN)
    stand_in.put_order(create_order())
    inbox = MemoryInbox()
    with LoopbackServer(stand_in.app) as square:
        hub_receivers: dict[str, Any] = {}
        with LoopbackServer(webhook_app(hub_receivers, inbox)) as hub:
            url = f"{hub.url}/api/v1/webhooks/square"
            ctx = square_context({"order_versions": inbox}, notification_url=url, base_url=square.url)
            hub_receivers["square"] = make_webhook(ctx)
            event = order_event(create_order(), "order.created", event_id="evt-1")

            first = asyncio.run(post(url, event))
            again = asyncio.run(post(url, event))
            assert (first.status_code, again.status_code) == (202, 200)

            (raw,) = inbox.messages.values()
            for derived in asyncio.run(make_processor(ctx).process(outbound(raw))):
                inbox.accept(derived)
    order = msgspec.json.decode(inbox.messages["square:CAISENgvlJ6jLWAzERDzjyHVybY:1"].payload, type=Order)
    assert order_totals(order).total.amount == 6176
    assert order.location_id == "hub-057p5vyj4a5x1"


def test_hub_behind_a_tls_proxy_gets_the_url_hint() -> None:
    inbox = MemoryInbox()
    receivers: dict[str, Any] = {}
    with LoopbackServer(webhook_app(receivers, inbox)) as hub:
        internal = f"{hub.url}/api/v1/webhooks/square"
        public = "https://hub.example.com/api/v1/webhooks/square"
        receivers["square"] = make_webhook(square_context(notification_url=internal))
        event = order_event(create_order(), "order.created")
        proxy = {"X-Forwarded-Host": "hub.example.com", "X-Forwarded-Proto": "https"}
        response = asyncio.run(post(internal, event, notification_url=public, headers=proxy))
    assert response.status_code == 401
    assert response.json()["hint"] == (
        f"the signature matches {public} but the catalog has {internal}: "
        f"set systems[square].settings.notification_url to {public}"
    )
    assert inbox.messages == {}
