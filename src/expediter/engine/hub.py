"""The hub: one catalog, one storage, and the engine parts built on them.

Everything that takes part in moving data reaches the others through the hub: ``hub.inbox.accept``
to store a message, ``hub.ledger.record`` to record a transfer, ``hub.deliveries`` for dead letters
and replay, ``hub.services`` for shared services (e.g. ``kitchen``), ``hub.sink_for`` to build a
destination's sink.
"""

from __future__ import annotations

import asyncio
import fcntl
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import msgspec
import structlog

from expediter.catalog.paths import data_dir
from expediter.catalog.schema import Catalog, System
from expediter.catalog.secrets import resolve_database
from expediter.engine.bus.service import BusService
from expediter.engine.bus.settings import BusSettings
from expediter.engine.counters import FLUSH_SECONDS, Counters
from expediter.engine.deliveries import DEFAULT_ATTEMPT_TIMEOUT, Deliveries, RetryPolicy
from expediter.engine.inbox import Inbox
from expediter.engine.lane_claims import LaneClaims
from expediter.engine.router import Router
from expediter.errors import TerminalError
from expediter.ledger.ledger import Ledger
from expediter.monitor.drift import DriftWatch
from expediter.plugin import registry
from expediter.plugin.base import Capability, Connector, ConnectorContext, Processor, Sink
from expediter.plugin.services import Services
from expediter.storage import open_storage
from expediter.storage.base import Storage, utcnow
from expediter.storage.side_files import SideFile, import_side_files

if TYPE_CHECKING:
    from expediter.drill import DrillResult
    from expediter.engine.jobs import RunResult
    from expediter.monitor.routes import Alerting
    from expediter.operations.kitchen.service import Kitchen

SIGNATURE_FAILURES_KEPT = 20
log = structlog.get_logger(__name__)


class SignatureFailure(msgspec.Struct, kw_only=True):
    """A webhook whose signature did not verify, kept in memory for the dashboard."""

    system: str
    at: datetime
    message: str
    hint: str


def side_files() -> list[SideFile]:
    """The side files older versions kept in the data folder, copied into the database at start."""
    from expediter.operations.accounting.queue import JOURNAL_QUEUE_FILE
    from expediter.operations.kitchen.store import KITCHEN_FILE
    from expediter.operations.labor.holds import HOLDS_SIDE_FILE
    from expediter.plugin.transport import SEEN_FILES

    return [KITCHEN_FILE, SEEN_FILES, JOURNAL_QUEUE_FILE, HOLDS_SIDE_FILE]


class RuntimeControl(Protocol):
    """What the hub's pages ask of the running hub (:class:`expediter.runtime.Runtime`)."""

    @property
    def watching(self) -> bool:
        """Whether this process runs the alert watch."""
        ...

    @property
    def alerting(self) -> Alerting: ...

    def health_problems(self) -> list[str]: ...

    async def watch_dead_letters(self, now: datetime | None = None) -> None: ...

    async def drill(self, flow_id: str) -> DrillResult: ...

    async def run_flow(
        self, flow_id: str, location_id: str, start: date, end: date | None = None, **options: Any
    ) -> RunResult: ...


