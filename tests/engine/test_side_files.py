"""An install from before the one storage seam kept side files in its data folder; upgrading brings
their rows into the hub's database once (on SQLite and PostgreSQL) and renames the files."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec

from expediter.catalog.schema import Catalog
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.model.money import Money
from expediter.operations.accounting.export import open_journal_queue
from expediter.operations.accounting.queue import HeldEntry
from expediter.operations.accounting.queue import HoldState as QueueState
from expediter.operations.kitchen.store import KitchenEvent, KitchenStore
from expediter.operations.kitchen.tickets import TicketState, ticket_id_for
from expediter.operations.labor.holds import PayHold, open_pay_holds
from expediter.plugin.transport import StoredSeenStore
from expediter.storage.copy import count_rows
from tests.engine.helpers import sample_catalog
from tests.operations.kitchen.helpers import make_kitchen, order, with_kitchen

OLD_KITCHEN_SCHEMA = [
    """CREATE TABLE kitchen_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)""",
    """CREATE TABLE kitchen_orders (order_id TEXT PRIMARY KEY, location_id TEXT NOT NULL,
        version INTEGER NOT NULL, fired_courses TEXT NOT NULL, payload BLOB NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE kitchen_tickets (ticket_id TEXT PRIMARY KEY, order_id TEXT NOT NULL,
        station TEXT NOT NULL, state TEXT NOT NULL, payload BLOB NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE kitchen_events (station TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
        payload BLOB NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (station, seq))""",
    """CREATE TABLE kitchen_availability (location_id TEXT NOT NULL, item_key TEXT NOT NULL,
        available INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (location_id, item_key))""",
    """CREATE TABLE kitchen_printed (printer TEXT NOT NULL, order_id TEXT NOT NULL,
        version INTEGER NOT NULL, items BLOB NOT NULL, printed_at TEXT NOT NULL,
        PRIMARY KEY (printer, order_id))""",
]
"""The kitchen's own file as versions before the storage seam wrote it (``data/kitchen.db``)."""


def old_kitchen_file(folder: Path, scratch: Path) -> dict[str, list[tuple[object, ...]]]:
    """A ``kitchen.db`` with the old schema holding a real kitchen's rows: one order received and
    bumped at the grill, an 86 (made by running today's kitchen on a scratch SQLite database and
    writing its rows in the old layout)."""

    async def scenario(kitchen: object) -> None:
        await kitchen.receive(order("o-1"))  # type: ignore[attr-defined]
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))  # type: ignore[attr-defined]
        await kitchen.set_availability("loc-1", "PLU-7", False)  # type: ignore[attr-defined]

    with_kitchen(make_kitchen(scratch), scenario)
    source = sqlite3.connect(scratch / "hub.db")
    tables = {
        "kitchen_orders": "order_id, location_id, version, fired_courses, payload, updated_at",
        "kitchen_tickets": "ticket_id, order_id, station, state, payload, updated_at",
        "kitchen_events": "station, seq, kind, payload, created_at",
        "kitchen_availability": "location_id, item_key, available, updated_at",
        "kitchen_printed": "printer, order_id, version, items, printed_at",
    }
    rows = {
        table: source.execute(f"SELECT {columns} FROM {table}").fetchall()
        for table, columns in tables.items()
    }
    source.close()
    folder.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(folder / "kitchen.db")
    with old:
        for statement in OLD_KITCHEN_SCHEMA:
            old.execute(statement)
        for table, found in rows.items():
            marks = ", ".join("?" for _ in tables[table].split(","))
            old.executemany(f"INSERT INTO {table} ({tables[table]}) VALUES ({marks})", found)
    old.close()
    return rows


def catalog_with_data_dir(database: str, data: Path) -> Catalog:
    catalog = sample_catalog(database)
    return msgspec.structs.replace(catalog, hub=HubSettings(database=database, data_dir=str(data)))


