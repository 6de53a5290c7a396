"""The hub: one catalog, one storage, and the engine parts built on them.

Everything that takes part in moving data reaches the others through the hub: ``hub.inbox.accept``
to store a message, ``hub.ledger.record`` to record a transfer, ``hub.deliveries`` for dead letters
and replay, ``hub.services`` for shared services (e.g. ``kitchen``), ``hub.sink_for`` to build a
destination's sink.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import msgspec
import structlog

from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import resolve_database
from expediter.connectors import registry
from expediter.connectors.base import Connector, ConnectorContext, Processor, Sink
from expediter.engine.bus.service import BusService
from expediter.engine.bus.settings import BusSettings
from expediter.engine.counters import FLUSH_SECONDS, Counters
from expediter.engine.deliveries import DEFAULT_ATTEMPT_TIMEOUT, Deliveries, RetryPolicy
from expediter.engine.inbox import Inbox
from expediter.engine.router import Router
from expediter.engine.storage import open_storage
from expediter.engine.storage.base import Storage, utcnow
from expediter.errors import TerminalError
from expediter.ledger.ledger import Ledger
from expediter.monitor.drift import DriftWatch

SIGNATURE_FAILURES_KEPT = 20
log = structlog.get_logger(__name__)


class SignatureFailure(msgspec.Struct, kw_only=True):
    """A webhook whose signature did not verify, kept in memory for the dashboard."""

    system: str
    at: datetime
    message: str
    hint: str


class Hub:
    def __init__(
        self,
        catalog: Catalog,
        database: str | Path | Storage | None = None,
        *,
        connectors: Mapping[str, Connector] | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        deliver: bool = True,
    ) -> None:
        """``database`` defaults to the catalog's ``hub.database``. ``connectors`` adds or overrides
        connectors by name (besides the installed ones). ``deliver=False`` stores and routes but
        runs no delivery worker (for extra ingest processes sharing one database)."""
        self.catalog = catalog
        if database is None:
            database = resolve_database(catalog.hub.database)
        self.storage: Storage = database if not isinstance(database, str | Path) else open_storage(database)
        self._connectors = dict(connectors or {})
        self.services: dict[str, Any] = {}
        self.signature_failures: dict[str, deque[SignatureFailure]] = {}
        self.counters = Counters()
        """What this process counted for ``/metrics``, added to the database's totals each second."""
        self.deliveries = Deliveries(
            self, policy=retry, poll_interval=poll_interval, attempt_timeout=attempt_timeout
        )
        self.router = Router(catalog, self.connector)
        self.drift = DriftWatch(catalog, self.storage)
        self.inbox = Inbox(self.storage, self.router, self.deliveries.notify, self.counters, self.drift)
        self.ledger = Ledger(self.storage)
        self.bus = self._bus(catalog)
        """The group's message bus (``[hub.bus]``), or ``None`` for a hub on its own."""
        self._deliver = deliver
        self._sinks: dict[str, Sink] = {}
        self._processors: dict[str, Processor] = {}
        self._webhooks: dict[str, Any] = {}
        self._delivery_lock: IO[bytes] | None = None
        self._flushing: asyncio.Task[None] | None = None
        self.started = False

    async def start(self) -> None:
        """Open the storage (applying migrations) and resume deliveries. Idempotent."""
        if self.started:
            return
        await self.storage.start()
        if self.bus is not None:
            await self.bus.start(relay=self._deliver)
        await self.drift.start()
        if self.claim_deliveries():
            await self.deliveries.start()
        self._flushing = asyncio.create_task(self._flush_counts(), name="metrics-flush")
        self.started = True

    async def stop(self) -> None:
        if not self.started:
            return
        await self.deliveries.stop()
        if self.bus is not None:
            await self.bus.stop()
        await self._close_connectors()
        if self._flushing is not None:
            self._flushing.cancel()
            await asyncio.gather(self._flushing, return_exceptions=True)
            self._flushing = None
        try:
            await self.counters.flush(self.storage)  # the last counts, before the storage closes
        except Exception:  # never stop a shutdown for a metric
            log.exception("metrics_flush_failed")
        await self.storage.stop()
        if self._delivery_lock is not None:
            self._delivery_lock.close()  # releases the lock
            self._delivery_lock = None
        release = getattr(self.storage, "release_worker", None)
        if release is not None:
            release()
        self.started = False

    def _bus(self, catalog: Catalog) -> BusService | None:
        settings = BusSettings.from_catalog(catalog)
        if settings is None:
            return None
        bus = BusService(settings, self.storage)
        self.inbox.outbox = bus.outbox
        return bus

    async def _flush_counts(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.counters.flush(self.storage)
            except Exception:  # a busy or full disk: the counts wait for the next flush
                log.exception("metrics_flush_failed")

    async def _close_connectors(self) -> None:
        """Sinks and processors holding connections may offer ``async aclose()``; built anew on use."""
        built = [*self._sinks.values(), *self._processors.values(), *self._webhooks.values()]
        self._sinks.clear()
        self._processors.clear()
        self._webhooks.clear()
        for part in built:
            close = getattr(part, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    log.exception("connector_close_failed", part=type(part).__name__)

    def claim_deliveries(self) -> bool:
        """Whether this process delivers. One delivery worker per database: with several hub
        processes on one SQLite file (uvicorn workers), the first to lock
        ``<database>.deliveries.lock`` delivers (on PostgreSQL, the first to take the database's
        advisory lock); the others only ingest and their deliveries are
        found by the worker's poll. Idempotent; services that must run once (the kitchen, the
        scheduler) start only where this is true."""
        if not self._deliver:
            return False
        if self._delivery_lock is not None:
            return True
        claim = getattr(self.storage, "claim_worker", None)
        if claim is not None:  # a server database: the storage holds the claim
            return bool(claim())
        path = getattr(self.storage, "path", None)
        if not isinstance(path, str) or path == ":memory:":
            return True
        handle = open(f"{path}.deliveries.lock", "a+b")  # noqa: SIM115 (held until stop)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._delivery_lock = handle
        return True

    def delivering_elsewhere(self) -> bool:
        """Whether another process delivers on this database (a running ``expediter serve``):
        it holds the delivery lock. Tried and let go at once; ``False`` when there is no lock file
        to ask (an in-memory database or PostgreSQL)."""
        if self._delivery_lock is not None:
            return False
        path = getattr(self.storage, "path", None)
        if not isinstance(path, str) or path == ":memory:":
            return False
        with open(f"{path}.deliveries.lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    async def __aenter__(self) -> Hub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- connectors -------------------------------------------------------------------------------

    def connector(self, name: str) -> Connector | None:
        """The connector ``name``: an override given to the hub, else the installed one."""
        return self._connectors.get(name) or registry.connector(name)

    def context(self, system_id: str) -> ConnectorContext:
        system = self.catalog.system(system_id)
        if system is None:
            raise TerminalError(f"system {system_id!r} is not in the catalog")
        return ConnectorContext(catalog=self.catalog, system=system, services=self.services)

    def _factory(self, system_id: str, attribute: str) -> Any:
        context = self.context(system_id)
        try:
            connector = self.connector(context.system.connector)
        except ImportError as exc:
            raise TerminalError(f"connector {context.system.connector!r} failed to load: {exc}") from exc
        if connector is None:
            raise TerminalError(
                f"connector {context.system.connector!r} of system {system_id!r} is not installed"
            )
        factory = getattr(connector, attribute)
        if factory is None:
            raise TerminalError(f"connector {connector.name!r} offers no {attribute.removeprefix('make_')}")
        return factory(context)

    def sink_for(self, system_id: str) -> Sink:
        """The destination's sink, built once per system from its connector."""
        if system_id not in self._sinks:
            self._sinks[system_id] = self._factory(system_id, "make_sink")
        return self._sinks[system_id]

    def processor_for(self, system_id: str) -> Processor:
        if system_id not in self._processors:
            self._processors[system_id] = self._factory(system_id, "make_processor")
        return self._processors[system_id]

    def webhook_for(self, system_id: str) -> Any:
        """The system's ``WebhookReceiver``; ``TerminalError`` when its connector has none."""
        if system_id not in self._webhooks:
            self._webhooks[system_id] = self._factory(system_id, "make_webhook")
        return self._webhooks[system_id]

    def note_signature_failure(self, system_id: str, message: str, hint: str) -> None:
        kept = self.signature_failures.setdefault(system_id, deque(maxlen=SIGNATURE_FAILURES_KEPT))
        kept.append(SignatureFailure(system=system_id, at=utcnow(), message=message, hint=hint))
