"""What the kitchen's screens and printers show: ticket items, their modifiers, the routing rules.

:mod:`expediter.operations.kitchen.routing` decides which station cooks which item; the screens
(KDS) and the printers (ESC/POS) only lay the items out. :class:`KitchenSettings` is the kds
system's ``settings`` in the catalog.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

import msgspec

from expediter.model.order import ModifierAction


class RoutingRules(msgspec.Struct, kw_only=True, frozen=True):
    """How lines find their stations when the menu entry names none."""

    category_stations: dict[str, list[str]] = {}
    """Category → stations (``catalog.mappings.stations``)."""
    plu_stations: dict[str, list[str]] = {}
    """PLU → stations (``catalog.mappings.plu_stations``), for senders that give no category."""
    default_station: str = "kitchen"


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
    "REMOVAL_WORDS",
    "CourseMode",
    "KitchenSettings",
    "RoutingRules",
    "StationTiming",
    "TicketItem",
    "TicketModifier",
    "removal_name",
]


class Printed(msgspec.Struct, kw_only=True):
    """What a kitchen printer last printed for an order, so a newer version prints only the change."""

    printer: str
    order_id: str
    version: int
    items: list[TicketItem]
