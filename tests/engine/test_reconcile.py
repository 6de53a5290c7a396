"""Each reconciliation check against a real hub: a difference planted the way it happens (an
edited check after the close, a corrected punch, a file gone from its folder, a POS down, a
kitchen that was not running, a webhook the POS's own listing lacks) is found with its records,
and agrees again after the fix a manager would make (the night re-run, a replay, the poll)."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.demo.run import restamped, serve_in_background, stop_server
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.engine.reconcile import Reconciler
from expediter.engine.schedule_time import business_day_end
from expediter.model import clock
from expediter.model.money import Money
from expediter.model.order import Line
from expediter.monitor.reconcile.model import CheckName, CheckResult, CheckState
from expediter.operations.kitchen import Kitchen, KitchenStore
from expediter.runtime import Runtime
from expediter.sim.day import simulate_day
from expediter.sim.pos_standin import PosStandIn
from expediter.sim.square_api import SquareStandIn, order_event, send_webhook
from expediter.web.app import create_app
from tests.connectors.square.support import ACCESS_TOKEN, SECRET_ENV, SIGNATURE_KEY, fixture_json
from tests.e2e.demo_hub import post_online_order
from tests.engine.reconcile_support import (
    LOCATION,
    due_at,
    folder_catalog,
    last_night,
    nightly_flow,
    store,
    store_day,
)


def _only(results: list[CheckResult], check: CheckName) -> CheckResult:
    [result] = [r for r in results if r.check is check]
    return result


async def _reconcile(hub: Hub, check: CheckName, now: datetime, kitchen: Any = None) -> CheckResult:
    day = last_night()
    return _only(await Reconciler(hub, kitchen).reconcile([LOCATION.id], day, day, [check], now=now), check)


def test_sales_an_edited_check_after_the_close_differs_until_the_night_is_run_again(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(
        tmp_path, [nightly_flow("nightly-journal"), nightly_flow("nightly-sales")], database=database
    )
    day = last_night()

    async def scenario() -> tuple[CheckResult, CheckResult, CheckResult]:
        async with Hub(catalog, deliver=False) as hub:
            orders, _ = await store_day(hub, day)
            jobs = FileJobs(hub)
            for flow in catalog.flows:
                assert (await jobs.run(flow.id, LOCATION.id, day)).outcome == "succeeded"
            agreed = await _reconcile(hub, CheckName.SALES, due_at(day))
            edited = msgspec.structs.replace(
                orders[0],
                version=orders[0].version + 1,
                lines=[
                    *orders[0].lines,
                    Line(
                        id="late", name="Pie", quantity=Decimal(1), unit_price=Money(650), category="Desserts"
                    ),
                ],
            )
            await store(hub, "orders", edited, day)
            differs = await _reconcile(hub, CheckName.SALES, due_at(day))
            for flow in catalog.flows:
                await jobs.run(flow.id, LOCATION.id, day)
            return agreed, differs, await _reconcile(hub, CheckName.SALES, due_at(day))

    agreed, differs, fixed = asyncio.run(scenario())
    assert agreed.state is CheckState.AGREE, agreed.differences
    assert agreed.totals["pos"] == agreed.totals["journal"] == agreed.totals["sales summary"] > 0
    assert differs.state is CheckState.DIFFER
    assert {d.record for d in differs.differences} == {agreed_id(differs)}
    assert all(
        d.values["pos"] - d.values.get("journal", d.values.get("sales summary", 0)) == 650
        for d in differs.differences
    )
    assert differs.totals["pos"] == agreed.totals["pos"] + 650
    assert fixed.state is CheckState.AGREE and fixed.totals["journal"] == differs.totals["pos"]


def agreed_id(result: CheckResult) -> str:
    return result.differences[0].record


def test_labor_a_punch_corrected_after_the_labor_file_differs_until_it_is_sent_again(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-labor")], database=database)
    day = last_night()

    async def scenario() -> tuple[CheckResult, CheckResult, CheckResult]:
        async with Hub(catalog, deliver=False) as hub:
            _, punches = await store_day(hub, day)
            jobs = FileJobs(hub)
            await jobs.run("nightly-labor", LOCATION.id, day)
            agreed = await _reconcile(hub, CheckName.LABOR, due_at(day))
            closed = next(p for p in punches if p.clock_out is not None)
            assert closed.clock_out is not None
            corrected = msgspec.structs.replace(
                closed, version=closed.version + 1, clock_out=closed.clock_out + timedelta(minutes=30)
            )
            await store(hub, "punches", corrected, day)
            differs = await _reconcile(hub, CheckName.LABOR, due_at(day))
            await jobs.run("nightly-labor", LOCATION.id, day)
            return agreed, differs, await _reconcile(hub, CheckName.LABOR, due_at(day))

    agreed, differs, fixed = asyncio.run(scenario())
    assert agreed.state is CheckState.AGREE, agreed.differences
    assert differs.state is CheckState.DIFFER
    [difference] = differs.differences
    assert difference.values["pos"] - difference.values["labor"] == 30 * 60
    assert fixed.state is CheckState.AGREE


def test_deliveries_a_file_gone_from_its_folder_differs_until_the_night_is_run_again(
    tmp_path: Path, database: str
) -> None:
    catalog = folder_catalog(tmp_path, [nightly_flow("nightly-journal")], database=database)
    day = last_night()

    async def scenario() -> tuple[CheckResult, CheckResult, CheckResult]:
        async with Hub(catalog, deliver=False) as hub:
            await store_day(hub, day)
            jobs = FileJobs(hub)
            [name] = (await jobs.run("nightly-journal", LOCATION.id, day)).files
            agreed = await _reconcile(hub, CheckName.DELIVERIES, due_at(day))
            (tmp_path / "out" / "books" / name).unlink()  # someone tidied the folder up
            differs = await _reconcile(hub, CheckName.DELIVERIES, due_at(day))
            await jobs.run("nightly-journal", LOCATION.id, day)
            return agreed, differs, await _reconcile(hub, CheckName.DELIVERIES, due_at(day))

    agreed, differs, fixed = asyncio.run(scenario())
    assert agreed.state is CheckState.AGREE, agreed.differences
    assert differs.state is CheckState.DIFFER
    [difference] = differs.differences
    assert difference.record.startswith("journal_L001_") and "not at the destination" in difference.problem
    assert fixed.state is CheckState.AGREE


def _realtime(flow_id: str, source: str, to: str, **fields: Any) -> Flow:
    return Flow(
        id=flow_id,
        from_=source,
        to=to,
        data="orders",
        level=Level.REALTIME,
        trigger=Trigger.EVENT,
        owner="GM",
        **fields,
    )


def test_online_orders_the_pos_never_confirmed_differ_until_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_RECONCILE_ONLINE", "s3cret")

    async def scenario() -> tuple[CheckResult, CheckResult]:
        pos = PosStandIn()
        server, port = await serve_in_background(pos.app(), 0)
        online = System(
            id="online",
            kind=SystemKind.ONLINE_ORDERING,
            connector="online",
            owner="Sam",
            settings={"secret": "env:EXPEDITER_TEST_RECONCILE_ONLINE"},
        )
        flows = [_realtime("online-to-pos", "online", "pos", retry_limit=0)]
        catalog = folder_catalog(
            tmp_path, flows, (online,), pos={"url": f"http://127.0.0.1:{port}/orders"}, database=database
        )
        runtime = Runtime(catalog, schedule=False, watch=False)
        await runtime.start()
        pos.go_down_for(3600)  # the POS's API is down for maintenance
        app = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
        try:
            async with httpx.AsyncClient(transport=app, base_url="http://localhost") as client:
                await post_online_order(client, LOCATION, "s3cret")
            await _settled(runtime.hub)
            today = LOCATION.business_date_for(clock.now())
            reconciler = Reconciler(runtime.hub)
            differs = await reconciler.reconcile([LOCATION.id], today, today, [CheckName.ONLINE])
            pos.go_down_for(0)
            assert await runtime.hub.deliveries.replay_flow("online-to-pos") == 1
            await _settled(runtime.hub)
            fixed = await reconciler.reconcile([LOCATION.id], today, today, [CheckName.ONLINE])
        finally:
            await runtime.stop()
            await stop_server(server)
        return _only(differs, CheckName.ONLINE), _only(fixed, CheckName.ONLINE)

    differs, fixed = asyncio.run(scenario())
    assert differs.state is CheckState.DIFFER
    [difference] = differs.differences
    assert "not confirmed by the POS: dead" in difference.problem and difference.values["sent"] > 0
    assert fixed.state is CheckState.AGREE and fixed.totals["confirmed"] == differs.totals["sent"]


async def _settled(hub: Hub) -> None:
    for _ in range(400):
        counts = await hub.deliveries.counts()
        if not counts.get("pending") and not counts.get("retrying"):  # type: ignore[call-overload]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle")


def test_kitchen_an_order_that_never_reached_the_kitchen_differs_until_replayed(
    tmp_path: Path, database: str
) -> None:
    flows = [_realtime("pos-to-kitchen", "pos", "kds", retry_limit=0)]
    kds = System(id="kds", kind=SystemKind.KDS, connector="kds", owner="Chef")
    catalog = folder_catalog(tmp_path, flows, (kds,), database=database)
    catalog.mappings.stations = {category: ["line"] for category in catalog.mappings.category_accounts}

    async def scenario() -> tuple[CheckResult, CheckResult, int]:
        today = LOCATION.business_date_for(clock.now())
        async with Hub(catalog) as hub:  # the kitchen is not running: its deliveries die
            order = restamped(simulate_day(LOCATION, today, seed=9, scale=0.01).orders[0], clock.now())
            await store(hub, "orders", order, today)
            await _settled(hub)
            reconciler = Reconciler(hub)
            differs = await reconciler.reconcile([LOCATION.id], today, today, [CheckName.KITCHEN])
            kitchen = Kitchen.from_catalog(catalog, KitchenStore(hub.storage), emit=hub.inbox.accept)
            await kitchen.start()
            hub.services.kitchen = kitchen
            try:
                replayed = await hub.deliveries.replay_flow("pos-to-kitchen")
                await _settled(hub)
                fixed = await reconciler.reconcile([LOCATION.id], today, today, [CheckName.KITCHEN])
            finally:
                await hub.deliveries.stop()
                await kitchen.stop()
        return _only(differs, CheckName.KITCHEN), _only(fixed, CheckName.KITCHEN), replayed

    differs, fixed, replayed = asyncio.run(scenario())
    assert differs.state is CheckState.DIFFER
    [difference] = differs.differences
    assert difference.problem.startswith("never reached the kitchen (dead: ")
    assert replayed == 1
    assert fixed.state is CheckState.AGREE, fixed.differences
    assert fixed.totals["tickets made"] == fixed.totals["tickets expected"] >= 2  # its stations and expo


SQUARE_LOCATION = "D7AVYMEAPJ3A3"
WEBHOOK_URL = "http://hub.test/api/v1/webhooks/square"


def _square_order(order_id: str, at: datetime) -> dict[str, Any]:
    order = copy.deepcopy(fixture_json("RetrieveOrderResponse.json")["order"])
    stamp = at.isoformat().replace("+00:00", "Z")
    order.update(id=order_id, version=1, location_id=SQUARE_LOCATION, created_at=stamp, updated_at=stamp)
    return order


def _square_catalog(database: str) -> Catalog:
    settings = {
        "signature_key": "env:EXPEDITER_TEST_SQUARE_KEY",
        "access_token": "env:EXPEDITER_TEST_SQUARE_TOKEN",
        "notification_url": WEBHOOK_URL,
        "base_url": "http://square.test",
        "locations": {SQUARE_LOCATION: LOCATION.id},
    }
    return Catalog(
        hub=HubSettings(database=database, public_url="http://hub.test"),
        locations=[LOCATION],
        systems=[System(id="square", kind=SystemKind.POS, connector="square", owner="GM", settings=settings)],
    )


def test_webhooks_an_order_the_pos_does_not_list_differs_until_the_nightly_poll_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    day = last_night()
    at = (business_day_end(LOCATION, day) - timedelta(hours=8)).replace(microsecond=0)
    square = SquareStandIn(access_token=ACCESS_TOKEN)
    heard, missed, ghost = (_square_order(name, at) for name in ("HEARD", "MISSED", "GHOST"))
    for order in (heard, missed, ghost):
        square.put_order(order)

    async def scenario() -> tuple[CheckResult, CheckResult]:
        runtime = Runtime(_square_catalog(database), schedule=False, watch=False)
        runtime.hub.services.http_transport = square.transport()
        await runtime.start()
        app = httpx.ASGITransport(app=create_app(runtime.hub, manage_hub=False))
        try:
            async with httpx.AsyncClient(transport=app, base_url="http://hub.test") as client:
                for order in (heard, ghost):  # MISSED's webhook never came
                    answer = await send_webhook(
                        client, WEBHOOK_URL, order_event(order), signature_key=SIGNATURE_KEY
                    )
                    assert answer.status_code == 202, answer.text
            await _settled(runtime.hub)
            del square.orders["GHOST"]  # the POS's own listing no longer has it
            reconciler = Reconciler(runtime.hub)
            differs = await reconciler.reconcile(
                [LOCATION.id], day, day, [CheckName.WEBHOOKS], now=due_at(day)
            )
            square.put_order(ghost)  # back in the POS (its location was fixed there)
            fixed = await reconciler.reconcile([LOCATION.id], day, day, [CheckName.WEBHOOKS], now=due_at(day))
        finally:
            await runtime.stop()
        return _only(differs, CheckName.WEBHOOKS), _only(fixed, CheckName.WEBHOOKS)

    differs, fixed = asyncio.run(scenario())
    assert differs.state is CheckState.DIFFER
    [difference] = differs.differences
    assert difference.record == "square-GHOST" and "does not have it" in difference.problem
    assert difference.values["webhook"] > 0
    assert differs.notes == ["missed by the webhooks, stored by the poll: square-MISSED"]
    assert fixed.state is CheckState.AGREE and fixed.notes == differs.notes
