"""A Square order the mapping refuses is a dead letter at once, with the reason; later orders of
the same location and the rest of a poll go on. Through the running hub, Square's stand-in
answering RetrieveOrder and SearchOrders."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.deliveries import DeliveryRecord
from expediter.engine.jobs import orders_between
from expediter.ledger.transfers import TransferOutcome
from expediter.model.location import Location
from expediter.runtime import Runtime
from expediter.sim.square_api import SquareStandIn, order_event, send_webhook
from expediter.web.app import create_app
from tests.clocks import SUITE_STARTED
from tests.connectors.square.support import ACCESS_TOKEN, SECRET_ENV, SIGNATURE_KEY, fixture_json

SQUARE_LOCATION = "D7AVYMEAPJ3A3"
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
WEBHOOK_URL = "http://hub.test/api/v1/webhooks/square"
NOW = SUITE_STARTED
CARD = "4539578763621486"


def square_order(order_id: str, minutes_ago: int, quantity: str = "1", note: str = "") -> dict[str, Any]:
    order = copy.deepcopy(fixture_json("RetrieveOrderResponse.json")["order"])
    stamp = (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    order.update(id=order_id, version=1, location_id=SQUARE_LOCATION, created_at=stamp, updated_at=stamp)
    order["line_items"][0]["quantity"] = quantity
    if note:
        order["line_items"][0]["note"] = note
    return order


def catalog(tmp_path: Path) -> Catalog:
    settings = {
        "signature_key": "env:EXPEDITER_TEST_SQUARE_KEY",
        "access_token": "env:EXPEDITER_TEST_SQUARE_TOKEN",
        "notification_url": WEBHOOK_URL,
        "base_url": "http://square.test",
        "locations": {SQUARE_LOCATION: LOCATION.id},
    }
    return Catalog(
        # Square posts to the hub's public URL; its host is one of the names the hub answers to.
        hub=HubSettings(database=str(tmp_path / "hub.db"), public_url="http://hub.test"),
        locations=[LOCATION],
        systems=[System(id="square", kind=SystemKind.POS, connector="square", owner="GM", settings=settings)],
    )


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


@asynccontextmanager
async def hub_with(tmp_path: Path, square: SquareStandIn) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    runtime = Runtime(catalog(tmp_path), schedule=False, watch=False)
    runtime.hub.services.http_transport = square.transport()
    await runtime.start()
    app = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
    try:
        async with httpx.AsyncClient(transport=app, base_url="http://hub.test") as client:
            yield runtime, client
    finally:
        await runtime.stop()


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 20
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def stored_ids(runtime: Runtime) -> list[str]:
    today = LOCATION.business_date_for(NOW)
    orders = await orders_between(runtime.hub, LOCATION.id, today - timedelta(days=1), today)
    return sorted(order.external_id or "" for order in orders)


async def dead(runtime: Runtime) -> list[DeliveryRecord]:
    return await runtime.hub.deliveries.dead_letters()


def test_a_refused_webhook_order_is_a_dead_letter_at_once_and_the_lane_goes_on(tmp_path: Path) -> None:
    square = SquareStandIn(access_token=ACCESS_TOKEN)
    square.put_order(square_order("BAD", 4, quantity="NaN"))
    square.put_order({**square_order("ZERO", 3), "version": 0})
    square.put_order(square_order("GOOD", 2))

    async def scenario() -> None:
        async with hub_with(tmp_path, square) as (runtime, client):
            with structlog.testing.capture_logs() as logs:
                for order_id in ("BAD", "ZERO", "GOOD"):
                    event = order_event(square.orders[order_id], "order.created")
                    answer = await send_webhook(client, WEBHOOK_URL, event, signature_key=SIGNATURE_KEY)
                    assert answer.status_code == 202, answer.text

                async def settled() -> bool:
                    return await stored_ids(runtime) == ["GOOD"] and len(await dead(runtime)) == 2

                await until(settled, "GOOD stored, BAD and ZERO dead")
            nan, zero = sorted(await dead(runtime), key=lambda letter: letter.message_id)
        assert {nan.attempts, zero.attempts} == {1} and nan.flow_id == zero.flow_id == "square#process"
        assert "Square order BAD version 1" in nan.last_error
        assert "quantity NaN" in nan.last_error and "$.lines[0].quantity" in nan.last_error
        assert "Square order ZERO version 0" in zero.last_error and "$.version" in zero.last_error
        assert not [entry for entry in logs if entry.get("exc_info") or entry["log_level"] == "error"]

    asyncio.run(scenario())


def test_a_poll_goes_on_past_a_refused_order_which_becomes_a_dead_letter(tmp_path: Path) -> None:
    square = SquareStandIn(access_token=ACCESS_TOKEN)
    square.put_order(square_order("EARLY", 4))
    square.put_order(square_order("BAD", 3, quantity="Infinity"))
    square.put_order(square_order("CARD", 2, note=f"pay with {CARD}"))
    square.put_order(square_order("LATE", 1))

    async def scenario() -> None:
        async with hub_with(tmp_path, square) as (runtime, _):
            window = timedelta(minutes=10)
            # EARLY and LATE, and BAD as it came; then the next poll finds nothing new.
            assert await runtime.poll_once("square", window=window, now=NOW) == 3
            assert await runtime.poll_once("square", window=window, now=NOW) == 0

            async def refused() -> bool:
                return len(await dead(runtime)) == 1

            await until(refused, "the refused order's processing dead")
            [letter] = await dead(runtime)
            polls = await runtime.hub.ledger.transfers(flow_id="square#poll")
            assert await stored_ids(runtime) == ["EARLY", "LATE"]
        assert letter.attempts == 1 and "Square order BAD version 1" in letter.last_error
        assert "$.lines[0].quantity" in letter.last_error
        assert [t.outcome for t in polls] == [TransferOutcome.SUCCEEDED] * 2
        assert all("square:CARD:1" in t.error and "card number" in t.error for t in polls)
        assert all(CARD not in t.error for t in polls)

    asyncio.run(scenario())


def test_a_card_number_in_a_fetched_order_is_never_stored(tmp_path: Path) -> None:
    square = SquareStandIn(access_token=ACCESS_TOKEN)
    square.put_order(square_order("CARD", 2, note=f"card {CARD[:4]}-{CARD[4:8]}-{CARD[8:12]}-{CARD[12:]}"))

    async def scenario() -> list[DeliveryRecord]:
        async with hub_with(tmp_path, square) as (runtime, client):
            event = order_event(square.orders["CARD"], "order.created")
            answer = await send_webhook(client, WEBHOOK_URL, event, signature_key=SIGNATURE_KEY)
            assert answer.status_code == 202, answer.text

            async def refused() -> bool:
                return len(await dead(runtime)) == 1

            await until(refused, "the order with a card number refused")
            assert await stored_ids(runtime) == []
            return await dead(runtime)

    [letter] = asyncio.run(scenario())
    assert "card number" in letter.last_error and "$.lines[0].notes" in letter.last_error
    for name in ("hub.db", "hub.db-wal"):
        data = (tmp_path / name).read_bytes() if (tmp_path / name).exists() else b""
        assert CARD.encode() not in data and CARD[12:].encode() + b"-" not in data


def test_a_signed_square_webhook_that_is_not_utf8_is_400(tmp_path: Path) -> None:
    square = SquareStandIn(access_token=ACCESS_TOKEN)

    async def scenario() -> None:
        async with hub_with(tmp_path, square) as (runtime, client):
            body = b'{"type": "order.created", "event_id": "caf\xe9", "data": {}}'
            answer = await send_webhook(client, WEBHOOK_URL, body, signature_key=SIGNATURE_KEY)
            assert answer.status_code == 400, answer.text
            assert "UTF-8" in answer.json()["error"]
            assert await runtime.hub.inbox.count() == 0

    asyncio.run(scenario())
