"""What the kitchen's screens and printers show: ticket items, their modifiers, the routing rules.

The routing below (:func:`route_order`) decides which station cooks which item; the screens (KDS)
and the printers (ESC/POS) only lay the items out. It, the ticket labels, the diff of two versions'
items (:func:`merge_items`) and the age check (:func:`is_stale`) are pure work on these types, so
the kitchen service and the printers share them without importing each other.
:class:`KitchenSettings` is the kds system's ``settings`` in the catalog.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.model.menu import MenuItem
from expediter.model.order import Line, LineKind, Modifier, ModifierAction, Order


class RoutingRules(msgspec.Struct, kw_only=True, frozen=True):
    """How lines find their stations when the order's line names none."""

    category_stations: dict[str, list[str]] = {}
    """Category → stations (``catalog.mappings.stations``)."""
    plu_stations: dict[str, list[str]] = {}
    """PLU → stations (``catalog.mappings.plu_stations``), for senders that give no category."""
    default_station: str = "kitchen"
    menu_stations: dict[str, dict[str, list[str]]] = {}
    """Location → item id or PLU → stations: the hub's menu (its newest ``menu_items``, imported or
    sent down by the group). Changed in place by the kitchen, so that every holder of these rules
    (the screens, the printers) routes with the menu as it is now."""


REMOVAL_WORDS = re.compile(r"^\s*(?:no|without|hold(?:\s+the)?|minus|remove)\b[\s.:-]*", re.IGNORECASE)
"""The words a POS often puts in a removal's own name ("No cheese"), already said by "NO"."""


def removal_name(name: str) -> str:
    """What a removal leaves off, without the POS's own "No" ("No cheese" → "cheese"): a ticket
    says "NO CHEESE", never "NO NO CHEESE". The screens' script applies the same rule."""
    bare = REMOVAL_WORDS.sub("", name, count=1).strip()
    return bare or name


class TicketModifier(msgspec.Struct, kw_only=True):
    """A modifier as the cook reads it: indented under its item, removals emphasised."""

    name: str
    action: ModifierAction = ModifierAction.ADD
    quantity: Decimal = Decimal(1)
    depth: int = 1
    station: str | None = None
    """Set when the modifier is cooked at another station (shown as "→ FRY")."""


class TicketItem(msgspec.Struct, kw_only=True):
    """One thing to cook on one ticket.

    ``key`` is stable across order versions (the line id, plus the modifier path for a component),
    which is what lets a newer version be turned into a difference.
    """

    key: str
    name: str
    quantity: Decimal
    modifiers: list[TicketModifier] = []
    course: int | None = None
    seat: int | None = None
    notes: str = ""
    component_of: str | None = None
    """The line's name when this item is a modifier routed here from another station's item."""
    voided: bool = False
    added: bool = False
    """Arrived with a later version of the order: shown as an add-on."""
    fired: bool = True
    """False while the item's course is held."""
    added_version: int = 1

    def signature(self) -> tuple[object, ...]:
        """What the cook must make; two items with the same signature need no change on the ticket."""
        mods = tuple((m.name, m.action, m.quantity, m.depth, m.station) for m in self.modifiers)
        return (self.name, self.quantity, mods, self.course, self.seat, self.notes, self.component_of)


class CourseMode(StrEnum):
    HOLD = "hold"
    IMMEDIATE = "immediate"
    ON_BUMP = "on_bump"


class StationTiming(msgspec.Struct, kw_only=True, frozen=True):
    """How old a ticket may get before its timer turns yellow, then red (seconds)."""

    yellow_seconds: int = 300
    red_seconds: int = 600


class KitchenSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The kds system's ``settings`` in the catalog."""

    default_station: str = "kitchen"
    course_mode: CourseMode = CourseMode.HOLD
    timing: StationTiming = StationTiming()
    """Default timer thresholds."""
    stations: dict[str, StationTiming] = {}
    """Per-station timer thresholds, e.g. ``bar = {yellow_seconds = 120, red_seconds = 240}``."""
    max_age_minutes: int = 720
    """Order versions with nothing on them for longer than this never reach the screens (a day's
    history loaded into the hub, or a backlog after an outage, must not bury the line in stale
    tickets)."""
    closed_max_age_minutes: int = 30
    """An order the kitchen first hears of when it is already closed (or from an earlier business
    day) is cooked only if it closed (or last changed) within this many minutes: the first start
    must not put yesterday's checks on the screens."""
    keep_hours: int = 36
    """Bumped tickets, orders and events older than this are dropped at start (a screen further
    behind gets a fresh snapshot)."""


__all__ = [
    "EXPO",
    "REMOVAL_WORDS",
    "CourseMode",
    "KitchenSettings",
    "RoutingRules",
    "StationTiming",
    "TicketItem",
    "TicketModifier",
    "component_items",
    "first_course",
    "flatten_modifiers",
    "guest_label",
    "is_fired",
    "is_stale",
    "last_activity",
    "line_item",
    "menu_station_map",
    "merge_items",
    "order_number",
    "removal_name",
    "route_order",
    "stations_for_line",
    "struck_through",
    "ticket_id_for",
]


