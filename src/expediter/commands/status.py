"""``expediter status [CATALOG]``: the hub group at a glance, from outside the hub.

Every ``expediter serve`` process sharing the catalog's database (alive or stale by its last
heartbeat, and the parts it holds), the database (reachable, backend, latency, migrations up to
date), the delivery lag (the oldest pending delivery's age, pending deliveries per lane) and every
health source (:data:`expediter.monitor.status.HEALTH_SOURCES`, e.g. the message bus). Nothing is
written and nothing migrated. The exit code is 1 when something is unhealthy (for a monitor's
check script). ``GET /api/v1/status`` answers the same as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.catalog.schema import Catalog
from expediter.catalog.secrets import resolve_database
from expediter.commands.common import CatalogArgument, CatalogOption, JsonOption, catalog_path
from expediter.model import clock
from expediter.monitor.status import (
    HEALTH_SOURCES,
    HealthSource,
    HubStatus,
    SourceHealth,
    StatusContext,
    hub_status,
)
from expediter.storage import is_postgres, reader


def status(argument: CatalogArgument = None, catalog: CatalogOption = None, json: JsonOption = False) -> None:
    """Processes, database, delivery lag and health sources; exit code 1 when unhealthy."""
    from expediter.web.app import read_catalog

    found = read_catalog(catalog_path(catalog, argument))
    report = asyncio.run(gather(found))
    if json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        show(report, Console())
    if not report.healthy:
        raise typer.Exit(1)


async def gather(catalog: Catalog) -> HubStatus:
    """The status through one plain connection to the catalog's database."""
    database = resolve_database(catalog.hub.database)
    backend = "postgresql" if is_postgres(database) else "sqlite"
    with contextlib.ExitStack() as stack:
        try:
            tx = stack.enter_context(reader(database))
        except Exception as exc:  # not reachable: that is the status
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return await hub_status(catalog, None, backend, clock.now(), unreachable=first)

        async def read(work: Any) -> Any:
            return work(tx)

        sources = [*HEALTH_SOURCES]
        if catalog.hub.bus is not None:
            sources.append(_connecting_bus_source(catalog))
        return await hub_status(catalog, read, backend, clock.now(), sources=sources)
    raise AssertionError("unreachable")


BUS_WAIT_SECONDS = 10.0


def _connecting_bus_source(catalog: Catalog) -> HealthSource:
    """The message bus as ``expediter bus status`` sees it: this command connects for the while
    (up to :data:`BUS_WAIT_SECONDS`) and reads the servers, the outbox and the streams."""
    from expediter.engine.bus.health import bus_health, health_source
    from expediter.engine.hub import Hub

    async def message_bus(context: StatusContext) -> SourceHealth:
        async with Hub(catalog, deliver=False) as hub:
            assert hub.bus is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.bus.connected.wait(), BUS_WAIT_SECONDS)
            return health_source(await bus_health(hub.storage, hub.bus))

    return message_bus


def show(report: HubStatus, console: Console) -> None:
    verdict = "[green]healthy[/]" if report.healthy else "[red]unhealthy[/]"
    console.print(f"Hub status: {verdict}")
    for problem in report.problems:
        console.print(f"  [red]✗[/] {escape(problem)}")
    console.print(_database_table(report))
    console.print(_processes_table(report))
    console.print(_lag_table(report))
    if report.sources:
        console.print(_sources_table(report))
    else:
        console.print("Health sources: none besides the database (the message bus adds one when configured)")


def _database_table(report: HubStatus) -> Table:
    database = report.database
    table = Table("backend", "reachable", "latency", "migrations", title="Database")
    latency = f"{database.latency_ms:.1f} ms" if database.latency_ms is not None else "—"
    if not database.reachable:
        migrations = escape(database.error)
    elif database.migrations_pending:
        migrations = f"[red]{len(database.migrations_pending)} pending[/]"
    else:
        migrations = "up to date" + (" (a newer hub ran here)" if database.migrations_unknown else "")
    table.add_row(database.backend, "yes" if database.reachable else "[red]no[/]", latency, migrations)
    return table


def _processes_table(report: HubStatus) -> Table:
    table = Table("host", "pid", "state", "role", "started", "last seen", "version", title="Hub processes")
    for process in report.processes:
        state = "[green]alive[/]" if process.alive else "[yellow]stale[/]"
        seen = f"{(report.at - process.last_seen).total_seconds():.0f} s ago"
        table.add_row(
            escape(process.host),
            str(process.pid),
            state,
            escape(", ".join(process.role) or "—"),
            process.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            seen,
            escape(process.version),
        )
    return table


def _lag_table(report: HubStatus) -> Table:
    lag = report.deliveries
    oldest = f"{lag.oldest_seconds:.0f} s" if lag.oldest_seconds is not None else "—"
    table = Table(
        "lane", "pending", "oldest since", title=f"Delivery lag: {lag.pending} pending, oldest {oldest}"
    )
    for lane in lag.lanes:
        table.add_row(escape(lane.lane), str(lane.pending), lane.oldest.strftime("%Y-%m-%d %H:%M:%S"))
    return table


def _sources_table(report: HubStatus) -> Table:
    table = Table("source", "healthy", "detail", title="Health sources")
    for source in report.sources:
        facts = ", ".join(f"{key} {value}" for key, value in source.facts.items())
        detail = "; ".join(part for part in (source.detail, facts) if part)
        table.add_row(escape(source.name), "yes" if source.healthy else "[red]no[/]", escape(detail))
    return table


def register(app: typer.Typer) -> None:
    app.command("status")(status)
