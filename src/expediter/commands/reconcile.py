"""``expediter reconcile``, ``expediter heal`` and ``expediter trace``: proof that the systems agree.

``reconcile`` compares, per location and business date, what each system holds (the POS's orders
and punches, the kitchen's tickets, the files the ledger says went out and what their
destinations hold) and stores the results the dashboard's calendar shows; a difference lists the
records. ``heal`` looks back over the last 30 nights for missing files and inputs that changed
after they went out, and re-runs them under each flow's ``heal`` policy. ``trace`` shows one
order through every system. All three open the catalog's database, like ``expediter run``; the
running hub does the same every 15 minutes and alerts the flows' owners.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.commands.common import CatalogOption, JsonOption, catalog_path, print_json
from expediter.commands.run import chosen_dates
from expediter.engine.heal import LOOK_BACK_DAYS, Healer, HealOutcome, Night
from expediter.engine.hub import Hub
from expediter.engine.reconcile import Reconciler
from expediter.engine.trace import Journey, Tracer
from expediter.monitor.reconcile.common import amount_text
from expediter.monitor.reconcile.model import CHECK_TITLES, CheckName, CheckResult, CheckState
from expediter.operations.kitchen.store import KitchenStore

T = TypeVar("T")
console = Console()
COLOURS = {CheckState.AGREE: "green", CheckState.DIFFER: "red", CheckState.PENDING: "yellow"}
LocationOption = Annotated[
    str | None, typer.Option("--location", "-l", help="One location id (default: every location).")
]
TraceJsonOption = Annotated[bool, typer.Option("--json", help="Print the journey as one JSON object.")]
"""``--json`` of ``trace``, which prints one object; the listings use the shared option."""


@contextlib.asynccontextmanager
async def _kitchen(hub: Hub) -> AsyncIterator[KitchenStore | None]:
    """The kitchen's tickets (for the kitchen check): its tables in the hub's database."""
    yield KitchenStore(hub.storage)


def _with_hub(catalog: Path, work: Callable[[Hub, KitchenStore | None], Awaitable[T]]) -> T:
    from expediter.web.app import read_catalog

    async def main() -> T:
        async with Hub(read_catalog(catalog), deliver=False) as hub, _kitchen(hub) as kitchen:
            return await work(hub, kitchen)

    return asyncio.run(main())


def _locations(hub: Hub, location: str | None) -> list[str]:
    ids = [loc.id for loc in hub.catalog.locations if location in (None, loc.id)]
    if not ids:
        raise typer.BadParameter(f"no location {location!r} in the catalog", param_hint="--location")
    return ids


def reconcile(
    on: Annotated[
        str | None, typer.Option("--date", help="One business date, YYYY-MM-DD (default: last night).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First business date of a range.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last business date of a range.")] = None,
    location: LocationOption = None,
    check: Annotated[
        list[CheckName] | None, typer.Option("--check", help="Only this check (repeat for several).")
    ] = None,
    as_json: JsonOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Do the systems agree? Per location and business date: sales, kitchen tickets, webhooks
    against the nightly poll, punches against payroll, online orders against the POS, and files
    against what their destinations hold. Exit code 1 when a check differs."""

    async def work(hub: Hub, kitchen: KitchenStore | None) -> list[CheckResult]:
        places = _locations(hub, location)
        first_location = hub.catalog.location(places[0])
        assert first_location is not None
        first, last = chosen_dates(on, start, end, first_location)
        return await Reconciler(hub, kitchen).reconcile(places, first, last, check or ())

    results = _with_hub(catalog_path(catalog), work)
    if as_json:
        print_json(results)
    else:
        _print_results(results)
    if any(r.state is CheckState.DIFFER for r in results):
        raise typer.Exit(1)


def _print_results(results: list[CheckResult]) -> None:
    if not results:
        console.print("No checks apply: no flow of this catalog carries what a check compares.")
        return
    table = Table("location", "business date", "check", "state", "summary", title="Reconciliation")
    for r in results:
        colour = COLOURS[r.state]
        table.add_row(
            r.location_id,
            str(r.business_date),
            CHECK_TITLES[r.check],
            f"[{colour}]{r.state}[/]",
            escape(r.summary),
        )
    console.print(table)
    for r in results:
        if r.differences:
            _print_differences(r)


