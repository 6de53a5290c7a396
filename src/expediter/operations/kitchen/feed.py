"""One connected screen's live feed: a bounded queue of numbered events, cut off whole on overflow."""

from __future__ import annotations

import asyncio

from expediter.operations.kitchen.store import KitchenEvent


class Subscription:
    """One connected screen: numbered events arrive on ``queue``; ``None`` means "reconnect"."""

    def __init__(self, station: str, maxsize: int = 10_000) -> None:
        self.station = station
        self.queue: asyncio.Queue[KitchenEvent | None] = asyncio.Queue(maxsize=maxsize)

    def push(self, event: KitchenEvent) -> bool:
        """False when the screen fell too far behind: it is cut off and catches up on reconnect."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close()
            return False
        return True

    def close(self) -> None:
        """End the stream; the screen reconnects with its last sequence number and catches up.

        Everything still queued is dropped, never just the oldest: a stream that skipped one event
        and went on would move the screen's Last-Event-ID past a gap it could never fill."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)
