"""``expediter import`` / ``expediter export``: the manual level, a person moving a file.

``import FLOW FILE`` reads a file for an inbound flow (today: on-hand counts, flow data
``inventory_counts``), validates all of it first (a bad row → exit 1 naming the row and column and
how to fix it; nothing stored), shows a preview with ``--dry-run``, else stores it in the hub's inbox
(kind ``inventory_counts``, ref ``location:date``) and records an inbound transfer in the ledger.

``export KIND`` runs the exporter of the flow that carries KIND for the stored data and writes the
files into a folder instead of sending them; each file is a manual outbound transfer in the ledger.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.catalog.schema import Catalog, Flow, Level
from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.connectors.base import ConnectorContext, Exporter, ExportRequest, IncomingMessage, OutputFile
from expediter.engine.hub import Hub
from expediter.engine.jobs import export_request
from expediter.errors import ConfigError, ExpediterError, RejectedInput, TerminalError
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome, checksum_of
from expediter.model import clock
from expediter.model.cards import refuse_card_numbers_in_payload
from expediter.model.location import Location
from expediter.operations.accounting.export import business_dates
from expediter.operations.inventory.counts import CountLine, parse_count_sheet
from expediter.operations.inventory.export import (
    COUNTS_EXTRA,
    COUNTS_KIND,
    PURCHASE_ORDER_DATA,
    USAGE_DATA,
    CountsOnFile,
    counts_in_storage,
    load_book,
)
from expediter.operations.inventory.recipes import RecipeBook


def _console() -> Console:
    """A console per use, so the width follows the terminal (and ``COLUMNS``) of each run."""
    return Console()


UPLOAD = "upload"
DOWNLOAD = "download"
MANUAL_SOURCE = "manual:"
"""Imported messages come from ``manual:<flow id>``: no flow routes them onward by accident."""


class ExportKind(StrEnum):
    SALES_SUMMARY = "sales_summary"
    PRODUCT_MIX = "product_mix"
    LABOR = "labor"
    JOURNAL = "journal"
    INVENTORY_USAGE = "inventory_usage"
    PURCHASE_ORDER = "purchase_order"
    PAYROLL = "payroll"


class Imported(msgspec.Struct, kw_only=True):
    flow_id: str
    location_id: str
    business_date: date
    records: int
    message_id: int | None = None
    duplicate: bool = False


# -- import -----------------------------------------------------------------------------------------


def recipe_book_for(catalog: Catalog, flow: Flow) -> RecipeBook | None:
    """The recipe book of the flow's systems (or of any system naming one), to check ingredients."""
    systems = [catalog.system(flow.to), catalog.system(flow.from_), *catalog.systems]
    for system in systems:
        if system is not None and system.settings.get("recipes"):
            return load_book(catalog, str(system.settings["recipes"]))
    return None


def parse_counts(catalog: Catalog, flow: Flow, data: bytes) -> list[CountLine]:
    """Every line of a count sheet, or ``RejectedInput`` naming the first bad row and column."""
    return parse_count_sheet(data, recipe_book_for(catalog, flow))


def import_flow(catalog: Catalog, flow_id: str) -> Flow:
    flow = catalog.flow(flow_id)
    if flow is None:
        raise ConfigError(f"no flow {flow_id!r} in the catalog; `expediter flows` lists them")
    if flow.data != COUNTS_KIND:
        raise ConfigError(f"flow {flow_id}: importing {flow.data!r} is not supported (only {COUNTS_KIND})")
    return flow


async def store_import(
    hub: Hub, flow: Flow, file: Path, data: bytes, location_id: str, business_date: date, records: int
) -> Imported:
    """Store the validated file in the inbox and record the inbound transfer."""
    started = clock.now()
    ref = f"{location_id}:{business_date.isoformat()}"
    message = IncomingMessage(
        source_system=f"{MANUAL_SOURCE}{flow.id}",
        kind=flow.data,
        idempotency_key=f"{flow.id}:{ref}:{checksum_of(data)}",
        payload=data,
        content_type="text/csv",
        location_id=location_id,
    )
    accepted = await hub.inbox.accept(message, ref=ref, business_date=business_date, processed=True)
    await hub.ledger.record(
        Transfer(
            flow_id=flow.id,
            direction=Direction.IN,
            level=Level.MANUAL,
            transport=UPLOAD,
            endpoint=str(file.resolve().parent),
            file_name=file.name,
            remote_ref=ref,
            started_at=started,
            finished_at=clock.now(),
            outcome=TransferOutcome.DUPLICATE if accepted.duplicate else TransferOutcome.SUCCEEDED,
            records=0 if accepted.duplicate else records,
            bytes=len(data),
            checksum=checksum_of(data),
            location_id=location_id,
            business_date=business_date,
            message_id=accepted.message_id,
        )
    )
    return Imported(
        flow_id=flow.id,
        location_id=location_id,
        business_date=business_date,
        records=records,
        message_id=accepted.message_id,
        duplicate=accepted.duplicate,
    )


