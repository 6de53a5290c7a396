"""``expediter init``, ``check``, ``flows`` and ``diagram``: write, validate, list and draw the catalog."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import CatalogError, Problem, Severity, errors
from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import resolve_database
from expediter.check.catalog import check_file
from expediter.commands.common import (
    DEFAULT_CATALOG,
    CatalogArgument,
    CatalogOption,
    JsonOption,
    catalog_path,
    print_json,
)
from expediter.commands.listings import flow_row
from expediter.model import clock
from expediter.monitor.diagram import DiagramFormat, dot, health_word, mermaid
from expediter.monitor.health import FlowStatus, Health, flow_health
from expediter.monitor.ledger_view import read_statuses
from expediter.monitor.svg import render_svg

PIPE_WIDTH = 200
STARTER_SECRETS = (
    "SQUARE_SIGNATURE_KEY",
    "SQUARE_ACCESS_TOKEN",
    "ONLINE_WEBHOOK_SECRET",
    "QUICKBOOKS_ACCESS_TOKEN",
    "BACKOFFICE_SFTP_PASSWORD",
    "VENDOR_SFTP_PASSWORD",
    "SMTP_PASSWORD",
)
"""The environment variables the starter catalog's secrets refer to."""
HEALTH_STYLES = {
    Health.HEALTHY: "green",
    Health.LATE: "yellow",
    Health.FAILING: "bold red",
    Health.IDLE: "blue",
    Health.NEVER_RAN: "dim",
}


def _console() -> Console:
    """A console per command run. Piped output (not a terminal) gets a wide page instead of Rich's
    80 columns, so a table saved to a file or grepped keeps one flow per line."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def register(app: typer.Typer) -> None:
    app.command("init", help="Write a starter expediter.toml (one restaurant, every system) with comments.")(
        init_command
    )
    app.command(
        "check", help="Validate the catalog; every problem with file, flow and fix. Exit 1 on error."
    )(check_command)
    app.command(
        "flows", help="List every flow: from → to, data, level, schedule, owner, last transfer, health."
    )(flows_command)
    app.command("diagram", help="Draw the system integration flow diagram (Mermaid, DOT or SVG).")(
        diagram_command
    )


def starter_text() -> str:
    """The commented starter catalog shipped with the package."""
    return files("expediter.catalog").joinpath("starter.toml").read_text(encoding="utf-8")


def init_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to write expediter.toml into (default: the --catalog file).", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing catalog file.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """Write a starter catalog for one restaurant."""
    console = _console()
    if directory is not None and catalog is not None:
        raise typer.BadParameter("give a folder or --catalog FILE, not both", param_hint="--catalog")
    target = directory / DEFAULT_CATALOG.name if directory is not None else catalog_path(catalog)
    if target.exists() and not force:
        console.print(f"[red]✗[/] {target} already exists; use --force to overwrite it.")
        raise typer.Exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(starter_text(), encoding="utf-8")
    console.print(f"[green]✓[/] wrote {target}")
    check = "expediter check" if target == DEFAULT_CATALOG else f"expediter check {target}"
    console.print(f"Set these environment variables (the catalog's secrets), then run `{check}`:")
    console.print("  " + " ".join(STARTER_SECRETS))
    console.print(
        "Paste each SFTP server's host key (`ssh-keyscan -t ed25519 HOST`) over its placeholder, and"
        " write the recipe book recipes.toml (docs/inventory.md); `expediter check` names what is left."
    )


def load_or_exit(config: Path) -> Catalog:
    """The catalog, or every load problem printed and exit code 1."""
    try:
        return load_catalog(config)
    except CatalogError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None


def print_problems(problems: list[Problem]) -> None:
    console = _console()
    for problem in problems:
        mark = "[red]✗ error[/]" if problem.severity == Severity.ERROR else "[yellow]! warning[/]"
        subject = f" ([bold]{problem.subject}[/])" if problem.subject else ""
        console.print(f"{mark} {problem.file}: [cyan]{problem.where}[/]{subject}")
        console.print(Text("    " + problem.message))
        console.print(Text("    fix: " + problem.fix, style="green"))
    found = errors(problems)
    console.print(f"[red]{len(found)} error(s)[/], {len(problems) - len(found)} warning(s)")


def checked_or_exit(config: Path) -> Catalog:
    """The catalog when ``check`` finds no error in it (its warnings printed), else every problem
    printed and exit code 1: what ``check`` does, and ``serve`` before it starts."""
    checked = check_file(config)
    if checked.errors or checked.catalog is None:
        print_problems(checked.problems)
        raise typer.Exit(1)
    warnings = [p for p in checked.problems if p.severity == Severity.WARNING]
    if warnings:
        print_problems(warnings)
    return checked.catalog


def check_command(argument: CatalogArgument = None, catalog_file: CatalogOption = None) -> None:
    """Validate the catalog."""
    config = catalog_path(catalog_file, argument)
    console = _console()
    checked = check_file(config)
    catalog, problems = checked.catalog, checked.problems
    if checked.errors or catalog is None:
        print_problems(problems)
        raise typer.Exit(1)
    warnings = [p for p in problems if p.severity == Severity.WARNING]
    if warnings:
        print_problems(warnings)
    console.print(
        f"[green]✓[/] {config}: {len(catalog.locations)} location(s), {len(catalog.systems)} system(s),"
        f" {len(catalog.flows)} flow(s): no errors" + (f", {len(warnings)} warning(s)" if warnings else "")
    )


def _statuses(catalog: Catalog, config: Path, now: datetime) -> dict[str, FlowStatus] | None:
    """Flow statuses from the hub's database, or ``None`` when it does not exist (yet)."""
    database = resolve_database(catalog.hub.database, config.resolve().parent)
    return asyncio.run(read_statuses(database, config.resolve().parent, now))


