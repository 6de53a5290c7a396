"""The ledger records transfers from anyone and finds them by flow, outcome, time and location."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from expediter.ledger import Direction, Ledger, Transfer, TransferOutcome, checksum_of
from expediter.ledger.transfers import insert_transfer
from expediter.storage import open_storage
from expediter.storage.base import SQLITE, Tx
from expediter.storage.migrations import MIGRATIONS, split_statements
from expediter.storage.sqlite import SqliteStorage, _Tx

T0 = datetime(2026, 3, 14, 4, 0, tzinfo=UTC)


def transfer(flow_id: str, minutes: int, outcome: TransferOutcome, location: str = "L1") -> Transfer:
    return Transfer(
        flow_id=flow_id,
        direction=Direction.OUT,
        level="file",
        transport="sftp",
        started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0 + timedelta(minutes=minutes, seconds=2),
        outcome=outcome,
        endpoint="sftp://backoffice.example/in",
        file_name=f"sales-{minutes}.csv",
        records=12,
        bytes=2048,
        checksum=checksum_of(b"data"),
        location_id=location,
        business_date=date(2026, 3, 13),
        error="" if outcome is TransferOutcome.SUCCEEDED else "connection refused",
    )


def test_record_query_and_summarize(database: str) -> None:
    async def scenario() -> None:
        storage = open_storage(database)
        await storage.start()
        ledger = Ledger(storage)
        await ledger.record(transfer("nightly-sales", 0, TransferOutcome.FAILED))
        await ledger.record(transfer("nightly-sales", 10, TransferOutcome.SUCCEEDED))
        await ledger.record(transfer("nightly-sales", 20, TransferOutcome.FAILED, location="L2"))
        await ledger.record(transfer("payroll", 5, TransferOutcome.SUCCEEDED))

        newest_first = await ledger.transfers(flow_id="nightly-sales")
        assert [t.file_name for t in newest_first] == ["sales-20.csv", "sales-10.csv", "sales-0.csv"]
        read_back = newest_first[1]
        assert read_back.duration == timedelta(seconds=2)
        assert read_back.business_date == date(2026, 3, 13) and read_back.records == 12
        assert read_back.checksum == checksum_of(b"data") and read_back.id is not None

        failed = await ledger.transfers(outcome=TransferOutcome.FAILED)
        assert {t.file_name for t in failed} == {"sales-0.csv", "sales-20.csv"}
        recent = await ledger.transfers(since=T0 + timedelta(minutes=5))
        assert {t.file_name for t in recent} == {"sales-5.csv", "sales-10.csv", "sales-20.csv"}
        assert [t.file_name for t in await ledger.transfers(location_id="L2")] == ["sales-20.csv"]
        assert len(await ledger.transfers(limit=2)) == 2

        summary = await ledger.summary()
        sales = summary["nightly-sales"]
        assert sales.last_transfer_at == T0 + timedelta(minutes=20, seconds=2)
        assert sales.last_success_at == T0 + timedelta(minutes=10, seconds=2)
        assert sales.last_outcome is TransferOutcome.FAILED
        assert sales.counts == {"failed": 2, "succeeded": 1}
        assert summary["payroll"].counts == {"succeeded": 1}
        await storage.stop()

    asyncio.run(scenario())


def test_summary_reads_running_totals_that_agree_with_the_ledger(tmp_path: Path) -> None:
    """The summary comes from totals kept with each transfer (not a scan of the whole ledger); a
    database from before them gets them filled in from its transfers by the migration; a late
    record of an older transfer does not move "last" back."""
    database = tmp_path / "hub.db"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, script in MIGRATIONS:
        if name == "0005_transfer_totals":
            break
        for statement in split_statements(SQLITE.ddl(script)):
            conn.execute(statement)
        conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, "2026-03-01T00:00:00Z"))
    # Two transfers recorded by a hub from before the totals (insert_transfer keeps them now, so
    # give it a scratch table and drop it: the database is then as an older hub left it).
    conn.execute(
        "CREATE TABLE transfer_totals"
        " (flow_id, outcome, transfers, last_finished_at, UNIQUE (flow_id, outcome))"
    )
    for minutes, outcome in ((0, TransferOutcome.FAILED), (10, TransferOutcome.SUCCEEDED)):
        insert_transfer(_Tx(conn), transfer("nightly-sales", minutes, outcome))
    conn.execute("DROP TABLE transfer_totals")
    conn.close()

    async def scenario() -> None:
        storage = SqliteStorage(database)
        await storage.start()  # applies 0005: totals from the two transfers already there
        ledger = Ledger(storage)
        before = (await ledger.summary())["nightly-sales"]
        assert before.counts == {"failed": 1, "succeeded": 1}
        assert before.last_transfer_at == T0 + timedelta(minutes=10, seconds=2)
        await ledger.record(transfer("nightly-sales", 30, TransferOutcome.FAILED))
        await ledger.record(transfer("nightly-sales", 5, TransferOutcome.SUCCEEDED))  # a late record
        after = (await ledger.summary())["nightly-sales"]
        assert after.counts == {"failed": 2, "succeeded": 2}
        assert after.last_success_at == T0 + timedelta(minutes=10, seconds=2)
        assert after.last_transfer_at == T0 + timedelta(minutes=30, seconds=2)
        assert after.last_outcome is TransferOutcome.FAILED

        def grouped(tx: Tx) -> dict[str, int]:
            rows = tx.all("SELECT outcome, COUNT(*) AS n FROM transfers GROUP BY outcome")
            return {row["outcome"]: row["n"] for row in rows}

        assert await storage.read(grouped) == after.counts
        await storage.stop()

    asyncio.run(scenario())


def test_a_card_number_in_a_transfers_text_is_masked_in_the_ledger(tmp_path: Path) -> None:
    """An error quoting a bad value, or a file named after one, never puts a card number on disk."""

    async def scenario() -> list[Transfer]:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        failed = transfer("counts-in", 0, TransferOutcome.FAILED)
        failed.error = "row 3: quantity 'CC-4539578763621486' is not a number"
        failed.file_name = "4111111111111111-exp.csv"
        await Ledger(storage).record(failed)
        found = await Ledger(storage).transfers(flow_id="counts-in")
        await storage.stop()
        return found

    [stored] = asyncio.run(scenario())
    assert stored.error == "row 3: quantity 'CC-************1486' is not a number"
    assert stored.file_name == "************1111-exp.csv"
    for name in ("hub.db", "hub.db-wal"):
        if (tmp_path / name).exists():
            data = (tmp_path / name).read_bytes()
            assert b"4539578763621486" not in data and b"4111111111111111" not in data
