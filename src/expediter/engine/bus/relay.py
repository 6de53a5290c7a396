"""The relay: publishes the outbox's pending rows to JetStream, in order, and marks them published.

**One relay per group at a time.** Every hub process runs a relay, but only the one holding the
relay lock publishes: a session advisory lock on PostgreSQL (freed the moment its holder's
connection dies, even by ``kill -9``), a file lock beside a SQLite database. The others try the lock
again every :data:`CLAIM_SECONDS`. A single publisher keeps each location's messages in the order
they were recorded without having to partition rows between relays (claiming rows with
``FOR UPDATE SKIP LOCKED`` would let two relays publish one location's rows side by side, out of
order), and one relay publishing synchronously keeps ahead of a group's ingest (about 900
acknowledged publications a second on a three-node cluster).

A publication is confirmed by the stream's acknowledgement before its row is marked; a relay that
dies in between leaves the row pending, and the next relay publishes it again with the same
``Nats-Msg-Id``: the servers drop it as a duplicate within the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from typing import IO, Any

import structlog

from expediter.engine.bus.outbox import Pending, mark_published, pending
from expediter.model import clock
from expediter.storage.base import Storage, now_iso

log = structlog.get_logger(__name__)

RELAY_LOCK = 7_240_433
"""``pg_try_advisory_lock`` key held by the group's one publishing relay."""
CLAIM_SECONDS = 1.0
IDLE_SECONDS = 0.5
"""How long an idle relay waits before looking for rows other processes recorded."""
BATCH = 500
PUBLISH_TIMEOUT = 2.0
RETRY_SECONDS = 0.25
MSG_ID = "Nats-Msg-Id"
STABLE_ID = "Expediter-Msg-Id"
"""The message's stable id, also when a reconciliation had to publish it under another
``Nats-Msg-Id`` (consumers read this one)."""


def headers_for(msg_id: str, publish_id: str | None = None) -> dict[str, str]:
    """The headers of a publication: the de-duplication id (``msg_id`` unless told otherwise) and
    the stable id consumers de-duplicate by."""
    return {MSG_ID: publish_id or msg_id, STABLE_ID: msg_id}


class RelayLock:
    """The group's relay lock on ``storage``'s database; ``acquire()`` is idempotent."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._conn: Any = None
        self._file: IO[bytes] | None = None
        self._alone = False
        """An in-memory database: only this process can use it, so it is always the relay."""

    @property
    def held(self) -> bool:
        return self._alone or self._file is not None or (self._conn is not None and not self._conn.closed)

    def acquire(self) -> bool:
        if self.held:
            return True
        url = getattr(self.storage, "url", None)
        if isinstance(url, str):
            return self._acquire_postgres(url)
        path = getattr(self.storage, "path", None)
        if not isinstance(path, str) or path == ":memory:":
            self._alone = True
            return True
        handle = open(f"{path}.bus-relay.lock", "a+b")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _acquire_postgres(self, url: str) -> bool:
        from expediter.storage.postgres import connect

        conn = connect(url)
        conn.autocommit = True
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (RELAY_LOCK,)).fetchone()
        if not row[0]:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """Whether the lock's connection still answers (a lost connection lost the lock)."""
        if self._conn is None:
            return self.held
        try:
            self._conn.execute("SELECT 1")
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (RELAY_LOCK,))
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self._alone = False


class Relay:
    """Publishes ``storage``'s outbox through ``js`` (a JetStream context of ``nats-py``)."""

    def __init__(self, storage: Storage, js: Any, *, batch: int = BATCH) -> None:
        self.storage = storage
        self.js = js
        self.batch = batch
        self.lock = RelayLock(storage)
        self._wake = asyncio.Event()
        self.published = 0
        """Publications this process's relay confirmed."""
        self.last_error: str | None = None
        self.last_published_at: Any = None

    def wake(self) -> None:
        """New rows were recorded in this process: publish them now, not at the next look."""
        self._wake.set()

    @property
    def active(self) -> bool:
        """Whether this process holds the relay lock (it is the group's publisher)."""
        return self.lock.held

    async def run(self) -> None:
        """Publish for as long as the hub runs (cancel to stop)."""
        try:
            while True:
                if not await asyncio.to_thread(self._claim):
                    await self._idle(CLAIM_SECONDS)
                    continue
                if await self.publish_pending() == 0:
                    await self._idle(IDLE_SECONDS)
        finally:
            await asyncio.to_thread(self.lock.release)

    def _claim(self) -> bool:
        return self.lock.still_held() if self.lock.held else self.lock.acquire()

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish the oldest pending rows, in order, until one fails; mark those confirmed."""
        rows = await self.storage.read(lambda tx: pending(tx, self.batch))
        confirmed: list[tuple[int, int]] = []
        try:
            for row in rows:
                confirmed.append((row.id, await self.publish(row)))
        except Exception as exc:  # the bus is away or electing: these rows wait, in order
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("bus_publish_failed", error=self.last_error, pending_from=row.id)
            await asyncio.sleep(RETRY_SECONDS)  # a pause before trying the bus again
        if confirmed:
            await self.storage.write(lambda tx: mark_published(tx, confirmed, now_iso()))
            self.published += len(confirmed)
            self.last_published_at = clock.now()
            self.last_error = None
        return len(confirmed)

    async def publish(self, row: Pending) -> int:
        """Publish one row; its stream sequence (the first one's, for a duplicate)."""
        ack = await self.js.publish(
            row.subject,
            row.payload,
            timeout=PUBLISH_TIMEOUT,
            stream=row.stream,
            headers={**row.meta, **headers_for(row.msg_id)},
        )
        return int(ack.seq)
