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
from expediter.engine.bus.reconcile import ReconcileReport, reconcile
from expediter.engine.bus.relay import Relay
from expediter.engine.bus.settings import BusSettings
from expediter.engine.bus.streams import ensure_streams
from expediter.engine.storage.base import Storage

log = structlog.get_logger(__name__)

CONNECT_RETRY_SECONDS = 1.0
RECONCILE_SECONDS = 24 * 3600.0
"""The nightly reconciliation's period (``expediter bus reconcile`` runs one at once)."""


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
        self.connected = asyncio.Event()
        """Set once connected and the streams exist."""
        self.last_error: str | None = None
        self.last_reconcile: ReconcileReport | None = None
        self.kitchen_publisher: Any = None

    def _wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def start(self, *, relay: bool = True) -> None:
        """Connect and make the streams; while the cluster cannot be reached the hub still starts
        (messages wait in the outbox) and this keeps trying in the background."""
        try:
            await self._connect(relay)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("bus_unreachable", error=self.last_error)
            self.spawn(self._keep_connecting(relay), "bus-connect")

    async def _connect(self, relay: bool) -> None:
        client = await connect(self.settings, self.name)
        try:
            js = client.jetstream()
            await ensure_streams(js, self.settings)
        except BaseException:
            await client.close()
            raise
        self.client, self.js = client, js
        self.last_error = None
        if relay:
            self.relay = Relay(self.storage, self.js)
            self.spawn(self.relay.run(), "bus-relay")
            self.spawn(self.reconcile_nightly(), "bus-reconcile")
        self.connected.set()

    async def _keep_connecting(self, relay: bool) -> None:
        while True:
            await asyncio.sleep(CONNECT_RETRY_SECONDS)  # a pause before trying the cluster again
            try:
                await self._connect(relay)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                continue
            return

    def publish_kitchen(self, kitchen: Any) -> None:
        """Put ``kitchen``'s station events on the bus and answer the screens' actions forwarded
        by the other processes (in the process the kitchen runs in)."""
        from expediter.engine.bus.kitchen_commands import serve_commands
        from expediter.engine.bus.kitchen_feed import KitchenPublisher

        async def run() -> None:
            await self.connected.wait()
            await serve_commands(self.client, self.settings, kitchen)
            self.kitchen_publisher = KitchenPublisher(kitchen, self.js, self.settings)
            await self.kitchen_publisher.run()

        self.spawn(run(), "bus-kitchen-feed")

    async def reconcile_nightly(self) -> None:
        """Reconcile once a day, in the process that relays (cancel to stop)."""
        while True:
            await asyncio.sleep(RECONCILE_SECONDS)
            if self.relay is None or not self.relay.active or self.js is None:
                continue
            try:
                report = await reconcile(self.storage, self.js, self.settings)
            except Exception as exc:  # the bus is away tonight: tomorrow night checks it all again
                log.warning("bus_reconcile_failed", error=f"{type(exc).__name__}: {exc}")
                continue
            self.last_reconcile = report
            log.info("bus_reconciled", checked=report.checked, republished=report.republished)

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
            # Not drain(): an idle pull subscription would hold it for its whole timeout. What
            # was published is confirmed already (the relay waits for each acknowledgement).
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None