def _location(catalog: Catalog, location_id: str | None) -> Location:
    if location_id is None:
        if len(catalog.locations) == 1:
            return catalog.locations[0]
        raise typer.BadParameter("the catalog has several locations; name one", param_hint="--location")
    found = catalog.location(location_id)
    if found is None:
        raise typer.BadParameter(f"no location {location_id!r} in the catalog", param_hint="--location")
    return found


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD", param_hint=option) from None


def _fail(error: ExpediterError) -> typer.Exit:
    """Print the problem (with where and how to fix it, for a rejected file); exit code 1."""
    if isinstance(error, RejectedInput):
        lines = [f"[red]error:[/] {escape(error.message)}"]
        lines += [f"  where: {escape(error.where)}"] if error.where else []
        lines += [f"  fix: {escape(error.fix)}"] if error.fix else []
    else:
        lines = [f"[red]error:[/] {escape(str(error))}"]
    _console().print("\n".join(lines), highlight=False)
    return typer.Exit(1)


def _preview(lines: list[CountLine], title: str) -> None:
    table = Table("row", "ingredient", "quantity", "unit", title=title)
    for line in lines[:50]:
        table.add_row(str(line.row), escape(line.ingredient), format(line.quantity, "f"), line.unit.value)
    if len(lines) > 50:
        table.caption = f"... and {len(lines) - 50} more rows"
    _console().print(table)


def import_command(
    flow: Annotated[str, typer.Argument(help="The inbound flow (its data: inventory_counts).")],
    file: Annotated[Path, typer.Argument(help="The file to import (an on-hand count CSV).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and preview only; store nothing.")
    ] = False,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="The location (default: the only one).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="The business date counted, YYYY-MM-DD (default: today's).")
    ] = None,
    catalog_file: CatalogOption = None,
) -> None:
    """Import a file for an inbound flow: on-hand counts (columns ingredient, unit, quantity).
    Every row is checked first; a bad file exits 1 naming the row and column, and nothing is stored."""
    from expediter.web.app import read_catalog

    config = catalog_path(catalog_file)
    catalog = read_catalog(config)
    place = _location(catalog, location)
    business_date = _day(on, "--date") or place.business_date_for(clock.now())
    try:
        found = import_flow(catalog, flow)
        data = file.read_bytes()
        refuse_card_numbers_in_payload(data, "text/csv")  # before any error could quote one
        lines = parse_counts(catalog, found, data)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="FILE") from None
    except ExpediterError as exc:
        raise _fail(exc) from None
    title = f"{file.name}: {len(lines)} rows for {place.id} {business_date}"
    _preview(lines, title)
    if dry_run:
        _console().print("dry run: nothing stored")
        return
    done = with_hub(
        config, lambda hub: store_import(hub, found, file, data, place.id, business_date, len(lines))
    )
    state = "already imported (same file)" if done.duplicate else "stored"
    _console().print(f"{state}: message {done.message_id}; transfer recorded for flow {found.id}")


# -- export -----------------------------------------------------------------------------------------


def export_flow(catalog: Catalog, kind: str, flow_id: str | None) -> Flow:
    """The flow whose exporter writes ``kind``: the one named, else the first that carries it."""
    if flow_id is not None:
        flow = catalog.flow(flow_id)
        if flow is None or flow.data != kind:
            raise ConfigError(f"flow {flow_id!r} does not carry {kind}")
        return flow
    flows = sorted((f for f in catalog.flows if f.data == kind), key=lambda f: not f.enabled)
    if not flows:
        raise ConfigError(
            f"no flow carries {kind}; declare one (its `to` system's connector writes the files)"
        )
    return flows[0]


def _exporter(hub: Hub, flow: Flow) -> Exporter:
    system = hub.catalog.system(flow.to)
    if system is None:
        raise ConfigError(f"flow {flow.id}: destination system {flow.to!r} is not in the catalog")
    connector = hub.connector(system.connector)
    if connector is None or connector.make_exporter is None:
        raise TerminalError(f"system {system.id}: connector {system.connector!r} writes no files")
    context = ConnectorContext(catalog=hub.catalog, system=system, services=hub.services)
    exporter: Exporter = connector.make_exporter(context)
    return exporter


async def _request(hub: Hub, flow: Flow, location: Location, start: date, end: date) -> ExportRequest:
    extra: dict[str, object] = {}
    if flow.data in (USAGE_DATA, PURCHASE_ORDER_DATA):
        counts = {
            day: await counts_in_storage(hub.storage, location.id, day) for day in business_dates(start, end)
        }
        extra[COUNTS_EXTRA] = lambda _location, day: counts.get(day, CountsOnFile())
    return await export_request(hub, flow, location, start, end, extra)


def write_file(folder: Path, output: OutputFile) -> Path:
    """Written under a temporary name, then renamed: a re-export replaces the file whole."""
    target = folder / output.name
    partial = folder / f".{output.name}.part"
    partial.write_bytes(output.data)
    os.replace(partial, target)
    return target


