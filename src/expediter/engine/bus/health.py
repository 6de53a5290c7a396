"""The bus's health, for ``expediter status`` (a health source) and ``expediter bus status``."""

from __future__ import annotations

from typing import Any

import msgspec

from expediter.engine.bus.outbox import pending_count
from expediter.monitor.status import HealthSource, SourceHealth, StatusContext
from expediter.storage.base import Storage


class BusHealth(msgspec.Struct, kw_only=True):
    configured: bool
    connected: bool = False
    connected_server: str | None = None
    servers: list[str] = []
    """The servers the client knows of (those configured and those the cluster announced)."""
    relay_active: bool = False
    """Whether this process is the group's publishing relay."""
    outbox_pending: int = 0
    """Stream lag: publications recorded in the database and not yet confirmed by the stream."""
    consumers_pending: dict[str, int] = {}
    """Per durable consumer (``<stream>/<name>``): messages the servers still hold for it."""
    streams: dict[str, int] = {}
    """Per stream: how many messages it holds."""
    last_error: str | None = None

    @property
    def healthy(self) -> bool:
        return not self.configured or (self.connected and self.last_error is None)


async def bus_health(storage: Storage, bus: Any = None) -> BusHealth:
    """The bus as this process sees it; ``bus`` is the running :class:`~.service.BusService`
    (``None``: the outbox's backlog only, e.g. from a command that does not connect)."""
    health = BusHealth(configured=bus is not None)
    health.outbox_pending = await storage.read(pending_count)
    if bus is None or bus.client is None:
        health.last_error = None if bus is None else bus.last_error
        return health
    client = bus.client
    health.connected = bool(client.is_connected)
    health.connected_server = str(client.connected_url.netloc) if client.connected_url else None
    health.servers = [str(server.netloc) for server in client.servers]  # the pool's URLs, parsed
    if bus.relay is not None:
        health.relay_active = bus.relay.active
        health.last_error = bus.relay.last_error
    for stream in (bus.settings.messages_stream, bus.settings.kitchen_stream):
        try:
            info = await bus.js.stream_info(stream)
            consumers = await bus.js.consumers_info(stream)
        except Exception as exc:
            health.last_error = health.last_error or f"{type(exc).__name__}: {exc}"
            continue
        health.streams[stream] = int(info.state.messages)
        for consumer in consumers:
            pending = int(consumer.num_pending or 0) + int(consumer.num_ack_pending or 0)
            health.consumers_pending[f"{stream}/{consumer.name}"] = pending
    return health


def health_source(health: BusHealth) -> SourceHealth:
    """The bus as one of ``expediter status``'s health sources."""
    if not health.configured:
        return SourceHealth(name="message bus", healthy=True, detail="no [hub.bus]: one hub, no bus")
    where = f"connected to {health.connected_server}" if health.connected else "not connected"
    facts = {
        "servers": ", ".join(health.servers) or "-",
        "outbox pending": str(health.outbox_pending),
        "relay here": "yes" if health.relay_active else "no",
        **{f"stream {name}": str(count) for name, count in health.streams.items()},
        **{f"pending {name}": str(count) for name, count in health.consumers_pending.items()},
    }
    detail = where if health.last_error is None else f"{where}; {health.last_error}"
    return SourceHealth(name="message bus", healthy=health.healthy, detail=detail, facts=facts)


def running_bus_source(storage: Storage, bus: Any) -> HealthSource:
    """A health source reading the bus of this running process (``GET /api/v1/status``)."""

    async def message_bus(context: StatusContext) -> SourceHealth:
        return health_source(await bus_health(storage, bus))

    return message_bus
