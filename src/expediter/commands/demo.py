"""``expediter demo``: the hub with a simulated restaurant, every system connected, on one port."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Working folder (wiped at each start; only a demo's own).")
    ] = Path("demo-data"),
    port: Annotated[int, typer.Option(help="The hub's port (another free one if it is taken).")] = 8080,
    seed: Annotated[int, typer.Option(help="Simulation seed: the same seed, the same restaurant.")] = 42,
    checks_per_minute: Annotated[float, typer.Option(help="Live checks rung in per minute.")] = 12.0,
    online_per_minute: Annotated[float, typer.Option(help="Online orders per minute.")] = 3.0,
    pos_down: Annotated[
        float, typer.Option(help="Seconds the POS's own API is down at the start (the failure to fix).")
    ] = 150.0,
    exit_after: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until Ctrl-C).")
    ] = None,
) -> None:
    """Run the hub with a simulated restaurant (POS, kitchen, online ordering, back office, books,
    payroll, inventory) on embedded SQLite, and print its URLs."""
    from expediter.demo.run import DemoOptions, main

    options = DemoOptions(
        workdir=folder,
        port=port,
        seed=seed,
        checks_per_minute=checks_per_minute,
        online_per_minute=online_per_minute,
        pos_down_seconds=pos_down,
        exit_after=exit_after,
    )
    raise typer.Exit(main(options))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
