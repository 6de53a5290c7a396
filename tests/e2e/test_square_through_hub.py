"""Square through the running hub: a signed webhook is stored, the order fetched and stored once; the
polling fallback finds the order whose webhook never came, and the overlap stores nothing twice."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from expediter.catalog.schema import Catalog, System, SystemKind
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.jobs import orders_between
from expediter.ledger.transfers import TransferOutcome
from expediter.model import clock as hub_clock
from expediter.model.location import Location
from expediter.runtime import Runtime
from expediter.sim.square_api import SquareStandIn, order_event, send_webhook
from expediter.web.app import create_app
from tests.connectors.square.support import ACCESS_TOKEN, SECRET_ENV, SIGNATURE_KEY, fixture_json

SQUARE_LOCATION = "D7AVYMEAPJ3A3"
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
WEBHOOK_URL = "http://hub.test/api/v1/webhooks/square"


def _order(order_id: str, updated: datetime) -> dict[str, Any]:
    order = copy.deepcopy(fixture_json("RetrieveOrderResponse.json")["order"])
    stamp = updated.isoformat().replace("+00:00", "Z")
    order.update(id=order_id, version=1, location_id=SQUARE_LOCATION, created_at=stamp, updated_at=stamp)
    return order


def _catalog(tmp_path: Path, database: str) -> Catalog:
    settings = {
        "signature_key": "env:EXPEDITER_TEST_SQUARE_KEY",
        "access_token": "env:EXPEDITER_TEST_SQUARE_TOKEN",
        "notification_url": WEBHOOK_URL,
        "base_url": "http://square.test",
        "locations": {SQUARE_LOCATION: LOCATION.id},
        "poll_minutes": 5,
    }
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data"), allowed_hosts=["hub.test"]),
        locations=[LOCATION],
        systems=[System(id="square", kind=SystemKind.POS, connector="square", owner="GM", settings=settings)],
    )


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 15
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_webhook_and_polling_overlap_give_one_order_each(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    now = hub_clock.now().replace(microsecond=0)
    square = SquareStandIn(access_token=ACCESS_TOKEN)
    heard, missed = _order("HEARD", now - timedelta(minutes=2)), _order("MISSED", now - timedelta(minutes=1))
    square.put_order(heard)
    square.put_order(missed)

    async def scenario() -> None:
        runtime = Runtime(_catalog(tmp_path, database), schedule=False, watch=False)
        runtime.hub.services.http_transport = square.transport()
        await runtime.start()
        app = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
        # The orders are minutes old: near the day start they may fall on the day before.
        today, yesterday = (
            LOCATION.business_date_for(now),
            LOCATION.business_date_for(now) - timedelta(days=1),
        )
        try:
            async with httpx.AsyncClient(transport=app, base_url="http://localhost") as client:
                answer = await send_webhook(
                    client, WEBHOOK_URL, order_event(heard), signature_key=SIGNATURE_KEY
                )
                assert answer.status_code == 202, answer.text

            async def fetched() -> bool:
                return len(await orders_between(runtime.hub, LOCATION.id, yesterday, today)) == 1

            await _until(fetched, "the webhook's order fetched and stored")
            assert await runtime.poll_once("square", window=timedelta(minutes=10), now=now) == 1
            assert await runtime.poll_once("square", window=timedelta(minutes=10), now=now) == 0
            stored = await orders_between(runtime.hub, LOCATION.id, yesterday, today)
            polls = await runtime.hub.ledger.transfers(flow_id="square#poll")
        finally:
            await runtime.stop()
        assert sorted(o.external_id or "" for o in stored) == ["HEARD", "MISSED"]
        assert sorted(t.records for t in polls) == [0, 1]
        assert {t.outcome for t in polls} == {TransferOutcome.SUCCEEDED}

    asyncio.run(scenario())
