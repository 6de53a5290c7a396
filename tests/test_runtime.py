"""The runtime's watch: a late nightly file raises one alert, routed and recorded once in the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.time import zone
from expediter.monitor.alerts import AlertKind
from expediter.runtime import Runtime
from expediter.web.app import create_app

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")


def _catalog(tmp_path: Path, database: str | None = None) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database or str(tmp_path / "hub.db"), data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(id="office", kind=SystemKind.BACK_OFFICE, connector="csv", owner="Controller"),
        ],
        flows=[
            Flow(
                id="nightly-sales",
                from_="pos",
                to="office",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="30 4 * * *",
                expected_by="06:00",
                transport="folder",
                owner="Controller",
            )
        ],
    )


def _local(clock: ManualClock, hour: int, minute: int = 0) -> datetime:
    """The next ``hour:minute`` in New York after the suite's minute (the clock then moves there)."""
    local = clock.now().astimezone(zone(LOCATION.timezone))
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > local else (at + timedelta(days=1)).replace(hour=hour, minute=minute)


def test_a_flow_that_missed_its_deadline_is_alerted_and_recorded_once(
    tmp_path: Path, database: str, clock: ManualClock
) -> None:
    # The hub runs from 03:00; by 07:00 the 04:30 run should have succeeded (by 06:00).
    clock.set(_local(clock, 3))

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path, database), schedule=False, watch=False) as runtime:
            await runtime.watch_once()
            assert runtime.alerting.book.firing() == []  # 03:00: nothing due yet
            clock.advance(4 * 3600)
            await runtime.watch_once()
            await runtime.watch_once()  # still late: no second record
            firing = runtime.alerting.book.firing()
            late = await runtime.hub.ledger.transfers(flow_id="nightly-sales")
        assert [(a.kind, a.flow_id) for a in firing] == [(AlertKind.LATENESS, "nightly-sales")]
        assert [t.outcome for t in late] == [TransferOutcome.LATE]
        assert "late" in late[0].error

    asyncio.run(scenario())


def test_a_brand_new_hub_is_not_late_for_a_run_due_before_it_existed(
    tmp_path: Path, database: str, clock: ManualClock
) -> None:
    # First started at 09:00: today's 04:30 run was due (by 06:00) before this hub existed.
    clock.set(_local(clock, 9))

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path, database), schedule=False, watch=False) as runtime:
            await runtime.watch_once()
            assert runtime.alerting.book.firing() == []
            assert await runtime.hub.ledger.transfers(flow_id="nightly-sales") == []
            clock.advance(22 * 3600)  # 07:00 the next day: tomorrow's run was due while it ran
            await runtime.watch_once()
            assert [a.kind for a in runtime.alerting.book.firing()] == [AlertKind.LATENESS]

    asyncio.run(scenario())

    async def restarted() -> list[AlertKind]:  # a restart does not make it new again
        async with Runtime(_catalog(tmp_path, database), schedule=False, watch=False) as runtime:
            await runtime.watch_once()
            return [a.kind for a in runtime.alerting.book.firing()]

    assert asyncio.run(restarted()) == [AlertKind.LATENESS]


def test_order_versions_finds_the_newest_version_of_one_order_only(tmp_path: Path, database: str) -> None:
    from expediter.plugin.base import IncomingMessage
    from expediter.runtime import OrderVersions

    def message(key: str, kind: str = "orders") -> IncomingMessage:
        return IncomingMessage(source_system="sq", kind=kind, idempotency_key=key, payload=b"{}")

    async def scenario() -> tuple[int | None, int | None, int | None]:
        async with Runtime(_catalog(tmp_path, database), schedule=False, watch=False) as runtime:
            for key in ("sq:A:1", "sq:A:3", "sq:A:2", "sq:AB:9", "sq:B:7"):
                await runtime.hub.inbox.accept(message(key), processed=True)
            await runtime.hub.inbox.accept(message("sq:C:5", kind="square.event"), processed=True)
            versions = OrderVersions(runtime.hub)
            return (
                await versions.latest_version("sq", "A"),
                await versions.latest_version("sq", "C"),
                await versions.latest_version("other", "A"),
            )

    # "AB" shares A's prefix but is another order; only canonical orders count.
    assert asyncio.run(scenario()) == (3, None, None)


