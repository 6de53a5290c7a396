"""Files that arrive: flows with ``trigger = "file_arrival"`` watch a transport and store each file.

For every enabled file-arrival flow, a :class:`~expediter.engine.schedule_watch.FileWatcher` polls
the *source* system's transport (its ``settings.transport``: an SFTP inbox, an FTP folder, a watched
local folder). Each new, size-stable file is checked by the destination connector's importer when it
has one (a count sheet with a bad row goes to the failed folder, and the error says the row and
column), then stored raw in the inbox (kind = the flow's ``data``) and moved to the done folder. The
same file twice (same SHA-256) is processed once; every file is a transfer in the ledger.

The file's location and business date come from its name when it carries them
(``counts_L001_20261126.csv``), else the catalog's only location and the business date the file
arrived on.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime

import structlog

from expediter.catalog.schema import DriftPolicy, Flow, Level, Trigger
from expediter.engine.hub import Hub
from expediter.engine.jobs import transport_system
from expediter.engine.purchasing import VENDOR_DATA, desk_of
from expediter.engine.schedule_watch import FileWatcher
from expediter.errors import ConfigError, ExpediterError, RejectedInput
from expediter.formats.tabular import open_table
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model import clock
from expediter.model.cards import refuse_card_numbers_in_payload
from expediter.model.location import Location
from expediter.monitor.drift import Verdict
from expediter.monitor.drift_store import HeldFile
from expediter.monitor.shapes import columns_shape
from expediter.plugin.base import ConnectorContext, IncomingMessage
from expediter.plugin.transport import (
    FetchedFile,
    FileOutcome,
    StoredSeenStore,
    TransferRecord,
)

log = structlog.get_logger(__name__)

_NAMED = re.compile(r"(?:^|_)(?P<location>[A-Za-z0-9-]+)_(?P<day>\d{8})(?:[._]|$)")
OnError = Callable[[Flow, ExpediterError], Awaitable[None]]


def arrival_flows(hub: Hub) -> list[Flow]:
    return [f for f in hub.catalog.flows if f.enabled and f.trigger is Trigger.FILE_ARRIVAL]


def place_of(name: str, hub: Hub, arrived: datetime) -> tuple[Location, date]:
    """Where and for which business date a file counts (see the module docstring)."""
    match = _NAMED.search(name)
    if match:
        location = hub.catalog.location(match["location"])
        if location is not None:
            try:
                return location, datetime.strptime(match["day"], "%Y%m%d").date()
            except ValueError:
                raise RejectedInput(
                    f"{name}: {match['day']} is not a date",
                    where="the file name",
                    fix="write the business date as YYYYMMDD, e.g. counts_L001_20261126.csv",
                ) from None
    if len(hub.catalog.locations) != 1:
        raise RejectedInput(
            f"{name}: which location is this file for?",
            where="the file name",
            fix="name it <what>_<location id>_<YYYYMMDD>.<ext>, e.g. counts_L001_20261126.csv",
        )
    location = hub.catalog.locations[0]
    return location, location.business_date_for(arrived)


class FileArrivals:
    """Builds and runs one watcher per file-arrival flow."""

    def __init__(self, hub: Hub, *, every: float = 30.0, on_error: OnError | None = None) -> None:
        self.hub = hub
        self.every = every
        self.on_error = on_error
        self.watchers: list[FileWatcher] = []

    def build(self) -> list[FileWatcher]:
        seen = StoredSeenStore(self.hub.storage)
        self.watchers = []
        for flow in arrival_flows(self.hub):
            try:
                self.watchers.append(self._watcher(flow, seen))
            except ExpediterError as exc:  # one misconfigured flow must not stop the others
                log.error("file arrivals not watched", flow=flow.id, error=str(exc))
        return self.watchers

    def _watcher(self, flow: Flow, seen: StoredSeenStore) -> FileWatcher:
        source = self.hub.catalog.system(flow.from_)
        connector = self.hub.transport_connector(flow.transport)
        if source is None or connector is None or connector.make_transport is None:
            raise ConfigError(f"flow {flow.id}: no file transport {flow.transport!r} from {flow.from_!r}")
        system = transport_system(flow, source)
        context = ConnectorContext(catalog=self.hub.catalog, system=system, services=self.hub.services)
        transport = connector.make_transport(context, flow_id=flow.id)

        async def on_error(exc: ExpediterError) -> None:
            if self.on_error is not None:
                await self.on_error(flow, exc)

        return FileWatcher(
            transport,
            self.handler(flow),
            scope=flow.id,
            seen=seen,
            every=self.every,
            stable_seconds=float(system.settings.get("stable_seconds", 2.0)),
            record=self._recorder(flow),
            on_error=on_error,
        )

    def handler(self, flow: Flow) -> Callable[[FetchedFile], Awaitable[None]]:
        async def handle(file: FetchedFile) -> None:
            if flow.data not in VENDOR_DATA:
                # Before the file is kept (a drift may hold it) or an error can quote one. Not in a
                # vendor's EDI: its 13- and 14-digit GTINs pass the card check one time in ten, and a
                # card number has no element there.
                refuse_card_numbers_in_payload(file.data, "text/plain")
            verdict = columns_verdict(self.hub, flow, file)
            if verdict is not None and verdict.drifted and flow.drift is not DriftPolicy.ACCEPT:
                await self._set_aside(flow, file, verdict)
                return
            await take_file(self.hub, flow, file, verdict)

        return handle

    async def _set_aside(self, flow: Flow, file: FetchedFile, verdict: Verdict) -> None:
        """A file whose columns changed, under ``hold`` (kept, moved to the done folder, taken
        when released) or ``quarantine`` (left in the failed folder, as a bad file is)."""
        changed = "; ".join(change.describe() for change in verdict.changes)
        if flow.drift is DriftPolicy.HOLD:
            await self.hub.drift.hold_file(flow, file.name, file.checksum, file.data, verdict)
            log.warning("file_held_for_drift", flow=flow.id, file=file.name, changes=changed)
            return
        await self.hub.drift.record(verdict)
        raise RejectedInput(
            f"{file.name}: its columns changed ({changed})",
            where="the file's header",
            fix="check the file with its sender; once the change is right, `expediter drift accept` it"
            " and move the file back from the failed folder",
        )

    def _recorder(self, flow: Flow) -> Callable[[TransferRecord], Awaitable[None]]:
        async def record(file: TransferRecord) -> None:
            outcome = {
                FileOutcome.PROCESSED: TransferOutcome.SUCCEEDED,
                FileOutcome.DUPLICATE: TransferOutcome.DUPLICATE,
                FileOutcome.RETRY: TransferOutcome.RETRYING,
            }.get(file.outcome, TransferOutcome.FAILED)
            await self.hub.ledger.record(
                Transfer(
                    flow_id=flow.id,
                    direction=Direction.IN,
                    level=Level.FILE,
                    transport=flow.transport,
                    endpoint=file.endpoint,
                    file_name=file.name,
                    remote_ref=file.name,
                    started_at=file.started_at,
                    finished_at=clock.now(),
                    outcome=outcome,
                    bytes=file.bytes,
                    checksum=file.checksum,
                    error=file.error,
                )
            )

        return record


async def take_file(hub: Hub, flow: Flow, file: FetchedFile, verdict: Verdict | None = None) -> None:
    """What an arriving file goes through: checked by the destination connector's importer (a
    vendor file is read by the vendor desk after), stored raw in the inbox, handed to the desk.
    The caller has refused card numbers in the file (:class:`FileArrivals` does on arrival)."""
    location, day = place_of(file.name, hub, clock.now())
    vendor_file = flow.data in VENDOR_DATA
    if not vendor_file:
        _check(hub, flow, file)
    message = IncomingMessage(
        source_system=flow.from_,
        kind=flow.data,
        idempotency_key=f"{flow.id}:{file.checksum}",
        payload=file.data,
        content_type="application/octet-stream",
        location_id=location.id,
    )
    await hub.inbox.accept(
        message,
        ref=f"{location.id}:{day.isoformat()}",
        business_date=day,
        processed=True,
        screened=True,
        verdict=verdict,
    )
    if vendor_file:  # stored raw first; a file that cannot be read goes to the failed folder
        await desk_of(hub).receive_file(flow, file.name, file.data)


def _check(hub: Hub, flow: Flow, file: FetchedFile) -> None:
    """The destination connector's importer checks the file, when it has one."""
    destination = hub.catalog.system(flow.to)
    connector = hub.connector(destination.connector) if destination else None
    if destination is None or connector is None or connector.make_importer is None:
        return
    context = ConnectorContext(catalog=hub.catalog, system=destination, services=hub.services)
    try:
        connector.make_importer(context).read(flow.data, file.data)
    except RejectedInput as exc:
        raise RejectedInput(f"{file.name}: {exc.message}", where=exc.where, fix=exc.fix) from None


