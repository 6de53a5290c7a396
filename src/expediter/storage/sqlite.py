"""SQLite backend: WAL, ``synchronous=FULL``, one writer connection with group commit, pooled readers.

SQLite allows one writer at a time anyway, and a commit costs an fsync (milliseconds). So writes
are grouped: every write queued while the previous commit's fsync ran goes into the next
transaction, and each caller's future resolves only after *its* transaction is on disk.

Who runs what, and why (measured): the writes' SQL statements run on the event loop that asked
for them (a few microseconds each, against the page cache), and the ``COMMIT`` — the fsync — runs
on the writer thread, off the loop. Running the statements on the writer thread too cost about
150 µs per write under HTTP load, nearly all of it waiting for the GIL that the busy event loop
holds (every ``sqlite3`` call releases and re-takes it). The writer thread still does whole batches
itself when the loop cannot: when SQLite's write lock is held by a process that is not a hub, or
when a write in the batch failed (the batch is then re-run one transaction per write, so one
failing write never poisons the others). The connection is used by one side at a time.

Hub processes sharing the file (uvicorn workers, the CLI) take turns through a file lock
(:class:`WritersLock`); the loop only tries it, and waiting for it happens on the writer thread.
A batch is taken from the queue only once the lock is held, so the writes that arrived while the
other process committed join it (measured with two workers: batches grew from ~1–2 to ~10–40).

With several hub processes on one file (``serve --workers N``), a process may also run the
``COMMIT`` itself on its event loop (:attr:`SqliteStorage.inline_commit`): the write lock is then
held for the statements and the fsync only, not also for two thread hand-overs and the GIL waits
that come with them, and the other process gets it sooner (measured with two workers: 13–14k
instead of 11–13k durable orders/s, CPU per order 101–104 µs instead of 105–134). The loop does
wait for the fsync then, so this is done only while commits are quick (their recent average under
:data:`INLINE_COMMIT_SECONDS`); a slow disk sends commits back to the writer thread. A single
process keeps the writer thread: its loop parses the next requests during the fsync.

A group may wait a moment for the writes it expects (:data:`GATHER_SECONDS`, at most): when
fewer writes are waiting than the recent groups held (:data:`GATHER_SHARE` of their running
average), the next ones are most likely a fraction of a millisecond away, and one commit for all
of them costs far less than two (an fsync costs 150–200 µs of CPU, whatever the group's size).
Under light load the average is about one write and nothing waits. Measured on the ingest
benchmark with two processes, three runs each way back to back: groups of 17 → 22 writes, CPU
84–87 → 76–78 µs an order, durable 16.4k–17.4k → 18.1k–18.6k orders/s, p99 6.5–6.7 ms (was 6.8–7.5).

WAL checkpoints do not run inside a commit (SQLite's automatic checkpoint would, holding the
write lock for the copy and the database fsync): see :mod:`expediter.storage.checkpoint`.

A write function must be quick SQL only (no I/O, no waiting): it runs on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import structlog

from expediter.storage.base import SQLITE, Dialect, Row, now_iso
from expediter.storage.checkpoint import Checkpointer
from expediter.storage.migrations import MIGRATIONS, split_statements

T = TypeVar("T")
log = structlog.get_logger(__name__)

MAX_BATCH = 2000
"""Writes per transaction at most; bounds the time one commit holds the write lock."""
GATHER_SECONDS = 0.0005
"""A group waits at most this long for the writes it expects (see the module's docstring)."""
GATHER_SHARE = 0.9
"""A group expects this share of the recent groups' average size."""
LOCK_WAIT_SECONDS = 30.0
INLINE_COMMIT_SECONDS = 0.002
"""With :attr:`SqliteStorage.inline_commit`, commits run on the event loop while their recent
average stays under this (a local SSD: 0.3–1 ms); slower ones go back to the writer thread."""


class _Tx:
    """:class:`~expediter.storage.base.Tx` over one sqlite3 connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        cursor = self._conn.execute(sql, params)
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


_Job = tuple[Callable[[Any], Any], asyncio.Future[Any]]
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def connect(path: str) -> sqlite3.Connection:
    """A connection with the durability settings every connection must share."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.row_factory = sqlite3.Row
    # Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at
    # once (no busy wait) while another process switches or migrates it: several hub processes
    # starting together on a fresh file did exactly that. So wait for it.
    execute_waiting(conn, "PRAGMA journal_mode=WAL", pause=0.005)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


@contextlib.contextmanager
def reader(path: str) -> Iterator[_Tx]:
    """One read-only connection to an existing file (no migration, nothing created), for a look
    from outside the hub (``expediter status``)."""
    if not Path(path).exists():
        raise sqlite3.OperationalError(f"no database file at {path}")
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    conn.row_factory = sqlite3.Row
    try:
        yield _Tx(conn)
    finally:
        conn.close()


def execute_waiting(conn: sqlite3.Connection, sql: str, *, pause: float = 0.001) -> None:
    """Run ``sql``, retrying every ``pause`` seconds while another process holds the database
    ("database is locked"), for up to :data:`LOCK_WAIT_SECONDS`."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)


def apply_migrations(conn: sqlite3.Connection, dialect: Dialect = SQLITE) -> list[str]:
    """Apply the migrations this database has not seen; return their names."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
        applied = []
        for name, script in MIGRATIONS:
            if name in done:
                continue
            for statement in split_statements(dialect.ddl(script)):
                conn.execute(statement)
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_iso()))
            applied.append(name)
        conn.execute("COMMIT")
        return applied
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class WritersLock:
    """Hub processes sharing one database file take turns through this file lock rather than
    SQLite's own busy handler, which polls with sleeps and starves whoever is unlucky. The event
    loop only ever tries it; waiting for it happens on the writer thread."""

    def __init__(self, path: str | None) -> None:
        self._file = open(path, "a+b") if path else None  # noqa: SIM115 (held while started)

    def try_acquire(self) -> bool:
        if self._file is None:
            return True
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def acquire(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class WriteStats:
    """How group commit is doing (for benchmarks and the dashboard): writes per commit, fsync time."""

    writes: int = 0
    commits: int = 0
    commit_seconds: float = 0.0
    statement_seconds: float = 0.0
    """Time the event loop spent running the statements of loop-side batches."""
    slowest_commit_seconds: float = 0.0
    gathered: int = 0
    """Groups that waited for the writes they expected (:data:`GATHER_SECONDS`)."""

    def note_commit(self, writes: int, seconds: float) -> None:
        self.writes += writes
        self.commits += 1
        self.commit_seconds += seconds
        self.slowest_commit_seconds = max(self.slowest_commit_seconds, seconds)

    def summary(self) -> dict[str, float | int]:
        commits = max(self.commits, 1)
        return {
            "pid": os.getpid(),  # several worker processes: tells their figures apart
            "writes": self.writes,
            "commits": self.commits,
            "writes_per_commit": round(self.writes / commits, 1),
            "mean_commit_ms": round(self.commit_seconds / commits * 1000, 2),
            "slowest_commit_ms": round(self.slowest_commit_seconds * 1000, 2),
            "loop_statement_us_per_write": round(self.statement_seconds / max(self.writes, 1) * 1e6, 1),
            "groups_waited": self.gathered,
        }


class SqliteStorage:
    """The embedded default storage: one file, safe against power loss once a write resolves."""

    dialect = SQLITE

    def __init__(self, path: str | Path, *, readers: int = 2) -> None:
        self.path = str(path)
        self._readers = readers
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._pending: list[_Job] = []
        self._committing = False
        self._flush_handle: asyncio.Handle | None = None
        self._writers_lock = WritersLock(None)
        self._checkpointer: Checkpointer | None = None
        self._read_pool: ThreadPoolExecutor | None = None
        self._read_local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.batches = 0
        """Transactions committed so far."""
        self.stats = WriteStats()
        self.inline_commit = False
        """Commit on the event loop while commits are quick (several processes share the file)."""
        self._commit_average = 0.0
        self._batch_average = 0.0
        self._expected = 0.0
        """Writes the next group waits for (a share of the recent groups' average size)."""
        self._gathering = False
        """The next group is waiting for the writes it expects (a timer bounds the wait)."""

    async def start(self) -> None:
        if self._writer is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        applied = await asyncio.to_thread(apply_migrations, conn)
        if applied:
            log.info("migrations_applied", names=applied, database=self.path)
        conn.execute("PRAGMA busy_timeout=0")  # the loop must never wait for a lock: see _flush
        self._conn = conn
        if self.path != ":memory:":
            lock_path = f"{self.path}.write.lock"
            self._writers_lock = WritersLock(lock_path)
            conn.execute("PRAGMA wal_autocheckpoint=0")  # not inside a commit: see checkpoint.py
            self._checkpointer = Checkpointer(connect(self.path), WritersLock(lock_path))
        self._read_pool = ThreadPoolExecutor(self._readers, thread_name_prefix="sqlite-read")
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._writer.start()

    async def stop(self) -> None:
        if self._writer is None:
            return
        await self.write(lambda tx: None)  # batches commit in order: everything before is on disk
        self._tasks.put(None)
        await asyncio.to_thread(self._writer.join)
        self._writer = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._writers_lock.close()
        if self._read_pool is not None:
            self._read_pool.shutdown(wait=True)
            self._read_pool = None
        with self._lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()
        self._read_local = threading.local()

    async def write(self, work: Callable[[Any], T]) -> T:
        if self._writer is None:
            raise RuntimeError("storage is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((work, future))
        if self._committing:
            pass  # the next group starts when this commit is done
        elif self._flush_handle is None:
            # call_soon: writes made in this same loop iteration join the batch
            self._flush_handle = loop.call_soon(self._flush, loop)
        elif self._gathering and len(self._pending) >= self._expected:
            self._flush_handle.cancel()  # the writes it waited for are here
            self._flush_handle = loop.call_soon(self._flush, loop, True)
        return await future

    async def read(self, work: Callable[[Any], T]) -> T:
        if self._read_pool is None:
            raise RuntimeError("storage is not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_pool, self._read_job, work)

    def _read_job(self, work: Callable[[Any], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._read_local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._read_local.conn = conn
            with self._lock:
                self._read_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return work(_Tx(conn))
        finally:
            conn.execute("COMMIT")

    # -- on the event loop ------------------------------------------------------------------------

    def _flush(self, loop: asyncio.AbstractEventLoop, waited: bool = False) -> None:
        """Start the next group: take the write lock, run the statements, hand over the commit.
        With fewer writes waiting than it expects, it first waits for them (once, briefly)."""
        self._flush_handle = None
        if self._committing or not self._pending:
            return
        if not waited and len(self._pending) < self._expected:
            self._gathering = True
            self.stats.gathered += 1
            self._flush_handle = loop.call_later(GATHER_SECONDS, self._flush, loop, True)
            return
        self._gathering = False
        self._committing = True
        if self._writers_lock.try_acquire():
            self._prepare(loop)
        else:  # another hub process is writing: wait for it off the loop
            self._tasks.put(lambda: self._acquire_then_prepare(loop))

    def _prepare(self, loop: asyncio.AbstractEventLoop) -> None:
        """With the writers' lock held: statements here, the commit on the writer thread (or here
        too, see :attr:`inline_commit`).

        The batch is taken only now, so every write that arrived while another process held the
        lock joins it: two processes then alternate large batches instead of tiny ones."""
        batch = self._pending[:MAX_BATCH]
        del self._pending[:MAX_BATCH]
        self._batch_average += (len(batch) - self._batch_average) / 8
        self._expected = self._batch_average * GATHER_SHARE
        started = time.perf_counter()
        results = self._run_statements(batch)
        self.stats.statement_seconds += time.perf_counter() - started
        if results is None:
            self._tasks.put(lambda: self._report(loop, self._commit_batch(batch)))
        elif self.inline_commit and self._commit_average < INLINE_COMMIT_SECONDS:
            outcomes = self._commit_prepared(batch, results)
            self._writers_lock.release()
            self._committed(loop, outcomes)
        else:
            self._tasks.put(lambda: self._report(loop, self._commit_prepared(batch, results)))

    def _run_statements(self, batch: list[_Job]) -> list[Any] | None:
        """The batch's results inside an open transaction; ``None`` leaves it to the writer thread."""
        assert self._conn is not None
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return None  # another process holds the write lock: the writer thread waits for it
        tx = _Tx(self._conn)
        try:
            return [work(tx) for work, _ in batch]
        except Exception:
            self._rollback()
            return None

    def _committed(self, loop: asyncio.AbstractEventLoop, outcomes: list[_Outcome]) -> None:
        self._committing = False
        _settle(outcomes)
        if self._pending:
            self._flush(loop)  # everything that arrived during the fsync: the next group

    # -- on the writer thread ---------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            task()

    def _acquire_then_prepare(self, loop: asyncio.AbstractEventLoop) -> None:
        self._writers_lock.acquire()
        try:
            loop.call_soon_threadsafe(self._prepare, loop)
        except RuntimeError:  # that loop is closed: nobody waits any more
            self._writers_lock.release()

    def _report(self, loop: asyncio.AbstractEventLoop, outcomes: list[_Outcome]) -> None:
        self._writers_lock.release()
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(self._committed, loop, outcomes)

    def _commit_prepared(self, batch: list[_Job], results: list[Any]) -> list[_Outcome]:
        assert self._conn is not None
        try:
            started = time.perf_counter()
            self._conn.execute("COMMIT")
            took = time.perf_counter() - started
            self.stats.note_commit(len(batch), took)
            self._commit_average += (took - self._commit_average) / 8
        except Exception as exc:
            self._rollback()
            return [(future, None, exc) for _, future in batch]
        self._note_committed(len(batch))
        return [(future, result, None) for (_, future), result in zip(batch, results, strict=True)]

    def _commit_batch(self, batch: list[_Job]) -> list[_Outcome]:
        """The whole batch here: wait for the write lock; on a failing write, one by one."""
        assert self._conn is not None
        tx = _Tx(self._conn)
        try:
            self._begin_waiting()
            results: list[_Outcome] = [(future, work(tx), None) for work, future in batch]
            self._conn.execute("COMMIT")
            self._note_committed(len(batch))
            return results
        except Exception:
            self._rollback()
            return [self._commit_one(job) for job in batch]

    def _commit_one(self, job: _Job) -> _Outcome:
        assert self._conn is not None
        work, future = job
        try:
            self._begin_waiting()
            result = work(_Tx(self._conn))
            self._conn.execute("COMMIT")
            self._note_committed(1)
            return future, result, None
        except Exception as exc:
            self._rollback()
            return future, None, exc

    def _note_committed(self, writes: int) -> None:
        self.batches += 1
        if self._checkpointer is not None:
            self._checkpointer.note_writes(writes)

    def _begin_waiting(self) -> None:
        """``BEGIN IMMEDIATE``, waiting up to 30 s for another process's write to finish."""
        assert self._conn is not None
        execute_waiting(self._conn, "BEGIN IMMEDIATE")

    def _rollback(self) -> None:
        assert self._conn is not None
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")


def _settle(outcomes: list[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
