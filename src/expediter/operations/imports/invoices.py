"""Vendor invoices typed or exported by hand: one row per invoice line, the columns of the csv
invoice format (docs/connectors/x12.md): ``invoice_number, invoice_date, vendor_item,
quantity, unit_cost``, optionally ``po_number``, ``description``, ``unit``, ``extended``,
``catch_weight``.

Rows with one ``invoice_number`` are one invoice: a bad line quarantines the invoice whole (half an
invoice must not be matched and booked). Committed invoices go to the vendor desk, which matches
each to its purchase order and books it once per vendor and invoice number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, ClassVar

import msgspec

from expediter.model.vendors import Invoice, InvoiceLine, ItemIds, money_of
from expediter.operations.imports.base import ImportContext, KeyRule, Parsed, Stored, Target
from expediter.operations.imports.rows import Cells, Column


class InvoiceRow(msgspec.Struct, frozen=True, kw_only=True):
    invoice_number: str
    invoice_date: date
    po_number: str
    line: InvoiceLine


class Invoices:
    data: ClassVar[str] = "invoice"
    title: ClassVar[str] = "vendor invoices"
    columns: ClassVar[tuple[Column, ...]] = (
        Column(name="invoice_number"),
        Column(name="invoice_date", description="YYYY-MM-DD"),
        Column(name="vendor_item", description="the vendor's item number"),
        Column(name="quantity", description="units shipped and billed"),
        Column(name="unit_cost", description="price of one unit"),
        Column(name="po_number", required=False, description="the purchase order it bills"),
        Column(name="description", required=False),
        Column(name="unit", required=False),
        Column(name="extended", required=False, description="the line's amount, when stated"),
        Column(name="catch_weight", required=False, description="weight billed, for a line priced by weight"),
    )
    key_rule: ClassVar[KeyRule] = KeyRule.GROUP
    target: ClassVar[Target] = Target.VENDOR_DESK
    record_type: ClassVar[type[msgspec.Struct]] = InvoiceRow

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self._heads: dict[str, tuple[int, date, str]] = {}
        self._lines: dict[str, int] = {}

    def parse(self, cells: Cells) -> Parsed | None:
        number = cells.text("invoice_number", longest=64)
        day = cells.day("invoice_date")
        po = cells.raw("po_number")
        item = cells.text("vendor_item", longest=64)
        quantity = cells.decimal("quantity")
        price = cells.decimal("unit_cost")
        weight = cells.decimal("catch_weight", required=False)
        extended = cells.decimal("extended", required=False, minimum=None)
        if number and day is not None:
            self._same_head(cells, number, day, po)
        if cells.problems or day is None or quantity is None or price is None:
            return None
        currency = self.context.currency
        billed = weight if weight is not None else quantity
        ordinal = self._lines[number] = self._lines.get(number, 0) + 1
        line = InvoiceLine(
            line_number=str(ordinal),
            item=ItemIds(vendor_item=item),
            description=cells.raw("description"),
            quantity=quantity,
            unit=cells.raw("unit").upper(),
            unit_price=price,
            amount=money_of(extended if extended is not None else billed * price, currency),
            catch_weight=weight,
            price_unit="LB" if weight is not None else "",
        )
        row = InvoiceRow(invoice_number=number, invoice_date=day, po_number=po, line=line)
        return Parsed(key=number, record=row)

    def _same_head(self, cells: Cells, number: str, day: date, po: str) -> None:
        row, known_day, known_po = self._heads.setdefault(number, (cells.number, day, po))
        if known_day != day:
            cells.problem(
                "invoice_date", f"differs from row {row} of invoice {number}", "one date per invoice"
            )
        if known_po != po:
            cells.problem("po_number", f"differs from row {row} of invoice {number}", "one PO per invoice")

    def invoices(self, groups: Iterable[tuple[str, Sequence[Any]]]) -> list[Invoice]:
        return [
            Invoice(
                invoice_number=number,
                invoice_date=rows[0].invoice_date,
                vendor=self.context.vendor,
                po_number=rows[0].po_number,
                lines=[row.line for row in rows],
                currency=self.context.currency,
                location_id=self.context.location.id,
                source="manual import",
            )
            for number, rows in groups
        ]

    def stored(self, groups: Iterable[tuple[str, Sequence[Any]]], earlier: str | None) -> list[Stored]:
        return []
