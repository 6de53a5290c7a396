"""File flows, run: export one location's business dates, move the files, record every transfer.

The scheduler (or ``expediter run``, or the dashboard) asks for a run of a flow at a location for a
business date or a range. The destination system's connector produces the files (its exporter); the
flow's transport moves them (written under a temporary name, then renamed, so a re-run replaces the
earlier file atomically); the ledger keeps one transfer per file and run, re-runs included.

A destination system's transport settings are ``settings.transport`` (falling back to the system's
own settings), so one system can name its format settings and its SFTP account side by side.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import msgspec
import structlog

from expediter.catalog.schema import Flow, Level, System
from expediter.engine import messages
from expediter.engine.hub import Hub
from expediter.errors import ConfigError, ExpediterError, TerminalError
from expediter.ledger.lineage import Link, TransferInputs, inputs_of
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.cards import mask_card_numbers
from expediter.model.labor import Employee, TimePunch
from expediter.model.location import Location
from expediter.model.order import Order, Refund
from expediter.operations.accounting.dating import refund_dates
from expediter.operations.accounting.export import DRAWER_COUNTS, request_journal
from expediter.operations.accounting.journal import DrawerCount
from expediter.operations.labor.period import payroll_period
from expediter.operations.sales.days import closed_days
from expediter.plugin.base import (
    TRANSPORT_SETTINGS,
    ConnectorContext,
    Exporter,
    ExportRequest,
    OutputFile,
)
from expediter.plugin.transport import TransferRecord, Transport, send_file
from expediter.storage.base import Tx
from expediter.storage.blocking import EXTRA_KEY as BLOCKING_STORAGE
from expediter.storage.blocking import BlockingStorage

log = structlog.get_logger(__name__)

WEEK_BEFORE = timedelta(days=6)
"""Punches are read from six days before a run, so weekly overtime sees the whole workweek."""
REFUND_LOOKBACK = timedelta(days=35)
"""How far before a run refunds of earlier sales are looked for: a refund more than 35 days after
its sale is not booked by the nightly close (card networks and most POS refuse those anyway)."""

ORDERS, REFUNDS, PUNCHES, EMPLOYEES, DRAWERS = "orders", "refunds", "punches", "employees", "drawer_counts"
_SALES = frozenset({ORDERS, REFUNDS})
DATA_INPUTS: dict[str, frozenset[str]] = {
    "sales_summary": _SALES,
    "product_mix": _SALES,
    "inventory_usage": _SALES,
    "journal": _SALES | {DRAWERS},
    "labor": frozenset({PUNCHES}),
    "payroll": frozenset({ORDERS, PUNCHES}),
}
"""What each nightly file is built from: the inputs its lineage links and its digest covers, so a
changed punch never makes the journal look changed. The roster is left out: a new hire changes no
night already worked (each punch carries its own wage). Other data kinds keep no lineage."""


class InputIds:
    """The message versions an export read for one flow: the lineage of its files and the digest
    of its inputs (:class:`~expediter.ledger.lineage.TransferInputs`)."""

    def __init__(self, data: str) -> None:
        self.kinds = DATA_INPUTS.get(data, frozenset())
        self.ids: set[int] = set()
        self.as_of = 0
        """The newest message id in the hub when the inputs were read."""

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def add(self, kind: str, ids: Iterable[int]) -> None:
        if kind in self.kinds:
            self.ids.update(ids)

    @property
    def inputs(self) -> TransferInputs | None:
        return inputs_of(self.ids, self.as_of) if self.kinds else None

    def links(self) -> list[Link]:
        return [Link(message_id) for message_id in sorted(self.ids)]


async def newest_message_id(hub: Hub) -> int:
    return await hub.storage.read(messages.newest_id)


class RunResult(msgspec.Struct, kw_only=True):
    flow_id: str
    location_id: str
    start_date: date
    end_date: date
    outcome: TransferOutcome
    files: list[str] = []
    records: int = 0
    bytes: int = 0
    error: str = ""
    notices: list[str] = []
    """What the exporter set aside for a person while the files went (the runtime alerts)."""


async def orders_between(
    hub: Hub, location_id: str, start: date, end: date, ids: list[int] | None = None
) -> list[Order]:
    """The newest version of every order of ``location_id`` in [start, end]; a late retry of an
    older version never replaces a newer one. ``ids`` receives the message id of each version."""
    return await _newest(hub, "orders", Order, location_id, start, end, ids)


class _RefundsOnly(msgspec.Struct):
    """The part of a stored order needed to tell whether it was refunded: decoded first, so the
    whole order is decoded only for the few that were."""

    version: int = 1
    refunds: list[Refund] = []


async def refunded_orders_between(
    hub: Hub,
    location: Location,
    start: date,
    end: date,
    lookback: timedelta = REFUND_LOOKBACK,
    ids: list[int] | None = None,
) -> list[Order]:
    """The newest version of every order of ``location`` sold in the ``lookback`` days before
    ``start`` that carries a refund booked in [start, end] (a refund's business date is its own,
    :mod:`expediter.operations.accounting.dating`). Bounded by ``lookback``: older sales are not read.
    ``ids`` receives the message id of each order returned."""
    light = msgspec.json.Decoder(_RefundsOnly)
    full = msgspec.json.Decoder(Order)

    def query(tx: Tx) -> list[tuple[int, Order]]:
        newest: dict[str, tuple[int, int, bytes | None]] = {}
        for row in messages.of_kind(tx, "orders", location.id, start - lookback, start - timedelta(days=1)):
            payload = bytes(row["payload"])
            record, message_id = light.decode(payload), int(row["id"])
            known = newest.get(row["ref"])
            if known is None or (record.version, message_id) >= known[:2]:
                newest[row["ref"]] = (record.version, message_id, payload if record.refunds else None)
        kept = [newest[ref] for ref in by_ref(newest)]
        with collector_paused():
            orders = [(mid, full.decode(payload)) for _, mid, payload in kept if payload is not None]
        return [(mid, order) for mid, order in orders if _refunded_in(order, location, start, end)]

    found = await hub.storage.read(query)
    if ids is not None:
        ids.extend(mid for mid, _ in found)
    return [order for _, order in found]


def _refunded_in(order: Order, location: Location, start: date, end: date) -> bool:
    return any(start <= day <= end for day in refund_dates(order, location))


async def punches_between(
    hub: Hub, location_id: str, start: date, end: date, ids: list[int] | None = None
) -> list[TimePunch]:
    return await _newest(hub, "punches", TimePunch, location_id, start, end, ids)


async def employees_at(hub: Hub, location_id: str, ids: list[int] | None = None) -> list[Employee]:
    """The latest record of every employee posted for ``location_id`` (kind ``employees``)."""
    return await _newest(hub, "employees", Employee, location_id, ids=ids)


async def drawer_counts_between(
    hub: Hub, location_id: str, start: date, end: date, ids: list[int] | None = None
) -> list[DrawerCount]:
    """The latest drawer count of each business date (kind ``drawer_count``, one ref per day)."""
    return await _newest(hub, "drawer_count", DrawerCount, location_id, start, end, ids)


Versioned = TypeVar("Versioned", Order, TimePunch, Employee, DrawerCount)


async def _newest(
    hub: Hub,
    kind: str,
    type_: type[Versioned],
    location_id: str,
    start: date | None = None,
    end: date | None = None,
    ids: list[int] | None = None,
) -> list[Versioned]:
    """One record per ``ref``: the highest ``version`` (the latest stored when versions tie).
    Each ref's newest version is picked first and only it is decoded (a ref stored once, the
    common case, is decoded once; one stored several times has only its versions read), on the
    storage's read thread, not the event loop. ``ids`` receives the message id of each record."""
    decoder = msgspec.json.Decoder(type_)
    versions = _version_decoder(type_)

    def query(tx: Tx) -> dict[str, tuple[int, Versioned]]:
        stored: dict[str, list[tuple[int, bytes]]] = {}
        for row in messages.of_kind(tx, kind, location_id, start, end):
            stored.setdefault(row["ref"], []).append((int(row["id"]), bytes(row["payload"])))
        newest: dict[str, tuple[int, Versioned]] = {}
        with collector_paused():
            for ref, rows in stored.items():
                message_id, payload = rows[0] if len(rows) == 1 else _newest_row(rows, versions)
                newest[ref] = (message_id, decoder.decode(payload))
        return newest

    found = await hub.storage.read(query)
    in_order = [found[ref] for ref in by_ref(found)]
    if ids is not None:
        ids.extend(mid for mid, _ in in_order)
    return [record for _, record in in_order]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a day's records are decoded. A decoded order is a
    tree of a few dozen objects, none in a cycle (freed by reference counting alone), yet each
    new list counts towards the collector's next pass, and the passes over a day's growing heap of
    them took as long as the decoding itself (measured: 42-51 µs an order with the collector,
    24 µs without). Left as it was found, so a caller that disabled it keeps it disabled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _version_decoder(type_: type[Any]) -> msgspec.json.Decoder[Any] | None:
    """A decoder of just the record's ``version`` (with the type's own default when a payload
    leaves it out), or ``None`` for a type without one (the latest stored wins)."""
    for field in msgspec.structs.fields(type_):
        if field.name == "version":
            light = msgspec.defstruct("Version", [("version", int, field.default)])
            return msgspec.json.Decoder(light)
    return None


