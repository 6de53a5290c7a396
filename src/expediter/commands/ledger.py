"""``expediter transfers``, ``expediter dead-letters``, ``expediter replay``: the ledger and recovery.

They open the hub's database named in the catalog. A replay made here is picked up by a running
hub within its poll interval.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from expediter.commands.common import CatalogOption, JsonOption, catalog_path, print_json, with_hub
from expediter.commands.listings import dead_letter_row, transfer_row
from expediter.engine.hub import Hub
from expediter.engine.router import process_destination
from expediter.ledger.transfers import TransferOutcome
from expediter.storage.base import utcnow

T = TypeVar("T")
_RELATIVE = re.compile(r"^(?P<n>\d+)(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> datetime:
    """``30m``, ``6h``, ``2d`` ago, or an ISO date / timestamp (UTC when it has no offset)."""
    match = _RELATIVE.match(text.strip())
    if match:
        return utcnow() - timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: use 30m, 6h, 2d, 2026-11-27 or 2026-11-27T04:00+01:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utcnow().tzinfo)


def _when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def transfers(
    flow: Annotated[str | None, typer.Option("--flow", help="Only this flow.")] = None,
    outcome: Annotated[
        TransferOutcome | None,
        typer.Option("--outcome", help="Only this outcome; failed also finds retrying and dead."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="30m, 6h, 2d, or an ISO date/time.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N transfers.")] = 50,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """The ledger: each execution of a flow, newest first (when, where, what, outcome, error)."""
    start = parse_since(since) if since else None
    found = with_hub(
        catalog_path(catalog),
        lambda hub: hub.ledger.transfers(
            flow_id=flow, outcome=outcome, since=start, location_id=location, limit=limit
        ),
    )
    if as_json:
        print_json([transfer_row(t) for t in found])
        return
    table = Table(
        "started (UTC)",
        "flow",
        "dir",
        "outcome",
        "location",
        "records",
        "bytes",
        "ms",
        "endpoint / file",
        "error",
        title=f"{len(found)} transfers",
    )
    for t in found:
        table.add_row(
            _when(t.started_at),
            t.flow_id,
            str(t.direction),
            str(t.outcome),
            t.location_id or "",
            str(t.records),
            str(t.bytes),
            str(int(t.duration.total_seconds() * 1000)),
            t.file_name or t.remote_ref or t.endpoint,
            t.error[:80],
        )
    Console().print(table)


async def known_flows(hub: Hub) -> set[str]:
    """Flow ids that can have dead letters: the catalog's flows, each system's processing step
    (``<system>#process``), and any flow the database still holds dead letters for."""
    catalog = hub.catalog
    known = {f.id for f in catalog.flows} | {process_destination(s.id) for s in catalog.systems}
    return known | set(await hub.deliveries.dead_by_flow())


def refuse_unknown_flow(flow_id: str, known: set[str]) -> None:
    """A misspelled ``--flow`` is an error naming the close ones, never a silent "0 found"."""
    if flow_id in known:
        return
    close = difflib.get_close_matches(flow_id, sorted(known), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else "`expediter flows` lists the flows"
    raise typer.BadParameter(
        f"no flow {flow_id!r} in the catalog or the dead letters; {hint}", param_hint="--flow"
    )


async def _checked(hub: Hub, flow_id: str | None, work: Callable[[], Awaitable[T]]) -> T:
    if flow_id is not None:
        refuse_unknown_flow(flow_id, await known_flows(hub))
    return await work()


def dead_letters(
    flow: Annotated[str | None, typer.Option("--flow", help="Only this flow.")] = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deliveries that exhausted their retries, with the last error; replay them with `replay`."""
    found = with_hub(
        catalog_path(catalog),
        lambda hub: _checked(hub, flow, lambda: hub.deliveries.dead_letters(flow_id=flow)),
    )
    if as_json:
        print_json([dead_letter_row(d) for d in found])
        return
    table = Table(
        "id",
        "flow",
        "destination",
        "location",
        "attempts",
        "since (UTC)",
        "last error",
        title=f"{len(found)} dead letters",
    )
    for d in found:
        table.add_row(
            str(d.id),
            d.flow_id,
            d.destination,
            d.location_id or "",
            str(d.attempts),
            _when(d.updated_at),
            d.last_error[:100],
        )
    Console().print(table)


def replay(
    delivery_ids: Annotated[list[int] | None, typer.Argument(help="Dead letters to send again.")] = None,
    flow: Annotated[
        str | None, typer.Option("--flow", help="With --all: every dead letter of this flow.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter of --flow.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """Send dead letters back to pending (retries start again from zero)."""
    if delivery_ids and (flow or all_):
        raise typer.BadParameter("give delivery ids, or --flow F --all, not both")
    if not delivery_ids and not (flow and all_):
        raise typer.BadParameter("give delivery ids (see `expediter dead-letters`), or --flow F --all")
    config = catalog_path(catalog)
    if delivery_ids:
        ids = delivery_ids
        moved = with_hub(config, lambda hub: _audited_replay(hub, hub.deliveries.replay(ids), f"ids {ids}"))
    else:
        flow_id = str(flow)
        moved = with_hub(
            config,
            lambda hub: _checked(
                hub, flow_id, lambda: _audited_replay(hub, hub.deliveries.replay_flow(flow_id), flow_id)
            ),
        )
    typer.echo(f"{moved} dead letter(s) back to pending")
    if delivery_ids and moved < len(delivery_ids):
        typer.echo("some ids were not dead letters (already delivered, pending, or unknown)", err=True)
        raise typer.Exit(1)


async def _audited_replay(hub: Hub, replaying: Awaitable[int], target: str) -> int:
    """Replay, and say so in the audit log (made by ``command:<user>``)."""
    from expediter.access.audit import AuditAction, AuditLog

    moved = await replaying
    await AuditLog(hub.storage).record_command(AuditAction.REPLAY, target, f"{moved} back to pending")
    return moved


def register(app: typer.Typer) -> None:
    app.command("transfers")(transfers)
    app.command("dead-letters")(dead_letters)
    app.command("replay")(replay)
