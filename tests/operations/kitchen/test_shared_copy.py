"""A read-only copy of the kitchen (a process of the group whose kitchen runs elsewhere): loaded
once, then kept up to date from the station events the kitchen writes, and loaded whole again when
the log no longer holds what it missed."""

from __future__ import annotations

from datetime import timedelta

from expediter.model.clock import ManualClock
from expediter.operations.kitchen import Kitchen, KitchenStore, TicketState, ticket_id_for
from tests.operations.kitchen.helpers import line, make_kitchen, order, with_kitchen


def copy_of(kitchen: Kitchen) -> Kitchen:
    """What the screens' routes make on a process without the kitchen: never started."""
    return Kitchen(
        KitchenStore(kitchen.store.storage),
        settings=kitchen.settings,
        category_stations=kitchen.rules.category_stations,
    )


def seen(copy: Kitchen, station: str) -> list[tuple[str, TicketState]]:
    return [(t.order_id, t.state) for t in copy.tickets_for(station, include_bumped=True)]


def test_a_copy_follows_new_tickets_bumps_and_86_from_the_log(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        copy = copy_of(kitchen)
        await copy.read_shared()
        assert copy.tickets_for("grill") == [] and copy.snapshot("grill") == ([], 0)

        await kitchen.receive(order("o-1", [line("l-1", "Burger")]))
        await kitchen.receive(order("o-2", [line("l-1", "Burger"), line("l-2", "Cola", category="drinks")]))
        await copy.read_shared()
        assert seen(copy, "grill") == [("o-1", TicketState.NEW), ("o-2", TicketState.NEW)]
        assert seen(copy, "bar") == [("o-2", TicketState.NEW)]
        assert copy.snapshot("grill") == kitchen.snapshot("grill")
        assert copy.stations() == kitchen.stations()

        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        await kitchen.set_availability("loc-1", "burger", False)
        await copy.read_shared()
        assert seen(copy, "grill") == [("o-1", TicketState.BUMPED), ("o-2", TicketState.NEW)]
        assert [t.order_id for t in copy.tickets_for("grill")] == ["o-2"]
        assert copy.snapshot("grill") == kitchen.snapshot("grill")
        assert copy.snapshot("expo") == kitchen.snapshot("expo")
        assert copy.all_day("grill") == kitchen.all_day("grill")
        assert copy.unavailable() == [("loc-1", "burger")]

        await copy.read_shared()  # nothing new: the same answers
        assert copy.snapshot("grill") == kitchen.snapshot("grill")

    with_kitchen(make_kitchen(database), scenario)


def test_a_copy_whose_missed_events_were_pruned_loads_whole_again(database: str, clock: ManualClock) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        copy = copy_of(kitchen)
        await kitchen.receive(order("o-1", [line("l-1", "Burger")]))
        await copy.read_shared()
        await kitchen.bump("grill", ticket_id_for("o-1", "grill"))
        clock.advance(48 * 3600)
        await kitchen.receive(order("o-2", [line("l-1", "Burger")], opened_at=clock()))
        await kitchen.receive(order("o-3", [line("l-1", "Burger")], opened_at=clock()))
        await kitchen.store.prune(clock() - timedelta(hours=1))
        assert [e.seq for e in await kitchen.events_after("grill", 0)] == [3, 4]

        await copy.read_shared()
        assert [t.order_id for t in copy.tickets_for("grill")] == ["o-2", "o-3"]
        assert copy.snapshot("grill") == kitchen.snapshot("grill")

    with_kitchen(make_kitchen(database), scenario)


def test_a_copy_of_a_new_database_loads_whole_again(database: str) -> None:
    async def scenario(kitchen: Kitchen) -> None:
        copy = copy_of(kitchen)
        await kitchen.receive(order("o-1", [line("l-1", "Burger")]))
        await kitchen.receive(order("o-2", [line("l-1", "Burger")]))
        await copy.read_shared()
        # the log starts again (a database restored from before): fewer events than the copy saw
        await kitchen.store.storage.write(lambda tx: tx.execute("DELETE FROM kitchen_events"))
        await kitchen.store.storage.write(lambda tx: tx.execute("DELETE FROM kitchen_tickets"))
        await copy.read_shared()
        assert copy.tickets_for("grill") == [] and copy.snapshot("grill") == ([], 0)

    with_kitchen(make_kitchen(database), scenario)
