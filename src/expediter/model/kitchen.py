"""What the kitchen's screens and printers show: ticket items, their modifiers, the routing rules.

:mod:`expediter.operations.kitchen.routing` decides which station cooks which item; the screens
(KDS) and the printers (ESC/POS) only lay the items out.
"""

from __future__ import annotations

import re
from decimal import Decimal

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


__all__ = ["REMOVAL_WORDS", "RoutingRules", "TicketItem", "TicketModifier", "removal_name"]
