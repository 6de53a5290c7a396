import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.clock import ManualClock
from expediter.operations.kitchen import CourseMode, Kitchen, TicketState, ticket_id_for
from tests.operations.kitchen.helpers import Emitted, burger, line, make_kitchen, order, with_kitchen


def test_redelivered_order_never_makes_a_second_ticket(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        first = await kitchen.receive(order())
        assert sorted(t.station for t in first) == ["expo", "fry", "grill"]
        assert await kitchen.receive(order()) == []
        assert [t.id for t in kitchen.tickets_for("grill")] == [ticket_id_for("o-1", "grill")]
        assert [e.seq for e in await kitchen.events_after("grill", 0)] == [1]

    with_kitchen(make_kitchen(database), scenario)


def test_tickets_and_event_log_survive_a_restart(database: str) -> None:
    async def before(kitchen: Kitchen) -> None:
        await kitchen.receive(order())
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))

    async def after(kitchen: Kitchen) -> None:
        assert (await kitchen.ticket(ticket_id_for("o-1", "grill"))).state is TicketState.BUMPED  # type: ignore[union-attr]
        assert await kitchen.receive(order()) == []
        await kitchen.receive(order(lines=[burger(), line("l-2", "Cheeseburger")], version=2))
        events = await kitchen.events_after("grill", 0)
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[-1].ticket.state is TicketState.NEW
        assert [(i.name, i.added) for i in events[-1].ticket.items] == [
            ("Classic Burger", False),
            ("Cheeseburger", True),
        ]

    with_kitchen(make_kitchen(database), before)
    with_kitchen(make_kitchen(database), after)


def test_ready_status_is_emitted_once_when_every_station_bumped(database: str) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order())
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        assert emitted.kinds("ticket_status") == []
        await kitchen.bump("fry", ticket_id_for("o-1", "fry"))
        await kitchen.bump("fry", ticket_id_for("o-1", "fry"))
        assert (await kitchen.ticket(ticket_id_for("o-1", "expo"))).state is TicketState.READY  # type: ignore[union-attr]
        await kitchen.bump("expo", ticket_id_for("o-1", "expo"))

    with_kitchen(make_kitchen(database, emitted), scenario)
    [status] = emitted.kinds("ticket_status")
    assert status.idempotency_key == "kds:o-1:ready:1"
    assert status.source_system == "kds"
    assert status.location_id == "loc-1"
    body = msgspec.json.decode(status.payload)
    assert (body["order_id"], body["status"], body["stations"]) == ("o-1", "ready", ["fry", "grill"])


def test_recall_takes_the_order_off_ready_and_counts_a_second_ready(database: str) -> None:
    emitted = Emitted()

    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order(lines=[line("l-1", "Burger")]))
        grill = ticket_id_for("o-1", "grill")
        await kitchen.bump("grill", grill)
        recalled = await kitchen.recall_last("grill")
        assert recalled.id == grill
        assert (await kitchen.ticket(ticket_id_for("o-1", "expo"))).state is TicketState.IN_PROGRESS  # type: ignore[union-attr]
        await kitchen.bump("grill", grill)

    with_kitchen(make_kitchen(database, emitted), scenario)
    assert [m.idempotency_key for m in emitted.kinds("ticket_status")] == [
        "kds:o-1:ready:1",
        "kds:o-1:ready:2",
    ]


def test_held_course_is_hidden_until_fired_then_shows_once(database: str, clock: ManualClock) -> None:

    async def scenario(kitchen: Kitchen) -> None:
        lines = [line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)]
        await kitchen.receive(order(lines=lines))
        assert kitchen.tickets_for("grill") == []
        assert [t.station for t in kitchen.tickets_for("cold")] == ["cold"]
        clock.advance(600)
        fired = await kitchen.fire_course("o-1", 2)
        assert sorted(t.station for t in fired) == ["expo", "grill"]
        assert await kitchen.fire_course("o-1", 2) == []
        [grill] = kitchen.tickets_for("grill")
        assert grill.fired_at == clock.now()
        with pytest.raises(RejectedInput):
            await kitchen.fire_course("nope", 2)

    with_kitchen(make_kitchen(database), scenario)


