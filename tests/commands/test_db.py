"""``expediter db``: migrate, copy a restaurant's history from SQLite to a real PostgreSQL
(resumable, counts checked), and back up either while it runs."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.cli import app
from expediter.engine.hub import Hub
from expediter.errors import ExpediterError
from expediter.operations.kitchen import Kitchen, ticket_id_for
from expediter.storage import open_storage
from expediter.storage.copy import copy_database, tables_in_order
from expediter.storage.maintenance import pg_dump_command
from expediter.storage.migrations import MIGRATIONS
from tests.commands.helpers import invoke, write_catalog
from tests.databases import query
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually, order_message, sample_catalog
from tests.operations.kitchen.helpers import make_kitchen, with_kitchen
from tests.operations.kitchen.helpers import order as kitchen_order

ORDERS = 1200
"""More than one copy batch, so a copy can stop half-way through a table."""


def fill(database: str, first: int, orders: int) -> None:
    """A hub's history: orders stored, delivered to every destination, each a transfer."""

    async def main() -> None:
        hub = Hub(sample_catalog(database), database, connectors=TEST_CONNECTORS)
        hub.services.extra["board"] = Board()
        async with hub:
            await asyncio.gather(
                *(hub.inbox.accept(order_message(n, "L1")) for n in range(first, first + orders))
            )

            async def settled() -> bool:
                return (await hub.deliveries.counts()).get("pending", 0) == 0

            await eventually(settled, timeout=120)

    asyncio.run(main())


def refused(*args: str) -> str:
    """The one clear line ``expediter`` prints for an error a user can fix (see ``cli.main``)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0 and isinstance(result.exception, ExpediterError), result.output
    return str(result.exception)


def counts(database: str) -> dict[str, int]:
    return {table: query(database, f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables_in_order()}


def test_migrate_applies_every_migration_once(database: str) -> None:
    code, out = invoke("db", "migrate", "--database", database)
    assert code == 0, out
    assert f"applied {len(MIGRATIONS)} migrations" in out
    code, out = invoke("db", "migrate", "--database", database)
    assert code == 0 and "up to date" in out
    assert [name for (name,) in query(database, "SELECT name FROM migrations ORDER BY name")] == [
        name for name, _ in MIGRATIONS
    ]


def test_the_whole_history_moves_to_postgresql_and_a_hub_goes_on_there(
    tmp_path: Path, postgres_url: str
) -> None:
    source = str(tmp_path / "hub.db")
    fill(source, 0, 40)
    code, out = invoke("db", "copy", source, postgres_url)
    assert code == 0, out
    assert "every count agrees" in out
    before = counts(source)
    assert before["messages"] == 40 and before["deliveries"] == 120 and before["transfers"] >= 120
    assert counts(postgres_url) == before
    assert query(postgres_url, "SELECT id FROM hub_identity") == query(source, "SELECT id FROM hub_identity")
    assert query(postgres_url, "SELECT id, idempotency_key, payload FROM messages ORDER BY id") == query(
        source, "SELECT id, idempotency_key, payload FROM messages ORDER BY id"
    )
    fill(postgres_url, 40, 5)  # new rows get ids after the copied ones
    assert query(postgres_url, "SELECT MIN(id), MAX(id), COUNT(*) FROM messages") == [(1, 45, 45)]


def test_an_interrupted_copy_goes_on_where_it_stopped(tmp_path: Path, postgres_url: str) -> None:
    source = str(tmp_path / "hub.db")
    fill(source, 0, ORDERS)

    class Interrupted(Exception):
        pass

    def stop_after_first_messages(table: str, rows: int) -> None:
        if table == "messages":
            raise Interrupted

    async def interrupted_copy() -> None:
        storages = open_storage(source), open_storage(postgres_url)
        for storage in storages:
            await storage.start()
        try:
            await copy_database(*storages, stop_after_first_messages)
        finally:
            for storage in storages:
                await storage.stop()

    with pytest.raises(Interrupted):
        asyncio.run(interrupted_copy())
    assert 0 < counts(postgres_url)["messages"] < ORDERS
    fill(source, ORDERS, 3)  # and the source went on meanwhile
    code, out = invoke("db", "copy", source, postgres_url)
    assert code == 0, out
    assert counts(postgres_url) == counts(source)
    assert counts(source)["messages"] == ORDERS + 3


def test_a_target_holding_another_hub_is_refused(tmp_path: Path, new_database: Callable[[str], str]) -> None:
    source, other = str(tmp_path / "source.db"), new_database("other")
    fill(source, 0, 2)
    fill(other, 100, 2)
    assert "already holds another hub's messages" in refused("db", "copy", source, other)
    kept = [key for (key,) in query(other, "SELECT idempotency_key FROM messages ORDER BY id")]
    assert kept == ["pos:order-100:1", "pos:order-101:1"]


def test_a_missing_source_file_is_named(tmp_path: Path, postgres_url: str) -> None:
    assert "nowhere.db: no such database file" in refused(
        "db", "copy", str(tmp_path / "nowhere.db"), postgres_url
    )


def test_a_sqlite_backup_is_a_database_of_its_own(tmp_path: Path) -> None:
    source = str(tmp_path / "hub.db")
    fill(source, 0, 10)
    catalog = write_catalog(tmp_path, sample_catalog(source))
    code, out = invoke("db", "backup", "--catalog", catalog, "-o", str(tmp_path / "backup" / "hub.db"))
    assert code == 0, out
    assert "SQLite online backup" in out
    assert counts(str(tmp_path / "backup" / "hub.db")) == counts(source)


def test_a_postgresql_backup_is_a_pg_dump_that_restores(tmp_path: Path, postgres_url: str) -> None:
    if pg_dump_command() is None:
        pytest.skip("PostgreSQL's client tools are not installed (apt-get install postgresql-client)")
    fill(postgres_url, 0, 10)
    dump = tmp_path / "hub.dump"
    code, out = invoke("db", "backup", "--database", postgres_url, "-o", str(dump))
    assert code == 0, out
    assert "pg_dump" in out and "secret" not in out
    listing = subprocess.run(
        [str(Path(pg_dump_command() or "").with_name("pg_restore")), "--list", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "TABLE DATA public messages" in listing and "TABLE DATA public deliveries" in listing


def cooked(database: str) -> None:
    """A kitchen's day on ``database``: an order on the screens, one station bumped, an 86."""

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(kitchen_order("o-1"))
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        await kitchen.set_availability("loc-1", "PLU-7", False)

    with_kitchen(make_kitchen(database), scenario)


