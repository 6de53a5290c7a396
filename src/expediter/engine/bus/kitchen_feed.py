"""The kitchen's station events on the bus: ``<prefix>.kitchen.<location>.<station>``.

The kitchen runs in the one process that delivers; its store numbers each station's events
(the log its screens catch up from). That log is this publisher's outbox: the publisher sends
every event past the stream's own watermark, in order, with ``Nats-Msg-Id``
``kitchen:<station>:<seq>``, so a publisher that restarts (or a new kitchen process taking over
the same store) resumes exactly after what the stream holds, and a second publication of one
event within the duplicate window is dropped by the servers. Any process of the group can then
read a station's tickets, once and in order, from the ``KITCHEN`` stream.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import structlog

from expediter.engine.bus.relay import PUBLISH_TIMEOUT, RETRY_SECONDS, headers_for
from expediter.engine.bus.settings import BusSettings

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.2
"""How often the publisher looks for new station events in the kitchen's log."""
KITCHEN_SEQ = "Expediter-Kitchen-Seq"
"""The station event's own number (the kitchen log's), carried in a header."""
_encode = msgspec.json.Encoder().encode


def kitchen_msg_id(station: str, seq: int) -> str:
    return f"kitchen:{station}:{seq}"


class KitchenPublisher:
    """Publishes ``kitchen``'s station events (its store's log) through ``js``."""

    def __init__(self, kitchen: Any, js: Any, settings: BusSettings) -> None:
        self.kitchen = kitchen
        self.js = js
        self.settings = settings
        self.watermarks: dict[str, int] | None = None
        """Per station, the last event the stream holds (read from the stream at start)."""
        self.published = 0

    def _subjects(self, station: str) -> list[str]:
        return [self.settings.kitchen_subject(location, station) for location in self.kitchen.locations]

    async def _stream_watermark(self, station: str) -> int:
        from nats.js.errors import NotFoundError

        found = 0
        for subject in self._subjects(station):
            try:
                last = await self.js.get_last_msg(self.settings.kitchen_stream, subject)
            except NotFoundError:
                continue
            found = max(found, int((last.headers or {}).get(KITCHEN_SEQ, 0)))
        return found

    async def publish_new(self) -> int:
        """Publish every station event past the watermarks, oldest first; how many."""
        last_seqs = await self.kitchen.store.last_seqs()
        if self.watermarks is None:
            self.watermarks = {station: await self._stream_watermark(station) for station in last_seqs}
        sent = 0
        for station, last in last_seqs.items():
            mark = self.watermarks.setdefault(station, await self._stream_watermark(station))
            while mark < last:
                events = await self.kitchen.events_after(station, mark)
                if not events:
                    break
                for event in events:
                    await self._publish(event)
                    mark = self.watermarks[station] = event.seq
                    sent += 1
        self.published += sent
        return sent

    async def _publish(self, event: Any) -> None:
        subject = self.settings.kitchen_subject(event.ticket.location_id, event.station)
        headers = headers_for(kitchen_msg_id(event.station, event.seq))
        headers[KITCHEN_SEQ] = str(event.seq)
        await self.js.publish(
            subject,
            _encode(event),
            timeout=PUBLISH_TIMEOUT,
            stream=self.settings.kitchen_stream,
            headers=headers,
        )

    async def run(self) -> None:
        """Publish for as long as the kitchen runs (cancel to stop)."""
        while True:
            try:
                await self.publish_new()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus is away: the kitchen's log keeps the events
                log.warning("kitchen_publish_failed", error=f"{type(exc).__name__}: {exc}")
                self.watermarks = None  # read again from the stream once it answers
                await asyncio.sleep(RETRY_SECONDS)  # a pause before trying the bus again
                continue
            await asyncio.sleep(POLL_SECONDS)  # the next look at the kitchen's log
