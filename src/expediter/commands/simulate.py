"""``expediter simulate``: realistic checks and time punches, to files or to a running hub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from expediter.model import clock
from expediter.model.order import Order
from expediter.sim.config import SimConfig
from expediter.sim.day import order_count
from expediter.sim.locations import sim_locations
from expediter.sim.output import Run, write_jsonl_file
from expediter.sim.post import PostOutcome, PostReport, post_orders

_PROGRESS_STEP = 250


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-27") from exc


def _parse_percent(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise typer.BadParameter(f"{text!r} is not a percentage like 8.875") from exc
    if not 0 <= value < 100:
        raise typer.BadParameter("the tax rate is a percentage between 0 and 100, e.g. 8.875")
    return value / 100


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _ticker(progress: Progress, task: TaskID) -> Callable[[], None]:
    """Advance the bar every few hundred records: redrawing per record would cost more than it shows."""
    counter = [0]

    def tick() -> None:
        counter[0] += 1
        if counter[0] % _PROGRESS_STEP == 0:
            progress.advance(task, _PROGRESS_STEP)

    return tick


def _write(run: Run, out: Path, console: Console) -> None:
    expected = len(run.locations) * run.days * order_count(run.scale, run.config)
    with _progress(console) as progress:
        task = progress.add_task(f"orders → {out}", total=expected)
        count = write_jsonl_file(out, run.orders(), _ticker(progress, task))
        progress.update(task, completed=count, total=count)
    console.print(f"wrote {count} orders to {out}")


def _post(run: Run, url: str, token: str, rate: float, concurrency: int, console: Console) -> PostReport:
    expected = len(run.locations) * run.days * order_count(run.scale, run.config)
    with _progress(console) as progress:
        task = progress.add_task(f"orders → {url}", total=expected)

        def advance(_outcome: PostOutcome) -> None:
            progress.advance(task)

        orders: Iterator[Order] = run.orders()
        report = asyncio.run(
            post_orders(url, token, orders, rate, concurrency=concurrency, on_result=advance)
        )
        progress.update(task, total=report.sent, completed=report.sent)
    console.print(
        f"posted {report.sent} orders: {report.accepted} accepted, {report.duplicate} duplicate, "
        f"{report.rejected} rejected, {report.failed} failed"
    )
    for problem in report.errors:
        console.print(f"  [red]{problem}[/red]")
    return report


def simulate(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write orders here, one JSON document per line.")
    ] = None,
    punches: Annotated[
        Path | None, typer.Option("--punches", help="Also write the time punches here (JSON lines).")
    ] = None,
    locations: Annotated[int, typer.Option("--locations", min=1, help="Locations L001…LNNN.")] = 1,
    days: Annotated[int, typer.Option("--days", min=1, help="Business days to simulate.")] = 1,
    start: Annotated[
        str | None, typer.Option("--start", help="First business date, YYYY-MM-DD (default today).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same output, byte for byte.")] = 0,
    scale: Annotated[
        float, typer.Option("--scale", min=0.0001, help="Traffic: 1.0 is ~1,500 checks per location-day.")
    ] = 1.0,
    tax_rate: Annotated[str, typer.Option("--tax-rate", help="Sales tax in percent.")] = "8.875",
    updates: Annotated[
        bool, typer.Option("--updates", help="Emit a few checks twice: open (v1), then with desserts (v2).")
    ] = False,
    post: Annotated[
        str | None, typer.Option("--post", help="Stream the orders to this hub (base URL or the endpoint).")
    ] = None,
    token: Annotated[
        str, typer.Option("--token", envvar="EXPEDITER_TOKEN", help="API bearer token for --post.")
    ] = "",
    rate: Annotated[float, typer.Option("--rate", help="Orders per second for --post (0: no limit).")] = 50.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Connections for --post.")] = 4,
) -> None:
    """Generate realistic restaurant checks and time punches (lunch and dinner rushes, bar after
    midnight, voids, comps, refunds, split tenders, marketplace orders)."""
    if out is None and post is None and punches is None:
        raise typer.BadParameter("give --out FILE, --punches FILE or --post URL")
    if post is not None and not token:
        raise typer.BadParameter("--post needs --token (or EXPEDITER_TOKEN)")
    places = sim_locations(locations)
    run = Run(
        locations=places,
        start=_parse_date(start) if start else places[0].business_date_for(clock.now()),
        days=days,
        seed=seed,
        scale=scale,
        config=SimConfig(tax_rate=_parse_percent(tax_rate), updated_versions=updates),
    )
    console = Console(stderr=False)
    if out is not None:
        _write(run, out, console)
    if punches is not None:
        written = write_jsonl_file(punches, run.punches())
        console.print(f"wrote {written} punches to {punches}")
    if post is not None:
        report = _post(run, post, token, rate, concurrency, console)
        if report.rejected or report.failed:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``expediter`` command."""
    app.command("simulate")(simulate)