KITCHEN_TICKETS = "SELECT ticket_id, station, state, payload FROM kitchen_tickets ORDER BY ticket_id"


def test_a_copied_database_has_the_kitchen_tickets(tmp_path: Path, postgres_url: str) -> None:
    source = str(tmp_path / "hub.db")
    fill(source, 0, 3)
    cooked(source)
    code, out = invoke("db", "copy", source, postgres_url)
    assert code == 0, out
    tickets = query(source, KITCHEN_TICKETS)
    assert {station for _, station, _, _ in tickets} == {"expo", "fry", "grill"}
    assert [(t, s, state, bytes(p)) for t, s, state, p in query(postgres_url, KITCHEN_TICKETS)] == tickets
    assert query(postgres_url, "SELECT station, seq FROM kitchen_events ORDER BY station, seq") == query(
        source, "SELECT station, seq FROM kitchen_events ORDER BY station, seq"
    )
    assert query(postgres_url, "SELECT item_key, available FROM kitchen_availability") == [("PLU-7", 0)]


def test_a_sqlite_backup_has_the_kitchen_tickets(tmp_path: Path) -> None:
    source = str(tmp_path / "hub.db")
    cooked(source)
    catalog = write_catalog(tmp_path, sample_catalog(source))
    code, out = invoke("db", "backup", "--catalog", catalog, "-o", str(tmp_path / "backup" / "hub.db"))
    assert code == 0, out
    assert query(str(tmp_path / "backup" / "hub.db"), KITCHEN_TICKETS) == query(source, KITCHEN_TICKETS)
