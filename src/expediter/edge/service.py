"""The edge as a part of a running hub: its NATS server and its links, started and stopped together."""

from __future__ import annotations

from expediter.catalog.paths import catalog_folder
from expediter.catalog.schema import Catalog, Edge
from expediter.edge.links import EdgeLinks
from expediter.edge.server import LeafServer
from expediter.engine.hub import Hub


class EdgeService:
    """``[edge]``: the restaurant's own NATS server (a leaf node of the group's) and the links."""

    def __init__(self, hub: Hub, catalog: Catalog, edge: Edge) -> None:
        base = catalog_folder(catalog)
        self.server = LeafServer(edge, base / edge.nats_dir, base)
        self.links = EdgeLinks(hub, edge, self.server)

    async def start(self) -> None:
        await self.server.start()
        try:
            await self.links.start()
        except BaseException:
            await self.server.stop()
            raise

    async def stop(self) -> None:
        await self.links.stop()
        await self.server.stop()
