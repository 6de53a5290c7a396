"""PostgreSQL backend (psycopg 3): group commit over a few writer connections, pooled readers.

The same rule as SQLite's: a write's future resolves only after its transaction's ``COMMIT``
returned, and the server runs with ``synchronous_commit = on`` (checked at start), so the commit
is flushed to the server's WAL on disk before anyone is told "stored".

Writes are grouped the same way: every write queued while a commit is under way joins the next
transaction, so one WAL flush serves many requests. PostgreSQL lets several transactions commit at
once (SQLite does not), so there are :data:`WRITERS` writer connections, each on a thread of its
own, each taking the next group from the queue; psycopg releases the GIL while it waits for the
server. Write functions run on those threads: they are quick SQL only and touch nothing else.

A write function that fails rolls back its group; the group is then re-run one transaction per
write, so one bad write never fails the others (as in SQLite).

Connections: every connection sets a ``statement_timeout``; a lost connection is opened again on
its next use, so a multi-host URL (``host=a,b`` with ``target_session_attrs=read-write``) turns a
failover into a reconnect. A write whose connection broke before its ``COMMIT`` was answered is
failed with :class:`~expediter.errors.TransientError` (it may or may not have committed: callers
retry with the same idempotency key, which makes that safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from expediter.errors import ConfigError, TransientError
from expediter.storage.base import POSTGRES, InsertFirst, Row, now_iso
from expediter.storage.migrations import MIGRATIONS, split_statements

T = TypeVar("T")
log = structlog.get_logger(__name__)

WRITERS = 2
"""Writer connections committing side by side (each with its own group)."""
MAX_BATCH = 2000
STATEMENT_TIMEOUT_MS = 30_000
MIGRATION_LOCK = 7_240_431
"""``pg_advisory_xact_lock`` key: hub processes starting together migrate one at a time."""
DELIVERY_LOCK = 7_240_432
"""``pg_try_advisory_lock`` key held by the one hub process that runs the parts that must run once
(the kitchen, the scheduler, the alert watch; see :meth:`PostgresStorage.claim_worker`)."""


class PgRow(Sequence[Any]):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=True))!r})"


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, index)


_SQL_CACHE: dict[str, str] = {}


def to_driver_sql(text: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (and a literal ``%`` doubled), cached per statement."""
    converted = _SQL_CACHE.get(text)
    if converted is None:
        converted = _SQL_CACHE[text] = text.replace("%", "%%").replace("?", "%s")
    return converted


class _Tx:
    """:class:`~expediter.storage.base.Tx` over one psycopg connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(to_driver_sql(sql), params, prepare=True)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows) == 1:
            self.execute(sql, rows[0])
        elif rows:
            with self._conn.cursor() as cursor:  # psycopg's pipeline: the rows in one round trip
                cursor.executemany(to_driver_sql(sql), rows)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        row = self._conn.execute(to_driver_sql(sql + " RETURNING id"), params, prepare=True).fetchone()
        return None if row is None else int(row[0])

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._conn.execute(to_driver_sql(sql), params, prepare=True).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(to_driver_sql(sql), params, prepare=True).fetchall())


_Job = tuple[Callable[[Any], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


def connect(url: str, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Any:
    """A connection with the settings every connection shares (statement timeout, row factory)."""
    import psycopg

    try:
        conn = psycopg.connect(
            url,
            autocommit=False,
            row_factory=_row_factory,
            options=f"-c statement_timeout={int(statement_timeout_ms)}",
        )
    except psycopg.OperationalError as exc:
        raise TransientError(f"cannot reach the PostgreSQL database: {_first_line(exc)}") from exc
    return conn


@contextlib.contextmanager
def reader(url: str, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Iterator[_Tx]:
    """One connection (no migration), for a look from outside the hub (``expediter status``)."""
    conn = connect(url, statement_timeout_ms)
    conn.autocommit = True
    try:
        yield _Tx(conn)
    finally:
        conn.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def apply_migrations(conn: Any) -> list[str]:
    """Apply the migrations this database has not seen, one hub process at a time; their names."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM migrations").fetchall()}
        applied = []
        for name, script in MIGRATIONS:
            if name in done:
                continue
            for statement in split_statements(POSTGRES.ddl(script)):
                conn.execute(statement)
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (%s, %s)", (name, now_iso()))
            applied.append(name)
    return applied


