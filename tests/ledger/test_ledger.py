"""The ledger records transfers from anyone and finds them by flow, outcome, time and location."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from expediter.engine.storage.sqlite import SqliteStorage
from expediter.ledger import Direction, Ledger, Transfer, TransferOutcome, checksum_of

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


def test_record_query_and_summarize(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
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
