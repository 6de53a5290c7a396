"""``expediter journal held`` / ``expediter journal release``: the days the books are waiting for.

A journal run whose day has an unmapped category, tender or fixed account writes nothing: it holds
the day in the journal queue (the hub's database, ``journal_queue``) and fails, naming the TOML to
add. ``held`` lists those days; after the manager adds the mapping, ``release`` rebuilds the day from
the stored orders and runs the journal flow(s) of that location for that date, so the file is
delivered and the ledger records it, then marks the day released.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.catalog.schema import Catalog, Flow, Level
from expediter.commands.common import CatalogOption, JsonOption, catalog_path, print_json, with_hub
from expediter.commands.listings import held_journal_row
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult, orders_between, refunded_orders_between
from expediter.ledger.transfers import TransferOutcome
from expediter.operations.accounting import HeldEntry, HoldState, MissingMapping, resolve_held
from expediter.operations.accounting.export import JOURNAL_DATA, open_journal_queue
from expediter.operations.accounting.journal import document_number
from expediter.operations.accounting.queue import StoredJournalQueue
from expediter.storage.blocking import BlockingStorage


def _console() -> Console:
    """A console per use, so the width follows the terminal (and ``COLUMNS``) of each run."""
    return Console()


journal_app = typer.Typer(
    help="Journal entries held for a missing account mapping: list them, release them once mapped.",
    no_args_is_help=True,
)


class ReleaseOutcome(msgspec.Struct, kw_only=True):
    """What ``release`` did: still ``missing`` mappings, or the runs of the journal flows."""

    document_number: str
    released: bool
    missing: list[MissingMapping] = []
    fix: str = ""
    runs: list[RunResult] = []
    error: str = ""


def held_entries(catalog: Catalog) -> list[HeldEntry]:
    """The days not released yet (held, or rebuilt and waiting for their run)."""
    with open_journal_queue(catalog) as queue:
        return [h for h in queue.list() if h.state is not HoldState.RELEASED]


def journal_flows(catalog: Catalog, location_id: str) -> list[Flow]:
    """Enabled file flows of journal data whose destination serves ``location_id``."""
    found = []
    for flow in catalog.flows:
        destination = catalog.system(flow.to)
        if flow.data != JOURNAL_DATA or not flow.enabled or flow.level is not Level.FILE:
            continue
        if destination is not None and destination.locations and location_id not in destination.locations:
            continue
        found.append(flow)
    return found


def _no_alert(kind: str, message: str) -> None:
    """Still unmapped: the command says so; no alert for a manager already at the keyboard."""


async def release_journal(hub: Hub, location_id: str, business_date: date) -> ReleaseOutcome:
    """Rebuild a held day with the current mappings, run its journal flows, mark it released."""
    number = document_number(location_id, business_date)
    queue = StoredJournalQueue(BlockingStorage(hub.storage, asyncio.get_running_loop()))
    held = await asyncio.to_thread(queue.get, number)  # the queue waits for the hub's storage
    if held is None or held.state is HoldState.RELEASED:
        state = "already released" if held else "not held"
        return ReleaseOutcome(document_number=number, released=False, error=f"journal {number} is {state}")
    location = hub.catalog.location(location_id)
    orders = await orders_between(hub, location_id, business_date, business_date)
    if location is not None:
        orders += await refunded_orders_between(hub, location, business_date, business_date)
    rebuilt = await asyncio.to_thread(
        resolve_held, queue, held, orders, hub.catalog.mappings, alert=_no_alert, location=location
    )
    if rebuilt.state is HoldState.HELD:
        fix = "\n\n".join(m.toml() for m in rebuilt.missing)
        return ReleaseOutcome(document_number=number, released=False, missing=rebuilt.missing, fix=fix)
    flows = journal_flows(hub.catalog, location_id)
    if not flows:
        error = f"no enabled journal file flow serves {location_id}; add one to the catalog"
        return ReleaseOutcome(document_number=number, released=False, error=error)
    jobs = FileJobs(hub)
    runs = [await jobs.run(flow.id, location_id, business_date) for flow in flows]
    if any(run.outcome is not TransferOutcome.SUCCEEDED for run in runs):
        return ReleaseOutcome(document_number=number, released=False, runs=runs, error="a journal run failed")
    released = await asyncio.to_thread(_mark_released, queue, number)
    return ReleaseOutcome(document_number=number, released=released, runs=runs)


def _mark_released(queue: StoredJournalQueue, number: str) -> bool:
    """The exporters release a day they build; a flow whose connector does not is released here."""
    held = queue.get(number)
    if held is not None and held.state is HoldState.RESOLVED:
        queue.release(number)
    return True


def _missing_text(held: HeldEntry) -> str:
    return ", ".join(f"{m.table.value}.{m.key}" for m in held.missing) or "(nothing: rebuilt)"


@journal_app.command("held")
def held(catalog_file: CatalogOption = None, as_json: JsonOption = False) -> None:
    """Days whose journal is held for a missing account mapping: location, date, what is missing."""
    from expediter.web.app import read_catalog

    entries = held_entries(read_catalog(catalog_path(catalog_file)))
    if as_json:
        print_json([held_journal_row(entry) for entry in entries])
        return
    table = Table("location", "business date", "state", "missing mappings", "held since (UTC)")
    table.title = f"{len(entries)} held journal entries"
    for entry in entries:
        since = entry.held_at.strftime("%Y-%m-%d %H:%M")
        row = (entry.location_id, str(entry.business_date), entry.state.value, _missing_text(entry), since)
        table.add_row(*(escape(cell) for cell in row))
    _console().print(table)
    if entries:
        _console().print("Add the mappings to expediter.toml, then: expediter journal release LOCATION DATE")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD", param_hint="DATE") from None


@journal_app.command("release")
def release(
    location: Annotated[str, typer.Argument(help="The location id of the held day.")],
    day: Annotated[str, typer.Argument(metavar="DATE", help="The held business date, YYYY-MM-DD.")],
    catalog_file: CatalogOption = None,
) -> None:
    """Rebuild a held day with the mappings now in the catalog and deliver it through its journal
    flow(s); exits 1 (saying what is still missing) when it cannot."""
    business_date = _parse_day(day)
    outcome = with_hub(catalog_path(catalog_file), lambda hub: release_journal(hub, location, business_date))
    if outcome.missing:
        _console().print(f"[red]journal {outcome.document_number} is still held[/]: add to expediter.toml")
        _console().print(outcome.fix, markup=False)
        raise typer.Exit(1)
    for run in outcome.runs:
        colour = "green" if run.outcome is TransferOutcome.SUCCEEDED else "red"
        files = escape(", ".join(run.files) + " " + run.error)
        _console().print(f"{run.flow_id}: [{colour}]{run.outcome}[/] {files}".rstrip(), highlight=False)
    if not outcome.released:
        _console().print(f"[red]journal {outcome.document_number} not released[/]: {escape(outcome.error)}")
        raise typer.Exit(1)
    _console().print(f"journal {outcome.document_number} released")


def register(app: typer.Typer) -> None:
    app.add_typer(journal_app, name="journal")
