"""The menu: items, categories, modifier groups, PLUs and the kitchen stations they cook on."""

from __future__ import annotations

import msgspec

from expediter.model.money import Money
from expediter.model.order import LineKind, ModifierAction


class MenuModifier(msgspec.Struct, kw_only=True):
    id: str
    name: str
    price: Money = Money(0)
    plu: str | None = None
    action: ModifierAction = ModifierAction.ADD
    station: str | None = None
    """Sends the modifier to another station (a side of fries from a grill item goes to fry)."""
    modifier_groups: list[str] = []
    """Nested choices (a side salad's dressing)."""


class ModifierGroup(msgspec.Struct, kw_only=True):
    id: str
    name: str
    modifiers: list[MenuModifier]
    min_selected: int = 0
    max_selected: int = 1


class MenuItem(msgspec.Struct, kw_only=True):
    id: str
    name: str
    category: str
    price: Money
    plu: str | None = None
    stations: list[str] = []
    modifier_groups: list[str] = []
    course: int | None = None
    kind: LineKind = LineKind.ITEM
    available: bool = True
    """False while the item is 86'd."""


class Menu(msgspec.Struct, kw_only=True):
    items: list[MenuItem]
    modifier_groups: list[ModifierGroup] = []
    categories: list[str] = []

    def item(self, item_id: str) -> MenuItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def group(self, group_id: str) -> ModifierGroup | None:
        return next((g for g in self.modifier_groups if g.id == group_id), None)
