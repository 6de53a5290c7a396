"""``expediter run FLOW``: run a file flow now — re-run a night, or backfill a range of nights.

Each run exports the flow's data for one location and business date, moves the files with the
flow's transport and records the transfers, exactly as a scheduled run does. A flow whose data
covers a period (``payroll``) runs once over the whole range.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from expediter.access.audit import AuditAction, AuditLog
from expediter.catalog.schema import Catalog
from expediter.commands.common import CatalogOption, catalog_path
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult
from expediter.engine.schedule_time import closes_business_date
from expediter.ledger.transfers import TransferOutcome
from expediter.model.location import Location

PERIOD_DATA = frozenset({"payroll"})
"""Data kinds a run produces for a whole period (a pay period), not per business date."""

console = Console()


def _parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD", param_hint=option) from None


def plan(locations: list[str], start: date, end: date, per_period: bool) -> list[tuple[str, date, date]]:
    """(location, start, end) for every run: one per business date, or one per location."""
    if per_period:
        return [(loc, start, end) for loc in locations]
    days = (end - start).days + 1
    return [(loc, start + timedelta(d), start + timedelta(d)) for loc in locations for d in range(days)]


def run(
    flow: Annotated[str, typer.Argument(help="The flow id (see `expediter flows`).")],
    on: Annotated[
        str | None, typer.Option("--date", help="One business date, YYYY-MM-DD (default: last night).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First business date of a backfill.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last business date of a backfill.")] = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="One location id (default: every location).")
    ] = None,
    catalog_file: CatalogOption = None,
) -> None:
    """Run a file flow now: re-run a night or backfill a range; every run is in the ledger."""
    from expediter.web.app import read_catalog

    config = catalog_path(catalog_file)
    catalog = read_catalog(config)
    found = catalog.flow(flow)
    if found is None:
        raise typer.BadParameter(f"no flow {flow!r}; `expediter flows` lists them", param_hint="FLOW")
    places = [loc for loc in catalog.locations if location in (None, loc.id)]
    if not places:
        raise typer.BadParameter(f"no location {location!r} in the catalog", param_hint="--location")
    first, last = chosen_dates(on, start, end, places[0])
    ids = [loc.id for loc in places]
    runs = plan(ids, first, last, found.data in PERIOD_DATA)
    results = asyncio.run(_run_all(catalog, flow, runs))
    _print(results)
    if any(r.outcome is not TransferOutcome.SUCCEEDED for r in results):
        raise typer.Exit(1)


def chosen_dates(on: str | None, start: str | None, end: str | None, location: Location) -> tuple[date, date]:
    """The business dates ``--date`` or ``--from``/``--to`` name; without them, the night that
    closed last at ``location``."""
    if on and (start or end):
        raise typer.BadParameter("give either --date or --from/--to, not both")
    if on:
        day = _parse_date(on, "--date")
        assert day is not None
        return day, day
    if start or end:
        first, last = _parse_date(start, "--from"), _parse_date(end, "--to")
        if first is None or last is None:
            raise typer.BadParameter("a backfill needs both --from and --to")
        if last < first:
            raise typer.BadParameter("--to is before --from")
        return first, last
    from expediter.model import clock

    night = closes_business_date(location, clock.now())
    return night, night


async def _run_all(catalog: Catalog, flow_id: str, runs: list[tuple[str, date, date]]) -> list[RunResult]:
    results: list[RunResult] = []
    async with Hub(catalog, deliver=False) as hub:
        jobs = FileJobs(hub)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=len(runs) < 2,
        ) as progress:
            task = progress.add_task(f"running {flow_id}", total=len(runs))
            for location_id, first, last in runs:
                result = await jobs.run(flow_id, location_id, first, last)
                results.append(result)
                detail = f"{first}..{last}: {result.outcome}"
                await AuditLog(hub.storage).record_command(
                    AuditAction.RUN, flow_id, detail, location_id=location_id
                )
                progress.advance(task)
    return results


def _print(results: list[RunResult]) -> None:
    table = Table(title="Runs", title_justify="left")
    for column in ("flow", "location", "business date", "outcome", "files", "records", "error"):
        table.add_column(column)
    for r in results:
        dates = f"{r.start_date}" if r.start_date == r.end_date else f"{r.start_date} → {r.end_date}"
        colour = "green" if r.outcome is TransferOutcome.SUCCEEDED else "red"
        table.add_row(
            r.flow_id,
            r.location_id,
            dates,
            f"[{colour}]{r.outcome}[/]",
            ", ".join(r.files),
            str(r.records),
            r.error,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
