"""The message bus in ``expediter status``: connected with its outbox and streams while a server
answers; unhealthy, with the outbox still counted, once it does not."""

from __future__ import annotations

import asyncio

import pytest

from expediter.commands.status import gather
from expediter.engine.bus.health import bus_health, health_source
from expediter.engine.hub import Hub
from tests.engine.bus.test_outbox_relay import all_published, bus_catalog
from tests.engine.helpers import TEST_CONNECTORS, eventually, order_message
from tests.nats_servers import NatsCluster

pytestmark = pytest.mark.service


def test_the_bus_is_a_health_source_of_the_status(database: str, nats_server: NatsCluster) -> None:
    catalog = bus_catalog(database, nats_server)

    async def scenario() -> None:
        async with Hub(catalog, database, connectors=TEST_CONNECTORS, deliver=False, relay=True) as hub:
            await hub.inbox.accept(order_message(1))
            await eventually(lambda: all_published(hub))
            running = health_source(await bus_health(hub.storage, hub.bus))
            assert running.healthy and running.name == "message bus"
            assert running.facts["outbox pending"] == "0" and running.facts["relay here"] == "yes"
            assert running.facts[f"stream {hub.bus.settings.messages_stream}"] == "1"  # type: ignore[union-attr]

            [seen] = [s for s in (await gather(catalog)).sources if s.name == "message bus"]
            assert seen.healthy and "connected to" in seen.detail

            nats_server.servers[0].stop()
            await eventually(lambda: _disconnected(hub))
            await hub.inbox.accept(order_message(2))  # acknowledged all the same: the outbox holds it
            away = health_source(await bus_health(hub.storage, hub.bus))
            assert not away.healthy and away.facts["outbox pending"] == "1"

    asyncio.run(scenario())


async def _disconnected(hub: Hub) -> bool:
    assert hub.bus is not None
    return hub.bus.client is None or not hub.bus.client.is_connected