@dataclass
class HubServices(Services):
    """The hub's services: what connectors see, plus what only the hub's own parts use."""

    kitchen: Kitchen | None = None
    """The hub's own kitchen, in full (connectors see it as a ``KitchenService``)."""
    runtime: RuntimeControl | None = None
    """The running hub (set while it runs)."""


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
        lane_lease_seconds: float | None = None,
        relay: bool | None = None,
    ) -> None:
        """``database`` defaults to the catalog's ``hub.database``. ``connectors`` adds or overrides
        connectors by name (besides the installed ones). ``deliver=False`` stores and routes but
        runs no delivery worker (for extra ingest processes sharing one database). ``relay``: whether
        this process may relay the bus's outbox (default: when it delivers; see
        :mod:`expediter.engine.bus.relay`)."""
        self.catalog = catalog
        if database is None:
            database = resolve_database(catalog.hub.database)
        if isinstance(database, str | Path):
            database = open_storage(database, statement_timeout_ms=catalog.hub.statement_timeout_ms)
        self.storage: Storage = database
        self._connectors = dict(connectors or {})
        self._file_transports: dict[str, Connector] | None = None
        self.services = HubServices()
        self.signature_failures: dict[str, deque[SignatureFailure]] = {}
        self.counters = Counters()
        """What this process counted for ``/metrics``, added to the database's totals each second."""
        self.process_id = uuid.uuid4().hex
        """This process among the hub processes sharing the database (lane leases, heartbeats)."""
        self.shared = getattr(self.storage, "claim_worker", None) is not None
        """A server database (PostgreSQL): every hub process delivers, lane by lane (leased)."""
        lease = lane_lease_seconds or catalog.hub.lane_lease_seconds
        claims = LaneClaims(self.storage, owner=self.process_id, lease_seconds=lease)
        self.deliveries = Deliveries(
            self,
            policy=retry,
            poll_interval=poll_interval,
            attempt_timeout=attempt_timeout,
            claims=claims if self.shared else None,
        )
        self.router = Router(catalog, self.connector)
        self.drift = DriftWatch(catalog, self.storage)
        self.inbox = Inbox(self.storage, self.router, self.deliveries.notify, self.counters, self.drift)
        self.ledger = Ledger(self.storage)
        self.bus = self._bus(catalog)
        """The group's message bus (``[hub.bus]``), or ``None`` for a hub on its own."""
        self._deliver = deliver
        self._relay = deliver if relay is None else relay
        self._sinks: dict[str, Sink] = {}
        self._processors: dict[str, Processor] = {}
        self._webhooks: dict[str, Any] = {}
        self._delivery_lock: IO[bytes] | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._storage_ready = False
        self.started = False

    async def start(self) -> None:
        """Open the storage (applying migrations) and resume deliveries. Idempotent."""
        if self.started:
            return
        await self.start_storage()
        if self.bus is not None:
            await self.bus.start(relay=self._relay)
        await self.drift.start()
        if self.claim_deliveries():
            await self.deliveries.start()
        self._flushing = asyncio.create_task(self._flush_counts(), name="metrics-flush")
        self.started = True

    async def start_storage(self) -> None:
        """Open the storage (applying migrations) and bring in the side files of older versions
        (:mod:`~expediter.storage.side_files`), once; :meth:`start` calls it, and a part
        that needs the database before deliveries resume (the kitchen) may call it first."""
        await self.storage.start()
        if not self._storage_ready:
            await import_side_files(self.storage, data_dir(self.catalog), side_files())
            self._storage_ready = True

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
        """Whether this process delivers. On PostgreSQL every hub process delivers, each lane
        leased to one of them at a time (:mod:`expediter.engine.lane_claims`). On SQLite one
        process per database delivers: with several hub processes on one file (uvicorn workers),
        the first to lock ``<database>.deliveries.lock``; the others only ingest and their
        deliveries are found by the worker's poll. Idempotent."""
        if not self._deliver:
            return False
        if self.shared:
            return True
        return self._lock_file()

    def claim_singletons(self) -> bool:
        """Whether this process runs the parts that must run once per database (the kitchen, the
        scheduler, the alert watch, reconciliation): on PostgreSQL the holder of the database's
        advisory lock (freed when its process dies, so a standby polling this takes over); on
        SQLite the delivery worker. Idempotent."""
        if not self._deliver:
            return False
        claim = getattr(self.storage, "claim_worker", None)
        if claim is not None:
            return bool(claim())
        return self._lock_file()

    def storage_claim_alive(self) -> bool:
        """Whether the claim :meth:`claim_singletons` took on a server database still holds."""
        alive = getattr(self.storage, "worker_claim_alive", None)
        return True if alive is None else bool(alive())

    def _lock_file(self) -> bool:
        if self._delivery_lock is not None:
            return True
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

    def transport_connector(self, transport: str) -> Connector | None:
        """The connector that moves the files of flows with ``transport`` (``sftp``, ``ftps``): the
        one of that name when it says so, else whichever installed connector declares it."""
        named = self.connector(transport)
        if named is not None and transport in named.transports:
            return named
        return self.file_transports().get(transport)

    def file_transports(self) -> dict[str, Connector]:
        """Every flow ``transport`` name a connector here moves files for, with that connector."""
        if self._file_transports is None:
            every = {*registry.names(), *self._connectors}
            self._file_transports = registry.file_transports(every, self.connector)
        return self._file_transports

    def systems_offering(self, capability: Capability) -> list[System]:
        """The catalog's systems whose connector offers ``capability``."""
        return registry.systems_offering(self.catalog, capability, self.connector)

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