TABULAR_FORMATS = ("csv", "tsv", "txt")
COLUMN_ROWS = 10_000
"""Rows a file's columns are typed from."""


def columns_verdict(hub: Hub, flow: Flow, file: FetchedFile) -> Verdict | None:
    """The schema drift verdict on a delimited file's columns (other files: none)."""
    if not any(kind in flow.format.lower() for kind in TABULAR_FORMATS):
        return None
    try:
        table = open_table(io.BytesIO(file.data), size=len(file.data))
        rows = [row.cells for row in itertools.islice(table.rows(), COLUMN_ROWS)]
    except RejectedInput:
        return None  # a file that cannot be read is refused on its way in, with the reason
    shape, examples = columns_shape(table.columns, rows)
    return hub.drift.observe_file(flow, shape, examples)


async def take_held_files(hub: Hub, files: list[HeldFile]) -> list[str]:
    """Take files a drift held, as if they had just arrived; returns what became of each."""
    outcomes = []
    for held in files:
        flow = hub.catalog.flow(held.flow_id)
        if flow is None:
            outcomes.append(f"{held.file_name}: flow {held.flow_id} is no longer in the catalog")
            continue
        fetched = FetchedFile(
            name=held.file_name, data=held.payload, checksum=held.checksum, mtime=clock.now()
        )
        try:
            await take_file(hub, flow, fetched)
        except ExpediterError as exc:
            outcomes.append(f"{held.file_name}: {exc}")
            continue
        await hub.drift.released_file(held.id)
        outcomes.append(f"{held.file_name}: taken")
    return outcomes
