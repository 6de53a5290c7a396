"""``expediter drawer count`` / ``expediter drawer show``: the cash counted at close.

A count is stored in the hub (kind ``drawer_count``, the latest count of a day wins) and the day's
journal flows run again, so the entry posts the difference as cash over or short. A journal flow
whose ``settings.drawer_count`` is ``"required"`` holds a day until its drawer is counted; the
count then releases it. ``show`` gives the expected cash (cash tenders and their tips, less cash
refunds), the count and the difference.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape

from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.commands.journal import journal_flows
from expediter.engine.hub import Hub
from expediter.engine.jobs import (
    FileJobs,
    RunResult,
    drawer_counts_between,
    orders_between,
    refunded_orders_between,
)
from expediter.errors import ConfigError, RejectedInput
from expediter.ledger.transfers import TransferOutcome
from expediter.model import clock
from expediter.model.money import Money
from expediter.operations.accounting.export import closing_orders
from expediter.operations.accounting.journal import DrawerCount, build_journal
from expediter.operations.accounting.mapping import UnmappedAccounts
from expediter.plugin.base import IncomingMessage

DRAWER_KIND = "drawer_count"
SOURCE = "manual"

drawer_app = typer.Typer(
    help="The cash drawer counted at close: record a count (posts cash over/short), show a day.",
    no_args_is_help=True,
)


class DrawerStatus(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    expected_cash: Money
    counted: DrawerCount | None = None
    difference: Money | None = None
    """Counted − expected: over when positive, short when negative."""
    error: str = ""


def parse_amount(text: str, currency: str) -> Money:
    """``"1234.56"`` → Money in minor units; a negative amount or a third decimal is refused."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise RejectedInput(f"{text!r} is not an amount", fix="write the counted cash as 1234.56") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise RejectedInput(f"{text!r} is not an amount of cash", fix="write the counted cash as 1234.56")
    return Money(int(value * 100), currency)


def _location(hub: Hub, location_id: str) -> str:
    location = hub.catalog.location(location_id)
    if location is None:
        raise ConfigError(f"no location {location_id!r} in the catalog")
    return location.currency


async def record_drawer_count(
    hub: Hub, location_id: str, business_date: date, counted: Money, counted_by: str = ""
) -> DrawerCount:
    """Store a count (stored first, durably; the latest count of a day is the one used)."""
    _location(hub, location_id)
    count = DrawerCount(
        location_id=location_id,
        business_date=business_date,
        counted_cash=counted,
        counted_by=counted_by,
        counted_at=clock.now(),
    )
    await hub.inbox.accept(
        IncomingMessage(
            source_system=SOURCE,
            kind=DRAWER_KIND,
            idempotency_key=f"{SOURCE}:{DRAWER_KIND}:{location_id}:{business_date}:{uuid.uuid4().hex}",
            payload=msgspec.json.encode(count),
            location_id=location_id,
        ),
        ref=f"{location_id}:{business_date}",
        business_date=business_date,
    )
    return count


async def run_journal_flows(hub: Hub, location_id: str, business_date: date) -> list[RunResult]:
    """Run every enabled journal file flow of the location for the day (files are replaced;
    a QuickBooks Online entry already posted is not posted again)."""
    jobs = FileJobs(hub)
    return [
        await jobs.run(flow.id, location_id, business_date)
        for flow in journal_flows(hub.catalog, location_id)
    ]


async def drawer_status(hub: Hub, location_id: str, business_date: date) -> DrawerStatus:
    """Expected cash from the stored orders, the latest count and the difference."""
    currency = _location(hub, location_id)
    location = hub.catalog.location(location_id)
    if location is None:  # _location refused it already
        raise ConfigError(f"no location {location_id!r} in the catalog")
    orders = await orders_between(hub, location_id, business_date, business_date)
    orders += await refunded_orders_between(hub, location, business_date, business_date)
    counts = await drawer_counts_between(hub, location_id, business_date, business_date)
    count = counts[-1] if counts else None
    day = closing_orders(orders, location).get(business_date, [])
    try:
        entry = build_journal(
            day, hub.catalog.mappings, location_id=location_id, business_date=business_date, location=location
        )
    except UnmappedAccounts as error:
        return DrawerStatus(
            location_id=location_id,
            business_date=business_date,
            expected_cash=Money(0, currency),
            counted=count,
            error=str(error).splitlines()[0],
        )
    expected = Money(entry.statistics.expected_cash, currency)
    difference = count.counted_cash - expected if count else None
    return DrawerStatus(
        location_id=location_id,
        business_date=business_date,
        expected_cash=expected,
        counted=count,
        difference=difference,
    )


def _console() -> Console:
    return Console()


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD", param_hint="DATE") from None


@drawer_app.command("count")
def count(
    location: Annotated[str, typer.Argument(help="The location id.")],
    day: Annotated[str, typer.Argument(metavar="DATE", help="The business date counted, YYYY-MM-DD.")],
    amount: Annotated[str, typer.Argument(help="The cash counted in the drawer(s), e.g. 1234.56.")],
    by: Annotated[str, typer.Option("--by", help="Who counted.")] = "",
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Run the day's journal flows again with the count.")
    ] = True,
    catalog: CatalogOption = None,
) -> None:
    """Record the cash counted at close; the day's journal then posts cash over or short."""
    config = catalog_path(catalog)
    business_date = _parse_day(day)

    async def work(hub: Hub) -> tuple[DrawerStatus, list[RunResult]]:
        counted = parse_amount(amount, _location(hub, location))
        await record_drawer_count(hub, location, business_date, counted, by)
        runs = await run_journal_flows(hub, location, business_date) if run else []
        return await drawer_status(hub, location, business_date), runs

    status, runs = with_hub(config, work)
    _print_status(status)
    for result in runs:
        colour = "green" if result.outcome is TransferOutcome.SUCCEEDED else "red"
        files = escape(", ".join(result.files) + " " + result.error)
        _console().print(f"{result.flow_id}: [{colour}]{result.outcome}[/] {files}".rstrip(), highlight=False)
    if any(r.outcome is not TransferOutcome.SUCCEEDED for r in runs):
        raise typer.Exit(1)


@drawer_app.command("show")
def show(
    location: Annotated[str, typer.Argument(help="The location id.")],
    day: Annotated[str, typer.Argument(metavar="DATE", help="The business date, YYYY-MM-DD.")],
    catalog: CatalogOption = None,
) -> None:
    """Expected cash of a day (from the stored checks), the count and the difference."""
    config = catalog_path(catalog)
    business_date = _parse_day(day)
    _print_status(with_hub(config, lambda hub: drawer_status(hub, location, business_date)))


def _print_status(status: DrawerStatus) -> None:
    console = _console()
    console.print(f"{status.location_id} {status.business_date}", highlight=False)
    if status.error:
        console.print(f"[red]{escape(status.error)}[/]", highlight=False)
    console.print(f"  expected cash  {status.expected_cash.format()}", highlight=False)
    if status.counted is None or status.difference is None:
        console.print("  counted        (not counted)", highlight=False)
        return
    who = f" by {status.counted.counted_by}" if status.counted.counted_by else ""
    console.print(f"  counted        {status.counted.counted_cash.format()}{escape(who)}", highlight=False)
    word = "over" if status.difference.amount > 0 else "short" if status.difference.amount < 0 else "even"
    console.print(f"  cash {word:<9} {status.difference.format()}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(drawer_app, name="drawer")
