"""Count sheets: ``ingredient, unit, quantity``, one row per shelf counted.

The committed rows become the day's sheet (an inbox message of kind ``inventory_counts``, ref
``location:date``), the newest of which the inventory reports read. A file re-imported from the
quarantine (it carries the ``import_error`` column) continues the day's sheet: its fixed rows are
added to the rows already committed, not put in their place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from expediter.errors import RejectedInput
from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target
from expediter.operations.imports.rows import Cells, Column
from expediter.operations.inventory.counts import COLUMNS, CountLine, in_book_units
from expediter.operations.inventory.units import parse_unit

COUNTS_KIND = "inventory_counts"


class CountRow(msgspec.Struct, frozen=True, kw_only=True):
    ingredient: str
    unit: str
    quantity: Decimal


class CountSheet:
    data: ClassVar[str] = COUNTS_KIND
    title: ClassVar[str] = "count sheet"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="ingredient", description="the ingredient id of the recipe book"),
        Column(name="unit", description="the unit counted in (case, lb, each, ...)"),
        Column(name="quantity", description="how many, zero or more"),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.NONE
    target: ClassVar[Target] = Target.INBOX
    record_type: ClassVar[type[msgspec.Struct]] = CountRow

    def __init__(self, context: ImportContext) -> None:
        self.context = context

    def parse(self, cells: Cells) -> Parsed | None:
        ingredient = cells.text("ingredient")
        quantity = cells.decimal("quantity")
        unit_text = cells.text("unit")
        unit = None
        if unit_text:
            try:
                unit = parse_unit(unit_text)
            except RejectedInput as exc:
                cells.rejected("unit", exc)
        if cells.problems or unit is None or quantity is None:
            return None
        book = self.context.book
        if book is not None:
            line = CountLine(ingredient=ingredient, quantity=quantity, unit=unit, row=cells.number)
            try:
                in_book_units(line, book)
            except RejectedInput as exc:
                cells.rejected("ingredient" if "ingredient" in exc.where else "unit", exc)
                return None
        return Parsed(key="", record=CountRow(ingredient=ingredient, unit=unit.value, quantity=quantity))

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        out = io.StringIO()
        if earlier:
            out.write(earlier if earlier.endswith("\n") else earlier + "\r\n")
        writer = csv.writer(out, lineterminator="\r\n")
        if not earlier:
            writer.writerow(COLUMNS)
        for _, records in groups:
            for row in records:
                writer.writerow([row.ingredient, row.unit, format(row.quantity, "f")])
        context = self.context
        return [
            Stored(
                kind=COUNTS_KIND,
                ref=f"{context.location.id}:{context.business_date.isoformat()}",
                payload=out.getvalue().encode("utf-8"),
                location_id=context.location.id,
                business_date=context.business_date,
                content_type="text/csv",
            )
        ]
