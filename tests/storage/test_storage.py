"""SQLite storage: durable settings, named migrations once, group commit, a bad write isolated."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from expediter.errors import TransientError
from expediter.storage import open_storage
from expediter.storage import sqlite as sqlite_storage
from expediter.storage.base import Tx
from expediter.storage.migrations import MIGRATIONS
from expediter.storage.sqlite import SqliteStorage


def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        for _ in range(2):
            storage = SqliteStorage(tmp_path / "hub.db")
            await storage.start()
            await storage.stop()

    asyncio.run(scenario())
    conn = sqlite3.connect(tmp_path / "hub.db")
    names = [row[0] for row in conn.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def insert(n: int) -> Callable[[Tx], int]:
    def work(tx: Tx) -> int:
        if n == 13:
            raise ValueError("unlucky")
        tx.execute(
            "INSERT INTO messages (idempotency_key, source_system, kind, received_at, content_type,"
            " payload) VALUES (?, 'pos', 'orders', 'now', 'application/json', ?)",
            (f"k{n}", b"{}"),
        )
        return n

    return work


def test_writes_waiting_together_share_one_commit(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        before = storage.batches
        results = await asyncio.gather(*(storage.write(insert(n)) for n in range(14, 114)))
        assert results == list(range(14, 114))
        assert storage.batches - before == 1  # all queued before the first flush: one fsync
        await storage.stop()

    asyncio.run(scenario())


def test_writes_one_at_a_time_never_wait_for_company(tmp_path: Path) -> None:
    """Light load: each write is its own group, and no group waits for writes that are not coming."""

    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        before = storage.batches
        for n in range(20, 40):
            assert await storage.write(insert(n)) == n
        assert storage.batches - before == 20
        assert storage.stats.gathered == 0
        await storage.stop()

    asyncio.run(scenario())


async def groups_of_twenty(storage: SqliteStorage, rounds: int = 12) -> None:
    """Busy: groups of 20 writes, so the next group expects about 15 (0.9 × the running average)."""
    for number in range(rounds):
        first = 1000 + number * 20
        assert await asyncio.gather(*(storage.write(insert(n)) for n in range(first, first + 20))) == list(
            range(first, first + 20)
        )


def test_a_group_smaller_than_the_recent_ones_waits_for_the_writes_it_expects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After groups of 20, ten writes wait (here with no time limit to speak of) and the ten that
    come next join them: one commit for the twenty, not two."""
    brief = sqlite_storage.GATHER_SECONDS
    monkeypatch.setattr(sqlite_storage, "GATHER_SECONDS", 60.0)

    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        await groups_of_twenty(storage)
        before, waited = storage.batches, storage.stats.gathered
        first = [asyncio.ensure_future(storage.write(insert(n))) for n in range(2000, 2010)]
        for _ in range(5):
            await asyncio.sleep(0)  # the loop runs: the ten are waiting, not committing
        assert storage.batches == before and not any(future.done() for future in first)
        rest = [asyncio.ensure_future(storage.write(insert(n))) for n in range(2010, 2020)]
        assert await asyncio.gather(*first, *rest) == list(range(2000, 2020))
        assert storage.batches - before == 1
        assert storage.stats.gathered - waited == 1
        monkeypatch.setattr(sqlite_storage, "GATHER_SECONDS", brief)  # stop's own write may wait too
        await storage.stop()

    asyncio.run(scenario())


def test_a_group_waits_only_briefly_for_writes_that_do_not_come(tmp_path: Path) -> None:
    """The same three writes after busy groups: nothing else comes, so they commit once the short
    wait (``GATHER_SECONDS``) is over."""

    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        await groups_of_twenty(storage)
        before, waited = storage.batches, storage.stats.gathered
        assert await asyncio.gather(*(storage.write(insert(n)) for n in range(3000, 3003))) == [
            3000,
            3001,
            3002,
        ]
        assert storage.batches - before == 1
        assert storage.stats.gathered - waited == 1
        await storage.stop()

    asyncio.run(scenario())


def test_inline_commits_run_on_the_loop_while_quick_and_go_back_to_the_writer_thread_when_slow(
    tmp_path: Path,
) -> None:
    """``inline_commit`` (several processes on one file): the commit runs on the event loop's
    thread; once commits have been slow (a slow disk), they go to the writer thread again, so the
    loop does not wait for them; quick ones bring the loop back."""
    committed_on: list[str] = []

    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        storage.inline_commit = True
        await storage.start()
        commit = storage._commit_prepared

        def noting(batch: list[Any], results: list[Any]) -> Any:
            committed_on.append(threading.current_thread().name)
            return commit(batch, results)

        storage._commit_prepared = noting  # type: ignore[method-assign]
        assert await asyncio.gather(*(storage.write(insert(n)) for n in range(10))) == list(range(10))
        storage._commit_average = 0.050  # as after a run of 50 ms fsyncs
        assert await storage.write(insert(10)) == 10
        storage._commit_average = 0.0001
        assert await storage.write(insert(11)) == 11
        await storage.stop()

        def count(tx: Tx) -> int:
            row = tx.one("SELECT COUNT(*) FROM messages WHERE kind = 'orders'")
            return int(row[0]) if row else 0

        await storage.start()
        assert await storage.read(count) == 12
        await storage.stop()

    asyncio.run(scenario())
    assert committed_on[:3] == ["MainThread", "sqlite-writer", "MainThread"], committed_on


