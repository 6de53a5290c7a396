"""The live part of a screen's stream ends at the first gap instead of skipping past it."""

from __future__ import annotations

import asyncio

from expediter.operations.kitchen import Subscription
from expediter.operations.kitchen.store import EventKind, KitchenEvent
from expediter.operations.kitchen.tickets import new_ticket
from expediter.web.kds import KdsWeb
from tests.operations.kitchen.helpers import OPENED, order


def event(seq: int) -> KitchenEvent:
    ticket = new_ticket(order(), "grill", [], OPENED)
    return KitchenEvent(station="grill", kind=EventKind.TICKET, ticket=ticket, at=OPENED, seq=seq)


def ids_sent(queued: list[int | None], sent: int) -> list[int]:
    """The ``id:`` lines the live stream writes for ``queued`` after catching up to ``sent``."""

    async def main() -> list[int]:
        sub = Subscription("grill")
        for seq in queued:
            sub.queue.put_nowait(None if seq is None else event(seq))
        web = KdsWeb(lambda: None, list)
        chunks = [chunk async for chunk in web._live(sub, sent)]
        return [
            int(line[4:])
            for chunk in chunks
            for line in chunk.decode().splitlines()
            if line.startswith("id: ")
        ]

    return asyncio.run(main())


def test_events_already_sent_while_catching_up_are_skipped() -> None:
    assert ids_sent([4, 5, 6, 7, None], sent=5) == [6, 7]


def test_a_gap_ends_the_stream_at_the_last_contiguous_event() -> None:
    assert ids_sent([6, 8, 9, None], sent=5) == [6]
