"""The kitchen's station events on the bus: every event once, in each station's order, under
``expediter.kitchen.<location>.<station>``; a publisher that starts again resumes after what the
stream holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import nats
import pytest
from starlette.applications import Starlette

from expediter.catalog.schema import Bus
from expediter.engine.bus.kitchen_commands import KitchenCommand, forward_command, serve_commands
from expediter.engine.bus.kitchen_feed import KITCHEN_SEQ, KitchenPublisher, read_station
from expediter.engine.bus.settings import BusSettings
from expediter.engine.bus.streams import ensure_streams
from expediter.model.location import Location
from expediter.operations.kitchen import Kitchen
from expediter.web.kds import ClosingFeeds, KdsWeb, kds_routes
from expediter.web.visibility import everything
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


def test_a_process_without_the_kitchen_serves_a_station_feed_from_the_stream(
    tmp_path: Path, nats_server: NatsCluster
) -> None:
    """A screen on another process of the group: every ticket of its station once, in order,
    then ``caught_up``, then the live events; one reconnecting with ``Last-Event-ID`` gets only
    what it missed."""
    settings = BusSettings.from_bus(Bus(url=nats_server.url, replicas=1))
    kitchen = make_kitchen(tmp_path, locations=[LOCATION])

    async def scenario(kitchen: Kitchen) -> None:
        client = await nats.connect(servers=nats_server.urls)
        try:
            js = client.jetstream()
            await ensure_streams(js, settings)
            publisher = KitchenPublisher(kitchen, js, settings)
            for n in range(1, 4):
                await kitchen.receive(order(f"o-{n}", [line("l-1", "Burger")]))
            await publisher.publish_new()
            bus = SimpleNamespace(js=js, settings=settings)
            screen = KdsWeb(lambda: None, lambda: [LOCATION.id], lambda: bus)
            feed = screen._bus_stream(bus, "grill", 0, everything)
            assert (await anext(feed)).startswith(b"retry:")
            first = [await anext(feed) for _ in range(4)]
            assert [chunk.split(b"\n")[0] for chunk in first] == [
                b"id: 1",
                b"id: 2",
                b"id: 3",
                b"event: caught_up",
            ]
            assert b'"order_id":"o-2"' in first[1]
            await kitchen.receive(order("o-4", [line("l-1", "Burger")]))  # live, after caught up
            await publisher.publish_new()
            live = await anext(feed)
            assert live.startswith(b"id: 4\nevent: ticket\n") and b'"order_id":"o-4"' in live
            await feed.aclose()

            resumed = read_station(js, settings, [LOCATION.id], "grill", 3, idle=5.0)
            mark = await anext(resumed)
            assert mark is not None and mark.caught_up is False and mark.seq == 4
            caught_up = await anext(resumed)
            assert caught_up is not None and caught_up.caught_up and caught_up.seq == 4
            await resumed.aclose()
        finally:
            await client.close()

    async def main() -> None:
        await kitchen.start()
        try:
            await scenario(kitchen)
        finally:
            await kitchen.stop()

    asyncio.run(main())


def test_a_station_feed_from_the_stream_ends_once_the_feeds_are_closed(
    tmp_path: Path, nats_server: NatsCluster
) -> None:
    """The server begins to stop: a feed waiting for its next event ends (its consumer gone), and
    one that starts after ends at once, as the kitchen's own feeds do."""
    settings = BusSettings.from_bus(Bus(url=nats_server.url, replicas=1))

    async def scenario() -> None:
        client = await nats.connect(servers=nats_server.urls)
        try:
            js = client.jetstream()
            await ensure_streams(js, settings)
            bus = SimpleNamespace(js=js, settings=settings)
            closing = ClosingFeeds()
            screen = KdsWeb(lambda: None, lambda: [LOCATION.id], lambda: bus, closing=closing)
            feed = screen._bus_stream(bus, "grill", 0, everything)
            assert (await anext(feed)).startswith(b"retry:")
            assert (await anext(feed)).startswith(b"event: caught_up")
            waiting = asyncio.ensure_future(anext(feed))  # nothing more: a ping in 15 s
            await asyncio.sleep(0)  # a turn of the loop: the feed starts waiting (it must end either way)
            closing.close()
            with pytest.raises(StopAsyncIteration):
                await waiting
            later = screen._bus_stream(bus, "grill", 0, everything)
            assert (await anext(later)).startswith(b"retry:")
            with pytest.raises(StopAsyncIteration):
                await anext(later)
        finally:
            await client.close()

    asyncio.run(scenario())


