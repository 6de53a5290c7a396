"""Consumers apply a bus message once, redelivered or published again; reconciliation finds the
messages a stream lost and publishes them again, once."""

from __future__ import annotations

import asyncio

import pytest

from expediter.engine.bus.consumer import BusConsumer, BusMessage
from expediter.engine.bus.outbox import pending_count
from expediter.engine.bus.reconcile import reconcile
from expediter.engine.bus.relay import STABLE_ID
from expediter.engine.hub import Hub
from expediter.engine.storage.base import Tx
from tests.engine.bus.test_outbox_relay import all_published, bus_catalog, stream_messages
from tests.engine.helpers import TEST_CONNECTORS, eventually, order_message
from tests.nats_servers import NatsCluster

pytestmark = pytest.mark.service


def counting_consumer(hub: Hub, name: str = "tally") -> BusConsumer:
    """A consumer whose effect is one more row per message applied (in ``bus_inbox`` under the
    name ``<name>-effect``, keyed by message id and stream sequence): a doubled effect would show
    as a second row."""
    assert hub.bus is not None and hub.bus.js is not None

    def apply(tx: Tx, message: BusMessage) -> None:
        tx.execute(
            "INSERT INTO bus_inbox (consumer, msg_id, stream_seq, applied_at) VALUES (?, ?, ?, ?)",
            (f"{name}-effect", f"{message.msg_id}@{message.stream_seq}", message.stream_seq, "-"),
        )

    return BusConsumer(
        hub.storage,
        hub.bus.js,
        name=name,
        stream=hub.bus.settings.messages_stream,
        subject="expediter.orders.*",
        apply=apply,
    )


async def effects(hub: Hub, name: str = "tally") -> list[str]:
    rows = await hub.storage.read(
        lambda tx: tx.all(
            "SELECT msg_id FROM bus_inbox WHERE consumer = ? ORDER BY stream_seq", (f"{name}-effect",)
        )
    )
    return [str(row["msg_id"]).split("@")[0] for row in rows]


def test_a_durable_consumer_applies_each_message_once(database: str, nats_server: NatsCluster) -> None:
    async def scenario() -> None:
        async with Hub(
            bus_catalog(database, nats_server), database, connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            for n in range(1, 6):
                await hub.inbox.accept(order_message(n))
            await eventually(lambda: all_published(hub))
            consumer = counting_consumer(hub)
            while await consumer.run_once():
                pass
            assert await effects(hub) == [f"pos:order-{n}:1" for n in range(1, 6)]
            # The same message again (a lost acknowledgement redelivered): no second effect.
            first = (await stream_messages(hub))[0]
            redelivered = BusMessage(
                msg_id=first.headers[STABLE_ID],
                subject=first.subject,
                stream_seq=first.seq,
                payload=first.data,
            )
            assert not await consumer.handle(redelivered)
            assert consumer.skipped == 1 and consumer.applied == 5
            # A second process's consumer of the same durable name resumes where it was left.
            resumed = counting_consumer(hub)
            assert await resumed.run_once() == 0
            assert await effects(hub) == [f"pos:order-{n}:1" for n in range(1, 6)]
            assert await resumed.pending() == 0

    asyncio.run(scenario())


def test_reconciliation_publishes_the_messages_a_stream_lost_once(
    database: str, nats_server: NatsCluster
) -> None:
    async def scenario() -> None:
        async with Hub(
            bus_catalog(database, nats_server), database, connectors=TEST_CONNECTORS, deliver=False
        ) as hub:
            assert hub.bus is not None
            for n in range(1, 11):
                await hub.inbox.accept(order_message(n))
            await eventually(lambda: all_published(hub))
            js, stream = hub.bus.js, hub.bus.settings.messages_stream
            clean = await reconcile(hub.storage, js, hub.bus.settings)
            assert clean.checked == 10 and clean.missing == []
            for sequence in (3, 7):
                await js.delete_msg(stream, sequence)
            assert len(await stream_messages(hub)) == 8

            report = await reconcile(hub.storage, js, hub.bus.settings)
            assert report.checked == 10
            assert sorted(report.missing) == ["pos:order-3:1", "pos:order-7:1"]
            stored = sorted(m.headers[STABLE_ID] for m in await stream_messages(hub))
            assert stored == sorted(f"pos:order-{n}:1" for n in range(1, 11))
            again = await reconcile(hub.storage, js, hub.bus.settings)
            assert again.missing == [] and len(await stream_messages(hub)) == 10
            assert await hub.storage.read(pending_count) == 0
            # A consumer reading it all applies each message once, the re-published ones included.
            consumer = counting_consumer(hub, "after-gap")
            while await consumer.run_once():
                pass
            assert sorted(await effects(hub, "after-gap")) == stored

    asyncio.run(scenario())
