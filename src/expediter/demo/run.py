"""``expediter demo``: one restaurant with every system connected, on the embedded SQLite default.

What runs, all on loopback, in one process:

- the hub (HTTP API, dashboard, diagram, KDS screens) on one port;
- a simulated POS: yesterday's full day (about 1,500 checks, staff punches) is rung in first, then
  today's service arrives live, a check every few seconds, and cooks bump tickets as they finish;
- a simulated marketplace sending signed online orders, told when each is ready;
- the nightly close of yesterday, on an accelerated clock: the sales, product-mix and labor files to
  the back office's SFTP server (started here), the balanced journal, the payroll file and the
  inventory usage, every transfer in the ledger;
- a kitchen printer (a virtual one that decodes ESC/POS back to text) for the grill;
- a failure to see and fix: the POS's own API is "down for maintenance" for the first minutes, so
  online orders cannot be entered into it: the first becomes a dead letter and the others wait
  behind it (in order) until the manager replays it.

The dashboard asks for a sign-in, as a real hub does: the demo adds an admin ``demo`` with a new
random password and prints it with the URLs (the demo's database is new at each start). Kitchen
screens ask to be paired, as real ones do: open one, approve its code at ``/devices``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import msgspec
import structlog
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expediter.access.roles import Role
from expediter.access.users import Users
from expediter.catalog.problems import CatalogError
from expediter.catalog.schema import Catalog, Level, Trigger
from expediter.check.catalog import checked_catalog
from expediter.connectors.online.signature import signed_headers
from expediter.demo.vendor import count_sheet, distributor, store_counts
from expediter.engine.jobs import RunResult
from expediter.logs import LogFormat, configure_logging, uvicorn_options
from expediter.model import clock
from expediter.model.location import Location
from expediter.model.order import Order, OrderState
from expediter.operations.inventory.export import load_book
from expediter.runtime import Runtime
from expediter.sim.day import simulate_day
from expediter.sim.menu import restaurant_menu
from expediter.sim.online import iter_online_payloads
from expediter.sim.ports import free_port
from expediter.sim.pos_standin import PosStandIn
from expediter.sim.post import post_orders
from expediter.sim.printer import VirtualPrinter
from expediter.sim.sftp_server import SftpServer
from expediter.sim.staff import staff_roster
from expediter.web.app import create_app
from expediter.web.server import HubServer

log = structlog.get_logger(__name__)
console = Console()

MARKER = ".expediter-demo"
"""A demo folder carries this file; only such a folder is wiped at the next start."""
SECRET_ENV = {
    "pos_token": "EXPEDITER_DEMO_POS_TOKEN",
    "online_secret": "EXPEDITER_DEMO_ONLINE_SECRET",
    "sftp_password": "EXPEDITER_DEMO_SFTP_PASSWORD",
}
STATIONS = ("grill", "fry", "cold", "bar")
DEMO_USER = "demo"


@dataclass
class DemoOptions:
    workdir: Path = Path("demo-data")
    port: int = 8080
    seed: int = 42
    checks_per_minute: float = 12.0
    online_per_minute: float = 3.0
    pos_down_seconds: float = 150.0
    cook_seconds: float = 45.0
    exit_after: float | None = None
    """Stop after this many seconds (tests, CI); ``None`` runs until Ctrl-C."""


@dataclass
class DemoState:
    options: DemoOptions
    location: Location
    token: str
    online_secret: str
    base_url: str = ""
    password: str = ""
    """The demo admin's password, printed with the URLs."""
    printer: VirtualPrinter | None = None
    pos: PosStandIn = field(default_factory=PosStandIn)
    close_results: list[RunResult] = field(default_factory=list)
    live_checks: int = 0
    online_orders: int = 0


def prepare_workdir(folder: Path) -> None:
    """A fresh demo folder; refuses to wipe a folder that is not a demo's own."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise SystemExit(f"{folder} exists and is not a demo folder; choose another with --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("created by `expediter demo`; wiped at its next start\n")


def write_catalog(folder: Path, values: dict[str, Any]) -> Path:
    template = resources.files("expediter.demo").joinpath("catalog.toml").read_text()
    path = folder / "expediter.toml"
    path.write_text(string.Template(template).substitute(values) + plu_stations_table())
    return path


def plu_stations_table() -> str:
    """``[mappings.plu_stations]`` from the simulated menu: online orders name PLUs, not stations."""
    lines = ["", "# Online orders carry PLUs only: this routes them to the right kitchen screens.", ""]
    lines.append("[mappings.plu_stations]")
    for item in restaurant_menu().items:
        if item.plu and item.stations:
            stations = ", ".join(f'"{station}"' for station in item.stations)
            lines.append(f'"{item.plu}" = [{stations}]')
    return "\n".join(lines) + "\n"


def recipes_path(folder: Path) -> str:
    """The demo's recipe book, copied beside the catalog."""
    source = resources.files("expediter.demo").joinpath("recipes.toml")
    target = folder / "recipes.toml"
    target.write_text(source.read_text())
    return str(target.resolve())


