"""Orders received = kitchen tickets made, by station, as the routing rules send them."""

from __future__ import annotations

from datetime import timedelta

from expediter.monitor.reconcile.kitchen import Handed, KitchenFacts, check_kitchen
from expediter.monitor.reconcile.model import CheckState
from expediter.operations.kitchen.routing import RoutingRules
from tests.monitor.reconcile.helpers import DAY, LOCATION, NOON, check

RULES = RoutingRules(category_stations={"Burgers": ["grill"], "Beer": ["bar"]})
LIMIT = timedelta(minutes=720)


def _facts(handed: dict[str, list[Handed]], tickets: dict[str, set[str]]) -> KitchenFacts:
    return KitchenFacts(
        location_id=LOCATION.id,
        business_date=DAY,
        flow_id="pos-to-kitchen",
        rules=RULES,
        max_age=LIMIT,
        handed=handed,
        tickets=tickets,
    )


def test_a_ticket_missing_at_one_station_differs_and_agrees_once_it_is_made() -> None:
    burger, beer = check("A", 1250), check("B", 700, category="Beer")
    handed = {"A": [Handed(order=burger, delivered_at=NOON)], "B": [Handed(order=beer, delivered_at=NOON)]}
    result = check_kitchen(_facts(handed, {"A": {"grill", "expo"}, "B": {"expo"}}))
    assert result.state is CheckState.DIFFER
    [difference] = result.differences
    assert difference.record == "B" and difference.problem == "no ticket at bar"
    assert difference.values == {"expected": 2, "made": 1}
    fixed = check_kitchen(_facts(handed, {"A": {"grill", "expo"}, "B": {"bar", "expo"}}))
    assert fixed.state is CheckState.AGREE
    assert fixed.totals == {"orders": 2, "tickets expected": 4, "tickets made": 4}


def test_an_order_that_never_reached_the_kitchen_is_listed_with_its_error_until_replayed() -> None:
    burger = check("A", 1250)
    dead = {"A": [Handed(order=burger, state="dead", error="kitchen store busy")]}
    result = check_kitchen(_facts(dead, {}))
    assert result.state is CheckState.DIFFER
    assert result.differences[0].problem == "never reached the kitchen (dead: kitchen store busy)"
    replayed = {"A": [Handed(order=burger, delivered_at=NOON)]}
    assert check_kitchen(_facts(replayed, {"A": {"grill", "expo"}})).state is CheckState.AGREE


def test_a_stale_order_rightly_has_no_ticket() -> None:
    morning_load = {"A": [Handed(order=check("A", 1250), delivered_at=NOON + timedelta(hours=13))]}
    assert check_kitchen(_facts(morning_load, {})).state is CheckState.AGREE
    assert check_kitchen(_facts(morning_load, {"A": {"grill"}})).state is CheckState.DIFFER
