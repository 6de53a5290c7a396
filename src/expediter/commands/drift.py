"""``expediter drift``: the schema changes sources made, and what their flows set aside for them.

- ``drift list``: each open drift (``--all``: accepted ones too): the stream, the flows it feeds,
  what changed, an example, how many messages or files showed it, when;
- ``drift accept ID...``: the change is right: it becomes part of the stream's shape (the next
  payloads are no drift), and what the flows *held* for it goes on (a message showing another
  drift still open stays held); quarantined messages stay where they are;
- ``drift release ID...``: deliver what was held or quarantined for these drifts now, without
  accepting the change (the next payload showing it is held again).

See docs/drift.md.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.engine.hub import Hub
from expediter.engine.inbound import take_held_files
from expediter.monitor import drift_store
from expediter.monitor.drift_store import Drift, DriftState

drift_app = typer.Typer(help="Schema drift: what sources changed, and what their flows held for it.")


class Released(msgspec.Struct, kw_only=True):
    drifts: list[Drift]
    deliveries: int
    files: list[str]


def _table(found: list[Drift], hub: Hub) -> Table:
    table = Table("id", "stream", "flows", "change", "was", "example", "seen", "first seen", "state")
    for drift in found:
        flows = ", ".join(f"{f.id} ({f.drift})" for f in hub.drift.flows_of(drift.stream)) or "—"
        table.add_row(
            str(drift.id),
            escape(drift.stream),
            escape(flows),
            escape(drift.change.describe()),
            escape(drift.change.known_types),
            escape(drift.example),
            f"{drift.seen:,}",
            drift.first_seen_at.strftime("%Y-%m-%d %H:%M"),
            drift.state.value,
        )
    return table


@drift_app.command("list")
def list_command(
    every: Annotated[bool, typer.Option("--all", help="Accepted drifts too.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """The open drifts: what changed in which stream, an example, how often, the flows it feeds."""

    async def work(hub: Hub) -> Table:
        return _table(await drift_store.drifts(hub.storage, every=every), hub)

    table = with_hub(catalog_path(catalog), work)
    if not table.row_count:
        Console().print("no open drift: every source sends what it sent before")
        return
    Console().print(table)


async def accept_drifts(hub: Hub, drift_ids: list[int]) -> Released:
    """Accept the drifts; release what they alone held, take the files they held."""
    found = await hub.drift.accept(drift_ids)
    ids = [d.id for d in found]
    messages = await drift_store.messages_of(hub.storage, ids, alone=True)
    moved = await hub.deliveries.release(messages)
    files = await take_held_files(hub, await drift_store.held_files(hub.storage, ids))
    return Released(drifts=found, deliveries=moved, files=files)


async def release_drifts(hub: Hub, drift_ids: list[int]) -> Released:
    """Deliver what was held or quarantined for the drifts; they stay open."""
    found = await drift_store.drifts(hub.storage, every=True, ids=drift_ids)
    ids = [d.id for d in found]
    messages = await drift_store.messages_of(hub.storage, ids, alone=False)
    moved = await hub.deliveries.release(messages, quarantined=True)
    files = await take_held_files(hub, await drift_store.held_files(hub.storage, ids))
    return Released(drifts=found, deliveries=moved, files=files)


def _report(done: Released, asked: list[int], verb: str) -> None:
    console = Console()
    missing = sorted(set(asked) - {d.id for d in done.drifts})
    for drift in done.drifts:
        console.print(f"{verb} drift {drift.id}: {escape(drift.stream)}: {escape(drift.change.describe())}")
    console.print(f"{done.deliveries:,} deliveries back to pending")
    for line in done.files:
        console.print(f"file {escape(line)}")
    if missing:
        console.print(
            f"[red]no drift {', '.join(map(str, missing))}[/]: `expediter drift list --all` lists them"
        )
        raise typer.Exit(1)


@drift_app.command("accept")
def accept_command(
    drift_ids: Annotated[list[int], typer.Argument(help="Drift ids from `expediter drift list`.")],
    catalog: CatalogOption = None,
) -> None:
    """The change is right: learn it, and deliver what was held for it."""
    done = with_hub(catalog_path(catalog), lambda hub: accept_drifts(hub, drift_ids))
    _report(done, drift_ids, "accepted")


@drift_app.command("release")
def release_command(
    drift_ids: Annotated[list[int], typer.Argument(help="Drift ids from `expediter drift list`.")],
    catalog: CatalogOption = None,
) -> None:
    """Deliver what was held or quarantined for these drifts now, without accepting the change."""
    done = with_hub(catalog_path(catalog), lambda hub: release_drifts(hub, drift_ids))
    _report(done, drift_ids, "released")
    if any(d.state is DriftState.OPEN for d in done.drifts):
        Console().print("the drifts stay open: the next payload showing them is set aside again")


def register(app: typer.Typer) -> None:
    app.add_typer(drift_app, name="drift")
