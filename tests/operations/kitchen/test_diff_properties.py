"""Whatever sequence of versions arrives, the ticket's live items are exactly the latest version's."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.operations.kitchen import tickets as tk
from expediter.operations.kitchen.routing import RoutingRules, route_order
from tests.operations.kitchen.helpers import OPENED, line, order

RULES = RoutingRules(category_stations={"burgers": ["grill"]})
NAMES = ["Burger", "Steak", "Chicken", "Veggie"]

a_line = st.tuples(st.sampled_from(["l-1", "l-2", "l-3", "l-4"]), st.integers(1, 3), st.booleans())
a_version = st.lists(a_line, min_size=1, max_size=4, unique_by=lambda t: t[0])


def build(version: int, lines: list[tuple[str, int, bool]]):  # type: ignore[no-untyped-def]
    return order(
        lines=[line(lid, NAMES[int(lid[-1]) - 1], qty=q, voided=v) for lid, q, v in lines], version=version
    )


def live(items):  # type: ignore[no-untyped-def]
    return sorted((i.key, i.quantity) for i in items if not i.voided)


@settings(max_examples=150, deadline=None)
@given(st.lists(a_version, min_size=1, max_size=6))
def test_live_items_match_the_latest_version_and_older_versions_change_nothing(
    versions: list[list[tuple[str, int, bool]]],
) -> None:
    first = build(1, versions[0])
    ticket = tk.new_ticket(first, "grill", route_order(first, RULES).get("grill", []), OPENED)
    for number, lines in enumerate(versions[1:], start=2):
        o = build(number, lines)
        ticket = tk.apply_version(ticket, o, route_order(o, RULES).get("grill", []), OPENED) or ticket
    latest = [(lid, Decimal(q)) for lid, q, voided in versions[-1] if not voided]
    assert live(ticket.items) == sorted(latest)
    keys = [i.key for i in ticket.items if not i.voided]
    assert len(keys) == len(set(keys))
    for number, lines in enumerate(versions, start=1):
        stale = build(number, lines)
        assert tk.apply_version(ticket, stale, route_order(stale, RULES).get("grill", []), OPENED) is None