# -- the run --------------------------------------------------------------------------------------


def log_to_file(path: Path) -> None:
    """The hub's JSON log (its own lines, uvicorn's and asyncssh's) goes to a file, so the
    console keeps the URLs and the story."""
    configure_logging("info", LogFormat.JSON, path.open("a", encoding="utf-8"))


async def run_demo(options: DemoOptions) -> int:
    folder = options.workdir.resolve()
    prepare_workdir(folder)
    log_to_file(folder / "hub.log")
    token, online_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    sftp = SftpServer(folder / "sftp", username="bistro")
    (folder / "sftp").mkdir()
    for side in ("inbound", "outbound"):  # the distributor's EDI folders on the same server
        (folder / "sftp" / "vendor" / side).mkdir(parents=True)
    sftp.start()
    os.environ[SECRET_ENV["pos_token"]] = secrets.token_urlsafe(16)
    os.environ[SECRET_ENV["online_secret"]] = online_secret
    os.environ[SECRET_ENV["sftp_password"]] = sftp.password
    printer = await VirtualPrinter(path=folder / "printer.txt").start()
    pos = PosStandIn()
    pos_server, pos_port = await serve_in_background(pos.app(), free_port())
    hub_port = free_port(options.port)
    catalog_file = write_catalog(
        folder,
        {
            "hub_port": hub_port,
            "pos_port": pos_port,
            "printer_port": printer.port,
            "sftp_port": sftp.port,
            "sftp_host_key": sftp.host_key_line,
            "out_dir": str(folder / "out"),
            "recipes": recipes_path(folder),
            "pos_token_hash": "sha256:" + hashlib.sha256(token.encode()).hexdigest(),
        },
    )
    catalog = checked_catalog(catalog_file)  # the demo runs only what `expediter check` passes
    state = DemoState(
        options=options, location=catalog.locations[0], token=token, online_secret=online_secret
    )
    state.printer, state.pos, state.base_url = printer, pos, f"http://127.0.0.1:{hub_port}"
    runtime = Runtime(catalog)
    runtime.hub.services.extra["virtual_printer"] = printer  # the dashboard shows what it printed
    await runtime.start()
    state.password = secrets.token_urlsafe(12)
    await Users(runtime.hub.storage).add(DEMO_USER, Role.ADMIN, [], state.password)
    hub_server, _ = await serve_in_background(create_app(runtime.hub, manage_hub=False), hub_port)
    try:
        print_banner(state, catalog_file, sftp)
        return await play(state, runtime, catalog)
    finally:
        await stop_server(hub_server)
        await runtime.stop()
        await stop_server(pos_server)
        await printer.stop()
        sftp.shutdown()


async def play(state: DemoState, runtime: Runtime, catalog: Catalog) -> int:
    options = state.options
    state.pos.go_down_for(options.pos_down_seconds)
    today = state.location.business_date_for(clock.now())
    yesterday = today - timedelta(days=1)
    async with httpx.AsyncClient(base_url=state.base_url, timeout=30) as client:
        await seed_day(state, client, yesterday)
        await morning_count(runtime, catalog, state.location.id, yesterday)
        await nightly_close(state, runtime, catalog, yesterday)
        tasks = [
            asyncio.create_task(
                distributor(state.options.workdir.resolve() / "sftp", state.location.id), name="distributor"
            ),
            asyncio.create_task(live_service(state, client, today), name="live-service"),
            asyncio.create_task(online_orders(state, client, today), name="online-orders"),
            asyncio.create_task(virtual_cooks(state, runtime), name="virtual-cooks"),
        ]
        try:
            if options.exit_after is None:
                await asyncio.gather(*tasks)
            else:
                await asyncio.sleep(options.exit_after)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    print_summary(state, await runtime.hub.deliveries.dead_letters())
    return 0


