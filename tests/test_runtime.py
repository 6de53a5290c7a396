"""The runtime's watch: a late nightly file raises one alert, routed and recorded once in the ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.ledger.transfers import TransferOutcome
from expediter.model.location import Location
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


def test_a_flow_that_missed_its_deadline_is_alerted_and_recorded_once(tmp_path: Path) -> None:
    # 07:00 in New York on 27 Nov 2026: the 04:30 run should have succeeded by 06:00.
    after_deadline = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with Runtime(_catalog(tmp_path), schedule=False, watch=False) as runtime:
            await runtime.watch_once(after_deadline)
            await runtime.watch_once(after_deadline)  # still late: no second record
            firing = runtime.alerting.book.firing()
            late = await runtime.hub.ledger.transfers(flow_id="nightly-sales")
        assert [(a.kind, a.flow_id) for a in firing] == [(AlertKind.LATENESS, "nightly-sales")]
        assert [t.outcome for t in late] == [TransferOutcome.LATE]
        assert "late" in late[0].error

    asyncio.run(scenario())


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