class Printed(msgspec.Struct, kw_only=True):
    """What a kitchen printer last printed for an order, so a newer version prints only the change."""

    printer: str
    order_id: str
    version: int
    items: list[TicketItem]


# -- routing, ticket labels, diffs and freshness: pure work on the types above -----------------


EXPO = "expo"
"""The station that sees every order whole and calls it ready."""


def menu_station_map(items: Iterable[MenuItem]) -> dict[str, list[str]]:
    """Item id or PLU → stations, for one location's menu items that list stations (an item id
    wins over another item's PLU)."""
    listed = [item for item in items if item.stations]
    stations = {item.plu: list(item.stations) for item in listed if item.plu}
    stations.update({item.id: list(item.stations) for item in listed})
    return stations


def stations_for_line(line: Line, rules: RoutingRules, location_id: str | None = None) -> list[str]:
    """The stations that cook ``line``: the ones the order names, else the hub's menu's for the
    location (by item id, else PLU), else the PLU's mapping, else the category's, else the
    default."""
    if line.stations:
        return list(dict.fromkeys(line.stations))
    menu = rules.menu_stations.get(location_id or "", {})
    listed = (line.item_id and menu.get(line.item_id)) or (line.plu and menu.get(line.plu))
    if listed:
        return list(dict.fromkeys(listed))
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
        stations = stations_for_line(line, rules, order.location_id)
        home = set(stations)
        for station in stations:
            routed.setdefault(station, []).append(line_item(line, home, fired))
        for station, item in component_items(line, home, fired):
            routed.setdefault(station, []).append(item)
        routed.setdefault(EXPO, []).append(line_item(line, {EXPO}, fired))
    return routed


def ticket_id_for(order_id: str, station: str) -> str:
    """Stable ticket id: the same order at the same station is always the same ticket."""
    digest = hashlib.sha256(f"{order_id}\x1f{station}".encode()).hexdigest()[:10]
    return f"{station}-{digest}"


def order_number(order: Order) -> str:
    """What the pass calls out: the POS's own number when there is one, else the tail of our id."""
    return order.external_id or order.id[-6:]


def guest_label(order: Order) -> str:
    """How the pass calls the order out: the table, else the source and the guest's name."""
    if order.table:
        return f"Table {order.table}"
    parts = [order.source.value] + [part for part in (order.customer_name, order.notes) if part]
    return parts[0] if len(parts) == 1 else f"{parts[0]}: {' · '.join(parts[1:])}"


def struck_through(order: Order) -> Order:
    """A canceled order as the kitchen reads it: every line voided (struck, still bumpable)."""
    lines = [msgspec.structs.replace(line, voided=True) for line in order.lines]
    return msgspec.structs.replace(order, lines=lines)


def merge_items(old: list[TicketItem], new: list[TicketItem], version: int) -> tuple[list[TicketItem], bool]:
    """``old`` updated to ``new`` as a difference; also whether the line must look at it again.

    Unchanged items stay as they are; a changed item is struck and re-added; a dropped or voided item
    is struck; a new item is appended as an add-on; a held item that was fired becomes visible.
    """
    live = {item.key: item for item in old if not item.voided}
    incoming = {item.key: item for item in new}
    merged: list[TicketItem] = []
    attention = False
    for item in old:
        if item.voided or item.key not in live:
            merged.append(item)
            continue
        fresh = incoming.get(item.key)
        if fresh is None or fresh.voided:
            merged.append(msgspec.structs.replace(item, voided=True))
            attention = attention or item.fired
        elif fresh.signature() != item.signature():
            merged.append(msgspec.structs.replace(item, voided=True))
            merged.append(msgspec.structs.replace(fresh, added=True, added_version=version))
            attention = attention or item.fired or fresh.fired
        else:
            merged.append(msgspec.structs.replace(item, fired=item.fired or fresh.fired))
            attention = attention or (fresh.fired and not item.fired)
    for key, fresh in incoming.items():
        if key not in live and not fresh.voided:
            merged.append(msgspec.structs.replace(fresh, added=bool(old), added_version=version))
            attention = attention or fresh.fired
    return merged, attention


def last_activity(order: Order) -> datetime:
    """The newest timestamp ``order`` carries: the best sign of when this version became current."""
    stamps = [order.opened_at, order.closed_at, order.promised_at]
    stamps += [payment.created_at for payment in order.payments]
    return max(stamp for stamp in stamps if stamp is not None)


def is_stale(order: Order, now: datetime, limit: timedelta) -> bool:
    """True when nothing on ``order`` happened within ``limit`` and it is not promised for later."""
    if order.promised_at is not None and order.promised_at > now:
        return False
    return now - last_activity(order) > limit
