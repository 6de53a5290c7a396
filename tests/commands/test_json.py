"""``--json`` on the listing commands: one JSON array, the documented field names, real data."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from expediter.cli import app
from expediter.commands.listings import LISTINGS, DeadLetterRow, FlowRow, HeldJournalRow, TransferRow
from expediter.ledger import TransferOutcome
from expediter.model import clock as hub_clock
from tests.catalog.helpers import write_catalog as write_toml_catalog
from tests.catalog.test_flows_command import record, transfer
from tests.commands.helpers import catalog, store_day, write_catalog
from tests.commands.test_journal import _run, _without_cash
from tests.fixtures_path import REPO_ROOT
from tests.ledger.test_cli import prepare


def fields(row: type[msgspec.Struct]) -> list[str]:
    info = msgspec.inspect.type_info(row)
    assert isinstance(info, msgspec.inspect.StructType)
    return [field.encode_name for field in info.fields]


def listed(*args: str) -> list[dict[str, object]]:
    """The command's standard output, which must be JSON and nothing else."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def test_flows_json_before_the_hub_ever_ran(tmp_path: Path) -> None:
    rows = listed("flows", "-c", str(write_toml_catalog(tmp_path)))
    assert [row["id"] for row in rows] == ["sales", "orders"]
    assert all(list(row) == fields(FlowRow) for row in rows)
    sales = rows[0]
    assert sales["from"] == "pos" and sales["to"] == "back_office" and sales["schedule"] == "30 4 * * *"
    assert sales["health"] is None and sales["last_transfer_at"] is None
    assert not (tmp_path / "hub.db").exists()


def test_flows_json_with_the_ledger(tmp_path: Path) -> None:
    path = write_toml_catalog(tmp_path)
    at = hub_clock.now() - timedelta(minutes=1)
    record(tmp_path / "hub.db", transfer("orders", TransferOutcome.DEAD, at))
    orders = next(row for row in listed("flows", "-c", str(path)) if row["id"] == "orders")
    assert orders["health"] == "failing" and orders["last_outcome"] == "dead"
    stamp = str(orders["last_transfer_at"])
    assert stamp.endswith("Z")
    assert abs(datetime.fromisoformat(stamp) - at) < timedelta(milliseconds=1)


def test_transfers_and_dead_letters_json(tmp_path: Path) -> None:
    config = str(prepare(tmp_path))
    transfers = listed("transfers", "--flow", "pos-printer", "-c", config)
    assert len(transfers) == 2
    assert all(list(row) == fields(TransferRow) for row in transfers)
    assert {row["outcome"] for row in transfers} == {"dead"}
    assert all(row["error"] == "HTTP 400: printer rejects this ticket" for row in transfers)
    dead = listed("dead-letters", "-c", config)
    assert [list(row) for row in dead] == [fields(DeadLetterRow)] * 2
    assert {row["flow_id"] for row in dead} == {"pos-printer"}
    assert {row["id"] for row in dead} == {row["delivery_id"] for row in transfers}
    assert listed("dead-letters", "--flow", "pos-kds", "-c", config) == []  # a flow with none


def test_journal_held_json(tmp_path: Path) -> None:
    found = catalog(tmp_path)
    store_day(found)
    assert _run(_without_cash(found), "xero-journal") is TransferOutcome.FAILED
    [held] = listed("journal", "held", "-c", write_catalog(tmp_path, found))
    assert list(held) == fields(HeldJournalRow)
    assert held["location_id"] == "L001" and held["business_date"] == "2026-11-26"
    assert held["missing"] == [{"table": "tender_accounts", "key": "cash"}]


def test_json_stays_clean_when_the_command_creates_the_database(tmp_path: Path) -> None:
    """Log lines (a new database's migrations) go to standard error, never into the JSON."""
    config = str(write_toml_catalog(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "expediter.cli", "transfers", "-c", config, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "migrations_applied" in done.stderr


@pytest.mark.parametrize(("command", "row"), LISTINGS.items())
def test_every_json_field_is_documented(command: str, row: type[msgspec.Struct]) -> None:
    page = (REPO_ROOT / "docs" / "scripting.md").read_text(encoding="utf-8")
    section = page.split(f"### `expediter {command} --json`", 1)
    assert len(section) == 2, f"docs/scripting.md has no section for `expediter {command} --json`"
    text = section[1].split("\n### ", 1)[0]
    missing = [name for name in fields(row) if f"`{name}`" not in text]
    assert not missing, f"docs/scripting.md, {command}: undocumented fields {missing}"
