"""The nightly journal posted to QuickBooks Online by a scheduled flow (``transport = "http"``):
through the engine's file-flow run, against a QBO stand-in on a loopback port, recorded in the
ledger; posted once however often the night is run; failures transient or terminal by status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs, RunResult
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location
from expediter.plugin.base import IncomingMessage
from tests.connectors.quickbooks.standin import StandIn, StandInServer
from tests.operations.accounting.worked_day import DAY, EXPECTED_LINES, LOCATION, MAPPINGS, worked_orders

FLOW = "nightly-journal-to-qbo"
LINES = len(EXPECTED_LINES) - 2  # no drawer counted: no cash short pair


@pytest.fixture
def qbo(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInServer]:
    monkeypatch.setenv("TEST_QBO_TOKEN", "tok-123")
    server = StandInServer(StandIn()).start()
    try:
        yield server
    finally:
        server.stop()


def _catalog(tmp_path: Path, url: str, database: str) -> Catalog:
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[Location(id=LOCATION, name="Bistro", timezone="UTC", day_start="00:00")],
        systems=[
            System(id="pos", kind=SystemKind.POS, connector="generic_pos", owner="GM"),
            System(
                id="qbo",
                kind=SystemKind.ACCOUNTING,
                connector="quickbooks",
                owner="Controller",
                settings={"base_url": url, "realm_id": "9130", "access_token": "env:TEST_QBO_TOKEN"},
            ),
        ],
        flows=[
            Flow(
                id=FLOW,
                from_="pos",
                to="qbo",
                data="journal",
                level=Level.FILE,
                trigger=Trigger.SCHEDULE,
                schedule="0 5 * * *",
                transport="http",
                owner="Controller",
            )
        ],
        mappings=MAPPINGS,
    )


async def _store(hub: Hub) -> None:
    for order in worked_orders():
        await hub.inbox.accept(
            IncomingMessage(
                source_system="pos",
                kind="orders",
                idempotency_key=f"pos:{order.id}",
                payload=msgspec.json.encode(order),
                location_id=LOCATION,
            ),
            ref=order.id,
            business_date=order.business_date,
        )


def _nights(tmp_path: Path, url: str, runs: int, database: str) -> tuple[list[RunResult], list[Transfer]]:
    async def scenario() -> tuple[list[RunResult], list[Transfer]]:
        async with Hub(_catalog(tmp_path, url, database), deliver=False) as hub:
            await _store(hub)
            results = [await FileJobs(hub).run(FLOW, LOCATION, DAY) for _ in range(runs)]
            return results, await hub.ledger.transfers(flow_id=FLOW)

    return asyncio.run(scenario())


def test_the_scheduled_flow_posts_once_and_the_ledger_records_it(
    tmp_path: Path, qbo: StandInServer, database: str
) -> None:
    results, transfers = _nights(tmp_path, qbo.url, runs=2, database=database)
    assert [r.outcome for r in results] == [TransferOutcome.SUCCEEDED] * 2
    (body,) = qbo.stand_in.posts()  # the re-run found DS-bk1-20261127 in QuickBooks
    assert body["DocNumber"] == "DS-bk1-20261127" and len(body["Line"]) == LINES
    assert {ln["JournalEntryLineDetail"]["AccountRef"]["value"] for ln in body["Line"]} >= {"35", "79"}
    newest, first = transfers  # newest first
    assert first.outcome is TransferOutcome.SUCCEEDED and first.transport == "http"
    assert first.endpoint == f"{qbo.url}/v3/company/9130/journalentry"
    assert first.remote_ref == "JournalEntry 177 (DS-bk1-20261127, created)"
    assert newest.remote_ref == "JournalEntry 177 (DS-bk1-20261127, already in QuickBooks)"
    assert first.records == LINES and first.business_date == DAY
    assert "tok-123" not in repr(transfers)


def test_an_outage_is_a_failed_transient_transfer(tmp_path: Path, qbo: StandInServer, database: str) -> None:
    qbo.stand_in.status = 503
    (result,), (transfer,) = _nights(tmp_path, qbo.url, runs=1, database=database)
    assert result.outcome is TransferOutcome.FAILED and "HTTP 503" in result.error
    assert transfer.outcome is TransferOutcome.FAILED and "Service unavailable" in transfer.error


def test_an_unknown_account_fails_the_night_with_the_fix(
    tmp_path: Path, qbo: StandInServer, database: str
) -> None:
    qbo.stand_in.accounts = [a for a in qbo.stand_in.accounts if a["AcctNum"] != "4100"]
    (result,), _ = _nights(tmp_path, qbo.url, runs=1, database=database)
    assert result.outcome is TransferOutcome.FAILED
    assert "'4100 Beverage Sales'" in result.error and "account_ids" in result.error
    assert qbo.stand_in.posts() == []
