"""``expediter import`` / ``expediter export``: the manual level, a person moving a file.

``import FLOW FILE`` reads a file for an inbound flow (count sheets, the roster, menu items,
recipes, a vendor's price list, vendor invoices: the flow's ``data`` says which), a row at a time
with a progress bar: every row is checked and every problem listed by row and column; the good
rows are committed at once and the bad ones quarantined, written with ``--quarantine OUT.csv`` to
fix and import again (see :mod:`expediter.engine.imports`). ``--dry-run`` checks and keeps nothing.

``export KIND`` runs the exporter of the flow that carries KIND for the stored data and writes the
files into a folder instead of sending them; each file is a manual outbound transfer in the ledger.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from expediter.catalog.schema import Catalog, Flow, Level
from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.engine import imports
from expediter.engine.hub import Hub
from expediter.engine.jobs import export_request
from expediter.errors import ConfigError, ExpediterError, RejectedInput, TerminalError
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome, checksum_of
from expediter.model import clock
from expediter.model.location import Location
from expediter.plugin.base import ConnectorContext, Exporter, ExportRequest, OutputFile


def _console() -> Console:
    """A console per use, so the width follows the terminal (and ``COLUMNS``) of each run."""
    return Console()


DOWNLOAD = "download"
SHOWN_ROWS = 50


class ExportKind(StrEnum):
    SALES_SUMMARY = "sales_summary"
    PRODUCT_MIX = "product_mix"
    LABOR = "labor"
    JOURNAL = "journal"
    INVENTORY_USAGE = "inventory_usage"
    PURCHASE_ORDER = "purchase_order"
    PAYROLL = "payroll"


# -- import -----------------------------------------------------------------------------------------


class ImportResult(msgspec.Struct, kw_only=True):
    record: imports.ImportRecord
    bad_rows: list[imports.BadRow]
    samples: list[imports.GoodRow]
    committed: imports.Committed | None = None
    quarantined: int = 0


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


@contextmanager
def _progress_bar(size: int) -> Iterator[imports.Progress]:
    """A bar over the file's bytes, with the rows read so far (on stderr, gone when done)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=size or None)

        def update(read_bytes: int, rows: int) -> None:
            bar.update(task, completed=read_bytes, description=f"{rows:,} rows")

        yield update


async def run_import(
    hub: Hub,
    request: imports.ImportRequest,
    stream: BinaryIO,
    *,
    size: int,
    dry_run: bool,
    quarantine: BinaryIO | None,
    progress: imports.Progress | None = None,
) -> ImportResult:
    """Read the file; unless ``dry_run``, commit its good rows; write the bad ones to ``quarantine``."""
    if dry_run:
        record, bad, samples = await imports.dry_run(
            hub, request, stream, size=size, progress=progress, quarantine=quarantine
        )
        return ImportResult(record=record, bad_rows=bad, samples=samples, quarantined=record.rows_bad)
    record = await imports.read_file(hub, request, stream, size=size, progress=progress)
    if record.state is not imports.ImportState.PREVIEWED:
        return ImportResult(record=record, bad_rows=[], samples=[])
    found = await imports.preview(hub, record.id)
    committed = await imports.commit(hub, record.id, endpoint=request.endpoint) if record.rows_good else None
    written = await imports.write_quarantine(hub.storage, record.id, quarantine) if quarantine else 0
    final = committed.record if committed else record
    return ImportResult(
        record=final, bad_rows=found.bad_rows, samples=found.samples, committed=committed, quarantined=written
    )


def _show(result: ImportResult, title: str) -> None:
    record = result.record
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
        record.delimiter, record.delimiter
    )
    _console().print(
        f"{escape(title)}: {record.encoding_label}, {delimiter}-delimited; {_rows(record.rows_read)}:"
        f" {record.rows_good:,} good, {record.rows_bad:,} to quarantine",
        highlight=False,
    )
    if record.unknown_columns:
        names = ", ".join(record.unknown_columns)
        _console().print(f"[yellow]not read:[/] column {escape(names)} (check the spelling)", highlight=False)
    if result.samples:
        table = Table("row", *record.header, title="first good rows")
        for sample in result.samples:
            table.add_row(str(sample.row), *(escape(c) for c in sample.cells[: len(record.header)]))
        _console().print(table)
    if result.bad_rows:
        _problems(result.bad_rows, record.rows_bad)


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def _problems(rows: list[imports.BadRow], total: int) -> None:
    table = Table("row", "column", "problem", "fix", title="problems")
    for row in rows[:SHOWN_ROWS]:
        for problem in row.problems:
            table.add_row(str(row.row), problem.column or "—", escape(problem.message), escape(problem.fix))
    if total > SHOWN_ROWS:
        table.caption = f"... and {total - SHOWN_ROWS:,} more rows (all of them in the quarantine file)"
    _console().print(table)


