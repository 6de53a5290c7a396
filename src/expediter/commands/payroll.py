"""``expediter payroll held`` / ``expediter payroll assign``: pay held for a person to assign.

An auto-gratuity on a check nobody owns cannot be paid to anyone, so a payroll run holds it (and
alerts) while the rest of the file goes. ``held`` lists those amounts; ``assign`` says whose each
one is, and the next payroll run of that location pays it as service-charge wages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.catalog.schema import Catalog
from expediter.commands.common import CatalogOption, catalog_path
from expediter.operations.labor.holds import HoldState, PayHold, open_pay_holds

payroll_app = typer.Typer(
    help="Pay held out of the payroll file for a person to assign (auto-gratuity on checks nobody owns).",
    no_args_is_help=True,
)


def _console() -> Console:
    return Console()


def _catalog(config: Path) -> Catalog:
    from expediter.web.app import read_catalog

    return read_catalog(config)


def held_pay(catalog: Catalog) -> list[PayHold]:
    """Every payroll hold of the catalog, whatever its state."""
    with open_pay_holds(catalog) as holds:
        return holds.list()


@payroll_app.command("held")
def held(
    all_: Annotated[bool, typer.Option("--all", help="Also the holds assigned or paid already.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """Amounts held out of payroll: hold id, location, check, business date, amount, state."""
    config = catalog_path(catalog)
    holds = [h for h in held_pay(_catalog(config)) if all_ or h.state is HoldState.HELD]
    table = Table("hold", "location", "check", "business date", "amount", "state", "employee", "paid in")
    table.title = f"{len(holds)} payroll holds"
    for h in holds:
        row = (h.id, h.location_id, h.order_id, str(h.business_date), h.amount.format(), h.state.value)
        table.add_row(*(escape(cell) for cell in (*row, h.employee_id, h.paid_in)))
    _console().print(table)
    if any(h.state is HoldState.HELD for h in holds):
        _console().print("Say whose each one is: expediter payroll assign HOLD EMPLOYEE_ID")


@payroll_app.command("assign")
def assign(
    hold_id: Annotated[str, typer.Argument(metavar="HOLD", help="The hold id (`expediter payroll held`).")],
    employee_id: Annotated[str, typer.Argument(help="The employee (roster id) it belongs to.")],
    catalog: CatalogOption = None,
) -> None:
    """Assign a held amount to an employee; the next payroll run of its location pays it."""
    config = catalog_path(catalog)
    with open_pay_holds(_catalog(config)) as holds:
        assigned = holds.assign(hold_id, employee_id)
    _console().print(
        f"{escape(assigned.id)}: {assigned.amount.format()} assigned to {escape(employee_id)};"
        " the next payroll run pays it",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(payroll_app, name="payroll")