def _print_differences(result: CheckResult) -> None:
    table = Table(
        "record",
        "problem",
        "values",
        title=f"{result.location_id} {result.business_date} {result.check}: differences",
        title_justify="left",
    )
    for d in result.differences:
        values = ", ".join(f"{k} {amount_text(v, result.unit, result.currency)}" for k, v in d.values.items())
        table.add_row(escape(d.record), escape(d.problem), escape(values))
    console.print(table)


def heal(
    days: Annotated[
        int, typer.Option("--days", min=1, help="How many business dates to look back.")
    ] = LOOK_BACK_DAYS,
    location: LocationOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the nights; run nothing.")] = False,
    as_json: JsonOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Find the nights whose files are missing or whose inputs changed after they went out (a
    late refund, a replayed order) and run them again under each flow's `heal` policy. Exit code 1
    when a night is still missing or waits for a person."""

    async def work(hub: Hub, kitchen: KitchenStore | None) -> list[Night]:
        healer = Healer(hub)
        nights = await healer.find(days=days, location_ids=_locations(hub, location))
        return nights if dry_run else await healer.heal(nights)

    nights = _with_hub(catalog_path(catalog), work)
    if as_json:
        print_json(nights)
    else:
        _print_nights(nights, dry_run)
    if any(n.outcome in (HealOutcome.FAILED, HealOutcome.ASKED) or n.outcome is None for n in nights):
        raise typer.Exit(1)


def _print_nights(nights: list[Night], dry_run: bool) -> None:
    if not nights:
        console.print("Every night of the look-back went out, and none changed since.")
        return
    table = Table(
        "flow", "location", "business date", "problem", "policy", "outcome", "files / error", title="Nights"
    )
    for n in nights:
        outcome = "(dry run)" if dry_run else str(n.outcome)
        colour = "red" if n.outcome in (HealOutcome.FAILED, HealOutcome.ASKED) or dry_run else "green"
        table.add_row(
            n.flow_id,
            n.location_id,
            str(n.business_date),
            f"{n.problem}: {escape(n.detail)}",
            str(n.policy),
            f"[{colour}]{outcome}[/]",
            escape(", ".join(n.files) or n.error),
        )
    console.print(table)


def trace(
    order: Annotated[str, typer.Argument(help="The order's id, as the hub stores it.")],
    as_json: TraceJsonOption = False,
    catalog: CatalogOption = None,
) -> None:
    """One order through every system: how it came in, where it was stored, its kitchen tickets,
    the status sent back, and its lines in every nightly file, with each transfer that carried it."""

    async def work(hub: Hub, kitchen: KitchenStore | None) -> Journey:
        return await Tracer(hub, kitchen).trace(order)

    journey = _with_hub(catalog_path(catalog), work)
    if as_json:
        typer.echo(msgspec.json.encode(journey).decode())
        return
    _print_journey(journey)


def _print_journey(journey: Journey) -> None:
    console.print(
        f"[bold]{escape(journey.order_id)}[/] at {journey.location_id}, business date {journey.business_date}"
    )
    for v in journey.versions:
        console.print(
            f"  version {v.version}: {v.total.format()} {v.state}, by {v.via} from {v.source_system}"
            f" (message {v.message_id})"
        )
    table = Table("when (UTC)", "stage", "system", "flow", "what", title="Journey", title_justify="left")
    for hop in journey.hops:
        when = hop.at.strftime("%Y-%m-%d %H:%M:%S") if hop.at else ""
        table.add_row(when, str(hop.stage), escape(hop.system), hop.flow_id, escape(hop.what))
    console.print(table)
    for share in journey.files:
        console.print(f"[bold]{share.flow_id}[/] {share.business_date}: {', '.join(share.files)}")
        for line in share.lines:
            console.print(f"  {escape(line)}")


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
    app.command("heal")(heal)
    app.command("trace")(trace)