def test_a_failing_write_does_not_poison_its_batch(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        results = await asyncio.gather(*(storage.write(insert(n)) for n in range(20)), return_exceptions=True)
        assert isinstance(results[13], ValueError)
        assert [r for i, r in enumerate(results) if i != 13] == [n for n in range(20) if n != 13]
        count = await storage.read(lambda tx: tx.one("SELECT COUNT(*) FROM messages")[0])
        assert count == 19
        await storage.stop()

    asyncio.run(scenario())


def test_writes_wait_for_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        other = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. the CLI replaying dead letters
        write = asyncio.ensure_future(storage.write(insert(1)))
        done, _ = await asyncio.wait([write], timeout=0.2)
        assert not done  # not lost, not failed: waiting
        other.execute("COMMIT")
        assert await write == 1
        other.close()
        await storage.stop()

    asyncio.run(scenario())


def test_stop_commits_what_was_accepted(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = SqliteStorage(tmp_path / "hub.db")
        await storage.start()
        writes = [asyncio.ensure_future(storage.write(insert(n))) for n in range(30, 40)]
        await storage.stop()
        assert [w.result() for w in writes] == list(range(30, 40))

    asyncio.run(scenario())
    conn = sqlite3.connect(tmp_path / "hub.db")
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 10


def test_a_postgresql_server_that_does_not_answer_is_a_clear_transient_error() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"postgresql://hub@127.0.0.1:{probe.getsockname()[1]}/expediter?connect_timeout=2"
    storage = open_storage(url)
    with pytest.raises(TransientError, match="cannot reach the PostgreSQL database"):
        asyncio.run(storage.start())


def test_two_storages_on_one_file_take_turns(tmp_path: Path) -> None:
    """As two hub processes would: each holds the writers' lock in turn; nothing lost."""

    async def scenario() -> None:
        first, second = SqliteStorage(tmp_path / "hub.db"), SqliteStorage(tmp_path / "hub.db")
        await first.start()
        await second.start()
        writes = [(first if n % 2 else second).write(insert(n)) for n in range(14, 214)]
        assert sorted(await asyncio.gather(*writes)) == list(range(14, 214))
        count = await first.read(lambda tx: tx.one("SELECT COUNT(*) FROM messages")[0])
        assert count == 200
        assert first.batches >= 1 and second.batches >= 1
        await first.stop()
        await second.stop()

    asyncio.run(scenario())


WRITER_PROCESS = """
import asyncio, sys
from expediter.storage import checkpoint
from expediter.storage.sqlite import SqliteStorage

checkpoint.CHECKPOINT_EVERY_WRITES = 50  # checkpoints while the other process writes

async def main(path: str, name: str, inline: str) -> None:
    storage = SqliteStorage(path)
    storage.inline_commit = inline == "inline"
    await storage.start()
    print("started", flush=True)
    sys.stdin.readline()  # both started: write at the same time

    def insert(n: int):
        def work(tx):
            tx.execute(
                "INSERT INTO messages (idempotency_key, source_system, kind, received_at,"
                " content_type, payload) VALUES (?, 'pos', 'orders', 'now', 'application/json', ?)",
                (f"{name}-{n}", b"{}"),
            )
            return n
        return work

    for wave in range(20):
        done = await asyncio.gather(*(storage.write(insert(wave * 40 + n)) for n in range(40)))
        assert done == list(range(wave * 40, wave * 40 + 40))
    await storage.stop()
    print("acknowledged", 800, flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
"""


@pytest.mark.parametrize("commits", ["writer-thread", "inline"])
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path, commits: str) -> None:
    """Two real processes (as ``serve --workers 2``) write concurrently, each checkpointing the
    WAL while the other writes, committing on the writer thread or on the event loop: every
    acknowledged write is stored, and the file is sound."""
    database = str(tmp_path / "hub.db")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_PROCESS, database, name, commits],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            while (line := worker.stdout.readline()) and line.strip() != "started":
                pass  # the migrations' log line
            assert line.strip() == "started"
        outputs = [worker.communicate("go\n", timeout=120)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [worker.returncode for worker in workers] == [0, 0]
    assert all("acknowledged 800" in output for output in outputs)
    conn = sqlite3.connect(database)
    keys = {row[0] for row in conn.execute("SELECT idempotency_key FROM messages")}
    assert keys == {f"{name}-{n}" for name in ("a", "b") for n in range(800)}
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


STARTER_PROCESS = """
import asyncio, sys, time
from expediter.storage.sqlite import SqliteStorage

async def main():
    storage = SqliteStorage(sys.argv[1])
    while time.time() < float(sys.argv[2]):
        pass  # every process starts at the same instant (waking from a pipe staggers them)
    await storage.start()
    await storage.stop()

asyncio.run(main())
print("started")
"""


def test_processes_starting_together_on_a_fresh_file_all_start(tmp_path: Path) -> None:
    """Hub processes (``serve --workers``) open a new database at the same moment: switching it to
    WAL answered "database is locked" at once to all but one of them (9 of 45 starts failed)."""
    for round_ in range(4):
        database = str(tmp_path / f"hub-{round_}.db")
        at = str(time.time() + 1.5)  # after their imports
        starters = [
            subprocess.Popen(
                [sys.executable, "-c", STARTER_PROCESS, database, at],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [starter.communicate(timeout=60) for starter in starters]
        for (out, err), starter in zip(results, starters, strict=True):
            assert starter.returncode == 0 and out.strip().endswith("started"), err[-500:]
