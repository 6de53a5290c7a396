"""Polling transports for flows triggered by a file arriving (``trigger = "file_arrival"``).

Each :class:`FileWatcher` polls one transport (an SFTP inbox, an FTP folder, a watched local folder)
every ``every`` seconds and hands each new, stable file to the engine's ``handle`` once, through
:func:`expediter.plugin.transport.receive_files` (stability check, checksum de-duplication,
done/failed folders, transfer records). A server that is down only delays the next poll; a
``TerminalError`` (bad password, changed host key) or a ``ConfigError`` (a secret not set) is
reported through ``on_error`` and polling goes on, so the flow recovers by itself once the manager
fixes the catalog or the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from expediter.errors import ConfigError, DeliveryError, ExpediterError, TerminalError, TransientError
from expediter.plugin.transport import (
    FileOutcome,
    HandleFile,
    RecordTransfer,
    SeenStore,
    Transport,
    Wait,
    receive_files,
)

log = structlog.get_logger(__name__)

OnError = Callable[[ExpediterError], Awaitable[None]]


class FileWatcher:
    """Polls one transport until :meth:`stop`; ``scope`` (the flow id) keys the seen checksums."""

    def __init__(
        self,
        transport: Transport,
        handle: HandleFile,
        *,
        scope: str,
        seen: SeenStore,
        pattern: str = "*",
        every: float = 30.0,
        stable_seconds: float = 2.0,
        record: RecordTransfer | None = None,
        on_error: OnError | None = None,
        sleep: Wait | None = None,
        stability_wait: Wait = asyncio.sleep,
    ) -> None:
        self.transport = transport
        self._handle, self._scope, self._seen = handle, scope, seen
        self._pattern, self._every, self._stable = pattern, every, stable_seconds
        self._record, self._on_error = record, on_error
        self._sleep = sleep or self._sleep_unless_stopped
        # Not interrupted by stop(): a cut-short stability wait would read a file still growing.
        self._stability_wait = stability_wait
        self._stopped = asyncio.Event()
        self.polls = 0

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        """Poll, sleep ``every`` seconds, repeat; closes the transport when stopped."""
        try:
            while not self._stopped.is_set():
                await self.poll_once()
                if not self._stopped.is_set():
                    await self._sleep(self._every)
        finally:
            await self.transport.close()

    async def poll_once(self) -> dict[str, FileOutcome]:
        """One poll; delivery errors are reported, not raised, so the loop keeps going."""
        self.polls += 1
        try:
            return await receive_files(
                self.transport,
                self._handle,
                scope=self._scope,
                seen=self._seen,
                pattern=self._pattern,
                interval=self._stable,
                wait=self._stability_wait,
                record=self._record,
            )
        except (DeliveryError, ConfigError) as exc:
            level = "warning" if isinstance(exc, TransientError) else "error"
            getattr(log, level)(
                "file poll failed", scope=self._scope, endpoint=self.transport.endpoint, error=str(exc)
            )
            if self._on_error is not None:
                await self._on_error(exc)
            return {}
        except Exception as exc:  # a bug in one poll must not end the watch: report, poll again
            log.exception("file poll crashed", scope=self._scope, endpoint=self.transport.endpoint)
            if self._on_error is not None:
                await self._on_error(TerminalError(f"file poll crashed: {type(exc).__name__}: {exc}"))
            return {}

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=seconds)
