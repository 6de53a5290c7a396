"""PostgreSQL storage on a real server: migrations once, group commit, a bad write isolated, a lost
connection reported and reopened, and the durability rule checked at start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from expediter.catalog.schema import Catalog
from expediter.catalog.schema import Hub as HubSettings
from expediter.engine.hub import Hub
from expediter.errors import ConfigError, TransientError
from expediter.storage import open_storage
from expediter.storage.base import InsertFirst, Tx
from expediter.storage.migrations import MIGRATIONS
from expediter.storage.postgres import PostgresStorage

pytestmark = pytest.mark.service


def insert(n: int) -> Callable[[Tx], int | None]:
    def work(tx: Tx) -> int | None:
        if n == 13:
            raise ValueError("unlucky")
        return tx.insert(
            "INSERT INTO messages (idempotency_key, source_system, kind, received_at, content_type,"
            " payload) VALUES (?, 'pos', 'orders', 'now', 'application/json', ?)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (f"k{n}", b"{}"),
        )

    return work


def count(tx: Tx) -> int:
    row = tx.one("SELECT COUNT(*) AS n FROM messages")
    assert row is not None
    return int(row["n"])


def test_a_postgresql_url_opens_postgresql(postgres_url: str) -> None:
    assert isinstance(open_storage(postgres_url), PostgresStorage)


def test_migrations_are_recorded_once_even_when_hubs_start_together(postgres_url: str) -> None:
    async def scenario() -> list[str]:
        storages = [PostgresStorage(postgres_url) for _ in range(3)]
        await asyncio.gather(*(storage.start() for storage in storages))
        names = await storages[0].read(
            lambda tx: [row["name"] for row in tx.all("SELECT name FROM migrations ORDER BY name")]
        )
        await asyncio.gather(*(storage.stop() for storage in storages))
        return names

    assert asyncio.run(scenario()) == [name for name, _ in MIGRATIONS]


def test_writes_waiting_together_share_commits(postgres_url: str) -> None:
    async def scenario() -> None:
        storage = PostgresStorage(postgres_url)
        await storage.start()
        ids = await asyncio.gather(*(storage.write(insert(n)) for n in range(100, 300)))
        assert len(set(ids)) == 200
        assert storage.batches < 200 / 4  # grouped: far fewer commits than writes
        await storage.stop()

    asyncio.run(scenario())


def test_a_failing_write_fails_alone(postgres_url: str) -> None:
    async def scenario() -> None:
        storage = PostgresStorage(postgres_url)
        await storage.start()
        results = await asyncio.gather(
            *(storage.write(insert(n)) for n in range(1, 201)), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        assert [str(e) for e in failed] == ["unlucky"]
        ids = [r for r in results if isinstance(r, int)]
        assert len(set(ids)) == 199
        assert await storage.read(count) == 199
        assert await storage.write(insert(1)) is None  # ON CONFLICT DO NOTHING: no new id
        await storage.stop()

    asyncio.run(scenario())


def test_rows_read_by_name_and_by_position_and_literal_percent_signs(postgres_url: str) -> None:
    async def scenario() -> tuple[object, ...]:
        storage = PostgresStorage(postgres_url)
        await storage.start()
        await storage.write(insert(5))
        row = await storage.read(
            lambda tx: tx.one(
                "SELECT idempotency_key, kind, '100%' AS share FROM messages WHERE idempotency_key LIKE ?",
                ("k%",),
            )
        )
        await storage.stop()
        assert row is not None
        return (row["idempotency_key"], row[1], row["share"], len(row), row.keys())

    assert asyncio.run(scenario()) == ("k5", "orders", "100%", 3, ["idempotency_key", "kind", "share"])


def test_every_connection_has_a_statement_timeout(postgres_url: str) -> None:
    async def scenario() -> str:
        storage = PostgresStorage(postgres_url)
        await storage.start()
        shown = await storage.read(lambda tx: tx.one("SHOW statement_timeout"))
        written = await storage.write(lambda tx: tx.one("SHOW statement_timeout"))
        await storage.stop()
        assert shown is not None and written is not None
        assert shown[0] == written[0]
        return str(shown[0])

    assert asyncio.run(scenario()) == "30s"


def test_the_catalogs_statement_timeout_is_set_on_every_connection(postgres_url: str) -> None:
    catalog = Catalog(hub=HubSettings(database=postgres_url, statement_timeout_ms=1234))

    async def scenario() -> tuple[str, str]:
        async with Hub(catalog, deliver=False) as hub:
            shown = await hub.storage.read(lambda tx: tx.one("SHOW statement_timeout"))
            written = await hub.storage.write(lambda tx: tx.one("SHOW statement_timeout"))
        assert shown is not None and written is not None
        return str(shown[0]), str(written[0])

    assert asyncio.run(scenario()) == ("1234ms", "1234ms")


def test_a_lost_connection_is_a_transient_error_and_the_next_write_reconnects(postgres_url: str) -> None:
    async def scenario() -> None:
        storage = PostgresStorage(postgres_url, writers=1)
        await storage.start()
        await storage.write(insert(1))
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(TransientError, match="connection was lost"):
            await storage.write(insert(2))
        assert await storage.write(insert(3)) is not None
        assert await storage.read(count) == 2
        await storage.stop()

    asyncio.run(scenario())


def test_a_server_that_would_acknowledge_before_the_disk_is_refused(postgres_url: str) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')

    async def scenario() -> None:
        storage = PostgresStorage(postgres_url)
        with pytest.raises(ConfigError, match="synchronous_commit = off"):
            await storage.start()

    asyncio.run(scenario())


def test_a_hub_started_right_after_another_stopped_takes_the_delivery_claim(postgres_url: str) -> None:
    """One delivery worker per database: the claim a stopped hub held is free at once for the next
    (a closed session's locks are freed only once the server notices; the claim is unlocked first)."""
    taken = []
    for _ in range(20):
        first, second = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
        assert first.claim_worker()
        assert not second.claim_worker()  # held: the second hub only ingests
        first.release_worker()
        taken.append(second.claim_worker())
        second.release_worker()
    assert taken == [True] * 20


INSERT = (
    "INSERT INTO messages (idempotency_key, source_system, kind, received_at, content_type,"
    " payload) VALUES (?, 'pos', 'orders', 'now', 'application/json', ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)


def insert_first(key: str) -> InsertFirst[tuple[str, int | None, int]]:
    """A write whose INSERT may be sent with its group's; ``then`` sees the row either way."""

    def then(tx: Tx, new_id: int | None) -> tuple[str, int | None, int]:
        if key == "bad":
            raise ValueError("unlucky")
        row = tx.one("SELECT id FROM messages WHERE idempotency_key = ?", (key,))
        assert row is not None
        return key, new_id, int(row["id"])

    return InsertFirst(INSERT, (key, b"{}"), then)


def test_inserts_sent_together_answer_as_one_at_a_time(postgres_url: str) -> None:
    """Duplicates in one group: the first write gets the new id, the others None and find it;
    a failing write in the group fails alone; plain writes between keep their order."""

    async def scenario() -> list[Any]:
        storage = PostgresStorage(postgres_url, writers=1)
        await storage.start()
        keys = [f"o{n % 40}" for n in range(120)] + ["bad"]
        works: list[Callable[[Tx], Any]] = [insert_first(key) for key in keys]
        works.insert(60, count)
        results = await asyncio.gather(*(storage.write(work) for work in works), return_exceptions=True)
        stored = await storage.read(count)
        await storage.stop()
        return [*results, stored]

    *results, stored = asyncio.run(scenario())
    assert stored == 40
    assert isinstance(results.pop(), ValueError)  # "bad": rolled back, alone
    assert isinstance(results.pop(60), int)  # the count, wherever the inserts before it stood
    first: dict[str, int] = {}
    for key, new_id, found in results:
        if key not in first:
            assert new_id == found  # the first write of a key inserted it
            first[key] = found
        else:
            assert new_id is None and found == first[key]  # the later ones were duplicates
    assert len(first) == 40


def test_an_insert_first_write_runs_as_one_insert_then_the_rest_on_any_tx(database: str) -> None:
    """Every backend runs an InsertFirst as a plain write: its INSERT, then ``then``."""

    async def scenario() -> list[tuple[str, int | None, int]]:
        storage = open_storage(database)
        await storage.start()
        results = [await storage.write(insert_first(key)) for key in ("a", "b", "a")]
        await storage.stop()
        return results

    (a, _, a_id), (b, _, b_id), again = asyncio.run(scenario())
    assert (a, b) == ("a", "b") and a_id != b_id
    assert again == ("a", None, a_id)


def test_one_statement_over_many_rows_runs_in_order_on_any_tx(database: str) -> None:
    """``execute_many``: each row once, in order (a key written twice keeps its last value)."""
    upsert = (
        "INSERT INTO kitchen_availability (location_id, item_key, available, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (location_id, item_key) DO UPDATE SET"
        " available = excluded.available, updated_at = excluded.updated_at"
    )
    rows = [("L1", "burger", 0, "t1"), ("L1", "fries", 0, "t1"), ("L1", "burger", 1, "t2")]
    select = "SELECT item_key, available, updated_at FROM kitchen_availability ORDER BY item_key"

    async def scenario() -> list[tuple[Any, ...]]:
        storage = open_storage(database)
        await storage.start()
        try:
            await storage.write(lambda tx: tx.execute_many(upsert, rows))
            await storage.write(lambda tx: tx.execute_many(upsert, []))
            await storage.write(lambda tx: tx.execute_many(upsert, [("L1", "cola", 0, "t3")]))
            return [tuple(row) for row in await storage.read(lambda tx: tx.all(select))]
        finally:
            await storage.stop()

    assert asyncio.run(scenario()) == [("burger", 1, "t2"), ("cola", 0, "t3"), ("fries", 0, "t1")]


def test_inserts_sent_together_share_commits_duplicates_included(postgres_url: str) -> None:
    """Equal keys in one group do not fail it (which would re-run it one write at a time)."""

    async def scenario() -> tuple[int, list[tuple[str, int | None, int]]]:
        storage = PostgresStorage(postgres_url, writers=1)
        await storage.start()
        before = storage.batches
        results = await asyncio.gather(*(storage.write(insert_first(f"d{n % 10}")) for n in range(200)))
        commits = storage.batches - before
        await storage.stop()
        return commits, results

    commits, results = asyncio.run(scenario())
    assert commits < 200 / 4
    assert sum(new_id is not None for _, new_id, _ in results) == 10
