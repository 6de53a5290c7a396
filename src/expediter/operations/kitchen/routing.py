"""Kitchen routing: which station cooks which part of an order.

A line goes to the stations its menu entry names (``Line.stations``); a line whose menu entry names
none goes to the stations its category maps to (``catalog.mappings.stations``), else to the default
station. A modifier with its own ``station`` (a side of fries on a burger) goes to that station as a
*component* of the line, so the fry cook sees "Fries — for Burger" on the same order's fry ticket.
The expo screen sees the whole order.

Courses: lines whose ``course`` is later than the order's first course are *held* (routed, but not
shown to the line) until that course is fired.

The routing itself is pure work on the kitchen model (:mod:`expediter.model.kitchen`), where the
printers read it too; this module names it for the kitchen service.
"""

from __future__ import annotations

from expediter.model.kitchen import (
    EXPO,
    RoutingRules,
    TicketItem,
    TicketModifier,
    component_items,
    first_course,
    flatten_modifiers,
    is_fired,
    line_item,
    route_order,
    stations_for_line,
)

__all__ = [
    "EXPO",
    "RoutingRules",
    "TicketItem",
    "TicketModifier",
    "component_items",
    "first_course",
    "flatten_modifiers",
    "is_fired",
    "line_item",
    "route_order",
    "stations_for_line",
]
