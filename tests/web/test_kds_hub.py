"""The kitchen wired into the real hub: POST /api/v1/orders → inbox → kds sink → ticket on a screen's
feed; a bump at the pass (a paired screen) → ``ticket_status`` back into the hub's inbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from expediter.catalog.schema import ApiToken, Catalog, Flow, Level, Mappings, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.catalog.secrets import hash_token
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.engine.lanes import DeliveryState
from expediter.model.location import Location
from expediter.operations.kitchen import Kitchen, KitchenStore, ticket_id_for
from expediter.plugin.base import IncomingMessage
from expediter.web.app import create_app
from tests.engine.helpers import eventually
from tests.operations.kitchen.helpers import order
from tests.web.signin import client_for, pair_screen

TOKEN = "kds-hub-test-token"


def catalog(tmp_path: Path) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
        locations=[Location(id="loc-1", name="Downtown", timezone="America/New_York")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="kds",
                kind=SystemKind.KDS,
                connector="kds",
                owner="chef",
                settings={"stations": {"grill": {"yellow_seconds": 90, "red_seconds": 180}}},
            ),
        ],
        flows=[
            Flow(
                id="pos-kds",
                from_="pos",
                to="kds",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="chef",
            )
        ],
        api_tokens=[ApiToken(name="pos", sha256=hash_token(TOKEN), systems=["pos"])],
        mappings=Mappings(stations={"burgers": ["grill"], "sides": ["fry"]}),
    )


def test_order_posted_to_the_hub_reaches_the_screen_and_ready_goes_back(tmp_path: Path) -> None:
    emitted: list[tuple[IncomingMessage, bool]] = []

    async def main() -> None:
        cat = catalog(tmp_path)
        hub = Hub(cat, poll_interval=0.05)

        async def emit(message: IncomingMessage) -> None:
            accepted = await hub.inbox.accept(message)
            emitted.append((message, accepted.duplicate))

        kitchen = Kitchen.from_catalog(cat, KitchenStore(hub.storage), emit=emit)
        hub.services.kitchen = kitchen
        hub.services.availability = kitchen
        app = create_app(hub, manage_hub=False)
        await hub.start()
        await kitchen.start()
        screen = kitchen.subscribe("grill")
        try:
            async with client_for(app) as client:
                csrf = await pair_screen(hub, client, "grill", "loc-1", ("grill", "fry"))
                body = msgspec.json.encode(msgspec.structs.replace(order("o-1"), source_system="pos"))
                headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
                posted = await client.post("/api/v1/orders", content=body, headers=headers)
                assert posted.status_code == 202, posted.text
                event = await asyncio.wait_for(screen.queue.get(), 10)
                assert event is not None and event.ticket.order_id == "o-1"
                assert kitchen.timing("grill").yellow_seconds == 90
                for station in ("grill", "fry"):
                    tid = ticket_id_for("o-1", station)
                    bumped = await client.post(
                        f"/api/v1/kds/{station}/tickets/{tid}/bump", headers={"X-CSRF-Token": csrf}
                    )
                    assert bumped.status_code == 200
        finally:
            kitchen.unsubscribe(screen)
            await kitchen.stop()
            await hub.stop()

    asyncio.run(main())
    [(status, duplicate)] = emitted
    assert (status.kind, status.source_system, status.idempotency_key) == (
        "ticket_status",
        "kds",
        "kds:o-1:ready:1",
    )
    assert duplicate is False


REFUSE_O3 = (
    "CREATE TRIGGER refuse_o3 BEFORE INSERT ON kitchen_orders WHEN NEW.order_id = 'o-3'"
    " BEGIN SELECT RAISE(ABORT, 'the disk refused it'); END"
)


def test_a_kitchen_write_the_database_refuses_goes_again_first_and_the_lane_keeps_its_order(
    tmp_path: Path,
) -> None:
    """A lane hands over its next order before the previous one is written: when that write
    fails, neither it nor anything decided after it reaches the screens before it does."""
    shown: list[str] = []

    async def main() -> None:
        cat = catalog(tmp_path)
        hub = Hub(cat, poll_interval=0.05, retry=RetryPolicy(base=0.05, cap=0.2))
        kitchen = Kitchen.from_catalog(cat, KitchenStore(hub.storage))
        hub.services.kitchen = kitchen
        await hub.start()
        await kitchen.start()
        screen = kitchen.subscribe("grill")
        try:
            await hub.storage.write(lambda tx: tx.execute(REFUSE_O3))
            for n in range(1, 9):
                placed = msgspec.structs.replace(order(f"o-{n}"), source_system="pos")
                await hub.inbox.accept(
                    IncomingMessage(
                        source_system="pos",
                        kind="orders",
                        idempotency_key=f"pos:o-{n}",
                        payload=msgspec.json.encode(placed),
                        location_id="loc-1",
                    )
                )

            async def o3_refused() -> bool:
                records = await hub.deliveries.records(DeliveryState.RETRYING)
                return any(r.attempts >= 1 for r in records)

            await eventually(o3_refused)
            await hub.storage.write(lambda tx: tx.execute("DROP TRIGGER refuse_o3"))
            while len(shown) < 8:
                event = await asyncio.wait_for(screen.queue.get(), 30)
                assert event is not None
                shown.append(event.ticket.order_id)

            async def all_delivered() -> bool:
                records = await hub.deliveries.records()
                return len(records) == 8 and {r.state for r in records} == {DeliveryState.DELIVERED}

            await eventually(all_delivered)
        finally:
            kitchen.unsubscribe(screen)
            await kitchen.stop()
            await hub.stop()

    asyncio.run(main())
    assert shown == [f"o-{n}" for n in range(1, 9)]  # each once, in the order they were taken