def flow_healths(
    catalog: Catalog, statuses: dict[str, FlowStatus] | None, now: datetime
) -> dict[str, Health] | None:
    if statuses is None:
        return None
    timezone = catalog.locations[0].timezone if catalog.locations else "UTC"
    return {f.id: flow_health(f, statuses.get(f.id), now, timezone) for f in catalog.flows}


def flows_command(catalog_file: CatalogOption = None, as_json: JsonOption = False) -> None:
    """List every flow with its owner, schedule, last transfer and health."""
    config = catalog_path(catalog_file)
    console = _console()
    catalog = load_or_exit(config)
    now = clock.now()
    statuses = _statuses(catalog, config, now)
    healths = flow_healths(catalog, statuses, now) or {}
    if as_json:
        found = statuses or {}
        print_json([flow_row(f, found.get(f.id), healths.get(f.id)) for f in catalog.flows])
        return
    table = Table(title=f"Flows in {config}", show_lines=False)
    for column in ("flow", "from → to", "data", "level", "schedule", "owner", "last transfer", "health"):
        table.add_column(column, overflow="fold")
    for flow in catalog.flows:
        status = statuses.get(flow.id) if statuses is not None else None
        last = status.last_transfer_at if status else None
        health = healths.get(flow.id)
        table.add_row(
            flow.id + ("" if flow.enabled else " (disabled)"),
            f"{flow.from_} → {flow.to}",
            flow.data,
            str(flow.level),
            flow.schedule or str(flow.trigger),
            flow.owner,
            last.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if last else "—",
            Text(health_word(health), style=HEALTH_STYLES[health]) if health else Text("—"),
        )
    console.print(table)


def render_diagram(catalog: Catalog, fmt: DiagramFormat, health: dict[str, Health] | None = None) -> str:
    if fmt == DiagramFormat.MERMAID:
        return mermaid(catalog, health)
    if fmt == DiagramFormat.DOT:
        return dot(catalog, health)
    return render_svg(catalog, health)


def diagram_command(
    catalog_file: CatalogOption = None,
    fmt: Annotated[
        DiagramFormat,
        typer.Option("--format", "-f", help="mermaid, dot (Graphviz) or svg (drawn by Expediter)."),
    ] = DiagramFormat.MERMAID,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Draw the system integration flow diagram, coloured by health when the hub's database exists."""
    config = catalog_path(catalog_file)
    console = _console()
    catalog = load_or_exit(config)
    now = clock.now()
    text = render_diagram(catalog, fmt, flow_healths(catalog, _statuses(catalog, config, now), now))
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(
        f"[green]✓[/] wrote {output} ({fmt}, {len(catalog.systems)} systems, {len(catalog.flows)} flows)"
    )