def _two_nightly_flows(tmp_path: Path, database: str, bad_schedule: str) -> Catalog:
    """The catalog above with a folder for the office and a second nightly flow on ``bad_schedule``
    (written as code, so it never met ``expediter check``)."""
    catalog = _catalog(tmp_path, database)
    office = catalog.systems[1]
    office.settings = {"transport": {"inbox_dir": str(tmp_path / "office")}}
    good = catalog.flows[0]
    bad = msgspec.structs.replace(good, id="nightly-mix", data="product_mix", schedule=bad_schedule)
    catalog.flows = [bad, good]
    return catalog


async def _until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
    """Wait for ``condition`` (a guard against hanging, not a measure of speed)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


def test_a_schedule_the_hub_cannot_run_stops_only_its_own_flow(
    tmp_path: Path, database: str, clock: ManualClock
) -> None:
    catalog = _two_nightly_flows(tmp_path, database, "30 4 * * * *")  # six fields: croniter reads seconds
    today = LOCATION.business_date_for(clock.now())
    ran_before = today - timedelta(days=3)

    async def scenario() -> None:
        async with Runtime(catalog, schedule=False, watch=False) as earlier:
            await earlier.hub.ledger.record(_succeeded("nightly-sales", ran_before, clock.now()))
        async with Runtime(catalog, watch=False) as runtime:

            async def caught_up() -> bool:
                done = await runtime.hub.ledger.transfers(flow_id="nightly-sales")
                return any(t.business_date and t.business_date > ran_before for t in done)

            await _until(caught_up, "the good flow's catch-up runs")
            firing = [(a.kind, a.flow_id) for a in runtime.alerting.book.firing()]
            assert (AlertKind.FAILURE, "nightly-mix") in firing
            [alert] = [a for a in runtime.alerting.book.firing() if a.flow_id == "nightly-mix"]
            assert "no seconds field" in alert.message
            assert runtime.health_problems() == []

    asyncio.run(scenario())


def _succeeded(flow_id: str, day: date, now: datetime) -> Transfer:
    return Transfer(
        flow_id=flow_id,
        direction=Direction.OUT,
        level=Level.FILE,
        transport="folder",
        started_at=now,
        finished_at=now,
        outcome=TransferOutcome.SUCCEEDED,
        location_id=LOCATION.id,
        business_date=day,
    )


def test_a_part_that_stops_fires_an_alert_and_makes_healthz_503(tmp_path: Path, database: str) -> None:
    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("the disk is full")

    async def finished() -> None:
        await asyncio.sleep(0)

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path, database), schedule=False, watch=False) as runtime:
            app = create_app(runtime.hub, manage_hub=False)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                assert (await client.get("/healthz")).status_code == 200
                runtime.spawn(broken(), "the scheduler (no flow runs on schedule)")
                runtime.spawn(finished(), "the polling fallback of system pos")
                runtime.spawn(asyncio.sleep(3600), "the alert watch")

                async def two_stopped() -> bool:
                    return len(runtime.stopped_parts) == 2 and bool(runtime.alerting.book.firing())

                await _until(two_stopped, "the parts to stop")
                answer = await client.get("/healthz")
            assert answer.status_code == 503
            body = answer.json()
            assert body["status"] == "unhealthy"
            assert body["problems"] == [
                "the scheduler (no flow runs on schedule) stopped: ValueError: the disk is full",
                "the polling fallback of system pos stopped: it ended without an error",
            ]
            [alert] = runtime.alerting.book.firing()
            assert alert.kind is AlertKind.STOPPED
            assert "the disk is full" in alert.message and "restart the hub" in alert.message
        assert "the alert watch" not in runtime.stopped_parts  # stopped with the hub: no alarm

    asyncio.run(scenario())
