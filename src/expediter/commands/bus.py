"""``expediter bus status`` and ``expediter bus reconcile``: the group's message bus (``[hub.bus]``).

``status`` shows what the hub processes of a group share: the servers this machine reaches, the
outbox's backlog (accepted, not yet confirmed by the stream), each stream's size and each durable
consumer's pending messages. ``reconcile`` reads every publication the outbox recorded back from
its stream and publishes the missing ones again (the running hub does it nightly).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console

from expediter.commands.common import CatalogOption, catalog_path
from expediter.engine.bus.health import BusHealth, bus_health
from expediter.engine.bus.reconcile import ReconcileReport, reconcile
from expediter.engine.hub import Hub

console = Console()
bus_app = typer.Typer(help="The group's message bus (NATS JetStream, \\[hub.bus]).", no_args_is_help=True)
WAIT_SECONDS = 10.0
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


async def _connected(hub: Hub) -> None:
    if hub.bus is None:
        console.print("[red]no \\[hub.bus] in this catalog[/red]: the hub runs without a bus")
        raise typer.Exit(2)
    try:
        await asyncio.wait_for(hub.bus.connected.wait(), WAIT_SECONDS)
    except TimeoutError:
        console.print(f"[red]the bus cannot be reached[/red]: {hub.bus.last_error}")
        raise typer.Exit(1) from None


def _open(catalog: Path) -> Hub:
    from expediter.web.app import read_catalog

    return Hub(read_catalog(catalog), deliver=False)


@bus_app.command("status")
def status(as_json: JsonFlag = False, catalog: CatalogOption = None) -> None:
    """Servers reached, outbox pending (stream lag), streams and consumers pending. Exit code 1
    when the bus cannot be reached."""

    async def main() -> BusHealth:
        async with _open(catalog_path(catalog)) as hub:
            await _connected(hub)
            return await bus_health(hub.storage, hub.bus)

    health = asyncio.run(main())
    if as_json:
        typer.echo(msgspec.json.encode(health).decode())
    else:
        _print_health(health)
    if not health.healthy:
        raise typer.Exit(1)


def _print_health(health: BusHealth) -> None:
    state = "[green]connected[/green]" if health.connected else "[red]not connected[/red]"
    console.print(f"bus: {state} to {health.connected_server or '-'} (servers: {', '.join(health.servers)})")
    console.print(f"outbox pending (not yet in the stream): {health.outbox_pending}")
    for stream, count in health.streams.items():
        console.print(f"stream {stream}: {count} messages")
    for consumer, pending in health.consumers_pending.items():
        console.print(f"consumer {consumer}: {pending} pending")
    if health.last_error:
        console.print(f"[red]last error[/red]: {health.last_error}")


@bus_app.command("reconcile")
def reconcile_now(as_json: JsonFlag = False, catalog: CatalogOption = None) -> None:
    """Hold every publication the outbox recorded against its stream and publish the missing ones
    again (safe: the servers and the consumers drop what they already hold)."""

    async def main() -> ReconcileReport:
        async with _open(catalog_path(catalog)) as hub:
            await _connected(hub)
            assert hub.bus is not None
            return await reconcile(hub.storage, hub.bus.js, hub.bus.settings)

    report = asyncio.run(main())
    if as_json:
        typer.echo(msgspec.json.encode(report).decode())
        return
    console.print(f"checked {report.checked} publications; {report.republished} missing, published again")
    for msg_id in report.missing:
        console.print(f"  {msg_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(bus_app, name="bus")
