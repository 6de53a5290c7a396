"""The group's hub shows its restaurant edges: ``GET /api/v1/edges`` and the dashboard's panel,
from heartbeats on a real NATS server; a person sees only their locations' edges."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import nats
import pytest

from expediter.access.roles import Role
from expediter.catalog.schema import Catalog, GroupEdges
from expediter.catalog.schema import Hub as HubSettings
from expediter.edge.group import EdgeBoard
from expediter.edge.links import Heartbeat, LinkState
from expediter.edge.names import heartbeat_subject
from expediter.engine.hub import Hub
from expediter.model import clock
from expediter.model.location import Location
from expediter.web.app import create_app
from tests.nats_servers import NatsCluster
from tests.web.signin import signed_in

pytestmark = pytest.mark.service

LOCATIONS = [
    Location(id="L1", name="Downtown", timezone="America/New_York"),
    Location(id="L2", name="Uptown", timezone="America/New_York"),
]


def test_the_group_shows_each_edge_by_its_heartbeats(tmp_path: Path, nats_server: NatsCluster) -> None:
    group = GroupEdges(nats_url=nats_server.url, domain="hub")
    catalog = Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")), locations=LOCATIONS, group_edges=group
    )

    async def main() -> None:
        hub = Hub(catalog)
        board = EdgeBoard.from_catalog(catalog)
        assert board is not None and board.locations == ["L1", "L2"]
        await hub.start()
        await board.start()
        hub.services.extra["edge_board"] = board
        try:
            async with signed_in(hub, create_app(hub, manage_hub=False)) as (client, _):
                before = (await client.get("/api/v1/edges")).json()["edges"]
                assert [(e["location"], e["text"]) for e in before] == [
                    ("L1", "never seen"),
                    ("L2", "never seen"),
                ]
                await beat("L1")
                while (await client.get("/api/v1/edges")).json()["edges"][0]["state"] != "online":
                    await asyncio.sleep(0.05)  # the heartbeat on its way through the server
                page = await client.get("/")
                assert page.status_code == 200
                assert (
                    'id="edge-L1" class="edge-online"' in page.text and 'class="edge-never-seen"' in page.text
                )
                assert "<strong>Downtown</strong>" in page.text  # the location's name, as people say it
            async with signed_in(hub, create_app(hub, manage_hub=False), Role.VIEWER, ("L2",)) as (client, _):
                assert [e["location"] for e in (await client.get("/api/v1/edges")).json()["edges"]] == ["L2"]
                assert (await client.get("/api/v1/edge")).status_code == 404  # the group is no edge
        finally:
            await board.stop()
            await hub.stop()

    async def beat(location: str) -> None:
        async with await nats.connect(nats_server.url) as client:
            heartbeat = Heartbeat(
                location=location,
                at=clock.now(),
                link=LinkState.CONNECTED,
                offline_since=None,
                pending=0,
                up_sequence=0,
            )
            await client.publish(heartbeat_subject(location), msgspec.json.encode(heartbeat))
            await client.flush()

    asyncio.run(main())
