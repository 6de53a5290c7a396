"""Menu items: ``item_id, name, category, price``, optionally ``plu``, ``stations``, ``course``,
``kind`` (``item`` or ``gift_card``) and ``available``.

One row per item, each item once. Committed items are inbox messages of kind ``menu_items`` (ref
the item id), the newest of each item being the menu as imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import msgspec

from expediter.model.menu import MenuItem
from expediter.model.order import LineKind
from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target, json_payload
from expediter.operations.imports.rows import Cells, Column

_LIST = re.compile(r"[\s;,/|]+")
_STATION = re.compile(r"[a-z0-9_-]{1,40}")


class MenuItems:
    data: ClassVar[str] = "menu_items"
    title: ClassVar[str] = "menu"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="item_id", description="the POS's item id"),
        Column(name="name"),
        Column(name="category", description="the sales category (routes to stations, maps to accounts)"),
        Column(name="price", description="e.g. 14.50"),
        Column(name="plu", required=False),
        Column(name="stations", required=False, description="kitchen stations, e.g. grill fry"),
        Column(name="course", required=False, description="1, 2, 3 ..."),
        Column(name="kind", required=False, description="item (default) or gift_card"),
        Column(name="available", required=False, description="yes (default) or no: 86'd"),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.UNIQUE
    target: ClassVar[Target] = Target.INBOX
    record_type: ClassVar[type[msgspec.Struct]] = MenuItem

    def __init__(self, context: ImportContext) -> None:
        self.context = context

    def parse(self, cells: Cells) -> Parsed | None:
        item_id = cells.text("item_id", longest=64)
        name = cells.text("name")
        category = cells.text("category", longest=64)
        price = cells.money("price", self.context.currency)
        stations = [s.lower() for s in _LIST.split(cells.raw("stations")) if s]
        bad = [s for s in stations if not _STATION.fullmatch(s)]
        if bad:
            cells.problem("stations", f"{bad[0]!r} is not a station name", "letters, digits, - and _ only")
        course = cells.integer("course")
        if course is not None and not 1 <= course <= 9:
            cells.problem("course", f"course {course} is not 1 to 9", "write the course number, 1 to 9")
        kind = self._kind(cells)
        available = cells.flag("available", default=True)
        if cells.problems or price is None or kind is None:
            return None
        item = MenuItem(
            id=item_id,
            name=name,
            category=category,
            price=price,
            plu=cells.raw("plu") or None,
            stations=stations,
            course=course,
            kind=kind,
            available=available,
        )
        return Parsed(key=item_id, record=item)

    def _kind(self, cells: Cells) -> LineKind | None:
        text = cells.raw("kind").lower().replace(" ", "_") or LineKind.ITEM.value
        try:
            return LineKind(text)
        except ValueError:
            cells.problem(
                "kind", f"{cells.raw('kind')!r} is not item or gift_card", "write item or gift_card"
            )
            return None

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        location = self.context.location.id
        return [
            Stored(kind="menu_items", ref=key, payload=json_payload(item), location_id=location)
            for key, records in groups
            for item in records
        ]
