"""Files that arrive in a watched folder: checked, stored once, moved to done or failed, recorded."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from expediter.catalog.schema import Catalog, Flow, Level, System, SystemKind, Trigger
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.engine.inbound import FileArrivals
from expediter.ledger.transfers import Transfer, TransferOutcome
from expediter.model.location import Location

LOCATION = Location(id="L001", name="Bistro", timezone="America/New_York")
GOOD = b"ingredient,unit,quantity\nbeef_patty,each,120\nbun,each,130\n"
NO_QUANTITY = b"ingredient,unit\nbeef_patty,each\n"


def _catalog(tmp_path: Path, database: str) -> Catalog:
    drop = {"inbox_dir": str(tmp_path / "drop"), "stable_seconds": 0.05}
    return Catalog(
        hub=HubSettings(database=database, data_dir=str(tmp_path / "data")),
        locations=[LOCATION],
        systems=[
            System(
                id="count_app",
                kind=SystemKind.INVENTORY,
                connector="csv",
                owner="Chef",
                settings={"transport": drop},
            ),
            System(id="inventory", kind=SystemKind.INVENTORY, connector="csv", owner="Chef"),
        ],
        flows=[
            Flow(
                id="counts-in",
                from_="count_app",
                to="inventory",
                data="inventory_counts",
                level=Level.FILE,
                trigger=Trigger.FILE_ARRIVAL,
                transport="folder",
                owner="Chef",
            )
        ],
    )


def test_good_bad_and_repeated_count_sheets(tmp_path: Path, database: str) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "counts_L001_20261126.csv").write_bytes(GOOD)
    (drop / "counts_L001_20261127.csv").write_bytes(NO_QUANTITY)
    (drop / "again_L001_20261126.csv").write_bytes(GOOD)  # the same sheet sent twice
    (drop / "counts_L001_20261399.csv").write_bytes(GOOD + b"lettuce,lb,3\n")  # no such date
    (drop / "odd\\name.csv").write_bytes(GOOD)  # a backslash is a plain character in a folder's names
    # A cell over the csv module's 128 KiB limit: refused with its row and column, not a crash.
    (drop / "counts_L001_20261125.csv").write_bytes(GOOD + b"onion,lb," + b"9" * 140_000 + b"\n")

    async def scenario() -> tuple[list[Transfer], int, bytes | None]:
        async with Hub(_catalog(tmp_path, database), deliver=False) as hub:
            [watcher] = FileArrivals(hub).build()
            await watcher.poll_once()
            await watcher.transport.close()
            stored = await hub.inbox.latest_by_ref("inventory_counts", "L001:2026-11-26")
            return (
                await hub.ledger.transfers(flow_id="counts-in"),
                await hub.inbox.count(),
                (stored.payload if stored else None),
            )

    transfers, count, stored = asyncio.run(scenario())
    assert count == 1 and stored == GOOD
    by_file = {t.file_name: t for t in transfers}
    triplets = ("counts_L001_20261126.csv", "again_L001_20261126.csv", "odd\\name.csv")
    outcomes = sorted(by_file[name].outcome for name in triplets)  # whichever came first succeeded
    assert outcomes == [TransferOutcome.DUPLICATE, TransferOutcome.DUPLICATE, TransferOutcome.SUCCEEDED]
    refused = by_file["counts_L001_20261127.csv"]
    assert refused.outcome is TransferOutcome.FAILED and "quantity" in refused.error
    assert sorted(p.name for p in (drop / "done").iterdir()) == [
        "again_L001_20261126.csv",
        "counts_L001_20261126.csv",
        "odd\\name.csv",
    ]
    too_long = by_file["counts_L001_20261125.csv"]
    assert too_long.outcome is TransferOutcome.FAILED
    assert "longer than 4,096 characters — at row 4, column quantity" in too_long.error
    assert "is not a date" in by_file["counts_L001_20261399.csv"].error
    assert sorted(p.name for p in (drop / "failed").iterdir()) == [
        "counts_L001_20261125.csv",
        "counts_L001_20261127.csv",
        "counts_L001_20261399.csv",
    ]
    assert list(drop.glob("*.csv")) == []


def test_a_file_whose_name_is_not_utf8_is_read_and_recorded(tmp_path: Path, database: str) -> None:
    """A sheet saved on an old Windows machine (``café`` in Latin-1): picked up and in the ledger."""
    drop = tmp_path / "drop"
    drop.mkdir()
    with open(os.fsencode(drop) + b"/caf\xe9_L001_20261126.csv", "wb") as sheet:
        sheet.write(GOOD)
    with open(os.fsencode(drop) + b"/r\xe9serve.csv", "wb") as sheet:
        sheet.write(NO_QUANTITY)

    async def scenario() -> list[Transfer]:
        async with Hub(_catalog(tmp_path, database), deliver=False) as hub:
            [watcher] = FileArrivals(hub).build()
            await watcher.poll_once()
            await watcher.transport.close()
            assert await hub.inbox.latest_by_ref("inventory_counts", "L001:2026-11-26") is not None
            return await hub.ledger.transfers(flow_id="counts-in")

    by_file = {t.file_name: t for t in asyncio.run(scenario())}
    assert by_file["caf\ufffd_L001_20261126.csv"].outcome is TransferOutcome.SUCCEEDED
    refused = by_file["r\ufffdserve.csv"]
    assert refused.outcome is TransferOutcome.FAILED and "no quantity column" in refused.error
    assert os.listdir(os.fsencode(drop / "done")) == [b"caf\xe9_L001_20261126.csv"]
    assert os.listdir(os.fsencode(drop / "failed")) == [b"r\xe9serve.csv"]
