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


def _catalog(tmp_path: Path, pos_url: str, retry_limit: int) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
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


@pytest.mark.parametrize("retry_limit", [30, 2])
def test_pos_outage_then_recovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry_limit: int) -> None:
    """With a generous retry limit the backlog drains by itself; with a short one the orders become
    dead letters and a replay delivers them. Either way: each order once, in the order placed."""
    secret = secrets.token_urlsafe(16)
    monkeypatch.setenv(SECRET_ENV, secret)

    async def scenario() -> None:
        pos = PosStandIn()
        pos.go_down_for(3600)  # down until the test brings it back
        pos_server, port = await serve_in_background(pos.app(), 0)
        catalog = _catalog(tmp_path, f"http://127.0.0.1:{port}/orders", retry_limit)
        hub = Hub(catalog, retry=RetryPolicy(base=0.05, cap=0.2), poll_interval=0.05)
        runtime = Runtime(catalog, hub, schedule=False, watch=False)
        await runtime.start()
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                bodies = _payloads(5)
                for body in bodies:
                    answer = await client.post(
                        "/api/v1/webhooks/online", content=body, headers=signed_headers(secret, body)
                    )
                    assert answer.status_code == 202
            await _check_outage(
                hub, pos, retry_limit, [msgspec.json.decode(b)["external_id"] for b in bodies]
            )
        finally:
            await runtime.stop()
            await stop_server(pos_server)

    asyncio.run(scenario())


async def _check_outage(hub: Hub, pos: PosStandIn, retry_limit: int, placed: list[str]) -> None:
    async def retried() -> bool:
        failed = await hub.ledger.transfers(flow_id="online-to-pos")
        return len([t for t in failed if t.outcome in (TransferOutcome.RETRYING, TransferOutcome.DEAD)]) >= 2

    await _until(retried, "failed attempts in the ledger")
    if retry_limit == 2:

        async def all_dead() -> bool:
            return len(await hub.deliveries.dead_letters("online-to-pos")) == len(placed)

        await _until(all_dead, "every order parked as a dead letter")
        dead = await hub.deliveries.dead_letters("online-to-pos")
        assert all("503" in d.last_error for d in dead)
    pos.down_until = 0  # the POS is back
    if retry_limit == 2:
        assert await hub.deliveries.replay_flow("online-to-pos") == len(placed)

    async def delivered() -> bool:
        # The POS answers before the hub records the delivery: wait for the ledger, not the POS.
        transfers = await hub.ledger.transfers(flow_id="online-to-pos", limit=1000)
        return [t.outcome for t in transfers].count(TransferOutcome.SUCCEEDED) == len(placed)

    await _until(delivered, "every delivery recorded as succeeded")
    received = [r.body["external_id"] for r in pos.received if r.path == "/orders"]
    assert received == placed  # once each, in the order they were placed
    assert await hub.deliveries.dead_letters("online-to-pos") == []
