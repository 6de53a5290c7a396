"""The bus as a running hub holds it: one connection, the streams, the relay and the consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

from expediter.engine.bus.connection import connect
from expediter.engine.bus.consumer import BusConsumer
from expediter.engine.bus.outbox import Outbox
from expediter.engine.bus.relay import Relay
from expediter.engine.bus.settings import BusSettings
from expediter.engine.bus.streams import ensure_streams
from expediter.engine.storage.base import Storage

log = structlog.get_logger(__name__)


class BusService:
    """``start()`` connects, makes the streams and starts the relay; ``stop()`` ends them."""

    def __init__(self, settings: BusSettings, storage: Storage, *, name: str = "expediter") -> None:
        self.settings = settings
        self.storage = storage
        self.name = name
        self.client: Any = None
        self.js: Any = None
        self.relay: Relay | None = None
        self.outbox = Outbox(settings, on_recorded=self._wake_relay)
        self.consumers: list[BusConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self, *, relay: bool = True) -> None:
        self.client = await connect(self.settings, self.name)
        self.js = self.client.jetstream()
        await ensure_streams(self.js, self.settings)
        if relay:
            self.relay = Relay(self.storage, self.js)
            self.spawn(self.relay.run(), "bus-relay")

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.append(task)
        return task

    def consume(self, consumer: BusConsumer) -> None:
        self.consumers.append(consumer)
        self.spawn(consumer.run(), f"bus-consumer-{consumer.name}")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.drain()
            self.client = None
