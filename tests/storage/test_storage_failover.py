"""A multi-host PostgreSQL URL with ``target_session_attrs=read-write``: when the primary stops
taking writes and another server does, the hub's next connection finds the new primary. The write
caught in the switch is a transient error (retried under its idempotency key); the next ones land.

Two real servers stand for a primary and its standby; the switch is what a failover does to a
client: its connections to the old primary are cut, the old one no longer accepts writes, the new
one does (``default_transaction_read_only``, which libpq reads to find a read-write server)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from expediter.errors import TransientError
from expediter.storage.postgres import PostgresStorage, prepare_database
from tests.postgres import LOOPBACK, PostgresServer, free_port, running_postgres
from tests.storage.test_storage_postgres import count, insert

pytestmark = pytest.mark.service
NAME = "hub_failover"


@pytest.fixture
def second_server(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    folder = Path(tempfile.mkdtemp(prefix="expediter-postgres-"))
    try:
        with running_postgres(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _set_read_only(server: PostgresServer, read_only: bool) -> None:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        if read_only:
            admin.execute(f"ALTER DATABASE {NAME} SET default_transaction_read_only = on")
        else:
            admin.execute(f"ALTER DATABASE {NAME} RESET default_transaction_read_only")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (NAME,))


def _messages(server: PostgresServer) -> int:
    with psycopg.connect(server.url(NAME)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM messages").fetchone()
        return int(row[0]) if row else -1


def test_a_failover_is_a_reconnect_to_the_new_primary(
    postgres_server: PostgresServer, second_server: PostgresServer
) -> None:
    primary, standby = postgres_server, second_server
    for server in (primary, standby):
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {NAME}")
        prepare_database(server.url(NAME))
    _set_read_only(standby, True)
    url = (
        f"postgresql://postgres@{LOOPBACK}:{primary.port},{LOOPBACK}:{standby.port}/{NAME}"
        "?target_session_attrs=read-write&connect_timeout=5"
    )

    async def scenario() -> int:
        storage = PostgresStorage(url, writers=1, readers=1)
        await storage.start()
        try:
            await storage.write(insert(1))
            assert await storage.read(count) == 1
            _set_read_only(standby, False)  # the failover: the standby is promoted ...
            _set_read_only(primary, True)  # ... and the old primary takes no more writes
            with pytest.raises(TransientError, match="connection was lost"):
                await storage.write(insert(2))
            assert await storage.write(insert(3)) is not None
            with pytest.raises(TransientError, match="connection was lost during a read"):
                await storage.read(count)
            return await storage.read(count)
        finally:
            await storage.stop()

    assert asyncio.run(scenario()) == 1  # on the new primary: the write after the switch
    assert _messages(primary) == 1 and _messages(standby) == 1


def test_a_multi_host_url_whose_first_host_is_down_connects_to_the_next(postgres_url: str) -> None:
    """What a standby promoted while the old primary's machine is off looks like to the hub."""
    server = postgres_url.split("@", 1)[1].split("/", 1)[0]
    database = postgres_url.rsplit("/", 1)[1]
    url = (
        f"postgresql://postgres@{LOOPBACK}:{free_port()},{server}/{database}"
        "?target_session_attrs=read-write&connect_timeout=5"
    )

    async def scenario() -> int:
        storage = PostgresStorage(url)
        await storage.start()  # migrates through the second host
        try:
            await storage.write(insert(1))
            return await storage.read(count)
        finally:
            await storage.stop()

    assert asyncio.run(scenario()) == 1
