"""Connecting to the cluster: every server listed, reconnecting for as long as the hub runs."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from expediter.engine.bus.settings import BusSettings

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT = 2.0
RECONNECT_WAIT = 0.25
"""Seconds between attempts to reach another server once the connected one is lost."""


async def _error(exc: Exception) -> None:
    log.warning("bus_connection_error", error=f"{type(exc).__name__}: {exc}")


async def connect(settings: BusSettings, name: str = "expediter") -> Any:
    """A connected ``nats.aio.client.Client`` (``nats-py``, the ``nats`` extra). Once connected it
    reconnects for ever; the first connection gives up after trying each server once
    (``TimeoutError``), so the caller decides when to try again."""
    from nats.aio.client import Client

    options: dict[str, Any] = {
        "servers": settings.servers,
        "name": name,
        "connect_timeout": CONNECT_TIMEOUT,
        "reconnect_time_wait": RECONNECT_WAIT,
        "max_reconnect_attempts": -1,
        "allow_reconnect": True,
        "error_cb": _error,
    }
    if settings.token:
        options["token"] = settings.token
    client = Client()
    try:
        await asyncio.wait_for(client.connect(**options), CONNECT_TIMEOUT * len(settings.servers) + 1)
    except BaseException:
        await client.close()
        raise
    return client
