"""A canceled order, pre-orders and add-ons against the age limit, held courses and "ready"."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from expediter.model.clock import ManualClock
from expediter.model.order import OrderState
from expediter.operations.kitchen import CourseMode, Kitchen, TicketState, ticket_id_for
from expediter.operations.kitchen.feed import Subscription
from expediter.operations.kitchen.store import EventKind, KitchenEvent
from expediter.operations.kitchen.tickets import new_ticket
from tests.operations.kitchen.helpers import (
    OPENED,
    Emitted,
    burger,
    line,
    make_kitchen,
    order,
    with_kitchen,
)


def test_canceled_version_strikes_every_line_and_the_tickets_stay_bumpable(tmp_path: Path) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen) -> None:
        lines = [burger(), line("l-2", "Caesar", "salads")]
        await kitchen.receive(order(lines=lines))
        changed = await kitchen.receive(order(lines=lines, version=2, state=OrderState.CANCELED))
        assert sorted(t.station for t in changed) == ["cold", "expo", "fry", "grill"]
        [grill] = kitchen.tickets_for("grill")
        assert [(i.name, i.voided) for i in grill.items] == [("Classic Burger", True)]
        assert kitchen.all_day("grill") == {}
        for station in ("grill", "fry", "cold"):
            await kitchen.bump(station, ticket_id_for("o-1", station))
        expo = await kitchen.ticket(ticket_id_for("o-1", "expo"))
        assert expo is not None and expo.state is not TicketState.READY

    with_kitchen(make_kitchen(tmp_path, emitted), scenario)
    assert emitted.kinds("ticket_status") == []


def test_an_order_first_seen_canceled_never_reaches_the_line(tmp_path: Path) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        assert await kitchen.receive(order(state=OrderState.CANCELED)) == []
        assert kitchen.tickets_for("grill") == []

    with_kitchen(make_kitchen(tmp_path), scenario)


def test_pre_order_placed_the_day_before_reaches_the_line(tmp_path: Path, clock: ManualClock) -> None:
    clock.set(OPENED + timedelta(hours=20))
    placed = order(opened_at=OPENED, promised_at=OPENED + timedelta(hours=20, minutes=30))

    async def scenario(kitchen: Kitchen) -> None:
        assert [t.station for t in await kitchen.receive(placed)] != []
        assert [t.station for t in kitchen.tickets_for("grill")] == ["grill"]

    with_kitchen(make_kitchen(tmp_path), scenario)


def test_starter_bumped_while_the_main_is_held_is_not_ready(tmp_path: Path) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen) -> None:
        lines = [line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)]
        await kitchen.receive(order(lines=lines))
        await kitchen.bump("cold", ticket_id_for("o-1", "cold"))
        expo = await kitchen.ticket(ticket_id_for("o-1", "expo"))
        assert expo is not None and expo.state is not TicketState.READY
        assert emitted.kinds("ticket_status") == []
        await kitchen.fire_course("o-1", 2)
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        expo = await kitchen.ticket(ticket_id_for("o-1", "expo"))
        assert expo is not None and expo.state is TicketState.READY

    with_kitchen(make_kitchen(tmp_path, emitted), scenario)
    assert [m.idempotency_key for m in emitted.kinds("ticket_status")] == ["kds:o-1:ready:1"]


def test_on_bump_mode_still_fires_the_next_course_and_is_ready_only_at_the_end(tmp_path: Path) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen) -> None:
        lines = [line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)]
        await kitchen.receive(order(lines=lines))
        await kitchen.bump("cold", ticket_id_for("o-1", "cold"))
        assert [t.station for t in kitchen.tickets_for("grill")] == ["grill"]
        assert emitted.kinds("ticket_status") == []
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))

    with_kitchen(make_kitchen(tmp_path, emitted, course_mode=CourseMode.ON_BUMP), scenario)
    assert len(emitted.kinds("ticket_status")) == 1


def event(seq: int) -> KitchenEvent:
    ticket = new_ticket(order(), "grill", [], OPENED)
    return KitchenEvent(station="grill", kind=EventKind.TICKET, ticket=ticket, at=OPENED, seq=seq)


def test_overflowing_screen_is_cut_off_with_no_later_event_left_behind() -> None:
    async def scenario() -> list[KitchenEvent | None]:
        sub = Subscription("grill", maxsize=3)
        assert [sub.push(event(n)) for n in (1, 2, 3, 4)] == [True, True, True, False]
        drained: list[KitchenEvent | None] = []
        while not sub.queue.empty():
            drained.append(sub.queue.get_nowait())
        return drained

    assert asyncio.run(scenario()) == [None]