def _conclude(result: ImportResult, quarantine: Path | None, dry_run: bool) -> int:
    """Say what happened; the exit code (0 every row, 2 some quarantined, 1 nothing imported)."""
    record = result.record
    if record.state is imports.ImportState.FAILED:
        _console().print(f"[red]error:[/] {escape(record.error)}", highlight=False)
        return 1
    if record.rows_read == 0:
        _console().print("[red]error:[/] the file has no rows below its header", highlight=False)
        return 1
    if quarantine is not None and record.rows_bad:
        _console().print(
            f"{record.rows_bad:,} rows written to {escape(str(quarantine))}: fix them and import it"
        )
    elif record.rows_bad:
        where = "" if dry_run else f" (or download them from the dashboard, /imports/{record.id})"
        _console().print(f"{_rows(record.rows_bad)} quarantined: --quarantine OUT.csv writes them out{where}")
    if dry_run:
        _console().print("dry run: nothing stored")
        return 2 if record.rows_bad else 0
    if result.committed is None:
        _console().print("[red]nothing imported:[/] no row of the file is good")
        return 1
    state = "already imported (same file)" if result.committed.duplicate else "stored"
    _console().print(f"{state}: {record.outcome}; transfer recorded for flow {record.flow_id}")
    return 2 if record.rows_bad else 0


def import_command(
    flow: Annotated[str, typer.Argument(help="The inbound flow; its data says what the file is.")],
    file: Annotated[Path, typer.Argument(help="The file to import (CSV, semicolon or tab text).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and show the problems; keep nothing.")
    ] = False,
    quarantine: Annotated[
        Path | None,
        typer.Option("--quarantine", help="Write the bad rows here (a CSV to fix and import again)."),
    ] = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="The location (default: the only one).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="The business date, YYYY-MM-DD (default: today's).")
    ] = None,
    catalog_file: CatalogOption = None,
) -> None:
    """Import a file for an inbound flow: count sheets, employees, menu items, recipes, a price
    list or vendor invoices. Good rows are committed at once; bad ones are listed by row and column
    and quarantined (exit 2); a file that cannot be read exits 1 and keeps nothing."""
    from expediter.web.app import read_catalog

    config = catalog_path(catalog_file)
    catalog = read_catalog(config)
    place = _location(catalog, location)
    business_date = _day(on, "--date") or place.business_date_for(clock.now())
    try:
        found = imports.import_flow(catalog, flow)
        size = file.stat().st_size
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="FILE") from None
    except ExpediterError as exc:
        raise _fail(exc) from None
    request = imports.ImportRequest(
        flow=found,
        location=place,
        business_date=business_date,
        file_name=file.name,
        endpoint=str(file.resolve().parent),
    )

    async def work(hub: Hub) -> ImportResult:
        with file.open("rb") as stream, _quarantine_file(quarantine) as out, _progress_bar(size) as bar:
            return await run_import(
                hub, request, stream, size=size, dry_run=dry_run, quarantine=out, progress=bar
            )

    try:
        result = with_hub(config, work)
    except ExpediterError as exc:
        raise _fail(exc) from None
    _show(result, f"{file.name} → {found.id} ({place.id} {business_date})")
    code = _conclude(result, quarantine, dry_run)
    if code:
        raise typer.Exit(code)


@contextmanager
def _quarantine_file(path: Path | None) -> Iterator[BinaryIO | None]:
    """The quarantine file, written under a temporary name and renamed when complete."""
    if path is None:
        yield None
        return
    partial = path.with_name(f".{path.name}.part")
    with partial.open("wb") as out:
        yield out
    os.replace(partial, path)


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
    """What the exporter works on; it reads the count sheets through the engine's lookup."""
    return await export_request(hub, flow, location, start, end)


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
