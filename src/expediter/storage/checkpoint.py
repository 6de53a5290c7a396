"""WAL checkpoints off the write path.

SQLite's automatic checkpoint runs inside the ``COMMIT`` that crosses ``wal_autocheckpoint``
pages: that commit copies the whole WAL into the database file and fsyncs it while holding the
write lock, and every write waiting behind it waits too (measured: 30–40 ms stalls, the p99 of
the ingest benchmark). So the writer connection turns it off and this thread does it instead, on
its own connection:

1. a ``PASSIVE`` checkpoint without any lock: the bulk of the copy and the database fsync, while
   writers keep committing to the WAL;
2. a second ``PASSIVE`` checkpoint holding the writers' lock: only the frames appended meanwhile,
   so it is short; afterwards the WAL is fully copied and the next write transaction starts the
   WAL over from its beginning (without step 2 a busy WAL would never be fully copied and would
   grow without end).

Durability does not depend on checkpoints: a write is durable once its WAL frames are fsynced.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

CHECKPOINT_EVERY_WRITES = 2000
"""Writes committed by one process between checkpoints (an order is ~1 KB: a few MB of WAL)."""


class Lock(Protocol):
    def acquire(self) -> None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


class Checkpointer:
    """A thread that checkpoints the WAL when :meth:`note_writes` says enough was written."""

    def __init__(self, conn: sqlite3.Connection, writers_lock: Lock) -> None:
        """``conn`` is this thread's own connection; ``writers_lock`` must be a lock object of its
        own (its own open file), so that it also excludes this process's writer."""
        self._conn = conn
        self._lock = writers_lock
        self._wake = threading.Event()
        self._stopping = False
        self._since = 0
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def note_writes(self, count: int) -> None:
        """Called by the writer thread after each commit."""
        self._since += count
        if self._since >= CHECKPOINT_EVERY_WRITES:
            self._since = 0
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._conn.close()
        self._lock.close()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._checkpoint()
            except sqlite3.Error as exc:  # a later checkpoint (or the last close) catches up
                log.warning("wal_checkpoint_failed", error=str(exc))

    def _checkpoint(self) -> None:
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._lock.acquire()
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            self._lock.release()
        self.checkpoints += 1
