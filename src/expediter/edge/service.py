"""The edge as a part of a running hub: its NATS server and its links, started and stopped together."""

from __future__ import annotations

from expediter.catalog.paths import catalog_folder
from expediter.catalog.schema import Catalog, Edge
from expediter.edge.links import EdgeLinks
from expediter.edge.server import LeafServer
from expediter.edge.streams import edge_bus_settings
from expediter.edge.transfers import TransfersUp
from expediter.engine.bus.service import BusService
from expediter.engine.hub import Hub


class EdgeService:
    """``[edge]``: the restaurant's own NATS server (a leaf node of the group's) and the links."""

    def __init__(self, hub: Hub, catalog: Catalog, edge: Edge) -> None:
        base = catalog_folder(catalog)
        self.hub = hub
        self.location = edge.location
        self.server = LeafServer(edge, base / edge.nats_dir, base)
        settings = edge_bus_settings(edge.location, self.server.url)
        self.bus = BusService(settings, hub.storage, name="expediter-edge")
        self.links = EdgeLinks(hub, edge, self.server, self.bus)

    async def start(self) -> None:
        """The server, then the bus (its outbox records from now on; what was recorded before a
        restart is still pending and goes out first), then the links."""
        await self.server.start()
        try:
            self.hub.inbox.outbox = self.bus.outbox
            self.hub.ledger.watcher = TransfersUp(self.bus.outbox, self.bus.settings, self.location)
            await self.bus.start()
            kitchen = self.hub.services.kitchen
            if kitchen is not None:  # the station events go up too (the KITCHEN stream)
                self.bus.publish_kitchen(kitchen)
            await self.links.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await self.links.stop()
        await self.bus.stop()
        await self.server.stop()
