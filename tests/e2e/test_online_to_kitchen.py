"""An online order, end to end through the running hub: signed webhook → stored raw → mapped →
kitchen screens and the POS → bumped at the pass → "ready" back to the marketplace; then an 86."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.connectors.online.signature import signed_headers
from expediter.demo.run import serve_in_background, stop_server
from expediter.engine.jobs import orders_between
from expediter.model import clock as hub_clock
from expediter.runtime import Runtime
from expediter.sim.locations import sim_location
from expediter.sim.online import iter_online_payloads
from expediter.sim.pos_standin import PosStandIn
from expediter.web.app import create_app

LOCATION = sim_location(1)
SECRET_ENV = "EXPEDITER_TEST_ONLINE_E2E_SECRET"


def _flow(flow_id: str, source: str, to: str, data: str) -> Flow:
    return Flow(
        id=flow_id, from_=source, to=to, data=data, level=Level.REALTIME, trigger=Trigger.EVENT, owner="GM"
    )


def _catalog(tmp_path: Path, database: str, pos_url: str) -> Catalog:
    online_settings = {
        "secret": f"env:{SECRET_ENV}",
        "status_url": f"{pos_url}/online/status",
        "availability_url": f"{pos_url}/online/availability",
    }
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(
                id="pos",
                kind=SystemKind.POS,
                connector="generic_pos",
                owner="GM",
                settings={"url": f"{pos_url}/orders"},
            ),
            System(
                id="online",
                kind=SystemKind.ONLINE_ORDERING,
                connector="online",
                owner="GM",
                settings=online_settings,
            ),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="Chef"),
        ],
        flows=[
            _flow("online-to-kitchen", "online", "kds", "orders"),
            _flow("online-to-pos", "online", "pos", "orders"),
            _flow("ready-to-online", "kds", "online", "ticket_status"),
            _flow("86-to-online", "kds", "online", "availability"),
        ],
        mappings=Mappings(stations={"Starters": ["fry"], "Burgers": ["grill"], "Entrees": ["grill"]}),
    )


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for the hub's background work (deliveries) to reach ``condition``; fail after 15 s."""
    deadline = asyncio.get_running_loop().time() + 15
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _online_order(number: int) -> dict[str, object]:
    payloads = list(iter_online_payloads(LOCATION, hub_clock.now().date(), seed=5, count=number + 1))
    payload = payloads[number][1]
    now = hub_clock.now().replace(microsecond=0)
    return payload | {"placed_at": now.isoformat(), "pickup_at": (now + timedelta(minutes=20)).isoformat()}


def test_online_order_reaches_kitchen_and_pos_and_ready_goes_back(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = secrets.token_urlsafe(16)
    monkeypatch.setenv(SECRET_ENV, secret)

    async def scenario() -> None:
        pos = PosStandIn()
        pos_server, pos_port = await serve_in_background(pos.app(), 0)
        runtime = Runtime(
            _catalog(tmp_path, database, f"http://127.0.0.1:{pos_port}"), schedule=False, watch=False
        )
        await runtime.start()
        transport = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                await _play(runtime, pos, client, secret)
        finally:
            await runtime.stop()
            await stop_server(pos_server)

    asyncio.run(scenario())


async def _play(runtime: Runtime, pos: PosStandIn, client: httpx.AsyncClient, secret: str) -> None:
    payload = _online_order(0)
    body = msgspec.json.encode(payload)
    answer = await client.post("/api/v1/webhooks/online", content=body, headers=signed_headers(secret, body))
    assert answer.status_code == 202, answer.text
    again = await client.post("/api/v1/webhooks/online", content=body, headers=signed_headers(secret, body))
    assert again.status_code == 200  # the marketplace retried: stored once

    kitchen = runtime.kitchen
    expo_tickets = lambda: kitchen.tickets_for("expo")  # noqa: E731

    async def on_screens() -> bool:
        return len(expo_tickets()) == 1

    await _until(on_screens, "the order on the expo screen")
    [expo] = expo_tickets()
    assert expo.guest or expo.order_number

    async def in_pos() -> bool:
        return pos.count("/orders") == 1

    await _until(in_pos, "the order entered into the POS")

    # Stored canonical, on today's business date: the nightly exports will find it.
    today = LOCATION.business_date_for(hub_clock.now())
    [stored] = await orders_between(runtime.hub, LOCATION.id, today, today)
    assert stored.external_id == payload["external_id"] and stored.source_system == "online"

    for station in kitchen.stations():
        if station != "expo":
            for ticket in kitchen.tickets_for(station):
                await kitchen.bump(station, ticket.id)

    async def told_ready() -> bool:
        return pos.count("/online/status") == 1

    await _until(told_ready, "the ready notice to the marketplace")
    [notice] = [r for r in pos.received if r.path == "/online/status"]
    assert notice.body["status"] == "ready" and notice.body["external_id"] == payload["external_id"]

    # 86 an item on the line: the marketplace hears of it, and an order with it is refused.
    item = _online_order(1)["items"][0]  # type: ignore[index]
    await kitchen.set_availability(LOCATION.id, item["plu"], False)

    async def told_86() -> bool:
        return pos.count("/online/availability") == 1

    await _until(told_86, "the 86 sent to the marketplace")
    refused_body = msgspec.json.encode(_online_order(1))
    refused = await client.post(
        "/api/v1/webhooks/online", content=refused_body, headers=signed_headers(secret, refused_body)
    )
    assert refused.status_code == 422 and item["name"] in refused.json()["error"]