def prepare_database(url: str, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> list[str]:
    """Check the durability rule (``synchronous_commit``) and apply the migrations not yet
    applied; their names."""
    conn = connect(url, statement_timeout_ms)
    try:
        setting = conn.execute("SHOW synchronous_commit").fetchone()[0]
        conn.rollback()
        if setting not in ("on", "remote_write", "remote_apply"):
            raise ConfigError(
                f"the PostgreSQL server runs with synchronous_commit = {setting}: an order could be"
                " acknowledged and then lost; set synchronous_commit = on for the hub's database"
                " or role (ALTER ROLE ... SET synchronous_commit = on)"
            )
        return apply_migrations(conn)
    finally:
        conn.close()


class PostgresStorage:
    """PostgreSQL behind the storage interface: the record a restaurant group's IT backs up."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        writers: int = WRITERS,
        readers: int = 4,
        statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    ) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self._writer_count = writers
        self._reader_count = readers
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writers: list[threading.Thread] = []
        self._read_pool: ThreadPoolExecutor | None = None
        self._read_local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._claim: Any = None
        self.batches = 0
        """Transactions committed so far."""

    # -- lifecycle --------------------------------------------------------------------------------

    def claim_worker(self) -> bool:
        """Whether this process runs the database's parts that must run once (the kitchen, the
        scheduler, the alert watch): the first hub process to take a session advisory lock holds
        it for as long as its connection lives, so a process that dies (even by ``kill -9``) frees
        it and a standby asking again takes it. Idempotent; it blocks on the network (call it
        from a thread)."""
        if self._claim is not None and not self._claim.closed:
            return True
        conn = connect(self.url, self.statement_timeout_ms)
        conn.autocommit = True
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (DELIVERY_LOCK,)).fetchone()
        if not row[0]:
            conn.close()
            return False
        self._claim = conn
        return True

    def worker_claim_alive(self) -> bool:
        """Whether the claim's connection still answers (a lost connection lost the lock)."""
        if self._claim is None or self._claim.closed:
            return False
        try:
            self._claim.execute("SELECT 1")
        except Exception:
            with contextlib.suppress(Exception):
                self._claim.close()
            return False
        return True

    def release_worker(self) -> None:
        """Give the delivery claim up (the hub stopped). Unlocked before the connection closes: the
        server frees a closed session's locks only once its backend has noticed and exited, and a
        hub started right after would find the claim still taken and never deliver."""
        if self._claim is not None:
            with contextlib.suppress(Exception):
                self._claim.execute("SELECT pg_advisory_unlock(%s)", (DELIVERY_LOCK,))
            with contextlib.suppress(Exception):
                self._claim.close()
            self._claim = None

    async def start(self) -> None:
        if self._writers:
            return
        applied = await asyncio.to_thread(self._prepare_database)
        if applied:
            log.info("migrations_applied", names=applied, database="postgresql")
        self._read_pool = ThreadPoolExecutor(self._reader_count, thread_name_prefix="pg-read")
        for number in range(self._writer_count):
            thread = threading.Thread(target=self._write_loop, name=f"pg-writer-{number}", daemon=True)
            thread.start()
            self._writers.append(thread)

    def _prepare_database(self) -> list[str]:
        return prepare_database(self.url, self.statement_timeout_ms)

    async def stop(self) -> None:
        if not self._writers:
            return
        for _ in self._writers:
            self._queue.put(None)
        for thread in self._writers:
            await asyncio.to_thread(thread.join)
        self._writers.clear()
        if self._read_pool is not None:
            self._read_pool.shutdown(wait=True)
            self._read_pool = None
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(Exception):
                    conn.close()
            self._connections.clear()
        self._read_local = threading.local()

    # -- the interface ----------------------------------------------------------------------------

    async def write(self, work: Callable[[Any], T]) -> T:
        if not self._writers:
            raise RuntimeError("storage is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((work, future, loop))
        return await future

    async def read(self, work: Callable[[Any], T]) -> T:
        if self._read_pool is None:
            raise RuntimeError("storage is not started")
        return await asyncio.get_running_loop().run_in_executor(self._read_pool, self._read_job, work)

    # -- reads --------------------------------------------------------------------------------------

    def _read_job(self, work: Callable[[Any], T]) -> T:
        import psycopg

        conn = self._thread_connection()
        try:
            with conn.transaction():
                return work(_Tx(conn))
        except psycopg.OperationalError as exc:
            self._drop_if_broken(conn, exc)
            raise TransientError(
                f"the PostgreSQL connection was lost during a read: {_first_line(exc)}"
            ) from exc
        except Exception as exc:
            self._drop_if_broken(conn, exc)
            raise

    def _thread_connection(self) -> Any:
        conn = getattr(self._read_local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.url, self.statement_timeout_ms)
            conn.autocommit = True  # transactions are explicit (``conn.transaction()``)
            self._read_local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop_if_broken(self, conn: Any, exc: BaseException) -> None:
        import psycopg

        if isinstance(exc, psycopg.OperationalError) or conn.closed or conn.broken:
            with contextlib.suppress(Exception):
                conn.close()
            self._read_local.conn = None

    # -- writes, on the writer threads ---------------------------------------------------------------

    def _write_loop(self) -> None:
        conn: Any = None
        while True:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            stopping = self._drain_into(batch)
            conn = self._commit_group(conn, batch)
            if stopping:
                break
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _drain_into(self, batch: list[_Job]) -> bool:
        """Everything else waiting joins the group; ``True`` when a stop signal was taken."""
        while len(batch) < MAX_BATCH:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            batch.append(job)
        return False

    def _commit_group(self, conn: Any, batch: list[_Job]) -> Any:
        """Commit ``batch`` as one transaction; on a failed write, one transaction per write.
        Returns the connection to use next (``None`` after it broke)."""
        import psycopg

        try:
            conn = (
                conn if conn is not None and not conn.closed else connect(self.url, self.statement_timeout_ms)
            )
        except TransientError as exc:
            _settle([(job, None, exc) for job in batch])
            return None
        try:
            results = _run_group(conn, [work for work, _, _ in batch])
            conn.commit()
        except psycopg.OperationalError as exc:
            if _rolled_back(exc):  # a deadlock with another process's group: one write at a time
                _rollback(conn)
                return self._commit_each(conn, batch)
            _settle([(job, None, _lost(exc)) for job in batch])
            _close(conn)
            return None
        except Exception:
            _rollback(conn)
            return self._commit_each(conn, batch)
        self.batches += 1
        _settle([(job, result, None) for job, result in zip(batch, results, strict=True)])
        return conn

    def _commit_each(self, conn: Any, batch: list[_Job]) -> Any:
        import psycopg

        for position, job in enumerate(batch):
            work = job[0]
            try:
                result = _run_alone(conn, work)
            except psycopg.OperationalError as exc:
                lost = _lost(exc)  # the rest of the group fails too: its connection is gone
                _settle([(waiting, None, lost) for waiting in batch[position:]])
                _close(conn)
                return None
            except Exception as exc:
                _rollback(conn)
                _settle([(job, None, exc)])
                continue
            self.batches += 1
            _settle([(job, result, None)])
        return conn


def _run_group(conn: Any, works: list[Callable[[Any], Any]]) -> list[Any]:
    """Run a group's writes in their order, their results. Consecutive :class:`InsertFirst`
    writes of one statement send their ``INSERT`` together (one round trip to the server rather
    than one each: the writer otherwise spends most of its time waiting for each answer), then
    run their ``then`` in order."""
    results: list[Any] = []
    tx = _Tx(conn)
    position = 0
    while position < len(works):
        first = works[position]
        if not isinstance(first, InsertFirst):
            results.append(first(tx))
            position += 1
            continue
        end = position + 1
        while end < len(works):
            following = works[end]
            if not isinstance(following, InsertFirst) or following.sql != first.sql:
                break
            end += 1
        run: list[InsertFirst[Any]] = works[position:end]  # type: ignore[assignment]
        new_ids = _insert_all(conn, first.sql, [work.params for work in run])
        results.extend(work.then(tx, new_id) for work, new_id in zip(run, new_ids, strict=True))
        position = end
    return results


def _insert_all(conn: Any, sql: str, params: list[Sequence[Any]]) -> list[int | None]:
    """The same ``INSERT`` once per parameter set, sent together (psycopg's pipeline); each new
    row's ``id``, or ``None`` where ``ON CONFLICT ... DO NOTHING`` skipped it, as
    :meth:`_Tx.insert` answers one."""
    if len(params) == 1:
        return [_Tx(conn).insert(sql, params[0])]
    new_ids: list[int | None] = []
    with conn.cursor() as cursor:
        cursor.executemany(to_driver_sql(sql + " RETURNING id"), params, returning=True)
        while True:
            row = cursor.fetchone()
            new_ids.append(None if row is None else int(row[0]))
            if not cursor.nextset():
                break
    if len(new_ids) != len(params):
        raise AssertionError(f"{len(params)} inserts sent, {len(new_ids)} answers")
    return new_ids


ROLLBACK_RETRIES = 5
"""Times one write is tried again after the server rolled it back (a deadlock, a serialization
failure): groups of several processes may lock the same rows (totals, counters) in other orders."""


def _run_alone(conn: Any, work: Callable[[Any], Any]) -> Any:
    """``work`` in a transaction of its own, again when the server rolled it back."""
    import psycopg

    for tried in range(ROLLBACK_RETRIES + 1):
        try:
            result = work(_Tx(conn))
            conn.commit()
            return result
        except psycopg.OperationalError as exc:
            if not _rolled_back(exc):
                raise
            _rollback(conn)
            if tried == ROLLBACK_RETRIES:
                raise TransientError(f"PostgreSQL rolled the write back: {_first_line(exc)}") from exc
    raise AssertionError("unreachable")


def _rolled_back(exc: BaseException) -> bool:
    """The server rolled the transaction back (SQLSTATE class 40: a deadlock, a serialization
    failure); the connection is fine and the same work may simply run again."""
    return str(getattr(exc, "sqlstate", "") or "").startswith("40")


def _lost(exc: BaseException) -> TransientError:
    return TransientError(f"the PostgreSQL connection was lost during a write: {_first_line(exc)}")


def _close(conn: Any) -> None:
    """Close a broken connection; the next group opens a new one."""
    with contextlib.suppress(Exception):
        conn.close()


def _rollback(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.rollback()


_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(outcomes: list[tuple[_Job, Any, BaseException | None]]) -> None:
    """Resolve the callers' futures on their own event loops, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for (_, future, loop), result, error in outcomes:
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, settled)


def _resolve(outcomes: list[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
