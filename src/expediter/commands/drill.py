"""``expediter drill FLOW``: break a flow on purpose on the running hub and check that its alert
fires, reaches its channels and resolves (see :mod:`expediter.drill`). Exit code 1 with the reason
when a step did not happen.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from expediter.access.audit import AuditAction, AuditLog
from expediter.commands.common import CatalogOption, catalog_path
from expediter.drill import DRILL_TIMEOUT, DrillResult, run_drill
from expediter.engine.hub import Hub


def drill(
    flow: Annotated[str, typer.Argument(help="The flow to drill (a real-time flow).")],
    timeout: Annotated[
        float, typer.Option("--timeout", min=5, help="Seconds the whole drill may take.")
    ] = DRILL_TIMEOUT,
    catalog: CatalogOption = None,
) -> None:
    """Break FLOW on purpose (no real system is touched), check that its alert fires, reaches every
    channel of its route and resolves; record the drill. Needs the hub running (expediter serve)."""
    from expediter.web.app import read_catalog

    settings = read_catalog(catalog_path(catalog))

    async def main() -> DrillResult | None:
        hub = Hub(settings, deliver=False)
        if not hub.delivering_elsewhere():
            return None
        async with hub:
            result = await run_drill(hub, flow, timeout=timeout)
            outcome = "passed" if result.passed else f"failed: {result.reason}"
            number = f"drill {result.drill_id} " if result.drill_id is not None else "drill "
            await AuditLog(hub.storage).record_command(AuditAction.DRILL, flow, number + outcome)
            return result

    result = asyncio.run(main())
    if result is None:
        typer.echo(
            f"expediter: no hub is running on {settings.hub.database}: start `expediter serve` first"
            " (a drill checks what the running hub does when the flow breaks)",
            err=True,
        )
        raise typer.Exit(1)
    for step in result.steps:
        typer.echo(f"  ✓ {step}")
    if not result.passed:
        typer.echo(f"drill of {flow} FAILED: {result.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"drill of {flow} passed (drill {result.drill_id})")


def register(app: typer.Typer) -> None:
    app.command("drill")(drill)