def test_a_screens_bump_on_another_process_reaches_the_kitchen_and_is_answered(
    tmp_path: Path, nats_server: NatsCluster
) -> None:
    settings = BusSettings.from_bus(Bus(url=nats_server.url, replicas=1))
    kitchen = make_kitchen(tmp_path, locations=[LOCATION])

    async def scenario(kitchen: Kitchen) -> None:
        owner = await nats.connect(servers=nats_server.urls)
        elsewhere = await nats.connect(servers=nats_server.urls)
        try:
            nobody = await forward_command(elsewhere, settings, bump_of("grill", "none"))
            assert nobody.status == 503  # no kitchen process answers yet
            await serve_commands(owner, settings, kitchen)
            tickets = await kitchen.receive(order("o-1", [line("l-1", "Burger")]))
            ticket = next(t for t in tickets if t.station == "grill")
            answer = await forward_command(elsewhere, settings, bump_of("grill", ticket.id))
            assert answer.status == 200 and answer.location_id == LOCATION.id
            assert answer.ticket is not None and answer.ticket["state"] == "bumped"
            assert (await kitchen.ticket(ticket.id)).state == "bumped"  # type: ignore[union-attr]
            missing = await forward_command(elsewhere, settings, bump_of("cold", ticket.id))
            assert missing.status == 404 and "no ticket" in missing.error
            hidden = KitchenCommand(action="recall", station="grill", ticket_id=ticket.id, locations=["L9"])
            assert (await forward_command(elsewhere, settings, hidden)).status == 404
            recalled = KitchenCommand(action="recall", station="grill", ticket_id=ticket.id)
            assert (await forward_command(elsewhere, settings, recalled)).status == 200
            assert (await kitchen.ticket(ticket.id)).state != "bumped"  # type: ignore[union-attr]

            # Through the KDS API of a process without the kitchen: the same bump, answered.
            bus = SimpleNamespace(client=elsewhere, js=None, settings=settings)

            def shared() -> Kitchen:  # the catalog's kitchen over the same database, never started
                return Kitchen(kitchen.store, settings=kitchen.settings, locations=[LOCATION])

            web = KdsWeb(lambda: None, lambda: [LOCATION.id], lambda: bus, shared)
            app = Starlette(routes=kds_routes(web))
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://kds") as http:
                bumped = await http.post(f"/api/v1/kds/grill/tickets/{ticket.id}/bump")
                assert bumped.status_code == 200 and bumped.json()["state"] == "bumped"
                unknown = await http.post("/api/v1/kds/grill/tickets/nope/bump")
                assert unknown.status_code == 404 and "no ticket" in unknown.json()["error"]

                # The screen's page and its tickets, from the process without the kitchen.
                page = await http.get("/kds/grill")
                assert page.status_code == 200 and "grill" in page.text
                assert (await http.get("/kds")).status_code == 200
                await kitchen.receive(order("o-2", [line("l-1", "Burger")]))
                listed = await http.get("/api/v1/kds/grill/tickets")
                assert listed.status_code == 200
                assert [t["order_id"] for t in listed.json()["tickets"]] == ["o-2"]

                # An 86 through it reaches the kitchen, and reads back from the database.
                off = {"location_id": LOCATION.id, "key": "burger", "available": False}
                eighty_six = await http.post("/api/v1/kds/availability", json=off)
                assert eighty_six.status_code == 200 and eighty_six.json()["changed"] is True
                assert not kitchen.is_available(LOCATION.id, "burger")
                listed_off = (await http.get("/api/v1/kds/availability")).json()["unavailable"]
                assert listed_off == [{"location_id": LOCATION.id, "key": "burger"}]
                recalled = await http.post("/api/v1/kds/grill/recall")
                assert recalled.status_code == 200 and recalled.json()["order_id"] == "o-1"
                fired = await http.post("/api/v1/kds/fire", json={"order_id": "o-2", "course": 1})
                assert fired.status_code == 200 and fired.json()["order_id"] == "o-2"

            await owner.close()  # no kitchen answers: a clear refusal
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://kds") as http:
                refused = await http.post("/api/v1/kds/availability", json=off)
                assert refused.status_code == 503 and "not answering" in refused.json()["error"]
        finally:
            await owner.close()
            await elsewhere.close()

    async def main() -> None:
        await kitchen.start()
        try:
            await scenario(kitchen)
        finally:
            await kitchen.stop()

    asyncio.run(main())


def bump_of(station: str, ticket_id: str) -> KitchenCommand:
    return KitchenCommand(action="bump", station=station, ticket_id=ticket_id)
