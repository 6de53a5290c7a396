"""The KDS JSON API and pages through the real Starlette stack (httpx's ASGI transport)."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from starlette.applications import Starlette

from expediter.operations.kitchen import Kitchen, ticket_id_for
from expediter.web.kds import kitchen_routes
from tests.operations.kitchen.helpers import Emitted, line, make_kitchen, order

Scenario = Callable[[Kitchen, httpx.AsyncClient], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario, emitted: Emitted | None = None) -> None:
    async def main() -> None:
        kitchen = make_kitchen(tmp_path, emitted)
        await kitchen.start()
        app = Starlette(routes=kitchen_routes(kitchen, ["loc-1"]))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://kds") as client:
                await scenario(kitchen, client)
        finally:
            await kitchen.stop()

    asyncio.run(main())


def test_list_start_bump_recall_through_the_api(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        await kitchen.receive(order())
        grill = ticket_id_for("o-1", "grill")
        body = (await client.get("/api/v1/kds/grill/tickets")).json()
        assert [t["id"] for t in body["tickets"]] == [grill]
        assert body["all_day"] == {"Classic Burger": "1"}
        assert (body["yellow_seconds"], body["red_seconds"], body["seq"]) == (300, 600, 1)
        started = await client.post(f"/api/v1/kds/grill/tickets/{grill}/start")
        assert started.json()["state"] == "in_progress"
        bumped = await client.post(f"/api/v1/kds/grill/tickets/{grill}/bump")
        assert bumped.json()["state"] == "bumped"
        assert (await client.get("/api/v1/kds/grill/tickets")).json()["tickets"] == []
        recalled = await client.post(f"/api/v1/kds/grill/tickets/{grill}/recall")
        assert recalled.json()["state"] == "in_progress"
        again = await client.post(f"/api/v1/kds/grill/tickets/{grill}/recall")
        assert again.status_code == 409
        assert "not bumped" in again.json()["error"]

    run(tmp_path, scenario)


def test_unknown_ticket_and_station_are_404(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        await kitchen.receive(order())
        wrong_station = await client.post(f"/api/v1/kds/fry/tickets/{ticket_id_for('o-1', 'grill')}/bump")
        assert wrong_station.status_code == 404
        assert (await client.get("/kds/bad%20name")).status_code == 404

    run(tmp_path, scenario)


def test_recall_last_bumped_with_no_ticket_id(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        await kitchen.receive(order())
        assert (await client.post("/api/v1/kds/grill/recall")).status_code == 409
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        recalled = await client.post("/api/v1/kds/grill/recall")
        assert recalled.json()["id"] == ticket_id_for("o-1", "grill")

    run(tmp_path, scenario)


def test_fire_a_course_through_the_api(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        await kitchen.receive(
            order(lines=[line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)])
        )
        assert (await client.get("/api/v1/kds/grill/tickets")).json()["tickets"] == []
        fired = await client.post("/api/v1/kds/fire", json={"order_id": "o-1", "course": 2})
        assert sorted(t["station"] for t in fired.json()["tickets"]) == ["expo", "grill"]
        assert len((await client.get("/api/v1/kds/grill/tickets")).json()["tickets"]) == 1
        unknown = await client.post("/api/v1/kds/fire", json={"order_id": "nope", "course": 2})
        assert unknown.status_code == 404
        bad = await client.post("/api/v1/kds/fire", json={"order_id": "o-1"})
        assert bad.status_code == 422
        assert "course" in bad.json()["error"]

    run(tmp_path, scenario)


def test_eighty_six_through_the_api(tmp_path: Path) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        off = await client.post(
            "/api/v1/kds/availability", json={"location_id": "loc-1", "key": "1101", "available": False}
        )
        assert off.json()["changed"] is True
        assert not kitchen.is_available("loc-1", "1101")
        listed = (await client.get("/api/v1/kds/availability?location_id=loc-1")).json()
        assert listed == {"unavailable": [{"location_id": "loc-1", "key": "1101"}]}

    run(tmp_path, scenario, emitted)
    assert [m.kind for m in emitted.messages] == ["availability"]


def test_screen_page_and_assets_come_from_the_hub(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        page = await client.get("/kds/grill")
        assert page.status_code == 200
        assert 'data-station="grill"' in page.text
        assert 'src="/static/kds.js"' in page.text
        assert "http" not in page.text.split("<body>")[1]  # nothing from outside the hub
        js = await client.get("/static/kds.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert "EventSource" in js.text
        css = await client.get("/static/kds.css")
        assert css.headers["content-type"].startswith("text/css")
        index = await client.get("/kds")
        assert 'href="/kds/expo"' in index.text

    run(tmp_path, scenario)


def test_a_page_of_another_site_cannot_86_an_item(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        body = b'{"location_id": "loc-1", "key": "1101", "available": false}'
        evil = await client.post(
            "/api/v1/kds/availability",
            content=body,
            headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
        )
        assert evil.status_code == 403 and kitchen.is_available("loc-1", "1101")
        ours = await client.post(
            "/api/v1/kds/availability",
            content=body,
            headers={"Origin": "http://kds", "Content-Type": "application/json"},
        )
        assert ours.status_code == 200 and not kitchen.is_available("loc-1", "1101")

    run(tmp_path, scenario)


def test_an_86_key_of_100_kb_is_refused_and_not_kept(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen, client: httpx.AsyncClient) -> None:
        huge = {"location_id": "loc-1", "key": "k" * 100_000, "available": False}
        refused = await client.post("/api/v1/kds/availability", json=huge)
        assert refused.status_code == 422
        assert "$.key" in refused.json()["error"]
        assert kitchen.unavailable() == []
        empty = await client.post("/api/v1/kds/fire", json={"order_id": "", "course": 1})
        assert empty.status_code == 422

    run(tmp_path, scenario)
