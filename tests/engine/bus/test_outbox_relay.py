"""The outbox and the relay on a real NATS JetStream server: a message accepted is published once,
in order, under its stable id; a message accepted while the bus is away waits and follows; two
hubs on one database have one publishing relay; the streams hold only what the outbox recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from expediter.catalog.schema import Bus
from expediter.engine.bus.outbox import mark_unpublished, pending_count
from expediter.engine.bus.relay import MSG_ID
from expediter.engine.bus.settings import BusSettings
from expediter.engine.hub import Hub
from expediter.engine.storage.base import Tx
from tests.engine.helpers import TEST_CONNECTORS, eventually, order_message, sample_catalog
from tests.nats_servers import NatsCluster

pytestmark = pytest.mark.service


def bus_catalog(database: str, nats: NatsCluster, **bus: Any) -> Any:
    catalog = sample_catalog(database)
    catalog.hub.bus = Bus(url=nats.url, replicas=len(nats.servers), **bus)
    return catalog


async def stream_messages(hub: Hub, subject: str = "expediter.orders.*") -> list[Any]:
    """Every message of the messages stream on ``subject``, in stream order."""
    assert hub.bus is not None and hub.bus.js is not None
    js = hub.bus.js
    info = await js.stream_info(hub.bus.settings.messages_stream)
    found = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            stored = await js.get_msg(hub.bus.settings.messages_stream, sequence)
        except Exception:  # a deleted sequence
            continue
        if stored.subject.startswith(subject.rstrip("*")):
            found.append(stored)
    return found


async def all_published(hub: Hub) -> bool:
    return await hub.storage.read(pending_count) == 0


def test_accepted_messages_are_published_once_in_order_per_location(
    database: str, nats_server: NatsCluster
) -> None:
    async def scenario() -> None:
        catalog = bus_catalog(database, nats_server)
        async with Hub(catalog, database, connectors=TEST_CONNECTORS, deliver=False) as hub:
            for n in range(1, 21):
                await hub.inbox.accept(order_message(n, "L1" if n % 2 else "L2"))
            again = await hub.inbox.accept(order_message(3, "L1"))
            assert again.duplicate
            await eventually(lambda: all_published(hub))
            stored = await stream_messages(hub)
        ids = [m.headers[MSG_ID] for m in stored]
        assert ids == [f"pos:order-{n}:1" for n in range(1, 21)]  # each once, in acceptance order
        by_subject = {m.subject for m in stored}
        assert by_subject == {"expediter.orders.L1", "expediter.orders.L2"}
        assert [msgspec.json.decode(m.data)["n"] for m in stored if m.subject.endswith("L2")] == list(
            range(2, 21, 2)
        )

    asyncio.run(scenario())


def test_a_republication_is_dropped_by_the_server_as_a_duplicate(
    database: str, nats_server: NatsCluster
) -> None:
    """A relay that died after the stream's acknowledgement and before marking its row: the next
    one publishes the row again, and the stream still holds it once."""

    async def scenario() -> None:
        async with Hub(
            bus_catalog(database, nats_server), database, connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            await hub.inbox.accept(order_message(1))
            await eventually(lambda: all_published(hub))

            def forget(tx: Tx) -> None:
                mark_unpublished(tx, [int(r["id"]) for r in tx.all("SELECT id FROM outbox")])

            await hub.storage.write(forget)
            assert hub.bus is not None and hub.bus.relay is not None
            hub.bus.relay.wake()
            await eventually(lambda: all_published(hub))
            assert len(await stream_messages(hub)) == 1

    asyncio.run(scenario())


def test_messages_accepted_while_the_bus_is_away_wait_and_follow(
    database: str, nats_server: NatsCluster
) -> None:
    async def scenario() -> None:
        async with Hub(
            bus_catalog(database, nats_server), database, connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            await hub.inbox.accept(order_message(1))
            await eventually(lambda: all_published(hub))
            nats_server.servers[0].stop()
            for n in range(2, 6):
                assert not (await hub.inbox.accept(order_message(n))).duplicate  # acknowledged all the same
            assert await hub.storage.read(pending_count) >= 1
            nats_server.servers[0].start()
            await eventually(lambda: all_published(hub))
            stored = await stream_messages(hub)
        assert [m.headers[MSG_ID] for m in stored] == [f"pos:order-{n}:1" for n in range(1, 6)]

    asyncio.run(scenario())


def test_a_hub_starts_while_the_bus_is_down_and_publishes_once_it_is_up(
    database: str, nats_server: NatsCluster
) -> None:
    async def scenario() -> None:
        nats_server.servers[0].stop()
        async with Hub(
            bus_catalog(database, nats_server), database, connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            await hub.inbox.accept(order_message(1))
            assert hub.bus is not None and not hub.bus.connected.is_set()
            nats_server.servers[0].start()
            await eventually(lambda: all_published(hub))
            assert len(await stream_messages(hub)) == 1

    asyncio.run(scenario())


def test_two_hubs_on_one_database_have_one_publishing_relay(database: str, nats_server: NatsCluster) -> None:
    async def scenario() -> None:
        catalog = bus_catalog(database, nats_server)
        async with (
            Hub(catalog, database, connectors=TEST_CONNECTORS, deliver=False) as first,
            Hub(catalog, database, connectors=TEST_CONNECTORS, deliver=False) as second,
        ):
            assert first.bus is not None and second.bus is not None
            await eventually(lambda: first.bus.relay is not None and first.bus.relay.active)  # type: ignore[union-attr]
            assert second.bus.relay is not None and not second.bus.relay.active
            for n in range(1, 11):
                await (first if n % 2 else second).inbox.accept(order_message(n))
            await eventually(lambda: all_published(first))
            assert len(await stream_messages(first)) == 10
            await first.stop()  # the relay lock is freed: the other hub's relay takes over
            await second.inbox.accept(order_message(11))
            await eventually(lambda: all_published(second))
            assert second.bus.relay.active
            assert [m.headers[MSG_ID] for m in await stream_messages(second)][-1] == "pos:order-11:1"

    asyncio.run(scenario())


def test_bus_settings_take_a_list_or_a_comma_string_and_resolve_a_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_NATS_PASSWORD", "s3cret/x")
    as_string = BusSettings.from_bus(
        Bus(url="nats://a:4222, nats://hub:env:EXPEDITER_TEST_NATS_PASSWORD@b:4222")
    )
    assert as_string.servers == ["nats://a:4222", "nats://hub:s3cret%2Fx@b:4222"]
    as_list = BusSettings.from_bus(Bus(url=["nats://a:4222", "nats://b:4222"], stream_prefix="ACME_"))
    assert as_list.servers == ["nats://a:4222", "nats://b:4222"]
    assert as_list.messages_stream == "ACME_MESSAGES"
    assert as_list.message_subject("orders", "Down town.1") == "expediter.orders.Down_town_1"
    assert as_list.kitchen_subject("L1", "grill") == "expediter.kitchen.L1.grill"