async def seed_day(state: DemoState, client: httpx.AsyncClient, day: date) -> None:
    """Yesterday as the POS saw it: the roster, every punch and every check, over the real API."""
    simulated = simulate_day(state.location, day, seed=state.options.seed)
    headers = {"Authorization": f"Bearer {state.token}"}
    for employee in staff_roster(state.location):
        await post_json(client, "/api/v1/employees", employee, headers, f"emp:{employee.id}")
    for punch in simulated.punches:
        await post_json(client, "/api/v1/punches", punch, headers, f"punch:{punch.id}:{punch.version}")
    with console.status(f"ringing in {day} ({len(simulated.orders)} checks) through the POS API…"):
        report = await post_orders(state.base_url, state.token, simulated.orders, rate=600, concurrency=8)
    console.print(
        f"[green]✓[/] {day}: {report.accepted} checks accepted, {report.duplicate} duplicates,"
        f" {report.rejected} rejected; {len(simulated.punches)} punches"
    )


async def post_json(
    client: httpx.AsyncClient, path: str, item: msgspec.Struct, headers: dict[str, str], key: str
) -> None:
    response = await client.post(
        path, content=msgspec.json.encode(item), headers={**headers, "Idempotency-Key": key}
    )
    if response.status_code >= 400:
        log.warning("demo post refused", path=path, status=response.status_code, body=response.text[:300])


async def nightly_close(state: DemoState, runtime: Runtime, catalog: Catalog, day: date) -> None:
    """Every file flow for yesterday, as the scheduler would run them at night."""
    table = Table(title=f"Nightly close of {day} (accelerated clock)", title_justify="left")
    for column in ("flow", "to", "outcome", "files", "records"):
        table.add_column(column)
    for flow in catalog.flows:
        if flow.level is not Level.FILE or flow.trigger is Trigger.FILE_ARRIVAL:
            continue  # files that arrive are watched, not run
        start = day - timedelta(days=6) if flow.data == "payroll" else day
        result = await runtime.run_flow(flow.id, state.location.id, start, day)
        state.close_results.append(result)
        colour = "green" if result.outcome == "succeeded" else "red"
        table.add_row(
            flow.id,
            flow.to,
            f"[{colour}]{result.outcome}[/]" + (f": {result.error[:80]}" if result.error else ""),
            ", ".join(result.files),
            str(result.records),
        )
    console.print(table)


async def morning_count(runtime: Runtime, catalog: Catalog, location_id: str, day: date) -> None:
    """The chef's count sheet of the day, so the purchase order to the distributor has lines."""
    vendor = catalog.system("valley-foods")
    if vendor is None:
        return
    book = load_book(catalog, str(vendor.settings.get("recipes", "")))
    await store_counts(runtime.hub, location_id, day, count_sheet(book.ingredients.values()))


def restamped(order: Order, now: datetime) -> Order:
    """Today's simulated check as if it were rung in right now."""
    shift = now - order.opened_at
    return msgspec.structs.replace(
        order,
        opened_at=now,
        closed_at=order.closed_at + shift if order.closed_at else None,
        state=OrderState.OPEN,
        business_date=None,
    )


async def live_service(state: DemoState, client: httpx.AsyncClient, today: date) -> None:
    """Today's checks, one every few seconds, as the POS rings them in."""
    orders = simulate_day(state.location, today, seed=state.options.seed + 1).orders
    headers = {"Authorization": f"Bearer {state.token}"}
    pause = 60 / state.options.checks_per_minute
    for order in orders:
        live = restamped(order, clock.now())
        await post_json(client, "/api/v1/orders", live, headers, f"live:{live.id}:{live.version}")
        state.live_checks += 1
        await asyncio.sleep(pause)


async def online_orders(state: DemoState, client: httpx.AsyncClient, today: date) -> None:
    """Signed marketplace orders, placed now, for pickup in twenty minutes."""
    payloads = iter_online_payloads(state.location, today, seed=state.options.seed, count=500)
    pause = 60 / state.options.online_per_minute
    for _, payload in payloads:
        now = clock.now().replace(microsecond=0)
        payload |= {"placed_at": now.isoformat(), "pickup_at": (now + timedelta(minutes=20)).isoformat()}
        body = msgspec.json.encode(payload)
        response = await client.post(
            "/api/v1/webhooks/online", content=body, headers=signed_headers(state.online_secret, body)
        )
        if response.status_code >= 400:
            log.warning("online order refused", status=response.status_code, body=response.text[:300])
        state.online_orders += 1
        await asyncio.sleep(pause)


async def virtual_cooks(state: DemoState, runtime: Runtime) -> None:
    """Cooks bump what they finished; expo bumps what is ready. Leaves fresh tickets on screen."""
    kitchen = runtime.kitchen
    if kitchen is None:
        return
    while True:
        now = clock.now()
        for station in kitchen.stations():
            for ticket in kitchen.tickets_for(station):
                if now - ticket.fired_at > timedelta(seconds=cook_time(ticket.id, state.options)):
                    with contextlib.suppress(Exception):
                        await kitchen.bump(station, ticket.id)
        await asyncio.sleep(2)


