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
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import structlog

from expediter.engine.bus.relay import PUBLISH_TIMEOUT, RETRY_SECONDS, headers_for
from expediter.engine.bus.settings import BusSettings, subject_token

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.2
"""How often the publisher looks for new station events in the kitchen's log."""
KITCHEN_SEQ = "Expediter-Kitchen-Seq"
"""The station event's own number (the kitchen log's), carried in a header."""
_encode = msgspec.json.Encoder().encode


def kitchen_msg_id(station: str, seq: int) -> str:
    return f"kitchen:{station}:{seq}"


async def stream_watermark(js: Any, settings: BusSettings, locations: list[str], station: str) -> int:
    """The number of the station's last event the stream holds (0: none)."""
    from nats.js.errors import NotFoundError

    found = 0
    for location in locations:
        try:
            last = await js.get_last_msg(settings.kitchen_stream, settings.kitchen_subject(location, station))
        except NotFoundError:
            continue
        found = max(found, int((last.headers or {}).get(KITCHEN_SEQ, 0)))
    return found


class StationEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One station event read from the stream; ``caught_up`` marks the end of what it held."""

    seq: int
    location_id: str | None = None
    payload: bytes = b""
    caught_up: bool = False


async def read_station(
    js: Any, settings: BusSettings, locations: list[str], station: str, after: int, *, idle: float
) -> AsyncIterator[StationEvent | None]:
    """The station's events numbered above ``after``, in order, from an ordered consumer of the
    stream: those it holds, then a ``caught_up`` mark, then each new one as it comes; ``None``
    when ``idle`` seconds passed without one (a heartbeat)."""
    target = await stream_watermark(js, settings, locations, station)
    subject = f"{settings.subject_prefix}.kitchen.*.{subject_token(station)}"
    subscription = await js.subscribe(subject, stream=settings.kitchen_stream, ordered_consumer=True)
    sent = after
    caught_up = False
    try:
        while True:
            if not caught_up and sent >= target:
                caught_up = True
                yield StationEvent(seq=sent, caught_up=True)
            try:
                raw = await subscription.next_msg(timeout=idle)
            except TimeoutError:
                yield None
                continue
            seq = int((raw.headers or {}).get(KITCHEN_SEQ, 0))
            if seq <= sent:
                continue  # seen already (the screen's Last-Event-ID, or before it reconnected)
            sent = seq
            location = raw.subject.split(".")[-2]
            yield StationEvent(seq=seq, location_id=location, payload=bytes(raw.data))
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


class KitchenPublisher:
    """Publishes ``kitchen``'s station events (its store's log) through ``js``."""

    def __init__(self, kitchen: Any, js: Any, settings: BusSettings) -> None:
        self.kitchen = kitchen
        self.js = js
        self.settings = settings
        self.watermarks: dict[str, int] | None = None
        """Per station, the last event the stream holds (read from the stream at start)."""
        self.published = 0

    async def _stream_watermark(self, station: str) -> int:
        return await stream_watermark(self.js, self.settings, list(self.kitchen.locations), station)

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
