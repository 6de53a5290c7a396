"""The POS's own API down for a while, then back: every online order reaches it once, in order; the
ledger shows the retries, the dead letters say what gave up, and a replay finishes the job."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.connectors.online.signature import signed_headers
from expediter.demo.run import serve_in_background, stop_server
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.ledger.transfers import TransferOutcome
from expediter.model import clock as hub_clock
from expediter.runtime import Runtime
from expediter.sim.locations import sim_location
from expediter.sim.online import iter_online_payloads
from expediter.sim.pos_standin import PosStandIn
from expediter.web.app import create_app

LOCATION = sim_location(1)
SECRET_ENV = "EXPEDITER_TEST_OUTAGE_SECRET"


def _catalog(tmp_path: Path, database: str, pos_url: str, retry_limit: int | None) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(
                id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM", settings={"url": pos_url}
            ),
            System(
                id="online",
                kind=SystemKind.ONLINE_ORDERING,
                connector="online",
                owner="GM",
                settings={"secret": f"env:{SECRET_ENV}"},
            ),
        ],
        flows=[
            Flow(
                id="online-to-pos",
                from_="online",
                to="pos",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="GM",
                retry_limit=retry_limit,
            )
        ],
    )


async def _until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _payloads(count: int) -> list[bytes]:
    now = hub_clock.now().replace(microsecond=0)
    found = iter_online_payloads(LOCATION, now.date(), seed=9, count=count)
    stamp = {"placed_at": now.isoformat(), "pickup_at": (now + timedelta(minutes=20)).isoformat()}
    return [msgspec.json.encode(payload | stamp) for _, payload in found]


@pytest.mark.parametrize("retry_limit", [None, 2])
def test_pos_outage_then_recovery(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch, retry_limit: int | None
) -> None:
    """With the default retry budget the backlog drains by itself; with a short limit the first
    order becomes a dead letter that holds the lane (the later ones wait, even those placed after
    the POS is back) and a replay delivers it first. Either way: each order once, in the order placed."""
    secret = secrets.token_urlsafe(16)
    monkeypatch.setenv(SECRET_ENV, secret)

    async def scenario() -> None:
        pos = PosStandIn()
        pos.go_down_for(3600)  # down until the test brings it back
        pos_server, port = await serve_in_background(pos.app(), 0)
        catalog = _catalog(tmp_path, database, f"http://127.0.0.1:{port}/orders", retry_limit)
        hub = Hub(catalog, retry=RetryPolicy(base=0.05, cap=0.2), poll_interval=0.05)
        runtime = Runtime(catalog, hub, schedule=False, watch=False)
        await runtime.start()
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                bodies = _payloads(7)

                async def place(body: bytes) -> None:
                    answer = await client.post(
                        "/api/v1/webhooks/online", content=body, headers=signed_headers(secret, body)
                    )
                    assert answer.status_code == 202

                for body in bodies[:5]:
                    await place(body)
                await _check_outage(hub, pos, retry_limit, placed=5)
                for body in bodies[5:]:  # the POS is back: two more orders
                    await place(body)
                await _check_recovery(hub, pos, retry_limit, [_external_id(b) for b in bodies])
        finally:
            await runtime.stop()
            await stop_server(pos_server)

    asyncio.run(scenario())


def _external_id(body: bytes) -> str:
    external_id: str = msgspec.json.decode(body)["external_id"]
    return external_id


async def _check_outage(hub: Hub, pos: PosStandIn, retry_limit: int | None, placed: int) -> None:
    async def retried() -> bool:
        failed = await hub.ledger.transfers(flow_id="online-to-pos", outcome=TransferOutcome.FAILED)
        return len(failed) >= 2

    await _until(retried, "failed attempts in the ledger")
    if retry_limit is not None:

        async def head_dead() -> bool:
            return len(await hub.deliveries.dead_letters("online-to-pos")) == 1

        await _until(head_dead, "the first order parked as a dead letter")
        [dead] = await hub.deliveries.dead_letters("online-to-pos")
        assert "503" in dead.last_error and dead.holds_lane
        [waiting] = await hub.deliveries.waiting_lanes()
        assert waiting.head.id == dead.id and waiting.waiting == placed - 1
    else:
        assert await hub.deliveries.dead_letters() == []  # still retrying: no dead letter
    pos.down_until = 0  # the POS is back


async def _check_recovery(hub: Hub, pos: PosStandIn, retry_limit: int | None, placed: list[str]) -> None:
    if retry_limit is not None:  # the new orders wait behind the dead head; replay sends it first

        async def all_wait() -> bool:  # once processed, the new orders queue behind the head
            return [w.waiting for w in await hub.deliveries.waiting_lanes()] == [len(placed) - 1]

        await _until(all_wait, "the orders placed after the outage waiting behind the dead head")
        assert [r for r in pos.received if r.path == "/orders"] == []
        assert await hub.deliveries.replay_flow("online-to-pos") == 1

    async def delivered() -> bool:
        # The POS answers before the hub records the delivery: wait for the ledger, not the POS.
        transfers = await hub.ledger.transfers(flow_id="online-to-pos", limit=1000)
        return [t.outcome for t in transfers].count(TransferOutcome.SUCCEEDED) == len(placed)

    await _until(delivered, "every delivery recorded as succeeded")
    received = [r.body["external_id"] for r in pos.received if r.path == "/orders"]
    assert received == placed  # once each, in the order they were placed
    assert await hub.deliveries.dead_letters("online-to-pos") == []
