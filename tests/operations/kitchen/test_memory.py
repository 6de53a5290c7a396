"""Finished orders leave the kitchen's memory while it runs; the store still answers for them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from expediter.model.clock import ManualClock
from expediter.operations.kitchen import Kitchen, TicketState, ticket_id_for
from expediter.operations.kitchen.memory import OrderFilter
from tests.operations.kitchen.helpers import line, make_kitchen, order, stored_rows, with_kitchen

ORDERS = 300
PAST_THE_WINDOW = timedelta(hours=2).total_seconds()
"""Longer than any time a finished order is kept in memory."""


def entries(value: Any, seen: set[int]) -> int:
    """How many entries the containers under ``value`` hold, nested ones and those of the
    objects it holds counted too."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, dict):
        return len(value) + sum(entries(v, seen) for v in value.values())
    if isinstance(value, list | set | tuple):
        return len(value) + sum(entries(v, seen) for v in value)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and not isinstance(value, type):
        return sum(entries(v, seen) for v in attributes.values())
    return 0


def held_in_memory(kitchen: Kitchen) -> int:
    """Every entry of every container the kitchen keeps, in its parts too (tickets, orders,
    indexes, queues…)."""
    return entries(kitchen, set())


async def cook_and_hand_out(kitchen: Kitchen, order_id: str) -> None:
    for station in ("grill", "expo"):
        await kitchen.bump(station, ticket_id_for(order_id, station))


def test_finished_orders_leave_memory_and_recall_still_works(database: str, clock: ManualClock) -> None:
    burger = [line("l-1", "Burger")]

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-open", burger, opened_at=clock()))
        baseline = held_in_memory(kitchen)
        ids = [f"o-{n}" for n in range(ORDERS)]  # a rush: many at once, as the hub delivers them
        await asyncio.gather(*(kitchen.receive(order(i, burger, opened_at=clock())) for i in ids))
        for station in ("grill", "expo"):
            await asyncio.gather(*(kitchen.bump(station, ticket_id_for(i, station)) for i in ids))
        assert held_in_memory(kitchen) > ORDERS  # every one is still there, for now

        clock.advance(PAST_THE_WINDOW)
        await kitchen.receive(order("o-last", burger, opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-last")
        assert held_in_memory(kitchen) < baseline * 4  # the open order, the last one: not 300

        # the line still sees what it should, and recalls what it bumped
        assert [t.order_id for t in kitchen.tickets_for("grill")] == ["o-open"]
        assert (await kitchen.recall_last("grill")).order_id == "o-last"
        assert "grill" in kitchen.stations()

    with_kitchen(make_kitchen(database), scenario)


def test_an_order_gone_from_memory_is_still_the_same_order(database: str, clock: ManualClock) -> None:
    """A later version of an order that left memory changes its ticket (an add-on), it is never a
    second ticket; a redelivery changes nothing; an old ticket can still be recalled by id."""
    grill = ticket_id_for("o-1", "grill")

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-1", [line("l-1", "Burger")], opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-1")
        clock.advance(PAST_THE_WINDOW)
        await kitchen.receive(order("o-2", [line("l-1", "Burger")], opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-2")  # the kitchen moves on: o-1 leaves memory

        assert await kitchen.receive(order("o-1", [line("l-1", "Burger")], opened_at=clock())) == []
        more = [line("l-1", "Burger"), line("l-2", "Cheeseburger")]
        changed = await kitchen.receive(order("o-1", more, version=2, opened_at=clock()))
        [ticket] = [t for t in changed if t.station == "grill"]
        assert ticket.id == grill and ticket.state is TicketState.NEW
        assert [(i.name, i.added) for i in ticket.items] == [("Burger", False), ("Cheeseburger", True)]
        events = await kitchen.events_after("grill", 0)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))  # numbering goes on
        assert events[-1].ticket == ticket

        await kitchen.bump("grill", grill)
        await kitchen.bump("expo", ticket_id_for("o-1", "expo"))
        clock.advance(PAST_THE_WINDOW)
        await kitchen.receive(order("o-3", [line("l-1", "Burger")], opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-3")
        recalled = await kitchen.recall("grill", grill)
        assert recalled.state is TicketState.IN_PROGRESS
        assert [t.order_id for t in kitchen.tickets_for("grill")] == ["o-1"]

    with_kitchen(make_kitchen(database), scenario)


def test_the_running_kitchen_prunes_its_file_not_only_at_start(database: str, clock: ManualClock) -> None:
    burger = [line("l-1", "Burger")]

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-1", burger, opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-1")
        await kitchen.receive(order("o-open", burger, opened_at=clock()))
        clock.advance(37 * 3600)  # keep_hours is 36
        await kitchen.receive(order("o-2", burger, opened_at=clock()))

    with_kitchen(make_kitchen(database), scenario)
    kept = {row["order_id"] for row in stored_rows(database, "SELECT order_id FROM kitchen_tickets")}
    assert kept == {"o-open", "o-2"}


@given(st.lists(st.text(min_size=1, max_size=40), max_size=200, unique=True))
def test_the_filter_of_stored_orders_never_forgets_one(order_ids: list[str]) -> None:
    known = OrderFilter(size=64)  # tiny: many wrong "yes", never a wrong "no"
    for order_id in order_ids:
        known.add(order_id)
    assert all(order_id in known for order_id in order_ids)


def test_a_new_version_of_an_order_from_before_a_restart_is_not_a_new_order(
    database: str, clock: ManualClock
) -> None:
    """Memory starts without the finished order; the database still knows it (the filter is
    loaded at start), so its late version is an update, not a second order."""
    burger = [line("l-1", "Burger")]

    async def day_one(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-1", burger, opened_at=clock()))
        await cook_and_hand_out(kitchen, "o-1")

    async def later(kitchen: Kitchen) -> None:
        assert "o-1" not in kitchen._memory.orders  # finished long ago: not loaded
        changed = await kitchen.receive(
            order("o-1", [*burger, line("l-2", "Fries")], version=2, opened_at=clock())
        )
        fries = [i for t in changed for i in t.items if i.name == "Fries"]
        assert fries and all(i.added for i in fries)  # marked as added to an order the line had

    with_kitchen(make_kitchen(database), day_one)
    clock.advance(PAST_THE_WINDOW)
    with_kitchen(make_kitchen(database), later)