def test_on_bump_mode_fires_the_next_course_when_the_first_is_done(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        lines = [line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)]
        await kitchen.receive(order(lines=lines))
        await kitchen.bump("cold", ticket_id_for("o-1", "cold"))
        assert [t.station for t in kitchen.tickets_for("grill")] == ["grill"]

    with_kitchen(make_kitchen(database, course_mode=CourseMode.ON_BUMP), scenario)


def test_immediate_mode_holds_nothing(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(
            order(lines=[line("l-1", "Soup", "salads", course=1), line("l-2", "Steak", course=2)])
        )
        assert [t.station for t in kitchen.tickets_for("grill")] == ["grill"]

    with_kitchen(make_kitchen(database, course_mode=CourseMode.IMMEDIATE), scenario)


def test_all_day_per_station(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-1"))
        await kitchen.receive(order("o-2", [line("l-1", "Classic Burger", qty=2)]))
        assert kitchen.all_day("grill") == {"Classic Burger": 3}
        assert kitchen.all_day("fry") == {"Fries": 1}

    with_kitchen(make_kitchen(database), scenario)


def test_eighty_six_is_remembered_answered_and_emitted(database: str) -> None:
    emitted = Emitted()

    async def before(kitchen: Kitchen) -> None:
        assert kitchen.is_available("loc-1", "1101")
        assert await kitchen.set_availability("loc-1", "1101", False)
        assert not await kitchen.set_availability("loc-1", "1101", False)
        assert not kitchen.is_available("loc-1", "1101")
        assert kitchen.is_available("loc-2", "1101")

    async def after(kitchen: Kitchen) -> None:
        assert kitchen.unavailable("loc-1") == [("loc-1", "1101")]

    with_kitchen(make_kitchen(database, emitted), before)
    with_kitchen(make_kitchen(database), after)
    [message] = emitted.kinds("availability")
    assert msgspec.json.decode(message.payload)["available"] is False
    assert message.idempotency_key.startswith("kds:86:loc-1:1101:0:")


def test_bump_of_unknown_ticket_is_rejected(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        await kitchen.receive(order())
        with pytest.raises(RejectedInput):
            await kitchen.bump("fry", ticket_id_for("o-1", "grill"))

    with_kitchen(make_kitchen(database), scenario)


def test_old_bumped_tickets_are_pruned_at_start_but_open_ones_stay(database: str, clock: ManualClock) -> None:

    async def day_one(kitchen: Kitchen) -> None:
        await kitchen.receive(order("o-1", [line("l-1", "Burger")]))
        await kitchen.receive(order("o-2", [line("l-1", "Burger")]))
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))

    async def two_days_later(kitchen: Kitchen) -> None:
        assert (await kitchen.ticket(ticket_id_for("o-1", "grill"))) is None
        assert [t.order_id for t in kitchen.tickets_for("grill")] == ["o-2"]
        assert [e.seq for e in await kitchen.events_after("grill", 0)] == [3]  # numbering continues
        await kitchen.receive(order("o-3", [line("l-1", "Burger")], opened_at=clock()))
        assert await kitchen.last_seq("grill") == 4

    with_kitchen(make_kitchen(database), day_one)
    clock.advance(48 * 3600)
    with_kitchen(make_kitchen(database), two_days_later)


def test_an_order_older_than_the_age_limit_never_reaches_the_screens(
    database: str, clock: ManualClock
) -> None:
    clock.advance(13 * 3600)  # the hub loads yesterday's checks half a day after they were rung

    async def scenario(kitchen: Kitchen) -> None:
        assert await kitchen.receive(order("o-old")) == []
        assert kitchen.tickets_for("expo") == []
        clock.advance(-13 * 3600)
        assert await kitchen.receive(order("o-new")) != []

    with_kitchen(make_kitchen(database), scenario)