def _newest_row(
    rows: list[tuple[int, bytes]], versions: msgspec.json.Decoder[Any] | None
) -> tuple[int, bytes]:
    """The row of the highest (version, message id) among one ref's stored versions."""
    if versions is None:
        return max(rows, key=lambda row: row[0])
    return max(rows, key=lambda row: (versions.decode(row[1]).version, row[0]))


def by_ref(found: Mapping[Any, object]) -> list[Any]:
    """The refs in the order ``ORDER BY ref`` gave them (no ref first), sorted here rather than by
    SQLite, which would sort the whole rows, payloads and all."""
    return sorted(found, key=lambda ref: (ref is not None, ref or ""))


def transport_system(flow: Flow, system: System) -> System:
    """``system`` as its transport sees it: the settings are its ``transport`` table (or, without
    one, its own settings), with TLS switched on for ``ftps``."""
    settings = dict(system.settings.get(TRANSPORT_SETTINGS, system.settings))
    if flow.transport == "ftps":
        settings.setdefault("tls", True)
    return msgspec.structs.replace(system, settings=settings)


async def export_request(
    hub: Hub,
    flow: Flow,
    location: Location,
    start: date,
    end: date,
    extra: dict[str, Any] | None = None,
    inputs: InputIds | None = None,
) -> ExportRequest:
    """What an exporter works on for ``flow`` at ``location`` over [start, end], read from the hub:
    the orders, the earlier orders refunded in the range, the punches (from a week before, for
    weekly overtime) and the roster, with the journal, the pay period and the closed days computed
    from them when the connector writes its file. Scheduled runs, ``expediter run`` and
    ``expediter export`` all build it here. ``inputs`` collects the message versions the flow's
    files are built from."""
    inputs = inputs or InputIds(flow.data)
    inputs.as_of = await newest_message_id(hub)
    read: dict[str, list[int]] = {kind: [] for kind in (ORDERS, REFUNDS, PUNCHES, EMPLOYEES, DRAWERS)}
    orders = await orders_between(hub, location.id, start, end, read[ORDERS])
    refunded = await refunded_orders_between(hub, location, start, end, ids=read[REFUNDS])
    punches = await punches_between(hub, location.id, start - WEEK_BEFORE, end, read[PUNCHES])
    employees = await employees_at(hub, location.id, read[EMPLOYEES])
    drawers = await drawer_counts_between(hub, location.id, start, end, read[DRAWERS])
    for kind, ids in read.items():
        inputs.add(kind, ids)
    blocking = BlockingStorage(hub.storage, asyncio.get_running_loop())
    request = ExportRequest(
        catalog=hub.catalog,
        location=location,
        start_date=start,
        end_date=end,
        orders=lambda: orders,
        punches=lambda: punches,
        employees=lambda: employees,
        system=hub.catalog.system(flow.to),
        extra={
            "flow": flow,
            DRAWER_COUNTS: drawers,
            BLOCKING_STORAGE: blocking,
            **inventory_lookups(blocking),
            **(extra or {}),
        },
        refunds=lambda: refunded,
    )
    # the books and the pay are computed here, when the connector writes its file; it only renders them
    request.journal = lambda: request_journal(request)
    request.payroll = lambda: payroll_period(request)
    request.sales = lambda: closed_days(request)
    return request