def test_an_old_kitchen_file_is_in_the_database_after_upgrade(database: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    written = old_kitchen_file(data, tmp_path / "scratch")
    assert written["kitchen_tickets"] and written["kitchen_events"]

    async def upgrade() -> tuple[dict[str, int], list[str], list[KitchenEvent], int]:
        async with Hub(catalog_with_data_dir(database, data), deliver=False) as hub:
            store = KitchenStore(hub.storage)
            tickets = await store.tickets_of_orders(["o-1"])
            events = await store.events_after("grill", 0)
            counted = {t: await hub.storage.read(lambda tx, t=t: count_rows(tx, t)) for t in written}
            imported = await hub.storage.read(lambda tx: count_rows(tx, "imported_files"))
            grill = next(t for t in tickets if t.station == "grill")
            assert grill.state is TicketState.BUMPED
            return counted, sorted(t.station for t in tickets), events, imported

    counted, stations, events, imported = asyncio.run(upgrade())
    assert counted == {table: len(rows) for table, rows in written.items()}
    assert stations == ["expo", "fry", "grill"]
    assert [e.seq for e in events] == [row[1] for row in written["kitchen_events"] if row[0] == "grill"]
    assert imported == 1
    assert not (data / "kitchen.db").exists()
    assert (data / "kitchen.db.migrated").is_file()


def test_the_copy_happens_once_and_numbers_go_on_after_it(database: str, tmp_path: Path) -> None:
    """A second start copies nothing again (the file is recorded), even when the old file is put
    back; the grill's next event is numbered after the copied ones."""
    data = tmp_path / "data"
    written = old_kitchen_file(data, tmp_path / "scratch")
    copied_seqs = [row[1] for row in written["kitchen_events"] if row[0] == "grill"]

    async def start_twice() -> tuple[int, int]:
        catalog = catalog_with_data_dir(database, data)
        async with Hub(catalog, deliver=False):
            pass
        (data / "kitchen.db.migrated").rename(data / "kitchen.db")  # as if the rename never ran
        async with Hub(catalog, deliver=False) as hub:
            store = KitchenStore(hub.storage)
            tickets = await hub.storage.read(lambda tx: count_rows(tx, "kitchen_tickets"))
            return tickets, await store.last_seq("grill")

    tickets, last = asyncio.run(start_twice())
    assert tickets == len(written["kitchen_tickets"])
    assert last == max(copied_seqs)
    assert (data / "kitchen.db.migrated").is_file() and not (data / "kitchen.db").exists()


def test_the_files_an_old_install_had_seen_are_still_seen(database: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = sqlite3.connect(data / "seen-files.db")  # the layout older versions wrote
    with old:
        old.execute(
            "CREATE TABLE IF NOT EXISTS seen_files (scope TEXT NOT NULL, checksum TEXT NOT NULL, "
            "name TEXT NOT NULL, seen_at TEXT NOT NULL, PRIMARY KEY (scope, checksum))"
        )
        old.execute(
            "INSERT OR IGNORE INTO seen_files VALUES (?, ?, ?, ?)",
            ("vendor-prices", "ab12", "prices.csv", "2026-11-30T06:00:00+00:00"),
        )
    old.close()

    async def upgrade() -> tuple[bool, bool]:
        async with Hub(catalog_with_data_dir(database, data), deliver=False) as hub:
            seen = StoredSeenStore(hub.storage)
            return await seen.seen("vendor-prices", "ab12"), await seen.seen("vendor-prices", "cd34")

    assert asyncio.run(upgrade()) == (True, False)
    assert (data / "seen-files.db.migrated").is_file() and not (data / "seen-files.db").exists()


def old_journal_queue(data: Path) -> HeldEntry:
    """A ``journal-queue.db`` as older versions wrote it, holding one day held for a mapping."""
    at = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
    held = HeldEntry(
        document_number="DS-L1-20261127",
        location_id="L1",
        business_date=date(2026, 11, 27),
        state=QueueState.HELD,
        reason="no GL account for category 'beer'",
        held_at=at,
        updated_at=at,
    )
    data.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(data / "journal-queue.db")
    with old:
        old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        old.execute(
            "CREATE TABLE journal_queue (document_number TEXT PRIMARY KEY, location_id TEXT NOT NULL,"
            " business_date TEXT NOT NULL, state TEXT NOT NULL, held_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, body BLOB NOT NULL)"
        )
        old.execute("INSERT INTO migrations VALUES ('0101_journal_queue', ?)", (at.isoformat(),))
        old.execute(
            "INSERT INTO journal_queue VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                "DS-L1-20261127",
                "L1",
                "2026-11-27",
                "held",
                at.isoformat(),
                at.isoformat(),
                msgspec.json.encode(held),
            ),
        )
    old.close()
    return held


def old_payroll_holds(data: Path) -> PayHold:
    """A ``payroll-holds.db`` as older versions wrote it, holding one auto-gratuity nobody owns."""
    at = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
    hold = PayHold(
        id="L1:check-9",
        location_id="L1",
        order_id="check-9",
        business_date=date(2026, 11, 27),
        amount=Money(1850),
        reason="auto-gratuity on a check with no employee",
        held_at=at,
        updated_at=at,
    )
    data.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(data / "payroll-holds.db")
    with old:
        old.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        old.execute(
            "CREATE TABLE payroll_holds (id TEXT PRIMARY KEY, location_id TEXT NOT NULL,"
            " state TEXT NOT NULL, body BLOB NOT NULL)"
        )
        old.execute(
            "INSERT INTO payroll_holds VALUES (?, ?, ?, ?)",
            (hold.id, "L1", "held", msgspec.json.encode(hold)),
        )
    old.close()
    return hold


def test_held_journal_days_and_pay_holds_come_along_when_the_hub_starts(
    database: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    held, hold = old_journal_queue(data), old_payroll_holds(data)
    catalog = catalog_with_data_dir(database, data)

    async def start() -> None:
        async with Hub(catalog, deliver=False):
            pass

    asyncio.run(start())
    assert not (data / "journal-queue.db").exists() and not (data / "payroll-holds.db").exists()
    with open_journal_queue(catalog) as queue:
        assert queue.list() == [held]
    with open_pay_holds(catalog) as holds:
        assert holds.list() == [hold]


def test_a_command_brings_in_its_old_file_with_no_hub_running(database: str, tmp_path: Path) -> None:
    """``expediter payroll held`` or ``journal held`` before the upgraded hub ever started."""
    data = tmp_path / "data"
    held, hold = old_journal_queue(data), old_payroll_holds(data)
    catalog = catalog_with_data_dir(database, data)
    with open_pay_holds(catalog) as holds:
        assert holds.list() == [hold]
    with open_journal_queue(catalog) as queue:
        assert queue.list(QueueState.HELD) == [held]
    assert (data / "payroll-holds.db.migrated").is_file() and (data / "journal-queue.db.migrated").is_file()
