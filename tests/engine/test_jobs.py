"""File flows run end to end: stored orders → an exporter → a folder transport → the ledger."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult, orders_between
from expediter.errors import RejectedInput
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.model.order import order_totals
from expediter.monitor.alerts import Alert, AlertKind
from expediter.plugin.base import (
    Capability,
    Connector,
    ExportRequest,
    IncomingMessage,
    OutputFile,
)
from expediter.runtime import Runtime
from expediter.sim.day import simulate_day

DAY = date(2026, 11, 26)
LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")


class CountingExporter:
    """Writes one CSV row per order with its total; refuses on request."""

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if self.refuse:
            raise RejectedInput("category 'Merch' has no revenue account", fix="map it in [mappings]")
        out = io.StringIO()
        writer = csv.writer(out)
        orders = list(request.orders())
        for order in orders:
            writer.writerow([order.id, order_totals(order).total.amount])
        name = f"{data}_{request.location.id}_{request.start_date:%Y%m%d}.csv"
        return [OutputFile(name=name, data=out.getvalue().encode(), records=len(orders))]


def _connector() -> Connector:
    return Connector(
        name="counting",
        title="test exporter",
        capabilities=frozenset({Capability.EXPORT}),
        make_exporter=lambda ctx: CountingExporter(refuse=ctx.system.settings.get("refuse", False)),
    )


def _catalog(tmp_path: Path, database: str, refuse: bool = False) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path)),
        locations=[LOCATION],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="office",
                kind=SystemKind.BACK_OFFICE,
                connector="counting",
                owner="Controller",
                settings={"refuse": refuse, "transport": {"inbox_dir": str(tmp_path / "drop")}},
            ),
        ],
        flows=[
            Flow(
                id="nightly",
                from_="pos",
                to="office",
                data="sales_summary",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="30 4 * * *",
                transport="folder",
                owner="Controller",
            )
        ],
    )


async def _store_day(hub: Hub) -> int:
    day = simulate_day(LOCATION, DAY, seed=7, scale=0.05)
    for order in day.orders:
        await hub.inbox.accept(
            IncomingMessage(
                source_system="pos",
                kind="orders",
                idempotency_key=f"pos:{order.id}:{order.version}",
                payload=msgspec.json.encode(order),
                location_id=LOCATION.id,
            ),
            ref=order.id,
            business_date=order.business_date,
        )
    return len({o.id for o in day.orders})


def test_a_run_delivers_the_file_and_records_it(tmp_path: Path, database: str) -> None:
    async def scenario() -> tuple[int, int, RunResult, RunResult, list[Transfer]]:
        async with Hub(
            _catalog(tmp_path, database), connectors={"counting": _connector()}, deliver=False
        ) as hub:
            stored = await _store_day(hub)
            found = len(await orders_between(hub, LOCATION.id, DAY, DAY))
            result = await FileJobs(hub).run("nightly", LOCATION.id, DAY)
            rerun = await FileJobs(hub).run("nightly", LOCATION.id, DAY)
            return stored, found, result, rerun, await hub.ledger.transfers(flow_id="nightly")

    stored, found, result, rerun, transfers = asyncio.run(scenario())
    assert found == stored > 0

    assert result.outcome is TransferOutcome.SUCCEEDED and result.records == stored
    written = tmp_path / "drop" / "sales_summary_L001_20261126.csv"
    assert len(written.read_text().splitlines()) == stored
    # The re-run replaced the file in place; the ledger keeps both transfers.
    assert rerun.outcome is TransferOutcome.SUCCEEDED
    assert [t.outcome for t in transfers] == [TransferOutcome.SUCCEEDED] * 2
    assert all(t.business_date == DAY and t.records == stored for t in transfers)
    assert transfers[0].checksum.startswith("sha256:")


def test_a_refused_export_is_a_failed_transfer_and_writes_nothing(tmp_path: Path, database: str) -> None:
    async def scenario() -> tuple[RunResult, list[Transfer]]:
        catalog = _catalog(tmp_path, database, refuse=True)
        async with Hub(catalog, connectors={"counting": _connector()}, deliver=False) as hub:
            await _store_day(hub)
            result = await FileJobs(hub).run("nightly", LOCATION.id, DAY)
            return result, await hub.ledger.transfers(flow_id="nightly")

    result, transfers = asyncio.run(scenario())

    assert result.outcome is TransferOutcome.FAILED
    assert "Merch" in result.error
    assert [t.outcome for t in transfers] == [TransferOutcome.FAILED]
    assert not (tmp_path / "drop").exists() or not any((tmp_path / "drop").iterdir())


def test_a_run_that_meets_a_bug_is_a_failed_transfer_with_the_error_and_an_alert(
    tmp_path: Path, database: str
) -> None:
    """A stored order the exporter cannot add up (a quantity of NaN, as an older hub accepted)
    raises no error of the hub's own: the night still leaves a failed transfer and an alert."""
    broken = {
        "id": "nan-1",
        "location_id": LOCATION.id,
        "opened_at": "2026-11-26T23:00:00+00:00",
        "business_date": DAY.isoformat(),
        "lines": [{"id": "1", "name": "Burger", "quantity": "NaN", "unit_price": {"amount": 1250}}],
    }

    async def scenario() -> tuple[RunResult, list[Transfer], list[Alert]]:
        hub = Hub(_catalog(tmp_path, database), connectors={"counting": _connector()}, deliver=False)
        async with Runtime(hub.catalog, hub, schedule=False, watch=False) as runtime:
            await hub.inbox.accept(
                IncomingMessage(
                    source_system="pos",
                    kind="orders",
                    idempotency_key="pos:nan-1:1",
                    payload=msgspec.json.encode(broken),
                    location_id=LOCATION.id,
                ),
                ref="nan-1",
                business_date=DAY,
            )
            result = await runtime.run_flow("nightly", LOCATION.id, DAY)
            return result, await hub.ledger.transfers(flow_id="nightly"), runtime.alerting.book.firing()

    result, transfers, firing = asyncio.run(scenario())

    assert result.outcome is TransferOutcome.FAILED
    assert "unexpected error" in result.error and "run the flow again" in result.error
    assert [(t.outcome, t.business_date) for t in transfers] == [(TransferOutcome.FAILED, DAY)]
    assert transfers[0].error == result.error
    assert [(a.kind, a.flow_id) for a in firing] == [(AlertKind.FAILURE, "nightly")]
    assert result.error in firing[0].message


