"""The storage for code that cannot ``await``: an exporter on a worker thread, a CLI command.

:class:`BlockingStorage` hands each call to the event loop the storage runs on and waits for its
result, so the work still goes through that storage's writer and readers (group commit, the same
connections, the same database). It must not be called on that loop itself (it would wait for
itself): an exporter runs on a worker thread (``asyncio.to_thread``), and a command with no hub
running opens the database on a loop of its own, in a thread (:func:`blocking_storage`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from expediter.storage import open_storage
from expediter.storage.base import Storage, Tx

T = TypeVar("T")
WAIT_SECONDS = 60.0
EXTRA_KEY = "blocking_storage"
"""The key of ``ExportRequest.extra`` under which the engine hands an exporter the hub's storage."""


class BlockingStorage:
    """:meth:`read` and :meth:`write` of a started :class:`Storage`, waiting for the result."""

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.storage = storage
        self.loop = loop

    def read(self, work: Callable[[Tx], T]) -> T:
        return self._wait(self.storage.read(work))

    def write(self, work: Callable[[Tx], T]) -> T:
        return self._wait(self.storage.write(work))

    def _wait(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            work.close()
            raise RuntimeError("call from a worker thread (asyncio.to_thread), not from the storage's loop")
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=WAIT_SECONDS)


@contextmanager
def blocking_storage(
    database: str, prepare: Callable[[Storage], Coroutine[Any, Any, Any]] | None = None
) -> Iterator[BlockingStorage]:
    """``database`` (as ``hub.database`` names it, resolved) opened on a loop of its own in a
    thread, migrated, and ``prepare`` run on it once; stopped afterwards."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="blocking-storage", daemon=True)
    thread.start()
    storage = open_storage(database)
    try:
        asyncio.run_coroutine_threadsafe(storage.start(), loop).result(timeout=WAIT_SECONDS)
        try:
            if prepare is not None:
                asyncio.run_coroutine_threadsafe(prepare(storage), loop).result(timeout=WAIT_SECONDS)
            yield BlockingStorage(storage, loop)
        finally:
            asyncio.run_coroutine_threadsafe(storage.stop(), loop).result(timeout=WAIT_SECONDS)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
