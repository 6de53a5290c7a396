"""``expediter journal held`` / ``release``: the queue of days waiting for a mapping."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog
from expediter.commands.journal import held_entries, journal_flows, release_journal
from expediter.engine.hub import Hub
from expediter.engine.jobs import FileJobs
from expediter.ledger.transfers import TransferOutcome
from expediter.operations.accounting import HoldState
from expediter.operations.accounting.export import open_journal_queue
from tests.commands.helpers import DAY, catalog, invoke, store_day, write_catalog


def _without_cash(found: Catalog) -> Catalog:
    tenders = {k: v for k, v in found.mappings.tender_accounts.items() if k != "cash"}
    return msgspec.structs.replace(
        found, mappings=msgspec.structs.replace(found.mappings, tender_accounts=tenders)
    )


def _run(found: Catalog, flow_id: str) -> TransferOutcome:
    async def run() -> TransferOutcome:
        async with Hub(found, deliver=False) as hub:
            return (await FileJobs(hub).run(flow_id, "L001", DAY)).outcome

    return asyncio.run(run())


def test_nothing_held_lists_an_empty_table(tmp_path: Path, database: str) -> None:
    config = write_catalog(tmp_path, catalog(tmp_path, database=database))
    code, output = invoke("journal", "held", "-c", config)
    assert code == 0 and "0 held journal entries" in output


def test_release_of_a_day_not_held_exits_1(tmp_path: Path, database: str) -> None:
    config = write_catalog(tmp_path, catalog(tmp_path, database=database))
    code, output = invoke("journal", "release", "L001", str(DAY), "-c", config)
    assert code == 1 and "not held" in output
    code, output = invoke("journal", "release", "L001", "yesterday", "-c", config)
    assert code == 2 and "YYYY-MM-DD" in output


def test_a_scheduled_rerun_after_the_fix_releases_the_day(tmp_path: Path, database: str) -> None:
    found = catalog(tmp_path, database=database)
    store_day(found)
    assert _run(_without_cash(found), "xero-journal") is TransferOutcome.FAILED
    [held] = held_entries(found)
    assert [(m.table.value, m.key) for m in held.missing] == [("tender_accounts", "cash")]
    assert _run(found, "xero-journal") is TransferOutcome.SUCCEEDED
    assert held_entries(found) == []
    with open_journal_queue(found) as queue:
        [released] = queue.list()
    assert released.state is HoldState.RELEASED and released.entry is not None


def test_release_runs_every_journal_flow_of_the_location(tmp_path: Path, database: str) -> None:
    found = catalog(tmp_path, database=database)
    store_day(found)
    assert _run(_without_cash(found), "qb-iif") is TransferOutcome.FAILED
    assert [f.id for f in journal_flows(found, "L001")] == ["qb-iif", "qb-json", "xero-journal"]

    async def release() -> list[str]:
        async with Hub(found, deliver=False) as hub:
            outcome = await release_journal(hub, "L001", DAY)
        assert outcome.released, outcome.error
        return [name for run in outcome.runs for name in run.files]

    assert asyncio.run(release()) == [
        "journal_L001_20261126.iif",
        "journal_L001_20261126.json",
        "journal_L001_20261126.csv",
    ]
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) == [
        "journal_L001_20261126.csv",
        "journal_L001_20261126.iif",
        "journal_L001_20261126.json",
    ]
    assert held_entries(found) == []
