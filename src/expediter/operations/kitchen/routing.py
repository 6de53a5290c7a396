"""Kitchen routing: which station cooks which part of an order.

A line goes to the stations its menu entry names (``Line.stations``); a line whose menu entry names
none goes to the stations its category maps to (``catalog.mappings.stations``), else to the default
station. A modifier with its own ``station`` (a side of fries on a burger) goes to that station as a
*component* of the line, so the fry cook sees "Fries — for Burger" on the same order's fry ticket.
The expo screen sees the whole order.

Courses: lines whose ``course`` is later than the order's first course are *held* (routed, but not
shown to the line) until that course is fired.
"""

from __future__ import annotations

from expediter.model.kitchen import RoutingRules, TicketItem, TicketModifier
from expediter.model.order import Line, LineKind, Modifier, ModifierAction, Order

EXPO = "expo"
"""The station that sees every order whole and calls it ready."""


def stations_for_line(line: Line, rules: RoutingRules) -> list[str]:
    """The stations that cook ``line``: the menu's, else the PLU's, else the category's, else the
    default."""
    if line.stations:
        return list(dict.fromkeys(line.stations))
    mapped = (line.plu and rules.plu_stations.get(line.plu)) or rules.category_stations.get(line.category)
    if mapped:
        return list(dict.fromkeys(mapped))
    return [rules.default_station]


def flatten_modifiers(modifiers: list[Modifier], home: set[str], depth: int = 1) -> list[TicketModifier]:
    """Modifiers in reading order, nested ones deeper; those cooked elsewhere keep their station."""
    flat: list[TicketModifier] = []
    for mod in modifiers:
        elsewhere = mod.station if mod.station and mod.station not in home else None
        flat.append(
            TicketModifier(
                name=mod.name, action=mod.action, quantity=mod.quantity, depth=depth, station=elsewhere
            )
        )
        if elsewhere is None:
            flat.extend(flatten_modifiers(mod.modifiers, home, depth + 1))
    return flat


def line_item(line: Line, stations: set[str], fired: bool) -> TicketItem:
    """The ticket item for a whole line, as the stations in ``stations`` read it."""
    return TicketItem(
        key=line.id,
        name=line.name,
        quantity=line.quantity,
        modifiers=flatten_modifiers(line.modifiers, stations),
        course=line.course,
        seat=line.seat,
        notes=line.notes,
        voided=line.voided,
        fired=fired,
    )


def component_items(line: Line, home: set[str], fired: bool) -> list[tuple[str, TicketItem]]:
    """(station, item) for each modifier of ``line`` that is cooked away from the line's stations."""
    found: list[tuple[str, TicketItem]] = []

    def walk(modifiers: list[Modifier], path: str) -> None:
        for index, mod in enumerate(modifiers):
            key = f"{path}/{mod.modifier_id or index}"
            if mod.station and mod.station not in home and mod.action is not ModifierAction.REMOVE:
                item = TicketItem(
                    key=f"{line.id}{key}",
                    name=mod.name,
                    quantity=mod.quantity * line.quantity,
                    modifiers=flatten_modifiers(mod.modifiers, {mod.station}),
                    course=line.course,
                    seat=line.seat,
                    component_of=line.name,
                    voided=line.voided,
                    fired=fired,
                )
                found.append((mod.station, item))
            else:
                walk(mod.modifiers, key)

    walk(line.modifiers, "")
    return found


def first_course(order: Order) -> int | None:
    """The lowest course on the order; lines without a course always fire with it."""
    courses = [line.course for line in order.lines if line.course is not None]
    return min(courses) if courses else None


def is_fired(line: Line, fired_courses: set[int], first: int | None) -> bool:
    """A line cooks now when it has no course, is in the first course, or its course was fired."""
    return line.course is None or line.course == first or line.course in fired_courses


def route_order(
    order: Order, rules: RoutingRules, fired_courses: set[int] | None = None
) -> dict[str, list[TicketItem]]:
    """Station → items for ``order``, expo included (every line, whole). Gift cards never cook."""
    fired_courses = fired_courses or set()
    first = first_course(order)
    routed: dict[str, list[TicketItem]] = {}
    for line in order.lines:
        if line.kind is not LineKind.ITEM:
            continue
        fired = is_fired(line, fired_courses, first)
        stations = stations_for_line(line, rules)
        home = set(stations)
        for station in stations:
            routed.setdefault(station, []).append(line_item(line, home, fired))
        for station, item in component_items(line, home, fired):
            routed.setdefault(station, []).append(item)
        routed.setdefault(EXPO, []).append(line_item(line, {EXPO}, fired))
    return routed