def inventory_lookups(storage: BlockingStorage) -> dict[str, Any]:
    """What the inventory exporter reads besides the request's orders, from its worker thread:
    the orders of earlier dates (variance since the opening count) and the count sheets."""
    from expediter.operations.inventory.export import (
        COUNTS_EXTRA,
        COUNTS_KIND,
        ORDERS_EXTRA,
        counts_from_rows,
    )

    decoder = msgspec.json.Decoder(Order)

    def orders(location_id: str, first: date, last: date) -> list[Order]:
        found = storage.read(lambda tx: messages.payloads_between(tx, "orders", location_id, first, last))
        with collector_paused():
            return [decoder.decode(payload) for payload in found]

    def counts(location_id: str, day: date) -> Any:
        return counts_from_rows(
            storage.read(lambda tx: messages.latest_up_to(tx, COUNTS_KIND, location_id, day)), day
        )

    return {ORDERS_EXTRA: orders, COUNTS_EXTRA: counts}


class FileJobs:
    """Runs file flows for the scheduler, the CLI and the dashboard."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def run(
        self,
        flow_id: str,
        location_id: str,
        start_date: date,
        end_date: date | None = None,
        *,
        extra: dict[str, Any] | None = None,
        rename: Callable[[str], str] | None = None,
    ) -> RunResult:
        """Export and send one run; every outcome (failures too, a bug's included) is in the ledger.
        ``extra`` goes to the exporter with the request; ``rename`` names the files (a correction's)."""
        end_date = end_date or start_date
        flow, location, destination = self._resolve(flow_id, location_id)
        started = clock.now()
        inputs = InputIds(flow.data)
        try:
            files, notices = await self._export(
                flow, location, destination, start_date, end_date, inputs, extra or {}
            )
            if rename is not None:
                files = [msgspec.structs.replace(f, name=rename(f.name)) for f in files]
            transport = self.transport_for(flow, destination)
        except Exception as exc:
            error = _described(exc, flow, location)
            await self._record_failure(flow, location, start_date, started, error)
            return _failed(flow, location, start_date, end_date, error)
        try:
            sent = await self._send(flow, location, transport, files, start_date, inputs)
            await self._after_send(flow)
        except Exception as exc:  # each failed upload is in the ledger already, with its file name
            return _failed(flow, location, start_date, end_date, _described(exc, flow, location))
        return RunResult(
            flow_id=flow.id,
            location_id=location.id,
            start_date=start_date,
            end_date=end_date,
            outcome=TransferOutcome.SUCCEEDED,
            files=[f.name for f in sent],
            records=sum(f.records for f in sent),
            bytes=sum(len(f.data) for f in sent),
            notices=notices,
        )

    async def _after_send(self, flow: Flow) -> None:
        from expediter.engine.purchasing import bills_sent, desk_of

        await bills_sent(desk_of(self.hub), flow)

    def _resolve(self, flow_id: str, location_id: str) -> tuple[Flow, Location, System]:
        catalog = self.hub.catalog
        flow = catalog.flow(flow_id)
        if flow is None:
            raise ConfigError(f"no flow {flow_id!r} in the catalog; `expediter flows` lists them")
        location = catalog.location(location_id)
        if location is None:
            raise ConfigError(f"no location {location_id!r} in the catalog")
        destination = catalog.system(flow.to)
        if destination is None:
            raise ConfigError(f"flow {flow.id}: destination system {flow.to!r} is not in the catalog")
        return flow, location, destination

    async def _export(
        self,
        flow: Flow,
        location: Location,
        destination: System,
        start: date,
        end: date,
        inputs: InputIds,
        given: dict[str, Any],
    ) -> tuple[list[OutputFile], list[str]]:
        from expediter.engine.purchasing import bills_extra, desk_of

        desk = desk_of(self.hub)  # purchase orders and X12 control numbers for the vendor exporters
        exporter = self._exporter(destination)
        extra = {**(await bills_extra(desk, flow) or {}), **given}
        request = await export_request(self.hub, flow, location, start, end, extra, inputs)
        files = await asyncio.to_thread(exporter.export, flow.data, request)
        for notice in request.notices:
            log.warning("file flow notice", flow=flow.id, location=location.id, notice=notice)
        return files, request.notices

    def _exporter(self, destination: System) -> Exporter:
        connector = self.hub.connector(destination.connector)
        if connector is None or connector.make_exporter is None:
            raise TerminalError(
                f"system {destination.id}: connector {destination.connector!r} writes no files;"
                " choose a connector with the export capability"
            )
        exporter: Exporter = connector.make_exporter(self._context(destination))
        return exporter

    def _context(self, system: System) -> ConnectorContext:
        return ConnectorContext(catalog=self.hub.catalog, system=system, services=self.hub.services)

    def transport_for(self, flow: Flow, destination: System) -> Transport:
        """The flow's transport, configured from the destination's ``settings.transport``; with
        ``transport = "http"`` the destination's own connector carries the files (an API post)."""
        if flow.transport == "http":
            return self._api_transport(flow, destination)
        connector = self.hub.transport_connector(flow.transport)
        if connector is None:
            raise ConfigError(
                f"flow {flow.id}: transport {flow.transport!r} does not move files;"
                f" use one of {', '.join(sorted(self.hub.file_transports()))}"
            )
        if connector.make_transport is None:
            raise TerminalError(f"flow {flow.id}: the {connector.name} transport is not installed")
        system = transport_system(flow, destination)
        transport: Transport = connector.make_transport(self._context(system), flow_id=flow.id)
        return transport

    def _api_transport(self, flow: Flow, destination: System) -> Transport:
        connector = self.hub.connector(destination.connector)
        if connector is None or connector.make_transport is None or connector.transports:
            raise ConfigError(
                f"flow {flow.id}: system {destination.id} ({destination.connector}) takes no files over"
                ' http; use transport = "sftp", "ftp" or "folder"'
            )
        transport: Transport = connector.make_transport(self._context(destination), flow_id=flow.id)
        return transport

    async def _send(
        self,
        flow: Flow,
        location: Location,
        transport: Transport,
        files: Iterable[OutputFile],
        day: date,
        inputs: InputIds,
    ) -> list[OutputFile]:
        sent: list[OutputFile] = []
        try:
            for output in files:
                await send_file(
                    transport,
                    output.name,
                    output.data,
                    scope=flow.id,
                    record=self._recorder(flow, location, day, output, inputs),
                )
                sent.append(output)
        finally:
            await transport.close()
        return sent

    def _recorder(
        self, flow: Flow, location: Location, day: date, output: OutputFile, inputs: InputIds
    ) -> Callable[[TransferRecord], Awaitable[None]]:
        async def record(file: TransferRecord) -> None:
            failed = bool(file.error)
            await self.hub.ledger.record(
                Transfer(
                    flow_id=flow.id,
                    direction=Direction.OUT,
                    level=Level.FILE,
                    transport=flow.transport,
                    endpoint=file.endpoint,
                    file_name=file.name,
                    remote_ref=file.remote_ref or file.name,
                    started_at=file.started_at,
                    finished_at=clock.now(),
                    outcome=TransferOutcome.FAILED if failed else TransferOutcome.SUCCEEDED,
                    records=0 if failed else output.records,
                    bytes=file.bytes,
                    checksum=file.checksum,
                    error=file.error,
                    location_id=location.id,
                    business_date=day,
                ),
                links=() if failed else inputs.links(),
                inputs=None if failed else inputs.inputs,
            )

        return record

    async def _record_failure(
        self, flow: Flow, location: Location, day: date, started: datetime, error: str
    ) -> None:
        """A run that failed before any file moved still leaves its transfer in the ledger."""
        await self.hub.ledger.record(
            Transfer(
                flow_id=flow.id,
                direction=Direction.OUT,
                level=Level.FILE,
                transport=flow.transport,
                started_at=started,
                finished_at=clock.now(),
                outcome=TransferOutcome.FAILED,
                error=error,
                location_id=location.id,
                business_date=day,
            )
        )


def _described(exc: Exception, flow: Flow, location: Location) -> str:
    """What the ledger and the alert say of a failed run. An error the hub raises on purpose
    says what to fix; anything else is a bug met on the way, logged with its traceback."""
    if isinstance(exc, ExpediterError):
        log.warning("file flow failed", flow=flow.id, location=location.id, error=str(exc))
        return mask_card_numbers(str(exc))
    log.exception("file flow crashed", flow=flow.id, location=location.id)
    return mask_card_numbers(
        f"unexpected error ({type(exc).__name__}: {exc}); the hub's log has the details."
        " Once the cause is fixed, run the flow again for this date"
    )


def _failed(flow: Flow, location: Location, start: date, end: date, error: str) -> RunResult:
    return RunResult(
        flow_id=flow.id,
        location_id=location.id,
        start_date=start,
        end_date=end,
        outcome=TransferOutcome.FAILED,
        error=error,
    )