class ExportOutcome(msgspec.Struct, kw_only=True):
    location_id: str
    start_date: date
    end_date: date
    files: list[str] = []
    records: int = 0
    error: str = ""


async def export_to_folder(
    hub: Hub, flow: Flow, location: Location, start: date, end: date, folder: Path
) -> ExportOutcome:
    """Run the flow's exporter for the stored data, write the files, record manual transfers."""
    started = clock.now()
    outcome = ExportOutcome(location_id=location.id, start_date=start, end_date=end)
    try:
        request = await _request(hub, flow, location, start, end)
        outputs = await asyncio.to_thread(_exporter(hub, flow).export, flow.data, request)
    except ExpediterError as exc:
        outcome.error = str(exc)
        await hub.ledger.record(_transfer(flow, location, start, started, folder, error=str(exc)))
        return outcome
    folder.mkdir(parents=True, exist_ok=True)
    for output in outputs:
        path = write_file(folder, output)
        await hub.ledger.record(_transfer(flow, location, start, started, folder, output=output, path=path))
        outcome.files.append(str(path))
        outcome.records += output.records
    return outcome


def _transfer(
    flow: Flow,
    location: Location,
    day: date,
    started: datetime,
    folder: Path,
    *,
    output: OutputFile | None = None,
    path: Path | None = None,
    error: str = "",
) -> Transfer:
    return Transfer(
        flow_id=flow.id,
        direction=Direction.OUT,
        level=Level.MANUAL,
        transport=DOWNLOAD,
        endpoint=str(folder.resolve()),
        file_name=output.name if output else "",
        remote_ref=str(path) if path else "",
        started_at=started,
        finished_at=clock.now(),
        outcome=TransferOutcome.FAILED if error else TransferOutcome.SUCCEEDED,
        records=output.records if output else 0,
        bytes=len(output.data) if output else 0,
        checksum=checksum_of(output.data) if output else "",
        error=error,
        location_id=location.id,
        business_date=day,
    )


def _ranges(
    kind: ExportKind, on: date | None, start: date | None, end: date | None
) -> list[tuple[date, date]]:
    if on is not None and (start or end):
        raise typer.BadParameter("give either --date or --from/--to, not both")
    if on is not None:
        return [(on, on)]
    if start is None or end is None:
        need = (
            "--from and --to (the pay period)"
            if kind is ExportKind.PAYROLL
            else "--date (or --from and --to)"
        )
        raise typer.BadParameter(f"{kind.value} needs {need}")
    if end < start:
        raise typer.BadParameter("--to is before --from")
    if kind is ExportKind.PAYROLL:
        return [(start, end)]
    return [(start + timedelta(days=n), start + timedelta(days=n)) for n in range((end - start).days + 1)]


def export_command(
    kind: Annotated[
        ExportKind,
        typer.Argument(
            help="What to export: sales_summary, product_mix, labor, journal, inventory_usage,"
            " purchase_order or payroll.",
            case_sensitive=False,
        ),
    ],
    on: Annotated[str | None, typer.Option("--date", help="One business date, YYYY-MM-DD.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First business date (payroll: the period).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last business date (payroll: the period).")] = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="One location id (default: every location).")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the files into (default: here).")
    ] = Path("."),
    flow: Annotated[
        str | None,
        typer.Option("--flow", help="The flow whose format to use (default: the first carrying KIND)."),
    ] = None,
    catalog_file: CatalogOption = None,
) -> None:
    """Export stored data to files in a folder, in the format of the flow that carries KIND
    (no transport); each file is a manual transfer in the ledger."""
    from expediter.web.app import read_catalog

    config = catalog_path(catalog_file)
    catalog = read_catalog(config)
    ranges = _ranges(kind, _day(on, "--date"), _day(start, "--from"), _day(end, "--to"))
    places = [loc for loc in catalog.locations if location in (None, loc.id)]
    if not places:
        raise typer.BadParameter(f"no location {location!r} in the catalog", param_hint="--location")
    try:
        found = export_flow(catalog, kind.value, flow)
    except ExpediterError as exc:
        raise _fail(exc) from None

    async def work(hub: Hub) -> list[ExportOutcome]:
        return [
            await export_to_folder(hub, found, place, first, last, output)
            for place in places
            for first, last in ranges
        ]

    outcomes = with_hub(config, work)
    _print_exports(found, outcomes)
    if any(o.error for o in outcomes):
        raise typer.Exit(1)


def _print_exports(flow: Flow, outcomes: list[ExportOutcome]) -> None:
    table = Table("location", "business date", "files", "records", "error", title=f"export ({flow.id})")
    for o in outcomes:
        dates = str(o.start_date) if o.start_date == o.end_date else f"{o.start_date} → {o.end_date}"
        files = "\n".join(o.files)
        table.add_row(o.location_id, dates, escape(files), str(o.records), escape(o.error.split("\n")[0]))
    _console().print(table)
    for o in outcomes:
        if o.error:
            _console().print(f"[red]{o.location_id}[/]: {escape(o.error)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)
