"""``expediter purchasing ...``: vendor invoices, their exceptions, and resolving them.

``exceptions`` lists what a manager must decide (a short, a substitution, a price change, an
unordered item, an invoice without its PO); ``resolve ID --accept`` agrees to what the vendor
billed, ``resolve ID --dispute`` rejects it and waits for the vendor's credit memo (which settles
it when it arrives). An invoice with nothing open is booked: its AP bill goes to accounting once.
``import SYSTEM FILE`` reads a vendor file by hand (a replay after a fix), ``receive`` records the
receiving count for vendors whose policy is that the receiver's count wins.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.catalog.schema import Trigger
from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.engine.hub import Hub
from expediter.engine.purchasing import VENDOR_DATA, DeskOutcome, desk_of
from expediter.errors import ConfigError
from expediter.operations.purchasing import ExceptionState, Resolution, StoredException, StoredInvoice

purchasing_app = typer.Typer(
    help="Vendor invoices matched to purchase orders: exceptions to resolve, files to replay.",
    no_args_is_help=True,
)


def _exceptions_table(found: list[StoredException]) -> Table:
    table = Table("id", "vendor", "invoice", "line", "kind", "amount", "state", "what")
    for item in found:
        table.add_row(
            str(item.id),
            escape(item.vendor),
            escape(item.invoice_number),
            escape(item.line_number or item.po_line),
            item.kind.value,
            item.amount.format(),
            item.state.value,
            escape(item.message),
        )
    return table


@purchasing_app.command("exceptions")
def exceptions_command(
    catalog: CatalogOption = None,
    all_states: Annotated[
        bool, typer.Option("--all", help="Also accepted, disputed and settled ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The invoice exceptions waiting for a decision (open), or every one with --all."""
    config = catalog_path(catalog)
    states = list(ExceptionState) if all_states else [ExceptionState.OPEN]

    async def work(hub: Hub) -> list[StoredException]:
        return await desk_of(hub).store.exceptions(states)

    found = with_hub(config, work)
    if as_json:
        typer.echo(msgspec.json.encode(found).decode())
    elif not found:
        typer.echo("No open invoice exceptions.")
    else:
        Console().print(_exceptions_table(found))


@purchasing_app.command("resolve")
def resolve_command(
    exception_id: Annotated[int, typer.Argument(help="The exception's id (see `purchasing exceptions`).")],
    accept: Annotated[bool, typer.Option("--accept", help="Agree to what the vendor billed.")] = False,
    dispute: Annotated[
        bool, typer.Option("--dispute", help="Reject it; a credit memo will settle it.")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="Why, for the record.")] = "",
    catalog: CatalogOption = None,
) -> None:
    """Resolve one exception; an invoice with none open left is booked."""
    config = catalog_path(catalog)
    if accept == dispute:
        raise typer.BadParameter("give exactly one of --accept or --dispute")
    resolution = Resolution.ACCEPT if accept else Resolution.DISPUTE

    async def work(hub: Hub) -> StoredInvoice:
        return await desk_of(hub).resolve(exception_id, resolution, note)

    stored = with_hub(config, work)
    typer.echo(f"invoice {stored.invoice_number} from {stored.vendor}: {stored.state.value}")


@purchasing_app.command("invoices")
def invoices_command(catalog: CatalogOption = None) -> None:
    """The vendor invoices received, newest first, with their state."""
    config = catalog_path(catalog)

    async def work(hub: Hub) -> list[StoredInvoice]:
        return await desk_of(hub).store.invoices()

    table = Table("id", "vendor", "invoice", "kind", "PO", "state")
    for item in with_hub(config, work):
        table.add_row(
            str(item.id),
            escape(item.vendor),
            escape(item.invoice_number),
            item.kind.value,
            escape(item.po_number),
            item.state.value,
        )
    Console().print(table)


@purchasing_app.command("import")
def import_command(
    system: Annotated[str, typer.Argument(help="The vendor system (catalog id) the file is from.")],
    file: Annotated[Path, typer.Argument(help="An X12 or CSV invoice file.", exists=True, dir_okay=False)],
    catalog: CatalogOption = None,
) -> None:
    """Read a vendor file by hand (a replay after a fix): matched and booked as if it had arrived."""
    config = catalog_path(catalog)

    async def work(hub: Hub) -> DeskOutcome:
        flow = next(
            (
                f
                for f in hub.catalog.flows
                if f.from_ == system and f.data in VENDOR_DATA and f.trigger is Trigger.FILE_ARRIVAL
            ),
            None,
        )
        if flow is None:
            raise ConfigError(
                f'no invoice flow from {system!r}: declare a file_arrival flow with data = "invoice"'
            )
        return await desk_of(hub).receive_file(flow, file.name, file.read_bytes())

    outcome = with_hub(config, work)
    for stored in outcome.invoices:
        note = " (duplicate: booked once already)" if stored.duplicate else ""
        typer.echo(f"invoice {stored.invoice_number}: {stored.state.value}{note}")
    for error in outcome.errors:
        typer.echo(error, err=True)
    if outcome.errors:
        raise typer.Exit(1)


@purchasing_app.command("receive")
def receive_command(
    po_number: Annotated[str, typer.Argument(help="The purchase order number.")],
    line: Annotated[str, typer.Argument(help="The PO line number.")],
    quantity: Annotated[str, typer.Argument(help="Units received, as counted.")],
    catalog: CatalogOption = None,
) -> None:
    """Record the receiving count of one PO line (used where the receiver's count wins)."""
    config = catalog_path(catalog)
    try:
        counted = Decimal(quantity)
    except InvalidOperation:
        raise typer.BadParameter(f"{quantity!r} is not a number") from None

    async def work(hub: Hub) -> None:
        await desk_of(hub).store.receive(po_number, line, counted)

    with_hub(config, work)
    typer.echo(f"PO {po_number} line {line}: {counted} received")


def register(app: typer.Typer) -> None:
    app.add_typer(purchasing_app, name="purchasing")
