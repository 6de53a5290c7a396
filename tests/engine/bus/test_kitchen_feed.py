"""The kitchen's station events on the bus: every event once, in each station's order, under
``expediter.kitchen.<location>.<station>``; a publisher that starts again resumes after what the
stream holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from expediter.catalog.schema import Bus
from expediter.engine.bus.kitchen_feed import KITCHEN_SEQ, KitchenPublisher
from expediter.engine.bus.settings import BusSettings
from expediter.engine.bus.streams import ensure_streams
from expediter.model.location import Location
from expediter.operations.kitchen import Kitchen
from tests.nats_servers import NatsCluster
from tests.operations.kitchen.helpers import line, make_kitchen, order

pytestmark = pytest.mark.service
LOCATION = Location(id="loc-1", name="Downtown", timezone="America/New_York")


async def station_feed(js: Any, settings: BusSettings, station: str) -> list[dict[str, Any]]:
    """The station's events in the kitchen stream, in stream order, with their own numbers."""
    info = await js.stream_info(settings.kitchen_stream)
    found = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        stored = await js.get_msg(settings.kitchen_stream, sequence)
        if stored.subject == settings.kitchen_subject(LOCATION.id, station):
            event = msgspec.json.decode(stored.data)
            assert int(stored.headers[KITCHEN_SEQ]) == event["seq"]
            found.append(event)
    return found


def test_station_events_are_published_once_in_order_and_resume_after_a_restart(
    tmp_path: Path, nats_server: NatsCluster
) -> None:
    settings = BusSettings.from_bus(Bus(url=nats_server.url, replicas=1))
    kitchen = make_kitchen(tmp_path, locations=[LOCATION])

    async def scenario(kitchen: Kitchen) -> None:
        client = await nats.connect(servers=nats_server.urls)
        try:
            js = client.jetstream()
            await ensure_streams(js, settings)
            publisher = KitchenPublisher(kitchen, js, settings)
            for n in range(1, 4):
                await kitchen.receive(
                    order(f"o-{n}", [line("l-1", "Burger"), line("l-2", "Salad", "salads")])
                )
            assert await publisher.publish_new() > 0
            grill = await station_feed(js, settings, "grill")
            assert [event["seq"] for event in grill] == list(range(1, len(grill) + 1))
            assert [event["ticket"]["order_id"] for event in grill] == ["o-1", "o-2", "o-3"]
            assert await publisher.publish_new() == 0  # nothing new: nothing sent again

            ticket = next(t for t in kitchen.tickets_for("grill") if t.order_id == "o-1")
            await kitchen.bump("grill", ticket.id)
            again = KitchenPublisher(kitchen, js, settings)  # a publisher started anew
            assert await again.publish_new() == 1  # only the bump: it resumed after the stream
            grill = await station_feed(js, settings, "grill")
            assert [event["seq"] for event in grill] == list(range(1, len(grill) + 1))
            assert grill[-1]["ticket"]["order_id"] == "o-1" and grill[-1]["ticket"]["state"] == "bumped"
            assert {e["ticket"]["order_id"] for e in await station_feed(js, settings, "cold")} == {
                "o-1",
                "o-2",
                "o-3",
            }
        finally:
            await client.close()

    async def main() -> None:
        await kitchen.start()
        try:
            await scenario(kitchen)
        finally:
            await kitchen.stop()

    asyncio.run(main())
