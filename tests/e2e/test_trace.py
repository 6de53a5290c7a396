"""An order's whole journey through the demo's systems: a marketplace order by signed webhook →
stored raw → processed → the POS and the kitchen (and the grill printer's lane) → tickets fired
and bumped at each station → ready back to the marketplace → its lines in the sales summary and
product mix (over SFTP), the journal, payroll and the usage, each transfer named."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.schema import Level, Trigger
from expediter.cli import app
from expediter.demo.run import restamped
from expediter.engine.trace import Journey, Stage, Tracer
from expediter.model import clock
from expediter.model.order import Order
from expediter.operations.kitchen.routing import EXPO
from expediter.sim.day import simulate_day
from tests.e2e.demo_hub import DemoHub, demo_hub

pytestmark = [pytest.mark.slow, pytest.mark.service]


async def _until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _grill_check(demo: DemoHub) -> Order:
    """A tipped check of today with something for the grill, as the POS rings it in now."""
    today = demo.location.business_date_for(clock.now())
    for order in simulate_day(demo.location, today, seed=23, scale=0.05).orders:
        grill = any(line.category in ("Burgers", "Entrees") for line in order.lines)
        if grill and any(payment.tip.amount > 0 for payment in order.payments):
            return restamped(order, clock.now())
    raise AssertionError("the simulated day has no grill check")


async def _service(demo: DemoHub) -> tuple[str, str]:
    """An online order and a POS check cooked, bumped and handed out; the night's files sent.
    Their ids."""
    runtime, kitchen = demo.runtime, demo.runtime.kitchen
    today = demo.location.business_date_for(clock.now())
    await demo.staff(today)
    payload = await demo.online_order()

    async def on_expo() -> bool:
        return len(kitchen.tickets_for(EXPO)) == 1

    await _until(on_expo, "the order on the expo screen")
    [expo] = kitchen.tickets_for(EXPO)
    for station in kitchen.stations():
        for ticket in kitchen.tickets_for(station):
            if station != EXPO and ticket.order_id == expo.order_id:
                await kitchen.bump(station, ticket.id)

    async def ready_sent() -> bool:
        return demo.pos.count("/online/status") >= 1 and demo.pos.count("/orders") >= 1

    await _until(ready_sent, "ready back to the marketplace and the order in the POS")
    check = _grill_check(demo)
    await demo.post("/api/v1/orders", check, f"live:{check.id}:{check.version}")
    await _delivered(demo)
    for flow in demo.catalog.flows:
        if flow.level is Level.FILE and flow.trigger is Trigger.SCHEDULE and flow.data != "purchase_order":
            start = today - timedelta(days=6) if flow.data == "payroll" else today
            result = await runtime.run_flow(flow.id, demo.location.id, start, today)
            assert result.outcome == "succeeded", (flow.id, result.error)
    assert payload["external_id"]
    return expo.order_id, check.id


async def _delivered(demo: DemoHub) -> None:
    """Every delivery of the order and of its ready notice has an outcome in the ledger."""

    async def settled() -> bool:
        counts = await demo.runtime.hub.deliveries.counts()
        return not counts.get("pending") and not counts.get("retrying")  # type: ignore[call-overload]

    await _until(settled, "every delivery settled")


def _stages(journey: Journey) -> dict[Stage, list[str]]:
    found: dict[Stage, list[str]] = {}
    for hop in journey.hops:
        found.setdefault(hop.stage, []).append(f"{hop.system} {hop.flow_id} {hop.what}")
    return found


def test_a_traced_order_shows_every_hop_of_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[Journey, Journey, Path]:
        async with demo_hub(tmp_path / "demo", monkeypatch) as demo:
            online_id, check_id = await _service(demo)
            tracer = Tracer(demo.runtime.hub)
            return await tracer.trace(online_id), await tracer.trace(check_id), demo.catalog_file

    journey, rung_in, catalog_file = asyncio.run(scenario())
    stages = _stages(journey)
    [version] = journey.versions
    assert version.via == "webhook" and version.source_system == "online"
    received = " | ".join(stages[Stage.RECEIVED])
    assert "webhook (online.order)" in received
    assert any("online#process" in hop for hop in stages[Stage.PROCESSED])
    assert any("stored as message" in hop for hop in stages[Stage.STORED])
    delivered = " | ".join(stages[Stage.DELIVERED])
    for flow in ("online-orders-to-pos", "online-orders-to-kitchen", "kitchen-status-to-online"):
        assert flow in delivered, (flow, delivered)
    tickets = stages[Stage.TICKET]
    assert any(hop.startswith("kds:expo") for hop in tickets)
    cooked = [hop for hop in tickets if not hop.startswith("kds:expo")]
    assert cooked and all("fired" in hop and "bumped" in hop for hop in cooked), tickets
    assert stages[Stage.READY] and stages[Stage.STATUS]
    shares = {share.data: share for share in journey.files}
    assert set(shares) >= {"sales_summary", "product_mix", "journal", "payroll", "inventory_usage"}
    assert any(line.startswith("net sales") for line in shares["sales_summary"].lines)
    assert any("credit" in line and "Sales" in line for line in shares["journal"].lines)
    assert shares["product_mix"].lines and shares["inventory_usage"].lines
    files = " | ".join(stages[Stage.FILE])
    assert "sftp://" in files and shares["journal"].files[0] in files

    printed = CliRunner().invoke(
        app, ["trace", journey.order_id, "--catalog", str(catalog_file), "--json"], env={"COLUMNS": "200"}
    )
    assert printed.exit_code == 0, printed.output
    again = json.loads(printed.output)
    assert again["order_id"] == journey.order_id
    assert len(again["hops"]) == len(journey.hops)  # the kitchen's store is read from its file too

    [version] = rung_in.versions
    assert version.via == "api" and version.source_system == "pos"
    assert any("POST /api/v1/orders" in hop for hop in _stages(rung_in)[Stage.RECEIVED])
    delivered = " | ".join(_stages(rung_in)[Stage.DELIVERED])
    assert "pos-orders-to-kitchen" in delivered and "pos-orders-to-grill-printer" in delivered
    assert any(hop.startswith("kds:grill") for hop in _stages(rung_in)[Stage.TICKET])
    [payroll] = [share for share in rung_in.files if share.data == "payroll"]
    assert any(line.startswith("tips to ") for line in payroll.lines), payroll.lines
