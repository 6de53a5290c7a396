"""Orders received = kitchen tickets made, station by station, as the routing rules send them.

Every order the kitchen flow carried should have a ticket at each station its lines route to (and
at expo), unless the kitchen rightly never showed it: it was already stale when it arrived (a
day's history loaded in the morning), or the kitchen first heard of it canceled. An order whose
delivery to the kitchen is a dead letter or still waiting has no tickets yet: replaying it makes
them, and the check agrees.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec

from expediter.model.order import Order, OrderState
from expediter.monitor.reconcile.common import plural, verdict
from expediter.monitor.reconcile.model import CheckName, CheckResult, Difference, Unit
from expediter.operations.kitchen.freshness import is_stale
from expediter.operations.kitchen.routing import RoutingRules, route_order


class Handed(msgspec.Struct, kw_only=True):
    """One version of an order and what became of its delivery to the kitchen."""

    order: Order
    delivered_at: datetime | None = None
    """When the kitchen took it; ``None`` when it has not (yet)."""
    state: str = ""
    """Why not: ``dead``, ``retrying``, ``pending``."""
    error: str = ""


class KitchenFacts(msgspec.Struct, kw_only=True):
    location_id: str
    business_date: date
    flow_id: str
    """The kitchen's first flow: whose owner hears about a difference, unless ``flow_of`` names
    the differing order's own."""
    rules: RoutingRules
    max_age: timedelta
    handed: dict[str, list[Handed]]
    """Order id → every version handed to the kitchen."""
    tickets: dict[str, set[str]]
    """Order id → the stations holding a ticket for it."""
    kept: bool = True
    """False when the kitchen no longer keeps the day's tickets (``keep_hours``)."""
    flow_of: dict[str, str] = {}
    """Order id → the flow that brought it to the kitchen."""


def expected_stations(versions: list[Handed], rules: RoutingRules, max_age: timedelta) -> set[str]:
    """The stations the kitchen should have made tickets at for these versions."""
    stations: set[str] = set()
    shown = False
    for handed in sorted(versions, key=lambda h: h.order.version):
        at = handed.delivered_at
        if at is None or is_stale(handed.order, at, max_age):
            continue
        if handed.order.state is OrderState.CANCELED and not shown:
            continue  # the kitchen never shows an order it first hears of canceled
        shown = True
        stations |= set(route_order(handed.order, rules))
    return stations


def check_kitchen(facts: KitchenFacts) -> CheckResult:
    differences: list[Difference] = []
    expected_total = made_total = 0
    for order_id in sorted(facts.handed):
        versions = facts.handed[order_id]
        expected = expected_stations(versions, facts.rules, facts.max_age)
        made = facts.tickets.get(order_id, set())
        expected_total, made_total = expected_total + len(expected), made_total + len(made)
        differences += _differences(order_id, versions, expected, made)
    pending = "" if facts.kept else "the kitchen no longer keeps this day's tickets"
    return verdict(
        CheckName.KITCHEN,
        facts.location_id,
        facts.business_date,
        differences if facts.kept else [],
        agreed=f"{plural(len(facts.handed), 'order')}, {plural(made_total, 'ticket')}"
        " where the routing sends them",
        pending=pending,
        flow_id=facts.flow_of.get(differences[0].record, facts.flow_id) if differences else facts.flow_id,
        unit=Unit.COUNT,
        totals={"orders": len(facts.handed), "tickets expected": expected_total, "tickets made": made_total},
    )


def _differences(
    order_id: str, versions: list[Handed], expected: set[str], made: set[str]
) -> list[Difference]:
    waiting = [h for h in versions if h.delivered_at is None]
    values = {"expected": len(expected), "made": len(made)}
    if waiting and not made:
        newest = max(waiting, key=lambda h: h.order.version)
        why = f"{newest.state}: {newest.error}" if newest.error else newest.state or "not delivered"
        return [Difference(record=order_id, problem=f"never reached the kitchen ({why})", values=values)]
    found = []
    if expected - made:
        found.append(
            Difference(
                record=order_id, problem="no ticket at " + ", ".join(sorted(expected - made)), values=values
            )
        )
    if made - expected:
        found.append(
            Difference(
                record=order_id,
                problem="ticket at "
                + ", ".join(sorted(made - expected))
                + " that the routing rules do not send it to",
                values=values,
            )
        )
    return found