def test_a_day_is_read_newest_version_first_stored_in_any_order_and_returned_by_order_id(
    tmp_path: Path, database: str
) -> None:
    """Versions of a check stored out of order (v3 before a late retry of v1), and the same
    version stored twice under two keys: the read keeps the highest version, the later one of a
    tie, and lists the checks by order id whatever the order they were stored in."""
    base = simulate_day(LOCATION, DAY, seed=7, scale=0.05).orders[0]
    stored = [("b", 3, "first"), ("b", 1, ""), ("a", 2, ""), ("c", 1, "old"), ("c", 1, "new"), ("a", 1, "")]

    async def scenario() -> tuple[list[tuple[str, int, str | None]], list[int]]:
        async with Hub(_catalog(tmp_path, database), deliver=False) as hub:
            for number, (order_id, version, note) in enumerate(stored):
                order = msgspec.structs.replace(base, id=order_id, version=version, notes=note)
                await hub.inbox.accept(
                    IncomingMessage(
                        source_system="pos",
                        kind="orders",
                        idempotency_key=f"pos:{order_id}:{version}:{number}",
                        payload=msgspec.json.encode(order),
                        location_id=LOCATION.id,
                    ),
                    ref=order_id,
                    business_date=DAY,
                )
            ids: list[int] = []
            found = await orders_between(hub, LOCATION.id, DAY, DAY, ids)
            return [(o.id, o.version, o.notes) for o in found], ids

    found, ids = asyncio.run(scenario())
    assert found == [("a", 2, ""), ("b", 3, "first"), ("c", 1, "new")]
    assert len(ids) == 3 and ids[2] > ids[1]  # "c"'s later copy was the one kept
