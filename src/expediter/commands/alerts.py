"""``expediter alerts``: the open alerts (and their history), and ``expediter alerts ack ID``.

They open the hub's database named in the catalog: an acknowledgement made here is read by the
running hub within seconds (no more reminders, no escalation; its channels hear who took it).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from expediter.access.audit import AuditAction, AuditLog, command_actor
from expediter.commands.common import CatalogOption, catalog_path, with_hub
from expediter.engine.hub import Hub
from expediter.model import clock
from expediter.monitor import alert_store
from expediter.monitor.alerts import Alert, AlertState
from expediter.monitor.routes import acknowledge_alert

alerts_app = typer.Typer(
    help="Alerts: list the open ones (or a flow's history) and acknowledge them.",
    no_args_is_help=False,
    invoke_without_command=True,
)


def _when(alert: Alert) -> str:
    return alert.started_at.strftime("%Y-%m-%d %H:%M:%S")


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    flow: Annotated[str | None, typer.Option("--flow", help="A flow's alerts, resolved ones too.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="With --flow: the newest N.")] = 50,
    catalog: CatalogOption = None,
) -> None:
    """The open alerts, oldest first: number, state, kind, flow, since when, what broke."""
    if ctx.invoked_subcommand is not None:
        return

    async def read(hub: Hub) -> list[Alert]:
        if flow is None:
            return await hub.storage.read(alert_store.open_alerts)
        return await hub.storage.read(lambda tx: alert_store.alert_history(tx, flow, limit))

    found = with_hub(catalog_path(catalog), read)
    title = f"{len(found)} alerts of {flow}" if flow else f"{len(found)} open alerts"
    table = Table(
        "id", "state", "kind", "flow", "location", "since (UTC)", "acknowledged by", "message", title=title
    )
    for alert in found:
        table.add_row(
            str(alert.id),
            str(alert.state),
            str(alert.kind),
            alert.flow_id or "",
            alert.location_id or "",
            _when(alert),
            alert.acknowledged_by,
            alert.message[:100],
        )
    Console().print(table)


@alerts_app.command("ack")
def ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's number (see `expediter alerts`).")],
    by: Annotated[
        str, typer.Option("--by", help="Who takes it (shown to everyone told); default: command:<your user>.")
    ] = "",
    catalog: CatalogOption = None,
) -> None:
    """Acknowledge an alert: you are on it. No more reminders or escalation; it resolves by itself."""
    who = by.strip()[:80] or command_actor()
    alert = with_hub(catalog_path(catalog), lambda hub: _audited_ack(hub, alert_id, who))
    if alert is None:
        typer.echo(f"no alert {alert_id}; `expediter alerts` lists the open ones", err=True)
        raise typer.Exit(1)
    if alert.state is AlertState.RESOLVED:
        typer.echo(f"alert {alert_id} is resolved already (nothing to acknowledge)")
    elif alert.acknowledged_by and alert.acknowledged_by != who:
        typer.echo(f"alert {alert_id} was acknowledged already by {alert.acknowledged_by}")
    else:
        typer.echo(f"alert {alert_id} ({alert.kind}, flow {alert.flow_id or '—'}) acknowledged by {who}")


async def _audited_ack(hub: Hub, alert_id: int, who: str) -> Alert | None:
    """Acknowledge, and say so in the audit log (made by ``command:<user>``)."""
    alert = await acknowledge_alert(hub.storage, alert_id, who, clock.now())
    if alert is not None:
        flow = alert.flow_id or "—"
        detail = f"{alert.kind}, flow {flow}: {alert.state}, acknowledged by {alert.acknowledged_by}"
        await AuditLog(hub.storage).record_command(
            AuditAction.ACKNOWLEDGE, f"alert {alert_id}", detail, location_id=alert.location_id
        )
    return alert


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