def cook_time(ticket_id: str, options: DemoOptions) -> float:
    """A steady, ticket-specific cooking time around ``cook_seconds`` (so screens never all clear)."""
    spread = int(hashlib.sha256(ticket_id.encode()).hexdigest()[:4], 16) / 0xFFFF
    return options.cook_seconds * (0.6 + spread)


# -- servers and output ---------------------------------------------------------------------------


async def serve_in_background(app: Any, port: int) -> tuple[uvicorn.Server, int]:
    """Serve ``app`` on loopback in this event loop; returns the server and its port. Stopping it
    ends the kitchen screens' live feeds first (:class:`HubServer`), so it never waits on them."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **uvicorn_options()
    )
    server = HubServer(config)
    # Ctrl-C stops the whole demo, not one of its servers.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    server.__dict__["_task"] = task
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]  # the real one when ``port`` was 0
    return server, int(bound)


async def stop_server(server: uvicorn.Server) -> None:
    server.should_exit = True
    task: asyncio.Task[None] = server.__dict__["_task"]
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 10)


def print_banner(state: DemoState, catalog_file: Path, sftp: SftpServer) -> None:
    base = state.base_url
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("Dashboard", f"{base}/")
    table.add_row("Sign in as", f"{DEMO_USER}, password {state.password}")
    table.add_row("Pair kitchen screens", f"{base}/devices")
    table.add_row("Flow diagram", f"{base}/diagram")
    table.add_row("Vendor invoices", f"{base}/purchasing")
    for station in (*STATIONS, "expo"):
        table.add_row(f"KDS {station}", f"{base}/kds/{station}")
    table.add_row("Kitchen screens", f"{base}/kds")
    table.add_row("API (OpenAPI)", f"{base}/openapi.json")
    table.add_row("Metrics", f"{base}/metrics")
    table.add_row("Health", f"{base}/healthz")
    table.add_row("Catalog", str(catalog_file))
    table.add_row("Back-office SFTP", f"sftp://bistro@127.0.0.1:{sftp.port}/ (files in {sftp.root})")
    table.add_row(
        "Distributor EDI (SFTP)",
        f"{sftp.root}/vendor (850s and 997s in inbound/, 855s and 810s in outbound/)",
    )
    table.add_row("Grill printer", f"tcp://127.0.0.1:{state.printer.port if state.printer else '?'}")
    table.add_row("Hub log", str(catalog_file.parent / "hub.log"))
    console.rule("[bold]Expediter demo: Expediter Bistro")
    console.print(table)
    minutes = state.options.pos_down_seconds / 60
    console.print(
        f"\n[yellow]A failure to fix:[/] the POS's own API is down for maintenance for the first"
        f" {minutes:.1f} minutes, so online orders cannot be entered into the POS. Watch the flow"
        " [bold]online-orders-to-pos[/] turn red on the dashboard: its first order becomes a dead letter"
        " and the later ones wait behind it. When the POS is back, replay it (the rest follow in order):\n"
        f"  .venv/bin/expediter replay --flow online-orders-to-pos --all -c {catalog_file}\n"
    )
    console.print(
        "[yellow]A delivery to check:[/] the purchase order went to Valley Foods as an X12 850; its 855"
        " comes back at once and, a minute later (the next day on the demo's clock), an 810 with a"
        f" substitution, a short and a price change. Resolve them at {base}/purchasing.\n"
    )
    console.print(
        "[yellow]Kitchen screens ask to be paired:[/] open one; it shows a code. Approve the code at"
        f" {base}/devices (tick every station to use one browser for all of them).\n"
    )
    console.print("Press Ctrl-C to stop.\n")


def print_summary(state: DemoState, dead: list[Any]) -> None:
    closed = sum(1 for r in state.close_results if r.outcome == "succeeded")
    console.print(
        f"demo: {state.live_checks} live checks, {state.online_orders} online orders,"
        f" {closed}/{len(state.close_results)} nightly files delivered, {len(dead)} dead letters,"
        f" {len(state.printer.tickets) if state.printer else 0} printed tickets,"
        f" {len(state.pos.received)} calls received by the POS"
    )


def main(options: DemoOptions) -> int:
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        console.print("demo stopped")
        return 0
    except CatalogError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗[/] {escape(str(problem))}")
        return 1
