"""A vendor's price list: ``vendor_item, description, unit, unit_price``, optionally ``pack``,
``ingredient`` (the recipe book's id it is) and ``effective_date``.

One row per vendor item, each item once; a distributor's list may run to a million rows, so a
price list is never held in memory: committed rows stay with their import and are read back by
vendor (:func:`expediter.engine.imports.price_list`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target
from expediter.operations.imports.rows import Cells, Column


class PriceListItem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    vendor_item: str
    description: str
    unit: str
    unit_price: Decimal
    """Price of one ``unit`` in the location's currency (major unit; cents may be split: 0.0325)."""
    pack: str = ""
    ingredient: str = ""
    effective_date: date | None = None


class PriceList:
    data: ClassVar[str] = "price_list"
    title: ClassVar[str] = "price list"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="vendor_item", description="the vendor's item number"),
        Column(name="description"),
        Column(name="unit", description="what one price buys: CS, LB, EA ..."),
        Column(name="unit_price", description="e.g. 42.75"),
        Column(name="pack", required=False, description="e.g. 6/5 LB"),
        Column(name="ingredient", required=False, description="the recipe book's ingredient id"),
        Column(name="effective_date", required=False, description="YYYY-MM-DD"),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.UNIQUE
    target: ClassVar[Target] = Target.KEEP
    record_type: ClassVar[type[msgspec.Struct]] = PriceListItem

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        book = context.book
        self._ingredients = set(book.ingredients) if book is not None else None

    def parse(self, cells: Cells) -> Parsed | None:
        item = cells.text("vendor_item", longest=64)
        description = cells.text("description")
        unit = cells.text("unit", longest=16).upper()
        price = cells.decimal("unit_price")
        ingredient = cells.raw("ingredient")
        if ingredient and self._ingredients is not None and ingredient not in self._ingredients:
            cells.problem("ingredient", f"unknown ingredient {ingredient!r}", "use an id of the recipe book")
        effective = cells.day("effective_date", required=False)
        if cells.problems or price is None:
            return None
        record = PriceListItem(
            vendor_item=item,
            description=description,
            unit=unit,
            unit_price=price,
            pack=cells.raw("pack"),
            ingredient=ingredient,
            effective_date=effective,
        )
        return Parsed(key=item, record=record)

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        return []
