"""Delivery keys never repeat for another message: not after a backup is restored, not across hubs.

A receiver drops a second delivery with a key it has seen (that is what makes a retry harmless), so
a key handed out again for a new order would lose that order downstream.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from expediter.engine.hub import Hub
from expediter.plugin.base import IncomingMessage
from expediter.storage.base import SQLITE
from expediter.storage.migrations import MIGRATIONS, split_statements
from tests.engine.helpers import TEST_CONNECTORS, order_message, sample_catalog


async def _accept(db: str | Path, message: IncomingMessage) -> tuple[int, set[str]]:
    """Store ``message`` on a hub over ``db``; its row id and the keys of its deliveries."""
    async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
        accepted = await hub.inbox.accept(message)
        records = await hub.deliveries.records()
    return accepted.message_id, {r.delivery_key for r in records if r.message_id == accepted.message_id}


def _copy_database(source: Path, target: Path) -> None:
    """What an operator's backup or restore does: copy the file of a stopped hub."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def test_a_restored_backup_never_reuses_a_key_a_receiver_has_seen(tmp_path: Path) -> None:
    db, backup = tmp_path / "hub.db", tmp_path / "backup.db"

    async def scenario() -> None:
        await _accept(db, order_message(1))
        _copy_database(db, backup)
        lost_id, seen_downstream = await _accept(db, order_message(2))  # delivered, then the disk dies
        _copy_database(backup, db)

        new_id, new_keys = await _accept(db, order_message(3))
        assert new_id == lost_id  # the restored database hands out the same row id again...
        assert len(new_keys) == 3 and not new_keys & seen_downstream  # ...but never the same keys
        assert all(key.split(":")[1].startswith(f"{new_id}-") for key in new_keys)

    asyncio.run(scenario())


def test_two_hubs_never_give_one_order_the_same_keys(new_database: Callable[[str], str]) -> None:
    async def scenario() -> None:
        _, at_downtown = await _accept(new_database("downtown"), order_message(1))
        _, at_harbor = await _accept(new_database("harbor"), order_message(1))
        assert len(at_downtown) == len(at_harbor) == 3
        assert not at_downtown & at_harbor

    asyncio.run(scenario())


def test_deliveries_stored_before_the_upgrade_keep_their_keys(tmp_path: Path) -> None:
    """A database an older hub left behind: its pending delivery keeps ``flow:message_id``."""
    db = tmp_path / "hub.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, script in MIGRATIONS:
        if name == "0006_hub_identity":
            break
        for statement in split_statements(SQLITE.ddl(script)):
            conn.execute(statement)
        conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, "2026-03-01T00:00:00Z"))
    conn.execute(
        "INSERT INTO messages (idempotency_key, source_system, kind, location_id, received_at,"
        " content_type, payload) VALUES ('pos:order-1:1', 'pos', 'orders', 'L1', '2026-03-01', 'a', x'7b7d')"
    )
    conn.execute(
        "INSERT INTO deliveries (delivery_key, message_id, flow_id, destination, location_id, lane,"
        " state, next_attempt_at, created_at, updated_at) VALUES ('pos-kds:1', 1, 'pos-kds', 'kds',"
        " 'L1', 'kds|L1', 'pending', '2026-03-01', '2026-03-01', '2026-03-01')"
    )
    conn.close()

    async def scenario() -> None:
        _, keys = await _accept(db, order_message(2))
        async with Hub(sample_catalog(str(db)), db, connectors=TEST_CONNECTORS, deliver=False) as hub:
            [old] = [r for r in await hub.deliveries.records() if r.message_id == 1]
        assert old.delivery_key == "pos-kds:1"
        assert "pos-kds:2" not in keys and len(keys) == 3

    asyncio.run(scenario())
