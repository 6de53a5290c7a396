"""Connecting to the cluster: every server listed, reconnecting for as long as the hub runs."""

from __future__ import annotations

from typing import Any

from expediter.engine.bus.settings import BusSettings

CONNECT_TIMEOUT = 2.0
RECONNECT_WAIT = 0.25
"""Seconds between attempts to reach another server once the connected one is lost."""


async def connect(settings: BusSettings, name: str = "expediter") -> Any:
    """A connected ``nats.aio.client.Client`` (``nats-py``, the ``nats`` extra)."""
    import nats

    options: dict[str, Any] = {
        "servers": settings.servers,
        "name": name,
        "connect_timeout": CONNECT_TIMEOUT,
        "reconnect_time_wait": RECONNECT_WAIT,
        "max_reconnect_attempts": -1,
        "allow_reconnect": True,
    }
    if settings.token:
        options["token"] = settings.token
    return await nats.connect(**options)
