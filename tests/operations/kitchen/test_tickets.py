from datetime import timedelta
from decimal import Decimal

import msgspec
import pytest

from expediter.errors import RejectedInput
from expediter.model.kitchen import removal_name
from expediter.operations.kitchen import tickets as tk
from expediter.operations.kitchen.routing import RoutingRules, route_order
from expediter.operations.kitchen.tickets import StationTiming, TicketState, TimerColour
from tests.operations.kitchen.helpers import CATEGORIES, OPENED, burger, line, order

RULES = RoutingRules(category_stations=CATEGORIES)


def grill_ticket(o=None):  # type: ignore[no-untyped-def]
    o = o or order()
    return tk.new_ticket(o, "grill", route_order(o, RULES)["grill"], OPENED)


def test_ticket_id_is_stable_and_distinct_per_station() -> None:
    assert tk.ticket_id_for("o-1", "grill") == tk.ticket_id_for("o-1", "grill")
    assert tk.ticket_id_for("o-1", "grill") != tk.ticket_id_for("o-1", "fry")
    assert tk.ticket_id_for("o-1", "grill").startswith("grill-")


def test_newer_version_adds_only_the_difference() -> None:
    ticket = grill_ticket()
    v2 = order(lines=[burger(), line("l-2", "Cheeseburger")], version=2)
    updated = tk.apply_version(ticket, v2, route_order(v2, RULES)["grill"], OPENED)
    assert updated is not None
    assert [(i.name, i.added, i.voided) for i in updated.items] == [
        ("Classic Burger", False, False),
        ("Cheeseburger", True, False),
    ]


def test_voided_item_is_struck_not_removed_and_changed_item_is_struck_and_readded() -> None:
    ticket = grill_ticket(order(lines=[burger(), line("l-2", "Cheeseburger")]))
    v2 = order(
        lines=[msgspec.structs.replace(burger(), voided=True), line("l-2", "Cheeseburger", qty=2)], version=2
    )
    updated = tk.apply_version(ticket, v2, route_order(v2, RULES)["grill"], OPENED)
    assert updated is not None
    assert [(i.name, i.quantity, i.voided, i.added) for i in updated.items] == [
        ("Classic Burger", Decimal(1), True, False),
        ("Cheeseburger", Decimal(1), True, False),
        ("Cheeseburger", Decimal(2), False, True),
    ]


def test_older_or_equal_version_is_ignored() -> None:
    ticket = grill_ticket(order(version=3))
    for version in (2, 3):
        stale = order(lines=[line("l-9", "Other")], version=version)
        assert tk.apply_version(ticket, stale, route_order(stale, RULES)["grill"], OPENED) is None


def test_add_on_reopens_a_bumped_ticket() -> None:
    ticket = tk.bump(grill_ticket(), OPENED)
    v2 = order(lines=[burger(), line("l-2", "Cheeseburger")], version=2)
    later = OPENED + timedelta(minutes=5)
    updated = tk.apply_version(ticket, v2, route_order(v2, RULES)["grill"], later)
    assert updated is not None
    assert updated.state is TicketState.NEW
    assert updated.fired_at == later


def test_state_machine_and_recall() -> None:
    ticket = grill_ticket()
    started = tk.start(ticket, OPENED)
    assert started.state is TicketState.IN_PROGRESS
    bumped = tk.bump(started, OPENED)
    assert bumped.state is TicketState.BUMPED
    with pytest.raises(RejectedInput):
        tk.start(bumped, OPENED)
    recalled = tk.recall(bumped, OPENED)
    assert recalled.state is TicketState.IN_PROGRESS
    assert recalled.bumped_at is None
    with pytest.raises(RejectedInput):
        tk.recall(recalled, OPENED)


def test_expo_is_ready_when_every_station_ticket_is_bumped() -> None:
    o = order()
    routed = route_order(o, RULES)
    expo = tk.new_ticket(o, "expo", routed["expo"], OPENED)
    grill = tk.new_ticket(o, "grill", routed["grill"], OPENED)
    fry = tk.new_ticket(o, "fry", routed["fry"], OPENED)
    assert tk.settle_expo(expo, [tk.bump(grill, OPENED), fry], OPENED).state is TicketState.NEW
    ready = tk.settle_expo(expo, [tk.bump(grill, OPENED), tk.bump(fry, OPENED)], OPENED)
    assert (ready.state, ready.ready_count) == (TicketState.READY, 1)
    back = tk.settle_expo(ready, [tk.recall(tk.bump(grill, OPENED), OPENED), fry], OPENED)
    assert (back.state, back.ready_count) == (TicketState.IN_PROGRESS, 1)


def test_all_day_counts_open_fired_unvoided_quantities() -> None:
    a = grill_ticket(order("o-1", [line("l-1", "Burger", qty=2), line("l-2", "Steak")]))
    b = grill_ticket(order("o-2", [line("l-1", "Burger", qty=3)]))
    c = tk.bump(grill_ticket(order("o-3", [line("l-1", "Burger", qty=5)])), OPENED)
    d = grill_ticket(order("o-4", [line("l-1", "Burger", voided=True)]))
    assert tk.all_day_counts([a, b, c, d]) == {"Burger": Decimal(5), "Steak": Decimal(1)}


def test_timer_colour_follows_station_thresholds() -> None:
    ticket = grill_ticket()
    timing = StationTiming(yellow_seconds=60, red_seconds=120)
    assert tk.timer_colour(ticket, timing, OPENED + timedelta(seconds=59)) is TimerColour.GREEN
    assert tk.timer_colour(ticket, timing, OPENED + timedelta(seconds=60)) is TimerColour.YELLOW
    assert tk.timer_colour(ticket, timing, OPENED + timedelta(seconds=120)) is TimerColour.RED


def test_a_ticket_carries_the_pickup_time_and_a_new_one_updates_it_quietly() -> None:
    pickup = OPENED + timedelta(minutes=20)
    ticket = grill_ticket(order(promised_at=pickup))
    assert ticket.promised_at == pickup
    bumped = tk.bump(ticket, OPENED)
    later = order(promised_at=pickup + timedelta(minutes=15), version=2)
    moved = tk.apply_version(bumped, later, route_order(later, RULES)["grill"], OPENED)
    assert moved is not None and moved.promised_at == pickup + timedelta(minutes=15)
    assert moved.state is TicketState.BUMPED  # nothing to cook again: the line is not called back


@pytest.mark.parametrize(
    ("name", "reads"),
    [
        ("No cheese", "cheese"),
        ("NO ONIONS", "ONIONS"),
        ("no-mayo", "mayo"),
        ("Without pickles", "pickles"),
        ("Hold the tomato", "tomato"),
        ("onions", "onions"),
        ("Noodles", "Noodles"),
        ("No", "No"),
    ],
)
def test_a_removal_says_no_once(name: str, reads: str) -> None:
    assert removal_name(name) == reads
