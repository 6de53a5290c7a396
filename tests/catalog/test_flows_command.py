"""``expediter flows``: the table, with last transfer and health from a real SQLite ledger."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from expediter.cli import app
from expediter.ledger import Direction, Ledger, Transfer, TransferOutcome
from expediter.model import clock as hub_clock
from expediter.storage import open_storage
from tests.catalog.helpers import write_catalog


def record(database: Path, *transfers: Transfer) -> None:
    async def main() -> None:
        storage = open_storage(database)
        await storage.start()
        try:
            for transfer in transfers:
                await Ledger(storage).record(transfer)
        finally:
            await storage.stop()

    asyncio.run(main())


def transfer(flow_id: str, outcome: TransferOutcome, at: datetime) -> Transfer:
    return Transfer(
        flow_id=flow_id,
        direction=Direction.OUT,
        level="realtime",
        transport="http",
        started_at=at,
        finished_at=at,
        outcome=outcome,
    )


def test_flows_without_a_database_shows_dashes(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    result = CliRunner().invoke(app, ["flows", "-c", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "sales" in result.output and "orders" in result.output
    assert "pos → back_office" in result.output
    assert "30 4 * * *" in result.output
    assert "—" in result.output
    assert not (tmp_path / "hub.db").exists()  # listing never creates a database


def test_flows_shows_last_transfer_and_health_from_the_ledger(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    now = hub_clock.now()
    record(
        tmp_path / "hub.db",
        transfer("orders", TransferOutcome.SUCCEEDED, now - timedelta(minutes=3)),
        transfer("orders", TransferOutcome.DEAD, now - timedelta(minutes=1)),
    )
    result = CliRunner().invoke(app, ["flows", "-c", str(path)], terminal_width=220)
    assert result.exit_code == 0, result.output
    orders = next(line for line in result.output.splitlines() if "│ orders" in line)
    assert "failing" in orders
    assert (now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M") in orders
    sales = next(line for line in result.output.splitlines() if "│ sales" in line)
    assert "never ran" in sales or "late" in sales
