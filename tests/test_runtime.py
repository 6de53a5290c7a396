"""The runtime's watch: a late nightly file raises one alert, routed and recorded once in the ledger."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.ledger.transfers import TransferOutcome
from expediter.model.clock import ManualClock
from expediter.model.location import Location
from expediter.model.time import zone
from expediter.monitor.alerts import AlertKind
from expediter.runtime import Runtime

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog(
        hub=HubSettings(database=str(tmp_path / "hub.db")),
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
    tmp_path: Path, clock: ManualClock
) -> None:
    # The hub runs from 03:00; by 07:00 the 04:30 run should have succeeded (by 06:00).
    clock.set(_local(clock, 3))

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path), schedule=False, watch=False) as runtime:
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
    tmp_path: Path, clock: ManualClock
) -> None:
    # First started at 09:00: today's 04:30 run was due (by 06:00) before this hub existed.
    clock.set(_local(clock, 9))

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path), schedule=False, watch=False) as runtime:
            await runtime.watch_once()
            assert runtime.alerting.book.firing() == []
            assert await runtime.hub.ledger.transfers(flow_id="nightly-sales") == []
            clock.advance(22 * 3600)  # 07:00 the next day: tomorrow's run was due while it ran
            await runtime.watch_once()
            assert [a.kind for a in runtime.alerting.book.firing()] == [AlertKind.LATENESS]

    asyncio.run(scenario())

    async def restarted() -> list[AlertKind]:  # a restart does not make it new again
        async with Runtime(_catalog(tmp_path), schedule=False, watch=False) as runtime:
            await runtime.watch_once()
            return [a.kind for a in runtime.alerting.book.firing()]

    assert asyncio.run(restarted()) == [AlertKind.LATENESS]


def test_order_versions_finds_the_newest_version_of_one_order_only(tmp_path: Path) -> None:
    from expediter.connectors.base import IncomingMessage
    from expediter.runtime import OrderVersions

    def message(key: str, kind: str = "orders") -> IncomingMessage:
        return IncomingMessage(source_system="sq", kind=kind, idempotency_key=key, payload=b"{}")

    async def scenario() -> tuple[int | None, int | None, int | None]:
        async with Runtime(_catalog(tmp_path), schedule=False, watch=False) as runtime:
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
