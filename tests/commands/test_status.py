"""``expediter status``, ``GET /api/v1/status`` and the dashboard's process table: every serve
process by its heartbeat, the database, the delivery lag and the health sources."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.cli import app
from expediter.commands.status import gather
from expediter.model import clock
from expediter.model.location import Location
from expediter.model.money import Money
from expediter.model.order import Line, Order
from expediter.monitor.status import HubStatus, SourceHealth, StatusContext, hub_status
from expediter.plugin.base import IncomingMessage
from expediter.runtime import Runtime
from expediter.web.app import create_app, read_catalog
from tests.web.signin import admin_client

WIDE = {"COLUMNS": "200"}


def write_catalog(folder: Path, database: str) -> Path:
    """One POS whose orders go to a second POS that is never there (they stay pending)."""
    catalog = Catalog(
        hub=HubSettings(database=database, data_dir=str(folder / "data")),
        locations=[Location(id="L1", name="Downtown", timezone="America/Chicago")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="ops"),
            System(
                id="pos2",
                kind=SystemKind.POS,
                connector="generic_pos",
                owner="ops",
                settings={"url": "http://127.0.0.1:9/orders", "timeout_seconds": 1.0},
            ),
        ],
        flows=[
            Flow(
                id="mirror",
                from_="pos",
                to="pos2",
                data="orders",
                level=Level.REALTIME,
                trigger=Trigger.EVENT,
                owner="ops",
                contact="ops@bistro.example",
                description="Every order, mirrored.",
                impact="The second POS misses orders.",
            )
        ],
    )
    path = folder / "catalog.json"
    path.write_bytes(msgspec.json.encode(catalog))
    return path


def order(n: int) -> IncomingMessage:
    """A canonical order: its delivery to the absent POS is retried (it stays open)."""
    canonical = Order(
        id=f"o-{n}",
        location_id="L1",
        opened_at=datetime(2026, 5, 1, 17, 0, tzinfo=UTC),
        lines=[Line(id="1", name="Tacos", quantity=Decimal(1), unit_price=Money(399))],
    )
    return IncomingMessage(
        source_system="pos",
        kind="orders",
        idempotency_key=f"pos:o-{n}:1",
        payload=msgspec.json.encode(canonical),
        location_id="L1",
    )


def test_status_shows_the_running_process_the_database_and_the_lag_then_exits_1_once_it_stopped(
    tmp_path: Path, database: str
) -> None:
    config = write_catalog(tmp_path, database)
    catalog = read_catalog(config)
    runner = CliRunner()

    async def while_running() -> tuple[HubStatus, str, int, str, int]:
        async with Runtime(catalog, heartbeat=True, schedule=False) as runtime:
            for n in range(3):
                await runtime.hub.inbox.accept(order(n))
            report = await gather(catalog)
            shown = await asyncio.to_thread(runner.invoke, app, ["status", str(config)], env=WIDE)
            web = create_app(runtime.hub, manage_hub=False)
            async with admin_client(runtime.hub, web) as client:
                answer = await client.get("/api/v1/status")
                page = await client.get("/")
        return report, shown.output, shown.exit_code, page.text, answer.status_code

    report, output, code, page, api_status = asyncio.run(while_running())
    assert report.healthy, report.problems
    [process] = report.processes
    assert process.alive and process.role[0] == "primary" and "alert watch" in process.role
    assert report.database.reachable and report.database.migrations_pending == []
    assert report.database.backend == ("postgresql" if database.startswith("postgresql") else "sqlite")
    assert report.deliveries.pending == 3 and report.deliveries.lanes[0].lane == "pos2|L1"
    assert code == 0, output
    assert "healthy" in output and "Hub processes" in output and "pos2|L1" in output and "primary" in output
    assert api_status == 200
    assert 'id="hub-processes"' in page and "primary" in page

    stopped = runner.invoke(app, ["status", str(config), "--json"], env=WIDE)
    assert stopped.exit_code == 1  # the process removed its row: nothing runs
    body = json.loads(stopped.output)
    assert body["healthy"] is False and body["processes"] == []
    assert body["problems"] == ["no hub process is running (no heartbeat within the last beats)"]
    assert len(body["deliveries"]["lanes"]) == 1 and body["deliveries"]["pending"] == 3


def test_a_database_that_cannot_be_reached_is_unhealthy(tmp_path: Path) -> None:
    config = write_catalog(tmp_path, "postgresql://expediter@127.0.0.1:9/expediter?connect_timeout=2")
    shown = CliRunner().invoke(app, ["status", str(config)], env=WIDE)
    assert shown.exit_code == 1
    assert "cannot be reached" in shown.output and "postgresql" in shown.output


def test_health_sources_are_asked_and_one_failing_or_raising_makes_the_status_unhealthy(
    tmp_path: Path, database: str
) -> None:
    catalog = read_catalog(write_catalog(tmp_path, database))

    async def message_bus(context: StatusContext) -> SourceHealth:
        assert context.catalog is catalog
        return SourceHealth(
            name="message bus", healthy=False, detail="no server answers", facts={"servers": "0/3"}
        )

    async def broken_source(context: StatusContext) -> SourceHealth:
        raise ConnectionError("refused")

    async def scenario() -> HubStatus:
        async with Runtime(catalog, heartbeat=True, schedule=False) as runtime:
            storage = runtime.hub.storage
            sources = [message_bus, broken_source]
            return await hub_status(catalog, storage.read, storage.dialect.name, clock.now(), sources=sources)

    report = asyncio.run(scenario())
    assert [source.name for source in report.sources] == ["message bus", "broken source"]
    assert report.problems == ["message bus: no server answers", "broken source: ConnectionError: refused"]
    assert not report.healthy
